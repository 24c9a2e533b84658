extension CSVFormat {
    /// `text` as one CSV field (RFC 4180): in double quotes, with quotes doubled, when it
    /// holds a comma, a quote or a line break, or starts or ends with a space or a tab
    /// (which ``CSVTable`` would trim); otherwise as it is. "cat, the animal" is written
    /// `"cat, the animal"`, and `say "hi"` as `"say ""hi"""`.
    public static func field(_ text: String) -> String {
        let needsQuotes = text.utf8.contains { [0x2C, 0x22, 0x0A, 0x0D].contains($0) }
            || text.first.map { $0 == " " || $0 == "\t" } == true || text.last.map { $0 == " " || $0 == "\t" } == true
        guard needsQuotes else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One CSV line of `fields`, each written with ``field(_:)``, without the line break.
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",")
    }
}
