import Tensors

/// A setting that cannot work, rejected when an optimiser or a training run is
/// configured, before any step is taken.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The one-line message naming the setting and the value given.
    public let description: String
    /// An error with the given one-line message.
    public init(_ description: String) { self.description = description }
}

/// Which parameters L2 regularisation (weight decay) applies to.
public enum RegularizedParameters: String, Sendable, Hashable, Codable {
    /// Parameters named `…weight` (the notes' W; biases are left alone).
    case weightsOnly
    /// Every parameter, biases included.
    case all

    func includes(_ name: String) -> Bool {
        self == .all || name == "weight" || name.hasSuffix(".weight")
    }
}

/// A rule that updates each parameter from its gradient, with named per-parameter state.
public protocol Optimizer<Scalar> {
    /// The element type of the parameters, `Float` or `Double`.
    associatedtype Scalar: TensorScalar

    /// The step size α.
    var learningRate: Double { get set }

    /// Updates one parameter in place from its gradient.
    mutating func update(_ name: String, _ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>)

    /// Called once per step, before the parameters are updated.
    mutating func beginStep()

    /// The optimiser's state, by `parameter name.quantity` (`0.weight.velocity`).
    var state: [String: Tensor<Scalar>] { get }

    /// Restores state saved from ``state``.
    mutating func restore(state: [String: Tensor<Scalar>]) throws
}

extension Optimizer {
    /// Nothing to do by default.
    public mutating func beginStep() {}

    /// One update of every parameter of `model` that has a gradient; the gradients are
    /// then cleared.
    public mutating func step<L: Layer>(_ model: L) where L.Scalar == Scalar {
        beginStep()
        withoutGradients {
            model.visitParameters { name, parameter in
                guard let gradient = parameter.gradient else { return }
                update(name, &parameter, gradient: gradient)
                parameter.zeroGradient()
            }
        }
    }

    /// One update of every parameter of `model` from `gradients`, given in
    /// ``Layer/visitParameters(_:)`` order (as ``WrittenOutBackpropagation`` returns them).
    public mutating func step<L: Layer>(_ model: L, gradients: [Tensor<Scalar>]) where L.Scalar == Scalar {
        beginStep()
        var index = 0
        withoutGradients {
            model.visitParameters { name, parameter in
                checkPrecondition(index < gradients.count,
                                  "Optimizer.step: \(gradients.count) gradients for more parameters (\(name) has none)")
                checkPrecondition(gradients[index].shape == parameter.shape,
                                  "Optimizer.step: gradient of shape \(gradients[index].shape) for \(name) of shape \(parameter.shape)")
                update(name, &parameter, gradient: gradients[index])
                index += 1
            }
        }
        checkPrecondition(index == gradients.count,
                          "Optimizer.step: \(gradients.count) gradients for \(index) parameters")
    }
}

func validate(learningRate: Double) throws(ConfigurationError) {
    guard learningRate.isFinite && learningRate >= 0 else {
        throw ConfigurationError("learning rate must be a finite number ≥ 0, got \(learningRate)")
    }
}

func validate(weightDecay: Double) throws(ConfigurationError) {
    guard weightDecay.isFinite && weightDecay >= 0 else {
        throw ConfigurationError("L2 strength λ must be a finite number ≥ 0, got \(weightDecay)")
    }
}

func validate(beta: Double, name: String) throws(ConfigurationError) {
    guard beta >= 0 && beta < 1 else {
        throw ConfigurationError("\(name) must be in [0, 1), got \(beta)")
    }
}
