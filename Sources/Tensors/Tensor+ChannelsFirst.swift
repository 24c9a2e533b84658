import Kernels
@_exported import enum Kernels.ImageLayout

/// Convolution for written-out backpropagation: results in buffers kept from step to step,
/// nothing recorded, and images between layers in the channels-first layout
/// `[channels, batch, height, width]` (``ImageLayout/channelsFirst``), which is how the
/// GEMM of a convolution produces them and how the GEMMs of its backward pass read them.
/// Pooling and elementwise functions read planes or single values, so they work on
/// either layout unchanged; only the step to a flat `[batch, features]` matrix (and the
/// images a stack returns) needs ``assignSwappingLeadingAxes(of:shape:)``.
extension Tensor {
    /// The batch-first `[batch, channels, height, width]` shape of images held in `layout`.
    public static func imageShape(_ shape: [Int], in layout: ImageLayout) -> [Int] {
        layout == .channelsFirst && shape.count == 4 ? [shape[1], shape[0], shape[2], shape[3]] : shape
    }

    /// self = the convolution of `input` (NCHW, or CNHW when `layout` is
    /// ``ImageLayout/channelsFirst``) by `weight` `[out, channels, kh, kw]` plus `bias`, as
    /// ``convolution2D(_:weight:bias:stride:padding:dilation:)`` computes it, written
    /// channels-first: `[out, batch, outputHeight, outputWidth]`.
    ///
    /// The unfolded input (im2col's `[patchSize, batch·positions]` matrix) is kept in
    /// `columns` for ``assignConvolutionGradients(input:layout:weight:outputGradient:stride:padding:dilation:columns:weightGradient:biasGradient:inputGradient:)``
    /// when it has at most ``keptColumnLimit`` values; otherwise `columns` is emptied and
    /// the backward pass unfolds the input again.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assignConvolution(
        _ input: Tensor, layout: ImageLayout, weight: Tensor, bias: Tensor?,
        stride: (height: Int, width: Int), padding: (height: Int, width: Int), dilation: (height: Int, width: Int),
        columns: inout Tensor
    ) {
        let geometry = Self.convolutionGeometry(Self.imageShape(input.shape, in: layout), weight.shape, bias?.shape,
                                                stride, padding, dilation)
        let outputChannels = weight.shape[0]
        prepareForOverwrite([outputChannels, geometry.batch, geometry.outputHeight, geometry.outputWidth])
        let columnShape = [geometry.patchSize, geometry.batch * geometry.positions]
        if columnShape[0] * columnShape[1] <= Self.keptColumnLimit {
            columns.prepareForOverwrite(columnShape)
        } else {
            columns = Tensor(shape: [0], scalars: [])
        }
        var kept = columns.takeScalars()
        Scalar.convolutionChannelsFirst(input.scalars, layout: layout, weight: weight.scalars, bias: bias?.scalars,
                                        geometry, outputChannels: outputChannels, into: &scalars, columns: &kept)
        columns.scalars = kept
    }

    /// The most values of unfolded input a convolution keeps for its backward pass:
    /// 2²³ (32 MB in Float; W3's second convolution at batch 64 needs 3.6 M).
    public static var keptColumnLimit: Int { 1 << 23 }

    /// The gradients of ``assignConvolution(_:layout:weight:bias:stride:padding:dilation:columns:)``
    /// from `outputGradient` (channels-first, as its result) and the `columns` that call
    /// kept (when it kept none, the input is unfolded again): ∂L/∂W into `weightGradient`,
    /// ∂L/∂b into `biasGradient` when it is not nil, ∂L/∂X (in `layout`) into
    /// `inputGradient` when it is not nil. The buffers are reused when they hold the
    /// right number of values.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func assignConvolutionGradients(
        input: Tensor, layout: ImageLayout, weight: Tensor, outputGradient: Tensor,
        stride: (height: Int, width: Int), padding: (height: Int, width: Int), dilation: (height: Int, width: Int),
        columns: Tensor, weightGradient: inout Tensor, biasGradient: inout Tensor?, inputGradient: inout Tensor?
    ) {
        let geometry = convolutionGeometry(imageShape(input.shape, in: layout), weight.shape, nil, stride, padding, dilation)
        let outputChannels = weight.shape[0]
        let expected = [outputChannels, geometry.batch, geometry.outputHeight, geometry.outputWidth]
        checkPrecondition(outputGradient.shape == expected,
                          "conv2D backward: gradient \(outputGradient.shape) for an output of shape \(expected)")
        weightGradient.prepareForOverwrite(weight.shape)
        biasGradient?.prepareForOverwrite([outputChannels])
        inputGradient?.prepareForOverwrite(input.shape)
        // The arrays are moved out of the tensors while the kernel writes them, so that
        // writing does not copy them.
        var dw: [Scalar]? = weightGradient.takeScalars()
        var db = biasGradient?.takeScalars()
        var dx = inputGradient?.takeScalars()
        Scalar.convolutionChannelsFirstBackward(
            input.scalars, layout: layout, weight: weight.scalars, gradient: outputGradient.scalars, geometry,
            outputChannels: outputChannels, columns: columns.shape == [geometry.patchSize, geometry.batch * geometry.positions] ? columns.scalars : [],
            weightGradient: &dw, biasGradient: &db, inputGradient: &dx)
        weightGradient.scalars = dw!
        if let db { biasGradient!.scalars = db }
        if let dx { inputGradient!.scalars = dx }
    }

    /// self = `x` `[a, b, …]` with its first two axes swapped, `[b, a, …]`, given the shape
    /// `shape` (of as many values): between channels-first and batch-first images, and from
    /// channels-first images to the `[batch, features]` matrix of a flattening.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func assignSwappingLeadingAxes(of x: Tensor, shape: [Int]) {
        checkPrecondition(x.rank >= 2 && shape.reduce(1, *) == x.count,
                          "swapping axes: \(x.shape) cannot become \(shape)")
        prepareForOverwrite(shape)
        Kernels.swapLeadingAxes(x.scalars, x.shape[0], x.shape[1], inner: x.shape.dropFirst(2).reduce(1, *),
                                into: &scalars)
    }

    /// This tensor's values, leaving it empty (its shape unchanged): for writing them in
    /// place without a copy, then handing them back.
    private mutating func takeScalars() -> [Scalar] {
        var taken: [Scalar] = []
        swap(&taken, &scalars)
        return taken
    }
}
