// The overwriting operations (Tensor+InPlace.swift) and the losses that return their
// gradient: each must give exactly the values of the operation it stands for (the same
// kernels in the same order), and reuse its storage when nothing else holds it.

import Testing
@testable import Tensors

/// The address of a tensor's first value (to see whether storage was reused).
private func address<S>(_ t: Tensor<S>) -> UnsafeRawPointer? {
    t.scalars.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
}

@Suite("Overwriting operations equal their allocating forms")
struct InPlaceTests {
    @Test("assignLinear = linear, with and without bias, reusing storage", arguments: testSeeds)
    func linear(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for (m, k, n) in [(1, 1, 1), (1, 4, 3), (5, 3, 1), (7, 6, 4)] {
            let x = inputs.normal([m, k]), w = inputs.normal([n, k]), b = inputs.normal([n])
            var out = Tensor<Double>(0)
            out.assignLinear(x, weight: w, bias: b)
            #expect(out == Tensor.linear(x, weight: w, bias: b), "m=\(m) k=\(k) n=\(n), seed \(seed)")
            let storage = address(out)
            out.assignLinear(x, weight: w, bias: nil)
            #expect(out == Tensor.linear(x, weight: w, bias: nil))
            #expect(address(out) == storage, "the second assignment of the same size must reuse the storage")
            #expect(!out.requiresGradient)
        }
    }

    @Test("assignMatmul = matmul in all four transpositions", arguments: testSeeds)
    func matmul(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let (m, k, n) = (inputs.int(1...5), inputs.int(1...5), inputs.int(1...5))
            let a = inputs.normal(ta ? [k, m] : [m, k]), b = inputs.normal(tb ? [n, k] : [k, n])
            var out = Tensor<Double>.zeros([m, n])
            out.assignMatmul(a, transposed: ta, b, transposed: tb)
            #expect(out == Tensor.matmul(a, transposed: ta, b, transposed: tb), "ta=\(ta) tb=\(tb), seed \(seed)")
        }
    }

    @Test("a buffer shared with another tensor is copied, never written through")
    func sharedStorageIsNotOverwritten() {
        var inputs = Inputs(seed: 5)
        let a = inputs.normal([3, 4]), b = inputs.normal([4, 2])
        var out = Tensor<Double>.zeros([3, 2])
        let kept = out
        out.assignMatmul(a, b)
        #expect(kept == Tensor<Double>.zeros([3, 2]), "the other holder of the old storage must keep its values")
        #expect(out == Tensor.matmul(a, b))
    }

    @Test("assignWeightedSum = Σ wᵢ·partᵢ summed in order, for one to three parts, reusing storage", arguments: testSeeds)
    func weightedSum(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        // 70 000 values: large enough to be split over two threads.
        for shape in [[3, 4], [1], [70_000]] {
            let parts = (0..<3).map { _ in inputs.normal(shape) }
            let weights: [Double] = [0.25, 0.5, 0.125]
            var out = Tensor<Double>(0)
            for count in 1...3 {
                out.assignWeightedSum(of: Array(parts.prefix(count)), weights: Array(weights.prefix(count)))
                var expected = parts[0] * weights[0]
                for i in 1..<count { expected = expected + parts[i] * weights[i] }
                #expect(out == expected, "\(count) parts of shape \(shape), seed \(seed)")
            }
            let storage = address(out)
            out.assignWeightedSum(of: [parts[2], parts[0]], weights: [1, -1])
            #expect(out == parts[2] - parts[0])
            #expect(address(out) == storage, "the same size again must reuse the storage")
        }
    }

    @Test("assignColumnSums = sum(alongAxis: 0)", arguments: testSeeds)
    func columnSums(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        for shape in inputs.matrixShapes() {
            let x = inputs.normal(shape)
            var out = Tensor<Double>(0)
            out.assignColumnSums(of: x)
            #expect(out == x.sum(alongAxis: 0), "shape \(shape), seed \(seed)")
        }
    }

    @Test("assign(f) and assignPullback(f) = the activation and its recorded gradient", arguments: testSeeds)
    func activations(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let cases: [(PointwiseActivation, (Tensor<Double>) -> Tensor<Double>)] = [
            (.identity, { $0 }), (.sigmoid, { $0.sigmoid() }), (.tanh, { $0.tanh() }), (.relu, { $0.relu() }),
            (.leakyReLU(slope: 0.01), { $0.leakyReLU(slope: 0.01) }),
        ]
        for (f, reference) in cases {
            let z = inputs.awayFromZero([3, 5]), g = inputs.normal([3, 5])
            var a = Tensor<Double>(0)
            a.assign(f, of: z)
            #expect(a == reference(z), "\(f), seed \(seed)")
            let leaf = z.requiringGradient()
            reference(leaf).backward(gradient: g)
            var delta = Tensor<Double>(0)
            delta.assignPullback(of: f, input: z, output: a, gradient: g)
            #expect(delta == leaf.gradient, "\(f) pullback, seed \(seed)")
        }
    }
}

