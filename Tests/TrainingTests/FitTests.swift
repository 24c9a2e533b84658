import Foundation
import Testing
import Datasets
import NeuralNetworks
import Tensors
@testable import Training

@Suite("fit: the training loop")
struct FitTests {
    @Test("fit reduces the loss on a small regression problem")
    func reducesLoss() throws {
        let data = try regressionData(count: 96)
        let model = regressionModel()
        let before = try evaluate(model, on: data, loss: .squared)
        var optimizer = try Adam<Double>(learningRate: 0.02)
        let configuration = try FitConfiguration(epochs: 30, batchSize: .examples(16), loss: .squared, seed: 1)
        let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration)
        #expect(history.epochs.count == 30)
        #expect(history.epochs.map(\.epoch) == Array(0..<30))
        #expect(!history.stoppedEarly)
        let after = try evaluate(model, on: data, loss: .squared)
        #expect(after.loss < 0.05 * before.loss, "loss \(before.loss) → \(after.loss)")
        #expect(history.epochs.last!.training.loss < 0.1 * history.epochs.first!.training.loss)
        #expect(history.epochs.allSatisfy { $0.validation == nil })
    }

    @Test("fit learns a separable 3-class problem with a Softmax model and reports accuracy")
    func classification() throws {
        let data = try classificationData(count: 120)
        let model = classifier()
        var optimizer = try Adam<Double>(learningRate: 0.02)
        let configuration = try FitConfiguration(epochs: 40, batchSize: .examples(20), loss: .crossEntropy, seed: 2)
        let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration)
        let first = try #require(history.epochs.first?.training.accuracy)
        let last = try #require(history.epochs.last?.training.accuracy)
        #expect(last > first)
        #expect(history.epochs.last!.training.meanSquaredError == nil)
        let metrics = try evaluate(model, on: data, loss: .crossEntropy)
        #expect(try #require(metrics.accuracy) >= 0.9)
    }

    @Test("the last mini-batch of an epoch can be partial")
    func partialLastBatch() throws {
        let data = try regressionData(count: 10)
        let model = regressionModel()
        let recorder = Recorder<Sequential<Double>>()
        var optimizer = CountingOptimizer(base: try SGD<Double>(learningRate: 0.01))
        let configuration = try FitConfiguration(epochs: 2, batchSize: .examples(4), loss: .squared)
        _ = try fit(model, optimizer: &optimizer, data: data, configuration: configuration, callbacks: [recorder])
        for epoch in 0..<2 {
            let events = recorder.batches(ofEpoch: epoch)
            #expect(events.map(\.batch) == [0, 1, 2])
            #expect(events.map(\.batchCount) == [3, 3, 3])
            #expect(events.map(\.examplesSeen) == [4, 8, 10], "batch sizes 4, 4, 2")
            #expect(events.allSatisfy { $0.exampleCount == 10 })
        }
        #expect(optimizer.steps == 6)
    }

    @Test("stochastic (batch 1), mini-batch and full batch: steps per epoch", arguments: [
        (FitConfiguration.BatchSize.examples(1), 12), (.examples(5), 3), (.examples(12), 1), (.examples(50), 1), (.full, 1),
    ])
    func regimes(batchSize: FitConfiguration.BatchSize, stepsPerEpoch: Int) throws {
        let data = try regressionData(count: 12)
        let model = regressionModel()
        let recorder = Recorder<Sequential<Double>>()
        var optimizer = CountingOptimizer(base: try SGD<Double>(learningRate: 0.01))
        let configuration = try FitConfiguration(epochs: 3, batchSize: batchSize, loss: .squared)
        let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration, callbacks: [recorder])
        #expect(optimizer.steps == 3 * stepsPerEpoch)
        #expect(recorder.batches.count == 3 * stepsPerEpoch)
        #expect(recorder.batches(ofEpoch: 2).last?.examplesSeen == 12)
        #expect(history.epochs.allSatisfy { $0.training.loss.isFinite })
    }

    @Test("one full-batch epoch is exactly one gradient-descent step on the whole set")
    func fullBatchIsOneStep() throws {
        let data = try regressionData(count: 20)
        let (alpha, m) = (0.05, 20)
        let trained = regressionModel(), manual = regressionModel()
        var optimizer = try SGD<Double>(learningRate: alpha)
        let configuration = try FitConfiguration(epochs: 1, batchSize: .full, loss: .squared)
        _ = try fit(trained, optimizer: &optimizer, data: data, configuration: configuration)
        // By hand: J = (1/m) Σ ½(ŷ − y)², W ← W − α ∂J/∂W.
        guard case .values(let y) = data.targets else { Issue.record("values expected"); return }
        let output = manual(data.features)
        ((output - y).squared().sum() * 0.5 / Double(m)).backward()
        let before = parameterValues(manual)
        for (name, tensor) in manual.namedParameters {
            let expected = zip(before[name]!, tensor.gradient!.scalars).map { $0 - alpha * $1 }
            // The examples are summed in shuffled order: equal up to round-off.
            #expect(maxAbsDifference(parameterValues(trained)[name]!, expected) < 1e-14, "\(name)")
            #expect(maxAbsDifference(parameterValues(trained)[name]!, before[name]!) > 1e-6, "\(name) moved")
        }
    }

    /// The history without wall-clock times.
    static func comparable(_ history: History) -> [String] {
        history.epochs.map { "\($0.epoch) \($0.learningRate) \($0.training) \(String(describing: $0.validation))" }
            + ["\(String(describing: history.bestEpoch)) \(history.stoppedEarly)"]
    }

    static func run(seed: UInt64, momentum: Double = 0.9) throws -> (weights: [String: [Double]], history: History) {
        let data = try regressionData(count: 30)
        let model = regressionModel()
        var optimizer = try SGD<Double>(learningRate: 0.02, momentum: momentum)
        let configuration = try FitConfiguration(epochs: 4, batchSize: .examples(7), loss: .squared, seed: seed,
                                                 validation: .split(0.2))
        let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration)
        return (parameterValues(model), history)
    }

    @Test("same seed → identical weights and history; a different seed → different")
    func determinism() throws {
        let a = try Self.run(seed: 5), b = try Self.run(seed: 5), c = try Self.run(seed: 6)
        #expect(a.weights == b.weights)
        #expect(Self.comparable(a.history) == Self.comparable(b.history))
        #expect(a.weights != c.weights)
        #expect(Self.comparable(a.history) != Self.comparable(c.history))
    }

    @Test("a validation split produces validation metrics every epoch")
    func validationSplit() throws {
        let data = try classificationData(count: 40)
        let recorder = Recorder<Sequential<Double>>()
        var optimizer = try Adam<Double>(learningRate: 0.01)
        let configuration = try FitConfiguration(epochs: 3, batchSize: .examples(8), loss: .crossEntropy,
                                                 validation: .split(0.25))
        let history = try fit(classifier(), optimizer: &optimizer, data: data, configuration: configuration,
                              callbacks: [recorder])
        #expect(history.epochs.count == 3)
        for record in history.epochs {
            let validation = try #require(record.validation)
            #expect(validation.loss.isFinite && validation.loss > 0)
            let accuracy = try #require(validation.accuracy)
            // 10 held-out examples: accuracy is a multiple of 1/10.
            #expect((accuracy * 10).rounded() == accuracy * 10 && accuracy >= 0 && accuracy <= 1)
        }
        // 25 % of 40 held out: 30 training examples in each epoch.
        #expect(recorder.batches.allSatisfy { $0.exampleCount == 30 })
        #expect(recorder.batches(ofEpoch: 0).count == 4)
    }

    @Test("explicit validation data is evaluated each epoch with the final weights of that epoch")
    func explicitValidation() throws {
        let data = try regressionData(count: 24), validation = try regressionData(count: 9, seed: 77)
        let model = regressionModel()
        let recorder = Recorder(model: model)
        var optimizer = try SGD<Double>(learningRate: 0.05)
        let configuration = try FitConfiguration(epochs: 3, batchSize: .examples(8), loss: .meanSquaredError)
        let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration,
                              validationData: validation, callbacks: [recorder])
        #expect(recorder.batches.allSatisfy { $0.exampleCount == 24 })
        // The last epoch's validation metrics are those of the final model.
        let final = try evaluate(model, on: validation, loss: .meanSquaredError)
        let last = try #require(history.epochs.last?.validation)
        #expect(Swift.abs(last.loss - final.loss) < 1e-12)
        #expect(Swift.abs(try #require(last.meanSquaredError) - final.meanSquaredError!) < 1e-12)
    }

    @Test("early stopping stops after `patience` epochs without improvement and restores the best weights")
    func earlyStopping() throws {
        // Training targets y = x, validation targets y = x/2: from w = 0, gradient descent
        // drives w towards 1, so the validation loss falls until w passes ½ and rises after.
        var generator = RandomSource(seed: 9)
        let x = Tensor<Double>.randomUniform([32, 1], lowerBound: -1, upperBound: 1, using: &generator)
        let training = try Dataset(features: x, targets: .values(x))
        let validation = try Dataset(features: x, targets: .values(x * 0.5))
        let model = Sequential<Double> {
            Dense<Double>(inputSize: 1, outputSize: 1, useBias: false, weightInitializer: .zeros)
        }
        let recorder = Recorder(model: model)
        var optimizer = try SGD<Double>(learningRate: 0.2)
        let patience = 3
        let configuration = try FitConfiguration(epochs: 100, batchSize: .full, loss: .meanSquaredError,
                                                 earlyStoppingPatience: patience)
        let history = try fit(model, optimizer: &optimizer, data: training, configuration: configuration,
                              validationData: validation, callbacks: [recorder])
        #expect(history.stoppedEarly)
        let best = try #require(history.bestEpoch)
        #expect(best > 0, "the validation loss first improves")
        #expect(history.epochs.count == best + patience + 1)
        let losses = history.epochs.map { $0.validation!.loss }
        #expect(losses.firstIndex(of: losses.min()!) == best)
        #expect(losses[(best + 1)...].allSatisfy { $0 > losses[best] })
        // The model holds the weights it had at the end of the best epoch, not the last.
        #expect(parameterValues(model) == recorder.weightsAtEpoch[best])
        #expect(parameterValues(model) != recorder.weightsAtEpoch[history.epochs.count - 1])
        let w = parameterValues(model)["0.weight"]![0]
        #expect(Swift.abs(w - 0.5) < 0.15, "best w = \(w) near ½")
    }

    @Test("without validation data, early stopping monitors the training loss")
    func earlyStoppingOnTrainingLoss() throws {
        // A learning rate of 0 never improves the training loss: stop after `patience` epochs.
        let data = try regressionData(count: 10)
        let model = regressionModel()
        var optimizer = try SGD<Double>(learningRate: 0)
        let configuration = try FitConfiguration(epochs: 50, batchSize: .full, loss: .squared, earlyStoppingPatience: 2)
        let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration)
        #expect(history.stoppedEarly)
        #expect(history.bestEpoch == 0)
        #expect(history.epochs.count == 3)
    }

    @Test("a callback can stop training")
    func callbackStops() throws {
        final class StopAfterTwo: TrainingCallback {
            func epochEnded(_ record: EpochRecord) -> CallbackDecision { record.epoch >= 1 ? .stop : .proceed }
        }
        var optimizer = try SGD<Double>(learningRate: 0.01)
        let configuration = try FitConfiguration(epochs: 10, batchSize: .full, loss: .squared)
        let history = try fit(regressionModel(), optimizer: &optimizer, data: try regressionData(count: 8),
                              configuration: configuration, callbacks: [StopAfterTwo()])
        #expect(history.epochs.count == 2)
        #expect(history.stoppedEarly)
    }

    @Test("a huge learning rate makes the loss non-finite and fit throws nonFiniteLoss")
    func nonFiniteLoss() throws {
        var generator = RandomSource(seed: 3)
        let x = Tensor<Float>.randomNormal([16, 3], standardDeviation: 10, using: &generator)
        let data = try Dataset(features: x, targets: .values(x.sum(alongAxis: 1).reshaped(to: [16, 1]) * 100))
        let model = Sequential<Float>(seed: 1) {
            Dense<Float>(inputSize: 3, outputSize: 8)
            Dense<Float>(inputSize: 8, outputSize: 1)
        }
        var optimizer = try SGD<Float>(learningRate: 1e10)
        let configuration = try FitConfiguration(epochs: 20, batchSize: .examples(4), loss: .squared)
        do {
            _ = try fit(model, optimizer: &optimizer, data: data, configuration: configuration)
            Issue.record("fit should have thrown")
        } catch {
            guard case .nonFiniteLoss(let epoch, let batch, let value) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(!value.isFinite)
            #expect(epoch >= 0 && epoch < 20 && batch >= 0 && batch < 4)
            #expect(error.description.contains("epoch \(epoch + 1)"))
        }
        // The parameters were left without stale gradients.
        #expect(model.namedParameters.allSatisfy { $0.tensor.gradient == nil })
    }

    @Test("a model without parameters (activations only) is refused before any work, and has no gradient to check")
    func parameterFreeModel() throws {
        let data = try Dataset(features: Tensor<Float>(shape: [4, 2], scalars: [0, 1, 1, 0, 2, 3, 3, 2]),
                               targets: .labels([0, 1, 1, 0], classes: 2))
        let model = Sequential<Float>(seed: 1) { Softmax() }
        var optimizer = try SGD<Float>(learningRate: 0.1)
        #expect(throws: TrainingError.mismatch("the model has no parameters to train (no layer has weights): add a dense or convolutional layer")) {
            _ = try fit(model, optimizer: &optimizer, data: data, configuration: FitConfiguration(epochs: 1, batchSize: .examples(2), loss: .crossEntropy))
        }
        let double = Sequential<Double>(seed: 1) { Tanh() }
        let x = Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(GradientCheck.checkParameters(of: double, steps: [1e-6]) { $0(x).sum() }.isEmpty)
    }

    @Test("a non-finite loss is named in words, never as '-nan': NaN of either sign, infinities, and a finite value as it is")
    func nonFiniteLossWording() {
        let negativeNaN = -Double.nan
        #expect(negativeNaN.sign == .minus && "\(negativeNaN)" == "-nan")
        for value in [Double.nan, negativeNaN] {
            let message = TrainingError.nonFiniteLoss(epoch: 0, batch: 1, value: value).description
            #expect(message == "the loss became NaN (not a number) at epoch 1, batch 2; lower the learning rate or check the data")
        }
        for value in [Double.infinity, -Double.infinity] {
            #expect(TrainingError.nonFiniteLoss(epoch: 2, batch: 0, value: value).description.hasPrefix("the loss became infinite at epoch 3, batch 1;"))
        }
        #expect(TrainingError.nonFiniteLoss(epoch: 0, batch: 0, value: 1e300).description.hasPrefix("the loss became 1e+300 at"))
    }

    @Test("the learning-rate schedule sets each epoch's rate")
    func scheduleApplied() throws {
        var optimizer = try SGD<Double>(learningRate: 0.08)
        let configuration = try FitConfiguration(epochs: 5, batchSize: .full, loss: .squared,
                                                 schedule: .step(epochs: 2, factor: 0.5))
        let history = try fit(regressionModel(), optimizer: &optimizer, data: try regressionData(count: 8),
                              configuration: configuration)
        #expect(history.epochs.map(\.learningRate) == [0.08, 0.08, 0.04, 0.04, 0.02])
    }

    @Test("class labels with a regression loss are rejected")
    func labelsNeedClassificationLoss() throws {
        var optimizer = try SGD<Double>(learningRate: 0.01)
        let configuration = try FitConfiguration(epochs: 1, batchSize: .full, loss: .squared)
        #expect(throws: TrainingError.self) {
            try fit(classifier(), optimizer: &optimizer, data: try classificationData(count: 6), configuration: configuration)
        }
    }

    @Test("FitConfiguration rejects batch size 0, epochs 0, a bad validation split and patience 0")
    func configurationErrors() {
        #expect(throws: ConfigurationError.self) { try FitConfiguration(epochs: 1, batchSize: .examples(0), loss: .squared) }
        #expect(throws: ConfigurationError.self) { try FitConfiguration(epochs: 1, batchSize: .examples(-3), loss: .squared) }
        #expect(throws: ConfigurationError.self) { try FitConfiguration(epochs: 0, batchSize: .full, loss: .squared) }
        for fraction in [0, 1, -0.2, 1.5, Double.nan] {
            #expect(throws: ConfigurationError.self, "\(fraction)") {
                try FitConfiguration(epochs: 1, batchSize: .full, loss: .squared, validation: .split(fraction))
            }
        }
        #expect(throws: ConfigurationError.self) {
            try FitConfiguration(epochs: 1, batchSize: .full, loss: .squared, earlyStoppingPatience: 0)
        }
        #expect(throws: Never.self) {
            try FitConfiguration(epochs: 1, batchSize: .examples(1), loss: .squared, validation: .split(0.5), earlyStoppingPatience: 1)
        }
    }
}

