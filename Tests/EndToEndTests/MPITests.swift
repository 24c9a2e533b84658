import Foundation
import Testing

/// `mpirun -np K backprop train …`: K processes train one model. Runs where Open MPI's
/// mpirun is installed (`make` installs it); reported as skipped elsewhere.
/// Open MPI's launcher, where it is installed.
let mpirunPath: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("training on several processes with MPI", .enabled(if: mpirunPath != nil, "mpirun (Open MPI) is not installed"))
struct MPITests {
    static var mpirun: String? { mpirunPath }

    static var backprop: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("backprop").path
    }

    /// mpirun with the settings every launch here needs: root allowed (containers), more
    /// ranks than cores, no binding (binding pins each rank to one core).
    static func launch(ranks: Int, _ arguments: [String], timeout: TimeInterval = 120) async throws -> (status: Int32, output: String, error: String) {
        try await offRunnerThreads { try Launch(ranks: ranks, arguments, timeout: timeout).wait() }
    }

    /// An mpirun job under way.
    struct Launch {
        let process = Process()
        let out = Pipe(), err = Pipe()

        init(ranks: Int, _ arguments: [String], timeout: TimeInterval = 120) throws {
            process.executableURL = URL(fileURLWithPath: mpirun!)
            // Ranks yield the core while they wait for a sum instead of spinning: the tests
            // share two cores with the rest of the suite, and a spinning rank then keeps
            // the rank it waits for off the core (10× slower steps were measured).
            process.arguments = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", String(ranks),
                                 "--mca", "mpi_yield_when_idle", "1",
                                 "--timeout", String(Int(timeout)), backprop] + arguments
            process.standardOutput = out
            process.standardError = err
            // The test runner's threads block most signals, and a child inherits the mask:
            // mpirun must receive the stop signals the tests send it, as from a shell.
            var stops = sigset_t()
            sigemptyset(&stops)
            for stop in [SIGINT, SIGTERM, SIGUSR1] { sigaddset(&stops, stop) }
            pthread_sigmask(SIG_UNBLOCK, &stops, nil)
            try process.run()
        }

        /// Reads standard output until a line contains `text` (kept for ``wait()``).
        func waitForLine(containing text: String, timeout: TimeInterval = 60) -> Bool {
            let start = Date()
            while Date().timeIntervalSince(start) < timeout {
                let data = out.fileHandleForReading.availableData
                if data.isEmpty { return false }
                seen.append(data)
                if String(decoding: seen.data, as: UTF8.self).contains(text) { return true }
            }
            return false
        }

        /// Standard output read so far.
        final class Seen: @unchecked Sendable { var data = Data(); func append(_ more: Data) { data.append(more) } }
        let seen = Seen()

        func wait() -> (status: Int32, output: String, error: String) {
            let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: seen.data + outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
        }
    }

    /// The probabilities `backprop predict` prints for the run's own training data.
    static func probabilities(_ directory: URL) async throws -> [Double] {
        let run = try await Run.waiting(["predict", "--model", directory.path, "--data", "toy:moons"])
        return run.output.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Double($0) } }
    }

    @Test("2 and 4 ranks train the model one process trains (two buckets of gradients, summed beside the backward pass); rank 0 alone writes the run directory")
    func sameAnswer() async throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flags = ["train", "--data", "toy:moons", "--model", "2-128:tanh-128:tanh-2:softmax", "--batch-size", "50", "--epochs", "8",
                     "--optimizer", "momentum", "--lr", "0.1", "--schedule", "constant", "--threads", "1", "--quiet",
                     "--overlap", "on"]
        let alone = try await Run.waiting(flags + ["--out", directory.appendingPathComponent("one").path])
        #expect(alone.status == 0, "\(alone.error)")
        let expected = try await Self.probabilities(directory.appendingPathComponent("one"))
        #expect(expected.count == 400)
        for ranks in [2, 4] {
            let out = directory.appendingPathComponent("ranks\(ranks)")
            let run = try await Self.launch(ranks: ranks, flags + ["--out", out.path])
            #expect(run.status == 0, "\(run.error)")
            // One final line, from rank 0.
            #expect(run.output.split(separator: "\n").filter { $0.hasPrefix("test loss") || $0.hasPrefix("training loss") }.count == 1,
                    "\(run.output)")
            let got = try await Self.probabilities(out)
            // Float32, summed in another order: the probabilities agree to the 6 digits printed.
            #expect(got.count == expected.count && zip(got, expected).allSatisfy { abs($0 - $1) <= 2e-6 },
                    "\(ranks) ranks: largest difference \(zip(got, expected).map { abs($0 - $1) }.max() ?? .nan)")
        }
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(written == ["one", "ranks2", "ranks4"], "no rank but 0 writes: \(written)")
    }

    @Test("batch normalisation and dropout: 2 and 4 ranks train what one process trains (synchronised statistics, masks by example)")
    func normalizationAndDropout() async throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flags = ["train", "--data", "toy:moons", "--model", "2-16-bn-tanh-dropout0.2-2:softmax", "--batch-size", "50",
                     "--epochs", "6", "--optimizer", "momentum", "--lr", "0.1", "--threads", "1", "--quiet"]
        let alone = try await Run.waiting(flags + ["--out", directory.appendingPathComponent("one").path])
        #expect(alone.status == 0, "\(alone.error)")
        let expected = try await Self.probabilities(directory.appendingPathComponent("one"))
        for ranks in [2, 4] {
            let out = directory.appendingPathComponent("ranks\(ranks)")
            let run = try await Self.launch(ranks: ranks, flags + ["--out", out.path])
            #expect(run.status == 0, "\(run.error)")
            let got = try await Self.probabilities(out)
            // Float32 sums in another order, through batch normalisation's statistics too.
            let largest = zip(got, expected).map { abs($0 - $1) }.max() ?? .nan
            #expect(got.count == expected.count && largest <= 2e-5, "\(ranks) ranks: largest difference \(largest)")
        }
    }

    @Test("a stop (SIGUSR1 to mpirun, then Ctrl-C's SIGINT) ends every rank at one batch; --resume under mpirun ends with the weights of a run never stopped, bit for bit")
    func stopAndResume() async throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Few steps, each with some work: under the loaded test run every sum waits on the
        // scheduler for both ranks (tens of ms a step, whatever the step's size), so the
        // step count sets this test's time: 10 000 steps of a 2-32 network took 83 s in the
        // suite. 400 steps of this one take about 4 s on an idle 2-core machine, and that
        // still leaves a run training a few seconds after a signal (mpirun passes Ctrl-C on
        // as SIGTERM about a second later; the ranks stop about 2 s after the SIGINT).
        let flags = ["train", "--data", "toy:moons", "--samples", "1000", "--model", "2-256-bn-tanh-256-tanh-dropout0.1-2:softmax",
                     "--batch-size", "100", "--epochs", "40", "--optimizer", "momentum", "--lr", "0.02", "--threads", "1", "--json"]
        let stopped = directory.appendingPathComponent("stopped"), whole = directory.appendingPathComponent("whole")
        let checkpoint = stopped.appendingPathComponent("checkpoint.safetensors")
        /// Starts `arguments` on 2 ranks, sends `signal` to mpirun once rank 0 reports an
        /// epoch, waits.
        func interrupt(_ arguments: [String], with signal: Int32) async throws -> (status: Int32, output: String, error: String) {
            let (reported, seconds, run) = try await offRunnerThreads {
                let launch = try Launch(ranks: 2, arguments, timeout: 120)
                let started = Date()
                let reported = launch.waitForLine(containing: "\"epoch\"")
                kill(launch.process.processIdentifier, signal)
                let run = launch.wait()
                return (reported, Date().timeIntervalSince(started), run)
            }
            #expect(reported, "rank 0 reports its epochs")
            #expect(seconds < 60, "the stop took effect within seconds")
            #expect(!run.output.contains("test_accuracy"), "stopped before the last epoch: \(run.output.suffix(300))")
            return run
        }
        // SIGUSR1: mpirun forwards it to every rank at once.
        let first = try await interrupt(flags + ["--out", stopped.path], with: SIGUSR1)
        #expect(first.status == 130, "\(first.error)")
        #expect(first.error.contains("interrupted at epoch") && first.error.contains("resume with: backprop train --resume"), "\(first.error)")
        #expect(FileManager.default.fileExists(atPath: checkpoint.path))
        #expect(!FileManager.default.fileExists(atPath: stopped.appendingPathComponent("model.safetensors").path))
        // Ctrl-C reaches mpirun alone, which sends the ranks SIGTERM a second later.
        let resumed = ["train", "--resume", stopped.path, "--json"]
        let second = try await interrupt(resumed, with: SIGINT)
        #expect(second.status != 0)
        #expect(second.error.contains("interrupted at epoch"), "\(second.error)")
        #expect(FileManager.default.fileExists(atPath: checkpoint.path))
        // The whole runs get a longer limit than the default: under a loaded test run a
        // step can take ten times as long.
        // The resumed run and the run never stopped are independent: they run side by side.
        async let finished = Self.launch(ranks: 2, resumed, timeout: 300)
        async let never = Self.launch(ranks: 2, flags + ["--out", whole.path], timeout: 300)
        let (last, uninterrupted) = try await (finished, never)
        #expect(last.status == 0, "\(last.error)")
        #expect(!FileManager.default.fileExists(atPath: checkpoint.path), "the finished run removes its checkpoint")
        #expect(uninterrupted.status == 0, "\(uninterrupted.error)")
        let weights = try Data(contentsOf: stopped.appendingPathComponent("model.safetensors"))
        #expect(weights == (try Data(contentsOf: whole.appendingPathComponent("model.safetensors"))),
                "stopped twice and resumed under mpirun: the same weights and running statistics as a run never stopped")
        // The epochs' metrics were summed over both ranks, across the stops too.
        func history(_ run: URL) throws -> [[Substring]] {
            let rows = try String(contentsOf: run.appendingPathComponent("history.csv"), encoding: .utf8).split(separator: "\n")
            let seconds = rows[0].split(separator: ",", omittingEmptySubsequences: false).firstIndex(of: "seconds")!
            return rows.map { row in
                var fields = row.split(separator: ",", omittingEmptySubsequences: false)
                fields.remove(at: seconds)
                return fields
            }
        }
        #expect(try history(stopped) == (try history(whole)))
    }

    @Test("a rank that dies (SIGKILL) ends the whole job within seconds, never a hang")
    func rankDies() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let launch = try Launch(ranks: 2, ["train", "--data", "toy:moons", "--model", "2-16:tanh-2:softmax", "--batch-size", "10",
                                           "--epochs", "100000", "--threads", "1", "--json", "--out", directory.path], timeout: 120)
        #expect(launch.waitForLine(containing: "\"epoch\""), "rank 0 reports its epochs")
        // mpirun's children are the ranks; kill one of them outright.
        let children = try String(contentsOfFile: "/proc/\(launch.process.processIdentifier)/task/\(launch.process.processIdentifier)/children",
                                  encoding: .utf8).split(separator: " ").compactMap { Int32($0) }
        #expect(children.count == 2, "\(children)")
        let killed = Date()
        kill(children.last ?? 0, SIGKILL)
        let run = launch.wait()
        #expect(Date().timeIntervalSince(killed) < 15, "the job ended \(Date().timeIntervalSince(killed)) s after a rank died")
        #expect(run.status != 0)
        #expect(run.error.contains("signal 9") || run.error.contains("Killed"), "\(run.error)")
    }

    @Test("an error on the ranks ends the job with one clear line and a non-zero status, never a hang")
    func failure() async throws {
        let run = try await Self.launch(ranks: 2, ["train", "--data", "toy:moons", "--model", "3-4:relu-2:softmax", "--epochs", "1",
                                             "--out", FileManager.default.temporaryDirectory.appendingPathComponent("mpi-bad").path],
                                  timeout: 60)
        #expect(run.status != 0)
        #expect(run.error.contains("takes examples of shape [3], the data has [2]"), "\(run.error)")
    }
}
