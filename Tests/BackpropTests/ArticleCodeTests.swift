import Backprop
import Foundation
import Testing

/// The Swift snippets of the documentation's articles (`Sources/Backprop/Backprop.docc`),
/// as written there, with the claims their comments make: so that they compile against
/// the current API and say what the library does.
@Suite("documentation: the articles' code")
struct ArticleCodeTests {
    @Test("Supervised learning with a neuron: the housing ReLU neuron and logistic regression")
    func neuron() throws {
        let neuron = Sequential<Float>(seed: 5) {
            Dense(inputSize: 1, outputSize: 1, weightInitializer: .constant(50))
            ReLU()
        }
        let houses = try ToyData.dataset("housing", samples: 400, seed: 1)
        var optimizer = try Adam<Float>(learningRate: 1)
        _ = try fit(neuron, optimizer: &optimizer, data: houses,
                    configuration: FitConfiguration(epochs: 400, batchSize: .examples(64),
                                                    loss: .meanSquaredError, seed: 6))
        let (weight, bias) = (neuron.namedParameters[0].tensor.scalar, neuron.namedParameters[1].tensor.scalar)
        #expect(abs(weight - 200) < 10 && abs(bias + 150) < 15, "ReLU(\(weight)·size + \(bias))")

        let logistic = Sequential<Float>(seed: 1) {
            Dense(inputSize: 3, outputSize: 1)
            Sigmoid()
        }
        #expect(logistic.parameterCount == 4)
    }

    @Test("Neural networks and vectorisation: 3n + 14 parameters, and identity layers collapse")
    func vectorisation() {
        let network = Sequential<Float>(seed: 1) {
            Dense(inputSize: 4, outputSize: 3)
            ReLU()
            Dense(inputSize: 3, outputSize: 1)
        }
        #expect(network.parameterCount == 4 * 3 + 3 + 3 + 1)

        let small = Sequential<Float>(seed: 1) {
            Dense(inputSize: 10, outputSize: 3)
            Sigmoid()
            Dense(inputSize: 3, outputSize: 2)
            Sigmoid()
            Dense(inputSize: 2, outputSize: 1)
            Sigmoid()
        }
        #expect(small.parameterCount == 3 * 10 + 14)

        let linear = Sequential<Double>(seed: 2) {
            Dense(inputSize: 3, outputSize: 4, useBias: false)
            Identity()
            Dense(inputSize: 4, outputSize: 1, useBias: false)
        }
        let w1 = (linear.layers[0] as! Dense<Double>).weight
        let w2 = (linear.layers[2] as! Dense<Double>).weight
        let collapsed = matmul(w2, w1)
        let x = Tensor<Double>([[1, 2, 3]])
        #expect(collapsed.shape == [1, 3])
        let difference = (linear(x) - matmul(x, collapsed.transposed())).abs().sum().scalar
        #expect(difference < 1e-12)
    }

    @Test("Backpropagation: autodiff of a small expression, and a gradient check")
    func backpropagation() {
        let w = Tensor<Double>([[0.5, -1], [2, 0.25]]).requiringGradient()
        let x = Tensor<Double>([[1, 2]])
        let loss = sigmoid(matmul(x, w)).sum()
        loss.backward()
        #expect(w.gradient?.shape == [2, 2])
        // ∂/∂w_ij of Σ_j σ((xw)_j) = x_i σ'((xw)_j).
        func derivative(_ z: Double) -> Double {
            let s = 1 / (1 + Foundation.exp(-z))
            return s * (1 - s)
        }
        let z: [Double] = [0.5 + 4, -1 + 0.5]
        let expected: [Double] = [1.0, 2.0].flatMap { xi in z.map { xi * derivative($0) } }
        #expect(zip(w.gradient!.scalars, expected).allSatisfy { abs($0 - $1) < 1e-12 })

        var generator = RandomSource(seed: 1)
        let input = Tensor<Double>.randomNormal([3, 4], using: &generator)
        let result = GradientCheck.check([input]) { inputs in inputs[0].tanh().sum() }
        #expect(result.worst < 1e-8, "\(result)")
    }

