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

    @Test("dropout-0.1 in a spec is one line that says to write dropout0.1, without the list of every form")
    func settingSplitOff() throws {
        for (spec, word) in [("2-16-dropout-0.1-2:softmax", "dropout0.1"), ("2-16-leakyrelu-0.1-2:softmax", "leakyrelu0.1")] {
            let run = try Run(["summary", "--model", spec])
            #expect(run.status == 64 && !run.crashed, "\(spec): \(run.output)")
            #expect(run.error == "backprop: --model: model spec '\(spec)': '0.1' is not a layer; write \(word), without '-'\n",
                    "\(spec): \(run.error)")
        }
        #expect(try Run(["summary", "--model", "4-16-dropout-1"]).status == 0)
    }

    @Test("sizes whose shape arithmetic would overflow, in a spec or a model.json, are one line and never a crash")
    func overflowingSizes() throws {
        for spec in ["1x6x6 conv4k3p4611686018427387903 flatten 2", "1x6x6 conv4k3p3037000499 flatten 2",
                     "1x6x6 maxpool2s9223372036854775807ceil flatten 2", "3037000500x3037000500x2 2"] {
            let run = try Run(["summary", "--model", spec])
            #expect(run.status == 64 && !run.crashed, "\(spec): \(run.error)")
            #expect(run.error.split(separator: "\n").count == 1 && run.error.contains("2"), "\(spec): \(run.error)")
            // A setting out of range is said in full; the forms of a model are for words not understood.
            #expect(!run.error.contains("(a model is"), "\(spec): \(run.error)")
        }
        // A slope past Float's range (models train in Float32).
        let slope = try Run(["summary", "--model", "2 4 leakyrelu1e40 2"])
        #expect(slope.status == 64 && slope.error.contains("leakyReLU negativeSlope must be a finite number (within Float's range), got 1e+40"), "\(slope.error)")
        let unknown = try Run(["summary", "--model", "1x8x8 swish 2"])
        #expect(unknown.status == 64 && unknown.error.contains("'swish' is not a layer") && unknown.error.contains("(a model is"), "\(unknown.error)")
        let directory = TrainCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("model.json")
        try Data(#"{"format": "backprop-model", "version": 2, "scalarType": "float32", "inputShape": [1, 6, 6], "layers": [{"conv2D": {"inputChannels": 1, "outputChannels": 4, "kernelSize": 3, "padding": 4611686018427387903}}, {"flatten": {}}, {"dense": {"inputSize": 16, "outputSize": 2}}]}"#.utf8).write(to: file)
        for command in [["summary"], ["explain"], ["gradcheck"]] {
            let run = try Run(command + ["--model", file.path])
            #expect(run.status != 0 && !run.crashed, "\(command): \(run.error)")
            #expect(run.error == "backprop: \(file.path): bad architecture: conv2D padding must be [height, width], each from 0 to 2147483647; got [4611686018427387903, 4611686018427387903]\n", "\(command): \(run.error)")
        }
    }

    @Test("a file that is not a JSON object (a CSV) given as --model is named as not a model.json")
    func fileThatIsNoModel() throws {
        let directory = TrainCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let csv = directory.appendingPathComponent("data.csv")
        try Data("a,b,label\n1,2,x\n".utf8).write(to: csv)
        for command in [["summary"], ["predict", "--data", "csv:\(csv.path)"]] {
            let run = try Run(command + ["--model", csv.path])
            #expect(run.status == 64 && !run.crashed, "\(run.error)")
            #expect(run.error.hasPrefix("backprop: --model: \(csv.path) is a file but not a model.json (a JSON object)"), "\(run.error)")
        }
    }

    @Test("a word that is no path, preset or spec (a run directory that is not there, a misspelt preset) is named as such in one line")
    func missingPathOrPreset() throws {
        for (command, word) in [(["summary"], "mpl"), (["predict", "--data", "toy:xor"], "runs/gone"), (["evaluate", "--data", "toy:xor"], "wide-net")] {
            let run = try Run(command + ["--model", word])
            #expect(run.status == 64 && !run.crashed, "\(word): \(run.error)")
            #expect(run.error == "backprop: --model: '\(word)' is not a file or directory here, nor a preset (logistic, cs229, mlp, cnn); a model spec starts with the example's size, such as 784-300:relu-10:softmax or \"1x28x28 conv16k3p1 relu maxpool2 10:softmax\"\n", "\(run.error)")
        }
    }

    @Test("a model.json without parameters (activations only) or without layers: gradcheck, explain --trace and train each say so in one line")
    func parameterFreeModelFile() throws {
        let directory = TrainCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let activations = directory.appendingPathComponent("activations.json"), empty = directory.appendingPathComponent("empty.json")
        let header = #"{"format": "backprop-model", "version": 2, "scalarType": "float32", "inputShape": [2], "layers": "#
        try Data((header + #"[{"activation": {"function": "softmax"}}]}"#).utf8).write(to: activations)
        try Data((header + "[]}").utf8).write(to: empty)
        for arguments in [["gradcheck"], ["explain", "--trace"], ["train", "--data", "toy:moons", "--epochs", "1",
                                                                 "--out", directory.appendingPathComponent("run").path]] {
            let run = try Run(arguments + ["--model", activations.path])
            #expect(run.status != 0 && !run.crashed, "\(arguments): \(run.error)")
            #expect(run.error.split(separator: "\n").count == 1 && run.error.contains("no parameters"), "\(arguments): \(run.error)")
            let none = try Run(arguments + ["--model", empty.path])
            #expect(none.status == 1 && !none.crashed, "\(arguments): \(none.error)")
            #expect(none.error == "backprop: \(empty.path): bad architecture: the model has no layers\n", "\(arguments): \(none.error)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("run").path))
    }

    @Test("gradcheck passes on a small network and prints each parameter's error")
    func gradcheckPasses() throws {
        let run = try Run(["gradcheck", "--model", "6-5:tanh-4:sigmoid-3:softmax", "--seed", "3"])
        #expect(run.status == 0, "\(run.output)\(run.error)")
        for name in ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"] {
            #expect(run.output.contains(name))
        }
    }

    @Test("a gradient that is NaN fails gradcheck and explain --trace, with a line saying why")
    func nanGradientsFail() throws {
        // Ten leaky ReLUs of slope 3e38 overflow Float64 (3e38¹⁰ ≫ 1.8e308) for negative inputs: the loss and gradients are NaN.
        let spec = "2 " + String(repeating: "4 leakyrelu3e38 ", count: 10) + "2 softmax"
        let check = try Run(["gradcheck", "--model", spec])
        #expect(check.status == 1 && !check.crashed, "\(check.output)\(check.error)")
        #expect(check.output.contains("max relative error inf  TOO LARGE") && !check.output.contains("  ok"), "\(check.output)")
        #expect(check.output.contains("the loss or a gradient is NaN or infinite"), "\(check.output)")
        let trace = try Run(["explain", "--trace", "--model", spec])
        #expect(trace.output.contains("worst relative error inf, tolerance 1.0e-06: FAILED"), "\(trace.output)")
        #expect(trace.output.contains("the loss or a gradient is NaN or infinite"), "\(trace.output)")
    }

    @Test("gradcheck samples 1000 entries of a larger tensor by default, and says so")
    func gradcheckSamplesLargeTensors() throws {
        // A 30×40 weight: 1200 entries, more than the default's 1000.
        let run = try Run(["gradcheck", "--model", "40-30:tanh-2:softmax", "--batch", "2"])
        #expect(run.status == 0 && !run.crashed, "\(run.output)\(run.error)")
        #expect(run.output.contains("(1001 of 1200 entries)") || run.output.contains("(1000 of 1200 entries)"), "\(run.output)")
        // The 30 biases are checked whole.
        #expect(run.output.split(separator: "\n").first { $0.hasPrefix("0.bias") }?.contains("entries") == false, "\(run.output)")
    }

    @Test("gradcheck exits non-zero above an impossible tolerance")
    func gradcheckFails() throws {
        let run = try Run(["gradcheck", "--model", "4-3:relu-1", "--tolerance", "1e-30"])
        #expect(run.status == 1)
        #expect(run.output.contains("TOO LARGE"))
        #expect(run.output.contains("a gap can come from a ReLU kink"), "\(run.output)")
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

    @Test("--threads above the machine's cores trains on its cores, with a note saying so; as many as the cores, no note")
    func threadsBeyondCores() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let plural = { (count: Int, word: String) in "\(count) \(word)\(count == 1 ? "" : "s")" }
        for (threads, note) in [(1000, "backprop: note: --threads 1000 is more than this machine's \(plural(cores, "core")): training on \(plural(cores, "thread"))\n"),
                                (cores, "")] {
            let run = try Run(["train", "--data", "toy:blobs", "--model", "2-3:softmax", "--epochs", "1", "--threads", "\(threads)",
                               "--quiet", "--out", directory.appendingPathComponent("run\(threads)").path])
            #expect(run.status == 0 && !run.crashed, "--threads \(threads): \(run.error)")
            #expect(run.error == note, "--threads \(threads): \(run.error)")
        }
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
            (["--schedule", "exponential:2"], "--schedule: in 'exponential:2', GAMMA must be in (0, 1]: the rate is multiplied by it every epoch, got '2'"),
            (["--schedule", "step:0:0.5"], "--schedule: in 'step:0:0.5', EPOCHS must be a whole number ≥ 1, got '0'"),
            (["--schedule", "step:3:1.5"], "FACTOR must be in (0, 1]"),
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

@Suite("backprop train: interrupt and resume")
struct ResumeTests {
    /// Starts `backprop train` (in `directory`, when given) and sends SIGINT once the first
    /// epoch line appears.
    static func interruptedRun(_ arguments: [String], in directory: URL? = nil) throws -> (status: Int32, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            .deletingLastPathComponent().appendingPathComponent("backprop")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("epoch 1/") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        kill(process.processIdentifier, SIGINT)
        _ = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: error, as: UTF8.self))
    }

    @Test("Ctrl-C writes a checkpoint; --resume ends with the weights of an uninterrupted run")
    func resumeMatchesUninterrupted() throws {
        let interrupted = TrainCommandTests.temporaryDirectory(), straight = TrainCommandTests.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: interrupted)
            try? FileManager.default.removeItem(at: straight)
        }
        let flags = ["train", "--model", "784-32:relu-10:softmax", "--epochs", "3", "--batch-size", "16", "--lr", "0.01"]
        let stopped = try Self.interruptedRun(flags + ["--out", interrupted.path])
        #expect(stopped.status == 130, "\(stopped.error)")
        #expect(stopped.error.contains("resume with: backprop train --resume \(interrupted.path)"), "\(stopped.error)")
        #expect(FileManager.default.fileExists(atPath: interrupted.appendingPathComponent("checkpoint.safetensors").path))
        #expect(!FileManager.default.fileExists(atPath: interrupted.appendingPathComponent("model.safetensors").path))

        let resumed = try Run(["train", "--resume", interrupted.path])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("resuming at epoch"))
        let full = try Run(flags + ["--out", straight.path])
        #expect(full.status == 0, "\(full.error)")
        let a = try Data(contentsOf: interrupted.appendingPathComponent("model.safetensors"))
        let b = try Data(contentsOf: straight.appendingPathComponent("model.safetensors"))
        #expect(a == b, "resumed weights differ from the uninterrupted run's")
        for name in ["model.json", "history.csv", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: interrupted.appendingPathComponent(name).path), "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: interrupted.appendingPathComponent("checkpoint.safetensors").path))
        // Resuming the finished run again: one line saying it finished, nothing changed.
        let again = try Run(["train", "--resume", interrupted.path])
        #expect(again.status != 0 && !again.crashed)
        #expect(again.error == "backprop: --resume: \(interrupted.path) finished its training (its model.safetensors is written and no checkpoint is left): there is nothing to resume\n",
                "\(again.error)")
        #expect(try Data(contentsOf: interrupted.appendingPathComponent("model.safetensors")) == a)
    }

    @Test("--resume takes up the run's thread count: a CNN stopped and resumed ends with the weights of a run never stopped, where 2 threads split its batches another way")
    func resumeKeepsThreads() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("bars")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try OwnData.writeBars(data, split: "train", count: 64, seed: 8)
        try OwnData.writeBars(data, split: "t10k", count: 16, seed: 9)
        let flags = ["train", "--data", data.path, "--model", "1x8x8 conv4k3p1 relu maxpool2 flatten 3:softmax", "--epochs", "400",
                     "--batch-size", "32", "--optimizer", "momentum", "--lr", "0.05", "--seed", "2"]
        let stopped = directory.appendingPathComponent("stopped")
        let one = directory.appendingPathComponent("one"), two = directory.appendingPathComponent("two")
        let interrupted = try Self.interruptedRun(flags + ["--threads", "1", "--out", stopped.path])
        #expect(interrupted.status == 130, "\(interrupted.error)")
        let settings = try String(contentsOf: stopped.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(settings.contains("\"threads\":1"), "\(settings)")
        // Resumed without --threads, on a machine whose default is another count (batches of
        // 32 are split in two shares on 2 threads, kept whole on 1).
        let resumed = try Run(["train", "--resume", stopped.path, "--quiet"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(!resumed.error.contains("note:"), "\(resumed.error)")
        for (threads, out) in [("1", one), ("2", two)] {
            let run = try Run(flags + ["--threads", threads, "--quiet", "--out", out.path])
            #expect(run.status == 0, "\(run.error)")
        }
        let weights = try [stopped, one, two].map { try Data(contentsOf: $0.appendingPathComponent("model.safetensors")) }
        #expect(weights[1] != weights[2], "the premise: 1 and 2 threads give other weights")
        #expect(weights[0] == weights[1], "stopped with 1 thread and resumed: the weights of the 1-thread run never stopped")
    }

    @Test("--resume of a directory without a run is one line and a non-zero exit")
    func resumeNothing() throws {
        let run = try Run(["train", "--resume", "/nonexistent-run"])
        #expect(run.status != 0)
        #expect(run.error.contains("--resume"))
        // A run directory whose weights and checkpoint are both gone.
        let directory = TrainCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trained = try Run(["train", "--data", "toy:xor", "--epochs", "1", "--out", directory.path])
        #expect(trained.status == 0, "\(trained.error)")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        let resumed = try Run(["train", "--resume", directory.path])
        #expect(resumed.status != 0 && !resumed.crashed)
        #expect(resumed.error.split(separator: "\n").count == 1, "\(resumed.error)")
        #expect(resumed.error.contains("has no checkpoint.safetensors: a run leaves one only when a stop"), "\(resumed.error)")
        // Training settings given with --resume would be ignored: refused, each named once.
        let changed = try Run(["train", "--resume", directory.path, "--epochs", "5", "--lr=3", "--quiet", "--epochs", "6"])
        #expect(changed.status == 64 && !changed.crashed, "\(changed.error)")
        #expect(changed.error.split(separator: "\n").count == 1, "\(changed.error)")
        #expect(changed.error.hasPrefix("backprop: --resume finishes \(directory.path) with the settings it started with (its run.json); --epochs, --lr cannot change them: leave them out, or start a new run"), "\(changed.error)")
        let quiet = try Run(["train", "--resume", directory.path, "--quiet"])
        #expect(quiet.error.contains("has no checkpoint.safetensors"), "display flags go with --resume: \(quiet.error)")
    }
}

@Suite("backprop evaluate and predict")
struct UseCommandTests {
    /// A small, separable CSV: two numeric features, string class labels.
    static func writeCSV(_ url: URL, rows: Int, seed: Int) throws {
        var lines = ["width,height,kind"]
        var state = UInt64(seed)
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for i in 0..<rows {
            let isWide = i % 2 == 0
            let (w, h) = isWide ? (3 + next(), 1 + next()) : (1 + next(), 3 + next())
            lines.append("\(w),\(h),\(isWide ? "wide" : "tall")")
        }
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    @Test("train on CSV with string labels, then evaluate and predict with the saved model")
    func csvRoundTrip() throws {
        let directory = TrainCommandTests.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.csv"), test = directory.appendingPathComponent("test.csv")
        try Self.writeCSV(train, rows: 200, seed: 1)
        try Self.writeCSV(test, rows: 50, seed: 2)
        let run = directory.appendingPathComponent("run")
        let trained = try Run(["train", "--data", "csv:\(train.path)", "--target", "kind", "--standardize",
                               "--model", "2-8:tanh-2:softmax", "--epochs", "20", "--batch-size", "16",
                               "--lr", "0.1", "--out", run.path])
        #expect(trained.status == 0, "\(trained.error)")
        let evaluated = try Run(["evaluate", "--model", run.path, "--data", "csv:\(test.path)", "--target", "kind"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let accuracyLine = evaluated.output.split(separator: "\n").first { $0.hasPrefix("accuracy") }
        let accuracy = accuracyLine.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        #expect(accuracy >= 0.95, "\(evaluated.output)")
        #expect(evaluated.output.contains("tall") && evaluated.output.contains("wide"))

        let predicted = try Run(["predict", "--model", run.path, "--data", "csv:\(test.path)", "--target", "kind",
                                 "--format", "json"])
        #expect(predicted.status == 0, "\(predicted.error)")
        let rows = try JSONSerialization.jsonObject(with: Data(predicted.output.utf8)) as? [[String: Any]]
        #expect(rows?.count == 50)
        #expect(rows?.first?["label"] as? String == "wide")
        #expect((rows?.first?["probabilities"] as? [Double])?.count == 2)
    }

    @Test("predict on an IDX images file writes CSV with a label and ten probabilities per image")
    func predictIDX() throws {
        let run = TrainCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: run) }
        let trained = try Run(["train", "--model", "logistic", "--epochs", "1", "--batch-size", "1000",
                               "--optimizer", "sgd", "--lr", "0.5", "--quiet", "--out", run.path])
        #expect(trained.status == 0, "\(trained.error)")
        let predicted = try Run(["predict", "--model", run.path, "--data",
                                 "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"])
        #expect(predicted.status == 0, "\(predicted.error)")
        let lines = predicted.output.split(separator: "\n")
        #expect(lines.count == 10_001)
        #expect(lines[0].hasPrefix("index,label,p_T-shirt/top"))
        let probabilities = lines[1].split(separator: ",").dropFirst(2).compactMap { Double($0) }
        #expect(probabilities.count == 10)
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-3)
    }

    @Test("a missing or corrupt model file is one line and a non-zero exit")
    func badModel() throws {
        let directory = TrainCommandTests.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = try Run(["evaluate", "--model", directory.path])
        #expect(missing.status == 64, "a --model that is not a model is a bad flag value")
        #expect(missing.error.contains("model.json"), "\(missing.error)")
        try Data("{\"format\": \"backprop-model\", \"version\": 1".utf8).write(to: directory.appendingPathComponent("model.json"))
        let corrupt = try Run(["predict", "--model", directory.path, "--data", "fashion-mnist"])
        #expect(corrupt.status == 1)
        #expect(corrupt.error.split(separator: "\n").count == 1, "\(corrupt.error)")
    }
}
