// Logistic regression is one neuron: Dense(n → 1) then a sigmoid, trained on the log loss,
// takes exactly the steps of logistic regression's gradient descent written out by hand.
// Deep Learning notes, section 1 (Figure 3: z = wᵀx + b, a = σ(z)), eq. 3.9 (log loss)
// and eq. 3.21 (∂L/∂w = (a − y)x).
//
//     swift run -c release example-logistic-neuron [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-logistic-neuron")

print("claim: Dense(n → 1) + Sigmoid trained with binary cross-entropy is logistic regression:"
    + " the same weights as gradient descent on the log loss written out by hand"
    + " (notes, Deep Learning §1, Figure 3; eqs. 3.9, 3.21)")

// Two Gaussian clouds in 3 features (the notes' x₁, x₂, x₃), centred at ±(1, −1, 0.5).
let (m, n, steps, alpha) = (small ? 100 : 1000, 3, small ? 200 : 1000, 0.5)
var random = RandomSource(seed: 3)
let labels = (0..<m).map { $0 % 2 }
let centre: [Double] = [1, -1, 0.5]
let noise = Tensor<Double>.randomNormal([m, n], using: &random).scalars
let features = (0..<m * n).map { noise[$0] + (labels[$0 / n] == 1 ? 1 : -1) * centre[$0 % n] }
let x = Tensor<Double>(shape: [m, n], scalars: features)
let y = Tensor<Double>(shape: [m, 1], scalars: labels.map(Double.init))
print("data: \(m) examples, \(n) features, two classes; \(steps) full-batch steps of α = \(alpha), weights from zero")

// 1. The library: a neuron trained on J = (1/m) Σ L(σ(wᵀx + b), y).
let neuron = Sequential<Double> {
    Dense<Double>(inputSize: n, outputSize: 1, weightInitializer: .zeros, biasInitializer: .zeros)
    Sigmoid<Double>()
}
var optimizer = try SGD<Double>(learningRate: alpha)
for _ in 0..<steps {
    binaryCrossEntropy(probabilities: neuron(x), targets: y).backward()
    optimizer.step(neuron)
}
let neuronWeights = neuron.namedParameters[0].tensor.scalars + neuron.namedParameters[1].tensor.scalars

// 2. By hand, plain arrays: θ ← θ − α (1/m) Σᵢ (σ(θᵀx⁽ⁱ⁾ + b) − y⁽ⁱ⁾) x⁽ⁱ⁾, b likewise.
var theta = [Double](repeating: 0, count: n), bias = 0.0
func sigma(_ z: Double) -> Double { 1 / (1 + exp(-z)) }
for _ in 0..<steps {
    var gradient = [Double](repeating: 0, count: n), gradientB = 0.0
    for i in 0..<m {
        var z = bias
        for j in 0..<n { z += theta[j] * features[i * n + j] }
        let error = sigma(z) - Double(labels[i])  // a − y
        for j in 0..<n { gradient[j] += error * features[i * n + j] / Double(m) }
        gradientB += error / Double(m)
    }
    for j in 0..<n { theta[j] -= alpha * gradient[j] }
    bias -= alpha * gradientB
}
let handWeights = theta + [bias]

func list(_ values: [Double]) -> String { values.map { String(format: "%.6f", $0) }.joined(separator: ", ") }
print("neuron (w₁, w₂, w₃, b):  \(list(neuronWeights))")
print("by hand (θ₁, θ₂, θ₃, b): \(list(handWeights))")
let difference = zip(neuronWeights, handWeights).map { abs($0 - $1) }.max()!
let largest = handWeights.map(abs).max()!
print(String(format: "largest difference: %.1e (relative to the largest weight: %.1e)", difference, difference / largest))
let probabilities = neuron.predict(x).scalars
let accuracy = Double(zip(probabilities, labels).filter { ($0 >= 0.5) == ($1 == 1) }.count) / Double(m)
let loss = binaryCrossEntropy(probabilities: neuron.predict(x), targets: y).scalar
print(String(format: "training log loss %.4f, accuracy %.3f", loss, accuracy))

conclude("the neuron's weights equal logistic regression's to 1e-12 relative, and it learned (accuracy ≥ 0.8)", [
    ("weights equal to 1e-12 relative", difference <= 1e-12 * largest),
    ("accuracy ≥ 0.8", accuracy >= 0.8),
])
