import Tensors

/// A data file that cannot be read, with a one-line explanation.
///
/// A CSV row is named by the line of the file where it starts, counted from 1 (the
/// header is row 1), as an editor or a spreadsheet shows it.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case unreadable(file: String, reason: String)
    case cannotWrite(file: String, reason: String)
    case corrupt(file: String, reason: String)
    case badMagic(file: String, found: UInt32)
    case mismatch(String)
    /// A file with no data at all (CSV: not even a header).
    case emptyFile(file: String)
    /// A CSV row whose number of fields differs from the header's.
    case raggedRow(file: String, row: Int, found: Int, expected: Int)
    /// A feature that does not parse as a number.
    case nonNumeric(file: String, row: Int, column: CSVColumn, value: String)
    /// A feature or target that parses as NaN or infinity.
    case nonFinite(file: String, row: Int, column: CSVColumn, value: String)
    /// A feature or target too large for the precision it is read in (`type`: Float or
    /// Double), such as 1e39 for Float.
    case outOfRange(file: String, row: Int, column: CSVColumn, value: String, type: String)
    /// A cell that is not a number in a target column of numbers, or read as values (the
    /// first of `strays` such cells; `numbers` cells are numbers).
    case strayText(file: String, row: Int, column: CSVColumn, value: String, strays: Int, numbers: Int)
    /// A CSV row whose target field is empty.
    case emptyTarget(file: String, row: Int, column: CSVColumn)
    /// A column asked for by name or position that the file does not have.
    case missingColumn(file: String, column: String, available: [String])
    /// A class label not among the classes of a given mapping (training set's).
    case unknownClass(file: String, row: Int, label: String, known: [String])
    /// A valid file of a kind this reader refuses (object arrays, Fortran order, …).
    case unsupported(file: String, reason: String)
    /// A `.npy` header that cannot be parsed.
    case badHeader(file: String, reason: String)
    /// Features and targets of different counts.
    case countMismatch(features: Int, targets: Int)
    /// A class index outside `0..<classes`.
    case labelOutOfRange(example: Int, label: Int, classes: Int)
    /// NaN or infinity in the features or targets of an example (counted from 0).
    case nonFiniteData(what: String, example: Int)

    /// One line: line breaks and other control characters from the input (a tensor or
    /// column name) are shown escaped.
    public var description: String { PlainErrors.escapingControlCharacters(text) }

    private var text: String {
        switch self {
        case .missingFile(let path): return "\(path): no such file"
        case .unreadable(let file, let reason): return "\(file): cannot read (\(reason))"
        case .cannotWrite(let file, let reason): return "\(file): cannot write (\(reason))"
        case .corrupt(let file, let reason): return "\(file): \(reason)"
        case .badMagic(let file, let found):
            return "\(file): not an IDX file (magic number 0x\(String(found, radix: 16)))"
        case .mismatch(let message): return message
        case .emptyFile(let file): return "\(file): the file is empty"
        case .raggedRow(let file, let row, let found, let expected):
            return "\(file): row \(row) has \(found) fields, the header has \(expected)"
        case .nonNumeric(let file, let row, let column, let value):
            return "\(file): row \(row), \(column): '\(shown(value))' is not a number"
        case .nonFinite(let file, let row, let column, let value):
            return "\(file): row \(row), \(column): '\(shown(value))' is not a finite number"
        case .outOfRange(let file, let row, let column, let value, let type):
            let largest = type == "Float" ? "3.4e38" : "1.8e308"
            return "\(file): row \(row), \(column): '\(shown(value))' is out of \(type)'s range (±\(largest))"
        case .strayText(let file, let row, let column, let value, let strays, let numbers):
            let which = strays == 1 ? "" : "the first of \(strays) such values; "
            let others = numbers == 0 ? "none of the column's values is a number" : "the column's other \(numbers) values are numbers"
            return "\(file): row \(row), \(column): '\(shown(value))' is not a number (\(which)\(others))"
        case .emptyTarget(let file, let row, let column):
            return "\(file): row \(row), \(column): the target is empty"
        case .missingColumn(let file, let column, let available):
            return "\(file): no column \(shown(column)) (columns: \(shown(available.joined(separator: ", "), limit: 200)))"
        case .unknownClass(let file, let row, let label, let known):
            return "\(file): row \(row): class '\(shown(label))' is not one of the \(known.count) known classes"
        case .unsupported(let file, let reason): return "\(file): not supported: \(reason)"
        case .badHeader(let file, let reason): return "\(file): bad header: \(reason)"
        case .countMismatch(let features, let targets): return "\(features) examples but \(targets) targets"
        case .labelOutOfRange(let example, let label, let classes):
            return "label \(label) of example \(example) is outside the \(classes) classes 0..<\(classes)"
        case .nonFiniteData(let what, let example): return "the \(what) of example \(example) contain NaN or infinity"
        }
    }
}

/// A column of a CSV file: its index (counted from 0, as in ``CSVOptions/Column/index(_:)``)
/// and header name.
public struct CSVColumn: Sendable, Hashable, CustomStringConvertible {
    public let index: Int
    public let name: String

    public init(index: Int, name: String) {
        self.index = index
        self.name = name
    }

    public var description: String { "column '\(shown(name))' (index \(index))" }
}

/// Text from a file as it appears in a one-line message: control characters escaped
/// (a line break reads `\n`), cut at `limit` characters.
func shown(_ text: String, limit: Int = 40) -> String {
    let escaped = text.unicodeScalars.map { scalar in
        scalar.properties.generalCategory == .control ? scalar.escaped(asASCII: true) : String(scalar)
    }
    return escaped.count > limit ? escaped.prefix(limit).joined() + "…" : escaped.joined()
}
