import ArgumentParser
import Foundation
import ModelFiles
import Tensors

/// `backprop compare RUN…`: the learning curves of several runs on one page, with only the
/// settings that differ.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Overlay the learning curves of several runs on one HTML page, with a table of the settings that differ.",
        discussion: """
            Each RUN is a run directory written by backprop train (run.json, history.csv, steps.csv). \
            The training loss is drawn step by step, raw (thin) and smoothed (thick, an exponential \
            moving average whose weight the page states); validation loss and accuracy per epoch.

            Examples:
              backprop train --data toy:moons --model 2-16:relu-2:softmax --batch-size full --optimizer sgd --lr 0.5 --epochs 300 --out runs/gd
              backprop train --data toy:moons --model 2-16:relu-2:softmax --batch-size 1 --optimizer sgd --lr 0.05 --epochs 3 --out runs/sgd
              backprop train --data toy:moons --model 2-16:relu-2:softmax --batch-size 32 --optimizer sgd --lr 0.2 --epochs 30 --out runs/minibatch
              backprop compare runs/gd runs/sgd runs/minibatch --x examples --out runs/compare.html
            """
    )

    enum Axis: String, ExpressibleByArgument, CaseIterable {
        case steps, epochs, examples
    }

    @Argument(help: "Run directories (two or more).")
    var runs: [String]

    @Option(help: "The x-axis: steps (optimiser updates), epochs, or examples (training examples seen).")
    var x: Axis = .examples

    @Option(parsing: .unconditional, help: "Smoothing weight in [0, 1) on the past for the thick curves (0: none; default: about 2 % of the longest run's points).",
            transform: FlagNumber.parse)
    var smoothing: Double?

    @Option(help: "Where to write the page.")
    var out: String = "compare.html"

    func validate() throws {
        guard runs.count >= 2 else { throw ValidationError("compare needs two or more run directories, got \(runs.count)") }
        let resolved = runs.map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path }
        if let twice = runs.indices.first(where: { index in resolved[..<index].contains(resolved[index]) }) {
            throw ValidationError("\(runs[twice]) is given twice: compare each run once")
        }
        if let smoothing, !(smoothing >= 0 && smoothing < 1) {
            throw ValidationError("--smoothing must be in [0, 1), got \(smoothing)")
        }
    }

    func run() throws {
        try CommandFailure.reporting {
            var loaded = try runs.map(ComparedRun.init(directory:))
            for (index, name) in Self.distinctNames(runs).enumerated() { loaded[index].name = name }
            let page = Comparison(runs: loaded, axis: x, smoothing: smoothing)
            try writeAtomically(Data(page.html().utf8), to: out)
            print(page.text())
            print("wrote \(out)")
        }
    }
}

extension Compare {
    /// A label for each run: its directory's name, or as many of its last path
    /// components as tell it from the others (`a/x` and `b/x`, not `x` twice).
    static func distinctNames(_ paths: [String]) -> [String] {
        let components = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.pathComponents.filter { $0 != "/" } }
        var depth = Array(repeating: 1, count: paths.count)
        func name(_ index: Int) -> String { components[index].suffix(depth[index]).joined(separator: "/") }
        while true {
            let names = paths.indices.map(name)
            let clashing = paths.indices.filter { index in
                depth[index] < components[index].count && names.indices.contains { $0 != index && names[$0] == names[index] }
            }
            if clashing.isEmpty { return names }
            for index in clashing { depth[index] += 1 }
        }
    }
}

/// A run directory as compare reads it.
struct ComparedRun {
    struct Epoch {
        var epoch: Int
        var values: [String: Double]
    }

    var name: String
    let settings: [String: String]
    let epochs: [Epoch]
    /// (step, epoch counted from 0, examples seen, loss).
    let steps: [(step: Double, epoch: Int, examples: Double, loss: Double)]
    /// The metrics of the final evaluation on the test set (run.json's `result`, when it
    /// is on a test set): `loss`, `accuracy`, `r2`, `rmse`, …
    let test: [String: Double]
    /// Whether the run's loss is measured on its standardised target (its model.json
    /// records the target's standardisation): not in the target's units.
    let lossOnStandardisedTarget: Bool

