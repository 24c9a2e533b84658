import ArgumentParser
import Foundation
import NeuralNetworks
import Tensors
import Training

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a model's layers, output shapes and parameter counts, without training.",
        discussion: """
            Examples:
              backprop summary --model cs229
              backprop summary --model 5-3:sigmoid-2:sigmoid-1:sigmoid   # the notes' 3 → 2 → 1 net: 3n + 14 parameters
            """
    )

    @Option(help: "A preset (\(ModelSpec.presetNames.joined(separator: ", "))) or a spec such as 784-300:relu-10:softmax.")
    var model: String = "mlp"

    func run() throws {
        try CommandFailure.reporting {
            let spec = try resolveSpec(model)
            try spec.checkMemory(Float.self)
            print(try spec.build(Float.self, seed: 0).summary(inputShape: [spec.inputSize]))
        }
    }
}

struct GradCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Check a model's gradients on random data in Float64 against central differences.",
        discussion: """
            Prints the largest relative error of each parameter and exits with status 1 when \
            one exceeds the tolerance. The loss follows the last layer: cross-entropy after \
            softmax, logistic loss after sigmoid, squared loss otherwise.

            Examples:
              backprop gradcheck --model 4-3:relu-1
              backprop gradcheck --model 20-16:tanh-8:sigmoid-5:softmax --batch 8 --seed 7
            """
    )

    @Option(help: "A preset or a spec such as 784-300:relu-10:softmax.")
    var model: String = "10-8:tanh-6:sigmoid-4:softmax"

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
        let spec = try resolveSpec(model)
        try spec.checkMemory(Double.self)
        let network = spec.build(Double.self, seed: seed)
        try checkMemory(of: network, inputShape: [spec.inputSize], batchSize: batch, optimizerSlots: 0)
        var generator = RandomSource(seed: seed &+ 1)
        let x = Tensor<Double>.randomNormal([batch, spec.inputSize], using: &generator)
        let outputs = spec.stages.last!.size
        let loss: (Sequential<Double>) -> Tensor<Double>
        switch spec.stages.last!.activation {
        case .softmax:
            let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(outputs)) }
            loss = { crossEntropy(probabilities: $0(x), labels: labels) }
        case .sigmoid:
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

/// A preset name or a compact spec, as a one-line error when it is neither.
func resolveSpec(_ text: String) throws -> ModelSpec {
    if let preset = ModelSpec.preset(text) { return preset }
    do {
        return try ModelSpec(parsing: text)
    } catch {
        throw ValidationError("--model: '\(text)' is not a preset (\(ModelSpec.presetNames.joined(separator: ", "))) and \(error)")
    }
}
