import Datasets
import Foundation
import NeuralNetworks
import Tensors

/// How one layer of a network is doing, measured on a fixed probe batch at the end of an
/// epoch. A layer ℓ is the notes' layer: an affine map (`Dense` or `Conv2D`) computing
/// z^[ℓ], with the layers after it up to the next affine map (its activation g, and any
/// pooling, flattening or batch norm), whose output is a^[ℓ].
public struct LayerHealth: Sendable, Equatable, Codable {
    /// ℓ, counted from 1 over the affine layers.
    public var layer: Int
    /// The layers it groups, as `summary` names them: "Dense(2 → 16) + ReLU".
    public var name: String
    /// The activation function g, when the group has one.
    public var activation: Activation?
    /// Whether this is the output layer (its activation is the prediction; no warnings).
    public var isOutput: Bool
    /// Units: a dense layer's outputs, a convolution's channels.
    public var units: Int
    /// Mean of a^[ℓ] over the probe batch (every unit, every example).
    public var activationMean: Double
    /// Standard deviation of a^[ℓ] over the probe batch.
    public var activationSpread: Double
    /// Sigmoid and tanh: the share of a^[ℓ]'s values where g′(z) is nearly 0 (a sigmoid
    /// output below 0.01 or above 0.99, a tanh output beyond ±0.99).
    public var saturated: Double?
    /// ReLU: the share of units that are 0 on every probe example (and so pass no δ).
    public var dead: Double?
    /// The mean over the probe examples of ‖δ^[ℓ]‖, δ^[ℓ] = ∂J/∂z^[ℓ] for that example's
    /// own loss (the notes' δ; the batch's mean loss divides it by the batch size).
    public var deltaNorm: Double
    /// ‖W^[ℓ]‖ (Frobenius).
    public var weightNorm: Double
    /// ‖ΔW‖/‖W‖ of the epoch's last optimiser step: how much one step changes the weights.
    public var updateRatio: Double?
    /// How many units have weights (and bias) different from every other unit's: fewer
    /// than ``units`` means some are copies, which no gradient step can tell apart.
    public var distinctUnits: Int
}

extension LayerHealth {
    /// Measures every layer of `model` on `probe` (in evaluation mode: dropout off, batch
    /// norm's running statistics), with `loss` as training uses it. `previousWeights`, by
    /// parameter name, are the weights before the latest step, for ``updateRatio``. The
    /// model's gradients are cleared before and after; its weights are not touched.
    public static func measure<Scalar: TensorScalar>(
        _ model: Sequential<Scalar>, probe: Dataset<Scalar>, loss: Loss,
        previousWeights: [String: Tensor<Scalar>] = [:]
    ) -> [LayerHealth] {
        guard let targets = probe.targets, probe.count > 0 else { return [] }
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        model.zeroGradients()
        defer { model.zeroGradients() }
        let reading = Objective<Scalar>(loss: loss).reading(model, targets)
        let lossLayers = reading.usesLogits ? model.layers.count - 1 : model.layers.count
        var outputs: [Tensor<Scalar>] = []
        var value = probe.features
        for (index, layer) in model.layers.enumerated() {
            if index < lossLayers {
                value = layer(value).retainingGradient()
            } else {
                value = withoutGradients { layer(value.detached()) }
            }
            outputs.append(value)
        }
        let objective = reading.lossOf(outputs[max(lossLayers - 1, 0)])
        objective.backward()
        let parameters = Dictionary(model.namedParameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })

