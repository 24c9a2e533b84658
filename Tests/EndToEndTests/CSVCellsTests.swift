import Foundation
import Testing

// End-to-end tests of how `backprop` reads and writes a CSV file's cells and names, each
// on a small file written here with a known answer.

@Suite("backprop on your own CSV: cells and names")
struct CSVCellsTests {
    /// A failed `train`: exit 1, no crash, exactly `line` on standard error, no run directory.
    static func expectRefusal(_ text: String, target: String = "label", model: String = "2-4:relu-2:softmax", line: String,
                              flags: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("data.csv")
        try Data(text.utf8).write(to: file)
        let out = directory.appendingPathComponent("run")
        let run = try Run(["train", "--data", "csv:\(file.path)", "--target", target, "--model", model,
                           "--epochs", "1", "--out", out.path] + flags)
        #expect(run.status == 1 && !run.crashed, "\(run.output)\(run.error)", sourceLocation: sourceLocation)
        #expect(run.error == "backprop: \(file.path): \(line)\n", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: out.path), "a run directory was left", sourceLocation: sourceLocation)
    }

    /// Two well-separated blobs in features `alpha, beta`, label 0 or 1 by the sign of alpha.
    static func blobRows(_ count: Int, seed: UInt64, spell: (Int, Int) -> String) -> String {
        var random = SplitMix64(seed: seed)
        var lines = ["alpha,beta,label"]
        for row in 0..<count {
            let label = random.below(2)
            let alpha = (label == 0 ? -3 : 3) + random.normal(), beta = random.normal()
            lines.append(String(format: "%.4f,%.4f,", alpha, beta) + spell(label, row))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test("labels 0, -0, 1, 1.0 and 01 are two classes named 0 and 1; evaluate maps a test file's 1.0 and -0 to them")
    func integerLabelsByValue() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let train = directory.appendingPathComponent("train.csv"), test = directory.appendingPathComponent("test.csv")
        try Data(Self.blobRows(120, seed: 3) { label, row in [["0", "-0"], ["1", "1.0", "01"]][label][row % (label + 2)] }.utf8)
            .write(to: train)
        try Data(Self.blobRows(40, seed: 4) { label, _ in ["-0", "1.0"][label] }.utf8).write(to: test)
        let out = directory.appendingPathComponent("run")
        let run = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--model", "2-2:softmax",
                                     "--epochs", "20", "--json", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        #expect(OwnData.finalJSON(run)?["classes"] as? [String] == ["0", "1"], "\(run.output)")
        let evaluation = try Run(["evaluate", "--model", out.path, "--data", "csv:\(test.path)"])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        #expect(OwnData.metric("examples", in: evaluation.output) == 40)
        #expect((OwnData.metric("accuracy", in: evaluation.output) ?? 0) >= 0.95, "\(evaluation.output)")
    }

    @Test("two feature columns named 'a' are refused at train time, naming both indexes, and no run directory is left")
    func duplicateFeatureNames() throws {
        try Self.expectRefusal("a,a,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,0\n", model: "3-2:softmax",
                               line: "columns 0 and 1 are both named 'a'")
    }

    @Test("one 'N/A' in 200 prices, or one 'x' among 0/1 labels, is one line naming its row and column")
    func strayText() throws {
        let prices = (0..<200).map { "\($0),\($0 % 7),\($0 == 50 ? "N/A" : String(Double($0) * 1.5 + 0.25))" }
        try Self.expectRefusal("size,age,price\n" + prices.joined(separator: "\n") + "\n", target: "price",
                               model: "2-8:relu-1",
                               line: "row 52, column 'price' (index 2): 'N/A' is not a number (the column's other 199 values are numbers)")
        let labels = (0..<40).map { "\($0),\($0 % 3),\($0 == 20 ? "x" : String($0 % 2))" }
        try Self.expectRefusal("a,b,label\n" + labels.joined(separator: "\n") + "\n",
                               line: "row 22, column 'label' (index 2): 'x' is not a number (the column's other 39 values are numbers)")
    }

    @Test("--task regression on a column with text cells names the first and counts them all, as the inferred task does")
    func strayTextAsValues() throws {
        let prices = (0..<200).map { "\($0),\($0 % 7),\([50, 90, 120].contains($0) ? "N/A" : String(Double($0) * 1.5 + 0.25))" }
        let text = "size,age,price\n" + prices.joined(separator: "\n") + "\n"
        let line = "row 52, column 'price' (index 2): 'N/A' is not a number (the first of 3 such values; the column's other 197 values are numbers)"
        try Self.expectRefusal(text, target: "price", model: "2-8:relu-1", line: line)
        try Self.expectRefusal(text, target: "price", model: "2-8:relu-1", line: line, flags: ["--task", "regression"])
        // More than a few: without --task the column is text labels; read as values, every one is counted.
        let labels = (0..<40).map { "\($0),\($0 % 3),\($0 % 2 == 0 ? "cat" : String($0))" }
        try Self.expectRefusal("a,b,label\n" + labels.joined(separator: "\n") + "\n", model: "2-1",
                               line: "row 2, column 'label' (index 2): 'cat' is not a number (the first of 20 such values; the column's other 20 values are numbers)",
                               flags: ["--task", "regression"])
        let names = (0..<10).map { "\($0),\($0 % 3),\(["cat", "dog"][$0 % 2])" }
        try Self.expectRefusal("a,b,label\n" + names.joined(separator: "\n") + "\n", model: "2-1",
                               line: "row 2, column 'label' (index 2): 'cat' is not a number (the first of 10 such values; none of the column's values is a number)",
                               flags: ["--task", "regression"])
    }

    @Test("1e39 in a feature or a target is out of Float's range, named by row and column as a NaN cell is")
    func outOfFloatRange() throws {
        try Self.expectRefusal("a,b,label\n1,2,0\n3,4,1\n5,6,0\n1e39,7,1\n", line: "row 5, column 'a' (index 0): '1e39' is out of Float's range (±3.4e38)")
        let prices = (0..<60).map { "\($0),\($0 % 5),\($0 == 49 ? "1e39" : String(Double($0) * 2.5 + 0.5))" }
        try Self.expectRefusal("size,age,price\n" + prices.joined(separator: "\n") + "\n", target: "price", model: "2-1",
                               line: "row 51, column 'price' (index 2): '1e39' is out of Float's range (±3.4e38)")
    }

    @Test("a header of numbers: --target 4 is the column named 4, --target 1 the column named 1; 0 and -1 are still indexes")
    func headerOfNumbers() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("numbers.csv")
        // Columns '1' (labels 0/1) and '4' (labels 0/1/2) can be targets; '2' and '3' hold decimals.
        let rows = (0..<30).map { "\($0 % 2),\(Double($0) * 0.5),\(Double($0 % 5) + 0.25),\($0 % 3)" }
        try Data(("1,2,3,4\n" + rows.joined(separator: "\n") + "\n").utf8).write(to: file)
        for (target, name, classes) in [("4", "4", ["0", "1", "2"]), ("1", "1", ["0", "1"]), ("0", "1", ["0", "1"]),
                                        ("-1", "4", ["0", "1", "2"])] {
            let out = directory.appendingPathComponent("run\(target)")
            let run = try Run(["train", "--data", "csv:\(file.path)", "--target", target,
                               "--model", "3-\(classes.count):softmax", "--epochs", "1", "--json", "--out", out.path])
            #expect(run.status == 0, "--target \(target): \(run.error)")
            #expect(OwnData.finalJSON(run)?["classes"] as? [String] == classes, "--target \(target): \(run.output)")
            let model = try OwnData.modelJSON(out)
            #expect(OwnData.find("targetName", in: model) as? String == name, "--target \(target): \(model)")
            #expect(OwnData.find("featureNames", in: model) as? [String] == ["1", "2", "3", "4"].filter { $0 != name })
        }
    }

