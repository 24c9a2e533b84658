import Foundation
import NeuralNetworks
import Tensors
@testable import ModelFiles

/// A fresh temporary directory, removed by `cleanUp`.
struct TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("modelfiles-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// The committed PyTorch fixtures (Fixtures/, copied as a resource).
func fixture(_ directory: String, _ file: String = "") -> String {
    let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    return root.appendingPathComponent(directory).appendingPathComponent(file).path
}

/// The largest absolute difference between two tensors of the same shape.
func maxAbsoluteError<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Double {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    return zip(a.scalars, b.scalars).map { abs(Double($0) - Double($1)) }.max() ?? 0
}

/// A small MLP with every describable layer kind.
func smallNetwork<S: TensorScalar>(_: S.Type = S.self, seed: UInt64 = 7) -> Sequential<S> {
    Sequential<S>(seed: seed) {
        Dense(inputSize: 4, outputSize: 6)
        Tanh()
        Dropout(probability: 0.25)
        Dense(inputSize: 6, outputSize: 3, useBias: false)
        Softmax()
    }
}
