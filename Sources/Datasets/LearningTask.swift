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
        var integers = Set<Double>()
        var nonInteger: String?
        for text in texts {
            guard let value = Double(text) else {
                return (.classification, "\(target) holds text labels such as '\(shown(text))'")
            }
            if value.rounded() == value && Swift.abs(value) < 1e15 { integers.insert(value) } else if nonInteger == nil {
                nonInteger = text
            }
        }
        if let nonInteger {
            return (.regression, "\(target) holds numbers that are not integers, such as \(shown(nonInteger))")
        }
        let count = integers.count
        let sorted = integers.sorted().prefix(6).map { String(Int64($0)) }
        let listed = sorted.joined(separator: ", ") + (count > 6 ? ", …" : "")
        if count <= maximumInferredClasses && (count <= 2 || count * 2 <= texts.count) {
            return (.classification, "\(target) holds \(count) distinct integer values (\(listed))")
        }
        let why = count > maximumInferredClasses ? "more than \(maximumInferredClasses)" : "too many for \(texts.count) examples"
        return (.regression, "\(target) holds \(count) distinct integer values (\(why) to be classes)")
    }
}
