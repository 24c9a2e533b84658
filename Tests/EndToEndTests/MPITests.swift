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
    static func launch(ranks: Int, _ arguments: [String], timeout: TimeInterval = 120) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun!)
        process.arguments = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", String(ranks),
                             "--timeout", String(Int(timeout)), backprop] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile(), errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The probabilities `backprop predict` prints for the run's own training data.
    static func probabilities(_ directory: URL) throws -> [Double] {
        let run = try Run(["predict", "--model", directory.path, "--data", "toy:moons"])
        return run.output.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Double($0) } }
    }

    @Test("2 and 4 ranks train the model one process trains; rank 0 alone writes the run directory")
    func sameAnswer() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flags = ["train", "--data", "toy:moons", "--model", "2-16:tanh-2:softmax", "--batch-size", "50", "--epochs", "8",
                     "--optimizer", "momentum", "--lr", "0.1", "--schedule", "constant", "--threads", "1", "--quiet"]
        let alone = try Run(flags + ["--out", directory.appendingPathComponent("one").path])
        #expect(alone.status == 0, "\(alone.error)")
        let expected = try Self.probabilities(directory.appendingPathComponent("one"))
        #expect(expected.count == 400)
        for ranks in [2, 4] {
            let out = directory.appendingPathComponent("ranks\(ranks)")
            let run = try Self.launch(ranks: ranks, flags + ["--out", out.path])
            #expect(run.status == 0, "\(run.error)")
            // One final line, from rank 0.
            #expect(run.output.split(separator: "\n").filter { $0.hasPrefix("test loss") || $0.hasPrefix("training loss") }.count == 1,
                    "\(run.output)")
            let got = try Self.probabilities(out)
            // Float32, summed in another order: the probabilities agree to the 6 digits printed.
            #expect(got.count == expected.count && zip(got, expected).allSatisfy { abs($0 - $1) <= 2e-6 },
                    "\(ranks) ranks: largest difference \(zip(got, expected).map { abs($0 - $1) }.max() ?? .nan)")
        }
        let written = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(written == ["one", "ranks2", "ranks4"], "no rank but 0 writes: \(written)")
    }

    @Test("an error on the ranks ends the job with one clear line and a non-zero status, never a hang")
    func failure() throws {
        let run = try Self.launch(ranks: 2, ["train", "--data", "toy:moons", "--model", "3-4:relu-2:softmax", "--epochs", "1",
                                             "--out", FileManager.default.temporaryDirectory.appendingPathComponent("mpi-bad").path],
                                  timeout: 60)
        #expect(run.status != 0)
        #expect(run.error.contains("takes examples of shape [3], the data has [2]"), "\(run.error)")
    }
}
