import ArgumentParser
import Foundation
import ModelFiles
import NeuralNetworks
import Tensors

/// What `--model` names, recognised by what it is: a run directory (model.json and
/// model.safetensors), a model.json file, a preset, a dense spec (`784-300:relu-10:softmax`)
/// or a network spec (`1x28x28 conv16k3p1 relu maxpool2 32:relu 10:softmax`). Every
/// command takes every form; the ones without trained weights are refused where weights
/// are needed.
enum ModelChoice {
    case saved(directory: String)
    case architecture(file: String)
    case preset(String)
    case dense(ModelSpec)
    case network(NetworkSpec)

    static let formsHelp = """
        a preset (\((ModelSpec.presetNames + ModelSpec.networkPresetNames).joined(separator: ", "))), a dense spec such as \
        784-300:relu-10:softmax, a network spec such as "1x28x28 conv16k3p1 relu maxpool2 32:relu 10:softmax" \
        (words: N or N:act dense, convC[kK][sS][pP][dD][nobias], maxpoolK[sS][pP][ceil], avgpoolK[sS][pP][ceil], gap, flatten, \
        bn, dropoutP, activations such as relu, gelu, gelutanh, leakyrelu0.2), a model.json file, or a run directory
        """

    init(_ text: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                let json = URL(fileURLWithPath: text).appendingPathComponent(ModelFile.architectureFileName).path
                let weights = URL(fileURLWithPath: text).appendingPathComponent(ModelFile.weightsFileName).path
                guard FileManager.default.fileExists(atPath: json) || FileManager.default.fileExists(atPath: weights) else {
                    throw ValidationError("--model: \(Self.unfinishedRun(text) ?? "\(text) is a directory without \(ModelFile.architectureFileName); give a run directory written by backprop train")")
                }
                self = .saved(directory: text)
            } else if text.hasSuffix(".safetensors") {
                self = .saved(directory: URL(fileURLWithPath: text).deletingLastPathComponent().path)
            } else {
                // An architecture is a JSON object; any other file (a CSV, a picture) is
                // named as what it is not, before it is read as one.
                let start = FileHandle(forReadingAtPath: text).flatMap { try? $0.read(upToCount: 64) } ?? Data()
                guard String(decoding: start, as: UTF8.self).drop(while: { $0.isWhitespace || $0 == "\u{FEFF}" }).first == "{" else {
                    throw ValidationError("--model: \(text) is a file but not a model.json (a JSON object); give \(Self.formsHelp)")
                }
                self = .architecture(file: text)
            }
            return
        }
        if text.hasSuffix(".json") || text.hasSuffix(".safetensors") || text.hasSuffix("/") {
            throw ValidationError("--model: \(text): no such file")
        }
        if ModelSpec.preset(text) != nil || ModelSpec.networkPresetNames.contains(text) {
            self = .preset(text)
            return
        }
        // Every spec starts with the example's size: a word that does not is a path that
        // is not there, or a misspelt preset.
        if let first = text.trimmingCharacters(in: .whitespaces).first, !first.isNumber {
            let presets = (ModelSpec.presetNames + ModelSpec.networkPresetNames).joined(separator: ", ")
            throw ValidationError("--model: '\(text)' is not a file or directory here, nor a preset (\(presets)); a model spec starts with the example's size, such as 784-300:relu-10:softmax or \"1x28x28 conv16k3p1 relu maxpool2 10:softmax\"")
        }
        do {
            self = NetworkSpec.looksLike(text) ? .network(try NetworkSpec(parsing: text)) : .dense(try ModelSpec(parsing: text))
        } catch {
            // The forms of a model, 600 characters, help with a word that is not
            // understood; after a setting out of range or a shape that does not fit, the
            // message has said all there is.
            let aboutTheForm = ["must start with", "is not a layer", "not one of its options", "unknown activation", "no layers after"]
                .contains { "\(error)".contains($0) } && !"\(error)".contains("; write ")
            throw ValidationError(aboutTheForm ? "--model: \(error) (a model is \(Self.formsHelp))" : "--model: \(error)")
        }
    }

    /// What a run directory of backprop train that holds no model yet is, and what to do:
    /// an interrupted run (its checkpoint) is resumed, a run that ended before any save
    /// (killed, or failed) is trained again; nil for a directory that is no run.
    static func unfinishedRun(_ directory: String) -> String? {
        let file = { (name: String) in URL(fileURLWithPath: directory).appendingPathComponent(name).path }
        guard FileManager.default.fileExists(atPath: file(TrainingJob.settingsFileName)) else { return nil }
        if FileManager.default.fileExists(atPath: file(TrainingJob.checkpointFileName)) {
            return "\(directory) is a run that was interrupted before it finished (it holds \(TrainingJob.checkpointFileName), no \(ModelFile.weightsFileName) yet); finish it with backprop train --resume \(directory)"
        }
        return "\(directory) is a run that ended before it saved a model (killed, or failed: it holds \(TrainingJob.settingsFileName) alone); train it again"
    }

    /// Whether the model file beside the architecture holds trained weights.
    var hasWeights: Bool {
        switch self {
        case .saved: return true
        case .architecture(let file):
            let weights = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(ModelFile.weightsFileName).path
            return URL(fileURLWithPath: file).lastPathComponent == ModelFile.architectureFileName
                && FileManager.default.fileExists(atPath: weights)
        default: return false
        }
    }

    /// The run directory holding trained weights, for evaluate and predict; a form
    /// without weights is a one-line error saying what to give instead.
    func trainedDirectory(for command: String) throws -> String {
        switch self {
        case .saved(let directory): return directory
        case .architecture(let file) where hasWeights: return URL(fileURLWithPath: file).deletingLastPathComponent().path
        case .architecture(let file):
            throw ValidationError("--model: \(command) needs trained weights: \(file) is an architecture without \(ModelFile.weightsFileName) beside it (train it first: backprop train --model \(file))")
        default:
            throw ValidationError("--model: \(command) needs trained weights, and \(describedForm) has none; train it first (backprop train --model …) and give the run directory")
        }
    }

    var describedForm: String {
        switch self {
        case .preset(let name): return "the preset '\(name)'"
        case .dense(let spec): return "the spec '\(spec)'"
        case .network(let spec): return "the spec '\(spec)'"
        case .saved(let directory): return directory
        case .architecture(let file): return file
        }
    }

    /// The per-example input shape the model declares, when it declares one (the dense
    /// presets adapt to the data, and declare none; on their own they take 784 features).
    var declaredInputShape: [Int]? {
        get throws {
            switch self {
            case .preset(let name): return ModelSpec.networkInputShape(preset: name)
            case .dense(let spec): return [spec.inputSize]
            case .network(let spec): return spec.inputShape
            case .architecture(let file): return try ModelArchitecture(contentsOf: file).inputShape
            case .saved(let directory):
                return try ModelFile.architecture(in: directory).inputShape
            }
        }
    }

    /// The model as declared (presets with their defaults: 10 softmax outputs; the dense
    /// ones for `inputShape`'s features), as `S`, with fresh parameters from `seed` or,
    /// for a saved model, its trained weights.
    func build<S: TensorScalar>(_: S.Type, seed: UInt64, inputShape: [Int]? = nil) throws -> Sequential<S> {
        switch self {
        case .preset(let name):
            if let network = ModelSpec.network(preset: name, as: S.self, seed: seed) { return network }
            let spec = ModelSpec.preset(name, inputSize: inputShape.map { Memory.product($0) } ?? 784)!
            try spec.checkMemory(S.self)
            return spec.build(S.self, seed: seed)
        case .dense(let spec):
            try spec.checkMemory(S.self)
            return spec.build(S.self, seed: seed)
        case .network(let spec):
            try Memory.checkParameters(spec.parameterCount, of: S.self, model: "model spec '\(spec)'")
            return spec.build(S.self, seed: seed)
        case .architecture(let file):
            return try ModelArchitecture(contentsOf: file).makeModel(S.self, seed: seed, file: file)
        case .saved(let directory):
            let loaded = try ModelFile.load(Float.self, from: directory)
            if let text = loaded.note { note(text) }
            return try loaded.model.converted(to: S.self)
        }
    }
}

extension Sequential {
    /// The same network with its parameters and batch-norm statistics converted to `T`
    /// (a Float model checked in Float64, for instance), through its state dictionary.
    func converted<T: TensorScalar>(to _: T.Type) throws -> Sequential<T> {
        if let same = self as? Sequential<T> { return same }
        let copy = Sequential<T>(configurations: try layerConfigurations())
        var state = StateDictionary.safeTensors(of: self)
        for (name, entry) in state.tensors {
            let scalars = entry.tensor(Float.self)?.scalars.map { T($0) } ?? entry.tensor(Double.self)?.scalars.map { T($0) }
            if let scalars { state.tensors[name] = .init(Tensor<T>(shape: entry.shape, scalars: scalars)) }
        }
        try StateDictionary.load(state, into: copy, file: "the converted model")
        return copy
    }
}
