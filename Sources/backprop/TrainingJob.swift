import ArgumentParser
import Datasets
import Foundation
import Kernels
import ModelFiles
import NeuralNetworks
import Tensors
import Training

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C requests a stop at the next batch boundary; a second one stops at once.
nonisolated(unsafe) private var interruptCount: Int32 = 0

private func installInterruptHandler() {
    // A parent may have started us with SIGINT blocked; Ctrl-C must reach the handler.
    var mask = sigset_t()
    sigemptyset(&mask)
    sigaddset(&mask, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    signal(SIGINT) { _ in
        interruptCount += 1
        if interruptCount >= 2 { _exit(130) }
    }
}

/// Data ready for training: features, labels, class names, and a held-out split.
struct PreparedData {
    var training: LabeledData<Float>
    /// The test split (MNIST-format data) or nothing; the report evaluates on it.
    var test: LabeledData<Float>?
    var classNames: [String]
    /// Width and height when the examples are images.
    var imageSize: (width: Int, height: Int)?
    /// One example's shape.
    var inputShape: [Int]
    var standardization: Standardization?

    var classCount: Int? {
        if case .labels(_, let classes) = training.targets { return classes }
        return nil
    }
}

/// Where the data comes from: `fashion-mnist`, a directory of MNIST-format files,
/// `csv:PATH` (with a target column) or `npy:FEATURES.npy,TARGETS.npy`.
enum DataSource {
    case mnist(directory: String)
    case csv(path: String)
    case npy(features: String, targets: String)

    init(_ text: String) throws {
        if text == "fashion-mnist" {
            self = .mnist(directory: MNISTFormat.fashionMNISTDirectory)
        } else if text.hasPrefix("csv:") {
            self = .csv(path: String(text.dropFirst(4)))
        } else if text.hasPrefix("npy:") {
            let files = text.dropFirst(4).split(separator: ",").map(String.init)
            guard files.count == 2 else {
                throw ValidationError("--data: npy: takes two files, features and targets: npy:X.npy,y.npy (got '\(text)')")
            }
            self = .npy(features: files[0], targets: files[1])
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--data: '\(text)' is not 'fashion-mnist', a directory of MNIST-format files, csv:PATH or npy:X.npy,y.npy")
            }
            self = .mnist(directory: text)
        }
    }

    /// Loads the data; images are flattened for fully connected networks.
    func load(flatten: Bool, target: String?, standardize: Bool) throws -> PreparedData {
        switch self {
        case .mnist(let directory):
            let train = try MNISTFormat.load(.training, from: directory, as: Float.self)
            let test = try MNISTFormat.load(.test, from: directory, as: Float.self)
            let (h, w) = (train.images.shape[2], train.images.shape[3])
            return PreparedData(
                training: try labeled(train.dataset(flattened: flatten)), test: try labeled(test.dataset(flattened: flatten)),
                classNames: train.classNames, imageSize: (w, h), inputShape: flatten ? [w * h] : [1, h, w])
        case .csv(let path):
            guard let target else { throw ValidationError("--data csv:\(path) needs --target COLUMN (a name or an index)") }
            let column: CSVOptions.Column = Int(target).map { .index($0) } ?? .name(target)
            let data = try CSVFormat.load(path, options: CSVOptions(
                target: column, preprocessing: standardize ? .fit(.perFeature) : .none), as: Float.self)
            return try tabular(data)
        case .npy(let features, let targets):
            var data = try Dataset<Float>(features: NPYArray(contentsOf: features), targets: NPYArray(contentsOf: targets),
                                          file: features)
            if flatten && data.features.rank > 2 { data.features = data.features.flattenedBatch() }
            if standardize {
                data = try data.standardized(with: Standardization(fittedTo: data.features, scope: .perFeature))
            }
            return try tabular(data)
        }
    }

    private func tabular(_ data: Dataset<Float>) throws -> PreparedData {
        var classNames: [String] = []
        if case .classes(_, let classes) = data.targets { classNames = classes.names }
        return PreparedData(training: try labeled(data), test: nil, classNames: classNames, imageSize: nil,
                            inputShape: Array(data.features.shape.dropFirst()), standardization: data.standardization)
    }

    private func labeled(_ data: Dataset<Float>) throws -> LabeledData<Float> {
        switch data.targets {
        case .classes(let labels, let classes)?: return try LabeledData(features: data.features, targets: .labels(labels, classes: classes.count))
        case .values(let values)?: return try LabeledData(features: data.features, targets: .values(values))
        case nil: throw ValidationError("--data: the data has no targets to train on")
        }
    }
}

