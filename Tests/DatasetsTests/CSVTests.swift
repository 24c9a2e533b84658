import Foundation
import Tensors
import Testing
@testable import Datasets

private func table(_ text: String) throws -> CSVTable {
    try CSVTable(data: Data(text.utf8), file: "t.csv")
}

private func load(_ text: String, _ options: CSVOptions) throws -> Dataset<Double> {
    try CSVFormat.dataset(from: table(text), options: options)
}

@Suite("CSV")
struct CSVTests {
    @Test("a cell is a number as spreadsheets read one: decimal and exponent forms, inf and nan; not hexadecimal, not with a NUL")
    func numericText() {
        #expect(NumericText.value("1.5") == 1.5 && NumericText.value("-1e3") == -1000 && NumericText.value("inf") == .infinity)
        #expect(NumericText.value("nan")?.isNaN == true)
        for text in ["0x1A", "0X10", "0x1p3", "3\u{0}junk", "1,5", ""] { #expect(NumericText.value(text) == nil, "\(text)") }
        // The same reading serves flags and model specs (Tensors' Double(decimal:)).
        #expect(Double(decimal: "2.5e-1") == 0.25 && Double(decimal: "-0x1") == nil && Double(decimal: "-inf") == -.infinity)
    }

    static let iris = """
        sepal_length,sepal_width,species
        5.1,3.5,setosa
        7.0,3.2,versicolor
        6.3,3.3,virginica
        4.9,3.0,setosa

        """

    @Test("header, numeric features, string classes mapped to sorted indices")
    func classes() throws {
        let data = try load(Self.iris, CSVOptions(target: .name("species")))
        #expect(data.featureNames == ["sepal_length", "sepal_width"])
        #expect(data.features.shape == [4, 2])
        #expect(data.features.scalars == [5.1, 3.5, 7.0, 3.2, 6.3, 3.3, 4.9, 3.0])
        guard case .classes(let labels, let classes) = data.targets else { Issue.record("no classes"); return }
        #expect(classes.names == ["setosa", "versicolor", "virginica"])
        #expect(labels == [0, 1, 2, 0])
    }

    @Test("the target chosen by index, also from the end; the mapping round-trips through JSON")
    func targetByIndex() throws {
        let data = try load(Self.iris, CSVOptions(target: .index(-1)))
        guard case .classes(_, let classes) = data.targets else { Issue.record("no classes"); return }
        let decoded = try JSONDecoder().decode(ClassLabels.self, from: JSONEncoder().encode(classes))
        #expect(decoded == classes)
        let first = try load("y,a,b\n1,2,3\n", CSVOptions(target: .index(0)))
        #expect(first.featureNames == ["a", "b"])
        #expect(first.features.scalars == [2, 3])
    }

    @Test("a numeric target column is a regression target [N, 1]; numeric classes sort as numbers")
    func values() throws {
        let text = "x,y\n1,10\n2,2\n3,30\n"
        let data = try load(text, CSVOptions(target: .name("y")))
        guard case .values(let values) = data.targets else { Issue.record("not values"); return }
        #expect(values.shape == [3, 1])
        #expect(values.scalars == [10, 2, 30])
        let classes = try load(text, CSVOptions(target: .name("y"), task: .classification))
        guard case .classes(let labels, let names) = classes.targets else { Issue.record("no classes"); return }
        #expect(names.names == ["2", "10", "30"])
        #expect(labels == [1, 0, 2])
    }

    @Test("a test file maps its labels with the training file's classes")
    func givenClasses() throws {
        let known = ClassLabels(names: ["virginica", "setosa", "versicolor"])
        let data = try load(Self.iris, CSVOptions(target: .name("species"), classes: known))
        guard case .classes(let labels, _) = data.targets else { Issue.record("no classes"); return }
        #expect(labels == [1, 2, 0, 1])
        let error = #expect(throws: DatasetError.self) {
            try load(Self.iris, CSVOptions(target: .name("species"), classes: ClassLabels(names: ["setosa"])))
        }
        #expect(error?.description == "t.csv: row 3: class 'versicolor' is not one of the 1 known classes")
    }

