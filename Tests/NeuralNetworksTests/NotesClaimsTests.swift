import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

/// The claims of the CS229 deep-learning notes, checked on the implementation.
@Suite("The notes' claims")
struct NotesClaimsTests {
    // MARK: (a) Symmetry (section 3.1)

    static func symmetricNetwork(_ initializer: Initializer) -> Sequential<Double> {
        Sequential<Double>(seed: 1) {
            Dense<Double>(inputSize: 3, outputSize: 4, weightInitializer: initializer, biasInitializer: initializer)
            Sigmoid<Double>()
            Dense<Double>(inputSize: 4, outputSize: 4, weightInitializer: initializer, biasInitializer: initializer)
            Sigmoid<Double>()
            Dense<Double>(inputSize: 4, outputSize: 1, weightInitializer: initializer, biasInitializer: initializer)
            Sigmoid<Double>()
        }
    }

    /// Largest difference between any row of a matrix and its first row.
    static func rowSpread(_ t: Tensor<Double>) -> Double {
        let r = rows(t)
        return r.map { maxAbsDifference($0, r[0]) }.max()!
    }

    /// Trains `model` for `steps` full-batch SGD steps on a fixed problem with
    /// log loss.
    static func train(_ model: Sequential<Double>, steps: Int) throws {
        var inputs = Inputs(seed: 2)
        let x = inputs.normal([9, 3])
        // Labels that depend on x, so that the hidden layers have something to learn, and
        // an odd count: with balanced labels a zero-initialised net gets no gradient at all.
        let y = Tensor(shape: [9, 1], scalars: rows(x).map { $0[0] + $0[1] - $0[2] > 0 ? 1 : 0 })
        var optimizer = try SGD<Double>(learningRate: 2)
        for _ in 0..<steps {
            binaryCrossEntropy(probabilities: model(x), targets: y).backward()
            optimizer.step(model)
        }
    }

    @Test("zero and equal non-zero initialisation keep every hidden unit of a layer identical (symmetry)",
          arguments: [Initializer.zeros, .constant(0.3)])
    func symmetry(initializer: Initializer) throws {
        let model = Self.symmetricNetwork(initializer)
        let initial = model.namedParameters.map(\.tensor.scalars)
        try Self.train(model, steps: 30)
        let w1 = parameter(model, "0.weight"), w2 = parameter(model, "2.weight")
        // The units did learn something. From zeros, every hidden activation is the same
        // constant for every example, so the network can only fit the mean label and the
        // hidden layers move very little (which is the notes' point); from 0.3 they move a lot.
        let minimumChange = initializer == .zeros ? 1e-7 : 1e-2
        let change1 = maxAbsDifference(w1.scalars, initial[0]), change2 = maxAbsDifference(w2.scalars, initial[2])
        #expect(change1 > minimumChange, "first layer moved by \(change1)")
        #expect(change2 > minimumChange, "second layer moved by \(change2)")
        // … but all the same thing: the rows of W^[1] and W^[2] (one per hidden unit)
        // and the entries of b^[1], b^[2] stay equal. The only allowed difference is
        // round-off of differently ordered sums inside the matrix products (~1e-16),
        // far below the changes above.
        let scale = Swift.max(1, w1.scalars.map(Swift.abs).max()!)
        #expect(Self.rowSpread(w1) <= 1e-12 * scale, "W1 rows: \(rows(w1))")
        #expect(Self.rowSpread(w2) <= 1e-12 * scale, "W2 rows: \(rows(w2))")
        for name in ["0.bias", "2.bias"] {
            let b = parameter(model, name).scalars
            #expect(b.allSatisfy { Swift.abs($0 - b[0]) <= 1e-12 }, "\(name): \(b)")
        }
        // The output unit's weights also stay equal across its (identical) inputs.
        let w3 = parameter(model, "4.weight").scalars
        #expect(w3.allSatisfy { Swift.abs($0 - w3[0]) <= 1e-12 }, "W3: \(w3)")
    }

