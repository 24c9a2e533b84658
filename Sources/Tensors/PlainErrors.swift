import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of plain words for the errors Foundation throws around files and JSON, for
/// the messages of the readers, the writers and the command-line tool (no error domains,
/// codes or coding-path dumps).
public enum PlainErrors {
    /// Why `error` happened, in a few words: a POSIX reason (`permission denied`, `no
    /// space left on device`), the failing JSON key and what was wrong with it, or the
    /// error's own description cut to one line.
    public static func reason(_ error: any Error) -> String {
        if let decoding = error as? DecodingError { return reason(decoding) }
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return posix(Int32(underlying.code))
        }
        if error.domain == NSPOSIXErrorDomain { return posix(Int32(error.code)) }
        if error.domain == NSCocoaErrorDomain {
            switch error.code {
            case CocoaError.fileReadNoSuchFile.rawValue, CocoaError.fileNoSuchFile.rawValue: return "no such file"
            case CocoaError.fileReadNoPermission.rawValue, CocoaError.fileWriteNoPermission.rawValue: return "permission denied"
            case CocoaError.fileWriteOutOfSpace.rawValue: return "no space left on device"
            case CocoaError.fileWriteVolumeReadOnly.rawValue: return "read-only file system"
            case CocoaError.fileWriteFileExists.rawValue: return "a file is in the way"
            case CocoaError.fileReadTooLarge.rawValue: return "the file is too large"
            default: break
            }
        }
        return oneLine(error.localizedDescription)
    }

    /// Why the file at `path` cannot be read, or nil when it can: it is missing, it is a
    /// directory, or it may not be read.
    public static func unreadableFile(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "it is a directory, not a file" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return nil
    }

    /// `text` with line breaks, tabs and other control characters written as escapes
    /// (`\n`, `\u{7}`), so that a message quoting input stays on one line.
    public static func escapingControlCharacters(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.properties.generalCategory == .control: result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `text` on one line, at most `limit` characters.
    public static func oneLine(_ text: String, limit: Int = 200) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > limit ? String(line.prefix(limit - 1)) + "…" : line
    }

    private static func posix(_ code: Int32) -> String { String(cString: strerror(code)).lowercased() }

    private static func reason(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = (context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "" : "'\(keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "["))': "
        }
        switch error {
        case .keyNotFound(let key, let context):
            return oneLine("\(path(context, key))missing")
        case .typeMismatch(let type, let context):
            return oneLine("\(path(context))expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return oneLine("\(path(context))expected \(describe(type)), found null")
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return oneLine("\(path(context))\(underlying ?? context.debugDescription)")
        @unknown default:
            return "not readable"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int32.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}
