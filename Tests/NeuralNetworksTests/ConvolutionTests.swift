// The convolutional layers: PyTorch's layout and names, shapes and summaries, batch
// normalisation's running statistics and modes, parameter gradients of a small CNN, a
// network that learns, and the messages on bad input (exit tests).

import Foundation
import Testing
import NeuralNetworks
import Tensors

private func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    var generator = RandomSource(seed: seed)
    return Tensor<Double>.randomNormal(shape, using: &generator)
}

private func stderrText(_ result: ExitTest.Result?) -> String {
    String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
}

@Suite("Convolutional layers")
struct ConvolutionLayerTests {
    @Test("Conv2D keeps PyTorch's layout: weight [out, in, kh, kw] and bias [out], named weight and bias")
    func convolutionParameters() {
        let square = Conv2D<Float>(inputChannels: 3, outputChannels: 8, kernelSize: 3)
        #expect(square.namedParameters.map(\.name) == ["weight", "bias"])
        #expect(square.weight.shape == [8, 3, 3, 3] && square.bias?.shape == [8])
        #expect(square.parameterCount == 8 * 27 + 8)
        let rectangular = Conv2D<Float>(inputChannels: 2, outputChannels: 4, kernelSize: (3, 5), useBias: false)
        #expect(rectangular.namedParameters.map(\.name) == ["weight"])
        #expect(rectangular.weight.shape == [4, 2, 3, 5])
        #expect(rectangular.summaryName == "Conv2D(2 → 4, 3×5)")
        let strided = Conv2D<Float>(inputChannels: 1, outputChannels: 2, kernelSize: 3, stride: 2, padding: 1, dilation: 2)
        #expect(strided.summaryName == "Conv2D(1 → 2, 3×3, stride 2, padding 1, dilation 2)")
    }

    @Test("Conv2D starts He-uniform with fan-in = in·kh·kw and zero bias, the same for the same seed")
    func convolutionInitialisation() {
        let layer = Conv2D<Double>(inputChannels: 4, outputChannels: 6, kernelSize: (3, 2), seed: 7)
        let bound = (6.0 / Double(4 * 3 * 2)).squareRoot()
        #expect(layer.weight.scalars.allSatisfy { Swift.abs($0) <= bound })
        #expect(layer.weight.scalars.map(Swift.abs).max()! > bound * 0.8)
        #expect(layer.bias!.scalars.allSatisfy { $0 == 0 })
        #expect(layer.weight == Conv2D<Double>(inputChannels: 4, outputChannels: 6, kernelSize: (3, 2), seed: 7).weight)
        #expect(layer.weight != Conv2D<Double>(inputChannels: 4, outputChannels: 6, kernelSize: (3, 2), seed: 8).weight)
        #expect(layer.weight.requiresGradient && layer.bias!.requiresGradient)
    }

    @Test("outputShape(forInput:) agrees with the forward pass", arguments: [
        (3, 1, 0, 1), (3, 1, 1, 1), (3, 2, 1, 1), (5, 1, 2, 1), (5, 2, 2, 1), (1, 1, 0, 1), (3, 1, 2, 2), (2, 3, 1, 1),
    ])
    func outputShapes(kernel: Int, stride: Int, padding: Int, dilation: Int) throws {
        let layer = Conv2D<Double>(inputChannels: 2, outputChannels: 3, kernelSize: kernel, stride: stride,
                                   padding: padding, dilation: dilation)
        for input in [[2, 9, 9], [2, 7, 12], [2, 11, 6]] {
            let y = layer(randomTensor([2] + input, seed: 1))
            let expected = try layer.outputShape(forInput: input)
            #expect(Array(y.shape.dropFirst()) == expected, "\(layer.summaryName) on \(input)")
        }
    }

    @Test("the layer computes Tensor.convolution2D with its own parameters")
    func layerForward() {
        let layer = Conv2D<Double>(inputChannels: 2, outputChannels: 3, kernelSize: (3, 2), stride: (2, 1),
                                   padding: (1, 0), seed: 3)
        let x = randomTensor([2, 2, 6, 5], seed: 4)
        let expected = Tensor.convolution2D(x, weight: layer.weight, bias: layer.bias, stride: (2, 1), padding: (1, 0))
        #expect(layer(x) == expected)
    }

