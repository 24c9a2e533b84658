import Foundation
import Testing

/// What the report, the result line and evaluate say of a run: each output of a
/// regression apart, axes with readable round ticks inside their charts, and what each
/// figure is measured on.
@Suite("report figures and axes")
struct ReportTests {
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
        for text in ["RMSE of y_0 (test set)<b>", "MAE of y_1 (test set)<b>", "R² of y_1 (test set)<b>",
                     ">Predicted vs true y_0</text>", ">Predicted vs true y_1</text>", ">Residuals of y_1</text>",
                     ">true y_1</text>", ">predicted y_0</text>", "aria-label=\"RMSE of y_1\""] {
            #expect(report.contains(text), "'\(text)' not in the report")
        }
        #expect(!report.contains(">RMSE (test set)<b>"), "no card pools the outputs")
    }
}
