import Foundation
import Tensors
import Testing
@testable import Datasets

private func load(_ text: String, _ options: CSVOptions) throws -> Dataset<Double> {
    try CSVFormat.dataset(from: CSVTable(data: Data(text.utf8), file: "t.csv"), options: options)
}

@Suite("The task, the classes and the schema come from the data")
struct TaskAndSchemaTests {
    @Test("integers with few distinct values are classes, named by their numbers in numeric order")
    func integerClasses() throws {
        let rows = (0..<30).map { "\(Double($0) / 10),\([2, 10, 1][$0 % 3])" }.joined(separator: "\n")
        let data = try load("x,label\n" + rows + "\n", CSVOptions(target: .name("label")))
        #expect(data.task == .classification)
        #expect(data.classes?.names == ["1", "2", "10"])
        guard case .classes(let labels, _)? = data.targets else { Issue.record("no classes"); return }
        #expect(Array(labels.prefix(3)) == [1, 2, 0])
        #expect(data.taskReason?.contains("3 distinct integer values (1, 2, 10)") == true, "\(data.taskReason ?? "")")
        #expect(data.targetName == "label")
    }

    static let regressionCases: [(values: [String], why: String)] = [
        ((0..<30).map { (n: Int) -> String in String(Double(n) + 0.5) }, "not integers"),
        ((0..<30).map { (n: Int) -> String in String(n * 7) }, "more than 20"),
        ((0..<8).map { (n: Int) -> String in String(n) }, "too many for 8 examples"),
    ]

    @Test("non-integers, or too many distinct integers, are regression values", arguments: 0..<3)
    func regression(index: Int) throws {
        let (values, why) = Self.regressionCases[index]
        let inferred = LearningTask.inferred(fromTargets: values, named: "y")
        #expect(inferred.task == .regression)
        #expect(inferred.reason.contains(why), "\(inferred.reason)")
    }

    @Test("text labels are classes; two integer values are classes even with few examples")
    func textAndBinary() {
        #expect(LearningTask.inferred(fromTargets: ["a", "1", "b"], named: "y").task == .classification)
        #expect(LearningTask.inferred(fromTargets: ["0", "1", "1"], named: "y").task == .classification)
    }

    @Test("an explicit task overrides the inference both ways")
    func explicitTask() throws {
        let text = "x,y\n1,0\n2,1\n3,0\n4,1\n"
        let values = try load(text, CSVOptions(target: .name("y"), task: .regression))
        #expect(values.task == .regression && values.taskReason == nil)
        #expect(try load(text, CSVOptions(target: .name("y"))).task == .classification)
        let decimals = "x,y\n1,0.5\n2,1.5\n"
        #expect(try load(decimals, CSVOptions(target: .name("y"), task: .classification)).classes?.names == ["0.5", "1.5"])
    }

    @Test("class names name integer labels 0..<K, or are the labels themselves; others are refused")
    func givenClassNames() throws {
        let text = "x,y\n1,0\n2,2\n3,1\n"
        let named = try load(text, CSVOptions(target: .name("y"), classNames: ["cat", "dog", "bird"]))
        guard case .classes(let labels, let classes)? = named.targets else { Issue.record("no classes"); return }
        #expect(classes.names == ["cat", "dog", "bird"] && labels == [0, 2, 1])
        let byName = try load("x,y\n1,dog\n2,cat\n", CSVOptions(target: .name("y"), classNames: ["cat", "dog"]))
        guard case .classes(let nameLabels, _)? = byName.targets else { Issue.record("no classes"); return }
        #expect(nameLabels == [1, 0])
        #expect(throws: DatasetError.self) { try load(text, CSVOptions(target: .name("y"), classNames: ["cat", "dog"])) }
        #expect(throws: DatasetError.self) { try load(text, CSVOptions(target: .name("y"), classNames: ["a", "a", "b"])) }
    }

