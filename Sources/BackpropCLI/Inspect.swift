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

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws {
        try CommandFailure.reporting {
            let choice = try ModelChoice(model)
            let shape = try resolvedInputShape(choice, given: inputShape)
            print(try choice.build(Float.self, seed: 0, inputShape: shape).explanation(inputShape: shape, batchSize: batchSize))
        }
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

    @Option(help: "Largest relative error accepted.")
    var tolerance: Double = 1e-6

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1") }
        guard tolerance > 0 else { throw ValidationError("--tolerance must be positive") }
    }

    func run() throws {
        try CommandFailure.reporting { try check() }
    }

    private func check() throws {
        let choice = try ModelChoice(model)
        let shape = try resolvedInputShape(choice, given: inputShape)
        let network = try choice.build(Double.self, seed: seed, inputShape: shape)
        if network.layers.contains(where: { $0 is Dropout<Double> }) { network.isTraining = false }
        let output: [Int]
        do { output = try network.outputShape(forInput: shape) } catch {
            throw ValidationError("--model: the model does not take examples of shape \(shape): \(error)")
        }
        guard output.count == 1, let outputs = output.first else {
            throw ValidationError("--model: the model's output per example has shape \(output); gradcheck needs a vector")
        }
        try checkMemory(of: network, inputShape: shape, batchSize: batch, optimizerSlots: 0)
        var generator = RandomSource(seed: seed &+ 1)
        let x = Tensor<Double>.randomNormal([batch] + shape, using: &generator)
        let loss: (Sequential<Double>) -> Tensor<Double>
        switch network.finalActivation {
        case .softmax?:
            let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(outputs)) }
            loss = { crossEntropy(probabilities: $0(x), labels: labels) }
        case .sigmoid?:
            let y = Tensor<Double>(shape: [batch, outputs], scalars: (0..<(batch * outputs)).map { _ in Double(generator.next() % 2) })
            loss = { binaryCrossEntropy(probabilities: $0(x), targets: y) }
        default:
            let y = Tensor<Double>.randomNormal([batch, outputs], using: &generator)
            loss = { squaredLoss(predictions: $0(x), targets: y) }
        }
        let results = GradientCheck.checkParameters(of: network, loss: loss)
        let width = results.map(\.name.count).max() ?? 4
        for (name, error) in results {
            let verdict = error <= tolerance ? "ok" : "TOO LARGE"
            print("\(name.padding(toLength: width, withPad: " ", startingAt: 0))  max relative error \(String(format: "%.3e", error))  \(verdict)")
        }
        let worst = results.map(\.maximumRelativeError).max() ?? 0
        print(String(format: "worst %.3e, tolerance %.1e", worst, tolerance))
        if worst > tolerance { throw ExitCode.failure }
    }
}
