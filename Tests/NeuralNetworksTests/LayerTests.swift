import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

@Suite("Layers: Dense, activations, Dropout")
struct LayerTests {
    // MARK: Dense

    @Test("Dense weight is [out, in], bias is [out]; no bias when asked", arguments: [(1, 1), (4, 3), (7, 2)])
    func denseShapes(sizes: (Int, Int)) throws {
        let (input, output) = sizes
        let dense = Dense<Double>(inputSize: input, outputSize: output)
        #expect(dense.weight.shape == [output, input])
        #expect(dense.bias?.shape == [output])
        #expect(dense.namedParameters.map(\.name) == ["weight", "bias"])
        #expect(dense.parameterCount == output * input + output)
        #expect(dense.weight.requiresGradient && dense.bias!.requiresGradient)
        #expect(try dense.outputShape(forInput: [input]) == [output])
        #expect(dense.summaryName == "Dense(\(input) → \(output))")

        let noBias = Dense<Double>(inputSize: input, outputSize: output, useBias: false)
        #expect(noBias.bias == nil)
        #expect(noBias.namedParameters.map(\.name) == ["weight"])
        #expect(noBias.parameterCount == output * input)
    }

    @Test("Dense forward equals X·Wᵀ + b computed by loops")
    func denseForward() {
        var inputs = Inputs(seed: 3)
        let (m, n, k) = (5, 4, 3)
        let dense = Dense<Double>(inputSize: n, outputSize: k, seed: 11)
        setParameter(dense, "bias", inputs.normal([k]).scalars)  // non-zero bias
        let x = inputs.normal([m, n])
        let z = dense(x)
        #expect(z.shape == [m, k])
        let w = dense.weight.scalars, b = dense.bias!.scalars
        var expected = [Double](repeating: 0, count: m * k)
        for i in 0..<m {
            for j in 0..<k {
                var sum = b[j]
                for p in 0..<n { sum += x.scalars[i * n + p] * w[j * n + p] }
                expected[i * k + j] = sum
            }
        }
        #expect(maxAbsDifference(z.scalars, expected) < 1e-12)

        // Without bias: X·Wᵀ only.
        let noBias = Dense<Double>(inputSize: n, outputSize: k, useBias: false, seed: 11)
        let z0 = noBias(x)
        let wt = (0..<(n * k)).map { noBias.weight.scalars[($0 % k) * n + $0 / k] }  // Wᵀ, [n, k]
        #expect(maxAbsDifference(z0.scalars, handMatmul(x.scalars, wt, m: m, k: n, n: k)) < 1e-12)
    }

    @Test("Dense gradients w.r.t. input, weight and bias (Float64)")
    func denseGradients() {
        var inputs = Inputs(seed: 4)
        let x = inputs.normal([3, 4]), w = inputs.normal([2, 4]), b = inputs.normal([2])
        expectGradientsMatch("linear", [x, w, b]) { Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        expectGradientsMatch("linear (no bias)", [x, w]) { Tensor.linear($0[0], weight: $0[1], bias: nil) }
    }

    @Test("Dense initialisers are used and seeded")
    func denseInitialisation() {
        let constant = Dense<Double>(inputSize: 3, outputSize: 2, weightInitializer: .constant(0.25),
                                     biasInitializer: .constant(-1))
        #expect(constant.weight.scalars == [Double](repeating: 0.25, count: 6))
        #expect(constant.bias!.scalars == [-1, -1])
        let a = Dense<Double>(inputSize: 5, outputSize: 4, seed: 1)
        let b = Dense<Double>(inputSize: 5, outputSize: 4, seed: 1)
        let c = Dense<Double>(inputSize: 5, outputSize: 4, seed: 2)
        #expect(a.weight == b.weight)
        #expect(a.weight != c.weight)
        // xavierUniform default: |w| ≤ √(6/(in + out)).
        let bound = (6.0 / 9).squareRoot()
        #expect(a.weight.scalars.allSatisfy { Swift.abs($0) <= bound })
        #expect(a.bias!.scalars.allSatisfy { $0 == 0 })
    }

    // MARK: Activations

    /// The elementwise activations with their scalar formulas.
    static let elementwise: [Activation] = [.identity, .sigmoid, .tanh, .relu, .leakyReLU, .gelu]

    static func formula(_ activation: Activation) -> (Double) -> Double {
        switch activation {
        case .identity: return { $0 }
        case .sigmoid: return { 1 / (1 + Foundation.exp(-$0)) }
        case .tanh: return { Foundation.tanh($0) }
        case .relu: return { Swift.max($0, 0) }
        case .leakyReLU: return { $0 >= 0 ? $0 : 0.01 * $0 }
        case .gelu: return { z in 0.5 * z * (1 + erf(z / 2.0.squareRoot())) }
        case .softmax, .logSoftmax: preconditionFailure("\(activation) is not elementwise")
        }
    }

    static func layer(_ activation: Activation) -> ActivationLayer<Double> {
        switch activation {
        case .identity: return Identity<Double>()
        case .sigmoid: return Sigmoid<Double>()
        case .tanh: return Tanh<Double>()
        case .relu: return ReLU<Double>()
        case .leakyReLU: return LeakyReLU<Double>()
        case .gelu: return GELU<Double>()
        case .softmax: return Softmax<Double>()
        case .logSoftmax: return LogSoftmax<Double>()
        }
    }

    @Test("elementwise activation layers match their scalar formulas", arguments: elementwise)
    func elementwiseForward(activation: Activation) throws {
        let formula = Self.formula(activation)
        let index = Self.elementwise.firstIndex(of: activation)!
        let layer = Self.layer(activation)
        #expect(layer.activation == activation)
        #expect(layer.parameterCount == 0)
        #expect(try layer.outputShape(forInput: [3, 5]) == [3, 5])
        var inputs = Inputs(seed: 10 + UInt64(index))
        let special: [Double] = [-20, -3, -1, -0.5, 0, 0.5, 1, 3, 20]
        let z = Tensor(shape: [3, 7], scalars: special + inputs.normal([12], 2).scalars)
        let a = layer(z)
        #expect(a.shape == z.shape)
        let expected = z.scalars.map(formula)
        #expect(maxAbsDifference(a.scalars, expected) < 1e-12,
                "\(activation): got \(a.scalars), expected \(expected)")
        // Float agrees too (to Float precision).
        let floatLayer = ActivationLayer<Float>(activation)
        let af = floatLayer(z.converted(to: Float.self))
        #expect(maxAbsDifference(af.scalars.map(Double.init), expected) < 1e-5)
    }

