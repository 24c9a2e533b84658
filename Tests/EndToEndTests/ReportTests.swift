import Foundation
import Testing

/// What the report, the result line and evaluate say of a run: each output of a
/// regression apart, axes with readable round ticks inside their charts, and what each
/// figure is measured on.
@Suite("report figures and axes")
struct ReportTests {
    @Test("an output whose test target is constant: its R² is 'undefined', not nan, on the result line, the cards and in evaluate, and left out of the JSON")
    func constantOutput() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // y_0 = 2 x₀ + 1 varies; in the test file y_1 is 3 in every example (its training values vary).
        var random = SplitMix64(seed: 7)
        func arrays(_ count: Int, constantSecond: Bool) -> (x: [Float], y: [Float]) {
            var x: [Float] = [], y: [Float] = []
            for _ in 0..<count {
                let row = (0..<3).map { _ in Float(random.normal()) }
                x += row
                y += [2 * row[0] + 1, constantSecond ? 3 : row[1]]
            }
            return (x, y)
        }
        let names = ["trainX", "trainY", "testX", "testY"].map { directory.appendingPathComponent("\($0).npy") }
        let training = arrays(200, constantSecond: false), test = arrays(50, constantSecond: true)
        try OwnData.npy(shape: [200, 3], floats: training.x).write(to: names[0])
        try OwnData.npy(shape: [200, 2], floats: training.y).write(to: names[1])
        try OwnData.npy(shape: [50, 3], floats: test.x).write(to: names[2])
        try OwnData.npy(shape: [50, 2], floats: test.y).write(to: names[3])
        let out = directory.appendingPathComponent("run")
        let run = try OwnData.train(["--data", "npy:\(names[0].path),\(names[1].path)", "--test-data", "npy:\(names[2].path),\(names[3].path)",
                                     "--model", "3-8:tanh-2", "--epochs", "3", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        let result = OwnData.lastLine(run.output) ?? ""
        #expect(result.contains("test R² undefined (mean of 2 outputs, one of whose targets is constant)"), "\(result)")
        #expect(result.contains("; y_1: R² undefined (constant target), RMSE "), "\(result)")
        #expect(!result.lowercased().contains("nan"), "\(result)")
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("undefined (constant target)") && !report.contains(">nan<"))
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any]
        let outputs = (settings?["result"] as? [String: Any])?["outputs"] as? [[String: Any]]
        #expect(outputs?.count == 2)
        #expect(outputs?[0]["r2"] is Double, "y_0's R² is defined")
        #expect(outputs?[1].keys.contains("r2") == false, "\(String(describing: outputs))")
        // evaluate on the same test file says the same in its own lines.
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "npy:\(names[2].path),\(names[3].path)"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(evaluated.output.contains("r2 undefined (mean of 2 outputs, one of whose targets is constant)\n"), "\(evaluated.output)")
        #expect(evaluated.output.contains("y_1: mse ") && evaluated.output.contains(", r2 undefined (constant target)\n"),
                "\(evaluated.output)")
        #expect(!evaluated.output.lowercased().contains("nan"), "\(evaluated.output)")
    }

    @Test("two outputs in different units: R², RMSE and MAE of each on the result line, in evaluate and on the report's cards, a scatter each")
    func outputsApart() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // y_0 = 1000 x₀ + 500 x₁ + 20000 (thousands), y_1 = 0.01 x₂ (hundredths).
        func write(_ count: Int, seed: UInt64, _ name: String) throws -> (x: String, y: String, targets: [[Double]]) {
            var random = SplitMix64(seed: seed)
            var features: [Float] = [], targets: [[Double]] = []
            for _ in 0..<count {
                let x = (0..<3).map { _ in Float(random.normal()) }
                features += x
                targets.append([Double(Float(1000 * x[0] + 500 * x[1] + 20000)), Double(Float(0.01 * x[2]))])
            }
            let (xURL, yURL) = (directory.appendingPathComponent("\(name)X.npy"), directory.appendingPathComponent("\(name)Y.npy"))
            try OwnData.npy(shape: [count, 3], floats: features).write(to: xURL)
            try OwnData.npy(shape: [count, 2], floats: targets.flatMap { $0.map(Float.init) }).write(to: yURL)
            return (xURL.path, yURL.path, targets)
        }
        let training = try write(300, seed: 3, "train"), test = try write(100, seed: 4, "test")
        let out = directory.appendingPathComponent("run").path
        let run = try OwnData.train(["--data", "npy:\(training.x),\(training.y)", "--test-data", "npy:\(test.x),\(test.y)",
                                     "--model", "3-16:relu-2", "--epochs", "20", "--out", out])
        #expect(run.status == 0, "\(run.error)")
        let result = OwnData.lastLine(run.output) ?? ""
        #expect(result.contains("(mean of 2 outputs); y_0: R² ") && result.contains("; y_1: R² "), "\(result)")
        #expect(!(result.components(separatedBy: "y_0:").first ?? "").contains("RMSE"),
                "no RMSE pooled over outputs in different units: \(result)")

        // Each output's RMSE and MAE, from predict's values.
        let predicted = OwnData.csv(try Run(["predict", "--model", out, "--data", "npy:\(test.x)"]).output).dropFirst()
        #expect(predicted.count == 100)
        func errors(_ column: Int) -> (rmse: Double, mae: Double) {
            let e = zip(predicted, test.targets).map { (Double($0[column + 1]) ?? .nan) - $1[column] }
            return ((e.map { $0 * $0 }.reduce(0, +) / 100).squareRoot(), e.map(abs).reduce(0, +) / 100)
        }
        let (first, second) = (errors(0), errors(1))
        #expect(first.rmse > 1 && second.rmse < 0.01, "the outputs' errors are in their own units: \(first), \(second)")
        func close(_ text: String?, _ value: Double) -> Bool {
            guard let text, let number = Double(text) else { return false }
            return abs(number - value) <= 1e-3 * abs(value)
        }
        let y0 = result.components(separatedBy: "y_0:").last ?? "", y1 = result.components(separatedBy: "y_1:").last ?? ""
        #expect(close(OwnData.number(after: "RMSE ", in: y0), first.rmse), "\(y0) vs \(first)")
        #expect(close(OwnData.number(after: "RMSE ", in: y1), second.rmse), "\(y1) vs \(second)")
        #expect(close(OwnData.number(after: "MAE ", in: y1), second.mae), "\(y1) vs \(second)")

        let evaluated = try Run(["evaluate", "--model", out, "--data", "npy:\(test.x),\(test.y)"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let lines = evaluated.output.split(separator: "\n").map(String.init)
        let line0 = lines.first { $0.hasPrefix("y_0: ") } ?? "", line1 = lines.first { $0.hasPrefix("y_1: ") } ?? ""
        #expect(close(OwnData.number(after: "rmse ", in: line0), first.rmse) && close(OwnData.number(after: "mae ", in: line0), first.mae),
                "\(evaluated.output)")
        #expect(close(OwnData.number(after: "rmse ", in: line1), second.rmse), "\(evaluated.output)")
        #expect(OwnData.metric("rmse", in: evaluated.output) == nil, "no pooled rmse line: \(evaluated.output)")

        let report = try String(contentsOf: URL(fileURLWithPath: out).appendingPathComponent("report.html"), encoding: .utf8)
        for text in ["RMSE of y_0 (test set, after training)<b>", "MAE of y_1 (test set, after training)<b>", "R² of y_1 (test set, after training)<b>",
                     ">Predicted vs true y_0</text>", ">Predicted vs true y_1</text>", ">Residuals of y_1</text>",
                     ">true y_1</text>", ">predicted y_0</text>", "aria-label=\"RMSE of y_1\""] {
            #expect(report.contains(text), "'\(text)' not in the report")
        }
        #expect(!report.contains(">RMSE (test set, after training)<b>"), "no card pools the outputs")
    }

    @Test("axes: round ticks (1, 2, 2.5, 5 × 10^k) labelled G for billions and exponents for millionths, inside their charts, within what the quantity can be; a loss spanning a hundredfold on a log axis, in the report and in compare")
    func roundAxes() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A target in the billions, and one in millionths.
        var random = SplitMix64(seed: 7)
        func write(_ name: String, scale: Double, offset: Double) throws -> String {
            let rows = (0..<200).map { _ -> [String: String] in
                let (a, b) = (random.normal(), random.normal())
                return ["a": String(a), "b": String(b), "target": String(offset + scale * (2 * a - b + 0.1 * random.normal()))]
            }
            let url = directory.appendingPathComponent("\(name).csv")
            try OwnData.writeCSV(url, columns: ["a", "b", "target"], rows: rows)
            return url.path
        }
        var reports: [String: String] = [:]
        for (name, scale, offset) in [("big", 1e9, 5e9), ("tiny", 1e-6, 0)] {
            let out = directory.appendingPathComponent(name)
            let run = try OwnData.train(["--data", "csv:\(try write(name, scale: scale, offset: offset))", "--target", "target",
                                         "--model", "2-16:relu-1", "--epochs", "15", "--validation-split", "0.25", "--out", out.path])
            #expect(run.status == 0, "\(run.error)")
            reports[name] = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        }
        let big = try #require(reports["big"]), tiny = try #require(reports["tiny"])
        let scatter = try #require(SVGChart(big, labelled: "Predicted vs true target"))
        #expect(scatter.yTicks.contains { $0.hasSuffix("G") } && scatter.xTicks.contains { $0.hasSuffix("G") }, "\(scatter.xTicks)")
        for chart in [scatter, try #require(SVGChart(big, labelled: "Residuals of target")), try #require(SVGChart(tiny, labelled: "Residuals of target")),
                      try #require(SVGChart(tiny, labelled: "Predicted vs true target")), try #require(SVGChart(big, labelled: "RMSE"))] {
            for ticks in [chart.xTicks, chart.yTicks] where chart.title != "RMSE" || ticks == chart.yTicks {
                #expect(ticks.allSatisfy { $0.range(of: #"^-?([0-9]+(\.[0-9]+)?[kMGT]?|[1-9](\.[0-9]*[1-9])?e-?[1-9][0-9]*)$"#, options: .regularExpression) != nil },
                        "\(chart.title): \(ticks)")
                #expect(SVGChart.isRoundStep(ticks), "\(chart.title): \(ticks)")
            }
            #expect(chart.problems.isEmpty, "\(chart.title): \(chart.problems)")
        }
        #expect(try #require(SVGChart(tiny, labelled: "Residuals of target")).yTicks.contains { $0.contains("e-") })
        // The residuals' zero line is a tick; R² never goes above 1.
        #expect(try #require(SVGChart(big, labelled: "Residuals of target")).yTicks.contains("0"))
        let r2 = try #require(SVGChart(big, labelled: "R²"))
        #expect((r2.yValues.max() ?? 2) <= 1 && SVGChart.isRoundStep(r2.yTicks), "\(r2.yTicks)")
        // A loss whose first epoch is a hundred times its last: a logarithmic axis, a tick at each power of ten.
        let loss = try #require(SVGChart(big, labelled: "Loss (standardised target)"))
        #expect(loss.svg.contains(">log scale</text>"))
        #expect(loss.yValues.count >= 2 && loss.yValues.allSatisfy { abs(log10($0) - log10($0).rounded()) < 1e-9 }, "\(loss.yTicks)")
        #expect(zip(loss.yValues.dropFirst(), loss.yValues).allSatisfy { abs($0 - 10 * $1) <= 1e-9 * $0 }, "\(loss.yTicks)")
        // Epochs labelled 1 and multiples of a round step; an all-zero series from 0 up.
        #expect(loss.xTicks == ["1", "2", "4", "6", "8", "10", "12", "14"], "\(loss.xTicks)")
        let dead = try #require(SVGChart(big, labelled: "Dead ReLUs / saturated (%)"))
        #expect(dead.yValues.min() == 0 && dead.yValues.allSatisfy { $0 >= 0 && $0 <= 100 }, "\(dead.yTicks)")
        // compare draws the two runs' training losses on the same logarithmic axis.
        let page = directory.appendingPathComponent("compare.html")
        let compared = try Run(["compare", directory.appendingPathComponent("big").path, directory.appendingPathComponent("tiny").path,
                                "--out", page.path])
        #expect(compared.status == 0, "\(compared.error)")
        let comparison = try String(contentsOf: page, encoding: .utf8)
        let training = try #require(SVGChart(comparison, labelled: "Training loss: mean squared error of the standardised target"))
        #expect(training.svg.contains(">log scale</text>"))
        #expect(training.yValues.count >= 2 && training.yValues.allSatisfy { abs(log10($0) - log10($0).rounded()) < 1e-9 },
                "\(training.yTicks)")
    }

    @Test("a regression trained on its standardised target: its loss says so on the result line, the card, the curve")
    func standardisedLoss() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("house")
        let run = try Run(["train", "--data", "toy:housing", "--model", "1-8:relu-1", "--standardize", "--epochs", "3",
                           "--threads", "1", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        #expect(OwnData.lastLine(run.output)?.hasPrefix("test loss ") == true)
        #expect(OwnData.lastLine(run.output)?.contains(" (standardised target), test R² ") == true, "\(run.output)")
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("Loss, standardised target (test set, after training)<b>") && report.contains("aria-label=\"Loss (standardised target)\""))
        #expect(report.contains("The loss is the mean squared error of the standardised target"))
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "toy:housing"])
        #expect(evaluated.status == 0 && OwnData.metric("loss", in: evaluated.output) != nil, "\(evaluated.output)")
        #expect(evaluated.error.contains("note: the loss is the mean squared error of the standardised target"), "\(evaluated.error)")
        // In the target's own units, nothing to say.
        let raw = try Run(["train", "--data", "toy:housing", "--model", "1-8:relu-1", "--standardize", "--no-standardize-target",
                           "--lr", "0.001", "--epochs", "3", "--threads", "1", "--out", directory.appendingPathComponent("raw").path])
        #expect(raw.status == 0, "\(raw.error)")
        #expect(OwnData.lastLine(raw.output)?.contains("standardised target") == false, "\(raw.output)")
        let rawReport = try String(contentsOf: directory.appendingPathComponent("raw/report.html"), encoding: .utf8)
        #expect(rawReport.contains(">Loss (test set, after training)<b>") && !rawReport.contains("standardised target"))
        let rawEvaluated = try Run(["evaluate", "--model", directory.appendingPathComponent("raw").path, "--data", "toy:housing"])
        #expect(rawEvaluated.status == 0 && !rawEvaluated.error.contains("standardised"), "\(rawEvaluated.error)")
    }

    @Test("the cards are the model after training, the curves each epoch's mean over its batches, and the page says so")
    func cardsAndCurves() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("one")
        let run = try Run(["train", "--data", "toy:blobs", "--model", "2-8:relu-3:softmax", "--epochs", "1", "--threads", "1",
                           "--quiet", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        let history = OwnData.csv(try String(contentsOf: out.appendingPathComponent("history.csv"), encoding: .utf8))
        let curveLoss = try #require(Double(history[1][history[0].firstIndex(of: "loss")!]))
        let card = try #require(OwnData.number(after: "Loss (test set, after training)<b>", in: report).flatMap(Double.init))
        #expect(abs(card - curveLoss) > 1e-3, "one epoch: the batches' mean and the evaluation after it differ (\(card), \(curveLoss))")
        #expect(report.contains("Training: each epoch's mean over its batches, taken while the weights changed"))
        #expect(report.contains("The cards above evaluate the model after training on the test set"))
        #expect(!report.contains("; validation: the model evaluated at the end of each epoch"), "no validation data, no word of it")
    }

    @Test("decision boundary: the dots are the examples trained on, without those --validation-split holds out")
    func boundaryDotsAreTrainingExamples() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("split")
        let run = try Run(["train", "--data", "toy:moons", "--samples", "300", "--validation-split", "0.2", "--model", "2-8:relu-2:softmax",
                           "--epochs", "1", "--threads", "1", "--quiet", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        // The examples one epoch trained on, from steps.csv's last row.
        let steps = OwnData.csv(try String(contentsOf: out.appendingPathComponent("steps.csv"), encoding: .utf8))
        let trained = try #require(Int(steps.last?[2] ?? ""))
        #expect(trained < 300)
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        let shown = OwnData.number(after: "the dots are training examples (", in: report).flatMap { Int($0) }
        #expect(shown == trained, "\(String(describing: shown)) dots, \(trained) examples trained on")
        let boundary = report.components(separatedBy: "<h2>Decision boundary</h2>").last ?? ""
        let circles = boundary.components(separatedBy: "<h3>Over training</h3>")[0].components(separatedBy: "<circle").count - 1
        #expect(circles == trained, "the large picture draws every training example once")
    }

    @Test("run.json: the same settings give the same bytes, keys in order")
    func settingsFileIsStable() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [Data] = []
        for name in ["a", "b", "c"] {
            let run = try Run(["train", "--data", "toy:xor", "--model", "2-4:tanh-2:softmax", "--epochs", "1", "--threads", "1",
                               "--quiet", "--out", directory.appendingPathComponent(name).path])
            #expect(run.status == 0, "\(run.error)")
            files.append(try Data(contentsOf: directory.appendingPathComponent("\(name)/run.json")))
        }
        // Each process hashes with its own seed: unsorted keys come out in another order.
        #expect(files[0] == files[1] && files[1] == files[2], "\(files.map { String(decoding: $0, as: UTF8.self) })")
        // Keys in order within each object: the top level's (its nested objects, such as
        // the final `result`, emptied) and each nested object's.
        let text = String(decoding: files[0], as: UTF8.self)
        let members = String(text.dropFirst().dropLast())
        let nested = members.matches(of: /\{[^{}]*\}/).map { String($0.output) }
        let top = nested.reduce(members) { $0.replacingOccurrences(of: $1, with: "{}") }
        func keys(_ object: String) -> [String] { object.matches(of: /"([A-Za-z0-9]+)":/).map { String($0.output.1) } }
        #expect(keys(top).count > 5)
        for object in [top] + nested {
            #expect(keys(object) == keys(object).sorted(), "\(keys(object))")
        }
    }

    @Test("dead ReLUs under He initialisation, the default for ReLU: the warning does not offer He initialisation as the remedy")
    func deadUnitsUnderHe() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Features in their own units (square feet in thousands): half of the first layer's ReLUs start dead.
        var random = SplitMix64(seed: 11)
        let rows = (0..<400).map { _ -> [String: String] in
            let (size, beds, age) = (500 + 3000 * random.uniform(), Double(1 + random.below(5)), 80 * random.uniform())
            let price = 50000 + 150 * size + 20000 * beds - 1000 * age + 10000 * random.normal()
            return ["sqft": String(format: "%.1f", size), "beds": String(Int(beds)), "age": String(format: "%.1f", age),
                    "price": String(format: "%.2f", price)]
        }
        let file = directory.appendingPathComponent("houses.csv")
        try OwnData.writeCSV(file, columns: ["sqft", "beds", "age", "price"], rows: rows)
        let out = directory.appendingPathComponent("run")
        let run = try Run(["train", "--data", "csv:\(file.path)", "--target", "price", "--model", "3-32:relu-1", "--optimizer", "adam",
                           "--lr", "0.01", "--epochs", "5", "--threads", "1", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        let warning = run.output.split(separator: "\n").first { $0.contains("of the ReLU units are dead") }.map(String.init) ?? ""
        #expect(warning.contains("He initialisation already") && !warning.contains("--init he-normal"), "\(run.output)")
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("He initialisation already") && !report.contains("--init he-normal"))
    }

    @Test("early stopping: the kept epoch is marked on the curves, and compare gives its figures, not the last epoch's")
    func keptEpoch() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (stopped, plain) = (directory.appendingPathComponent("stopped"), directory.appendingPathComponent("plain"))
        let run = try Run(["train", "--data", "toy:moons", "--samples", "200", "--noise", "0.4", "--model", "2-64:relu-64:relu-2:softmax",
                           "--optimizer", "adam", "--lr", "0.05", "--schedule", "constant", "--epochs", "100", "--validation-split", "0.3",
                           "--early-stopping", "3", "--threads", "1", "--out", stopped.path])
        #expect(run.status == 0, "\(run.error)")
        let kept = try #require(OwnData.number(after: "early stopping: kept the weights of epoch ", in: run.output).flatMap { Int($0) })
        let history = OwnData.csv(try String(contentsOf: stopped.appendingPathComponent("history.csv"), encoding: .utf8))
        #expect(history.count - 1 > kept, "stopped after the kept epoch: \(run.output.suffix(200))")
        let report = try String(contentsOf: stopped.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.components(separatedBy: ">kept: epoch \(kept)</text>").count - 1 == 2, "on the loss and accuracy curves")

        let other = try Run(["train", "--data", "toy:moons", "--samples", "200", "--model", "2-8:relu-2:softmax", "--epochs", "2",
                             "--threads", "1", "--quiet", "--out", plain.path])
        #expect(other.status == 0, "\(other.error)")
        let compared = try Run(["compare", stopped.path, plain.path, "--out", directory.appendingPathComponent("c.html").path])
        #expect(compared.status == 0, "\(compared.error)")
        let table = compared.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        let header = try #require(table.first { $0.first == "run" })
        let row = try #require(table.first { $0.first == "stopped" })
        // Titles of two words are two cells of the header: find the columns by the values' positions from the end.
        let column = try #require(history[0].firstIndex(of: "validation_loss"))
        let keptValue = try #require(Double(history[kept][column])), lastValue = try #require(Double(history.last![column]))
        #expect(row.contains(String(format: "%.4f", keptValue)), "\(header)\n\(row)")
        #expect(String(format: "%.4f", keptValue) == String(format: "%.4f", lastValue) || !row.contains(String(format: "%.4f", lastValue)),
                "the last epoch's validation loss is not shown: \(row)")
        #expect(compared.output.contains("kept epoch") && row.contains(String(kept)), "\(compared.output)")
    }

    @Test("compare: losses of different kinds on separate axes, a standardised target's named, settings and results in two tables, whole epochs on the x-axis, a run given twice refused")
    func compareApart() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (moons, house) = (directory.appendingPathComponent("moons").path, directory.appendingPathComponent("house").path)
        for (data, model, batch, out) in [("toy:moons", "2-8:relu-2:softmax", "32", moons), ("toy:housing", "1-8:relu-1", "16", house)] {
            let run = try Run(["train", "--data", data, "--model", model, "--batch-size", batch, "--epochs", "7", "--standardize",
                               "--threads", "1", "--quiet", "--out", out])
            #expect(run.status == 0, "\(run.error)")
        }
        let page = directory.appendingPathComponent("c.html")
        let compared = try Run(["compare", moons, house, "--x", "epochs", "--out", page.path])
        #expect(compared.status == 0, "\(compared.error)")
        let html = try String(contentsOf: page, encoding: .utf8)
        let classification = try #require(SVGChart(html, labelled: "Training loss: cross-entropy"))
        // The house prices are standardised (a linear output): their loss is not in dollars.
        let regressionTitle = "Training loss: mean squared error of the standardised target"
        let regression = try #require(SVGChart(html, labelled: regressionTitle))
        func legend(_ title: String) -> String {
            let start = html.range(of: "aria-label=\"\(title)\"")!.upperBound
            return String(html[start...]).components(separatedBy: "</svg>")[0]
        }
        #expect(legend("Training loss: cross-entropy").contains(">moons</text>") && !legend("Training loss: cross-entropy").contains(">house</text>"))
        #expect(legend(regressionTitle).contains(">house</text>") && !legend(regressionTitle).contains(">moons</text>"))
        // In the results, only the house run's loss is marked (the moons' is a cross-entropy).
        let rows = compared.output.split(separator: "\n")
        let (moonsRow, houseRow) = (rows.first { $0.hasPrefix("moons ") } ?? "", rows.first { $0.hasPrefix("house ") } ?? "")
        #expect(houseRow.contains(" (standardised target)") && !moonsRow.contains("standardised"), "\(compared.output)")
        #expect(!html.contains("aria-label=\"Training loss\""), "no axis shared by both losses")
        for chart in [classification, regression] {
            #expect(SVGChart.isRoundStep(chart.xTicks) && chart.xTicks.allSatisfy { Int($0) != nil }, "\(chart.xTicks)")
        }
        #expect(html.contains("<h2>Results</h2>") && html.components(separatedBy: "<table>").count - 1 == 2)
        let settingsTable = html.components(separatedBy: "<h2>Results</h2>")[0]
        #expect(!settingsTable.contains("<th>steps</th>"), "results apart from the settings")
        #expect(settingsTable.contains(">batch<wbr>Size</th>"), "a setting's name may break between its words, so the table fits the page")
        let twice = try Run(["compare", moons, directory.appendingPathComponent("./moons").path, "--out", page.path])
        #expect(twice.status != 0 && !twice.crashed && twice.error.contains("is given twice"), "\(twice.error)")
    }

    @Test("the README's housing neuron: no warning that its ReLU output cannot reach the few prices the noise puts below 0")
    func housingNeuronWithoutFalseAlarm() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Run(["train", "--data", "toy:housing", "--model", "1-1:relu", "--standardize", "--batch-size", "full", "--lr", "0.1",
                           "--epochs", "3", "--threads", "1", "--out", directory.appendingPathComponent("house").path])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("target not standardised"), "the prices stay in their units under the ReLU: \(run.output)")
        #expect(!run.output.contains("warning: the model's last activation"), "\(run.output)")
        // Half of a target below 0 is still a warning, with the share the ReLU cannot fit.
        let csv = directory.appendingPathComponent("signed.csv")
        try OwnData.writeCSV(csv, columns: ["x", "y"], rows: (0..<40).map { ["x": "\(Double($0) / 10)", "y": "\(Double($0) / 2 - 10)"] })
        let signed = try Run(["train", "--data", "csv:\(csv.path)", "--target", "y", "--model", "1-8:tanh-1:relu", "--epochs", "1",
                              "--threads", "1", "--out", directory.appendingPathComponent("signed").path])
        #expect(signed.output.contains("goes down to -10 (its values below 0 hold "), "\(signed.output)")
    }

    @Test("the task line offers --task only where --task is taken: csv: and npy: data, not a toy set")
    func taskOverrideOffered() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let toy = try Run(["train", "--data", "toy:sine", "--model", "2-8:tanh-2:softmax", "--epochs", "1", "--threads", "1",
                           "--out", directory.appendingPathComponent("sine").path])
        #expect(toy.status == 0, "\(toy.error)")
        let taskLine = toy.output.split(separator: "\n").first { $0.hasPrefix("task: ") } ?? ""
        #expect(taskLine.hasPrefix("task: classification") && !taskLine.contains("--task"), "\(taskLine)")
        let report = try String(contentsOf: directory.appendingPathComponent("sine/report.html"), encoding: .utf8)
        #expect(!report.contains("to override"))
        // Integer labels in a CSV file: --task regression is taken, and offered.
        let csv = directory.appendingPathComponent("grades.csv")
        try OwnData.writeCSV(csv, columns: ["x", "grade"], rows: (0..<40).map { ["x": "\(Double($0) / 10)", "grade": "\($0 % 3)"] })
        let own = try Run(["train", "--data", "csv:\(csv.path)", "--target", "grade", "--model", "1-4:relu-3:softmax", "--epochs", "1",
                           "--threads", "1", "--out", directory.appendingPathComponent("grades").path])
        #expect(own.output.contains("; --task regression to override)"), "\(own.output)")
    }

    @Test("decision boundary: round ticks in the data's units, the rotated y-axis title clear of the tick labels")
    func boundaryAxes() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("moons")
        let run = try Run(["train", "--data", "toy:moons", "--model", "2-8:relu-2:softmax", "--epochs", "2", "--threads", "1",
                           "--quiet", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        let section = try #require(report.components(separatedBy: "<h2>Decision boundary</h2>").last)
        let plane = try #require(SVGChart(svg: String(section[section.range(of: "<svg")!.lowerBound...])))
        #expect(plane.xTicks.count >= 3 && plane.yTicks.count >= 3, "\(plane.xTicks) \(plane.yTicks)")
        #expect(SVGChart.isRoundStep(plane.xTicks) && SVGChart.isRoundStep(plane.yTicks), "\(plane.xTicks) \(plane.yTicks)")
        #expect(plane.problems.isEmpty, "\(plane.problems)")
        // A loss that falls less than a hundredfold: a linear axis from 0 or above, on round steps.
        let loss = try #require(SVGChart(report, labelled: "Loss"))
        #expect((loss.yValues.min() ?? -1) >= 0 && SVGChart.isRoundStep(loss.yTicks) && !loss.svg.contains("log scale"), "\(loss.yTicks)")
        // The layer health charts' titles raise the notes' [ℓ] instead of writing a caret.
        #expect(report.contains(">log₁₀ ‖δ<tspan baseline-shift=\"super\" font-size=\"10\">[ℓ]</tspan>‖</text>"))
        #expect(!report.contains(">log₁₀ ‖δ^[ℓ]‖<") && !report.contains(">Spread of a^[ℓ]<"))
    }
}

