import Kernels

/// The elementwise activations that have in-place forms (``Tensor/assign(_:of:)``).
public enum PointwiseActivation: Sendable, Hashable {
    /// g(z) = z, σ(z) = 1/(1 + e⁻ᶻ) (eq. 1.4), tanh z (eq. 1.6) and max(z, 0) (eq. 1.5).
    case identity, sigmoid, tanh, relu
    /// max(z, 0) + slope·min(z, 0).
    case leakyReLU(slope: Double)
}

/// Operations that overwrite an existing tensor instead of returning a new one, for
/// training loops that keep their buffers from step to step (no allocation in the steady
/// state). Each reuses this tensor's storage when it already holds as many values and
/// nothing else shares it; otherwise it allocates, once. None is recorded for autodiff:
/// the result has no gradient history. The inputs must not be this tensor itself.
extension Tensor {
    /// Gives this tensor `newShape` and drops its history; the values are then
    /// overwritten by the caller (kept only when the count is unchanged).
    mutating func prepareForOverwrite(_ newShape: [Int]) {
        node = nil
        if shape != newShape { shape = newShape }
        let count = newShape.reduce(1, *)
        if scalars.count != count { scalars = Scalar.filled(0, count: count) }
    }

    /// self = input·weightᵀ + bias (``linear(_:weight:bias:)``, overwriting this tensor).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assignLinear(_ input: Tensor, weight: Tensor, bias: Tensor?) {
        checkPrecondition(input.rank == 2 && weight.rank == 2,
                          "linear: input \(input.shape) and weight \(weight.shape) must be matrices")
        checkPrecondition(input.shape[1] == weight.shape[1],
                          "linear: input \(input.shape) does not match weight \(weight.shape) (expects [batch, \(weight.shape[1])])")
        let (m, k, n) = (input.shape[0], input.shape[1], weight.shape[0])
        if let bias {
            checkPrecondition(bias.shape == [n], "linear: bias \(bias.shape) does not match weight \(weight.shape)")
        }
        prepareForOverwrite([m, n])
        Scalar.linear(input.scalars, weight: weight.scalars, bias: bias?.scalars, m: m, n: n, k: k, into: &scalars)
    }

    /// self = op(a)·op(b) (``matmul(_:transposed:_:transposed:)``, overwriting this tensor).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assignMatmul(_ a: Tensor, transposed transposeA: Bool = false,
                                      _ b: Tensor, transposed transposeB: Bool = false) {
        let (m, n, k) = Self.productSizes(a, transposeA, b, transposeB)
        prepareForOverwrite([m, n])
        Scalar.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                    a: a.scalars, b: b.scalars, beta: 0, c: &scalars)
    }

    /// self = the sums of the columns of the matrix `x` (``sum(alongAxis:keepingDimension:)``
    /// over axis 0, overwriting this tensor).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assignColumnSums(of x: Tensor) {
        checkPrecondition(x.rank == 2, "column sums: needs a matrix, got shape \(x.shape)")
        prepareForOverwrite([x.shape[1]])
        Scalar.sum(x.scalars, outer: 1, count: x.shape[0], inner: x.shape[1], into: &scalars)
    }

    /// self = Σᵢ weights[i]·parts[i], over tensors of one shape, summed in the order given
    /// (so the same values however the work is split across threads): a data-parallel
    /// step's gradient, from its shares' gradients weighted by their sizes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assignWeightedSum(of parts: [Tensor], weights: [Scalar]) {
        checkPrecondition(!parts.isEmpty && parts.count == weights.count,
                          "weighted sum: \(parts.count) tensors and \(weights.count) weights")
        for part in parts {
            checkPrecondition(part.shape == parts[0].shape, "weighted sum: shapes \(parts[0].shape) and \(part.shape) differ")
        }
        prepareForOverwrite(parts[0].shape)
        guard parts.count > 1 else {
            Scalar.zip(.multiply, parts[0].scalars, strides: [1], [weights[0]], strides: [0], shape: [count], into: &scalars)
            return
        }
        Scalar.weightedSum(parts[0].scalars, weights[0], parts[1].scalars, weights[1], into: &scalars)
        for index in parts.indices.dropFirst(2) { Scalar.scaledAdd(&scalars, weights[index], parts[index].scalars, 1) }
    }

    /// self = f(x), elementwise.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assign(_ f: PointwiseActivation, of x: Tensor) {
        if f == .identity { self = x.detached(); return }   // the same values: shared
        prepareForOverwrite(x.shape)
        switch f {
        case .identity: break
        case .sigmoid: Scalar.map(.sigmoid, x.scalars, into: &scalars)
        case .tanh: Scalar.map(.tanh, x.scalars, into: &scalars)
        case .relu: Scalar.map(.relu, x.scalars, into: &scalars)
        case .leakyReLU(let slope): Scalar.map(.leakyReLU(slope: slope), x.scalars, into: &scalars)
        }
    }

    /// self = ∂L/∂z for y = f(z), from z (`input`), y (`output`) and g = ∂L/∂y — the rules
    /// of ``sigmoidPullback(output:_:)`` and its siblings, overwriting this tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assignPullback(of f: PointwiseActivation, input z: Tensor, output y: Tensor,
                                        gradient g: Tensor) {
        checkPrecondition(z.shape == g.shape && y.shape == g.shape,
                          "pullback: input \(z.shape), output \(y.shape) and gradient \(g.shape) differ")
        if f == .identity { self = g.detached(); return }   // the same values: shared
        prepareForOverwrite(g.shape)
        let n = [g.count]
        switch f {
        case .identity: break
        case .sigmoid: Scalar.zip(.sigmoidBackward, y.scalars, strides: [1], g.scalars, strides: [1], shape: n, into: &scalars)
        case .tanh: Scalar.zip(.tanhBackward, y.scalars, strides: [1], g.scalars, strides: [1], shape: n, into: &scalars)
        case .relu: Scalar.zip(.reluBackward, z.scalars, strides: [1], g.scalars, strides: [1], shape: n, into: &scalars)
        case .leakyReLU(let slope):
            Scalar.zip(.leakyReLUBackward(slope: slope), z.scalars, strides: [1], g.scalars, strides: [1],
                       shape: n, into: &scalars)
        }
    }
}