    @Test("random initialisation breaks the symmetry")
    func randomBreaksSymmetry() throws {
        let model = Self.symmetricNetwork(.normal(standardDeviation: 0.5))
        try Self.train(model, steps: 30)
        #expect(Self.rowSpread(parameter(model, "0.weight")) > 0.05)
        #expect(Self.rowSpread(parameter(model, "2.weight")) > 0.05)
    }

    // MARK: (b) Identity activations collapse to one linear map (eqs. 2.8–2.12)

    @Test("with g(z) = z and zero biases, the network is the single linear map W̃ = W[2]W[1]", arguments: [1 as UInt64, 2, 3])
    func identityCollapses(seed: UInt64) {
        let (n, h, k, m) = (5, 4, 3, 7)
        let model = Sequential<Double>(seed: seed) {
            Dense<Double>(inputSize: n, outputSize: h, weightInitializer: .normal(standardDeviation: 1))
            Identity<Double>()
            Dense<Double>(inputSize: h, outputSize: k, weightInitializer: .normal(standardDeviation: 1))
        }
        #expect(parameter(model, "0.bias").scalars.allSatisfy { $0 == 0 })
        #expect(parameter(model, "2.bias").scalars.allSatisfy { $0 == 0 })
        let w1 = parameter(model, "0.weight").scalars, w2 = parameter(model, "2.weight").scalars
        let wTilde = handMatmul(w2, w1, m: k, k: h, n: n)  // [k, n]
        var inputs = Inputs(seed: seed &+ 100)
        let x = inputs.normal([m, n])
        // ŷ⁽ⁱ⁾ = W̃x⁽ⁱ⁾, by loops.
        var expected = [Double](repeating: 0, count: m * k)
        for i in 0..<m { for j in 0..<k { for p in 0..<n { expected[i * k + j] += wTilde[j * n + p] * x[i, p] } } }
        let output = model(x)
        #expect(output.shape == [m, k])
        #expect(maxRelativeDifference(output.scalars, expected) < 1e-12)
        // A non-linear g breaks the collapse.
        let tanhModel = Sequential<Double>(seed: seed) {
            Dense<Double>(inputSize: n, outputSize: h, weightInitializer: .normal(standardDeviation: 1))
            Tanh<Double>()
            Dense<Double>(inputSize: h, outputSize: k, weightInitializer: .normal(standardDeviation: 1))
        }
        #expect(maxAbsDifference(tanhModel(x).scalars, expected) > 0.1)
    }

    // MARK: (c) One L2 step (eq. 3.38)

    @Test("one L2 step on a trained loss is (1 − αλ)W − α∇J for every weight; biases get −α∇J")
    func l2Step() throws {
        let (alpha, lambda) = (0.05, 0.2)
        var inputs = Inputs(seed: 4)
        let x = inputs.normal([6, 3]), y = inputs.normal([6, 2])
        let model = Sequential<Double>(seed: 5) {
            Dense<Double>(inputSize: 3, outputSize: 4)
            ReLU<Double>()
            Dense<Double>(inputSize: 4, outputSize: 2)
        }
        setParameter(model, "0.bias", inputs.normal([4]).scalars)
        let before = model.namedParameters.map(\.tensor.scalars)
        squaredLoss(predictions: model(x), targets: y).backward()
        let gradients = model.namedParameters.map { $0.tensor.gradient!.scalars }
        var optimizer = try SGD<Double>(learningRate: alpha, weightDecay: lambda)
        optimizer.step(model)
        for (index, (name, tensor)) in model.namedParameters.enumerated() {
            let factor = name.hasSuffix("weight") ? 1 - alpha * lambda : 1
            let expected = zip(before[index], gradients[index]).map { factor * $0 - alpha * $1 }
            #expect(tensor.scalars == expected, "\(name)")
        }
    }

    // MARK: (d) The δ recursion (section 3, backpropagation)

