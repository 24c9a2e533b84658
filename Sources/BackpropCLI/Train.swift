import ArgumentParser
import Datasets
import DistributedTraining
import Foundation
import Kernels
import NeuralNetworks
import Tensors
import Training

/// What `backprop train` was asked to do; saved in the run directory so that
/// `--resume` finishes the same run.
struct TrainingSettings: Codable, Equatable {
    var data: String
    var target: String?
    var task: String?
    var classNames: String?
    var validationData: String?
    var testData: String?
    /// nil when neither flag was given: on for regression, unless the model's outputs are
    /// only ≥ 0.
    var standardizeTarget: Bool?
    var model: String
    var loss: String?
    var optimizer: String
    var learningRate: Double
    var momentum: Double
    var l2: Double
    var batchSize: String
    var epochs: Int
    var initializer: String?
    var seed: UInt64
    var validationSplit: Double
    var earlyStopping: Int?
    var standardize: Bool
    var schedule: String
    /// Toy data (nil in runs saved before the flags existed: the defaults).
    var samples: Int?
    var noise: Double?
    /// BLAS threads the run used (nil in runs saved before it was recorded): the split of
    /// each batch over threads depends on it, so `--resume` takes it up again.
    var threads: Int?
    /// The directory train ran in, against which the relative paths above are read again
    /// by `--resume` from another one (nil in runs saved before it was recorded).
    var workingDirectory: String?
}

extension TrainingSettings {
    /// The files and folders a data flag's value names (none for fashion-mnist and toy sets).
    static func paths(ofData text: String) -> [String] {
        if text == "fashion-mnist" || text.hasPrefix("toy:") { return [] }
        if text.hasPrefix("csv:") { return [String(text.dropFirst(4))] }
        if text.hasPrefix("npy:") { return text.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return [text]
    }

    /// These settings read from `directory`, the one the run started in: every relative
    /// path of its data flags made absolute against it, and so the model and the
    /// class-names file where that names one there. Throws one line, naming the flag and
    /// the path tried, for data that is not there.
    func resolvingPaths(against directory: String) throws -> TrainingSettings {
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : base.appendingPathComponent(path).path }
        func data(_ text: String, flag: String) throws -> String {
            let paths = Self.paths(ofData: text)
            if let missing = paths.first(where: { !FileManager.default.fileExists(atPath: absolute($0)) }) {
                throw ValidationError("--resume: the run reads \(flag) \(text), relative to \(directory), where it started; \(absolute(missing)) does not exist")
            }
            guard !paths.isEmpty else { return text }
            let prefix = text.hasPrefix("csv:") ? "csv:" : text.hasPrefix("npy:") ? "npy:" : ""
            return prefix + paths.map(absolute).joined(separator: ",")
        }
        func existing(_ text: String) -> String { FileManager.default.fileExists(atPath: absolute(text)) ? absolute(text) : text }
        var resolved = self
        resolved.data = try data(self.data, flag: "--data")
        resolved.validationData = try validationData.map { try data($0, flag: "--validation-data") }
        resolved.testData = try testData.map { try data($0, flag: "--test-data") }
        resolved.model = existing(model)
        resolved.classNames = classNames.map(existing)
        return resolved
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a network on real data (Fashion-MNIST by default) and write a run directory.",
        discussion: """
            The run directory (--out) receives model.safetensors, model.json, history.csv \
            and report.html. Ctrl-C stops at the next batch boundary and writes a checkpoint; \
            --resume DIR finishes that run with the same weights as an uninterrupted one.

            Examples:
              backprop train
              backprop train --model cs229 --optimizer sgd --lr 5 --batch-size 1000 --epochs 10
              backprop train --model 784-300:relu-10:softmax --optimizer adam --lr 0.001
              backprop train --model logistic --batch-size full --epochs 50 --lr 0.5
              backprop train --data csv:flowers.csv --target species --model 4-16:relu-3:softmax --test-data csv:flowers-test.csv
              backprop train --data csv:houses.csv --target price --model mlp --optimizer adam --lr 0.001
              backprop train --data my-images/ --class-names cat,dog --model 784-64:relu-1:sigmoid
              backprop train --data toy:spirals --model "2 64:relu 64:relu 3:softmax" --optimizer adam --lr 0.01 --epochs 300
              backprop train --resume runs/demo

            The task is classification or regression: text labels, and integer targets with \
            few distinct values (at most 20), are classes; other numbers are regression \
            values (--task overrides; train prints which it chose and why). Classes are the \
            distinct labels found, in numeric or alphabetical order (--class-names names \
            them). The default loss follows the model: softmax cross-entropy over K outputs, \
            binary cross-entropy for one sigmoid output and two classes, mean squared error \
            for regression, whose targets are standardised (predictions and metrics in the \
            original units).
            """
    )

