import Foundation
import Tensors

/// The header and rows of a CSV file (RFC 4180: fields separated by commas, quoted with
/// `"` when they hold a separator, a quote (`""`) or a line break; CRLF or LF line ends;
/// raw or gzip-compressed). Unquoted fields are trimmed of spaces and tabs; blank lines
/// are skipped; every row must have as many fields as the header. Without a separator
/// given, a file whose header line has no comma but semicolons (as spreadsheets write
/// CSV where the comma is the decimal mark) or tabs is read with that separator. A
/// separator that ends every line, the header's too, makes an empty last column without
/// a name (pandas reads it as one); it is left out, with a note.
public struct CSVTable: Sendable {
    public let file: String
    public let header: [String]
    /// The data rows, each as many fields as ``header``.
    public let rows: [[String]]
    /// The line of the file where each row starts (the header is row 1).
    public let rowNumbers: [Int]
    /// What reading the file decided that its user should be told (an empty last column
    /// left out), one line each.
    public let notes: [String]

    public init(contentsOf path: String, separator: UInt8? = nil) throws(DatasetError) {
        try self.init(bytes: FileContents.read(path), file: path, separator: separator)
    }

    public init(data: Data, file: String = "CSV data", separator: UInt8? = nil) throws(DatasetError) {
        try self.init(bytes: [UInt8](data), file: file, separator: separator)
    }

    init(bytes: [UInt8], file: String, separator: UInt8?) throws(DatasetError) {
        let separator = separator ?? Self.separator(of: bytes)
        let records = try CSVParser(bytes: bytes, separator: separator).records(file: file)
        guard let first = records.first else { throw .emptyFile(file: file) }
        for record in records.dropFirst() where record.fields.count != first.fields.count {
            throw .raggedRow(file: file, row: record.line, found: record.fields.count, expected: first.fields.count)
        }
        self.file = file
        var header = first.fields
        // Separated by semicolons, numbers may have a decimal comma: 1,5 is 1.5.
        var rows = records.dropFirst().map { record in
            separator == UInt8(ascii: ";") ? record.fields.map(Self.decimalPoint) : record.fields
        }
        var notes: [String] = []
        if header.count > 1, header.last == "", !rows.isEmpty, rows.allSatisfy({ $0.last == "" }) {
            header.removeLast()
            rows = rows.map { Array($0.dropLast()) }
            let name = [UInt8(ascii: ";"): "semicolon", UInt8(ascii: "\t"): "tab"][separator] ?? "comma"
            notes.append("\(file): every line ends with a \(name), an empty last column without a name (pandas reads it so): the column is left out")
        }
        (self.header, self.rows, self.notes) = (header, rows, notes)
        rowNumbers = records.dropFirst().map(\.line)
    }

    /// `text` with its one comma made a point when that makes it a number and it has no
    /// point already ("-1,5e3" → "-1.5e3"); otherwise as it is.
    static func decimalPoint(_ text: String) -> String {
        guard text.utf8.count(where: { $0 == UInt8(ascii: ",") }) == 1, !text.contains(".") else { return text }
        let pointed = text.replacingOccurrences(of: ",", with: ".")
        return Double(pointed) == nil ? text : pointed
    }

    /// The column chosen by name or index; a name that two columns share is refused.
    public func column(_ selector: CSVOptions.Column) throws(DatasetError) -> CSVColumn {
        switch selector {
        case .nameOrIndex(let text):
            if !hasColumn(named: text), let index = Int(text) { return try column(.index(index)) }
            return try column(.name(text))
        case .name(let name):
            guard let index = header.firstIndex(of: name) else {
                throw .missingColumn(file: file, column: "'\(name)'", available: header)
            }
            if let second = header[(index + 1)...].firstIndex(of: name) {
                throw Self.sharedName(file, CSVColumn(index: index, name: name), CSVColumn(index: second, name: name))
            }
            return CSVColumn(index: index, name: name)
        case .index(let requested):
            let index = requested < 0 ? header.count + requested : requested
            guard header.indices.contains(index) else {
                throw .missingColumn(file: file, column: "at index \(requested) of \(header.count)", available: header)
            }
            return CSVColumn(index: index, name: header[index])
        }
    }

    /// Two columns of one name: the model could not tell them apart in another file.
    static func sharedName(_ file: String, _ first: CSVColumn, _ second: CSVColumn) -> DatasetError {
        .corrupt(file: file, reason: "columns \(first.index) and \(second.index) are both named '\(shown(first.name))'")
    }

    /// Whether a column of this name exists.
    public func hasColumn(named name: String) -> Bool { header.contains(name) }

