/// A data file that cannot be read, with a one-line explanation.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case unreadable(file: String, reason: String)
    case corrupt(file: String, reason: String)
    case badMagic(file: String, found: UInt32)
    case mismatch(String)

    public var description: String {
        switch self {
        case .missingFile(let path): return "\(path): no such file"
        case .unreadable(let file, let reason): return "\(file): cannot read (\(reason))"
        case .corrupt(let file, let reason): return "\(file): \(reason)"
        case .badMagic(let file, let found):
            return "\(file): not an IDX file (magic number 0x\(String(found, radix: 16)))"
        case .mismatch(let message): return message
        }
    }
}
