import Tensors
import Testing
@testable import NeuralNetworks

/// A layer whose backward rule is planted wrong: forward x³, backward 2x² instead of 3x².
final class WrongCube: Layer {
    typealias Scalar = Double
    func callAsFunction(_ input: Tensor<Double>) -> Tensor<Double> {
        let y = withoutGradients { input * input * input }
        return .differentiable(y, from: [input]) { gradient, _ in [gradient * 2 * input * input] }
    }
    var summaryName: String { "WrongCube" }
    func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] { shape }
}

@Suite("one traced step and its three-way gradient check")
struct StepTraceTests {
    @Test("a dense network: δ of every layer kept, written-out recursion equal to autodiff, both equal to central differences")
    func dense() throws {
        let model = try NetworkSpec(parsing: "3 4:tanh 4:sigmoid 2:softmax").build(Double.self, seed: 1)
        var generator = RandomSource(seed: 2)
        let x = Tensor<Double>.randomNormal([2, 3], using: &generator)
        var optimizer = try SGD<Double>(learningRate: 0.1)
        let trace = StepTrace(model: model, input: x, optimizer: &optimizer) { crossEntropy(probabilities: $0, labels: [0, 1]) }
        #expect(trace.layers.count == model.layers.count && trace.layers.allSatisfy { $0.delta != nil })
        #expect(trace.parameters.map(\.name) == model.namedParameters.map(\.name))
        #expect(trace.parameters.allSatisfy { $0.writtenOutError != nil && $0.writtenOutError! < 1e-12 })
        #expect(trace.worstError < 1e-6, "\(trace.parameters.map(\.finiteDifferenceError))")
        // δ at the softmax's input is (ŷ − y)/m, as the notes say for softmax with cross-entropy.
        let probabilities = trace.layers.last!.output, logitsDelta = trace.layers[trace.layers.count - 2].delta!
        let expected = [probabilities.scalars[0] - 1, probabilities.scalars[1], probabilities.scalars[2], probabilities.scalars[3] - 1].map { $0 / 2 }
        #expect(zip(logitsDelta.scalars, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test("a planted wrong derivative fails the check")
    func plantedBug() throws {
        let model = Sequential<Double>(seed: 3) { Dense(inputSize: 2, outputSize: 3); WrongCube(); Dense(inputSize: 3, outputSize: 1) }
        var generator = RandomSource(seed: 4)
        let x = Tensor<Double>.randomNormal([2, 2], using: &generator), y = Tensor<Double>.randomNormal([2, 1], using: &generator)
        var optimizer = try SGD<Double>(learningRate: 0.1)
        let trace = StepTrace(model: model, input: x, optimizer: &optimizer) { squaredLoss(predictions: $0, targets: y) }
        #expect(trace.worstError > 1e-2, "\(trace.parameters.map(\.finiteDifferenceError))")
        #expect(trace.parameters.allSatisfy { $0.writtenOutError == nil }, "no written-out rule for a user's layer")
    }

    @Test("a sampled check: the entries asked for, spread over the tensor with the largest gradient; still catches a wrong derivative; weights restored exactly")
    func sampled() throws {
        let model = Sequential<Double>(seed: 5) { Dense(inputSize: 20, outputSize: 10); WrongCube(); Dense(inputSize: 10, outputSize: 1) }
        let before = model.namedParameters.map(\.tensor.scalars)
        var generator = RandomSource(seed: 6)
        let x = Tensor<Double>.randomNormal([3, 20], using: &generator), y = Tensor<Double>.randomNormal([3, 1], using: &generator)
        let results = GradientCheck.checkParameters(of: model, steps: [1e-6, 1e-5], entriesPerTensor: 16) { squaredLoss(predictions: $0(x), targets: y) }
        #expect(results.map(\.count) == [200, 10, 10, 1])
        #expect((16...17).contains(results[0].checkedEntries) && results[1].checkedEntries == 10 && results[3].checkedEntries == 1)
        #expect(results[0].maximumRelativeError > 1e-2, "the wrong derivative shows in a sample too")
        #expect(model.namedParameters.map(\.tensor.scalars) == before, "every perturbed entry restored to its exact value")
        var optimizer = try SGD<Double>(learningRate: 0.1)
        let trace = StepTrace(model: model, input: x, optimizer: &optimizer, loss: { squaredLoss(predictions: $0, targets: y) },
                              entriesPerTensor: 16)
        #expect(trace.parameters[0].finiteDifferenceEntries == results[0].checkedEntries && trace.worstError > 1e-2)
    }
}
