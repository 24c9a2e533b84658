import ArgumentParser
import Foundation
import NeuralNetworks
import Tensors
import Training

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's layers, output shapes, FLOPs and parameter counts, without training.",
        discussion: """
            --model takes every form train takes. The dense presets take 784 features unless \
            --input-shape says otherwise, a model.json without inputShape needs --input-shape, \
            and a saved model shows its trained layers.

            Examples:
              backprop summary --model cs229
              backprop summary --model 5-3:sigmoid-2:sigmoid-1:sigmoid   # the notes' 3 → 2 → 1 net: 3n + 14 parameters
              backprop summary --model "1x28x28 conv16k3p1 relu maxpool2 conv32k3p1 relu gap 2 softmax"
              backprop summary --model cnn
              backprop summary --model model.json
              backprop summary --model runs/demo
            """
    )

    @Option(help: "Model: \(ModelChoice.formsHelp).")
    var model: String = "mlp"

    @Option(help: "The shape of one example, e.g. 784 or 1x28x28 (default: the one the model declares).")
    var inputShape: String?

    func run() throws {
        try CommandFailure.reporting {
            let choice = try ModelChoice(model)
            let shape = try resolvedInputShape(choice, given: inputShape)
            print(try choice.build(Float.self, seed: 0, inputShape: shape).summary(inputShape: shape))
        }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Explain a model in the notes' notation: each layer's equation with its shapes, parameters as arithmetic, FLOPs, the δ recursion, memory.",
        discussion: """
            --model takes every form train takes.

            Examples:
              backprop explain --model 2-16:relu-16:relu-1
              backprop explain --model cs229
              backprop explain --model "1x28x28 conv16k3p1 relu maxpool2 gap 10 softmax" --batch-size 128
            """
    )

    @Option(help: "Model: \(ModelChoice.formsHelp).")
    var model: String = "cs229"

    @Option(help: "The shape of one example, e.g. 784 or 1x28x28 (default: the one the model declares).")
    var inputShape: String?

    @Option(parsing: .unconditional, help: "Examples per batch, for the memory the backward pass keeps.")
    var batchSize: Int = 64

    @Flag(help: "Run one training step in Float64, as train runs one (batch normalisation with the batch's statistics, dropout masks drawn as fit draws them), and print its numbers — x, each layer's output and δ, the loss, every gradient, the update, the running statistics moved — with the three-way check of every gradient (written-out δ recursion, autodiff, central differences); exit 1 if it fails.")
    var trace = false

    @Option(parsing: .unconditional, help: "--trace: examples in the step.")
    var batch: Int = 1

    @Option(parsing: .unconditional, help: "--trace: seed of the weights (fresh ones; a saved model keeps its own) and of the example.")
    var seed: UInt64 = 0

    @Option(name: .customLong("lr"), parsing: .unconditional, help: "--trace: learning rate α of the update shown. (default: 0.1)",
            transform: FlagNumber.parse)
    var learningRate: Double = 0.1

    @Option(parsing: .unconditional, help: "--trace: L2 regularisation λ of the update shown. (default: 0)", transform: FlagNumber.parse)
    var l2: Double = 0

    @Option(parsing: .unconditional, help: "--trace: largest relative error the check accepts. (default: 1e-06)", transform: FlagNumber.parse)
    var tolerance: Double = 1e-6

    @Option(parsing: .unconditional, help: "--trace: central differences on at most this many entries of each parameter tensor (spread evenly, plus the largest gradient; 0: every entry). The δ recursion and autodiff are compared on every entry.")
    var fdEntries: Int = 1000

    @Option(help: "Also write the explanation (and the trace) as a self-contained HTML page to this file.")
    var html: String?

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard batch >= 1 && batch <= 64 else { throw ValidationError("--batch must be in 1…64, got \(batch)") }
        guard learningRate > 0 && learningRate.isFinite else { throw ValidationError("--lr must be a positive number, got \(learningRate)") }
        guard l2 >= 0 && l2.isFinite else { throw ValidationError("--l2 must be ≥ 0, got \(l2)") }
        guard tolerance > 0 else { throw ValidationError("--tolerance must be positive") }
        guard fdEntries >= 0 else { throw ValidationError("--fd-entries must be ≥ 0, got \(fdEntries)") }
    }

    func run() throws {
        try CommandFailure.reporting {
            if let html { try checkWritable(html) }
            let choice = try ModelChoice(model)
            let shape = try resolvedInputShape(choice, given: inputShape)
            let explanation = try choice.build(Float.self, seed: 0, inputShape: shape).explanation(inputShape: shape, batchSize: batchSize)
            guard trace else {
                print(explanation)
                try writePage(explanation: explanation, trace: nil, passed: nil)
                return
            }
            let (network, x, loss) = try checkProblem(choice, shape: shape, seed: seed, batch: batch, for: "--trace")
            if batch < 2, network.allLayers.contains(where: { $0 is BatchNorm1D<Double> }) {
                throw ValidationError("--batch: batch normalisation of features (BatchNorm1D) needs at least 2 examples a batch in a training step (a batch of 1 normalises every value to β); use --batch 2 or more")
            }
            var optimizer = try SGD<Double>(learningRate: learningRate, weightDecay: l2)
            let step = StepTrace(model: network, input: x, optimizer: &optimizer, loss: loss,
                                 entriesPerTensor: fdEntries == 0 ? nil : fdEntries)
            let text = traceText(step, network: network)
            print(text)
            try writePage(explanation: explanation, trace: text, passed: step.worstError <= tolerance)
            if step.worstError > tolerance { throw ExitCode.failure }
        }
    }

    private func writePage(explanation: String, trace: String?, passed: Bool?) throws {
        guard let html else { return }
        let page = ExplanationPage(model: model, explanation: explanation, trace: trace, passed: passed)
        try writeAtomically(Data(page.html().utf8), to: html)
        FileHandle.standardError.write(Data("wrote \(html)\n".utf8))
    }

    /// The step's numbers, the check and the update, as text.
    private func traceText(_ step: StepTrace, network: Sequential<Double>) -> String {
        func values(_ tensor: Tensor<Double>) -> String {
            let shown = tensor.scalars.prefix(8).map { String(format: "%.6g", $0) }.joined(separator: ", ")
            return "\(tensor.shape) [\(shown)\(tensor.count > 8 ? ", …" : "")]"
        }
        var lines = ["One training step in Float64 on \(batch) random example\(batch == 1 ? "" : "s") (--seed \(seed)):"]
        if let mode = Self.trainingModeLine(network) { lines.append(mode) }
        lines.append("x = \(values(step.input))")
        for (index, layer) in step.layers.enumerated() {
            lines.append("\(index): \(layer.name)")
            lines.append("   output \(values(layer.output))")
            if let delta = layer.delta { lines.append("   δ = ∂J/∂output \(values(delta))") }
        }
        lines.append("J = \(String(format: "%.10g", step.loss))")
        lines.append("")
        let written = step.parameters.contains { $0.writtenOutError != nil }
        lines.append("Gradients, and the check (relative errors; tolerance \(String(format: "%.1e", tolerance))):")
        for parameter in step.parameters {
            let writtenText = parameter.writtenOutError.map { String(format: "%.2e", $0) } ?? "–"
            lines.append("   ∂J/∂\(parameter.name) = \(values(parameter.gradient))")
            let sampled = parameter.finiteDifferenceEntries < parameter.gradient.count
                ? " (\(parameter.finiteDifferenceEntries) of \(parameter.gradient.count) entries)" : ""
            lines.append("      written-out δ recursion vs autodiff \(writtenText), autodiff vs central differences \(String(format: "%.2e", parameter.finiteDifferenceError))\(sampled)")
        }
        if !written {
            lines.append("   (the written-out recursion covers stacks of dense layers and activations; this model is checked autodiff against central differences)")
        }
        lines.append("")
        lines.append("Update (SGD, α = \(learningRate), λ = \(l2)): W ← W − α(∂J/∂W + λW) for weights, b ← b − α ∂J/∂b for biases:")
        for parameter in step.parameters {
            lines.append("   \(parameter.name): \(values(parameter.value)) → \(values(parameter.updated))")
        }
        if !step.buffers.isEmpty {
            lines.append("Running statistics, moved towards the batch's (r ← (1 − momentum)·r + momentum·batch value; the variance unbiased):")
            for buffer in step.buffers {
                lines.append("   \(buffer.name): \(values(buffer.before)) → \(values(buffer.after))")
            }
        }
        lines.append("")
        let worst = step.worstError
        lines.append(String(format: "worst relative error %.2e, tolerance %.1e: %@", worst, tolerance, worst <= tolerance ? "ok" : "FAILED"))
        if !worst.isFinite {
            lines.append(notFiniteHint)
        } else if worst > tolerance {
            lines.append(gapHint)
        }
        return lines.joined(separator: "\n")
    }
}

