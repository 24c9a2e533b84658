import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

/// Largest |a − b| over two equally long arrays (∞ when the lengths differ).
func maxAbsDifference<S: TensorScalar>(_ a: [S], _ b: [S]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs(Double($0) - Double($1)) }.max() ?? 0
}

/// Largest |a − b| / max(|a|, |b|, 1): relative for large values, absolute for small.
func maxRelativeDifference<S: TensorScalar>(_ a: [S], _ b: [S]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map {
        let (x, y) = (Double($0), Double($1))
        return Swift.abs(x - y) / Swift.max(Swift.abs(x), Swift.abs(y), 1)
    }.max() ?? 0
}

/// Seeded test inputs.
struct Inputs {
    var rng: RandomSource

    init(seed: UInt64) { rng = RandomSource(seed: seed) }

    mutating func normal(_ shape: [Int], _ sigma: Double = 1) -> Tensor<Double> {
        Tensor<Double>.randomNormal(shape, standardDeviation: sigma, using: &rng)
    }

    mutating func uniform(_ shape: [Int], _ low: Double, _ high: Double) -> Tensor<Double> {
        Tensor<Double>.randomUniform(shape, lowerBound: low, upperBound: high, using: &rng)
    }

    /// Values of magnitude at least `low`, of random sign: away from the kinks of
    /// ReLU-like functions, where finite differences would straddle the kink.
    mutating func awayFromZero(_ shape: [Int], low: Double = 0.1) -> Tensor<Double> {
        let values = Tensor<Double>.randomNormal(shape, using: &rng).scalars.map {
            ($0 < 0 ? -1.0 : 1.0) * (low + Swift.abs($0))
        }
        return Tensor(shape: shape, scalars: values)
    }
}

/// Gradient-checks `function` at `inputs` in Float64. A non-scalar result is reduced to
/// a scalar as Σ f(x) ∘ w with fixed random weights w (so that, e.g., softmax, whose
/// outputs sum to 1, still has a non-trivial gradient). Expects worst error < 1e-6.
func expectGradientsMatch(
    _ name: String, _ inputs: [Tensor<Double>], seed: UInt64 = 99,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: @escaping ([Tensor<Double>]) -> Tensor<Double>
) {
    let outputShape = withoutGradients { function(inputs).shape }
    var generator = RandomSource(seed: seed)
    let weights = Tensor<Double>.randomNormal(outputShape, using: &generator)
        / Double(Swift.max(outputShape.reduce(1, *), 1)).squareRoot()
    let result = GradientCheck.check(inputs) { xs in
        let y = function(xs)
        return y.count == 1 && y.rank == 0 ? y : (y * weights).sum()
    }
    #expect(result.worst < 1e-6, "\(name):\n\(result)", sourceLocation: sourceLocation)
}

/// Scalar sigmoid.
func sigmoidScalar(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

/// The rows of a matrix tensor.
func rows<S: TensorScalar>(_ t: Tensor<S>) -> [[S]] {
    precondition(t.rank == 2)
    let n = t.shape[1]
    return (0..<t.shape[0]).map { Array(t.scalars[($0 * n)..<(($0 + 1) * n)]) }
}

/// A parameter of a layer by name.
func parameter<L: Layer>(_ layer: L, _ name: String) -> Tensor<L.Scalar> {
    guard let found = layer.namedParameters.first(where: { $0.name == name }) else {
        preconditionFailure("no parameter \(name) in \(layer.namedParameters.map(\.name))")
    }
    return found.tensor
}

/// Replaces a parameter's values (keeping it a gradient-tracking leaf).
func setParameter<L: Layer>(_ layer: L, _ name: String, _ values: [L.Scalar]) {
    var found = false
    layer.visitParameters { n, p in
        if n == name { p.assign(values); found = true }
    }
    precondition(found, "no parameter \(name)")
}

/// Plain matrix product of row-major arrays, by loops: a is [m, k], b is [k, n].
func handMatmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
    return c
}

/// Expects each of `gradients` (in `model`'s parameter order) to match central finite
/// differences (h = 1e-6) of the mean squared error of `model(x)` against `y`, to a worst
/// relative error below 1e-6 per parameter; the parameters are restored after.
func expectMatchesFiniteDifferences(
    _ gradients: [Tensor<Double>], of model: Sequential<Double>, x: Tensor<Double>, y: Tensor<Double>,
    _ label: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    let h = 1e-6
    for (index, name) in model.namedParameters.map(\.name).enumerated() {
        let original = parameter(model, name).scalars
        var worst = 0.0
        for i in original.indices {
            func loss(_ value: Double) -> Double {
                var changed = original
                changed[i] = value
                setParameter(model, name, changed)
                return withoutGradients { meanSquaredError(predictions: model(x), targets: y) }.scalar
            }
            let numeric = (loss(original[i] + h) - loss(original[i] - h)) / (2 * h)
            worst = max(worst, GradientCheck.relativeError(gradients[index].scalars[i], numeric))
        }
        setParameter(model, name, original)
        #expect(worst < 1e-6, "\(label)\(name): worst relative error \(worst)", sourceLocation: sourceLocation)
    }
}
