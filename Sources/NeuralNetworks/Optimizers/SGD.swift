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
    /// Which momentum update ``SGD`` uses when ``SGD/momentum`` is not 0.
    public enum MomentumForm: String, Sendable, Hashable, Codable {
        /// `notes`: v = βv + (1 − β)g, W = W − αv (eq. 3.33); `classical`: v = βv + g, W = W − αv
        /// (PyTorch's); `nesterov`: v = βv + g, W = W − α(g + βv).
        case notes, classical, nesterov
    }

    /// α, the step size of eqs. 3.10 and 3.11.
    public var learningRate: Double
    /// β of eq. 3.33, in [0, 1); 0 is plain gradient descent.
    public let momentum: Double
    /// Which momentum update applies (classical by default).
    public let momentumForm: MomentumForm
    /// λ of eqs. 3.34–3.38, the L2 strength (0: none).
    public let weightDecay: Double
    /// Which parameters λ applies to (by default the weights, not the biases).
    public let regularized: RegularizedParameters
    private var velocities: [String: Tensor<Scalar>] = [:]

    /// Gradient descent with step α = `learningRate`, momentum β and L2 strength λ =
    /// `weightDecay`; throws ``ConfigurationError`` for a negative or non-finite α or λ, or a
    /// β outside [0, 1).
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

    /// One update of the parameter `name` in place: without momentum W = (1 − αλ)W − α·g
    /// (eq. 3.38, eq. 3.10 when λ = 0); with momentum, the form of ``momentumForm``.
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

    /// The velocity of each parameter, as `NAME.velocity` (empty without momentum).
    public var state: [String: Tensor<Scalar>] {
        Dictionary(uniqueKeysWithValues: velocities.map { ("\($0.key).velocity", $0.value) })
    }

    /// Restores the velocities saved by ``state``; throws ``ConfigurationError`` for an entry
    /// that is not a velocity.
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
