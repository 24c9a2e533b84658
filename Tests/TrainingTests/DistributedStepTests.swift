import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import Training

/// K "processes" as K threads of this one, each with its own trainer and model, joined by
/// a reducer that adds their arrays in rank order: the step MPI ranks run, without MPI.
final class ThreadReducer: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var deposits: [[Double]?]
    private var result: [Double] = []
    private var arrived = 0
    private var generation = 0

    init(size: Int) {
        self.size = size
        deposits = Array(repeating: nil, count: size)
    }

    func sum(_ values: [Double], rank: Int) -> [Double] {
        condition.lock()
        defer { condition.unlock() }
        let myGeneration = generation
        deposits[rank] = values
        arrived += 1
        if arrived == size {
            var total = deposits[0]!
            for r in 1..<size { for i in total.indices { total[i] += deposits[r]![i] } }
            result = total
            arrived = 0
            deposits = Array(repeating: nil, count: size)
            generation += 1
            condition.broadcast()
        } else {
            while generation == myGeneration { condition.wait() }
        }
        return result
    }

    /// The reducer one rank sees. Sums started early run on a communication queue of the
    /// rank's own, in order, as MPIWorld's do; a blocking sum waits for them first.
    final class Rank: GradientReducer, @unchecked Sendable {
        let shared: ThreadReducer
        let rank: Int
        var size: Int { shared.size }
        private let queue: DispatchQueue
        init(_ shared: ThreadReducer, rank: Int) {
            (self.shared, self.rank) = (shared, rank)
            queue = DispatchQueue(label: "rank \(rank) sums")
        }
        func sum(_ values: inout [Double]) {
            let input = values
            values = queue.sync { shared.sum(input, rank: rank) }
        }
        func sum(_ values: inout [Float]) {
            let input = values.map(Double.init)
            values = queue.sync { shared.sum(input, rank: rank) }.map { Float($0) }
        }
        func startSum(_ values: UnsafeMutableBufferPointer<Double>) -> any PendingSum {
            nonisolated(unsafe) let v = values
            return started { _ = v.update(fromContentsOf: self.shared.sum(Array(v), rank: self.rank)) }
        }
        func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> any PendingSum {
            nonisolated(unsafe) let v = values
            return started { _ = v.update(fromContentsOf: self.shared.sum(v.map(Double.init), rank: self.rank).map { Float($0) }) }
        }
        private final class Started: PendingSum, @unchecked Sendable {
            let done = DispatchSemaphore(value: 0)
            func wait() { done.wait() }
        }
        private func started(_ work: @escaping @Sendable () -> Void) -> any PendingSum {
            let pending = Started()
            queue.async { work(); pending.done.signal() }
            return pending
        }
    }
}

@Suite("data-parallel training over several processes (a reducer)")
struct DistributedStepTests {
    typealias Model = @Sendable () -> Sequential<Double>

    /// Trains `ranks` copies side by side (threads standing in for processes) and alone;
    /// returns each rank's weights, the lone run's weights, and the histories.
    static func train(ranks: Int, model: @escaping Model, data: Dataset<Double>, batch: Int, epochs: Int = 2)
        throws -> (ranks: [[String: [Double]]], alone: [String: [Double]], histories: [History], aloneHistory: History)
    {
        @Sendable func configuration() throws -> FitConfiguration {
            try FitConfiguration(epochs: epochs, batchSize: .examples(batch), loss: .crossEntropy, seed: 5)
        }
        let lone = model()
        var trainer = Trainer(model: lone, optimizer: try SGD<Double>(learningRate: 0.2, momentum: 0.9), configuration: try configuration())
        let aloneHistory = try trainer.run(data: data)
        let shared = ThreadReducer(size: ranks)
        nonisolated(unsafe) let sharedData = data
        nonisolated(unsafe) var weights = [[String: [Double]]](repeating: [:], count: ranks)
        nonisolated(unsafe) var histories = [History](repeating: History(), count: ranks)
        nonisolated(unsafe) var failure: (any Error)?
        let threads = (0..<ranks).map { rank in
            Thread {
                do {
                    let copy = model()
                    var rankTrainer = Trainer(model: copy, optimizer: try SGD<Double>(learningRate: 0.2, momentum: 0.9),
                                              configuration: try configuration())
                    rankTrainer.reducer = ThreadReducer.Rank(shared, rank: rank)
                    histories[rank] = try rankTrainer.run(data: sharedData)
                    weights[rank] = stateValues(copy)
                } catch { failure = error }
            }
        }
        threads.forEach { $0.stackSize = 8 << 20; $0.start() }
        while threads.contains(where: { !$0.isFinished }) { usleep(1000) }
        if let failure { throw failure }
        return (weights, stateValues(lone), histories, aloneHistory)
    }

    /// The parameters and the buffers (batch normalisation's running statistics) by name.
    static func stateValues(_ model: Sequential<Double>) -> [String: [Double]] {
        parameterValues(model).merging(model.namedBuffers.map { ($0.name, $0.tensor.scalars) }) { a, _ in a }
    }

