import Foundation
import Testing

/// The documentation quotes what the examples print: each fenced block after
/// `<!-- output of example-NAME --small -->` must be lines the program prints now, so that
/// the articles cannot drift from the code.
@Suite("documentation quotes the examples' output")
struct ArticleQuoteTests {
    static let catalogue = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/Backprop/Backprop.docc").standardized

    struct Quote {
        let article: String
        let executable: String
        let arguments: [String]
        let lines: [String]
    }

    static func quotes() throws -> [Quote] {
        let expression = try NSRegularExpression(pattern: #"<!-- output of (example-[a-z0-9-]+)((?: --[a-z-]+)*) -->\n```[a-z]*\n(.*?)\n```"#,
                                                 options: [.dotMatchesLineSeparators])
        var quotes: [Quote] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: catalogue.path).filter({ $0.hasSuffix(".md") }).sorted() {
            let text = try String(contentsOf: catalogue.appendingPathComponent(file), encoding: .utf8)
            for match in expression.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                func group(_ i: Int) -> String { Range(match.range(at: i), in: text).map { String(text[$0]) } ?? "" }
                quotes.append(Quote(article: file, executable: group(1),
                                    arguments: group(2).split(separator: " ").map(String.init),
                                    lines: group(3).split(separator: "\n").map(String.init)))
            }
        }
        return quotes
    }

    /// A quoted line matches a printed one when every word is the same, except numbers
    /// at the level of rounding (|x| < 1e-10: a residue that differs between CPUs' BLAS
    /// kernels), which must both be that small.
    static func matches(_ quoted: String, _ printed: String) -> Bool {
        if quoted == printed { return true }
        let a = quoted.split(separator: " "), b = printed.split(separator: " ")
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            if x == y { return true }
            let trim: (Substring) -> Double? = { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: ",;:()"))) }
            guard let u = trim(x), let v = trim(y) else { return false }
            return abs(u) < 1e-10 && abs(v) < 1e-10
        }
    }

    @Test("every quoted line is printed by its example as it is now")
    func quotesMatch() throws {
        let quotes = try Self.quotes()
        #expect(Set(quotes.map(\.executable)).count >= 9, "the articles quote every example")
        var outputs: [String: [String]] = [:]
        for quote in quotes {
            #expect(!quote.lines.contains { $0.hasPrefix("time:") }, "\(quote.article): timings vary; quote none")
            let key = ([quote.executable] + quote.arguments).joined(separator: " ")
            if outputs[key] == nil {
                let run = try Run(quote.arguments, executable: quote.executable)
                #expect(run.status == 0, "\(key): \(run.error)")
                outputs[key] = run.output.split(separator: "\n").map(String.init)
            }
            for line in quote.lines where !line.isEmpty {
                #expect(outputs[key]!.contains { Self.matches(line, $0) }, "\(quote.article) quotes a line \(key) does not print: \(line)")
            }
        }
    }

    @Test("the comparison is exact but for rounding residues")
    func comparison() {
        #expect(Self.matches("error 1.5e-16, ok", "error 2.2e-16, ok"))
        #expect(!Self.matches("loss 0.4670", "loss 0.4671"))
        #expect(!Self.matches("error 1.5e-16", "error 1.5e-06"))
        #expect(!Self.matches("accuracy 1.000", "accuracy 1.000 0.9"))
    }
}
