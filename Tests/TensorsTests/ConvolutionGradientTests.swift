// Convolution, pooling and batch normalisation at the tensor level: forward passes
// against direct nested loops written here, backward passes against central finite
// differences in Float64 (GradientCheck), and the tie rule of max pooling by hand.

import Testing
import Tensors

// MARK: - References and helpers

/// A convolution's settings, as PyTorch spells them.
private struct ConvCase: CustomStringConvertible, Sendable {
    var input: [Int]
    var weight: [Int]
    var stride = (1, 1)
    var padding = (0, 0)
    var dilation = (1, 1)

    var description: String {
        "input \(input), weight \(weight), stride \(stride), padding \(padding), dilation \(dilation)"
    }
}

/// Direct convolution (cross-correlation) by nested loops, in Float64:
/// Y[n, o, y, x] = b[o] + Σ W[o, c, i, j] · X[n, c, y·s + i·d − p, x·s + j·d − p].
private func directConvolution(
    _ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>?, _ c: ConvCase
) -> Tensor<Double> {
    let (n, channels, h, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (out, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = (h + 2 * c.padding.0 - c.dilation.0 * (kh - 1) - 1) / c.stride.0 + 1
    let ow = (width + 2 * c.padding.1 - c.dilation.1 * (kw - 1) - 1) / c.stride.1 + 1
    var y = [Double](repeating: 0, count: n * out * oh * ow)
    for e in 0..<n {
        for o in 0..<out {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var total = b?.scalars[o] ?? 0
                    for ch in 0..<channels {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                let iy = oy * c.stride.0 + i * c.dilation.0 - c.padding.0
                                let ix = ox * c.stride.1 + j * c.dilation.1 - c.padding.1
                                guard iy >= 0 && iy < h && ix >= 0 && ix < width else { continue }
                                total += w[o, ch, i, j] * x[e, ch, iy, ix]
                            }
                        }
                    }
                    y[((e * out + o) * oh + oy) * ow + ox] = total
                }
            }
        }
    }
    return Tensor(shape: [n, out, oh, ow], scalars: y)
}

private func convolve(_ x: Tensor<Double>, _ w: Tensor<Double>, _ b: Tensor<Double>?, _ c: ConvCase) -> Tensor<Double> {
    Tensor.convolution2D(x, weight: w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation)
}

private func largestDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
}

/// Gradient-checks `function` (reduced to a scalar with fixed random weights, so every
/// output element counts) and expects the worst relative error below 1e-6.
private func expectGradients(
    _ name: String, _ inputs: [Tensor<Double>], seed: UInt64 = 5, step: Double = 1e-6,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: @escaping ([Tensor<Double>]) -> Tensor<Double>
) {
    let shape = withoutGradients { function(inputs).shape }
    var generator = RandomSource(seed: seed)
    let weights = Tensor<Double>.randomNormal(shape, using: &generator)
        / Double(Swift.max(shape.reduce(1, *), 1)).squareRoot()
    let result = GradientCheck.check(inputs, step: step) { (function($0) * weights).sum() }
    #expect(result.worst < 1e-6, "\(name):\n\(result)", sourceLocation: sourceLocation)
}

private func normal(_ shape: [Int], _ generator: inout RandomSource) -> Tensor<Double> {
    Tensor<Double>.randomNormal(shape, using: &generator)
}