    @Option(help: "Data: 'fashion-mnist', a directory of MNIST-format files, csv:PATH (with --target), npy:X.npy,y.npy, or toy:NAME (\(ToyData.names.joined(separator: ", ")); toy:spirals:K for K arms).")
    var data: String = "fashion-mnist"

    @Option(parsing: .unconditional, help: "Toy data: examples in the training split and in the test split (default 400).")
    var samples: Int?

    @Option(parsing: .unconditional, help: "Toy data: standard deviation of the noise added to each coordinate (default: the set's own).",
            transform: FlagNumber.parse)
    var noise: Double?

    @Option(parsing: .unconditional, help: "The target column of a CSV file, by name or index (negative counts from the end; a column named like the number is taken first).")
    var target: String?

    @Option(help: "classification or regression (default: inferred from the target, and printed).")
    var task: String?

    @Option(help: "Class names: NAME,NAME,… or a file with one per line; integer label i is the i-th name, and K integer labels that are not 0..<K (10…16) are named in numeric order.")
    var classNames: String?

    @Option(help: "Validation data, read like the training data (same formats as --data; a folder's test split).")
    var validationData: String?

    @Option(help: "Test data for the final result and the report (same formats as --data; a folder's test split).")
    var testData: String?

    @Flag(help: "Standardise features with the training data's mean and standard deviation: tables per feature (column), images [N, C, H, W] (MNIST-format folders, 4-D .npy) per channel over all its pixels.")
    var standardize = false

    @Flag(inversion: .prefixedNo, help: "Standardise regression targets (the model learns standardised values; predictions and metrics are in the original units). Default: on, unless the model's last activation outputs only values ≥ 0 (ReLU, sigmoid).")
    var standardizeTarget: Bool?

    @Option(help: "Model: \(ModelChoice.formsHelp) (its trained weights are the starting point).")
    var model: String = "mlp"

    @Option(help: "Loss: cross-entropy, binary-cross-entropy, squared, mse. Default: cross-entropy for classes (binary cross-entropy for one output and two classes), mse for regression.")
    var loss: String?

    @Option(help: "Optimizer: \(AnyOptimizer<Float>.names.joined(separator: ", ")).")
    var optimizer: String = "momentum"

    @Option(name: .customLong("lr"), parsing: .unconditional, help: "Learning rate α. (default: 0.05)", transform: FlagNumber.parse)
    var learningRate: Double = 0.05

    @Option(parsing: .unconditional, help: "Momentum β, in [0, 1) (momentum, notes-momentum, nesterov). (default: 0.9)",
            transform: FlagNumber.parse)
    var momentum: Double = 0.9

    @Option(parsing: .unconditional, help: "L2 regularisation λ on the weights (eq. 3.34). (default: 0)", transform: FlagNumber.parse)
    var l2: Double = 0

    @Option(parsing: .unconditional, help: "Examples per mini-batch: 1 is stochastic gradient descent, 'full' is (full-batch) gradient descent.")
    var batchSize: String = "64"

    @Option(parsing: .unconditional, help: "Passes over the training data.")
    var epochs: Int = 10

