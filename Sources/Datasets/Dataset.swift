import Tensors

/// A data set in memory, as the readers produce it and as training, evaluation and
/// prediction take it: features `[N, …]` (examples in the first dimension) and, when the
/// file has them, targets, with what they are — class labels with their names, or values
/// (regression) with the scaling applied to them — and the feature and target names.
///
/// ```swift
/// let data = try CSVFormat.load("iris.csv", options: .init(target: .name("species")), as: Float.self)
/// print(data.task, data.taskReason ?? "")   // classification: target 'species' holds text labels …
/// let (training, validation) = try data.split(validationFraction: 0.2, seed: 1)
/// ```
public struct Dataset<Scalar: TensorScalar> {
    /// `[N, features]` for tables, `[N, 1, height, width]` for images.
    public var features: Tensor<Scalar>
    public var targets: DatasetTargets<Scalar>?
    /// Column names of a table (CSV header), in the order of the features; empty otherwise.
    public var featureNames: [String]
    /// The standardisation already applied to ``features``, if any (store it with the
    /// model, apply it to new data).
    public var standardization: Standardization?
    /// The target column's name, when the data came from a table.
    public var targetName: String?
    /// The standardisation already applied to regression targets, if any: a model trained
    /// on them predicts standardised values, which ``Standardization/restored(_:)`` takes
    /// back to the original units; metrics are reported in the original units.
    public var targetStandardization: Standardization?
    /// Why the targets were read as classes or as values, when that was inferred.
    public var taskReason: String?
    /// What the reader decided about the file that its user should be told, one line
    /// each: one-hot target rows read as classes, a CSV's empty last column left out.
    public var notes: [String] = []

    /// Checks that features and targets agree in count, that no feature or target value
    /// is NaN or infinite, and that class labels are in range.
    public init(
        features: Tensor<Scalar>, targets: DatasetTargets<Scalar>? = nil, featureNames: [String] = [],
        standardization: Standardization? = nil, targetName: String? = nil
    ) throws(DatasetError) {
        guard features.rank >= 1 else {
            throw .mismatch("features need a batch dimension, got shape \(features.shape)")
        }
        if let zero = features.shape.dropFirst().firstIndex(of: 0) {
            throw .mismatch("features of shape \(features.shape) have no values per example (dimension \(zero) is 0)")
        }
        let count = features.shape[0]
        if let bad = Scalar.firstNonFinite(features.scalars) {
            throw .nonFiniteData(what: "features", example: bad / Swift.max(features.count / Swift.max(count, 1), 1))
        }
        if let targets {
            guard targets.count == count else { throw .countMismatch(features: count, targets: targets.count) }
            switch targets {
            case .classes(let labels, let classes):
                if let index = labels.firstIndex(where: { $0 < 0 || $0 >= classes.count }) {
                    throw .labelOutOfRange(example: index, label: labels[index], classes: classes.count)
                }
            case .values(let values):
                if let bad = Scalar.firstNonFinite(values.scalars) {
                    throw .nonFiniteData(what: "targets", example: bad / Swift.max(values.count / Swift.max(count, 1), 1))
                }
            }
        }
        self.init(unchecked: features, targets, featureNames: featureNames, standardization: standardization,
                  targetName: targetName)
    }

    init(unchecked features: Tensor<Scalar>, _ targets: DatasetTargets<Scalar>?, featureNames: [String] = [],
         standardization: Standardization? = nil, targetName: String? = nil) {
        self.features = features
        self.targets = targets
        self.featureNames = featureNames
        self.standardization = standardization
        self.targetName = targetName
    }

    public var count: Int { features.shape[0] }

    /// One example's shape: `[features]` or `[1, height, width]`.
    public var exampleShape: [Int] { Array(features.shape.dropFirst()) }

    /// Classification for class labels, regression for values; nil without targets.
    public var task: LearningTask? {
        switch targets {
        case .classes?: return .classification
        case .values?: return .regression
        case nil: return nil
        }
    }

