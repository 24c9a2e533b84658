import Tensors

/// What max and average pooling share: a `kernelSize` window over each plane of NCHW
/// images, moved by `stride` (the kernel size by default, as in PyTorch).
public class Pool2DLayer<Scalar: TensorScalar>: Layer {
    public let kernelSize: (height: Int, width: Int)
    public let stride: (height: Int, width: Int)
    let name: String
    let pool: (Tensor<Scalar>, (height: Int, width: Int), (height: Int, width: Int)) -> Tensor<Scalar>

    init(name: String, kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)?,
         pool: @escaping (Tensor<Scalar>, (height: Int, width: Int), (height: Int, width: Int)) -> Tensor<Scalar>) {
        checkPrecondition(kernelSize.height > 0 && kernelSize.width > 0, "\(name): kernel size must be positive")
        checkPrecondition((stride?.height ?? 1) > 0 && (stride?.width ?? 1) > 0, "\(name): stride must be positive")
        self.name = name
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.pool = pool
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        _ = requireShape { () throws(ShapeError) in
            try pooledShape(summaryName, Array(input.shape.dropFirst()), fullShape: input.shape, kernelSize, stride)
        }
        return pool(input, kernelSize, stride)
    }

    public var summaryName: String { "\(name)(\(poolingText(kernelSize, stride)))" }

    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try pooledShape(summaryName, shape, fullShape: shape, kernelSize, stride)
    }
}

/// Max pooling: the largest value of every window. On ties the first maximum in
/// row-major window order receives the gradient.
public final class MaxPool2D<Scalar: TensorScalar>: Pool2DLayer<Scalar> {
    public init(kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) {
        super.init(name: "MaxPool2D", kernelSize: kernelSize, stride: stride) {
            $0.maxPooled2D(kernelSize: $1, stride: $2)
        }
    }

    public convenience init(kernelSize: Int, stride: Int? = nil) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) })
    }
}

/// Average pooling: the mean of every window.
public final class AvgPool2D<Scalar: TensorScalar>: Pool2DLayer<Scalar> {
    public init(kernelSize: (height: Int, width: Int), stride: (height: Int, width: Int)? = nil) {
        super.init(name: "AvgPool2D", kernelSize: kernelSize, stride: stride) {
            $0.averagePooled2D(kernelSize: $1, stride: $2)
        }
    }

    public convenience init(kernelSize: Int, stride: Int? = nil) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) })
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

    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try checkShape(shape.count == 3, summaryName, expected: "[channels, height, width]", actual: shape)
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

    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try checkShape(!shape.isEmpty, summaryName, expected: "[d₁, d₂, …] per example", actual: shape)
        return [shape.reduce(1, *)]
    }
}

/// The output shape `[channels, outputHeight, outputWidth]` of a pooling layer, after
/// checking the input's rank and that the window fits.
func pooledShape(
    _ layer: String, _ shape: [Int], fullShape: [Int], _ kernel: (height: Int, width: Int),
    _ stride: (height: Int, width: Int)
) throws(ShapeError) -> [Int] {
    let batch = fullShape.count == shape.count ? "" : "batch, "
    try checkShape(shape.count == 3, layer, expected: "[\(batch)channels, height, width]", actual: fullShape)
    guard kernel.height <= shape[1] && kernel.width <= shape[2] else {
        throw ShapeError("\(layer): window \(kernel.height)×\(kernel.width) is larger than the input \(shape[1])×\(shape[2]); input \(fullShape)")
    }
    return [shape[0], (shape[1] - kernel.height) / stride.height + 1, (shape[2] - kernel.width) / stride.width + 1]
}

func poolingText(_ kernel: (Int, Int), _ stride: (Int, Int)) -> String {
    let window = "\(kernel.0)×\(kernel.1)"
    return stride == kernel ? window : "\(window), stride \(pairText(stride))"
}
