import Tensors
import Testing
@testable import NeuralNetworks

@Suite("network specs: any stack of layers in one line")
struct NetworkSpecTests {
    @Test("a small CNN: sizes flow from the example shape, FLOPs and parameters as counted by hand")
    func convolutionalNetwork() throws {
        let spec = try NetworkSpec(parsing: "1x28x28 conv16k3p1 relu maxpool2 conv32k3p1 relu gap 2 softmax")
        #expect(spec.inputShape == [1, 28, 28])
        #expect(spec.outputShape == [2])
        #expect(spec.layers == [
            .conv2D(inputChannels: 1, outputChannels: 16, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], useBias: true),
            .activation(function: .relu),
            .maxPool2D(kernelSize: [2, 2], stride: [2, 2]),
            .conv2D(inputChannels: 16, outputChannels: 32, kernelSize: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], useBias: true),
            .activation(function: .relu),
            .globalAveragePool2D,
            .dense(inputSize: 32, outputSize: 2, useBias: true),
            .activation(function: .softmax),
        ])
        let parameters = (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 2 + 2)
        #expect(spec.parameterCount == parameters)
        let model = spec.build(Float.self, seed: 3)
        #expect(model.parameterCount == parameters)
        #expect(try model.outputShape(forInput: [1, 28, 28]) == [2])
        let summary = try model.summary(inputShape: [1, 28, 28])
        // conv1: 2·(1·3·3)·16·28·28 + 16·28·28; conv2: 2·(16·9)·32·14·14 + 32·14·14.
        let conv1 = 2 * 9 * 16 * 784 + 16 * 784, conv2 = 2 * 16 * 9 * 32 * 196 + 32 * 196
        #expect(summary.contains(Sequential<Float>.grouped(conv1)) && summary.contains(Sequential<Float>.grouped(conv2)), "\(summary)")
        let total = conv1 + 16 * 784 + 4 * 16 * 196 + conv2 + 32 * 196 + 32 * 196 + (2 * 32 * 2 + 2) + 2
        #expect(summary.contains("Forward FLOPs per example: \(Sequential<Float>.grouped(total))"), "\(summary)")
    }

    @Test("options in any order; stride, padding, dilation and bias; pooling stride; flatten before dense; bn and dropout")
    func options() throws {
        let spec = try NetworkSpec(parsing: "3x9x9, conv4p2s2k5d1nobias, bn, tanh, avgpool2s1, dropout0.25, 6:relu, bn, 1:sigmoid")
        #expect(spec.layers[0] == .conv2D(inputChannels: 3, outputChannels: 4, kernelSize: [5, 5], stride: [2, 2], padding: [2, 2],
                                          dilation: [1, 1], useBias: false))
        #expect(spec.layers[1] == .batchNorm2D(channels: 4, momentum: 0.1, epsilon: 1e-5))
        #expect(spec.layers[3] == .avgPool2D(kernelSize: [2, 2], stride: [1, 1]))
        #expect(spec.layers[4] == .dropout(probability: 0.25))
        #expect(spec.layers[5] == .flatten)
        #expect(spec.layers[6] == .dense(inputSize: 4 * 4 * 4, outputSize: 6, useBias: true))
        #expect(spec.layers[8] == .batchNorm1D(features: 6, momentum: 0.1, epsilon: 1e-5))
        #expect(spec.outputShape == [1])
        // PyTorch's options: pooling padding and ceil mode, the leaky ReLU's slope, GELU's forms.
        let torch = try NetworkSpec(parsing: "1x7x9 maxpool3s2p1ceil avgpool2ceil flatten 4 leakyrelu0.2 gelu gelutanh logsoftmax")
        #expect(torch.layers[0] == .maxPool2D(kernelSize: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true))
        #expect(torch.layers[1] == .avgPool2D(kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: true))
        #expect(torch.layers[4] == .activation(function: .leakyReLU, negativeSlope: 0.2))
        #expect(torch.layers[5] == .activation(function: .gelu, approximate: .exact))
        #expect(torch.layers[6] == .activation(function: .gelu, approximate: .tanh))
        #expect(torch.layers[7] == .activation(function: .logSoftmax))
        // 7×9 → max-pool 3, stride 2, padding 1, ceil: 4×5 (PyTorch) → avg-pool 2, ceil: 2×3.
        #expect(torch.layers[3] == .dense(inputSize: 6, outputSize: 4, useBias: true))
        // Dense-only networks read the same as the dense spec's layers.
        let dense = try NetworkSpec(parsing: "4 3:relu 1")
        #expect(dense.layers == [.dense(inputSize: 4, outputSize: 3, useBias: true), .activation(function: .relu),
                                 .dense(inputSize: 3, outputSize: 1, useBias: true)])
        #expect(!NetworkSpec.looksLike("784-300:relu-10:softmax"))
        #expect(NetworkSpec.looksLike("1x28x28-conv8"))
    }

    @Test("a mistake is one line naming the word and why", arguments: [
        ("", "empty"),
        ("28x28 conv8", "must start with the example shape"),
        ("1x8x8", "no layers"),
        ("1x8x8 conv", "needs an output channel count"),
        ("1x8x8 conv8q3", "'q', which is not one of its options"),
        ("1x8x8 conv8k3k5", "gives 'k' twice"),
        ("1x8x8 conv8k", "needs a number after 'k'"),
        ("1x8x8 conv8k3s0", "has 's0': a stride must be at least 1"),
        ("1x8x8 conv8k0", "has 'k0': a kernel size must be at least 1"),
        ("1x8x8 maxpool2s0", "has 's0': a stride must be at least 1"),
        ("1x4x4 conv8k9", "'conv8k9' does not fit the shape [1, 4, 4]"),
        ("1x13x17 conv4k15 relu", "Conv2D(1 → 4, 15×15): kernel 15×15 is larger than the padded input 13×17; input [1, 13, 17], weight [4, 1, 15, 15]"),
        ("1x13x17 conv4k3d7", "Conv2D(1 → 4, 3×3, dilation 7): kernel 15×15"),
        ("10 conv8", "needs images [channels, height, width] before it, not [10]"),
        ("1x8x8 maxpool", "needs a window size"),
        ("1x8x8 swish", "is not a layer"),
        ("4 3:swish", "unknown activation"),
        ("4 0", "not a positive number of outputs"),
        ("4 dropout1.5", "dropout probability must be in [0, 1)"),
        ("4 dropout0x0.5 2", "'dropout0x0.5' is not dropout or dropoutP"),
        ("4 leakyrelu0x1 2", "'leakyrelu0x1' is not a layer"),
        // A setting split off its word by the spec's '-' is named with the word to write.
        ("2-16-dropout-0.1-2:softmax", "'0.1' is not a layer; write dropout0.1, without '-'"),
        ("2-16-leakyrelu-0.1-2:softmax", "'0.1' is not a layer; write leakyrelu0.1, without '-'"),
        ("2 16 LeakyReLU 0.2 2:softmax", "'0.2' is not a layer; write leakyrelu0.2, as one word"),
        // Sizes whose shape arithmetic would overflow.
        ("1x6x6 conv4k3p4611686018427387903 flatten 2", "conv2D padding must be [height, width], each from 0 to 2147483647"),
        ("1x6x6 maxpool2s9223372036854775807ceil flatten 2", "pooling stride must be [height, width], each from 1 to 2147483647"),
        ("1x6x6 conv4k3d3037000500", "conv2D dilation must be [height, width], each from 1 to 2147483647"),
        ("3037000500x3037000500x2 2", "an example of shape 3037000500x3037000500x2 has more than 2³¹ values"),
        ("1x6x6 conv4k3p2147483647 flatten 2", "'conv4k3p2147483647' makes an example of shape [4, 4294967298, 4294967298], more than 2³¹ values"),
    ])
    func mistakes(text: String, words: String) {
        let error = #expect(throws: ConfigurationError.self) { try NetworkSpec(parsing: text) }
        #expect(error?.description.contains(words) == true, "\(String(describing: error))")
        #expect(error?.description.contains("\n") == false)
    }

    @Test("dropout followed by an output of one, '-' between them, stays two layers")
    func dropoutThenOneOutput() throws {
        let spec = try NetworkSpec(parsing: "4-16-dropout-1")
        #expect(spec.layers == [.dense(inputSize: 4, outputSize: 16, useBias: true), .dropout(probability: 0.5),
                                .dense(inputSize: 16, outputSize: 1, useBias: true)])
    }

    @Test("flattening an example of more than 2³¹ values is a shape error, not an overflow")
    func flattenOverflow() {
        let error = #expect(throws: ShapeError.self) { try Flatten<Float>().outputShape(forInput: [3_037_000_500, 3_037_000_500, 2]) }
        #expect(error?.description == "Flatten: an example of shape [3037000500, 3037000500, 2] has more than 2³¹ values")
        #expect(try! Flatten<Float>().outputShape(forInput: [2, 3, 4]) == [24])
    }

    @Test("sizes no machine holds are refused while parsing, before any layer is built")
    func impossibleSizes() {
        let tensor = #expect(throws: ConfigurationError.self) { try NetworkSpec(parsing: "1x8x8 conv8k1 gap 3000000000") }
        #expect(tensor?.description.contains("a tensor of shape [3000000000, 8] is larger than 2³¹ values") == true,
                "\(String(describing: tensor))")
        // Each tensor under 2³¹ values, together beyond any machine: no layer is built.
        let layers = Array(repeating: "1000000 2000", count: 40_000).joined(separator: " ")
        let total = #expect(throws: ConfigurationError.self) { try NetworkSpec(parsing: "2000 " + layers) }
        #expect(total?.description.contains("parameters") == true && total?.description.contains("of memory") == true)
        #expect((total?.description.count ?? .max) < 300, "the message quotes the spec in full")
    }
}
