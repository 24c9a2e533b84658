import ArgumentParser

@main
struct Backprop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Neural networks trained with backpropagation, from the CS229 notes.",
        subcommands: [Train.self, Evaluate.self, Predict.self, Summary.self, GradCheck.self, Bench.self]
    )
}