        // The groups: each affine layer with the layers after it, up to the next affine one.
        let affine = model.layers.indices.filter { model.layers[$0] is Dense<Scalar> || model.layers[$0] is Conv2D<Scalar> }
        let examples = Double(probe.count)
        return affine.enumerated().map { position, start in
            let end = position + 1 < affine.count ? affine[position + 1] : model.layers.count
            let group = Array(start..<end)
            let activationIndex = group.last { model.layers[$0] is ActivationLayer<Scalar> }
            let activation = activationIndex.map { (model.layers[$0] as! ActivationLayer<Scalar>).activation }
            let values = outputs[group.last!].doubleScalars
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            let spread = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))).squareRoot()
            let isOutput = position == affine.count - 1
            // The activation's own output for saturation and dead units.
            let g = activationIndex.map { outputs[$0] }
            var saturated: Double?, dead: Double?
            if let g, let activation {
                switch activation {
                case .sigmoid:
                    saturated = Double(g.doubleScalars.count { $0 < 0.01 || $0 > 0.99 }) / Double(max(g.count, 1))
                case .tanh:
                    saturated = Double(g.doubleScalars.count { abs($0) > 0.99 }) / Double(max(g.count, 1))
                case .relu:
                    dead = deadShare(g.doubleScalars, shape: g.shape)
                default: break
                }
            }
            let z = outputs[start]
            let delta = z.gradient.map { perExampleNorm($0, examples: examples) } ?? 0
            let weight = parameters["\(start).weight"] ?? Tensor<Scalar>.zeros([1])
            let bias = parameters["\(start).bias"]
            let weights = weight.doubleScalars
            let weightNorm = norm(weights)
            let ratio = previousWeights["\(start).weight"].flatMap { previous -> Double? in
                guard previous.shape == weight.shape else { return nil }
                let earlier = previous.doubleScalars
                let before = norm(earlier)
                return before > 0 ? norm(zip(weights, earlier).map { $0 - $1 }) / before : nil
            }
            let units = weight.shape[0]
            let summary = group.map { model.layers[$0].summaryName }.joined(separator: " + ")
            return LayerHealth(
                layer: position + 1, name: summary, activation: activation, isOutput: isOutput, units: units,
                activationMean: mean, activationSpread: spread, saturated: saturated, dead: dead, deltaNorm: delta,
                weightNorm: weightNorm, updateRatio: ratio,
                distinctUnits: distinctRows(weight, bias: bias))
        }
    }

    /// A problem found in a network's health, in one line that names the notes' remedy.
    public struct Warning: Sendable, Equatable {
        /// What went wrong.
        public enum Kind: String, Sendable {
            /// Units with the same weights: equal initial weights get equal gradients.
            case symmetry
            /// ReLUs that are 0 on every probe example.
            case deadUnits
            /// Sigmoid or tanh outputs where g′(z) ≈ 0.
            case saturation
            /// Optimiser steps that change the weights by more than 10 % of their size.
            case largeSteps
            /// δ shrinking a thousandfold or more from the output to the first layer, or 0 there.
            case vanishingDelta
            /// δ growing a thousandfold or more from the output to the first layer.
            case explodingDelta
        }
        /// What went wrong.
        public var kind: Kind
        /// ℓ, or nil for the network as a whole.
        public var layer: Int?
        /// The problem and its remedy, in one line.
        public var message: String
    }

    /// The problems in `layers` (one epoch's measures); empty when all is well.
    /// `initializer` is what the ReLU layers' weights were drawn with, when known: a
    /// remedy already in force (He initialisation) is not offered.
    public static func warnings(_ layers: [LayerHealth], initializer: Initializer? = nil) -> [Warning] {
        let heInUse = initializer == .heNormal || initializer == .heUniform
        var lines: [Warning] = []
        for health in layers {
            let name = "layer \(health.layer) (\(health.name))"
            // The output layer's activation is the prediction: only a dead ReLU output is a problem there.
            if let ratio = health.updateRatio, ratio > 0.1 {
                lines.append(Warning(kind: .largeSteps, layer: health.layer, message: "\(name): one step changes its weights by \(percent(ratio)) of their size (a healthy step is nearer 0.1 %): the learning rate is too high"))
            }
            if health.isOutput {
                if let dead = health.dead, dead >= 0.5 {
                    lines.append(Warning(kind: .deadUnits, layer: health.layer, message: "\(name): \(percent(dead)) of the output ReLUs are 0 on every probe example, so no gradient reaches the weights: standardise the inputs (--standardize) so that z = wx + b changes sign over the data, or try another seed"))
                }
                continue
            }
            if health.units > 1 && health.distinctUnits < health.units {
                let copies = health.distinctUnits == 1 ? "all \(health.units) units are identical"
                    : "only \(health.distinctUnits) of its \(health.units) units differ"
                lines.append(Warning(kind: .symmetry, layer: health.layer, message: "\(name): \(copies): equal initial weights get equal gradients, so the symmetry is never broken; initialise at random (--init he-normal or xavier-normal)"))
            }
            if let dead = health.dead, dead >= 0.5 {
                let remedy = heInUse ? "lower the learning rate (the weights were drawn with He initialisation already)"
                    : "lower the learning rate, or use He initialisation (--init he-normal)"
                lines.append(Warning(kind: .deadUnits, layer: health.layer, message: "\(name): \(percent(dead)) of the ReLU units are dead (0 on every probe example, so no δ passes them): \(remedy)"))
            }
            if let saturated = health.saturated, saturated >= 0.5, let g = health.activation {
                lines.append(Warning(kind: .saturation, layer: health.layer, message: "\(name): \(percent(saturated)) of the \(g.rawValue) outputs are saturated (g′(z) ≈ 0 shrinks δ): standardise the inputs (--standardize), use Xavier initialisation (--init xavier-normal), or lower the learning rate"))
            }
        }
        let deltas = layers.map(\.deltaNorm)
        if let first = deltas.first, let last = deltas.last, deltas.count >= 3, last > 0, first.isFinite {
            if first == 0 {
                lines.append(Warning(kind: .vanishingDelta, layer: nil, message: "δ is 0 at layer 1: no gradient reaches the first layer (the layers above pass back W^[ℓ+1]ᵀδ^[ℓ+1] = 0: all-zero weights, or dead units): initialise at random (--init he-normal)"))
            } else if first / last < 1e-3 {
                lines.append(Warning(kind: .vanishingDelta, layer: nil, message: String(format: "δ shrinks %.0e-fold from the output to layer 1 (vanishing gradients: the first layers barely learn): use ReLU with He initialisation, or Xavier initialisation for tanh and sigmoid", last / max(first, .leastNormalMagnitude))))
            } else if first / last > 1e3 {
                lines.append(Warning(kind: .explodingDelta, layer: nil, message: String(format: "δ grows %.0e-fold from the output to layer 1 (exploding gradients): use Xavier or He initialisation, or lower the learning rate", first / last)))
            }
        }
        return lines
    }

    private static func percent(_ share: Double) -> String {
        share >= 0.01 ? String(format: "%.0f %%", share * 100) : String(format: "%.2g %%", share * 100)
    }

    /// The share of units (features, or channels of an image) that are 0 on every example.
    private static func deadShare(_ a: [Double], shape: [Int]) -> Double {
        let batch = shape[0]
        let units = shape.count > 1 ? shape[1] : 1
        let inner = a.count / max(batch * units, 1)
        var alive = [Bool](repeating: false, count: units)
        a.withUnsafeBufferPointer { values in
            for example in 0..<batch {
                for unit in 0..<units where !alive[unit] {
                    let base = (example * units + unit) * inner
                    if values[base..<(base + inner)].contains(where: { $0 != 0 }) { alive[unit] = true }
                }
            }
        }
        return Double(alive.count { !$0 }) / Double(max(units, 1))
    }

    /// Mean over examples of each example's ‖δ‖, for the example's own loss: the batch's
    /// mean loss scales each example's gradient by 1/m.
    private static func perExampleNorm<Scalar: TensorScalar>(_ gradient: Tensor<Scalar>, examples: Double) -> Double {
        let batch = gradient.shape[0]
        let width = gradient.count / max(batch, 1)
        let values = gradient.doubleScalars
        var total = 0.0
        for example in 0..<batch {
            total += norm(values[(example * width)..<((example + 1) * width)]) * examples
        }
        return total / Double(max(batch, 1))
    }

    private static func norm<C: Collection<Double>>(_ values: C) -> Double {
        values.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
    }

    /// Units whose weights (and bias) differ from every earlier unit's, within rounding.
    static func distinctRows<Scalar: TensorScalar>(_ weight: Tensor<Scalar>, bias: Tensor<Scalar>?) -> Int {
        let rows = weight.shape[0]
        let width = weight.count / max(rows, 1)
        let w = weight.doubleScalars, b = bias?.doubleScalars
        let scale = max(w.lazy.map { abs($0) }.max() ?? 0, b?.lazy.map { abs($0) }.max() ?? 0, 1e-30)
        let tolerance = 1e-6 * scale
        func same(_ i: Int, _ j: Int) -> Bool {
            if let b, abs(b[i] - b[j]) > tolerance { return false }
            for k in 0..<width where abs(w[i * width + k] - w[j * width + k]) > tolerance { return false }
            return true
        }
        var representatives: [Int] = []
        for row in 0..<rows where !representatives.contains(where: { same($0, row) }) {
            representatives.append(row)
        }
        return representatives.count
    }
}
