import Kernels

/// The element types a tensor holds: `Float` (training and inference) and `Double`
/// (gradient checking, scientific use).
public protocol TensorScalar: KernelScalar {}
extension Float: TensorScalar {}
extension Double: TensorScalar {}

/// An n-dimensional array of `Float` or `Double`, row-major, with value semantics
/// (copy-on-write storage) and optional reverse-mode differentiation.
///
/// Batches are the first dimension: `m` examples of `n` features form an `[m, n]` tensor;
/// images are `[batch, channels, height, width]`.
///
/// A tensor made with ``requiringGradient()`` is a leaf: every operation on it records
/// how to push a gradient back, and ``backward()`` on a scalar result fills the leaf's
/// ``gradient``.
public struct Tensor<Scalar: TensorScalar> {
    /// The size of each dimension; `[]` for a scalar.
    public internal(set) var shape: [Int]
    /// The elements in row-major order.
    public internal(set) var scalars: [Scalar]
    /// Where this value sits in the graph of recorded operations; nil when no gradient
    /// flows through it.
    var node: GradientNode<Scalar>?

    /// A tensor of the given shape holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Scalar]) {
        checkPrecondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        let count = shape.reduce(1, *)
        checkPrecondition(
            scalars.count == count,
            "Tensor: \(scalars.count) values do not fill shape \(shape), which holds \(count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A rank-0 tensor.
    public init(_ value: Scalar) {
        self.init(shape: [], scalars: [value])
    }

    /// A rank-1 tensor of the values.
    public init(_ values: [Scalar]) {
        self.init(shape: [values.count], scalars: values)
    }

    /// A rank-2 tensor from its rows, which must all have the same length.
    public init(_ rows: [[Scalar]]) {
        let width = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() {
            checkPrecondition(row.count == width,
                         "Tensor: row \(i) has \(row.count) values, row 0 has \(width)")
        }
        self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(repeating value: Scalar, shape: [Int]) {
        self.init(shape: shape, scalars: Scalar.filled(value, count: shape.reduce(1, *)))
    }

    /// A tensor of the given shape filled with 0 (the notes' `0^{n×m}`).
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    /// A tensor of the given shape filled with 1.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// The number of dimensions: 0 for a scalar, 1 for a vector, 2 for a matrix, 4 for a batch of images.
    public var rank: Int { shape.count }
    /// The number of elements, the product of ``shape``.
    public var count: Int { scalars.count }

    /// The elements as `Double`, in row-major order: a loop over the concrete type, where
    /// `scalars.map(Double.init)` outside this module runs unspecialised generic code,
    /// many times slower.
    public var doubleScalars: [Double] {
        if Scalar.self == Double.self { return unsafeBitCast(scalars, to: [Double].self) }
        if Scalar.self == Float.self { return unsafeBitCast(scalars, to: [Float].self).map { Double($0) } }
        return scalars.map { Double($0) }
    }

    /// The single value of a one-element tensor.
    public var scalar: Scalar {
        checkPrecondition(scalars.count == 1, "scalar: tensor of shape \(shape) has \(scalars.count) values")
        return scalars[0]
    }

    /// The element at a full multi-index.
    public subscript(_ index: Int...) -> Scalar {
        scalars[flatIndex(index)]
    }

    func flatIndex(_ index: [Int]) -> Int {
        checkPrecondition(index.count == rank, "index \(index) has rank \(index.count), tensor \(shape)")
        var flat = 0
        for (d, i) in index.enumerated() {
            checkPrecondition(i >= 0 && i < shape[d], "index \(index) out of range for shape \(shape)")
            flat = flat * shape[d] + i
        }
        return flat
    }

    /// The same values with no gradient history: what flows through it is not tracked.
    public func detached() -> Tensor {
        Tensor(shape: shape, scalars: scalars)
    }

    /// Converts the elements to another precision.
    public func converted<T: TensorScalar>(to _: T.Type = T.self) -> Tensor<T> {
        Tensor<T>(shape: shape, scalars: scalars.map { T($0) })
    }

    /// Replaces the values in place, keeping the shape and this tensor's identity as a
    /// leaf (its gradient). Optimisers use it; it must not be called on the result of a
    /// recorded operation.
    public mutating func assign(_ newScalars: [Scalar]) {
        checkPrecondition(newScalars.count == scalars.count,
                     "assign: \(newScalars.count) values for shape \(shape)")
        checkPrecondition(node?.isLeaf ?? true, "assign: only leaves and untracked tensors can be assigned")
        scalars = newScalars
    }

    /// Mutates the values in place (see ``assign(_:)``), without a copy when this tensor
    /// holds the only reference to its storage.
    public mutating func updateScalars(_ body: (inout [Scalar]) -> Void) {
        checkPrecondition(node?.isLeaf ?? true, "update: only leaves and untracked tensors can be updated")
        let count = scalars.count
        body(&scalars)
        checkPrecondition(scalars.count == count, "update: the number of values changed")
    }
}

extension Tensor: Equatable {
    /// Same shape and same values; gradient history is ignored.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

extension Tensor: CustomStringConvertible {
    /// The element type, the shape and the first eight values, e.g. `Tensor<Float>[2, 3][1.0, 2.0, …]`.
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        let more = scalars.count > 8 ? ", …" : ""
        return "Tensor<\(Scalar.self)>\(shape)[\(shown)\(more)]"
    }
}

/// Row-major strides of a shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for d in shape.indices.reversed() {
        strides[d] = running
        running *= shape[d]
    }
    return strides
}
