import CBLAS
import Datasets
import Kernels
import NeuralNetworks
import Tensors
import Testing
import Training

/// Training on the real Fashion-MNIST files (Debian's dataset-fashion-mnist), with the
/// settings of Benchmarks/WORKLOADS.md. PyTorch's figures for the same settings are in the
/// notes on the issue; these tests hold the floor that the notes' claims need.
///
/// The thread count changes the order in which BLAS sums, and so the run: every test
/// here sets the count it is written for, and the suite (with the CNN suite nested in
/// it) runs one test at a time so that no other real-data test changes it meanwhile.
@Suite("Fashion-MNIST end to end, one test at a time, thread counts pinned", .serialized)
struct RealDataTests {
    static func data() throws -> (train: Dataset<Float>, test: Dataset<Float>) {
        let train = try MNISTFormat.load(.training, as: Float.self)
        let test = try MNISTFormat.load(.test, as: Float.self)
        return (try Dataset(features: train.flattenedImages, targets: .labels(train.labels, classes: 10)),
                try Dataset(features: test.flattenedImages, targets: .labels(test.labels, classes: 10)))
    }

    /// W1: the notes' network 784 → 300 sigmoid → 10 softmax, W ~ N(0, 1), plain
    /// mini-batch SGD, α = 5, batch 1000, 10 epochs. PyTorch reaches 0.789–0.793 test
    /// accuracy with these settings; we must be within 1.5 points of it.
    @Test("W1, the notes' MLP with plain SGD, reaches PyTorch's accuracy (≥ 0.775) with 1 and with 2 threads",
          arguments: [1, 2])
    func notesNetwork(threads: Int) throws {
        // One thread: this test's own, without changing the count that tests running
        // meanwhile see; two: BLAS's count on a 2-core machine.
        if threads == 1 { backprop_blas_set_alone_here(1) } else if BLAS.threadCount != threads { BLAS.setThreadCount(threads) }
        defer { backprop_blas_set_alone_here(0) }
        #expect(BLAS.threadCount == threads)
        let (train, test) = try Self.data()
        let model = ModelSpec.preset("cs229")!.build(Float.self, seed: 42)
        var optimizer = try SGD<Float>(learningRate: 5)
        let history = try fit(model, optimizer: &optimizer, data: train, configuration: FitConfiguration(
            epochs: 10, batchSize: .examples(1000), loss: .crossEntropy, seed: 42))
        let metrics = try evaluate(model, on: test, loss: .crossEntropy)
        print("W1 test accuracy with \(threads) thread(s) \(metrics.accuracy!), training loss per epoch \(history.epochs.map(\.training.loss))")
        #expect(metrics.accuracy! >= 0.775, "seed 42, \(threads) thread(s)")
        #expect(history.epochs.last!.training.loss < history.epochs.first!.training.loss)
    }

    /// A ReLU MLP 784 → 256 → 128 → 10 with classical momentum (W2's settings, plus a
    /// cosine learning-rate schedule — the constant rate ends near 0.87) reaches at least
    /// 88 % test accuracy within 10 epochs: `backprop train`'s default model.
    @Test("ReLU MLP with momentum reaches 88 % within 10 epochs")
    func reluNetwork() throws {
        if BLAS.threadCount != 2 { BLAS.setThreadCount(2) }
        let (train, test) = try Self.data()
        let model = ModelSpec.preset("mlp")!.build(Float.self, seed: 42)
        var optimizer = try SGD<Float>(learningRate: 0.05, momentum: 0.9)
        _ = try fit(model, optimizer: &optimizer, data: train, configuration: FitConfiguration(
            epochs: 10, batchSize: .examples(64), loss: .crossEntropy, seed: 42,
            schedule: .cosine(epochs: 10, minimum: 0)))
        let metrics = try evaluate(model, on: test, loss: .crossEntropy)
        print("ReLU MLP test accuracy \(metrics.accuracy!)")
        #expect(metrics.accuracy! >= 0.88, "seed 42")
    }
}