extension Explain {
    /// What training mode means for the model's layers, when it has some that behave
    /// otherwise in evaluation: the trace runs them as a training step does.
    static func trainingModeLine(_ network: Sequential<Double>) -> String? {
        let layers = network.allLayers
        var parts: [String] = []
        if layers.contains(where: { $0 is BatchNormalization<Double> }) {
            parts.append("batch normalisation with the batch's mean and variance, its running statistics moved once")
        }
        if layers.contains(where: { $0 is Dropout<Double> }) {
            parts.append("dropout masks drawn from the model's seeded generator, as fit draws a batch's")
        }
        guard !parts.isEmpty else { return nil }
        return "Training mode, as train runs a step: " + parts.joined(separator: "; ")
    }
}

/// The example shape for summary and gradcheck: `--input-shape`, else the one the model
/// declares, else 784 features for the dense presets.
func resolvedInputShape(_ choice: ModelChoice, given: String?) throws -> [Int] {
    if let given {
        let dimensions = given.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard !dimensions.isEmpty, dimensions.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--input-shape: '\(given)' is not a shape such as 784 or 1x28x28")
        }
        return dimensions.map { $0! }
    }
    if let declared = try choice.declaredInputShape { return declared }
    if case .preset = choice { return [784] }
    throw ValidationError("--model: \(choice.describedForm) declares no inputShape; give --input-shape (e.g. 784 or 1x28x28)")
}

