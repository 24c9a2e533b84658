import Tensors

/// A model file that cannot be read or written, with a one-line explanation.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case unreadable(file: String, reason: String)
    case cannotWrite(file: String, reason: String)
    /// Bytes that do not form a valid file: a header longer than the file, offsets out
    /// of range, JSON that does not parse.
    case corrupt(file: String, reason: String)
    /// A tensor stored in a type this library does not read.
    case unsupportedType(file: String, tensor: String, dtype: String)
    /// A tensor whose type differs from the model's scalar type.
    case typeMismatch(file: String, tensor: String, expected: String, found: String)
    /// A tensor whose shape differs from the one the architecture gives it.
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    /// Tensors the architecture needs but the file lacks, or holds but the architecture
    /// does not know.
    case tensorsMismatch(file: String, missing: [String], unexpected: [String])
    /// An architecture (or checkpoint entry) that cannot be built: unknown layer,
    /// impossible sizes, a layer that cannot be described.
    case badArchitecture(file: String, reason: String)

    /// One line: line breaks and other control characters from the input (a tensor or
    /// column name) are shown escaped.
    public var description: String { PlainErrors.escapingControlCharacters(text) }

    private var text: String {
        switch self {
        case .missingFile(let path): return "\(path): no such file"
        case .unreadable(let file, let reason): return "\(file): cannot read (\(reason))"
        case .cannotWrite(let file, let reason): return "\(file): cannot write (\(reason))"
        case .corrupt(let file, let reason): return "\(file): \(reason)"
        case .unsupportedType(let file, let tensor, let dtype):
            return "\(file): tensor '\(tensor)' has type \(dtype), which is not supported (F32, F64, I64, I32, U8)"
        case .typeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor '\(tensor)' is \(found), the model needs \(expected)"
        case .shapeMismatch(let file, let tensor, let expected, let found):
            return "\(file): tensor '\(tensor)' has shape \(found), the architecture needs \(expected)"
        case .tensorsMismatch(let file, let missing, let unexpected):
            let parts = [
                missing.isEmpty ? nil : "missing \(listed(missing))",
                unexpected.isEmpty ? nil : "unexpected \(listed(unexpected))",
            ].compactMap { $0 }
            return "\(file) does not match the architecture: \(parts.joined(separator: "; "))"
        case .badArchitecture(let file, let reason): return "\(file): bad architecture: \(reason)"
        }
    }
}

/// Up to eight names, then a count of the rest.
private func listed(_ names: [String]) -> String {
    let shown = names.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
    return names.count > 8 ? "\(shown) and \(names.count - 8) more" : shown
}
