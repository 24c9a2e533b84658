import ArgumentParser
import Datasets
import DistributedTraining
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
/// SIGTERM and SIGUSR1 do the same: under mpirun, Ctrl-C reaches mpirun alone, which
/// sends each rank SIGTERM a second later (and SIGKILL a second after that), and mpirun
/// forwards SIGUSR1 to every rank at once (`kill -USR1 <mpirun's pid>`).
nonisolated(unsafe) private var interruptCount: Int32 = 0

private func installInterruptHandler() {
    // A parent may have started us with these signals blocked; they must reach the handler.
    var mask = sigset_t()
    sigemptyset(&mask)
    for stop in [SIGINT, SIGTERM, SIGUSR1] { sigaddset(&mask, stop) }
    pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    for stop in [SIGINT, SIGTERM, SIGUSR1] {
        signal(stop) { _ in
            interruptCount += 1
            if interruptCount >= 2 { _exit(130) }
        }
    }
}

/// Data ready for training: the training set (task, classes, names and scaling decided
/// by the library), and the validation and test sets read and prepared the same way.
struct PreparedData {
    var training: Dataset<Float>
    var validation: Dataset<Float>?
    /// The test set (`--test-data`, or an MNIST-format folder's test split); the report
    /// and the final line evaluate on it, or on the training set without one.
    var test: Dataset<Float>?
    /// Width and height when the examples are images.
    var imageSize: (width: Int, height: Int)?

    var inputShape: [Int] { training.exampleShape }
    var classNames: [String] { training.classes?.names ?? [] }
    var schema: DataSchema { DataSchema(describing: training) }
}

extension TrainingSettings {
    /// Reads the training data and, in the same way, the validation and test data.
    /// `standardizeTargetByDefault`: whether a regression target is standardised when
    /// neither --standardize-target nor --no-standardize-target was given. `modelClasses`:
    /// the class names of a model that names its own (`source` says which), which the
    /// training data's labels are matched to (``Dataset/classesMatched(to:source:)``).
    /// `startingPoint`: the run directory whose trained weights the model starts from; its
    /// data is read with that run's own standardisations (``startingPointData(_:from:)``).
    func prepareData(flatten: Bool, standardizeTargetByDefault: Bool = true,
                     modelClasses: (names: ClassLabels, source: String)? = nil,
                     startingPoint: String? = nil) throws -> PreparedData {
        let source = try DataSource(data)
        var reading = DataReading(target: target, task: try parsedTask(), classNames: try classNames.map(parseClassNames),
                                  flatten: false)
        reading.toySamples = samples ?? reading.toySamples
        reading.toyNoise = noise
        reading.toySeed = seed
        reading.readsTestSplit = testData == nil
        reading.modelClassNames = modelClasses?.names.names
        var (training, test) = try source.load(reading)
        if let modelClasses {
            let notesRead = training.notes.count
            training = try training.classesMatched(to: modelClasses.names, source: modelClasses.source)
            for added in training.notes.dropFirst(notesRead) { note(added) }
            test = try test?.classesMatched(to: modelClasses.names, source: modelClasses.source, requiringEveryClass: false)
        }
        var imageSize: (width: Int, height: Int)?
        if training.features.rank == 4 { imageSize = (training.features.shape[3], training.features.shape[2]) }
        // Standardised before any flattening, so that images are standardised per channel;
        // data for trained weights with that run's own statistics instead (below).
        if startingPoint == nil {
            training = try training.standardizedWithOwnStatistics(
                features: standardize ? training.featureStandardizationScope : nil,
                targets: standardizeTarget ?? standardizeTargetByDefault)
        }
        if flatten {
            training = training.flattened()
            test = test?.flattened()
        }
        reading.flatten = flatten
        if let startingPoint { training = try startingPointData(training, from: startingPoint) }
        reading.schema = DataSchema(describing: training)
        reading.target = nil
        if let testData { test = try DataSource(testData, flag: "--test-data").load(reading).data } else {
            test = try test.map { try reading.schema!.prepare($0) }
        }
        let validation = try validationData.map { try DataSource($0, flag: "--validation-data").load(reading).data }
        return PreparedData(training: training, validation: validation, test: test, imageSize: imageSize)
    }

    /// Training data for weights trained before: checked against what they were trained
    /// on, and standardised with that run's own statistics (features, and regression
    /// targets), which its weights take and predict; statistics fitted to this data would
    /// feed them other units. --standardize and --(no-)standardize-target cannot change
    /// that: a note says what is kept.
    func startingPointData(_ data: Dataset<Float>, from directory: String) throws -> Dataset<Float> {
        let architecture = try ModelFile.architecture(in: directory)
        try TrainingJob.checkStartingPoint(directory, architecture: architecture, for: data)
        let schema = try SavedModel.schema(of: architecture, in: directory)
        if standardize {
            note(schema.standardization == nil
                ? "--standardize: \(directory) was trained on features that were not standardised, and its weights take them so: they are not standardised"
                : "--standardize: the features are standardised with \(directory)'s own mean and standard deviation (of the data it was trained on), which its weights take, not with this data's")
        }
        if let asked = standardizeTarget, data.task == .regression, asked != (schema.targetStandardization != nil) {
            note(asked
                ? "--standardize-target: \(directory) predicts the target in its own units, and goes on doing so: the target is not standardised"
                : "--no-standardize-target: \(directory) predicts standardised targets, and goes on doing so with its own mean and standard deviation")
        }
        return try schema.standardizing(data)
    }

