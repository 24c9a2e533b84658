import Foundation
import Tensors

/// Adam (Kingma & Ba), and AdamW when the weight decay is decoupled:
/// m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ),
/// W = W − α m̂/(√v̂ + ε).
/// Adam's L2 adds λW to g (eq. 3.37's gradient); AdamW instead shrinks W by (1 − αλ)
/// before the step, as in PyTorch.
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// α, the step size (0.001 by default).
    public var learningRate: Double
    /// β₁, the decay of the first moment m (0.9 by default).
    public let beta1: Double
    /// β₂, the decay of the second moment v (0.999 by default).
    public let beta2: Double
    /// ε, added to √v̂ (1e-8 by default).
    public let epsilon: Double
    /// λ, the L2 strength (0: none).
    public let weightDecay: Double
    /// AdamW's decoupled decay W = (1 − αλ)W instead of λW added to the gradient.
    public let isDecoupled: Bool
    /// Which parameters λ applies to (by default the weights, not the biases).
    public let regularized: RegularizedParameters
    private var step = 0
    private var moments: [String: (m: Tensor<Scalar>, v: Tensor<Scalar>)] = [:]

    /// Adam with the given settings; throws ``ConfigurationError`` for a negative or
    /// non-finite learning rate or λ, a β outside [0, 1) or ε ≤ 0.
    public init(
        learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Double = 1e-8, weightDecay: Double = 0, decoupled: Bool = false,
        regularized: RegularizedParameters = .weightsOnly
    ) throws(ConfigurationError) {
        try validate(learningRate: learningRate)
        try validate(beta: beta1, name: "beta1")
        try validate(beta: beta2, name: "beta2")
        try validate(weightDecay: weightDecay)
        guard epsilon > 0 else { throw ConfigurationError("epsilon must be > 0, got \(epsilon)") }
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.isDecoupled = decoupled
        self.regularized = regularized
    }

    /// AdamW: Adam with decoupled weight decay (default λ = 0.01, as PyTorch).
    public static func adamW(learningRate: Double = 0.001, weightDecay: Double = 0.01) throws(ConfigurationError) -> Adam {
        try Adam(learningRate: learningRate, weightDecay: weightDecay, decoupled: true)
    }

    /// Counts the step t used in the bias corrections 1 − βᵗ.
    public mutating func beginStep() { step += 1 }

    /// One Adam (or AdamW) update of the parameter `name` from its gradient, in place.
    public mutating func update(_ name: String, _ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>) {
        let lambda = regularized.includes(name) ? Scalar(weightDecay) : 0
        let alpha = Scalar(learningRate)
        var g = gradient.scalars
        if lambda != 0 {
            if isDecoupled {
                parameter.updateScalars { Scalar.scaledAdd(&$0, 0, g, 1 - alpha * lambda) }
            } else {
                Scalar.scaledAdd(&g, lambda, parameter.scalars, 1)
            }
        }
        let gradientTensor = Tensor(shape: parameter.shape, scalars: g)
        var (m, v) = moments[name] ?? (.zeros(parameter.shape), .zeros(parameter.shape))
        m = m * Scalar(beta1) + gradientTensor * Scalar(1 - beta1)
        v = v * Scalar(beta2) + gradientTensor.squared() * Scalar(1 - beta2)
        moments[name] = (m, v)
        let t = Double(step)
        let mHat = m / Scalar(1 - Foundation.pow(beta1, t))
        let vHat = v / Scalar(1 - Foundation.pow(beta2, t))
        let direction = mHat / (vHat.sqrt() + Scalar(epsilon))
        parameter.updateScalars { Scalar.scaledAdd(&$0, -alpha, direction.scalars, 1) }
    }

    /// `step`, and `NAME.m` and `NAME.v` for each parameter updated so far.
    public var state: [String: Tensor<Scalar>] {
        var result: [String: Tensor<Scalar>] = ["step": Tensor(Scalar(step))]
        for (name, moment) in moments {
            result["\(name).m"] = moment.m
            result["\(name).v"] = moment.v
        }
        return result
    }

    /// Restores the moments and the step count saved by ``state``; throws
    /// ``ConfigurationError`` if `step` or a `.v` entry is missing.
    public mutating func restore(state: [String: Tensor<Scalar>]) throws {
        guard let saved = state["step"], saved.count == 1, let savedStep = Int(exactly: Double(saved.scalars[0])), savedStep >= 0 else {
            throw ConfigurationError("Adam state has no 'step' entry holding a count")
        }
        var restored: [String: (Tensor<Scalar>, Tensor<Scalar>)] = [:]
        for (key, m) in state where key.hasSuffix(".m") {
            let name = String(key.dropLast(2))
            guard let v = state["\(name).v"] else { throw ConfigurationError("Adam state has '\(key)' but no '\(name).v'") }
            restored[name] = (m, v)
        }
        step = savedStep
        moments = restored
    }
}
