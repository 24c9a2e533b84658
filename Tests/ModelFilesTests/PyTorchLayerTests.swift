import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import ModelFiles

/// Single layers with PyTorch's options against PyTorch's own values
/// (Fixtures/layers/goldens.json, written by Fixtures/make_layer_goldens.py): the layer is
/// read from the same JSON that model.json holds, run in Float64 and differentiated, and
/// its output and gradients must equal PyTorch's to rounding.
@Suite("PyTorch layer goldens")
struct PyTorchLayerTests {
    struct Values: Decodable {
        let shape: [Int]?
        let values: [Double]
    }

    enum Buffer: Decodable {
        case tensor([Double])
        case counter(Int)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let counter = try? container.decode(Int.self) { self = .counter(counter) } else {
                self = .tensor(try container.decode([Double].self))
            }
        }
    }

    struct Case: Decodable, CustomTestStringConvertible {
        let name: String
        let layer: LayerConfiguration
        let input: Values
        let parameters: [String: [Double]]
        let output: Values
        let upstream: [Double]
        let inputGradient: [Double]
        let parameterGradients: [String: [Double]]
        let buffers: [String: Buffer]

        var testDescription: String { name }
    }

    struct Goldens: Decodable {
        let cases: [Case]
    }

    static let cases: [Case] = {
        let path = fixture("layers", "goldens.json")
        guard let data = FileManager.default.contents(atPath: path),
              let goldens = try? JSONDecoder().decode(Goldens.self, from: data) else { return [] }
        return goldens.cases
    }()

    @Test("the goldens are read")
    func read() {
        #expect(Self.cases.count == 17)
    }

    @Test("forward values, input and parameter gradients equal PyTorch's", arguments: cases)
    func golden(_ golden: Case) throws {
        try golden.layer.validate()
        let layer = golden.layer.makeLayer(Double.self)
        layer.isTraining = true
        let names = layer.namedParameters.map(\.name)
        #expect(Set(names) == Set(golden.parameters.keys))
        layer.visitParameters { name, parameter in parameter.assign(golden.parameters[name]!) }
        let shape = try #require(golden.input.shape)
        let x = Tensor<Double>(shape: shape, scalars: golden.input.values).requiringGradient()
        #expect(try layer.outputShape(forInput: Array(shape.dropFirst())) == Array(golden.output.shape!.dropFirst()))
        let y = layer(x)
        #expect(y.shape == golden.output.shape)
        #expect(largestDifference(y.scalars, golden.output.values) < 1e-12, "output")
        (y * Tensor(shape: y.shape, scalars: golden.upstream)).sum().backward()
        #expect(largestDifference(x.gradient?.scalars ?? [], golden.inputGradient) < 1e-12, "input gradient")
        for (name, parameter) in layer.namedParameters {
            #expect(largestDifference(parameter.gradient?.scalars ?? [], golden.parameterGradients[name] ?? []) < 1e-12,
                    "gradient of \(name)")
        }
        guard let buffered = layer as? any BufferedLayer<Double> else {
            #expect(golden.buffers.isEmpty)
            return
        }
        for (name, buffer) in buffered.namedBuffers {
            guard case .tensor(let expected) = golden.buffers[name] else { Issue.record("no buffer \(name)"); continue }
            #expect(largestDifference(buffer.scalars, expected) < 1e-12, "\(name)")
        }
        for (name, value) in buffered.namedCounters {
            guard case .counter(let expected) = golden.buffers[name] else { Issue.record("no counter \(name)"); continue }
            #expect(value == expected, "\(name)")
        }
    }

    /// The largest |a − b|, relative above 1 (∞ for different lengths).
    func largestDifference(_ a: [Double], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
    }
}