    /// The class names, for class labels.
    public var classes: ClassLabels? {
        if case .classes(_, let classes)? = targets { return classes }
        return nil
    }

    /// The examples at `indices`, in that order, with everything said about them.
    public func subset(_ indices: [Int]) -> Dataset {
        var result = self
        result.features = features.gatheringRows(indices)
        result.targets = targets?.gathering(indices)
        return result
    }

    /// A seeded random split: the last `fraction` of a shuffled order is the validation part.
    public func split(validationFraction fraction: Double, seed: UInt64) throws(DatasetError)
        -> (training: Dataset, validation: Dataset)
    {
        guard fraction > 0 && fraction < 1 else {
            throw .mismatch("validation fraction must be in (0, 1), got \(fraction)")
        }
        var generator = RandomSource(seed: seed)
        let order = generator.permutation(count)
        let validationCount = Swift.max(1, Int((Double(count) * fraction).rounded()))
        guard validationCount < count else {
            throw .mismatch("a validation split of \(fraction) of \(count) examples leaves no training examples")
        }
        return (subset(Array(order.dropLast(validationCount))), subset(Array(order.suffix(validationCount))))
    }

    /// The features standardised with `standardization` (fitted on training data).
    public func standardized(with standardization: Standardization) throws(DatasetError) -> Dataset {
        var result = self
        result.features = try standardization.applied(to: features)
        result.standardization = standardization
        return result
    }

    /// Regression targets standardised with `standardization` (the training set's, fitted
    /// per output); class labels are returned unchanged.
    public func targetsStandardized(with standardization: Standardization) throws(DatasetError) -> Dataset {
        guard case .values(let values)? = targets else { return self }
        var result = self
        result.targets = .values(try standardization.applied(to: values))
        result.targetStandardization = standardization
        return result
    }

    /// This data's classes as those of a model that names its own, `model` (in the order
    /// of its outputs), so that the model keeps its class names: labels that are the
    /// model's names map by name; integer labels stand for the model's K names in order,
    /// label i for `model.names[i]` (unless the model's names are integers themselves:
    /// then they map by value). For training data (`requiringEveryClass`) every class of
    /// the model must have examples. Other labels are refused in one line naming both
    /// lists, after `source` (the model).
    public func classesMatched(to model: ClassLabels, source: String, requiringEveryClass: Bool = true)
        throws(DatasetError) -> Dataset
    {
        guard case .classes(let labels, let own)? = targets else { return self }
        let byName = model.lookup(labels: own.names)
        let modelNamesAreIntegers = model.names.allSatisfy { NumericText.canonicalInteger($0) != nil }
        var mapping: [Int]?
        var note: String?
        if own.names.allSatisfy({ byName[$0] != nil }) {
            mapping = own.names.map { byName[$0]! }
        } else if !modelNamesAreIntegers {
            let positions = own.names.compactMap { NumericText.canonicalInteger($0).flatMap { Int($0) } }
            if positions.count == own.count && positions.allSatisfy(model.names.indices.contains) {
                mapping = positions
            } else if let sorted = ClassLabels.namingSortedIntegers(Set(own.names), names: model.names) {
                // K integers other than 0..<K, as the readers name them with --class-names.
                mapping = own.names.map { sorted[$0]! }
                note = ClassLabels.sortedIntegersNote(labels: own.names, names: model.names, file: "the data")
            }
        }
        guard let mapping, !requiringEveryClass || Set(labels.map { mapping[$0] }).count == model.count else {
            let integers = modelNamesAreIntegers ? "" : ", or the integers 0..<\(model.count) (label i naming the i-th), or \(model.count) other integers (named in numeric order)"
            throw .mismatch("\(source) names the classes \(ClassLabels.shownList(model.names)); the data's labels are \(ClassLabels.shownList(own.names)): the labels must be the model's class names, each of them, in any order\(integers)")
        }
        var result = self
        result.targets = .classes(labels.map { mapping[$0] }, model)
        if let note { result.notes.append(note) }
        return result
    }