    @Test("Softmax layer: eᶻ/Σeᶻ per example, rows sum to 1, stable for large scores")
    func softmaxForward() {
        var inputs = Inputs(seed: 21)
        let z = inputs.normal([4, 5], 3)
        let y = Softmax<Double>()(z)
        for (row, out) in zip(rows(z), rows(y)) {
            let e = row.map { Foundation.exp($0) }
            let total = e.reduce(0, +)
            #expect(maxAbsDifference(out, e.map { $0 / total }) < 1e-14)
            #expect(Swift.abs(out.reduce(0, +) - 1) < 1e-14)
        }
        // Shift invariance on scores that would overflow a naive exp.
        let big = Softmax<Double>()(z + 1000)
        #expect(big.scalars.allSatisfy { $0.isFinite })
        #expect(maxAbsDifference(big.scalars, y.scalars) < 1e-12)
    }

    @Test("every activation layer passes a Float64 gradient check", arguments: Activation.allCases)
    func activationGradients(activation: Activation) {
        var inputs = Inputs(seed: 31)
        // Away from 0: ReLU and LeakyReLU have a kink there.
        let z = inputs.awayFromZero([4, 5], low: 0.05)
        let layer = Self.layer(activation)
        expectGradientsMatch("\(activation)", [z]) { layer($0[0]) }
    }

    @Test("activation derivatives match the notes' closed forms (σ' = σ(1−σ), tanh' = 1 − tanh², ReLU' = 1[z>0])")
    func activationDerivatives() {
        var inputs = Inputs(seed: 41)
        let z = inputs.awayFromZero([10], low: 0.05).requiringGradient()
        func gradient(_ f: (Tensor<Double>) -> Tensor<Double>) -> [Double] {
            let zz = z.detached().requiringGradient()
            f(zz).sum().backward()
            return zz.gradient!.scalars
        }
        let s = z.scalars.map(sigmoidScalar)
        #expect(maxAbsDifference(gradient { Sigmoid<Double>()($0) }, s.map { $0 * (1 - $0) }) < 1e-14)
        let t = z.scalars.map { Foundation.tanh($0) }
        #expect(maxAbsDifference(gradient { Tanh<Double>()($0) }, t.map { 1 - $0 * $0 }) < 1e-14)
        #expect(gradient { ReLU<Double>()($0) } == z.scalars.map { $0 > 0 ? 1 : 0 })
        #expect(gradient { LeakyReLU<Double>()($0) } == z.scalars.map { $0 > 0 ? 1 : 0.01 })
    }

    @Test("summary names of the activation layers")
    func activationNames() {
        #expect(Identity<Float>().summaryName == "Identity")
        #expect(Sigmoid<Float>().summaryName == "Sigmoid")
        #expect(Tanh<Float>().summaryName == "Tanh")
        #expect(ReLU<Float>().summaryName == "ReLU")
        #expect(LeakyReLU<Float>().summaryName.hasPrefix("LeakyReLU"))
        #expect(GELU<Float>().summaryName == "GELU")
        #expect(Softmax<Float>().summaryName == "Softmax")
        #expect(LogSoftmax<Float>().summaryName == "LogSoftmax")
    }

    // MARK: Dropout

