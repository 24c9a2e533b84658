import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

/// PyTorch's layer options — the leaky ReLU's slope, GELU's form, padded and ceil-mode
/// pooling, the softmax axis, batch norm's batch counter — against their formulas and
/// central finite differences in Float64. (Their values against PyTorch's own are in
/// ModelFilesTests' PyTorchLayerTests, which read the fixtures torch wrote.)
@Suite("Layer options")
struct LayerOptionTests {
    // MARK: Activations

    @Test("LeakyReLU(0.2): x or 0.2x, slope 0.2 below 0 and at 0 (as PyTorch), gradient-checked")
    func leakyReLU() {
        let layer = LeakyReLU<Double>(negativeSlope: 0.2)
        #expect(layer.summaryName == "LeakyReLU(0.2)" && layer.negativeSlope == 0.2)
        let x = Tensor<Double>(shape: [2, 3], scalars: [-2, -0.5, 0, 0.5, 3, -10]).requiringGradient()
        let y = layer(x)
        #expect(y.scalars == [-0.4, -0.1, 0, 0.5, 3, -2])
        y.sum().backward()
        #expect(x.gradient!.scalars == [0.2, 0.2, 0.2, 1, 1, 0.2])
        var inputs = Inputs(seed: 61)
        expectGradientsMatch("LeakyReLU(0.2)", [inputs.awayFromZero([3, 4], low: 0.05)]) { layer($0[0]) }
        #expect(LeakyReLU<Double>().negativeSlope == 0.01)
    }

    /// ½x(1 + erf(x/√2)) and ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
    static func gelu(_ x: Double, tanh: Bool) -> Double {
        tanh ? 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
             : 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
    }

    @Test("GELU exact (the default) and tanh: their formulas, in Float too, gradient-checked", arguments: [false, true])
    func gelu(tanh: Bool) {
        let layer = GELU<Double>(approximate: tanh ? .tanh : .exact)
        var inputs = Inputs(seed: 62)
        let x = Tensor(shape: [3, 6], scalars: [-8, -3, -1, -0.5, 0, 0.5, 1, 3, 8] + inputs.normal([9], 2).scalars)
        let expected = x.scalars.map { Self.gelu($0, tanh: tanh) }
        #expect(maxAbsDifference(layer(x).scalars, expected) < 1e-14)
        let float = GELU<Float>(approximate: tanh ? .tanh : .exact)(x.converted(to: Float.self))
        #expect(maxAbsDifference(float.scalars.map(Double.init), expected) < 1e-6)
        expectGradientsMatch("GELU \(layer.approximate)", [x]) { layer($0[0]) }
        #expect(layer.summaryName == (tanh ? "GELU(tanh)" : "GELU"))
    }

    @Test("GELU: exact by default; the two forms differ by less than 5·10⁻⁴ (the doc comment's bound)")
    func geluForms() {
        #expect(GELU<Double>().approximate == .exact && ActivationLayer<Double>(.gelu).approximate == .exact)
        let x = Tensor<Double>(shape: [4001], scalars: (0...4000).map { Double($0) / 200 - 10 })
        let difference = maxAbsDifference(GELU<Double>()(x).scalars, GELU<Double>(approximate: .tanh)(x).scalars)
        #expect(difference > 4e-4 && difference < 5e-4)
    }

