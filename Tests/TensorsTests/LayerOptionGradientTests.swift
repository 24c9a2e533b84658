import Testing
@testable import Tensors

/// The tensor operations behind PyTorch's layer options — GELU in both forms, the leaky
/// ReLU's slope, padded and ceil-mode pooling, softmax along an inner axis — against
/// central finite differences in Float64.
@Suite("Layer option gradients")
struct LayerOptionGradientTests {
    @Test("GELU, exact and tanh", arguments: testSeeds)
    func gelu(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let x = inputs.normal([4, 5]) * 3
        expectGradientsMatch("gelu exact", seed: seed, [x]) { $0[0].gelu() }
        expectGradientsMatch("gelu tanh", seed: seed, [x]) { $0[0].gelu(approximate: .tanh) }
    }

    @Test("the leaky ReLU's derivative is the slope at 0, as PyTorch's")
    func leakyReLUAtZero() {
        let x = Tensor<Double>(shape: [3], scalars: [-1, 0, 1]).requiringGradient()
        x.leakyReLU(slope: 0.2).sum().backward()
        #expect(x.gradient!.scalars == [0.2, 0.2, 1])
    }

    @Test("max and average pooling with padding and ceil mode", arguments: [
        ((3, 3), (2, 3), (1, 1), true), ((2, 2), (2, 2), (1, 1), true), ((3, 2), (2, 1), (1, 0), false),
        ((2, 3), (2, 2), (0, 1), true),
    ])
    func pooling(_ c: ((Int, Int), (Int, Int), (Int, Int), Bool)) {
        var inputs = Inputs(seed: 7)
        // Distinct values spaced far beyond the step: no maximum changes under ±h.
        let x = Tensor(shape: [2, 2, 7, 9], scalars: (0..<252).map { Double($0) / 50 }.shuffled(using: &inputs.rng))
        let (k, s, p, ceil) = c
        expectGradientsMatch("maxPool \(c)", seed: 3, [x]) {
            $0[0].maxPooled2D(kernelSize: k, stride: s, padding: p, ceilMode: ceil)
        }
        for counting in [true, false] {
            expectGradientsMatch("avgPool \(c) countIncludePad \(counting)", seed: 3, [x]) {
                $0[0].averagePooled2D(kernelSize: k, stride: s, padding: p, ceilMode: ceil, countIncludePad: counting)
            }
        }
    }

    @Test("softmax and log-softmax along axis 1 of a 4-D tensor", arguments: testSeeds)
    func innerAxisSoftmax(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let x = inputs.normal([2, 3, 2, 4]) * 2
        expectGradientsMatch("softmax axis 1", seed: seed, [x]) { $0[0].softmax(alongAxis: 1) }
        expectGradientsMatch("logSoftmax axis 1", seed: seed, [x]) { $0[0].logSoftmax(alongAxis: 1) }
    }
}
