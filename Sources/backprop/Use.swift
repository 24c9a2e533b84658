import ArgumentParser
import Datasets
import Foundation
import ModelFiles
import NeuralNetworks
import Tensors
import Training

/// A saved model with what it needs to read new data the way its training data was read.
struct SavedModel {
    let model: Sequential<Float>
    let architecture: ModelArchitecture
    let standardization: Standardization?

    init(directory: String) throws {
        let loaded = try ModelFile.load(Float.self, from: directory)
        model = loaded.model
        architecture = loaded.architecture
        standardization = try architecture.preprocessing.map { try $0.decoded(as: Standardization.self) }
    }

    var takesImages: Bool { (architecture.inputShape?.count ?? 1) > 1 }
    var classes: ClassLabels? { architecture.classNames.map { ClassLabels(names: $0) } }

    /// Examples to run the model on: the test split of MNIST-format data, a single IDX
    /// images file, `csv:PATH` (the target column, if named, left out of the features and
    /// kept as targets) or `npy:X.npy[,y.npy]`; standardised as the training data was.
    func load(_ source: String, target: String?) throws -> Dataset<Float> {
        var data: Dataset<Float>
        if source.hasPrefix("csv:") {
            let column: CSVOptions.Column? = target.map { Int($0).map { .index($0) } ?? .name($0) }
            data = try CSVFormat.load(String(source.dropFirst(4)), options: CSVOptions(
                target: column, targetKind: classes == nil ? .values : .classes, classes: classes), as: Float.self)
        } else if source.hasPrefix("npy:") {
            let files = source.dropFirst(4).split(separator: ",").map(String.init)
            guard (1...2).contains(files.count) else {
                throw ValidationError("--data: npy: takes one or two files: npy:X.npy or npy:X.npy,y.npy")
            }
            data = try Dataset(features: NPYArray(contentsOf: files[0]),
                               targets: files.count == 2 ? NPYArray(contentsOf: files[1]) : nil,
                               classes: classes, file: files[0])
        } else if source.hasSuffix(".gz") || source.contains("idx") {
            let images = try IDXArray(contentsOf: source)
            guard images.shape.count == 3 else {
                throw ValidationError("--data: \(source) holds shape \(images.shape), not images [N, height, width]")
            }
            let scale = images.type == .uint8 ? 1.0 / 255 : 1.0
            data = Dataset(features: Tensor(shape: [images.shape[0], 1, images.shape[1], images.shape[2]],
                                            scalars: images.scalars(Float.self, scale: scale)))
        } else {
            let directory = source == "fashion-mnist" ? MNISTFormat.fashionMNISTDirectory : source
            data = try MNISTFormat.load(.test, from: directory, classNames: architecture.classNames, as: Float.self)
                .dataset()
        }
        if !takesImages && data.features.rank > 2 { data.features = data.features.flattenedBatch() }
        if let standardization, data.standardization == nil { data = try data.standardized(with: standardization) }
        if let expected = architecture.inputShape, Array(data.features.shape.dropFirst()) != expected {
            throw ValidationError("--data: the model takes examples of shape \(expected), the data has \(Array(data.features.shape.dropFirst()))")
        }
        return data
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss, accuracy and confusion matrix of a saved model on a data set.",
        discussion: """
            Examples:
              backprop evaluate --model runs/demo                      # Fashion-MNIST's test set
              backprop evaluate --model runs/iris --data csv:iris-test.csv --target species
            """
    )

    @Option(help: "The run directory (model.json + model.safetensors).")
    var model: String

    @Option(help: "Data: fashion-mnist (test split), a directory of MNIST-format files, csv:PATH or npy:X.npy,y.npy.")
    var data: String = "fashion-mnist"

    @Option(help: "The target column of a CSV file, by name or index.")
    var target: String?

