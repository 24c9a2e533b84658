// Written-out backpropagation through convolution, pooling, flattening and global average
// pooling (images kept channels-first between the layers) against autodiff through the
// same layers, and against central finite differences in Float64.

import Testing
@testable import NeuralNetworks
import Tensors

/// A convolutional stack and an input batch for it.
private struct Case {
    let name: String
    let model: Sequential<Double>
    let inputShape: [Int]
}

/// Stacks that between them use every written-out rule for images: padding, stride,
/// dilation, rectangular kernels, max and average pooling (padded, ceil mode, both
/// divisors), two convolutions in a row, pooling before the first parameter, global
/// average pooling, and a stack that returns images.
private func cases(seed: UInt64) -> [Case] {
    [
        Case(name: "W3's shape, small", model: Sequential<Double>(seed: seed) {
            Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Conv2D(inputChannels: 4, outputChannels: 6, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Flatten()
            Dense(inputSize: 6 * 2 * 2, outputSize: 5)
            ReLU()
            Dense(inputSize: 5, outputSize: 3)
        }, inputShape: [5, 1, 8, 8]),
        Case(name: "odd windows", model: Sequential<Double>(seed: seed) {
            Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: (3, 2), stride: (2, 1), padding: (1, 0),
                   dilation: (1, 2))
            Tanh()
            AvgPool2D(kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false)
            Conv2D(inputChannels: 3, outputChannels: 2, kernelSize: 1, useBias: false)
            LeakyReLU(negativeSlope: 0.1)
            GlobalAveragePool2D()
            Dense(inputSize: 2, outputSize: 3)
        }, inputShape: [4, 2, 9, 7]),
        Case(name: "pooling first, two convolutions in a row", model: Sequential<Double>(seed: seed) {
            MaxPool2D(kernelSize: 3, stride: 2, padding: 1, ceilMode: true)
            Sigmoid()
            Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1)
            Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 2)
            AvgPool2D(kernelSize: 2, stride: 1)
            Flatten()
            Dense(inputSize: 4 * 1 * 1, outputSize: 2)
        }, inputShape: [3, 2, 10, 9]),
        Case(name: "images out", model: Sequential<Double>(seed: seed) {
            Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1)
            Sigmoid()
            MaxPool2D(kernelSize: 3, stride: 2, padding: 1)
        }, inputShape: [2, 1, 6, 5]),
        // 64 × 64 images: one image's columns are 2¹⁵·36 values, so a batch of 7 takes
        // three GEMM chunks, and each writes its part of the channels-first rows in place.
        Case(name: "several GEMM chunks", model: Sequential<Double>(seed: seed) {
            Conv2D(inputChannels: 4, outputChannels: 3, kernelSize: 3, padding: 1)
            ReLU()
            Conv2D(inputChannels: 3, outputChannels: 2, kernelSize: 3, stride: 2)
            Flatten()
            Dense(inputSize: 2 * 31 * 31, outputSize: 2)
        }, inputShape: [7, 4, 64, 64]),
    ]
}

/// The gradients autodiff computes for `loss` through `model`, in visitParameters order.
private func autodiff<S: TensorScalar>(_ model: Sequential<S>, _ x: Tensor<S>, _ loss: (Tensor<S>) -> Tensor<S>)
    -> (loss: Tensor<S>, output: Tensor<S>, gradients: [Tensor<S>])
{
    model.zeroGradients()
    let output = model(x)
    let value = loss(output)
    value.backward()
    let gradients = model.namedParameters.map { $0.tensor.gradient! }
    model.zeroGradients()
    return (value.detached(), output.detached(), gradients)
}

/// The largest |a − b| / (1 + |b|) over two lists of tensors of the same shapes.
private func worstDifference<S: TensorScalar>(_ a: [Tensor<S>], _ b: [Tensor<S>]) -> Double {
    precondition(a.count == b.count && zip(a, b).allSatisfy { $0.shape == $1.shape }, "shapes differ")
    var worst = 0.0
    for (x, y) in zip(a, b) {
        for (u, v) in zip(x.scalars, y.scalars) {
            let (difference, scale): (Double, Double) = (Double(Swift.abs(u - v)), 1 + Double(Swift.abs(v)))
            worst = Swift.max(worst, difference / scale)
        }
    }
    return worst
}

