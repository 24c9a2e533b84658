import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

/// Optimisers against hand-computed updates (plain Double arithmetic, element by element).
@Suite("Optimisers and schedules")
struct OptimizerTests {
    static func start(seed: UInt64 = 1) -> (w: Tensor<Double>, gradients: [Tensor<Double>]) {
        var inputs = Inputs(seed: seed)
        let w = inputs.normal([3, 4])
        // Gradients bounded away from 0 so that Adam's sign is well defined.
        return (w, (0..<3).map { _ in inputs.awayFromZero([3, 4], low: 0.1) })
    }

    /// A small model with a known gradient: J = Σ (c ∘ θ) for every parameter θ, so
    /// ∂J/∂θ = c (per parameter).
    static func modelWithGradients() -> (Sequential<Double>, [String: [Double]]) {
        let model = Sequential<Double>(seed: 4) {
            Dense<Double>(inputSize: 3, outputSize: 2)
            Tanh<Double>()
            Dense<Double>(inputSize: 2, outputSize: 1)
        }
        var inputs = Inputs(seed: 5)
        for name in ["0.bias", "2.bias"] { setParameter(model, name, inputs.normal([parameter(model, name).count]).scalars) }
        var gradients: [String: [Double]] = [:]
        for (name, tensor) in model.namedParameters { gradients[name] = inputs.normal([tensor.count]).scalars }
        return (model, gradients)
    }

    static func backwardKnownGradients(_ model: Sequential<Double>, _ gradients: [String: [Double]]) {
        var total = Tensor<Double>(0)
        for (name, tensor) in model.namedParameters {
            total = total + (tensor * Tensor(shape: tensor.shape, scalars: gradients[name]!)).sum()
        }
        total.backward()
    }

    // MARK: SGD

    @Test("one SGD step is W − αg")
    func sgdStep() throws {
        let (w0, gradients) = Self.start()
        var optimizer = try SGD<Double>(learningRate: 0.1)
        var w = w0
        optimizer.update("weight", &w, gradient: gradients[0])
        #expect(w.scalars == zip(w0.scalars, gradients[0].scalars).map { $0 - 0.1 * $1 })
        #expect(optimizer.state.isEmpty, "plain SGD keeps no state")
    }

