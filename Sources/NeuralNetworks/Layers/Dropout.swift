import Tensors

/// Inverted dropout: in training, each value is zeroed with probability p and the
/// survivors are scaled by 1/(1 − p), so evaluation needs no change (identity).
///
/// The masks are drawn by example: each batch takes one key from the layer's seeded
/// generator (redrawn by ``Sequential``), and example i's mask comes from that key and
/// i's position in the whole batch. A batch split over several processes or threads
/// (``startBatch(firstExample:)``) thus gets the masks one process would draw.
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
        let (key, firstExample) = nextBatch ?? (generator.next(), 0)
        nextBatch = nil
        let keep = 1 - probability
        let scale = Scalar(1 / keep)
        let examples = input.rank == 0 ? 1 : input.shape[0]
        let perExample = examples == 0 ? 0 : input.count / examples
        var mask = [Scalar]()
        mask.reserveCapacity(input.count)
        for example in 0..<examples {
            var draws = RandomSource(seed: key ^ (UInt64(firstExample + example) &* 0x9E37_79B9_7F4A_7C15))
            for _ in 0..<perExample { mask.append(draws.nextUnitInterval() < keep ? scale : 0) }
        }
        return input * Tensor(shape: input.shape, scalars: mask)
    }

    /// The key of the next training-mode call's masks and the position of its first
    /// example in the whole batch; drawn afresh by a call without it.
    private var nextBatch: (key: UInt64, firstExample: Int)?

    /// Draws the next batch's key now and numbers the examples the next call sees from
    /// `firstExample`: a process holding examples `firstExample ..< firstExample + n` of
    /// a batch shared out among several draws their masks as one process would. Every
    /// process calls it once per batch (also one with no examples), so that their
    /// generators stay alike.
    public func startBatch(firstExample: Int) {
        nextBatch = (generator.next(), firstExample)
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
