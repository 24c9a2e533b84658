import Kernels

/// Pooling over the planes of NCHW images `[batch, channels, height, width]`: each window
/// of a plane is summarised by one value; channels and examples stay apart.
extension Tensor {
    /// The largest value under each `kernelSize` window, moved by `stride`: `[batch,
    /// channels, (height − kh)/sh + 1, (width − kw)/sw + 1]` (no padding; a remainder
    /// that no window covers is dropped, as in PyTorch).
    ///
    /// Backward: each output's gradient goes, whole, to the element that was its
    /// window's maximum. On ties the first maximum in row-major window order (top row
    /// first, then leftmost) takes it, so results do not depend on threads; a window
    /// holding NaN yields NaN.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func maxPooled2D(
        kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)
    ) -> Tensor {
        let geometry = poolingGeometry("maxPool2D", kernelSize, stride)
        let (values, indices) = Scalar.maxPool(scalars, geometry)
        let result = Tensor(shape: pooledShape(geometry), scalars: values)
        let original = shape
        return Tensor.record(result, from: [self]) { g, _ in
            [Tensor(shape: original, scalars: Scalar.maxPoolBackward(g.scalars, indices: indices, geometry))]
        }
    }

    /// The mean of each `kernelSize` window, moved by `stride` (no padding).
    /// Backward: each output's gradient is shared equally by the kh·kw elements of its window.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func averagePooled2D(
        kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)
    ) -> Tensor {
        let geometry = poolingGeometry("avgPool2D", kernelSize, stride)
        let result = Tensor(shape: pooledShape(geometry), scalars: Scalar.averagePool(scalars, geometry))
        let original = shape
        return Tensor.record(result, from: [self]) { g, _ in
            [Tensor(shape: original, scalars: Scalar.averagePoolBackward(g.scalars, geometry))]
        }
    }

    /// The mean of each plane: `[batch, channels, height, width]` → `[batch, channels]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func globalAveragePooled2D() -> Tensor {
        checkPrecondition(rank == 4, "globalAveragePool2D: input must be [batch, channels, height, width], got \(shape)")
        return reshaped(to: [shape[0], shape[1], shape[2] * shape[3]]).mean(alongAxis: 2)
    }

    private func poolingGeometry(
        _ operation: String, _ kernel: (height: Int, width: Int), _ stride: (height: Int, width: Int)
    ) -> WindowGeometry {
        checkPrecondition(rank == 4, "\(operation): input must be [batch, channels, height, width], got \(shape)")
        let geometry = WindowGeometry(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3],
                                      kernel: kernel, stride: stride)
        if let problem = geometry.problem { fatalError("\(operation): \(problem); input \(shape)") }
        return geometry
    }

    private func pooledShape(_ geometry: WindowGeometry) -> [Int] {
        [geometry.batch, geometry.channels, geometry.outputHeight, geometry.outputWidth]
    }
}
