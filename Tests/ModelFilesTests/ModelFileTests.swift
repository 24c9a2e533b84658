import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import ModelFiles

@Suite("Model files: architecture JSON + safetensors weights")
struct ModelFileTests {
    @Test("save and load: same architecture, same weights, same outputs; class names and preprocessing kept")
    func roundTrip() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = smallNetwork(Double.self)
        let standardization = Standardization(fittedTo: Tensor<Double>([[1, 2, 3, 4], [3, 2, 1, 0]]))
        try ModelFile.save(model, to: directory.path, inputShape: [4], classNames: ["a", "b", "c"],
                           preprocessing: JSONValue(encoding: standardization))
        #expect(try directory.contents() == ["model.json", "model.safetensors"])
        let loaded = try ModelFile.load(Double.self, from: directory.path)
        #expect(loaded.architecture.classNames == ["a", "b", "c"])
        #expect(loaded.architecture.inputShape == [4])
        #expect(loaded.architecture.scalarType == "float64")
        #expect(try loaded.architecture.preprocessing?.decoded(as: Standardization.self) == standardization)
        #expect(loaded.model.namedParameters.map(\.name) == model.namedParameters.map(\.name))
        for (a, b) in zip(loaded.model.namedParameters, model.namedParameters) { #expect(a.tensor == b.tensor, "\(a.name)") }
        let input = Tensor<Double>([[0.1, -2, 3, 0.5], [1, 1, 1, 1]])
        #expect(loaded.model.predict(input) == model.predict(input))
    }