    @Test("features are matched by name: another column order reads the same; a missing column is refused, an extra one left out with a note")
    func featuresByName() throws {
        let original = try load("a,b,y\n1,2,x\n3,4,z\n", CSVOptions(target: .name("y")))
        let schema = DataSchema(describing: original)
        #expect(schema.featureNames == ["a", "b"])
        let swapped = try load("y,b,a\nx,2,1\nz,4,3\n", schema.csvOptions(requiresTarget: true))
        #expect(swapped.features.scalars == original.features.scalars)
        #expect(swapped.featureNames == ["a", "b"])
        let noTarget = try load("b,a\n2,1\n", schema.csvOptions(requiresTarget: false))
        #expect(noTarget.targets == nil && noTarget.features.scalars == [1, 2])
        let missing = #expect(throws: DatasetError.self) { try load("a,y\n1,x\n", schema.csvOptions(requiresTarget: true)) }
        #expect(missing?.description.contains("'b'") == true, "\(missing?.description ?? "")")
        let extra = try load("id,a,b,c,y\n7,1,2,3,x\n", schema.csvOptions(requiresTarget: true))
        #expect(extra.features.scalars == [1, 2] && extra.featureNames == ["a", "b"])
        #expect(extra.notes.contains { $0.hasSuffix("2 columns are not features of the model ('id', 'c'), left out; its features: a, b") },
                "\(extra.notes)")
        #expect(throws: DatasetError.self) { try load("a,b\n1,2\n", schema.csvOptions(requiresTarget: true)) }
        #expect(throws: DatasetError.self) { try load("a,b,y\n1,2,w\n", schema.csvOptions(requiresTarget: true)) }
    }

    @Test("two columns with the target's name, and a NUL byte inside a number, are refused")
    func strictCSV() {
        #expect(throws: DatasetError.self) { try load("a,y,y\n1,2,3\n", CSVOptions(target: .name("y"))) }
        #expect(throws: DatasetError.self) { try load("a,y\n3\u{0}junk,1\n", CSVOptions(target: .name("y"))) }
    }

    @Test("target standardisation is fitted per output, applied by the schema, and restored exactly")
    func targetStandardization() throws {
        let text = "x,price\n1,100\n2,300\n3,500\n"
        let training = try load(text, CSVOptions(target: .name("price")))
            .standardizedWithOwnStatistics(features: nil, targets: true)
        guard case .values(let values)? = training.targets else { Issue.record("no values"); return }
        let sigma = (80_000.0 / 3).squareRoot()
        #expect(maxDifference(values.scalars, [-200 / sigma, 0, 200 / sigma]) < 1e-12)
        let standardization = try #require(training.targetStandardization)
        #expect(maxDifference(try standardization.restored(values).scalars, [100, 300, 500]) < 1e-12)
        let schema = DataSchema(describing: training)
        let test = try schema.prepare(load("x,price\n5,700\n", schema.csvOptions(requiresTarget: true)))
        guard case .values(let testValues)? = test.targets else { Issue.record("no values"); return }
        #expect(Swift.abs(testValues.scalars[0] - 400 / sigma) < 1e-12)
    }

    @Test("a model's own class names: integer labels 0..<K stand for them in order; text labels must be the same set (the model's order kept); anything else is refused naming both lists")
    func modelClassNames() throws {
        let model = ClassLabels(names: ["cat", "dog", "bird"])
        func labelled(_ labels: [String]) throws -> Dataset<Double> {
            let rows = labels.enumerated().map { "\($0.offset),\($0.element)" }.joined(separator: "\n")
            return try load("x,label\n" + rows + "\n", CSVOptions(target: .name("label"), task: .classification))
        }
        func matched(_ data: Dataset<Double>) throws -> (names: [String]?, labels: [Int]) {
            let result = try data.classesMatched(to: model, source: "model.json")
            guard case .classes(let labels, let classes)? = result.targets else { return (nil, []) }
            return (classes.names, labels)
        }
        // Integer labels: label i is the model's i-th class, its name kept.
        #expect(try matched(labelled(["2", "0", "1", "0"])) == (["cat", "dog", "bird"], [2, 0, 1, 0]))
        // Text labels, read in alphabetical order (bird, cat, dog): mapped to the model's order.
        let text = try labelled(["dog", "bird", "cat", "cat"])
        #expect(text.classes?.names == ["bird", "cat", "dog"])
        #expect(try matched(text) == (["cat", "dog", "bird"], [1, 2, 0, 0]))
        // Other names, a class without examples, integers past the classes: refused, naming both lists.
        let both = { (data: String) in "model.json names the classes cat, dog, bird; the data's labels are \(data): the labels must be the model's class names, each of them, in any order, or the integers 0..<3 (label i naming the i-th), or 3 other integers (named in numeric order)" }
        for (labels, shownLabels) in [(["cat", "dog", "fish"], "cat, dog, fish"), (["cat", "dog", "dog"], "cat, dog"),
                                      (["0", "1", "1"], "0, 1"), (["0", "1", "3", "4"], "0, 1, 3, 4")] {
            #expect(throws: DatasetError.mismatch(both(shownLabels)), "\(labels)") { _ = try matched(labelled(labels)) }
        }
        // K integers other than 0..<K (grades 10, 11, 12; or 0, 1, 3): named in numeric order,
        // as the readers name them with --class-names and evaluate reads them, with a note.
        #expect(try matched(labelled(["12", "10", "11", "10"])) == (["cat", "dog", "bird"], [2, 0, 1, 0]))
        #expect(try matched(labelled(["3", "0", "1"])) == (["cat", "dog", "bird"], [2, 0, 1]))
        let graded = try labelled(["12", "10", "11"]).classesMatched(to: model, source: "model.json")
        #expect(graded.notes.last == "the data: the labels are 3 integers, not 0..<3: the class names name them in numeric order (10 → cat, 11 → dog, 12 → bird)")
        // A model whose classes are integers matches them by value only.
        let numbered = ClassLabels(names: ["1", "2", "3"])
        let byValue = try labelled(["3", "1", "2"]).classesMatched(to: numbered, source: "model.json")
        guard case .classes(let values, let classes)? = byValue.targets else { Issue.record("no classes"); return }
        #expect(classes == numbered && values == [2, 0, 1])
        #expect(throws: DatasetError.mismatch("model.json names the classes 1, 2, 3; the data's labels are 0, 1, 2: the labels must be the model's class names, each of them, in any order")) {
            _ = try labelled(["0", "1", "2"]).classesMatched(to: numbered, source: "model.json")
        }
        // Other data (a test split) need not have every class.
        let partial = try labelled(["cat", "cat"]).classesMatched(to: model, source: "model.json", requiringEveryClass: false)
        #expect(partial.classes == model)
    }

    @Test("a schema refuses data whose classes differ from the model's")
    func classesMismatch() throws {
        let training = try load("x,y\n1,a\n2,b\n", CSVOptions(target: .name("y")))
        let other = try load("x,y\n1,a\n2,c\n", CSVOptions(target: .name("y")))
        #expect(throws: DatasetError.self) { try DataSchema(describing: training).prepare(other) }
    }

    @Test("NumPy targets: integers are classes named by the labels found; --task and class names apply")
    func numpyTargets() throws {
        let features = try NPYArray(Tensor<Double>(shape: [4, 1], scalars: [1, 2, 3, 4]))
        let labels = try NPYArray(integers: [0, 5, 5, 0])
        let data = try Dataset<Double>(features: features, targets: labels)
        #expect(data.classes?.names == ["0", "5"])
        let values = try Dataset<Double>(features: features, targets: labels, task: .regression)
        #expect(values.task == .regression)
        let floats = try NPYArray(Tensor<Double>(shape: [4], scalars: [0, 1, 1, 0]))
        #expect(try Dataset<Double>(features: features, targets: floats).task == .regression)
        #expect(try Dataset<Double>(features: features, targets: floats, task: .classification).classes?.names == ["0", "1"])
        #expect(throws: DatasetError.self) { try Dataset<Double>(features: NPYArray(integers: [1, 2, 3])) }
    }
}

private func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { Swift.abs($0 - $1) }.max() ?? .infinity
}