    /// How this data's features are standardised: per channel over every pixel for images
    /// `[N, channels, height, width]` (as image libraries normalise), per feature (each
    /// column) for tables and other examples.
    public var featureStandardizationScope: Standardization.Scope {
        features.rank == 4 ? .perChannel : .perFeature
    }

    /// This data with the features (and regression targets, when `targets` is true)
    /// standardised with statistics fitted to it: for a training set.
    public func standardizedWithOwnStatistics(
        features scope: Standardization.Scope?, targets: Bool
    ) throws(DatasetError) -> Dataset {
        guard count > 0 || (scope == nil && !targets) else {
            throw .mismatch("no examples to fit a standardisation to")
        }
        var result = self
        if let scope { result = try result.standardized(with: Standardization(fittedTo: features, scope: scope)) }
        if targets, case .values(let values)? = self.targets {
            result = try result.targetsStandardized(with: Standardization(fittedTo: values, scope: .perFeature))
        }
        return result
    }
}

/// What a data set's examples are labelled with.
public enum DatasetTargets<Scalar: TensorScalar> {
    /// Class indices into `classes.names`, one per example.
    case classes([Int], ClassLabels)
    /// Target values `[N, k]` (regression).
    case values(Tensor<Scalar>)

    /// Class indices `0..<classes`, named "0", "1", ….
    public static func labels(_ labels: [Int], classes: Int) -> DatasetTargets {
        .classes(labels, ClassLabels(count: classes))
    }

    public var count: Int {
        switch self {
        case .classes(let labels, _): return labels.count
        case .values(let values): return values.shape.first ?? 0
        }
    }

    /// The number of values per example: classes for labels, k for values `[N, k]`.
    public var width: Int {
        switch self {
        case .classes(_, let classes): return classes.count
        case .values(let values): return values.count / Swift.max(values.shape.first ?? 1, 1)
        }
    }

