import Foundation
import Testing

// End-to-end tests of `backprop` on data sets the tests write themselves: small, seeded,
// and with known answers (well-separated classes, a linear price), so that every run is
// fast on two cores and every threshold below has a wide margin.

// MARK: - Seeded data

/// SplitMix64: a tiny generator whose output is the same on every platform, so the data
/// sets below, and the answers the tests expect, never change.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Standard normal, by Box–Muller.
    mutating func normal() -> Double {
        let u = 1 - uniform(), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// Uniform in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// One row of a classification data set.
struct BlobExample {
    let features: [Double]
    let label: Int
}

/// One row of the regression data set: `price = 300·size − 150·age + 1000 + noise`.
struct PriceExample {
    let size: Double, age: Double, floor: Double
    let price: Double
}

/// Data writers, runners and readers shared by the suites below.
enum OwnData {
    /// Feature names without digits, so that a number in an error message never comes from them.
    static let features = ["alpha", "beta", "gamma", "delta"]

    /// Class centres in four features; the closest two are 5.5 apart (noise σ = 1).
    static let centers: [[Double]] = [[2, 0, -2, 1], [-2, 3, 1, -1], [1, -3, 2, 3]]

    static let irisNames = ["setosa", "versicolor", "virginica"]

    /// Standard deviation of the price's noise, in dollars.
    static let priceNoise = 3.0

    /// `count` Gaussian blobs (σ = 1) around the first `classes` centres, labels drawn at random.
    static func blobs(_ count: Int, classes: Int = 3, seed: UInt64) -> [BlobExample] {
        var random = SplitMix64(seed: seed)
        var examples: [BlobExample] = []
        for _ in 0..<count {
            let label = random.below(classes)
            var features: [Double] = []
            for center in centers[label] { features.append(center + random.normal()) }
            examples.append(BlobExample(features: features, label: label))
        }
        return examples
    }

    /// CSV rows keyed by column name: the features, and the target as an integer or as `names[label]`.
    static func rows(_ examples: [BlobExample], target: String = "label", names: [String]? = nil) -> [[String: String]] {
        examples.map { example in
            var row = [target: names?[example.label] ?? String(example.label)]
            for (name, x) in zip(features, example.features) { row[name] = String(format: "%.4f", x) }
            return row
        }
    }

    /// Prices in raw units (about 1075 ± 97 dollars): size, age and floor uniform in [0, 1);
    /// the floor does not matter.
    static func prices(_ count: Int, seed: UInt64) -> [PriceExample] {
        var random = SplitMix64(seed: seed)
        var examples: [PriceExample] = []
        for _ in 0..<count {
            let size = random.uniform(), age = random.uniform(), floor = random.uniform()
            let price: Double = 300 * size - 150 * age + 1000 + priceNoise * random.normal()
            examples.append(PriceExample(size: size, age: age, floor: floor, price: price))
        }
        return examples
    }

    static func rows(_ examples: [PriceExample]) -> [[String: String]] {
        examples.map {
            ["price": String(format: "%.2f", $0.price), "size": String(format: "%.4f", $0.size),
             "age": String(format: "%.4f", $0.age), "floor": String(format: "%.4f", $0.floor)]
        }
    }

    /// Writes `rows` as CSV with the columns in the order given.
    static func writeCSV(_ url: URL, columns: [String], rows: [[String: String]]) throws {
        var lines = [columns.joined(separator: ",")]
        for row in rows { lines.append(columns.map { row[$0] ?? "" }.joined(separator: ",")) }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    /// A `.npy` file (format 1.0) of float32, int64 or uint8 values with the given shape.
    static func npy(shape: [Int], floats: [Float] = [], integers: [Int64] = [], bytes: [UInt8] = []) -> Data {
        let descr = !bytes.isEmpty ? "|u1" : integers.isEmpty ? "<f4" : "<i8"
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(contentsOf: Array(header.utf8))
        floats.forEach { withUnsafeBytes(of: $0.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        integers.forEach { withUnsafeBytes(of: $0.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: bytes)
        return data
    }

    /// An uncompressed IDX file of unsigned bytes: magic `00 00 08 <rank>`, big-endian dimensions, the bytes.
    static func idx(dimensions: [Int], bytes: [UInt8]) -> Data {
        var data = Data([0, 0, 0x08, UInt8(dimensions.count)])
        for dimension in dimensions {
            withUnsafeBytes(of: UInt32(dimension).bigEndian) { data.append(contentsOf: $0) }
        }
        data.append(contentsOf: bytes)
        return data
    }

    /// Writes `count` 8×8 images of three classes into `directory` as MNIST's `split` files:
    /// class c has a bright horizontal bar in row 1, 4 or 6 over a dark, noisy background.
    /// Returns the labels.
    @discardableResult
    static func writeBars(_ directory: URL, split: String, count: Int, seed: UInt64) throws -> [Int] {
        var random = SplitMix64(seed: seed)
        var pixels: [UInt8] = [], labels: [UInt8] = []
        for _ in 0..<count {
            let label = random.below(3)
            let bar = [1, 4, 6][label]
            for row in 0..<8 {
                for _ in 0..<8 {
                    pixels.append(UInt8(row == bar ? 180 + 75 * random.uniform() : 60 * random.uniform()))
                }
            }
            labels.append(UInt8(label))
        }
        try idx(dimensions: [count, 8, 8], bytes: pixels)
            .write(to: directory.appendingPathComponent("\(split)-images-idx3-ubyte"))
        try idx(dimensions: [count], bytes: labels)
            .write(to: directory.appendingPathComponent("\(split)-labels-idx1-ubyte"))
        return labels.map { Int($0) }
    }

    /// `data` as a gzip file holding one stored (uncompressed) deflate block, with its CRC-32.
    static func gzipStored(_ data: Data) -> Data {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc = ~crc
        let size = UInt16(data.count), bytes = { (value: UInt32) in (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
        return Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 1, UInt8(size & 0xFF), UInt8(size >> 8), UInt8(~size & 0xFF), UInt8(~size >> 8)])
            + data + Data(bytes(crc) + bytes(UInt32(data.count)))
    }

    /// A new, empty directory under the temporary directory. Its name has no digits, so
    /// that a number in an error message never comes from the path.
    static func scratchDirectory() throws -> URL {
        let name = UUID().uuidString.map { character -> Character in
            guard let digit = character.wholeNumberValue else { return character }
            return Character(UnicodeScalar(UInt8(ascii: "g") + UInt8(digit)))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-own-data-\(String(name))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `backprop train` with the flags every run here shares: Adam at 0.01, batches of 32, seed 1, one thread.
    static func train(_ flags: [String]) throws -> Run {
        try Run(["train", "--optimizer", "adam", "--lr", "0.01", "--batch-size", "32", "--seed", "1",
                 "--threads", "1"] + flags)
    }

    /// The last non-empty line of `text`.
    static func lastLine(_ text: String) -> String? {
        text.split(separator: "\n").last { !$0.allSatisfy(\.isWhitespace) }.map { String($0) }
    }

    /// The final JSON object `train --json` prints: its last non-empty line.
    static func finalJSON(_ run: Run) -> [String: Any]? {
        guard let line = lastLine(run.output) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    /// The run directory's model.json.
    static func modelJSON(_ run: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: run.appendingPathComponent("model.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "model.json is not an object")
    }

    /// The value of `key` in a JSON object: at the top level, or else in the first nested
    /// object that has it.
    static func find(_ key: String, in object: Any) -> Any? {
        if let dictionary = object as? [String: Any] {
            if let value = dictionary[key] { return value }
            for (_, value) in dictionary.sorted(by: { $0.key < $1.key }) {
                if let found = find(key, in: value) { return found }
            }
        } else if let array = object as? [Any] {
            for value in array {
                if let found = find(key, in: value) { return found }
            }
        }
        return nil
    }

    /// The number in a line `NAME VALUE` of `evaluate`'s output.
    static func metric(_ name: String, in output: String) -> Double? {
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, words[0] == name { return Double(words[1]) }
        }
        return nil
    }

    /// The number right after `phrase` in `line` (`test accuracy 0.9833,` gives "0.9833").
    static func number(after phrase: String, in line: String) -> String? {
        guard let range = line.range(of: phrase) else { return nil }
        let token = line[range.upperBound...].prefix { "0123456789.-".contains($0) }
        return token.isEmpty ? nil : String(token)
    }

    /// CSV text as rows of fields.
    static func csv(_ text: String) -> [[String]] {
        text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    static func fileExists(_ directory: URL, _ name: String) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path)
    }

    /// What is wrong with the confusion matrix `evaluate` printed: it must have the title
    /// line, a header of the class names (names without spaces here), and exactly one row
    /// per class, each starting with the class name, whose counts add up to `examples` and
    /// whose diagonal gives `accuracy`.
    static func confusionProblems(_ output: String, names: [String], examples: Int, accuracy: Double?) -> [String] {
        let lines = output.split(separator: "\n").map(String.init)
        guard let title = lines.firstIndex(of: "confusion matrix (rows: actual, columns: predicted)"),
              title + 1 < lines.count else { return ["no line 'confusion matrix (rows: actual, columns: predicted)'"] }
        var problems: [String] = []
        let columns = lines[title + 1].split(separator: " ").map(String.init)
        if columns != names { problems.append("column header \(columns), expected \(names)") }
        let rows = lines[(title + 2)...].prefix(names.count).map { line in
            let words = line.split(separator: " ")
            return (name: words.first.map { String($0) } ?? "", counts: words.dropFirst().compactMap { Int($0) })
        }
        let rowNames = rows.map { $0.name }
        if rowNames != names { problems.append("row names \(rowNames), expected \(names)") }
        if rows.contains(where: { $0.counts.count != names.count }) { problems.append("a row without \(names.count) counts") }
        let total = rows.flatMap { $0.counts }.reduce(0, +)
        if total != examples { problems.append("counts add up to \(total), not \(examples)") }
        if let accuracy, total > 0 {
            var correct = 0
            for (i, row) in rows.enumerated() where i < row.counts.count { correct += row.counts[i] }
            if abs(Double(correct) / Double(total) - accuracy) > 1e-3 {
                problems.append("diagonal \(correct)/\(total) disagrees with accuracy \(accuracy)")
            }
        }
        return problems
    }

    /// What is wrong with `predict`'s CSV for a classifier of `names`: the header, one row
    /// of 2 + K fields per example, the label naming a class, probabilities adding up to 1
    /// with their largest at that class. Also returns the predicted class indices.
    static func classPredictionProblems(_ output: String, names: [String], count: Int) -> (problems: [String], classes: [Int]) {
        let table = csv(output)
        var problems: [String] = []
        let header = ["index", "label"] + names.map { "p_\($0)" }
        if table.first != header { problems.append("header \(table.first ?? []), expected \(header)") }
        let rows = table.dropFirst()
        if rows.count != count { problems.append("\(rows.count) rows, expected \(count)") }
        var classes: [Int] = []
        for (i, row) in rows.enumerated() {
            guard row.count == 2 + names.count else { problems.append("row \(i) has \(row.count) fields: \(row)"); continue }
            guard let index = Int(row[0]), let predicted = names.firstIndex(of: row[1]) else {
                problems.append("row \(i): \(row)"); continue
            }
            classes.append(predicted)
            if index != i { problems.append("row \(i) has index \(index)") }
            let probabilities = row.dropFirst(2).compactMap { Double($0) }
            if probabilities.count != names.count || abs(probabilities.reduce(0, +) - 1) > 1e-3
                || probabilities.indices.max(by: { probabilities[$0] < probabilities[$1] }) != predicted {
                problems.append("row \(i): probabilities \(row.dropFirst(2))")
            }
        }
        return (Array(problems.prefix(5)), classes)
    }

    /// `predict`'s CSV rows without the label column (index and probabilities).
    static func withoutLabels(_ text: String) -> [[String]] {
        csv(text).dropFirst().map { row in
            var fields = row
            if fields.count > 1 { fields.remove(at: 1) }
            return fields
        }
    }

    /// The fraction of `predicted` equal to `actual`.
    static func accuracy(_ predicted: [Int], _ actual: [Int]) -> Double {
        guard !actual.isEmpty, predicted.count == actual.count else { return 0 }
        return Double(zip(predicted, actual).filter { $0 == $1 }.count) / Double(actual.count)
    }
}

// MARK: - Classes in a CSV file

@Suite("backprop on your own CSV: classes")
struct OwnClassesTests {
    /// Writes train.csv (300 rows) and test.csv (120 rows) of the three blobs with the
    /// label column in the middle; returns the test labels.
    static func writeBlobFiles(in directory: URL, names: [String]? = nil) throws -> [Int] {
        let columns = ["alpha", "beta", "label", "gamma", "delta"]
        let test = OwnData.blobs(120, seed: 12)
        try OwnData.writeCSV(directory.appendingPathComponent("train.csv"), columns: columns,
                             rows: OwnData.rows(OwnData.blobs(300, seed: 11), names: names))
        try OwnData.writeCSV(directory.appendingPathComponent("test.csv"), columns: columns,
                             rows: OwnData.rows(test, names: names))
        return test.map(\.label)
    }

    static func trainBlobs(in directory: URL, out: String = "run", extra: [String] = []) throws -> Run {
        try OwnData.train([
            "--data", "csv:\(directory.appendingPathComponent("train.csv").path)", "--target", "label",
            "--test-data", "csv:\(directory.appendingPathComponent("test.csv").path)",
            "--model", "4-16:relu-3:softmax", "--epochs", "30", "--json",
            "--out", directory.appendingPathComponent(out).path,
        ] + extra)
    }

    @Test("--class-names on integer labels (CSV and npy): the model evaluates, predicts and tests on files of those labels; classes named by integers match by value only")
    func namedIntegerLabels() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let labels = try Self.writeBlobFiles(in: directory)
        let test = directory.appendingPathComponent("test.csv")
        let trained = try Self.trainBlobs(in: directory, extra: ["--class-names", OwnData.irisNames.joined(separator: ",")])
        #expect(trained.status == 0, "\(trained.error)")
        let result = try #require(OwnData.finalJSON(trained), "\(trained.output)\(trained.error)")
        #expect(result["classes"] as? [String] == OwnData.irisNames, "\(result)")
        let accuracy = try #require(result["test_accuracy"] as? Double, "\(result)")
        #expect(accuracy >= 0.9, "\(result)")
        let out = directory.appendingPathComponent("run")
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(OwnData.metric("accuracy", in: evaluated.output).map { abs($0 - accuracy) < 1e-3 } == true, "\(evaluated.output)")
        let predicted = try Run(["predict", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(predicted.status == 0, "\(predicted.error)")
        let (problems, classes) = OwnData.classPredictionProblems(predicted.output, names: OwnData.irisNames, count: 120)
        #expect(problems.isEmpty, "\(problems)\n\(predicted.output.prefix(300))")
        #expect(abs(OwnData.accuracy(classes, labels) - accuracy) < 1e-3)

        // The same with NumPy files: integer labels 0, 1, 2 stand for the three names.
        let examples = OwnData.blobs(300, seed: 11), held = OwnData.blobs(120, seed: 12)
        func write(_ examples: [BlobExample], _ name: String) throws -> String {
            let x = directory.appendingPathComponent("\(name)-x.npy"), y = directory.appendingPathComponent("\(name)-y.npy")
            try OwnData.npy(shape: [examples.count, 4], floats: examples.flatMap { $0.features.map { Float($0) } }).write(to: x)
            try OwnData.npy(shape: [examples.count], integers: examples.map { Int64($0.label) }).write(to: y)
            return "npy:\(x.path),\(y.path)"
        }
        let (trainNPY, testNPY) = (try write(examples, "train"), try write(held, "test"))
        let numpyRun = directory.appendingPathComponent("numpy")
        let fromNPY = try OwnData.train(["--data", trainNPY, "--test-data", testNPY, "--class-names", "setosa,versicolor,virginica",
                                         "--model", "4-16:relu-3:softmax", "--epochs", "30", "--json", "--out", numpyRun.path])
        #expect(fromNPY.status == 0, "\(fromNPY.error)")
        #expect((OwnData.finalJSON(fromNPY)?["test_accuracy"] as? Double ?? 0) >= 0.9, "\(fromNPY.output)")
        let evaluatedNPY = try Run(["evaluate", "--model", numpyRun.path, "--data", trainNPY])
        #expect(evaluatedNPY.status == 0, "\(evaluatedNPY.error)")
        #expect((OwnData.metric("accuracy", in: evaluatedNPY.output) ?? 0) >= 0.9, "\(evaluatedNPY.output)")

        // A model whose classes are the integers 1, 2, 3 does not read label 0 as its first class.
        let shifted = directory.appendingPathComponent("shifted.csv")
        try OwnData.writeCSV(shifted, columns: ["alpha", "beta", "label", "gamma", "delta"],
                             rows: OwnData.rows(examples, names: ["1", "2", "3"]))
        let zeros = directory.appendingPathComponent("zeros.csv")
        try OwnData.writeCSV(zeros, columns: ["alpha", "beta", "label", "gamma", "delta"],
                             rows: OwnData.rows(held.filter { $0.label == 0 }, names: ["0"]))
        let integerRun = directory.appendingPathComponent("integers")
        let integers = try OwnData.train(["--data", "csv:\(shifted.path)", "--target", "label", "--model", "4-3:softmax",
                                          "--epochs", "1", "--quiet", "--out", integerRun.path])
        #expect(integers.status == 0, "\(integers.error)")
        let refused = try Run(["evaluate", "--model", integerRun.path, "--data", "csv:\(zeros.path)"])
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error == "backprop: \(zeros.path): label '0' is not one of the 3 classes (1, 2, 3)\n", "\(refused.error)")
    }

    @Test("a model.json's own class names are kept: integer labels 0..<K stand for them in order, text labels must be the same names (the model's order kept), other labels are refused naming both lists")
    func modelClassNames() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (examples, held) = (OwnData.blobs(300, seed: 11), OwnData.blobs(120, seed: 12))
        let columns = OwnData.features + ["label"]
        func write(_ name: String, _ examples: [BlobExample], names: [String]? = nil) throws -> String {
            let file = directory.appendingPathComponent(name)
            try OwnData.writeCSV(file, columns: columns, rows: OwnData.rows(examples, names: names))
            return "csv:\(file.path)"
        }
        // Names written by hand, in another order than the alphabetical one text labels are read in.
        let names = ["virginica", "setosa", "versicolor"]
        let model = directory.appendingPathComponent("model.json")
        try Data(#"""
            {"format": "backprop-model", "version": 2, "scalarType": "float32", "inputShape": [4],
             "classNames": ["virginica", "setosa", "versicolor"],
             "layers": [{"dense": {"inputSize": 4, "outputSize": 16}}, {"activation": {"function": "relu"}},
                        {"dense": {"inputSize": 16, "outputSize": 3}}, {"activation": {"function": "softmax"}}]}
            """#.utf8).write(to: model)
        let runs = [("integers", try write("train.csv", examples), try write("test.csv", held)),
                    ("text", try write("train-names.csv", examples, names: names), try write("test-names.csv", held, names: names))]
        for (kind, training, test) in runs {
            let out = directory.appendingPathComponent(kind)
            let run = try OwnData.train(["--data", training, "--target", "label", "--test-data", test, "--model", model.path,
                                         "--epochs", "30", "--json", "--out", out.path])
            #expect(run.status == 0, "\(kind): \(run.error)")
            let result = OwnData.finalJSON(run)
            #expect(result?["classes"] as? [String] == names && (result?["test_accuracy"] as? Double ?? 0) >= 0.9, "\(kind): \(run.output)")
            #expect(OwnData.find("classNames", in: try OwnData.modelJSON(out)) as? [String] == names, "\(kind)")
            // Label i is class names[i]: the predictions name each test example's class.
            let predicted = try Run(["predict", "--model", out.path, "--data", test])
            let (problems, classes) = OwnData.classPredictionProblems(predicted.output, names: names, count: 120)
            #expect(predicted.status == 0 && problems.isEmpty, "\(kind): \(problems)\(predicted.error)")
            #expect(OwnData.accuracy(classes, held.map(\.label)) >= 0.9, "\(kind): \(classes)")
        }
        // Text labels other than the model's names: one line naming both lists, no run.
        let other = try write("other.csv", examples, names: ["a", "b", "c"])
        let out = directory.appendingPathComponent("other")
        let refused = try OwnData.train(["--data", other, "--target", "label", "--model", model.path, "--epochs", "1", "--out", out.path])
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error == "backprop: --model: \(model.path) names the classes virginica, setosa, versicolor; the data's labels are a, b, c: the labels must be the model's class names, each of them, in any order, or the integers 0..<3 (label i naming the i-th), or 3 other integers (named in numeric order)\n",
                "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("integer classes 0, 1, 2 in a middle column: train, evaluate and predict see three classes named 0, 1, 2")
    func integerClasses() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let labels = try Self.writeBlobFiles(in: directory)
        let out = directory.appendingPathComponent("run"), test = directory.appendingPathComponent("test.csv")

        let trained = try Self.trainBlobs(in: directory)
        #expect(trained.status == 0, "\(trained.error)")
        let result = try #require(OwnData.finalJSON(trained), "no final JSON line: \(trained.output)\(trained.error)")
        #expect(result["task"] as? String == "classification", "\(result)")
        #expect(result["classes"] as? [String] == ["0", "1", "2"], "\(result)")
        let accuracy = try #require(result["test_accuracy"] as? Double, "\(result)")
        #expect(accuracy >= 0.9, "\(result)")

        let model = try OwnData.modelJSON(out)
        #expect(OwnData.find("classNames", in: model) as? [String] == ["0", "1", "2"], "\(model)")
        #expect(OwnData.find("task", in: model) as? String == "classification", "\(model)")
        #expect(OwnData.find("featureNames", in: model) as? [String] == OwnData.features, "\(model)")
        #expect(OwnData.find("targetName", in: model) as? String == "label", "\(model)")
        for name in ["model.safetensors", "history.csv", "report.html"] {
            #expect(OwnData.fileExists(out, name), "\(name) missing")
        }
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("Confusion matrix"))
        #expect(!report.contains("Predicted vs true"))

        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(OwnData.metric("examples", in: evaluated.output) == 120, "\(evaluated.output)")
        #expect(OwnData.metric("loss", in: evaluated.output) != nil, "\(evaluated.output)")
        let evaluatedAccuracy = try #require(OwnData.metric("accuracy", in: evaluated.output), "\(evaluated.output)")
        #expect(evaluatedAccuracy >= 0.9, "\(evaluated.output)")
        #expect(abs(evaluatedAccuracy - accuracy) < 1e-3, "train said \(accuracy): \(evaluated.output)")
        let matrix = OwnData.confusionProblems(evaluated.output, names: ["0", "1", "2"], examples: 120,
                                               accuracy: evaluatedAccuracy)
        #expect(matrix.isEmpty, "\(matrix)\n\(evaluated.output)")

        let predicted = try Run(["predict", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(predicted.status == 0, "\(predicted.error)")
        let (problems, classes) = OwnData.classPredictionProblems(predicted.output, names: ["0", "1", "2"], count: 120)
        #expect(problems.isEmpty, "\(problems)\n\(predicted.output.prefix(500))")
        #expect(abs(OwnData.accuracy(classes, labels) - evaluatedAccuracy) < 1e-3,
                "predict's classes give accuracy \(OwnData.accuracy(classes, labels)), evaluate \(evaluatedAccuracy)")
    }

    @Test("string labels train exactly as the integers they sort like, and keep their names")
    func stringLabels() throws {
        let numbers = try OwnData.scratchDirectory(), words = try OwnData.scratchDirectory()
        defer {
            try? FileManager.default.removeItem(at: numbers)
            try? FileManager.default.removeItem(at: words)
        }
        let labels = try Self.writeBlobFiles(in: numbers)
        _ = try Self.writeBlobFiles(in: words, names: OwnData.irisNames)

        let byNumber = try Self.trainBlobs(in: numbers), byName = try Self.trainBlobs(in: words)
        #expect(byNumber.status == 0, "\(byNumber.error)")
        #expect(byName.status == 0, "\(byName.error)")
        let numberResult = try #require(OwnData.finalJSON(byNumber), "\(byNumber.output)\(byNumber.error)")
        let nameResult = try #require(OwnData.finalJSON(byName), "\(byName.output)\(byName.error)")
        #expect(nameResult["task"] as? String == "classification", "\(nameResult)")
        #expect(nameResult["classes"] as? [String] == OwnData.irisNames, "\(nameResult)")
        let accuracy = try #require(nameResult["test_accuracy"] as? Double, "\(nameResult)")
        #expect(accuracy >= 0.9, "\(nameResult)")
        #expect(numberResult["test_accuracy"] as? Double == accuracy, "integers \(numberResult), names \(nameResult)")
        let model = try OwnData.modelJSON(words.appendingPathComponent("run"))
        #expect(OwnData.find("classNames", in: model) as? [String] == OwnData.irisNames, "\(model)")

        let test = words.appendingPathComponent("test.csv")
        let evaluated = try Run(["evaluate", "--model", words.appendingPathComponent("run").path, "--data", "csv:\(test.path)"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let matrix = OwnData.confusionProblems(evaluated.output, names: OwnData.irisNames, examples: 120,
                                               accuracy: OwnData.metric("accuracy", in: evaluated.output))
        #expect(matrix.isEmpty, "\(matrix)\n\(evaluated.output)")

        let predictedByName = try Run(["predict", "--model", words.appendingPathComponent("run").path, "--data", "csv:\(test.path)"])
        let predictedByNumber = try Run(["predict", "--model", numbers.appendingPathComponent("run").path,
                                         "--data", "csv:\(numbers.appendingPathComponent("test.csv").path)"])
        #expect(predictedByName.status == 0, "\(predictedByName.error)")
        #expect(predictedByNumber.status == 0, "\(predictedByNumber.error)")
        let (problems, classes) = OwnData.classPredictionProblems(predictedByName.output, names: OwnData.irisNames, count: 120)
        #expect(problems.isEmpty, "\(problems)\n\(predictedByName.output.prefix(500))")
        #expect(OwnData.accuracy(classes, labels) >= 0.9)
        // The same network: everything but the label column is the same.
        #expect(OwnData.withoutLabels(predictedByName.output) == OwnData.withoutLabels(predictedByNumber.output),
                "names and integers predict differently")
    }

    @Test("a 0/1 target with one sigmoid output is a two-class classifier")
    func binarySigmoid() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let columns = OwnData.features + ["label"]
        let train = directory.appendingPathComponent("train.csv"), test = directory.appendingPathComponent("test.csv")
        let testExamples = OwnData.blobs(100, classes: 2, seed: 22)
        try OwnData.writeCSV(train, columns: columns, rows: OwnData.rows(OwnData.blobs(300, classes: 2, seed: 21)))
        try OwnData.writeCSV(test, columns: columns, rows: OwnData.rows(testExamples))
        let out = directory.appendingPathComponent("run")

        let trained = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--test-data", "csv:\(test.path)",
                                         "--model", "4-8:relu-1:sigmoid", "--epochs", "30", "--json", "--out", out.path])
        #expect(trained.status == 0, "\(trained.error)")
        let result = try #require(OwnData.finalJSON(trained), "\(trained.output)\(trained.error)")
        #expect(result["task"] as? String == "classification", "\(result)")
        #expect(result["classes"] as? [String] == ["0", "1"], "\(result)")
        #expect((result["test_accuracy"] as? Double ?? 0) >= 0.9, "\(result)")
        let model = try OwnData.modelJSON(out)
        #expect(OwnData.find("classNames", in: model) as? [String] == ["0", "1"], "\(model)")

        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let accuracy = try #require(OwnData.metric("accuracy", in: evaluated.output), "\(evaluated.output)")
        #expect(accuracy >= 0.9, "\(evaluated.output)")
        let matrix = OwnData.confusionProblems(evaluated.output, names: ["0", "1"], examples: 100, accuracy: accuracy)
        #expect(matrix.isEmpty, "\(matrix)\n\(evaluated.output)")

        let predicted = try Run(["predict", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(predicted.status == 0, "\(predicted.error)")
        let (problems, classes) = OwnData.classPredictionProblems(predicted.output, names: ["0", "1"], count: 100)
        #expect(problems.isEmpty, "\(problems)\n\(predicted.output.prefix(500))")
        #expect(abs(OwnData.accuracy(classes, testExamples.map(\.label)) - accuracy) < 1e-3)
    }
}

// MARK: - Regression

@Suite("backprop on your own NumPy arrays")
struct OwnArrayTests {
    /// The blobs' features `[N, 4]` and their labels one-hot `[N, 3]`, as `X.npy` and `Y.npy` in `directory`.
    static func writeOneHot(_ directory: URL, count: Int, seed: UInt64) throws -> (x: URL, y: URL, labels: [Int]) {
        let examples = OwnData.blobs(count, seed: seed)
        let (x, y) = (directory.appendingPathComponent("X.npy"), directory.appendingPathComponent("Y.npy"))
        try OwnData.npy(shape: [count, 4], floats: examples.flatMap { $0.features.map(Float.init) }).write(to: x)
        try OwnData.npy(shape: [count, 3], floats: examples.flatMap { e in (0..<3).map { $0 == e.label ? 1 : 0 } }).write(to: y)
        return (x, y, examples.map(\.label))
    }

    @Test("one-hot labels [N, 3] in y.npy are three classes, with a note; train, evaluate and predict classify; --task regression keeps three values")
    func oneHotLabels() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (x, y, labels) = try Self.writeOneHot(directory, count: 150, seed: 31)
        let note = "backprop: note: \(y.path): every row is one-hot (one 1, the rest 0): read as 3 classes, each example's class the position of its 1 (--task regression reads the 3 columns as values)\n"
        let out = directory.appendingPathComponent("run")
        let run = try OwnData.train(["--data", "npy:\(x.path),\(y.path)", "--model", "4-16:relu-3:softmax", "--epochs", "30",
                                     "--json", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error == note, "\(run.error)")
        let result = OwnData.finalJSON(run)
        #expect(result?["task"] as? String == "classification" && result?["classes"] as? [String] == ["0", "1", "2"], "\(run.output)")
        #expect((result?["training_accuracy"] as? Double ?? 0) >= 0.95, "\(run.output)")
        let evaluation = try Run(["evaluate", "--model", out.path, "--data", "npy:\(x.path),\(y.path)"])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        #expect((OwnData.metric("accuracy", in: evaluation.output) ?? 0) >= 0.95, "\(evaluation.output)")
        let predictions = try Run(["predict", "--model", out.path, "--data", "npy:\(x.path)"])
        #expect(predictions.status == 0, "\(predictions.error)")
        let (problems, predicted) = OwnData.classPredictionProblems(predictions.output, names: ["0", "1", "2"], count: 150)
        #expect(problems.isEmpty, "\(problems)")
        #expect(zip(predicted, labels).filter { $0 == $1 }.count >= 140, "\(predicted)")
        let regression = try OwnData.train(["--data", "npy:\(x.path),\(y.path)", "--model", "4-16:relu-3", "--epochs", "2",
                                            "--task", "regression", "--json", "--out", directory.appendingPathComponent("values").path])
        #expect(regression.status == 0 && regression.error.isEmpty, "\(regression.error)")
        #expect(OwnData.finalJSON(regression)?["task"] as? String == "regression", "\(regression.output)")
    }

    @Test("rows that are not one-hot (two 1s, or values other than 0 and 1) stay regression values, without a note")
    func notOneHot() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (x, _, labels) = try Self.writeOneHot(directory, count: 60, seed: 32)
        for (name, change) in [("two", Float(1)), ("half", Float(0.5))] {
            var values = labels.flatMap { label in (0..<3).map { Float($0 == label ? 1 : 0) } }
            values[values[0] == 1 ? 1 : 0] = change
            let file = directory.appendingPathComponent("\(name).npy")
            try OwnData.npy(shape: [60, 3], floats: values).write(to: file)
            let run = try OwnData.train(["--data", "npy:\(x.path),\(file.path)", "--model", "4-8:relu-3", "--epochs", "1",
                                         "--json", "--out", directory.appendingPathComponent(name).path])
            #expect(run.status == 0 && run.error.isEmpty, "\(name): \(run.error)")
            #expect(OwnData.finalJSON(run)?["task"] as? String == "regression", "\(name): \(run.output)")
        }
    }
}

@Suite("backprop on your own NumPy images")
struct OwnNumPyImageTests {
    /// `count` images [3, 4, 4] whose channel c is means[c] + deviations[c]·noise (the first
    /// pixel of channel 0 shifted by ±1 deviation with the label, 0 or 1): the values in
    /// NCHW order and the labels.
    static func channelImages(count: Int, means: [Double], deviations: [Double], seed: UInt64) -> (values: [Float], labels: [Int64]) {
        var random = SplitMix64(seed: seed)
        var values: [Float] = [], labels: [Int64] = []
        for _ in 0..<count {
            let label = random.below(2)
            for channel in 0..<3 {
                for pixel in 0..<16 {
                    let shift = channel == 0 && pixel == 0 ? Double(2 * label - 1) : 0
                    values.append(Float(means[channel] + deviations[channel] * (random.normal() + shift)))
                }
            }
            labels.append(Int64(label))
        }
        return (values, labels)
    }

    /// The numbers of `predict`'s CSV rows, row by row.
    static func predictedNumbers(_ output: String) -> [[Double]] {
        OwnData.csv(output).dropFirst().map { $0.compactMap(Double.init) }
    }

    @Test("--standardize on 4-D .npy images: per channel over all its pixels, saved with the model and applied alike by evaluate and predict, for a dense and a convolutional model")
    func perChannel() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (count, means, deviations) = (40, [10.0, -5.0, 100.0], [2.0, 0.5, 30.0])
        let (values, labels) = Self.channelImages(count: count, means: means, deviations: deviations, seed: 61)
        // Each channel's mean and population deviation over every example and pixel, and the images standardised with them.
        var mean = [Double](repeating: 0, count: 3), deviation = [Double](repeating: 0, count: 3)
        for channel in 0..<3 {
            let channelValues = (0..<count).flatMap { n in (0..<16).map { Double(values[(n * 3 + channel) * 16 + $0]) } }
            mean[channel] = channelValues.reduce(0, +) / Double(channelValues.count)
            deviation[channel] = (channelValues.map { ($0 - mean[channel]) * ($0 - mean[channel]) }.reduce(0, +) / Double(channelValues.count)).squareRoot()
        }
        let standardized = values.indices.map { i in Float((Double(values[i]) - mean[i / 16 % 3]) / deviation[i / 16 % 3]) }
        let (x, z, y) = (directory.appendingPathComponent("X.npy"), directory.appendingPathComponent("Z.npy"), directory.appendingPathComponent("y.npy"))
        try OwnData.npy(shape: [count, 3, 4, 4], floats: values).write(to: x)
        try OwnData.npy(shape: [count, 3, 4, 4], floats: standardized).write(to: z)
        try OwnData.npy(shape: [count], integers: labels).write(to: y)
        for (name, model) in [("dense", "48-8:relu-2:softmax"), ("cnn", "3x4x4 conv4k3p1 relu gap 2 softmax")] {
            let out = directory.appendingPathComponent(name)
            let run = try OwnData.train(["--data", "npy:\(x.path),\(y.path)", "--model", model, "--epochs", "2", "--standardize",
                                         "--quiet", "--out", out.path])
            #expect(run.status == 0, "\(name): \(run.error)")
            let preprocessing = try #require(try OwnData.modelJSON(out)["preprocessing"] as? [String: Any], "\(name)")
            #expect(preprocessing["scope"] as? String == "perChannel", "\(name): \(preprocessing)")
            let (savedMean, savedDeviation) = (preprocessing["mean"] as? [Double] ?? [], preprocessing["standardDeviation"] as? [Double] ?? [])
            #expect(savedMean.count == 3 && zip(savedMean, mean).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($1)) }, "\(name): \(savedMean) against \(mean)")
            #expect(savedDeviation.count == 3 && zip(savedDeviation, deviation).allSatisfy { abs($0 - $1) <= 1e-9 * $1 }, "\(name): \(savedDeviation) against \(deviation)")
            // Trained, with the same seed, on the images standardised here and without --standardize: the same
            // model (up to rounding), the same predictions and loss on them as the first on the raw images.
            let plain = directory.appendingPathComponent("\(name)-plain")
            let plainRun = try OwnData.train(["--data", "npy:\(z.path),\(y.path)", "--model", model, "--epochs", "2",
                                              "--quiet", "--out", plain.path])
            #expect(plainRun.status == 0, "\(name): \(plainRun.error)")
            #expect(try OwnData.modelJSON(plain)["preprocessing"] == nil, "\(name)")
            let (predicted, expected) = (try Run(["predict", "--model", out.path, "--data", "npy:\(x.path)"]),
                                         try Run(["predict", "--model", plain.path, "--data", "npy:\(z.path)"]))
            #expect(predicted.status == 0 && expected.status == 0, "\(name): \(predicted.error)\(expected.error)")
            let (rows, expectedRows) = (Self.predictedNumbers(predicted.output), Self.predictedNumbers(expected.output))
            #expect(rows.count == count && rows.map(\.count) == expectedRows.map(\.count), "\(name): \(predicted.output.prefix(300))")
            #expect(zip(rows.joined(), expectedRows.joined()).allSatisfy { abs($0 - $1) < 1e-4 }, "\(name): \(predicted.output.prefix(300)) against \(expected.output.prefix(300))")
            let (evaluated, evaluatedPlain) = (try Run(["evaluate", "--model", out.path, "--data", "npy:\(x.path),\(y.path)"]),
                                               try Run(["evaluate", "--model", plain.path, "--data", "npy:\(z.path),\(y.path)"]))
            let (loss, plainLoss) = (OwnData.metric("loss", in: evaluated.output), OwnData.metric("loss", in: evaluatedPlain.output))
            #expect(loss != nil && plainLoss != nil && abs(loss! - plainLoss!) < 1e-3, "\(name): \(evaluated.output)\(evaluated.error) against \(evaluatedPlain.output)")
        }
    }

    @Test("uint8 .npy images are read as IDX images are (divided by 255), with a note, in train, evaluate and predict: the predictions equal those of the float32 images / 255, and of the model trained on the same images as an IDX folder")
    func uint8Images() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("bars")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let labels = try OwnData.writeBars(folder, split: "train", count: 60, seed: 7)
        try OwnData.writeBars(folder, split: "t10k", count: 20, seed: 8)
        let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent("train-images-idx3-ubyte")).dropFirst(16))
        let (x, scaled, y) = (directory.appendingPathComponent("X.npy"), directory.appendingPathComponent("scaled.npy"), directory.appendingPathComponent("y.npy"))
        try OwnData.npy(shape: [60, 1, 8, 8], bytes: bytes).write(to: x)
        // As NumPy writes x.astype(np.float32) / 255.
        try OwnData.npy(shape: [60, 1, 8, 8], floats: bytes.map { Float($0) / 255 }).write(to: scaled)
        try OwnData.npy(shape: [60], integers: labels.map(Int64.init)).write(to: y)
        let note = "backprop: note: \(x.path): unsigned bytes (uint8), read as pixel values: divided by 255 to [0, 1], as IDX images are\n"
        let model = "1x8x8 conv4k3p1 relu maxpool2 flatten 3 softmax"
        let out = directory.appendingPathComponent("run")
        let trained = try OwnData.train(["--data", "npy:\(x.path),\(y.path)", "--model", model, "--epochs", "3", "--json", "--out", out.path])
        #expect(trained.status == 0 && trained.error == note, "\(trained.error)")
        #expect((OwnData.finalJSON(trained)?["training_accuracy"] as? Double ?? 0) >= 0.6, "the bars are told apart once the pixels are in [0, 1]: \(trained.output)")
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "npy:\(x.path),\(y.path)"])
        #expect(evaluated.status == 0 && evaluated.error == note, "\(evaluated.error)")
        let (predicted, fromFloats) = (try Run(["predict", "--model", out.path, "--data", "npy:\(x.path)"]),
                                       try Run(["predict", "--model", out.path, "--data", "npy:\(scaled.path)"]))
        #expect(predicted.status == 0 && predicted.error == note, "\(predicted.error)")
        #expect(fromFloats.status == 0 && fromFloats.error.isEmpty, "\(fromFloats.error)")
        #expect(OwnData.csv(predicted.output).count == 61 && predicted.output == fromFloats.output,
                "\(predicted.output.prefix(300)) against \(fromFloats.output.prefix(300))")
        // The same images as an MNIST-format folder, the same seed: the same model.
        let fromFolder = directory.appendingPathComponent("folder")
        let folderRun = try OwnData.train(["--data", folder.path, "--model", model, "--epochs", "3", "--quiet", "--out", fromFolder.path])
        #expect(folderRun.status == 0, "\(folderRun.error)")
        let folderPredicted = try Run(["predict", "--model", fromFolder.path, "--data", "npy:\(scaled.path)"])
        #expect(folderPredicted.output == fromFloats.output, "\(folderPredicted.output.prefix(300)) against \(fromFloats.output.prefix(300))")
    }

    @Test("--standardize reads an MNIST-format folder and the same images as a 4-D .npy alike: per channel, one mean and deviation")
    func idxAndNumPyAgree() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("bars")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let labels = try OwnData.writeBars(folder, split: "train", count: 60, seed: 5)
        try OwnData.writeBars(folder, split: "t10k", count: 20, seed: 6)
        let bytes = try Data(contentsOf: folder.appendingPathComponent("train-images-idx3-ubyte")).dropFirst(16)
        let (x, y) = (directory.appendingPathComponent("X.npy"), directory.appendingPathComponent("y.npy"))
        try OwnData.npy(shape: [60, 1, 8, 8], floats: bytes.map { Float($0) / 255 }).write(to: x)
        try OwnData.npy(shape: [60], integers: labels.map(Int64.init)).write(to: y)
        var saved: [[String: Any]] = []
        for (name, data) in [("idx", folder.path), ("npy", "npy:\(x.path),\(y.path)")] {
            let out = directory.appendingPathComponent(name)
            let run = try OwnData.train(["--data", data, "--model", "1x8x8 conv2k3p1 relu gap 3 softmax", "--epochs", "1", "--standardize",
                                         "--quiet", "--out", out.path])
            #expect(run.status == 0, "\(name): \(run.error)")
            saved.append(try #require(try OwnData.modelJSON(out)["preprocessing"] as? [String: Any], "\(name)"))
        }
        #expect(saved.map { $0["scope"] as? String } == ["perChannel", "perChannel"], "\(saved)")
        for key in ["mean", "standardDeviation"] {
            let (idx, npy) = (saved[0][key] as? [Double] ?? [], saved[1][key] as? [Double] ?? [])
            #expect(idx.count == 1 && npy.count == 1 && abs(idx[0] - npy[0]) < 1e-6, "\(key): \(idx) against \(npy)")
        }
    }
}

@Suite("backprop on your own CSV: regression")
struct OwnRegressionTests {
    static let columns = ["price", "size", "age", "floor"]

    @Test("prices in dollars: train, evaluate and predict work in dollars, and the report plots predicted against true")
    func prices() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.csv"), test = directory.appendingPathComponent("test.csv")
        let testExamples = OwnData.prices(150, seed: 32)
        try OwnData.writeCSV(train, columns: Self.columns, rows: OwnData.rows(OwnData.prices(400, seed: 31)))
        try OwnData.writeCSV(test, columns: Self.columns, rows: OwnData.rows(testExamples))
        let truth = testExamples.map(\.price)
        let mean = truth.reduce(0, +) / Double(truth.count)
        let deviation = (truth.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(truth.count)).squareRoot()
        let out = directory.appendingPathComponent("run")

        let trained = try OwnData.train(["--data", "csv:\(train.path)", "--target", "price", "--standardize",
                                         "--test-data", "csv:\(test.path)", "--model", "3-32:relu-1",
                                         "--epochs", "40", "--json", "--out", out.path])
        #expect(trained.status == 0, "\(trained.error)")
        let result = try #require(OwnData.finalJSON(trained), "\(trained.output)\(trained.error)")
        #expect(result["task"] as? String == "regression", "\(result)")
        #expect(result["classes"] as? [String] == nil, "\(result)")
        #expect(result["test_accuracy"] as? Double == nil, "\(result)")
        #expect((result["test_r2"] as? Double ?? -1) >= 0.9, "\(result)")
        let rmse = try #require(result["test_rmse"] as? Double, "\(result)")
        let mse = try #require(result["test_mse"] as? Double, "\(result)")
        #expect(result["test_mae"] as? Double != nil, "\(result)")
        #expect(abs(rmse * rmse - mse) <= 1e-3 * mse + 1e-6, "\(result)")
        #expect(rmse < 0.2 * deviation, "RMSE \(rmse), price's standard deviation \(deviation): \(result)")
        #expect(rmse > 0.5 * OwnData.priceNoise, "RMSE \(rmse) below the noise: not in dollars? \(result)")

        let model = try OwnData.modelJSON(out)
        #expect(OwnData.find("task", in: model) as? String == "regression", "\(model)")
        #expect(OwnData.find("targetName", in: model) as? String == "price", "\(model)")
        #expect(OwnData.find("featureNames", in: model) as? [String] == ["size", "age", "floor"], "\(model)")
        #expect(OwnData.find("classNames", in: model) as? [String] == nil, "\(model)")
        for name in ["model.safetensors", "history.csv", "report.html"] {
            #expect(OwnData.fileExists(out, name), "\(name) missing")
        }
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("Predicted vs true"))
        #expect(!report.contains("Confusion matrix"))

        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(OwnData.metric("examples", in: evaluated.output) == 150, "\(evaluated.output)")
        #expect((OwnData.metric("r2", in: evaluated.output) ?? -1) >= 0.9, "\(evaluated.output)")
        let evaluatedRMSE = try #require(OwnData.metric("rmse", in: evaluated.output), "\(evaluated.output)")
        #expect(evaluatedRMSE < 0.2 * deviation, "standard deviation \(deviation): \(evaluated.output)")
        #expect(evaluatedRMSE > 0.5 * OwnData.priceNoise, "not in dollars? \(evaluated.output)")
        #expect(abs(evaluatedRMSE - rmse) < 1e-2 * rmse, "train said RMSE \(rmse): \(evaluated.output)")
        #expect(OwnData.metric("mse", in: evaluated.output) != nil, "\(evaluated.output)")
        #expect(OwnData.metric("mae", in: evaluated.output) != nil, "\(evaluated.output)")
        #expect(OwnData.metric("accuracy", in: evaluated.output) == nil, "\(evaluated.output)")
        #expect(!evaluated.output.contains("confusion matrix"), "\(evaluated.output)")

        let predicted = try Run(["predict", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(predicted.status == 0, "\(predicted.error)")
        let table = OwnData.csv(predicted.output)
        #expect(table.first == ["index", "price"], "\(predicted.output.prefix(300))")
        let values = table.dropFirst().compactMap { $0.count == 2 ? Double($0[1]) : nil }
        try #require(values.count == truth.count, "\(predicted.output.prefix(300))")
        let predictedMean = values.reduce(0, +) / Double(values.count)
        #expect(abs(predictedMean - mean) < 0.1 * mean, "mean prediction \(predictedMean), mean price \(mean)")
        let predictedRMSE = (zip(values, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(predictedRMSE < 0.2 * deviation, "predictions' RMSE \(predictedRMSE), standard deviation \(deviation)")
    }

    @Test("a target with one class, or an empty label, is one line before training, and no run directory is written")
    func oneClassAndEmptyLabel() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text, words) in [("one", "a,b,label\n1,2,x\n3,4,x\n5,6,x\n", "only one class, 'x'"),
                                    ("empty", "a,b,label\n1,2,x\n3,4,\n5,6,y\n", "row 3, column 'label' (index 2): the target is empty")] {
            let file = directory.appendingPathComponent("\(name).csv")
            try Data(text.utf8).write(to: file)
            let out = directory.appendingPathComponent("run-\(name)")
            let run = try Run(["train", "--data", "csv:\(file.path)", "--target", "label", "--epochs", "1", "--out", out.path])
            #expect(run.status == 1 && !run.crashed, "\(name): \(run.output)\(run.error)")
            #expect(run.error.split(separator: "\n").count == 1 && run.error.contains(words), "\(name): \(run.error)")
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(name): nothing is written")
        }
    }

    @Test("sizes in square feet, not standardised: a warning naming the feature before training; a loss that overflows is one line that names --standardize, and no model is written")
    func rawFeatureUnits() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.csv")
        var rows = OwnData.rows(OwnData.prices(200, seed: 41))
        for i in rows.indices { rows[i]["size"] = String(format: "%.1f", 3000 * Double(rows[i]["size"]!)!) }
        try OwnData.writeCSV(train, columns: Self.columns, rows: rows)

        let warned = try Run(["train", "--data", "csv:\(train.path)", "--target", "price", "--model", "3-1",
                              "--optimizer", "sgd", "--lr", "1e-9", "--epochs", "1", "--seed", "1",
                              "--out", directory.appendingPathComponent("slow").path])
        #expect(warned.status == 0, "\(warned.error)")
        let warning = warned.output.split(separator: "\n").filter { $0.hasPrefix("warning: the features are in their own units") }
        #expect(warning.count == 1, "\(warned.output)")
        #expect(warning.first?.contains("feature 'size'") == true && warning.first?.contains("--standardize") == true,
                "\(warned.output)")

        let out = directory.appendingPathComponent("run")
        let diverged = try Run(["train", "--data", "csv:\(train.path)", "--target", "price", "--model", "3-1",
                                "--optimizer", "sgd", "--lr", "0.1", "--epochs", "5", "--seed", "1", "--out", out.path])
        #expect(diverged.status == 1, "\(diverged.output)\(diverged.error)")
        #expect(!diverged.crashed)
        let lines = diverged.error.split(separator: "\n")
        #expect(lines.count == 1, "\(diverged.error)")
        #expect(diverged.error.contains("the loss became"), "\(diverged.error)")
        #expect(diverged.error.contains("feature 'size'") && diverged.error.contains("--standardize"), "\(diverged.error)")
        #expect(!OwnData.fileExists(out, "model.safetensors"))

        let standardized = try Run(["train", "--data", "csv:\(train.path)", "--target", "price", "--model", "3-1",
                                    "--optimizer", "sgd", "--lr", "0.1", "--epochs", "5", "--seed", "1", "--standardize",
                                    "--out", directory.appendingPathComponent("standardized").path])
        #expect(standardized.status == 0, "\(standardized.error)")
        #expect(!standardized.output.contains("warning: the features are in their own units"), "\(standardized.output)")
    }
}

// MARK: - Images in MNIST's format with other than ten classes

@Suite("backprop on your own MNIST-format folder")
struct OwnImageFolderTests {
    @Test("three classes of 8×8 bars: digits as class names, not Fashion-MNIST's; --class-names renames them")
    func threeClasses() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("bars")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try OwnData.writeBars(data, split: "train", count: 300, seed: 41)
        let labels = try OwnData.writeBars(data, split: "t10k", count: 90, seed: 42)
        let out = directory.appendingPathComponent("run")

        let trained = try OwnData.train(["--data", data.path, "--model", "64-16:relu-3:softmax", "--epochs", "20",
                                         "--json", "--out", out.path])
        #expect(trained.status == 0, "\(trained.error)")
        let result = try #require(OwnData.finalJSON(trained), "\(trained.output)\(trained.error)")
        #expect(result["task"] as? String == "classification", "\(result)")
        #expect(result["classes"] as? [String] == ["0", "1", "2"], "\(result)")
        #expect((result["test_accuracy"] as? Double ?? 0) >= 0.9, "\(result)")
        let model = try OwnData.modelJSON(out)
        #expect(OwnData.find("classNames", in: model) as? [String] == ["0", "1", "2"], "\(model)")
        let modelText = try String(contentsOf: out.appendingPathComponent("model.json"), encoding: .utf8)
        #expect(!modelText.contains("T-shirt"), "\(modelText)")

        let evaluated = try Run(["evaluate", "--model", out.path, "--data", data.path])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let accuracy = try #require(OwnData.metric("accuracy", in: evaluated.output), "\(evaluated.output)")
        #expect(accuracy >= 0.9, "\(evaluated.output)")
        let matrix = OwnData.confusionProblems(evaluated.output, names: ["0", "1", "2"], examples: 90, accuracy: accuracy)
        #expect(matrix.isEmpty, "\(matrix)\n\(evaluated.output)")

        let predicted = try Run(["predict", "--model", out.path, "--data", data.path])
        #expect(predicted.status == 0, "\(predicted.error)")
        let (problems, classes) = OwnData.classPredictionProblems(predicted.output, names: ["0", "1", "2"], count: 90)
        #expect(problems.isEmpty, "\(problems)\n\(predicted.output.prefix(500))")
        #expect(abs(OwnData.accuracy(classes, labels) - accuracy) < 1e-3)

        let renamed = directory.appendingPathComponent("renamed")
        let named = try OwnData.train(["--data", data.path, "--class-names", "a,b,c", "--model", "64-16:relu-3:softmax",
                                       "--epochs", "3", "--json", "--out", renamed.path])
        #expect(named.status == 0, "\(named.error)")
        #expect(OwnData.finalJSON(named)?["classes"] as? [String] == ["a", "b", "c"], "\(named.output)")
        let renamedModel = try OwnData.modelJSON(renamed)
        #expect(OwnData.find("classNames", in: renamedModel) as? [String] == ["a", "b", "c"], "\(renamedModel)")
        let renamedPredictions = try Run(["predict", "--model", renamed.path, "--data", data.path])
        #expect(renamedPredictions.status == 0, "\(renamedPredictions.error)")
        #expect(OwnData.csv(renamedPredictions.output).first == ["index", "label", "p_a", "p_b", "p_c"],
                "\(renamedPredictions.output.prefix(300))")
    }
}

@Suite("--init on every form of model")
struct InitializerFormTests {
    @Test("--init draws the weights of dense specs, network specs (dense and convolutional layers), presets and model.json files alike; with a trained model it is one line")
    func everyForm() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("bars")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try OwnData.writeBars(data, split: "train", count: 60, seed: 5)
        try OwnData.writeBars(data, split: "t10k", count: 30, seed: 6)
        func train(_ model: String, _ flags: [String] = [], name: String) throws -> (run: Run, out: URL) {
            let out = directory.appendingPathComponent(name)
            let run = try OwnData.train(["--data", data.path, "--model", model, "--epochs", "1", "--out", out.path] + flags)
            #expect(run.status == 0, "\(name): \(run.error)")
            return (run, out)
        }
        func predictions(_ out: URL) throws -> String {
            let run = try Run(["predict", "--model", out.path, "--data", data.path])
            #expect(run.status == 0, "\(run.error)")
            return run.output
        }
        // The same dense network written both ways, with the same --init and seed: the same model.
        let dash = try train("64-16:relu-3:softmax", ["--init", "normal:0.5"], name: "dash")
        let spaced = try train("64 16:relu 3:softmax", ["--init", "normal:0.5"], name: "spaced")
        let plain = try train("64 16:relu 3:softmax", name: "plain")
        #expect(try predictions(dash.out) == (try predictions(spaced.out)))
        #expect(try predictions(spaced.out) != (try predictions(plain.out)), "--init normal:0.5 changed nothing")
        // Zero weights in a convolution: its channels are copies, which layer health names.
        let convolution = try train("1x8x8 conv4k3p1 relu flatten 3:softmax", ["--init", "zeros"], name: "conv")
        #expect(convolution.run.output.contains("layer 1 (Conv2D(1 → 4, 3×3, padding 1) + ReLU + Flatten): all 4 units are identical"),
                "\(convolution.run.output)")
        // A model.json, from the convolutional run: the same.
        let architecture = convolution.out.appendingPathComponent("model.json")
        let fromFile = try train(architecture.path, ["--init", "zeros"], name: "file")
        #expect(fromFile.run.output.contains("all 4 units are identical"), "\(fromFile.run.output)")
        let settings = try String(contentsOf: fromFile.out.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(settings.contains("\"initializer\":\"zeros\""), "\(settings)")
        // Trained weights and --init: one line, and nothing written.
        let out = directory.appendingPathComponent("refused")
        let refused = try OwnData.train(["--data", data.path, "--model", plain.out.path, "--init", "zeros", "--epochs", "1",
                                         "--out", out.path])
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error == "backprop: --init: --model \(plain.out.path) starts from its trained weights, and --init draws a new model's: leave out one of them (or give its model.json with --init: its architecture, with new weights)\n",
                "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        // A run's model.json is that run, as evaluate and predict read it: its weights are the start.
        let continued = try train(plain.out.appendingPathComponent("model.json").path, name: "continued")
        #expect(continued.run.output.contains("starting from the trained weights in \(plain.out.path)"), "\(continued.run.output)")
    }
}

@Suite("a folder with only its training split; a float64 model.json")
struct FolderAndPrecisionTests {
    @Test("a folder without t10k files trains with --test-data, and without it is one line naming the missing file; a float64 model.json trains in float32 with a note")
    func trainingSplitOnly() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let training = directory.appendingPathComponent("tr"), testing = directory.appendingPathComponent("te")
        for folder in [training, testing] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try OwnData.writeBars(training, split: "train", count: 60, seed: 3)
        try OwnData.writeBars(testing, split: "t10k", count: 30, seed: 4)
        let out = directory.appendingPathComponent("run")
        let trained = try OwnData.train(["--data", training.path, "--test-data", testing.path, "--model", "64-3:softmax",
                                         "--epochs", "5", "--json", "--out", out.path])
        #expect(trained.status == 0, "\(trained.error)")
        #expect(OwnData.finalJSON(trained)?["test_accuracy"] is Double, "\(trained.output)")
        let alone = try OwnData.train(["--data", training.path, "--model", "64-3:softmax", "--epochs", "1",
                                       "--out", directory.appendingPathComponent("alone").path])
        #expect(alone.status != 0 && !alone.crashed)
        #expect(alone.error == "backprop: \(training.path) has no t10k-images-idx3-ubyte (nor t10k-images-idx3-ubyte.gz): the test split of an MNIST-format folder\n",
                "\(alone.error)")
        // A model.json that declares float64: the run computes in float32, and says so.
        let model = try String(contentsOf: out.appendingPathComponent("model.json"), encoding: .utf8)
        #expect(model.contains("\"float32\""))
        let wide = directory.appendingPathComponent("wide.json")
        try model.replacingOccurrences(of: "\"float32\"", with: "\"float64\"").write(to: wide, atomically: true, encoding: .utf8)
        let retrained = try OwnData.train(["--data", training.path, "--test-data", testing.path, "--model", wide.path,
                                           "--epochs", "1", "--quiet", "--out", directory.appendingPathComponent("wide").path])
        #expect(retrained.status == 0, "\(retrained.error)")
        #expect(retrained.error.contains("backprop: note: \(wide.path) declares float64 values: train computes and saves in float32"),
                "\(retrained.error)")
    }

    @Test("a folder holding a file and an older .gz of it: the newer file is read, train and evaluate say which, the stale archive is not read")
    func staleArchive() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = directory.appendingPathComponent("bars")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try OwnData.writeBars(folder, split: "train", count: 60, seed: 3)
        try OwnData.writeBars(folder, split: "t10k", count: 30, seed: 4)
        // A stale archive of the test labels, all 9: read, it would be a label no training image has.
        let labels = folder.appendingPathComponent("t10k-labels-idx1-ubyte"), archive = folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        try OwnData.gzipStored(OwnData.idx(dimensions: [30], bytes: [UInt8](repeating: 9, count: 30))).write(to: archive)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: archive.path)
        let note = "backprop: note: \(folder.path) holds both t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz: read t10k-labels-idx1-ubyte, the more recently modified (t10k-labels-idx1-ubyte.gz is older)\n"
        let out = directory.appendingPathComponent("run")
        let trained = try OwnData.train(["--data", folder.path, "--model", "64-3:softmax", "--epochs", "2", "--quiet", "--out", out.path])
        #expect(trained.status == 0, "\(trained.error)")
        #expect(trained.error == note, "\(trained.error)")
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", folder.path])
        #expect(evaluated.status == 0 && evaluated.error == note, "\(evaluated.error)")
        #expect(evaluated.output.contains("examples 30"), "\(evaluated.output)")
        // The archive made newer: it is read, and its label 9 is refused as before.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: labels.path)
        let refused = try OwnData.train(["--data", folder.path, "--model", "64-3:softmax", "--epochs", "1", "--quiet",
                                         "--out", directory.appendingPathComponent("again").path])
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error == "backprop: \(archive.path): 30 test images with label 9, which no training image has (the training labels: 0, 1, 2)\n",
                "\(refused.error)")
    }
}

// MARK: - Columns by name, and mistakes

@Suite("backprop on your own CSV: columns by name and mistakes")
struct OwnColumnTests {
    @Test("evaluate and predict match feature columns by name; a missing column is one line naming it")
    func columnsByName() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.csv"), test = directory.appendingPathComponent("test.csv")
        let shuffled = directory.appendingPathComponent("shuffled.csv")
        let unlabeled = directory.appendingPathComponent("unlabeled.csv")
        let missing = directory.appendingPathComponent("missing.csv")
        let testRows = OwnData.rows(OwnData.blobs(120, seed: 52))
        try OwnData.writeCSV(train, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(300, seed: 51)))
        try OwnData.writeCSV(test, columns: OwnData.features + ["label"], rows: testRows)
        try OwnData.writeCSV(shuffled, columns: ["delta", "label", "beta", "alpha", "gamma"], rows: testRows)
        try OwnData.writeCSV(unlabeled, columns: ["gamma", "alpha", "delta", "beta"], rows: testRows)
        try OwnData.writeCSV(missing, columns: ["alpha", "beta", "delta", "label"], rows: testRows)
        let out = directory.appendingPathComponent("run")

        let trained = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--standardize",
                                         "--model", "4-16:relu-3:softmax", "--epochs", "30", "--quiet", "--out", out.path])
        #expect(trained.status == 0, "\(trained.error)")

        let original = try Run(["evaluate", "--model", out.path, "--data", "csv:\(test.path)"])
        let reordered = try Run(["evaluate", "--model", out.path, "--data", "csv:\(shuffled.path)"])
        #expect(original.status == 0, "\(original.error)")
        #expect(reordered.status == 0, "\(reordered.error)")
        let accuracy = try #require(OwnData.metric("accuracy", in: original.output), "\(original.output)")
        #expect(accuracy >= 0.9, "\(original.output)")
        #expect(OwnData.metric("accuracy", in: reordered.output) == accuracy, "original: \(original.output)\nreordered: \(reordered.output)")
        #expect(OwnData.metric("loss", in: reordered.output) == OwnData.metric("loss", in: original.output),
                "original: \(original.output)\nreordered: \(reordered.output)")

        let predictions = try Run(["predict", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(predictions.status == 0, "\(predictions.error)")
        for other in [shuffled, unlabeled] {
            let run = try Run(["predict", "--model", out.path, "--data", "csv:\(other.path)"])
            #expect(run.status == 0, "\(other.lastPathComponent): \(run.error)")
            #expect(run.output == predictions.output, "\(other.lastPathComponent) predicts otherwise")
        }

        for command in ["evaluate", "predict"] {
            let run = try Run([command, "--model", out.path, "--data", "csv:\(missing.path)"])
            #expect(run.status != 0, "\(command): \(run.output)")
            let lines = run.error.split(separator: "\n")
            #expect(lines.count == 1, "\(command): \(run.error)")
            #expect(run.error.hasPrefix("backprop:"), "\(command): \(run.error)")
            #expect(run.error.contains("gamma"), "\(command): \(run.error)")
        }
    }

    @Test("five outputs for three classes is one line naming 5 and 3, before training, and no model is written")
    func outputCountMismatch() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.csv")
        try OwnData.writeCSV(train, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(300, seed: 61)))
        let out = directory.appendingPathComponent("run")

        let run = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--model", "4-8:relu-5:softmax",
                                     "--epochs", "20", "--out", out.path])
        #expect(run.status != 0, "\(run.output)")
        #expect(run.error.split(separator: "\n").count == 1, "\(run.error)")
        let numbers = Set(run.error.split { !$0.isNumber }.map(String.init))
        #expect(numbers.contains("5") && numbers.contains("3"), "\(run.error)")
        #expect(!run.output.contains("epoch 1/"), "it trained: \(run.output)")
        #expect(!OwnData.fileExists(out, "model.safetensors"), "model.safetensors written")
    }
}

// MARK: - Choosing the task

@Suite("backprop on your own CSV: choosing the task")
struct OwnTaskTests {
    static func writeFiles(in directory: URL) throws -> (train: URL, test: URL) {
        let train = directory.appendingPathComponent("train.csv"), test = directory.appendingPathComponent("test.csv")
        try OwnData.writeCSV(train, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(300, seed: 71)))
        try OwnData.writeCSV(test, columns: OwnData.features + ["label"], rows: OwnData.rows(OwnData.blobs(100, seed: 72)))
        return (train, test)
    }

    @Test("--task regression on integer classes is honoured; --task classification is what train chose anyway")
    func taskFlag() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (train, test) = try Self.writeFiles(in: directory)
        let common = ["--data", "csv:\(train.path)", "--target", "label", "--test-data", "csv:\(test.path)", "--json"]

        let regression = directory.appendingPathComponent("regression")
        let asValues = try OwnData.train(common + ["--task", "regression", "--model", "4-16:relu-1", "--epochs", "20",
                                                   "--out", regression.path])
        #expect(asValues.status == 0, "\(asValues.error)")
        let values = try #require(OwnData.finalJSON(asValues), "\(asValues.output)\(asValues.error)")
        #expect(values["task"] as? String == "regression", "\(values)")
        #expect(values["classes"] as? [String] == nil, "\(values)")
        #expect(values["test_accuracy"] as? Double == nil, "\(values)")
        #expect(values["test_r2"] as? Double != nil, "\(values)")
        let regressionModel = try OwnData.modelJSON(regression)
        #expect(OwnData.find("task", in: regressionModel) as? String == "regression", "\(regressionModel)")
        #expect(OwnData.find("classNames", in: regressionModel) as? [String] == nil, "\(regressionModel)")
        let predictedValues = try Run(["predict", "--model", regression.path, "--data", "csv:\(test.path)"])
        #expect(predictedValues.status == 0, "\(predictedValues.error)")
        #expect(OwnData.csv(predictedValues.output).first == ["index", "label"], "\(predictedValues.output.prefix(300))")

        let chosen = directory.appendingPathComponent("chosen"), forced = directory.appendingPathComponent("forced")
        let classification = ["--model", "4-16:relu-3:softmax", "--epochs", "30"]
        let byDefault = try OwnData.train(common + classification + ["--out", chosen.path])
        let byFlag = try OwnData.train(common + classification + ["--task", "classification", "--out", forced.path])
        #expect(byDefault.status == 0, "\(byDefault.error)")
        #expect(byFlag.status == 0, "\(byFlag.error)")
        let defaultResult = try #require(OwnData.finalJSON(byDefault), "\(byDefault.output)\(byDefault.error)")
        let flagResult = try #require(OwnData.finalJSON(byFlag), "\(byFlag.output)\(byFlag.error)")
        #expect(flagResult["task"] as? String == "classification", "\(flagResult)")
        #expect(flagResult["classes"] as? [String] == ["0", "1", "2"], "\(flagResult)")
        #expect(defaultResult["classes"] as? [String] == ["0", "1", "2"], "\(defaultResult)")
        let accuracy = try #require(flagResult["test_accuracy"] as? Double, "\(flagResult)")
        #expect(accuracy >= 0.9, "\(flagResult)")
        #expect(defaultResult["test_accuracy"] as? Double == accuracy, "default \(defaultResult), flag \(flagResult)")
        let chosenPredictions = try Run(["predict", "--model", chosen.path, "--data", "csv:\(test.path)"])
        let forcedPredictions = try Run(["predict", "--model", forced.path, "--data", "csv:\(test.path)"])
        #expect(chosenPredictions.status == 0 && forcedPredictions.status == 0, "\(chosenPredictions.error)\(forcedPredictions.error)")
        #expect(chosenPredictions.output == forcedPredictions.output, "--task classification predicts otherwise")
    }

    @Test("the presets give classes one output each and a regression one identity output")
    func presetsAdapt() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (train, test) = try Self.writeFiles(in: directory)
        let logistic = directory.appendingPathComponent("logistic")
        let classes = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--model", "logistic",
                                         "--epochs", "20", "--json", "--out", logistic.path])
        #expect(classes.status == 0, "\(classes.error)")
        let classResult = try #require(OwnData.finalJSON(classes), "\(classes.output)\(classes.error)")
        #expect(classResult["task"] as? String == "classification", "\(classResult)")
        #expect(classResult["classes"] as? [String] == ["0", "1", "2"], "\(classResult)")
        let predictedClasses = try Run(["predict", "--model", logistic.path, "--data", "csv:\(test.path)"])
        #expect(predictedClasses.status == 0, "\(predictedClasses.error)")
        let (problems, _) = OwnData.classPredictionProblems(predictedClasses.output, names: ["0", "1", "2"], count: 100)
        #expect(problems.isEmpty, "\(problems)\n\(predictedClasses.output.prefix(500))")

        let prices = directory.appendingPathComponent("prices.csv")
        try OwnData.writeCSV(prices, columns: OwnRegressionTests.columns, rows: OwnData.rows(OwnData.prices(300, seed: 73)))
        let mlp = directory.appendingPathComponent("mlp")
        let values = try OwnData.train(["--data", "csv:\(prices.path)", "--target", "price", "--standardize", "--model", "mlp",
                                        "--epochs", "10", "--json", "--out", mlp.path])
        #expect(values.status == 0, "\(values.error)")
        let result = try #require(OwnData.finalJSON(values), "\(values.output)\(values.error)")
        #expect(result["task"] as? String == "regression", "\(result)")
        #expect(result["training_r2"] as? Double != nil, "\(result)")
        let predictedValues = try Run(["predict", "--model", mlp.path, "--data", "csv:\(prices.path)", "--format", "json"])
        #expect(predictedValues.status == 0, "\(predictedValues.error)")
        let rows = (try? JSONSerialization.jsonObject(with: Data(predictedValues.output.utf8))) as? [[String: Any]]
        #expect(rows?.count == 300, "\(predictedValues.output.prefix(300))")
        #expect((rows?.first?["values"] as? [Double])?.count == 1, "\(predictedValues.output.prefix(300))")
    }

    @Test("without --json, train says which task it chose and why, and ends with the test metric")
    func taskLine() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (train, test) = try Self.writeFiles(in: directory)
        let classes = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--test-data", "csv:\(test.path)",
                                         "--model", "4-16:relu-3:softmax", "--epochs", "30",
                                         "--out", directory.appendingPathComponent("classes").path])
        #expect(classes.status == 0, "\(classes.error)")
        let classTaskLines = classes.output.split(separator: "\n").filter { $0.hasPrefix("task: ") }
        #expect(classTaskLines.count == 1, "\(classes.output)")
        #expect(classTaskLines.first?.hasPrefix("task: classification") == true, "\(classes.output)")
        #expect(classTaskLines.first?.contains("label") == true, "the reason names the target: \(classes.output)")
        let last = OwnData.lastLine(classes.output) ?? ""
        let accuracy = OwnData.number(after: "test accuracy ", in: last).flatMap { Double($0) }
        #expect((accuracy ?? 0) >= 0.9, "last line: \(last)")

        let trainPrices = directory.appendingPathComponent("prices.csv"), testPrices = directory.appendingPathComponent("prices-test.csv")
        try OwnData.writeCSV(trainPrices, columns: OwnRegressionTests.columns, rows: OwnData.rows(OwnData.prices(300, seed: 74)))
        try OwnData.writeCSV(testPrices, columns: OwnRegressionTests.columns, rows: OwnData.rows(OwnData.prices(100, seed: 75)))
        let values = try OwnData.train(["--data", "csv:\(trainPrices.path)", "--target", "price", "--standardize",
                                        "--test-data", "csv:\(testPrices.path)", "--model", "3-32:relu-1", "--epochs", "10",
                                        "--out", directory.appendingPathComponent("values").path])
        #expect(values.status == 0, "\(values.error)")
        let valueTaskLines = values.output.split(separator: "\n").filter { $0.hasPrefix("task: ") }
        #expect(valueTaskLines.count == 1, "\(values.output)")
        #expect(valueTaskLines.first?.hasPrefix("task: regression") == true, "\(values.output)")
        #expect(valueTaskLines.first?.contains("price") == true, "the reason names the target: \(values.output)")
        let valuesLast = OwnData.lastLine(values.output) ?? ""
        let r2 = OwnData.number(after: "test R² ", in: valuesLast)
        #expect(r2.flatMap { Double($0) } != nil, "last line: \(valuesLast)")
        #expect(r2?.split(separator: ".").last?.count == 4, "R² with four decimals: \(valuesLast)")
        #expect(valuesLast.contains("RMSE") && valuesLast.contains("MAE"), "last line: \(valuesLast)")
    }
}
