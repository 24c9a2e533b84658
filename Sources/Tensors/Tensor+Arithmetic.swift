import Kernels

/// Elementwise arithmetic with NumPy/PyTorch broadcasting: shapes are aligned on the
/// right, and a dimension of size 1 (or a missing one) stretches to the other's size.
/// A scalar and a row vector `[n]` over a batch `[m, n]` are the common cases.
extension Tensor {
    /// The shape both operands broadcast to; stops with both shapes if there is none.
    static func broadcastShape(_ a: [Int], _ b: [Int], operation: @autoclosure () -> String) -> [Int] {
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            let x = d < rank - a.count ? 1 : a[d - (rank - a.count)]
            let y = d < rank - b.count ? 1 : b[d - (rank - b.count)]
            checkPrecondition(x == y || x == 1 || y == 1,
                         "\(operation()): shapes \(a) and \(b) cannot be broadcast together")
            result[d] = x == 1 ? y : x
        }
        return result
    }

    /// Strides that read a tensor of `shape` as if it had the larger shape `target`.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = contiguousStrides(shape)
        let offset = target.count - shape.count
        return target.indices.map { d in
            d < offset || shape[d - offset] == 1 ? 0 : own[d - offset]
        }
    }

    /// `op` applied elementwise after broadcasting, not recorded.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func elementwise(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: @autoclosure () -> String) -> Tensor {
        // The common cases as one flat loop: equal shapes, or a one-element operand of no
        // higher rank than the other (a scalar, a bias of one unit).
        if a.shape == b.shape {
            return Tensor(shape: a.shape, scalars: Scalar.zip(
                op, a.scalars, strides: [1], b.scalars, strides: [1], shape: [a.count]))
        }
        if b.count == 1 && b.rank <= a.rank {
            return Tensor(shape: a.shape, scalars: Scalar.zip(
                op, a.scalars, strides: [1], b.scalars, strides: [0], shape: [a.count]))
        }
        if a.count == 1 && a.rank <= b.rank {
            return Tensor(shape: b.shape, scalars: Scalar.zip(
                op, a.scalars, strides: [0], b.scalars, strides: [1], shape: [b.count]))
        }
        let shape = broadcastShape(a.shape, b.shape, operation: name())
        let values = Scalar.zip(
            op, a.scalars, strides: broadcastStrides(a.shape, to: shape),
            b.scalars, strides: broadcastStrides(b.shape, to: shape), shape: shape)
        return Tensor(shape: shape, scalars: values)
    }

    /// This tensor stretched to `shape` by broadcasting (a copy).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func broadcast(to target: [Int]) -> Tensor {
        let result = Tensor.elementwise(.add, self, Tensor.zeros(target), name: "broadcast")
        checkPrecondition(result.shape == target, "broadcast: shape \(shape) cannot grow to \(target)")
        let original = shape
        return Tensor.record(result, from: [self]) { g, _ in [g.summed(toShape: original)] }
    }

    /// The sum of a broadcast gradient back down to `target`: over the leading
    /// dimensions it gained and over the dimensions where `target` has size 1.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        var result = self
        let extra = rank - target.count
        checkPrecondition(extra >= 0, "sum to shape: \(shape) has lower rank than \(target)")
        if extra > 0 {
            let lead = shape[..<extra].reduce(1, *)
            result = Tensor(shape: Array(shape[extra...]), scalars: Scalar.reduce(
                .sum, scalars, outer: 1, count: lead, inner: count / Swift.max(lead, 1)))
        }
        for d in target.indices where target[d] == 1 && result.shape[d] != 1 {
            result = result.sum(alongAxis: d, keepingDimension: true)
        }
        checkPrecondition(result.shape == target, "sum to shape: \(shape) does not reduce to \(target)")
        return result
    }

    /// Elementwise sum with NumPy broadcasting; the gradient of each side is the incoming
    /// gradient summed back to that side's shape (a bias `[n]` added to `[m, n]` gets Σᵢ over
    /// the batch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = elementwise(.add, lhs, rhs, name: "add")
        let (shapeA, shapeB) = (lhs.shape, rhs.shape)
        return record(result, from: [lhs, rhs]) { g, needed in
            [needed[0] ? g.summed(toShape: shapeA) : nil, needed[1] ? g.summed(toShape: shapeB) : nil]
        }
    }

    /// Elementwise difference with broadcasting; the right side's gradient is the negated
    /// incoming gradient, each summed back to its side's shape.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = elementwise(.subtract, lhs, rhs, name: "subtract")
        let (shapeA, shapeB) = (lhs.shape, rhs.shape)
        return record(result, from: [lhs, rhs]) { g, needed in
            [needed[0] ? g.summed(toShape: shapeA) : nil, needed[1] ? (-g).summed(toShape: shapeB) : nil]
        }
    }

    /// Elementwise (Hadamard) product with broadcasting, the notes' `∘`; ∂(a∘b)/∂a = b and
    /// ∂(a∘b)/∂b = a, each summed back to its side's shape.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = elementwise(.multiply, lhs, rhs, name: "multiply")
        let (a, b) = (lhs.detached(), rhs.detached())
        return record(result, from: [lhs, rhs]) { g, needed in
            [needed[0] ? (g * b).summed(toShape: a.shape) : nil,
             needed[1] ? (g * a).summed(toShape: b.shape) : nil]
        }
    }

    /// Elementwise quotient with broadcasting; ∂(a/b)/∂a = 1/b and ∂(a/b)/∂b = −a/b².
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let result = elementwise(.divide, lhs, rhs, name: "divide")
        let (a, b) = (lhs.detached(), rhs.detached())
        return record(result, from: [lhs, rhs]) { g, needed in
            [needed[0] ? (g / b).summed(toShape: a.shape) : nil,
             needed[1] ? (-(g * a) / (b * b)).summed(toShape: b.shape) : nil]
        }
    }

    /// Elementwise negation; the gradient is the negated incoming gradient.
    public static prefix func - (x: Tensor) -> Tensor {
        let result = Tensor(shape: x.shape, scalars: Scalar.map(.negate, x.scalars))
        return record(result, from: [x]) { g, _ in [-g] }
    }

    /// Adds `rhs` to every element (differentiable in `lhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs + Tensor(rhs) }
    /// Adds `lhs` to every element (differentiable in `rhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
    /// Subtracts `rhs` from every element (differentiable in `lhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs - Tensor(rhs) }
    /// `lhs` minus each element, as in `1 - σ(z)` (differentiable in `rhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
    /// Multiplies every element by `rhs`, as in the update `α·∂J/∂W` (differentiable in `lhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs * Tensor(rhs) }
    /// Multiplies every element by `lhs` (differentiable in `rhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
    /// Divides every element by `rhs`, as in the mean `J = (1/m) Σᵢ 𝓛⁽ⁱ⁾` (differentiable in `lhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs / Tensor(rhs) }
    /// `lhs` divided by each element (differentiable in `rhs`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }

    /// `lhs = lhs + rhs`, recorded like the binary `+`: a new value, not an in-place update.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    /// `lhs = lhs - rhs`, recorded like the binary operator: a new value, not an in-place update.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    /// `lhs = lhs * rhs` (elementwise), recorded like the binary operator.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
    /// `lhs = lhs / rhs` (elementwise), recorded like the binary operator.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }

    /// Elementwise maximum (the gradient goes to the larger input; to the first on ties).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let result = elementwise(.maximum, a, b, name: "maximum")
        let takesFirst = elementwise(.greaterOrEqual, a, b, name: "maximum")
        let (shapeA, shapeB) = (a.shape, b.shape)
        return record(result, from: [a, b]) { g, _ in
            [(g * takesFirst).summed(toShape: shapeA), (g * (1 - takesFirst)).summed(toShape: shapeB)]
        }
    }

    // MARK: Comparisons (1 where true, 0 where false; not differentiable)

    /// 1 where the elements are equal and 0 elsewhere, with broadcasting; not differentiable
    /// (accuracy counts use it).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func isEqual(to other: Tensor) -> Tensor { Tensor.elementwise(.equal, self, other, name: "==") }
    /// 1 where this tensor's element is greater, 0 elsewhere, with broadcasting; not differentiable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func isGreater(than other: Tensor) -> Tensor { Tensor.elementwise(.greater, self, other, name: ">") }
    /// 1 where this tensor's element is smaller, 0 elsewhere, with broadcasting; not differentiable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func isLess(than other: Tensor) -> Tensor { Tensor.elementwise(.less, self, other, name: "<") }
    /// 1 where this tensor's element is greater or equal, 0 elsewhere, with broadcasting; not differentiable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func isGreaterOrEqual(to other: Tensor) -> Tensor {
        Tensor.elementwise(.greaterOrEqual, self, other, name: ">=")
    }
    /// 1 where this tensor's element is smaller or equal, 0 elsewhere, with broadcasting; not differentiable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func isLessOrEqual(to other: Tensor) -> Tensor {
        Tensor.elementwise(.lessOrEqual, self, other, name: "<=")
    }
}
