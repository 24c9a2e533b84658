import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import ModelFiles

/// PyTorch's layer options in the model file: model.json with only the required keys
/// (PyTorch's defaults for the rest), errors that name the layer and the key, files
/// Backprop wrote before the options still read, and batch norm's num_batches_tracked in
/// the safetensors weights.
@Suite("Layer options in model files")
struct LayerOptionFileTests {
    /// A model.json around `layers` (JSON text of the layer objects).
    func architecture(_ layers: String, inputShape: [Int] = [1, 7, 7]) -> Data {
        Data(#"{"format": "backprop-model", "version": 1, "scalarType": "float32", "inputShape": \#(inputShape), "layers": [\#(layers)]}"#.utf8)
    }

    @Test("a model.json with only the required keys takes PyTorch's defaults")
    func requiredKeysOnly() throws {
        let text = """
            {"conv2D": {"inputChannels": 1, "outputChannels": 2, "kernelSize": 3}},
            {"batchNorm2D": {"channels": 2}},
            {"activation": {"function": "leakyReLU"}},
            {"maxPool2D": {"kernelSize": 2}},
            {"avgPool2D": {"kernelSize": [1, 2]}},
            {"activation": {"function": "gelu"}},
            {"flatten": {}},
            {"dropout": {"probability": 0.25}},
            {"dense": {"inputSize": 4, "outputSize": 3}},
            {"batchNorm1D": {"features": 3}},
            {"activation": {"function": "logSoftmax"}}
            """
        let read = try ModelArchitecture(json: architecture(text))
        #expect(read.layers == [
            .conv2D(inputChannels: 1, outputChannels: 2, kernelSize: [3, 3], stride: [1, 1], padding: [0, 0],
                    dilation: [1, 1], useBias: true),
            .batchNorm2D(channels: 2, momentum: 0.1, epsilon: 1e-5),
            .activation(function: .leakyReLU, negativeSlope: 0.01),
            .maxPool2D(kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false),
            .avgPool2D(kernelSize: [1, 2], stride: [1, 2], padding: [0, 0], ceilMode: false, countIncludePad: true),
            .activation(function: .gelu, approximate: .exact),
            .flatten,
            .dropout(probability: 0.25),
            .dense(inputSize: 4, outputSize: 3, useBias: true),
            .batchNorm1D(features: 3, momentum: 0.1, epsilon: 1e-5),
            .activation(function: .logSoftmax, axis: -1),
        ])
        let model: Sequential<Float> = try read.makeModel()
        #expect(try model.outputShape(forInput: [1, 7, 7]) == [3])
        // Written back, every key is there, and it reads back equal.
        let written = String(decoding: read.compactJSON(), as: UTF8.self)
        #expect(written.contains(#"{"maxPool2D":{"ceilMode":false,"kernelSize":[2,2],"padding":[0,0],"stride":[2,2]}}"#))
        #expect(written.contains(#"{"activation":{"approximate":"none","function":"gelu"}}"#))
        #expect(written.contains(#"{"activation":{"function":"leakyReLU","negativeSlope":0.01}}"#))
        #expect(written.contains(#"{"activation":{"axis":-1,"function":"logSoftmax"}}"#))
        #expect(written.contains(#""dilation":[1,1],"inputChannels":1,"kernelSize":[3,3],"outputChannels":2,"padding":[0,0],"stride":[1,1],"useBias":true"#))
        #expect(try ModelArchitecture(json: read.compactJSON()) == read)
    }

    @Test("the spec's spellings leakyrelu and logsoftmax read as leakyReLU and logSoftmax, and are written back as those")
    func specSpellings() throws {
        let text = """
            {"dense": {"inputSize": 4, "outputSize": 3}}, {"activation": {"function": "leakyrelu", "negativeSlope": 0.2}},
            {"activation": {"function": "logsoftmax"}}
            """
        let read = try ModelArchitecture(json: architecture(text, inputShape: [4]))
        #expect(read.layers == [.dense(inputSize: 4, outputSize: 3, useBias: true),
                                .activation(function: .leakyReLU, negativeSlope: 0.2), .activation(function: .logSoftmax, axis: -1)])
        let written = String(decoding: read.compactJSON(), as: UTF8.self)
        #expect(written.contains(#"{"activation":{"function":"leakyReLU","negativeSlope":0.2}}"#), "\(written)")
        #expect(written.contains(#"{"activation":{"axis":-1,"function":"logSoftmax"}}"#), "\(written)")
        #expect(try ModelArchitecture(json: read.compactJSON()) == read)
        let model: Sequential<Float> = try read.makeModel()
        #expect(try model.outputShape(forInput: [4]) == [3])
        // Other spellings stay unknown: the file's names, or the spec's.
        let error = #expect(throws: ModelFileError.self) {
            try ModelArchitecture(json: architecture(#"{"activation": {"function": "LeakyReLU"}}"#), file: "model.json")
        }
        #expect(error?.description.contains("unknown function 'LeakyReLU'") == true, "\(String(describing: error))")
    }

    @Test("sizes as one integer or a pair; a null pooling stride is the kernel size, as PyTorch's stride=None")
    func sizes() throws {
        let text = """
            {"conv2D": {"inputChannels": 1, "outputChannels": 1, "kernelSize": [3, 1], "stride": 2, "padding": [1, 0], "dilation": 1}},
            {"maxPool2D": {"kernelSize": 3, "stride": null, "padding": 1, "ceilMode": true}}
            """
        let read = try ModelArchitecture(json: architecture(text))
        #expect(read.layers == [
            .conv2D(inputChannels: 1, outputChannels: 1, kernelSize: [3, 1], stride: [2, 2], padding: [1, 0]),
            .maxPool2D(kernelSize: [3, 3], stride: [3, 3], padding: [1, 1], ceilMode: true),
        ])
    }

    @Test("every option survives a round trip through the file and the built layers")
    func roundTrip() throws {
        let layers: [LayerConfiguration] = [
            .conv2D(inputChannels: 1, outputChannels: 2, kernelSize: [3, 3], padding: [1, 1]),
            .activation(function: .leakyReLU, negativeSlope: 0.2),
            .maxPool2D(kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true),
            .activation(function: .gelu, approximate: .tanh),
            .avgPool2D(kernelSize: [2, 2], stride: [1, 1], padding: [1, 1], ceilMode: true, countIncludePad: false),
            .activation(function: .softmax, axis: 1),
            .activation(function: .logSoftmax, axis: -3),
            .flatten,
            .dense(inputSize: 2 * 5 * 5, outputSize: 2, useBias: false),
        ]
        let model = Sequential<Double>(configurations: layers)
        #expect(try model.layerConfigurations() == layers)
        #expect(try model.outputShape(forInput: [1, 7, 7]) == [2])
        let read = try ModelArchitecture(json: ModelArchitecture(describing: model, inputShape: [1, 7, 7]).json())
        #expect(read.layers == layers)
        let rebuilt: Sequential<Double> = try read.makeModel()
        #expect(rebuilt.layers.map(\.summaryName) == model.layers.map(\.summaryName))
    }

    @Test("a missing required key is one line naming the layer and the key", arguments: [
        (#"{"conv2D": {"inputChannels": 1, "kernelSize": 3}}"#, "'layers[0].conv2D': missing required key 'outputChannels'"),
        (#"{"dense": {"inputSize": 4}}"#, "'layers[0].dense': missing required key 'outputSize'"),
        (#"{"maxPool2D": {"stride": 2}}"#, "'layers[0].maxPool2D': missing required key 'kernelSize'"),
        (#"{"batchNorm2D": {"momentum": 0.1}}"#, "'layers[0].batchNorm2D': missing required key 'channels'"),
        (#"{"activation": {}}"#, "'layers[0].activation': missing required key 'function'"),
        (#"{"sequential": {}}"#, "'layers[0].sequential': missing required key 'layers'"),
        (#"{"dropout": {}}"#, "'layers[0].dropout': missing required key 'probability'"),
    ])
    func missingKey(_ c: (String, String)) {
        let error = #expect(throws: ModelFileError.self) { try ModelArchitecture(json: architecture(c.0), file: "model.json") }
        #expect(error?.description == "model.json: bad architecture: not a valid architecture JSON (\(c.1))")
    }

    @Test("an unknown key, layer type or function and a bad value are one-line errors naming them", arguments: [
        (#"{"maxPool2D": {"kernelSize": 2, "ceil_mode": true}}"#,
         "'layers[0].maxPool2D.ceil_mode': unknown key; expected one of ceilMode, kernelSize, padding, stride"),
        (#"{"activation": {"function": "relu", "negativeSlope": 0.2}}"#,
         "'layers[0].activation.negativeSlope': unknown key; expected one of function"),
        (#"{"flatten": {"startDim": 1}}"#, "'layers[0].flatten.startDim': unknown key; flatten has no settings"),
        (#"{"activation": {"function": "gelu", "approximate": "fast"}}"#,
         "'layers[0].activation': approximate must be \"none\" or \"tanh\", got 'fast'"),
        (#"{"activation": {"function": "swish"}}"#,
         "'layers[0].activation': unknown function 'swish' (known: identity, sigmoid, tanh, relu, leakyReLU, gelu, softmax, logSoftmax)"),
        (#"{"pool": {"kernelSize": 2}}"#,
         "'layers[0]': unknown layer type 'pool' (known: dense, activation, dropout, sequential, conv2D, maxPool2D, avgPool2D, globalAveragePool2D, flatten, batchNorm1D, batchNorm2D)"),
        (#"{"flatten": {}, "dense": {}}"#,
         "'layers[0]': a layer is an object with one key, its type; found 'dense', 'flatten'"),
        (#"{}"#, "'layers[0]': a layer is an object with one key, its type; found none"),
        (#"{"conv2D": {"inputChannels": 1, "outputChannels": 1, "kernelSize": "3"}}"#,
         "'layers[0].conv2D.kernelSize': expected an integer or a pair [height, width]"),
        (#"{"dense": {"inputSize": 4, "outputSize": "3"}}"#, "'layers[0].dense.outputSize': expected an integer"),
        // Numbers that are not integers: Foundation's decoder calls them "not valid JSON".
        (#"{"dense": {"inputSize": 4, "outputSize": 2.5}}"#, "'layers[0].dense.outputSize': expected an integer"),
        (#"{"conv2D": {"inputChannels": 1, "outputChannels": 1e400, "kernelSize": 3}}"#, "'layers[0].conv2D.outputChannels': expected an integer"),
        (#"{"batchNorm2D": {"channels": 1.5}}"#, "'layers[0].batchNorm2D.channels': expected an integer"),
    ])
    func badKeys(_ c: (String, String)) {
        let error = #expect(throws: ModelFileError.self) { try ModelArchitecture(json: architecture(c.0), file: "model.json") }
        #expect(error?.description == "model.json: bad architecture: not a valid architecture JSON (\(c.1))")
    }

    @Test("a top-level integer that is not one (inputShape, version) is named")
    func topLevelNonIntegers() {
        let shape = Data(#"{"format": "backprop-model", "version": 2, "scalarType": "float32", "inputShape": [1, 7.5, 7], "layers": [{"flatten": {}}]}"#.utf8)
        let error = #expect(throws: ModelFileError.self) { try ModelArchitecture(json: shape, file: "model.json") }
        #expect(error?.description == "model.json: bad architecture: not a valid architecture JSON ('inputShape[1]': expected an integer)")
        let version = Data(#"{"format": "backprop-model", "version": 2.5, "scalarType": "float32", "layers": [{"flatten": {}}]}"#.utf8)
        let other = #expect(throws: ModelFileError.self) { try ModelArchitecture(json: version, file: "model.json") }
        #expect(other?.description == "model.json: bad architecture: not a valid architecture JSON ('version': expected an integer)")
    }

    @Test("settings no layer accepts are errors when the model is built, not crashes", arguments: [
        (#"{"maxPool2D": {"kernelSize": 2, "padding": 2}}"#, "pooling padding [2, 2] must be at most half the kernel size [2, 2]"),
        (#"{"avgPool2D": {"kernelSize": 3, "padding": [1, 1, 1]}}"#, "pooling padding must be [height, width], each from 0 to 2147483647; got [1, 1, 1]"),
        (#"{"avgPool2D": {"kernelSize": 2, "stride": 9223372036854775807, "ceilMode": true}}"#,
         "pooling stride must be [height, width], each from 1 to 2147483647; got [9223372036854775807, 9223372036854775807]"),
        (#"{"conv2D": {"inputChannels": 1, "outputChannels": 2, "kernelSize": 3, "padding": 4611686018427387903}}"#,
         "conv2D padding must be [height, width], each from 0 to 2147483647; got [4611686018427387903, 4611686018427387903]"),
        (#"{"conv2D": {"inputChannels": 1, "outputChannels": 2, "kernelSize": 3, "padding": 2147483647}}, {"flatten": {}}"#,
         "the layers do not chain from inputShape [1, 7, 7]: Flatten: an example of shape [2, 4294967299, 4294967299] has more than 2³¹ values"),
        (#"{"activation": {"function": "softmax", "axis": 4}}"#, "the layers do not chain from inputShape [1, 7, 7]: Softmax(axis 4): axis 4 is outside a batch of rank 4 (input [1, 7, 7] per example)"),
        // Over the batch axis, each example's output would depend on the others in its batch.
        (#"{"activation": {"function": "softmax", "axis": 0}}"#,
         "layer 0 (softmax): axis 0 is the batch axis, so it would normalise across the examples of a batch; use the axis of each example's scores (-1, the default)"),
        (#"{"flatten": {}}, {"activation": {"function": "logSoftmax", "axis": -2}}"#,
         "layer 1 (logSoftmax): axis -2 is the batch axis of its input [N, 49], so it would normalise across the examples of a batch; use the axis of each example's scores (-1, the default)"),
        (#"{"sequential": {"layers": [{"flatten": {}}, {"activation": {"function": "softmax", "axis": 0}}]}}"#,
         "layer 0.1 (softmax): axis 0 is the batch axis, so it would normalise across the examples of a batch; use the axis of each example's scores (-1, the default)"),
    ])
    func impossibleSettings(_ c: (String, String)) throws {
        let read = try ModelArchitecture(json: architecture(c.0))
        let error = #expect(throws: ModelFileError.self) { try read.makeModel(Float.self, file: "model.json") }
        #expect(error?.description == "model.json: bad architecture: \(c.1)")
    }

    /// The layers of Fixtures/cnn/model.json as Backprop wrote it before the pooling
    /// options, with a GELU as it wrote that (no `approximate`).
    @Test("files written before the options read as before: no padding, floor mode, GELU exact (documented)")
    func olderFiles() throws {
        let text = """
            {"conv2D": {"dilation": [1, 1], "inputChannels": 1, "kernelSize": [3, 3], "outputChannels": 4,
                        "padding": [1, 1], "stride": [1, 1], "useBias": true}},
            {"batchNorm2D": {"channels": 4, "epsilon": 1e-05, "momentum": 0.1}},
            {"activation": {"function": "relu"}},
            {"maxPool2D": {"kernelSize": [2, 2], "stride": [2, 2]}},
            {"activation": {"function": "gelu"}},
            {"flatten": {}},
            {"dense": {"inputSize": 64, "outputSize": 3, "useBias": true}},
            {"activation": {"function": "softmax"}}
            """
        let read = try ModelArchitecture(json: architecture(text, inputShape: [1, 8, 8]))
        #expect(read.layers[3] == .maxPool2D(kernelSize: [2, 2], stride: [2, 2]))
        #expect(read.layers[4] == .activation(function: .gelu, approximate: .exact))
        #expect(read.layers[7] == .activation(function: .softmax, axis: -1))
        let model: Sequential<Float> = try read.makeModel()
        #expect(try model.outputShape(forInput: [1, 8, 8]) == [3])
    }

    // MARK: - num_batches_tracked

    func batchNormModel(seed: UInt64 = 2) -> Sequential<Double> {
        Sequential<Double>(seed: seed) {
            Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 2)
            Flatten()
            BatchNorm1D(features: 2 * 4 * 4, momentum: 0.3)
        }
    }

    @Test("num_batches_tracked round-trips through ModelFile.save/load and StateDictionary as I64 of shape []")
    func batchCounterRoundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = batchNormModel()
        var generator = RandomSource(seed: 5)
        for _ in 0..<3 { _ = model(Tensor<Double>.randomNormal([4, 1, 4, 4], using: &generator)) }
        _ = model.predict(Tensor<Double>.randomNormal([4, 1, 4, 4], using: &generator))
        #expect(StateDictionary.counters(of: model).map(\.value) == [3, 3])
        try ModelFile.save(model, to: directory.path, inputShape: [1, 4, 4])
        let weights = try SafeTensors(contentsOf: directory.file(ModelFile.weightsFileName))
        for name in ["1.num_batches_tracked", "3.num_batches_tracked"] {
            let entry = try #require(weights.tensors[name])
            #expect(entry.dataType == .int64 && entry.shape == [] && entry.integers == [3], "\(name)")
        }
        let loaded = try ModelFile.load(Double.self, from: directory.path)
        #expect(StateDictionary.counters(of: loaded.model).map(\.name) == ["1.num_batches_tracked", "3.num_batches_tracked"])
        #expect(StateDictionary.counters(of: loaded.model).map(\.value) == [3, 3])
        // StateDictionary alone, into a fresh model: the counters move with the tensors.
        let fresh = batchNormModel(seed: 9)
        try StateDictionary.load(StateDictionary.safeTensors(of: model), into: fresh)
        #expect((fresh.layers[3] as? BatchNorm1D<Double>)?.batchesTracked == 3)
        let input = Tensor<Double>.randomNormal([2, 1, 4, 4], using: &generator)
        #expect(fresh.predict(input) == model.predict(input))
    }

    @Test("weights without num_batches_tracked (older files) still load, the counter at 0 as PyTorch loads them")
    func withoutBatchCounter() throws {
        let model = batchNormModel()
        _ = model(Tensor<Double>.ones([2, 1, 4, 4]))
        var weights = StateDictionary.safeTensors(of: model)
        weights.tensors["1.num_batches_tracked"] = nil
        weights.tensors["3.num_batches_tracked"] = nil
        let target = batchNormModel(seed: 4)
        _ = target(Tensor<Double>.ones([2, 1, 4, 4]))
        try StateDictionary.load(weights, into: target)
        #expect(StateDictionary.counters(of: target).map(\.value) == [0, 0])
        #expect(target.namedParameters.map(\.tensor) == model.namedParameters.map(\.tensor))
    }

    @Test("a num_batches_tracked of another type or shape, or beside no batch norm, is a typed error")
    func badBatchCounter() {
        let model = batchNormModel()
        func load(_ change: (inout SafeTensors) -> Void) -> ModelFileError? {
            var weights = StateDictionary.safeTensors(of: model)
            change(&weights)
            return #expect(throws: ModelFileError.self) { try StateDictionary.load(weights, into: batchNormModel()) }
        }
        #expect(load { $0.tensors["1.num_batches_tracked"] = .init(Tensor<Double>(3)) }
                == .typeMismatch(file: "weights", tensor: "1.num_batches_tracked", expected: "I64", found: "F64"))
        #expect(load { $0.tensors["1.num_batches_tracked"] = .init(integers: [3], shape: [1]) }
                == .shapeMismatch(file: "weights", tensor: "1.num_batches_tracked", expected: [], found: [1]))
        #expect(load { $0.tensors["0.num_batches_tracked"] = .init(integers: [3], shape: []) }
                == .tensorsMismatch(file: "weights", missing: [], unexpected: ["0.num_batches_tracked"]))
        // I32 (as some writers store it) reads as well.
        var weights = StateDictionary.safeTensors(of: model)
        weights.tensors["1.num_batches_tracked"] = SafeTensors.Entry(dataType: .int32, shape: [], bytes: [7, 0, 0, 0])
        let target = batchNormModel()
        #expect(throws: Never.self) { try StateDictionary.load(weights, into: target) }
        #expect((target.layers[1] as? BatchNorm2D<Double>)?.batchesTracked == 7)
    }

    @Test("a checkpoint keeps num_batches_tracked")
    func checkpointKeepsCounter() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = batchNormModel()
        for _ in 0..<2 { _ = model(Tensor<Double>.ones([2, 1, 4, 4])) }
        try Checkpoint(model: model, optimizer: try SGD<Double>(learningRate: 0.1), epoch: 1, generator: RandomSource(seed: 1))
            .write(to: directory.file("c"))
        let restored = try Checkpoint<Double>(contentsOf: directory.file("c")).makeModel()
        #expect(StateDictionary.counters(of: restored).map(\.value) == [2, 2])
    }
}
