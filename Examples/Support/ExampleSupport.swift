import Backprop
import Foundation

/// Reads an example's flags: none, or `--small` for the sizes the tests run; anything else
/// prints the usage and exits 64. Sets one BLAS thread, so that every run prints the same
/// numbers. Returns whether `--small` was given.
public func readExampleFlags(_ name: String) -> Bool {
    let arguments = CommandLine.arguments.dropFirst()
    guard arguments.allSatisfy({ $0 == "--small" }) else {
        FileHandle.standardError.write(Data("usage: \(name) [--small]\n".utf8))
        exit(64)
    }
    BLAS.setThreadCount(1)
    return arguments.contains("--small")
}

/// Prints the verdict and exits: 0 when every check holds, 1 naming those that do not.
public func conclude(_ claim: String, _ checks: [(String, Bool)]) -> Never {
    let failed = checks.filter { !$0.1 }.map(\.0)
    if failed.isEmpty {
        print("claim holds: \(claim)")
        exit(0)
    }
    print("claim FAILS: \(claim); not so: \(failed.joined(separator: "; "))")
    exit(1)
}