/// An SVG chart of the report, read back: its tick labels, and whether every label lies
/// inside the chart and clear of the rotated y-axis title (at x = 12 to 14, 12 px font).
struct SVGChart {
    struct Label { var x: Double; var anchor: String; var text: String }
    let title: String
    let svg: String
    let width: Double
    let labels: [Label]
    let hasRotatedTitle: Bool

    /// The chart whose title is `title` (its `aria-label`).
    init?(_ html: String, labelled title: String) {
        guard let start = html.range(of: "aria-label=\"\(title)\"") else { return nil }
        let opening = html[..<start.lowerBound].range(of: "<svg", options: .backwards)!.lowerBound
        self.init(svg: String(html[opening...]), title: title)
    }

    /// The first `<svg>` element of `text`.
    init?(svg text: String, title: String = "") {
        guard let end = text.range(of: "</svg>") else { return nil }
        let svg = String(text[..<end.upperBound])
        func number(_ pattern: String, in text: String) -> Double? {
            text.range(of: pattern, options: .regularExpression).flatMap { match in
                Double(text[match].split(separator: "\"")[1])
            }
        }
        guard let width = number(#"width="[0-9.]+""#, in: svg) else { return nil }
        (self.title, self.width, self.svg) = (title, width, svg)
        hasRotatedTitle = svg.contains("rotate(-90")
        var labels: [Label] = []
        for piece in svg.components(separatedBy: "<text ").dropFirst() where piece.contains("font-size=\"11\"") && !piece.contains("rotate") {
            guard let x = number(#"^x="-?[0-9.]+""#, in: piece), let close = piece.range(of: ">"), let end = piece.range(of: "</text>") else { continue }
            let anchor = piece.range(of: #"text-anchor="[a-z]+""#, options: .regularExpression).map { String(piece[$0].split(separator: "\"")[1]) } ?? "start"
            labels.append(Label(x: x, anchor: anchor, text: String(piece[close.upperBound..<end.lowerBound])))
        }
        self.labels = labels
    }

    var xTicks: [String] { labels.filter { $0.anchor == "middle" }.map(\.text) }
    /// From the bottom of the chart up.
    var yTicks: [String] { labels.filter { $0.anchor == "end" }.map(\.text) }
    var yValues: [Double] { yTicks.compactMap(Self.value) }

    /// Labels that reach out of the chart, or into the rotated title (6.5 px a character).
    var problems: [String] {
        labels.compactMap { label in
            let extent = Double(label.text.count) * 6.5
            let (from, to) = label.anchor == "end" ? (label.x - extent, label.x)
                : label.anchor == "middle" ? (label.x - extent / 2, label.x + extent / 2) : (label.x, label.x + extent)
            if from < (hasRotatedTitle && label.anchor == "end" ? 20 : 0) || to > width { return "'\(label.text)' spans \(from)…\(to) of \(width)" }
            return nil
        }
    }

    /// A tick label's value: `2.5k` is 2500, `1.5e-6` is 0.0000015.
    static func value(_ label: String) -> Double? {
        let scales: [Character: Double] = ["k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12]
        if let last = label.last, let scale = scales[last] { return Double(label.dropLast()).map { $0 * scale } }
        return Double(label)
    }

    /// Whether the labels are equally spaced by 1, 2, 2.5 or 5 × 10^k.
    static func isRoundStep(_ labels: [String]) -> Bool {
        let values = labels.compactMap(value)
        guard values.count == labels.count, values.count >= 2 else { return false }
        let steps = zip(values.dropFirst(), values).map { $0 - $1 }
        let step = steps[0]
        guard step > 0, steps.allSatisfy({ abs($0 - step) <= 1e-6 * step }) else { return false }
        let leading = step / pow(10, log10(step).rounded(.down))
        return [1, 2, 2.5, 5, 10].contains { abs(leading - $0) < 1e-6 }
    }
}