    @Test("a separator ending every line (pandas: an empty last column) leaves that column out with a note; an empty last column with a value stays an error")
    func trailingSeparator() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, separator, word) in [("commas", ",", "comma"), ("semicolons", ";", "semicolon")] {
            let text = Self.blobRows(80, seed: 7) { label, _ in ["x", "y"][label] }.split(separator: "\n")
                .map { $0.replacingOccurrences(of: ",", with: separator) + separator + "\n" }.joined()
            let file = directory.appendingPathComponent("\(name).csv")
            try Data(text.utf8).write(to: file)
            let note = "backprop: note: \(file.path): every line ends with a \(word), an empty last column without a name (pandas reads it so): the column is left out\n"
            let out = directory.appendingPathComponent("run-\(name)")
            let run = try OwnData.train(["--data", "csv:\(file.path)", "--target", "label", "--model", "2-2:softmax",
                                         "--epochs", "20", "--json", "--out", out.path])
            #expect(run.status == 0, "\(name): \(run.error)")
            #expect(run.error == note, "\(name): \(run.error)")
            #expect(OwnData.finalJSON(run)?["classes"] as? [String] == ["x", "y"], "\(run.output)")
            #expect((OwnData.finalJSON(run)?["training_accuracy"] as? Double ?? 0) >= 0.95, "\(run.output)")
            #expect(OwnData.find("featureNames", in: try OwnData.modelJSON(out)) as? [String] == ["alpha", "beta"])
            let evaluation = try Run(["evaluate", "--model", out.path, "--data", "csv:\(file.path)"])
            #expect(evaluation.status == 0 && evaluation.error == note, "\(name): \(evaluation.error)")
        }
        try Self.expectRefusal("a,b,label,\n1,2,x,\n3,4,y,5\n5,6,x,\n7,8,y,\n", line: "row 2, column '' (index 3): '' is not a number")
    }

    @Test("predict quotes class names with a comma, a quote or a line break (RFC 4180), and its CSV reads back as written")
    func quotedClassNames() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = ["cat, the animal", "say \"woof\"", "c\nat"]
        let quoted = ["\"cat, the animal\"", "\"say \"\"woof\"\"\"", "\"c\nat\""]
        let train = directory.appendingPathComponent("train.csv"), new = directory.appendingPathComponent("new.csv")
        try OwnData.writeCSV(train, columns: OwnData.features + ["label"],
                             rows: OwnData.rows(OwnData.blobs(150, seed: 5), names: quoted))
        try OwnData.writeCSV(new, columns: OwnData.features, rows: OwnData.rows(OwnData.blobs(30, seed: 6)))
        let out = directory.appendingPathComponent("run")
        let run = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--model", "4-3:softmax",
                                     "--epochs", "20", "--json", "--out", out.path])
        #expect(run.status == 0, "\(run.error)")
        // Sorted as strings: "c\nat" < "cat, the animal" < "say \"woof\"".
        let sorted = [names[2], names[0], names[1]]
        #expect(OwnData.finalJSON(run)?["classes"] as? [String] == sorted, "\(run.output)")
        let predictions = directory.appendingPathComponent("predictions.csv")
        let predict = try Run(["predict", "--model", out.path, "--data", "csv:\(new.path)", "--output", predictions.path])
        #expect(predict.status == 0, "\(predict.error)")
        let text = try String(contentsOf: predictions, encoding: .utf8)
        #expect(text.hasPrefix("index,label,\"p_c\nat\",\"p_cat, the animal\",\"p_say \"\"woof\"\"\"\n"), "\(text)")
        // Every row's label is its class's name, quoted.
        let rows = text.components(separatedBy: ",\"p_say \"\"woof\"\"\"\n").last ?? ""
        var count = 0
        for name in quoted {
            count += rows.components(separatedBy: ",\(name),").count - 1
        }
        #expect(count == 30, "\(rows)")
        // The project's own reader takes the file back: its label column holds the three names.
        let back = try Run(["train", "--data", "csv:\(predictions.path)", "--target", "label", "--model", "4-3:softmax",
                            "--epochs", "1", "--json", "--out", directory.appendingPathComponent("back").path])
        #expect(back.status == 0, "\(back.error)")
        #expect(OwnData.finalJSON(back)?["classes"] as? [String] == sorted, "\(back.output)")
        // evaluate's confusion matrix keeps each class on one line: the line break is shown as \n.
        let evaluation = try Run(["evaluate", "--model", out.path, "--data", "csv:\(train.path)"])
        #expect(evaluation.status == 0, "\(evaluation.error)")
        let lines = evaluation.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.contains { $0.hasPrefix("c\\nat ") && $0.dropFirst(6).split(separator: " ").allSatisfy { Int($0) != nil } },
                "\(evaluation.output)")
    }
}
