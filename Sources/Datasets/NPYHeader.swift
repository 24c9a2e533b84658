/// The dict literal of a `.npy` header, read by a small parser that accepts exactly
/// what NumPy writes — string keys; string, True/False and tuple-of-integers values —
/// and evaluates nothing.
struct NPYHeader {
    let dataType: NPYArray.DataType
    let shape: [Int]

    private enum Value {
        case string(String), boolean(Bool), tuple([Int])
    }

    init(parsing bytes: [UInt8], file: String) throws(DatasetError) {
        var reader = Reader(bytes: bytes, file: file)
        let entries = try reader.dictionary()
        guard Set(entries.map(\.key)) == ["descr", "fortran_order", "shape"], entries.count == 3 else {
            throw .badHeader(file: file, reason: "keys \(entries.map(\.key)), expected descr, fortran_order and shape")
        }
        let values = Dictionary(entries, uniquingKeysWith: { a, _ in a })
        guard case .string(let descr) = values["descr"] else {
            throw .badHeader(file: file, reason: "'descr' is not a string")
        }
        guard case .boolean(let isFortranOrder) = values["fortran_order"] else {
            throw .badHeader(file: file, reason: "'fortran_order' is not True or False")
        }
        guard case .tuple(let shape) = values["shape"] else {
            throw .badHeader(file: file, reason: "'shape' is not a tuple of integers")
        }
        guard !isFortranOrder else {
            throw .unsupported(file: file, reason: "Fortran-order (column-major) arrays; save with np.ascontiguousarray")
        }
        self.dataType = try Self.dataType(descr, file: file)
        self.shape = shape
    }

    private static func dataType(_ descr: String, file: String) throws(DatasetError) -> NPYArray.DataType {
        if let type = NPYArray.DataType(rawValue: descr) { return type }
        if descr == "<u1" { return .uint8 }
        if descr.hasSuffix("O") {
            throw .unsupported(file: file, reason: "object array ('\(shown(descr))'): it would need pickled Python objects, which are never loaded")
        }
        if descr.hasPrefix(">") {
            throw .unsupported(file: file, reason: "big-endian data ('\(shown(descr))'); convert with arr.astype(arr.dtype.newbyteorder('<'))")
        }
        let known = NPYArray.DataType.allCases.map { "\($0) '\($0.rawValue)'" }.joined(separator: ", ")
        throw .unsupported(file: file, reason: "data type '\(shown(descr))' (known: \(known))")
    }

    /// A cursor over the header's ASCII text.
    private struct Reader {
        let bytes: [UInt8]
        let file: String
        var position = 0

        init(bytes: [UInt8], file: String) {
            self.bytes = bytes
            self.file = file
        }

        mutating func dictionary() throws(DatasetError) -> [(key: String, value: Value)] {
            try expect("{")
            var entries: [(key: String, value: Value)] = []
            while true {
                skipSpace()
                if peek() == UInt8(ascii: "}") { position += 1; break }
                let key = try string()
                try expect(":")
                entries.append((key, try value()))
                skipSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect("}")
                break
            }
            skipSpace()
            guard position == bytes.count else { throw failure("text after the closing brace") }
            return entries
        }

        private mutating func value() throws(DatasetError) -> Value {
            skipSpace()
            switch peek() {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "("): return .tuple(try tuple())
            case UInt8(ascii: "["):
                throw .unsupported(file: file, reason: "structured (record) arrays")
            default:
                if take("True") { return .boolean(true) }
                if take("False") { return .boolean(false) }
                throw failure("a value that is not a string, True, False or a tuple")
            }
        }

        private mutating func string() throws(DatasetError) -> String {
            skipSpace()
            guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"") else {
                throw failure("expected a quoted string")
            }
            position += 1
            guard let end = bytes[position...].firstIndex(of: quote) else { throw failure("unterminated string") }
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }

        private mutating func tuple() throws(DatasetError) -> [Int] {
            try expect("(")
            var values: [Int] = []
            while true {
                skipSpace()
                if peek() == UInt8(ascii: ")") { position += 1; return values }
                values.append(try integer())
                skipSpace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect(")")
                return values
            }
        }

        private mutating func integer() throws(DatasetError) -> Int {
            let start = position
            while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
            guard position > start, position - start <= 18,
                  let value = Int(String(decoding: bytes[start..<position], as: UTF8.self))
            else { throw failure("a dimension that is not a non-negative integer") }
            if peek() == UInt8(ascii: "L") { position += 1 }  // Python 2's long suffix
            return value
        }

        private mutating func expect(_ character: Character) throws(DatasetError) {
            skipSpace()
            guard peek() == character.asciiValue else { throw failure("expected '\(character)'") }
            position += 1
        }

        private mutating func take(_ word: String) -> Bool {
            let utf8 = Array(word.utf8)
            guard bytes[position...].starts(with: utf8) else { return false }
            position += utf8.count
            return true
        }

        private mutating func skipSpace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D { position += 1 }
        }

        private func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        private func failure(_ reason: String) -> DatasetError {
            .badHeader(file: file, reason: "\(reason) at byte \(position) of the header")
        }
    }
}
