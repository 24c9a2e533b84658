import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

/// Losses against their formulas, computed by hand in Float64, and gradient-checked.
@Suite("Losses (Float64)")
struct LossTests {
    @Test("squaredLoss is ½‖ŷ − y‖² per example, averaged over the batch", arguments: [[4, 3], [6, 1], [5]])
    func squaredLossValue(shape: [Int]) {
        var inputs = Inputs(seed: 1)
        let p = inputs.normal(shape), y = inputs.normal(shape)
        let m = Double(shape[0])
        let expected = zip(p.scalars, y.scalars).map { 0.5 * ($0 - $1) * ($0 - $1) }.reduce(0, +) / m
        let loss = squaredLoss(predictions: p, targets: y)
        #expect(loss.rank == 0)
        #expect(Swift.abs(loss.scalar - expected) < 1e-14 * Swift.max(1, expected))
        // ∂J/∂ŷ = (ŷ − y)/m.
        let tracked = p.requiringGradient()
        squaredLoss(predictions: tracked, targets: y).backward()
        #expect(maxAbsDifference(tracked.gradient!.scalars, zip(p.scalars, y.scalars).map { ($0 - $1) / m }) < 1e-15)
        expectGradientsMatch("squaredLoss", [p, y]) { squaredLoss(predictions: $0[0], targets: $0[1]) }
    }

