import Tensors

/// What a model learns to predict: class labels or target values.
public enum Targets<Scalar: TensorScalar> {
    /// Class indices in 0..<classes, one per example.
    case labels([Int], classes: Int)
    /// Target values `[N, …]` (regression, binary targets as 0/1).
    case values(Tensor<Scalar>)

    public var count: Int {
        switch self {
        case .labels(let labels, _): return labels.count
        case .values(let values): return values.shape.first ?? 0
        }
    }

    func gathering(_ indices: [Int]) -> Targets {
        switch self {
        case .labels(let labels, let classes): return .labels(indices.map { labels[$0] }, classes: classes)
        case .values(let values): return .values(values.gatheringRows(indices))
        }
    }
}

/// An in-memory data set: features `[N, …]` (examples in the first dimension) and
/// their targets.
public struct LabeledData<Scalar: TensorScalar> {
    public let features: Tensor<Scalar>
    public let targets: Targets<Scalar>

    /// Checks that features and targets agree, that labels are in range and that no
    /// value is NaN or infinite.
    public init(features: Tensor<Scalar>, targets: Targets<Scalar>) throws(DataError) {
        guard features.rank >= 1 else { throw .badShape("features must have a batch dimension, got shape \(features.shape)") }
        guard features.shape[0] == targets.count else {
            throw .countMismatch(features: features.shape[0], targets: targets.count)
        }
        if let index = Scalar.firstNonFinite(features.scalars) {
            throw .nonFinite(what: "features", example: index / max(features.count / features.shape[0], 1))
        }
        switch targets {
        case .labels(let labels, let classes):
            if let index = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
                throw .labelOutOfRange(example: index, label: labels[index], classes: classes)
            }
        case .values(let values):
            if let index = Scalar.firstNonFinite(values.scalars) {
                throw .nonFinite(what: "targets", example: index / max(values.count / max(values.shape[0], 1), 1))
            }
        }
        self.features = features
        self.targets = targets
    }

    init(unchecked features: Tensor<Scalar>, _ targets: Targets<Scalar>) {
        self.features = features
        self.targets = targets
    }

    public var count: Int { features.shape.first ?? 0 }

    /// The examples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledData {
        LabeledData(unchecked: features.gatheringRows(indices), targets.gathering(indices))
    }

    /// A seeded random split: the last `fraction` of a shuffled order is the validation part.
    public func split(validationFraction fraction: Double, seed: UInt64) throws(DataError)
        -> (training: LabeledData, validation: LabeledData)
    {
        guard fraction > 0 && fraction < 1 else {
            throw .badShape("validation fraction must be in (0, 1), got \(fraction)")
        }
        var generator = RandomSource(seed: seed)
        let order = generator.permutation(count)
        let validationCount = max(1, Int((Double(count) * fraction).rounded()))
        guard validationCount < count else { throw .badShape("validation split leaves no training examples") }
        return (subset(Array(order.dropLast(validationCount))), subset(Array(order.suffix(validationCount))))
    }
}

/// Data that cannot be trained on, found before training starts.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case countMismatch(features: Int, targets: Int)
    case labelOutOfRange(example: Int, label: Int, classes: Int)
    case nonFinite(what: String, example: Int)
    case badShape(String)

    public var description: String {
        switch self {
        case .countMismatch(let f, let t): return "\(f) examples but \(t) targets"
        case .labelOutOfRange(let i, let label, let k):
            return "label \(label) of example \(i) is outside the \(k) classes 0..<\(k)"
        case .nonFinite(let what, let i): return "\(what) of example \(i) contain NaN or infinity"
        case .badShape(let message): return message
        }
    }
}
