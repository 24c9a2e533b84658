import Tensors

/// Max pooling over each plane of NCHW images: the largest value of every
/// `kernelSize` window, moved by `stride` (the kernel size by default, as in PyTorch).
/// On ties the first maximum in row-major window order receives the gradient.
public final class MaxPool2D<Scalar: TensorScalar>: Layer {
    public let kernelSize: (height: Int, width: Int)
    public let stride: (height: Int, width: Int)

    public init(kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) {
        checkPrecondition(kernelSize.height > 0 && kernelSize.width > 0, "MaxPool2D: kernel size must be positive")
        checkPrecondition((stride?.height ?? 1) > 0 && (stride?.width ?? 1) > 0, "MaxPool2D: stride must be positive")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public convenience init(kernelSize: Int, stride: Int? = nil) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) })
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        _ = pooledShape(summaryName, Array(input.shape.dropFirst()), fullShape: input.shape, kernelSize, stride)
        return input.maxPooled2D(kernelSize: kernelSize, stride: stride)
    }

    public var summaryName: String { "MaxPool2D(\(poolingText(kernelSize, stride)))" }

    public func outputShape(forInput shape: [Int]) -> [Int] {
        pooledShape(summaryName, shape, fullShape: shape, kernelSize, stride)
    }
}

/// Average pooling over each plane of NCHW images: the mean of every `kernelSize`
/// window, moved by `stride` (the kernel size by default).
public final class AvgPool2D<Scalar: TensorScalar>: Layer {
    public let kernelSize: (height: Int, width: Int)
    public let stride: (height: Int, width: Int)

    public init(kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) {
        checkPrecondition(kernelSize.height > 0 && kernelSize.width > 0, "AvgPool2D: kernel size must be positive")
        checkPrecondition((stride?.height ?? 1) > 0 && (stride?.width ?? 1) > 0, "AvgPool2D: stride must be positive")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    public convenience init(kernelSize: Int, stride: Int? = nil) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) })
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        _ = pooledShape(summaryName, Array(input.shape.dropFirst()), fullShape: input.shape, kernelSize, stride)
        return input.averagePooled2D(kernelSize: kernelSize, stride: stride)
    }

    public var summaryName: String { "AvgPool2D(\(poolingText(kernelSize, stride)))" }

    public func outputShape(forInput shape: [Int]) -> [Int] {
        pooledShape(summaryName, shape, fullShape: shape, kernelSize, stride)
    }
}

/// The mean of each channel's plane: `[batch, channels, height, width]` → `[batch,
/// channels]` (PyTorch's `AdaptiveAvgPool2d(1)` followed by a flatten).
public final class GlobalAveragePool2D<Scalar: TensorScalar>: Layer {
    public init() {}

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        requireShape(input.rank == 4, summaryName, expected: "[batch, channels, height, width]", actual: input.shape)
        return input.globalAveragePooled2D()
    }

    public var summaryName: String { "GlobalAveragePool2D" }

    public func outputShape(forInput shape: [Int]) -> [Int] {
        requireShape(shape.count == 3, summaryName, expected: "[channels, height, width]", actual: shape)
        return [shape[0]]
    }
}

/// `[batch, d₁, d₂, …]` → `[batch, d₁·d₂·…]`: images into feature vectors for dense layers
/// (row-major, so the order matches PyTorch's `Flatten`).
public final class Flatten<Scalar: TensorScalar>: Layer {
    public init() {}

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        requireShape(input.rank >= 1, summaryName, expected: "[batch, …]", actual: input.shape)
        return input.flattenedBatch()
    }

    public var summaryName: String { "Flatten" }

    public func outputShape(forInput shape: [Int]) -> [Int] { [shape.reduce(1, *)] }
}

/// The output shape `[channels, outputHeight, outputWidth]` of a pooling layer, after
/// checking the input's rank and that the window fits.
func pooledShape(
    _ layer: String, _ shape: [Int], fullShape: [Int], _ kernel: (height: Int, width: Int),
    _ stride: (height: Int, width: Int)
) -> [Int] {
    let batch = fullShape.count == shape.count ? "" : "batch, "
    requireShape(shape.count == 3, layer, expected: "[\(batch)channels, height, width]", actual: fullShape)
    checkPrecondition(kernel.height <= shape[1] && kernel.width <= shape[2],
                 "\(layer): window \(kernel.height)×\(kernel.width) is larger than the input \(shape[1])×\(shape[2]); input \(fullShape)")
    return [shape[0], (shape[1] - kernel.height) / stride.height + 1, (shape[2] - kernel.width) / stride.width + 1]
}

func poolingText(_ kernel: (Int, Int), _ stride: (Int, Int)) -> String {
    let window = "\(kernel.0)×\(kernel.1)"
    return stride == kernel ? window : "\(window), stride \(pairText(stride))"
}