    func parsedTask() throws -> LearningTask? {
        guard let task else { return nil }
        guard let parsed = LearningTask(rawValue: task) else {
            throw ValidationError("--task: '\(task)' is not classification or regression")
        }
        return parsed
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

    /// Trained weights are a starting point only for data whose features are those they
    /// were trained on, in the same order: each weight belongs to a column. (Its classes
    /// are matched when the data is read: ``Dataset/classesMatched(to:source:requiringEveryClass:)``.)
    /// Throws one line naming what differs.
    static func checkStartingPoint(_ directory: String, architecture: ModelArchitecture, for data: Dataset<Float>) throws {
        func list(_ names: [String]) -> String { names.prefix(12).joined(separator: ", ") + (names.count > 12 ? ", …" : "") }
        if let trained = architecture.featureNames, !data.featureNames.isEmpty, trained != data.featureNames {
            throw ValidationError(Set(trained) == Set(data.featureNames)
                ? "--model: \(directory) was trained on the columns \(list(trained)) in that order; the data has them as \(list(data.featureNames)): put them in the model's order"
                : "--model: \(directory) was trained on the features \(list(trained)); the data's are \(list(data.featureNames))")
        }
    }

    /// A regression target in its own units that the model's last activation cannot reach:
    /// outside (0, 1) after a sigmoid; below 0 after ReLU, when the values below 0 hold at
    /// least 1 % of the target's variance (a few noisy values just below 0 cost the fit
    /// nothing that matters). Nil when it can.
    static func outputReachWarning(_ model: Sequential<Float>, targets data: Dataset<Float>) -> String? {
        guard case .values(let values)? = data.targets, let low = values.scalars.min(), let high = values.scalars.max(),
              let activation = model.finalActivation else { return nil }
        let name = "'\(data.targetName ?? "target")'"
        switch activation {
        case .sigmoid where low < 0 || high > 1:
            return "the model's last activation, a sigmoid, outputs values between 0 and 1, but the target \(name) runs from \(format([Double(low)])) to \(format([Double(high)])): end the model with a dense layer without activation (identity outputs)"
        case .relu where low < 0:
            // What a ReLU output cannot fit: Σ y² over y < 0, a share of Σ (y − ȳ)².
            let y = values.scalars.map(Double.init)
            let mean = y.reduce(0, +) / Double(max(y.count, 1))
            let unreachable = y.filter { $0 < 0 }.map { $0 * $0 }.reduce(0, +)
            let variance = y.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
            guard unreachable >= 0.01 * variance else { return nil }
            return "the model's last activation, ReLU, outputs only values ≥ 0, but the target \(name) goes down to \(format([Double(low)])) (its values below 0 hold \(String(format: "%.0f", 100 * min(unreachable / max(variance, .leastNormalMagnitude), 1))) % of its variance): end the model with a dense layer without activation (identity outputs)"
        default:
            return nil
        }
    }

    /// The model to train (``ModelChoice``): the model.json of a run directory is that run,
    /// whose trained weights are the starting point, as evaluate and predict read it;
    /// with --init, only its architecture, with new weights.
    func modelChoice() throws -> ModelChoice {
        let choice = try ModelChoice(settings.model)
        if case .architecture(let file) = choice, choice.hasWeights, settings.initializer == nil {
            return .saved(directory: URL(fileURLWithPath: file).deletingLastPathComponent().path)
        }
        return choice
    }

    /// The class names the model names itself (a model.json's `classNames`, or a trained
    /// run's), with the file or run that names them; nil when it names none, or when its
    /// architecture does not read (building the model then says why).
    var modelClasses: (names: ClassLabels, source: String)? {
        let named: (names: [String]?, source: String)?
        switch try? modelChoice() {
        case .architecture(let file)?: named = ((try? ModelArchitecture(contentsOf: file))?.classNames, file)
        case .saved(let directory)?: named = ((try? ModelFile.architecture(in: directory))?.classNames, directory)
        default: named = nil
        }
        guard let named, let names = named.names, let classes = try? ClassLabels(validating: names, source: named.source) else { return nil }
        return (classes, "--model: \(named.source)")
    }

    /// What the ReLU layers' weights were drawn with, when known: --init's, or by
    /// activation (He's) for a preset or spec; nil for a model.json's or trained weights.
    func reluInitializer() throws -> Initializer? {
        if let text = settings.initializer { return try parseInitializer(text) }
        switch try modelChoice() {
        case .preset, .dense, .network: return .recommended(for: .relu)
        case .saved, .architecture: return nil
        }
    }

    /// Whether the model takes images `[channels, height, width]` rather than flat vectors.
    var modelTakesImages: Bool {
        get throws { (try modelChoice().declaredInputShape?.count ?? 1) > 1 }
    }

    /// The network (``ModelChoice``): a preset (its output layer made for the data: a
    /// softmax over the classes, or identity outputs for regression), a dense or network
    /// spec, a JSON architecture file, or a run directory whose trained weights are the
    /// starting point; checked against the data's example shape.
    func buildModel(for data: Dataset<Float>) throws -> Sequential<Float> {
        let inputShape = data.exampleShape
        let inputSize = inputShape.reduce(1, *)
        let outputs = data.targets?.width ?? 1
        let outputActivation: Activation = data.task == .regression ? .identity : .softmax
        let choice = try modelChoice()
        if let expected = try choice.declaredInputShape, expected != inputShape {
            // Grayscale images saved as [N, height, width]: the channel axis is missing.
            let hint = expected.count == 3 && expected[0] == 1 && Array(expected.dropFirst()) == inputShape
                ? "; save the images with their channel axis, as [N, 1, \(inputShape[0]), \(inputShape[1])] (NumPy: X[:, None])" : ""
            throw ValidationError("--model: \(settings.model) takes examples of shape \(expected), the data has \(inputShape)\(hint)")
        }
        let initializer = try settings.initializer.map(parseInitializer)
        /// A model built whole, its dense and convolutional weights drawn as --init asks.
        func initialized(_ model: Sequential<Float>) -> Sequential<Float> {
            if let initializer { model.reinitialize(weights: initializer, seed: settings.seed) }
            return model
        }
        var spec: ModelSpec
        switch choice {
        case .preset(let name):
            if let network = ModelSpec.network(preset: name, outputs: outputs, outputActivation: outputActivation,
                                               as: Float.self, seed: settings.seed) {
                return initialized(network)
            }
            spec = ModelSpec.preset(name, inputSize: inputSize, outputs: outputs, outputActivation: outputActivation)!
        case .dense(let given):
            spec = given
        case .saved:
            if settings.initializer != nil {
                throw ValidationError("--init: --model \(settings.model) starts from its trained weights, and --init draws a new model's: leave out one of them (or give its model.json with --init: its architecture, with new weights)")
            }
            return try choice.build(Float.self, seed: settings.seed)
        case .network, .architecture:
            if case .architecture(let file) = choice, (try? ModelArchitecture(contentsOf: file))?.scalarType == "float64" {
                note("\(file) declares float64 values: train computes and saves in float32 (gradcheck and explain --trace compute in float64)")
            }
            return initialized(try choice.build(Float.self, seed: settings.seed))
        }
        if let initializer { spec.initializer = initializer }
        try spec.checkMemory(Float.self)
        return spec.build(Float.self, seed: settings.seed)
    }

    /// The loss asked for with --loss, or the one recommended for the data and model.
    func loss(for data: Dataset<Float>, model: Sequential<Float>) throws -> Loss {
        if let name = settings.loss { return try Self.parseLoss(name) }
        let outputs = (try? model.outputShape(forInput: data.exampleShape))?.reduce(1, *) ?? 0
        return data.targets.map { Loss.recommended(for: $0, outputs: outputs) } ?? .crossEntropy
    }

    static func parseLoss(_ name: String) throws -> Loss {
        do { return try Loss(named: name) } catch { throw ValidationError("--loss: \(error)") }
    }

    func fitConfiguration(loss: Loss) throws -> FitConfiguration {
        try FitConfiguration(
            epochs: settings.epochs,
            batchSize: settings.batchSize == "full" ? .full : .examples(Int(settings.batchSize) ?? 0),
            loss: loss, seed: settings.seed,
            validation: settings.validationSplit > 0 && settings.validationData == nil ? .split(settings.validationSplit) : .none,
            schedule: learningRateSchedule(), earlyStoppingPatience: settings.earlyStopping)
    }

    func learningRateSchedule() throws -> LearningRateSchedule {
        let parts = settings.schedule.split(separator: ":").map(String.init)
        switch (parts.first ?? "", parts.count) {
        case ("constant", 1): return .constant
        case ("cosine", 1): return .cosine(epochs: settings.epochs, minimum: 0)
        case ("step", 3):
            guard let every = Int(parts[1]), every > 0 else {
                throw ValidationError("--schedule: in '\(settings.schedule)', EPOCHS must be a whole number ≥ 1, got '\(parts[1])'")
            }
            if let fault = FlagNumber.fault(parts[2]) {
                throw ValidationError("--schedule: in '\(settings.schedule)', FACTOR '\(parts[2])' \(fault)")
            }
            guard let factor = Double(decimal: parts[2]), factor > 0 && factor <= 1 else {
                throw ValidationError("--schedule: in '\(settings.schedule)', FACTOR must be in (0, 1]: the rate is multiplied by it every \(every) epochs, got '\(parts[2])'")
            }
            return .step(epochs: every, factor: factor)
        case ("exponential", 2):
            if let fault = FlagNumber.fault(parts[1]) {
                throw ValidationError("--schedule: in '\(settings.schedule)', GAMMA '\(parts[1])' \(fault)")
            }
            guard let gamma = Double(decimal: parts[1]), gamma > 0 && gamma <= 1 else {
                throw ValidationError("--schedule: in '\(settings.schedule)', GAMMA must be in (0, 1]: the rate is multiplied by it every epoch, got '\(parts[1])'")
            }
            return .exponential(gamma: gamma)
        default: break
        }
        throw ValidationError("--schedule: '\(settings.schedule)' is not constant, cosine, step:EPOCHS:FACTOR or exponential:GAMMA")
    }

    static let settingsFileName = "run.json"

    /// run.json's bytes: keys sorted, so that the same settings give the same file.
    static func settingsJSON(_ settings: TrainingSettings) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(settings)
    }
    /// The training examples the layer-health probe reads after each epoch.
    static let healthProbeExamples = 256
    static let checkpointFileName = "checkpoint.safetensors"
    /// Under mpirun: whether gradient sums overlap the backward pass (`train --overlap`).
    nonisolated(unsafe) static var overlapsGradientSums = true

