import Foundation
import Testing

@Suite("a run directory is consistent at every instant")
struct KillDuringSaveTests {
    /// The inode of `path`, or nil when there is no file: a rename into place changes it.
    static func inode(_ path: String) -> UInt64? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.systemFileNumber] as? UInt64
    }

    @Test("kill -9 at random moments, and just after the new weights land: the directory always loads, as the old model or the new")
    func killDuringSave() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(60, seed: 11)))
        let out = directory.appendingPathComponent("run")
        let weights = out.appendingPathComponent("model.safetensors").path
        // Two architectures with different tensors, so a mixed pair could not load.
        let models = ["4-3:softmax", "4-20000:relu-3:softmax"]
        let first = try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--model", models[0], "--epochs", "1",
                             "--out", out.path, "--quiet", "--threads", "1"])
        #expect(first.status == 0, "\(first.error)")
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("backprop")
        var generator = SplitMix64(seed: 12)
        var (killed, betweenFiles) = (0, 0)
        for attempt in 0..<24 {
            let model = models[(attempt + 1) % 2]
            let process = Process()
            process.executableURL = executable
            process.arguments = ["train", "--data", "csv:\(csv.path)", "--target", "label", "--model", model, "--epochs", "1",
                                 "--out", out.path, "--quiet", "--threads", "1"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let before = Self.inode(weights)
            try process.run()
            if attempt % 2 == 0 {
                // At a random moment of the run.
                usleep(UInt32(generator.next() % 400_000))
            } else {
                // As soon as the new weights are renamed into place, before model.json is.
                let deadline = Date().addingTimeInterval(20)
                while process.isRunning && Self.inode(weights) == before && Date() < deadline { usleep(100) }
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
            let evaluated = try Run(["evaluate", "--model", out.path, "--data", "csv:\(csv.path)"])
            #expect(evaluated.status == 0 && !evaluated.crashed, "attempt \(attempt): \(evaluated.error)")
            #expect(evaluated.output.contains("examples 60"), "attempt \(attempt): \(evaluated.output)")
            if evaluated.error.contains("does not describe the weights beside it") { betweenFiles += 1 }
        }
        print("kill during save: \(killed) of 24 runs killed, \(betweenFiles) between the weights and model.json; every directory loaded")
        #expect(killed > 0)
    }
}
