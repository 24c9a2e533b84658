/// Stops with `message` when `condition` is false, in every build configuration.
/// (`precondition` drops its message in optimised builds, and a shape error must name
/// both shapes wherever it happens.)
@inline(__always)
func checkPrecondition(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
