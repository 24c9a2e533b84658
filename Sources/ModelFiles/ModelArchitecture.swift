import Foundation
import NeuralNetworks
import Tensors

/// The JSON architecture file: what the network is (its layers as
/// ``LayerConfiguration``s) and how to feed it (input shape, preprocessing, class names).
/// The weights are in a safetensors file beside it, named like a PyTorch `state_dict`.
public struct ModelArchitecture: Sendable, Hashable, Codable {
    public static let formatName = "backprop-model"
    /// 2 since the layer options (pooling padding and ceil mode, activation settings):
    /// a reader of version 1 would ignore them and compute another function, so it is
    /// told the file is newer. Files of version 1 read as they always did.
    public static let currentVersion = 2

    public var format: String
    public var version: Int
    /// "float32" or "float64": the type of the weights.
    public var scalarType: String
    /// One example's shape (no batch dimension): `[784]`, `[1, 28, 28]`.
    public var inputShape: [Int]?
    /// The layers of the top-level ``Sequential``.
    public var layers: [LayerConfiguration]
    /// The names of the output classes, in index order.
    public var classNames: [String]?
    /// How raw inputs become the network's inputs (a standardisation, a pixel scale),
    /// as the program that trained the model defined it.
    public var preprocessing: JSONValue?
    /// "classification" or "regression".
    public var task: String?
    /// The names of the input features (a table's columns), in the network's input order:
    /// new data is matched to them by name.
    public var featureNames: [String]?
    /// The name of the target column the model was trained to predict.
    public var targetName: String?
    /// How the network's outputs become values in the target's units (regression trained
    /// on standardised targets), as the program that trained the model defined it.
    public var targetPreprocessing: JSONValue?

