import Foundation
import Testing
@testable import Tensors

@Suite("Autodiff mechanics")
struct AutodiffMechanicsTests {
    @Test("a value feeding several consumers gets the sum: d(x·x + x)/dx = 2x + 1")
    func accumulationOverConsumers() {
        let values: [Double] = [-2, -0.5, 0, 1, 3]
        let x = Tensor(values).requiringGradient()
        (x * x + x).sum().backward()
        #expect(x.gradient?.scalars == values.map { 2 * $0 + 1 })
    }

    @Test("x used in two branches: d/dx Σ 3x·tanh(x) = 3 tanh x + 3x(1 − tanh²x)")
    func twoBranches() {
        let values: [Double] = [-1.5, -0.2, 0.4, 2]
        let x = Tensor(values).requiringGradient()
        let left = x * 3
        let right = x.tanh()
        (left * right).sum().backward()
        let expected = values.map { 3 * Foundation.tanh($0) + 3 * $0 * (1 - Foundation.tanh($0) * Foundation.tanh($0)) }
        #expect(maxAbsDifference(x.gradient?.scalars ?? [], expected) < 1e-13)
    }

    @Test("a shared intermediate (diamond): d/dx Σ(h² + h), h = σ(x)")
    func diamond() {
        let values: [Double] = [-1, 0, 2]
        let x = Tensor(values).requiringGradient()
        let h = x.sigmoid()
        (h * h + h).sum().backward()
        let expected = values.map { v -> Double in
            let s = 1 / (1 + Foundation.exp(-v))
            return (2 * s + 1) * s * (1 - s)
        }
        #expect(maxAbsDifference(x.gradient?.scalars ?? [], expected) < 1e-14)
    }

    @Test("only inputs that require a gradient get one; constants stay untracked")
    func untrackedInputs() {
        let x = Tensor<Double>([1, 2]).requiringGradient()
        let c = Tensor<Double>([3, 4])
        #expect(!c.requiresGradient)
        #expect(x.requiresGradient)
        let y = x * c
        #expect(y.requiresGradient)
        #expect(!(c * c).requiresGradient)
        y.sum().backward()
        #expect(x.gradient?.scalars == [3, 4])
        #expect(c.gradient == nil)
        #expect(x.detached().requiresGradient == false)
    }

    @Test("withoutGradients records nothing")
    func withoutGradientsRecordsNothing() {
        let x = Tensor<Double>([1, 2, 3]).requiringGradient()
        #expect(GradientMode.isEnabled)
        let (result, enabledInside) = withoutGradients { ((x * x).exp().sum(), GradientMode.isEnabled) }
        #expect(!enabledInside)
        #expect(result.requiresGradient == false)
        #expect(result.node == nil)
        #expect(GradientMode.isEnabled, "recording is back on after the block")
        #expect((x * x).requiresGradient)
        // The value is still computed.
        #expect(Swift.abs(result.scalar - (Foundation.exp(1) + Foundation.exp(4) + Foundation.exp(9))) < 1e-9)
    }

    @Test("backward twice accumulates leaf gradients; zeroGradient resets")
    func backwardTwiceAndZero() {
        let x = Tensor<Double>([1, -2, 3]).requiringGradient()
        let loss = (x * x).sum()
        loss.backward()
        #expect(x.gradient?.scalars == [2, -4, 6])
        loss.backward()
        #expect(x.gradient?.scalars == [4, -8, 12], "a second backward adds to the first")
        x.zeroGradient()
        #expect(x.gradient == nil)
        loss.backward()
        #expect(x.gradient?.scalars == [2, -4, 6])
        // A new graph on the same leaf also adds to what is there.
        (3 * x).sum().backward()
        #expect(x.gradient?.scalars == [5, -1, 9])
    }

    @Test("intermediate gradients are freed unless retainingGradient() is asked for")
    func retainedIntermediate() {
        let x = Tensor<Double>([1, 2, -1]).requiringGradient()
        let h = (x * 2).retainingGradient()
        let other = x + 1
        (h * h + other).sum().backward()
        #expect(h.gradient?.scalars == [4, 8, -4], "∂L/∂h = 2h")
        #expect(other.gradient == nil, "not retained")
        #expect(x.gradient?.scalars == [9, 17, -7], "2·2h + 1")
    }

