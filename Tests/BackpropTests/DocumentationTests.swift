import Foundation
import Testing

/// Every public symbol of the library's core modules carries a `///` comment, so that the
/// DocC site (`make docs`) has something to say about each of them.
@Suite("documentation")
struct DocumentationTests {
    /// The modules whose public symbols must all be documented.
    static let modules = ["Tensors", "NeuralNetworks", "Training"]
    /// `Sources/`, found from this file: `Tests/BackpropTests/DocumentationTests.swift`.
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    @Test("every public declaration of Tensors, NeuralNetworks and Training has a /// comment")
    func publicSymbolsAreDocumented() throws {
        var undocumented: [String] = []
        var declarations = 0
        for module in Self.modules {
            for file in try Self.swiftFiles(in: Self.sources.appendingPathComponent(module)) {
                let text = try String(contentsOf: file, encoding: .utf8)
                let found = PublicDeclarationScanner.scan(text)
                declarations += found.count
                let name = "\(module)/" + file.path.dropFirst(Self.sources.appendingPathComponent(module).path.count + 1)
                undocumented += found.filter { !$0.isDocumented }.map { "Sources/\(name):\($0.line): \($0.text)" }
            }
        }
        #expect(declarations > 300, "the scanner found only \(declarations) public declarations in \(Self.sources.path)")
        let list = undocumented.joined(separator: "\n")
        #expect(undocumented.isEmpty, "\(undocumented.count) public declarations without a /// comment:\n\(list)")
    }

