import Foundation
import Testing

/// A one-line failure: a non-zero exit that is not a signal, one line on standard error
/// naming the problem, and nothing written to `out`.
private func expectOneLineFailure(_ run: Run, mentioning words: [String], out: URL? = nil,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!run.crashed, "crashed: \(run.error)", sourceLocation: sourceLocation)
    #expect(run.status != 0, "exit 0: \(run.output)", sourceLocation: sourceLocation)
    let lines = run.error.split(separator: "\n", omittingEmptySubsequences: true)
    #expect(lines.count == 1, "stderr: \(run.error)", sourceLocation: sourceLocation)
    for word in words {
        #expect(run.error.contains(word), "'\(word)' not in: \(run.error)", sourceLocation: sourceLocation)
    }
    if let out {
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path),
                "a model was written", sourceLocation: sourceLocation)
    }
}

@Suite("bad input ends in one line and a non-zero exit, never a crash")
struct BadInputTests {
    @Test("a model.json whose layers do not chain, or with duplicate or too many class names")
    func modelFiles() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(30, seed: 1)))
        func architecture(_ layers: String, classNames: String = "null", inputShape: String = "[4]") -> String {
            """
            {"format": "backprop-model", "version": 1, "scalarType": "float32", "inputShape": \(inputShape),
             "classNames": \(classNames), "layers": [\(layers)]}
            """
        }
        let dense = { (i: Int, o: Int) in "{\"dense\": {\"inputSize\": \(i), \"outputSize\": \(o), \"useBias\": true}}" }
        let cases: [(String, [String])] = [
            (architecture(dense(4, 3) + "," + dense(5, 3)), ["Dense(5 → 3)", "[3]"]),
            (architecture(dense(4, 3), classNames: "[\"a\", \"a\", \"b\"]"), ["twice"]),
            (architecture(dense(4, 2), classNames: "[\"a\", \"b\", \"c\"]"), ["3 class names", "[2]"]),
            (architecture(dense(4, 3), inputShape: "[0]"), ["[0]"]),
            (architecture(dense(4, 3) + ", {\"activation\": {\"function\": \"softmax\", \"axis\": 0}}"),
             ["layer 1 (softmax): axis 0 is the batch axis"]),
            // Read strictly: what Foundation's reader lets through is refused by its key path.
            (architecture(dense(4, 3)).replacingOccurrences(of: "\"version\": 1", with: "\"version\": 0"),
             ["'version': 0 is not a format version this library reads (it reads versions 1 and 2)"]),
            (architecture(dense(4, 3)).replacingOccurrences(of: "\"version\": 1", with: "\"version\": 1, \"version\": 2"),
             ["'version': the key appears twice in its object"]),
            (architecture(dense(4, 3)).replacingOccurrences(of: "\"inputShape\"", with: "\"inputshape\""),
             ["'inputshape': unknown key; expected one of classNames, featureNames, format, inputShape, layers"]),
            (architecture(dense(4, 3) + ", {\"dense\": {\"inputSize\": 3, \"outputSize\": 2, \"usebias\": false}}"),
             ["'layers[1].dense.usebias': unknown key; expected one of inputSize, outputSize, useBias"]),
            (architecture(dense(4, 3) + ","), ["'layers': a comma before ']': JSON has none after the last item"]),
        ]
        for (index, (json, words)) in cases.enumerated() {
            let file = directory.appendingPathComponent("model\(index).json")
            try Data(json.utf8).write(to: file)
            let out = directory.appendingPathComponent("run\(index)")
            let run = try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--model", file.path,
                               "--epochs", "1", "--out", out.path, "--quiet"])
            expectOneLineFailure(run, mentioning: words, out: out)
            // The same file as a saved model's model.json.
            let saved = directory.appendingPathComponent("saved\(index)")
            try FileManager.default.createDirectory(at: saved, withIntermediateDirectories: true)
            try Data(json.utf8).write(to: saved.appendingPathComponent("model.json"))
            expectOneLineFailure(try Run(["evaluate", "--model", saved.path, "--data", "csv:\(csv.path)"]), mentioning: words)
        }
    }

    @Test("empty, zero-sized and one-dimensional data, and a float IDX file given as images")
    func oddShapes() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.npy"), labels0 = directory.appendingPathComponent("labels0.npy")
        try OwnData.npy(shape: [0, 3]).write(to: empty)
        try OwnData.npy(shape: [0], integers: []).write(to: labels0)
        let flat = directory.appendingPathComponent("flat.npy"), labels3 = directory.appendingPathComponent("labels3.npy")
        try OwnData.npy(shape: [3], floats: [1, 2, 3]).write(to: flat)
        try OwnData.npy(shape: [3], integers: [0, 1, 0]).write(to: labels3)
        for (features, labels, words) in [(empty, labels0, ["no"]), (flat, labels3, ["shape [3]"])] {
            let out = directory.appendingPathComponent("run-\(features.lastPathComponent)")
            let run = try Run(["train", "--data", "npy:\(features.path),\(labels.path)", "--model", "logistic",
                               "--epochs", "1", "--out", out.path, "--quiet"])
            expectOneLineFailure(run, mentioning: words, out: out)
        }
        let folder = directory.appendingPathComponent("idx-images")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for split in ["train", "t10k"] {
            try OwnData.idx(dimensions: [2, 0, 28], bytes: []).write(to: folder.appendingPathComponent("\(split)-images-idx3-ubyte"))
            try OwnData.idx(dimensions: [2], bytes: [0, 1]).write(to: folder.appendingPathComponent("\(split)-labels-idx1-ubyte"))
        }
        let out = directory.appendingPathComponent("run-images")
        expectOneLineFailure(try Run(["train", "--data", folder.path, "--model", "logistic", "--epochs", "1",
                                      "--out", out.path, "--quiet"]), mentioning: ["no pixels"], out: out)
    }

    @Test("classes on as many sigmoid or ReLU outputs: one line naming the activation, no run directory; one sigmoid output for two classes trains")
    func classesNeedSoftmaxOrLogits() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, String, String)] = [
            ("toy:blobs", "2-3:sigmoid", "the model's last activation is sigmoid, but 3 classes need a softmax output (or no activation: logits)"),
            ("toy:blobs", "2-8:relu-3:relu", "the model's last activation is relu, but 3 classes need a softmax output (or no activation: logits)"),
            ("toy:blobs:2", "2-2:tanh", "the model's last activation is tanh, but 2 classes need a softmax output (or no activation: logits), or one sigmoid output"),
        ]
        for (index, (data, model, line)) in cases.enumerated() {
            let out = directory.appendingPathComponent("run\(index)")
            let run = try Run(["train", "--data", data, "--model", model, "--epochs", "1", "--out", out.path, "--quiet"])
            expectOneLineFailure(run, mentioning: [line], out: out)
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(model): a run directory was made")
        }
        for model in ["2-1:sigmoid", "2-2", "2-2:logsoftmax"] {
            let run = try Run(["train", "--data", "toy:blobs:2", "--model", model, "--epochs", "1", "--quiet",
                               "--out", directory.appendingPathComponent("fine").path])
            #expect(run.status == 0, "\(model): \(run.error)")
        }
    }

    @Test("a floating-point flag in hexadecimal, or NaN or infinite, is one line naming the flag, in every command that takes one")
    func flagNumbers() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let hexadecimal = "it is hexadecimal; write the number in decimal", infinite = "it is not a finite number"
        let cases: [([String], String)] = [
            (["train", "--lr", "0x10"], "'0x10' is invalid for '--lr <lr>': \(hexadecimal)"),
            (["train", "--lr", "inf"], "'inf' is invalid for '--lr <lr>': \(infinite)"),
            (["train", "--momentum", "0x0.8"], "'0x0.8' is invalid for '--momentum <momentum>': \(hexadecimal)"),
            (["train", "--l2", "nan"], "'nan' is invalid for '--l2 <l2>': \(infinite)"),
            (["train", "--validation-split", "0X0.1"], "'0X0.1' is invalid for '--validation-split <validation-split>': \(hexadecimal)"),
            (["train", "--noise", "-inf"], "'-inf' is invalid for '--noise <noise>': \(infinite)"),
            (["train", "--schedule", "exponential:0x0.8"], "--schedule: in 'exponential:0x0.8', GAMMA '0x0.8' is hexadecimal; write the number in decimal"),
            (["train", "--schedule", "step:2:nan"], "--schedule: in 'step:2:nan', FACTOR 'nan' is not a finite number"),
            (["train", "--init", "normal:inf"], "--init: in 'normal:inf', 'inf' is not a finite number"),
            (["train", "--init", "uniform:-0x1:1"], "--init: in 'uniform:-0x1:1', '-0x1' is hexadecimal; write the number in decimal"),
            (["train", "--model", "2-16-dropout0x0.5-3:softmax"], "'dropout0x0.5' is not dropout or dropoutP"),
            (["explain", "--model", "2-2:softmax", "--trace", "--lr", "0x1"], "'0x1' is invalid for '--lr <lr>': \(hexadecimal)"),
            (["gradcheck", "--model", "2-2:softmax", "--tolerance", "inf"], "'inf' is invalid for '--tolerance <tolerance>': \(infinite)"),
            (["compare", "a", "b", "--smoothing", "0x0.1"], "'0x0.1' is invalid for '--smoothing <smoothing>': \(hexadecimal)"),
            (["bench", "gemm", "--min-batch-seconds", "inf"], "'inf' is invalid for '--min-batch-seconds <min-batch-seconds>': \(infinite)"),
        ]
        for (index, (arguments, line)) in cases.enumerated() {
            let out = directory.appendingPathComponent("run\(index)")
            let training = arguments[0] == "train" ? ["--data", "toy:blobs", "--epochs", "1", "--quiet", "--out", out.path] : []
            expectOneLineFailure(try Run(arguments + training), mentioning: [line], out: out)
        }
    }

    @Test("class labels saved as floats (0.0, 1.0) for a softmax over two outputs: one line that names them and --task classification, which then trains")
    func floatLabels() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let features = directory.appendingPathComponent("x.npy"), labels = directory.appendingPathComponent("y.npy")
        let x: [Float] = (0..<40).map { Float($0 % 4) - 1.5 }
        try OwnData.npy(shape: [20, 2], floats: x).write(to: features)
        try OwnData.npy(shape: [20], floats: (0..<20).map { x[2 * $0] > 0 ? 1 : 0 }).write(to: labels)
        let out = directory.appendingPathComponent("run")
        let arguments = ["train", "--data", "npy:\(features.path),\(labels.path)", "--model", "2-4:relu-2:softmax",
                         "--epochs", "1", "--out", out.path, "--quiet"]
        expectOneLineFailure(try Run(arguments), mentioning: ["2 outputs", "the numbers 0, 1", "--task classification"], out: out)
        let classified = try Run(arguments + ["--task", "classification"])
        #expect(classified.status == 0, "\(classified.error)")
    }

    @Test("a CSV with two columns of the target's name, or a NUL byte in a number")
    func strictCSV() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, [String])] = [
            ("a,label,label\n1,0,1\n2,1,0\n", ["both named 'label'"]),
            ("a,label\n3\u{0}junk,0\n2,1\n", ["not a number"]),
        ]
        for (index, (text, words)) in cases.enumerated() {
            let file = directory.appendingPathComponent("bad\(index).csv")
            try Data(text.utf8).write(to: file)
            let out = directory.appendingPathComponent("run\(index)")
            expectOneLineFailure(try Run(["train", "--data", "csv:\(file.path)", "--target", "label", "--model", "1-2:softmax",
                                          "--epochs", "1", "--out", out.path, "--quiet"]), mentioning: words, out: out)
        }
    }

    @Test("negative numbers parse as values: --lr -1 is refused as negative, --target -1 is the last column")
    func negativeNumbers() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(30, seed: 2)))
        let lr = try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--lr", "-1", "--quiet"])
        #expect(lr.status != 0 && !lr.crashed)
        #expect(lr.error.contains("--lr must be a positive number"), "\(lr.error)")
        let epochs = try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--epochs", "-1", "--quiet"])
        #expect(epochs.error.contains("--epochs must be at least 1"), "\(epochs.error)")
        let out = directory.appendingPathComponent("run")
        let last = try Run(["train", "--data", "csv:\(csv.path)", "--target", "-1", "--model", "4-3:softmax",
                            "--epochs", "1", "--json", "--out", out.path])
        #expect(last.status == 0, "\(last.error)")
        #expect(OwnData.finalJSON(last)?["classes"] as? [String] == ["0", "1", "2"], "\(last.output)")
    }

    @Test("evaluate and predict recognise a folder by what it is, even with 'idx' in its name; a float IDX file is not images")
    func pathsByWhatTheyAre() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("my-idx-folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = try OwnData.writeBars(folder, split: "train", count: 60, seed: 3)
        _ = try OwnData.writeBars(folder, split: "t10k", count: 30, seed: 4)
        let out = directory.appendingPathComponent("run")
        let trained = try Run(["train", "--data", folder.path, "--model", "64-3:softmax", "--epochs", "2", "--out", out.path,
                               "--quiet", "--threads", "1"])
        #expect(trained.status == 0, "\(trained.error)")
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", folder.path])
        #expect(evaluated.status == 0 && evaluated.output.contains("examples 30"), "\(evaluated.output)\(evaluated.error)")
        var floats = OwnData.idx(dimensions: [1, 8, 8], bytes: [UInt8](repeating: 0, count: 256))
        floats[2] = 0x0D  // float32
        let file = directory.appendingPathComponent("floats-idx3-ubyte")
        try floats.write(to: file)
        expectOneLineFailure(try Run(["predict", "--model", out.path, "--data", file.path]), mentioning: ["float32"])
    }

    @Test("sizes no machine can hold are refused before any allocation, naming the size and the memory")
    func impossibleSizes() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(30, seed: 5)))
        let out = directory.appendingPathComponent("run")
        // Petabytes: beyond any machine this runs on, so the test means the same everywhere.
        let wide = try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--model", "4-300000000000000",
                            "--epochs", "1", "--out", out.path, "--quiet"])
        expectOneLineFailure(wide, mentioning: ["1500000000000000 parameters", "6.0 PB as float32", "of memory"], out: out)
        #expect(!FileManager.default.fileExists(atPath: out.path), "the run directory was created")
        expectOneLineFailure(try Run(["summary", "--model", "99999999-99999999"]),
                             mentioning: ["9999999900000000 parameters", "40 PB as float32", "of memory"])
        expectOneLineFailure(try Run(["gradcheck", "--model", "4-3", "--batch", "99999999999999"]),
                             mentioning: ["batches of 99999999999999", "of memory", "batch size"])
        let architecture = directory.appendingPathComponent("huge.json")
        try Data("""
            {"format": "backprop-model", "version": 1, "scalarType": "float32", "inputShape": [4],
             "layers": [{"dense": {"inputSize": 4, "outputSize": 3000000000000, "useBias": true}}]}
            """.utf8).write(to: architecture)
        expectOneLineFailure(try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--model", architecture.path,
                                      "--epochs", "1", "--out", out.path, "--quiet"]), mentioning: ["[3000000000000, 4]", "2³¹"], out: out)
        // Labels far from 0 are classes by their values, not indices to allocate for.
        let labels = directory.appendingPathComponent("far.csv")
        try OwnData.writeCSV(labels, columns: ["x", "label"], rows: (0..<20).map { ["x": "\($0 % 2)", "label": $0 % 2 == 0 ? "0" : "2000000000"] })
        let far = try Run(["train", "--data", "csv:\(labels.path)", "--target", "label", "--epochs", "1", "--out", out.path,
                           "--json"])
        #expect(far.status == 0, "\(far.error)")
        #expect(OwnData.finalJSON(far)?["classes"] as? [String] == ["0", "2000000000"], "\(far.output)")
    }

    @Test("--task against a toy set's or an MNIST folder's own targets, and --class-names naming no file, are one line each")
    func taskAndClassNamesThatCannotApply() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("run")
        expectOneLineFailure(try Run(["train", "--data", "toy:moons", "--task", "regression", "--epochs", "1", "--out", out.path]),
                             mentioning: ["--task regression: toy:moons's targets are class labels, so its task is classification; --task applies to csv: and npy: data"],
                             out: out)
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(30, seed: 8)))
        let missing = directory.appendingPathComponent("names.txt").path
        expectOneLineFailure(try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--class-names", missing,
                                      "--epochs", "1", "--out", out.path]),
                             mentioning: ["--class-names: \(missing): no such file"], out: out)
        expectOneLineFailure(try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--class-names", directory.path,
                                      "--epochs", "1", "--out", out.path]),
                             mentioning: ["--class-names: \(directory.path) is a directory"], out: out)
    }

    @Test("a regression target with one value in every example, and csv: without a file name, are one line each")
    func constantTargetAndEmptyCSVName() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("flat.csv")
        try OwnData.writeCSV(csv, columns: ["x", "price"], rows: (0..<20).map { ["x": "\(Double($0) / 7)", "price": "42.5"] })
        let out = directory.appendingPathComponent("run")
        expectOneLineFailure(try Run(["train", "--data", "csv:\(csv.path)", "--target", "price", "--task", "regression", "--epochs", "1", "--out", out.path]),
                             mentioning: ["the training data's target 'price' has the same value in every example: a regression needs targets that vary"], out: out)
        #expect(!FileManager.default.fileExists(atPath: out.path))
        expectOneLineFailure(try Run(["train", "--data", "csv:", "--target", "y", "--out", out.path]), mentioning: ["--data: csv: needs a file name, as csv:PATH"])
    }

    @Test("a regression target that the model's last activation cannot reach is a warning naming its range")
    func unreachableTarget() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("signed.csv")
        try OwnData.writeCSV(csv, columns: ["x", "y"], rows: (0..<40).map { ["x": "\(Double($0) / 10)", "y": "\(Double($0) / 2 - 10)"] })
        let expectations = [
            ("1-8:relu-1:sigmoid", "warning: the model's last activation, a sigmoid, outputs values between 0 and 1, but the target 'y' runs from -10 to 9.5"),
            ("1-8:tanh-1:relu", "warning: the model's last activation, ReLU, outputs only values ≥ 0, but the target 'y' goes down to -10"),
        ]
        for (model, warning) in expectations {
            let run = try Run(["train", "--data", "csv:\(csv.path)", "--target", "y", "--model", model, "--epochs", "1",
                               "--out", directory.appendingPathComponent("run").path])
            #expect(run.output.contains(warning), "\(run.output)\(run.error)")
        }
        let identity = try Run(["train", "--data", "csv:\(csv.path)", "--target", "y", "--model", "1-8:tanh-1", "--epochs", "1",
                                "--out", directory.appendingPathComponent("run").path])
        #expect(identity.status == 0 && !identity.output.contains("warning: the model's last activation"), "\(identity.output)")
    }

    @Test("test data the model does not take is named as the test data")
    func testDataNamed() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv"), images = directory.appendingPathComponent("images")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(30, seed: 8)))
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        try OwnData.writeBars(images, split: "t10k", count: 12, seed: 3)
        let out = directory.appendingPathComponent("run")
        expectOneLineFailure(try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--test-data", images.path,
                                      "--model", "4-3:softmax", "--epochs", "1", "--out", out.path]),
                             mentioning: ["backprop: --test-data: the model does not take the data's examples of shape [64]"], out: out)
    }

    @Test("--out never writes over a folder of other files, nor into an empty path; a run's own directory is replaced")
    func runDirectoryIsNeverOtherFiles() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let documents = directory.appendingPathComponent("documents")
        try FileManager.default.createDirectory(at: documents, withIntermediateDirectories: true)
        let kept = documents.appendingPathComponent("history.csv")
        try Data("keep\n".utf8).write(to: kept)
        let train = { (out: String) in try Run(["train", "--data", "toy:xor", "--epochs", "1", "--out", out, "--quiet"]) }
        expectOneLineFailure(try train(documents.path),
                             mentioning: ["--out: \(documents.path) holds files that are not a Backprop run (history.csv); give a new or empty directory"])
        #expect(try String(contentsOf: kept, encoding: .utf8) == "keep\n")
        expectOneLineFailure(try train(""), mentioning: ["--out: an empty path"])
        // A run whose loss becomes NaN leaves no directory behind.
        let diverged = directory.appendingPathComponent("diverged")
        expectOneLineFailure(try Run(["train", "--data", "toy:xor", "--lr", "1e30", "--epochs", "3", "--out", diverged.path, "--quiet"]),
                             mentioning: ["the loss became", "lower the learning rate"])
        #expect(!FileManager.default.fileExists(atPath: diverged.path))
        let run = directory.appendingPathComponent("run")
        #expect(try train(run.path).status == 0)
        #expect(try train(run.path).status == 0, "a run's directory is replaced by the next run there")
    }

    @Test("training from a run's weights refuses data whose columns are in another order, other features or other classes")
    func startingPointMustMatch() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rows = OwnData.rows(OwnData.blobs(30, seed: 8))
        let csv = directory.appendingPathComponent("data.csv"), reordered = directory.appendingPathComponent("reordered.csv")
        let renamed = directory.appendingPathComponent("renamed.csv"), twoClasses = directory.appendingPathComponent("two.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: rows)
        try OwnData.writeCSV(reordered, columns: ["label"] + OwnData.features.reversed(), rows: rows)
        try OwnData.writeCSV(renamed, columns: ["a", "b", "c", "d", "label"],
                             rows: rows.map { row in Dictionary(uniqueKeysWithValues: zip(["a", "b", "c", "d"], OwnData.features).map { ($0, row[$1]!) } + [("label", row["label"]!)]) })
        try OwnData.writeCSV(twoClasses, columns: OwnData.features + ["label"], rows: rows.filter { $0["label"] != rows[0]["label"] })
        let base = directory.appendingPathComponent("base")
        let train = { (data: URL, out: URL, model: String) in
            try Run(["train", "--data", "csv:\(data.path)", "--target", "label", "--model", model, "--epochs", "1", "--out", out.path, "--quiet"])
        }
        #expect(try train(csv, base, "4-3:softmax").status == 0)
        let out = directory.appendingPathComponent("again")
        let names = OwnData.features.joined(separator: ", ")
        expectOneLineFailure(try train(reordered, out, base.path),
                             mentioning: ["--model: \(base.path) was trained on the columns \(names) in that order; the data has them as \(OwnData.features.reversed().joined(separator: ", ")): put them in the model's order"], out: out)
        expectOneLineFailure(try train(renamed, out, base.path),
                             mentioning: ["--model: \(base.path) was trained on the features \(names); the data's are a, b, c, d"], out: out)
        expectOneLineFailure(try train(twoClasses, out, base.path),
                             mentioning: ["--model: \(base.path) names the classes 0, 1, 2; the data's labels are"], out: out)
        #expect(try train(csv, out, base.path).status == 0)
    }

    @Test("without test data the final result covers the training examples only, not those --validation-split held out")
    func finalResultWithoutHeldOutRows() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(60, seed: 8)))
        for (split, examples) in [("0.25", 45), ("0", 60)] {
            let run = try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--model", "4-3:softmax", "--epochs", "2",
                               "--validation-split", split, "--json", "--out", directory.appendingPathComponent("run\(split)").path])
            #expect(run.status == 0, "\(run.error)")
            #expect(OwnData.finalJSON(run)?["training_examples"] as? Int == examples, "\(run.output)")
        }
    }

    @Test("predict refuses examples whose outputs are NaN (values that overflow the network) in one line, in CSV and JSON")
    func overflowingPredictions() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv"), huge = directory.appendingPathComponent("huge.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(30, seed: 8)))
        var rows = OwnData.rows(OwnData.blobs(4, seed: 9))
        for feature in OwnData.features { rows[2][feature] = "3e38" }
        try OwnData.writeCSV(huge, columns: OwnData.features, rows: rows)
        let out = directory.appendingPathComponent("run")
        let train = try Run(["train", "--data", "csv:\(csv.path)", "--target", "label", "--model", "4-16:relu-3:softmax",
                             "--epochs", "1", "--out", out.path, "--quiet"])
        #expect(train.status == 0, "\(train.error)")
        for format in ["csv", "json"] {
            expectOneLineFailure(try Run(["predict", "--model", out.path, "--data", "csv:\(huge.path)", "--format", format]),
                                 mentioning: ["csv:\(huge.path): the model's outputs are NaN or infinite for 1 example (the first has index 2): their values overflow the network"])
        }
        #expect(try Run(["predict", "--model", out.path, "--data", "csv:\(csv.path)"]).status == 0)
        // A CSV file without its csv: prefix is not read as IDX images.
        expectOneLineFailure(try Run(["predict", "--model", out.path, "--data", csv.path]), mentioning: ["(a CSV file as csv:\(csv.path))"])
    }

    @Test("a directory given as a file, a file given as the run directory, an output directory that cannot exist")
    func wrongKindsOfPath() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(30, seed: 8)))
        let train = { (data: String, out: String) in
            try Run(["train", "--data", data, "--target", "label", "--model", "4-3:softmax", "--epochs", "1", "--out", out, "--quiet"])
        }
        let out = directory.appendingPathComponent("run")
        expectOneLineFailure(try train("csv:\(directory.path)", out.path),
                             mentioning: ["\(directory.path): cannot read (it is a directory, not a file)"], out: out)
        expectOneLineFailure(try Run(["train", "--data", "npy:\(directory.path),\(csv.path)", "--epochs", "1", "--out", out.path]),
                             mentioning: ["it is a directory, not a file"], out: out)
        // --target is a CSV column: other data has its own targets.
        expectOneLineFailure(try Run(["train", "--data", "toy:moons", "--target", "y", "--out", out.path]),
                             mentioning: ["--target names a column of csv: data; toy:moons has its own targets"], out: out)
        expectOneLineFailure(try train("csv:\(csv.path)", csv.path), mentioning: ["\(csv.path): cannot write (it is a file, not a directory)"])
        let under = csv.appendingPathComponent("sub").path
        expectOneLineFailure(try train("csv:\(csv.path)", under), mentioning: ["\(under): cannot write (\(csv.path) is a file, not a directory)"])
        // predict --output into a directory that does not exist, or at a directory.
        #expect(try train("csv:\(csv.path)", out.path).status == 0)
        let new = directory.appendingPathComponent("new.csv")
        try OwnData.writeCSV(new, columns: OwnData.features, rows: OwnData.rows(OwnData.blobs(5, seed: 9)))
        let missing = directory.appendingPathComponent("no/such/dir/p.csv").path
        expectOneLineFailure(try Run(["predict", "--model", out.path, "--data", "csv:\(new.path)", "--output", missing]),
                             mentioning: ["\(missing): cannot write (the directory", "does not exist)"])
        expectOneLineFailure(try Run(["predict", "--model", out.path, "--data", "csv:\(new.path)", "--output", directory.path]),
                             mentioning: ["\(directory.path): cannot write (it is a directory)"])
        expectOneLineFailure(try Run(["evaluate", "--model", csv.path, "--data", "csv:\(csv.path)"]), mentioning: [csv.path])
        for run in [try Run(["evaluate", "--model", out.path, "--data", "csv:\(directory.path)"])] {
            expectOneLineFailure(run, mentioning: ["it is a directory, not a file"])
            #expect(!run.error.contains("NSCocoaErrorDomain") && !run.error.contains("Error Domain"))
        }
    }

    @Test("grayscale images saved without their channel axis, for a CNN: one line saying how to save them")
    func imagesWithoutChannels() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let x = directory.appendingPathComponent("x.npy"), y = directory.appendingPathComponent("y.npy")
        try OwnData.npy(shape: [4, 8, 8], floats: (0..<256).map { Float($0 % 7) / 7 }).write(to: x)
        try OwnData.npy(shape: [4], integers: [0, 1, 0, 1]).write(to: y)
        let out = directory.appendingPathComponent("run")
        expectOneLineFailure(try Run(["train", "--data", "npy:\(x.path),\(y.path)", "--model", "1x8x8 conv2k3 relu flatten 2:softmax",
                                      "--epochs", "1", "--out", out.path]),
                             mentioning: ["takes examples of shape [1, 8, 8], the data has [8, 8]; save the images with their channel axis, as [N, 1, 8, 8] (NumPy: X[:, None])"],
                             out: out)
    }
}
