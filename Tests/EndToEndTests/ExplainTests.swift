import Foundation
import Testing

@Suite("backprop explain")
struct ExplainTests {
    @Test("parameter totals as arithmetic, matching hand counts", arguments: [
        ("2-16:relu-16:relu-1", "Parameters: 48 + 272 + 17 = 337"),
        ("784-16:relu-16:relu-10:softmax", "Parameters: 12560 + 272 + 170 = 13,002"),
        ("cs229", "Parameters: 235500 + 3010 = 238,510"),
        ("2 16:relu 16:relu 1", "Parameters: 48 + 272 + 17 = 337"),
    ])
    func totals(model: String, line: String) throws {
        let run = try Run(["explain", "--model", model])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains(line), "\(run.output)")
    }

    @Test("the notes' equations with this model's shapes, the δ recursion, and a convolution against its dense equivalent")
    func equations() throws {
        let dense = try Run(["explain", "--model", "2-16:relu-16:relu-1", "--batch-size", "1000"])
        for text in ["z^[2] = W^[2] a^[1] + b^[2],  W^[2] ∈ ℝ^{16×16}, b^[2] ∈ ℝ^{16}",
                     "batch-first: Z^[2] = A^[1] W^[2]ᵀ + b^[2]   ([B, 16] · [16, 16] → [B, 16])",
                     "parameters: 16·16 + 16 = 272",
                     "δ^[3] = ŷ − y ∈ ℝ^1", "δ^[2] = (W^[3]ᵀ δ^[3]) ∘ g′(z^[2]) ∈ ℝ^{16}", "δ^[1] = (W^[2]ᵀ δ^[2]) ∘ g′(z^[1])",
                     // 2·2·16 + 16 forward for the first layer; outputs kept: 2 + 16·4 + 1 = 67 values per example.
                     "FLOPs per example: forward 80, backward ≈ 160", "67 values per example = 268 kB as float32"] {
            #expect(dense.output.contains(text), "'\(text)' not in:\n\(dense.output)")
        }
        let conv = try Run(["explain", "--model", "1x8x8 conv4k3s2p1 relu gap 3 softmax"])
        // Output side ⌊(8 + 2 − 2 − 1)/2⌋ + 1 = 4; 3·3·1·4 + 4 = 40 parameters; a dense map 64 → 64 would need 64·64 + 64.
        for text in ["⌊(8 + 2·1 − 1·(3 − 1) − 1)/2⌋ + 1 = 4 (height)", "parameters: 3·3·1·4 + 4 = 40 (k·k·c_in·c_out + c_out)",
                     "a dense layer doing the same map would need 64·64 + 64 = 4,160", "at all 4·4 = 16 positions"] {
            #expect(conv.output.contains(text), "'\(text)' not in:\n\(conv.output)")
        }
        let bad = try Run(["explain", "--model", "1x4x4 conv4k9"])
        #expect(bad.status != 0 && !bad.crashed && bad.error.split(separator: "\n").count == 1, "\(bad.error)")
    }
}

@Suite("backprop explain --trace")
struct TraceCommandTests {
    @Test("one step's numbers and a three-way check that passes, for a preset, dense specs and a CNN with pooling and batch norm",
          arguments: ["20-16:relu-8:tanh-4:softmax", "logistic", "cs229", "2-3:sigmoid-2:softmax", "1x6x6 conv2k3p1 tanh maxpool2 bn 3 softmax"])
    func passes(model: String) throws {
        let run = try Run(["explain", "--model", model, "--trace", "--batch", "2", "--seed", "7"])
        #expect(run.status == 0, "\(run.output.suffix(600))\(run.error)")
        for text in ["random examples (--seed 7):", "x = [2, ", "δ = ∂J/∂output", "J = ", "autodiff vs central differences", "Update (SGD", "tolerance 1.0e-06: ok"] {
            #expect(run.output.contains(text), "'\(text)' not in \(model)'s trace")
        }
        if !model.contains("conv") { #expect(!run.output.contains("vs autodiff –"), "the written-out recursion covers \(model)") }
    }

    @Test("with batch norm and dropout the step runs in training mode, says so and shows the running statistics it moved; batch norm of features refuses a batch of 1")
    func trainingMode() throws {
        let model = "6 8 bn relu dropout0.5 3 softmax"
        let run = try Run(["explain", "--model", model, "--trace", "--batch", "4", "--seed", "3"])
        #expect(run.status == 0, "\(run.output.suffix(600))\(run.error)")
        for text in ["One training step in Float64 on 4 random examples (--seed 3):",
                     "Training mode, as train runs a step: batch normalisation with the batch's mean and variance, its running statistics moved once; dropout masks drawn from the model's seeded generator, as fit draws a batch's",
                     "   1.running_mean: [8] [0, 0, 0, 0, 0, 0, 0, 0] → [8] [", "   1.running_var: [8] [1, 1, 1, 1, 1, 1, 1, 1] → [8] [",
                     "tolerance 1.0e-06: ok"] {
            #expect(run.output.contains(text), "'\(text)' not in:\n\(run.output)")
        }
        let plain = try Run(["explain", "--model", "2-3:sigmoid-2:softmax", "--trace"])
        #expect(plain.status == 0 && !plain.output.contains("Training mode") && !plain.output.contains("Running statistics"), "\(plain.output)")
        let one = try Run(["explain", "--model", model, "--trace", "--batch", "1"])
        #expect(one.status != 0 && !one.crashed && one.output.isEmpty, "\(one.output)")
        #expect(one.error == "backprop: --batch: batch normalisation of features (BatchNorm1D) needs at least 2 examples a batch in a training step (a batch of 1 normalises every value to β); use --batch 2 or more\n", "\(one.error)")
    }
}

@Suite("backprop explain: golden files and the HTML page")
struct ExplainGoldenTests {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens/explain")

