import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
import Training
@testable import ModelFiles

/// Requests a stop once `limit` batches have run.
private final class BatchLimit: TrainingCallback, @unchecked Sendable {
    let limit: Int
    var count = 0
    init(_ limit: Int) { self.limit = limit }
    func batchEnded(_ event: BatchEvent) -> CallbackDecision {
        count += 1
        return .proceed
    }
    var isReached: Bool { count >= limit }
}

@Suite("Checkpoints")
struct CheckpointTests {
    static func data() throws -> Dataset<Float> {
        var generator = RandomSource(seed: 21)
        let features = Tensor<Float>.randomNormal([90, 4], using: &generator)
        let labels = (0..<90).map { features[$0, 0] + features[$0, 1] > 0 ? 1 : 0 }
        return try Dataset(features: features, targets: .labels(labels, classes: 3))
    }

    static func configuration() throws -> FitConfiguration {
        try FitConfiguration(epochs: 4, batchSize: .examples(16), loss: .crossEntropy, seed: 8,
                             schedule: .step(epochs: 2, factor: 0.5))
    }

    @Test("a run stopped mid-epoch, checkpointed, and resumed from the file ends with the same weights, bit for bit")
    func exactResume() throws {
        let data = try Self.data()
        // The reference: four epochs without a stop.
        let reference = smallNetwork(Float.self)
        var referenceTrainer = Trainer(model: reference, optimizer: try Adam<Float>(learningRate: 0.02),
                                       configuration: try Self.configuration())
        _ = try referenceTrainer.run(data: data)

        // Stop after 9 batches (inside the second epoch), checkpoint, forget everything.
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let limit = BatchLimit(9)
        var first = Trainer(model: smallNetwork(Float.self), optimizer: try Adam<Float>(learningRate: 0.02),
                            configuration: try Self.configuration(), callbacks: [limit])
        first.stopRequested = { [limit] in limit.isReached }
        let partial = try first.run(data: data)
        #expect(partial.isInterrupted && first.progress.epoch == 1 && first.progress.nextBatch == 3)
        let checkpoint = try Checkpoint(
            model: first.model, optimizer: first.optimizer, epoch: first.progress.epoch,
            generator: RandomSource(state: first.progress.epochStartGenerator),
            trainingState: JSONValue(encoding: first.progress))
        try checkpoint.write(to: directory.file("run.checkpoint"))
        #expect(try directory.contents() == ["run.checkpoint"])

        // Resume from the file alone.
        let saved = try Checkpoint<Float>(contentsOf: directory.file("run.checkpoint"))
        #expect(saved.epoch == 1)
        let model = try saved.makeModel()
        var optimizer = try Adam<Float>(learningRate: 0.02)
        try saved.restore(into: model, optimizer: &optimizer)
        let progress = try #require(saved.trainingState).decoded(as: TrainingProgress.self)
        #expect(progress == first.progress)
        var resumed = Trainer(model: model, optimizer: optimizer, configuration: try Self.configuration(),
                              resumingFrom: progress, baseLearningRate: 0.02)
        let history = try resumed.run(data: data)
        #expect(history.epochs.count == 4)
        for (a, b) in zip(model.namedParameters, reference.namedParameters) {
            #expect(a.tensor.scalars == b.tensor.scalars, "\(a.name)")
        }
        #expect(history.epochs.map(\.training.loss) == referenceTrainer.progress.history.epochs.map(\.training.loss))
    }

    @Test("what a checkpoint holds: optimiser state under 'optimizer.', generators exactly, architecture")
    func contents() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = smallNetwork(Float.self)
        var optimizer = try SGD<Float>(learningRate: 0.1, momentum: 0.9)
        let loss = model(Tensor<Float>.ones([2, 4])).sum()
        loss.backward()
        optimizer.step(model)
        let generator = RandomSource(state: [UInt64.max, 1, 1 << 63, 12_345_678_901_234_567_890])
        try Checkpoint(model: model, optimizer: optimizer, epoch: 7, generator: generator)
            .write(to: directory.file("c"))
        let file = try SafeTensors(contentsOf: directory.file("c"))
        #expect(file.tensors.keys.sorted() == ["0.bias", "0.weight", "3.weight",
                                               "optimizer.0.bias.velocity", "optimizer.0.weight.velocity",
                                               "optimizer.3.weight.velocity"])
        let saved = try Checkpoint<Float>(contentsOf: directory.file("c"))
        #expect(saved.epoch == 7 && saved.generator == generator)
        #expect(saved.layerGenerators.keys.sorted() == ["2"])
        #expect(saved.architecture == (try ModelArchitecture(describing: model)))
        #expect(saved.optimizerState.keys.sorted() == optimizer.state.keys.sorted())
        // The weights part alone loads as a model file's weights.
        let fresh = smallNetwork(Float.self, seed: 99)
        try StateDictionary.load(saved.weights, into: fresh)
        #expect(fresh.namedParameters.map(\.tensor) == model.namedParameters.map(\.tensor))
    }

    @Test("a checkpoint of the wrong kind or a damaged one is a typed error")
    func badCheckpoints() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        try StateDictionary.safeTensors(of: smallNetwork(Float.self)).write(to: directory.file("weights"))
        let notCheckpoint = #expect(throws: ModelFileError.self) { try Checkpoint<Float>(contentsOf: directory.file("weights")) }
        #expect(notCheckpoint?.description.hasSuffix("not a Backprop checkpoint (no 'backprop.checkpoint' metadata)") == true)
        let model = smallNetwork(Float.self)
        let checkpoint = try Checkpoint(model: model, optimizer: try SGD<Float>(learningRate: 0.1), epoch: 1,
                                        generator: RandomSource(seed: 1))
        var file = try SafeTensors(data: {
            try checkpoint.write(to: directory.file("c"))
            return try Data(contentsOf: URL(fileURLWithPath: directory.file("c")))
        }())
        file.metadata["backprop.generator"] = "[0,0,0,0]"
        try file.write(to: directory.file("c"))
        #expect(throws: ModelFileError.self) { try Checkpoint<Float>(contentsOf: directory.file("c")) }
        #expect(throws: ModelFileError.self) { try Checkpoint<Double>(contentsOf: directory.file("c")).makeModel() }
    }
}
