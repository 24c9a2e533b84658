// Gradient descent, stochastic gradient descent, mini-batches and momentum, given the
// same data, the same learning rate and the same number of passes over the data.
// Deep Learning notes, section 3.2 (eqs. 3.10–3.11 SGD, 3.31 GD, 3.32 mini-batch,
// 3.33 momentum).
//
//     swift run -c release example-gradient-descent [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-gradient-descent")

print("claim: for the same passes over the data, stochastic and mini-batch gradient descent reach a lower loss"
    + " than full-batch gradient descent, and momentum (v = βv + g) a lower loss than plain gradient descent with the same α"
    + " and steps"
    + " (notes, Deep Learning §3.2, eqs. 3.10, 3.31–3.33)")

let (samples, epochs, alpha, beta) = (small ? 300 : 1000, small ? 10 : 30, 0.1, 0.9)
let data = try ToyData.dataset("moons", samples: samples, seed: 11)
print("data: toy moons, \(samples) points; network 2 → 16 → 16 → 2, tanh, softmax cross-entropy; α = \(alpha)"
    + " for every method, \(epochs) passes over the data each (\(epochs * samples) examples seen)")

let methods: [(name: String, batch: FitConfiguration.BatchSize, momentum: SGD<Float>.MomentumForm?)] = [
    ("gradient descent (batch \(samples))", .full, nil),
    ("GD + momentum, notes' form (eq. 3.33)", .full, .notes),
    ("GD + momentum, v = βv + g", .full, .classical),
    ("mini-batch gradient descent (batch 32)", .examples(32), nil),
    ("stochastic gradient descent (batch 1)", .examples(1), nil),
]
let shown = [1, 2, 5, 10, 20, 30].filter { $0 <= epochs }
print("loss on the training set after epoch " + shown.map { String(format: "%7d", $0) }.joined()
    + "   updates")
var finalLoss: [Double] = []
for method in methods {
    let model = Sequential<Float>(seed: 12) {
        Dense<Float>(inputSize: 2, outputSize: 16)
        Tanh<Float>()
        Dense<Float>(inputSize: 16, outputSize: 16)
        Tanh<Float>()
        Dense<Float>(inputSize: 16, outputSize: 2)
        Softmax<Float>()
    }
    var optimizer = try SGD<Float>(learningRate: alpha, momentum: method.momentum == nil ? 0 : beta,
                                   momentumForm: method.momentum ?? .classical)
    let configuration = try FitConfiguration(epochs: epochs, batchSize: method.batch, loss: .crossEntropy, seed: 13)
    // The same data as validation: its loss is measured after each epoch's last update.
    let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration, validationData: data)
    let losses = history.epochs.map { $0.validation!.loss }
    let batch = configuration.largestBatch(of: data.count)
    let updates = epochs * ((data.count + batch - 1) / batch)
    print(method.name.padding(toLength: 40, withPad: " ", startingAt: 0)
        + shown.map { String(format: "%7.4f", losses[$0 - 1]) }.joined() + String(format: "%10d", updates))
    finalLoss.append(losses.last!)
}

print("(the notes' form v = βv + (1 − β)g starts with steps of (1 − β)α; with α/(1 − β) it is exactly v = βv + g)")
let (gd, notesMomentum, momentum, miniBatch, sgd) = (finalLoss[0], finalLoss[1], finalLoss[2], finalLoss[3], finalLoss[4])
print(String(format: "final loss relative to gradient descent: notes' momentum %.2f, momentum %.2f, mini-batch %.2f, SGD %.2f",
             notesMomentum / gd, momentum / gd, miniBatch / gd, sgd / gd))
conclude("after the same passes, SGD, mini-batch and momentum v = βv + g (same α, same steps) each reach a loss"
    + " at least 10 % lower than gradient descent's", [
    ("SGD under 0.9 of GD's loss", sgd < 0.9 * gd),
    ("mini-batch under 0.9 of GD's loss", miniBatch < 0.9 * gd),
    ("momentum under 0.9 of GD's loss", momentum < 0.9 * gd),
])