    @Test("Initialisation and optimisation: equal weights stay equal; the optimisers of the article")
    func initialisationAndOptimisation() throws {
        let symmetric = Sequential<Float>(seed: 1) {
            Dense(inputSize: 2, outputSize: 4, weightInitializer: .constant(0.5))
            Tanh()
            Dense(inputSize: 4, outputSize: 1, weightInitializer: .constant(0.5))
        }
        var optimizer = try SGD<Float>(learningRate: 0.1)
        let configuration = try FitConfiguration(
            epochs: 20, batchSize: .examples(32), loss: .crossEntropy, seed: 1)
        #expect(configuration.largestBatch(of: 100) == 32)
        var generator = RandomSource(seed: 2)
        let x = Tensor<Float>.randomNormal([16, 2], using: &generator), y = Tensor<Float>.randomNormal([16, 1], using: &generator)
        let mse = Loss.meanSquaredError
        for _ in 0..<10 {
            mse(symmetric(x), targets: y).backward()
            optimizer.step(symmetric)
        }
        let hidden = (symmetric.layers[0] as! Dense<Float>).weight.scalars
        let units = stride(from: 0, to: hidden.count, by: 2).map { Array(hidden[$0..<$0 + 2]) }
        #expect(hidden[0] != 0.5 && units.allSatisfy { $0 == units[0] }, "the four hidden units stay equal: \(units)")

        let notesMomentum = try SGD<Float>(
            learningRate: 0.1, momentum: 0.9, momentumForm: .notes)
        let regularised = try SGD<Float>(learningRate: 0.1, weightDecay: 1e-3)
        #expect(notesMomentum.momentumForm == .notes && regularised.weightDecay == 1e-3)
    }

    @Test("Convolutional networks: 49 shared parameters, a 61×61 output, the small network")
    func convolution() throws {
        let convolution = Conv2D<Float>(
            inputChannels: 3, outputChannels: 1, kernelSize: 4)
        #expect(convolution.parameterCount == 49)
        #expect(try convolution.outputShape(forInput: [3, 64, 64]) == [1, 61, 61])
        let denseParameters: Int = 12_288 * 3_721 + 3_721
        #expect(denseParameters == 45_727_369)

        let cnn = Sequential<Float>(seed: 1) {
            Conv2D(inputChannels: 1, outputChannels: 16, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Conv2D(inputChannels: 16, outputChannels: 32, kernelSize: 3, padding: 1)
            ReLU()
            GlobalAveragePool2D()
            Dense(inputSize: 32, outputSize: 10)
            Softmax()
        }
        let summary = try cnn.summary(inputShape: [1, 28, 28])
        #expect(summary.contains("[16, 14, 14]") && summary.contains("[32, 14, 14]"))
        #expect(try cnn.outputShape(forInput: [1, 28, 28]) == [10])
    }

    @Test("Data and files: a CSV file with text labels, and a model saved and loaded")
    func dataAndFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("Examples/data/flowers.csv").path
        let flowers = try CSVFormat.load(path,
                                         options: CSVOptions(target: .name("species")),
                                         as: Float.self)
        #expect("\(flowers.task!) \(flowers.classes!.names)" == #"classification ["setosa", "versicolor", "virginica"]"#)

        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("backprop-article-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = Sequential<Float>(seed: 3) { Dense(inputSize: 2, outputSize: 2); Softmax() }
        try ModelFile.save(model, to: directory, inputShape: [2], classNames: ["0", "1"])
        let loaded = try ModelFile.load(Float.self, from: directory)
        #expect(loaded.model.namedParameters.map(\.name) == ["0.weight", "0.bias"])
        #expect(loaded.model.namedParameters.map(\.tensor) == model.namedParameters.map(\.tensor))
    }
}