@Suite("Written-out backpropagation through convolutions and pooling")
struct ConvolutionBackpropagationTests {
    @Test("equals autodiff in Float64 (to 1e-12), twice in a row, with squared error",
          arguments: [3, 8] as [UInt64])
    func equalsAutodiff(seed: UInt64) throws {
        for testCase in cases(seed: seed) {
            var inputs = Inputs(seed: seed)
            let x = inputs.normal(testCase.inputShape)
            let model = testCase.model
            let y = inputs.normal(withoutGradients { model(x) }.shape)
            let loss = { (p: Tensor<Double>) in meanSquaredError(predictions: p, targets: y) }
            let backpropagation = try #require(WrittenOutBackpropagation(model), "\(testCase.name)")
            #expect(backpropagation.parameterCount == model.namedParameters.count)
            let expected = autodiff(model, x, loss)
            for call in 1...2 {
                let (value, output, gradients) = backpropagation.gradients(x, loss: loss)
                #expect(output.shape == expected.output.shape, "\(testCase.name)")
                #expect(worstDifference([output, value], [expected.output, expected.loss]) < 1e-12, "\(testCase.name) call \(call)")
                let worst = worstDifference(gradients, expected.gradients)
                #expect(worst < 1e-12, "\(testCase.name) call \(call): worst difference \(worst)")
            }
        }
    }

    @Test("a smaller batch after a larger one (buffers resized), and Float against autodiff")
    func batchSizesAndFloat() throws {
        let model = cases(seed: 5)[0].model
        var inputs = Inputs(seed: 5)
        let backpropagation = try #require(WrittenOutBackpropagation(model))
        for batch in [6, 2, 6] {
            let x = inputs.normal([batch, 1, 8, 8])
            let labels = (0..<batch).map { $0 % 3 }
            let (_, _, gradients) = backpropagation.gradients(x) {
                Tensor.softmaxCrossEntropyWithGradient(logits: $0, labels: labels)
            }
            let expected = autodiff(model, x) { softmaxCrossEntropy(logits: $0, labels: labels) }
            #expect(worstDifference(gradients, expected.gradients) < 1e-12, "batch \(batch)")
        }
        // Float: the same model's weights, rounded.
        let single = Sequential<Float>(seed: 5) {
            Conv2D(inputChannels: 1, outputChannels: 4, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            Flatten()
            Dense(inputSize: 4 * 4 * 4, outputSize: 3)
        }
        let x = inputs.normal([4, 1, 8, 8]).converted(to: Float.self)
        let labels = [0, 1, 2, 1]
        let written = try #require(WrittenOutBackpropagation(single)).gradients(x) {
            Tensor.softmaxCrossEntropyWithGradient(logits: $0, labels: labels)
        }
        let expected = autodiff(single, x) { softmaxCrossEntropy(logits: $0, labels: labels) }
        #expect(worstDifference(written.gradients, expected.gradients) < 1e-5)
    }

    @Test("gradients match central finite differences in Float64", arguments: [0, 1, 2, 3])
    func finiteDifferences(caseIndex: Int) throws {
        let testCase = cases(seed: 21)[caseIndex]
        let model = testCase.model
        var inputs = Inputs(seed: 21)
        let x = inputs.awayFromZero(testCase.inputShape)
        let y = inputs.normal(withoutGradients { model(x) }.shape)
        let (_, _, gradients) = try #require(WrittenOutBackpropagation(model)).gradients(x) {
            meanSquaredError(predictions: $0, targets: y)
        }
        expectMatchesFiniteDifferences(gradients, of: model, x: x, y: y, "\(testCase.name), ")
    }
}