/// Convolutions covering the list: stride 1 and 2, padding 0/1/2, 1×1, 3×3 and
/// 5×5 kernels, a rectangular kernel, non-square images, batch 1, dilation, a very wide kernel.
private let convolutionCases: [ConvCase] = [
    ConvCase(input: [1, 1, 5, 5], weight: [1, 1, 3, 3]),
    ConvCase(input: [2, 3, 7, 6], weight: [4, 3, 3, 3], padding: (1, 1)),
    ConvCase(input: [2, 3, 8, 9], weight: [5, 3, 3, 3], stride: (2, 2), padding: (1, 1)),
    ConvCase(input: [1, 2, 9, 7], weight: [3, 2, 5, 5], padding: (2, 2)),
    ConvCase(input: [1, 3, 10, 8], weight: [2, 3, 5, 5], stride: (2, 2), padding: (2, 2)),
    ConvCase(input: [3, 4, 6, 5], weight: [2, 4, 1, 1]),
    ConvCase(input: [2, 4, 5, 7], weight: [3, 4, 1, 1], stride: (2, 2), padding: (1, 1)),
    ConvCase(input: [2, 2, 7, 10], weight: [3, 2, 3, 5], stride: (1, 2), padding: (1, 2)),
    ConvCase(input: [1, 2, 6, 9], weight: [2, 2, 2, 3], stride: (2, 1)),
    ConvCase(input: [1, 1, 4, 4], weight: [2, 1, 3, 3], padding: (2, 2)),
    ConvCase(input: [1, 2, 9, 9], weight: [2, 2, 3, 3], padding: (2, 2), dilation: (2, 2)),
    ConvCase(input: [2, 1, 8, 7], weight: [1, 1, 3, 2], stride: (2, 3), padding: (0, 1), dilation: (1, 2)),
    ConvCase(input: [1, 1, 3, 3], weight: [1, 1, 3, 3]),
    ConvCase(input: [2, 3, 1, 6], weight: [2, 3, 1, 3], padding: (0, 1)),
    // A kernel more than 64 rows and columns together (im2col's bounds then live on the heap).
    ConvCase(input: [1, 1, 2, 80], weight: [2, 1, 1, 70], padding: (0, 3)),
]

// MARK: - Convolution

@Suite("Convolution: forward against direct loops, gradients against finite differences")
struct ConvolutionGradientTests {
    @Test("forward equals a direct convolution", arguments: convolutionCases)
    fileprivate func forwardMatchesDirectLoops(_ c: ConvCase) {
        var generator = RandomSource(seed: 11)
        let (x, w, b) = (normal(c.input, &generator), normal(c.weight, &generator), normal([c.weight[0]], &generator))
        let expected = directConvolution(x, w, b, c)
        let actual = convolve(x, w, b, c)
        #expect(actual.shape == expected.shape, "\(c)")
        #expect(largestDifference(actual.scalars, expected.scalars) < 1e-12, "\(c)")
        let withoutBias = convolve(x, w, nil, c)
        #expect(largestDifference(withoutBias.scalars, directConvolution(x, w, nil, c).scalars) < 1e-12, "\(c)")
    }

    @Test("Float forward agrees with the Float64 reference", arguments: convolutionCases)
    fileprivate func floatForward(_ c: ConvCase) {
        var generator = RandomSource(seed: 12)
        let (x, w, b) = (normal(c.input, &generator), normal(c.weight, &generator), normal([c.weight[0]], &generator))
        let expected = directConvolution(x, w, b, c)
        let actual = Tensor.convolution2D(x.converted(to: Float.self), weight: w.converted(to: Float.self),
                                          bias: b.converted(to: Float.self), stride: c.stride,
                                          padding: c.padding, dilation: c.dilation)
        #expect(largestDifference(actual.scalars.map(Double.init), expected.scalars) < 1e-4, "\(c)")
    }

    /// A convolution is linear in each argument, so central differences have no
    /// truncation error and a step of 1e-4 keeps their round-off (sums of up to 75
    /// products here) well below the bound.
    @Test("gradients of input, weight and bias match finite differences", arguments: convolutionCases)
    fileprivate func gradients(_ c: ConvCase) {
        var generator = RandomSource(seed: 13)
        let inputs = [normal(c.input, &generator), normal(c.weight, &generator), normal([c.weight[0]], &generator)]
        expectGradients("conv2D \(c)", inputs, step: 1e-4) { convolve($0[0], $0[1], $0[2], c) }
        expectGradients("conv2D without bias \(c)", Array(inputs.prefix(2)), step: 1e-4) { convolve($0[0], $0[1], nil, c) }
    }

    @Test("only the gradients needed are computed: a constant input gets none")
    func constantInput() {
        var generator = RandomSource(seed: 14)
        let x = normal([2, 2, 5, 5], &generator)
        let w = normal([3, 2, 3, 3], &generator).requiringGradient()
        let y = Tensor.convolution2D(x, weight: w, bias: nil, padding: (1, 1))
        y.sum().backward()
        #expect(w.gradient?.shape == [3, 2, 3, 3])
        #expect(x.gradient == nil)
    }

