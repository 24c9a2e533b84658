import Kernels

/// Fused operations: one pass (or one GEMM) where the composed primitives would take
/// several, each with its own derivative rule and gradient check.
extension Tensor {
    /// The affine map of a dense layer, `Z = X·Wᵀ + b`, as one GEMM that accumulates onto
    /// the broadcast bias (``KernelScalar/linear(_:weight:bias:m:n:k:)``). `input` is
    /// `[m, in]`, `weight` `[out, in]` (the notes' W^[ℓ]), `bias` `[out]`; the result is
    /// `[m, out]`.
    ///
    /// Backward (notes, section 2, step 3, over a batch): ∂L/∂X = G·W, ∂L/∂W = Gᵀ·X,
    /// ∂L/∂b = Σ over the batch of G, where G = ∂L/∂Z holds the δ^[ℓ] of each example.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func linear(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        checkPrecondition(input.rank == 2 && weight.rank == 2,
                     "linear: input \(input.shape) and weight \(weight.shape) must be matrices")
        checkPrecondition(input.shape[1] == weight.shape[1],
                     "linear: input \(input.shape) does not match weight \(weight.shape) (expects [batch, \(weight.shape[1])])")
        let (m, k, n) = (input.shape[0], input.shape[1], weight.shape[0])
        if let bias {
            checkPrecondition(bias.shape == [n], "linear: bias \(bias.shape) does not match weight \(weight.shape)")
        }
        let z = Scalar.linear(input.scalars, weight: weight.scalars, bias: bias?.scalars, m: m, n: n, k: k)
        let result = Tensor(shape: [m, n], scalars: z)
        guard GradientMode.isRecording,
              input.requiresGradient || weight.requiresGradient || bias?.requiresGradient == true
        else { return result }
        let (x, w) = (input.detached(), weight.detached())
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        return record(result, from: inputs) { g, needed in
            [needed[0] ? product(g, false, w, false) : nil,
             needed[1] ? product(g, true, x, false) : nil,
             needed.count > 2 && needed[2] ? g.sum(alongAxis: 0) : nil]
        }
    }

    /// Mean softmax cross-entropy of `logits` `[m, k]` against integer labels in 0..<k:
    /// J = −(1/m) Σᵢ log softmax(zᵢ)_{yᵢ}, computed with log-softmax (stable for large
    /// logits). Backward: ∂J/∂z = (softmax(z) − onehot(y))/m — the notes' δ = ŷ − y.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func softmaxCrossEntropy(logits: Tensor, labels: [Int]) -> Tensor {
        let (loss, logProbabilities) = softmaxCrossEntropyLoss(logits, labels)
        return record(loss, from: [logits]) { g, _ in
            [softmaxCrossEntropyDelta(logProbabilities, labels, shape: logits.shape, seed: g.scalar)]
        }
    }

    /// ``softmaxCrossEntropy(logits:labels:)`` and its gradient ∂J/∂z = (softmax(z) −
    /// onehot(y))/m, computed together and not recorded: for code that runs the backward
    /// pass itself. The same values as the recorded loss and its backward pass.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func softmaxCrossEntropyWithGradient(logits: Tensor, labels: [Int])
        -> (loss: Tensor, gradient: Tensor)
    {
        let (loss, logProbabilities) = softmaxCrossEntropyLoss(logits, labels)
        return (loss, softmaxCrossEntropyDelta(logProbabilities, labels, shape: logits.shape, seed: 1))
    }

    /// The checks, the mean loss and the log-probabilities.
    private static func softmaxCrossEntropyLoss(_ logits: Tensor, _ labels: [Int]) -> (Tensor, [Scalar]) {
        checkPrecondition(logits.rank == 2, "softmaxCrossEntropy: logits must be [batch, classes], got \(logits.shape)")
        let (m, k) = (logits.shape[0], logits.shape[1])
        checkPrecondition(labels.count == m,
                     "softmaxCrossEntropy: \(labels.count) labels for logits of shape \(logits.shape)")
        if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
            fatalError("softmaxCrossEntropy: label \(bad) is outside the \(k) classes 0..<\(k)")
        }
        let logProbabilities = Scalar.softmax(logits.scalars, outer: m, count: k, inner: 1, log: true)
        var total = 0.0
        for (i, label) in labels.enumerated() { total -= Double(logProbabilities[i * k + label]) }
        return (Tensor(Scalar(total / Double(Swift.max(m, 1)))), logProbabilities)
    }

    /// seed·(softmax − onehot)/m.
    private static func softmaxCrossEntropyDelta(_ logProbabilities: [Scalar], _ labels: [Int], shape: [Int],
                                                 seed: Scalar) -> Tensor {
        let (m, k) = (shape[0], shape[1])
        var delta = Scalar.map(.exp, logProbabilities)
        for (i, label) in labels.enumerated() { delta[i * k + label] -= 1 }
        let scale = seed / Scalar(Swift.max(m, 1))
        return Tensor(shape: shape, scalars: delta) * scale
    }

    /// Mean squared error over every element, mean((p − y)²), and its gradient
    /// 2(p − y)/n with respect to `predictions`, computed together and not recorded. The
    /// same values, in the same floating-point order, as `((p − y).squared()).mean()`
    /// and its backward pass.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func meanSquaredErrorWithGradient(predictions p: Tensor, targets y: Tensor)
        -> (loss: Tensor, gradient: Tensor)
    {
        checkPrecondition(p.shape == y.shape,
                          "meanSquaredError: predictions \(p.shape) and targets \(y.shape) differ in shape")
        let difference = Tensor.elementwise(.subtract, p, y, name: "meanSquaredError")
        let n = Scalar(Swift.max(p.count, 1))
        let total = Scalar.reduce(.sum, Scalar.map(.square, difference.scalars), outer: 1, count: p.count, inner: 1)
        let scale = 2 * (1 / n)   // as the backward pass forms it: d(x²) = 2·g·x with g = 1/n
        return (Tensor(total[0] / n), Tensor.elementwise(.multiply, difference, Tensor(scale), name: "meanSquaredError"))
    }
}

