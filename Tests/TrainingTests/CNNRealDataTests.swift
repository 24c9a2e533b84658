import Datasets
import Kernels
import NeuralNetworks
import Tensors
import Testing
import Training

extension RealDataTests {
    /// The convolutional network of workload W3 (Benchmarks/WORKLOADS.md) trained on the real
    /// Fashion-MNIST files, images kept as `[N, 1, 28, 28]`.
    @Suite("Fashion-MNIST with a CNN")
    struct CNNRealDataTests {
        /// W3's network and optimiser (SGD, classical momentum 0.9, α = 0.05, batch 64), with
        /// α divided by 10 after the first epoch, for 2 epochs: 0.907 test accuracy with seed
        /// 42 (0.888 after epoch 1). Dividing α by 5 instead gives 0.901 after 2 epochs and
        /// 0.909 after 3; with W3's constant α the same network reaches 0.906 after 5 epochs;
        /// PyTorch reports 0.893 after W3's 2 epochs. Two epochs take about 40 s on two cores.
        @Test("W3's CNN reaches 90 % test accuracy in 2 epochs")
        func w3Network() throws {
            if BLAS.threadCount != 2 { BLAS.setThreadCount(2) }
            let train = try MNISTFormat.load(.training, as: Float.self)
            let test = try MNISTFormat.load(.test, as: Float.self)
            let trainingData = try Dataset(features: train.images, targets: .labels(train.labels, classes: 10))
            let testData = try Dataset(features: test.images, targets: .labels(test.labels, classes: 10))
            #expect(train.images.shape == [60_000, 1, 28, 28])
            let model = ModelSpec.network(preset: "cnn", as: Float.self, seed: 42)!
            var optimizer = try SGD<Float>(learningRate: 0.05, momentum: 0.9)
            let history = try fit(model, optimizer: &optimizer, data: trainingData, configuration: FitConfiguration(
                epochs: 2, batchSize: .examples(64), loss: .crossEntropy, seed: 42,
                schedule: .step(epochs: 1, factor: 0.1)))
            let metrics = try evaluate(model, on: testData, loss: .crossEntropy)
            print("W3 CNN test accuracy \(metrics.accuracy!), training loss per epoch \(history.epochs.map(\.training.loss)), seconds per epoch \(history.epochs.map(\.seconds))")
            #expect(metrics.accuracy! >= 0.90, "seed 42")
            #expect(history.epochs.last!.training.loss < history.epochs.first!.training.loss)
        }
    }
}