    @Test("quoted fields, CRLF, spaces, a byte-order mark, blank lines, no final newline")
    func quoting() throws {
        let text = "\u{FEFF}a, \"b, c\" ,label\r\n 1 ,\"2\",\"say \"\"hi\"\"\"\r\n\r\n3,4,\"two\nlines\""
        let parsed = try table(text)
        #expect(parsed.header == ["a", "b, c", "label"])
        #expect(parsed.rows == [["1", "2", "say \"hi\""], ["3", "4", "two\nlines"]])
        #expect(parsed.rowNumbers == [2, 4])
    }

    @Test("features only: no target column")
    func featuresOnly() throws {
        let data = try load("a,b\n1,2\n", CSVOptions())
        #expect(data.targets == nil)
        #expect(data.features.shape == [1, 2])
    }

    @Test("standardisation fitted on the file, then applied to another with the same values")
    func standardisation() throws {
        let train = try load("a,b,y\n1,10,0\n3,10,1\n", CSVOptions(target: .name("y"), preprocessing: .fit(.perFeature)))
        let fitted = try #require(train.standardization)
        #expect(fitted.mean == [2, 10])
        #expect(fitted.standardDeviation == [1, 0])
        #expect(train.features.scalars == [-1, 0, 1, 0])
        let test = try load("a,b,y\n5,11,0\n", CSVOptions(target: .name("y"), preprocessing: .apply(fitted)))
        #expect(test.features.scalars == [3, 1])
    }

    // MARK: - Bad input: each a typed error with one line naming row and column

