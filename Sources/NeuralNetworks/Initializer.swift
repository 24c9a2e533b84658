import Tensors

/// How a parameter's first values are drawn, from the seeded generator.
///
/// Notes, section 3.1: zeros (or any constant) keep every unit of a layer identical
/// (symmetry); small random values break it; Xavier/Glorot (eq. 3.13) scales the
/// variance by fan-in and fan-out, He by fan-in (for ReLU).
public enum Initializer: Sendable, Hashable, Codable {
    /// Every value 0: with zero weights every unit of a layer computes the same thing and
    /// receives the same gradient (the symmetry of the notes' section 3.1). Fine for biases.
    case zeros
    /// Every value equal to the given constant; breaks no symmetry either.
    case constant(Double)
    /// N(0, σ²); the notes' small random start is σ = 0.1.
    case normal(standardDeviation: Double)
    /// U(lowerBound, upperBound).
    case uniform(lowerBound: Double, upperBound: Double)
    /// N(0, 2/(fan_in + fan_out)), eq. 3.13.
    case xavierNormal
    /// U(±√(6/(fan_in + fan_out))).
    case xavierUniform
    /// N(0, 2/fan_in).
    case heNormal
    /// U(±√(6/fan_in)).
    case heUniform

    /// A tensor of `shape` for a parameter with the given fans.
    public func make<S: TensorScalar>(
        _ shape: [Int], fanIn: Int, fanOut: Int, using generator: inout RandomSource
    ) -> Tensor<S> {
        let fanSum = Double(max(fanIn + fanOut, 1)), fanIn = Double(max(fanIn, 1))
        switch self {
        case .zeros: return .zeros(shape)
        case .constant(let value): return Tensor(repeating: S(value), shape: shape)
        case .normal(let sigma): return normal(shape, sigma, &generator)
        case .uniform(let a, let b):
            return .randomUniform(shape, lowerBound: S(a), upperBound: S(b), using: &generator)
        case .xavierNormal: return normal(shape, (2 / fanSum).squareRoot(), &generator)
        case .xavierUniform: return uniform(shape, (6 / fanSum).squareRoot(), &generator)
        case .heNormal: return normal(shape, (2 / fanIn).squareRoot(), &generator)
        case .heUniform: return uniform(shape, (6 / fanIn).squareRoot(), &generator)
        }
    }

    private func normal<S: TensorScalar>(_ shape: [Int], _ sigma: Double, _ g: inout RandomSource) -> Tensor<S> {
        .randomNormal(shape, mean: 0, standardDeviation: S(sigma), using: &g)
    }

    private func uniform<S: TensorScalar>(_ shape: [Int], _ bound: Double, _ g: inout RandomSource) -> Tensor<S> {
        .randomUniform(shape, lowerBound: S(-bound), upperBound: S(bound), using: &g)
    }

    /// The usual choice before an activation: He for ReLU-like units, Xavier otherwise.
    public static func recommended(for activation: Activation) -> Initializer {
        switch activation {
        case .relu, .leakyReLU, .gelu: return .heNormal
        case .sigmoid, .tanh, .identity, .softmax, .logSoftmax: return .xavierNormal
        }
    }
}