/// One `backprop train` run: data, model, optimiser, the fit loop, and the run directory.
struct TrainingJob {
    let settings: TrainingSettings
    let directory: URL

    init(settings: TrainingSettings, runDirectory: String) throws {
        self.settings = settings
        self.directory = URL(fileURLWithPath: runDirectory)
    }

    /// Whether the model takes images `[1, height, width]` rather than flat vectors.
    var modelTakesImages: Bool {
        get throws {
            if ModelSpec.networkInputShape(preset: settings.model) != nil { return true }
            if settings.model.hasSuffix(".json") {
                return try (ModelArchitecture(contentsOf: settings.model).inputShape?.count ?? 1) > 1
            }
            return false
        }
    }

    /// The network: a preset, a compact spec or a JSON architecture file (model.json).
    func buildModel(inputShape: [Int], classes: Int) throws -> Sequential<Float> {
        let inputSize = inputShape.reduce(1, *)
        if settings.model.hasSuffix(".json") {
            let architecture = try ModelArchitecture(contentsOf: settings.model)
            if let expected = architecture.inputShape, expected != inputShape {
                throw ValidationError("--model: \(settings.model) takes inputs of shape \(expected), the data has \(inputShape)")
            }
            return try architecture.makeModel(Float.self, seed: settings.seed, file: settings.model)
        }
        if let network = ModelSpec.network(preset: settings.model, classes: classes, as: Float.self, seed: settings.seed) {
            let expected = ModelSpec.networkInputShape(preset: settings.model)!
            guard expected == inputShape else {
                throw ValidationError("--model: \(settings.model) takes inputs of shape \(expected), the data has \(inputShape)")
            }
            return network
        }
        var spec: ModelSpec
        if let preset = ModelSpec.preset(settings.model, inputSize: inputSize, classes: classes) {
            spec = preset
        } else {
            spec = try ModelSpec(parsing: settings.model)
        }
        guard spec.inputSize == inputSize else {
            throw ValidationError("--model: the spec takes \(spec.inputSize) inputs but the data has \(inputSize) features")
        }
        if let name = settings.initializer { spec.initializer = try parseInitializer(name) }
        return spec.build(Float.self, seed: settings.seed)
    }

    func lossKind() throws -> Loss {
        switch settings.loss ?? defaultLoss {
        case "cross-entropy", "crossentropy", "ce": return .crossEntropy
        case "binary-cross-entropy", "bce", "logistic": return .binaryCrossEntropy
        case "squared": return .squared
        case "mse": return .meanSquaredError
        case let other: throw ValidationError("--loss: unknown loss '\(other)' (cross-entropy, binary-cross-entropy, squared, mse)")
        }
    }

    func fitConfiguration() throws -> FitConfiguration {
        try FitConfiguration(
            epochs: settings.epochs,
            batchSize: settings.batchSize == "full" ? .full : .examples(Int(settings.batchSize) ?? 0),
            loss: lossKind(), seed: settings.seed,
            validation: settings.validationSplit > 0 ? .split(settings.validationSplit) : .none,
            schedule: learningRateSchedule(), earlyStoppingPatience: settings.earlyStopping)
    }

    func learningRateSchedule() throws -> LearningRateSchedule {
        let parts = settings.schedule.split(separator: ":").map(String.init)
        switch (parts.first ?? "", parts.count) {
        case ("constant", 1): return .constant
        case ("cosine", 1): return .cosine(epochs: settings.epochs, minimum: 0)
        case ("step", 3):
            if let every = Int(parts[1]), every > 0, let factor = Double(parts[2]), factor > 0 {
                return .step(epochs: every, factor: factor)
            }
        case ("exponential", 2):
            if let gamma = Double(parts[1]), gamma > 0 { return .exponential(gamma: gamma) }
        default: break
        }
        throw ValidationError("--schedule: '\(settings.schedule)' is not constant, cosine, step:EPOCHS:FACTOR or exponential:GAMMA")
    }

    /// Cross-entropy for class labels, mean squared error for values.
    var defaultLoss = "cross-entropy"

    static let settingsFileName = "run.json"
    static let checkpointFileName = "checkpoint.safetensors"