    @Test("the scanner finds what is undocumented and only that")
    func scannerCatchesUndocumentedSymbols() {
        let source = #"""
            /// A documented type.
            public struct Documented {
                public var missing: Int
                /// Documented.
                @inlinable
                @discardableResult
                public func kept() -> Int { let text = "{ public func inString() }"; return 1 }
                var internalOne: Int
                func helper() { switch 1 { case 1: break; default: break } }
            }
            public enum Choice {
                /// The first.
                case first
                case second(Int)
            }
            struct Internal {
                public var ignored: Int
            }
            public protocol Requirement {
                /// Documented requirement.
                func documented()
                var undocumented: Int { get }
            }
            extension Documented {
                /** Block comment. */
                public static func block() {}
                public init(value: Int) { missing = value }
                private func hidden() {}
            }
            public extension Choice {
                var implicitlyPublic: Int { 0 }
            }
            /* public func commented() */
            """#
        let missing = PublicDeclarationScanner.scan(source).filter { !$0.isDocumented }.map(\.line)
        #expect(missing == [3, 11, 14, 19, 22, 27, 31], "\(missing)")
    }

    /// The `.swift` files under `directory`, sorted by path.
    static func swiftFiles(in directory: URL) throws -> [URL] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        let files = (enumerator?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "swift" }
        #expect(!files.isEmpty, "no Swift files in \(directory.path)")
        return files.sorted { $0.path < $1.path }
    }
}

/// Finds the declarations of a Swift file that are public (explicitly `public`/`open`, or
/// implicitly: requirements of a public protocol, members of a `public extension`, cases
/// of a public enum) and whether a doc comment (`///` or `/** */`) sits directly above
/// them, attributes such as `@inlinable` allowed in between. Members of non-public types
/// and anything inside a function body are skipped.
enum PublicDeclarationScanner {
    struct Declaration {
        var line: Int
        var text: String
        var isDocumented: Bool
    }

    private enum Scope {
        case container(isPublic: Bool, isEnum: Bool, isProtocol: Bool, isPublicExtension: Bool)
        case body
    }

    private static let keywords: Set<String> = [
        "func", "var", "let", "init", "subscript", "struct", "class", "enum", "protocol", "typealias",
        "case", "associatedtype", "actor", "extension", "deinit", "macro", "operator", "precedencegroup",
    ]
    private static let modifiers: Set<String> = [
        "public", "open", "private", "fileprivate", "internal", "package", "static", "class", "final",
        "override", "mutating", "nonmutating", "convenience", "required", "lazy", "weak", "unowned",
        "indirect", "dynamic", "nonisolated", "prefix", "postfix", "infix", "optional", "borrowing", "consuming",
    ]
    private static let typeKeywords: Set<String> = ["struct", "class", "enum", "protocol", "actor"]

    static func scan(_ source: String) -> [Declaration] {
        let rawLines = source.components(separatedBy: "\n")
        let codeLines = codeOnly(source).components(separatedBy: "\n")
        var scopes: [Scope] = [.container(isPublic: true, isEnum: false, isProtocol: false, isPublicExtension: false)]
        var pending: Scope?
        var found: [Declaration] = []
        for (index, code) in codeLines.enumerated() {
            if scopes.allSatisfy({ if case .container = $0 { true } else { false } }),
               case .container(let isPublic, let isEnum, let isProtocol, let isPublicExtension)? = scopes.last,
               let (keyword, access) = declaration(in: code)
            {
                let explicitPublic = access.contains("public") || access.contains("open")
                let explicitOther = !access.isEmpty && !explicitPublic
                let implicitPublic = !explicitOther && (isProtocol || isPublicExtension || (isEnum && keyword == "case"))
                let effective = isPublic && (explicitPublic || implicitPublic) && keyword != "deinit"
                if keyword == "extension" {
                    pending = .container(isPublic: true, isEnum: false, isProtocol: false, isPublicExtension: explicitPublic)
                } else if typeKeywords.contains(keyword) {
                    pending = .container(
                        isPublic: effective, isEnum: keyword == "enum", isProtocol: keyword == "protocol", isPublicExtension: false)
                }
                if effective && keyword != "extension" {
                    let text = rawLines[index].trimmingCharacters(in: .whitespaces)
                    found.append(Declaration(line: index + 1, text: text, isDocumented: hasDocComment(above: index, in: rawLines)))
                }
            }
            for character in code {
                if character == "{" {
                    scopes.append(pending ?? .body)
                    pending = nil
                } else if character == "}", scopes.count > 1 {
                    scopes.removeLast()
                }
            }
        }
        return found
    }

    /// The declaration keyword and access modifiers of a line that starts a declaration.
    private static func declaration(in code: String) -> (keyword: String, access: [String])? {
        var rest = Substring(code.trimmingCharacters(in: .whitespaces))
        var access: [String] = []
        while !rest.isEmpty {
            if rest.first == "@" {
                rest = rest.dropFirst().drop { $0.isLetter || $0.isNumber || $0 == "_" }
                if rest.first == "(" { rest = skipParentheses(rest) }
                rest = rest.drop { $0 == " " }
                continue
            }
            let word = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            rest = rest.dropFirst(word.count)
            if rest.first == "(" && ["private", "fileprivate", "internal", "public", "package"].contains(word) {
                rest = skipParentheses(rest)  // private(set) says nothing about reading
            } else if ["public", "open", "private", "fileprivate", "internal", "package"].contains(word) {
                access.append(word)
            }
            rest = rest.drop { $0 == " " }
            let next = String(rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" })
            if word == "class" && keywords.contains(next) { continue }
            if keywords.contains(word) { return (word, access) }
            if !modifiers.contains(word) { return nil }
        }
        return nil
    }

    private static func skipParentheses(_ text: Substring) -> Substring {
        var depth = 0
        for index in text.indices {
            if text[index] == "(" { depth += 1 }
            if text[index] == ")" { depth -= 1 }
            if depth == 0 { return text[text.index(after: index)...] }
        }
        return ""
    }

    private static func hasDocComment(above index: Int, in lines: [String]) -> Bool {
        var above = index - 1
        while above >= 0, lines[above].trimmingCharacters(in: .whitespaces).hasPrefix("@") { above -= 1 }
        guard above >= 0 else { return false }
        let line = lines[above].trimmingCharacters(in: .whitespaces)
        return line.hasPrefix("///") || (line.hasSuffix("*/") && !line.hasPrefix("//"))
    }

    /// `source` with comments and the contents of string literals blanked out (line breaks
    /// kept), so that braces and keywords in them are not taken for code.
    static func codeOnly(_ source: String) -> String {
        var lexer = Lexer(bytes: Array(source.utf8))
        lexer.code(untilClosingParenthesis: false)
        return String(decoding: lexer.output, as: UTF8.self)
    }

    private struct Lexer {
        let bytes: [UInt8]
        var position = 0
        var output: [UInt8] = []

        init(bytes: [UInt8]) {
            self.bytes = bytes
            output.reserveCapacity(bytes.count)
        }

        func peek(_ offset: Int = 0) -> UInt8? {
            position + offset < bytes.count ? bytes[position + offset] : nil
        }

        mutating func blank(_ count: Int = 1) {
            for _ in 0..<count where position < bytes.count {
                output.append(bytes[position] == UInt8(ascii: "\n") ? UInt8(ascii: "\n") : UInt8(ascii: " "))
                position += 1
            }
        }

        mutating func copy() {
            output.append(bytes[position])
            position += 1
        }

        mutating func code(untilClosingParenthesis: Bool) {
            var parentheses = 0
            while let byte = peek() {
                switch byte {
                case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                    while let next = peek(), next != UInt8(ascii: "\n") { _ = next; blank() }
                case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                    blockComment()
                case UInt8(ascii: "\""):
                    stringLiteral()
                case UInt8(ascii: "#") where peek(1) == UInt8(ascii: "\"") || peek(1) == UInt8(ascii: "#"):
                    stringLiteral()
                case UInt8(ascii: "(") where untilClosingParenthesis:
                    parentheses += 1
                    copy()
                case UInt8(ascii: ")") where untilClosingParenthesis:
                    if parentheses == 0 { return }
                    parentheses -= 1
                    copy()
                default:
                    copy()
                }
            }
        }

        mutating func blockComment() {
            var depth = 0
            while peek() != nil {
                if peek() == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "*") {
                    depth += 1
                    blank(2)
                } else if peek() == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") {
                    depth -= 1
                    blank(2)
                    if depth == 0 { return }
                } else {
                    blank()
                }
            }
        }

        /// A string literal, `"…"`, `"""…"""` or raw with `#`s; interpolations are code.
        mutating func stringLiteral() {
            var hashes = 0
            while peek() == UInt8(ascii: "#") {
                hashes += 1
                copy()
            }
            guard peek() == UInt8(ascii: "\"") else { return }  // `#if` and the like
            let multiline = peek(1) == UInt8(ascii: "\"") && peek(2) == UInt8(ascii: "\"")
            let quotes = multiline ? 3 : 1
            for _ in 0..<quotes { copy() }
            while let byte = peek() {
                if byte == UInt8(ascii: "\\") && (0..<hashes).allSatisfy({ peek(1 + $0) == UInt8(ascii: "#") }) {
                    blank(1 + hashes)
                    if peek() == UInt8(ascii: "(") {
                        copy()
                        code(untilClosingParenthesis: true)
                        if peek() != nil { copy() }
                    } else {
                        blank()
                    }
                } else if byte == UInt8(ascii: "\"")
                    && (0..<quotes).allSatisfy({ peek($0) == UInt8(ascii: "\"") })
                    && (0..<hashes).allSatisfy({ peek(quotes + $0) == UInt8(ascii: "#") })
                {
                    for _ in 0..<(quotes + hashes) { copy() }
                    return
                } else {
                    blank()
                }
            }
        }
    }
}