    /// Trains from the start, or from the checkpoint in the run directory when `resuming`.
    /// Whether the model's outputs can only be ≥ 0 (a final ReLU or sigmoid): then a
    /// standardised target, negative for half the examples, could not be fitted.
    var modelOutputIsNonNegative: Bool {
        let nonNegative: Set<Activation> = [.relu, .sigmoid]
        switch try? modelChoice() {
        case .dense(let spec)?: return spec.stages.last.map { nonNegative.contains($0.activation) } ?? false
        case .network?, .architecture?, .saved?:
            let model = try? modelChoice().build(Float.self, seed: settings.seed)
            return model?.finalActivation.map { nonNegative.contains($0) } ?? false
        default: return false
        }
    }

    /// With `world` (an mpirun launch of several ranks) every rank trains its share of
    /// each batch; rank 0 alone prints and writes the run directory.
    mutating func run(style requestedStyle: ProgressStyle, resuming: Bool = false, showsHealth: Bool = false,
                      world: MPIWorld? = nil) throws {
        let isPrimary = (world?.rank ?? 0) == 0
        let style = isPrimary ? requestedStyle : .quiet
        let startingPoint: String? = if case .saved(let directory) = try modelChoice() { directory } else { nil }
        let data = try settings.prepareData(flatten: !(try modelTakesImages),
                                            standardizeTargetByDefault: !modelOutputIsNonNegative, modelClasses: modelClasses,
                                            startingPoint: startingPoint)
        // A classifier learns to tell classes apart: one is nothing to learn.
        if let classes = data.training.classes, data.training.count > 0, classes.count < 2 {
            let which = classes.names.first.map { "only one class, '\($0)'" } ?? "no classes"
            throw TrainingError.mismatch("the training data's target has \(which): a classifier needs examples of two classes or more")
        }
        // Nor is a regression target that has one value in every example.
        if case .values(let values)? = data.training.targets, data.training.count > 1 {
            let width = values.count / data.training.count
            let varies = (0..<width).contains { column in
                stride(from: column, to: values.count, by: width).contains { values.scalars[$0] != values.scalars[column] }
            }
            if !varies {
                throw TrainingError.mismatch("the training data's target '\(data.training.targetName ?? "target")' has the same value in every example: a regression needs targets that vary")
            }
        }
        let model = try buildModel(for: data.training)
        let loss = try loss(for: data.training, model: model)
        // Everything about the data and the model is checked before any file is written.
        try checkCompatibility(of: model, with: data.training, loss: loss)
        for (other, flag) in [(data.validation, "--validation-data"), (data.test, "--test-data")] {
            guard let other else { continue }
            do { try checkCompatibility(of: model, with: other, loss: loss) } catch {
                // Say which set it is: the training data passed the same check.
                throw CommandFailure(description: "\(flag == "--test-data" && settings.testData == nil ? "the test split" : flag): \(error)")
            }
        }
        var optimizer = try AnyOptimizer<Float>(
            name: settings.optimizer, learningRate: settings.learningRate, momentum: settings.momentum,
            weightDecay: settings.l2)
        var configuration = try fitConfiguration(loss: loss)
        configuration.healthProbeExamples = Self.healthProbeExamples
        configuration.overlapsGradientSums = Self.overlapsGradientSums
        try checkMemory(of: model, inputShape: data.inputShape, batchSize: configuration.largestBatch(of: data.training.count),
                        optimizerSlots: 2)
        let pictures = PlanePictures(model: model, data: try trainedExamples(data), epochs: settings.epochs)
        let callbacks: [any TrainingCallback] = [ProgressPrinter(style: style, epochs: settings.epochs, showsHealth: showsHealth,
                                                                 initializer: try reluInitializer())]
            + (pictures.map { [$0] } ?? [])
        var trainer: Trainer<Sequential<Float>, AnyOptimizer<Float>>
        // Whether this run made its directory (removed again if training fails).
        var createdDirectory = false
        if resuming {
            // A run that ended (or was never stopped) has no checkpoint: say which.
            if !FileManager.default.fileExists(atPath: file(Self.checkpointFileName)) {
                let finished = FileManager.default.fileExists(atPath: file(ModelFile.weightsFileName))
                throw ValidationError(finished
                    ? "--resume: \(directory.path) finished its training (its \(ModelFile.weightsFileName) is written and no checkpoint is left): there is nothing to resume"
                    : "--resume: \(directory.path) has no \(Self.checkpointFileName): a run leaves one only when a stop (Ctrl-C, SIGTERM) interrupts it")
            }
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
            if isPrimary {
                createdDirectory = !FileManager.default.fileExists(atPath: directory.path)
                try ModelFile.createDirectory(directory.path)
                try writeAtomically(Self.settingsJSON(settings), to: file(Self.settingsFileName))
            }
            trainer = Trainer(model: model, optimizer: optimizer, configuration: configuration, callbacks: callbacks)
            if style != .quiet && style != .json {
                print(taskLine(data.training))
                if let large = LargeFeature(data.training, over: LargeFeature.warningLimit) { print("warning: \(large.hint)") }
                if let standardization = data.training.targetStandardization {
                    print("target standardised: mean \(format(standardization.mean)), standard deviation \(format(standardization.standardDeviation)); predictions are in the original units")
                } else if data.training.task == .regression && settings.standardizeTarget == nil {
                    print("target not standardised: the model's last activation outputs only values ≥ 0 (--standardize-target to override)")
                    if let reach = Self.outputReachWarning(model, targets: data.training) { print("warning: \(reach)") }
                }
                if let startingPoint {
                    let kept = data.training.standardization != nil ? ", with its standardisation of the features" : ""
                    print("starting from the trained weights in \(startingPoint)\(kept)")
                }
                print("loss: \(loss.displayName)")
                print("BLAS: \(BLAS.info)")
                if let world, world.size > 1 {
                    print("MPI: \(world.size) ranks, each a share of every batch of \(settings.batchSize) (\(world.libraryVersion))")
                }
                print(try model.summary(inputShape: data.inputShape))
            }
        }
        installInterruptHandler()
        trainer.stopRequested = { interruptCount > 0 }
        trainer.reducer = world
        let trainingStart = Date()
        let history: History
        do {
            history = try trainer.run(data: data.training, validationData: data.validation)
        } catch {
            // A run that failed (its loss NaN) leaves no directory holding only its settings,
            // which compare, evaluate and --resume would each take for something else.
            if createdDirectory { try? FileManager.default.removeItem(at: directory) }
            if let hint = DivergenceHint(error, features: data.training) { throw hint }
            throw error
        }
        if let world, world.size > 1, isPrimary, style != .quiet && style != .json {
            let seconds = Date().timeIntervalSince(trainingStart)
            // MPI's time includes waiting for the slowest rank; part of it runs beside the backward pass.
            print(String(format: "MPI: %d sums, %.3f s in MPI_Allreduce; the training thread waited %.3f s for them (%.0f %% of the %.3f s of training; gradient sums %@)",
                         world.sums, world.secondsInSums, world.secondsWaiting, 100 * world.secondsWaiting / seconds, seconds,
                         Self.overlapsGradientSums ? "overlapping the backward pass" : "after the backward pass"))
        }
        // Every rank holds the same weights; rank 0 writes them.
        guard isPrimary else {
            if history.isInterrupted { throw ExitCode(130) }
            return
        }
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
        try ModelFile.save(model, architecture: architecture(of: model, data: data), to: directory.path)
        try? FileManager.default.removeItem(atPath: file(Self.checkpointFileName))
        if let best = history.bestEpoch, style != .quiet && style != .json {
            let monitored = data.validation != nil || settings.validationSplit > 0 ? "validation loss" : "training loss"
            print("early stopping: kept the weights of epoch \(best + 1) (lowest \(monitored)), \(history.stoppedEarly ? "stopped after epoch \(history.epochs.count)" : "trained all \(history.epochs.count) epochs")")
        }
        try finish(model: model, loss: loss, history: history, data: data, style: style, pictures: pictures)
    }