    /// A comma, unless the first line that is not blank (the header) has none and has a
    /// semicolon or else a tab.
    static func separator(of bytes: [UInt8]) -> UInt8 {
        let (comma, semicolon, tab) = (UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t"))
        let line = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 64)
            .first { $0.contains { ![UInt8(ascii: " "), UInt8(ascii: "\r"), tab].contains($0) } } ?? []
        if line.contains(comma) { return comma }
        return line.contains(semicolon) ? semicolon : line.contains(tab) ? tab : comma
    }
}

/// How a CSV file becomes a ``Dataset``.
public struct CSVOptions: Sendable {
    /// A column by header name, or by index from 0 (negative: from the end, -1 is the last).
    public enum Column: Sendable, Hashable, Codable {
        case name(String)
        case index(Int)
        /// Text as a user types it (`--target 4`): the column of that name when there is
        /// one, otherwise an integer as an index. A name wins: in a header of numbers
        /// (`1,2,3,4`), `4` is the column named `4`, not a fifth column.
        case nameOrIndex(String)

        /// The name this selector asks for when it cannot be an index.
        var nameOnly: String? {
            switch self {
            case .name(let name): return name
            case .nameOrIndex(let text): return Int(text) == nil ? text : nil
            case .index: return nil
            }
        }
    }

    public enum Preprocessing: Sendable, Hashable {
        case none
        /// Fit a standardisation to this file (the training set) and apply it.
        case fit(Standardization.Scope)
        /// Apply a standardisation fitted before (to the training set).
        case apply(Standardization)
    }

    /// The target column; nil when the file holds only features (new data to predict).
    public var target: Column?
    /// Whether a file without the target column is an error (evaluation) or holds only
    /// features (prediction: the target column is left out unread when present, with a
    /// note; its cells may be empty, `?` or labels never seen).
    public var requiresTarget: Bool
    /// Classification or regression; nil infers it from the target column
    /// (``LearningTask/inferred(fromTargets:named:)``), or takes classification when
    /// ``classes`` is given.
    public var task: LearningTask?
    /// The class mapping to use (the training file's); a label outside it is an error.
    /// nil: derived from this file's labels, sorted.
    public var classes: ClassLabels?
    /// Names for the classes of integer labels 0..<K (label i is `classNames[i]`); text
    /// labels must be among them.
    public var classNames: [String]?
    /// The feature columns by name, in the model's order (the training file's): a file
    /// with its columns in another order is read in this order; a missing column is an
    /// error, other columns (an ID) are left out with a note. nil: every column but the
    /// target, in file order.
    public var featureNames: [String]?
    public var preprocessing: Preprocessing
    /// The field separator; nil: a comma, or the header line's semicolon or tab when it
    /// has no comma (``CSVTable``).
    public var separator: UInt8?

    public init(
        target: Column? = nil, requiresTarget: Bool = true, task: LearningTask? = nil, classes: ClassLabels? = nil,
        classNames: [String]? = nil, featureNames: [String]? = nil, preprocessing: Preprocessing = .none,
        separator: UInt8? = nil
    ) {
        self.target = target
        self.requiresTarget = requiresTarget
        self.task = task
        self.classes = classes
        self.classNames = classNames
        self.featureNames = featureNames
        self.preprocessing = preprocessing
        self.separator = separator
    }
}

/// CSV files with a header row, numeric features and a target column.
public enum CSVFormat {
    /// Reads a CSV file into features `[N, columns − 1]` (all columns but the target, in
    /// file order, or ``CSVOptions/featureNames``' order) and targets: class indices with
    /// their ``ClassLabels``, or values `[N, 1]`.
    public static func load<S: TensorScalar>(
        _ path: String, options: CSVOptions = CSVOptions(), as _: S.Type = S.self
    ) throws(DatasetError) -> Dataset<S> {
        try dataset(from: CSVTable(contentsOf: path, separator: options.separator), options: options)
    }

