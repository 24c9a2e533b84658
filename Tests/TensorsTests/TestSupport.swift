import Testing
@testable import Tensors

/// Largest |a − b| over two equally long arrays (∞ when the lengths differ).
func maxAbsDifference<S: TensorScalar>(_ a: [S], _ b: [S]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs(Double($0) - Double($1)) }.max() ?? 0
}

/// Largest |a − b| / max(|a|, |b|, 1) (relative for large values, absolute for small).
func maxRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs($0 - $1) / Swift.max(Swift.abs($0), Swift.abs($1), 1) }.max() ?? 0
}

/// Small helpers around a seeded generator for building test inputs.
struct Inputs {
    var rng: RandomSource

    init(seed: UInt64) { rng = RandomSource(seed: seed) }

    /// Standard normal values.
    mutating func normal(_ shape: [Int]) -> Tensor<Double> {
        Tensor<Double>.randomNormal(shape, using: &rng)
    }

    /// Values whose magnitude is in [low, low + spread·|N(0,1)|], of random sign (or positive
    /// only): kept away from 0, for kinks (relu, abs) and denominators.
    mutating func awayFromZero(_ shape: [Int], low: Double = 0.1, positive: Bool = false) -> Tensor<Double> {
        let magnitudes = Tensor<Double>.randomNormal(shape, using: &rng).scalars.map { low + Swift.abs($0) }
        let signs = (0..<magnitudes.count).map { _ in positive || rng.next() & 1 == 0 ? 1.0 : -1.0 }
        return Tensor(shape: shape, scalars: zip(magnitudes, signs).map { $0 * $1 })
    }

    /// Uniform in [low, high).
    mutating func uniform(_ shape: [Int], _ low: Double, _ high: Double) -> Tensor<Double> {
        Tensor<Double>.randomUniform(shape, lowerBound: low, upperBound: high, using: &rng)
    }

    /// An integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(rng.next() % UInt64(range.count))
    }

    /// Matrix shapes to try: one element, a row, a column, a non-square matrix, and two
    /// random ones.
    mutating func matrixShapes() -> [[Int]] {
        [[1, 1], [1, 4], [3, 1], [2, 3], [int(1...4), int(1...5)], [int(2...5), int(1...3)]]
    }
}

/// Seeds used by the randomised checks; each failure message names its seed.
let testSeeds: [UInt64] = [1, 29, 20_240_601]

/// Gradient-checks `function` at `inputs`: a non-scalar result is reduced to a scalar as
/// `(f(x) ∘ w).sum()` with a fixed random `w`, so every output element has its own weight.
/// Expects the worst relative error to be below 1e-6.
func expectGradientsMatch(
    _ name: String, seed: UInt64, _ inputs: [Tensor<Double>],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: @escaping ([Tensor<Double>]) -> Tensor<Double>
) {
    let outputShape = withoutGradients { function(inputs).shape }
    var weights = RandomSource(seed: seed &+ 0x5EED)
    // Weights of size 1/√count keep the checked scalar O(1): the round-off of f(x ± h),
    // divided by 2h, then stays far below the 1e-6 bound even for gradient entries under
    // the checker's 1e-3 absolute floor.
    let w = Tensor<Double>.randomNormal(outputShape, using: &weights)
        / Double(Swift.max(outputShape.reduce(1, *), 1)).squareRoot()
    let result = GradientCheck.check(inputs) { (function($0) * w).sum() }
    let shapes = inputs.map { "\($0.shape)" }.joined(separator: ", ")
    #expect(result.worst < 1e-6,
            "\(name) on \(shapes), seed \(seed):\n\(result)", sourceLocation: sourceLocation)
}
