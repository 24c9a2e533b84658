/// Numbers as CSV cells and labels spell them.
enum NumericText {
    /// The number `text` spells ("1.5", "-0", "1e3", "inf"), nil otherwise. A NUL byte
    /// is not part of a number (`Double("3\0junk")` reads 3), nor is a hexadecimal one a
    /// CSV cell means (`Double("0x1A")` reads 26; spreadsheets and pandas read text).
    static func value(_ text: String) -> Double? {
        text.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }) ? nil : Double(text)
    }

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