    /// A 3-layer sigmoid network n → 3 → 2 → 1 with log loss, backpropagated by hand:
    /// δ[3] = a[3] − y; δ[ℓ] = (W[ℓ+1]ᵀδ[ℓ+1]) ∘ σ'(z[ℓ]); ∇W[ℓ] = δ[ℓ]a[ℓ−1]ᵀ; ∇b[ℓ] = δ[ℓ],
    /// each averaged over the m examples (J = (1/m)Σ L).
    @Test("the hand δ recursion equals the autodiff gradients layer by layer", arguments: [1, 5])
    func deltaRecursion(m: Int) {
        let n = 4
        let model = SequentialTests.notesNetwork(n, seed: 6)
        var inputs = Inputs(seed: 7 &+ UInt64(m))
        for name in ["0.bias", "2.bias", "4.bias"] {
            setParameter(model, name, inputs.normal([parameter(model, name).count], 0.5).scalars)
        }
        let x = inputs.normal([m, n])
        let y = Tensor(shape: [m, 1], scalars: (0..<m).map { Double($0 % 2) })

        // Autodiff, keeping ∂J/∂z[ℓ] of the forward pass written out with the layer's tensors.
        let w = [parameter(model, "0.weight"), parameter(model, "2.weight"), parameter(model, "4.weight")]
        let b = [parameter(model, "0.bias"), parameter(model, "2.bias"), parameter(model, "4.bias")]
        var activation = x
        var zs: [Tensor<Double>] = []
        for l in 0..<3 {
            let z = Tensor.linear(activation, weight: w[l], bias: b[l]).retainingGradient()
            zs.append(z)
            activation = z.sigmoid()
        }
        #expect(maxAbsDifference(activation.scalars, model(x).scalars) == 0)
        binaryCrossEntropy(probabilities: activation, targets: y).backward()

        // By hand, example by example, with plain arrays.
        let W = w.map(\.scalars), B = b.map(\.scalars)
        let sizes = [n, 3, 2, 1]
        var gradW = (0..<3).map { [Double](repeating: 0, count: sizes[$0 + 1] * sizes[$0]) }
        var gradB = (0..<3).map { [Double](repeating: 0, count: sizes[$0 + 1]) }
        var deltas = (0..<3).map { [Double](repeating: 0, count: m * sizes[$0 + 1]) }
        for i in 0..<m {
            var a: [[Double]] = [(0..<n).map { x[i, $0] }]
            for l in 0..<3 {
                var z = B[l]
                for r in 0..<sizes[l + 1] { for c in 0..<sizes[l] { z[r] += W[l][r * sizes[l] + c] * a[l][c] } }
                a.append(z.map(sigmoidScalar))
            }
            var delta = [Double](repeating: 0, count: 1)
            delta[0] = a[3][0] - y[i, 0]  // δ[3] = a[3] − y
            for l in stride(from: 2, through: 0, by: -1) {
                for r in 0..<sizes[l + 1] {
                    deltas[l][i * sizes[l + 1] + r] = delta[r] / Double(m)
                    gradB[l][r] += delta[r] / Double(m)
                    for c in 0..<sizes[l] { gradW[l][r * sizes[l] + c] += delta[r] * a[l][c] / Double(m) }
                }
                if l > 0 {  // δ[ℓ] = (W[ℓ+1]ᵀ δ[ℓ+1]) ∘ σ'(z[ℓ]), σ' = a(1 − a)
                    var previous = [Double](repeating: 0, count: sizes[l])
                    for c in 0..<sizes[l] {
                        var back = 0.0  // (W[ℓ+1]ᵀ δ[ℓ+1])_c
                        for r in 0..<sizes[l + 1] { back += W[l][r * sizes[l] + c] * delta[r] }
                        let slope = a[l][c] * (1 - a[l][c])
                        previous[c] = back * slope
                    }
                    delta = previous
                }
            }
        }
        for l in 0..<3 {
            #expect(maxRelativeDifference(zs[l].gradient!.scalars, deltas[l]) < 1e-13, "δ[\(l + 1)]")
            #expect(maxRelativeDifference(w[l].gradient!.scalars, gradW[l]) < 1e-13, "∇W[\(l + 1)]")
            #expect(maxRelativeDifference(b[l].gradient!.scalars, gradB[l]) < 1e-13, "∇b[\(l + 1)]")
        }
        // And the layers' own parameters received the same gradients via the model.
        model.zeroGradients()
        binaryCrossEntropy(probabilities: model(x), targets: y).backward()
        for l in 0..<3 {
            #expect(maxRelativeDifference(parameter(model, "\(2 * l).weight").gradient!.scalars, gradW[l]) < 1e-13)
        }
    }

