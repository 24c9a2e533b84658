// The δ recursion written out with tensor operations gives the same gradients as the
// library's automatic differentiation. Backpropagation notes, section 2 (the three-step
// recipe); Deep Learning notes, section 3.2 (eqs. 3.21, 3.30), on the notes' network
// n → 3 → 2 → 1 with sigmoids (eqs. 3.1–3.6) and the log loss (eq. 3.9).
//
//     swift run -c release example-delta-recursion [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-delta-recursion")

print("claim: the δ recursion δ[ℓ] = (W[ℓ+1]ᵀδ[ℓ+1]) ∘ g'(z[ℓ]), ∇W[ℓ] = δ[ℓ]a[ℓ−1]ᵀ, ∇b[ℓ] = δ[ℓ] gives autodiff's"
    + " gradients, in Float64 to 1e-12 relative (backpropagation notes §2; Deep Learning notes §3.2, eqs. 3.21, 3.30)")

let (m, n) = small ? (8, 16) : (32, 64)
let sizes = [n, 3, 2, 1]
let model = Sequential<Double>(seed: 5) {
    Dense<Double>(inputSize: n, outputSize: 3, biasInitializer: .normal(standardDeviation: 0.5))
    Sigmoid<Double>()
    Dense<Double>(inputSize: 3, outputSize: 2, biasInitializer: .normal(standardDeviation: 0.5))
    Sigmoid<Double>()
    Dense<Double>(inputSize: 2, outputSize: 1, biasInitializer: .normal(standardDeviation: 0.5))
    Sigmoid<Double>()
}
var random = RandomSource(seed: 6)
let x = Tensor<Double>.randomNormal([m, n], using: &random)
let y = Tensor<Double>(shape: [m, 1], scalars: (0..<m).map { Double($0 % 2) })
print("network: \(sizes.map(String.init).joined(separator: " → ")), sigmoid after each layer, log loss averaged over"
    + " m = \(m) examples (examples in rows: Z[ℓ] = A[ℓ−1]·W[ℓ]ᵀ + b[ℓ])")

// Autodiff: J = (1/m) Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾), backward from J.
binaryCrossEntropy(probabilities: model(x), targets: y).backward()
let parameters = model.namedParameters
let autodiff = parameters.map { $0.tensor.gradient! }
let weights = stride(from: 0, to: parameters.count, by: 2).map { parameters[$0].tensor.detached() }
let biases = stride(from: 1, to: parameters.count, by: 2).map { parameters[$0].tensor.detached() }

// By hand, nothing recorded.
let byHand: [Tensor<Double>] = withoutGradients {
    // Forward (eqs. 3.1–3.6), keeping every a[ℓ]; a[0] = x.
    var activations = [x]
    for l in 0..<3 {
        activations.append(Tensor.linear(activations[l], weight: weights[l], bias: biases[l]).sigmoid())
    }
    // Step 1: δ[3] = ∇_z[3] L = a[3] − y for the sigmoid with the log loss (eq. 3.21),
    // one row per example, divided by m for the average.
    var delta = (activations[3] - y) / Double(m)
    var gradients: [Tensor<Double>] = []
    for l in stride(from: 2, through: 0, by: -1) {
        // Step 3: ∇W[ℓ] = δ[ℓ]a[ℓ−1]ᵀ and ∇b[ℓ] = δ[ℓ], summed over the examples.
        gradients.insert(delta.sum(alongAxis: 0), at: 0)
        gradients.insert(Tensor.matmul(delta, transposed: true, activations[l]), at: 0)
        // Step 2: δ[ℓ−1] = (W[ℓ]ᵀδ[ℓ]) ∘ σ'(z[ℓ−1]), with σ' = a(1 − a); in rows, δ·W.
        if l > 0 {
            let a = activations[l]
            delta = Tensor.matmul(delta, weights[l]) * a * (1 - a)
        }
    }
    return gradients
}

/// ‖a − b‖∞ / ‖b‖∞.
func relativeError(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
    zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / b.scalars.map(abs).max()!
}
let names = ["∇W[1]", "∇b[1]", "∇W[2]", "∇b[2]", "∇W[3]", "∇b[3]"]
var worst = 0.0
for (index, name) in names.enumerated() {
    let error = relativeError(byHand[index], autodiff[index])
    worst = max(worst, error)
    print("\(name) \(autodiff[index].shape): ‖hand − autodiff‖∞ / ‖autodiff‖∞ = " + String(format: "%.1e", error))
}
print(String(format: "largest relative difference, δ recursion against autodiff: %.1e", worst))

// A third opinion: central differences on J, each parameter element moved by ±10⁻⁶.
let numeric = GradientCheck.checkParameters(of: model) { binaryCrossEntropy(probabilities: $0(x), targets: y) }
let numericWorst = numeric.map(\.maximumRelativeError).max()!
print(String(format: "largest relative difference, autodiff against central differences: %.1e", numericWorst))

conclude("the δ recursion and autodiff give the same gradients to 1e-12 relative (and central differences agree to 1e-6)", [
    ("δ recursion = autodiff to 1e-12", worst <= 1e-12),
    ("central differences agree to 1e-6", numericWorst <= 1e-6),
])
