import ArgumentParser
import Foundation
import Tensors

@main
struct Backprop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "Neural networks trained with backpropagation, from the CS229 notes.",
        subcommands: [Train.self, Evaluate.self, Predict.self, Summary.self, Explain.self, GradCheck.self, Compare.self, Bench.self]
    )

    /// Parses and runs the command. A bad flag or value is one line on standard error
    /// naming it, and exit status 64 (help and version print as usual); errors found
    /// while running print their own line (``CommandFailure``).
    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            fail(error)
        }
        do {
            try command.run()
        } catch {
            fail(error)
        }
    }

    private static func fail(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        if error is ExitCode || code == .success { exit(withError: error) }
        let message = PlainErrors.oneLine(message(for: error), limit: 400)
        FileHandle.standardError.write(Data("backprop: \(message.isEmpty ? "failed" : message) (see --help)\n".utf8))
        exit(withError: ExitCode(code.rawValue))
    }
}