    /// model.json: the layers, and what the data was (task, classes, feature and target
    /// names, standardisations), so that evaluate and predict read new data the same way.
    func architecture(of model: Sequential<Float>, data: PreparedData) throws -> ModelArchitecture {
        let schema = data.schema
        var architecture = try ModelArchitecture(
            describing: model, inputShape: data.inputShape, classNames: schema.classes?.names,
            preprocessing: schema.standardization.map { try JSONValue(encoding: $0) })
        architecture.task = schema.task?.rawValue
        architecture.featureNames = schema.featureNames
        architecture.targetName = schema.targetName
        architecture.targetPreprocessing = try schema.targetStandardization.map { try JSONValue(encoding: $0) }
        return architecture
    }

    /// The line that says which task was chosen, why, and how to choose the other.
    func taskLine(_ data: Dataset<Float>) -> String {
        guard let task = data.task else { return "task: none (the data has no targets)" }
        let other: LearningTask = task == .classification ? .regression : .classification
        let why = settings.task != nil ? "as asked with --task" : (data.taskReason ?? "from the data")
        var line = "task: \(task.rawValue) (\(why)"
        let textLabels = data.classes.map { $0.names.contains { Double($0) == nil } } ?? false
        // Only where --task is taken: csv: and npy: data.
        let overridable = (try? DataSource(settings.data))?.acceptsTask ?? false
        if settings.task == nil && overridable && !data.featureNames.isEmpty && !textLabels { line += "; --task \(other.rawValue) to override" }
        line += ")"
        if let classes = data.classes {
            line += "; \(classes.count) classes: \(classes.names.prefix(12).joined(separator: ", "))\(classes.count > 12 ? ", …" : "")"
        }
        return line
    }

    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Evaluates on the test set (or the training set), writes history.csv and
    /// report.html, prints the result.
    func finish(model: Sequential<Float>, loss: Loss, history: History, data: PreparedData, style: ProgressStyle, pictures: PlanePictures? = nil) throws {
        try ModelFile.createDirectory(directory.path)
        try writeAtomically(Data(historyCSV(history).utf8), to: file("history.csv"))
        try writeAtomically(Data(stepsCSV(history).utf8), to: file("steps.csv"))
        // Without a test set, the result is the training set's: the examples trained on.
        let test = try data.test ?? trainedExamples(data)
        let name = data.test == nil ? "training" : "test"
        let metrics = try evaluate(model, on: test, loss: loss)
        let outputNames = DataSchema.outputNames(targetName: data.training.targetName, count: metrics.outputs?.count ?? 1)
        var report = Report(
            title: "Backprop: \(settings.model) on \(settings.data)", history: history, classNames: data.classNames,
            testMetrics: metrics, summary: try model.summary(inputShape: data.inputShape),
            settings: settingsTable(loss: loss, data: data, history: history))
        report.evaluationName = "\(name) set"
        report.lossUnits = lossUnits(data)
        report.initializer = try reluInitializer()
        report.probeSize = min(Self.healthProbeExamples, data.training.count)
        report.pictures = pictures?.html() ?? ""
        if case .classes(let labels, let classes)? = test.targets {
            let predicted = model.predictedClasses(test.features)
            report.confusion = confusionMatrix(predicted: predicted, actual: labels, classes: classes.count)
            if let size = data.imageSize {
                let pixels = size.width * size.height
                let wrong = zip(predicted, labels).enumerated().filter { $0.element.0 != $0.element.1 }.prefix(40)
                report.misclassified = wrong.map { index, pair in
                    Report.Example(pixels: Array(test.features.scalars[(index * pixels)..<((index + 1) * pixels)]),
                                   width: size.width, height: size.height, predicted: pair.0, actual: pair.1)
                }
                report.filters = firstLayerFilters(model, size: size)
            }
        } else if case .values(let values)? = test.targets {
            let restore = test.targetStandardization
            let predicted = try model.predictedValues(test.features, targetStandardization: restore).doubleScalars
            let actual = try (restore.map { try $0.restored(values) } ?? values).doubleScalars
            let columns = values.count / max(test.count, 1)
            let names = columns == 1 ? [data.training.targetName ?? "target"] : outputNames
            report.regression = names.enumerated().map { column, name in
                func ofColumn(_ all: [Double]) -> [Double] { stride(from: column, to: all.count, by: columns).map { all[$0] } }
                return Report.Regression(predicted: ofColumn(predicted), actual: ofColumn(actual), targetName: name)
            }
        }
        try writeAtomically(Data(report.html().utf8), to: file("report.html"))
        try recordResult(metrics, set: name, examples: test.count)
        if style == .json {
            var object = metricsJSON(metrics, prefix: "\(name)_", outputNames: outputNames)
            object["\(name)_examples"] = test.count
            object["run_directory"] = directory.path
            object["task"] = data.training.task?.rawValue
            if !data.classNames.isEmpty { object["classes"] = data.classNames }
            if let best = history.bestEpoch { object["best_epoch"] = best + 1 }
            let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: json, as: UTF8.self))
        } else {
            print("\(name) \(metricsText(metrics, prefix: name, outputNames: outputNames, lossUnits: lossUnits(data))); run directory \(directory.path)")
        }
    }

    /// Adds the final result to run.json as `result`: the set evaluated (`test`, or
    /// `training` without test data), its examples and metrics (the keys of
    /// ``metricsJSON(_:prefix:)``), for compare and for scripts; keys sorted, so that the
    /// same run writes the same file.
    func recordResult(_ metrics: Metrics, set: String, examples: Int) throws {
        let path = file(Self.settingsFileName)
        let saved = try (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? JSONEncoder().encode(settings)
        var object = (try JSONSerialization.jsonObject(with: saved) as? [String: Any]) ?? [:]
        var result = metricsJSON(metrics, prefix: "")
        result["set"] = set
        result["examples"] = examples
        object["result"] = result
        try writeAtomically(JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), to: path)
    }

    /// The examples trained on: the training data less what --validation-split holds out
    /// of it (split as the trainer does).
    func trainedExamples(_ data: PreparedData) throws -> Dataset<Float> {
        guard data.validation == nil, settings.validationSplit > 0 else { return data.training }
        return try data.training.split(validationFraction: settings.validationSplit, seed: settings.seed &+ 1).training
    }

    /// What the loss is measured in when that is not the target's units: a regression
    /// trained on its standardised target.
    func lossUnits(_ data: PreparedData) -> String? {
        data.training.targetStandardization == nil ? nil : "standardised target"
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

    /// The settings in force, as the report shows them: the loss used, momentum only for
    /// optimisers that have it, the standardisations applied.
    func settingsTable(loss: Loss, data: PreparedData, history: History) -> [(String, String)] {
        var rows: [(String, String)] = [("data", settings.data)]
        if let validation = settings.validationData { rows.append(("validation data", validation)) }
        if let test = settings.testData { rows.append(("test data", test)) }
        rows += [("task", taskLine(data.training).dropFirst(6).description), ("model", settings.model),
                 ("loss", loss.displayName), ("optimizer", settings.optimizer),
                 ("learning rate", "\(settings.learningRate) (\(settings.schedule))")]
        if AnyOptimizer<Float>.usesMomentum(settings.optimizer) { rows.append(("momentum", "\(settings.momentum)")) }
        rows += [("L2 λ", "\(settings.l2)"), ("batch size", settings.batchSize), ("epochs", "\(settings.epochs)"),
                 ("initialiser", settings.initializer ?? "by activation"), ("seed", "\(settings.seed)")]
        if let standardization = data.training.standardization {
            let scope = switch standardization.scope {
            case .perFeature: "per feature"
            case .perChannel: "per channel, over all its pixels"
            case .global: "one mean and deviation over all values"
            }
            rows.append(("features standardised", scope))
        }
        if data.training.targetStandardization != nil { rows.append(("target standardised", "yes; metrics in original units")) }
        if data.validation == nil { rows.append(("validation split", "\(settings.validationSplit)")) }
        var stopping = settings.earlyStopping.map { "patience \($0)" } ?? "off"
        if let best = history.bestEpoch { stopping += "; kept epoch \(best + 1)" }
        rows += [("early stopping", stopping), ("BLAS", BLAS.info.description)]
        return rows
    }
}