    init(directory: String) throws {
        let url = URL(fileURLWithPath: directory)
        name = url.lastPathComponent
        func read(_ file: String) throws -> String? {
            let path = url.appendingPathComponent(file).path
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("\(path): \(PlainErrors.reason(error))")
            }
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory): no such run directory")
        }
        guard let settingsText = try read(TrainingJob.settingsFileName),
              let decoded = try? JSONDecoder().decode(TrainingSettings.self, from: Data(settingsText.utf8)) else {
            throw ValidationError("\(directory): not a run directory of backprop train (\(TrainingJob.settingsFileName) is missing or unreadable)")
        }
        var settings: [String: String] = [:]
        for child in Mirror(reflecting: decoded).children {
            guard let label = child.label else { continue }
            // Optionals: the value, or nothing when unset.
            let mirror = Mirror(reflecting: child.value)
            if mirror.displayStyle == .optional {
                if let inner = mirror.children.first { settings[label] = "\(inner.value)" }
            } else {
                settings[label] = "\(child.value)"
            }
        }
        self.settings = settings
        let record = (try? JSONSerialization.jsonObject(with: Data(settingsText.utf8)) as? [String: Any])?["result"] as? [String: Any]
        test = record?["set"] as? String == "test" ? record?.compactMapValues { $0 as? Double } ?? [:] : [:]
        guard let history = try read("history.csv") else {
            throw ValidationError("\(directory): history.csv is missing (the run has not finished; resume it with backprop train --resume \(directory))")
        }
        let rows = history.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = rows.first, header.first == "epoch" else { throw ValidationError("\(directory)/history.csv: no header row") }
        epochs = try rows.dropFirst().enumerated().map { index, row in
            guard row.count == header.count, let epoch = Int(row[0]) else {
                throw ValidationError("\(directory)/history.csv: row \(index + 2) has \(row.count) fields, the header \(header.count)")
            }
            var values: [String: Double] = [:]
            for (key, field) in zip(header, row) { values[key] = Double(field) }
            return Epoch(epoch: epoch, values: values)
        }
        var steps: [(Double, Int, Double, Double)] = []
        if let text = try read("steps.csv") {
            for (index, line) in text.split(separator: "\n").dropFirst().enumerated() {
                let fields = line.split(separator: ",").map { Double($0) }
                guard fields.count == 5, fields.allSatisfy({ $0 != nil }) else {
                    throw ValidationError("\(directory)/steps.csv: row \(index + 2) is not step,epoch,examples_seen,batches,loss")
                }
                steps.append((fields[0]!, Int(fields[1]!) - 1, fields[2]!, fields[4]!))
            }
        }
        self.steps = steps
        let architecture = (try? read(ModelFile.architectureFileName)).flatMap { $0 }
            .flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        lossOnStandardisedTarget = architecture?["targetPreprocessing"] != nil
    }

    /// The epoch (counted from 1) whose weights the run kept under early stopping: the
    /// first with the lowest validation loss, or training loss without validation, as
    /// the trainer chooses it; nil without early stopping.
    var keptEpoch: Int? {
        guard settings["earlyStopping"] != nil else { return nil }
        let key = epochs.contains { $0.values["validation_loss"]?.isFinite == true } ? "validation_loss" : "loss"
        var best: Epoch?
        for epoch in epochs {
            if let value = epoch.values[key], value.isFinite, value < (best?.values[key] ?? .infinity) { best = epoch }
        }
        return best?.epoch
    }

    /// The epoch whose weights the run saved: the kept one under early stopping, else the last.
    var savedEpoch: Epoch? {
        keptEpoch.flatMap { kept in epochs.first { $0.epoch == kept } } ?? epochs.last
    }

    /// The loss the run was trained with, as far as its files tell: the one asked for, or
    /// cross-entropy for classes (an accuracy was measured) and mean squared error for values.
    var lossKind: String {
        let of = lossOnStandardisedTarget ? " of the standardised target" : ""
        if let loss = settings["loss"] { return loss + of }
        let classifies = epochs.contains { $0.values["accuracy"]?.isFinite == true }
        return (classifies ? "cross-entropy" : "mean squared error") + of
    }

    /// Training examples per epoch, from the step records (nil without them).
    var examplesPerEpoch: Double? {
        guard let last = steps.last(where: { $0.epoch == 0 }) else { return nil }
        return last.examples
    }
}