    @Test("a trained CNN with batch norm saves and loads: running statistics kept, same outputs")
    func convolutional() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = Sequential<Float>(seed: 2) {
            Conv2D(inputChannels: 1, outputChannels: 3, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 3)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Flatten()
            Dense(inputSize: 12, outputSize: 2)
        }
        var generator = RandomSource(seed: 3)
        let input = Tensor<Float>.randomNormal([4, 1, 4, 4], mean: 1, standardDeviation: 2, using: &generator)
        _ = model(input)  // training mode: moves the running statistics
        try ModelFile.save(model, to: directory.path, inputShape: [1, 4, 4])
        let weights = try SafeTensors(contentsOf: directory.file(ModelFile.weightsFileName))
        #expect(weights.tensors.keys.sorted() == ["0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean",
                                                  "1.running_var", "1.weight", "5.bias", "5.weight"])
        let loaded = try ModelFile.load(Float.self, from: directory.path)
        #expect(loaded.model.predict(input) == model.predict(input))
    }

    @Test("the weights are a PyTorch state_dict: names, F32, shapes [out, in]")
    func stateDictionary() throws {
        let file = StateDictionary.safeTensors(of: smallNetwork(Float.self))
        #expect(file.tensors.keys.sorted() == ["0.bias", "0.weight", "3.weight"])
        #expect(file.tensors["0.weight"]?.shape == [6, 4] && file.tensors["0.weight"]?.dataType == .float32)
        #expect(file.metadata == ["format": "pt"])
    }

    // MARK: - Bad files: each a typed error with one line

    /// Saves the small network, lets `damage` change the weights, and loads.
    private func loadDamaged(_ damage: (inout SafeTensors) -> Void) throws -> ModelFileError? {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        try ModelFile.save(smallNetwork(Float.self), to: directory.path)
        let weightsPath = directory.file(ModelFile.weightsFileName)
        var weights = try SafeTensors(contentsOf: weightsPath)
        damage(&weights)
        try weights.write(to: weightsPath)
        let error = #expect(throws: ModelFileError.self) { try ModelFile.load(Float.self, from: directory.path) }
        return error.map { error in
            guard case .tensorsMismatch(let file, let missing, let unexpected) = error else { return error }
            #expect(file == weightsPath)
            return .tensorsMismatch(file: "w", missing: missing, unexpected: unexpected)
        }
    }

    @Test("a missing tensor and an unexpected one are both reported")
    func missingTensor() throws {
        let error = try loadDamaged { weights in
            weights.tensors["3.weight"] = nil
            weights.tensors["4.weight"] = .init(Tensor<Float>([1]))
        }
        #expect(error == .tensorsMismatch(file: "w", missing: ["3.weight"], unexpected: ["4.weight"]))
        #expect(error?.description == "w does not match the architecture: missing '3.weight'; unexpected '4.weight'")
    }

    @Test("a tensor of the wrong type or shape names the tensor and both")
    func wrongTensor() throws {
        let type = try loadDamaged { $0.tensors["0.bias"] = .init(Tensor<Double>.zeros([6])) }
        #expect(type?.description.hasSuffix("model.safetensors: tensor '0.bias' is F64, the model needs F32") == true)
        let shape = try loadDamaged { $0.tensors["0.weight"] = .init(Tensor<Float>.zeros([4, 6])) }
        #expect(shape?.description.hasSuffix("model.safetensors: tensor '0.weight' has shape [4, 6], the architecture needs [6, 4]") == true)
    }

    @Test("a save stopped between its two files still loads, as the new model, with a note; a complete save has none")
    func interruptedSave() throws {
        let (old, new) = (try TemporaryDirectory(), try TemporaryDirectory())
        defer { old.cleanUp(); new.cleanUp() }
        let before = smallNetwork(Float.self)
        let after = Sequential<Float>(seed: 9) { Dense(inputSize: 4, outputSize: 2); Sigmoid() }
        try ModelFile.save(before, to: old.path, inputShape: [4], classNames: ["a", "b", "c"])
        try ModelFile.save(after, to: new.path, inputShape: [4], classNames: ["no", "yes"])
        #expect(try ModelFile.load(Float.self, from: old.path).note == nil)
        // The state a kill leaves after the new weights are renamed into place and before
        // model.json is: new weights beside the old architecture.
        let weights = ModelFile.weightsFileName
        try FileManager.default.removeItem(atPath: old.file(weights))
        try FileManager.default.copyItem(atPath: new.file(weights), toPath: old.file(weights))
        let loaded = try ModelFile.load(Float.self, from: old.path)
        #expect(loaded.architecture.classNames == ["no", "yes"])
        let input = Tensor<Float>([[0.5, -1, 2, 0]])
        #expect(loaded.model.predict(input) == after.predict(input))
        #expect(loaded.note?.hasPrefix("\(old.file(ModelFile.architectureFileName)) does not describe the weights beside it") == true)
        // Weights from another program carry no architecture: a mismatch is an error naming the tensor.
        var foreign = try SafeTensors(contentsOf: new.file(weights))
        foreign.metadata = ["format": "pt"]
        try foreign.write(to: old.file(weights))
        let error = #expect(throws: ModelFileError.self) { try ModelFile.load(Float.self, from: old.path) }
        #expect(error == .tensorsMismatch(file: old.file(weights), missing: ["3.weight"], unexpected: []))
    }

    @Test("an architecture that is not JSON, names an unknown layer, or has impossible sizes")
    func badArchitecture() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        try ModelFile.save(smallNetwork(Float.self), to: directory.path)
        let path = directory.file(ModelFile.architectureFileName)
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let damaged = [
            "{ not json",
            original.replacingOccurrences(of: "\"dense\"", with: "\"transformer\""),
            original.replacingOccurrences(of: "\"inputSize\" : 4", with: "\"inputSize\" : -4"),
            original.replacingOccurrences(of: "\"backprop-model\"", with: "\"other-model\""),
            original.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 99"),
        ]
        for text in damaged {
            #expect(text != original)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: ModelFileError.self) { try ModelFile.load(Float.self, from: directory.path) }
            #expect(error?.description.hasPrefix("\(path): bad architecture:") == true, "\(String(describing: error))")
            #expect(error?.description.contains("\n") == false)
        }
        // Files of version 1 (before the layer options) still read; this library writes 2.
        let first = original.replacingOccurrences(of: "\"version\" : 2", with: "\"version\" : 1")
        #expect(first != original)
        let older = try ModelArchitecture(json: Data(first.utf8))
        #expect(older.version == 1)
        let _: Sequential<Float> = try older.makeModel()
        #expect(throws: ModelFileError.missingFile(directory.file("none/model.json"))) {
            try ModelFile.load(Float.self, from: directory.file("none"))
        }
    }

    @Test("an architecture with no layers, feature names that do not match its input or an input too large, is refused by name")
    func emptyOrMisnamedArchitecture() throws {
        var architecture = try ModelArchitecture(describing: smallNetwork(Float.self), inputShape: [4])
        architecture.featureNames = ["a", "b", "c", "d"]
        let _: Sequential<Float> = try architecture.makeModel()
        architecture.featureNames = ["a", "b", "c"]
        #expect(throws: ModelFileError.badArchitecture(file: "m.json", reason: "3 feature names for an input of shape [4]")) {
            let _: Sequential<Float> = try architecture.makeModel(file: "m.json")
        }
        architecture.featureNames = nil
        // A shape whose element count overflows Int: refused before any product of it.
        architecture.inputShape = [3_037_000_500, 3_037_000_500, 2]
        #expect(throws: ModelFileError.badArchitecture(file: "m.json", reason: "inputShape [3037000500, 3037000500, 2] has more than 2³¹ values")) {
            let _: Sequential<Float> = try architecture.makeModel(file: "m.json")
        }
        architecture.inputShape = [4]
        architecture.layers = []
        #expect(throws: ModelFileError.badArchitecture(file: "m.json", reason: "the model has no layers")) {
            let _: Sequential<Float> = try architecture.makeModel(file: "m.json")
        }
    }

    @Test("weights or optimizer state holding NaN or infinity are refused on loading, naming the tensor and the first bad index")
    func nonFiniteWeights() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = smallNetwork(Float.self, seed: 1)
        try ModelFile.save(model, to: directory.path)
        let weightsPath = directory.path + "/model.safetensors"
        for (bad, count) in [(Float.nan, 1), (.infinity, 2)] {
            var weights = try SafeTensors(contentsOf: weightsPath)
            var tensor = model.namedParameters[2].tensor
            tensor.updateScalars { values in for index in 1...count { values[index] = bad } }
            weights.tensors[model.namedParameters[2].name] = SafeTensors.Entry(tensor)
            try weights.write(to: weightsPath)
            let values = count == 1 ? "1 value that is" : "2 values that are"
            #expect(throws: ModelFileError.corrupt(file: weightsPath, reason: "tensor '\(model.namedParameters[2].name)' holds \(values) NaN or infinite (the first at index 1); a model cannot compute with it")) {
                _ = try ModelFile.load(Float.self, from: directory.path)
            }
        }
        // A checkpoint's optimizer state is checked the same way, naming the file.
        var optimizer = try SGD<Float>(learningRate: 0.1, momentum: 0.9)
        optimizer.step(model, gradients: model.namedParameters.map {
            Tensor(shape: $0.tensor.shape, scalars: [Float](repeating: 1, count: $0.tensor.count))
        })
        var checkpoint = try Checkpoint(model: model, optimizer: optimizer, epoch: 1, generator: RandomSource(seed: 1))
        let key = checkpoint.optimizerState.keys.sorted()[0]
        checkpoint.optimizerState[key]!.updateScalars { $0[0] = .nan }
        let checkpointPath = directory.path + "/checkpoint.safetensors"
        try checkpoint.write(to: checkpointPath)
        #expect(throws: ModelFileError.corrupt(file: checkpointPath, reason: "tensor 'optimizer.\(key)' holds 1 value that is NaN or infinite (the first at index 0); a model cannot compute with it")) {
            _ = try Checkpoint<Float>(contentsOf: checkpointPath)
        }
    }

    @Test("a model.safetensors alone loads with the architecture saved in it, and a note saying so")
    func weightsAlone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = smallNetwork(Float.self, seed: 3)
        try ModelFile.save(model, to: directory.path)
        try FileManager.default.removeItem(atPath: directory.path + "/model.json")
        let loaded = try ModelFile.load(Float.self, from: directory.path)
        #expect(loaded.model.namedParameters.map(\.tensor) == model.namedParameters.map(\.tensor))
        #expect(loaded.note == "\(directory.path)/model.json is missing; used the architecture saved with the weights")
        #expect(try ModelFile.architecture(in: directory.path) == loaded.architecture)
        // Without either file, model.json is what is missing.
        try FileManager.default.removeItem(atPath: directory.path + "/model.safetensors")
        #expect(throws: ModelFileError.missingFile(directory.path + "/model.json")) { _ = try ModelFile.load(Float.self, from: directory.path) }
    }

    @Test("saving over a model replaces both files and leaves no temporary file")
    func overwrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        try ModelFile.save(smallNetwork(Float.self, seed: 1), to: directory.path)
        let second = smallNetwork(Float.self, seed: 2)
        try ModelFile.save(second, to: directory.path)
        #expect(try directory.contents() == ["model.json", "model.safetensors"])
        let loaded = try ModelFile.load(Float.self, from: directory.path)
        #expect(loaded.model.namedParameters.map(\.tensor) == second.namedParameters.map(\.tensor))
    }
}
