// Written-out backpropagation (WrittenOutBackpropagation) against autodiff through the same
// layers — the same operations in the same order, so the gradients must be equal bit for
// bit — and against central finite differences in Float64.

import Testing
@testable import NeuralNetworks
import Tensors

/// A stack with every activation that has a written-out rule, one dense layer without bias.
private func mixedStack<S: TensorScalar>(_: S.Type, seed: UInt64) -> Sequential<S> {
    Sequential<S>(seed: seed) {
        Dense(inputSize: 5, outputSize: 7)
        Sigmoid()
        Dense(inputSize: 7, outputSize: 6, useBias: false)
        Tanh()
        Dense(inputSize: 6, outputSize: 6)
        ReLU()
        Dense(inputSize: 6, outputSize: 4)
        LeakyReLU(negativeSlope: 0.2)
        Dense(inputSize: 4, outputSize: 3)
        Identity()
    }
}

/// The gradients autodiff computes for `loss` through `model`, in visitParameters order.
private func autodiffGradients<S: TensorScalar>(
    _ model: Sequential<S>, _ x: Tensor<S>, layerCount: Int, _ loss: (Tensor<S>) -> Tensor<S>
) -> (loss: Tensor<S>, gradients: [Tensor<S>]) {
    model.zeroGradients()
    let output = model.layers.prefix(layerCount).reduce(x) { $1($0) }
    let value = loss(output)
    value.backward()
    let gradients = model.namedParameters.map { $0.tensor.gradient! }
    model.zeroGradients()
    return (value.detached(), gradients)
}

@Suite("Written-out backpropagation")
struct BackpropagationTests {
    @Test("equals autodiff bit for bit, Float and Double, squared error and cross-entropy",
          arguments: [1, 2, 9] as [UInt64])
    func equalsAutodiff(seed: UInt64) {
        func check<S: TensorScalar>(_: S.Type) {
            let model = mixedStack(S.self, seed: seed)
            var inputs = Inputs(seed: seed)
            let x = inputs.normal([8, 5]).converted(to: S.self)
            let y = inputs.normal([8, 3]).converted(to: S.self)
            let labels = (0..<8).map { $0 % 3 }
            let backpropagation = WrittenOutBackpropagation(model)!
            #expect(backpropagation.parameterCount == 9)
            for (name, loss) in [
                ("mean squared error", { (p: Tensor<S>) in meanSquaredError(predictions: p, targets: y) }),
                ("squared loss", { (p: Tensor<S>) in squaredLoss(predictions: p, targets: y) }),
                ("cross-entropy", { (p: Tensor<S>) in softmaxCrossEntropy(logits: p, labels: labels) }),
            ] {
                let expected = autodiffGradients(model, x, layerCount: model.layers.count, loss)
                // Twice: the second call reuses the buffers of the first.
                for call in 1...2 {
                    let (value, output, gradients) = backpropagation.gradients(x, loss: loss)
                    #expect(value == expected.loss, "\(S.self) \(name) call \(call)")
                    #expect(output == withoutGradients { model(x) })
                    #expect(gradients == expected.gradients, "\(S.self) \(name) call \(call), seed \(seed)")
                }
            }
            // The losses that give their own gradient agree with autodiff too.
            let fused = backpropagation.gradients(x) { Tensor.meanSquaredErrorWithGradient(predictions: $0, targets: y) }
            #expect(fused.gradients == autodiffGradients(model, x, layerCount: model.layers.count) {
                meanSquaredError(predictions: $0, targets: y)
            }.gradients)
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("a changed weight is read on the next call (buffers hold results, not parameters)")
    func readsCurrentWeights() {
        let model = mixedStack(Double.self, seed: 4)
        var inputs = Inputs(seed: 4)
        let x = inputs.normal([3, 5]), y = inputs.normal([3, 3])
        let backpropagation = WrittenOutBackpropagation(model)!
        let loss = { (p: Tensor<Double>) in meanSquaredError(predictions: p, targets: y) }
        let before = backpropagation.gradients(x, loss: loss).gradients
        let dense = model.layers[0] as! Dense<Double>
        dense.weight = (dense.weight * 0.5).detached().requiringGradient()
        let after = backpropagation.gradients(x, loss: loss).gradients
        #expect(after != before)
        #expect(after == autodiffGradients(model, x, layerCount: model.layers.count, loss).gradients)
    }