    /// Each golden file names a model (`# model: …`) and lists lines, computed by hand, that
    /// its explanation must print.
    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: goldens.path)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test("every hand-computed line of the golden files is printed")
    func goldenFiles() throws {
        #expect(Self.files.count >= 4, "golden files in \(Self.goldens.path)")
        for file in Self.files {
            let text = try String(contentsOf: Self.goldens.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n").map(String.init)
            let model = try #require(lines.first { $0.hasPrefix("# model: ") }).dropFirst("# model: ".count)
            let run = try Run(["explain", "--model", String(model)])
            #expect(run.status == 0, "\(file): \(run.error)")
            for expected in lines where !expected.hasPrefix("#") && !expected.isEmpty {
                #expect(run.output.contains(expected), "\(file): '\(expected)' not printed")
            }
        }
    }

    @Test("--html writes one self-contained page with the maths set, and with --trace the check's verdict")
    func html() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("explain.html")
        let run = try Run(["explain", "--model", "2-16:relu-16:relu-1", "--html", page.path])
        #expect(run.status == 0, "\(run.error)")
        let html = try String(contentsOf: page, encoding: .utf8)
        for text in ["z<sup>[2]</sup> = W<sup>[2]</sup> a<sup>[1]</sup> + b<sup>[2]</sup>", "ℝ<sup>16×16</sup>",
                     "<p class=\"total\">Parameters: 48 + 272 + 17 = 337</p>", "<h2>Backward pass (the notes&#39; δ recursion)</h2>"] {
            #expect(html.contains(text) || html.contains(text.replacingOccurrences(of: "&#39;", with: "'")), "'\(text)' not in the page")
        }
        #expect(!html.contains("http://") || html.components(separatedBy: "http").count == 1, "nothing fetched from the network")
        let traced = directory.appendingPathComponent("trace.html")
        let trace = try Run(["explain", "--model", "1x6x6 conv2k3p1 tanh maxpool2 bn 3 softmax", "--trace", "--batch", "2",
                             "--html", traced.path])
        #expect(trace.status == 0, "\(trace.error)")
        let traceHTML = try String(contentsOf: traced, encoding: .utf8)
        #expect(traceHTML.contains("<h2>One step, checked</h2>") && traceHTML.contains("Every gradient agrees three ways"))
        // A page that cannot be written fails before the explanation is printed.
        let nowhere = directory.appendingPathComponent("no/such/page.html").path
        let failed = try Run(["explain", "--model", "2-16:relu-16:relu-1", "--html", nowhere])
        #expect(failed.status == 1 && failed.output.isEmpty, "\(failed.output)")
        #expect(failed.error == "backprop: \(nowhere): cannot write (the directory \(directory.path)/no/such does not exist)\n", "\(failed.error)")
    }

    @Test("--trace on a model.json with convolution, pooling and batch norm passes the three-way check")
    func traceModelFile() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("model.json")
        try Data("""
        {"format": "backprop-model", "version": 2, "scalarType": "float32", "inputShape": [2, 7, 7], "layers": [
          {"conv2D": {"inputChannels": 2, "outputChannels": 3, "kernelSize": 3, "padding": 1}},
          {"batchNorm2D": {"channels": 3}},
          {"activation": {"function": "relu"}},
          {"avgPool2D": {"kernelSize": 2, "ceilMode": true}},
          {"conv2D": {"inputChannels": 3, "outputChannels": 4, "kernelSize": 2, "stride": 2}},
          {"activation": {"function": "tanh"}},
          {"maxPool2D": {"kernelSize": 2}},
          {"flatten": {}},
          {"dense": {"inputSize": 4, "outputSize": 3}},
          {"activation": {"function": "softmax"}}
        ]}
        """.utf8).write(to: file)
        let run = try Run(["explain", "--model", file.path, "--trace", "--batch", "3"])
        #expect(run.status == 0, "\(run.output.suffix(800))\(run.error)")
        #expect(run.output.contains("tolerance 1.0e-06: ok"))
        for name in ["0.weight", "1.weight", "1.bias", "4.weight", "8.weight"] {
            #expect(run.output.contains("∂J/∂\(name) = "), "\(name)")
        }
    }
}
