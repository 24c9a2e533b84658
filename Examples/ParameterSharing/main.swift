// Parameter sharing: a pattern detector trained with the pattern only on the left of the
// image. A convolution slides the same 3×3 weights over every position and a global
// max-pool takes the best match anywhere, so it finds the pattern on the right too; a
// dense network gives every pixel its own weights, and those on the right never learned.
// Deep Learning notes, section 3.3.2 (Parameter sharing, eq. 3.39).
//
//     swift run -c release example-parameter-sharing [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-parameter-sharing")

print("claim: trained with the pattern only at some positions, a convolution with global max-pooling finds it at"
    + " unseen positions (accuracy ≥ 0.9) and a dense network does not (notes, Deep Learning §3.3.2, eq. 3.39)")

// 12×12 images with a little noise and one 3×3 pattern: an X (class 1) or a + (class 0),
// the same five pixels lit in each, so only their arrangement tells them apart.
let size = 12
let cross: [(Int, Int)] = [(0, 0), (0, 2), (1, 1), (2, 0), (2, 2)]
let plus: [(Int, Int)] = [(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)]

/// `count` images with the pattern's left column in `columns` (any row), half of each class.
@MainActor
func images(_ count: Int, columns: ClosedRange<Int>, seed: UInt64) throws -> Dataset<Float> {
    var random = RandomSource(seed: seed)
    var pixels = Tensor<Float>.randomNormal([count, 1, size, size], standardDeviation: 0.1, using: &random).scalars
    var labels: [Int] = []
    for i in 0..<count {
        let label = i % 2
        let row = Int(random.next() % UInt64(size - 2))
        let column = columns.lowerBound + Int(random.next() % UInt64(columns.count))
        for (r, c) in label == 1 ? cross : plus { pixels[i * size * size + (row + r) * size + column + c] += 1 }
        labels.append(label)
    }
    return try Dataset(features: Tensor(shape: [count, 1, size, size], scalars: pixels),
                       targets: .labels(labels, classes: 2))
}
let (trainingCount, epochs) = small ? (1000, 10) : (4000, 20)
let training = try images(trainingCount, columns: 0...3, seed: 14)
let seen = try images(1000, columns: 0...3, seed: 15)
let unseen = try images(1000, columns: 6...9, seed: 16)
print("data: \(trainingCount) training images \(size)×\(size), X or + with its left column in 0–3 (pixel columns 0–5);"
    + " tests: 1000 new images at those columns, 1000 with the left column in 6–9 (pixel columns 6–11, never seen)")

let convolution = Sequential<Float>(seed: 17) {
    Conv2D<Float>(inputChannels: 1, outputChannels: 8, kernelSize: 3)  // θ slid over the image (eq. 3.39)
    ReLU<Float>()
    MaxPool2D<Float>(kernelSize: size - 2)  // global max-pool: the best match anywhere
    Flatten<Float>()
    Dense<Float>(inputSize: 8, outputSize: 1)
    Sigmoid<Float>()
}
let dense = Sequential<Float>(seed: 17) {
    Flatten<Float>()
    Dense<Float>(inputSize: size * size, outputSize: 16)
    ReLU<Float>()
    Dense<Float>(inputSize: 16, outputSize: 1)
    Sigmoid<Float>()
}

var accuracies: [(seen: Double, unseen: Double)] = []
for (name, model) in [("convolution 8×3×3 + global max-pool", convolution), ("dense 144 → 16 → 1", dense)] {
    var optimizer = try Adam<Float>(learningRate: 0.01)
    let configuration = try FitConfiguration(epochs: epochs, batchSize: .examples(32), loss: .binaryCrossEntropy, seed: 18)
    let history = try fit(model, optimizer: &optimizer, data: training, configuration: configuration)
    let onSeen = try evaluate(model, on: seen, loss: .binaryCrossEntropy).accuracy!
    let onUnseen = try evaluate(model, on: unseen, loss: .binaryCrossEntropy).accuracy!
    let trainingAccuracy = history.epochs.last!.training.accuracy!
    print("\(name) (\(model.parameterCount) parameters): " + String(format: "accuracy in training (last epoch) %.3f,"
        + " at seen positions %.3f, at unseen positions %.3f", trainingAccuracy, onSeen, onUnseen))
    accuracies.append((onSeen, onUnseen))
}

let (conv, mlp) = (accuracies[0], accuracies[1])
conclude("both networks learn the seen positions (≥ 0.9), only the convolution generalises to unseen ones"
    + " (≥ 0.9; the dense network ≤ 0.75)", [
    ("convolution ≥ 0.9 at seen positions", conv.seen >= 0.9),
    ("dense ≥ 0.9 at seen positions", mlp.seen >= 0.9),
    ("convolution ≥ 0.9 at unseen positions", conv.unseen >= 0.9),
    ("dense ≤ 0.75 at unseen positions", mlp.unseen <= 0.75),
])
