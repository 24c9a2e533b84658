import Foundation
import Testing

/// The programs in `Examples/`, one per idea of the notes, run as a user runs them: each
/// must exit 0 with `claim holds:` and print the numbers its claim rests on.
@Suite("Examples", .serialized)
struct ExamplesTests {
    /// An example and the numbers of its `--small` output that the test checks.
    struct Example: Sendable, CustomTestStringConvertible {
        let name: String
        let check: @Sendable (Output) -> Void
        var testDescription: String { "example-\(name)" }
    }

    static let examples: [Example] = [
        Example(name: "housing-neuron") { out in
            #expect(abs(out.number("kink at size −b/w =") - 0.75) <= 0.05)
            #expect(out.number("neuron RMSE: training", then: "test") < 24)
            #expect(out.number("at size 0.5 it predicts") < 0)
        },
        Example(name: "logistic-neuron") { out in
            #expect(out.number("relative to the largest weight:") <= 1e-12)
        },
        Example(name: "vectorisation") { out in
            #expect(out.number("largest |a(loops) − a(matrix)|:") <= 1e-12)
            #expect(out.number("largest |a(loop over examples) − a(matrix)|:") <= 1e-12)
            #expect(out.number("time: loops over examples and units:", then: "GFLOP/s,") >= 2)
        },
        Example(name: "delta-recursion") { out in
            #expect(out.number("δ recursion against autodiff:") <= 1e-12)
            #expect(out.number("autodiff against central differences:") <= 1e-6)
        },
        Example(name: "symmetry") { out in
            #expect(out.number("zeros:", then: "W[1], W[2]:") <= 1e-12)
            #expect(out.number("all 0.5:", then: "W[1], W[2]:") <= 1e-12)
            #expect(out.number("random N(0, 1):", then: "W[1], W[2]:") > 0.1)
        },
        Example(name: "identity-collapse") { out in
            #expect(out.number("max |stack(x) − (W̃x + b̃)| / max |stack(x)| =") <= 1e-12)
            #expect(out.number("identity activations:", then: "log loss") >= 0.6931)
            #expect(out.number("ReLU activations:", then: "accuracy") == 1)
        },
        Example(name: "gradient-descent") { out in
            let ratios = "final loss relative to gradient descent:"
            #expect(out.number(ratios, then: ", momentum") < 0.9)
            #expect(out.number(ratios, then: "mini-batch") < 0.9)
            #expect(out.number(ratios, then: "SGD") < 0.9)
        },
        Example(name: "l2-regularisation") { out in
            let plain = out.number("no regularisation:", then: "test MSE"), l2 = out.number("L2, λ", then: "test MSE")
            #expect(plain > 3 * out.number("no regularisation:", then: "training MSE"))
            #expect(l2 < plain)
            #expect(out.number("L2, λ", then: "‖W‖ =") < out.number("no regularisation:", then: "‖W‖ ="))
        },
        Example(name: "parameter-sharing") { out in
            #expect(out.number("convolution 8×3×3", then: "at unseen positions") >= 0.9)
            #expect(out.number("dense 144", then: "at unseen positions") <= 0.75)
        },
    ]

    @Test("runs with --small, exits 0 with its claim holding, and prints the numbers the claim rests on",
          arguments: examples)
    func claimHolds(_ example: Example) async throws {
        let run = try await Run.waiting(["--small"], executable: "example-\(example.name)")
        #expect(!run.crashed, "\(run.error)")
        #expect(run.status == 0, "\(run.output)\(run.error)")
        #expect(run.output.hasPrefix("claim: "))
        #expect(run.output.split(separator: "\n").last?.hasPrefix("claim holds: ") == true, "\(run.output)")
        example.check(Output(run.output))
    }

    @Test("prints the same numbers on every run (all but the time: lines)", arguments: examples.map(\.name))
    func deterministic(_ name: String) async throws {
        let first = try await Run.waiting(["--small"], executable: "example-\(name)")
        let second = try await Run.waiting(["--small"], executable: "example-\(name)")
        #expect(first.status == 0 && second.status == 0)
        #expect(Output(first.output).untimed == Output(second.output).untimed)
    }

    @Test("an unknown argument is a usage line and exit status 64")
    func unknownArgument() throws {
        let run = try Run(["--large"], executable: "example-symmetry")
        #expect(run.status == 64)
        #expect(run.error == "usage: example-symmetry [--small]\n")
        #expect(run.output.isEmpty)
    }
}

/// An example's output, searched for the numbers it prints.
struct Output: Sendable {
    let lines: [String]

    init(_ text: String) { lines = text.split(separator: "\n").map(String.init) }

    /// The lines that are not timings: what must be the same on every run.
    var untimed: [String] { lines.filter { !$0.hasPrefix("time:") } }

    /// The number after `label` on the first line containing `line` (or `label` alone);
    /// NaN, which fails every comparison, when there is none.
    func number(_ line: String, then label: String? = nil) -> Double {
        guard let text = lines.first(where: { $0.contains(line) }),
              let start = text.range(of: label ?? line, range: text.range(of: line)!.lowerBound..<text.endIndex)
        else { return .nan }
        let rest = text[start.upperBound...].drop { $0 == " " }
        let token = rest.prefix { "+-.0123456789e".contains($0) }
        return Double(token.hasSuffix(".") ? token.dropLast() : token) ?? .nan
    }
}
