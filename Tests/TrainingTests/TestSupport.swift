import Foundation
import Testing
import Datasets
import NeuralNetworks
import Tensors
@testable import Training

func maxAbsDifference<S: TensorScalar>(_ a: [S], _ b: [S]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs(Double($0) - Double($1)) }.max() ?? 0
}

/// The model's parameters by name, as plain arrays.
func parameterValues<L: Layer>(_ model: L) -> [String: [L.Scalar]] {
    Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor.scalars) })
}

/// Records every batch event and, per epoch, the record and the model's weights at the
/// end of that epoch.
final class Recorder<Model: Layer>: TrainingCallback {
    let model: Model?
    var batches: [BatchEvent] = []
    var records: [EpochRecord] = []
    var weightsAtEpoch: [Int: [String: [Model.Scalar]]] = [:]

    init(model: Model? = nil) { self.model = model }

    func batchEnded(_ event: BatchEvent) -> CallbackDecision {
        batches.append(event)
        return .proceed
    }

    func epochEnded(_ record: EpochRecord) -> CallbackDecision {
        records.append(record)
        if let model { weightsAtEpoch[record.epoch] = parameterValues(model) }
        return .proceed
    }

    /// The batch events of one epoch.
    func batches(ofEpoch epoch: Int) -> [BatchEvent] { batches.filter { $0.epoch == epoch } }
}

/// An optimiser that counts its steps and forwards everything to `base`.
struct CountingOptimizer<Base: Optimizer>: Optimizer {
    typealias Scalar = Base.Scalar
    var base: Base
    var steps = 0

    var learningRate: Double {
        get { base.learningRate }
        set { base.learningRate = newValue }
    }

    mutating func beginStep() {
        steps += 1
        base.beginStep()
    }

    mutating func update(_ name: String, _ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>) {
        base.update(name, &parameter, gradient: gradient)
    }

    var state: [String: Tensor<Scalar>] { base.state }
    mutating func restore(state: [String: Tensor<Scalar>]) throws { try base.restore(state: state) }
}

/// A seeded regression problem: y = x·w + 0.5 + small noise, x ∈ ℝ³.
func regressionData(count: Int, seed: UInt64 = 1) throws -> Dataset<Double> {
    var generator = RandomSource(seed: seed)
    let x = Tensor<Double>.randomNormal([count, 3], using: &generator)
    let noise = Tensor<Double>.randomNormal([count], standardDeviation: 0.01, using: &generator)
    let w = [1.5, -2.0, 0.5]
    let y = (0..<count).map { i in (0..<3).map { w[$0] * x[i, $0] }.reduce(0.5, +) + noise.scalars[i] }
    return try Dataset(features: x, targets: .values(Tensor(shape: [count, 1], scalars: y)))
}

/// A seeded 3-class problem: the class is the index of the largest of the first three
/// features (linearly separable), x ∈ ℝ⁴.
func classificationData(count: Int, seed: UInt64 = 2) throws -> Dataset<Double> {
    var generator = RandomSource(seed: seed)
    let x = Tensor<Double>.randomNormal([count, 4], using: &generator)
    let labels = (0..<count).map { i in (0..<3).max { x[i, $0] < x[i, $1] }! }
    return try Dataset(features: x, targets: .labels(labels, classes: 3))
}

func regressionModel(seed: UInt64 = 3) -> Sequential<Double> {
    Sequential<Double>(seed: seed) {
        Dense<Double>(inputSize: 3, outputSize: 8)
        Tanh<Double>()
        Dense<Double>(inputSize: 8, outputSize: 1)
    }
}

func classifier(seed: UInt64 = 4) -> Sequential<Double> {
    Sequential<Double>(seed: seed) {
        Dense<Double>(inputSize: 4, outputSize: 8)
        ReLU<Double>()
        Dense<Double>(inputSize: 8, outputSize: 3)
        Softmax<Double>()
    }
}