    @Test("Dropout in evaluation mode is the identity")
    func dropoutEvaluation() throws {
        var inputs = Inputs(seed: 51)
        let x = inputs.normal([8, 6])
        let dropout = Dropout<Double>(probability: 0.5, seed: 1)
        #expect(dropout.isTraining)  // training by default
        dropout.isTraining = false
        #expect(dropout(x) == x)
        // p = 0 is the identity even in training.
        let none = Dropout<Double>(probability: 0, seed: 1)
        #expect(none(x) == x)
        #expect(try dropout.outputShape(forInput: [6]) == [6])
        #expect(dropout.parameterCount == 0)
    }

    @Test("Dropout in training zeroes about p of the values and scales survivors by 1/(1−p)",
          arguments: [0.1, 0.3, 0.5, 0.8])
    func dropoutTraining(p: Double) {
        var inputs = Inputs(seed: 52)
        // Values away from 0, so a zero in the output can only come from the mask.
        let x = inputs.awayFromZero([100, 100], low: 0.1)
        let dropout = Dropout<Double>(probability: p, seed: 7)
        let y = dropout(x)
        #expect(y.shape == x.shape)
        var zeros = 0
        var worstSurvivor = 0.0
        for (input, output) in zip(x.scalars, y.scalars) {
            if output == 0 { zeros += 1; continue }
            worstSurvivor = Swift.max(worstSurvivor, Swift.abs(output - input / (1 - p)) / Swift.abs(input))
        }
        // 10 000 Bernoulli(p) draws: the zero fraction has standard deviation
        // √(p(1−p)/10⁴) ≤ 0.005; 5 standard deviations is 0.025.
        let fraction = Double(zeros) / Double(x.count)
        #expect(Swift.abs(fraction - p) < 0.025, "zero fraction \(fraction) for p = \(p)")
        #expect(worstSurvivor < 1e-14)
        // Inverted dropout keeps the mean: E[y] = x. With x all ones, mean(y) ≈ 1;
        // std of the mean is √(p/(1−p)/10⁴) ≤ 0.02 for p ≤ 0.8; 5 σ ≈ 0.1.
        let ones = Dropout<Double>(probability: p, seed: 8)(Tensor<Double>.ones([100, 100]))
        #expect(Swift.abs(ones.mean().scalar - 1) < 5 * (p / (1 - p) / 1e4).squareRoot())
    }

    @Test("Dropout: same seed → same mask, different seed → different mask; the mask is redrawn each call")
    func dropoutSeeds() {
        let x = Tensor<Double>.ones([20, 20])
        let a = Dropout<Double>(probability: 0.5, seed: 3)
        let b = Dropout<Double>(probability: 0.5, seed: 3)
        let c = Dropout<Double>(probability: 0.5, seed: 4)
        let ya = a(x), yb = b(x), yc = c(x)
        #expect(ya == yb)
        #expect(ya != yc)
        #expect(a(x) != ya, "a second call draws a fresh mask")
        // A Sequential redraws the mask generator from its own seed.
        let s1 = Sequential<Double>(seed: 5) { Dropout<Double>(probability: 0.5, seed: 1) }
        let s2 = Sequential<Double>(seed: 5) { Dropout<Double>(probability: 0.5, seed: 2) }
        let s3 = Sequential<Double>(seed: 6) { Dropout<Double>(probability: 0.5, seed: 1) }
        #expect(s1(x) == s2(x))
        #expect(Sequential<Double>(seed: 5) { Dropout<Double>(probability: 0.5, seed: 1) }(x) != s3(x))
    }

    @Test("Dropout backward passes the gradient through the mask")
    func dropoutGradient() {
        var inputs = Inputs(seed: 53)
        let x = inputs.normal([5, 5]).requiringGradient()
        let dropout = Dropout<Double>(probability: 0.4, seed: 9)
        let y = dropout(x)
        y.sum().backward()
        // ∂Σy/∂x is the mask: 0 where dropped, 1/(1−p) where kept.
        let mask = zip(y.scalars, x.scalars).map { $0.0 == 0 ? 0.0 : 1 / (1 - 0.4) }
        #expect(maxAbsDifference(x.gradient!.scalars, mask) < 1e-14)
    }

    // MARK: predict

    @Test("predict runs in batches without recording gradients and equals the forward pass")
    func predictMatchesForward() {
        var inputs = Inputs(seed: 61)
        let model = Sequential<Double>(seed: 2) {
            Dense<Double>(inputSize: 3, outputSize: 5)
            Tanh<Double>()
            Dropout<Double>(probability: 0.5)
            Dense<Double>(inputSize: 5, outputSize: 2)
        }
        let x = inputs.normal([10, 3])
        let batched = model.predict(x, batchSize: 3)
        #expect(!batched.requiresGradient)
        #expect(model.isTraining, "predict restores the training mode")
        model.isTraining = false
        let forward = model(x)
        #expect(forward.requiresGradient)
        #expect(batched.shape == [10, 2])
        #expect(maxAbsDifference(batched.scalars, forward.scalars) < 1e-14)
        #expect(model.predict(x).scalars == forward.scalars)
    }
}
