import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import ModelFiles

/// model.json read strictly: what Foundation's reader lets through (a key twice, a comma
/// after the last item, a key the format does not have, a version it does not know) is
/// refused in one line naming the key path.
@Suite("model.json read strictly")
struct StrictReadingTests {
    /// A version-2 model.json: `top` (members, each followed by a comma) before the layers, then `layers`.
    static func file(_ top: String = "", layers: String = #"{"dense": {"inputSize": 4, "outputSize": 3}}"#) -> String {
        #"{"format": "backprop-model", "version": 2, "scalarType": "float32", \#(top)"inputShape": [4], "layers": [\#(layers)]}"#
    }

    /// The 1-based column just after the last occurrence of `text` in `file` (one line).
    static func column(after text: String, in file: String) -> Int {
        file.utf8.distance(from: file.utf8.startIndex, to: file.range(of: text, options: .backwards)!.upperBound) + 1
    }

    func refusal(_ text: String) -> String? {
        let error = #expect(throws: ModelFileError.self) { try ModelArchitecture(json: Data(text.utf8), file: "model.json") }
        return error?.description
    }

    @Test("a format version other than 1 or 2 (0, negative, newer) is refused, saying which versions are read")
    func versions() {
        for (version, reason) in [(0, "0 is not a format version this library reads"), (-1, "-1 is not a format version this library reads"),
                                  (3, "format version 3 is newer than this library's")] {
            let text = Self.file().replacingOccurrences(of: #""version": 2"#, with: #""version": \#(version)"#)
            #expect(refusal(text) == "model.json: bad architecture: 'version': \(reason) (it reads versions 1 and 2)")
        }
        for version in [1, 2] {
            let text = Self.file().replacingOccurrences(of: #""version": 2"#, with: #""version": \#(version)"#)
            #expect(throws: Never.self) { _ = try ModelArchitecture(json: Data(text.utf8)).makeModel(Float.self) }
        }
    }

    @Test("a key twice in one object, at the top or in a layer, is refused naming it")
    func duplicateKeys() {
        let top = Self.file(#""task": "classification", "task": "regression", "#)
        #expect(refusal(top) == "model.json: bad architecture: not a valid architecture JSON ('task': the key appears twice in its object (line 1, column \(Self.column(after: #""task""#, in: top))))")
        let layer = Self.file(layers: #"{"dense": {"inputSize": 4, "outputSize": 3, "outputSize": 5}}"#)
        #expect(refusal(layer) == "model.json: bad architecture: not a valid architecture JSON ('layers[0].dense.outputSize': the key appears twice in its object (line 1, column \(Self.column(after: #""outputSize""#, in: layer))))")
        // The same key spelt with an escape is the same key.
        let escaped = Self.file(layers: #"{"dense": {"inputSize": 4, "outputSize": 3, "output\u0053ize": 5}}"#)
        #expect(refusal(escaped)?.contains("'layers[0].dense.outputSize': the key appears twice in its object") == true, "\(refusal(escaped) ?? "")")
    }

    @Test("an unknown key at the top, in a layer or in a nested layer is refused naming its path and the keys there are")
    func unknownKeys() {
        #expect(refusal(Self.file(#""outputsize": 3, "#)) == "model.json: bad architecture: not a valid architecture JSON ('outputsize': unknown key; expected one of classNames, featureNames, format, inputShape, layers, preprocessing, scalarType, targetName, targetPreprocessing, task, version)")
        let layers = #"{"dense": {"inputSize": 4, "outputSize": 3}}, {"dense": {"inputSize": 3, "outputSize": 2, "usebias": false}}"#
        #expect(refusal(Self.file(layers: layers)) == "model.json: bad architecture: not a valid architecture JSON ('layers[1].dense.usebias': unknown key; expected one of inputSize, outputSize, useBias)")
        let nested = #"{"sequential": {"layers": [{"dense": {"inputSize": 4, "outputSize": 3, "bias": true}}]}}"#
        #expect(refusal(Self.file(layers: nested)) == "model.json: bad architecture: not a valid architecture JSON ('layers[0].sequential.layers[0].dense.bias': unknown key; expected one of inputSize, outputSize, useBias)")
    }

    @Test("a comma after the last item of a list or the last member of an object is refused naming where")
    func trailingCommas() {
        let list = Self.file(layers: #"{"dense": {"inputSize": 4, "outputSize": 3}},"#)
        #expect(refusal(list) == "model.json: bad architecture: not a valid architecture JSON ('layers': a comma before ']': JSON has none after the last item (line 1, column \(Self.column(after: "}},", in: list))))")
        let member = Self.file(layers: #"{"dense": {"inputSize": 4, "outputSize": 3,}}"#)
        #expect(refusal(member) == "model.json: bad architecture: not a valid architecture JSON ('layers[0].dense': a comma before '}': JSON has none after the last member (line 1, column \(Self.column(after: "3,", in: member))))")
        let top = "{\n  \"format\": \"backprop-model\",\n  \"version\": 2,\n  \"scalarType\": \"float32\",\n  \"layers\": [{\"flatten\": {}}],\n}\n"
        #expect(refusal(top) == "model.json: bad architecture: not a valid architecture JSON (a comma before '}': JSON has none after the last member (line 6, column 1))")
        let shape = Self.file().replacingOccurrences(of: "[4]", with: "[4, ]")
        #expect(refusal(shape)?.contains("('inputShape': a comma before ']'") == true, "\(refusal(shape) ?? "")")
    }

    @Test("what the library writes reads back equal, standardisations and every layer kind included; so do Fixtures' files")
    func libraryFilesRead() throws {
        let layers: [LayerConfiguration] = [
            .conv2D(inputChannels: 1, outputChannels: 2, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], useBias: true),
            .batchNorm2D(channels: 2, momentum: 0.1, epsilon: 1e-5), .activation(function: .leakyReLU, negativeSlope: 0.2),
            .maxPool2D(kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false), .flatten, .dropout(probability: 0.25),
            .sequential(layers: [.dense(inputSize: 18, outputSize: 3, useBias: true), .activation(function: .gelu, approximate: .tanh)]),
            .batchNorm1D(features: 3, momentum: 0.1, epsilon: 1e-5), .activation(function: .softmax, axis: -1),
        ]
        var architecture = try ModelArchitecture(describing: Sequential<Float>(configurations: layers), inputShape: [1, 6, 6],
                                                 classNames: ["a \"quoted\" name", "ü/é", "tab\there"],
                                                 preprocessing: JSONValue(encoding: ["scope": "perChannel"]))
        architecture.task = "classification"
        architecture.featureNames = nil
        architecture.targetName = "label"
        for text in [architecture.json(), architecture.compactJSON()] {
            #expect(try ModelArchitecture(json: text) == architecture)
        }
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        for name in ["mlp", "mlp_f64", "cnn", "options_f64"] {
            #expect(throws: Never.self, "\(name)") { _ = try ModelArchitecture(contentsOf: fixtures.appendingPathComponent("\(name)/model.json").path) }
        }
    }
}
