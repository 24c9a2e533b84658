import Foundation
import NeuralNetworks
import Tensors

/// The model-file readers run on bytes of any content, the way coverage-guided fuzzing
/// (the `Fuzz/` package) and the replay of its corpus (`Tests/FuzzCorpus/`) drive them.
///
/// Each function reads `data` as a file of its kind would be read and uses what it
/// read; it returns a count of what it read, or throws a ``ModelFileError`` with a
/// one-line message. No input stops the program.
public enum ModelFileFuzzing {
    /// A safetensors file, every tensor read as `Float`, `Double` and integers.
    @discardableResult
    public static func safeTensors(_ data: Data) throws(ModelFileError) -> Int {
        let file = try SafeTensors(data: data, file: "fuzz.safetensors")
        var values = 0
        for entry in file.tensors.values {
            values += entry.tensor(Float.self)?.scalars.count ?? 0
            values += entry.tensor(Double.self)?.scalars.count ?? 0
            values += entry.integers?.count ?? 0
        }
        return values + file.metadata.count
    }

    /// A `model.json` architecture, decoded and built into a network of its scalar type
    /// when it holds fewer than `parameterLimit` parameters (a larger one is valid too;
    /// building it would only cost time and memory). Returns the parameter count.
    @discardableResult
    public static func architecture(_ data: Data, parameterLimit: Int = 100_000) throws(ModelFileError) -> Int {
        let architecture = try ModelArchitecture(json: data, file: "fuzz.json")
        // The parameter count of the layers as one Sequential, saturating instead of overflowing.
        let parameters = LayerConfiguration.sequential(layers: architecture.layers).parameterCount
        guard parameters < parameterLimit else { return parameters }
        if architecture.scalarType == "float64" {
            return try architecture.makeModel(Double.self, file: "fuzz.json").parameterCount
        }
        return try architecture.makeModel(Float.self, file: "fuzz.json").parameterCount
    }
}
