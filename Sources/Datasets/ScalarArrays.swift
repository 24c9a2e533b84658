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

extension ScalarArrays {
    /// Unsigned bytes as pixel values in [0, 1]: each byte divided by 255, as NumPy's
    /// `x / 255` and torchvision's `ToTensor` compute them (multiplying by a rounded 1/255
    /// is an ulp off for half the bytes), so that the same images read alike from an IDX
    /// file, a uint8 `.npy` file or a float32 one saved as `x / 255`.
    static func pixels<S: TensorScalar>(_ bytes: some Collection<UInt8>, as _: S.Type = S.self) -> [S] {
        // Concrete loops: generic per-element code here is not specialised (it took 1.5 s
        // of CPU for Fashion-MNIST's 55 million pixels).
        func divided(_ bytes: UnsafeBufferPointer<UInt8>) -> [S] {
            make(S.self, floats: { bytes.map { Float($0) / 255 } }, doubles: { bytes.map { Double($0) / 255 } })
        }
        return bytes.withContiguousStorageIfAvailable(divided) ?? Array(bytes).withUnsafeBufferPointer(divided)
    }
}
