import Foundation
import NeuralNetworks
import Tensors

/// A saved model: a directory holding `model.json` (the ``ModelArchitecture``) and
/// `model.safetensors` (the weights, named like a PyTorch `state_dict`). Each file is
/// written atomically; loading checks the weights against the architecture and runs no
/// code from the files.
public enum ModelFile {
    public static let architectureFileName = "model.json"
    public static let weightsFileName = "model.safetensors"

    /// The safetensors metadata key under which ``save(_:architecture:to:)`` keeps a copy
    /// of the architecture beside the weights.
    public static let architectureMetadataKey = "backprop.architecture"

    /// A model read back, with what its architecture file says about it.
    public struct Loaded<Scalar: TensorScalar> {
        public let model: Sequential<Scalar>
        public let architecture: ModelArchitecture
        /// Set when `model.json` describes other weights than the file beside it (a save
        /// stopped between its two files, or an edit) and the copy of the architecture
        /// kept in the weights file was used: one line saying so.
        public let note: String?
    }

    /// Saves `model` into `directory` (created if needed).
    public static func save<S: TensorScalar>(
        _ model: Sequential<S>, to directory: String, inputShape: [Int]? = nil,
        classNames: [String]? = nil, preprocessing: JSONValue? = nil
    ) throws(ModelFileError) {
        try save(model, architecture: ModelArchitecture(
            describing: model, inputShape: inputShape, classNames: classNames, preprocessing: preprocessing), to: directory)
    }

    /// Saves `model` with `architecture` (which must describe it: made by
    /// ``ModelArchitecture/init(describing:inputShape:classNames:preprocessing:)`` and
    /// then given what else is known of the data) into `directory`.
    ///
    /// Each file is replaced atomically, weights first. The weights file carries the
    /// architecture in its metadata, so a process killed between the two files leaves a
    /// pair that still loads as the new model (``load(_:from:)`` prefers the weights'
    /// own copy when `model.json` disagrees with it); killed before, the old model is
    /// untouched.
    public static func save<S: TensorScalar>(
        _ model: Sequential<S>, architecture: ModelArchitecture, to directory: String
    ) throws(ModelFileError) {
        try createDirectory(directory)
        var weights = StateDictionary.safeTensors(of: model)
        weights.metadata[architectureMetadataKey] = String(decoding: architecture.compactJSON(), as: UTF8.self)
        try weights.write(to: path(directory, weightsFileName))
        try architecture.write(to: path(directory, architectureFileName))
    }

    /// The architecture of the model saved in `directory`: its model.json, or, when only
    /// model.safetensors is there, the architecture saved in its metadata.
    public static func architecture(in directory: String) throws(ModelFileError) -> ModelArchitecture {
        let architecturePath = path(directory, architectureFileName)
        let weightsPath = path(directory, weightsFileName)
        guard !FileManager.default.fileExists(atPath: architecturePath), FileManager.default.fileExists(atPath: weightsPath) else {
            return try ModelArchitecture(contentsOf: architecturePath)
        }
        guard let saved = try savedArchitecture(in: SafeTensors(contentsOf: weightsPath), at: weightsPath) else {
            throw .missingFile(architecturePath)
        }
        return saved.architecture
    }

    /// The architecture that ``save(_:architecture:to:)`` keeps in the weights' metadata,
    /// and the name messages give it; nil in a file without one.
    private static func savedArchitecture(in weights: SafeTensors, at weightsPath: String) throws(ModelFileError)
        -> (architecture: ModelArchitecture, source: String)?
    {
        guard let saved = weights.metadata[architectureMetadataKey] else { return nil }
        let source = "\(weightsPath) (metadata \(architectureMetadataKey))"
        return (try ModelArchitecture(json: Data(saved.utf8), file: source), source)
    }

    /// Loads a model saved by ``save(_:to:inputShape:classNames:preprocessing:)`` (or
    /// written by another program in the same two files) as `S`. The weights are checked
    /// against the architecture, name by name and shape by shape. A model.safetensors
    /// alone (model.json lost, or not copied) is loaded with the architecture saved in it.
    public static func load<S: TensorScalar>(_: S.Type = S.self, from directory: String) throws(ModelFileError) -> Loaded<S> {
        let architecturePath = path(directory, architectureFileName)
        let weightsPath = path(directory, weightsFileName)
        let alone = !FileManager.default.fileExists(atPath: architecturePath) && FileManager.default.fileExists(atPath: weightsPath)
        var architecture = alone ? nil : try ModelArchitecture(contentsOf: architecturePath)
        var model: Sequential<S>? = try architecture.map { (read) throws(ModelFileError) in try read.makeModel(file: architecturePath) }
        let weights = try SafeTensors(contentsOf: weightsPath)
        var note: String?
        if let saved = try savedArchitecture(in: weights, at: weightsPath), saved.architecture != architecture {
            note = architecture == nil
                ? "\(architecturePath) is missing; used the architecture saved with the weights"
                : "\(architecturePath) does not describe the weights beside it (a save stopped between the two files, or an edit); used the architecture saved with the weights"
            architecture = saved.architecture
            model = try saved.architecture.makeModel(file: saved.source)
        }
        guard let architecture, let model else { throw .missingFile(architecturePath) }
        try StateDictionary.load(weights, into: model, file: weightsPath)
        return Loaded(model: model, architecture: architecture, note: note)
    }

    /// Creates `directory` and its parents if needed; a file in its place, or a directory
    /// that cannot be made, is a one-line error.
    public static func createDirectory(_ directory: String) throws(ModelFileError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .cannotWrite(file: directory, reason: "it is a file, not a directory") }
            return
        }
        var ancestor = URL(fileURLWithPath: directory).deletingLastPathComponent()
        while ancestor.path != "/" && !FileManager.default.fileExists(atPath: ancestor.path) {
            ancestor = ancestor.deletingLastPathComponent()
        }
        if FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .cannotWrite(file: directory, reason: "\(ancestor.path) is a file, not a directory")
        }
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(file: directory, reason: "cannot create it: \(PlainErrors.reason(error))")
        }
    }

    static func path(_ directory: String, _ name: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name).path
    }
}
