import Foundation
import Testing

@Suite("backprop train --data toy:NAME")
struct ToyCommandTests {
    @Test("moons trains to a known result with its test split; evaluate and predict read its test split; bad settings are one line")
    func moons() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("moons")
        let run = try OwnData.train(["--data", "toy:moons", "--samples", "300", "--model", "2 16:tanh 16:tanh 2:softmax",
                                     "--epochs", "100", "--out", out.path, "--json"])
        #expect(run.status == 0, "\(run.error)")
        let result = OwnData.finalJSON(run)
        #expect((result?["test_accuracy"] as? Double ?? 0) >= 0.97, "\(run.output.suffix(400))")
        #expect(result?["classes"] as? [String] == ["0", "1"])
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "toy:moons"])
        #expect(evaluated.status == 0 && evaluated.output.contains("examples 300"), "\(evaluated.output)\(evaluated.error)")
        let predicted = try Run(["predict", "--model", out.path, "--data", "toy:moons"])
        #expect(predicted.status == 0 && predicted.output.split(separator: "\n").count == 301, "\(predicted.error)")
        for (flags, words) in [(["--data", "toy:swirl"], "not a toy data set"), (["--data", "toy:moons:4"], "only spirals and blobs"),
                               (["--data", "toy:moons", "--samples", "1"], "--samples must be in 2"),
                               (["--data", "csv:x.csv", "--target", "y", "--noise", "0.1"], "are for toy data")] {
            let bad = try Run(["train"] + flags + ["--out", directory.appendingPathComponent("bad").path])
            #expect(bad.status != 0 && !bad.crashed && bad.error.contains(words) && bad.error.split(separator: "\n").count == 1,
                    "\(flags): \(bad.error)")
        }
    }
}
