/// What a model learns from a data set's targets: which of several classes an example
/// belongs to, or one or more numbers.
public enum LearningTask: String, Sendable, Hashable, Codable, CaseIterable {
    case classification
    case regression

    /// The most distinct integer values a numeric target may hold and still be read as
    /// class labels without being told.
    public static let maximumInferredClasses = 20

    /// The task a target column asks for, with the reason in words: text labels are
    /// classes; numbers are classes when all are integers with few distinct values (at
    /// most ``maximumInferredClasses``, and at most half the examples unless there are
    /// only two), anything else is regression.
    public static func inferred(fromTargets texts: [String], named name: String) -> (task: LearningTask, reason: String) {
        let target = "target '\(shown(name))'"
        var numbers: [Double] = []
        numbers.reserveCapacity(texts.count)
        for text in texts {
            guard let value = NumericText.value(text) else {
                return (.classification, "\(target) holds text labels such as '\(shown(text))'")
            }
            numbers.append(value)
        }
        if let nonInteger = numbers.firstIndex(where: { !NumericText.isInteger($0) }) {
            return (.regression, "\(target) holds numbers that are not integers, such as \(shown(texts[nonInteger]))")
        }
        if let classes = classValues(numbers) {
            return (.classification, "\(target) holds \(classes.count) distinct integer values (\(listed(classes)))")
        }
        let count = Set(numbers).count
        let why = count > maximumInferredClasses ? "more than \(maximumInferredClasses)" : "too many for \(texts.count) examples"
        return (.regression, "\(target) holds \(count) distinct integer values (\(why) to be classes)")
    }

    /// The distinct values of `values`, sorted, when they read as class labels: all
    /// integers, at most ``maximumInferredClasses`` of them, and at most half the examples
    /// unless there are only two; nil otherwise.
    public static func classValues(_ values: [Double]) -> [Double]? {
        guard values.allSatisfy(NumericText.isInteger) else { return nil }
        let distinct = Set(values)
        guard distinct.count <= maximumInferredClasses && (distinct.count <= 2 || distinct.count * 2 <= values.count) else {
            return nil
        }
        return distinct.sorted()
    }

    /// Sorted class values as a list: the first six, then "…".
    public static func listed(_ classes: [Double]) -> String {
        classes.prefix(6).map { String(Int64($0)) }.joined(separator: ", ") + (classes.count > 6 ? ", …" : "")
    }
}