extension Tensor {
    /// Mean logistic loss of probabilities `p` against targets `y` (same shape):
    /// −(y·log p + (1 − y)·log(1 − p)), each logarithm floored at −100 as in PyTorch's
    /// `BCELoss`. Backward, also as PyTorch: ∂J/∂p = (p − y)/max(p(1 − p), 10⁻¹²)/n, finite
    /// even where p is exactly 0 or 1.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func binaryCrossEntropy(probabilities p: Tensor, targets y: Tensor) -> Tensor {
        checkPrecondition(p.shape == y.shape,
                     "binaryCrossEntropy: probabilities \(p.shape) and targets \(y.shape) differ in shape")
        let (probabilities, targets) = (p.detached(), y.detached())
        let n = Scalar(Swift.max(p.count, 1))
        let floor = Tensor(Scalar(-100))
        let logP = Tensor.elementwise(.maximum, probabilities.mapped(.log), floor, name: "binaryCrossEntropy")
        let logQ = Tensor.elementwise(.maximum, (1 - probabilities).mapped(.log), floor, name: "binaryCrossEntropy")
        let total = (targets * logP + (1 - targets) * logQ).sum()
        return record(Tensor(-total.scalar / n), from: [p, y]) { g, needed in
            let variance = Tensor.elementwise(.maximum, probabilities * (1 - probabilities), Tensor(Scalar(1e-12)),
                                              name: "binaryCrossEntropy")
            return [needed[0] ? (probabilities - targets) / variance * (g.scalar / n) : nil,
                    needed[1] ? (logQ - logP) * (g.scalar / n) : nil]
        }
    }

    /// Mean negative log-likelihood of class probabilities `[m, k]` (a softmax output) at
    /// integer labels: −(1/m) Σᵢ log pᵢ,yᵢ, the logarithm floored at −100. Backward:
    /// −1/(m·pᵢ,yᵢ) at the labels where the floor is not reached, 0 elsewhere.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func negativeLogLikelihood(probabilities p: Tensor, labels: [Int]) -> Tensor {
        checkPrecondition(p.rank == 2 && labels.count == p.shape[0],
                     "crossEntropy: \(labels.count) labels for probabilities of shape \(p.shape)")
        let (m, k) = (p.shape[0], p.shape[1])
        if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
            fatalError("crossEntropy: label \(bad) is outside the \(k) classes 0..<\(k)")
        }
        let picked = labels.enumerated().map { p.scalars[$0.offset * k + $0.element] }
        let logs = Scalar.map(.log, picked).map { Swift.max($0, -100) }
        let total = logs.reduce(0, +)
        let probabilities = p.detached()
        return record(Tensor(-total / Scalar(Swift.max(m, 1))), from: [p]) { g, _ in
            var gradient = Scalar.filled(0, count: m * k)
            let scale = g.scalar / Scalar(Swift.max(m, 1))
            for (i, label) in labels.enumerated() where logs[i] > -100 {
                gradient[i * k + label] = -scale / probabilities.scalars[i * k + label]
            }
            return [Tensor(shape: [m, k], scalars: gradient)]
        }
    }
}