    /// A parsed table as a data set (see ``load(_:options:as:)``).
    public static func dataset<S: TensorScalar>(
        from table: CSVTable, options: CSVOptions, as _: S.Type = S.self
    ) throws(DatasetError) -> Dataset<S> {
        guard !table.rows.isEmpty else { throw .corrupt(file: table.file, reason: "the header is followed by no data rows") }
        var target: CSVColumn?
        if let selector = options.target {
            if let name = selector.nameOnly, !options.requiresTarget, !table.hasColumn(named: name) {
                target = nil
            } else {
                target = try table.column(selector)
            }
        }
        let featureColumns = try features(table, options, excluding: target)
        let values = try numbers(table, featureColumns, as: S.self)
        let features = Tensor<S>(
            shape: [table.rows.count, featureColumns.count],
            scalars: ScalarArrays.make(S.self, floats: { values.map { Float($0) } }, doubles: { values }))
        var reason: String?
        var notes = table.notes
        if options.featureNames != nil, let unused = unusedColumnsNote(table, features: featureColumns, target: target) {
            notes.append(unused)
        }
        // New data: the target column, when present, is left out unread (empty, '?' or a
        // class never seen in a file of cases to predict).
        if let target, !options.requiresTarget {
            notes.append("\(table.file): column '\(shown(target.name))' is the target, left out unread: predictions need only the features")
        }
        let datasetTargets = try target.flatMap { column throws(DatasetError) -> DatasetTargets<S>? in
            guard options.requiresTarget else { return nil }
            let (targets, why): (DatasetTargets<S>, String?) = try Self.targets(table, column, options)
            reason = why
            return targets
        }
        if let names = options.classNames, options.classes == nil, let target, case .classes? = datasetTargets,
           let note = ClassLabels.sortedIntegersNote(labels: table.rows.map { $0[target.index] }, names: names, file: table.file) {
            notes.append(note)
        }
        var dataset = try Dataset(features: features, targets: datasetTargets, featureNames: featureColumns.map(\.name),
                                  targetName: target?.name)
        dataset.taskReason = reason
        dataset.notes = notes
        switch options.preprocessing {
        case .none: break
        case .fit(let scope): dataset = try dataset.standardized(with: Standardization(fittedTo: features, scope: scope))
        case .apply(let standardization): dataset = try dataset.standardized(with: standardization)
        }
        return dataset
    }

    /// The feature columns: every column but the target, or the named ones in their order.
    static func features(_ table: CSVTable, _ options: CSVOptions, excluding target: CSVColumn?) throws(DatasetError)
        -> [CSVColumn]
    {
        guard let names = options.featureNames else {
            let columns = table.header.indices.filter { $0 != target?.index }
                .map { CSVColumn(index: $0, name: table.header[$0]) }
            guard !columns.isEmpty else { throw .mismatch("\(table.file): no feature columns besides the target") }
            // Features are matched by name in other files (evaluation, prediction), so
            // two of one name are refused here, where the model would learn them.
            var seen: [String: CSVColumn] = [:]
            for column in columns {
                if let first = seen.updateValue(column, forKey: column.name) {
                    throw CSVTable.sharedName(table.file, first, column)
                }
            }
            return columns
        }
        var columns: [CSVColumn] = []
        for name in names {
            guard table.hasColumn(named: name) else {
                throw .missingColumn(file: table.file, column: "'\(name)', a feature of the model", available: table.header)
            }
            columns.append(try table.column(.name(name)))
        }
        return columns
    }

    /// The note for columns that are neither features nor the target (an ID, a column
    /// the model was not trained on), which are left out; nil when there are none.
    static func unusedColumnsNote(_ table: CSVTable, features: [CSVColumn], target: CSVColumn?) -> String? {
        let used = Set(features.map(\.index) + (target.map { [$0.index] } ?? []))
        let unused = table.header.indices.filter { !used.contains($0) }.map { "'\(shown(table.header[$0]))'" }
        guard !unused.isEmpty else { return nil }
        let list = unused.prefix(12).joined(separator: ", ") + (unused.count > 12 ? ", …" : "")
        let what = unused.count == 1 ? "column \(list) is not a feature of the model" : "\(unused.count) columns are not features of the model (\(list))"
        let features = shown(features.map(\.name).joined(separator: ", "), limit: 200)
        return "\(table.file): \(what), left out; its features: \(features)"
    }

    /// The values of `columns`, row by row, as finite numbers that `S` holds.
    static func numbers<S: TensorScalar>(_ table: CSVTable, _ columns: [CSVColumn], as _: S.Type) throws(DatasetError)
        -> [Double]
    {
        let isFloat = S.self == Float.self
        var values: [Double] = []
        values.reserveCapacity(table.rows.count * columns.count)
        for (row, fields) in zip(table.rowNumbers, table.rows) {
            for column in columns {
                values.append(try number(fields[column.index], table.file, row, column, isFloat: isFloat))
            }
        }
        return values
    }

    /// A cell's value; for Float data (`isFloat`), one that Float holds: 1e39 is refused
    /// here, naming its cell, rather than becoming infinity in the tensor.
    static func number(_ text: String, _ file: String, _ row: Int, _ column: CSVColumn, isFloat: Bool)
        throws(DatasetError) -> Double
    {
        guard let value = NumericText.value(text) else {
            throw .nonNumeric(file: file, row: row, column: column, value: text)
        }
        guard value.isFinite else {
            if NumericText.namesNonFinite(text) { throw .nonFinite(file: file, row: row, column: column, value: text) }
            throw .outOfRange(file: file, row: row, column: column, value: text, type: "Double")
        }
        if isFloat && !Float(value).isFinite {
            throw .outOfRange(file: file, row: row, column: column, value: text, type: "Float")
        }
        return value
    }

