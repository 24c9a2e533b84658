import Tensors

/// What a model was trained on, kept with it so that validation, test and new data are
/// read the way the training data was: the task, the classes, the feature columns by
/// name, the target column, and the standardisations fitted to the training data.
public struct DataSchema: Sendable, Hashable, Codable {
    public var task: LearningTask?
    public var classes: ClassLabels?
    /// The feature columns in the model's input order; nil when the features have no
    /// names (images, NumPy arrays).
    public var featureNames: [String]?
    public var targetName: String?
    public var standardization: Standardization?
    public var targetStandardization: Standardization?

    public init(task: LearningTask? = nil, classes: ClassLabels? = nil, featureNames: [String]? = nil,
                targetName: String? = nil, standardization: Standardization? = nil,
                targetStandardization: Standardization? = nil) {
        self.task = task
        self.classes = classes
        self.featureNames = featureNames
        self.targetName = targetName
        self.standardization = standardization
        self.targetStandardization = targetStandardization
    }

    /// The names of a regression's `count` outputs: the target's name for one output,
    /// `NAME_0`, `NAME_1`, … for several (`y` when the target has no name).
    public static func outputNames(targetName: String?, count: Int) -> [String] {
        let name = targetName ?? "y"
        return count == 1 ? [name] : (0..<Swift.max(count, 0)).map { "\(name)_\($0)" }
    }

    /// The schema of a training set.
    public init<S>(describing data: Dataset<S>) {
        self.init(task: data.task, classes: data.classes, featureNames: data.featureNames.isEmpty ? nil : data.featureNames,
                  targetName: data.targetName, standardization: data.standardization,
                  targetStandardization: data.targetStandardization)
    }

    /// How to read a CSV file of this schema: the target column by its recorded name
    /// (or `target`), features matched by name, classes mapped as in training.
    public func csvOptions(target: CSVOptions.Column? = nil, requiresTarget: Bool) -> CSVOptions {
        CSVOptions(target: target ?? targetName.map { .name($0) }, requiresTarget: requiresTarget, task: task,
                   classes: classes, featureNames: featureNames)
    }

    /// `data` with the training set's standardisations applied (those not applied yet),
    /// after checking that its classes are the training set's.
    public func prepare<S>(_ data: Dataset<S>) throws(DatasetError) -> Dataset<S> {
        if let classes, let own = data.classes, own != classes {
            throw .mismatch("the data's classes (\(own.names.prefix(12).joined(separator: ", "))) are not the model's (\(classes.names.prefix(12).joined(separator: ", ")))")
        }
        if let task, let own = data.task, own != task {
            throw .mismatch("the data's targets are for \(own), the model's for \(task)")
        }
        return try standardizing(data)
    }

    /// `data` with the training set's standardisations applied (those not applied yet),
    /// without checking its classes: also for new training data of a model trained before,
    /// whose weights take the features (and predict the targets) in the units of the data
    /// they were first trained on, not in those of statistics fitted to the new data.
    public func standardizing<S>(_ data: Dataset<S>) throws(DatasetError) -> Dataset<S> {
        var result = data
        if let standardization, data.standardization == nil { result = try result.standardized(with: standardization) }
        if let targetStandardization, data.targetStandardization == nil {
            result = try result.targetsStandardized(with: targetStandardization)
        }
        return result
    }
}
