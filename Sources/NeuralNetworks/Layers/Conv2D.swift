import Tensors

/// A 2-D convolutional layer over NCHW images (notes, section 3.3: one small weight
/// tensor shared by every window position, eq. 3.39's sliding window): input `[batch,
/// inputChannels, height, width]`, output `[batch, outputChannels, outputHeight,
/// outputWidth]` with `outputHeight = ⌊(height + 2·padding − dilation·(kernelHeight − 1) − 1)
/// / stride⌋ + 1` (likewise across).
///
/// `weight` is `[outputChannels, inputChannels, kernelHeight, kernelWidth]` and `bias`
/// `[outputChannels]`, as PyTorch's `Conv2d`, so weights move between the two unchanged.
/// Computed as one GEMM over the batch (`Tensor.convolution2D`).
public final class Conv2D<Scalar: TensorScalar>: Layer {
    /// The kernels, `[outputChannels, inputChannels, kernelHeight, kernelWidth]`: the notes' θ
    /// of eq. 3.39, one per output channel, shared by every window position.
    public var weight: Tensor<Scalar>
    /// One bias per output channel, `[outputChannels]`; nil without bias.
    public var bias: Tensor<Scalar>?
    /// The channels of the input images (3 for RGB).
    public let inputChannels: Int
    /// The number of kernels, and so of output channels.
    public let outputChannels: Int
    /// The window's size (the notes' 4×4 θ).
    public let kernelSize: (height: Int, width: Int)
    /// How far the window moves between outputs.
    public let stride: (height: Int, width: Int)
    /// Zeros added on each side of the input.
    public let padding: (height: Int, width: Int)
    /// The spacing between the window's taps (1: adjacent pixels).
    public let dilation: (height: Int, width: Int)
    /// How ``weight`` is drawn, with fan-in inputChannels·kernelHeight·kernelWidth.
    /// Changing it takes effect at the next ``resetParameters(using:)``.
    public var weightInitializer: Initializer
    /// How ``bias`` is drawn.
    public let biasInitializer: Initializer

    /// A convolution with a `kernelSize.height × kernelSize.width` window; parameters are
    /// drawn with fan-in = inputChannels·kernelHeight·kernelWidth from a generator seeded
    /// with `seed` (a ``Sequential`` redraws them from its own generator).
    public init(
        inputChannels: Int, outputChannels: Int, kernelSize: (height: Int, width: Int),
        stride: (height: Int, width: Int) = (1, 1), padding: (height: Int, width: Int) = (0, 0),
        dilation: (height: Int, width: Int) = (1, 1), useBias: Bool = true,
        weightInitializer: Initializer = .heUniform, biasInitializer: Initializer = .zeros,
        seed: UInt64 = 0
    ) {
        let name = "Conv2D(\(inputChannels) → \(outputChannels))"
        checkPrecondition(inputChannels > 0 && outputChannels > 0, "\(name): channel counts must be positive")
        checkPrecondition(kernelSize.height > 0 && kernelSize.width > 0,
                     "\(name): kernel \(kernelSize.height)×\(kernelSize.width) must be positive")
        checkPrecondition(stride.height > 0 && stride.width > 0, "\(name): stride must be positive")
        checkPrecondition(padding.height >= 0 && padding.width >= 0, "\(name): padding must not be negative")
        checkPrecondition(dilation.height > 0 && dilation.width > 0, "\(name): dilation must be positive")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.weightInitializer = weightInitializer
        self.biasInitializer = biasInitializer
        weight = .zeros([outputChannels, inputChannels, kernelSize.height, kernelSize.width])
        bias = useBias ? .zeros([outputChannels]) : nil
        var generator = RandomSource(seed: seed)
        resetParameters(using: &generator)
    }

    /// A convolution with a square `kernelSize × kernelSize` window and the same stride,
    /// padding and dilation along both axes.
    public convenience init(
        inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
        dilation: Int = 1, useBias: Bool = true, weightInitializer: Initializer = .heUniform,
        biasInitializer: Initializer = .zeros, seed: UInt64 = 0
    ) {
        self.init(inputChannels: inputChannels, outputChannels: outputChannels,
                  kernelSize: (kernelSize, kernelSize), stride: (stride, stride), padding: (padding, padding),
                  dilation: (dilation, dilation), useBias: useBias, weightInitializer: weightInitializer,
                  biasInitializer: biasInitializer, seed: seed)
    }

