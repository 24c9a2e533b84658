// Symmetry: started from all-zero or all-equal weights, the hidden units of a layer get
// the same gradient at every step and stay identical however long they train, so the
// network is no wider than one unit per layer; random initial weights break the symmetry.
// Deep Learning notes, section 3.1 (Parameter initialization, eq. 3.12).
//
//     swift run -c release example-symmetry [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-symmetry")

print("claim: from all-zero or all-equal weights the hidden units of a layer stay identical through training;"
    + " from random weights they differ and fit better (notes, Deep Learning §3.1, eq. 3.12)")

let (samples, steps, width) = (small ? 200 : 800, small ? 600 : 2000, 8)
// Circles, with every point of class 1 (inside) and every second one of class 0: with
// balanced classes a network started from zeros would get no gradient at all (ŷ = ½ for
// every x, and the errors ŷ − y cancel), which would make its symmetry trivial.
let circles = try ToyData.dataset("circles", samples: samples, seed: 7)
guard case .classes(let allLabels, _) = circles.targets else { fatalError("circles has classes") }
let kept = allLabels.indices.filter { allLabels[$0] == 1 || $0 % 2 == 0 }
let labels = kept.map { allLabels[$0] }
let x = circles.features.gatheringRows(kept).converted(to: Double.self)
let y = Tensor<Double>(shape: [kept.count, 1], scalars: labels.map(Double.init))
print("data: toy circles, \(kept.count) points in 2-D, \(labels.filter { $0 == 1 }.count) of class 1 (inside);"
    + " network 2 → \(width) → \(width) → 1, sigmoids, log loss, \(steps) full-batch steps of gradient descent"
    + " with momentum (α = 0.5, β = 0.9)")

/// The network with every weight and bias drawn from `initializer`.
@MainActor
func network(_ initializer: Initializer) -> Sequential<Double> {
    Sequential<Double>(seed: 8) {
        Dense<Double>(inputSize: 2, outputSize: width, weightInitializer: initializer, biasInitializer: initializer)
        Sigmoid<Double>()
        Dense<Double>(inputSize: width, outputSize: width, weightInitializer: initializer, biasInitializer: initializer)
        Sigmoid<Double>()
        Dense<Double>(inputSize: width, outputSize: 1, weightInitializer: initializer, biasInitializer: initializer)
        Sigmoid<Double>()
    }
}

/// The largest difference between any row of a `[units, inputs]` weight and its first row:
/// zero when every unit of the layer computes the same function.
func spread(_ weight: Tensor<Double>) -> Double {
    let inputs = weight.shape[1], s = weight.scalars
    return (0..<s.count).map { abs(s[$0] - s[$0 % inputs]) }.max()!
}

var results: [(name: String, spread: Double, moved: Double, loss: Double)] = []
for (name, initializer) in [("zeros", Initializer.zeros), ("all 0.5", .constant(0.5)),
                            ("random N(0, 1)", .normal(standardDeviation: 1))] {
    let model = network(initializer)
    let initial = model.namedParameters[0].tensor.scalars
    var optimizer = try SGD<Double>(learningRate: 0.5, momentum: 0.9)
    for _ in 0..<steps {
        binaryCrossEntropy(probabilities: model(x), targets: y).backward()
        optimizer.step(model)
    }
    let parameters = model.namedParameters
    let layerSpread = max(spread(parameters[0].tensor), spread(parameters[2].tensor))
    let moved = zip(parameters[0].tensor.scalars, initial).map { abs($0 - $1) }.max()!
    let probabilities = model.predict(x).scalars
    let accuracy = Double(zip(probabilities, labels).filter { ($0 >= 0.5) == ($1 == 1) }.count) / Double(labels.count)
    let loss = binaryCrossEntropy(probabilities: model.predict(x), targets: y).scalar
    print("\(name): " + String(format: "W[1] moved by up to %.4f; largest difference between two units' weights in W[1], W[2]: %.1e;"
        + " log loss %.4f, accuracy %.3f", moved, layerSpread, loss, accuracy))
    results.append((name, layerSpread, moved, loss))
}

let symmetric = results.prefix(2), random = results[2]
conclude("from zeros and from equal weights every hidden unit stays identical (weights within 1e-12) although W[1] moved,"
    + " from random weights the units differ (by more than 0.1) and fit better (under half the log loss)", [
    ("symmetric starts keep identical units", symmetric.allSatisfy { $0.spread <= 1e-12 }),
    ("symmetric starts did train", symmetric.allSatisfy { $0.moved > 1e-3 }),
    ("random start's units differ", random.spread > 0.1),
    ("random start's log loss under half of the others'", symmetric.allSatisfy { random.loss < 0.5 * $0.loss }),
])
