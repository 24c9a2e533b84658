import Foundation
import Testing

/// Every form of `--model` (preset, dense spec, network spec, model.json, run directory
/// and the files in it) in every command that takes a model.
@Suite("every model form in every command")
struct ModelFormsTests {
    @Test("train, summary and gradcheck take every form; evaluate and predict every trained one, and say why not the others")
    func everyForm() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(90, seed: 21)))
        let architecture = directory.appendingPathComponent("net.json")
        try Data("""
            {"format": "backprop-model", "version": 1, "scalarType": "float32", "inputShape": [4],
             "layers": [{"dense": {"inputSize": 4, "outputSize": 8, "useBias": true}}, {"activation": {"function": "tanh"}},
                        {"dense": {"inputSize": 8, "outputSize": 3, "useBias": true}}, {"activation": {"function": "softmax"}}]}
            """.utf8).write(to: architecture)
        let trained = directory.appendingPathComponent("trained")
        let first = try OwnData.train(["--data", "csv:\(csv.path)", "--target", "label", "--model", "4-8:relu-3:softmax",
                                       "--epochs", "5", "--out", trained.path, "--quiet"])
        #expect(first.status == 0, "\(first.error)")
        let untrained = ["mlp", "4-8:relu-3:softmax", "4 8:relu 3:softmax", "4-8:relu-3:softmax".replacingOccurrences(of: "-", with: ","),
                         architecture.path]
        let saved = [trained.path, trained.appendingPathComponent("model.json").path,
                     trained.appendingPathComponent("model.safetensors").path]
        for (index, form) in (untrained + saved).enumerated() {
            let summary = try Run(["summary", "--model", form] + (form == "mlp" ? ["--input-shape", "4"] : []))
            #expect(summary.status == 0 && summary.output.contains("Total parameters:"), "\(form): \(summary.error)")
            #expect(summary.output.contains("Forward FLOPs per example:"), "\(form)")
            let check = try Run(["gradcheck", "--model", form == "mlp" ? "logistic" : form, "--batch", "2"])
            #expect(check.status == 0 && check.output.contains("worst"), "\(form): \(check.output)\(check.error)")
            let out = directory.appendingPathComponent("run\(index)")
            let run = try OwnData.train(["--data", "csv:\(csv.path)", "--target", "label", "--model", form, "--epochs", "3",
                                         "--out", out.path, "--quiet"])
            #expect(run.status == 0, "train --model \(form): \(run.error)")
            for command in ["evaluate", "predict"] {
                let used = try Run([command, "--model", form, "--data", "csv:\(csv.path)"])
                if saved.contains(form) {
                    #expect(used.status == 0, "\(command) --model \(form): \(used.error)")
                } else {
                    #expect(used.status != 0 && !used.crashed, "\(command) --model \(form)")
                    #expect(used.error.contains("needs trained weights"), "\(command) --model \(form): \(used.error)")
                    #expect(used.error.split(separator: "\n").count == 1, "\(used.error)")
                }
            }
        }
        // A run directory as the model of train starts from its weights: the first
        // epoch's loss is already the trained model's, not a fresh one's.
        let fresh = try OwnData.train(["--data", "csv:\(csv.path)", "--target", "label", "--model", "4-8:relu-3:softmax",
                                       "--epochs", "1", "--json", "--out", directory.appendingPathComponent("fresh").path])
        let resumed = try OwnData.train(["--data", "csv:\(csv.path)", "--target", "label", "--model", trained.path,
                                         "--epochs", "1", "--json", "--out", directory.appendingPathComponent("again").path])
        let loss = { (run: Run) in (OwnData.finalJSON(run)?["loss"] ?? OwnData.finalJSON(run)?["training_loss"]) as? Double }
        #expect(loss(resumed) != nil && loss(fresh) != nil, "\(resumed.output)")
        #expect((loss(resumed) ?? 1) < (loss(fresh) ?? 0), "\(resumed.output) vs \(fresh.output)")
    }

    @Test("a model.json in the spec's spellings (leakyrelu, logsoftmax) trains, and the run's model.json names them leakyReLU and logSoftmax")
    func specSpellingsInModelJSON() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(90, seed: 22)))
        let architecture = directory.appendingPathComponent("net.json")
        try Data("""
            {"format": "backprop-model", "version": 2, "scalarType": "float32", "inputShape": [4],
             "layers": [{"dense": {"inputSize": 4, "outputSize": 8}}, {"activation": {"function": "leakyrelu", "negativeSlope": 0.1}},
                        {"dense": {"inputSize": 8, "outputSize": 3}}, {"activation": {"function": "logsoftmax"}}]}
            """.utf8).write(to: architecture)
        let out = directory.appendingPathComponent("run")
        let run = try OwnData.train(["--data", "csv:\(csv.path)", "--target", "label", "--model", architecture.path,
                                     "--epochs", "3", "--out", out.path, "--quiet"])
        #expect(run.status == 0, "\(run.error)")
        let saved = try String(contentsOf: out.appendingPathComponent("model.json"), encoding: .utf8)
        #expect(saved.contains(#""function" : "leakyReLU""#) && saved.contains(#""function" : "logSoftmax""#), "\(saved)")
        #expect(try Run(["evaluate", "--model", out.path, "--data", "csv:\(csv.path)"]).status == 0)
    }

    @Test("a CNN written as a network spec trains on images, and its run directory serves every command")
    func convolutionalSpec() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("bars")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try OwnData.writeBars(folder, split: "train", count: 300, seed: 22)
        try OwnData.writeBars(folder, split: "t10k", count: 100, seed: 23)
        let out = directory.appendingPathComponent("cnn")
        let spec = "1x8x8 conv6k3p1 relu maxpool2 conv8k3p1 relu gap 3 softmax"
        let run = try OwnData.train(["--data", folder.path, "--model", spec, "--epochs", "15", "--out", out.path, "--json"])
        #expect(run.status == 0, "\(run.error)")
        let accuracy = OwnData.finalJSON(run)?["test_accuracy"] as? Double ?? OwnData.finalJSON(run)?["accuracy"] as? Double
        #expect((accuracy ?? 0) >= 0.9, "\(run.output)")
        let summary = try Run(["summary", "--model", out.path])
        #expect(summary.output.contains("Conv2D(1 → 6, 3×3, padding 1)") && summary.output.contains("GlobalAveragePool2D"),
                "\(summary.output)")
        let check = try Run(["gradcheck", "--model", out.path, "--batch", "2"])
        #expect(check.status == 0, "\(check.output)\(check.error)")
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", folder.path])
        #expect(evaluated.status == 0 && evaluated.output.contains("examples 100"), "\(evaluated.output)\(evaluated.error)")
        let mismatch = try Run(["train", "--data", folder.path, "--model", "1x28x28 conv4 relu gap 3 softmax", "--epochs", "1",
                                "--out", directory.appendingPathComponent("bad").path, "--quiet"])
        #expect(mismatch.status != 0 && mismatch.error.contains("[1, 28, 28]") && mismatch.error.contains("[1, 8, 8]"), "\(mismatch.error)")
    }
}