@Suite("fit: written-out backpropagation and autodiff train the same weights")
struct FitPathTests {
    /// The same network with a Dropout(0) layer, which changes no value but has no
    /// written-out rule, so fit trains it through autodiff; the weights are copied from
    /// the plain network's.
    private func pair(withAutodiffLayer: Bool, seed: UInt64) -> Sequential<Double> {
        func layers() -> [any Layer<Double>] {
            [Dense<Double>(inputSize: 4, outputSize: 8), Sigmoid<Double>(),
             Dense<Double>(inputSize: 8, outputSize: 3), Softmax<Double>()]
        }
        let plain = Sequential<Double>(seed: seed, layers: layers())
        guard withAutodiffLayer else { return plain }
        var withDropout = layers()
        withDropout.insert(Dropout<Double>(probability: 0), at: 2)
        let model = Sequential<Double>(seed: seed, layers: withDropout)
        var weights = plain.namedParameters.map(\.tensor.scalars).makeIterator()
        model.visitParameters { _, parameter in parameter.assign(weights.next()!) }
        return model
    }

    @Test("cross-entropy with a final softmax, SGD with momentum and L2: equal weights and history")
    func crossEntropy() throws {
        let data = try classificationData(count: 50)
        var results: [([Tensor<Double>], History)] = []
        for autodiff in [false, true] {
            let model = pair(withAutodiffLayer: autodiff, seed: 8)
            #expect((ModelBackpropagation(model).exceptLast == nil) == autodiff)
            var optimizer = try SGD<Double>(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
            let configuration = try FitConfiguration(epochs: 3, batchSize: .examples(7), loss: .crossEntropy, seed: 5)
            let history = try fit(model, optimizer: &optimizer, data: data, configuration: configuration)
            results.append((model.namedParameters.map(\.tensor), history))
        }
        #expect(results[0].0 == results[1].0)
        #expect(results[0].1.epochs.map(\.training) == results[1].1.epochs.map(\.training))
    }

    @Test("a CNN trains to the same weights through the written-out pass and through autodiff (Float64, 1e-10)")
    func convolutional() throws {
        var generator = RandomSource(seed: 4)
        let images = Tensor<Double>.randomNormal([40, 1, 8, 8], using: &generator)
        let data = try Dataset(features: images, targets: .labels((0..<40).map { $0 % 3 }, classes: 3))
        var weights: [[[Double]]] = []
        let spec = "1x8x8 conv3k3p1 relu maxpool2 conv4k3s2 relu flatten 8 tanh 3 softmax"
        let initial = try NetworkSpec(parsing: spec).build(Double.self, seed: 5).namedParameters.map(\.tensor.scalars)
        for autodiff in [false, true] {
            let spec = autodiff ? spec.replacingOccurrences(of: "flatten", with: "flatten dropout0") : spec
            let model = try NetworkSpec(parsing: spec).build(Double.self, seed: 5)
            // The same starting weights (the dropout layer takes a draw of its own).
            var values = initial.makeIterator()
            model.visitParameters { _, parameter in parameter.assign(values.next()!) }
            #expect((ModelBackpropagation(model).exceptLast == nil) == autodiff, "\(spec)")
            var optimizer = try SGD<Double>(learningRate: 0.05, momentum: 0.9, weightDecay: 0.01)
            _ = try fit(model, optimizer: &optimizer, data: data,
                        configuration: try FitConfiguration(epochs: 3, batchSize: .examples(8), loss: .crossEntropy, seed: 5))
            // The dropout layer shifts the layers' names: compared in order.
            weights.append(model.namedParameters.map(\.tensor.scalars))
        }
        #expect(weights[0].count == 8 && weights[1].count == 8)
        for (index, values) in weights[0].enumerated() {
            #expect(maxAbsDifference(values, weights[1][index]) < 1e-10, "parameter \(index)")
        }
    }

    @Test("mean squared error on a regression net: equal weights")
    func meanSquaredError() throws {
        let data = try regressionData(count: 40)
        var weights: [[Tensor<Double>]] = []
        for autodiff in [false, true] {
            var layers: [any Layer<Double>] = [Dense<Double>(inputSize: 3, outputSize: 5), ReLU<Double>(),
                                               Dense<Double>(inputSize: 5, outputSize: 1)]
            if autodiff { layers.append(Dropout<Double>(probability: 0)) }
            let model = Sequential<Double>(seed: 9, layers: layers)
            var optimizer = try Adam<Double>(learningRate: 0.01)
            let configuration = try FitConfiguration(epochs: 2, batchSize: .examples(6), loss: .meanSquaredError, seed: 3)
            _ = try fit(model, optimizer: &optimizer, data: data, configuration: configuration)
            weights.append(model.namedParameters.map(\.tensor))
        }
        #expect(weights[0] == weights[1])
    }
}
