import Kernels

extension Tensor {
    /// The same values with another shape of the same size; one dimension may be -1
    /// and is then inferred.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let hole = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != hole }.map { $0.element }.reduce(1, *)
            checkPrecondition(known > 0 && count % known == 0,
                         "reshape: cannot infer -1 in \(newShape) for \(count) values of shape \(shape)")
            target[hole] = count / known
        }
        checkPrecondition(target.reduce(1, *) == count && target.allSatisfy { $0 >= 0 },
                     "reshape: shape \(shape) (\(count) values) cannot become \(newShape)")
        let original = shape
        return Tensor.record(Tensor(shape: target, scalars: scalars), from: [self]) { g, _ in
            [g.reshaped(to: original)]
        }
    }

    /// `[batch, …]` flattened to `[batch, features]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func flattenedBatch() -> Tensor {
        checkPrecondition(rank >= 1, "flatten: needs a batch dimension, got shape \(shape)")
        return reshaped(to: [shape[0], shape.dropFirst().reduce(1, *)])
    }

    /// The transpose of a matrix (a copy). For products, prefer
    /// `Tensor.matmul(_:transposed:_:transposed:)`, which reads transposes in place.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func transposed() -> Tensor {
        checkPrecondition(rank == 2, "transpose: needs a matrix, got shape \(shape)")
        let values = Kernels.transpose(scalars, rows: shape[0], columns: shape[1])
        return Tensor.record(Tensor(shape: [shape[1], shape[0]], scalars: values), from: [self]) { g, _ in
            [g.transposed()]
        }
    }

    /// Rows (entries of the first dimension) `indices`, in that order: a mini-batch.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gatheringRows(_ indices: [Int]) -> Tensor {
        checkPrecondition(rank >= 1, "gather: needs at least one dimension, got a scalar")
        let rowLength = shape.dropFirst().reduce(1, *)
        for index in indices {
            checkPrecondition(index >= 0 && index < shape[0],
                         "gather: row \(index) outside 0..<\(shape[0]) of shape \(shape)")
        }
        let values = Kernels.gatherRows(scalars, rowLength: rowLength, indices: indices)
        var resultShape = shape
        resultShape[0] = indices.count
        let original = shape
        return Tensor.record(Tensor(shape: resultShape, scalars: values), from: [self]) { g, _ in
            [Tensor.scatterAddingRows(g, indices: indices, into: original)]
        }
    }

    /// Zeros of `shape` with the rows of `rows` added at `indices` (repeats add up).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func scatterAddingRows(_ rows: Tensor, indices: [Int], into shape: [Int]) -> Tensor {
        let rowLength = shape.dropFirst().reduce(1, *)
        var result = Scalar.filled(0, count: shape.reduce(1, *))
        for (r, index) in indices.enumerated() {
            for j in 0..<rowLength { result[index * rowLength + j] += rows.scalars[r * rowLength + j] }
        }
        return Tensor(shape: shape, scalars: result)
    }

    /// Tensors joined along `axis`; all other dimensions must agree.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func concatenate(_ parts: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        checkPrecondition(!parts.isEmpty, "concatenate: no tensors")
        let first = parts[0]
        let axis = first.normalized(axis: axis)
        checkPrecondition(axis >= 0 && axis < first.rank, "concatenate: axis \(axis) out of range for \(first.shape)")
        for part in parts {
            var a = part.shape, b = first.shape
            checkPrecondition(a.count == b.count, "concatenate: shapes \(b) and \(a) differ in rank")
            a[axis] = 0; b[axis] = 0
            checkPrecondition(a == b, "concatenate: shapes \(first.shape) and \(part.shape) differ off axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *)
        let inner = first.shape[(axis + 1)...].reduce(1, *)
        let middles = parts.map { $0.shape[axis] }
        var shape = first.shape
        shape[axis] = middles.reduce(0, +)
        let values = Kernels.concatenate(parts.map { $0.scalars }, outer: outer, middles: middles, inner: inner)
        return record(Tensor(shape: shape, scalars: values), from: parts) { g, needed in
            var start = 0
            return zip(middles, needed).map { middle, isNeeded in
                defer { start += middle }
                return isNeeded ? g.slice(alongAxis: axis, start..<(start + middle)) : nil
            }
        }
    }

    /// The entries `range` along `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = normalized(axis: axis)
        let (outer, n, inner) = split(around: axis, operation: "slice")
        checkPrecondition(range.lowerBound >= 0 && range.upperBound <= n,
                     "slice: range \(range) outside 0..<\(n) along axis \(axis) of \(shape)")
        let rows = (0..<outer).flatMap { o in range.map { o * n + $0 } }
        let values = Kernels.gatherRows(scalars, rowLength: inner, indices: rows)
        var resultShape = shape
        resultShape[axis] = range.count
        let original = shape
        return Tensor.record(Tensor(shape: resultShape, scalars: values), from: [self]) { g, _ in
            [Tensor.scatterAddingRows(g.reshaped(to: [rows.count, inner]), indices: rows,
                                      into: [outer * n, inner]).reshaped(to: original)]
        }
    }
}
