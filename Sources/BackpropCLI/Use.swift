import ArgumentParser
import Datasets
import Foundation
import ModelFiles
import NeuralNetworks
import Tensors
import Training

/// A saved model with what it needs to read new data the way its training data was read.
struct SavedModel {
    let directory: String
    let model: Sequential<Float>
    let architecture: ModelArchitecture
    /// The training data's task, classes, feature and target names, standardisations.
    let schema: DataSchema

    init(directory: String) throws {
        let loaded = try ModelFile.load(Float.self, from: directory)
        if let text = loaded.note { note(text) }
        self.directory = directory
        model = loaded.model
        architecture = loaded.architecture
        schema = try Self.schema(of: architecture, in: directory)
    }

    /// What a saved model.json records about its training data (``DataSchema``).
    static func schema(of architecture: ModelArchitecture, in directory: String) throws -> DataSchema {
        let file = URL(fileURLWithPath: directory).appendingPathComponent(ModelFile.architectureFileName).path
        func decoded(_ value: JSONValue?, _ key: String) throws -> Standardization? {
            do { return try value.map { try $0.decoded(as: Standardization.self) } } catch {
                let reason = if case DecodingError.dataCorrupted(let context) = error { ": \(context.debugDescription)" } else { "" }
                throw ValidationError("--model: \(file): \(key) is not a standardisation this version reads\(reason)")
            }
        }
        let classes = try architecture.classNames.map { try ClassLabels(validating: $0, source: file) }
        return DataSchema(
            task: architecture.task.flatMap(LearningTask.init(rawValue:)) ?? (classes != nil ? .classification : nil),
            classes: classes, featureNames: architecture.featureNames, targetName: architecture.targetName,
            standardization: try decoded(architecture.preprocessing, "preprocessing"),
            targetStandardization: try decoded(architecture.targetPreprocessing, "targetPreprocessing"))
    }

    var takesImages: Bool { (architecture.inputShape?.count ?? 1) > 1 }

    /// Examples to run the model on (see ``DataSource``): a folder's test split, a single
    /// IDX images file, `csv:PATH` (columns matched to the model's features by name; the
    /// target column, the recorded one or `target`, kept as targets when present) or
    /// `npy:X.npy[,y.npy]`; standardised as the training data was; checked against the
    /// model's input shape. A toy set is the test split train draws (``ToyDraw``).
    func load(_ source: String, target: String?, requiresTarget: Bool, toy: ToyDraw) throws -> Dataset<Float> {
        var reading = DataReading(target: target, flatten: !takesImages, schema: schema, requiresTarget: requiresTarget)
        let dataSource = try DataSource(source, allowsFeaturesOnly: true)
        if case .toy = dataSource { toy.apply(to: &reading, source: dataSource, run: directory) }
        let data = try dataSource.load(reading).data
        let shape = data.exampleShape
        if let expected = architecture.inputShape, shape != expected {
            throw ValidationError("--data: the model takes examples of shape \(expected), the data has \(shape)")
        }
        do { _ = try model.outputShape(forInput: shape) } catch {
            throw ValidationError("--data: the model does not take examples of shape \(shape): \(error)")
        }
        // Predictions run in batches of up to 2048 (Sequential.predict's default).
        try checkMemory(of: model, inputShape: shape, batchSize: min(2048, data.count))
        return data
    }
}

