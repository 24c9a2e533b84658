import ArgumentParser
import Datasets
import Foundation
import Kernels
import NeuralNetworks
import Tensors
import Training

/// The training workloads of Benchmarks/WORKLOADS.md, timed like the peers' scripts.
struct WorkloadBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workload",
        abstract: "W0 (GEMM), W1 (the notes' MLP), W2 (ReLU MLP), W3 (small CNN), W4 (per-step overhead), W5 (inference), or all of them: one JSON line per workload and thread count.",
        discussion: """
            W1: 784 → 300 sigmoid → 10, W ~ N(0, 1), SGD α = 5, batch 1000, 10 epochs; epoch \
            seconds are the median of epochs 2–4 (epoch 1 is the warm-up), as in w1_cs229_mlp.py.
            W0: float32 GEMM, square sizes 256…4096, GFLOP/s (the same as 'bench gemm').
            W2: 784 → 256 ReLU → 128 ReLU → 10, momentum 0.9, α = 0.05, batch 64, 5 epochs.
            W3: the "cnn" preset (conv 32, pool, conv 64, pool, dense 128, dense 10) on [N, 1, 28, 28],
                momentum 0.9, α = 0.05, batch 64, 2 epochs; epoch seconds are those of the last epoch.
            W1 and W3 also report gemm_share, the share of the timed epochs spent inside BLAS.
            W4: the housing net 4 → 3 ReLU → 1, squared loss, SGD, batch 1: µs per step, through the
                written-out backpropagation fit() uses (us_per_step), and through a loop of
                model(x), loss.backward(), optimizer.step (us_per_step_autodiff).
            W5: W1's model trained for 10 epochs; samples/s at batch 10 000, µs per sample at batch 1.

            Every line has seconds per epoch or µs per step, samples per second, test accuracy where
            there is one, and the process's peak resident memory (peak_rss_mb); "all" runs each
            workload in a process of its own, so that each line's peak is its own.

            Examples:
              backprop bench                      (all workloads, 1 and 2 threads)
              backprop bench workload W1 --threads 1,2
              backprop bench workload W2 --epochs 5
            """
    )

    @Argument(help: "W0, W1, W2, W3, W4, W5 or all.")
    var workload: String = "all"

    @Option(help: "Comma-separated thread counts.")
    var threads: String = "1,2"

    @Option(help: "Epochs (default: 10 for W1 and W5, 5 for W2, 2 for W3).")
    var epochs: Int?

    @Option(help: "L2 weight decay λ on the weights (W1). (default: 0)", transform: FlagNumber.parse)
    var l2: Double = 0

    @Option(help: "W1, W2, W3: shares of the data-parallel step, each on a thread of its own (default: fit()'s choice, one share per thread for W3's CNN, one share with BLAS splitting each product for W1 and W2).")
    var shares: Int?

    func validate() throws {
        guard (Self.workloads + ["ALL"]).contains(workload.uppercased()) else {
            throw ValidationError("unknown workload '\(workload)' (W0, W1, W2, W3, W4, W5 or all)")
        }
        guard parsedList(threads).map({ $0.allSatisfy { $0 > 0 } }) == true else {
            throw ValidationError("--threads must be positive integers separated by commas, got '\(threads)'")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let shares, shares < 1 { throw ValidationError("--shares must be at least 1") }
    }

    static let workloads = ["W0", "W1", "W2", "W3", "W4", "W5"]

    func run() throws {
        if workload.uppercased() == "ALL" { return try runEachInItsOwnProcess() }
        if workload.uppercased() == "W0" {
            let gemm = try GEMMBenchmark.parse(["--threads", threads, "--json"])
            return try gemm.run()
        }
        for threadCount in parsedList(threads)! {
            BLAS.setThreadCount(threadCount)
            var record: [String: Any]
            switch workload.uppercased() {
            case "W1":
                record = try train(ModelSpec.preset("cs229")!.build(Float.self, seed: 1234), images: false,
                                   lr: 5, momentum: 0, batch: 1000, epochs: epochs ?? 10, l2: l2)
            case "W2":
                record = try train(ModelSpec.preset("mlp")!.build(Float.self, seed: 1234), images: false,
                                   lr: 0.05, momentum: 0.9, batch: 64, epochs: epochs ?? 5, l2: 0)
            case "W3":
                record = try train(ModelSpec.network(preset: "cnn", as: Float.self, seed: 1234)!, images: true,
                                   lr: 0.05, momentum: 0.9, batch: 64, epochs: epochs ?? 2, l2: 0)
            case "W4": record = try perStepOverhead()
            default: record = try inference()
            }
            record["workload"] = workload.uppercased()
            record["threads"] = threadCount
            if let seconds = record["epoch_s"] as? Double, let examples = record["examples"] as? Int {
                record["samples_per_s"] = Double(examples) / seconds
            } else if let microseconds = record["us_per_step"] as? Double {
                record["samples_per_s"] = 1e6 / microseconds
            }
            record["peak_rss_mb"] = peakResidentMegabytes()
            let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// `bench workload all`: this program again for each workload, so that each JSON
    /// line's peak memory is that workload's alone. Stops at the first failure.
    private func runEachInItsOwnProcess() throws {
        guard let program = Bundle.main.executableURL else {
            throw ValidationError("cannot find this program's path to run the workloads")
        }
        for name in Self.workloads {
            var arguments = ["bench", "workload", name, "--threads", threads]
            if name != "W0" && name != "W4", let epochs { arguments += ["--epochs", String(epochs)] }
            if name == "W1", l2 != 0 { arguments += ["--l2", String(l2)] }
            if let shares, ["W1", "W2", "W3"].contains(name) { arguments += ["--shares", String(shares)] }
            let child = Process()
            child.executableURL = program
            child.arguments = arguments
            try child.run()
            child.waitUntilExit()
            guard child.terminationStatus == 0 else {
                throw ValidationError("workload \(name) failed (exit status \(child.terminationStatus))")
            }
        }
    }

    /// Fashion-MNIST's training and test sets, images flattened to 784 or as [N, 1, 28, 28].
    private func fashionMNIST(images: Bool = false) throws -> (Dataset<Float>, Dataset<Float>) {
        let (train, test) = try MNISTFormat.loadSplits(as: Float.self)
        return (train.dataset(flattened: !images), test.dataset(flattened: !images))
    }

    /// Trains `model` with SGD, as the peers' scripts do; the epoch time is the median of
    /// epochs 2–4 (epoch 1 is the warm-up), or the last epoch's when there are fewer.
    private func train(_ model: Sequential<Float>, images: Bool, lr: Double, momentum: Double, batch: Int,
                       epochs: Int, l2: Double) throws -> [String: Any]
    {
        let (train, test) = try fashionMNIST(images: images)
        var optimizer = try SGD<Float>(learningRate: lr, momentum: momentum, weightDecay: l2)
        let productTimer = ProductTimer()
        BLAS.timesProducts = true
        defer { BLAS.timesProducts = false }
        var configuration = try FitConfiguration(epochs: epochs, batchSize: .examples(batch), loss: .crossEntropy, seed: 1235)
        configuration.threads = shares
        let history = try fit(model, optimizer: &optimizer, data: train, configuration: configuration, callbacks: [productTimer])
        // fit()'s choice when no share count is given (FitConfiguration.threads).
        let shareCount = min(shares ?? (images ? BLAS.threadCount : 1), batch / 16)
        let times = history.epochs.map(\.seconds)
        let timedEpochs = times.count >= 4 ? 1..<4 : times.count - 1..<times.count
        let timed = Array(times[timedEpochs])
        let gemmShare = timedEpochs.map { productTimer.seconds[$0] / times[$0] }
        let accuracy = try evaluate(model, on: test, loss: .crossEntropy).accuracy ?? 0
        return [
            "epoch_s": median(timed), "epoch_times_s": times.map { ($0 * 1000).rounded() / 1000 },
            // Products timed on this thread only: with shares on threads of their own, no share.
            "test_acc": accuracy, "l2": l2, "epochs": epochs, "gemm_share": shareCount > 1 ? NSNull() : median(gemmShare) as Any,
            "shares": max(shareCount, 1),
            "steps_per_epoch": (train.count + batch - 1) / batch, "examples": train.count,
            "us_per_step": median(timed) / Double((train.count + batch - 1) / batch) * 1e6,
        ]
    }

    /// W4: the notes' housing network, one example per step, timed as w4_tiny.py does:
    /// 1000 examples y = relu(x₀ + x₁) + relu(x₂ + x₃) + 0.1·noise, MSE, SGD α = 0.01,
    /// 2000 untimed steps, then the median of 5 blocks of 5000 steps (each step takes its
    /// example, runs forward, loss, backward and the update).
    private func perStepOverhead() throws -> [String: Any] {
        var generator = RandomSource(seed: 1234)
        let count = 1000
        let x = Tensor<Float>.randomNormal([count, 4], using: &generator)
        let noise = Tensor<Float>.randomNormal([count, 1], using: &generator)
        let left = Tensor.matmul(x, Tensor<Float>([[1], [1], [0], [0]])).relu()
        let right = Tensor.matmul(x, Tensor<Float>([[0], [0], [1], [1]])).relu()
        let y = left + right + noise * 0.1
        let model = Sequential<Float>(seed: 1234) {
            Dense(inputSize: 4, outputSize: 3)
            ReLU()
            Dense(inputSize: 3, outputSize: 1)
        }
        var optimizer = try SGD<Float>(learningRate: 0.01)
        let inputs = (0..<count).map { x.gatheringRows([$0]) }, targets = (0..<count).map { y.gatheringRows([$0]) }
        func mse() -> Double { Double(withoutGradients { meanSquaredError(predictions: model(x), targets: y) }.scalar) }
        let before = mse()
        // Two ways to train: the written-out backpropagation that fit() uses for dense
        // stacks, and a hand-written loop through autodiff (loss.backward()).
        let backpropagation = WrittenOutBackpropagation(model)!
        var step = 0
        func writtenOutSteps(_ n: Int) {
            for _ in 0..<n {
                let target = targets[step % count]
                let (_, _, gradients) = backpropagation.gradients(inputs[step % count]) {
                    Tensor.meanSquaredErrorWithGradient(predictions: $0, targets: target)
                }
                optimizer.step(model, gradients: gradients)
                step += 1
            }
        }
        func autodiffSteps(_ n: Int) {
            for _ in 0..<n {
                let loss = meanSquaredError(predictions: model(inputs[step % count]), targets: targets[step % count])
                loss.backward()
                optimizer.step(model)
                step += 1
            }
        }
        let clock = ContinuousClock()
        func timeBlocks(_ steps: (Int) -> Void) -> [Double] {
            steps(2000)
            return (0..<5).map { _ in clock.measure { steps(5000) }.seconds / 5000 * 1e6 }
        }
        let blocks = timeBlocks(writtenOutSteps)
        let after = mse()
        // Memory must stay flat over tens of thousands of steps: every step's graph and
        // temporaries freed. Resident memory after a warm-up, then after 27 000 more steps.
        autodiffSteps(1000)
        let residentBefore = residentMegabytes()
        let autodiffBlocks = timeBlocks(autodiffSteps)
        let residentGrowth = residentMegabytes() - residentBefore
        return ["us_per_step": median(blocks), "min_block_us": blocks.min()!, "mse_before": before, "mse_after": after,
                "us_per_step_blocks": blocks.map { ($0 * 100).rounded() / 100 },
                "us_per_step_autodiff": median(autodiffBlocks), "rss_growth_mb_autodiff_27000_steps": residentGrowth]
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
        // The median of five passes over the 1000: one pass lasts about 20 ms.
        let small = median((0..<5).map { _ in clock.measure { for input in singles { _ = model.predict(input) } }.seconds })
        return [
            "batch10000_samples_per_s": 10_000 / median(big), "batch10000_ms_per_call": median(big) * 1000,
            "batch1_us_per_sample": small / 1000 * 1e6, "batch1_samples_per_s": 1000 / small,
            "test_acc": try evaluate(model, on: test, loss: .crossEntropy).accuracy ?? 0,
        ]
    }
}

/// Records the seconds spent in matrix products during each epoch (BLAS.timesProducts
/// must be on).
final class ProductTimer: TrainingCallback {
    private(set) var seconds: [Double] = []
    private var atEpochStart = BLAS.productSeconds

    func batchEnded(_ event: BatchEvent) -> CallbackDecision { .proceed }

    func epochEnded(_ record: EpochRecord) -> CallbackDecision {
        seconds.append(BLAS.productSeconds - atEpochStart)
        atEpochStart = BLAS.productSeconds
        return .proceed
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The process's peak resident memory (VmHWM), in MiB; 0 where /proc is absent.
func peakResidentMegabytes() -> Double { processStatus("VmHWM") / 1024 }

/// The process's resident memory now (VmRSS), in MiB; 0 where /proc is absent.
func residentMegabytes() -> Double { processStatus("VmRSS") / 1024 }

/// A kilobyte figure from /proc/self/status; 0 where it is absent.
private func processStatus(_ key: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("\(key):") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes
}