    @Option(help: "Learning-rate schedule: constant, cosine (to 0 over the run), step:EPOCHS:FACTOR (the rate times FACTOR every EPOCHS epochs), exponential:GAMMA (times GAMMA every epoch); FACTOR and GAMMA in (0, 1].")
    var schedule: String = "cosine"

    @Option(help: "Weight initialiser of every dense and convolutional layer (biases start at 0): normal:SIGMA, uniform:A:B, constant:C, xavier-normal, xavier-uniform, he-normal, he-uniform, zeros (default: by activation, He for convolutions). Not with a trained --model.")
    var `init`: String?

    @Option(parsing: .unconditional, help: "Seed of every random choice (initialisation, shuffling, validation split).")
    var seed: UInt64 = 42

    @Option(parsing: .unconditional, help: "Threads (default: BACKPROP_THREADS, or the machine's cores; at most the machine's cores: a larger count is lowered to them, with a note): BLAS's, which split each product of a dense network; a convolutional network trains each batch in this many shares side by side instead.")
    var threads: Int?

    @Option(parsing: .unconditional, help: "Fraction of the training data held out for validation, in [0, 1). (default: 0)",
            transform: FlagNumber.parse)
    var validationSplit: Double = 0

    @Option(parsing: .unconditional, help: "Stop after PATIENCE epochs without improvement, keeping the best weights.")
    var earlyStopping: Int?

    @Option(help: "Run directory (default: runs/<date-time>).")
    var out: String?

    @Option(help: "Under mpirun: start summing each bucket of gradients over the ranks during the backward pass (on), only after it (off), or on where the machine has a core to spare for the communication thread beyond the ranks' BLAS threads (auto).")
    var overlap: Overlap = .auto

    enum Overlap: String, ExpressibleByArgument, CaseIterable { case auto, on, off }

    @Option(help: "Finish the interrupted run in this directory.")
    var resume: String?

    @Flag(help: "Print one JSON object per epoch.")
    var json = false

    @Flag(help: "Print only the final result.")
    var quiet = false

    @Flag(help: "After each epoch, print every layer's health: activation mean and spread, saturated and dead units, ‖δ‖, the update-to-weight ratio, distinct units. (Warnings are printed without it.)")
    var health = false

    var settings: TrainingSettings {
        TrainingSettings(
            data: data, target: target, task: task, classNames: classNames, validationData: validationData,
            testData: testData, standardizeTarget: standardizeTarget, model: model, loss: loss, optimizer: optimizer, learningRate: learningRate,
            momentum: momentum, l2: l2, batchSize: batchSize, epochs: epochs, initializer: `init`, seed: seed,
            validationSplit: validationSplit, earlyStopping: earlyStopping, standardize: standardize,
            schedule: schedule, samples: samples, noise: noise)
    }

    /// The flags that --resume leaves as they were: how the run is shown and run, not what it trains.
    static let flagsBesideResume: Set<String> = ["--resume", "--json", "--quiet", "--health", "--threads", "--overlap"]

