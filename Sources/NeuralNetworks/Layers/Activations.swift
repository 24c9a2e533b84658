import Tensors

/// The activation functions g of the notes (eqs. 1.4–1.6) and a few more, by name. The
/// settings of those that have some (the leaky ReLU's slope, GELU's form, the softmax
/// axis) are arguments of ``apply(_:negativeSlope:approximate:axis:)`` and of
/// ``ActivationLayer``.
public enum Activation: String, Sendable, Hashable, Codable, CaseIterable {
    /// g(z) = z; σ(z) = 1/(1 + e⁻ᶻ) (eq. 1.4); tanh z (eq. 1.6); max(z, 0) (eq. 1.5); the leaky
    /// ReLU; GELU z·Φ(z); softmax e^{zⱼ}/Σₖ e^{zₖ}; and log-softmax.
    case identity, sigmoid, tanh, relu, leakyReLU, gelu, softmax, logSoftmax

    /// The slope of ``leakyReLU`` for negative inputs when none is given (PyTorch's
    /// default `negative_slope`).
    public static let leakySlope = 0.01

    /// g applied to a batch. `negativeSlope` is the leaky ReLU's slope for negative
    /// inputs; `approximate` GELU's form (exact, PyTorch's default, or tanh); `axis` the
    /// axis softmax and log-softmax normalise over, counted with the batch axis as 0 (as
    /// PyTorch's `dim`), negative from the end: by default the last, each example's
    /// scores. Each setting is ignored by the other functions.
    public func apply<S: TensorScalar>(
        _ z: Tensor<S>, negativeSlope: Double = Activation.leakySlope, approximate: GELUApproximation = .exact,
        axis: Int = -1
    ) -> Tensor<S> {
        switch self {
        case .identity: return z
        case .sigmoid: return z.sigmoid()
        case .tanh: return z.tanh()
        case .relu: return z.relu()
        case .leakyReLU: return z.leakyReLU(slope: S(negativeSlope))
        case .gelu: return z.gelu(approximate: approximate)
        case .softmax: return z.softmax(alongAxis: axis)
        case .logSoftmax: return z.logSoftmax(alongAxis: axis)
        }
    }

    /// The function of a name as a model file writes it (the raw value, `leakyReLU`) or
    /// as a model spec does (in lower case, `leakyrelu`); nil for any other spelling.
    public init?(named name: String) {
        guard let function = Activation(rawValue: name) ?? Activation.allCases.first(where: { $0.rawValue.lowercased() == name })
        else { return nil }
        self = function
    }

    /// Whether ``apply(_:negativeSlope:approximate:axis:)`` reads an axis.
    var takesAxis: Bool { self == .softmax || self == .logSoftmax }
}

/// A layer that applies an activation elementwise (softmax and log-softmax: along an
/// axis), with the function's settings; those another function would read keep their
/// defaults, so that two layers computing the same function are described alike.
public class ActivationLayer<Scalar: TensorScalar>: Layer {
    /// The function g this layer applies.
    public let activation: Activation
    /// The leaky ReLU's slope for negative inputs (PyTorch's `negative_slope`).
    public let negativeSlope: Double
    /// GELU's form (PyTorch's `approximate`).
    public let approximate: GELUApproximation
    /// The axis of softmax and log-softmax, with the batch axis as 0 (PyTorch's `dim`);
    /// negative counts from the end.
    public let axis: Int

    /// A layer applying `activation` with its settings; a setting the function does not read
    /// is stored as its default. Stops if a leaky ReLU's slope is not finite.
    public init(_ activation: Activation, negativeSlope: Double = Activation.leakySlope,
                approximate: GELUApproximation = .exact, axis: Int = -1) {
        checkPrecondition(activation != .leakyReLU || negativeSlope.isFinite,
                          "LeakyReLU: the slope must be finite, got \(negativeSlope)")
        self.activation = activation
        self.negativeSlope = activation == .leakyReLU ? negativeSlope : Activation.leakySlope
        self.approximate = activation == .gelu ? approximate : .exact
        self.axis = activation.takesAxis ? axis : -1
    }

