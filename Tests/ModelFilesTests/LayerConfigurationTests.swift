import Foundation
import NeuralNetworks
import Tensors
import Testing

@Suite("Layer configurations")
struct LayerConfigurationTests {
    @Test("a Sequential becomes configurations and back, with the same parameter names and shapes")
    func roundTrip() throws {
        let model = smallNetwork(Float.self)
        let configurations = try model.layerConfigurations()
        #expect(configurations == [
            .dense(inputSize: 4, outputSize: 6, useBias: true), .activation(function: .tanh),
            .dropout(probability: 0.25), .dense(inputSize: 6, outputSize: 3, useBias: false),
            .activation(function: .softmax),
        ])
        let rebuilt = Sequential<Float>(configurations: configurations)
        #expect(rebuilt.namedParameters.map(\.name) == ["0.weight", "0.bias", "3.weight"])
        #expect(rebuilt.namedParameters.map(\.tensor.shape) == model.namedParameters.map(\.tensor.shape))
        #expect(try rebuilt.layerConfigurations() == configurations)
    }

    @Test("JSON: one object per layer, named by case; nested Sequential")
    func json() throws {
        let configuration = LayerConfiguration.sequential(layers: [
            .dense(inputSize: 2, outputSize: 1, useBias: true), .activation(function: .relu),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(configuration), as: UTF8.self)
        #expect(text == #"{"sequential":{"layers":[{"dense":{"inputSize":2,"outputSize":1,"useBias":true}},{"activation":{"function":"relu"}}]}}"#)
        #expect(try JSONDecoder().decode(LayerConfiguration.self, from: Data(text.utf8)) == configuration)
        let nested = Sequential<Double>(configurations: [configuration, .dropout(probability: 0.5)])
        #expect(nested.namedParameters.map(\.name) == ["0.0.weight", "0.0.bias"])
    }

    @Test("a layer without a configuration, and impossible settings, are errors with a message")
    func errors() {
        final class Custom: Layer {
            func callAsFunction(_ input: Tensor<Float>) -> Tensor<Float> { input }
            var summaryName: String { "Custom" }
            func outputShape(forInput shape: [Int]) -> [Int] { shape }
        }
        let model = Sequential<Float>(layers: [Dense(inputSize: 1, outputSize: 1), Custom()])
        let error = #expect(throws: ConfigurationError.self) { try model.layerConfigurations() }
        #expect(error?.description.hasPrefix("Custom (Custom) has no LayerConfiguration") == true)
        #expect(throws: ConfigurationError.self) { try LayerConfiguration.dense(inputSize: 0, outputSize: 3, useBias: true).validate() }
        #expect(throws: ConfigurationError.self) { try LayerConfiguration.dropout(probability: 1).validate() }
        #expect(throws: ConfigurationError.self) {
            try LayerConfiguration.sequential(layers: [.dropout(probability: -1)]).validate()
        }
    }
}
