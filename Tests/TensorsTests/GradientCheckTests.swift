import Testing
@testable import Tensors

/// Every differentiable operation against central finite differences in Float64.
@Suite("Gradient checks (Float64, worst relative error < 1e-6)")
struct GradientCheckTests {
    // MARK: The checker itself

    @Test("the gradient check flags a wrong derivative rule")
    func checkerCatchesWrongGradient() {
        var inputs = Inputs(seed: 7)
        let x = inputs.normal([3, 2])
        // x² recorded with the pullback of 3x instead of 2x.
        let result = GradientCheck.check([x]) { xs in
            let value = Tensor(shape: xs[0].shape, scalars: xs[0].scalars.map { $0 * $0 })
            let saved = xs[0].detached()
            return Tensor.record(value, from: [xs[0]]) { g, _ in [3 * g * saved] }.sum()
        }
        #expect(result.worst > 0.1, "a wrong pullback must be reported: \(result)")
        #expect(GradientCheck.relativeError(1, 1.5) == 0.5 / 1.5)
        #expect(GradientCheck.relativeError(1e-9, 0) == 1e-9 / 1e-3)
        // A gradient that is not a number fails any tolerance (NaN would pass every comparison).
        for (a, b) in [(Double.nan, 1.0), (1.0, .nan), (.nan, .nan), (.infinity, .infinity), (2.0, -.infinity)] {
            #expect(GradientCheck.relativeError(a, b) == .infinity, "\(a), \(b)")
        }
    }

    @Test("the gradient check reports one error per input")
    func checkerReportsEachInput() {
        var inputs = Inputs(seed: 8)
        let (a, b) = (inputs.normal([2, 2]), inputs.normal([2, 2]))
        let result = GradientCheck.check([a, b]) { ($0[0] * $0[1]).sum() }
        #expect(result.maximumRelativeErrors.count == 2)
        #expect(result.worst < 1e-6, "\(result)")
    }

    // MARK: Arithmetic with broadcasting

    /// Operand shape pairs: same shape, scalar on either side, row vector [n] over [m, n]
    /// on either side, column [m, 1] over [m, n] on either side, and [1, n] against [m, 1].
    static func broadcastPairs(_ inputs: inout Inputs) -> [([Int], [Int])] {
        inputs.matrixShapes().flatMap { s -> [([Int], [Int])] in
            let (m, n) = (s[0], s[1])
            return [
                ([m, n], [m, n]), ([m, n], []), ([], [m, n]),
                ([m, n], [n]), ([n], [m, n]), ([m, n], [m, 1]), ([m, 1], [m, n]),
                ([1, n], [m, 1]),
            ]
        }
    }

    @Test("+ - * / with broadcasting", arguments: testSeeds)
    func arithmetic(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for (shapeA, shapeB) in Self.broadcastPairs(&inputs) {
            let a = inputs.normal(shapeA), b = inputs.normal(shapeB)
            let denominator = inputs.awayFromZero(shapeB, low: 0.5)
            expectGradientsMatch("+", seed: seed, [a, b]) { $0[0] + $0[1] }
            expectGradientsMatch("-", seed: seed, [a, b]) { $0[0] - $0[1] }
            expectGradientsMatch("*", seed: seed, [a, b]) { $0[0] * $0[1] }
            expectGradientsMatch("/", seed: seed, [a, denominator]) { $0[0] / $0[1] }
        }
    }

    @Test("arithmetic with a Swift scalar, and compound assignment", arguments: testSeeds)
    func scalarArithmetic(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let x = inputs.normal([2, 3])
        let positive = inputs.awayFromZero([2, 3], low: 0.5)
        expectGradientsMatch("x + 1.5, 2 - x", seed: seed, [x]) { ($0[0] + 1.5) * (2 - $0[0]) }
        expectGradientsMatch("3x, x / 4", seed: seed, [x]) { (3 * $0[0]) * ($0[0] / 4) }
        expectGradientsMatch("1 / x", seed: seed, [positive]) { 1 / $0[0] }
        expectGradientsMatch("+=, *=", seed: seed, [x, positive]) { xs in
            var y = xs[0]
            y += xs[1]
            y *= xs[0]
            y -= xs[1]
            y /= xs[1]
            return y
        }
    }

    @Test("unary minus", arguments: testSeeds)
    func negation(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() + [[], [5]] {
            expectGradientsMatch("-x", seed: seed, [inputs.normal(shape)]) { -$0[0] }
        }
    }

