import Tensors

/// An in-memory data set as the readers produce it: features `[N, …]` (examples in the
/// first dimension) and, when the file has them, targets. Hand it to Training's
/// `LabeledData`, which splits, shuffles and batches:
///
/// ```swift
/// let data = try CSVFormat.load("iris.csv", options: .init(target: .name("species")), as: Float.self)
/// let targets: Targets<Float> = switch data.targets {
///     case .classes(let labels, let classes): .labels(labels, classes: classes.count)
///     case .values(let values): .values(values)
///     case nil: fatalError("no target column")
/// }
/// let training = try LabeledData(features: data.features, targets: targets)
/// ```
public struct Dataset<Scalar: TensorScalar> {
    /// `[N, features]` for tables, `[N, 1, height, width]` for images.
    public var features: Tensor<Scalar>
    public var targets: DatasetTargets<Scalar>?
    /// Column names of a table (CSV header); empty otherwise.
    public var featureNames: [String]
    /// The standardisation already applied to ``features``, if any (store it with the
    /// model, apply it to new data).
    public var standardization: Standardization?

    public init(
        features: Tensor<Scalar>, targets: DatasetTargets<Scalar>? = nil, featureNames: [String] = [],
        standardization: Standardization? = nil
    ) {
        checkPrecondition(features.rank >= 1, "Dataset: features need a batch dimension, got shape \(features.shape)")
        if let targets {
            checkPrecondition(targets.count == features.shape[0],
                         "Dataset: \(features.shape[0]) examples but \(targets.count) targets")
        }
        self.features = features
        self.targets = targets
        self.featureNames = featureNames
        self.standardization = standardization
    }

    public var count: Int { features.shape[0] }

    /// The features standardised with `standardization` (fitted on training data).
    public func standardized(with standardization: Standardization) throws(DatasetError) -> Dataset {
        var result = self
        result.features = try standardization.applied(to: features)
        result.standardization = standardization
        return result
    }
}

/// What a data set's examples are labelled with.
public enum DatasetTargets<Scalar: TensorScalar> {
    /// Class indices into `classes.names`, one per example.
    case classes([Int], ClassLabels)
    /// Target values `[N, k]` (regression).
    case values(Tensor<Scalar>)

    public var count: Int {
        switch self {
        case .classes(let labels, _): return labels.count
        case .values(let values): return values.shape.first ?? 0
        }
    }
}

/// The names of the classes; a class's index is its position. Kept with a model so
/// that predictions read as names and a test file maps its labels as the training file
/// did.
public struct ClassLabels: Sendable, Hashable, Codable {
    public let names: [String]

    public init(names: [String]) {
        checkPrecondition(Set(names).count == names.count, "ClassLabels: duplicate names in \(names)")
        self.names = names
    }

    /// The distinct labels, sorted: numerically when all are numbers ("2" before "10"),
    /// otherwise as strings, so the mapping does not depend on the order of the rows.
    public init(sorting labels: some Sequence<String>) {
        let distinct = Array(Set(labels))
        let numbers = distinct.compactMap { Double($0) }
        if numbers.count == distinct.count {
            names = zip(distinct, numbers).sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
        } else {
            names = distinct.sorted()
        }
    }

    public var count: Int { names.count }

    /// A lookup table from name to index.
    public var indices: [String: Int] {
        Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    }
}
