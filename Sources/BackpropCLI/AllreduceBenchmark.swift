import ArgumentParser
import DistributedTraining
import Foundation

/// The link between ranks, measured: MPI_Allreduce of float arrays of several sizes,
/// and from them the latency α and bandwidth B of the README's cost model.
struct AllreduceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "Under mpirun: time MPI_Allreduce (sum of float32 arrays) and estimate the link's α and B.",
        discussion: """
            Each size is summed --repeats times after two untimed sums; the figure is the \
            median time of one sum on rank 0 (each timed sum starts right after another, so \
            the ranks start together). With N ranks a ring allreduce takes \
            T = 2(N−1)·α + 2(N−1)/N · S/B: α is taken from the smallest size (T/(2(N−1))), \
            B from the largest (its time less the latency term).

            Examples:
              mpirun --allow-run-as-root --bind-to none -np 2 backprop bench allreduce
              mpirun --allow-run-as-root --bind-to none --mca btl tcp,self -np 2 backprop bench allreduce --sizes 1,262144,16777216
            """
    )

    @Option(help: "Array lengths in floats, comma-separated (default: 1, 1024, 262144 (1 MB), 16777216 (67 MB)).")
    var sizes = "1,1024,262144,16777216"

    @Option(help: "Timed sums per size (fewer for arrays over 16 MB).")
    var repeats = 200

    @Flag(help: "One JSON line per size instead of a table.")
    var json = false

    func validate() throws {
        guard repeats > 0 else { throw ValidationError("--repeats must be positive, got \(repeats)") }
        guard let counts = parsedSizes, !counts.isEmpty, counts.allSatisfy({ $0 > 0 && $0 <= 1 << 28 }) else {
            throw ValidationError("--sizes takes positive float counts up to 268435456 separated by commas, got '\(sizes)'")
        }
    }

    private var parsedSizes: [Int]? {
        let counts = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return counts.contains(nil) ? nil : counts.map { $0! }
    }

    func run() throws {
        try CommandFailure.reporting { try measure() }
    }

    private func measure() throws {
        guard MPIWorld.isLaunched else {
            throw CommandFailure(description: "bench allreduce measures the link between ranks: start it with mpirun, e.g. mpirun --allow-run-as-root --bind-to none -np 2 backprop bench allreduce")
        }
        let world: MPIWorld
        do { world = try MPIWorld.start() } catch { throw CommandFailure(description: "\(error)") }
        defer { world.finish() }
        guard world.size > 1 else {
            throw CommandFailure(description: "bench allreduce needs at least 2 ranks (mpirun -np 2 …)")
        }
        let counts = (parsedSizes ?? []).sorted()
        var medians: [(count: Int, seconds: Double)] = []
        for count in counts {
            var values = [Float](repeating: 1, count: count)
            for _ in 0..<2 { world.sum(&values) }
            let rounds = count > 4_000_000 ? max(3, repeats / 20) : repeats
            var times: [Double] = []
            for _ in 0..<rounds {
                let start = DispatchTime.now().uptimeNanoseconds
                world.sum(&values)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            medians.append((count, median(times)))
        }
        guard world.rank == 0 else { return }
        let n = Double(world.size)
        let alpha = medians[0].seconds / (2 * (n - 1))
        let largest = medians[medians.count - 1]
        let bytes = Double(4 * largest.count)
        let transfer = largest.seconds - 2 * (n - 1) * alpha
        let bandwidth = transfer > 0 ? 2 * (n - 1) / n * bytes / transfer : .infinity
        for (count, seconds) in medians {
            if json {
                print("{\"ranks\":\(world.size),\"floats\":\(count),\"bytes\":\(4 * count),\"median_us\":\(seconds * 1e6)}")
            } else {
                print(String(format: "%d ranks  %10d floats (%9d bytes)  %10.1f µs", world.size, count, 4 * count, seconds * 1e6))
            }
        }
        let summary = String(format: "α ≈ %.2f µs (from %d float%@), B ≈ %.3f GB/s (from %d bytes)", alpha * 1e6, medians[0].count,
                             medians[0].count == 1 ? "" : "s", bandwidth / 1e9, 4 * largest.count)
        print(json ? "{\"alpha_us\":\(alpha * 1e6),\"bandwidth_gb_per_s\":\(bandwidth / 1e9)}" : summary)
    }
}
