/// Class names for integer labels that are not the indices 0..<K: grades 10…16 named
/// a…g, labels 1 and 2 named ham and spam.
extension ClassLabels {
    /// The index of each label when every label is an integer, there are exactly as many
    /// distinct values as `names` and they are not 0..<K: the i-th smallest value is the
    /// i-th name. Nil otherwise (labels 0..<K are indices into the names).
    static func namingSortedIntegers(_ labels: Set<String>, names: [String]) -> [String: Int]? {
        var values: [String: Int] = [:]
        for label in labels {
            guard let value = NumericText.canonicalInteger(label).flatMap({ Int($0) }) else { return nil }
            values[label] = value
        }
        let distinct = Set(values.values).sorted()
        guard distinct.count == names.count, distinct != Array(0..<names.count) else { return nil }
        let position = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        return values.mapValues { position[$0]! }
    }

    /// What a reader tells its user when `names` (`--class-names`) name the labels of
    /// `file` in numeric order (``namingSortedIntegers(_:names:)``); nil when they do not.
    public static func sortedIntegersNote(labels: [String], names: [String], file: String) -> String? {
        guard let lookup = namingSortedIntegers(Set(labels), names: names) else { return nil }
        // Each class's label in its plain form ("10.0" is 10).
        var label: [Int: String] = [:]
        for (text, index) in lookup { label[index] = NumericText.canonicalInteger(text) ?? text }
        let pairs = names.indices.prefix(8).map { "\(label[$0] ?? "?") → \(shown(names[$0]))" }.joined(separator: ", ")
        return "\(file): the labels are \(names.count) integers, not 0..<\(names.count): the class names name them in numeric order (\(pairs)\(names.count > 8 ? ", …" : ""))"
    }
}
