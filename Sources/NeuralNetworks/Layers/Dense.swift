import Tensors

/// A fully connected layer: `z = W·a + b` for each example; over a batch `[m, in]`,
/// `Z = X·Wᵀ + b` (notes, eq. 2.4 and section 2.2, with examples in rows).
/// `weight` is `[out, in]` (the notes' W^[ℓ]), `bias` is `[out]`.
public final class Dense<Scalar: TensorScalar>: Layer {
    public var weight: Tensor<Scalar>
    public var bias: Tensor<Scalar>?
    public let inputSize: Int
    public let outputSize: Int
    public let weightInitializer: Initializer
    public let biasInitializer: Initializer

    /// A dense layer with parameters drawn from a generator seeded with `seed`
    /// (a ``Sequential`` redraws them from its own generator).
    public init(
        inputSize: Int, outputSize: Int, useBias: Bool = true,
        weightInitializer: Initializer = .xavierUniform, biasInitializer: Initializer = .zeros,
        seed: UInt64 = 0
    ) {
        checkPrecondition(inputSize > 0 && outputSize > 0,
                     "Dense: sizes must be positive, got \(inputSize) → \(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.weightInitializer = weightInitializer
        self.biasInitializer = biasInitializer
        weight = .zeros([outputSize, inputSize])
        bias = useBias ? .zeros([outputSize]) : nil
        var generator = RandomSource(seed: seed)
        resetParameters(using: &generator)
    }

    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        requireShape(input.rank == 2 && input.shape[1] == inputSize, summaryName,
                     expected: "[batch, \(inputSize)]", actual: input.shape)
        return Tensor.linear(input, weight: weight, bias: bias)
    }

    public var summaryName: String { "Dense(\(inputSize) → \(outputSize))" }

    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try checkShape(shape == [inputSize], summaryName, expected: "[\(inputSize)] per example",
                       actual: shape)
        return [outputSize]
    }

    public func visitParameters(_ visit: (String, inout Tensor<Scalar>) -> Void) {
        visit("weight", &weight)
        if bias != nil { visit("bias", &bias!) }
    }

    public func resetParameters(using generator: inout RandomSource) {
        weight = weightInitializer.make([outputSize, inputSize], fanIn: inputSize,
                                        fanOut: outputSize, using: &generator).requiringGradient()
        if bias != nil {
            bias = biasInitializer.make([outputSize], fanIn: inputSize, fanOut: outputSize,
                                        using: &generator).requiringGradient()
        }
    }
}
