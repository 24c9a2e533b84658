// Over-fitting and L2 regularisation: a network much larger than its small, noisy
// training set fits the noise (training error far below test error); the same network
// trained with L2 (weight decay, W ← (1 − αλ)W − α∂J/∂W) keeps smaller weights and
// predicts new data better. Deep Learning notes, section 3.3 and 3.3.1 (eqs. 3.34–3.38).
//
//     swift run -c release example-l2-regularisation [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-l2-regularisation")

print("claim: a network over-fits a small noisy training set (training error ≪ test error); with L2 its weights"
    + " are smaller and its test error lower (notes, Deep Learning §3.3.1, eqs. 3.34–3.38)")

// y = sin(πx) + N(0, 0.3²) on [−1, 1]: 15 training points, 1000 test points.
let (trainingCount, testCount, noise) = (15, 1000, 0.3)
@MainActor
func samples(_ count: Int, seed: UInt64) -> (x: Tensor<Double>, y: Tensor<Double>) {
    var random = RandomSource(seed: seed)
    let x = Tensor<Double>.randomUniform([count, 1], lowerBound: -1, upperBound: 1, using: &random)
    let e = Tensor<Double>.randomNormal([count, 1], standardDeviation: noise, using: &random)
    return (x, Tensor(shape: [count, 1], scalars: zip(x.scalars, e.scalars).map { sin(Double.pi * $0) + $1 }))
}
let (x, y) = samples(trainingCount, seed: 19)
let (testX, testY) = samples(testCount, seed: 20)
let (steps, lambda) = (small ? 4000 : 20000, 1e-3)
print("data: y = sin(πx) + N(0, \(noise)²), x in [−1, 1]; \(trainingCount) training points, \(testCount) test points;"
    + " network 1 → 64 → 64 → 1 (tanh), squared error, \(steps) full-batch steps, α = 0.05, momentum 0.9")
print(String(format: "the noise alone gives a mean squared error of σ² = %.3f on new data", noise * noise))

var results: [(train: Double, test: Double, norm: Double)] = []
for weightDecay in [0, lambda] {
    let model = Sequential<Double>(seed: 21) {
        Dense<Double>(inputSize: 1, outputSize: 64)
        Tanh<Double>()
        Dense<Double>(inputSize: 64, outputSize: 64)
        Tanh<Double>()
        Dense<Double>(inputSize: 64, outputSize: 1)
    }
    // With λ > 0 the optimiser adds λW to each weight's gradient: eq. 3.38's (1 − αλ)W.
    var optimizer = try SGD<Double>(learningRate: 0.05, momentum: 0.9, weightDecay: weightDecay)
    for _ in 0..<steps {
        meanSquaredError(predictions: model(x), targets: y).backward()
        optimizer.step(model)
    }
    let train = meanSquaredError(predictions: model.predict(x), targets: y).scalar
    let test = meanSquaredError(predictions: model.predict(testX), targets: testY).scalar
    let norm = model.namedParameters.filter { $0.name.hasSuffix("weight") }
        .flatMap(\.tensor.scalars).map { $0 * $0 }.reduce(0, +).squareRoot()
    let name = weightDecay == 0 ? "no regularisation:" : String(format: "L2, λ = %.0e:", weightDecay)
    print(name.padding(toLength: 19, withPad: " ", startingAt: 0)
        + String(format: "training MSE %.4f, test MSE %.4f (test / training %.1f), ‖W‖ = %.2f", train, test, test / train, norm))
    results.append((train, test, norm))
}

let (plain, l2) = (results[0], results[1])
conclude("without regularisation the network over-fits (test MSE over 3× the training MSE); with L2 the weights"
    + " are smaller and the test MSE lower", [
    ("over-fitting: test MSE > 3 × training MSE", plain.test > 3 * plain.train),
    ("L2 makes ‖W‖ smaller", l2.norm < plain.norm),
    ("L2 lowers the test MSE", l2.test < plain.test),
])
