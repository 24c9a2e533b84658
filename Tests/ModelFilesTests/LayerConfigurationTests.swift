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

    @Test("the convolutional preset round-trips, batch-norm buffers included in its files")
    func convolutional() throws {
        let model = Sequential<Float>(seed: 4) {
            Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: (3, 2), stride: (1, 2), padding: (1, 0), dilation: (2, 1))
            BatchNorm2D(channels: 2, momentum: 0.2)
            ReLU()
            AvgPool2D(kernelSize: 2)
            MaxPool2D(kernelSize: (1, 1), stride: (1, 1))
            GlobalAveragePool2D()
            Flatten()
            BatchNorm1D(features: 2, epsilon: 1e-3)
            Dense(inputSize: 2, outputSize: 2)
        }
        let configurations = try model.layerConfigurations()
        #expect(configurations[0] == .conv2D(inputChannels: 1, outputChannels: 2, kernelSize: [3, 2], stride: [1, 2],
                                             padding: [1, 0], dilation: [2, 1], useBias: true))
        #expect(configurations[1] == .batchNorm2D(channels: 2, momentum: 0.2, epsilon: 1e-5))
        let json = try JSONEncoder().encode(configurations)
        #expect(try JSONDecoder().decode([LayerConfiguration].self, from: json) == configurations)
        #expect(try Sequential<Float>(configurations: configurations).layerConfigurations() == configurations)
        #expect(try model.layerConfigurations().map(\.parameterCount).reduce(0, +) == model.parameterCount)
        let cnn = try #require(ModelSpec.network(preset: "cnn", as: Float.self, seed: 1))
        #expect(try LayerConfiguration(describing: cnn).parameterCount == cnn.parameterCount)
        #expect(try Sequential<Float>(configurations: cnn.layerConfigurations()).parameterCount == cnn.parameterCount)
        #expect(throws: ConfigurationError.self) {
            try LayerConfiguration.conv2D(inputChannels: 1, outputChannels: 1, kernelSize: [3], stride: [1, 1],
                                          padding: [0, 0], dilation: [1, 1], useBias: true).validate()
        }
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
            func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] { shape }
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