/// The comparison page and its text summary.
struct Comparison {
    let runs: [ComparedRun]
    let axis: Compare.Axis
    let smoothing: Double?

    /// Settings in the order a user thinks of them; others after, alphabetically.
    static let settingOrder = ["data", "model", "optimizer", "learningRate", "momentum", "l2", "batchSize", "epochs",
                               "schedule", "initializer", "seed", "loss", "standardize", "standardizeTarget",
                               "validationSplit", "earlyStopping", "samples", "noise"]

    /// The settings whose values are not the same in every run.
    var differingSettings: [String] {
        let keys = Set(runs.flatMap(\.settings.keys))
        let ordered = Self.settingOrder.filter(keys.contains) + keys.subtracting(Self.settingOrder).sorted()
        return ordered.filter { key in Set(runs.map { $0.settings[key] ?? "–" }).count > 1 }
    }

    var weight: Double {
        smoothing ?? Report.smoothing(points: runs.map { max($0.steps.count, $0.epochs.count) }.max() ?? 0)
    }

    var xLabel: String {
        switch axis {
        case .steps: return "step (optimiser updates)"
        case .epochs: return "epoch"
        case .examples: return "training examples seen"
        }
    }

    /// The x of a point from its step, epoch position and examples seen.
    func x(step: Double, epochs: Double, examples: Double) -> Double {
        switch axis {
        case .steps: return step
        case .epochs: return epochs
        case .examples: return examples
        }
    }

    /// An epoch's end on the x-axis.
    func x(epochEnd epoch: Int, of run: ComparedRun) -> Double {
        let perEpoch = run.examplesPerEpoch
        let lastStep = run.steps.last(where: { $0.epoch == epoch - 1 })
        return x(step: lastStep?.step ?? Double(epoch), epochs: Double(epoch),
                 examples: lastStep?.examples ?? perEpoch.map { $0 * Double(epoch) } ?? Double(epoch))
    }

    func colour(_ index: Int) -> String { hex(classColour(index)) }

    /// The runs' indices grouped by loss, in the order of their first run: losses of
    /// different kinds share no axis.
    var lossGroups: [(kind: String, runs: [Int])] {
        var groups: [(kind: String, runs: [Int])] = []
        for (index, run) in runs.enumerated() {
            if let at = groups.firstIndex(where: { $0.kind == run.lossKind }) { groups[at].runs.append(index) } else { groups.append((run.lossKind, [index])) }
        }
        return groups
    }

