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

    @Test("CNN conv 3×3 → batch norm (running statistics) → ReLU → max-pool → flatten → dense (float32): within 1e-5")
    func cnn() throws {
        #expect(try fixtureError("cnn", as: Float.self) < 1e-5)
        // PyTorch's state_dict holds num_batches_tracked (I64, shape []): read into the layer.
        let loaded = try ModelFile.load(Float.self, from: fixture("cnn"))
        #expect(try #require(loaded.model.layers[1] as? BatchNorm2D<Float>).batchesTracked == 5)
        var weights = try SafeTensors(contentsOf: fixture("cnn", "model.safetensors"))
        #expect(weights.tensors["1.num_batches_tracked"] == .init(integers: [5], shape: []))
        weights.tensors["0.num_batches_tracked"] = .init(integers: [5], shape: [])
        #expect(throws: ModelFileError.tensorsMismatch(file: "weights", missing: [], unexpected: ["0.num_batches_tracked"])) {
            try StateDictionary.load(weights, into: loaded.model)
        }
    }

    @Test("PyTorch's layer options (leaky ReLU 0.2, padded ceil-mode pooling, GELU both ways, log-softmax, batch norm 1-D and 2-D) on 7×7 images (float64): within 1e-12")
    func layerOptions() throws {
        #expect(try fixtureError("options_f64", as: Double.self) < 1e-12)
        let loaded = try ModelFile.load(Double.self, from: fixture("options_f64"))
        #expect(loaded.architecture.layers[3] == .maxPool2D(kernelSize: [2, 2], stride: [2, 2], padding: [1, 1], ceilMode: true))
        #expect(loaded.architecture.layers[4] == .activation(function: .gelu, approximate: .tanh))
        #expect(loaded.architecture.layers[9] == .activation(function: .gelu))
        #expect(loaded.architecture.layers[11] == .activation(function: .logSoftmax, axis: 1))
        let counters = StateDictionary.counters(of: loaded.model)
        #expect(counters.map(\.name) == ["1.num_batches_tracked", "8.num_batches_tracked"])
        #expect(counters.map(\.value) == [5, 5])
        #expect(try loaded.model.summary(inputShape: [2, 7, 7]).contains("MaxPool2D(2×2, padding 1, ceil mode)"))
    }

    /// Trains a small MLP and a small CNN on toy problems, saves each with a batch and
    /// the model's output beside it, for check_backprop_model.py: into
    /// `$BACKPROP_INTEROP_DIR/mlp` and `…/cnn` when that is set, else a temporary directory.
    @Test("trained Backprop models are written for PyTorch (check_backprop_model.py compares outputs)")
    func trainedModelsForPyTorch() throws {
        let keep = ProcessInfo.processInfo.environment["BACKPROP_INTEROP_DIR"]
        let temporary = try TemporaryDirectory()
        defer { temporary.cleanUp() }
        try writeTrainedModels(to: keep ?? temporary.path)
        if let keep { print("wrote trained models for check_backprop_model.py to \(keep)/mlp and \(keep)/cnn") }
    }

    /// Whether `python3` can import torch here: the PyTorch side of the interop test runs
    /// only then, and is reported as skipped otherwise.
    static let pyTorchImportable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import torch, numpy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    @Test("trained Backprop models load in PyTorch and give the same outputs (runs where python3 imports torch)",
          .enabled(if: pyTorchImportable, "python3 cannot import torch here"))
    func trainedModelsRunInPyTorch() throws {
        let temporary = try TemporaryDirectory()
        defer { temporary.cleanUp() }
        try writeTrainedModels(to: temporary.path)
        for name in ["mlp", "cnn"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", fixture("", "check_backprop_model.py"), ModelFile.path(temporary.path, name), "1e-5"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            print(text.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(process.terminationStatus == 0, "\(name): \(text)")
        }
    }

    /// Trains a small MLP and a small CNN and saves each with a batch and its outputs.
    private func writeTrainedModels(to root: String) throws {
        var generator = RandomSource(seed: 11)

        let features = Tensor<Float>.randomNormal([200, 6], using: &generator)
        // Class = which of the first three features is largest.
        let labels = (0..<200).map { i in (0..<3).max { features[i, $0] < features[i, $1] }! }
        let mlp = Sequential<Float>(seed: 3) {
            Dense(inputSize: 6, outputSize: 16)
            ReLU()
            Dropout(probability: 0.1)
            Dense(inputSize: 16, outputSize: 3)
            Softmax()
        }
        let accuracy = try train(mlp, features, labels, epochs: 30)
        #expect(accuracy > 0.8)
        try save(mlp, batch: features.slice(alongAxis: 0, 0..<10), to: ModelFile.path(root, "mlp"))

        let images = Tensor<Float>.randomNormal([64, 1, 6, 6], using: &generator)
        // Class = whether the left half of the image is brighter than the right.
        let sides = (0..<64).map { n in
            (0..<36).reduce(Float(0)) { $0 + ($1 % 6 < 3 ? 1 : -1) * images[n, 0, $1 / 6, $1 % 6] } > 0 ? 1 : 0
        }
        // With PyTorch's layer options: 6×6 → max-pool 2, padding 1, ceil mode → 4×4.
        let cnn = Sequential<Float>(seed: 4) {
            Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 4)
            LeakyReLU(negativeSlope: 0.2)
            MaxPool2D(kernelSize: 2, padding: 1, ceilMode: true)
            GELU(approximate: .tanh)
            AvgPool2D(kernelSize: 3, stride: 1, padding: 1, countIncludePad: false)
            Flatten()
            Dense(inputSize: 64, outputSize: 2)
            Softmax(axis: 1)
        }
        _ = try train(cnn, images, sides, epochs: 5)
        try save(cnn, batch: images.slice(alongAxis: 0, 0..<8), to: ModelFile.path(root, "cnn"))
    }

    private func train(_ model: Sequential<Float>, _ features: Tensor<Float>, _ labels: [Int], epochs: Int) throws -> Double {
        var optimizer = try Adam<Float>(learningRate: 0.01)
        let classes = labels.max()! + 1
        let history = try fit(model, optimizer: &optimizer,
                              data: try Dataset(features: features, targets: .labels(labels, classes: classes)),
                              configuration: FitConfiguration(epochs: epochs, batchSize: .examples(16), loss: .crossEntropy, seed: 5))
        return history.epochs.last!.training.accuracy!
    }

    /// Saves `model`, `batch` as input.npy and the model's output as output.npy, and
    /// checks that the saved model gives the same output.
    private func save(_ model: Sequential<Float>, batch: Tensor<Float>, to directory: String) throws {
        try ModelFile.save(model, to: directory, inputShape: Array(batch.shape.dropFirst()))
        try NPYArray(batch).write(to: ModelFile.path(directory, "input.npy"))
        try NPYArray(model.predict(batch)).write(to: ModelFile.path(directory, "output.npy"))
        let reloaded = try ModelFile.load(Float.self, from: directory)
        #expect(reloaded.model.predict(batch) == model.predict(batch))
    }
}