func format(_ values: [Double]) -> String {
    values.map { String(format: "%.6g", $0) }.joined(separator: ", ")
}

/// Metrics as words: accuracy for classification; R², RMSE, MAE for regression, each
/// output's apart when there are several (`outputNames` names them); `lossUnits` follows
/// a loss not in the target's units.
func metricsText(_ metrics: Metrics, prefix name: String, outputNames: [String] = [], lossUnits: String? = nil) -> String {
    var text = String(format: "loss %.4f", metrics.loss) + (lossUnits.map { " (\($0))" } ?? "")
    if let accuracy = metrics.accuracy { text += String(format: ", \(name) accuracy %.4f", accuracy) }
    if let outputs = metrics.outputs {
        text += ", \(name) R² " + meanRSquaredText(metrics.rSquared, outputs: outputs.count)
        for (output, label) in zip(outputs, outputLabels(outputNames, count: outputs.count)) {
            text += "; \(label): R² \(rSquaredText(output.rSquared))" + String(format: ", RMSE %.6g, MAE %.6g", output.rootMeanSquaredError,
                                                                            output.meanAbsoluteError)
        }
        return text
    }
    if let r2 = metrics.rSquared { text += ", \(name) R² \(rSquaredText(r2))" }
    if let rmse = metrics.rootMeanSquaredError { text += String(format: ", RMSE %.6g", rmse) }
    if let mae = metrics.meanAbsoluteError { text += String(format: ", MAE %.6g", mae) }
    return text
}

