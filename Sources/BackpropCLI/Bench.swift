import ArgumentParser
import Foundation
import Kernels

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure Backprop's speed on the benchmark workloads (Benchmarks/WORKLOADS.md).",
        discussion: """
            Benchmarks/compare.sh runs these beside the PyTorch and NumPy peers and writes a \
            table of ratios.

            Without a subcommand, runs every workload (W0–W5) with 1 and 2 threads.

            Examples:
              backprop bench
              backprop bench gemm --threads 1,2
              backprop bench workload W1 --threads 2
              backprop bench elementwise
              mpirun --allow-run-as-root --bind-to none -np 2 backprop bench allreduce
            """,
        subcommands: [GEMMBenchmark.self, WorkloadBenchmark.self, ElementwiseBenchmark.self, AllreduceBenchmark.self],
        defaultSubcommand: WorkloadBenchmark.self
    )
}

/// W0 of Benchmarks/WORKLOADS.md: float32 square matrix products through the library's BLAS.
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "W0: float32 GEMM throughput in GFLOP/s (best of several timed batches).",
        discussion: """
            Each size runs two untimed warm-up products, then up to --repeats timed batches \
            of k products (k chosen so that a batch lasts at least --min-batch-seconds); \
            the figure is the best batch, as in the peers' w0_gemm.py.

            Examples:
              backprop bench gemm
              backprop bench gemm --threads 2 --sizes 2048 --json
            """
    )

    @Option(help: "Comma-separated square sizes.")
    var sizes: String = "256,512,1024,2048,4096"

    @Option(help: "Comma-separated BLAS thread counts.")
    var threads: String = "1,2"

    @Option(help: "Timed batches per size.")
    var repeats: Int = 5

    @Option(help: "Minimum seconds per timed batch. (default: 0.2)", transform: FlagNumber.parse)
    var minBatchSeconds: Double = 0.2

    @Flag(help: "Print one JSON object per size and thread count.")
    var json = false

    func validate() throws {
        guard parsedList(sizes).map({ $0.allSatisfy { $0 > 0 } }) == true else {
            throw ValidationError("--sizes must be positive integers separated by commas, got '\(sizes)'")
        }
        guard parsedList(threads).map({ $0.allSatisfy { $0 > 0 } }) == true else {
            throw ValidationError("--threads must be positive integers separated by commas, got '\(threads)'")
        }
        guard repeats > 0 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        let info = BLAS.info
        if !json { print("BLAS: \(info)") }
        for threadCount in parsedList(threads)! {
            BLAS.setThreadCount(threadCount)
            for n in parsedList(sizes)! {
                let gflops = measure(size: n)
                if json {
                    print(#"{"workload":"W0","size":\#(n),"threads":\#(threadCount),"gflops":\#(String(format: "%.1f", gflops)),"library":"\#(info.library)","core":"\#(info.coreName)"}"#)
                } else {
                    print("n = \(n), \(threadCount) thread(s): \(String(format: "%.1f", gflops)) GFLOP/s")
                }
            }
        }
    }

    private func measure(size n: Int) -> Double {
        var generator = SystemRandomNumberGenerator()
        let a = (0..<(n * n)).map { _ in Float.random(in: -1...1, using: &generator) }
        let b = (0..<(n * n)).map { _ in Float.random(in: -1...1, using: &generator) }
        var c = [Float](repeating: 0, count: n * n)
        let product = {
            Float.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n,
                       alpha: 1, a: a, b: b, beta: 0, c: &c)
        }
        product(); product()
        let clock = ContinuousClock()
        let single = clock.measure(product)
        let perBatch = max(1, Int((minBatchSeconds / max(single.seconds, 1e-9)).rounded(.up)))
        var best = Double.infinity
        for _ in 0..<repeats {
            let elapsed = clock.measure { for _ in 0..<perBatch { product() } }
            best = min(best, elapsed.seconds / Double(perBatch))
        }
        return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    }
}

func parsedList(_ text: String) -> [Int]? {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

/// Nanoseconds per element of the vectorised elementwise kernels.
struct ElementwiseBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elementwise",
        abstract: "Nanoseconds per element of exp, log, tanh, sigmoid, softplus and relu.",
        discussion: """
            Each kernel runs ten times over --count floats in [-10, 10] (log: |x| + 0.5), \
            allocation of the result included.

            Examples:
              backprop bench elementwise
              backprop bench elementwise --count 100000
            """
    )

    @Option(help: "Elements per call.")
    var count: Int = 1_000_000

    func run() throws {
        let x = (0..<count).map { Float(($0 % 2001) - 1000) / 100 }
        let positive = x.map { Swift.abs($0) + 0.5 }
        let clock = ContinuousClock()
        for (name, op, input) in [("exp", UnaryOp.exp, x), ("log", .log, positive), ("tanh", .tanh, x),
                                  ("sigmoid", .sigmoid, x), ("softplus", .softplus, x), ("relu", .relu, x)] {
            var checksum: Float = 0
            _ = Float.map(op, input)
            let elapsed = clock.measure { for _ in 0..<10 { checksum += Float.map(op, input)[count / 2] } }
            print("\(name): \(String(format: "%.2f", elapsed.seconds / 10 / Double(count) * 1e9)) ns/element (\(checksum))")
        }
    }
}
