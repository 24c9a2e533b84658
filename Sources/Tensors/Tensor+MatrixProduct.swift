import Kernels

extension Tensor {
    /// The matrix product `op(a)·op(b)` of rank-2 tensors, where `op(x)` is `x` or its
    /// transpose. A transposed operand is read in place by BLAS, never copied.
    /// `a` is `[m, k]` (or `[k, m]` when transposed), `b` is `[k, n]` (or `[n, k]`);
    /// the result is `[m, n]`. Costs 2·m·n·k flops.
    ///
    /// Gradients, for C = op(A)·op(B): ∂L/∂op(A) = ∂L/∂C · op(B)ᵀ and
    /// ∂L/∂op(B) = op(A)ᵀ · ∂L/∂C, each computed as one GEMM with the right transposes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func matmul(
        _ a: Tensor, transposed transposeA: Bool = false,
        _ b: Tensor, transposed transposeB: Bool = false
    ) -> Tensor {
        let result = product(a.detached(), transposeA, b.detached(), transposeB)
        let (x, y) = (a.detached(), b.detached())
        return record(result, from: [a, b]) { g, needed in
            let gradientA: Tensor? = !needed[0] ? nil
                : transposeA ? product(y, transposeB, g, true)      // (g·op(B)ᵀ)ᵀ = op(B)·gᵀ
                : product(g, false, y, !transposeB)                 // g·op(B)ᵀ
            let gradientB: Tensor? = !needed[1] ? nil
                : transposeB ? product(g, true, x, transposeA)      // (op(A)ᵀ·g)ᵀ = gᵀ·op(A)
                : product(x, !transposeA, g, false)                 // op(A)ᵀ·g
            return [gradientA, gradientB]
        }
    }

    /// `op(a)·op(b)` computed by BLAS, not recorded.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func product(_ a: Tensor, _ transposeA: Bool, _ b: Tensor, _ transposeB: Bool) -> Tensor {
        let (m, n, k) = productSizes(a, transposeA, b, transposeB)
        return Tensor(shape: [m, n], scalars: Scalar.product(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.scalars, b: b.scalars))
    }
}

extension Tensor {
    /// m, n and k of `op(a)·op(b)`; stops with both shapes when they do not chain.
    static func productSizes(_ a: Tensor, _ transposeA: Bool, _ b: Tensor, _ transposeB: Bool)
        -> (m: Int, n: Int, k: Int)
    {
        checkPrecondition(a.rank == 2 && b.rank == 2,
                     "matmul: needs two matrices, got shapes \(a.shape) and \(b.shape)")
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (k2, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        checkPrecondition(
            k == k2,
            "matmul: shapes \(a.shape)\(transposeA ? "ᵀ" : "") and \(b.shape)\(transposeB ? "ᵀ" : "") do not chain (\(k) ≠ \(k2))")
        return (m, n, k)
    }
}

/// `a·b` for rank-2 tensors (`Tensor.matmul` without transposes).
public func matmul<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    Tensor.matmul(a, b)
}