    func validate() throws {
        if let resume {
            // A resumed run keeps its settings: a training flag given with --resume would be
            // ignored, so it is refused rather than dropped without a word.
            let given = CommandLine.arguments.drop { $0 != "train" }.dropFirst().filter { $0.hasPrefix("--") }
                .map { String($0.split(separator: "=", maxSplits: 1)[0]) }
                .filter { !Self.flagsBesideResume.contains($0) }
            if !given.isEmpty {
                let distinct = given.enumerated().filter { !given[..<$0.offset].contains($0.element) }.map(\.element)
                throw ValidationError("--resume finishes \(resume) with the settings it started with (its \(TrainingJob.settingsFileName)); \(distinct.joined(separator: ", ")) cannot change them: leave \(distinct.count == 1 ? "it" : "them") out, or start a new run")
            }
        }
        if resume == nil, let out { try Self.checkRunDirectory(out) }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize == "full" || (Int(batchSize) ?? 0) >= 1 else {
            throw ValidationError("--batch-size must be a positive integer or 'full', got '\(batchSize)'")
        }
        guard learningRate.isFinite && learningRate > 0 else {
            throw ValidationError("--lr must be a positive number, got \(learningRate)")
        }
        guard momentum >= 0 && momentum < 1 else { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        guard l2 >= 0 && l2.isFinite else { throw ValidationError("--l2 must be ≥ 0, got \(l2)") }
        guard validationSplit >= 0 && validationSplit < 1 else {
            throw ValidationError("--validation-split must be in [0, 1), got \(validationSplit)")
        }
        if let earlyStopping, earlyStopping < 1 { throw ValidationError("--early-stopping must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let samples, samples < 2 || samples > 10_000_000 { throw ValidationError("--samples must be in 2…10 000 000, got \(samples)") }
        if let noise, !(noise >= 0 && noise.isFinite) { throw ValidationError("--noise must be ≥ 0, got \(noise)") }
        if (samples != nil || noise != nil) && !data.hasPrefix("toy:") {
            throw ValidationError("--samples and --noise are for toy data (--data toy:NAME)")
        }
        if json && quiet { throw ValidationError("--json and --quiet exclude each other") }
        // Everything else that can be checked without the data, before any work.
        _ = try ModelChoice(model)
        _ = try DataSource(data)
        if let name = `init` { _ = try parseInitializer(name) }
        do {
            _ = try AnyOptimizer<Float>(name: optimizer, learningRate: learningRate, momentum: momentum, weightDecay: l2)
        } catch {
            throw ValidationError("--optimizer: \(error)")
        }
        let job = try TrainingJob(settings: settings, runDirectory: out ?? "runs")
        if let loss { _ = try TrainingJob.parseLoss(loss) }
        _ = try job.learningRateSchedule()
        _ = try settings.parsedTask()
        if let classNames { _ = try parseClassNames(classNames) }
        if let validationData { _ = try DataSource(validationData, flag: "--validation-data") }
        if let testData { _ = try DataSource(testData, flag: "--test-data") }
        if validationData != nil && validationSplit > 0 {
            throw ValidationError("--validation-data and --validation-split exclude each other")
        }
        if target != nil && !data.hasPrefix("csv:") {
            throw ValidationError("--target names a column of csv: data; \(data) has its own targets")
        }
        if data.hasPrefix("csv:") && target == nil {
            throw ValidationError("--data \(data) needs --target COLUMN (a name or an index)")
        }
    }

    /// `--threads`, at most this machine's cores: threads beyond them only take turns (and
    /// BLAS's spin while they wait), so a larger count is lowered to the cores, with a
    /// note rather than a refusal, as a script written for a larger machine still runs.
    static func threadCount(asked: Int) -> Int {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard asked > cores else { return asked }
        let counted = { (count: Int, word: String) in "\(count) \(word)\(count == 1 ? "" : "s")" }
        note("--threads \(asked) is more than this machine's \(counted(cores, "core")): training on \(counted(cores, "thread"))")
        return cores
    }

    /// `--out` must be new, empty, or a run's directory (holding its run.json), which the
    /// new run replaces: a folder of other files (data, documents) is never written over.
    static func checkRunDirectory(_ out: String) throws {
        guard !out.isEmpty else { throw ValidationError("--out: an empty path; give a directory for the run") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        let contents = ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        guard !contents.isEmpty, !contents.contains(TrainingJob.settingsFileName) else { return }
        let shown = contents.prefix(3).joined(separator: ", ") + (contents.count > 3 ? ", …" : "")
        throw ValidationError("--out: \(out) holds files that are not a Backprop run (\(shown)); give a new or empty directory, so that nothing in it is overwritten")
    }

    func run() throws {
        if let threads { BLAS.setThreadCount(Self.threadCount(asked: threads)) }
        // Under mpirun: every rank trains one model with the others (MPI loaded only now).
        var world: MPIWorld?
        if MPIWorld.isLaunched {
            do { world = try MPIWorld.start() } catch {
                FileHandle.standardError.write(Data("backprop: \(error)\n".utf8))
                throw ExitCode.failure
            }
            // The ranks on this machine share its cores (mpirun is told --bind-to none).
            if threads == nil { BLAS.setThreadCount(max(1, ProcessInfo.processInfo.activeProcessorCount / MPIWorld.localSize)) }
            TrainingJob.overlapsGradientSums = switch overlap {
            case .on: true
            case .off: false
            case .auto: ProcessInfo.processInfo.activeProcessorCount > MPIWorld.localSize * BLAS.threadCount
            }
        }
        do {
            try train(world: world)
        } catch let exit as ExitCode where exit.rawValue == 130 {
            // A stop every rank agreed on, at the same batch: each ends normally (rank 0
            // after writing the checkpoint).
            world?.finish()
            throw exit
        } catch {
            // One failing rank ends the job, rather than leave the others waiting in a sum.
            if let world, world.size > 1 { world.abort(code: (error as? ExitCode)?.rawValue ?? 1) }
            throw error
        }
        world?.finish()
    }

    private func train(world: MPIWorld?) throws {
        try CommandFailure.reporting {
            if let resume {
                let path = URL(fileURLWithPath: resume).appendingPathComponent(TrainingJob.settingsFileName)
                guard let data = try? Data(contentsOf: path),
                      let saved = try? JSONDecoder().decode(TrainingSettings.self, from: data) else {
                    throw ValidationError("--resume: \(resume) holds no run (\(TrainingJob.settingsFileName) is missing or unreadable)")
                }
                if let recorded = saved.threads {
                    if let threads, threads != recorded {
                        note("--threads \(threads): the run was started with \(recorded); its batches are now split another way, so the weights will not be those of a run never stopped, bit for bit")
                    } else if threads == nil {
                        BLAS.setThreadCount(recorded)
                    }
                }
                // Relative paths are the run's: read from the directory it started in.
                let here = FileManager.default.currentDirectoryPath
                let settings = try saved.workingDirectory.map { $0 == here ? saved : try saved.resolvingPaths(against: $0) } ?? saved
                var job = try TrainingJob(settings: settings, runDirectory: resume)
                try job.run(style: .detect(json: json, quiet: quiet), resuming: true, showsHealth: health, world: world)
            } else {
                var settings = settings
                settings.threads = BLAS.threadCount
                settings.workingDirectory = FileManager.default.currentDirectoryPath
                var job = try TrainingJob(settings: settings, runDirectory: out ?? defaultRunDirectory())
                try job.run(style: .detect(json: json, quiet: quiet), showsHealth: health, world: world)
            }
        }
    }

    private func defaultRunDirectory() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/\(formatter.string(from: Date()))"
    }
}

/// A line on standard error that changes nothing but tells the user something they
/// should know: `backprop: note: …`.
func note(_ text: String) {
    FileHandle.standardError.write(Data("backprop: note: \(text)\n".utf8))
}

/// A failure of the user's input: one line on standard error and exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    /// Runs `body`, turning the library's thrown errors into one readable line.
    static func reporting(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ValidationError {
            // After parsing, a bad flag value or file is one line too, without the usage.
            FileHandle.standardError.write(Data("backprop: \(error.message)\n".utf8))
            throw ExitCode.validationFailure
        } catch let error as ExitCode {
            throw error
        } catch {
            // Foundation's errors (files, JSON) in plain words; the library's own are already one line.
            let foundation = error is DecodingError || error is CocoaError || type(of: error) is NSError.Type
            let message = foundation ? PlainErrors.reason(error) : "\(error)"
            FileHandle.standardError.write(Data("backprop: \(PlainErrors.oneLine(message, limit: 400))\n".utf8))
            throw ExitCode.failure
        }
    }
}
