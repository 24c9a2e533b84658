import Tensors

/// Inverted dropout: in training, each value is zeroed with probability p and the
/// survivors are scaled by 1/(1 − p), so evaluation needs no change (identity).
/// The mask comes from the layer's seeded generator (redrawn by ``Sequential``).
public final class Dropout<Scalar: TensorScalar>: Layer {
    /// p, the probability of zeroing each value in training, in [0, 1).
    public let probability: Double
    /// Dropout is active in training and the identity in evaluation.
    public var isTraining = true
    private var generator: RandomSource

    /// Dropout with probability `probability` and masks drawn from a generator seeded with `seed`.
    public init(probability: Double, seed: UInt64 = 0) {
        checkPrecondition(probability >= 0 && probability < 1,
                     "Dropout: probability must be in [0, 1), got \(probability)")
        self.probability = probability
        generator = RandomSource(seed: seed)
    }

    /// In training, the input times a fresh mask of 0 and 1/(1 − p); in evaluation, the input.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        guard isTraining, probability > 0 else { return input }
        let keep = 1 - probability
        let scale = Scalar(1 / keep)
        let mask = (0..<input.count).map { _ in
            generator.nextUnitInterval() < keep ? scale : 0
        }
        return input * Tensor(shape: input.shape, scalars: mask)
    }

    /// The generator of the masks; checkpoints save and restore it, so that a resumed
    /// run draws the masks an uninterrupted one would.
    public var maskGenerator: RandomSource {
        get { generator }
        set { generator = newValue }
    }

    /// `Dropout(0.5)`.
    public var summaryName: String { "Dropout(\(probability))" }
    /// The input shape.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] { shape }

    /// Reseeds the mask generator from `generator`.
    public func resetParameters(using generator: inout RandomSource) {
        self.generator = RandomSource(seed: generator.next())
    }
}
