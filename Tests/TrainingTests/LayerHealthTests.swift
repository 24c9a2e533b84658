import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import Training

@Suite("layer health and step records")
struct LayerHealthTests {
    @Test("‖δ^[ℓ]‖ is the mean per-example norm of the notes' δ, as the Float64 step trace computes it")
    func deltaNorms() throws {
        let data = try classificationData(count: 12)
        let model = classifier()
        let health = LayerHealth.measure(model, probe: data, loss: .crossEntropy)
        #expect(health.map(\.layer) == [1, 2] && health.map(\.units) == [8, 3])
        #expect(health[0].name == "Dense(4 → 8) + ReLU" && health[1].isOutput && !health[0].isOutput)
        // The same δ through StepTrace: ∂J/∂z for the batch's mean loss, times the batch size.
        guard case .classes(let labels, _)? = data.targets else { Issue.record("no labels"); return }
        var optimizer = try SGD<Double>(learningRate: 0.1)
        let trace = StepTrace(model: model, input: data.features, optimizer: &optimizer) { crossEntropy(probabilities: $0, labels: labels) }
        for (layer, index) in [(0, 0), (1, 2)] {
            let delta = try #require(trace.layers[index].delta)
            let width = delta.shape[1]
            let norms = (0..<12).map { row in
                (0..<width).map { delta.scalars[row * width + $0] * 12 }.reduce(0) { $0 + $1 * $1 }.squareRoot()
            }
            let expected = norms.reduce(0, +) / 12
            #expect(abs(health[layer].deltaNorm - expected) <= 1e-9 * expected, "layer \(layer + 1)")
        }
        // The activation statistics read a^[1] = ReLU(z^[1]).
        let a = trace.layers[1].output.scalars
        let mean = a.reduce(0, +) / Double(a.count)
        #expect(abs(health[0].activationMean - mean) < 1e-12)
        #expect(model.namedParameters.allSatisfy { $0.tensor.gradient == nil || $0.tensor.gradient!.scalars.allSatisfy { $0 == 0 } })
    }

    @Test("dead ReLUs, saturated sigmoids and copied units are found, each with a warning naming the remedy")
    func problems() throws {
        let data = try classificationData(count: 32)
        // Biases of −100: every ReLU of the first layer is 0 on every example.
        let dead = Sequential<Double>(seed: 1) {
            Dense<Double>(inputSize: 4, outputSize: 6, biasInitializer: .constant(-100)); ReLU<Double>()
            Dense<Double>(inputSize: 6, outputSize: 3); Softmax<Double>()
        }
        let deadHealth = LayerHealth.measure(dead, probe: data, loss: .crossEntropy)
        #expect(deadHealth[0].dead == 1)
        #expect(LayerHealth.warnings(deadHealth).contains { $0.kind == .deadUnits && $0.layer == 1 && $0.message.contains("or use He initialisation (--init he-normal)") })
        // Weights drawn with He's initialiser already: it is not the remedy.
        for initializer in [Initializer.heNormal, .heUniform] {
            let message = LayerHealth.warnings(deadHealth, initializer: initializer).first { $0.kind == .deadUnits }?.message ?? ""
            #expect(!message.contains("--init he-normal") && message.contains("He initialisation already") && message.contains("lower the learning rate"), "\(message)")
        }
        #expect(LayerHealth.warnings(deadHealth, initializer: .xavierNormal).contains { $0.message.contains("--init he-normal") })
        // Large weights: sigmoid outputs pinned at 0 or 1.
        let saturated = Sequential<Double>(seed: 2) {
            Dense<Double>(inputSize: 4, outputSize: 6, weightInitializer: .normal(standardDeviation: 50)); Sigmoid<Double>()
            Dense<Double>(inputSize: 6, outputSize: 3); Softmax<Double>()
        }
        let saturatedHealth = LayerHealth.measure(saturated, probe: data, loss: .crossEntropy)
        #expect((saturatedHealth[0].saturated ?? 0) > 0.9)
        #expect(LayerHealth.warnings(saturatedHealth).contains { $0.kind == .saturation && $0.message.contains("Xavier") })
        // Equal weights: the units are copies of one another; δ cannot reach layer 1.
        let symmetric = Sequential<Double>(seed: 3) {
            Dense<Double>(inputSize: 4, outputSize: 6, weightInitializer: .zeros); Tanh<Double>()
            Dense<Double>(inputSize: 6, outputSize: 3, weightInitializer: .zeros); Softmax<Double>()
        }
        let symmetricHealth = LayerHealth.measure(symmetric, probe: data, loss: .crossEntropy)
        #expect(symmetricHealth[0].distinctUnits == 1)
        let warnings = LayerHealth.warnings(symmetricHealth)
        #expect(warnings.contains { $0.kind == .symmetry && $0.message.contains("all 6 units are identical") })
        // A healthy network: random units, none dead or saturated, no warning.
        let healthy = LayerHealth.measure(classifier(), probe: data, loss: .crossEntropy)
        #expect(healthy[0].distinctUnits == 8 && (healthy[0].dead ?? 1) < 0.5)
        #expect(LayerHealth.warnings(healthy).isEmpty, "\(LayerHealth.warnings(healthy).map(\.message))")
    }

    @Test("distinct units: copies found within rounding, different units kept apart")
    func distinctUnits() {
        let weight = Tensor<Double>(shape: [4, 2], scalars: [1, 2, 1, 2 + 1e-12, 1, 3, 1, 2])
        #expect(LayerHealth.distinctRows(weight, bias: nil) == 2)
        #expect(LayerHealth.distinctRows(weight, bias: Tensor([0, 0, 1, 5])) == 3)  // rows 0 and 1 still copies
    }