    // MARK: (e) XOR

    static var xorInputs: Tensor<Float> { Tensor<Float>([[0, 0], [0, 1], [1, 0], [1, 1]]) }
    static var xorTargets: Tensor<Float> { Tensor<Float>(shape: [4, 1], scalars: [0, 1, 1, 0]) }

    static func trainXOR(_ model: Sequential<Float>, steps: Int) throws -> (accuracy: Double, loss: Float) {
        var optimizer = try Adam<Float>(learningRate: 0.05)
        for _ in 0..<steps {
            // Log loss on the logits before the final sigmoid (fused, stable).
            binaryCrossEntropy(logits: model.forwardExceptLast(xorInputs), targets: xorTargets).backward()
            optimizer.step(model)
        }
        let probabilities = model.predict(xorInputs)
        let correct = zip(probabilities.scalars, xorTargets.scalars).filter { ($0 >= 0.5) == ($1 == 1) }.count
        return (Double(correct) / 4, binaryCrossEntropy(probabilities: probabilities, targets: xorTargets).scalar)
    }

    @Test("a 2-layer network learns XOR to 100 % accuracy; logistic regression cannot")
    func xor() throws {
        let network = Sequential<Float>(seed: 3) {
            Dense<Float>(inputSize: 2, outputSize: 4)
            Tanh<Float>()
            Dense<Float>(inputSize: 4, outputSize: 1)
            Sigmoid<Float>()
        }
        let (accuracy, loss) = try Self.trainXOR(network, steps: 400)
        #expect(accuracy == 1)
        #expect(loss < 0.1)
        // XOR is not linearly separable: a single sigmoid unit gets at most 3 of 4.
        let logistic = Sequential<Float>(seed: 3) {
            Dense<Float>(inputSize: 2, outputSize: 1)
            Sigmoid<Float>()
        }
        let (linearAccuracy, linearLoss) = try Self.trainXOR(logistic, steps: 400)
        #expect(linearAccuracy <= 0.75)
        #expect(linearLoss > 0.5)
    }

    // MARK: (f) The housing example's single ReLU neuron

    @Test("a single ReLU neuron fits price = max(ax + b, 0) and recovers a and b")
    func housingNeuron() throws {
        let (a, b) = (2.0, -1.0)
        var inputs = Inputs(seed: 8)
        let x = inputs.uniform([64, 1], 0, 3)
        let price = Tensor(shape: [64, 1], scalars: x.scalars.map { Swift.max(a * $0 + b, 0) })
        #expect(price.scalars.contains(0) && price.scalars.contains { $0 > 1 }, "data on both sides of the kink")
        let neuron = Sequential<Double> {
            Dense<Double>(inputSize: 1, outputSize: 1, weightInitializer: .constant(0.5), biasInitializer: .constant(0.5))
            ReLU<Double>()
        }
        var optimizer = try SGD<Double>(learningRate: 0.1, momentum: 0.9)
        for _ in 0..<1000 {
            squaredLoss(predictions: neuron(x), targets: price).backward()
            optimizer.step(neuron)
        }
        let learnedA = parameter(neuron, "0.weight").scalar, learnedB = parameter(neuron, "0.bias").scalar
        #expect(Swift.abs(learnedA - a) < 1e-3, "a = \(learnedA)")
        #expect(Swift.abs(learnedB - b) < 1e-3, "b = \(learnedB)")
        #expect(squaredLoss(predictions: neuron.predict(x), targets: price).scalar < 1e-6)
    }
}