/// R² in words: undefined (not a number) for a target that has one value in every example,
/// which leaves nothing to explain.
func rSquaredText(_ value: Double) -> String {
    value.isFinite ? String(format: "%.4f", value) : "undefined (constant target)"
}

/// The mean R² of several outputs in words: undefined when one of them is.
func meanRSquaredText(_ value: Double?, outputs: Int) -> String {
    value.flatMap { $0.isFinite ? String(format: "%.4f (mean of %d outputs)", $0, outputs) : nil }
        ?? "undefined (mean of \(outputs) outputs, one of whose targets is constant)"
}

/// `names` when there is one per output, else `y_0`, `y_1`, ….
func outputLabels(_ names: [String], count: Int) -> [String] {
    names.count == count ? names : DataSchema.outputNames(targetName: nil, count: count)
}

/// Metrics as JSON keys with a prefix (`test_accuracy`, `validation_r2`, …); several
/// outputs as `PREFIXoutputs`, one object per output, and no pooled MSE, RMSE or MAE.
func metricsJSON(_ metrics: Metrics, prefix: String, outputNames: [String] = []) -> [String: Any] {
    var object: [String: Any] = ["\(prefix)loss": metrics.loss]
    object["\(prefix)accuracy"] = metrics.accuracy
    object["\(prefix)r2"] = metrics.rSquared.flatMap { $0.isFinite ? $0 : nil }
    if let outputs = metrics.outputs {
        object["\(prefix)outputs"] = zip(outputs, outputLabels(outputNames, count: outputs.count)).map { output, name in
            // R² left out where it is undefined (a constant target), as for one output.
            var entry: [String: Any] = ["name": name, "mse": output.meanSquaredError, "rmse": output.rootMeanSquaredError,
                                        "mae": output.meanAbsoluteError]
            if output.rSquared.isFinite { entry["r2"] = output.rSquared }
            return entry
        }
        return object
    }
    object["\(prefix)mse"] = metrics.meanSquaredError
    object["\(prefix)rmse"] = metrics.rootMeanSquaredError
    object["\(prefix)mae"] = metrics.meanAbsoluteError
    return object
}

