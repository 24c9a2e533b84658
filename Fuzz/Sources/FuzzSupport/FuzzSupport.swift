import CLibFuzzer
import Foundation

/// Whether an error message of more than one line is let through (environment variable
/// FUZZ_ALLOW_MULTILINE_ERRORS=1): to look past a known one for traps only.
private let multilineErrorsAllowed = ProcessInfo.processInfo.environment["FUZZ_ALLOW_MULTILINE_ERRORS"] == "1"

/// Runs `read` on one libFuzzer input. A thrown error is an expected outcome, but its
/// message must be one line: a message that is not stops the fuzzer like a crash (unless
/// FUZZ_ALLOW_MULTILINE_ERRORS=1).
public func fuzzOneInput<Failure: Error & CustomStringConvertible>(
    _ start: UnsafePointer<UInt8>, _ size: Int, _ read: (Data) throws(Failure) -> Int
) -> CInt {
    do {
        _ = try read(Data(bytes: start, count: size))
    } catch {
        let message = error.description
        if !multilineErrorsAllowed && message.contains(where: \.isNewline) {
            fatalError("a thrown error's message is not one line: \(message.debugDescription)")
        }
    }
    return 0
}

/// Runs libFuzzer with this process's arguments and `testOneInput`, then exits with its
/// status.
///
/// SwiftPM links an executable target's main under another name and points `main` at it
/// (so that tests can link executables), which hides libFuzzer's own `main`; the fuzzers
/// therefore start libFuzzer from their top-level code, through the driver libFuzzer
/// provides for this.
public func runLibFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
}
