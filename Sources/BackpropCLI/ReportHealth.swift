import Foundation
import Training

extension Report {
    /// The training loss step by step (each point a batch, or the mean of a run of
    /// batches in long epochs), raw and smoothed.
    func stepChart() -> String {
        let steps = history.steps
        // With one step per epoch the learning curves above already show every step.
        guard steps.count > history.epochs.count else { return "" }
        let x = steps.map { Double($0.step) }, y = steps.map(\.loss)
        let weight = Report.smoothing(points: steps.count)
        let batches = steps.map(\.batches).max() ?? 1
        let what = batches > 1 ? "each point the mean of up to \(batches) batches" : "each point one batch"
        return """
        <h2>Training loss by step</h2>
        <p class="note">\(what); thick: exponential moving average with weight \(weight) on the past (bias-corrected).</p>
        <div class="charts">\(xyChart(title: "Training loss", xLabel: "step", series: [
            ChartSeries(name: "raw", color: "#1f77b4", x: x, y: y, width: 1, opacity: 0.35, inLegend: false),
            ChartSeries(name: "training loss (smoothed)", color: "#1f77b4", x: x, y: smoothed(y, weight: weight)),
        ], width: 980, yLimits: 0...Double.infinity))</div>
        """
    }

    /// A smoothing weight whose average spans about 2 % of the points (an exponential
    /// average with weight w spans about 1/(1 − w) points); none under 100 points.
    static func smoothing(points: Int) -> Double {
        points < 100 ? 0 : (1 - 1 / (0.02 * Double(points))).clamped(0, 0.98).roundedTo(2)
    }

    /// Per layer over the epochs: activation spread, dead or saturated units, ‖δ‖, the
    /// update ratio; the last epoch's table; and the warnings, each with its remedy.
    func healthSection() -> String {
        let measured = history.epochs.compactMap { record in record.health.map { (record.epoch, $0) } }
        guard let (lastEpoch, last) = measured.last, !last.isEmpty else { return "" }
        let layers = last.map(\.layer)
        func series(_ value: (LayerHealth) -> Double?) -> [(name: String, color: String, values: [Double])] {
            layers.compactMap { layer in
                let values = measured.map { $0.1.first { $0.layer == layer }.flatMap(value) ?? .nan }
                guard values.contains(where: \.isFinite) else { return nil }
                return ("ℓ=\(layer)", hex(classColour(layer - 1)), values)
            }
        }
        let log10: (Double?) -> Double? = { $0.flatMap { $0 > 0 ? Foundation.log10($0) : nil } }
        let charts = [
            lineChart(title: "log₁₀ ‖δ^[ℓ]‖", series: series { log10($0.deltaNorm) }, legendSpacing: 44),
            lineChart(title: "log₁₀ ‖ΔW‖/‖W‖ per step", series: series { log10($0.updateRatio) }, legendSpacing: 44),
            lineChart(title: "Spread of a^[ℓ]", series: series { $0.activationSpread }, limits: 0...Double.infinity, legendSpacing: 44),
            lineChart(title: "Dead ReLUs / saturated (%)", series: series { ($0.dead ?? $0.saturated).map { $0 * 100 } },
                      limits: 0...100, legendSpacing: 44),
        ].joined(separator: "\n")
        func f(_ value: Double?, _ format: String = "%.3g") -> String { value.map { String(format: format, $0) } ?? "–" }
        let rows = last.map { h in
            "<tr><td>\(h.layer)</td><td class=\"l\">\(escape(h.name))</td><td>\(h.units)</td><td>\(f(h.activationMean))</td><td>\(f(h.activationSpread))</td>"
                + "<td>\(f(h.saturated.map { $0 * 100 }, "%.1f %%"))</td><td>\(f(h.dead.map { $0 * 100 }, "%.1f %%"))</td>"
                + "<td>\(f(h.deltaNorm))</td><td>\(f(h.weightNorm))</td><td>\(f(h.updateRatio))</td><td>\(h.distinctUnits)</td></tr>"
        }.joined()
        // Each warning the first epoch it appeared, with its latest wording.
        var seen: [String: (first: Int, last: Int, message: String)] = [:]
        var order: [String] = []
        for (epoch, health) in measured {
            for warning in LayerHealth.warnings(health, initializer: initializer) {
                let key = "\(warning.kind.rawValue) \(warning.layer ?? 0)"
                if seen[key] == nil { order.append(key) }
                seen[key] = (seen[key]?.first ?? epoch, epoch, warning.message)
            }
        }
        let warnings = order.map { key -> String in
            let w = seen[key]!
            let when = w.last == lastEpoch ? "since epoch \(w.first + 1)" : "epochs \(w.first + 1)–\(w.last + 1), gone since"
            return "<div class=\"warn\">\(escape(w.message)) <span class=\"note\">(\(when))</span></div>"
        }.joined(separator: "\n")
        return """
        <h2>Layer health</h2>
        <p class="note">Measured after each epoch on the first \(probeSize) training examples, in evaluation mode.
        Layer ℓ is an affine map with what follows it up to the next one; δ<sup>[ℓ]</sup> = ∂J/∂z<sup>[ℓ]</sup> for one example's loss;
        ΔW is the epoch's last optimiser step.</p>
        \(warnings.isEmpty ? "<div class=\"ok\">No warnings: no dead or saturated layers, no copied units, δ neither vanishing nor exploding, steps of a sensible size.</div>" : warnings)
        <div class="charts">\(charts)</div>
        <table><tr><th>ℓ</th><th class="l">layers</th><th>units</th><th>mean a</th><th>spread a</th><th>saturated</th><th>dead</th><th>‖δ‖</th><th>‖W‖</th><th>‖ΔW‖/‖W‖</th><th>distinct units</th></tr>\(rows)</table>
        <p class="note">Epoch \(lastEpoch + 1). backprop train --health prints these figures after every epoch.</p>
        """
    }
}

extension Double {
    func clamped(_ low: Double, _ high: Double) -> Double { Swift.min(Swift.max(self, low), high) }
    func roundedTo(_ digits: Int) -> Double {
        let scale = Foundation.pow(10, Double(digits))
        return (self * scale).rounded() / scale
    }
}