    /// Eq. 3.39's sliding window: the same weights at every position, so a pattern moved
    /// by a whole stride gives the same responses one output position further on.
    @Test("moving the input by one stride moves the layer's output by one position")
    func translation() {
        let layer = Conv2D<Double>(inputChannels: 1, outputChannels: 4, kernelSize: 3, stride: 2, padding: 1, seed: 5)
        var image = [Double](repeating: 0, count: 12 * 12), shifted = image
        let pattern = randomTensor([3, 3], seed: 6).scalars
        for i in 0..<3 { for j in 0..<3 {
            image[(3 + i) * 12 + 3 + j] = pattern[i * 3 + j]
            shifted[(3 + i) * 12 + 5 + j] = pattern[i * 3 + j]
        } }
        let a = layer(Tensor(shape: [1, 1, 12, 12], scalars: image))
        let b = layer(Tensor(shape: [1, 1, 12, 12], scalars: shifted))
        for c in 0..<4 { for y in 0..<6 { for x in 0..<5 { #expect(b[0, c, y, x + 1] == a[0, c, y, x]) } } }
    }

    @Test("pooling layers: shapes, values and the default stride (the kernel size)")
    func poolingLayers() throws {
        let x = Tensor<Double>(shape: [1, 1, 4, 4], scalars: (0..<16).map(Double.init))
        let maxPool = MaxPool2D<Double>(kernelSize: 2)
        #expect(maxPool.stride == (2, 2) && maxPool.summaryName == "MaxPool2D(2×2)")
        #expect(maxPool(x).scalars == [5, 7, 13, 15])
        #expect(try maxPool.outputShape(forInput: [3, 7, 9]) == [3, 3, 4])
        let avgPool = AvgPool2D<Double>(kernelSize: 2, stride: 1)
        #expect(avgPool.summaryName == "AvgPool2D(2×2, stride 1)")
        #expect(avgPool(x).shape == [1, 1, 3, 3] && avgPool(x).scalars[0] == 2.5)
        let global = GlobalAveragePool2D<Double>()
        #expect(global(x).shape == [1, 1] && global(x).scalars == [7.5])
        #expect(try global.outputShape(forInput: [5, 3, 3]) == [5])
        let flatten = Flatten<Double>()
        let images = randomTensor([2, 3, 2, 2], seed: 9)
        #expect(flatten(images).shape == [2, 12] && flatten(images).scalars == images.scalars)
        #expect(try flatten.outputShape(forInput: [64, 7, 7]) == [3136])
    }

    @Test("the cnn preset is W3's network, with PyTorch's parameter count in its summary")
    func cnnPreset() throws {
        let model = ModelSpec.network(preset: "cnn", as: Float.self, seed: 1)!
        #expect(ModelSpec.networkPresetNames == ["cnn"] && ModelSpec.networkInputShape(preset: "cnn") == [1, 28, 28])
        #expect(model.parameterCount == 421_642)
        let summary = try model.summary(inputShape: [1, 28, 28])
        for line in ["Conv2D(1 → 32, 3×3, padding 1)", "[32, 28, 28]", "[32, 14, 14]", "[64, 7, 7]", "[3136]",
                     "Dense(3136 → 128)", "401,536", "Total parameters: 421,642"] {
            #expect(summary.contains(line), "missing \(line) in\n\(summary)")
        }
        #expect(try model.outputShape(forInput: [1, 28, 28]) == [10])
        #expect(model(Tensor<Float>.zeros([2, 1, 28, 28])).shape == [2, 10])
        #expect(ModelSpec.network(preset: "nope", as: Float.self, seed: 1) == nil)
    }

    @Test("parameter gradients of a small CNN match finite differences (Float64)")
    func smallNetworkGradients() {
        let model = Sequential<Double>(seed: 3) {
            Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            BatchNorm2D(channels: 3)
            Conv2D(inputChannels: 3, outputChannels: 2, kernelSize: (2, 3), stride: (1, 2))
            Flatten()
            BatchNorm1D(features: 4)
            Dense(inputSize: 4, outputSize: 4)
        }
        let x = randomTensor([3, 2, 6, 8], seed: 10)
        let labels = [0, 3, 1]
        let errors = GradientCheck.checkParameters(of: model) { model in
            Tensor.softmaxCrossEntropy(logits: model(x), labels: labels)
        }
        #expect(errors.count == 10)
        for (name, error) in errors { #expect(error < 1e-6, "\(name): \(error)") }
    }

    /// Vertical and horizontal bars at random places: the pooled responses of a few
    /// learned 3×3 filters tell them apart wherever they are.
    @Test("a small CNN learns to tell vertical from horizontal bars")
    func learnsBars() {
        var generator = RandomSource(seed: 11)
        var images: [Double] = [], labels: [Int] = []
        for i in 0..<64 {
            var image = [Double](repeating: 0, count: 64)
            let (position, start) = (Int(generator.next() % 8), Int(generator.next() % 4))
            for k in start..<(start + 4) {
                if i % 2 == 0 { image[k * 8 + position] = 1 } else { image[position * 8 + k] = 1 }
            }
            images += image
            labels.append(i % 2)
        }
        let x = Tensor(shape: [64, 1, 8, 8], scalars: images)
        let model = Sequential<Double>(seed: 12) {
            Conv2D(inputChannels: 1, outputChannels: 8, kernelSize: 3, padding: 1)
            ReLU()
            MaxPool2D(kernelSize: 2)
            GlobalAveragePool2D()
            Dense(inputSize: 8, outputSize: 2)
        }
        for _ in 0..<100 {
            let loss = Tensor.softmaxCrossEntropy(logits: model(x), labels: labels)
            loss.backward()
            withoutGradients {
                model.visitParameters { _, p in
                    let g = p.gradient!
                    p.updateScalars { values in for i in values.indices { values[i] -= 0.5 * g.scalars[i] } }
                    p.zeroGradient()
                }
            }
        }
        let predicted = model.predict(x).argmax(alongAxis: 1)
        let accuracy = Double(zip(predicted, labels).filter { $0 == $1 }.count) / 64
        #expect(accuracy == 1, "accuracy \(accuracy)")
    }
}

@Suite("Batch normalisation layers")
struct BatchNormLayerTests {
    @Test("trainable weight and bias are parameters; running statistics are buffers, with PyTorch's names")
    func names() {
        let layer = BatchNorm2D<Float>(channels: 5)
        #expect(layer.namedParameters.map(\.name) == ["weight", "bias"])
        #expect(layer.parameterCount == 10)
        #expect(layer.namedBuffers.map(\.name) == ["running_mean", "running_var"])
        #expect(layer.weight.scalars == [1, 1, 1, 1, 1] && layer.bias.scalars == [0, 0, 0, 0, 0])
        #expect(layer.runningMean.scalars == [0, 0, 0, 0, 0] && layer.runningVariance.scalars == [1, 1, 1, 1, 1])
        #expect(layer.momentum == 0.1 && layer.epsilon == 1e-5 && layer.summaryName == "BatchNorm2D(5)")
        let model = Sequential<Float> {
            Conv2D(inputChannels: 1, outputChannels: 5, kernelSize: 3)
            BatchNorm2D(channels: 5)
            Flatten()
            BatchNorm1D(features: 5 * 4 * 4)
        }
        #expect(model.namedBuffers.map(\.name) == ["1.running_mean", "1.running_var", "3.running_mean", "3.running_var"])
        #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"])
    }

    @Test("training mode normalises with the batch and moves the running averages (momentum 0.1, unbiased variance)")
    func trainingUpdatesRunningStatistics() {
        let layer = BatchNorm2D<Double>(channels: 2)
        let x = randomTensor([4, 2, 3, 3], seed: 21) * 2 + 3
        let y = layer(x)
        for c in 0..<2 {
            let channel = x.slice(alongAxis: 1, c..<(c + 1)).scalars
            let output = y.slice(alongAxis: 1, c..<(c + 1)).scalars
            let mean: Double = channel.reduce(0, +) / 36
            let squares: Double = channel.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
            let outputSum: Double = output.reduce(0, +)
            let outputSquares: Double = output.map { $0 * $0 }.reduce(0, +)
            let variance: Double = squares / 36
            #expect(Swift.abs(outputSum / 36) < 1e-12)
            #expect(Swift.abs(outputSquares / 36 - variance / (variance + 1e-5)) < 1e-9)
            #expect(Swift.abs(layer.runningMean.scalars[c] - 0.1 * mean) < 1e-12)
            #expect(Swift.abs(layer.runningVariance.scalars[c] - (0.9 + 0.1 * squares / 35)) < 1e-12)
        }
    }

    @Test("evaluation mode uses the running averages and leaves them alone; predict() switches modes")
    func evaluationUsesRunningStatistics() {
        let layer = BatchNorm1D<Double>(features: 3)
        for seed in 0..<5 { _ = layer(randomTensor([8, 3], seed: UInt64(30 + seed)) + 1) }
        let (mean, variance) = (layer.runningMean, layer.runningVariance)
        layer.weight.assign([1, 2, 3])
        layer.bias.assign([0, -1, 1])
        let x = randomTensor([4, 3], seed: 40)
        layer.isTraining = false
        let y = layer(x)
        for i in 0..<4 {
            for c in 0..<3 {
                let expected = layer.weight.scalars[c] * (x[i, c] - mean.scalars[c])
                    / (variance.scalars[c] + 1e-5).squareRoot() + layer.bias.scalars[c]
                #expect(Swift.abs(y[i, c] - expected) < 1e-12)
            }
        }
        #expect(layer.runningMean == mean && layer.runningVariance == variance)
        layer.isTraining = true
        _ = layer.predict(x)
        #expect(layer.isTraining && layer.runningMean == mean, "predict() runs in evaluation mode")
        let model = Sequential<Double> { Dense(inputSize: 3, outputSize: 3); BatchNorm1D(features: 3) }
        model.isTraining = false
        #expect(!model.isTraining && !(model.layers[1] as! BatchNorm1D<Double>).isTraining)
    }

    @Test("BatchNorm1D takes [batch, features] and [batch, features, length]")
    func oneDimensional() throws {
        let layer = BatchNorm1D<Double>(features: 2)
        #expect(layer(randomTensor([5, 2], seed: 50)).shape == [5, 2])
        #expect(layer(randomTensor([5, 2, 7], seed: 51)).shape == [5, 2, 7])
        #expect(try layer.outputShape(forInput: [2]) == [2])
        #expect(try layer.outputShape(forInput: [2, 7]) == [2, 7])
    }
}

@Suite("Messages on bad convolutional input")
struct ConvolutionMessageTests {
    @Test("a kernel larger than the padded input names the layer and both shapes")
    func kernelTooLarge() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let layer = Conv2D<Float>(inputChannels: 1, outputChannels: 2, kernelSize: 5, padding: 0)
            _ = layer(Tensor<Float>.zeros([1, 1, 3, 4]))
        }
        let message = stderrText(result)
        #expect(message.contains("Conv2D(1 → 2, 5×5)"), "stderr: \(message)")
        #expect(message.contains("[1, 1, 3, 4]") && message.contains("[2, 1, 5, 5]"), "stderr: \(message)")
        #expect(message.contains("larger than the padded input 3×4"), "stderr: \(message)")
    }

    @Test("a channel count that does not match names the layer and both shapes")
    func channelMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let layer = Conv2D<Float>(inputChannels: 3, outputChannels: 8, kernelSize: 3)
            _ = layer(Tensor<Float>.zeros([2, 4, 5, 5]))
        }
        let message = stderrText(result)
        #expect(message.contains("Conv2D(3 → 8, 3×3)"), "stderr: \(message)")
        #expect(message.contains("[2, 4, 5, 5]") && message.contains("[8, 3, 3, 3]"), "stderr: \(message)")
    }

