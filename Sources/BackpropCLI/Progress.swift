import Foundation
import NeuralNetworks
import Training

/// How training reports itself: a live bar on a terminal, one line per epoch on a pipe,
/// JSON objects for machines, or nothing until the end.
enum ProgressStyle {
    case bar, lines, json, quiet

    static func detect(json: Bool, quiet: Bool) -> ProgressStyle {
        if quiet { return .quiet }
        if json { return .json }
        return isatty(STDOUT_FILENO) == 1 ? .bar : .lines
    }
}

final class ProgressPrinter: TrainingCallback {
    let style: ProgressStyle
    let epochs: Int
    /// Print every layer's health after each epoch (warnings are printed regardless).
    let showsHealth: Bool
    private var lastDraw = Date.distantPast
    /// What the ReLU layers' weights were drawn with, when known (``LayerHealth/warnings(_:initializer:)``).
    let initializer: Initializer?
    /// The warnings printed so far, by kind and layer: each is printed when it first appears.
    private var warned: Set<String> = []

    init(style: ProgressStyle, epochs: Int, showsHealth: Bool = false, initializer: Initializer? = nil) {
        self.style = style
        self.epochs = epochs
        self.showsHealth = showsHealth
        self.initializer = initializer
    }

    func batchEnded(_ event: BatchEvent) -> CallbackDecision {
        guard style == .bar else { return .proceed }
        let now = Date()
        guard event.batch + 1 == event.batchCount || now.timeIntervalSince(lastDraw) > 0.1 else { return .proceed }
        lastDraw = now
        let fraction = Double(event.batch + 1) / Double(event.batchCount)
        let width = 28
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rate = Double(event.examplesSeen) / max(event.elapsed, 1e-9)
        let eta = event.elapsed / fraction - event.elapsed
        let line = String(format: "epoch %d/%d %@ %d/%d  loss %.4f  %.0f samples/s  ETA %.0fs",
                          event.epoch + 1, epochs, bar, event.batch + 1, event.batchCount,
                          event.runningLoss, rate, eta)
        FileHandle.standardOutput.write(Data(("\r\u{1B}[2K" + line).utf8))
        return .proceed
    }

    func epochEnded(_ record: EpochRecord) -> CallbackDecision {
        switch style {
        case .quiet: break
        case .json:
            var object = metricsJSON(record.training, prefix: "")
            object["epoch"] = record.epoch + 1
            object["seconds"] = record.seconds
            object["learning_rate"] = record.learningRate
            if let validation = record.validation {
                object.merge(metricsJSON(validation, prefix: "validation_")) { $1 }
            }
            if let data = try? JSONSerialization.data(withJSONObject: object.compactMapValues { $0 }, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
        case .bar, .lines:
            if style == .bar { FileHandle.standardOutput.write(Data("\r\u{1B}[2K".utf8)) }
            print(Self.describe(record, epochs: epochs))
            if let health = record.health {
                if showsHealth { print(Self.healthTable(health)) }
                for warning in LayerHealth.warnings(health, initializer: initializer) where warned.insert("\(warning.kind) \(warning.layer ?? 0)").inserted {
                    print("warning: \(warning.message)")
                }
            }
        }
        fflush(nil)
        return .proceed
    }

    static func describe(_ record: EpochRecord, epochs: Int) -> String {
        func measures(_ m: Metrics) -> String {
            var text = String(format: "loss %.4f", m.loss)
            if let accuracy = m.accuracy { text += String(format: "  accuracy %.4f", accuracy) }
            if let r2 = m.rSquared { text += "  R² \(rSquaredText(r2))" }
            // Several outputs' errors pooled would mix their units: R² alone then.
            if m.outputs == nil, let rmse = m.rootMeanSquaredError { text += String(format: "  RMSE %.4g", rmse) }
            return text
        }
        var line = "epoch \(record.epoch + 1)/\(epochs)  " + measures(record.training)
        if let v = record.validation { line += "  validation " + measures(v) }
        return line + String(format: "  (%.1f s)", record.seconds)
    }
}

extension ProgressPrinter {
    /// Every layer's health as an aligned table.
    static func healthTable(_ layers: [LayerHealth]) -> String {
        func f(_ value: Double?, _ format: String = "%.3g") -> String { value.map { String(format: format, $0) } ?? "–" }
        let header = ["ℓ", "layers", "units", "mean a", "spread a", "saturated", "dead", "‖δ‖", "‖W‖", "‖ΔW‖/‖W‖", "distinct"]
        let rows = layers.map { h in
            ["\(h.layer)", String(h.name.prefix(44)), "\(h.units)", f(h.activationMean), f(h.activationSpread),
             f(h.saturated.map { $0 * 100 }, "%.1f%%"), f(h.dead.map { $0 * 100 }, "%.1f%%"), f(h.deltaNorm), f(h.weightNorm),
             f(h.updateRatio), "\(h.distinctUnits)"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "  " + cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 1 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

/// steps.csv: the training loss step by step (``History/steps``).
func stepsCSV(_ history: History) -> String {
    var lines = ["step,epoch,examples_seen,batches,loss"]
    for s in history.steps {
        lines.append("\(s.step),\(s.epoch + 1),\(s.examplesSeen),\(s.batches),\(String(format: "%.8g", s.loss))")
    }
    return lines.joined(separator: "\n") + "\n"
}

/// history.csv: one row per epoch.
func historyCSV(_ history: History) -> String {
    let measures: [(String, (Metrics) -> Double?)] = [
        ("loss", \.loss), ("accuracy", \.accuracy), ("mse", \.meanSquaredError), ("rmse", \.rootMeanSquaredError),
        ("mae", \.meanAbsoluteError), ("r2", \.rSquared),
    ]
    var lines = [(["epoch", "learning_rate", "seconds"] + measures.map(\.0) + measures.map { "validation_\($0.0)" })
        .joined(separator: ",")]
    func f(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
    for r in history.epochs {
        lines.append(([String(r.epoch + 1), f(r.learningRate), f(r.seconds)] + measures.map { f($0.1(r.training)) }
                      + measures.map { m in f(r.validation.flatMap { m.1($0) }) }).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
}