    @Test("all layers but a final softmax, as the fused cross-entropy reads them")
    func exceptLast() {
        let model = Sequential<Double>(seed: 3) {
            Dense(inputSize: 4, outputSize: 5)
            ReLU()
            Dense(inputSize: 5, outputSize: 3)
            Softmax()
        }
        #expect(WrittenOutBackpropagation(model) == nil, "a softmax layer has no written-out rule")
        let backpropagation = WrittenOutBackpropagation(model, layerCount: 3)!
        var inputs = Inputs(seed: 3)
        let x = inputs.normal([6, 4])
        let labels = [0, 1, 2, 2, 1, 0]
        let (value, _, gradients) = backpropagation.gradients(x) {
            Tensor.softmaxCrossEntropyWithGradient(logits: $0, labels: labels)
        }
        let expected = autodiffGradients(model, x, layerCount: 3) { softmaxCrossEntropy(logits: $0, labels: labels) }
        #expect(value == expected.loss)
        #expect(gradients == expected.gradients)
    }

    @Test("gradients match central finite differences in Float64")
    func finiteDifferences() {
        let model = mixedStack(Double.self, seed: 12)
        var inputs = Inputs(seed: 12)
        let x = inputs.awayFromZero([4, 5]), y = inputs.normal([4, 3])
        let backpropagation = WrittenOutBackpropagation(model)!
        let (_, _, gradients) = backpropagation.gradients(x) { meanSquaredError(predictions: $0, targets: y) }
        expectMatchesFiniteDifferences(gradients, of: model, x: x, y: y)
    }

    @Test("layers without a written-out rule, or parameters after the stack, give nil")
    func unsupported() {
        #expect(WrittenOutBackpropagation(Sequential<Float>(layers: [Dense(inputSize: 2, outputSize: 2), GELU()])) == nil)
        #expect(WrittenOutBackpropagation(Sequential<Float>(layers: [Dense(inputSize: 2, outputSize: 2),
                                                                 Dropout(probability: 0.5)])) == nil)
        #expect(WrittenOutBackpropagation(Sequential<Float>(layers: [Dense(inputSize: 2, outputSize: 2),
                                                                     BatchNorm1D(features: 2)])) == nil)
        #expect(WrittenOutBackpropagation(Sequential<Float>(layers: [Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 1),
                                                                     Dense(inputSize: 2, outputSize: 2)])) == nil,
                "a dense layer cannot read images")
        let two = Sequential<Float>(layers: [Dense(inputSize: 2, outputSize: 2), Dense(inputSize: 2, outputSize: 2)])
        #expect(WrittenOutBackpropagation(two, layerCount: 1) == nil, "the second dense layer would get no gradient")
        #expect(WrittenOutBackpropagation(two, layerCount: 3) == nil)
    }

    @Test("Optimizer.step(model, gradients:) = step(model) after backward")
    func optimizerStepWithGradients() throws {
        let a = mixedStack(Double.self, seed: 6), b = mixedStack(Double.self, seed: 6)
        var inputs = Inputs(seed: 6)
        let x = inputs.normal([5, 5]), y = inputs.normal([5, 3])
        var first = try SGD<Double>(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var second = first
        for _ in 0..<3 {
            meanSquaredError(predictions: a(x), targets: y).backward()
            first.step(a)
            let gradients = WrittenOutBackpropagation(b)!.gradients(x) { meanSquaredError(predictions: $0, targets: y) }.gradients
            second.step(b, gradients: gradients)
        }
        #expect(a.namedParameters.map(\.tensor) == b.namedParameters.map(\.tensor))
    }
}