    @Test("an input of the wrong rank names the layer and both shapes")
    func wrongRank() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let layer = Conv2D<Float>(inputChannels: 1, outputChannels: 4, kernelSize: 3)
            _ = layer(Tensor<Float>.zeros([8, 784]))
        }
        let message = stderrText(result)
        #expect(message.contains("Conv2D(1 → 4, 3×3)"), "stderr: \(message)")
        #expect(message.contains("[8, 784]") && message.contains("[4, 1, 3, 3]"), "stderr: \(message)")
    }

    @Test("a summary with the wrong input shape throws naming the layer and both shapes")
    func summaryMismatch() throws {
        let error = #expect(throws: ShapeError.self) {
            _ = try ModelSpec.network(preset: "cnn", as: Float.self, seed: 1)!.summary(inputShape: [3, 28, 28])
        }
        let message = error?.description ?? ""
        #expect(message.contains("Conv2D(1 → 32, 3×3, padding 1)") && message.contains("[3, 28, 28]")
                && message.contains("[32, 1, 3, 3]"), "stderr: \(message)")
    }

    @Test("a pooling window larger than the image names the layer and the input")
    func poolingTooLarge() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = MaxPool2D<Float>(kernelSize: 4)(Tensor<Float>.zeros([1, 2, 3, 3]))
        }
        let message = stderrText(result)
        #expect(message.contains("MaxPool2D(4×4)") && message.contains("[1, 2, 3, 3]"), "stderr: \(message)")
    }

    @Test("batch normalisation of the wrong channel count names the layer and both shapes")
    func batchNormMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = BatchNorm2D<Float>(channels: 3)(Tensor<Float>.zeros([2, 4, 5, 5]))
        }
        let message = stderrText(result)
        #expect(message.contains("BatchNorm2D(3)") && message.contains("[2, 4, 5, 5]")
                && message.contains("[batch, 3, height, width]"), "stderr: \(message)")
    }
}
