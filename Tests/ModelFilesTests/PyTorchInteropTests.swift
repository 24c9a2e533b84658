import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
import Training
@testable import ModelFiles

/// Models made in PyTorch (Fixtures/make_fixtures.py) run in Backprop, and a model trained
/// in Backprop runs in PyTorch (Fixtures/check_backprop_model.py).
@Suite("PyTorch interop")
struct PyTorchInteropTests {
    /// Loads fixture `name` and returns the largest difference from PyTorch's output.
    func fixtureError<S: TensorScalar>(_ name: String, as _: S.Type) throws -> Double {
        let loaded = try ModelFile.load(S.self, from: fixture(name))
        let input: Tensor<S> = try NPYArray(contentsOf: fixture(name, "input.npy")).tensor()
        let expected: Tensor<S> = try NPYArray(contentsOf: fixture(name, "output.npy")).tensor()
        let error = maxAbsoluteError(loaded.model.predict(input), expected)
        print("PyTorch fixture \(name): \(loaded.model.parameterCount) parameters, max abs error \(error)")
        return error
    }

    @Test("MLP 6 → 5 ReLU → 3 softmax (float32): PyTorch's output within 1e-5")
    func mlp() throws {
        #expect(try fixtureError("mlp", as: Float.self) < 1e-5)
        let architecture = try ModelArchitecture(contentsOf: fixture("mlp", "model.json"))
        #expect(architecture.classNames == ["cat", "dog", "bird"])
    }

    @Test("MLP 4 → 7 tanh → 3 sigmoid → 2 without bias (float64): within 1e-12")
    func mlpDouble() throws {
        #expect(try fixtureError("mlp_f64", as: Double.self) < 1e-12)
        // Float64 weights are not silently narrowed into a Float model.
        #expect(throws: ModelFileError.self) { try ModelFile.load(Float.self, from: fixture("mlp_f64")) }
    }

    /// Trains a small network on a toy problem, saves it and writes a batch and the
    /// model's output beside it, for check_backprop_model.py. The directory is
    /// `BACKPROP_INTEROP_DIR` when set (to run the script on it), else a temporary one.
    @Test("a trained Backprop model is written for PyTorch (check_backprop_model.py compares outputs)")
    func trainedModelForPyTorch() throws {
        let keep = ProcessInfo.processInfo.environment["BACKPROP_INTEROP_DIR"]
        let temporary = try TemporaryDirectory()
        defer { temporary.cleanUp() }
        let directory = keep ?? temporary.path
        var generator = RandomSource(seed: 11)
        let features = Tensor<Float>.randomNormal([200, 6], using: &generator)
        // Class = which of the first three features is largest.
        let labels = (0..<200).map { i in (0..<3).max { features[i, $0] < features[i, $1] }! }
        let model = Sequential<Float>(seed: 3) {
            Dense(inputSize: 6, outputSize: 16)
            ReLU()
            Dropout(probability: 0.1)
            Dense(inputSize: 16, outputSize: 3)
            Softmax()
        }
        var optimizer = try Adam<Float>(learningRate: 0.01)
        let history = try fit(model, optimizer: &optimizer,
                              data: LabeledData(features: features, targets: .labels(labels, classes: 3)),
                              configuration: FitConfiguration(epochs: 30, batchSize: .examples(20), loss: .crossEntropy, seed: 5))
        #expect(history.epochs.last!.training.accuracy! > 0.8)
        try ModelFile.save(model, to: directory, inputShape: [6], classNames: ["first", "second", "third"])
        let batch = features.slice(alongAxis: 0, 0..<10)
        try NPYArray(batch).write(to: ModelFile.path(directory, "input.npy"))
        try NPYArray(model.predict(batch)).write(to: ModelFile.path(directory, "output.npy"))
        let reloaded = try ModelFile.load(Float.self, from: directory)
        #expect(reloaded.model.predict(batch) == model.predict(batch))
        if keep != nil { print("wrote a trained model for check_backprop_model.py to \(directory)") }
    }
}
