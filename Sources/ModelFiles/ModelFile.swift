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

    /// A model read back, with what its architecture file says about it.
    public struct Loaded<Scalar: TensorScalar> {
        public let model: Sequential<Scalar>
        public let architecture: ModelArchitecture
    }

    /// Saves `model` into `directory` (created if needed): weights first, then the
    /// architecture.
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
    public static func save<S: TensorScalar>(
        _ model: Sequential<S>, architecture: ModelArchitecture, to directory: String
    ) throws(ModelFileError) {
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw .cannotWrite(file: directory, reason: error.localizedDescription)
        }
        try StateDictionary.safeTensors(of: model).write(to: path(directory, weightsFileName))
        try architecture.write(to: path(directory, architectureFileName))
    }

    /// Loads a model saved by ``save(_:to:inputShape:classNames:preprocessing:)`` (or
    /// written by another program in the same two files) as `S`.
    public static func load<S: TensorScalar>(_: S.Type = S.self, from directory: String) throws(ModelFileError) -> Loaded<S> {
        let architecturePath = path(directory, architectureFileName)
        let architecture = try ModelArchitecture(contentsOf: architecturePath)
        let model: Sequential<S> = try architecture.makeModel(file: architecturePath)
        let weightsPath = path(directory, weightsFileName)
        try StateDictionary.load(SafeTensors(contentsOf: weightsPath), into: model, file: weightsPath)
        return Loaded(model: model, architecture: architecture)
    }

    static func path(_ directory: String, _ name: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name).path
    }
}