struct GradCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check a model's gradients on random data in Float64 against central differences.",
        discussion: """
            Prints the largest relative error of each parameter and exits with status 1 when \
            one exceeds the tolerance. The loss follows the last layer: cross-entropy after \
            softmax, logistic loss after sigmoid, squared loss otherwise.

            --model takes every form train takes; a saved model is checked at its trained \
            weights (converted to Float64), other forms at fresh weights drawn from --seed. \
            Dropout is off during the check (its random masks would change between the \
            two sides of a difference).

            Examples:
              backprop gradcheck --model 4-3:relu-1
              backprop gradcheck --model 20-16:tanh-8:sigmoid-5:softmax --batch 8 --seed 7
              backprop gradcheck --model "1x8x8 conv4k3p1 tanh maxpool2 bn 3 softmax"
              backprop gradcheck --model runs/demo --batch 2
            """
    )

    @Option(help: "Model: \(ModelChoice.formsHelp).")
    var model: String = "10-8:tanh-6:sigmoid-4:softmax"

    @Option(help: "The shape of one example, e.g. 784 or 1x28x28 (default: the one the model declares).")
    var inputShape: String?

    @Option(help: "Examples in the random batch.")
    var batch: Int = 4

    @Option(help: "Seed of the weights and the data.")
    var seed: UInt64 = 0

    @Option(help: "Largest relative error accepted. (default: 1e-06)", transform: FlagNumber.parse)
    var tolerance: Double = 1e-6

    @Option(parsing: .unconditional, help: "Check at most this many entries of each parameter tensor (spread evenly, plus the largest gradient; 0: every entry). Each entry costs four forward passes: every entry of the mlp preset's 235 146 takes minutes.")
    var entries: Int = 1000

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard tolerance > 0 else { throw ValidationError("--tolerance must be positive") }
        guard entries >= 0 else { throw ValidationError("--entries must be ≥ 0, got \(entries)") }
    }

    func run() throws {
        try CommandFailure.reporting { try check() }
    }

    private func check() throws {
        let choice = try ModelChoice(model)
        let shape = try resolvedInputShape(choice, given: inputShape)
        let (network, x, outputLoss) = try checkProblem(choice, shape: shape, seed: seed, batch: batch, for: "gradcheck")
        let loss: (Sequential<Double>) -> Tensor<Double> = { outputLoss($0(x)) }
        // Two steps, each entry keeping the closer agreement (rounding spoils a small step
        // on a large loss, a kink a large one), as explain --trace does.
        let results = GradientCheck.checkParameters(of: network, steps: [1e-6, 1e-5], entriesPerTensor: entries == 0 ? nil : entries, loss: loss)
        let width = results.map(\.name.count).max() ?? 4
        for result in results {
            let verdict = result.maximumRelativeError <= tolerance ? "ok" : "TOO LARGE"
            let sampled = result.checkedEntries < result.count ? "  (\(result.checkedEntries) of \(result.count) entries)" : ""
            print("\(result.name.padding(toLength: width, withPad: " ", startingAt: 0))  max relative error \(String(format: "%.3e", result.maximumRelativeError))  \(verdict)\(sampled)")
        }
        let worst = results.map(\.maximumRelativeError).max() ?? 0
        print(String(format: "worst %.3e, tolerance %.1e", worst, tolerance))
        if !worst.isFinite { print(notFiniteHint) } else if worst > tolerance { print(gapHint) }
        if worst > tolerance { throw ExitCode.failure }
    }
}

