import Kernels

extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch's `conv2d`) of a batch of images.
    /// `input` is `[batch, inChannels, height, width]`, `weight` `[outChannels, inChannels,
    /// kernelHeight, kernelWidth]`, `bias` `[outChannels]`; the result is `[batch,
    /// outChannels, outputHeight, outputWidth]` (see `WindowGeometry` for the sizes):
    /// Y[n, o, y, x] = b[o] + Σ_{c, i, j} W[o, c, i, j] · X[n, c, y·s + i·d − p, x·s + j·d − p],
    /// with zeros outside the image. Every window position shares the same W and b.
    ///
    /// Lowered to GEMM: the input is unfolded (im2col) into a `[patchSize, images·positions]`
    /// matrix C, and `W[out, patchSize] · C` holds every output, one GEMM per chunk of
    /// images small enough for C to stay in cache. Costs 2·batch·positions·outChannels·patchSize
    /// flops forward, twice that backward.
    ///
    /// Backward, with G = ∂L/∂Y laid out as `[out, images·positions]` and C recomputed:
    /// ∂L/∂W = Σ G·Cᵀ (GEMM), ∂L/∂b = the row sums of G, and ∂L/∂X = col2im(Wᵀ·G), the
    /// adjoint of the unfolding (overlapping windows add up).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func convolution2D(
        _ input: Tensor, weight: Tensor, bias: Tensor?,
        stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0),
        dilation: (height: Int, width: Int) = (1, 1)
    ) -> Tensor {
        let geometry = convolutionGeometry(input.shape, weight.shape, bias?.shape, stride, padding, dilation)
        let outputChannels = weight.shape[0]
        let values = Scalar.convolution(input.scalars, weight: weight.scalars, bias: bias?.scalars, geometry,
                                        outputChannels: outputChannels)
        let result = Tensor(shape: [geometry.batch, outputChannels, geometry.outputHeight, geometry.outputWidth],
                            scalars: values)
        let (x, w) = (input.detached(), weight.detached())
        let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
        return record(result, from: inputs) { g, needed in
            let gradients = Scalar.convolutionBackward(
                x.scalars, weight: w.scalars, gradient: g.scalars, geometry, outputChannels: outputChannels,
                needs: (needed[0], needed[1], needed.count > 2 && needed[2]))
            return [gradients.input.map { Tensor(shape: x.shape, scalars: $0) },
                    gradients.weight.map { Tensor(shape: w.shape, scalars: $0) },
                    gradients.bias.map { Tensor(shape: [outputChannels], scalars: $0) }]
        }
    }

    /// The window of a convolution, after checking that input, weight and bias fit
    /// together; stops with a message naming all the shapes otherwise.
    static func convolutionGeometry(
        _ input: [Int], _ weight: [Int], _ bias: [Int]?, _ stride: (height: Int, width: Int),
        _ padding: (height: Int, width: Int), _ dilation: (height: Int, width: Int)
    ) -> WindowGeometry {
        let shapes = "input \(input), weight \(weight)"
        checkPrecondition(input.count == 4, "conv2D: input must be [batch, channels, height, width]; \(shapes)")
        checkPrecondition(weight.count == 4,
                     "conv2D: weight must be [outChannels, inChannels, kernelHeight, kernelWidth]; \(shapes)")
        checkPrecondition(input[1] == weight[1],
                     "conv2D: input has \(input[1]) channels, weight expects \(weight[1]); \(shapes)")
        if let bias {
            checkPrecondition(bias == [weight[0]], "conv2D: bias \(bias) does not match weight \(weight)")
        }
        let geometry = WindowGeometry(
            batch: input[0], channels: input[1], height: input[2], width: input[3],
            kernel: (weight[2], weight[3]), stride: stride, padding: padding, dilation: dilation)
        if let problem = geometry.problem { fatalError("conv2D: \(problem); \(shapes)") }
        return geometry
    }
}
