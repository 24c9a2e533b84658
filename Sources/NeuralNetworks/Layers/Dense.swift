import Tensors

/// A fully connected layer: `z = W·a + b` for each example; over a batch `[m, in]`,
/// `Z = X·Wᵀ + b` (notes, eq. 2.4 and section 2.2, with examples in rows).
/// `weight` is `[out, in]` (the notes' W^[ℓ]), `bias` is `[out]`.
public final class Dense<Scalar: TensorScalar>: Layer {
    /// W^[ℓ], `[outputSize, inputSize]`: row j is unit j's weights W_j^[ℓ] (eq. 2.4).
    public var weight: Tensor<Scalar>
    /// b^[ℓ], `[outputSize]`; nil without bias.
    public var bias: Tensor<Scalar>?
    /// n^[ℓ−1], the number of inputs (features or units of the layer before).
    public let inputSize: Int
    /// n^[ℓ], the number of units.
    public let outputSize: Int
    /// How ``weight`` is drawn (Xavier uniform by default; eq. 3.13 is ``Initializer/xavierNormal``).
    /// Changing it takes effect at the next ``resetParameters(using:)``.
    public var weightInitializer: Initializer
    /// How ``bias`` is drawn (zeros by default).
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

    /// Z = X·Wᵀ + b for a batch `[m, inputSize]`, giving `[m, outputSize]`: eq. 2.14 with the
    /// examples in rows. Stops if the input is not `[m, inputSize]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        requireShape(input.rank == 2 && input.shape[1] == inputSize, summaryName,
                     expected: "[batch, \(inputSize)]", actual: input.shape)
        return Tensor.linear(input, weight: weight, bias: bias)
    }

    /// `Dense(784 → 300)`.
    public var summaryName: String { "Dense(\(inputSize) → \(outputSize))" }

    /// `[outputSize]` for `[inputSize]`; throws otherwise.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try checkShape(shape == [inputSize], summaryName, expected: "[\(inputSize)] per example",
                       actual: shape)
        return [outputSize]
    }

    /// `weight`, then `bias` when there is one.
    public func visitParameters(_ visit: (String, inout Tensor<Scalar>) -> Void) {
        visit("weight", &weight)
        if bias != nil { visit("bias", &bias!) }
    }

    /// Draws ``weight`` and ``bias`` from `generator` with fan-in `inputSize` and fan-out `outputSize`.
    public func resetParameters(using generator: inout RandomSource) {
        weight = weightInitializer.make([outputSize, inputSize], fanIn: inputSize,
                                        fanOut: outputSize, using: &generator).requiringGradient()
        if bias != nil {
            bias = biasInitializer.make([outputSize], fanIn: inputSize, fanOut: outputSize,
                                        using: &generator).requiringGradient()
        }
    }
}
