import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import Training

@Suite("The model fits the task: checks, losses, metrics and predictions")
struct TaskTests {
    @Test("outputs that do not match the classes are one error naming both counts, before training")
    func outputsVersusClasses() throws {
        let data = try classificationData(count: 12)
        let model = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 4, outputSize: 5); Softmax<Double>() }
        let error = #expect(throws: TrainingError.self) { try checkCompatibility(of: model, with: data, loss: .crossEntropy) }
        #expect(error?.description.contains("5 outputs") == true && error?.description.contains("3 classes") == true,
                "\(error?.description ?? "")")
        var optimizer = try SGD<Double>(learningRate: 0.1)
        let before = parameterValues(model)
        #expect(throws: TrainingError.self) {
            try fit(model, optimizer: &optimizer, data: data, configuration: FitConfiguration(
                epochs: 1, batchSize: .examples(4), loss: .crossEntropy))
        }
        #expect(parameterValues(model) == before, "nothing trained")
    }

    @Test("K classes on K outputs after a sigmoid, ReLU, tanh, leaky ReLU or GELU are refused, naming it; softmax, log-softmax, identity or none are not")
    func classesNeedSoftmaxOrLogits() throws {
        let data = try classificationData(count: 12)
        let squashing: [(any Layer<Double>, String)] = [(Sigmoid<Double>(), "sigmoid"), (ReLU<Double>(), "relu"), (Tanh<Double>(), "tanh"),
                                                        (LeakyReLU<Double>(), "leakyReLU"), (GELU<Double>(), "gelu")]
        for (last, name) in squashing {
            let model = Sequential<Double>(seed: 1, layers: [Dense<Double>(inputSize: 4, outputSize: 3), last])
            let error = #expect(throws: TrainingError.self) { try checkCompatibility(of: model, with: data, loss: .crossEntropy) }
            #expect(error?.description == "the model's last activation is \(name), but 3 classes need a softmax output (or no activation: logits)")
        }
        let logits: [[any Layer<Double>]] = [[Softmax<Double>()], [LogSoftmax<Double>()], [Identity<Double>()], []]
        for last in logits {
            try checkCompatibility(of: Sequential<Double>(seed: 1, layers: [Dense<Double>(inputSize: 4, outputSize: 3)] + last),
                                   with: data, loss: .crossEntropy)
        }
        // Two classes: two sigmoid outputs are refused with the form that is right, one sigmoid output.
        let two = try Dataset(features: data.features, targets: .classes((0..<12).map { $0 % 2 }, ClassLabels(count: 2)))
        let pair = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 4, outputSize: 2); Sigmoid<Double>() }
        let error = #expect(throws: TrainingError.self) { try checkCompatibility(of: pair, with: two, loss: .crossEntropy) }
        #expect(error?.description == "the model's last activation is sigmoid, but 2 classes need a softmax output (or no activation: logits), or one sigmoid output")
        let one = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 4, outputSize: 1); Sigmoid<Double>() }
        try checkCompatibility(of: one, with: two, loss: .binaryCrossEntropy)
        // A softmax with layers after it: the loss would squash its outputs twice.
        let followed: [(any Layer<Double>, String)] = [(Softmax<Double>(), "Softmax"), (Dropout<Double>(probability: 0.5), "Dropout(0.5)")]
        for (after, name) in followed {
            let model = Sequential<Double>(seed: 1, layers: [Dense<Double>(inputSize: 4, outputSize: 3), Softmax<Double>(), after])
            let error = #expect(throws: TrainingError.self) { try checkCompatibility(of: model, with: data, loss: .crossEntropy) }
            #expect(error?.description == "the model's Softmax (layer 1) is followed by \(name): cross-entropy reads the last layer's outputs as logits or probabilities, so end the model with the softmax")
        }
    }

    @Test("batch normalisation of features with a batch, or a last batch, of one example is refused before any step")
    func batchNormalizationNeedsTwo() throws {
        let data = try classificationData(count: 9)
        let model = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 4, outputSize: 3); BatchNorm1D<Double>(features: 3) }
        let before = parameterValues(model)
        for (batch, message) in [
            (1, "batch normalisation of features (BatchNorm1D) needs at least 2 examples a batch: a batch of 1 normalises every value to β, and nothing is learnt; use a batch size of 2 or more"),
            (4, "batch normalisation of features (BatchNorm1D) needs at least 2 examples a batch, and the last batch of each epoch would hold 1 (9 examples in batches of 4); use a batch size that leaves 0 or at least 2, such as 5"),
        ] {
            var optimizer = try SGD<Double>(learningRate: 0.1)
            let error = #expect(throws: TrainingError.self) {
                try fit(model, optimizer: &optimizer, data: data, configuration: FitConfiguration(
                    epochs: 1, batchSize: .examples(batch), loss: .crossEntropy))
            }
            #expect(error?.description == message)
        }
        #expect(parameterValues(model) == before, "nothing trained")
        var optimizer = try SGD<Double>(learningRate: 0.1)
        _ = try fit(model, optimizer: &optimizer, data: data, configuration: FitConfiguration(
            epochs: 1, batchSize: .examples(3), loss: .crossEntropy))
    }

    @Test("an input shape the layers cannot take, a softmax ending a regression, and labels with MSE are refused")
    func otherMismatches() throws {
        let regression = try regressionData(count: 8)
        let wrongInput = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 4, outputSize: 1) }
        let shape = #expect(throws: TrainingError.self) {
            try checkCompatibility(of: wrongInput, with: regression, loss: .meanSquaredError)
        }
        #expect(shape?.description.contains("[3]") == true && shape?.description.contains("Dense(4 → 1)") == true,
                "\(shape?.description ?? "")")
        let softmaxRegression = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 3, outputSize: 1); Softmax<Double>() }
        #expect(throws: TrainingError.self) {
            try checkCompatibility(of: softmaxRegression, with: regression, loss: .meanSquaredError)
        }
        #expect(throws: TrainingError.self) {
            try checkCompatibility(of: classifier(), with: try classificationData(count: 8), loss: .meanSquaredError)
        }
        #expect(throws: TrainingError.self) {
            try checkCompatibility(of: regressionModel(), with: Dataset<Double>(features: .zeros([2, 3])),
                                   loss: .meanSquaredError)
        }
    }

    @Test("two classes and one sigmoid output: binary cross-entropy on the labels, the notes' logistic regression")
    func binaryClassesWithOneSigmoid() throws {
        var generator = RandomSource(seed: 9)
        let x = Tensor<Double>.randomNormal([200, 2], using: &generator)
        let labels = (0..<200).map { x[$0, 0] + 2 * x[$0, 1] > 0 ? 1 : 0 }
        let data = try Dataset(features: x, targets: .classes(labels, ClassLabels(names: ["no", "yes"])))
        let model = Sequential<Double>(seed: 2) { Dense<Double>(inputSize: 2, outputSize: 1); Sigmoid<Double>() }
        let loss = Loss.recommended(for: data.targets!, outputs: 1)
        #expect(loss == .binaryCrossEntropy)
        #expect(Loss.recommended(for: data.targets!, outputs: 2) == .crossEntropy)
        try checkCompatibility(of: model, with: data, loss: loss)
        let before = try evaluate(model, on: data, loss: loss)
        var optimizer = try SGD<Double>(learningRate: 0.5)
        let history = try fit(model, optimizer: &optimizer, data: data, configuration: FitConfiguration(
            epochs: 30, batchSize: .examples(20), loss: loss, seed: 3))
        let after = try evaluate(model, on: data, loss: loss)
        #expect(after.loss < before.loss / 3, "\(before.loss) → \(after.loss)")
        #expect((after.accuracy ?? 0) >= 0.97, "accuracy \(after.accuracy ?? 0)")
        #expect(history.epochs.last?.training.accuracy != nil)
        let probabilities = model.classProbabilities(x)
        #expect(probabilities.shape == [200, 2])
        let p = model.predict(x).scalars
        #expect(zip(probabilities.scalars.enumerated().filter { $0.offset % 2 == 1 }.map(\.element), p)
            .allSatisfy { $0 == $1 })
        let predicted = model.predictedClasses(x)
        #expect(Double(zip(predicted, labels).filter { $0 == $1 }.count) / 200 == after.accuracy)
        // The loss on the labels equals the loss on the same 0/1 values.
        let values = try Dataset(features: x, targets: .values(Tensor(shape: [200, 1], scalars: labels.map(Double.init))))
        #expect(Swift.abs(try evaluate(model, on: values, loss: .binaryCrossEntropy).loss - after.loss) < 1e-12)
    }

    @Test("regression metrics: MSE, RMSE, MAE and R² by their definitions, in the original units of standardised targets")
    func regressionMetrics() throws {
        let x = Tensor<Double>(shape: [4, 1], scalars: [1, 2, 3, 4])
        let y = [110.0, 190, 320, 380]
        let raw = try Dataset(features: x, targets: .values(Tensor(shape: [4, 1], scalars: y)))
        let model = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 1, outputSize: 1) }
        model.visitParameters { name, parameter in parameter.assign(name.hasSuffix("weight") ? [100] : [0]) }
        let predicted = [100.0, 200, 300, 400]
        let errors = zip(predicted, y).map { $0 - $1 }
        let squaredErrors: Double = errors.map { $0 * $0 }.reduce(0, +)
        let mse = squaredErrors / 4
        let mean: Double = y.reduce(0, +) / 4
        let total: Double = y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        let r2 = 1 - squaredErrors / total
        let metrics = try evaluate(model, on: raw, loss: .meanSquaredError)
        #expect(Swift.abs(metrics.meanSquaredError! - mse) < 1e-9)
        #expect(Swift.abs(metrics.rootMeanSquaredError! - mse.squareRoot()) < 1e-9)
        #expect(Swift.abs(metrics.meanAbsoluteError! - 15) < 1e-9)
        #expect(Swift.abs(metrics.rSquared! - r2) < 1e-12)

        // The same predictions made in standardised units report the same raw metrics.
        let standardized = try raw.standardizedWithOwnStatistics(features: nil, targets: true)
        let s = try #require(standardized.targetStandardization)
        let scaled = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 1, outputSize: 1) }
        scaled.visitParameters { name, parameter in
            parameter.assign(name.hasSuffix("weight") ? [100 / s.standardDeviation[0]] : [-s.mean[0] / s.standardDeviation[0]])
        }
        let inUnits = try evaluate(scaled, on: standardized, loss: .meanSquaredError)
        #expect(Swift.abs(inUnits.meanSquaredError! - mse) < 1e-6)
        #expect(Swift.abs(inUnits.meanAbsoluteError! - 15) < 1e-9)
        #expect(Swift.abs(inUnits.rSquared! - r2) < 1e-12)
        #expect(Swift.abs(inUnits.loss - mse / (s.standardDeviation[0] * s.standardDeviation[0])) < 1e-9,
                "the loss stays in the units the model is trained in")
        let back = try scaled.predictedValues(x, targetStandardization: s)
        #expect(zip(back.scalars, predicted).allSatisfy { Swift.abs($0 - $1) < 1e-9 })
    }

    @Test("two outputs in different units: MSE, MAE and R² of each output apart, by their definitions")
    func perOutputMetrics() throws {
        // Output 0 in thousands, output 1 in thousandths; the model predicts both from x.
        let x = Tensor<Double>(shape: [4, 1], scalars: [1, 2, 3, 4])
        let y = [1100.0, 0.001, 1900, 0.003, 3200, 0.002, 3800, 0.004]
        let data = try Dataset(features: x, targets: .values(Tensor(shape: [4, 2], scalars: y)))
        let model = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 1, outputSize: 2) }
        model.visitParameters { name, parameter in parameter.assign(name.hasSuffix("weight") ? [1000, 0.001] : [0, 0]) }
        // Predictions 1000, 2000, 3000, 4000 and 0.001, 0.002, 0.003, 0.004.
        let errors0 = [-100.0, 100, -200, 200], errors1 = [0.0, -0.001, 0.001, 0]
        let metrics = try evaluate(model, on: data, loss: .meanSquaredError)
        let outputs = try #require(metrics.outputs)
        #expect(outputs.count == 2)
        #expect(Swift.abs(outputs[0].meanSquaredError - 25_000) < 1e-6, "(100² + 100² + 200² + 200²) / 4")
        #expect(Swift.abs(outputs[0].meanAbsoluteError - 150) < 1e-9)
        #expect(Swift.abs(outputs[1].rootMeanSquaredError - (0.000_002 / 4).squareRoot()) < 1e-12)
        #expect(Swift.abs(outputs[1].meanAbsoluteError - 0.0005) < 1e-12)
        func r2(_ column: Int, _ errors: [Double]) -> Double {
            let values = stride(from: column, to: 8, by: 2).map { y[$0] }
            let mean = values.reduce(0, +) / 4
            return 1 - errors.map { $0 * $0 }.reduce(0, +) / values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        }
        #expect(Swift.abs(outputs[0].rSquared - r2(0, errors0)) < 1e-12)
        #expect(Swift.abs(outputs[1].rSquared - r2(1, errors1)) < 1e-9)
        #expect(Swift.abs(metrics.rSquared! - (r2(0, errors0) + r2(1, errors1)) / 2) < 1e-9)
        // One output has no per-output figures: the pooled ones are its own.
        let one = try Dataset(features: x, targets: .values(Tensor(shape: [4, 1], scalars: [1, 2, 3, 4])))
        let single = Sequential<Double>(seed: 1) { Dense<Double>(inputSize: 1, outputSize: 1) }
        #expect(try evaluate(single, on: one, loss: .meanSquaredError).outputs == nil)
    }

    @Test("validation data is standardised like the training data by the trainer")
    func validationPreparedLikeTraining() throws {
        let training = try regressionData(count: 64).standardizedWithOwnStatistics(features: .perFeature, targets: true)
        let validation = try regressionData(count: 16, seed: 5)
        let model = regressionModel()
        var optimizer = try SGD<Double>(learningRate: 0.05)
        let history = try fit(model, optimizer: &optimizer, data: training, configuration: FitConfiguration(
            epochs: 20, batchSize: .examples(8), loss: .meanSquaredError, seed: 1), validationData: validation)
        let last = try #require(history.epochs.last?.validation)
        #expect((last.rSquared ?? 0) > 0.9, "validation R² \(last.rSquared ?? .nan)")
        let prepared = try DataSchema(describing: training).prepare(validation)
        #expect(try evaluate(model, on: prepared, loss: .meanSquaredError) == last)
    }
}
