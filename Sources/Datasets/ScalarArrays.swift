import Tensors

/// Bulk conversions between `[S]` and concrete arrays. `TensorScalar` is `Float` or
/// `Double`; each path below is a loop over a concrete type (per-element generic code
/// outside Kernels is not specialised and runs many times slower).
enum ScalarArrays {
    /// `[S]` from whichever of the two concrete arrays matches `S`.
    static func make<S: TensorScalar>(
        _: S.Type, floats: () -> [Float], doubles: () -> [Double]
    ) -> [S] {
        if S.self == Float.self { return unsafeBitCast(floats(), to: [S].self) }
        if S.self == Double.self { return unsafeBitCast(doubles(), to: [S].self) }
        return doubles().map { S($0) }
    }

    /// Applies a Float or Double transformation to `[S]`.
    static func transform<S: TensorScalar>(
        _ values: [S], float: ([Float]) -> [Float], double: ([Double]) -> [Double]
    ) -> [S] {
        if S.self == Float.self { return unsafeBitCast(float(unsafeBitCast(values, to: [Float].self)), to: [S].self) }
        if S.self == Double.self { return unsafeBitCast(double(unsafeBitCast(values, to: [Double].self)), to: [S].self) }
        return double(values.map { Double($0) }).map { S($0) }
    }
}
