import Foundation
import Tensors

/// JSON as RFC 8259 defines it, checked before Foundation decodes a file: Foundation's
/// reader takes a comma after the last item of an object or array, and a key given twice
/// (keeping one of the values without a word), so that a file edited by hand can mean
/// something other than it says. Each problem is one line naming where it is, by key path
/// (`'layers[1].dense'`) as ``PlainErrors`` names a key.
struct StrictJSON {
    /// Why the text is not strict JSON, in one line.
    struct Failure: Error {
        let reason: String
    }

    /// The keys of the top-level object, in the order written; nil when the text is not
    /// an object.
    private(set) var topLevelKeys: [String]?

    private let bytes: [UInt8]
    private var position = 0
    /// The keys and indices from the top to the value being read.
    private var path: [PathComponent] = []

    private enum PathComponent {
        case key(String), index(Int)
    }

    /// Objects and arrays nested deeper than this are refused (the reader is recursive).
    static let depthLimit = 512

    /// Checks `data`: one JSON value with nothing but whitespace around it (a UTF-8
    /// byte-order mark may start it), no comma before a closing bracket or brace, no key
    /// twice in one object.
    init(checking data: Data) throws(Failure) {
        bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        skipWhitespace()
        if peek == UInt8(ascii: "{") { topLevelKeys = [] }
        try readValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw failure("text after the end of the JSON value") }
    }

    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    /// The path as PlainErrors writes it, quoted, followed by ": "; empty at the top.
    private var pathPrefix: String {
        guard !path.isEmpty else { return "" }
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += (text.isEmpty ? "" : ".") + PlainErrors.escapingControlCharacters(String(key.prefix(40)))
            case .index(let index): text += "[\(index)]"
            }
        }
        return "'\(text)': "
    }

    /// Line and column (from 1) of the current position.
    private var place: String {
        let before = bytes[..<min(position, bytes.count)]
        let line = before.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        let column = before.count - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        return "line \(line), column \(column)"
    }

    private func failure(_ reason: String) -> Failure {
        Failure(reason: "\(pathPrefix)\(reason) (\(place))")
    }

    private mutating func readValue(depth: Int) throws(Failure) {
        skipWhitespace()
        guard let byte = peek else { throw failure("the text ends where a value was expected") }
        switch byte {
        case UInt8(ascii: "{"): try readObject(depth: depth + 1)
        case UInt8(ascii: "["): try readArray(depth: depth + 1)
        case UInt8(ascii: "\""): _ = try readString()
        case UInt8(ascii: "t"): try readLiteral("true")
        case UInt8(ascii: "f"): try readLiteral("false")
        case UInt8(ascii: "n"): try readLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try readNumber()
        default: throw failure("'\(Self.shown(byte))' where a value was expected")
        }
    }

    private mutating func readObject(depth: Int) throws(Failure) {
        guard depth <= Self.depthLimit else { throw failure("objects and lists nested deeper than \(Self.depthLimit)") }
        position += 1
        var seen = Set<String>()
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else {
                throw failure(peek == UInt8(ascii: "}") ? "a comma before '}': JSON has none after the last member"
                                                       : "a key (a string in double quotes) expected")
            }
            let key = try readString()
            if depth == 1 && path.isEmpty { topLevelKeys?.append(key) }
            path.append(.key(key))
            guard seen.insert(key).inserted else { throw failure("the key appears twice in its object") }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw failure("':' expected after the key") }
            position += 1
            try readValue(depth: depth)
            path.removeLast()
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return
            default: throw failure("',' or '}' expected after a member")
            }
        }
    }

    private mutating func readArray(depth: Int) throws(Failure) {
        guard depth <= Self.depthLimit else { throw failure("objects and lists nested deeper than \(Self.depthLimit)") }
        position += 1
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            position += 1
            return
        }
        var index = 0
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: "]") { throw failure("a comma before ']': JSON has none after the last item") }
            path.append(.index(index))
            try readValue(depth: depth)
            path.removeLast()
            index += 1
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return
            default: throw failure("',' or ']' expected after an item")
            }
        }
    }

    /// A string's text, its escapes resolved (so that `"a"` and `"\u0061"` are one key).
    private mutating func readString() throws(Failure) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var start = position
        func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars) }
        while true {
            guard let byte = peek else { throw failure("a string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                flush(position)
                position += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush(position)
                position += 1
                guard let escaped = peek else { throw failure("a string is not closed") }
                position += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(Unicode.Scalar(escaped))
                case UInt8(ascii: "b"): scalars.append("\u{8}")
                case UInt8(ascii: "f"): scalars.append("\u{C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"): scalars.append(try readUnicodeEscape())
                default: throw failure("'\\\(Self.shown(escaped))' is not a JSON escape")
                }
                start = position
            case 0..<0x20:
                throw failure("a control character in a string (write it as an escape, such as \\n)")
            default:
                position += 1
            }
        }
    }

    /// The scalar of `\uXXXX` (the `\u` read), a surrogate pair taking two escapes.
    private mutating func readUnicodeEscape() throws(Failure) -> Unicode.Scalar {
        let first = try readHexQuad()
        if let scalar = Unicode.Scalar(first) { return scalar }
        guard (0xD800..<0xDC00).contains(first), bytes[position...].starts(with: Array("\\u".utf8)) else {
            throw failure("'\\u' escapes half of a surrogate pair without the other")
        }
        position += 2
        let second = try readHexQuad()
        guard (0xDC00..<0xE000).contains(second), let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)) else {
            throw failure("'\\u' escapes half of a surrogate pair without the other")
        }
        return scalar
    }

    private mutating func readHexQuad() throws(Failure) -> UInt32 {
        let digits = bytes[position..<min(position + 4, bytes.count)].compactMap { Character(Unicode.Scalar($0)).hexDigitValue }
        guard digits.count == 4 else { throw failure("'\\u' needs four hexadecimal digits") }
        position += 4
        return digits.reduce(0) { $0 << 4 | UInt32($1) }
    }

    private mutating func readLiteral(_ word: String) throws(Failure) {
        guard bytes[position...].starts(with: Array(word.utf8)) else { throw failure("not a JSON value (true, false and null are lowercase)") }
        position += word.utf8.count
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func readNumber() throws(Failure) {
        func digits() -> Int {
            let start = position
            while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
            return position - start
        }
        if peek == UInt8(ascii: "-") { position += 1 }
        let integral = position
        guard digits() > 0 else { throw failure("a number needs a digit after '-'") }
        if bytes[integral] == UInt8(ascii: "0") && position - integral > 1 { throw failure("a number does not start with 0 (octal is not JSON)") }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw failure("a number needs a digit after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw failure("a number needs a digit in its exponent") }
        }
    }

    /// A byte for a message: itself when printable ASCII, else its hexadecimal value.
    private static func shown(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? String(Unicode.Scalar(byte)) : String(format: "0x%02X", byte)
    }
}