    /// The keys of the file, each a property above; any other key is refused on reading.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case format, version, scalarType, inputShape, layers, classNames, preprocessing, task, featureNames, targetName,
             targetPreprocessing
    }

    public init(
        layers: [LayerConfiguration], scalarType: String, inputShape: [Int]? = nil,
        classNames: [String]? = nil, preprocessing: JSONValue? = nil
    ) {
        self.format = Self.formatName
        self.version = Self.currentVersion
        self.scalarType = scalarType
        self.layers = layers
        self.inputShape = inputShape
        self.classNames = classNames
        self.preprocessing = preprocessing
    }

    /// The architecture of `model`; throws if a layer has no ``LayerConfiguration``.
    public init<S: TensorScalar>(
        describing model: Sequential<S>, inputShape: [Int]? = nil, classNames: [String]? = nil,
        preprocessing: JSONValue? = nil
    ) throws(ModelFileError) {
        let layers: [LayerConfiguration]
        do { layers = try model.layerConfigurations() } catch {
            throw .badArchitecture(file: "model", reason: error.description)
        }
        self.init(layers: layers, scalarType: Self.scalarName(S.self), inputShape: inputShape,
                  classNames: classNames, preprocessing: preprocessing)
    }

    static func scalarName<S: TensorScalar>(_: S.Type) -> String {
        S.self == Float.self ? "float32" : "float64"
    }

    /// A new network of this architecture (parameters freshly drawn from `seed`), after
    /// checking every layer's settings; `file` names the source in errors.
    public func makeModel<S: TensorScalar>(_: S.Type = S.self, seed: UInt64 = 0, file: String = "architecture") throws(ModelFileError) -> Sequential<S> {
        guard format == Self.formatName else {
            throw .badArchitecture(file: file, reason: "format '\(format.prefix(40))' is not '\(Self.formatName)'")
        }
        guard version <= Self.currentVersion else {
            throw .badArchitecture(file: file, reason: "format version \(version) is newer than this library's (\(Self.currentVersion))")
        }
        guard ["float32", "float64"].contains(scalarType) else {
            throw .badArchitecture(file: file, reason: "scalarType '\(scalarType.prefix(40))' is not float32 or float64")
        }
        guard !layers.isEmpty else { throw .badArchitecture(file: file, reason: "the model has no layers") }
        for layer in layers {
            do { try layer.validate() } catch { throw .badArchitecture(file: file, reason: error.description) }
        }
        if let classNames, Set(classNames).count != classNames.count {
            throw .badArchitecture(file: file, reason: "a class name appears twice in classNames")
        }
        if let task, !["classification", "regression"].contains(task) {
            throw .badArchitecture(file: file, reason: "task '\(task.prefix(40))' is not classification or regression")
        }
        do {
            try Memory.checkParameters(LayerConfiguration.sequential(layers: layers).parameterCount, of: S.self, model: "the architecture")
        } catch { throw .badArchitecture(file: file, reason: error.description) }
        let model = Sequential<S>(configurations: layers, seed: seed)
        if let inputShape {
            guard inputShape.allSatisfy({ $0 > 0 }) else {
                throw .badArchitecture(file: file, reason: "inputShape \(inputShape) has a dimension that is not positive")
            }
            guard Memory.product(inputShape) <= 1 << 31 else {
                throw .badArchitecture(file: file, reason: "inputShape \(inputShape) has more than 2³¹ values")
            }
            let output: [Int]
            do { output = try model.outputShape(forInput: inputShape) } catch {
                throw .badArchitecture(file: file, reason: "the layers do not chain from inputShape \(inputShape): \(error)")
            }
            if let classNames, output != [classNames.count] && !(output == [1] && classNames.count == 2) {
                throw .badArchitecture(file: file, reason: "\(classNames.count) class names for an output of shape \(output)")
            }
            if let featureNames, featureNames.count != inputShape.reduce(1, *) {
                throw .badArchitecture(file: file, reason: "\(featureNames.count) feature names for an input of shape \(inputShape)")
            }
        }
        if let overBatch = Self.softmaxOverBatch(in: model.layers, inputShape: inputShape) {
            throw .badArchitecture(file: file, reason: "\(overBatch), so it would normalise across the examples of a batch; use the axis of each example's scores (-1, the default)")
        }
        return model
    }

    /// The first softmax or log-softmax, nested ones too (named `2.1` as PyTorch names
    /// them), whose axis is the batch axis: 0, or with `inputShape` known a negative axis
    /// that counts back to it. Over the batch, an example's output would depend on the
    /// other examples of its batch.
    private static func softmaxOverBatch<S: TensorScalar>(in layers: [any Layer<S>], inputShape: [Int]?, path: String = "") -> String? {
        var shape = inputShape
        for (index, layer) in layers.enumerated() {
            let name = path + String(index)
            if let nested = layer as? Sequential<S>,
               let found = softmaxOverBatch(in: nested.layers, inputShape: shape, path: name + ".") {
                return found
            }
            if let activation = layer as? ActivationLayer<S>, [.softmax, .logSoftmax].contains(activation.activation) {
                let axis = activation.axis
                if axis == 0 { return "layer \(name) (\(activation.activation.rawValue)): axis 0 is the batch axis" }
                if let shape, axis == -(shape.count + 1) {
                    let batch = "[N" + shape.map { ", \($0)" }.joined() + "]"
                    return "layer \(name) (\(activation.activation.rawValue)): axis \(axis) is the batch axis of its input \(batch)"
                }
            }
            shape = shape.flatMap { try? layer.outputShape(forInput: $0) }
        }
        return nil
    }

    /// Reads an architecture JSON file.
    public init(contentsOf path: String) throws(ModelFileError) {
        try self.init(json: readFile(path), file: path)
    }

    /// Reads an architecture from JSON text, strictly: JSON as RFC 8259 defines it (no
    /// comma after the last item, no key twice in an object), no key that the file
    /// format does not have (at the top or in a layer: a misspelt key would otherwise be
    /// ignored), and a format version this library reads (1 to ``currentVersion``).
    /// Each refusal is one line naming the key path. `file` names the source in errors.
    public init(json: Data, file: String = "architecture") throws(ModelFileError) {
        let keys: [String]?
        do throws(StrictJSON.Failure) { keys = try StrictJSON(checking: json).topLevelKeys } catch {
            throw .badArchitecture(file: file, reason: "not a valid architecture JSON (\(error.reason))")
        }
        if let unknown = keys?.first(where: { CodingKeys(stringValue: $0) == nil }) {
            let known = CodingKeys.allCases.map(\.stringValue).sorted().joined(separator: ", ")
            let shown = PlainErrors.escapingControlCharacters(String(unknown.prefix(40)))
            throw .badArchitecture(file: file, reason: "not a valid architecture JSON ('\(shown)': unknown key; expected one of \(known))")
        }
        do { self = try JSONDecoder().decode(ModelArchitecture.self, from: json) } catch {
            let reason = Self.nonInteger(in: json) ?? PlainErrors.reason(error)
            throw .badArchitecture(file: file, reason: "not a valid architecture JSON (\(reason))")
        }
        guard (1...Self.currentVersion).contains(version) else {
            let supported = "it reads versions \((1..<Self.currentVersion).map(String.init).joined(separator: ", ")) and \(Self.currentVersion)"
            throw .badArchitecture(file: file, reason: version > Self.currentVersion
                ? "'version': format version \(version) is newer than this library's (\(supported))"
                : "'version': \(version) is not a format version this library reads (\(supported))")
        }
    }

    /// Foundation's decoder calls a number that does not fit an Int (2.5, 1e400) "not
    /// valid JSON", without the key: the top-level integer that is not one, named.
    private static func nonInteger(in json: Data) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else { return nil }
        func isInteger(_ value: Any) -> Bool {
            guard let number = value as? NSNumber else { return true }
            let double = number.doubleValue
            return double.rounded() == double && Swift.abs(double) < 9.2e18
        }
        if let version = object["version"], !isInteger(version) { return "'version': expected an integer" }
        if let shape = object["inputShape"] as? [Any], let index = shape.firstIndex(where: { !isInteger($0) }) {
            return "'inputShape[\(index)]': expected an integer"
        }
        return nil
    }

    /// The JSON text, keys sorted, indented for reading.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain values cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// The JSON text on one line, keys sorted.
    public func compactJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Writes the JSON file atomically.
    public func write(to path: String) throws(ModelFileError) {
        try AtomicFile.write(json(), to: path)
    }
}