    func run() throws {
        try CommandFailure.reporting {
            let saved = try SavedModel(directory: model)
            let examples = try saved.load(data, target: target)
            let (targets, loss): (Targets<Float>, Loss)
            switch examples.targets {
            case .classes(let labels, let classes)?: (targets, loss) = (.labels(labels, classes: classes.count), .crossEntropy)
            case .values(let values)?: (targets, loss) = (.values(values), .meanSquaredError)
            case nil: throw ValidationError("--data: \(data) has no targets to evaluate against (give --target for CSV)")
            }
            let labeled = try LabeledData(features: examples.features, targets: targets)
            let metrics = evaluate(saved.model, on: labeled, loss: loss)
            print(String(format: "examples %d\nloss %.4f", labeled.count, metrics.loss))
            if let accuracy = metrics.accuracy { print(String(format: "accuracy %.4f", accuracy)) }
            if let mse = metrics.meanSquaredError { print(String(format: "mse %.4f\nmae %.4f", mse, metrics.meanAbsoluteError ?? 0)) }
            if case .labels(let labels, let count) = targets {
                let names = saved.architecture.classNames ?? (0..<count).map(String.init)
                let predicted = saved.model.predict(examples.features, batchSize: 2048).argmax(alongAxis: -1)
                print("confusion matrix (rows: actual, columns: predicted)")
                print(confusionMatrixText(predicted: predicted, actual: labels, names: names))
            }
        }
    }
}

func confusionMatrixText(predicted: [Int], actual: [Int], names: [String]) -> String {
    var matrix = [[Int]](repeating: [Int](repeating: 0, count: names.count), count: names.count)
    for (p, a) in zip(predicted, actual) { matrix[a][p] += 1 }
    let width = max(names.map(\.count).max() ?? 1, 6)
    let cell = max(String(predicted.count).count, 4)
    func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(n - s.count, 0)) + s }
    var lines = [pad("", width) + " " + (0..<names.count).map { pad(String($0), cell) }.joined(separator: " ")]
    for (i, row) in matrix.enumerated() {
        lines.append(pad(names[i], width) + " " + row.map { pad(String($0), cell) }.joined(separator: " ") + "  (\(i))")
    }
    return lines.joined(separator: "\n")
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predictions of a saved model (class and probabilities, or values) as CSV or JSON.",
        discussion: """
            Examples:
              backprop predict --model runs/demo --data /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
              backprop predict --model runs/iris --data csv:new-flowers.csv --format json --output predictions.json
              backprop predict --model runs/demo --data npy:images.npy
            """
    )

    @Option(help: "The run directory (model.json + model.safetensors).")
    var model: String

    @Option(help: "Input: an IDX images file, MNIST-format directory (test split), csv:PATH or npy:X.npy.")
    var data: String

    @Option(help: "A CSV target column to leave out of the features, by name or index.")
    var target: String?

    @Option(help: "Output format: csv or json.")
    var format: String = "csv"

    @Option(help: "Output file (default: standard output).")
    var output: String?

    func validate() throws {
        guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json, got '\(format)'") }
    }

    func run() throws {
        try CommandFailure.reporting {
            let saved = try SavedModel(directory: model)
            let examples = try saved.load(data, target: target)
            let outputs = saved.model.predict(examples.features, batchSize: 2048)
            let width = outputs.count / max(examples.count, 1)
            let names = saved.architecture.classNames
            let rows = (0..<examples.count).map { Array(outputs.scalars[($0 * width)..<(($0 + 1) * width)]) }
            let text = format == "csv" ? predictionsCSV(rows, classNames: names) : try predictionsJSON(rows, classNames: names)
            if let output {
                try writeAtomically(Data(text.utf8), to: output)
            } else {
                print(text, terminator: "")
            }
        }
    }
}

func predictionsCSV(_ rows: [[Float]], classNames: [String]?) -> String {
    var lines: [String] = []
    if let classNames {
        lines.append((["index", "class", "label"] + classNames.map { "p_\($0.replacingOccurrences(of: ",", with: " "))" }).joined(separator: ","))
        for (i, p) in rows.enumerated() {
            let best = p.indices.max { p[$0] < p[$1] } ?? 0
            lines.append(([String(i), String(best), classNames[best].replacingOccurrences(of: ",", with: " ")]
                          + p.map { String(format: "%.6g", $0) }).joined(separator: ","))
        }
    } else {
        lines.append((["index"] + (rows.first ?? []).indices.map { "y\($0)" }).joined(separator: ","))
        for (i, y) in rows.enumerated() { lines.append(([String(i)] + y.map { String(format: "%.6g", $0) }).joined(separator: ",")) }
    }
    return lines.joined(separator: "\n") + "\n"
}

func predictionsJSON(_ rows: [[Float]], classNames: [String]?) throws -> String {
    let objects: [[String: Any]] = rows.enumerated().map { i, p in
        guard let classNames else { return ["index": i, "values": p.map(Double.init)] }
        let best = p.indices.max { p[$0] < p[$1] } ?? 0
        return ["index": i, "class": best, "label": classNames[best], "probabilities": p.map(Double.init)]
    }
    let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self) + "\n"
}