    @Test("meanSquaredError is the mean over every element")
    func meanSquaredErrorValue() {
        var inputs = Inputs(seed: 2)
        let p = inputs.normal([4, 3]), y = inputs.normal([4, 3])
        let expected = zip(p.scalars, y.scalars).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 12
        #expect(Swift.abs(meanSquaredError(predictions: p, targets: y).scalar - expected) < 1e-14)
        // For k outputs, MSE = 2/k · squaredLoss.
        #expect(Swift.abs(meanSquaredError(predictions: p, targets: y).scalar
                          - 2.0 / 3 * squaredLoss(predictions: p, targets: y).scalar) < 1e-14)
        expectGradientsMatch("meanSquaredError", [p, y]) { meanSquaredError(predictions: $0[0], targets: $0[1]) }
    }

    /// Binary targets and logits of moderate size.
    static func binaryProblem(seed: UInt64) -> (z: Tensor<Double>, y: Tensor<Double>) {
        var inputs = Inputs(seed: seed)
        let z = inputs.normal([6, 2], 2)
        let y = Tensor(shape: [6, 2], scalars: inputs.uniform([12], 0, 1).scalars.map { $0 < 0.5 ? 0 : 1 })
        return (z, y)
    }

    @Test("binaryCrossEntropy(probabilities:) is −(y log ŷ + (1−y) log(1−ŷ)) averaged (eq. 3.9)")
    func binaryCrossEntropyProbabilities() {
        let (z, y) = Self.binaryProblem(seed: 3)
        let p = z.sigmoid()
        let expected = zip(p.scalars, y.scalars).map { -($1 * Foundation.log($0) + (1 - $1) * Foundation.log(1 - $0)) }
            .reduce(0, +) / 12
        #expect(Swift.abs(binaryCrossEntropy(probabilities: p, targets: y).scalar - expected) < 1e-14)
        // Soft targets and probabilities away from 0 and 1.
        var inputs = Inputs(seed: 4)
        let q = inputs.uniform([3, 4], 0.05, 0.95), t = inputs.uniform([3, 4], 0, 1)
        expectGradientsMatch("binaryCrossEntropy(probabilities:)", [q, t]) {
            binaryCrossEntropy(probabilities: $0[0], targets: $0[1])
        }
        // Saturated probabilities give a large finite loss (log floored at −100).
        let saturated = binaryCrossEntropy(probabilities: Tensor<Double>([0.0, 1.0]), targets: Tensor<Double>([1.0, 0.0]))
        #expect(saturated.scalar.isFinite && saturated.scalar > 50)
    }

    @Test("binaryCrossEntropy(logits:) equals the probabilities version for moderate z, gradient σ(z) − y averaged")
    func binaryCrossEntropyLogits() {
        let (z, y) = Self.binaryProblem(seed: 5)
        let fromLogits = binaryCrossEntropy(logits: z, targets: y).scalar
        let fromProbabilities = binaryCrossEntropy(probabilities: z.sigmoid(), targets: y).scalar
        #expect(Swift.abs(fromLogits - fromProbabilities) < 1e-12)
        let tracked = z.requiringGradient()
        binaryCrossEntropy(logits: tracked, targets: y).backward()
        let expected = zip(z.scalars, y.scalars).map { (sigmoidScalar($0) - $1) / 12 }
        #expect(maxAbsDifference(tracked.gradient!.scalars, expected) < 1e-15)
        var inputs = Inputs(seed: 6)
        let soft = inputs.uniform([6, 2], 0, 1)
        expectGradientsMatch("binaryCrossEntropy(logits:)", [z, soft]) {
            binaryCrossEntropy(logits: $0[0], targets: $0[1])
        }
    }

    @Test("binaryCrossEntropy(logits:) is finite and stable at |z| = 50")
    func binaryCrossEntropyLarge() {
        let z = Tensor<Double>([50, -50, 50, -50])
        let y = Tensor<Double>([1, 0, 0, 1])
        // Stable per-example form: max(z, 0) − yz + log(1 + e^{−|z|}).
        let perExample = zip(z.scalars, y.scalars).map { Swift.max($0, 0) - $1 * $0 + Foundation.log1p(Foundation.exp(-Swift.abs($0))) }
        let expected = perExample.reduce(0, +) / 4  // = (2e⁻⁵⁰ + 100)/4 ≈ 25
        let tracked = z.requiringGradient()
        let loss = binaryCrossEntropy(logits: tracked, targets: y)
        #expect(loss.scalar.isFinite)
        #expect(Swift.abs(loss.scalar - expected) < 1e-12)
        loss.backward()
        let gradient = tracked.gradient!.scalars
        #expect(gradient.allSatisfy { $0.isFinite })
        let hand = zip(z.scalars, y.scalars).map { (sigmoidScalar($0) - $1) / 4 }
        #expect(maxAbsDifference(gradient, hand) < 1e-15)
        // Correct confident predictions cost almost nothing; wrong ones cost |z|.
        let right = binaryCrossEntropy(logits: Tensor<Double>([50, -50]), targets: Tensor<Double>([1, 0])).scalar
        #expect(right >= 0 && right < 1e-20)
        let wrong = binaryCrossEntropy(logits: Tensor<Double>([50, -50]), targets: Tensor<Double>([0, 1])).scalar
        #expect(Swift.abs(wrong - 50) < 1e-12)
        // Float as well.
        let f = binaryCrossEntropy(logits: Tensor<Float>([50, -50, 100, -100]), targets: Tensor<Float>([0, 1, 0, 1]))
        #expect(f.scalar.isFinite && Swift.abs(f.scalar - 75) < 1e-3)
    }

    /// Logits [m, k] and labels.
    static func classificationProblem(seed: UInt64, m: Int = 5, k: Int = 4) -> (z: Tensor<Double>, labels: [Int]) {
        var inputs = Inputs(seed: seed)
        let z = inputs.normal([m, k], 2)
        let labels = inputs.uniform([m], 0, Double(k)).scalars.map { Int($0) }
        return (z, labels)
    }

    @Test("softmaxCrossEntropy with labels = with one-hot targets = −log softmax picked by hand")
    func softmaxCrossEntropyValue() {
        let (z, labels) = Self.classificationProblem(seed: 7)
        let (m, k) = (5, 4)
        var expected = 0.0
        for (i, row) in rows(z).enumerated() {
            let e = row.map { Foundation.exp($0) }
            expected -= Foundation.log(e[labels[i]] / e.reduce(0, +))
        }
        expected /= Double(m)
        let withLabels = softmaxCrossEntropy(logits: z, labels: labels).scalar
        let withTargets = softmaxCrossEntropy(logits: z, targets: oneHot(labels, classes: k)).scalar
        #expect(Swift.abs(withLabels - expected) < 1e-13)
        #expect(Swift.abs(withTargets - expected) < 1e-13)
        // Stable for large logits: shifting every row leaves the loss unchanged.
        let shifted = softmaxCrossEntropy(logits: z + 1000, labels: labels).scalar
        #expect(shifted.isFinite && Swift.abs(shifted - expected) < 1e-10)
    }

    @Test("softmaxCrossEntropy gradient is (softmax − onehot)/m, and passes gradient checks")
    func softmaxCrossEntropyGradient() {
        let (z, labels) = Self.classificationProblem(seed: 8)
        let (m, k) = (5, 4)
        var expected = [Double]()
        for (i, row) in rows(z).enumerated() {
            let e = row.map { Foundation.exp($0) }
            let total = e.reduce(0, +)
            expected += (0..<k).map { (e[$0] / total - ($0 == labels[i] ? 1 : 0)) / Double(m) }
        }
        let a = z.requiringGradient()
        softmaxCrossEntropy(logits: a, labels: labels).backward()
        #expect(maxAbsDifference(a.gradient!.scalars, expected) < 1e-15)
        let b = z.requiringGradient()
        softmaxCrossEntropy(logits: b, targets: oneHot(labels, classes: k)).backward()
        #expect(maxAbsDifference(b.gradient!.scalars, expected) < 1e-15)
        expectGradientsMatch("softmaxCrossEntropy(labels:)", [z]) { softmaxCrossEntropy(logits: $0[0], labels: labels) }
        var inputs = Inputs(seed: 9)
        let soft = inputs.uniform([m, k], 0, 1)
        expectGradientsMatch("softmaxCrossEntropy(targets:)", [z, soft]) {
            softmaxCrossEntropy(logits: $0[0], targets: $0[1])
        }
    }

    @Test("crossEntropy(probabilities:labels:) is −mean log ŷ of the label; equals the fused loss on softmax")
    func crossEntropyProbabilities() {
        let (z, labels) = Self.classificationProblem(seed: 10)
        let p = z.softmax()
        let expected = -labels.enumerated().map { Foundation.log(p[$0.offset, $0.element]) }.reduce(0, +) / 5
        let value = crossEntropy(probabilities: p, labels: labels).scalar
        #expect(Swift.abs(value - expected) < 1e-14)
        #expect(Swift.abs(value - softmaxCrossEntropy(logits: z, labels: labels).scalar) < 1e-13)
        // Gradient w.r.t. the probabilities: −1/(m ŷ) at the label, 0 elsewhere.
        let tracked = p.requiringGradient()
        crossEntropy(probabilities: tracked, labels: labels).backward()
        var hand = [Double](repeating: 0, count: 20)
        for (i, label) in labels.enumerated() { hand[i * 4 + label] = -1 / (5 * p[i, label]) }
        #expect(maxAbsDifference(tracked.gradient!.scalars, hand) < 1e-12)
        var inputs = Inputs(seed: 11)
        let q = inputs.uniform([5, 4], 0.05, 1)
        expectGradientsMatch("crossEntropy(probabilities:)", [q]) { crossEntropy(probabilities: $0[0], labels: labels) }
        // Through softmax, the chain gives the fused gradient (softmax − onehot)/m.
        expectGradientsMatch("crossEntropy ∘ softmax", [z]) { crossEntropy(probabilities: $0[0].softmax(), labels: labels) }
    }

    /// Where p is exactly 0 or 1 the −100 floor is reached; the gradient must stay finite
    /// (as PyTorch's BCELoss): correct, confident predictions (p = 1 with y = 1) and, in
    /// Float, any sigmoid output with z ≳ 17 hit this.
    @Test("saturated probabilities give finite gradients")
    func saturatedProbabilityGradients() {
        do {
            let p = Tensor<Double>([0, 1, 0.5]).requiringGradient()
            binaryCrossEntropy(probabilities: p, targets: Tensor<Double>([0, 1, 1])).backward()
            #expect(p.gradient!.scalars.allSatisfy { $0.isFinite }, "\(p.gradient!.scalars)")
            // A confident, correct Float prediction: σ(20) rounds to 1, y = 1.
            let z = Tensor<Float>([20, 3]).requiringGradient()
            binaryCrossEntropy(probabilities: z.sigmoid(), targets: Tensor<Float>([1, 1])).backward()
            #expect(z.gradient!.scalars.allSatisfy { $0.isFinite }, "\(z.gradient!.scalars)")
            let q = Tensor<Double>([[0, 1], [0.5, 0.5]]).requiringGradient()
            crossEntropy(probabilities: q, labels: [0, 0]).backward()
            #expect(q.gradient!.scalars.allSatisfy { $0.isFinite }, "\(q.gradient!.scalars)")
        }
    }

    @Test("oneHot rows")
    func oneHotRows() {
        let t: Tensor<Double> = oneHot([2, 0, 1], classes: 3)
        #expect(t.shape == [3, 3])
        #expect(t.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0])
    }
}
