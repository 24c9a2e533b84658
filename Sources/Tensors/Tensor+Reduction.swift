import Kernels

extension Tensor {
    /// `[outer, count, inner]`: the shape around `axis`, for the axis kernels.
    func split(around axis: Int, operation: String) -> (outer: Int, count: Int, inner: Int) {
        checkPrecondition(axis >= 0 && axis < rank, "\(operation): axis \(axis) out of range for shape \(shape)")
        return (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Negative axes count from the end, as in PyTorch.
    func normalized(axis: Int) -> Int { axis < 0 ? axis + rank : axis }

    /// The sum of all elements, as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum() -> Tensor {
        let total = Scalar.reduce(.sum, scalars, outer: 1, count: count, inner: 1)
        let original = shape
        return Tensor.record(Tensor(shape: [], scalars: total), from: [self]) { g, _ in
            [Tensor(repeating: g.scalar, shape: original)]
        }
    }

    /// The mean of all elements, as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean() -> Tensor {
        sum() / Scalar(Swift.max(count, 1))
    }

    /// Sums along `axis`; the axis is kept with size 1 when `keepingDimension` is true.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let axis = normalized(axis: axis)
        let (outer, n, inner) = split(around: axis, operation: "sum")
        var kept = shape
        kept[axis] = 1
        let values = Scalar.reduce(.sum, scalars, outer: outer, count: n, inner: inner)
        var resultShape = kept
        if !keepingDimension { resultShape.remove(at: axis) }
        let original = shape
        return Tensor.record(Tensor(shape: resultShape, scalars: values), from: [self]) { g, _ in
            [g.reshaped(to: kept).broadcast(to: original)]
        }
    }

    /// The mean along `axis` (negative counts from the end), dropping that dimension unless
    /// `keepingDimension`; the gradient spreads g/n back over the axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let n = split(around: normalized(axis: axis), operation: "mean").count
        return sum(alongAxis: axis, keepingDimension: keepingDimension) / Scalar(Swift.max(n, 1))
    }

    /// The largest value along `axis` (not differentiable).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(alongAxis axis: Int, keepingDimension: Bool = false) -> Tensor {
        let axis = normalized(axis: axis)
        let (outer, n, inner) = split(around: axis, operation: "max")
        var resultShape = shape
        if keepingDimension { resultShape[axis] = 1 } else { resultShape.remove(at: axis) }
        return Tensor(shape: resultShape,
                      scalars: Scalar.reduce(.maximum, scalars, outer: outer, count: n, inner: inner))
    }

    /// Index of the largest value along `axis` (the first on ties); for a batch of
    /// scores `[m, k]`, `argmax(alongAxis: 1)` is the predicted class of each example.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func argmax(alongAxis axis: Int = -1) -> [Int] {
        let axis = normalized(axis: axis)
        let (outer, n, inner) = split(around: axis, operation: "argmax")
        return Scalar.argmax(scalars, outer: outer, count: n, inner: inner)
    }
}
