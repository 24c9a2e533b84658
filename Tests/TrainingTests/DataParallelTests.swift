import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import Training

/// The data-parallel step: a batch split into shares on threads of their own, gradients
/// combined, one update.
@Suite("data-parallel step")
struct DataParallelTests {
    static func train(threads: Int, batch: FitConfiguration.BatchSize = .examples(50), epochs: Int = 3) throws -> Sequential<Double> {
        let data = try classificationData(count: 200)
        let model = classifier()
        var configuration = try FitConfiguration(epochs: epochs, batchSize: batch, loss: .crossEntropy, seed: 7)
        configuration.threads = threads
        var trainer = Trainer(model: model, optimizer: try SGD<Double>(learningRate: 0.3, momentum: 0.9), configuration: configuration)
        _ = try trainer.run(data: data)
        return model
    }

    @Test("the same thread count gives the same weights bit for bit; other counts the same up to the order of summation")
    func determinism() throws {
        let two = parameterValues(try Self.train(threads: 2))
        #expect(two == parameterValues(try Self.train(threads: 2)))
        let one = parameterValues(try Self.train(threads: 1))
        let three = parameterValues(try Self.train(threads: 3))
        for (name, values) in one {
            #expect(maxAbsDifference(values, two[name]!) < 1e-12, "\(name): 1 vs 2 threads")
            #expect(maxAbsDifference(values, three[name]!) < 1e-12, "\(name): 1 vs 3 threads")
        }
        // Two shares do change the sum's order: the runs are not bit-identical (else this
        // test would not be testing the split).
        #expect(one != two)
    }

    @Test("shares of unequal size are weighted by their size: the step equals the whole batch's mean gradient")
    func unequalShares() throws {
        // 200 examples in batches of 67: shares of 33/34, and a last batch of 66 in 33/33.
        let split = parameterValues(try Self.train(threads: 2, batch: .examples(67), epochs: 2))
        let whole = parameterValues(try Self.train(threads: 1, batch: .examples(67), epochs: 2))
        for (name, values) in whole { #expect(maxAbsDifference(values, split[name]!) < 1e-12, "\(name)") }
    }

    @Test("small batches stay on one thread; a model without a written-out rule trains as before")
    func fallbacks() throws {
        var configuration = try FitConfiguration(epochs: 1, batchSize: .examples(20), loss: .crossEntropy, seed: 1)
        configuration.threads = 2
        let trainer = Trainer(model: classifier(), optimizer: try SGD<Double>(learningRate: 0.1), configuration: configuration)
        #expect(trainer.shareCount(batch: 20) == 1 && trainer.shareCount(batch: 32) == 2 && trainer.shareCount(batch: 1000) == 2)
        // GELU has no written-out rule: autodiff, one thread, the same result with 1 or 2 threads asked.
        func gelu(_ threads: Int) throws -> [String: [Double]] {
            let model = Sequential<Double>(seed: 3) { Dense<Double>(inputSize: 4, outputSize: 8); GELU<Double>(); Dense<Double>(inputSize: 8, outputSize: 3) }
            var configuration = try FitConfiguration(epochs: 2, batchSize: .examples(50), loss: .crossEntropy, seed: 1)
            configuration.threads = threads
            var trainer = Trainer(model: model, optimizer: try SGD<Double>(learningRate: 0.1), configuration: configuration)
            _ = try trainer.run(data: try classificationData(count: 100))
            return parameterValues(model)
        }
        #expect(try gelu(1) == gelu(2))
    }

    @Test("a CNN (convolution, pooling, flatten): shares train to one thread's weights up to the order of summation")
    func convolutional() throws {
        var generator = RandomSource(seed: 12)
        let images = Tensor<Double>.randomNormal([96, 2, 7, 7], using: &generator)
        let data = try Dataset(features: images, targets: .labels((0..<96).map { $0 % 4 }, classes: 4))
        func train(_ threads: Int) throws -> [String: [Double]] {
            let model = try NetworkSpec(parsing: "2x7x7 conv4k3p1 relu maxpool2 conv3k2 tanh avgpool2 flatten 4 softmax")
                .build(Double.self, seed: 6)
            var configuration = try FitConfiguration(epochs: 2, batchSize: .examples(48), loss: .crossEntropy, seed: 2)
            configuration.threads = threads
            var trainer = Trainer(model: model, optimizer: try SGD<Double>(learningRate: 0.1, momentum: 0.9),
                                  configuration: configuration)
            #expect(trainer.shareCount(batch: 48) == Swift.min(threads, 3))
            _ = try trainer.run(data: data)
            return parameterValues(model)
        }
        let (one, two, three) = (try train(1), try train(2), try train(3))
        #expect(one != two, "two shares sum in another order")
        for (name, values) in one {
            #expect(maxAbsDifference(values, two[name]!) < 1e-12, "\(name): 1 vs 2 threads")
            #expect(maxAbsDifference(values, three[name]!) < 1e-12, "\(name): 1 vs 3 threads")
        }
    }

    @Test("Float32: two threads train to the accuracy of one")
    func float32() throws {
        let data = try classificationData(count: 400)
        func accuracy(_ threads: Int) throws -> Double {
            let x = Tensor<Float>(shape: data.features.shape, scalars: data.features.scalars.map { Float($0) })
            guard case .classes(let labels, let classes)? = data.targets else { return 0 }
            let floatData = try Dataset(features: x, targets: .labels(labels, classes: classes.count))
            let model = try NetworkSpec(parsing: "4 32:relu 3:softmax").build(Float.self, seed: 2)
            var configuration = try FitConfiguration(epochs: 20, batchSize: .examples(64), loss: .crossEntropy, seed: 3)
            configuration.threads = threads
            var trainer = Trainer(model: model, optimizer: try SGD<Float>(learningRate: 0.2, momentum: 0.9), configuration: configuration)
            _ = try trainer.run(data: floatData)
            return try evaluate(model, on: floatData, loss: .crossEntropy).accuracy ?? 0
        }
        let (one, two) = (try accuracy(1), try accuracy(2))
        #expect(two > 0.9 && abs(one - two) < 0.02, "1 thread \(one), 2 threads \(two)")
    }
}
