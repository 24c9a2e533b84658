import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

@Suite("Sequential, parameter names and counts, summary, ModelSpec")
struct SequentialTests {
    /// The notes' example of section 3.1: x ∈ ℝⁿ → 3 → 2 → 1, sigmoid activations.
    static func notesNetwork(_ n: Int, seed: UInt64 = 0) -> Sequential<Double> {
        Sequential<Double>(seed: seed) {
            Dense<Double>(inputSize: n, outputSize: 3)
            Sigmoid<Double>()
            Dense<Double>(inputSize: 3, outputSize: 2)
            Sigmoid<Double>()
            Dense<Double>(inputSize: 2, outputSize: 1)
            Sigmoid<Double>()
        }
    }

    @Test("parameters are named by position: 0.weight, 0.bias, 2.weight, …")
    func parameterNames() {
        let model = Self.notesNetwork(4)
        #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"])
        #expect(model.namedParameters.map(\.tensor.shape) == [[3, 4], [3], [2, 3], [2], [1, 2], [1]])
        let noBias = Sequential<Float> {
            ReLU<Float>()
            Dense<Float>(inputSize: 2, outputSize: 2, useBias: false)
            Dense<Float>(inputSize: 2, outputSize: 1)
        }
        #expect(noBias.namedParameters.map(\.name) == ["1.weight", "2.weight", "2.bias"])
    }

    @Test("the notes' x ∈ ℝⁿ → 3 → 2 → 1 network has 3n + 14 parameters (section 3.1)",
          arguments: [1, 2, 4, 10, 784, 12_288])
    func notesParameterCount(n: Int) throws {
        let model = Self.notesNetwork(n)
        #expect(model.parameterCount == 3 * n + 14)
        // Layer by layer: 3n + 3, 2·3 + 2, 2 + 1.
        #expect(model.layers.map(\.parameterCount) == [3 * n + 3, 0, 2 * 3 + 2, 0, 2 + 1, 0])
        #expect(try model.outputShape(forInput: [n]) == [1])
    }

    @Test("summary lists each layer, its output shape and parameter count, and the total")
    func summary() throws {
        let n = 5
        let model = Self.notesNetwork(n)
        let text = try model.summary(inputShape: [n])
        let lines = text.split(separator: "\n").map(String.init)
        let expectations: [(String, String, Int)] = [
            ("0: Dense(5 → 3)", "[3]", 3 * n + 3), ("1: Sigmoid", "[3]", 0),
            ("2: Dense(3 → 2)", "[2]", 8), ("3: Sigmoid", "[2]", 0),
            ("4: Dense(2 → 1)", "[1]", 3), ("5: Sigmoid", "[1]", 0),
        ]
        for (name, shape, count) in expectations {
            let line = lines.first { $0.hasPrefix(name) }
            #expect(line != nil, "no line for \(name) in\n\(text)")
            if let line {
                #expect(line.contains(shape), "\(line)")
                #expect(line.hasSuffix(" \(count)"), "\(line)")
            }
        }
        #expect(lines.contains { $0.hasPrefix("Input") && $0.contains("[5]") })
        #expect(lines.last == "Total parameters: \(3 * n + 14)")
        // Layers appear in order.
        let positions = expectations.map { e in lines.firstIndex { $0.hasPrefix(e.0) } ?? -1 }
        #expect(positions == positions.sorted() && !positions.contains(-1))
    }

    @Test("same seed → identical parameters; different seeds → different; layer seeds are overridden")
    func seeds() {
        let a = Self.notesNetwork(6, seed: 42), b = Self.notesNetwork(6, seed: 42), c = Self.notesNetwork(6, seed: 43)
        for (pa, pb) in zip(a.namedParameters, b.namedParameters) {
            #expect(pa.tensor == pb.tensor, "\(pa.name)")
        }
        let differing = zip(a.namedParameters, c.namedParameters).filter { $0.0.name.hasSuffix("weight") && $0.0.tensor != $0.1.tensor }
        #expect(differing.count == 3, "every weight differs with another seed")
        // The Sequential draws every parameter from its own generator.
        let d = Sequential<Double>(seed: 7) { Dense<Double>(inputSize: 3, outputSize: 3, seed: 1) }
        let e = Sequential<Double>(seed: 7) { Dense<Double>(inputSize: 3, outputSize: 3, seed: 2) }
        #expect(d.namedParameters[0].tensor == e.namedParameters[0].tensor)
        // Different layers of one network get different draws.
        let f = Sequential<Double>(seed: 7) {
            Dense<Double>(inputSize: 3, outputSize: 3)
            Dense<Double>(inputSize: 3, outputSize: 3)
        }
        #expect(f.namedParameters[0].tensor != f.namedParameters[2].tensor)
    }

