// Vectorisation: a layer's activations for a whole batch, computed by loops over the
// examples and the units, by a loop over the examples with one matrix–vector product each,
// and by one matrix product for the whole batch, are the same numbers; the matrix form
// is much faster. Deep Learning notes, section 2 (eqs. 2.1–2.6) and 2.2 (eqs. 2.13–2.14;
// with examples in rows, Z = X·Wᵀ + b).
//
//     swift run -c release example-vectorisation [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-vectorisation")

print("claim: a layer's activations a = σ(Wx + b) for every example are the same by loops and by one matrix product,"
    + " and the matrix form is faster (notes, Deep Learning §2, eqs. 2.1–2.6, 2.13–2.14)")

let (m, n, units) = small ? (1024, 256, 128) : (4096, 512, 256)
var random = RandomSource(seed: 4)
let x = Tensor<Double>.randomNormal([m, n], using: &random)
let w = Tensor<Double>.randomNormal([units, n], standardDeviation: 1 / Double(n).squareRoot(), using: &random)
let b = Tensor<Double>.randomNormal([units], using: &random)
print("sizes: \(m) examples x⁽ⁱ⁾ ∈ ℝ^\(n), \(units) units, W ∈ ℝ^\(units)×\(n), Float64, one BLAS thread")

// 1. Loops over examples and units: z_j⁽ⁱ⁾ = W_jᵀx⁽ⁱ⁾ + b_j, a_j⁽ⁱ⁾ = σ(z_j⁽ⁱ⁾) (eqs. 2.1–2.3).
@MainActor
func byLoops() -> [Double] {
    let (xs, ws, bs) = (x.scalars, w.scalars, b.scalars)
    var a = [Double](repeating: 0, count: m * units)
    for i in 0..<m {
        for j in 0..<units {
            var z = bs[j]
            for k in 0..<n { z += ws[j * n + k] * xs[i * n + k] }
            a[i * units + j] = 1 / (1 + exp(-z))
        }
    }
    return a
}

// 2. A loop over examples, each z⁽ⁱ⁾ = W x⁽ⁱ⁾ + b one matrix–vector product (eq. 2.4) and
// a⁽ⁱ⁾ = σ(z⁽ⁱ⁾) applied to the vector (eq. 2.6).
@MainActor
func byExample() -> [Double] {
    withoutGradients {
        (0..<m).flatMap { i in
            Tensor.linear(x.slice(alongAxis: 0, i..<(i + 1)), weight: w, bias: b).sigmoid().scalars
        }
    }
}

// 3. One matrix product for the whole batch: Z = X·Wᵀ + b, A = σ(Z) (eq. 2.14).
@MainActor
func byMatrix() -> [Double] {
    withoutGradients { Tensor.linear(x, weight: w, bias: b).sigmoid().scalars }
}

/// The fastest of `repeats` runs, in seconds, and the result.
func timed(_ repeats: Int, _ body: () -> [Double]) -> (seconds: Double, result: [Double]) {
    var best = Double.infinity, result: [Double] = []
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        result = body()
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    return (best, result)
}

let loops = timed(3) { byLoops() }, examples = timed(3) { byExample() }, matrix = timed(5) { byMatrix() }
func largestDifference(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max()! }
let loopsDifference = largestDifference(loops.result, matrix.result)
let examplesDifference = largestDifference(examples.result, matrix.result)
print(String(format: "largest |a(loops) − a(matrix)|: %.1e", loopsDifference))
print(String(format: "largest |a(loop over examples) − a(matrix)|: %.1e", examplesDifference))
let flops = 2.0 * Double(m * n * units)
for (name, seconds) in [("loops over examples and units", loops.seconds), ("loop over examples, W·x⁽ⁱ⁾ each", examples.seconds),
                        ("one matrix product X·Wᵀ", matrix.seconds)] {
    print("time: \(name): " + String(format: "%.2f ms (%.2f GFLOP/s, %.1f× the matrix form's time)",
                                       seconds * 1e3, flops / seconds / 1e9, seconds / matrix.seconds))
}

// The bounds are well below what is measured (10–20× and 2.4–4× on a busy 2-core EPYC),
// so that a loaded machine does not fail them.
conclude("the three forms agree to 1e-12; the matrix form is at least 2× faster than the loops over examples and"
    + " units, and faster than the loop of matrix–vector products", [
    ("loops agree to 1e-12", loopsDifference <= 1e-12),
    ("loop over examples agrees to 1e-12", examplesDifference <= 1e-12),
    ("at least 2× faster than the loops", loops.seconds >= 2 * matrix.seconds),
    ("faster than the loop over examples", examples.seconds > matrix.seconds),
])
