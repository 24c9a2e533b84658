import Foundation

/// `backprop explain --html`: the explanation (and the trace) as one self-contained page,
/// the notes' notation set as maths with superscripts, in fonts of the reader's machine.
struct ExplanationPage {
    let model: String
    let explanation: String
    let trace: String?
    /// Whether the trace's check passed (nil without a trace).
    let passed: Bool?

    func html() -> String {
        var body: [String] = []
        var inList = false
        func closeList() { if inList { body.append("</div>"); inList = false } }
        for line in explanation.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.isEmpty { closeList(); continue }
            if line.hasPrefix("   ") {
                if !inList { body.append("<div class=\"layer\">"); inList = true }
                body.append("<p class=\"eq\">\(Self.maths(line.trimmingCharacters(in: .whitespaces)))</p>")
            } else if let colon = line.firstIndex(of: ":"), line[..<colon].allSatisfy(\.isNumber) {
                closeList()
                body.append("<h3>Layer \(Self.maths(line))</h3>")
            } else if line.hasSuffix(":") {
                closeList()
                body.append("<h2>\(Self.maths(String(line.dropLast())))</h2>")
            } else if line.hasPrefix("Parameters:") || line.hasPrefix("FLOPs") || line.hasPrefix("Memory") {
                closeList()
                body.append("<p class=\"total\">\(Self.maths(line))</p>")
            } else {
                closeList()
                body.append("<p>\(Self.maths(line))</p>")
            }
        }
        closeList()
        var traceHTML = ""
        if let trace, let passed {
            traceHTML = """
            <h2>One step, checked</h2>
            <p class="\(passed ? "ok" : "fail")">\(passed ? "Every gradient agrees three ways within the tolerance." : "The check FAILED: a gradient disagrees beyond the tolerance (see below).")</p>
            <pre>\(Self.maths(trace))</pre>
            """
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Backprop: explain \(escape(model))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; line-height: 1.45; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        h3 { font-size: 1.05em; margin: 1.2em 0 .3em; font-family: ui-monospace, monospace; }
        .layer { border-left: 3px solid #1f77b4; padding: .1em 1em; background: #f8fafc; }
        .eq, .total, pre { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "DejaVu Serif", serif; }
        .eq { margin: .35em 0; font-size: 1.08em; }
        .total { font-size: 1.1em; font-weight: 600; margin: .3em 0; }
        sup { font-size: .72em; line-height: 0; }
        pre { background: #f5f7fa; padding: 1em; overflow-x: auto; font-size: .92em; line-height: 1.5; }
        .ok { background: #eef8ee; border-left: 4px solid #4a4; padding: .4em .8em; }
        .fail { background: #fdecea; border-left: 4px solid #d33; padding: .4em .8em; }
        .note { color: #666; font-size: .85em; }
        </style></head><body>
        <h1>\(escape(model)) in the notes' notation</h1>
        <p class="note">Superscripts [ℓ] name layers as the notes do; B is the batch size. Written by backprop explain.</p>
        \(body.joined(separator: "\n"))
        \(traceHTML)
        </body></html>
        """
    }

    /// Escapes `text` and sets the notes' superscripts: `^[ℓ]`, `^{16×16}`, `^16`.
    static func maths(_ text: String) -> String {
        var html = escape(text)
        for (pattern, template) in [(#"\^\[([^\]]*)\]"#, "<sup>[$1]</sup>"), (#"\^\{([^}]*)\}"#, "<sup>$1</sup>"),
                                    (#"\^([0-9A-Za-z×]+)"#, "<sup>$1</sup>")] {
            let expression = try! NSRegularExpression(pattern: pattern)
            html = expression.stringByReplacingMatches(in: html, range: NSRange(html.startIndex..., in: html), withTemplate: template)
        }
        return html
    }
}
