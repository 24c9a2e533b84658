import Foundation
import NeuralNetworks
import Tensors

/// Everything a training run needs to resume exactly, in one safetensors file written
/// atomically: the model's weights (named as in ``ModelFile``), the optimiser's state
/// (its names prefixed with `optimizer.`), and in the metadata the architecture, the
/// epoch, the shuffling generator's state, the dropout layers' generators and the
/// training loop's own progress (any JSON, such as Training's `TrainingProgress`).
public struct Checkpoint<Scalar: TensorScalar> {
    public var architecture: ModelArchitecture
    /// The model's tensors by `state_dict` name.
    public var weights: SafeTensors
    /// ``Optimizer/state``, by the optimiser's names.
    public var optimizerState: [String: Tensor<Scalar>]
    /// Epochs completed.
    public var epoch: Int
    /// The shuffling generator, as it should continue.
    public var generator: RandomSource
    /// The mask generators of dropout layers, by layer path (`3`, `1.2`).
    public var layerGenerators: [String: RandomSource]
    public var trainingState: JSONValue?
    /// The file it was read from, for messages ("checkpoint" for one made in memory).
    private var source = "checkpoint"

    static var optimizerPrefix: String { "optimizer." }

    /// The state of a run after `epoch` epochs.
    public init(
        model: Sequential<Scalar>, optimizer: some Optimizer<Scalar>, epoch: Int, generator: RandomSource,
        trainingState: JSONValue? = nil, inputShape: [Int]? = nil, classNames: [String]? = nil,
        preprocessing: JSONValue? = nil
    ) throws(ModelFileError) {
        architecture = try ModelArchitecture(describing: model, inputShape: inputShape, classNames: classNames,
                                             preprocessing: preprocessing)
        weights = StateDictionary.safeTensors(of: model)
        optimizerState = optimizer.state
        self.epoch = epoch
        self.generator = generator
        layerGenerators = [:]
        visitDropoutLayers(model) { path, dropout in layerGenerators[path] = dropout.maskGenerator }
        self.trainingState = trainingState
    }

    /// Reads a checkpoint written by ``write(to:)``; its weights must be `Scalar`'s type.
    public init(contentsOf path: String) throws(ModelFileError) {
        let file = try SafeTensors(contentsOf: path)
        source = path
        guard file.metadata[Key.checkpoint] == "1" else {
            throw .badArchitecture(file: path, reason: "not a Backprop checkpoint (no '\(Key.checkpoint)' metadata)")
        }
        architecture = try ModelArchitecture(json: Data(file.metadata[Key.architecture, default: ""].utf8), file: path)
        epoch = try Self.decode(Int.self, file.metadata[Key.epoch], Key.epoch, path)
        generator = try Self.generator(Self.decode([UInt64].self, file.metadata[Key.generator], Key.generator, path), path)
        layerGenerators = [:]
        for (layer, state) in try Self.decode([String: [UInt64]].self, file.metadata[Key.layerGenerators], Key.layerGenerators, path) {
            layerGenerators[layer] = try Self.generator(state, path)
        }
        trainingState = try file.metadata[Key.training].map { text throws(ModelFileError) in
            try Self.decode(JSONValue.self, text, Key.training, path)
        }
        weights = SafeTensors(metadata: ["format": "pt"])
        optimizerState = [:]
        for (name, entry) in file.tensors {
            guard name.hasPrefix(Self.optimizerPrefix) else {
                weights.tensors[name] = entry
                continue
            }
            guard let tensor = entry.tensor(Scalar.self) else {
                throw .typeMismatch(file: path, tensor: name, expected: SafeTensors.DataType.of(Scalar.self).rawValue,
                                    found: entry.dataType.rawValue)
            }
            try StateDictionary.requireFinite(tensor, name, file: path)
            optimizerState[String(name.dropFirst(Self.optimizerPrefix.count))] = tensor
        }
    }