/// `normal:0.1`, `uniform:-0.1:0.1`, `xavier-normal`, `he-uniform`, `zeros`, `constant:0.5`.
func parseInitializer(_ text: String) throws -> Initializer {
    let parts = text.split(separator: ":").map(String.init)
    func fail() -> ValidationError {
        ValidationError("--init: unknown initialiser '\(text)' (normal:SIGMA, uniform:A:B, constant:C, zeros, xavier-normal, xavier-uniform, he-normal, he-uniform)")
    }
    var values: [Double] = []
    for part in parts.dropFirst() {
        // A word after the name that is no number at all (`he-normal:x`) is no initialiser.
        guard Double(part) != nil else { throw fail() }
        if let fault = FlagNumber.fault(part) { throw ValidationError("--init: in '\(text)', '\(part)' \(fault)") }
        values.append(Double(decimal: part) ?? 0)
    }
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
    try AtomicFile.write(data, to: path)
}

/// Throws what ``writeAtomically(_:to:)`` would for `path` (a directory, or in none),
/// before any work.
func checkWritable(_ path: String) throws {
    try AtomicFile.checkTarget(path)
}

/// The largest feature value of data that is not standardised, when it is large: the
/// usual cause of a loss that explodes, and what removes it.
struct LargeFeature {
    let name: String?
    let value: Float