    @Test("Softmax and LogSoftmax over axis 1 of a 4-D batch: sums to 1 along it, log of each other, gradient-checked")
    func softmaxAxis() throws {
        var inputs = Inputs(seed: 63)
        let x = inputs.normal([2, 3, 4, 5], 2)
        let softmax = Softmax<Double>(axis: 1), logSoftmax = LogSoftmax<Double>(axis: 1)
        let p = softmax(x), logP = logSoftmax(x)
        let sums = p.sum(alongAxis: 1)
        #expect(sums.shape == [2, 4, 5] && sums.scalars.allSatisfy { Swift.abs($0 - 1) < 1e-14 })
        #expect(maxAbsDifference(logP.scalars, p.scalars.map { Foundation.log($0) }) < 1e-14)
        // Element (n, c, h, w) against the formula, along c.
        let (n, h, w) = (1, 2, 3)
        let column = (0..<3).map { x[n, $0, h, w] }
        let total = column.map { Foundation.exp($0) }.reduce(0, +)
        for c in 0..<3 { #expect(Swift.abs(p[n, c, h, w] - Foundation.exp(column[c]) / total) < 1e-15) }
        expectGradientsMatch("softmax axis 1", [x]) { softmax($0[0]) }
        expectGradientsMatch("logSoftmax axis 1", [x]) { logSoftmax($0[0]) }
        #expect(try softmax.outputShape(forInput: [3, 4, 5]) == [3, 4, 5])
        #expect(softmax.summaryName == "Softmax(axis 1)" && LogSoftmax<Float>().summaryName == "LogSoftmax")
        // The default is the last axis: each example's scores.
        #expect(maxAbsDifference(LogSoftmax<Double>()(x).scalars, x.logSoftmax(alongAxis: 3).scalars) == 0)
    }

    @Test("an axis outside the batch's rank is a shape error naming the layer")
    func softmaxAxisError() {
        let error = #expect(throws: ShapeError.self) { try Softmax<Float>(axis: 3).outputShape(forInput: [10]) }
        #expect(error?.description == "Softmax(axis 3): axis 3 is outside a batch of rank 2 (input [10] per example)")
        #expect(throws: ShapeError.self) { try LogSoftmax<Float>(axis: -3).outputShape(forInput: [10]) }
        #expect(throws: Never.self) { try LogSoftmax<Float>(axis: -2).outputShape(forInput: [10]) }
    }

    @Test("a final softmax over another axis than the scores is not taken for a class softmax")
    func finalActivation() {
        func final(_ layer: any Layer<Float>) -> Activation? {
            Sequential<Float>(layers: [Dense(inputSize: 2, outputSize: 3), layer]).finalActivation
        }
        #expect(final(Softmax()) == .softmax && final(Softmax(axis: 1)) == .softmax)
        #expect(final(Softmax(axis: 0)) == nil && final(LogSoftmax(axis: 0)) == nil)
        #expect(final(LogSoftmax()) == .logSoftmax && final(LeakyReLU(negativeSlope: 0.3)) == .leakyReLU)
    }

    // MARK: Pooling

    /// PyTorch's output sizes (`torch.nn.functional.max_pool2d(…).shape`).
    @Test("output shapes with padding and ceil mode follow PyTorch's rule", arguments: [
        // kernel, stride, padding, ceil mode, input height × width, output
        (2, 2, 1, true, [7, 9], [4, 5]),      // ⌈7/2⌉ + 1 = 5, the last would start in the padding
        (3, 3, 1, true, [7, 9], [3, 4]),      // across: ⌈8/3⌉ + 1 = 4, starting at column 8
        (3, 3, 1, false, [7, 9], [3, 3]),
        (2, 2, 0, true, [7, 9], [4, 5]),      // odd sizes: a last, partial window
        (2, 2, 0, false, [7, 9], [3, 4]),     // the remainder dropped
        (4, 4, 0, true, [3, 3], [1, 1]),      // in ceil mode a window may be larger than the input
        (3, 2, 1, true, [1, 1], [1, 1]),
    ])
    func pooledShapes(_ c: (Int, Int, Int, Bool, [Int], [Int])) throws {
        for layer in [MaxPool2D<Float>(kernelSize: c.0, stride: c.1, padding: c.2, ceilMode: c.3),
                      AvgPool2D<Float>(kernelSize: c.0, stride: c.1, padding: c.2, ceilMode: c.3)] as [Pool2DLayer<Float>] {
            #expect(try layer.outputShape(forInput: [2] + c.4) == [2] + c.5, "\(layer.summaryName)")
            #expect(layer(Tensor<Float>.ones([1, 2] + c.4)).shape == [1, 2] + c.5)
        }
    }

    @Test("a window that fits nowhere is a shape error naming the layer and both sizes")
    func pooledShapeError() {
        let error = #expect(throws: ShapeError.self) {
            try MaxPool2D<Float>(kernelSize: 4, padding: 1).outputShape(forInput: [1, 1, 1])
        }
        #expect(error?.description == "MaxPool2D(4×4, padding 1): window 4×4 is larger than the input 1×1 padded by 1; input [1, 1, 1]")
    }

    @Test("max pooling pads with −∞: a window over padding takes the largest input, even a negative one")
    func maxPoolPadding() {
        let x = Tensor<Double>(shape: [1, 1, 3, 3], scalars: [-9, -8, -7, -6, -5, -4, -3, -2, -1])
        let y = MaxPool2D<Double>(kernelSize: 2, padding: 1)(x)
        #expect(y.shape == [1, 1, 2, 2] && y.scalars == [-9, -7, -3, -1])
    }

