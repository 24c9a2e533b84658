import Kernels

/// Fused operations: one pass (or one GEMM) where the composed primitives would take
/// several, each with its own derivative rule and gradient check.
extension Tensor {
    /// The affine map of a dense layer, `Z = X·Wᵀ + b`, as one GEMM that accumulates onto
    /// the broadcast bias. `input` is `[m, in]`, `weight` `[out, in]` (the notes' W^[ℓ]),
    /// `bias` `[out]`; the result is `[m, out]`.
    ///
    /// Backward (notes, section 2, step 3, over a batch): ∂L/∂X = G·W, ∂L/∂W = Gᵀ·X,
    /// ∂L/∂b = Σ over the batch of G, where G = ∂L/∂Z holds the δ^[ℓ] of each example.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func linear(_ input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        precondition(input.rank == 2 && weight.rank == 2,
                     "linear: input \(input.shape) and weight \(weight.shape) must be matrices")
        precondition(input.shape[1] == weight.shape[1],
                     "linear: input \(input.shape) does not match weight \(weight.shape) (expects [batch, \(weight.shape[1])])")
        let (m, k, n) = (input.shape[0], input.shape[1], weight.shape[0])
        var z: [Scalar]
        if let bias {
            precondition(bias.shape == [n], "linear: bias \(bias.shape) does not match weight \(weight.shape)")
            z = Scalar.zip(.add, bias.scalars, strides: [0, 1], [0], strides: [0, 0], shape: [m, n])
        } else {
            z = Scalar.filled(0, count: m * n)
        }
        Scalar.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1,
                    a: input.scalars, b: weight.scalars, beta: bias == nil ? 0 : 1, c: &z)
        let result = Tensor(shape: [m, n], scalars: z)
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
        precondition(logits.rank == 2, "softmaxCrossEntropy: logits must be [batch, classes], got \(logits.shape)")
        let (m, k) = (logits.shape[0], logits.shape[1])
        precondition(labels.count == m,
                     "softmaxCrossEntropy: \(labels.count) labels for logits of shape \(logits.shape)")
        if let bad = labels.first(where: { $0 < 0 || $0 >= k }) {
            preconditionFailure("softmaxCrossEntropy: label \(bad) is outside the \(k) classes 0..<\(k)")
        }
        let logProbabilities = Scalar.softmax(logits.scalars, outer: m, count: k, inner: 1, log: true)
        var total = 0.0
        for (i, label) in labels.enumerated() { total -= Double(logProbabilities[i * k + label]) }
        let loss = Tensor(Scalar(total / Double(Swift.max(m, 1))))
        return record(loss, from: [logits]) { g, _ in
            var delta = Scalar.map(.exp, logProbabilities)
            for (i, label) in labels.enumerated() { delta[i * k + label] -= 1 }
            let scale = g.scalar / Scalar(Swift.max(m, 1))
            return [Tensor(shape: [m, k], scalars: delta) * scale]
        }
    }
}
