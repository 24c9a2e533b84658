import Kernels

/// Pooling over the planes of NCHW images `[batch, channels, height, width]`: each window
/// of a plane is summarised by one value; channels and examples stay apart.
///
/// The windows are PyTorch's `max_pool2d`/`avg_pool2d`: `kernelSize` moved by `stride`
/// over the input with `padding` on each side (at most half the kernel, so that every
/// window reads the input), ``pooledLength(_:kernel:stride:padding:ceilMode:)`` positions
/// along each axis. In `ceilMode` a last, partial window covers a remainder the floor
/// would drop, if it starts inside the input or its left padding.
extension Tensor {
    /// The largest value under each window: `[batch, channels, outputHeight,
    /// outputWidth]`. Padding counts as −∞: it is never the maximum.
    ///
    /// Backward: each output's gradient goes, whole, to the element that was its
    /// window's maximum. On ties the first maximum in row-major window order (top row
    /// first, then leftmost) takes it, so results do not depend on threads; a window
    /// holding NaN yields NaN.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func maxPooled2D(
        kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int),
        padding: (height: Int, width: Int) = (0, 0), ceilMode: Bool = false
    ) -> Tensor {
        let (result, pullback) = maxPooled2DWithPullback(kernelSize: kernelSize, stride: stride, padding: padding,
                                                         ceilMode: ceilMode)
        return Tensor.record(result, from: [self]) { g, _ in [pullback(g)] }
    }

    /// ``maxPooled2D(kernelSize:stride:padding:ceilMode:)`` without recording, and its
    /// backward pass as a function of the output's gradient (which keeps the positions of
    /// the maxima), for written-out backpropagation. Pooling reads planes only, so this
    /// serves channels-first `[channels, batch, height, width]` images as well.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func maxPooled2DWithPullback(
        kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int),
        padding: (height: Int, width: Int) = (0, 0), ceilMode: Bool = false
    ) -> (output: Tensor, pullback: (Tensor) -> Tensor) {
        let geometry = poolingGeometry("maxPool2D", kernelSize, stride, padding, ceilMode)
        let (values, indices) = Scalar.maxPool(scalars, geometry)
        let original = shape
        return (Tensor(shape: pooledShape(geometry), scalars: values), { g in
            Tensor(shape: original, scalars: Scalar.maxPoolBackward(g.scalars, indices: indices, geometry))
        })
    }

    /// The mean of each window: its sum (padding adds zeros) divided by the number of
    /// its positions inside the padded input when `countIncludePad` (PyTorch's default),
    /// else inside the input. A ceil-mode window's part past the padding is never counted.
    /// Backward: each output's gradient, divided the same way, goes to every input
    /// element under its window.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func averagePooled2D(
        kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int),
        padding: (height: Int, width: Int) = (0, 0), ceilMode: Bool = false, countIncludePad: Bool = true
    ) -> Tensor {
        let (result, pullback) = averagePooled2DWithPullback(
            kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
        return Tensor.record(result, from: [self]) { g, _ in [pullback(g)] }
    }

    /// ``averagePooled2D(kernelSize:stride:padding:ceilMode:countIncludePad:)`` without
    /// recording, and its backward pass as a function of the output's gradient (see
    /// ``maxPooled2DWithPullback(kernelSize:stride:padding:ceilMode:)``).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func averagePooled2DWithPullback(
        kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int),
        padding: (height: Int, width: Int) = (0, 0), ceilMode: Bool = false, countIncludePad: Bool = true
    ) -> (output: Tensor, pullback: (Tensor) -> Tensor) {
        let geometry = poolingGeometry("avgPool2D", kernelSize, stride, padding, ceilMode)
        let result = Tensor(shape: pooledShape(geometry),
                            scalars: Scalar.averagePool(scalars, geometry, countingPadding: countIncludePad))
        let original = shape
        return (result, { g in
            Tensor(shape: original, scalars: Scalar.averagePoolBackward(g.scalars, geometry, countingPadding: countIncludePad))
        })
    }

    /// The mean of each plane: `[batch, channels, height, width]` → `[batch, channels]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func globalAveragePooled2D() -> Tensor {
        checkPrecondition(rank == 4, "globalAveragePool2D: input must be [batch, channels, height, width], got \(shape)")
        return reshaped(to: [shape[0], shape[1], shape[2] * shape[3]]).mean(alongAxis: 2)
    }

    /// Window positions along an axis of `length` values, as PyTorch counts them:
    /// ⌊(length + 2·padding − kernel) / stride⌋ + 1, or in ceil mode the same rounded up,
    /// less one if that last window would start at or after `length + padding`. Below 1
    /// when no window fits.
    public static func pooledLength(_ length: Int, kernel: Int, stride: Int, padding: Int, ceilMode: Bool) -> Int {
        WindowGeometry.pooledLength(length, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    }

    private func poolingGeometry(
        _ operation: String, _ kernel: (height: Int, width: Int), _ stride: (height: Int, width: Int),
        _ padding: (height: Int, width: Int), _ ceilMode: Bool
    ) -> WindowGeometry {
        checkPrecondition(rank == 4, "\(operation): input must be [batch, channels, height, width], got \(shape)")
        checkPrecondition(padding.height <= kernel.height / 2 && padding.width <= kernel.width / 2,
                          "\(operation): padding \(padding.height)×\(padding.width) is more than half the window \(kernel.height)×\(kernel.width)")
        let geometry = WindowGeometry(batch: shape[0], channels: shape[1], height: shape[2], width: shape[3],
                                      kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
        if let problem = geometry.problem { fatalError("\(operation): \(problem); input \(shape)") }
        return geometry
    }

    private func pooledShape(_ geometry: WindowGeometry) -> [Int] {
        [geometry.batch, geometry.channels, geometry.outputHeight, geometry.outputWidth]
    }
}