    /// Writes the checkpoint atomically (temporary file, fsync, rename): a crash leaves
    /// the previous checkpoint or this one.
    public func write(to path: String) throws(ModelFileError) {
        var file = weights
        for (name, tensor) in optimizerState { file.tensors[Self.optimizerPrefix + name] = SafeTensors.Entry(tensor) }
        file.metadata[Key.checkpoint] = "1"
        file.metadata[Key.architecture] = String(decoding: architecture.json(), as: UTF8.self)
        file.metadata[Key.epoch] = String(epoch)
        file.metadata[Key.generator] = Self.json(generator.state)
        file.metadata[Key.layerGenerators] = Self.json(layerGenerators.mapValues(\.state))
        file.metadata[Key.training] = trainingState.map(Self.json)
        try file.write(to: path)
    }

    /// A new model of the saved architecture holding the saved weights and generators.
    public func makeModel() throws(ModelFileError) -> Sequential<Scalar> {
        let model: Sequential<Scalar> = try architecture.makeModel(file: source)
        try restore(into: model)
        return model
    }

    /// Puts the saved weights and dropout generators into `model`.
    public func restore(into model: Sequential<Scalar>) throws(ModelFileError) {
        try StateDictionary.load(weights, into: model, file: source)
        var missing: [String] = []
        visitDropoutLayers(model) { path, dropout in
            if let saved = layerGenerators[path] { dropout.maskGenerator = saved } else { missing.append(path) }
        }
        guard missing.isEmpty else {
            throw .badArchitecture(file: source, reason: "no saved generator for dropout layer(s) \(missing.joined(separator: ", "))")
        }
    }

    /// Puts the saved weights and generators into `model` and the saved state into
    /// `optimizer` (which must be of the kind that was saved).
    public func restore(into model: Sequential<Scalar>, optimizer: inout some Optimizer<Scalar>) throws(ModelFileError) {
        try restore(into: model)
        // Per-parameter state (`0.weight.velocity`) must have its parameter's shape.
        let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor.shape) })
        for (key, tensor) in optimizerState {
            guard let dot = key.lastIndex(of: "."), let shape = shapes[String(key[..<dot])] else { continue }
            guard tensor.shape == shape else {
                throw .shapeMismatch(file: source, tensor: Self.optimizerPrefix + key, expected: shape, found: tensor.shape)
            }
        }
        do { try optimizer.restore(state: optimizerState) } catch {
            throw .badArchitecture(file: source, reason: "optimizer state does not fit: \(error)")
        }
    }

    // MARK: - Metadata

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    private static func decode<T: Decodable>(_: T.Type, _ text: String?, _ key: String, _ path: String) throws(ModelFileError) -> T {
        guard let text else { throw .badArchitecture(file: path, reason: "checkpoint metadata '\(key)' is missing") }
        do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
            throw .badArchitecture(file: path, reason: "checkpoint metadata '\(key)' is not valid")
        }
    }

    private static func generator(_ state: [UInt64], _ path: String) throws(ModelFileError) -> RandomSource {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw .badArchitecture(file: path, reason: "a generator state must be four words, not all zero")
        }
        return RandomSource(state: state)
    }
}

/// The checkpoint's metadata keys.
private enum Key {
    static let checkpoint = "backprop.checkpoint"
    static let architecture = "backprop.architecture"
    static let epoch = "backprop.epoch"
    static let generator = "backprop.generator"
    static let layerGenerators = "backprop.layer_generators"
    static let training = "backprop.training"
}

/// Calls `visit` for every dropout layer inside `layer`, with its path (`2`, `1.0`).
func visitDropoutLayers<S: TensorScalar>(_ layer: any Layer<S>, path: String = "", _ visit: (String, Dropout<S>) -> Void) {
    if let dropout = layer as? Dropout<S> { visit(path, dropout) }
    guard let sequential = layer as? Sequential<S> else { return }
    for (index, child) in sequential.layers.enumerated() {
        visitDropoutLayers(child, path: path.isEmpty ? "\(index)" : "\(path).\(index)", visit)
    }
}