    @Test("the probe changes nothing of the run, and its update ratio is the last step's ‖ΔW‖/‖W‖")
    func probeDuringTraining() throws {
        let data = try classificationData(count: 64)
        func train(health: Bool) throws -> (Sequential<Double>, History) {
            let model = classifier()
            var configuration = try FitConfiguration(epochs: 3, batchSize: .full, loss: .crossEntropy, seed: 9)
            if health { configuration.healthProbeExamples = 16 }
            var trainer = Trainer(model: model, optimizer: try SGD<Double>(learningRate: 0.5), configuration: configuration)
            return (model, try trainer.run(data: data))
        }
        let (plain, plainHistory) = try train(health: false)
        let (probed, history) = try train(health: true)
        #expect(parameterValues(plain) == parameterValues(probed))
        #expect(plainHistory.epochs.allSatisfy { $0.health == nil })
        #expect(history.epochs.allSatisfy { $0.health?.count == 2 })
        // Full batch: the last step of epoch 3 took the weights from their epoch-2 values.
        let (twoEpochs, _) = try {
            let model = classifier()
            var trainer = Trainer(model: model, optimizer: try SGD<Double>(learningRate: 0.5),
                                  configuration: try FitConfiguration(epochs: 2, batchSize: .full, loss: .crossEntropy, seed: 9))
            return (model, try trainer.run(data: data))
        }()
        let before = twoEpochs.namedParameters[0].tensor.scalars, after = probed.namedParameters[0].tensor.scalars
        let change = zip(after, before).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let size = before.map { $0 * $0 }.reduce(0, +).squareRoot()
        let ratio = try #require(history.epochs[2].health?[0].updateRatio)
        #expect(abs(ratio - change / size) < 1e-12 * ratio && ratio > 0)
    }

    @Test("step records: one per batch, examples counted, long epochs grouped, the same after a stop and resume")
    func steps() throws {
        let data = try classificationData(count: 100)
        var trainer = Trainer(model: classifier(), optimizer: try SGD<Double>(learningRate: 0.1),
                              configuration: try FitConfiguration(epochs: 2, batchSize: .examples(30), loss: .crossEntropy, seed: 1))
        let history = try trainer.run(data: data)
        #expect(history.steps.map(\.step) == Array(1...8))
        #expect(history.steps.map(\.examplesSeen) == [30, 60, 90, 100, 130, 160, 190, 200])
        #expect(history.steps.map(\.epoch) == [0, 0, 0, 0, 1, 1, 1, 1] && history.steps.allSatisfy { $0.batches == 1 })
        // The batches' mean loss over an epoch (weighted by batch size) is the epoch's training loss.
        let epochLoss = zip(history.steps.prefix(4), [30.0, 30, 30, 10]).map { $0.loss * $1 }.reduce(0, +) / 100
        #expect(abs(epochLoss - history.epochs[0].training.loss) < 1e-12)

        // 450 batches of 1 in an epoch: groups of 3, 150 points.
        let small = try classificationData(count: 450)
        var stochastic = Trainer(model: classifier(), optimizer: try SGD<Double>(learningRate: 0.01),
                                 configuration: try FitConfiguration(epochs: 1, batchSize: .examples(1), loss: .crossEntropy, seed: 2))
        let grouped = try stochastic.run(data: small).steps
        #expect(grouped.count == 150 && grouped.allSatisfy { $0.batches == 3 } && grouped.last?.step == 450)

        // Stopped after 5 batches of the first epoch and resumed: the same records.
        let stopAfter = StopAfter(batches: 5)
        var first = Trainer(model: classifier(), optimizer: try SGD<Double>(learningRate: 0.01),
                            configuration: try FitConfiguration(epochs: 2, batchSize: .examples(1), loss: .crossEntropy, seed: 2),
                            callbacks: [stopAfter])
        first.stopRequested = { stopAfter.count >= 5 }
        let partial = try first.run(data: small)
        #expect(partial.isInterrupted && partial.pendingStep?.batches == 2)
        let encoded = try JSONEncoder().encode(first.progress)
        var resumed = Trainer(model: first.model, optimizer: first.optimizer, configuration: first.configuration,
                              resumingFrom: try JSONDecoder().decode(TrainingProgress.self, from: encoded), baseLearningRate: 0.01)
        var whole = Trainer(model: classifier(), optimizer: try SGD<Double>(learningRate: 0.01),
                            configuration: try FitConfiguration(epochs: 2, batchSize: .examples(1), loss: .crossEntropy, seed: 2))
        #expect(try resumed.run(data: small).steps == whole.run(data: small).steps)
    }

    @Test("a checkpoint's history from before the step records decodes, with none")
    func oldHistory() throws {
        let json = #"{"epochs":[],"stoppedEarly":false,"isInterrupted":true}"#
        let history = try JSONDecoder().decode(History.self, from: Data(json.utf8))
        #expect(history.steps.isEmpty && history.pendingStep == nil && history.isInterrupted)
    }
}

/// Counts batches (for a stop requested after some).
final class StopAfter: TrainingCallback, @unchecked Sendable {
    let batches: Int
    private(set) var count = 0
    init(batches: Int) { self.batches = batches }
    func batchEnded(_ event: BatchEvent) -> CallbackDecision {
        count += 1
        return .proceed
    }
}