    @Test("ragged rows name the row and both counts")
    func ragged() {
        let error = #expect(throws: DatasetError.raggedRow(file: "t.csv", row: 3, found: 2, expected: 3)) {
            try table("a,b,c\n1,2,3\n4,5\n")
        }
        #expect(error?.description == "t.csv: row 3 has 2 fields, the header has 3")
    }

    @Test("a non-numeric feature names row and column")
    func nonNumeric() {
        let error = #expect(throws: DatasetError.self) {
            try load("a,b,y\n1,2,x\n3,oops,y\n", CSVOptions(target: .name("y")))
        }
        #expect(error == .nonNumeric(file: "t.csv", row: 3, column: CSVColumn(index: 1, name: "b"), value: "oops"))
        #expect(error?.description == "t.csv: row 3, column 'b' (index 1): 'oops' is not a number")
        #expect(throws: DatasetError.nonNumeric(file: "t.csv", row: 2, column: CSVColumn(index: 0, name: "a"), value: "")) {
            try load("a,y\n,1\n", CSVOptions(target: .name("y")))
        }
    }

    @Test("NaN and infinity, in features and in regression targets")
    func notANumber() {
        let error = #expect(throws: DatasetError.self) { try load("a,b\n1,2\n3,NaN\n", CSVOptions()) }
        #expect(error == .nonFinite(file: "t.csv", row: 3, column: CSVColumn(index: 1, name: "b"), value: "NaN"))
        #expect(error?.description == "t.csv: row 3, column 'b' (index 1): 'NaN' is not a finite number")
        #expect(throws: DatasetError.nonFinite(file: "t.csv", row: 2, column: CSVColumn(index: 1, name: "y"), value: "inf")) {
            try load("a,y\n1,inf\n", CSVOptions(target: .name("y"), task: .regression))
        }
    }

    @Test("an empty file, a header without rows, an unclosed quote")
    func empty() {
        for text in ["", "\n\n", "  \r\n"] {
            let error = #expect(throws: DatasetError.emptyFile(file: "t.csv")) { try table(text) }
            #expect(error?.description == "t.csv: the file is empty")
        }
        #expect(throws: DatasetError.corrupt(file: "t.csv", reason: "the header is followed by no data rows")) {
            try load("a,b\n", CSVOptions())
        }
        #expect(throws: DatasetError.corrupt(file: "t.csv", reason: "row 2: a quoted field is never closed")) {
            try table("a\n\"open\n")
        }
    }

    @Test("a missing target column, by name and by index, lists the columns")
    func missingTarget() {
        let error = #expect(throws: DatasetError.self) { try load(Self.iris, CSVOptions(target: .name("label"))) }
        #expect(error?.description == "t.csv: no column 'label' (columns: sepal_length, sepal_width, species)")
        #expect(throws: DatasetError.missingColumn(file: "t.csv", column: "at index 3 of 3",
                                                   available: ["sepal_length", "sepal_width", "species"])) {
            try load(Self.iris, CSVOptions(target: .index(3)))
        }
    }

    @Test("semicolons or tabs where the header line has no comma; with semicolons, decimal commas are numbers")
    func otherSeparators() throws {
        let semicolons = try load("length;width;species\n5,1;3,5;setosa\n7;3,2;versicolor\n-1,5e1;0;setosa\n",
                                  CSVOptions(target: .name("species")))
        #expect(semicolons.featureNames == ["length", "width"])
        #expect(semicolons.features.scalars == [5.1, 3.5, 7, 3.2, -15, 0])
        let tabs = try load("a\tb\ty\n1.5\t2\t0\n3\t4\t1\n", CSVOptions(target: .name("y")))
        #expect(tabs.featureNames == ["a", "b"] && tabs.features.scalars == [1.5, 2, 3, 4])
        // A comma in the header line keeps commas: the semicolons are then part of fields.
        #expect(try table("a;b,c\n1;2,3\n").header == ["a;b", "c"])
        // Blank lines before the header do not hide its separator.
        #expect(try table("\n \r\nx;y\n1;2\n").header == ["x", "y"])
        // A separator given is used as it is.
        #expect(try CSVTable(data: Data("a;b\n1;2\n".utf8), file: "t.csv", separator: UInt8(ascii: ",")).header == ["a;b"])
        // Text that a comma would not make a number stays as it is.
        #expect(try table("x;label\n1;a,b\n2;1,2,3\n3;1.5,2\n").rows == [["1", "a,b"], ["2", "1,2,3"], ["3", "1.5,2"]])
    }

    @Test("an empty target names its row and column, for classes and for values")
    func emptyTarget() {
        let error = #expect(throws: DatasetError.self) {
            try load("a,b,label\n1,2,x\n3,4,\n5,6,y\n", CSVOptions(target: .name("label")))
        }
        #expect(error == .emptyTarget(file: "t.csv", row: 3, column: CSVColumn(index: 2, name: "label")))
        #expect(error?.description == "t.csv: row 3, column 'label' (index 2): the target is empty")
        #expect(throws: DatasetError.emptyTarget(file: "t.csv", row: 2, column: CSVColumn(index: 1, name: "y"))) {
            try load("a,y\n1,\"  \"\n2,3.5\n", CSVOptions(target: .name("y"), task: .regression))
        }
    }

    @Test("two feature columns of one name are refused, naming both indexes, as evaluation refuses them")
    func duplicateFeatureNames() {
        let error = #expect(throws: DatasetError.self) {
            try load("a,a,c,label\n1,2,3,x\n4,5,6,y\n", CSVOptions(target: .name("label")))
        }
        #expect(error?.description == "t.csv: columns 0 and 1 are both named 'a'")
        // The target between them, chosen by index, is not one of them.
        let around = #expect(throws: DatasetError.self) { try load("b,y,b\n1,0,2\n3,1,4\n", CSVOptions(target: .index(1))) }
        #expect(around?.description == "t.csv: columns 0 and 2 are both named 'b'")
        // Features only (new data), too.
        #expect(throws: DatasetError.corrupt(file: "t.csv", reason: "columns 1 and 2 are both named ''")) {
            try load("a,,\n1,2,3\n", CSVOptions())
        }
    }

    @Test("a column asked for as text is the column of that name, else the integer as an index")
    func nameOrIndex() throws {
        let numbers = try table("1,2,3,4\n10,20,30,0\n11,21,31,1\n")
        #expect(try numbers.column(.nameOrIndex("4")) == CSVColumn(index: 3, name: "4"))
        #expect(try numbers.column(.nameOrIndex("1")) == CSVColumn(index: 0, name: "1"))
        // No column is named 0 or -1: they are indexes.
        #expect(try numbers.column(.nameOrIndex("0")) == CSVColumn(index: 0, name: "1"))
        #expect(try numbers.column(.nameOrIndex("-1")) == CSVColumn(index: 3, name: "4"))
        let past = #expect(throws: DatasetError.self) { try numbers.column(.nameOrIndex("5")) }
        #expect(past?.description == "t.csv: no column at index 5 of 4 (columns: 1, 2, 3, 4)")
        let missing = #expect(throws: DatasetError.self) { try numbers.column(.nameOrIndex("label")) }
        #expect(missing?.description == "t.csv: no column 'label' (columns: 1, 2, 3, 4)")
        let data = try load("1,2,3,4\n10,20,30,0\n11,21,31,1\n", CSVOptions(target: .nameOrIndex("4")))
        #expect(data.featureNames == ["1", "2", "3"])
        #expect(data.features.scalars == [10, 20, 30, 11, 21, 31])
        // New data without the target column: features only, as for a name.
        let features = try load("a,b\n1,2\n", CSVOptions(target: .nameOrIndex("label"), requiresTarget: false))
        #expect(features.targets == nil && features.featureNames == ["a", "b"])
        // With the target column present, its cells (empty, '?') are not read.
        let unread = try load("a,label,b\n1,,2\n3,?,4\n", CSVOptions(target: .nameOrIndex("label"), requiresTarget: false))
        #expect(unread.targets == nil && unread.featureNames == ["a", "b"] && unread.features.scalars == [1, 2, 3, 4])
        #expect(unread.notes.contains { $0.hasSuffix("column 'label' is the target, left out unread: predictions need only the features") },
                "\(unread.notes)")
    }

    @Test("a value past Float's range names its cell when read as Float; Double data holds it; 1e309 is past Double's")
    func outOfRange() throws {
        let text = "a,b,y\n1,2,0\n3,4,1\n-1e39,5,0\n"
        let error = #expect(throws: DatasetError.self) {
            try CSVFormat.dataset(from: table(text), options: CSVOptions(target: .name("y")), as: Float.self)
        }
        #expect(error?.description == "t.csv: row 4, column 'a' (index 0): '-1e39' is out of Float's range (±3.4e38)")
        #expect(try load(text, CSVOptions(target: .name("y"))).features.scalars[4] == -1e39)
        let target = #expect(throws: DatasetError.self) {
            try CSVFormat.dataset(from: table("a,price\n1,2.5\n2,1e39\n3,4.5\n"), options: CSVOptions(target: .name("price")),
                                  as: Float.self)
        }
        #expect(target?.description == "t.csv: row 3, column 'price' (index 1): '1e39' is out of Float's range (±3.4e38)")
        let double = #expect(throws: DatasetError.self) { try load("a,b\n1,1e309\n", CSVOptions()) }
        #expect(double?.description == "t.csv: row 2, column 'b' (index 1): '1e309' is out of Double's range (±1.8e308)")
        // The largest Float is read; 'inf' is still not a finite number.
        let largest = try CSVFormat.dataset(from: table("a\n3.4028234e38\n"), options: CSVOptions(), as: Float.self)
        #expect(largest.features.scalars == [Float.greatestFiniteMagnitude])
        #expect(throws: DatasetError.nonFinite(file: "t.csv", row: 2, column: CSVColumn(index: 0, name: "a"), value: "-Infinity")) {
            try CSVFormat.dataset(from: table("a\n-Infinity\n"), options: CSVOptions(), as: Float.self)
        }
    }

    @Test("integer labels are classes by value, named by the integer: 0 and -0 are one class, 1, 1.0 and 01 another")
    func integerLabelsByValue() throws {
        let data = try load("a,y\n1,0\n2,-0\n3,1\n4,1.0\n5,01\n6,2\n", CSVOptions(target: .name("y")))
        guard case .classes(let labels, let classes) = data.targets else { Issue.record("no classes"); return }
        #expect(classes.names == ["0", "1", "2"])
        #expect(labels == [0, 0, 1, 1, 1, 2])
        #expect(data.taskReason == "target 'y' holds 3 distinct integer values (0, 1, 2)")
        // A test file maps its labels by value against the model's classes.
        let test = try load("a,y\n1,-0\n2,2.0\n3,01\n4,1e0\n", CSVOptions(target: .name("y"), classes: classes))
        guard case .classes(let testLabels, _) = test.targets else { Issue.record("no classes"); return }
        #expect(testLabels == [0, 2, 1, 1])
        // An exact name comes first (a model whose classes were named "-0" and "0").
        let exact = try load("a,y\n1,0\n2,-0\n3,1.0\n",
                             CSVOptions(target: .name("y"), classes: ClassLabels(names: ["-0", "0", "1"])))
        guard case .classes(let exactLabels, _) = exact.targets else { Issue.record("no classes"); return }
        #expect(exactLabels == [1, 0, 2])
        // Integer labels index given class names by value.
        let named = try load("a,y\n1,0\n2,1.0\n3,-0\n", CSVOptions(target: .name("y"), classNames: ["no", "yes"]))
        guard case .classes(let namedLabels, let names) = named.targets else { Issue.record("no classes"); return }
        #expect(names.names == ["no", "yes"] && namedLabels == [0, 1, 0])
        // Text labels stay text, even when some are numbers.
        let text = try load("a,y\n1,cat\n2,01\n3,1\n", CSVOptions(target: .name("y")))
        #expect(text.classes?.names == ["01", "1", "cat"])
    }

    @Test("a few cells that are not numbers in a numeric target are named, and any when told regression; text labels and classification read as before")
    func strayText() throws {
        func prices(_ strays: [Int: String]) -> String {
            "size,price\n" + (0..<200).map { "\($0),\(strays[$0] ?? String(Double($0) * 1.5 + 0.25))" }.joined(separator: "\n")
        }
        let one = #expect(throws: DatasetError.self) { try load(prices([50: "N/A"]), CSVOptions(target: .name("price"))) }
        #expect(one?.description
            == "t.csv: row 52, column 'price' (index 1): 'N/A' is not a number (the column's other 199 values are numbers)")
        let three = #expect(throws: DatasetError.self) {
            try load(prices([7: "?", 50: "N/A", 120: "-"]), CSVOptions(target: .name("price")))
        }
        #expect(three?.description
            == "t.csv: row 9, column 'price' (index 1): '?' is not a number (the first of 3 such values; the column's other 197 values are numbers)")
        // A 0/1 label column with one stray 'x', which would otherwise be classes 0, 1, x.
        let labels = "a,label\n" + (0..<20).map { "\($0),\($0 == 13 ? "x" : String($0 % 2))" }.joined(separator: "\n")
        let stray = #expect(throws: DatasetError.self) { try load(labels, CSVOptions(target: .name("label"))) }
        #expect(stray?.description
            == "t.csv: row 15, column 'label' (index 1): 'x' is not a number (the column's other 19 values are numbers)")
        // Told it is classification, the column is text labels as it is.
        let told = try load(labels, CSVOptions(target: .name("label"), task: .classification))
        #expect(told.classes?.names == ["0", "1", "x"])
        // More than 10 % text is a column of labels: 3 of 20 here.
        let mixed = "a,label\n" + (0..<20).map { "\($0),\($0 < 3 ? "other" : String($0 % 2))" }.joined(separator: "\n")
        #expect(try load(mixed, CSVOptions(target: .name("label"))).classes?.names == ["0", "1", "other"])
        // Read as values (a task of regression), any such cell is refused, every one counted.
        let values = #expect(throws: DatasetError.self) { try load(mixed, CSVOptions(target: .name("label"), task: .regression)) }
        #expect(values?.description
            == "t.csv: row 2, column 'label' (index 1): 'other' is not a number (the first of 3 such values; the column's other 17 values are numbers)")
        #expect(try load(Self.iris, CSVOptions(target: .name("species"))).classes?.count == 3)
    }

    @Test("a field with a comma, a quote, a line break or outer spaces is written quoted, and reads back as it was")
    func writing() throws {
        #expect(CSVFormat.field("plain") == "plain")
        #expect(CSVFormat.field("cat, the animal") == "\"cat, the animal\"")
        #expect(CSVFormat.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVFormat.field("c\nat") == "\"c\nat\"")
        let names = ["index", "cat, the animal", "say \"hi\"", "c\nat", "c\r\nat", " padded\t", "", "plain"]
        let values = names.indices.map(String.init)
        let parsed = try table(CSVFormat.line(names) + "\n" + CSVFormat.line(values) + "\n")
        #expect(parsed.header == names)
        #expect(parsed.rows == [values])
    }

    @Test("a file on disk; a missing file is named")
    func files() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("csv-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("iris.csv").path
        try Data(Self.iris.utf8).write(to: URL(fileURLWithPath: path))
        let data = try CSVFormat.load(path, options: CSVOptions(target: .name("species")), as: Float.self)
        #expect(data.features.shape == [4, 2])
        #expect(throws: DatasetError.missingFile(directory.appendingPathComponent("none.csv").path)) {
            try CSVFormat.load(directory.appendingPathComponent("none.csv").path, as: Float.self)
        }
    }
}