    @Test("SGD on a model: every parameter moves by −α ∂J/∂θ and its gradient is cleared")
    func sgdModelStep() throws {
        let (model, gradients) = Self.modelWithGradients()
        let before = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor.scalars) })
        Self.backwardKnownGradients(model, gradients)
        var optimizer = try SGD<Double>(learningRate: 0.05)
        optimizer.step(model)
        for (name, tensor) in model.namedParameters {
            #expect(maxAbsDifference(tensor.scalars, zip(before[name]!, gradients[name]!).map { $0 - 0.05 * $1 }) < 1e-15, "\(name)")
            #expect(tensor.gradient == nil, "\(name) gradient cleared")
            #expect(tensor.requiresGradient, "\(name) is still a leaf")
        }
    }

    @Test("one L2 step is (1 − αλ)W − α∇J for weights (eq. 3.38); biases per RegularizedParameters")
    func l2Step() throws {
        let (alpha, lambda) = (0.1, 0.3)
        for regularized in [RegularizedParameters.weightsOnly, .all] {
            let (model, gradients) = Self.modelWithGradients()
            let before = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor.scalars) })
            Self.backwardKnownGradients(model, gradients)
            var optimizer = try SGD<Double>(learningRate: alpha, weightDecay: lambda, regularized: regularized)
            optimizer.step(model)
            for (name, tensor) in model.namedParameters {
                let decayed = name.hasSuffix("weight") || regularized == .all
                let expected = zip(before[name]!, gradients[name]!).map {
                    decayed ? (1 - alpha * lambda) * $0 - alpha * $1 : $0 - alpha * $1
                }
                #expect(tensor.scalars == expected, "\(name), \(regularized)")
            }
        }
        // The same as descending J + (λ/2)‖W‖² (eq. 3.37) by plain SGD, up to rounding.
        let (w0, gradients) = Self.start()
        var withL2 = w0, byHand = w0
        var l2 = try SGD<Double>(learningRate: alpha, weightDecay: lambda)
        l2.update("weight", &withL2, gradient: gradients[0])
        var plain = try SGD<Double>(learningRate: alpha)
        plain.update("weight", &byHand, gradient: gradients[0] + lambda * w0)
        #expect(maxAbsDifference(withL2.scalars, byHand.scalars) < 1e-15)
    }

    @Test("momentum, notes form: v = βv + (1−β)g, W = W − αv, over 3 steps")
    func momentumNotes() throws {
        try checkMomentum(.notes) { v, g, beta in beta * v + (1 - beta) * g } step: { w, v, _, alpha, _ in w - alpha * v }
    }

    @Test("momentum, classical: v = βv + g, W = W − αv, over 3 steps")
    func momentumClassical() throws {
        try checkMomentum(.classical) { v, g, beta in beta * v + g } step: { w, v, _, alpha, _ in w - alpha * v }
    }

    @Test("Nesterov: v = βv + g, W = W − α(g + βv), over 3 steps")
    func momentumNesterov() throws {
        try checkMomentum(.nesterov) { v, g, beta in beta * v + g } step: { w, v, g, alpha, beta in w - alpha * (g + beta * v) }
    }

    func checkMomentum(
        _ form: SGD<Double>.MomentumForm,
        velocity: (Double, Double, Double) -> Double,
        step: (Double, Double, Double, Double, Double) -> Double,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let (alpha, beta) = (0.1, 0.9)
        let (w0, gradients) = Self.start()
        var optimizer = try SGD<Double>(learningRate: alpha, momentum: beta, momentumForm: form)
        var w = w0
        var hand = w0.scalars
        var v = [Double](repeating: 0, count: hand.count)
        for (t, g) in gradients.enumerated() {
            optimizer.update("0.weight", &w, gradient: g)
            for i in hand.indices {
                v[i] = velocity(v[i], g.scalars[i], beta)
                hand[i] = step(hand[i], v[i], g.scalars[i], alpha, beta)
            }
            #expect(maxAbsDifference(w.scalars, hand) < 1e-14, "\(form), step \(t + 1)", sourceLocation: sourceLocation)
            #expect(maxAbsDifference(optimizer.state["0.weight.velocity"]?.scalars ?? [], v) < 1e-14,
                    "\(form) velocity, step \(t + 1)", sourceLocation: sourceLocation)
        }
    }

    @Test("momentum with L2 adds λW to the gradient before the velocity")
    func momentumWithL2() throws {
        let (alpha, beta, lambda) = (0.1, 0.5, 0.2)
        let (w0, gradients) = Self.start(seed: 2)
        var optimizer = try SGD<Double>(learningRate: alpha, momentum: beta, weightDecay: lambda)
        var w = w0
        var hand = w0.scalars, v = [Double](repeating: 0, count: hand.count)
        for g in gradients {
            optimizer.update("weight", &w, gradient: g)
            for i in hand.indices {
                v[i] = beta * v[i] + g.scalars[i] + lambda * hand[i]
                hand[i] -= alpha * v[i]
            }
        }
        #expect(maxAbsDifference(w.scalars, hand) < 1e-14)
    }

    @Test("the three momentum forms differ from each other and from plain SGD")
    func formsDiffer() throws {
        let (w0, gradients) = Self.start()
        func run(_ optimizer: SGD<Double>) -> [Double] {
            var o = optimizer, w = w0
            for g in gradients { o.update("weight", &w, gradient: g) }
            return w.scalars
        }
        let results = try [
            run(SGD(learningRate: 0.1)), run(SGD(learningRate: 0.1, momentum: 0.9, momentumForm: .notes)),
            run(SGD(learningRate: 0.1, momentum: 0.9, momentumForm: .classical)),
            run(SGD(learningRate: 0.1, momentum: 0.9, momentumForm: .nesterov)),
        ]
        for i in 0..<4 { for j in (i + 1)..<4 { #expect(maxAbsDifference(results[i], results[j]) > 1e-3, "\(i) vs \(j)") } }
    }

    // MARK: Adam

    @Test("Adam's first step moves each weight by ≈ α·sign(g)")
    func adamFirstStep() throws {
        let (w0, gradients) = Self.start()
        var optimizer = try Adam<Double>(learningRate: 0.01)
        var w = w0
        optimizer.beginStep()
        optimizer.update("weight", &w, gradient: gradients[0])
        // m̂ = g, v̂ = g², step = α g/(|g| + ε): off α·sign(g) by α ε/|g| ≤ 0.01·1e-8/0.1.
        let expected = zip(w0.scalars, gradients[0].scalars).map { $0 - 0.01 * ($1 > 0 ? 1 : -1) }
        #expect(maxAbsDifference(w.scalars, expected) < 1e-9)
        // Scale invariance: 1000 g takes the same first step, but for ε: each step is off
        // α·sign(g) by at most α ε/|g| ≤ 1e-9.
        var optimizer2 = try Adam<Double>(learningRate: 0.01)
        var w2 = w0
        optimizer2.beginStep()
        optimizer2.update("weight", &w2, gradient: gradients[0] * 1000)
        #expect(maxAbsDifference(w2.scalars, w.scalars) < 2e-9)
    }

    /// Adam by hand, element by element, for the gradients given.
    static func handAdam(
        _ w0: [Double], _ gradients: [[Double]], alpha: Double, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Double = 1e-8, lambda: Double = 0, decoupled: Bool = false
    ) -> [Double] {
        var w = w0
        var m = [Double](repeating: 0, count: w.count), v = m
        for (index, gradient) in gradients.enumerated() {
            let t = Double(index + 1)
            for i in w.indices {
                var g = gradient[i]
                if decoupled { w[i] *= 1 - alpha * lambda } else { g += lambda * w[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                let mHat = m[i] / (1 - Foundation.pow(beta1, t)), vHat = v[i] / (1 - Foundation.pow(beta2, t))
                w[i] -= alpha * mHat / (vHat.squareRoot() + epsilon)
            }
        }
        return w
    }

    @Test("Adam, Adam with L2 and AdamW over 3 steps match the formulas by hand")
    func adamSequences() throws {
        let (w0, gradients) = Self.start(seed: 3)
        let cases: [(Adam<Double>, Double, Bool)] = try [
            (Adam(learningRate: 0.05, beta1: 0.8, beta2: 0.99), 0, false),
            (Adam(learningRate: 0.05, weightDecay: 0.5), 0.5, false),
            (Adam.adamW(learningRate: 0.05, weightDecay: 0.5), 0.5, true),
        ]
        for (index, (adam, lambda, decoupled)) in cases.enumerated() {
            var optimizer = adam, w = w0
            for g in gradients {
                optimizer.beginStep()
                optimizer.update("0.weight", &w, gradient: g)
            }
            let hand = Self.handAdam(w0.scalars, gradients.map(\.scalars), alpha: 0.05, beta1: adam.beta1,
                                     beta2: adam.beta2, lambda: lambda, decoupled: decoupled)
            #expect(maxAbsDifference(w.scalars, hand) < 1e-13, "case \(index)")
        }
    }

    @Test("AdamW's decay is decoupled: with a zero gradient W shrinks to exactly (1 − αλ)W")
    func adamWDecoupled() throws {
        let (w0, _) = Self.start()
        let (alpha, lambda) = (0.01, 0.1)
        var adamW = try Adam<Double>.adamW(learningRate: alpha, weightDecay: lambda)
        #expect(adamW.isDecoupled && adamW.weightDecay == lambda)
        var w = w0
        adamW.beginStep()
        adamW.update("weight", &w, gradient: .zeros([3, 4]))
        #expect(maxAbsDifference(w.scalars, w0.scalars.map { (1 - alpha * lambda) * $0 }) < 1e-16)
        // Coupled L2 instead feeds λW into the moments: the step is then ≈ α·sign(W),
        // far larger than the decoupled shrink αλ|W|.
        var adamL2 = try Adam<Double>(learningRate: alpha, weightDecay: lambda)
        var w2 = w0
        adamL2.beginStep()
        adamL2.update("weight", &w2, gradient: .zeros([3, 4]))
        // g = λW, m̂ = g, v̂ = g²: the step is α λW/(|λW| + ε) ≈ α·sign(W).
        let coupled = w0.scalars.map { $0 - alpha * (lambda * $0) / (Swift.abs(lambda * $0) + 1e-8) }
        #expect(maxAbsDifference(w2.scalars, coupled) < 1e-15)
        #expect(maxAbsDifference(w2.scalars, w0.scalars) > 0.9 * alpha)
        // Biases are not decayed by default.
        var b = w0
        var adamW2 = try Adam<Double>.adamW(learningRate: alpha, weightDecay: lambda)
        adamW2.beginStep()
        adamW2.update("0.bias", &b, gradient: .zeros([3, 4]))
        #expect(b.scalars == w0.scalars)
    }

    // MARK: State

    @Test("SGD state is named '<parameter>.velocity'; a restored optimiser continues exactly like the original")
    func sgdStateRestore() throws {
        let (model, gradients) = Self.modelWithGradients()
        var original = try SGD<Double>(learningRate: 0.1, momentum: 0.9, momentumForm: .nesterov)
        for _ in 0..<2 {
            Self.backwardKnownGradients(model, gradients)
            original.step(model)
        }
        #expect(Set(original.state.keys) == ["0.weight.velocity", "0.bias.velocity", "2.weight.velocity", "2.bias.velocity"])
        #expect(original.state["0.weight.velocity"]?.shape == [2, 3])
        var restored = try SGD<Double>(learningRate: 0.1, momentum: 0.9, momentumForm: .nesterov)
        try restored.restore(state: original.state)
        var fresh = try SGD<Double>(learningRate: 0.1, momentum: 0.9, momentumForm: .nesterov)
        var (a, b, c) = (model.namedParameters[0].tensor, model.namedParameters[0].tensor, model.namedParameters[0].tensor)
        let g = Tensor(shape: [2, 3], scalars: gradients["0.weight"]!)
        original.update("0.weight", &a, gradient: g)
        restored.update("0.weight", &b, gradient: g)
        fresh.update("0.weight", &c, gradient: g)
        #expect(a.scalars == b.scalars)
        #expect(a.scalars != c.scalars, "without the state the step differs")
        #expect(throws: (any Error).self) { try restored.restore(state: ["0.weight.m": g]) }
    }

    @Test("Adam state (step, m, v) round-trips: a restored Adam continues exactly like the original")
    func adamStateRestore() throws {
        let (w0, gradients) = Self.start()
        var original = try Adam<Double>(learningRate: 0.01)
        var w = w0
        for g in gradients.prefix(2) {
            original.beginStep()
            original.update("0.weight", &w, gradient: g)
        }
        let state = original.state
        #expect(Set(state.keys) == ["step", "0.weight.m", "0.weight.v"])
        #expect(state["step"]?.scalar == 2)
        var restored = try Adam<Double>(learningRate: 0.01)
        try restored.restore(state: state)
        var a = w, b = w
        original.beginStep(); original.update("0.weight", &a, gradient: gradients[2])
        restored.beginStep(); restored.update("0.weight", &b, gradient: gradients[2])
        #expect(a.scalars == b.scalars)
        #expect(restored.state["step"]?.scalar == 3)
        #expect(throws: (any Error).self) { try restored.restore(state: [:]) }
    }

    // MARK: Configuration errors

    @Test("invalid optimiser settings throw ConfigurationError at init")
    func configurationErrors() {
        #expect(throws: ConfigurationError.self) { try SGD<Float>(learningRate: -0.1) }
        #expect(throws: ConfigurationError.self) { try SGD<Float>(learningRate: .nan) }
        #expect(throws: ConfigurationError.self) { try SGD<Float>(learningRate: .infinity) }
        #expect(throws: ConfigurationError.self) { try SGD<Float>(learningRate: 0.1, momentum: 1.0) }
        #expect(throws: ConfigurationError.self) { try SGD<Float>(learningRate: 0.1, momentum: -0.1) }
        #expect(throws: ConfigurationError.self) { try SGD<Float>(learningRate: 0.1, weightDecay: -0.01) }
        #expect(throws: ConfigurationError.self) { try Adam<Float>(learningRate: -1) }
        #expect(throws: ConfigurationError.self) { try Adam<Float>(beta1: 1) }
        #expect(throws: ConfigurationError.self) { try Adam<Float>(beta2: -0.5) }
        #expect(throws: ConfigurationError.self) { try Adam<Float>(epsilon: 0) }
        #expect(throws: ConfigurationError.self) { try Adam<Float>(weightDecay: -1) }
        #expect(throws: ConfigurationError.self) { try Adam<Float>.adamW(weightDecay: -1) }
        // Edge values that are valid.
        #expect(throws: Never.self) { try SGD<Float>(learningRate: 0, momentum: 0.99, weightDecay: 0) }
        #expect(throws: Never.self) { try Adam<Float>(beta1: 0) }
    }

    // MARK: Learning-rate schedules

    @Test("step schedule multiplies by the factor every k epochs")
    func stepSchedule() {
        let schedule = LearningRateSchedule.step(epochs: 3, factor: 0.5)
        let rates = (0..<8).map { schedule.rate(base: 0.2, epoch: $0) }
        let expected = [0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05]
        #expect(maxAbsDifference(rates, expected) < 1e-15)
        #expect(LearningRateSchedule.constant.rate(base: 0.3, epoch: 17) == 0.3)
    }

    @Test("exponential schedule is base·γᵉ")
    func exponentialSchedule() {
        let schedule = LearningRateSchedule.exponential(gamma: 0.9)
        var expected = 0.5
        for epoch in 0..<10 {
            #expect(Swift.abs(schedule.rate(base: 0.5, epoch: epoch) - expected) < 1e-15)
            expected *= 0.9
        }
    }

    @Test("cosine schedule: base at epoch 0, midpoint halfway, minimum at the end and after")
    func cosineSchedule() {
        let schedule = LearningRateSchedule.cosine(epochs: 10, minimum: 0.01)
        #expect(Swift.abs(schedule.rate(base: 0.1, epoch: 0) - 0.1) < 1e-15)
        #expect(Swift.abs(schedule.rate(base: 0.1, epoch: 5) - 0.055) < 1e-15)
        #expect(Swift.abs(schedule.rate(base: 0.1, epoch: 10) - 0.01) < 1e-15)
        #expect(Swift.abs(schedule.rate(base: 0.1, epoch: 25) - 0.01) < 1e-15)
        let quarter = 0.01 + 0.09 * (1 + Foundation.cos(Double.pi / 4)) / 2  // a quarter of the way
        #expect(Swift.abs(LearningRateSchedule.cosine(epochs: 40, minimum: 0.01).rate(base: 0.1, epoch: 10) - quarter) < 1e-15)
        let rates = (0...10).map { schedule.rate(base: 0.1, epoch: $0) }
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 > $1 }, "strictly decreasing: \(rates)")
    }
}