    @Test("a retained intermediate passes on only this pass's gradient when backward runs again")
    func retainedIntermediateSecondPass() {
        // L = Σ h², h = 2x: dL/dx = 8x per pass.
        let x = Tensor<Double>([1, -3]).requiringGradient()
        let h = (x * 2).retainingGradient()
        let loss = (h * h).sum()
        loss.backward()
        #expect(x.gradient?.scalars == [8, -24])
        #expect(h.gradient?.scalars == [4, -12])
        loss.backward()
        #expect(h.gradient?.scalars == [8, -24], "the retained gradient accumulates over passes")
        #expect(x.gradient?.scalars == [16, -48], "two passes give twice one pass's gradient")

        // Two losses sharing a retained intermediate: L₁ = Σ h, L₂ = Σ 3h, h = 2x.
        let y = Tensor<Double>([1, 2]).requiringGradient()
        let k = (y * 2).retainingGradient()
        k.sum().backward()
        (3 * k).sum().backward()
        #expect(k.gradient?.scalars == [4, 4])
        #expect(y.gradient?.scalars == [8, 8], "2·1 + 2·3")

        // A retained loss itself.
        let z = Tensor<Double>([5]).requiringGradient()
        let l = (z * z).sum().retainingGradient()
        l.backward()
        l.backward()
        #expect(z.gradient?.scalars == [20])
    }

    @Test("updating a leaf in place does not change a graph already built from it")
    func updateAfterRecording() {
        var x = Tensor<Double>([1, 2]).requiringGradient()
        let loss = (x * x).sum()
        x.updateScalars { $0 = [10, 20] }
        loss.backward()
        #expect(x.gradient?.scalars == [2, 4], "the product saved the values it was computed from")
        #expect(x.scalars == [10, 20])
    }

    @Test("Tensor.maximum gives the gradient of a tie to the first input")
    func maximumTie() {
        let a = Tensor<Double>([1, 5, 3]).requiringGradient()
        let b = Tensor<Double>([2, 5, 0]).requiringGradient()
        (Tensor.maximum(a, b) * Tensor([1, 10, 100])).sum().backward()
        #expect(a.gradient?.scalars == [0, 10, 100])
        #expect(b.gradient?.scalars == [1, 0, 0])
    }

    @Test("backward(gradient:) seeds a non-scalar output")
    func seededBackward() {
        let x = Tensor<Double>([[1, 2], [3, 4]]).requiringGradient()
        let y = x * x
        y.backward(gradient: Tensor([[1, 0], [0, 2]]))
        #expect(x.gradient == Tensor([[2, 0], [0, 16]]))
    }

    @Test("a gradient has the shape of its value, also through broadcasting")
    func gradientShapes() {
        let bias = Tensor<Double>([1, 2, 3]).requiringGradient()
        let column = Tensor<Double>(shape: [2, 1], scalars: [1, 2]).requiringGradient()
        let scalar = Tensor<Double>(2).requiringGradient()
        let batch = Tensor<Double>.ones([2, 3])
        ((batch + bias) * column * scalar).sum().backward()
        #expect(bias.gradient?.shape == [3])
        #expect(bias.gradient?.scalars == [6, 6, 6])            // Σᵢ columnᵢ·scalar = 3·2
        #expect(column.gradient?.shape == [2, 1])
        #expect(column.gradient?.scalars == [18, 18])           // Σⱼ (1 + biasⱼ)·2 = 9·2
        #expect(scalar.gradient?.shape == [])
        #expect(scalar.gradient?.scalars == [27])               // Σ (1 + biasⱼ)·columnᵢ = 9·3
    }

    @Test("Float tensors differentiate too")
    func floatGradients() {
        let x = Tensor<Double>([0.5, -1, 2]).requiringGradient()
        (x.squared() * 3).sum().backward()
        #expect(x.gradient?.scalars == [3, -6, 12])
    }
}