    /// Trains from the start, or from the checkpoint in the run directory when `resuming`.
    mutating func run(style: ProgressStyle, resuming: Bool = false) throws {
        let data = try DataSource(settings.data).load(
            flatten: !(try modelTakesImages), target: settings.target, standardize: settings.standardize)
        if data.classCount == nil { defaultLoss = "mse" }
        let outputs: Int
        switch data.training.targets {
        case .labels(_, let classes): outputs = classes
        case .values(let values): outputs = values.count / max(values.shape.first ?? 1, 1)
        }
        let model = try buildModel(inputShape: data.inputShape, classes: outputs)
        var optimizer = try AnyOptimizer<Float>(
            name: settings.optimizer, learningRate: settings.learningRate, momentum: settings.momentum,
            weightDecay: settings.l2)
        let configuration = try fitConfiguration()
        let callbacks: [any TrainingCallback] = [ProgressPrinter(style: style, epochs: settings.epochs)]
        var trainer: Trainer<Sequential<Float>, AnyOptimizer<Float>>
        if resuming {
            let checkpoint = try Checkpoint<Float>(contentsOf: file(Self.checkpointFileName))
            try checkpoint.restore(into: model, optimizer: &optimizer)
            guard let state = checkpoint.trainingState,
                  let progress = try? state.decoded(as: TrainingProgress.self) else {
                throw ValidationError("--resume: \(file(Self.checkpointFileName)) holds no training progress")
            }
            trainer = Trainer(model: model, optimizer: optimizer, configuration: configuration, callbacks: callbacks,
                              resumingFrom: progress, baseLearningRate: settings.learningRate)
            if style != .quiet && style != .json {
                print("resuming at epoch \(progress.epoch + 1), batch \(progress.nextBatch + 1)")
            }
        } else {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try writeAtomically(JSONEncoder().encode(settings), to: file(Self.settingsFileName))
            trainer = Trainer(model: model, optimizer: optimizer, configuration: configuration, callbacks: callbacks)
            if style != .quiet && style != .json {
                print("BLAS: \(BLAS.info)")
                print(model.summary(inputShape: data.inputShape))
            }
        }
        installInterruptHandler()
        trainer.stopRequested = { interruptCount > 0 }
        let started = Date()
        let history = try trainer.run(data: data.training)
        if history.isInterrupted {
            let progress = trainer.progress
            try Checkpoint(
                model: model, optimizer: trainer.optimizer, epoch: progress.epoch,
                generator: RandomSource(state: progress.epochStartGenerator),
                trainingState: JSONValue(encoding: progress), inputShape: data.inputShape,
                classNames: data.classNames.isEmpty ? nil : data.classNames
            ).write(to: file(Self.checkpointFileName))
            FileHandle.standardError.write(Data("""
                interrupted at epoch \(progress.epoch + 1), batch \(progress.nextBatch); checkpoint written to \(file(Self.checkpointFileName))
                resume with: backprop train --resume \(directory.path)

                """.utf8))
            throw ExitCode(130)
        }
        try ModelFile.save(model, to: directory.path, inputShape: data.inputShape,
                           classNames: data.classNames.isEmpty ? nil : data.classNames,
                           preprocessing: data.standardization.map { try JSONValue(encoding: $0) })
        try? FileManager.default.removeItem(atPath: file(Self.checkpointFileName))
        try finish(model: model, history: history, data: data, seconds: Date().timeIntervalSince(started), style: style)
    }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Evaluates on the test set, writes history.csv and report.html, prints the result.
    func finish(model: Sequential<Float>, history: History, data: PreparedData, seconds: Double,
                style: ProgressStyle) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try historyCSV(history).write(to: directory.appendingPathComponent("history.csv"), atomically: true, encoding: .utf8)
        let loss = try lossKind()
        var testMetrics = Metrics(loss: .nan)
        var report = Report(
            title: "Backprop: \(settings.model) on \(settings.data)", history: history, classNames: data.classNames,
            confusion: [], testMetrics: testMetrics, misclassified: [], filters: [],
            summary: model.summary(inputShape: data.inputShape), settings: settingsTable(seconds: seconds))
        let test = data.test ?? data.training
        report.evaluationName = data.test == nil ? "training set" : "test set"
        testMetrics = evaluate(model, on: test, loss: loss)
        report.testMetrics = testMetrics
        if case .labels(let labels, let classes) = test.targets {
            let predicted = model.predict(test.features, batchSize: 2048).argmax(alongAxis: -1)
            var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
            for (p, a) in zip(predicted, labels) { confusion[a][p] += 1 }
            report.confusion = confusion
            report.testMetrics = testMetrics
            if let size = data.imageSize {
                let pixels = size.width * size.height
                let wrong = zip(predicted, labels).enumerated().filter { $0.element.0 != $0.element.1 }.prefix(40)
                report.misclassified = wrong.map { index, pair in
                    Report.Example(pixels: Array(test.features.scalars[(index * pixels)..<((index + 1) * pixels)]),
                                   width: size.width, height: size.height, predicted: pair.0, actual: pair.1)
                }
                report.filters = firstLayerFilters(model, size: size)
            }
        }
        try report.html().write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
        let name = data.test == nil ? "training" : "test"
        let summary = String(format: "\(name) loss %.4f", testMetrics.loss)
            + (testMetrics.accuracy.map { String(format: ", \(name) accuracy %.4f", $0) } ?? "")
            + (testMetrics.meanSquaredError.map { String(format: ", \(name) MSE %.4f", $0) } ?? "")
        if style == .json {
            var object: [String: Any] = ["\(name)_loss": testMetrics.loss, "run_directory": directory.path]
            object["\(name)_accuracy"] = testMetrics.accuracy
            object["\(name)_mse"] = testMetrics.meanSquaredError
            let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: json, as: UTF8.self))
        } else {
            print("\(summary); run directory \(directory.path)")
        }
    }

    /// The first dense layer's weight rows as images, each scaled to [0, 1].
    func firstLayerFilters(_ model: Sequential<Float>, size: (width: Int, height: Int)) -> [(pixels: [Float], width: Int, height: Int)] {
        if let conv = model.layers.first as? Conv2D<Float> {
            let (kh, kw) = (conv.weight.shape[2], conv.weight.shape[3])
            let n = kh * kw * conv.weight.shape[1]
            return (0..<conv.weight.shape[0]).map { f in
                let w = Array(conv.weight.scalars[(f * n)..<(f * n + kh * kw)])
                let low = w.min() ?? 0, high = w.max() ?? 1
                return (w.map { ($0 - low) / max(high - low, 1e-12) }, kw, kh)
            }
        }
        guard let dense = model.layers.first as? Dense<Float>, dense.inputSize == size.width * size.height else { return [] }
        let n = dense.inputSize
        return (0..<min(dense.outputSize, 48)).map { row in
            let w = Array(dense.weight.scalars[(row * n)..<((row + 1) * n)])
            let low = w.min() ?? 0, high = w.max() ?? 1
            return (w.map { ($0 - low) / max(high - low, 1e-12) }, size.width, size.height)
        }
    }

    func settingsTable(seconds: Double) -> [(String, String)] {
        [("data", settings.data), ("model", settings.model), ("loss", settings.loss ?? "cross-entropy"),
         ("optimizer", settings.optimizer), ("learning rate", "\(settings.learningRate) (\(settings.schedule))"),
         ("momentum", "\(settings.momentum)"), ("L2 λ", "\(settings.l2)"), ("batch size", settings.batchSize),
         ("epochs", "\(settings.epochs)"), ("initialiser", settings.initializer ?? "by activation"),
         ("seed", "\(settings.seed)"), ("validation split", "\(settings.validationSplit)"),
         ("early stopping", settings.earlyStopping.map(String.init) ?? "off"), ("BLAS", BLAS.info.description),
         ("training time", String(format: "%.1f s", seconds))]
    }
}

