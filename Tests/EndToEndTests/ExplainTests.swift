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
        let run = try Run(["explain", "--model", model, "--trace", "--batch", "2"])
        #expect(run.status == 0, "\(run.output.suffix(600))\(run.error)")
        for text in ["x = [2, ", "δ = ∂J/∂output", "J = ", "autodiff vs central differences", "Update (SGD", "tolerance 1.0e-06: ok"] {
            #expect(run.output.contains(text), "'\(text)' not in \(model)'s trace")
        }
        if !model.contains("conv") { #expect(!run.output.contains("vs autodiff –"), "the written-out recursion covers \(model)") }
    }
}
