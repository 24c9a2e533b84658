import Tensors

/// What max and average pooling share: a `kernelSize` window over each plane of NCHW
/// images, moved by `stride` (the kernel size by default, as in PyTorch), over the input
/// with `padding` on each side (at most half the window), and in `ceilMode` a last,
/// partial window where the floor would drop a remainder — PyTorch's `MaxPool2d` and
/// `AvgPool2d` arguments, with their output sizes
/// (``Tensor/pooledLength(_:kernel:stride:padding:ceilMode:)``).
public class Pool2DLayer<Scalar: TensorScalar>: Layer {
    /// A size along (height, width).
    public typealias Pair = (height: Int, width: Int)
    /// The window's size.
    public let kernelSize: Pair
    /// How far the window moves (the kernel size unless given).
    public let stride: Pair
    /// Padding on each side, at most half the window.
    public let padding: Pair
    /// Whether a last, partial window is kept where the floor would drop a remainder.
    public let ceilMode: Bool
    let name: String

    init(name: String, kernelSize: Pair, stride: Pair?, padding: Pair, ceilMode: Bool) {
        checkPrecondition(kernelSize.height > 0 && kernelSize.width > 0, "\(name): kernel size must be positive")
        checkPrecondition((stride?.height ?? 1) > 0 && (stride?.width ?? 1) > 0, "\(name): stride must be positive")
        checkPrecondition(padding.height >= 0 && padding.width >= 0
                          && padding.height <= kernelSize.height / 2 && padding.width <= kernelSize.width / 2,
                          "\(name): padding \(pairText(padding)) must be between 0 and half the kernel \(kernelSize.height)×\(kernelSize.width)")
        self.name = name
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
    }

    /// The pooled batch: `[batch, channels, height, width]` → `[batch, channels, outputHeight,
    /// outputWidth]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        _ = requireShape { () throws(ShapeError) in
            try pooledShape(Array(input.shape.dropFirst()), fullShape: input.shape)
        }
        return pooled(input)
    }

    /// The pooling itself, on a checked input; each kind overrides it (the initialiser
    /// is internal: there is no pooling layer of the base class alone).
    func pooled(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input }

    /// `MaxPool2D(2×2)`: the window and the settings that are not their defaults.
    public var summaryName: String {
        var parts = ["\(kernelSize.height)×\(kernelSize.width)"]
        if stride != kernelSize { parts.append("stride \(pairText(stride))") }
        if padding != (0, 0) { parts.append("padding \(pairText(padding))") }
        if ceilMode { parts.append("ceil mode") }
        return "\(name)(\((parts + extraSettings).joined(separator: ", ")))"
    }

    /// Settings of the subclass that the summary name shows after the shared ones.
    var extraSettings: [String] { [] }

    /// `[channels, outputHeight, outputWidth]` with ⌊(n + 2·padding − kernel)/stride⌋ + 1 along
    /// each axis (the ceiling in `ceilMode`); throws if the window does not fit.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try pooledShape(shape, fullShape: shape)
    }

    /// `[channels, outputHeight, outputWidth]`, after checking the input's rank and that a
    /// window fits; `fullShape` (with the batch, when called on a batch) is what the
    /// messages show.
    func pooledShape(_ shape: [Int], fullShape: [Int]) throws(ShapeError) -> [Int] {
        let batch = fullShape.count == shape.count ? "" : "batch, "
        try checkShape(shape.count == 3, summaryName, expected: "[\(batch)channels, height, width]", actual: fullShape)
        let height = Tensor<Scalar>.pooledLength(shape[1], kernel: kernelSize.height, stride: stride.height,
                                                 padding: padding.height, ceilMode: ceilMode)
        let width = Tensor<Scalar>.pooledLength(shape[2], kernel: kernelSize.width, stride: stride.width,
                                                padding: padding.width, ceilMode: ceilMode)
        guard height >= 1 && width >= 1 else {
            let padded = padding == (0, 0) ? "" : " padded by \(pairText(padding))"
            throw ShapeError("\(summaryName): window \(kernelSize.height)×\(kernelSize.width) is larger than the input \(shape[1])×\(shape[2])\(padded); input \(fullShape)")
        }
        return [shape[0], height, width]
    }
}