/// `normal:0.1`, `uniform:-0.1:0.1`, `xavier-normal`, `he-uniform`, `zeros`, `constant:0.5`.
func parseInitializer(_ text: String) throws -> Initializer {
    let parts = text.split(separator: ":").map(String.init)
    let numbers = parts.dropFirst().map { Double($0) }
    func fail() -> ValidationError {
        ValidationError("--init: unknown initialiser '\(text)' (normal:SIGMA, uniform:A:B, constant:C, zeros, xavier-normal, xavier-uniform, he-normal, he-uniform)")
    }
    if numbers.contains(nil) { throw fail() }
    let values = numbers.map { $0! }
    switch (parts.first ?? "", values.count) {
    case ("zeros", 0): return .zeros
    case ("constant", 1): return .constant(values[0])
    case ("normal", 1) where values[0] > 0: return .normal(standardDeviation: values[0])
    case ("uniform", 2) where values[0] < values[1]: return .uniform(lowerBound: values[0], upperBound: values[1])
    case ("xavier-normal", 0): return .xavierNormal
    case ("xavier-uniform", 0): return .xavierUniform
    case ("he-normal", 0): return .heNormal
    case ("he-uniform", 0): return .heUniform
    default: throw fail()
    }
}

/// Writes `data` to `path` through a temporary file and a rename, so that a crash never
/// leaves a half-written file.
func writeAtomically(_ data: Data, to path: String) throws {
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
}
