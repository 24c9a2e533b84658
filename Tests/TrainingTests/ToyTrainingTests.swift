import Datasets
import NeuralNetworks
import Tensors
import Testing
import Training

/// Known results on the toy sets: each trained on its training split and measured on a
/// test split drawn with the next seed.
@Suite("toy data: known results")
struct ToyTrainingTests {
    static func accuracy(_ name: String, classes: Int = 3, network: String, epochs: Int, learningRate: Double = 0.01,
                         samples: Int = 400) throws -> Double {
        let train = try ToyData.dataset(name, samples: samples, classes: classes, seed: 1)
        let test = try ToyData.dataset(name, samples: samples, classes: classes, seed: 2)
        let model = try NetworkSpec(parsing: network).build(Float.self, seed: 3)
        var optimizer = try Adam<Float>(learningRate: learningRate)
        _ = try fit(model, optimizer: &optimizer, data: train, configuration: FitConfiguration(
            epochs: epochs, batchSize: .examples(32), loss: .crossEntropy, seed: 4))
        return try evaluate(model, on: test, loss: .crossEntropy).accuracy ?? 0
    }

    @Test("XOR: 100 % with one hidden layer of 8 tanh units")
    func xor() throws {
        let accuracy = try Self.accuracy("xor", network: "2 8:tanh 2:softmax", epochs: 60)
        print("toy xor test accuracy \(accuracy)")
        #expect(accuracy == 1)
    }

    @Test("moons and circles: at least 97 %", arguments: ["moons", "circles"])
    func curved(name: String) throws {
        let accuracy = try Self.accuracy(name, network: "2 16:tanh 16:tanh 2:softmax", epochs: 150)
        print("toy \(name) test accuracy \(accuracy)")
        #expect(accuracy >= 0.97)
    }

    @Test("three spirals: at least 95 %")
    func spirals() throws {
        let accuracy = try Self.accuracy("spirals", network: "2 64:relu 64:relu 3:softmax", epochs: 300, samples: 600)
        print("toy spirals test accuracy \(accuracy)")
        #expect(accuracy >= 0.95)
    }

    @Test("housing: one ReLU neuron, the notes' first network, recovers the price line")
    func housing() throws {
        let train = try ToyData.dataset("housing", samples: 400, seed: 1)
        let model = Sequential<Float>(seed: 5) { Dense(inputSize: 1, outputSize: 1, weightInitializer: .constant(50)); ReLU() }
        var optimizer = try Adam<Float>(learningRate: 1)
        _ = try fit(model, optimizer: &optimizer, data: train, configuration: FitConfiguration(
            epochs: 400, batchSize: .examples(64), loss: .meanSquaredError, seed: 6))
        let weight = Double(model.namedParameters[0].tensor.scalar), bias = Double(model.namedParameters[1].tensor.scalar)
        print("housing neuron: price ≈ ReLU(\(weight) · size + \(bias))")
        // The generator's line: 200 k$ per 1000 ft², zero at 750 ft² (bias −150).
        #expect(abs(weight - 200) < 10 && abs(bias + 150) < 15)
    }
}