    /// The convolution of a batch `[batch, inputChannels, height, width]`: each output is
    /// eq. 3.39's Σᵢⱼ θᵢⱼ xᵢⱼ over a window (and all input channels) plus the bias.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        _ = requireShape { () throws(ShapeError) in
            try outputShape(forInput: Array(input.shape.dropFirst()), fullShape: input.shape)
        }
        return Tensor.convolution2D(input, weight: weight, bias: bias, stride: stride, padding: padding,
                                    dilation: dilation)
    }

    /// `Conv2D(1 → 16, 3×3, padding 1)`: the channels, the kernel and the settings that are not
    /// their defaults.
    public var summaryName: String { Self.summaryName(geometry) }

    /// The channels, kernel, stride, padding and dilation.
    var geometry: Geometry {
        Geometry(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: kernelSize,
                 stride: stride, padding: padding, dilation: dilation)
    }

    /// What a convolution's shapes and name depend on, without its tensors.
    struct Geometry {
        var inputChannels: Int, outputChannels: Int
        var kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)
        var padding: (height: Int, width: Int), dilation: (height: Int, width: Int)
    }

    static func summaryName(_ g: Geometry) -> String {
        var parts = ["\(g.inputChannels) → \(g.outputChannels)", "\(g.kernelSize.height)×\(g.kernelSize.width)"]
        if g.stride != (1, 1) { parts.append("stride \(pairText(g.stride))") }
        if g.padding != (0, 0) { parts.append("padding \(pairText(g.padding))") }
        if g.dilation != (1, 1) { parts.append("dilation \(pairText(g.dilation))") }
        return "Conv2D(\(parts.joined(separator: ", ")))"
    }

    /// `[outputChannels, outputHeight, outputWidth]` for `[inputChannels, height, width]`, with
    /// the output-size formula above; throws if the channels differ or the kernel is larger than
    /// the padded input.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try outputShape(forInput: shape, fullShape: shape)
    }

    /// The per-example output shape; `fullShape` (with the batch, when called on a batch)
    /// is what the messages show.
    func outputShape(forInput shape: [Int], fullShape: [Int]) throws(ShapeError) -> [Int] {
        try Self.outputShape(geometry, forInput: shape, fullShape: fullShape)
    }

    /// The per-example output shape of a convolution of geometry `g`, which needs no
    /// weights: a model's shapes are checked before its tensors are made.
    static func outputShape(_ g: Geometry, forInput shape: [Int], fullShape: [Int]) throws(ShapeError) -> [Int] {
        let name = summaryName(g)
        let weightText = "weight \([g.outputChannels, g.inputChannels, g.kernelSize.height, g.kernelSize.width])"
        let perExample = fullShape.count == shape.count ? "" : "batch, "
        try checkShape(shape.count == 3 && shape[0] == g.inputChannels, name,
                     expected: "[\(perExample)\(g.inputChannels), height, width] (\(weightText))", actual: fullShape)
        let padded = (shape[1] + 2 * g.padding.height, shape[2] + 2 * g.padding.width)
        let extent = (g.dilation.height * (g.kernelSize.height - 1) + 1, g.dilation.width * (g.kernelSize.width - 1) + 1)
        guard extent.0 <= padded.0 && extent.1 <= padded.1 else {
            throw ShapeError("\(name): kernel \(extent.0)×\(extent.1) is larger than the padded input \(padded.0)×\(padded.1); input \(fullShape), \(weightText)")
        }
        return [g.outputChannels, (padded.0 - extent.0) / g.stride.height + 1, (padded.1 - extent.1) / g.stride.width + 1]
    }

    /// `weight`, then `bias` when there is one.
    public func visitParameters(_ visit: (String, inout Tensor<Scalar>) -> Void) {
        visit("weight", &weight)
        if bias != nil { visit("bias", &bias!) }
    }

    /// Draws ``weight`` and ``bias`` from `generator` with fan-in inputChannels·kh·kw and
    /// fan-out outputChannels·kh·kw.
    public func resetParameters(using generator: inout RandomSource) {
        let fanIn = inputChannels * kernelSize.height * kernelSize.width
        let fanOut = outputChannels * kernelSize.height * kernelSize.width
        weight = weightInitializer.make(weight.shape, fanIn: fanIn, fanOut: fanOut, using: &generator)
            .requiringGradient()
        if bias != nil {
            bias = biasInitializer.make([outputChannels], fanIn: fanIn, fanOut: fanOut, using: &generator)
                .requiringGradient()
        }
    }
}

/// `3` for a square pair, `3×5` otherwise.
func pairText(_ pair: (Int, Int)) -> String {
    pair.0 == pair.1 ? "\(pair.0)" : "\(pair.0)×\(pair.1)"
}
