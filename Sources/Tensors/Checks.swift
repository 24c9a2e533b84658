/// Stops with `message` when `condition` is false, in every build configuration: the
/// channel for programming errors (two tensors of incompatible shapes). `precondition`
/// drops its message in optimised builds, and a shape error must name both shapes
/// wherever it happens.
@inline(__always)
public func checkPrecondition(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