/// `--seed`, `--samples` and `--noise` of evaluate and predict, as train takes them: for
/// `toy:NAME`, the test split that train draws with them. Each one not given is the run's
/// own (its run.json), so that a toy run is scored on its own test split, never on
/// another draw without a word; a note says which draw it is.
struct ToyDraw: ParsableArguments {
    @Option(parsing: .unconditional, help: "Toy data: the --seed given to train; the test split it draws is used (default: the run's own, from its run.json).")
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Toy data: the --samples given to train (default: the run's own).")
    var samples: Int?

    @Option(parsing: .unconditional, help: "Toy data: the --noise given to train (default: the run's own).", transform: FlagNumber.parse)
    var noise: Double?

    /// Refuses the flags for other data, and values train would refuse.
    func check(data: String) throws {
        if let samples, samples < 2 || samples > 10_000_000 { throw ValidationError("--samples must be in 2…10 000 000, got \(samples)") }
        if let noise, !(noise >= 0 && noise.isFinite) { throw ValidationError("--noise must be ≥ 0, got \(noise)") }
        if (seed != nil || samples != nil || noise != nil) && !data.hasPrefix("toy:") {
            throw ValidationError("--seed, --samples and --noise are for toy data (--data toy:NAME)")
        }
    }

    /// Sets the toy draw of `reading`: the flags given, else what the run in `run`
    /// recorded for this same toy set, else train's defaults; and says which in a note.
    func apply(to reading: inout DataReading, source: DataSource, run: String) {
        let file = URL(fileURLWithPath: run).appendingPathComponent(TrainingJob.settingsFileName)
        let recorded = (try? Data(contentsOf: file)).flatMap { try? JSONDecoder().decode(TrainingSettings.self, from: $0) }
            .flatMap { (try? DataSource($0.data)) == source ? $0 : nil }
        reading.toySeed = seed ?? recorded?.seed ?? 42
        reading.toySamples = samples ?? recorded?.samples ?? reading.toySamples
        reading.toyNoise = noise ?? recorded?.noise
        guard case .toy(let name, _) = source else { return }
        let values = "--seed \(reading.toySeed), --samples \(reading.toySamples), --noise \(reading.toyNoise.map { "\($0)" } ?? "\(ToyData.defaultNoise(name)) (the set's own)")"
        let given = seed != nil || samples != nil || noise != nil
        let which = switch (recorded != nil, given) {
        case (true, false): "toy:\(name): the run's own test split (\(values), from its \(TrainingJob.settingsFileName))"
        case (true, true): "toy:\(name): the test split train draws with \(values) (the run's own values where no flag gives one)"
        case (false, _): "toy:\(name): the test split train draws with \(values) (train's defaults where no flag gives one: \(run) records no run on toy:\(name))"
        }
        note(which)
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and accuracy with a confusion matrix, or R², RMSE and MAE, of a saved model on a data set.",
        discussion: """
            The data is read as the training data was: the same target column and classes, \
            CSV columns matched to the model's features by name (in any order), the same \
            standardisation. Regression metrics are in the target's original units.

            Examples:
              backprop evaluate --model runs/demo                      # Fashion-MNIST's test set
              backprop evaluate --model runs/iris --data csv:iris-test.csv
            """
    )

    @Option(help: "The trained model: a run directory (model.json + model.safetensors), or either file in it.")
    var model: String

    @Option(help: "Data: fashion-mnist (test split), a directory of MNIST-format files (test split), csv:PATH, npy:X.npy,y.npy or toy:NAME (the run's test split; see --seed).")
    var data: String = "fashion-mnist"

    @Option(parsing: .unconditional, help: "The target column of a CSV file, by name or index, a name first (default: the one the model was trained on).")
    var target: String?

    @OptionGroup var toy: ToyDraw

    func validate() throws { try toy.check(data: data) }

    func run() throws {
        try CommandFailure.reporting {
            let saved = try SavedModel(directory: ModelChoice(model).trainedDirectory(for: Self.configuration.commandName ?? "evaluate"))
            let examples = try saved.load(data, target: target, requiresTarget: true, toy: toy)
            guard let targets = examples.targets else {
                throw ValidationError("--data: \(data) has no targets to evaluate against")
            }
            let outputs = (try? saved.model.outputShape(forInput: examples.exampleShape))?.reduce(1, *) ?? 0
            let metrics = try evaluate(saved.model, on: examples, loss: Loss.recommended(for: targets, outputs: outputs))
            print(String(format: "examples %d\nloss %.4f", examples.count, metrics.loss))
            if saved.schema.targetStandardization != nil, metrics.meanSquaredError != nil {
                note("the loss is the mean squared error of the standardised target, as the model was trained; mse, rmse and mae are in the target's units")
            }
            if let accuracy = metrics.accuracy { print(String(format: "accuracy %.4f", accuracy)) }
            if let outputs = metrics.outputs {
                // Outputs in different units: each one's errors apart, never pooled.
                print("r2 " + meanRSquaredText(metrics.rSquared, outputs: outputs.count))
                let names = DataSchema.outputNames(targetName: saved.schema.targetName, count: outputs.count)
                for (name, output) in zip(names, outputs) {
                    print("\(name): " + String(format: "mse %.6g, rmse %.6g, mae %.6g, r2 ", output.meanSquaredError,
                                                output.rootMeanSquaredError, output.meanAbsoluteError) + rSquaredText(output.rSquared))
                }
            } else if let mse = metrics.meanSquaredError, let rmse = metrics.rootMeanSquaredError, let mae = metrics.meanAbsoluteError {
                print(String(format: "mse %.6g\nrmse %.6g\nmae %.6g", mse, rmse, mae))
                if let r2 = metrics.rSquared { print("r2 " + rSquaredText(r2)) }
            }
            if case .classes(let labels, let classes) = targets {
                let predicted = saved.model.predictedClasses(examples.features)
                print("confusion matrix (rows: actual, columns: predicted)")
                print(confusionMatrixText(confusionMatrix(predicted: predicted, actual: labels, classes: classes.count),
                                          names: classes.names))
            }
        }
    }
}

/// The matrix as aligned text, a row per actual class and a column per predicted class,
/// both headed by the class's name (never its index, which for integer labels such as
/// 10…16 would read as another label); a class name's line breaks are shown escaped
/// (`c\nat`) so that each class stays one row.
func confusionMatrixText(_ matrix: [[Int]], names rawNames: [String]) -> String {
    let names = rawNames.map(PlainErrors.escapingControlCharacters)
    let width = max(names.map(\.count).max() ?? 1, 6)
    let count = max(String(matrix.joined().reduce(0, +)).count, 4)
    let cells = names.map { max($0.count, count) }
    func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(n - s.count, 0)) + s }
    var lines = [pad("", width) + " " + names.indices.map { pad(names[$0], cells[$0]) }.joined(separator: " ")]
    for (i, row) in matrix.enumerated() {
        lines.append(pad(names[i], width) + " " + row.indices.map { pad(String(row[$0]), cells[$0]) }.joined(separator: " "))
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

    @Option(help: "The trained model: a run directory (model.json + model.safetensors), or either file in it.")
    var model: String

    @Option(help: "Input: an IDX images file, an MNIST-format directory (test split), csv:PATH, npy:X.npy or toy:NAME (the run's test split; see --seed).")
    var data: String

    @OptionGroup var toy: ToyDraw

    @Option(parsing: .unconditional, help: "A CSV target column to leave out of the features (default: the one the model was trained on, when present).")
    var target: String?

    @Option(help: "Output format: csv or json.")
    var format: String = "csv"

    @Option(help: "Output file (default: standard output).")
    var output: String?

    func validate() throws {
        guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json, got '\(format)'") }
        try toy.check(data: data)
    }

    func run() throws {
        try CommandFailure.reporting {
            let saved = try SavedModel(directory: ModelChoice(model).trainedDirectory(for: Self.configuration.commandName ?? "predict"))
            let examples = try saved.load(data, target: target, requiresTarget: false, toy: toy)
            let prediction: Predictions
            if let classes = saved.schema.classes {
                prediction = .classes(rows(saved.model.classProbabilities(examples.features)), names: classes.names)
            } else {
                let values = try saved.model.predictedValues(
                    examples.features, targetStandardization: saved.schema.targetStandardization)
                let columns = values.count / max(examples.count, 1)
                prediction = .values(rows(values), names: DataSchema.outputNames(targetName: saved.schema.targetName, count: columns))
            }
            // NaN is no probability and cannot be written in JSON: examples whose outputs are
            // not finite (their values overflow the network) are an error naming them.
            let table: [[Float]] = switch prediction { case .classes(let rows, _), .values(let rows, _): rows }
            if let first = table.firstIndex(where: { $0.contains { !$0.isFinite } }) {
                let count = table.count { $0.contains { !$0.isFinite } }
                throw CommandFailure(description: "\(data): the model's outputs are NaN or infinite for \(count) example\(count == 1 ? "" : "s") (the first has index \(first)): their values overflow the network")
            }
            let text = format == "csv" ? prediction.csv() : try prediction.json()
            if let output {
                try writeAtomically(Data(text.utf8), to: output)
            } else {
                print(text, terminator: "")
            }
        }
    }

    private func rows(_ tensor: Tensor<Float>) -> [[Float]] {
        let count = tensor.shape.first ?? 0
        let width = tensor.count / max(count, 1)
        return (0..<count).map { Array(tensor.scalars[($0 * width)..<(($0 + 1) * width)]) }
    }
}

/// A saved model's predictions: class probabilities with the class names, or values in
/// the target's units.
enum Predictions {
    case classes([[Float]], names: [String])
    case values([[Float]], names: [String])