@Suite("No retain cycles", .serialized)
struct MemoryTests {
    @Test("the graph is freed once its tensors go out of scope")
    func graphIsFreed() {
        weak var outputNode: GradientNode<Double>?
        weak var intermediateNode: GradientNode<Double>?
        weak var leafNode: GradientNode<Double>?
        weak var retainedNode: GradientNode<Double>?
        do {
            var inputs = Inputs(seed: 3)
            let x = inputs.normal([4, 3]).requiringGradient()
            let w = inputs.normal([3, 2]).requiringGradient()
            let hidden = matmul(x, w).tanh().retainingGradient()
            let scores = Tensor.concatenate([hidden, hidden.sigmoid()], alongAxis: 1)
            let loss = (scores.logSoftmax() * scores.softmax(alongAxis: 0)).gatheringRows([0, 0, 2])
                .slice(alongAxis: 1, 1..<3).broadcast(to: [2, 3, 2]).mean()
            loss.backward()
            outputNode = loss.node
            intermediateNode = scores.node
            leafNode = x.node
            retainedNode = hidden.node
            #expect(outputNode != nil && intermediateNode != nil && leafNode != nil && retainedNode != nil)
            #expect(x.gradient != nil && w.gradient != nil && hidden.gradient != nil)
        }
        #expect(outputNode == nil, "the output's node outlives its tensor: a retain cycle")
        #expect(intermediateNode == nil)
        #expect(retainedNode == nil)
        #expect(leafNode == nil)
    }

    @Test("a node is kept alive by the output that depends on it, and only by it")
    func nodesLiveWithTheirOutput() {
        weak var leafNode: GradientNode<Double>?
        var loss: Tensor<Double>?
        do {
            let x = Tensor<Double>([1, 2]).requiringGradient()
            leafNode = x.node
            loss = (x.exp() * x).sum()
        }
        #expect(leafNode != nil, "the output's graph holds its inputs")
        #expect(loss?.requiresGradient == true)
        loss = nil
        #expect(leafNode == nil)
    }

    /// Resident memory is process-wide, so tests running beside this one would disturb
    /// it; the end-to-end test of `backprop bench workload W4` measures it in a process
    /// of its own. Here: every step's graph is freed, which no other test can change.
    @Test("3000 steps of logistic-regression training free every graph")
    func trainingLoopDoesNotLeak() {
        var rng = RandomSource(seed: 11)
        let (m, n) = (256, 256)
        let X = Tensor<Double>.randomNormal([m, n], using: &rng)
        let trueW = Tensor<Double>.randomNormal([n, 1], using: &rng)
        let Y = withoutGradients { matmul(X, trueW).isGreater(than: Tensor(0)) }
        var W = Tensor<Double>.zeros([n, 1]).requiringGradient()
        var b = Tensor<Double>.zeros([1]).requiringGradient()
        weak let leafW = W.node
        let learningRate: Double = 0.5

        final class WeakNode { weak var node: GradientNode<Double>? }
        var sampled: [WeakNode] = []
        var firstLoss = 0.0, lastLoss = 0.0

        for step in 0..<3000 {
            let rows = (0..<32).map { (step * 32 + $0) % m }   // a mini-batch of 32
            let batch = X.gatheringRows(rows)
            let labels = Y.gatheringRows(rows)
            let a = (matmul(batch, W) + b).sigmoid()
            let loss = -(labels * (a + 1e-7).log() + (1 - labels) * (1 - a + 1e-7).log()).mean()
            loss.backward()
            if step % 100 == 0 {
                let box = WeakNode()
                box.node = loss.node
                sampled.append(box)
            }
            let (gW, gb) = (W.gradient!, b.gradient!)
            W.updateScalars { values in
                for i in values.indices { values[i] -= learningRate * gW.scalars[i] }
            }
            b.assign([b.scalar - learningRate * gb.scalar])
            W.zeroGradient()
            b.zeroGradient()
            if step == 0 { firstLoss = loss.scalar }
            if step == 2999 { lastLoss = loss.scalar }
        }
        #expect(sampled.count == 30)
        #expect(sampled.allSatisfy { $0.node == nil }, "some step's graph is still alive")
        #expect(leafW != nil && W.node === leafW, "updates keep the parameter's identity as a leaf")
        #expect(W.requiresGradient && b.requiresGradient)
        // And the training did something: the loss fell well below log 2.
        #expect(firstLoss > 0.69 && firstLoss < 0.7)
        #expect(lastLoss < 0.3, "loss \(firstLoss) → \(lastLoss)")
    }
}