    /// Large batches are computed in chunks of images; the result must not depend on it.
    @Test("a batch computed in chunks equals its examples computed one by one, forward and backward")
    func chunkedBatch() {
        var generator = RandomSource(seed: 15)
        let c = ConvCase(input: [40, 16, 14, 14], weight: [8, 16, 3, 3], padding: (1, 1))
        let x = normal(c.input, &generator).requiringGradient()
        let w = normal(c.weight, &generator).requiringGradient()
        let b = normal([8], &generator).requiringGradient()
        let g = normal([40, 8, 14, 14], &generator)
        let y = convolve(x, w, b, c)
        (y * g).sum().backward()
        var weightGradient = [Double](repeating: 0, count: w.count)
        var biasGradient = [Double](repeating: 0, count: 8)
        for e in 0..<40 {
            let xe = x.detached().slice(alongAxis: 0, e..<(e + 1)).requiringGradient()
            let (we, be) = (w.detached().requiringGradient(), b.detached().requiringGradient())
            let ye = convolve(xe, we, be, c)
            #expect(largestDifference(ye.scalars, y.slice(alongAxis: 0, e..<(e + 1)).scalars) < 1e-12)
            (ye * g.slice(alongAxis: 0, e..<(e + 1))).sum().backward()
            let rows = x.gradient!.slice(alongAxis: 0, e..<(e + 1)).scalars
            #expect(largestDifference(xe.gradient!.scalars, rows) < 1e-10, "example \(e)")
            for i in weightGradient.indices { weightGradient[i] += we.gradient!.scalars[i] }
            for i in biasGradient.indices { biasGradient[i] += be.gradient!.scalars[i] }
        }
        #expect(largestDifference(w.gradient!.scalars, weightGradient) < 1e-9)
        #expect(largestDifference(b.gradient!.scalars, biasGradient) < 1e-9)
    }

    /// The notes' sliding window (eq. 3.39): one weight tensor at every position, so moving
    /// the pattern by a whole stride moves the response by exactly one output position.
    @Test("shifting the input by a whole stride shifts the output by one position", arguments: [1, 2])
    func translation(stride: Int) {
        var generator = RandomSource(seed: 16)
        let w = normal([3, 2, 3, 3], &generator), b = normal([3], &generator)
        let pattern = normal([2, 3, 3], &generator)
        func image(at row: Int, _ column: Int) -> Tensor<Double> {
            var values = [Double](repeating: 0, count: 2 * 16 * 16)
            for c in 0..<2 { for i in 0..<3 { for j in 0..<3 { values[(c * 16 + row + i) * 16 + column + j] = pattern[c, i, j] } } }
            return Tensor(shape: [1, 2, 16, 16], scalars: values)
        }
        let c = ConvCase(input: [1, 2, 16, 16], weight: [3, 2, 3, 3], stride: (stride, stride), padding: (1, 1))
        let base = convolve(image(at: 4, 4), w, b, c)
        let right = convolve(image(at: 4, 4 + stride), w, b, c)
        let down = convolve(image(at: 4 + stride, 4), w, b, c)
        let (oh, ow) = (base.shape[2], base.shape[3])
        for o in 0..<3 {
            for y in 0..<(oh - 1) {
                for x in 0..<(ow - 1) {
                    #expect(right[0, o, y, x + 1] == base[0, o, y, x])
                    #expect(down[0, o, y + 1, x] == base[0, o, y, x])
                }
            }
        }
        // And the response really moved: it is not constant.
        #expect(largestDifference(right.scalars, base.scalars) > 0.1)
    }
}

// MARK: - Pooling

@Suite("Pooling: values, gradients and ties")
struct PoolingGradientTests {
    /// Max and mean over each window, by loops.
    private func directPool(_ x: Tensor<Double>, _ k: (Int, Int), _ s: (Int, Int), max: Bool) -> Tensor<Double> {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = ((h - k.0) / s.0 + 1, (w - k.1) / s.1 + 1)
        var y: [Double] = []
        for e in 0..<n { for ch in 0..<c { for oy in 0..<oh { for ox in 0..<ow {
            var values: [Double] = []
            for i in 0..<k.0 { for j in 0..<k.1 { values.append(x[e, ch, oy * s.0 + i, ox * s.1 + j]) } }
            y.append(max ? values.max()! : values.reduce(0, +) / Double(values.count))
        } } } }
        return Tensor(shape: [n, c, oh, ow], scalars: y)
    }