/// Where a finite gap above the tolerance can come from, in gradcheck and explain --trace.
let gapHint = "a gap can come from a ReLU kink (a z within the difference step of 0) or a wrong derivative; the check runs in Float64"

/// What an infinite relative error in gradcheck or explain --trace means.
let notFiniteHint = "the loss or a gradient is NaN or infinite (a weight, an activation or the loss overflowed), so the check cannot pass"

/// A random batch of examples of `shape` (normal, variance 1/features) and a loss of the network's output that suits
/// its last layer: cross-entropy on random labels after a softmax, the logistic loss on
/// random 0/1 targets after a sigmoid, squared loss on random values otherwise.
func randomProblem(for network: Sequential<Double>, shape: [Int], outputs: Int, batch: Int, seed: UInt64)
    -> (input: Tensor<Double>, loss: (Tensor<Double>) -> Tensor<Double>) {
    var generator = RandomSource(seed: seed)
    // Variance 1/features: with unit-variance weights (the cs229 preset's N(0, 1)) the
    // first layer's z then has unit variance instead of saturating every sigmoid.
    let features = Double(shape.reduce(1, *))
    let x = Tensor<Double>.randomNormal([batch] + shape, using: &generator) * (1 / features.squareRoot())
    switch network.finalActivation {
    case .softmax?:
        let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(outputs)) }
        return (x, { crossEntropy(probabilities: $0, labels: labels) })
    case .sigmoid?:
        let y = Tensor<Double>(shape: [batch, outputs], scalars: (0..<(batch * outputs)).map { _ in Double(generator.next() % 2) })
        return (x, { binaryCrossEntropy(probabilities: $0, targets: y) })
    default:
        let y = Tensor<Double>.randomNormal([batch, outputs], using: &generator)
        return (x, { squaredLoss(predictions: $0, targets: y) })
    }
}

/// The model in Float64 (dropout off: its masks would differ between the two sides of a
/// difference), checked to take `shape` and give a vector, with a random batch and a
/// loss for it (``randomProblem(for:shape:outputs:batch:seed:)``): what gradcheck and
/// explain --trace check.
func checkProblem(_ choice: ModelChoice, shape: [Int], seed: UInt64, batch: Int, for command: String) throws
    -> (network: Sequential<Double>, input: Tensor<Double>, loss: (Tensor<Double>) -> Tensor<Double>) {
    let network = try choice.build(Double.self, seed: seed, inputShape: shape)
    if network.layers.contains(where: { $0 is Dropout<Double> }) { network.isTraining = false }
    guard !network.namedParameters.isEmpty else {
        throw ValidationError("--model: the model has no parameters (no layer has weights), so \(command) has no gradient to check")
    }
    let output: [Int]
    do { output = try network.outputShape(forInput: shape) } catch {
        throw ValidationError("--model: the model does not take examples of shape \(shape): \(error)")
    }
    guard output.count == 1, let outputs = output.first else {
        throw ValidationError("--model: the model's output per example has shape \(output); \(command) needs a vector")
    }
    try checkMemory(of: network, inputShape: shape, batchSize: batch, optimizerSlots: 0)
    let (x, loss) = randomProblem(for: network, shape: shape, outputs: outputs, batch: batch, seed: seed &+ 1)
    return (network, x, loss)
}
