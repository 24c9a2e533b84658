import Foundation
import Testing

@Suite("backprop summary and gradcheck")
struct InspectCommandTests {
    @Test("summary of the notes' x ∈ ℝⁿ → 3 → 2 → 1 network shows 3n + 14 parameters")
    func notesExample() throws {
        for n in [1, 5, 12] {
            let run = try Run(["summary", "--model", "\(n)-3:sigmoid-2:sigmoid-1:sigmoid"])
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output.contains("Total parameters: \(3 * n + 14)"), "\(run.output)")
            #expect(run.output.contains("Dense(\(n) → 3)"))
        }
    }

    @Test("a malformed spec or an unknown preset is one line and exit status 64")
    func badSpec() throws {
        for spec in ["784-300:sigmod-10", "wide-net", "784", "784-0-10"] {
            let run = try Run(["summary", "--model", spec])
            #expect(run.status == 64, "\(spec): \(run.output)")
            #expect(run.error.contains("--model"), "\(spec): \(run.error)")
        }
    }

    @Test("gradcheck passes on a small network and prints each parameter's error")
    func gradcheckPasses() throws {
        let run = try Run(["gradcheck", "--model", "6-5:tanh-4:sigmoid-3:softmax", "--seed", "3"])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        for name in ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"] {
            #expect(run.output.contains(name))
        }
    }

    @Test("gradcheck exits non-zero above an impossible tolerance")
    func gradcheckFails() throws {
        let run = try Run(["gradcheck", "--model", "4-3:relu-1", "--tolerance", "1e-30"])
        #expect(run.status == 1)
        #expect(run.output.contains("TOO LARGE"))
    }
}

@Suite("backprop train")
struct TrainCommandTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("backprop-e2e-\(UUID().uuidString)")
    }

    @Test("a short run on Fashion-MNIST writes history.csv and report.html, one line per epoch on a pipe")
    func shortRun() throws {
        let out = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try Run(["train", "--model", "logistic", "--epochs", "2", "--batch-size", "500",
                           "--optimizer", "sgd", "--lr", "0.5", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("epoch 1/2"))
        #expect(run.output.contains("epoch 2/2"))
        #expect(run.output.contains("test accuracy"))
        let history = try String(contentsOf: out.appendingPathComponent("history.csv"), encoding: .utf8)
        #expect(history.split(separator: "\n").count == 3)
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        for part in ["<svg", "Confusion matrix", "Ankle boot", "data:image/bmp;base64,", "First-layer weights", "seed"] {
            #expect(report.contains(part), "report lacks \(part)")
        }
        #expect(!report.contains("http://") || report.contains("xmlns=\"http://www.w3.org/2000/svg\""))
    }

    @Test("--json prints one JSON object per epoch and a final one")
    func jsonOutput() throws {
        let out = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try Run(["train", "--model", "logistic", "--epochs", "2", "--batch-size", "full",
                           "--optimizer", "sgd", "--lr", "0.5", "--json", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        let objects = try run.output.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == 3)
        #expect(objects[0]?["epoch"] as? Int == 1)
        #expect(objects[2]?["test_accuracy"] != nil)
    }

    @Test("bad flags are one readable line and a non-zero exit, before any training")
    func badFlags() throws {
        let cases: [([String], String)] = [
            (["--lr=-1"], "--lr"), (["--momentum", "1"], "--momentum"), (["--batch-size", "0"], "--batch-size"),
            (["--optimizer", "rmsprop"], "optimizer"), (["--data", "/nonexistent"], "--data"),
            (["--model", "784-10:softmaxx"], "--model"), (["--init", "gaussian"], "--init"),
            (["--data", "csv:/tmp/x.csv"], "--target"), (["--loss", "hinge"], "--loss"),
        ]
        for (flags, expected) in cases {
            let run = try Run(["train", "--epochs", "1"] + flags)
            #expect(run.status != 0, "\(flags)")
            #expect(run.error.contains(expected), "\(flags): \(run.error)")
            #expect(run.error.split(separator: "\n").count <= 3, "\(flags): \(run.error)")
        }
    }

    @Test("a corrupt data file is one line naming the file, and a non-zero exit")
    func corruptData() throws {
        let directory = Self.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            try Data([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]).write(to: directory.appendingPathComponent(name))
        }
        let run = try Run(["train", "--data", directory.path, "--epochs", "1"])
        #expect(run.status == 1)
        #expect(run.error.contains("train-"), "\(run.error)")
        #expect(run.error.split(separator: "\n").count == 1, "\(run.error)")
    }
}