    static let cases: [([Int], Int, Int, Int, Int)] = [
        ([2, 3, 6, 8], 2, 2, 2, 2),     // 2×2/2, four outputs per row (vector path)
        ([1, 2, 8, 10], 2, 2, 2, 2),    // five outputs per row: the last group overlaps
        ([1, 2, 6, 6], 2, 2, 2, 2),     // three outputs per row: scalar path
        ([2, 1, 7, 9], 2, 2, 2, 2),     // odd sizes: the last row and column are dropped
        ([1, 2, 7, 7], 3, 3, 2, 2),     // overlapping windows
        ([2, 2, 5, 6], 2, 3, 1, 2),     // rectangular window and stride
        ([1, 1, 4, 4], 4, 4, 4, 4),     // one window
    ]

    @Test("max and average pooling equal direct loops, in both precisions", arguments: cases)
    func values(_ c: ([Int], Int, Int, Int, Int)) {
        var generator = RandomSource(seed: 21)
        let x = normal(c.0, &generator)
        let (k, s) = ((c.1, c.2), (c.3, c.4))
        #expect(x.maxPooled2D(kernelSize: k, stride: s) == directPool(x, k, s, max: true))
        #expect(largestDifference(x.averagePooled2D(kernelSize: k, stride: s).scalars,
                                  directPool(x, k, s, max: false).scalars) < 1e-14)
        let f = x.converted(to: Float.self)
        #expect(f.maxPooled2D(kernelSize: k, stride: s).scalars == directPool(x, k, s, max: true).scalars.map { Float($0) })
    }

    @Test("gradients of max and average pooling match finite differences", arguments: cases)
    func gradients(_ c: ([Int], Int, Int, Int, Int)) {
        var generator = RandomSource(seed: 22)
        let x = normal(c.0, &generator)
        let (k, s) = ((c.1, c.2), (c.3, c.4))
        expectGradients("maxPool \(c)", [x]) { $0[0].maxPooled2D(kernelSize: k, stride: s) }
        expectGradients("avgPool \(c)", [x]) { $0[0].averagePooled2D(kernelSize: k, stride: s) }
    }

    /// Where a window holds several equal maxima, the first in row-major order (top row
    /// first, then leftmost) receives the whole gradient. Windows (2×2 at stride 2) of a
    /// two-row plane: all equal; a tied right column; a tied bottom row; a tied diagonal.
    @Test("ties: the first maximum in row-major window order takes the gradient", arguments: [1, 3, 4, 5])
    func ties(columns: Int) {
        let top: [Double] = [1, 1, 0, 2, 0, 0, 3, 0, 5, 5]
        let bottom: [Double] = [1, 1, 0, 2, 2, 2, 0, 3, 5, 5]
        let width = 2 * columns
        let winners = [0, 3, width + 4, 6, 8].prefix(columns).sorted()
        let plane = Array(top.prefix(width)) + Array(bottom.prefix(width))
        let x = Tensor<Double>(shape: [1, 1, 2, width], scalars: plane).requiringGradient()
        x.maxPooled2D(kernelSize: (2, 2), stride: (2, 2)).sum().backward()
        #expect(x.gradient!.scalars.indices.filter { x.gradient!.scalars[$0] != 0 } == winners, "Double")
        #expect(x.gradient!.scalars.filter { $0 != 0 }.allSatisfy { $0 == 1 })
        let f = Tensor<Float>(shape: [1, 1, 2, width], scalars: plane.map { Float($0) }).requiringGradient()
        f.maxPooled2D(kernelSize: (2, 2), stride: (2, 2)).sum().backward()
        #expect(f.gradient!.scalars.indices.filter { f.gradient!.scalars[$0] != 0 } == winners, "Float")
    }

    @Test("ties in overlapping 3×3 windows and a constant image: first in row-major order")
    func tiesGeneralWindow() {
        let x = Tensor<Double>.ones([1, 1, 5, 5]).requiringGradient()
        x.maxPooled2D(kernelSize: (3, 3), stride: (2, 2)).sum().backward()
        // Windows start at (0,0), (0,2), (2,0), (2,2): each one's top-left element wins.
        var expected = [Double](repeating: 0, count: 25)
        for i in [0, 2, 10, 12] { expected[i] = 1 }
        #expect(x.gradient!.scalars == expected)
    }

    @Test("a NaN in a window propagates to the output")
    func nanPropagates() {
        for width in [4, 8] {
            var values = [Double](repeating: 1, count: 2 * width)
            values[width + 1] = .nan
            let y = Tensor<Double>(shape: [1, 1, 2, width], scalars: values).maxPooled2D(kernelSize: (2, 2), stride: (2, 2))
            #expect(y.scalars[0].isNaN && y.scalars.dropFirst().allSatisfy { $0 == 1 })
            let f = Tensor<Float>(shape: [1, 1, 2, width], scalars: values.map { Float($0) })
                .maxPooled2D(kernelSize: (2, 2), stride: (2, 2))
            #expect(f.scalars[0].isNaN && f.scalars.dropFirst().allSatisfy { $0 == 1 })
        }
    }

    @Test("global average pooling: the mean of each plane, and its gradient")
    func globalAverage() {
        var generator = RandomSource(seed: 23)
        let x = normal([2, 3, 4, 5], &generator)
        let y = x.globalAveragePooled2D()
        #expect(y.shape == [2, 3])
        #expect(Swift.abs(y[1, 2] - x.slice(alongAxis: 0, 1..<2).slice(alongAxis: 1, 2..<3).mean().scalar) < 1e-14)
        expectGradients("globalAveragePool", [x]) { $0[0].globalAveragePooled2D() }
    }
}

