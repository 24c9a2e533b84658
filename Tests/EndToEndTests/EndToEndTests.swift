import Foundation
import Testing

/// Runs `body`, which blocks (waiting for a child process), on a thread of its own and
/// awaits it. The test runner has one thread per core for all tests together; a test
/// that blocks one of them for a minute while its processes run (the MPI jobs, the
/// examples) keeps every other test waiting, and with two cores the whole suite then
/// waits on a few processes. Expectations stay in the test itself: `body` returns what
/// they check.
func offRunnerThreads<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// Runs a built binary beside the test bundle (`backprop` unless another is named) and
/// captures its output.
struct Run {
    let status: Int32
    let output: String
    let error: String
    /// Whether the process was killed by a signal (a crash) rather than exiting.
    let crashed: Bool

    /// ``init(_:executable:environment:)`` without holding a test runner thread while the
    /// process runs (``offRunnerThreads(_:)``).
    static func waiting(_ arguments: [String], executable name: String = "backprop",
                        environment: [String: String] = [:]) async throws -> Run {
        try await offRunnerThreads { try Run(arguments, executable: name, environment: environment) }
    }

    /// `directory`: the working directory (default: the test's).
    init(_ arguments: [String], executable name: String = "backprop", environment: [String: String] = [:],
         directory: URL? = nil) throws {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0])
            .deletingLastPathComponent().appendingPathComponent(name)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        status = process.terminationStatus
        crashed = process.terminationReason == .uncaughtSignal
        output = String(decoding: outData, as: UTF8.self)
        error = String(decoding: errData, as: UTF8.self)
    }
}

@Suite("backprop bench")
struct BenchCommandTests {
    @Test("bench gemm prints one JSON line per size and thread count")
    func gemmJSON() throws {
        let run = try Run(["bench", "gemm", "--sizes", "64,96", "--threads", "1,2", "--repeats", "1",
                           "--min-batch-seconds", "0.01", "--json"])
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.count == 4)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["workload"] as? String == "W0")
            #expect((object?["gflops"] as? Double ?? 0) > 0)
        }
    }

    @Test("the BLAS line names the core chosen, and a user's OPENBLAS_CORETYPE is left alone")
    func coreChoice() throws {
        let chosen = try Run(["bench", "gemm", "--sizes", "32", "--threads", "1", "--repeats", "1",
                              "--min-batch-seconds", "0.01"])
        #expect(chosen.status == 0)
        #expect(chosen.output.contains("BLAS: "))
        let forced = try Run(["bench", "gemm", "--sizes", "32", "--threads", "1", "--repeats", "1",
                              "--min-batch-seconds", "0.01"], environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(forced.status == 0)
        #expect(forced.output.contains("core Prescott,"), "\(forced.output)")
        #expect(!forced.output.contains("chosen by Backprop"))
    }

    /// A process started by one that loaded BLAS inherits the OPENBLAS_CORETYPE Backprop set
    /// there; it says so alike (a report written by the child read "chosen by Backprop" or
    /// not depending on whether the parent had loaded BLAS before starting it).
    @Test("a core Backprop chose is reported as its choice in a child that inherits it; a user's own is not")
    func inheritedCoreChoice() throws {
        let flags = ["bench", "gemm", "--sizes", "32", "--threads", "1", "--repeats", "1", "--min-batch-seconds", "0.01"]
        let inherited = try Run(flags, environment: ["OPENBLAS_CORETYPE": "Haswell", "BACKPROP_CHOSEN_CORETYPE": "Haswell"])
        #expect(inherited.status == 0)
        #expect(inherited.output.contains("core Haswell (chosen by Backprop)"), "\(inherited.output)")
        let user = try Run(flags, environment: ["OPENBLAS_CORETYPE": "Prescott", "BACKPROP_CHOSEN_CORETYPE": "Haswell"])
        #expect(user.status == 0)
        #expect(user.output.contains("core Prescott,"), "\(user.output)")
        #expect(!user.output.contains("chosen by Backprop"))
    }

    @Test("bench workload W4 prints one JSON line per thread count; the steps train the net in flat memory")
    func perStepWorkload() throws {
        let run = try Run(["bench", "workload", "W4", "--threads", "1,2"])
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, threads) in zip(lines, [1, 2]) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["workload"] as? String == "W4")
            #expect(object["threads"] as? Int == threads)
            for key in ["us_per_step", "us_per_step_autodiff", "samples_per_s", "peak_rss_mb"] {
                #expect((object[key] as? Double ?? 0) > 0, "\(key) in \(line)")
            }
            let before = try #require(object["mse_before"] as? Double), after = try #require(object["mse_after"] as? Double)
            #expect(after < 0.1 * before, "27 000 SGD steps must fit the housing function: MSE \(before) → \(after)")
            // In a process of its own, undisturbed by other tests: every step's graph and
            // temporaries are freed (a leaked graph per step would add megabytes).
            let growth = try #require(object["rss_growth_mb_autodiff_27000_steps"] as? Double)
            #expect(growth < 2, "resident memory grew \(growth) MB over 27 000 autodiff steps")
        }
    }

    @Test("an unknown workload is one readable line and a non-zero exit")
    func unknownWorkload() throws {
        let run = try Run(["bench", "workload", "W9"])
        #expect(run.status != 0)
        #expect(run.error.contains("unknown workload 'W9'"), "\(run.error)")
    }

    @Test("a bad flag value is one readable line and a non-zero exit")
    func badFlag() throws {
        let run = try Run(["bench", "gemm", "--sizes", "12,abc"])
        #expect(run.status != 0)
        #expect(run.error.contains("--sizes"))
    }
}
