import Tensors

/// Numbers as CSV cells and labels spell them.
enum NumericText {
    /// The number `text` spells ("1.5", "-0", "1e3", "inf"), nil otherwise: a NUL byte
    /// is not part of a number, nor is a hexadecimal one a CSV cell means (`0x1A`;
    /// spreadsheets and pandas read text). See ``Swift/Double/init(decimal:)``.
    static func value(_ text: String) -> Double? { Double(decimal: text) }

    /// Whether `value` is an integer that a class label can be (below 10¹⁵ in magnitude,
    /// so that it converts to `Int` exactly).
    static func isInteger(_ value: Double) -> Bool { value.rounded() == value && Swift.abs(value) < 1e15 }

    /// The integer `text` spells, written plainly: "1", "01", "1.0" and "1e0" are "1";
    /// "-0" is "0". nil when `text` spells no integer.
    static func canonicalInteger(_ text: String) -> String? {
        guard let value = value(text), isInteger(value) else { return nil }
        return String(Int64(value))
    }

    /// Whether `text`, which reads as an infinite or NaN number, says so ("inf", "-nan",
    /// "Infinity") rather than overflowing (`1e309`).
    static func namesNonFinite(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("inf") || lower.contains("nan")
    }
}