@Suite("Losses that return their gradient")
struct LossWithGradientTests {
    @Test("softmaxCrossEntropyWithGradient = the recorded loss and its backward pass, in both precisions",
          arguments: testSeeds)
    func softmaxCrossEntropy(seed: UInt64) {
        func check<S: TensorScalar>(_: S.Type) {
            var inputs = Inputs(seed: seed)
            let (m, k) = (inputs.int(1...6), inputs.int(2...5))
            let logits = inputs.normal([m, k]).converted(to: S.self)
            let labels = (0..<m).map { _ in inputs.int(0...(k - 1)) }
            let leaf = logits.requiringGradient()
            let recorded = Tensor.softmaxCrossEntropy(logits: leaf, labels: labels)
            recorded.backward()
            let (loss, gradient) = Tensor.softmaxCrossEntropyWithGradient(logits: logits, labels: labels)
            #expect(loss == recorded.detached(), "\(S.self), seed \(seed)")
            #expect(gradient == leaf.gradient, "\(S.self), seed \(seed)")
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("meanSquaredErrorWithGradient = mean((p − y)²) and its backward pass, bit for bit", arguments: testSeeds)
    func meanSquaredError(seed: UInt64) {
        func check<S: TensorScalar>(_: S.Type) {
            var inputs = Inputs(seed: seed)
            for shape in inputs.matrixShapes() {
                let p = inputs.normal(shape).converted(to: S.self), y = inputs.normal(shape).converted(to: S.self)
                let leaf = p.requiringGradient()
                let recorded = (leaf - y).squared().mean()
                recorded.backward()
                let (loss, gradient) = Tensor.meanSquaredErrorWithGradient(predictions: p, targets: y)
                #expect(loss == recorded.detached(), "\(S.self) \(shape), seed \(seed)")
                #expect(gradient == leaf.gradient, "\(S.self) \(shape), seed \(seed)")
            }
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("their gradients match central differences in Float64", arguments: testSeeds)
    func finiteDifferences(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let logits = inputs.normal([4, 3]), labels = [2, 0, 1, 1]
        let targets = inputs.normal([4, 3])
        for (name, f, g) in [
            ("softmax cross-entropy",
             { (z: Tensor<Double>) in Tensor.softmaxCrossEntropyWithGradient(logits: z, labels: labels).loss.scalar },
             Tensor.softmaxCrossEntropyWithGradient(logits: logits, labels: labels).gradient),
            ("mean squared error",
             { (z: Tensor<Double>) in Tensor.meanSquaredErrorWithGradient(predictions: z, targets: targets).loss.scalar },
             Tensor.meanSquaredErrorWithGradient(predictions: logits, targets: targets).gradient),
        ] {
            let h = 1e-6
            var worst = 0.0
            for i in 0..<logits.count {
                var up = logits.scalars, down = logits.scalars
                up[i] += h
                down[i] -= h
                let numeric = (f(Tensor(shape: logits.shape, scalars: up)) - f(Tensor(shape: logits.shape, scalars: down))) / (2 * h)
                worst = Swift.max(worst, Swift.abs(numeric - g.scalars[i]) / Swift.max(Swift.abs(numeric), Swift.abs(g.scalars[i]), 1e-8))
            }
            #expect(worst < 1e-6, "\(name): worst relative error \(worst), seed \(seed)")
        }
    }
}