    @Test("average pooling divides by the window inside the padded input, or the input alone without countIncludePad")
    func avgPoolDivisors() {
        let x = Tensor<Double>.ones([1, 1, 3, 3])
        // 3×3 windows at stride 2 with padding 1: corners see 4 of 9 padded positions.
        let counted = AvgPool2D<Double>(kernelSize: 3, stride: 2, padding: 1)(x)
        let fourNinths: Double = 4.0 / 9
        #expect(counted.scalars == [Double](repeating: fourNinths, count: 4))
        let uncounted = AvgPool2D<Double>(kernelSize: 3, stride: 2, padding: 1, countIncludePad: false)(x)
        #expect(uncounted.scalars == [1, 1, 1, 1])
        // In ceil mode the part of a window past the padding is never counted: over 6
        // values with padding 1, 3-wide windows at stride 3 start at −1, 2 and 5; the last
        // covers 5 (input), 6 (padding) and 7 (past both): a divisor of 2 along that axis.
        // (PyTorch: avg_pool2d(ones(1, 1, 6, 6), 3, 3, 1, ceil_mode=True).)
        let ceil = AvgPool2D<Double>(kernelSize: 3, stride: 3, padding: 1, ceilMode: true)(Tensor.ones([1, 1, 6, 6]))
        let edge: [Double] = [2.0 / 3, 1, 1.0 / 2]
        #expect(ceil.shape == [1, 1, 3, 3])
        #expect(maxAbsDifference(ceil.scalars, edge.flatMap { row in edge.map { row * $0 } }) < 1e-15)
    }

    @Test("padded, ceil-mode pooling passes a Float64 gradient check", arguments: [
        (3, 2, 1, true), (2, 2, 1, true), (3, 3, 1, true), (2, 2, 0, true), (3, 2, 1, false),
    ])
    func poolingGradients(_ c: (Int, Int, Int, Bool)) {
        var inputs = Inputs(seed: 64)
        // Distinct values: finite differences do not cross a change of maximum.
        let x = Tensor(shape: [2, 2, 7, 9], scalars: (0..<252).map { Double($0) * 0.01 }.shuffled(using: &inputs.rng))
        let max = MaxPool2D<Double>(kernelSize: c.0, stride: c.1, padding: c.2, ceilMode: c.3)
        let average = AvgPool2D<Double>(kernelSize: c.0, stride: c.1, padding: c.2, ceilMode: c.3)
        let uncounted = AvgPool2D<Double>(kernelSize: c.0, stride: c.1, padding: c.2, ceilMode: c.3, countIncludePad: false)
        expectGradientsMatch(max.summaryName, [x]) { max($0[0]) }
        expectGradientsMatch(average.summaryName, [x]) { average($0[0]) }
        expectGradientsMatch(uncounted.summaryName, [x]) { uncounted($0[0]) }
    }

    @Test("summary names show the options that differ from the defaults")
    func poolingNames() {
        #expect(MaxPool2D<Float>(kernelSize: 2).summaryName == "MaxPool2D(2×2)")
        #expect(MaxPool2D<Float>(kernelSize: 3, stride: 2, padding: 1, ceilMode: true).summaryName
                == "MaxPool2D(3×3, stride 2, padding 1, ceil mode)")
        #expect(AvgPool2D<Float>(kernelSize: 3, padding: 1, countIncludePad: false).summaryName
                == "AvgPool2D(3×3, padding 1, countIncludePad false)")
    }

    // MARK: Batch normalisation

    @Test("num_batches_tracked counts training-mode passes only, and a reset clears it")
    func batchesTracked() {
        let layer = BatchNorm2D<Double>(channels: 2)
        #expect(layer.batchesTracked == 0 && layer.namedCounters.map(\.name) == ["num_batches_tracked"])
        var inputs = Inputs(seed: 65)
        for _ in 0..<3 { _ = layer(inputs.normal([4, 2, 3, 3])) }
        #expect(layer.batchesTracked == 3)
        _ = layer.predict(inputs.normal([4, 2, 3, 3]))
        layer.isTraining = false
        _ = layer(inputs.normal([4, 2, 3, 3]))
        #expect(layer.batchesTracked == 3)
        let model = Sequential<Double>(layers: [Flatten(), BatchNorm1D(features: 18), Sequential(layers: [BatchNorm1D(features: 18)])])
        _ = model(inputs.normal([4, 2, 3, 3]))
        #expect(model.namedCounters.map(\.name) == ["1.num_batches_tracked", "2.0.num_batches_tracked"])
        #expect(model.namedCounters.map(\.value) == [1, 1])
        var generator = RandomSource(seed: 1)
        model.resetParameters(using: &generator)
        #expect(model.namedCounters.map(\.value) == [0, 0])
    }
}