    /// `index,label,p_NAME…` rows (the predicted class by its name, never its index, which
    /// for integer labels such as 10…16 would read as another label), or `index,TARGET…`
    /// rows; a name with a comma, a quote or a line break is quoted (``CSVFormat/field(_:)``).
    func csv() -> String {
        var lines: [String] = []
        switch self {
        case .classes(let rows, let names):
            lines.append(CSVFormat.line(["index", "label"] + names.map { "p_\($0)" }))
            for (i, p) in rows.enumerated() {
                let best = p.indices.max { p[$0] < p[$1] } ?? 0
                lines.append(CSVFormat.line([String(i), names[best]] + p.map { String(format: "%.6g", $0) }))
            }
        case .values(let rows, let names):
            lines.append(CSVFormat.line(["index"] + names))
            for (i, y) in rows.enumerated() {
                lines.append(CSVFormat.line([String(i)] + y.map { String(format: "%.8g", $0) }))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func json() throws -> String {
        let objects: [[String: Any]]
        switch self {
        case .classes(let rows, let names):
            objects = rows.enumerated().map { i, p in
                let best = p.indices.max { p[$0] < p[$1] } ?? 0
                return ["index": i, "class": best, "label": names[best], "probabilities": p.map(Double.init)]
            }
        case .values(let rows, _):
            objects = rows.enumerated().map { i, y in ["index": i, "values": y.map(Double.init)] }
        }
        let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