/// Max pooling: the largest value of every window, padding counting as −∞ (PyTorch's
/// `MaxPool2d`). On ties the first maximum in row-major window order receives the
/// gradient.
public final class MaxPool2D<Scalar: TensorScalar>: Pool2DLayer<Scalar> {
    /// Max pooling with a `kernelSize` window, moved by `stride` (nil: the kernel size).
    public init(kernelSize: Pair, stride: Pair? = nil, padding: Pair = (0, 0), ceilMode: Bool = false) {
        super.init(name: "MaxPool2D", kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }

    /// Max pooling with a square window and the same settings along both axes.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding),
                  ceilMode: ceilMode)
    }

    override func pooled(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        input.maxPooled2D(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }
}

/// Average pooling: the mean of every window (PyTorch's `AvgPool2d`). Padding adds zeros;
/// with `countIncludePad` (PyTorch's default) a window is divided by its size inside the
/// padded input, else by its size inside the input.
public final class AvgPool2D<Scalar: TensorScalar>: Pool2DLayer<Scalar> {
    /// Whether a window's mean divides by its size inside the padded input (PyTorch's default)
    /// or inside the input.
    public let countIncludePad: Bool

    /// Average pooling with a `kernelSize` window, moved by `stride` (nil: the kernel size).
    public init(kernelSize: Pair, stride: Pair? = nil, padding: Pair = (0, 0), ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        self.countIncludePad = countIncludePad
        super.init(name: "AvgPool2D", kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }

    /// Average pooling with a square window and the same settings along both axes.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, ceilMode: Bool = false,
                            countIncludePad: Bool = true) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding),
                  ceilMode: ceilMode, countIncludePad: countIncludePad)
    }

    override func pooled(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        input.averagePooled2D(kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                              countIncludePad: countIncludePad)
    }

    override var extraSettings: [String] { countIncludePad ? [] : ["countIncludePad false"] }
}

/// The mean of each channel's plane: `[batch, channels, height, width]` → `[batch,
/// channels]` (PyTorch's `AdaptiveAvgPool2d(1)` followed by a flatten).
public final class GlobalAveragePool2D<Scalar: TensorScalar>: Layer {
    /// Global average pooling (no settings).
    public init() {}

    /// The mean of each channel's plane, `[batch, channels, height, width]` → `[batch, channels]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        requireShape(input.rank == 4, summaryName, expected: "[batch, channels, height, width]", actual: input.shape)
        return input.globalAveragePooled2D()
    }

    /// `GlobalAveragePool2D`.
    public var summaryName: String { "GlobalAveragePool2D" }

    /// `[channels]` for `[channels, height, width]`; throws for another rank.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try checkShape(shape.count == 3, summaryName, expected: "[channels, height, width]", actual: shape)
        return [shape[0]]
    }
}

/// `[batch, d₁, d₂, …]` → `[batch, d₁·d₂·…]`: images into feature vectors for dense layers
/// (row-major, so the order matches PyTorch's `Flatten`).
public final class Flatten<Scalar: TensorScalar>: Layer {
    /// A flatten layer (no settings).
    public init() {}

    /// `[batch, d₁, d₂, …]` → `[batch, d₁·d₂·…]`, row-major; the notes' flattening of a 64×64×3
    /// image into 12,288 values.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        requireShape(input.rank >= 1, summaryName, expected: "[batch, …]", actual: input.shape)
        return input.flattenedBatch()
    }

    /// `Flatten`.
    public var summaryName: String { "Flatten" }

    /// `[d₁·d₂·…]` for `[d₁, d₂, …]`; throws for a scalar example.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try checkShape(!shape.isEmpty, summaryName, expected: "[d₁, d₂, …] per example", actual: shape)
        let count = Memory.product(shape)
        guard count <= 1 << 31 else { throw ShapeError("\(summaryName): an example of shape \(shape) has more than 2³¹ values") }
        return [count]
    }
}
