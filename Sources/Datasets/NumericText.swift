/// Numbers as CSV cells and labels spell them.
enum NumericText {
    /// The number `text` spells ("1.5", "-0", "1e3", "inf"), nil otherwise. A NUL byte
    /// is not part of a number (`Double("3\0junk")` reads 3).
    static func value(_ text: String) -> Double? {
        text.utf8.contains(0) ? nil : Double(text)
    }

    /// Whether `text`, which reads as an infinite or NaN number, says so ("inf", "-nan",
    /// "Infinity") rather than overflowing (`1e309`).
    static func namesNonFinite(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("inf") || lower.contains("nan")
    }
}
