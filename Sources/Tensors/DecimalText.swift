extension Double {
    /// The number `text` spells in decimal notation (`1.5`, `-0`, `1e3`, `inf`, `nan`), or
    /// nil. Unlike `Double(_:)`, it reads no hexadecimal (`Double("0x10")` is 16, which no
    /// spreadsheet cell, class label or command-line rate means) and stops at no NUL byte
    /// (`Double("3\0junk")` is 3). The readers, the model specs and the command-line flags
    /// read their numbers through it; each decides whether NaN and infinity make sense.
    public init?(decimal text: some StringProtocol) {
        guard !text.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }),
              let value = Double(text) else { return nil }
        self = value
    }
}