    func html() -> String {
        let groups = lossGroups
        let lossCharts = groups.flatMap { group in
            let suffix = groups.count > 1 || runs.contains(where: \.lossOnStandardisedTarget) ? ": \(group.kind)" : ""
            return [xyChart(title: "Training loss\(suffix)", xLabel: xLabel, series: trainingLossSeries(group.runs), width: 980, height: 380,
                            yLimits: 0...Double.infinity, allowsLogScale: true),
                    xyChart(title: "Validation loss (per epoch)\(suffix)", xLabel: xLabel,
                            series: epochSeries("validation_loss").filter { series in group.runs.contains { runs[$0].name == series.name } },
                            yLimits: 0...Double.infinity, allowsLogScale: true)]
        }
        let charts = (lossCharts + [
            xyChart(title: "Training accuracy (per epoch)", xLabel: xLabel, series: epochSeries("accuracy"), yLimits: 0...1),
            xyChart(title: "Validation accuracy (per epoch)", xLabel: xLabel, series: epochSeries("validation_accuracy"), yLimits: 0...1),
            xyChart(title: "Training R² (per epoch)", xLabel: xLabel, series: epochSeries("r2"), yLimits: -Double.infinity...1),
            xyChart(title: "Validation R² (per epoch)", xLabel: xLabel, series: epochSeries("validation_r2"), yLimits: -Double.infinity...1),
        ]).filter { !$0.isEmpty }
        let differing = differingSettings
        func swatch(_ index: Int) -> String {
            "<td class=\"l\" style=\"white-space: nowrap\"><i class=\"swatch\" style=\"background:\(colour(index))\"></i>\(escape(runs[index].name))</td>"
        }
        // A setting's name may break between its words (learning‸Rate), a path after each slash,
        // so that the table fits the page.
        func breakable(_ name: String) -> String {
            name.reduce(into: "") { text, character in
                if character.isUppercase && !text.isEmpty { text += "<wbr>" }
                text += escape(String(character))
            }
        }
        let settingsTable = "<tr><th class=\"l\">run</th>" + differing.map { "<th class=\"l\">\(breakable($0))</th>" }.joined() + "</tr>"
            + runs.indices.map { index in
                "<tr>\(swatch(index))" + differing.map {
                    "<td class=\"l\">\(escape(runs[index].settings[$0] ?? "–").replacingOccurrences(of: "/", with: "/<wbr>"))</td>"
                }.joined() + "</tr>"
            }.joined()
        let resultsTable = "<tr><th class=\"l\">run</th>" + resultColumns.map { "<th>\(escape($0.title))</th>" }.joined() + "</tr>"
            + runs.indices.map { index in "<tr>\(swatch(index))" + resultColumns.map { "<td>\($0.value(runs[index]))</td>" }.joined() + "</tr>" }.joined()
        let same = Self.settingOrder.filter { key in !differing.contains(key) && runs[0].settings[key] != nil }
            .map { "\($0) \(runs[0].settings[$0]!)" }.joined(separator: ", ")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Backprop: comparing \(runs.count) runs</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        .charts { display: flex; gap: 1.5em; flex-wrap: wrap; }
        .wide { overflow-x: auto; }
        table { border-collapse: collapse; font-size: .9em; }
        td, th { padding: .25em .6em; border: 1px solid #e3e3e3; text-align: right; }
        th { background: #f5f7fa; } td.l, th.l { text-align: left; }
        .swatch { display: inline-block; width: .9em; height: .9em; margin-right: .4em; vertical-align: -.1em; }
        .note { color: #666; font-size: .85em; }
        </style></head><body>
        <h1>Comparing \(runs.count) runs</h1>
        <h2>What differs</h2>
        <div class="wide"><table>\(settingsTable)</table></div>
        <p class="note">The same in every run: \(escape(same.isEmpty ? "nothing else" : same)).</p>
        <h2>Results</h2>
        <div class="wide"><table>\(resultsTable)</table></div>
        <p class="note">The figures are those of the epoch whose weights each run saved: its last, or under early stopping the one it kept.</p>
        <h2>Learning curves</h2>
        <p class="note">x-axis: \(escape(xLabel)). Training loss: each point a batch (or the mean of a run of batches in
        long epochs), thin as recorded, thick smoothed by an exponential moving average with weight \(weight) on the past
        (bias-corrected; --smoothing to change it). Per-epoch values are drawn at each epoch's end.\(groups.count > 1 ? " Runs trained with different losses are drawn on separate axes: their values are not comparable." : "")</p>
        <div class="charts">\(charts.joined(separator: "\n"))</div>
        </body></html>
        """
    }

    /// Per-epoch values of `key`, a series per run that has them.
    private func epochSeries(_ key: String) -> [ChartSeries] {
        runs.enumerated().compactMap { index, run in
            let points = run.epochs.compactMap { e in e.values[key].map { (x(epochEnd: e.epoch, of: run), $0) } }
            return points.isEmpty ? nil : ChartSeries(name: run.name, color: colour(index), x: points.map(\.0), y: points.map(\.1))
        }
    }

    /// The training loss of the runs `indices`, step by step: raw (thin) and smoothed.
    private func trainingLossSeries(_ indices: [Int]) -> [ChartSeries] {
        var lossSeries: [ChartSeries] = []
        for index in indices {
            let run = runs[index]
            let points: [(Double, Double)]
            if !run.steps.isEmpty {
                let perEpoch = run.examplesPerEpoch ?? 1
                points = run.steps.map { (x(step: $0.step, epochs: $0.examples / perEpoch, examples: $0.examples), $0.loss) }
            } else {
                points = run.epochs.compactMap { e in e.values["loss"].map { (x(epochEnd: e.epoch, of: run), $0) } }
            }
            lossSeries.append(ChartSeries(name: "\(run.name) raw", color: colour(index), x: points.map(\.0), y: points.map(\.1),
                                          width: 1, opacity: 0.3, inLegend: false))
            lossSeries.append(ChartSeries(name: run.name, color: colour(index), x: points.map(\.0),
                                          y: smoothed(points.map(\.1), weight: weight)))
        }
        return lossSeries
    }

    /// Each run's figures at the epoch of the weights it saved: the last, or under early
    /// stopping the kept one (a column says which when any run stopped early).
    var resultColumns: [(title: String, value: (ComparedRun) -> String)] {
        func saved(_ key: String, _ format: String) -> (ComparedRun) -> String {
            { run in run.savedEpoch?.values[key].map { String(format: format, $0) } ?? "–" }
        }
        var columns: [(String, (ComparedRun) -> String)] = [
            ("epochs run", { "\($0.epochs.count)" }),
            ("steps", { run in run.steps.last.map { "\(Int($0.step))" } ?? "–" }),
        ]
        if runs.contains(where: { $0.keptEpoch != nil }) { columns.append(("kept epoch", { $0.keptEpoch.map(String.init) ?? "–" })) }
        // A loss on a standardised target is not in the target's units: the title says so
        // when every run's is, each value when only some are.
        let standardised = runs.filter(\.lossOnStandardisedTarget).count
        let (lossTitle, valueMark) = standardised == 0 ? ("", "") : standardised == runs.count
            ? (" (standardised target)", "") : ("", " (standardised target)")
        func loss(_ read: @escaping (ComparedRun) -> String) -> (ComparedRun) -> String {
            { run in
                let value = read(run)
                return value == "–" || !run.lossOnStandardisedTarget ? value : value + valueMark
            }
        }
        columns.append(("loss" + lossTitle, loss(saved("loss", "%.4f"))))
        let keys = Set(runs.flatMap { $0.savedEpoch?.values.filter { !$0.value.isNaN }.keys.map { $0 } ?? [] })
        for (key, title, format) in [("accuracy", "accuracy", "%.4f"), ("validation_loss", "validation loss", "%.4f"),
                                     ("validation_accuracy", "validation accuracy", "%.4f"), ("r2", "R²", "%.4f"),
                                     ("validation_r2", "validation R²", "%.4f")] where keys.contains(key) {
            columns.append(key == "validation_loss" ? (title + lossTitle, loss(saved(key, format))) : (title, saved(key, format)))
        }
        // The final result on each run's test set (runs without one: –).
        let tested = Set(runs.flatMap(\.test.keys))
        for (key, title) in [("loss", "test loss"), ("accuracy", "test accuracy"), ("r2", "test R²"), ("rmse", "test RMSE")]
            where tested.contains(key) {
            let value: (ComparedRun) -> String = { run in run.test[key].map { String(format: key == "rmse" ? "%.6g" : "%.4f", $0) } ?? "–" }
            columns.append(key == "loss" ? (title + lossTitle, loss(value)) : (title, value))
        }
        return columns
    }

    /// The table as text for the terminal.
    func text() -> String {
        let differing = differingSettings
        let header = ["run"] + differing + resultColumns.map(\.title)
        let rows = runs.map { run in [run.name] + differing.map { run.settings[$0] ?? "–" } + resultColumns.map { $0.value(run) } }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { cells in
            cells.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