    // MARK: Matrix product

    @Test("matmul in all four transpose combinations", arguments: testSeeds)
    func matrixProduct(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let sizes = [(1, 1, 1), (2, 3, 4), (4, 1, 3), (1, 5, 1), (3, 2, 1),
                     (inputs.int(1...5), inputs.int(1...5), inputs.int(1...5))]
        for (m, k, n) in sizes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let a = inputs.normal(transposeA ? [k, m] : [m, k])
                    let b = inputs.normal(transposeB ? [n, k] : [k, n])
                    let product = withoutGradients {
                        Tensor.matmul(a, transposed: transposeA, b, transposed: transposeB)
                    }
                    #expect(product.shape == [m, n], "seed \(seed)")
                    expectGradientsMatch("matmul(ᵀ\(transposeA), ᵀ\(transposeB))", seed: seed, [a, b]) {
                        Tensor.matmul($0[0], transposed: transposeA, $0[1], transposed: transposeB)
                    }
                }
            }
        }
    }

    @Test("matmul free function, and a product of a value with itself", arguments: testSeeds)
    func matrixProductSharedInput(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let a = inputs.normal([3, 3])
        expectGradientsMatch("matmul(a, a)", seed: seed, [a]) { matmul($0[0], $0[0]) }
        let b = inputs.normal([4, 2])
        expectGradientsMatch("bᵀ·b", seed: seed, [b]) { Tensor.matmul($0[0], transposed: true, $0[0]) }
        expectGradientsMatch("b·bᵀ", seed: seed, [b]) { Tensor.matmul($0[0], transposed: false, $0[0], transposed: true) }
    }

    // MARK: Reductions

    @Test("sum() and mean()", arguments: testSeeds)
    func fullReductions(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() + [[], [1], [2, 3, 4]] {
            let x = inputs.normal(shape)
            expectGradientsMatch("sum()", seed: seed, [x]) { $0[0].sum() }
            expectGradientsMatch("mean()", seed: seed, [x]) { $0[0].mean() }
            // Non-linear use, so that the gradient is not constant.
            expectGradientsMatch("sum()²", seed: seed, [x]) { $0[0].sum().squared() }
            expectGradientsMatch("mean()·x", seed: seed, [x]) { $0[0].mean() * $0[0] }
        }
    }

    @Test("sum(alongAxis:) and mean(alongAxis:) on every axis of a 3-D tensor", arguments: testSeeds)
    func axisReductions(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let shapes = [[2, 3, 4], [1, 1, 1], [3, 1, 2], [inputs.int(1...3), inputs.int(1...4), inputs.int(1...3)]]
        for shape in shapes {
            let x = inputs.normal(shape)
            for axis in [0, 1, 2, -1] {
                for keep in [false, true] {
                    let reduced = withoutGradients { x.sum(alongAxis: axis, keepingDimension: keep) }
                    var expected = shape
                    if keep { expected[(axis + 3) % 3] = 1 } else { expected.remove(at: (axis + 3) % 3) }
                    #expect(reduced.shape == expected, "seed \(seed)")
                    expectGradientsMatch("sum(alongAxis: \(axis), keeping: \(keep))", seed: seed, [x]) {
                        $0[0].sum(alongAxis: axis, keepingDimension: keep)
                    }
                    expectGradientsMatch("mean(alongAxis: \(axis), keeping: \(keep))", seed: seed, [x]) {
                        $0[0].mean(alongAxis: axis, keepingDimension: keep)
                    }
                    // The reduction feeding a non-linear op that broadcasts it back.
                    if keep {
                        expectGradientsMatch("x − mean(alongAxis: \(axis))²", seed: seed, [x]) {
                            ($0[0] - $0[0].mean(alongAxis: axis, keepingDimension: true)).squared()
                        }
                    }
                }
            }
        }
    }

    // MARK: Shape operations

    @Test("reshaped and transposed", arguments: testSeeds)
    func reshapeAndTranspose(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let x = inputs.normal([2, 3, 4])
        expectGradientsMatch("reshaped([6, -1])", seed: seed, [x]) { $0[0].reshaped(to: [6, -1]) }
        expectGradientsMatch("reshaped([24])", seed: seed, [x]) { $0[0].reshaped(to: [24]) }
        expectGradientsMatch("reshaped([-1, 3, 2, 2])", seed: seed, [x]) { $0[0].reshaped(to: [-1, 3, 2, 2]) }
        expectGradientsMatch("reshaped scalar", seed: seed, [inputs.normal([1])]) { $0[0].reshaped(to: [1, 1]) }
        expectGradientsMatch("flattenedBatch", seed: seed, [x]) { $0[0].flattenedBatch() }
        for shape in inputs.matrixShapes() {
            expectGradientsMatch("transposed", seed: seed, [inputs.normal(shape)]) { $0[0].transposed() }
        }
        // A transpose feeding a product with the original (gradient through both paths).
        expectGradientsMatch("x·xᵀ via transposed()", seed: seed, [inputs.normal([3, 2])]) {
            matmul($0[0], $0[0].transposed())
        }
    }

    @Test("gatheringRows with a repeated index", arguments: testSeeds)
    func gather(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        expectGradientsMatch("gatheringRows([2, 0, 2, 3, 2])", seed: seed, [inputs.normal([4, 3])]) {
            $0[0].gatheringRows([2, 0, 2, 3, 2])
        }
        expectGradientsMatch("gatheringRows 3-D", seed: seed, [inputs.normal([3, 2, 2])]) {
            $0[0].gatheringRows([1, 1, 0])
        }
        expectGradientsMatch("gatheringRows 1-D", seed: seed, [inputs.normal([5])]) {
            $0[0].gatheringRows([4, 0, 4])
        }
        expectGradientsMatch("gatheringRows one row", seed: seed, [inputs.normal([1, 1])]) {
            $0[0].gatheringRows([0, 0])
        }
    }

    @Test("concatenate along axis 0 and 1", arguments: testSeeds)
    func concatenation(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let rows = [inputs.normal([2, 3]), inputs.normal([1, 3]), inputs.normal([3, 3])]
        expectGradientsMatch("concatenate axis 0", seed: seed, rows) { Tensor.concatenate($0, alongAxis: 0) }
        let columns = [inputs.normal([2, 3]), inputs.normal([2, 1]), inputs.normal([2, 2])]
        expectGradientsMatch("concatenate axis 1", seed: seed, columns) { Tensor.concatenate($0, alongAxis: 1) }
        expectGradientsMatch("concatenate axis -1", seed: seed, columns) { Tensor.concatenate($0, alongAxis: -1) }
        let cubes = [inputs.normal([2, 1, 2]), inputs.normal([2, 3, 2])]
        expectGradientsMatch("concatenate 3-D axis 1", seed: seed, cubes) { Tensor.concatenate($0, alongAxis: 1) }
        let x = inputs.normal([2, 2])
        expectGradientsMatch("concatenate [x, x]", seed: seed, [x]) { Tensor.concatenate([$0[0], $0[0]], alongAxis: 1) }
    }

    @Test("slice(alongAxis:)", arguments: testSeeds)
    func slicing(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let x = inputs.normal([4, 5])
        expectGradientsMatch("slice axis 0", seed: seed, [x]) { $0[0].slice(alongAxis: 0, 1..<3) }
        expectGradientsMatch("slice axis 1", seed: seed, [x]) { $0[0].slice(alongAxis: 1, 2..<5) }
        expectGradientsMatch("slice axis -1", seed: seed, [x]) { $0[0].slice(alongAxis: -1, 0..<1) }
        let cube = inputs.normal([2, 3, 4])
        for axis in 0..<3 {
            expectGradientsMatch("slice 3-D axis \(axis)", seed: seed, [cube]) {
                $0[0].slice(alongAxis: axis, 1..<2)
            }
        }
        expectGradientsMatch("two overlapping slices", seed: seed, [x]) {
            $0[0].slice(alongAxis: 0, 0..<3) * $0[0].slice(alongAxis: 0, 1..<4)
        }
    }

    @Test("broadcast(to:)", arguments: testSeeds)
    func broadcasting(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let cases: [([Int], [Int])] = [
            ([3], [2, 3]), ([2, 1], [2, 4]), ([], [2, 3]), ([1, 3], [4, 2, 3]),
            ([1], [1, 1]), ([2, 3], [2, 3]), ([2, 1, 3], [2, 4, 3]),
        ]
        for (from, to) in cases {
            expectGradientsMatch("broadcast \(from) → \(to)", seed: seed, [inputs.normal(from)]) {
                $0[0].broadcast(to: to)
            }
        }
    }

    // MARK: Elementwise functions

    @Test("exp, log, sqrt, squared", arguments: testSeeds)
    func elementaryFunctions(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() {
            let x = inputs.normal(shape)
            let positive = inputs.uniform(shape, 0.2, 3)
            expectGradientsMatch("exp", seed: seed, [x]) { $0[0].exp() }
            expectGradientsMatch("log", seed: seed, [positive]) { $0[0].log() }
            expectGradientsMatch("sqrt", seed: seed, [positive]) { $0[0].sqrt() }
            expectGradientsMatch("squared", seed: seed, [x]) { $0[0].squared() }
            expectGradientsMatch("free functions exp/log/sqrt", seed: seed, [positive]) {
                Tensors.exp($0[0]) + Tensors.log($0[0]) * Tensors.sqrt($0[0])
            }
        }
    }

    @Test("pow with p = 3, 0.5, 2.5", arguments: testSeeds)
    func power(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() {
            let x = inputs.normal(shape)
            let positive = inputs.uniform(shape, 0.2, 3)
            expectGradientsMatch("pow 3", seed: seed, [x]) { $0[0].pow(3) }
            expectGradientsMatch("pow 0.5", seed: seed, [positive]) { $0[0].pow(0.5) }
            expectGradientsMatch("pow 2.5", seed: seed, [positive]) { $0[0].pow(2.5) }
            expectGradientsMatch("pow 2 (free function)", seed: seed, [x]) { Tensors.pow($0[0], 2) }
            expectGradientsMatch("pow -1", seed: seed, [positive]) { $0[0].pow(-1) }
        }
    }

    @Test("tanh, sigmoid, softplus", arguments: testSeeds)
    func smoothActivations(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() {
            let x = inputs.normal(shape)
            let wide = 4 * inputs.normal(shape)
            expectGradientsMatch("tanh", seed: seed, [x]) { $0[0].tanh() }
            expectGradientsMatch("tanh (wide)", seed: seed, [wide]) { $0[0].tanh() }
            expectGradientsMatch("sigmoid", seed: seed, [x]) { $0[0].sigmoid() }
            expectGradientsMatch("sigmoid (wide)", seed: seed, [wide]) { $0[0].sigmoid() }
            expectGradientsMatch("softplus", seed: seed, [x]) { $0[0].softplus() }
            expectGradientsMatch("softplus (wide)", seed: seed, [wide]) { $0[0].softplus() }
        }
    }

    @Test("relu, leakyReLU, abs away from 0", arguments: testSeeds)
    func kinkedActivations(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() {
            let x = inputs.awayFromZero(shape, low: 0.1)
            expectGradientsMatch("relu", seed: seed, [x]) { $0[0].relu() }
            expectGradientsMatch("leakyReLU", seed: seed, [x]) { $0[0].leakyReLU() }
            expectGradientsMatch("leakyReLU(slope: 0.2)", seed: seed, [x]) { $0[0].leakyReLU(slope: 0.2) }
            expectGradientsMatch("abs", seed: seed, [x]) { $0[0].abs() }
        }
        // Both signs present for sure, so that both branches of each rule are exercised.
        let mixed = Tensor<Double>([[-1.5, 0.3], [2.0, -0.2]])
        expectGradientsMatch("relu mixed", seed: seed, [mixed]) { $0[0].relu() }
        expectGradientsMatch("leakyReLU mixed", seed: seed, [mixed]) { $0[0].leakyReLU(slope: 0.05) }
        expectGradientsMatch("abs mixed", seed: seed, [mixed]) { $0[0].abs() }
    }

    @Test("softmax and logSoftmax along axis -1 and 0", arguments: testSeeds)
    func softmaxes(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() + [[2, 3, 4]] {
            let x = 2 * inputs.normal(shape)
            for axis in [-1, 0] {
                expectGradientsMatch("softmax(alongAxis: \(axis))", seed: seed, [x]) {
                    $0[0].softmax(alongAxis: axis)
                }
                expectGradientsMatch("logSoftmax(alongAxis: \(axis))", seed: seed, [x]) {
                    $0[0].logSoftmax(alongAxis: axis)
                }
            }
        }
        let cube = inputs.normal([2, 3, 4])
        expectGradientsMatch("softmax(alongAxis: 1) 3-D", seed: seed, [cube]) { Tensors.softmax($0[0], alongAxis: 1) }
        expectGradientsMatch("logSoftmax(alongAxis: 1) 3-D", seed: seed, [cube]) {
            Tensors.logSoftmax($0[0], alongAxis: 1)
        }
    }

    @Test("Tensor.maximum on untied inputs", arguments: testSeeds)
    func maximum(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() {
            let a = inputs.normal(shape)
            let b = a + inputs.awayFromZero(shape, low: 0.1)
            expectGradientsMatch("maximum", seed: seed, [a, b]) { Tensor.maximum($0[0], $0[1]) }
            // Broadcast: a row [n] against [m, n], kept apart from every entry of its column.
            let row = inputs.normal([shape[1]])
            let matrix = row + inputs.awayFromZero(shape, low: 0.1)
            expectGradientsMatch("maximum broadcast", seed: seed, [matrix, row]) { Tensor.maximum($0[0], $0[1]) }
            expectGradientsMatch("maximum broadcast (row first)", seed: seed, [row, matrix]) {
                Tensor.maximum($0[0], $0[1])
            }
        }
    }

    // MARK: Fused operations

    @Test("Tensor.linear with and without bias", arguments: testSeeds)
    func fusedLinear(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for (m, k, n) in [(1, 1, 1), (4, 3, 2), (2, 5, 3), (inputs.int(1...5), inputs.int(1...5), inputs.int(1...5))] {
            let (x, w, b) = (inputs.normal([m, k]), inputs.normal([n, k]), inputs.normal([n]))
            expectGradientsMatch("linear", seed: seed, [x, w, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
            expectGradientsMatch("linear without bias", seed: seed, [x, w]) { Tensor.linear($0[0], weight: $0[1], bias: nil) }
            // Same values as the composed primitives X·Wᵀ + b.
            let fused = Tensor.linear(x, weight: w, bias: b)
            let composed = Tensor.matmul(x, transposed: false, w, transposed: true) + b
            #expect(fused.shape == [m, n] && maxAbsDifference(fused.scalars, composed.scalars) < 1e-12, "seed \(seed)")
        }
    }

    @Test("Tensor.softmaxCrossEntropy", arguments: testSeeds)
    func fusedSoftmaxCrossEntropy(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for (m, k) in [(1, 2), (4, 3), (3, 5), (inputs.int(1...5), inputs.int(2...5))] {
            let logits = 2 * inputs.normal([m, k])
            let labels = (0..<m).map { _ in inputs.int(0...(k - 1)) }
            let result = GradientCheck.check([logits]) { Tensor.softmaxCrossEntropy(logits: $0[0], labels: labels) * 1.7 }
            #expect(result.worst < 1e-6, "softmaxCrossEntropy [\(m), \(k)], seed \(seed):\n\(result)")
            // Same value as the composed −mean(Σ onehot ∘ logSoftmax).
            let oneHot = Tensor<Double>(shape: [m, k], scalars: (0..<m * k).map { labels[$0 / k] == $0 % k ? 1 : 0 })
            let composed = -(oneHot * logits.logSoftmax()).sum() / Double(m)
            let fused = Tensor.softmaxCrossEntropy(logits: logits, labels: labels)
            #expect(fused.shape == [] && Swift.abs(fused.scalar - composed.scalar) < 1e-12, "seed \(seed)")
        }
    }

    // MARK: Compositions

    @Test("a two-layer network with cross-entropy loss", arguments: testSeeds)
    func smallNetwork(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let (m, n, h, k) = (4, 3, 5, 3)
        let x = inputs.normal([m, n])
        let labels = (0..<m).map { _ in inputs.int(0...(k - 1)) }
        let oneHot = Tensor<Double>(shape: [m, k], scalars: (0..<m * k).map { labels[$0 / k] == $0 % k ? 1 : 0 })
        let parameters = [inputs.normal([n, h]), inputs.normal([h]), inputs.normal([h, k]), inputs.normal([k])]
        let result = GradientCheck.check(parameters) { p in
            let hidden = (matmul(x, p[0]) + p[1]).tanh()
            let scores = matmul(hidden, p[2]) + p[3]
            return -(oneHot * scores.logSoftmax()).sum(alongAxis: 1).mean()
        }
        #expect(result.worst < 1e-6, "two-layer network, seed \(seed):\n\(result)")
    }
}