    /// 24 random 1×6×6 images in 3 classes.
    static func imageData() throws -> Dataset<Double> {
        var generator = RandomSource(seed: 8)
        let images = Tensor<Double>.randomNormal([24, 1, 6, 6], using: &generator)
        return try Dataset(features: images, targets: .labels((0..<24).map { $0 % 3 }, classes: 3))
    }

    /// Each rank's weights and running statistics equal one process's within 1e-10 and
    /// each other's bit for bit.
    static func expectSameAsOneProcess(_ result: (ranks: [[String: [Double]]], alone: [String: [Double]], histories: [History], aloneHistory: History),
                                       _ label: String) {
        for weights in result.ranks {
            #expect(weights == result.ranks[0], "\(label): ranks hold identical weights")
            #expect(Set(weights.keys) == Set(result.alone.keys))
            for (name, values) in result.alone {
                let difference = maxAbsDifference(values, weights[name] ?? [])
                #expect(difference < 1e-10, "\(label): \(name) differs by \(difference)")
            }
        }
    }

    @Test("K = 1, 2, 3, 4: each rank's weights equal one process's within 1e-10 after 20 steps, and each other's bit for bit", arguments: [1, 2, 3, 4])
    func dense(ranks: Int) throws {
        let data = try classificationData(count: 200)
        // 20 steps: 2 epochs of 10 batches of 20 (3 ranks: shares of 6, 7 and 7).
        let result = try Self.train(ranks: ranks, model: { classifier() }, data: data, batch: 20)
        for weights in result.ranks {
            #expect(weights == result.ranks[0], "ranks hold identical weights")
            for (name, values) in result.alone { #expect(maxAbsDifference(values, weights[name]!) < 1e-10, "\(name)") }
        }
        // Metrics over the whole epoch on every rank, as one process computes them.
        for history in result.histories {
            #expect(abs(history.epochs[1].training.loss - result.aloneHistory.epochs[1].training.loss) < 1e-10)
            #expect(history.epochs[1].training.accuracy == result.aloneHistory.epochs[1].training.accuracy)
            #expect(history.steps.count == 20)
        }
    }

    @Test("a batch smaller than the ranks (empty shares), and a convolutional network through autodiff")
    func edges() throws {
        let data = try classificationData(count: 30)
        let small = try Self.train(ranks: 4, model: { classifier() }, data: data, batch: 3, epochs: 1)
        for weights in small.ranks {
            for (name, values) in small.alone { #expect(maxAbsDifference(values, weights[name]!) < 1e-10, "\(name)") }
        }
        let imageData = try Self.imageData()
        let conv = try Self.train(ranks: 2, model: { try! NetworkSpec(parsing: "1x6x6 conv3k3 tanh maxpool2 flatten 3 softmax").build(Double.self, seed: 4) },
                                  data: imageData, batch: 8)
        for weights in conv.ranks {
            #expect(weights == conv.ranks[0])
            for (name, values) in conv.alone { #expect(maxAbsDifference(values, weights[name]!) < 1e-10, "\(name)") }
        }
    }

    @Test("a CNN with batch normalisation, K = 1, 2, 3, 4: synchronised statistics give one process's weights and running statistics", arguments: [1, 2, 3, 4])
    func batchNormalization(ranks: Int) throws {
        // 3 epochs of 3 batches of 8 (the last of each epoch 8 too): 9 steps; 3 ranks take
        // shares of 2, 3 and 3, and the running statistics move every step.
        let spec = "1x6x6 conv4k3 bn relu maxpool2 flatten 8 bn tanh 3 softmax"
        let result = try Self.train(ranks: ranks, model: { try! NetworkSpec(parsing: spec).build(Double.self, seed: 4) },
                                    data: try Self.imageData(), batch: 8, epochs: 3)
        #expect(result.alone.keys.contains("1.running_mean") && result.alone.keys.contains("6.running_var"))
        Self.expectSameAsOneProcess(result, "\(ranks) ranks")
    }

    @Test("batch normalisation with shares that are empty: the ranks without examples still take part in the sums")
    func batchNormalizationEmptyShares() throws {
        let result = try Self.train(ranks: 4, model: { try! NetworkSpec(parsing: "4-6-bn-relu-3:softmax").build(Double.self, seed: 3) },
                                    data: try classificationData(count: 26), batch: 8, epochs: 2)
        // 26 examples in batches of 8: the last batch has 2, two of the four shares are empty.
        Self.expectSameAsOneProcess(result, "4 ranks, a batch of 2")
    }

    @Test("dropout draws each example's mask by its place in the batch: K ranks drop what one process drops", arguments: [2, 4])
    func dropout(ranks: Int) throws {
        let spec = "4-16:relu-dropout0.5-16:relu-dropout0.25-3:softmax"
        let result = try Self.train(ranks: ranks, model: { try! NetworkSpec(parsing: spec).build(Double.self, seed: 6) },
                                    data: try classificationData(count: 200), batch: 20)
        Self.expectSameAsOneProcess(result, "dropout, \(ranks) ranks")
        // Dropout did act: the same run without it ends elsewhere.
        let without = try Self.train(ranks: 1, model: { try! NetworkSpec(parsing: "4-16:relu-16:relu-3:softmax").build(Double.self, seed: 6) },
                                     data: try classificationData(count: 200), batch: 20)
        #expect(maxAbsDifference(without.alone["0.weight"]!, result.alone["0.weight"]!) > 1e-3)
    }

    @Test("gradient buckets: from the last layer back, closed at 64 KiB or an eighth of the model; the loss and stop flag in the last")
    func bucketLayout() throws {
        let reducer = ThreadReducer.Rank(ThreadReducer(size: 1), rank: 0)
        // W2's layers 784 → 256 → 128 → 10 in Float: the two upper layers (137 KB) fill the
        // first bucket, the first layer (804 KB) the second.
        let w2 = GradientBuckets<Float>(shapes: [[256, 784], [256], [128, 256], [128], [10, 128], [10]], reducer: reducer)
        #expect(w2.parameters == [2..<6, 0..<2])
        // The notes' 784 → 300 → 10: the upper layer (12 KB) is below the limit and joins the first.
        let w1 = GradientBuckets<Float>(shapes: [[300, 784], [300], [10, 300], [10]], reducer: reducer)
        #expect(w1.parameters == [0..<4])
        // Every parameter its own bucket when each is large; none lost when none are.
        let big = GradientBuckets<Double>(shapes: [[100, 100], [100, 100], [100, 100]], reducer: reducer)
        #expect(big.parameters == [2..<3, 1..<2, 0..<1])
        #expect(GradientBuckets<Double>(shapes: [], reducer: reducer).parameters == [0..<0])
        // A sum through the buckets returns each gradient, weighted, and the loss and stop flag.
        big.begin(weight: 0.5, overlap: true)
        for index in [2, 1, 0] { big.deposit(index, Tensor<Double>(repeating: Double(index + 1), shape: [100, 100])) }
        let result = big.finish(loss: 3, stop: true)
        #expect(result.loss == 1.5 && result.stop)
        #expect(result.gradients.map { $0.scalars.max()! } == [0.5, 1, 1.5] && result.gradients.map(\.shape) == [[100, 100], [100, 100], [100, 100]])
    }

    @Test("a MLP big enough for two buckets, their sums overlapping the backward pass: K = 2, 3 equal one process", arguments: [2, 3])
    func overlapped(ranks: Int) throws {
        // 4 → 96 → 96 → 3 in Float64: 8 × 96 × 96 bytes = 74 KB in the middle layer, a bucket of its own.
        let result = try Self.train(ranks: ranks, model: { try! NetworkSpec(parsing: "4-96:tanh-96:relu-3:softmax").build(Double.self, seed: 9) },
                                    data: try classificationData(count: 120), batch: 30)
        #expect(GradientBuckets<Double>(shapes: try! NetworkSpec(parsing: "4-96:tanh-96:relu-3:softmax").build(Double.self, seed: 9)
                    .namedParameters.map(\.tensor.shape), reducer: ThreadReducer.Rank(ThreadReducer(size: 1), rank: 0)).parameters.count == 2)
        Self.expectSameAsOneProcess(result, "\(ranks) ranks, overlapped")
        // Through autodiff (a convolution): the dense layers' bucket starts from the
        // parameters' gradient hooks while the convolution's backward pass runs.
        let cnn = "1x6x6 conv8k3 relu flatten 96 tanh 3 softmax"
        let conv = try Self.train(ranks: ranks, model: { try! NetworkSpec(parsing: cnn).build(Double.self, seed: 4) },
                                  data: try Self.imageData(), batch: 8)
        #expect(GradientBuckets<Double>(shapes: try! NetworkSpec(parsing: cnn).build(Double.self, seed: 4).namedParameters.map(\.tensor.shape),
                                        reducer: ThreadReducer.Rank(ThreadReducer(size: 1), rank: 0)).parameters == [2..<6, 0..<2])
        Self.expectSameAsOneProcess(conv, "\(ranks) ranks, a CNN overlapped")
    }

    @Test("processes that do not hold the same weights are found after the epoch and stopped with one line")
    func mismatch() throws {
        final class Seeds: @unchecked Sendable {
            private let lock = NSLock()
            private var next: UInt64 = 10
            func take() -> UInt64 { lock.lock(); defer { lock.unlock() }; next += 1; return next }
        }
        let seeds = Seeds()
        // Each call (the lone run, then each rank) starts from other weights.
        #expect {
            _ = try Self.train(ranks: 2, model: { classifier(seed: seeds.take()) }, data: try classificationData(count: 40), batch: 20, epochs: 1)
        } throws: { error in
            "\(error)".contains("holds other weights than the rest (checksums differ)")
        }
    }
}
