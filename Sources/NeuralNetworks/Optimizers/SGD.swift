import Tensors

/// Gradient descent, the notes' section 3.2. Which regime it is — full batch, stochastic
/// (batch 1) or mini-batch — is the batch size of the training loop that feeds it.
///
/// - Plain: W = W − α ∂J/∂W (eqs. 3.10–3.11, 3.31).
/// - L2 (eqs. 3.34–3.38): J_L2 = J + (λ/2)‖W‖², so W = (1 − αλ)W − α ∂J/∂W.
/// - Momentum, notes' form (eq. 3.33): v = βv + (1 − β)g, W = W − αv.
/// - Momentum, classical (PyTorch): v = βv + g, W = W − αv.
/// - Nesterov (PyTorch): v = βv + g, W = W − α(g + βv).
/// With L2, g includes λW.
public struct SGD<Scalar: TensorScalar>: Optimizer {
    public enum MomentumForm: String, Sendable, Hashable, Codable {
        case notes, classical, nesterov
    }

    public var learningRate: Double
    public let momentum: Double
    public let momentumForm: MomentumForm
    public let weightDecay: Double
    public let regularized: RegularizedParameters
    private var velocities: [String: Tensor<Scalar>] = [:]

    public init(
        learningRate: Double, momentum: Double = 0, momentumForm: MomentumForm = .classical,
        weightDecay: Double = 0, regularized: RegularizedParameters = .weightsOnly
    ) throws(ConfigurationError) {
        try validate(learningRate: learningRate)
        try validate(beta: momentum, name: "momentum")
        try validate(weightDecay: weightDecay)
        self.learningRate = learningRate
        self.momentum = momentum
        self.momentumForm = momentumForm
        self.weightDecay = weightDecay
        self.regularized = regularized
    }

    public mutating func update(_ name: String, _ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>) {
        let alpha = Scalar(learningRate)
        let lambda = regularized.includes(name) ? Scalar(weightDecay) : 0
        if momentum == 0 {
            // W = (1 − αλ)W − αg: eq. 3.38, one pass.
            parameter.updateScalars { Scalar.scaledAdd(&$0, -alpha, gradient.scalars, 1 - alpha * lambda) }
            return
        }
        let beta = Scalar(momentum)
        var v = velocities[name]?.scalars ?? Scalar.filled(0, count: gradient.count)
        velocities[name] = nil  // the only reference: updated in place below
        // One pass over the weights, the velocity and the gradient.
        parameter.updateScalars { w in
            Scalar.momentumStep(weights: &w, velocity: &v, gradient: gradient.scalars, alpha: alpha, beta: beta,
                                gain: momentumForm == .notes ? 1 - beta : 1, lambda: lambda,
                                nesterov: momentumForm == .nesterov)
        }
        velocities[name] = Tensor(shape: parameter.shape, scalars: v)
    }

    public var state: [String: Tensor<Scalar>] {
        Dictionary(uniqueKeysWithValues: velocities.map { ("\($0.key).velocity", $0.value) })
    }

    public mutating func restore(state: [String: Tensor<Scalar>]) throws {
        var restored: [String: Tensor<Scalar>] = [:]
        for (key, value) in state {
            guard key.hasSuffix(".velocity") else {
                throw ConfigurationError("SGD state has an unknown entry '\(key)'")
            }
            restored[String(key.dropLast(".velocity".count))] = value
        }
        velocities = restored
    }
}