    /// Nil for standardised data, images (whose pixels are scaled already) and data whose
    /// every feature is at most `limit` in magnitude.
    init?(_ data: Dataset<Float>, over limit: Float) {
        guard data.standardization == nil, data.features.rank == 2, data.features.count > 0 else { return nil }
        let scalars = data.features.scalars
        var index = 0
        for i in scalars.indices where abs(scalars[i]) > abs(scalars[index]) { index = i }
        guard abs(scalars[index]) > limit else { return nil }
        let column = index % data.features.shape[1]
        name = data.featureNames.indices.contains(column) ? data.featureNames[column] : nil
        value = scalars[index]
    }

    /// Features larger than this in magnitude get a warning before training.
    static let warningLimit: Float = 100

    var hint: String {
        let feature = name.map { "feature '\($0)'" } ?? "a feature"
        return "the features are in their own units (\(feature) reaches \(value)), so one learning rate cannot suit them all: --standardize scales each to mean 0 and standard deviation 1"
    }
}

/// A loss that became NaN or infinite, with ``LargeFeature``'s hint added to its line.
struct DivergenceHint: Error, CustomStringConvertible {
    let error: TrainingError
    let feature: LargeFeature

    /// Nil unless `error` is a non-finite loss and a feature of `data` exceeds 10 in magnitude.
    init?(_ error: TrainingError, features data: Dataset<Float>) {
        guard case .nonFiniteLoss = error, let feature = LargeFeature(data, over: 10) else { return nil }
        (self.error, self.feature) = (error, feature)
    }

    var description: String { "\(error.description); \(feature.hint)" }
}