    /// Refuses a target column of numbers with a few cells that are not ('N/A', a stray
    /// 'x'), naming the first: inferred, such a column would become text classes, one
    /// per distinct number, and the error would come later as a model/data mismatch.
    ///
    /// "A few" is at most 3 cells or 1 % of the rows, whichever is more, and at most 10 %
    /// of the rows: a column of text labels (cat, dog) has no numbers at all, and a short
    /// one that holds a number among its labels has more than 10 % text. A task given
    /// (`task: .classification`) reads the column as it is, as text labels; read as
    /// values (`task: .regression`, `asValues`), any such cell is refused, all counted.
    static func refuseStrayText(_ texts: [String], _ table: CSVTable, _ column: CSVColumn, asValues: Bool = false)
        throws(DatasetError)
    {
        var strays = 0
        var first: Int?
        let limit = asValues ? texts.count : Swift.min(Swift.max(3, texts.count / 100), texts.count / 10)
        for (index, text) in texts.enumerated() where NumericText.value(text) == nil {
            first = first ?? index
            strays += 1
            if strays > limit { return }
        }
        guard let first else { return }
        throw .strayText(file: table.file, row: table.rowNumbers[first], column: column, value: texts[first],
                         strays: strays, numbers: texts.count - strays)
    }

    /// The target column as class labels or values, and why when the task was inferred.
    static func targets<S: TensorScalar>(
        _ table: CSVTable, _ column: CSVColumn, _ options: CSVOptions
    ) throws(DatasetError) -> (DatasetTargets<S>, String?) {
        let texts = table.rows.map { $0[column.index] }
        if let empty = texts.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw .emptyTarget(file: table.file, row: table.rowNumbers[empty], column: column)
        }
        var reason: String?
        var task = options.task
        if task == nil {
            if options.classes != nil || options.classNames != nil {
                task = .classification
            } else {
                try refuseStrayText(texts, table, column)
                let inferred = LearningTask.inferred(fromTargets: texts, named: column.name)
                (task, reason) = (inferred.task, inferred.reason)
            }
        }
        if task == .regression {
            if options.task == .regression { try refuseStrayText(texts, table, column, asValues: true) }
            let values = try numbers(table, [column], as: S.self)
            return (.values(Tensor(shape: [values.count, 1],
                                   scalars: ScalarArrays.make(S.self, floats: { values.map { Float($0) } }, doubles: { values }))),
                    reason)
        }
        let (classes, lookup): (ClassLabels, [String: Int])
        if let given = options.classes {
            (classes, lookup) = (given, try given.lookup(fileLabels: texts, file: table.file))
        } else {
            (classes, lookup) = try ClassLabels.mapping(labels: texts, names: options.classNames, file: table.file)
        }
        var labels: [Int] = []
        labels.reserveCapacity(texts.count)
        for (row, text) in zip(table.rowNumbers, texts) {
            guard let label = lookup[text] else {
                throw .unknownClass(file: table.file, row: row, label: text, known: classes.names)
            }
            labels.append(label)
        }
        return (.classes(labels, classes), reason)
    }

}

/// A byte-level CSV reader: records with the line where each starts.
struct CSVParser {
    let bytes: [UInt8]
    let separator: UInt8

    init(bytes: [UInt8], separator: UInt8) {
        // A UTF-8 byte-order mark is not part of the first header name.
        self.bytes = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        self.separator = separator
    }

    func records(file: String) throws(DatasetError) -> [(fields: [String], line: Int)] {
        let quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        var records: [(fields: [String], line: Int)] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var isQuoted = false, inQuotes = false, lastWasQuoted = false
        var line = 1, recordLine = 1
        func endField() {
            if !isQuoted { while let last = field.last, last == 0x20 || last == 0x09 { field.removeLast() } }
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            lastWasQuoted = isQuoted
            isQuoted = false
        }
        func endRecord() {
            let isBlankLine = fields.count == 1 && fields[0].isEmpty && !lastWasQuoted
            if !isBlankLine { records.append((fields, recordLine)) }
            fields.removeAll()
        }
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if inQuotes {
                if byte == quote {
                    if i < bytes.count && bytes[i] == quote { field.append(quote); i += 1 } else { inQuotes = false }
                } else {
                    if byte == newline { line += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case quote where field.isEmpty && !isQuoted:
                inQuotes = true
                isQuoted = true
            case separator:
                endField()
            case newline, carriageReturn:
                endField()
                endRecord()
                if byte == carriageReturn, i < bytes.count, bytes[i] == newline { i += 1 }
                line += 1
                recordLine = line
            case 0x20, 0x09:
                // Spaces around a field are dropped; spaces inside are kept.
                if !field.isEmpty && !isQuoted { field.append(byte) }
            default:
                field.append(byte)
            }
        }
        if inQuotes { throw .corrupt(file: file, reason: "row \(recordLine): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || isQuoted {
            endField()
            endRecord()
        }
        return records
    }
}
