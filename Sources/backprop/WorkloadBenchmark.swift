import ArgumentParser
import Datasets
import Foundation
import Kernels
import NeuralNetworks
import Tensors
import Training

/// The training workloads of bench/WORKLOADS.md, timed like the peers' scripts.
struct WorkloadBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract: "W1 (the notes' MLP), W2 (ReLU MLP), W4 (per-step overhead), W5 (inference): one JSON line per thread count.",
        discussion: """
            W1: 784 → 300 sigmoid → 10, W ~ N(0, 1), SGD α = 5, batch 1000, 10 epochs; epoch \
            seconds are the median of epochs 2–4 (epoch 1 is the warm-up), as in w1_cs229_mlp.py.
            W2: 784 → 256 ReLU → 128 ReLU → 10, momentum 0.9, α = 0.05, batch 64, 5 epochs.
            W4: the housing net 4 → 3 ReLU → 1, squared loss, SGD, batch 1: µs per step.
            W5: W1's model trained for 10 epochs; samples/s at batch 10 000, µs per sample at batch 1.

            Examples:
              backprop bench workload W1 --threads 1,2
              backprop bench workload W2 --epochs 5
            """
    )

    @Argument(help: "W1, W2, W4 or W5.")
    var workload: String

    @Option(help: "Comma-separated thread counts.")
    var threads: String = "1,2"

    @Option(help: "Epochs (default: 10 for W1 and W5, 5 for W2).")
    var epochs: Int?

    @Option(help: "L2 weight decay λ on the weights (W1).")
    var l2: Double = 0

    func validate() throws {
        guard ["W1", "W2", "W4", "W5"].contains(workload.uppercased()) else {
            throw ValidationError("unknown workload '\(workload)' (W1, W2, W4, W5; W0 is 'bench gemm')")
        }
        guard parsedList(threads).map({ $0.allSatisfy { $0 > 0 } }) == true else {
            throw ValidationError("--threads must be positive integers separated by commas, got '\(threads)'")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
    }

    func run() throws {
        for threadCount in parsedList(threads)! {
            BLAS.setThreadCount(threadCount)
            var record: [String: Any]
            switch workload.uppercased() {
            case "W1": record = try trainMLP(spec: "cs229", lr: 5, momentum: 0, batch: 1000, epochs: epochs ?? 10, l2: l2)
            case "W2": record = try trainMLP(spec: "mlp", lr: 0.05, momentum: 0.9, batch: 64, epochs: epochs ?? 5, l2: 0)
            case "W4": record = try perStepOverhead()
            default: record = try inference()
            }
            record["workload"] = workload.uppercased()
            record["threads"] = threadCount
            record["peak_rss_mb"] = peakResidentMegabytes()
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    private func fashionMNIST() throws -> (LabeledData<Float>, LabeledData<Float>) {
        let train = try MNISTFormat.load(.training, as: Float.self)
        let test = try MNISTFormat.load(.test, as: Float.self)
        return (try LabeledData(features: train.flattenedImages, targets: .labels(train.labels, classes: 10)),
                try LabeledData(features: test.flattenedImages, targets: .labels(test.labels, classes: 10)))
    }

    private func trainMLP(spec: String, lr: Double, momentum: Double, batch: Int, epochs: Int, l2: Double)
        throws -> [String: Any]
    {
        let (train, test) = try fashionMNIST()
        let model = ModelSpec.preset(spec)!.build(Float.self, seed: 1234)
        var optimizer = try SGD<Float>(learningRate: lr, momentum: momentum, weightDecay: l2)
        let history = try fit(model, optimizer: &optimizer, data: train, configuration: FitConfiguration(
            epochs: epochs, batchSize: .examples(batch), loss: .crossEntropy, seed: 1235))
        let times = history.epochs.map(\.seconds)
        let timed = times.count >= 4 ? Array(times[1..<4]) : Array(times.dropFirst().isEmpty ? times : Array(times.dropFirst()))
        let accuracy = evaluate(model, on: test, loss: .crossEntropy).accuracy ?? 0
        return [
            "epoch_s": median(timed), "epoch_times_s": times.map { ($0 * 1000).rounded() / 1000 },
            "test_acc": accuracy, "l2": l2, "epochs": epochs,
            "steps_per_epoch": (train.count + batch - 1) / batch,
            "us_per_step": median(timed) / Double((train.count + batch - 1) / batch) * 1e6,
        ]
    }

    /// W4: the notes' housing network, one example per step.
    private func perStepOverhead() throws -> [String: Any] {
        var generator = RandomSource(seed: 1234)
        let x = Tensor<Float>.randomNormal([256, 4], using: &generator)
        let trueWeights = Tensor<Float>([[0.5], [-0.25], [1.0], [0.75]])
        let y = Tensor.matmul(x, trueWeights).relu() + 0.1
        let model = Sequential<Float>(seed: 1234) {
            Dense(inputSize: 4, outputSize: 3)
            ReLU()
            Dense(inputSize: 3, outputSize: 1)
        }
        var optimizer = try SGD<Float>(learningRate: 0.01)
        let rows = (0..<256).map { [$0] }
        let inputs = rows.map { x.gatheringRows($0) }, targets = rows.map { y.gatheringRows($0) }
        func mse() -> Double { Double(withoutGradients { meanSquaredError(predictions: model(x), targets: y) }.scalar) }
        let before = mse()
        var blocks: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<20 {
            let elapsed = clock.measure {
                for i in 0..<256 {
                    let loss = squaredLoss(predictions: model(inputs[i]), targets: targets[i])
                    loss.backward()
                    optimizer.step(model)
                }
            }
            blocks.append(elapsed.seconds / 256 * 1e6)
        }
        return ["us_per_step": median(blocks), "min_block_us": blocks.min()!, "mse_before": before, "mse_after": mse()]
    }

    /// W5: W1's model, trained, evaluated at batch 10 000 and batch 1.
    private func inference() throws -> [String: Any] {
        let (train, test) = try fashionMNIST()
        let model = ModelSpec.preset("cs229")!.build(Float.self, seed: 1234)
        var optimizer = try SGD<Float>(learningRate: 5)
        _ = try fit(model, optimizer: &optimizer, data: train, configuration: FitConfiguration(
            epochs: epochs ?? 10, batchSize: .examples(1000), loss: .crossEntropy, seed: 1235))
        let clock = ContinuousClock()
        let features = test.features
        _ = model.predict(features, batchSize: 10_000)
        let big = (0..<5).map { _ in clock.measure { _ = model.predict(features, batchSize: 10_000) }.seconds }
        let singles = (0..<1000).map { features.gatheringRows([$0]) }
        _ = model.predict(singles[0])
        let small = clock.measure { for input in singles { _ = model.predict(input) } }.seconds
        return [
            "batch10000_samples_per_s": 10_000 / median(big), "batch10000_ms_per_call": median(big) * 1000,
            "batch1_us_per_sample": small / 1000 * 1e6, "batch1_samples_per_s": 1000 / small,
            "test_acc": evaluate(model, on: test, loss: .crossEntropy).accuracy ?? 0,
        ]
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The process's peak resident memory (VmHWM), in MiB; 0 where /proc is absent.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes / 1024
}
