import Foundation
import Testing
import Datasets
import NeuralNetworks
import Tensors
@testable import Training

@Suite("Dataset, evaluate, predict")
struct DataAndEvaluateTests {
    // MARK: LabeledData validation

    @Test("Dataset rejects a label outside the classes")
    func labelOutOfRange() {
        let x = Tensor<Double>.zeros([3, 2])
        #expect(throws: DatasetError.labelOutOfRange(example: 2, label: 3, classes: 3)) {
            try Dataset(features: x, targets: .labels([0, 2, 3], classes: 3))
        }
        #expect(throws: DatasetError.labelOutOfRange(example: 0, label: -1, classes: 3)) {
            try Dataset(features: x, targets: .labels([-1, 0, 1], classes: 3))
        }
        #expect(throws: Never.self) { try Dataset(features: x, targets: .labels([0, 1, 2], classes: 3)) }
    }

    @Test("Dataset rejects NaN or infinity in features or targets, naming the example")
    func nonFinite() {
        var features = [Double](repeating: 1, count: 8)
        features[5] = .nan  // example 2 of [4, 2]
        #expect(throws: DatasetError.nonFiniteData(what: "features", example: 2)) {
            try Dataset(features: Tensor(shape: [4, 2], scalars: features), targets: .labels([0, 0, 1, 1], classes: 2))
        }
        let targets = Tensor<Float>(shape: [4, 1], scalars: [0, 1, .infinity, 2])
        #expect(throws: DatasetError.nonFiniteData(what: "targets", example: 2)) {
            try Dataset(features: Tensor<Float>.zeros([4, 2]), targets: .values(targets))
        }
    }

    @Test("Dataset rejects a count mismatch")
    func countMismatch() {
        #expect(throws: DatasetError.countMismatch(features: 3, targets: 2)) {
            try Dataset(features: Tensor<Double>.zeros([3, 2]), targets: .labels([0, 1], classes: 2))
        }
        #expect(throws: DatasetError.countMismatch(features: 2, targets: 5)) {
            try Dataset(features: Tensor<Double>.zeros([2, 2]), targets: .values(.zeros([5, 1])))
        }
    }

    @Test("subset and split keep features and targets together")
    func subsetAndSplit() throws {
        let x = Tensor<Double>(shape: [10, 1], scalars: (0..<10).map(Double.init))
        let data = try Dataset(features: x, targets: .labels(Array(0..<10).map { $0 % 3 }, classes: 3))
        let subset = data.subset([7, 2])
        #expect(subset.features.scalars == [7, 2])
        guard case .classes(let labels, let classes) = subset.targets else { Issue.record("labels"); return }
        #expect(labels == [1, 2] && classes.count == 3)
        let (training, validation) = try data.split(validationFraction: 0.3, seed: 4)
        #expect(training.count == 7 && validation.count == 3)
        let all = (training.features.scalars + validation.features.scalars).sorted()
        #expect(all == x.scalars, "a partition of the examples")
        guard case .classes(let vLabels, _) = validation.targets else { Issue.record("labels"); return }
        #expect(vLabels == validation.features.scalars.map { Int($0) % 3 })
        let again = try data.split(validationFraction: 0.3, seed: 4)
        #expect(again.validation.features == validation.features)
    }

    // MARK: evaluate

    @Test("evaluate reports accuracy and cross-entropy for labels, computed by hand")
    func evaluateClassification() throws {
        let model = Sequential<Double> { Dense<Double>(inputSize: 2, outputSize: 3) }
        setWeights(model, weight: [1, 0, 0, 1, -1, -1], bias: [0, 0.1, 0.2])
        var generator = RandomSource(seed: 5)
        let x = Tensor<Double>.randomNormal([11, 2], using: &generator)
        let labels = (0..<11).map { $0 % 3 }
        let data = try Dataset(features: x, targets: .labels(labels, classes: 3))
        // By hand: z = (x₀ + 0, x₁ + 0.1, −x₀ − x₁ + 0.2).
        var correct = 0, loss = 0.0
        for i in 0..<11 {
            let z = [x[i, 0], x[i, 1] + 0.1, -x[i, 0] - x[i, 1] + 0.2]
            let predicted = z.indices.max { z[$0] < z[$1] }!
            if predicted == labels[i] { correct += 1 }
            let logSum = Foundation.log(z.map { Foundation.exp($0) }.reduce(0, +))
            loss += (logSum - z[labels[i]]) / 11
        }
        for batchSize in [3, 1024] {
            let metrics = try evaluate(model, on: data, loss: .crossEntropy, batchSize: batchSize)
            #expect(metrics.accuracy == Double(correct) / 11, "batch \(batchSize)")
            #expect(Swift.abs(metrics.loss - loss) < 1e-12, "batch \(batchSize)")
            #expect(metrics.meanSquaredError == nil && metrics.meanAbsoluteError == nil)
        }
    }

    @Test("evaluate reports MSE and MAE for regression, computed by hand")
    func evaluateRegression() throws {
        let model = Sequential<Double> { Dense<Double>(inputSize: 2, outputSize: 1) }
        setWeights(model, weight: [2, -1], bias: [0.5])
        var generator = RandomSource(seed: 6)
        let x = Tensor<Double>.randomNormal([9, 2], using: &generator)
        let y = Tensor<Double>.randomNormal([9, 1], using: &generator)
        let data = try Dataset(features: x, targets: .values(y))
        let errors = (0..<9).map { 2 * x[$0, 0] - x[$0, 1] + 0.5 - y[$0, 0] }
        let mse = errors.map { $0 * $0 }.reduce(0, +) / 9
        let mae = errors.map { Swift.abs($0) }.reduce(0, +) / 9
        for batchSize in [2, 9, 100] {
            let metrics = try evaluate(model, on: data, loss: .meanSquaredError, batchSize: batchSize)
            #expect(Swift.abs(try #require(metrics.meanSquaredError) - mse) < 1e-12)
            #expect(Swift.abs(try #require(metrics.meanAbsoluteError) - mae) < 1e-12)
            #expect(Swift.abs(metrics.loss - mse) < 1e-12)
            #expect(metrics.accuracy == nil)
            // The notes' squared loss is half the MSE for one output.
            #expect(Swift.abs(try evaluate(model, on: data, loss: .squared, batchSize: batchSize).loss - mse / 2) < 1e-12)
        }
    }

    @Test("evaluate with binary cross-entropy reports the thresholded accuracy")
    func evaluateBinary() throws {
        let model = Sequential<Double> {
            Dense<Double>(inputSize: 1, outputSize: 1)
            Sigmoid<Double>()
        }
        setWeights(model, weight: [3], bias: [-0.3])
        let x = Tensor<Double>(shape: [6, 1], scalars: [-1, -0.2, 0.05, 0.15, 0.5, 2])
        let y = Tensor<Double>(shape: [6, 1], scalars: [0, 1, 0, 1, 1, 0])
        let data = try Dataset(features: x, targets: .values(y))
        var correct = 0, loss = 0.0
        for i in 0..<6 {
            let p = 1 / (1 + Foundation.exp(-(3 * x[i, 0] - 0.3)))
            if (p >= 0.5) == (y[i, 0] == 1) { correct += 1 }
            loss -= (y[i, 0] * Foundation.log(p) + (1 - y[i, 0]) * Foundation.log(1 - p)) / 6
        }
        let metrics = try evaluate(model, on: data, loss: .binaryCrossEntropy, batchSize: 4)
        #expect(metrics.accuracy == Double(correct) / 6)
        #expect(Swift.abs(metrics.loss - loss) < 1e-12)
    }

    @Test("evaluate leaves the training mode as it was and records no gradients")
    func evaluateMode() throws {
        let dropout = Dropout<Double>(probability: 0.5)
        let model = Sequential<Double> {
            Dense<Double>(inputSize: 3, outputSize: 1)
            dropout
        }
        let data = try regressionData(count: 5)
        let a = try evaluate(model, on: data, loss: .squared)
        let b = try evaluate(model, on: data, loss: .squared)
        #expect(a == b, "dropout is off while evaluating")
        #expect(dropout.isTraining)
        #expect(model.namedParameters.allSatisfy { $0.tensor.gradient == nil })
    }

    // MARK: predict

    @Test("Layer.predict runs batched without recording gradients and equals the unbatched forward")
    func predict() throws {
        let model = regressionModel()
        var generator = RandomSource(seed: 8)
        let x = Tensor<Double>.randomNormal([23, 3], using: &generator)
        let forward = model(x)
        #expect(forward.requiresGradient)
        for batchSize in [1, 4, 23, 1000] {
            let result = model.predict(x, batchSize: batchSize)
            #expect(!result.requiresGradient)
            #expect(result.shape == [23, 1])
            #expect(maxAbsDifference(result.scalars, forward.scalars) < 1e-14, "batch \(batchSize)")
        }
        // Each row depends only on its example.
        let single = model(x.slice(alongAxis: 0, 5..<6))
        #expect(maxAbsDifference(single.scalars, [forward[5, 0]]) < 1e-14)
    }

    func setWeights(_ model: Sequential<Double>, weight: [Double], bias: [Double]) {
        model.visitParameters { name, p in
            if name == "0.weight" { p.assign(weight) }
            if name == "0.bias" { p.assign(bias) }
        }
    }
}
