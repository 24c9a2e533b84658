import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import ModelFiles

/// docs/model.schema.json, the JSON Schema of model.json, against every model the project
/// writes and against files it must refuse.
@Suite("model.json's JSON Schema")
struct ModelSchemaTests {
    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs")

    static func validator() throws -> JSONSchemaValidator {
        try JSONSchemaValidator(schema: Data(contentsOf: docs.appendingPathComponent("model.schema.json")))
    }

    /// Every kind of layer the library has, nested too, with every optional key of the file.
    static func everyLayer() -> Sequential<Float> {
        Sequential<Float>(seed: 1) {
            Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, stride: 1, padding: 1)
            BatchNorm2D(channels: 4)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Conv2D(inputChannels: 4, outputChannels: 4, kernelSize: 3, padding: 1, useBias: false)
            AvgPool2D(kernelSize: 2, stride: 1)
            GlobalAveragePool2D()
            Sequential<Float>(seed: 2) { Dense(inputSize: 4, outputSize: 6); Tanh() }
            Dropout(probability: 0.2)
            BatchNorm1D(features: 6)
            Dense(inputSize: 6, outputSize: 3, useBias: false)
            LeakyReLU()
            GELU()
            Sigmoid()
            Dense(inputSize: 3, outputSize: 2)
            Softmax()
        }
    }

    @Test("every model the project writes is valid: each layer kind, the data's description, PyTorch's fixtures, the doc's example")
    func projectModelsAreValid() throws {
        let validator = try Self.validator()
        var architecture = try ModelArchitecture(describing: Self.everyLayer(), inputShape: [1, 8, 8], classNames: ["a", "b"],
                                                 preprocessing: JSONValue(encoding: Standardization(fittedTo: Tensor<Float>([[1, 2], [3, 5]]))))
        architecture.task = "classification"
        architecture.featureNames = (1...64).map { "pixel\($0)" }  // one per input value of [1, 8, 8]
        architecture.targetName = "label"
        architecture.targetPreprocessing = try JSONValue(encoding: Standardization(fittedTo: Tensor<Float>([[1], [4]]), scope: .global))
        _ = try architecture.makeModel(Float.self)
        var files: [(String, Data)] = [("every layer", architecture.json()), ("compact", architecture.compactJSON())]
        let double = try ModelArchitecture(describing: Sequential<Double>(seed: 1) { Dense(inputSize: 2, outputSize: 1) })
        files.append(("float64", double.json()))
        for name in ["mlp", "mlp_f64", "cnn"] {
            files.append(("fixture \(name)", try Data(contentsOf: URL(fileURLWithPath: fixture(name, "model.json")))))
        }
        let guide = try String(contentsOf: Self.docs.appendingPathComponent("model-format.md"), encoding: .utf8)
        let example = try #require(guide.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        files.append(("docs/model-format.md's example", Data(example.utf8)))
        for (name, data) in files {
            let failure = try validator.failure(of: data)
            #expect(failure == nil, "\(name): \(String(describing: failure))")
        }
        // The doc's example, leaving out optional keys, is read with PyTorch's defaults.
        let read = try ModelArchitecture(json: Data(example.utf8))
        let model: Sequential<Float> = try read.makeModel()
        #expect(try model.outputShape(forInput: [1, 28, 28]) == [2])
    }

    @Test("the spec's spellings of activations (leakyrelu, logsoftmax), which the reader takes, are valid")
    func specSpellings() throws {
        let json = #"{"format": "backprop-model", "version": 2, "scalarType": "float32", "inputShape": [4], "layers": [{"dense": {"inputSize": 4, "outputSize": 3}}, {"activation": {"function": "leakyrelu", "negativeSlope": 0.2}}, {"activation": {"function": "logsoftmax"}}]}"#
        let failure = try Self.validator().failure(of: Data(json.utf8))
        #expect(failure == nil, "\(String(describing: failure))")
        let model: Sequential<Float> = try ModelArchitecture(json: Data(json.utf8)).makeModel()
        #expect(try model.outputShape(forInput: [4]) == [3])
    }

    @Test("the schema refuses what the reader refuses", arguments: [
        (#"{"version": 1, "scalarType": "float32", "layers": [{"activation": {"function": "relu"}}]}"#, "missing required 'format'"),
        (#"{"format": "other", "version": 1, "scalarType": "float32", "layers": [{"activation": {"function": "relu"}}]}"#, "is not backprop-model"),
        (#"{"format": "backprop-model", "version": 1, "scalarType": "float16", "layers": [{"activation": {"function": "relu"}}]}"#, "is not one of"),
        (#"{"format": "backprop-model", "version": 1, "scalarType": "float32", "layers": [{"transformer": {}}]}"#, "oneOf"),
        (#"{"format": "backprop-model", "version": 1, "scalarType": "float32", "layers": [{"dense": {"inputSize": -4, "outputSize": 2}}]}"#, "oneOf"),
        (#"{"format": "backprop-model", "version": 1, "scalarType": "float32", "layers": [{"dense": {"inputSize": 4}}]}"#, "oneOf"),
        (#"{"format": "backprop-model", "version": 1, "scalarType": "float32", "layers": [{"dense": {"inputSize": 4, "outputSize": 2, "bias": false}}]}"#, "oneOf"),
        (#"{"format": "backprop-model", "version": 1, "scalarType": "float32", "layers": [{"activation": {"function": "relu"}}], "inputShape": [0]}"#, "minimum"),
        (#"{"format": "backprop-model", "version": 2, "scalarType": "float32", "layers": []}"#, "fewer than 1 items"),
        (#"{"format": "backprop-model", "version": 2, "scalarType": "float32", "layers": [{"dense": {"inputSize": 4, "outputSize": 2}}, {"activation": {"function": "softmax", "axis": 0}}]}"#, "oneOf"),
    ])
    func refused(json: String, words: String) throws {
        let failure = try Self.validator().failure(of: Data(json.utf8))
        #expect(failure?.description.contains(words) == true, "\(String(describing: failure))")
        #expect(throws: ModelFileError.self) {
            let model: Sequential<Float> = try ModelArchitecture(json: Data(json.utf8)).makeModel()
            _ = try model.outputShape(forInput: [4])
        }
    }
}
