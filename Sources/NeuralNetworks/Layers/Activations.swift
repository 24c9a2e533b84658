import Tensors

/// The activation functions g of the notes (eqs. 1.4–1.6) and a few more.
public enum Activation: String, Sendable, Hashable, Codable, CaseIterable {
    case identity, sigmoid, tanh, relu, leakyReLU, gelu, softmax

    /// The slope of ``leakyReLU`` for negative inputs (PyTorch's default).
    public static let leakySlope = 0.01

    /// g applied to a batch; softmax is taken over the last axis (each example's scores).
    public func apply<S: TensorScalar>(_ z: Tensor<S>) -> Tensor<S> {
        switch self {
        case .identity: return z
        case .sigmoid: return z.sigmoid()
        case .tanh: return z.tanh()
        case .relu: return z.relu()
        case .leakyReLU: return z.leakyReLU(slope: S(Self.leakySlope))
        case .gelu:
            // GELU, tanh form (PyTorch's approximate="tanh"):
            // ½z(1 + tanh(√(2/π)(z + 0.044715z³))).
            let inner = (z + z.pow(3) * S(0.044715)) * S((2.0 / Double.pi).squareRoot())
            return z * (inner.tanh() + 1) * S(0.5)
        case .softmax: return z.softmax(alongAxis: -1)
        }
    }
}

/// A layer that applies an activation elementwise (softmax: per example).
public class ActivationLayer<Scalar: TensorScalar>: Layer {
    public let activation: Activation

    public init(_ activation: Activation) {
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        activation.apply(input)
    }

    public var summaryName: String {
        switch activation {
        case .identity: return "Identity"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .relu: return "ReLU"
        case .leakyReLU: return "LeakyReLU(0.01)"
        case .gelu: return "GELU"
        case .softmax: return "Softmax"
        }
    }

    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] { shape }
}

public final class Identity<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.identity) }
}
public final class Sigmoid<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.sigmoid) }
}
public final class Tanh<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.tanh) }
}
public final class ReLU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.relu) }
}
public final class LeakyReLU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.leakyReLU) }
}
public final class GELU<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.gelu) }
}
/// Softmax over each example's scores (the last axis).
public final class Softmax<Scalar: TensorScalar>: ActivationLayer<Scalar> {
    public init() { super.init(.softmax) }
}