    func gathering(_ indices: [Int]) -> DatasetTargets {
        switch self {
        case .classes(let labels, let classes): return .classes(indices.map { labels[$0] }, classes)
        case .values(let values): return .values(values.gatheringRows(indices))
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

    /// Names read from a file or a flag: throws on an empty list or a name given twice.
    public init(validating names: [String], source: String) throws(DatasetError) {
        guard !names.isEmpty else { throw .mismatch("\(source): no class names") }
        var seen = Set<String>()
        for name in names where !seen.insert(name).inserted {
            throw .mismatch("\(source): class name '\(shown(name))' appears twice")
        }
        self.names = names
    }

    /// Classes `0..<count` named by their numbers.
    public init(count: Int) {
        names = (0..<Swift.max(count, 0)).map(String.init)
    }

    /// The distinct labels, sorted: numerically when all are numbers ("2" before "10"),
    /// otherwise as strings, so the mapping does not depend on the order of the rows.
    public init(sorting labels: some Sequence<String>) {
        let distinct = Array(Set(labels))
        let numbers = distinct.compactMap(NumericText.value)
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

extension ClassLabels {
    /// The classes of a column of labels and the index of each label. Without `names`,
    /// the distinct labels sorted (``init(sorting:)``); labels that are all integers are
    /// classes by value, named by the integer ("1", "1.0" and "01" are class "1"; "-0"
    /// is "0"). With `names`: labels that are all among them (by name, or an integer by
    /// its plain form) map by name; labels none of which is among them, integers 0..<K,
    /// stand for the K names, and K other distinct integers are named in numeric order
    /// (``sortedIntegersNote(labels:names:file:)``); labels only some of which are among
    /// them are an error.
    public static func mapping(labels texts: [String], names: [String]?, file: String) throws(DatasetError)
        -> (ClassLabels, [String: Int])
    {
        let distinct = Set(texts)
        guard let names else {
            if let integers = integerNames(distinct) {
                let classes = ClassLabels(sorting: Set(integers.values))
                let index = classes.indices
                return (classes, integers.compactMapValues { index[$0] })
            }
            let classes = ClassLabels(sorting: distinct)
            return (classes, classes.indices)
        }
        let given = try ClassLabels(validating: names, source: "\(file): the class names")
        var lookup: [String: Int]
        let byName = given.lookup(labels: distinct)
        let unnamed = distinct.filter { byName[$0] == nil }
        // Some labels are class names and some not (a model's classes 0 and 5, data with
        // labels 0 and 1): reading the others as indices would count label 1 as class 5.
        if !unnamed.isEmpty && unnamed.count < distinct.count {
            let first = unnamed.sorted { (Int($0) ?? .max, $0) < (Int($1) ?? .max, $1) }[0]
            throw .mismatch("\(file): label '\(shown(first))' is not one of the \(names.count) class names (\(shownList(names))), though other labels are")
        }
        if unnamed.isEmpty {
            lookup = byName
        } else if given.names.allSatisfy({ NumericText.canonicalInteger($0) != nil }) {
            // Classes named by integers (a model trained on integer labels) are matched by
            // value only: label 0 is not the first of classes 1, 2, 3.
            let first = unnamed.sorted { (Int($0) ?? .max, $0) < (Int($1) ?? .max, $1) }[0]
            throw .mismatch("\(file): label '\(shown(first))' is not one of the \(names.count) classes (\(shownList(names)))")
        } else if let sorted = namingSortedIntegers(distinct, names: names) {
            // Integer labels that are not 0..<K, as many as the names: named in numeric order.
            lookup = sorted
        } else {
            lookup = [:]
            let integers = distinct.allSatisfy { NumericText.canonicalInteger($0) != nil }
            for text in distinct {
                let integer = NumericText.canonicalInteger(text).flatMap { Int($0) }
                guard let index = integer, given.names.indices.contains(index) else {
                    let hint = integers ? " (integer labels outside 0..<\(names.count) are named in numeric order when there are \(names.count) distinct ones; here there are \(Set(distinct.compactMap(NumericText.canonicalInteger)).count))" : ""
                    throw .mismatch("\(file): label '\(shown(text))' is neither one of the \(names.count) class names nor an index 0..<\(names.count) into them\(hint)")
                }
                lookup[text] = index
            }
        }
        return (given, lookup)
    }

    /// The index of each of `labels` (another file's, such as test data) among these
    /// classes, read as training read its own file (``mapping(labels:names:file:)``): by
    /// name; labels none of which is a name, integers 0..<K, by position (unless the
    /// names are integers themselves). When only some labels are names, the others are
    /// left out, for the caller to name where the first of them is.
    public func lookup(fileLabels labels: [String], file: String) throws(DatasetError) -> [String: Int] {
        let byName = lookup(labels: labels)
        return byName.isEmpty && !labels.isEmpty ? try Self.mapping(labels: labels, names: names, file: file).1 : byName
    }

    /// Up to 20 names, quoted where needed, for a message.
    static func shownList(_ names: [String]) -> String {
        names.prefix(20).map { shown($0) }.joined(separator: ", ") + (names.count > 20 ? ", …" : "")
    }

    /// The index of each of `labels` among these classes (a model's, for a test file):
    /// by name, or for an integer label by its plain form ("1.0" is class "1"), as
    /// ``mapping(labels:names:file:)`` named the training file's classes. A label that
    /// is neither is left out.
    public func lookup(labels: some Sequence<String>) -> [String: Int] {
        let index = indices
        var lookup: [String: Int] = [:]
        for label in Set(labels) {
            lookup[label] = index[label] ?? NumericText.canonicalInteger(label).flatMap { index[$0] }
        }
        return lookup
    }

    /// Each label's plain integer name when every label is an integer; nil otherwise.
    private static func integerNames(_ labels: Set<String>) -> [String: String]? {
        var names: [String: String] = [:]
        for label in labels {
            guard let name = NumericText.canonicalInteger(label) else { return nil }
            names[label] = name
        }
        return names
    }
}