// MARK: - Batch normalisation

@Suite("Batch normalisation: statistics and gradients")
struct NormalizationGradientTests {
    @Test("training mode standardises each channel, then scales and shifts", arguments: [[6, 3], [4, 2, 3, 5], [3, 2, 7]])
    func forward(shape: [Int]) {
        var generator = RandomSource(seed: 31)
        let x = normal(shape, &generator) * 3 + 1
        let (gamma, beta) = (normal([shape[1]], &generator), normal([shape[1]], &generator))
        let (y, mean, variance, _) = Tensor.batchNormalized(x, scale: gamma, shift: beta, epsilon: 1e-5)
        let size = shape.dropFirst(2).reduce(1, *)
        for c in 0..<shape[1] {
            var values: [Double] = []
            for n in 0..<shape[0] { for i in 0..<size { values.append(x.scalars[(n * shape[1] + c) * size + i]) } }
            let mu = values.reduce(0, +) / Double(values.count)
            let sigma2 = values.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(values.count)
            #expect(Swift.abs(mean.scalars[c] - mu) < 1e-12 && Swift.abs(variance.scalars[c] - sigma2) < 1e-12)
            for n in 0..<shape[0] {
                for i in 0..<size {
                    let index = (n * shape[1] + c) * size + i
                    let expected = gamma.scalars[c] * (x.scalars[index] - mu) / (sigma2 + 1e-5).squareRoot() + beta.scalars[c]
                    #expect(Swift.abs(y.scalars[index] - expected) < 1e-12)
                }
            }
        }
    }

    @Test("training-mode gradients of input, scale and shift match finite differences",
          arguments: [[5, 3], [2, 3, 2, 3], [3, 2, 4]])
    func trainingGradients(shape: [Int]) {
        var generator = RandomSource(seed: 32)
        let inputs = [normal(shape, &generator), normal([shape[1]], &generator), normal([shape[1]], &generator)]
        expectGradients("batchNorm \(shape)", inputs) {
            Tensor.batchNormalized($0[0], scale: $0[1], shift: $0[2], epsilon: 1e-5).output
        }
    }

    @Test("evaluation-mode gradients (fixed statistics) match finite differences")
    func evaluationGradients() {
        var generator = RandomSource(seed: 33)
        let inputs = [normal([2, 3, 2, 2], &generator), normal([3], &generator), normal([3], &generator)]
        let mean = normal([3], &generator), variance = normal([3], &generator).abs() + 0.5
        expectGradients("normalized", inputs) {
            Tensor.normalized($0[0], mean: mean, variance: variance, scale: $0[1], shift: $0[2], epsilon: 1e-5)
        }
    }
}