    @Test("reinitialize(weights:seed:) gives the parameters of the model built with that initialiser and seed, nested layers too")
    func reinitialize() {
        func network(_ initializer: Initializer, seed: UInt64) -> Sequential<Double> {
            Sequential<Double>(seed: seed) {
                Conv2D<Double>(inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1, weightInitializer: initializer)
                ReLU<Double>()
                Flatten<Double>()
                Sequential<Double>(layers: [Dense<Double>(inputSize: 32, outputSize: 3, weightInitializer: initializer)])
                BatchNorm1D<Double>(features: 3)
            }
        }
        let built = network(.normal(standardDeviation: 2), seed: 9)
        let redrawn = network(.heUniform, seed: 1)
        #expect(redrawn.reinitialize(weights: .normal(standardDeviation: 2), seed: 9) == 2)
        #expect(built.namedParameters.map(\.name) == redrawn.namedParameters.map(\.name))
        for (a, b) in zip(built.namedParameters, redrawn.namedParameters) {
            #expect(a.tensor == b.tensor, "\(a.name)")
        }
        let zero = network(.heUniform, seed: 3)
        zero.reinitialize(weights: .zeros, seed: 3)
        #expect(zero.namedParameters.allSatisfy { $0.tensor.scalars.allSatisfy { $0 == 0 } || $0.name.hasSuffix("4.weight") },
                "every weight and bias 0; batch norm's scale stays 1")
    }

    @Test("forward pass is the composition of the layers")
    func forwardComposition() {
        var inputs = Inputs(seed: 5)
        let model = Self.notesNetwork(4, seed: 3)
        let x = inputs.normal([6, 4])
        var a = x
        for layer in model.layers { a = layer(a) }
        #expect(model(x).scalars == a.scalars)
        #expect(model(x).shape == [6, 1])
        #expect(model.forwardExceptLast(x).scalars == model.layers[4](model.layers[3](model.layers[2](model.layers[1](model.layers[0](x))))).scalars)
        #expect(model.finalActivation == .sigmoid)
        #expect(Sequential<Double> { Dense<Double>(inputSize: 1, outputSize: 1) }.finalActivation == nil)
    }

    @Test("gradient check of a whole Sequential w.r.t. its parameters (Float64)")
    func wholeModelGradient() {
        var inputs = Inputs(seed: 6)
        let model = Sequential<Double>(seed: 9) {
            Dense<Double>(inputSize: 3, outputSize: 4)
            Tanh<Double>()
            Dense<Double>(inputSize: 4, outputSize: 3)
            Sigmoid<Double>()
            Dense<Double>(inputSize: 3, outputSize: 2)
        }
        // Non-zero biases so their gradients are exercised at a generic point.
        for name in ["0.bias", "2.bias", "4.bias"] {
            setParameter(model, name, inputs.normal([parameter(model, name).count], 0.5).scalars)
        }
        let x = inputs.normal([5, 3]), y = inputs.normal([5, 2])
        let start = model.namedParameters.map(\.tensor)
        // f(θ) = squaredLoss(model_θ(x), y), with θ placed into the model's layers.
        func loss(_ parameters: [Tensor<Double>]) -> Tensor<Double> {
            var index = 0
            model.visitParameters { _, p in p = parameters[index]; index += 1 }
            return squaredLoss(predictions: model(x), targets: y)
        }
        let result = GradientCheck.check(start, loss)
        #expect(result.maximumRelativeErrors.count == 6)
        #expect(result.worst < 1e-6, "\(result)")

        // And the gradients the model's own parameters receive equal those of the check.
        var index = 0
        model.visitParameters { _, p in p = start[index].requiringGradient(); index += 1 }
        squaredLoss(predictions: model(x), targets: y).backward()
        let tracked = start.map { $0.requiringGradient() }
        loss(tracked).backward()
        for (p, t) in zip(model.namedParameters, tracked) {
            #expect(p.tensor.gradient != nil)
            #expect(maxAbsDifference(p.tensor.gradient?.scalars ?? [], t.gradient!.scalars) < 1e-14, "\(p.name)")
        }
    }

    @Test("zeroGradients clears every parameter's gradient")
    func zeroGradients() {
        let model = Self.notesNetwork(2)
        model(Tensor<Double>([[1, 2]])).sum().backward()
        #expect(model.namedParameters.allSatisfy { $0.tensor.gradient != nil })
        model.zeroGradients()
        #expect(model.namedParameters.allSatisfy { $0.tensor.gradient == nil })
    }

    @Test("isTraining propagates to every layer")
    func trainingMode() {
        let dropout = Dropout<Float>(probability: 0.5)
        let model = Sequential<Float> {
            Dense<Float>(inputSize: 2, outputSize: 2)
            dropout
        }
        #expect(model.isTraining)
        model.isTraining = false
        #expect(!dropout.isTraining && !model.isTraining)
        model.isTraining = true
        #expect(dropout.isTraining)
    }

    // MARK: ModelSpec

    @Test("ModelSpec parses, prints and builds the notes' networks")
    func modelSpec() throws {
        let spec = try ModelSpec(parsing: "4-3:relu-1")
        #expect(spec.inputSize == 4)
        #expect(spec.stages.map(\.size) == [3, 1])
        #expect(spec.stages.map(\.activation) == [.relu, .identity])
        #expect(spec.description == "4-3:relu-1")
        let model = spec.build(Double.self, seed: 1)
        #expect(model.parameterCount == 4 * 3 + 3 + 3 + 1)
        #expect(model.layers.map(\.summaryName) == ["Dense(4 → 3)", "ReLU", "Dense(3 → 1)"])
        for n in [2, 9] {
            let notes = try ModelSpec(parsing: "\(n)-3:sigmoid-2:sigmoid-1:sigmoid").build(Float.self, seed: 0)
            #expect(notes.parameterCount == 3 * n + 14)
        }
        let cs229 = try #require(ModelSpec.preset("cs229"))
        #expect(cs229.build(Float.self, seed: 0).parameterCount == 784 * 300 + 300 + 300 * 10 + 10)
        #expect(ModelSpec.preset("nope") == nil)
        for bad in ["", "784", "x-10", "784-0", "784-10:swish", "784-10:relu:x", "784--10"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try ModelSpec(parsing: bad) }
        }
    }

    /// A few examples through predict() take the written-out forward pass
    /// (smallBatchOutput); its values must be those of calling the layers in turn.
    @Test("predict on a few examples gives the same values as calling the layers, bit for bit",
          arguments: [
              "784 300:sigmoid 10 softmax",
              "5 7:tanh 4:relu 3 sigmoid",
              "6 4 leakyrelu0.1 2",
              "1x12x10 conv4k3p1 relu maxpool2 conv3k3s2 tanh flatten 5 softmax",
              "2x9x9 conv3k3 relu avgpool2s1 gap 3 logsoftmax",
              "1x8x8 conv2k3",
              "4 6:relu dropout0.5 3 softmax",
              "3x6x6 conv4k3 bn relu flatten 2",
              "4 softmax",
          ])
    func smallBatchPredict(spec: String) throws {
        let network = try NetworkSpec(parsing: spec)
        var inputs = Inputs(seed: 17)
        for type in ["Float", "Double"] {
            for examples in [1, 3, 8, 9] {
                let shape = [examples] + network.inputShape
                let x = inputs.normal(shape)
                if type == "Float" {
                    let model = network.build(Float.self, seed: 5)
                    let input = Tensor<Float>(shape: shape, scalars: x.scalars.map { Float($0) })
                    let expected = Self.evaluated(model, input)
                    // Twice: the second call reuses the buffers of the first.
                    for _ in 0..<2 {
                        let output = model.predict(input)
                        #expect(output.shape == expected.shape && output.scalars == expected.scalars, "\(spec), \(examples) examples")
                    }
                    // Every stack here but those with dropout or batch normalisation has one,
                    // used for up to 8 examples.
                    let planned = examples <= 8 && !(spec.contains("dropout") || spec.contains("bn"))
                    #expect(model.hasSmallBatchForward == planned, "\(spec)")
                } else {
                    let model = network.build(Double.self, seed: 5)
                    let expected = Self.evaluated(model, x)
                    for _ in 0..<2 {
                        let output = model.predict(x)
                        #expect(output.shape == expected.shape && output.scalars == expected.scalars, "\(spec), \(examples) examples")
                    }
                }
            }
        }
    }

    /// The layers called in turn, in evaluation mode (dropout off, batch normalisation's running averages).
    static func evaluated<S: TensorScalar>(_ model: Sequential<S>, _ input: Tensor<S>) -> Tensor<S> {
        model.isTraining = false
        defer { model.isTraining = true }
        return withoutGradients { model(input) }
    }

    @Test("predict after the weights change, and from several threads at once, gives the new values")
    func smallBatchPredictFollowsWeights() throws {
        let model = try NetworkSpec(parsing: "6 5:tanh 3 softmax").build(Double.self, seed: 2)
        var inputs = Inputs(seed: 4)
        let x = inputs.normal([2, 6])
        let before = model.predict(x)
        model.visitParameters { _, tensor in tensor = tensor * 0.5 }
        let expected = withoutGradients { model(x) }
        #expect(model.predict(x).scalars == expected.scalars)
        #expect(before.scalars != expected.scalars)
        let outputs = UnsafeSendableBox(Array(repeating: [Double](), count: 16))
        let shared = UnsafeSendableBox((model: model, input: x))
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let output = shared.value.model.predict(shared.value.input).scalars
            outputs.lock.withLock { outputs.value[index] = output }
        }
        #expect(outputs.value.allSatisfy { $0 == expected.scalars })
    }
}

/// A value shared by concurrent test closures, under a lock.
final class UnsafeSendableBox<Value>: @unchecked Sendable {
    let lock = NSLock()
    var value: Value
    init(_ value: Value) { self.value = value }
}
