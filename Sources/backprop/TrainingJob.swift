import ArgumentParser
import Datasets
import Foundation
import Kernels
import NeuralNetworks
import Tensors
import Training

#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C requests a stop at the next batch boundary; a second one stops at once.
nonisolated(unsafe) private var interruptCount: Int32 = 0

private func installInterruptHandler() {
    signal(SIGINT) { _ in
        interruptCount += 1
        if interruptCount >= 2 { _exit(130) }
    }
}

/// Data ready for training: features, labels, class names, and the test split.
struct PreparedData {
    var training: LabeledData<Float>
    var test: LabeledData<Float>?
    var classNames: [String]
    /// Width and height when the examples are images.
    var imageSize: (width: Int, height: Int)?
    var inputShape: [Int]
}

/// One `backprop train` run: data, model, optimiser, the fit loop, and the run directory.
struct TrainingJob {
    let settings: TrainingSettings
    let directory: URL

    init(settings: TrainingSettings, runDirectory: String) throws {
        self.settings = settings
        self.directory = URL(fileURLWithPath: runDirectory)
    }

    func loadData(flatten: Bool) throws -> PreparedData {
        let source = settings.data == "fashion-mnist" ? MNISTFormat.fashionMNISTDirectory : settings.data
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--data: '\(settings.data)' is neither 'fashion-mnist' nor a directory of MNIST-format files")
        }
        let train = try MNISTFormat.load(.training, from: source, as: Float.self)
        let test = try MNISTFormat.load(.test, from: source, as: Float.self)
        let classes = train.classNames.count
        let (h, w) = (train.images.shape[2], train.images.shape[3])
        let features = { (d: ImageDataset<Float>) in flatten ? d.flattenedImages : d.images }
        return PreparedData(
            training: try LabeledData(features: features(train), targets: .labels(train.labels, classes: classes)),
            test: try LabeledData(features: features(test), targets: .labels(test.labels, classes: classes)),
            classNames: train.classNames, imageSize: (w, h), inputShape: flatten ? [w * h] : [1, h, w])
    }

    func buildModel(inputSize: Int, classes: Int) throws -> (Sequential<Float>, ModelSpec) {
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
        return (spec.build(Float.self, seed: settings.seed), spec)
    }

    func lossKind() throws -> Loss {
        switch settings.loss ?? "cross-entropy" {
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
            earlyStoppingPatience: settings.earlyStopping)
    }

    mutating func run(style: ProgressStyle) throws {
        let data = try loadData(flatten: true)
        guard case .labels(_, let classes) = data.training.targets else { throw ValidationError("--data: no labels") }
        let (model, _) = try buildModel(inputSize: data.inputShape.reduce(1, *), classes: classes)
        let optimizer = try AnyOptimizer<Float>(
            name: settings.optimizer, learningRate: settings.learningRate, momentum: settings.momentum,
            weightDecay: settings.l2)
        let configuration = try fitConfiguration()
        if style != .quiet && style != .json {
            print("BLAS: \(BLAS.info)")
            print(model.summary(inputShape: data.inputShape))
        }
        installInterruptHandler()
        var trainer = Trainer(model: model, optimizer: optimizer, configuration: configuration,
                              callbacks: [ProgressPrinter(style: style, epochs: settings.epochs)])
        trainer.stopRequested = { interruptCount > 0 }
        let started = Date()
        let history = try trainer.run(data: data.training)
        if history.isInterrupted {
            print("interrupted at epoch \(trainer.progress.epoch + 1), batch \(trainer.progress.nextBatch)")
            throw ExitCode(130)
        }
        try finish(model: model, history: history, data: data, seconds: Date().timeIntervalSince(started), style: style)
    }

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
        if let test = data.test, case .labels(let labels, let classes) = test.targets {
            testMetrics = evaluate(model, on: test, loss: loss)
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
        let summary = String(format: "test loss %.4f", testMetrics.loss)
            + (testMetrics.accuracy.map { String(format: ", test accuracy %.4f", $0) } ?? "")
        if style == .json {
            print(#"{"test_loss":\#(testMetrics.loss),"test_accuracy":\#(testMetrics.accuracy ?? .nan),"run_directory":"\#(directory.path)"}"#)
        } else {
            print("\(summary); run directory \(directory.path)")
        }
    }

    /// The first dense layer's weight rows as images, each scaled to [0, 1].
    func firstLayerFilters(_ model: Sequential<Float>, size: (width: Int, height: Int)) -> [(pixels: [Float], width: Int, height: Int)] {
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
         ("optimizer", settings.optimizer), ("learning rate", "\(settings.learningRate)"),
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