    /// a = g(z) for a batch `z` of any shape; the output has the input's shape. Its
    /// derivative g'(z) is the factor of the δ recursion (``WrittenOutBackpropagation``).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        if activation.takesAxis {
            _ = requireShape { () throws(ShapeError) in
                try outputShape(forInput: Array(input.shape.dropFirst()), batched: input.shape)
            }
        }
        return activation.apply(input, negativeSlope: negativeSlope, approximate: approximate, axis: axis)
    }

    /// The function's name as PyTorch prints it (`ReLU`, `LeakyReLU(0.2)`, `Softmax(axis 1)`).
    public var summaryName: String {
        switch activation {
        case .identity: return "Identity"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .relu: return "ReLU"
        case .leakyReLU: return "LeakyReLU(\(negativeSlope))"
        case .gelu: return approximate == .exact ? "GELU" : "GELU(tanh)"
        case .softmax: return axis == -1 ? "Softmax" : "Softmax(axis \(axis))"
        case .logSoftmax: return axis == -1 ? "LogSoftmax" : "LogSoftmax(axis \(axis))"
        }
    }

    /// The input shape, unchanged; throws if a softmax's axis is outside a batch of these examples.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try outputShape(forInput: shape, batched: nil)
    }

    /// The shape, after checking that softmax's axis exists in a batch of `shape`
    /// (`batched` is the batch's shape, when called on one, for the message).
    private func outputShape(forInput shape: [Int], batched: [Int]?) throws(ShapeError) -> [Int] {
        guard activation.takesAxis else { return shape }
        let rank = shape.count + 1
        guard (-rank..<rank).contains(axis) else {
            let shown = batched.map { "\($0)" } ?? "\(shape) per example"
            throw ShapeError("\(summaryName): axis \(axis) is outside a batch of rank \(rank) (input \(shown))")
        }
        return shape
    }
}

/// g(z) = z: the output layer of a regression. Between two dense layers it makes them one
/// linear map (eqs. 2.8–2.12).
public final class Identity<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// The identity layer.
    public init() { super.init(.identity) }
}
/// σ(z) = 1/(1 + e⁻ᶻ), eq. 1.4: logistic regression's output, with σ' = σ(1 − σ).
public final class Sigmoid<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// The sigmoid layer.
    public init() { super.init(.sigmoid) }
}
/// tanh z = (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ), eq. 1.6, with tanh' = 1 − tanh².
public final class Tanh<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// The tanh layer.
    public init() { super.init(.tanh) }
}
/// max(z, 0), eq. 1.5: the housing example's kink; its derivative is 1 for z > 0, else 0.
public final class ReLU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// The ReLU layer.
    public init() { super.init(.relu) }
}
/// x for x ≥ 0, `negativeSlope`·x otherwise; PyTorch's `LeakyReLU(negative_slope)`.
public final class LeakyReLU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// A leaky ReLU with the given slope for negative inputs (0.01 by default, as PyTorch).
    public init(negativeSlope: Double = Activation.leakySlope) { super.init(.leakyReLU, negativeSlope: negativeSlope) }
}
/// x·Φ(x), exact by default; PyTorch's `GELU(approximate="none" | "tanh")`.
public final class GELU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// A GELU in the exact erf form (the default) or the tanh approximation.
    public init(approximate: GELUApproximation = .exact) { super.init(.gelu, approximate: approximate) }
}
/// Softmax along `axis` (with the batch axis as 0; by default the last: each example's
/// scores); PyTorch's `Softmax(dim)`.
public final class Softmax<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// A softmax over `axis` (the batch axis is 0; -1, the default, is each example's scores).
    public init(axis: Int = -1) { super.init(.softmax, axis: axis) }
}
/// Log-softmax along `axis`, xᵢ − log Σⱼ e^{xⱼ}, stable for large inputs; PyTorch's
/// `LogSoftmax(dim)`.
public final class LogSoftmax<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    /// A log-softmax over `axis` (the batch axis is 0; -1, the default, is each example's scores).
    public init(axis: Int = -1) { super.init(.logSoftmax, axis: axis) }
}
