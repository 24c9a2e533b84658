import Foundation

/// A validator for the part of JSON Schema (draft 2020-12) that `docs/model.schema.json`
/// uses: `type`, `properties`, `required`, `additionalProperties`, `items`, `prefixItems`,
/// `enum`, `const`, `minimum`, `exclusiveMinimum`, `maximum`, `exclusiveMaximum`,
/// `minItems`, `maxItems`, `oneOf`, `anyOf`, `allOf`, `not` and local `$ref`s
/// (`#/$defs/name`). Any other keyword in the schema is an error, so that the schema
/// cannot say more than is checked.
struct JSONSchemaValidator {
    let root: [String: Any]

    static let annotations: Set<String> = ["$schema", "$id", "$comment", "title", "description", "default", "examples", "$defs"]
    static let assertions: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "prefixItems", "enum", "const", "minimum",
        "exclusiveMinimum", "maximum", "exclusiveMaximum", "minItems", "maxItems", "oneOf", "anyOf", "allOf", "not", "$ref",
    ]

    init(schema: Data) throws {
        guard let root = try JSONSerialization.jsonObject(with: schema) as? [String: Any] else {
            throw ValidationFailure(path: "$", reason: "the schema is not an object")
        }
        self.root = root
    }

    struct ValidationFailure: Error, CustomStringConvertible {
        let path: String
        let reason: String
        var description: String { "\(path): \(reason)" }
    }

    /// The first failure of `instance` (JSON bytes) against the schema; nil when it is valid.
    func failure(of instance: Data) throws -> ValidationFailure? {
        let value = try JSONSerialization.jsonObject(with: instance, options: [.fragmentsAllowed])
        return try check(value, against: root, at: "$")
    }

    private func check(_ value: Any, against schema: [String: Any], at path: String) throws -> ValidationFailure? {
        for key in schema.keys where !Self.annotations.contains(key) && !Self.assertions.contains(key) {
            throw ValidationFailure(path: path, reason: "schema keyword '\(key)' is not supported by this validator")
        }
        func fail(_ reason: String) -> ValidationFailure { ValidationFailure(path: path, reason: reason) }
        if let reference = schema["$ref"] as? String {
            guard reference.hasPrefix("#/$defs/"), let definitions = root["$defs"] as? [String: Any],
                  let target = definitions[String(reference.dropFirst("#/$defs/".count))] as? [String: Any] else {
                throw fail("unresolvable $ref \(reference)")
            }
            if let failure = try check(value, against: target, at: path) { return failure }
        }
        if let types = schema["type"] {
            let allowed = (types as? [String]) ?? [types as? String ?? ""]
            guard allowed.contains(where: { Self.matches(value, type: $0) }) else {
                return fail("expected \(allowed.joined(separator: " or ")), found \(Self.kind(of: value))")
            }
        }
        if let options = schema["enum"] as? [Any], !options.contains(where: { Self.equal($0, value) }) {
            return fail("\(value) is not one of \(options)")
        }
        if let constant = schema["const"], !Self.equal(constant, value) { return fail("\(value) is not \(constant)") }
        if let number = Self.number(value) {
            if let minimum = schema["minimum"] as? Double, number < minimum { return fail("\(number) < minimum \(minimum)") }
            if let minimum = schema["exclusiveMinimum"] as? Double, number <= minimum { return fail("\(number) ≤ \(minimum)") }
            if let maximum = schema["maximum"] as? Double, number > maximum { return fail("\(number) > maximum \(maximum)") }
            if let maximum = schema["exclusiveMaximum"] as? Double, number >= maximum { return fail("\(number) ≥ \(maximum)") }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in schema["required"] as? [String] ?? [] where object[name] == nil { return fail("missing required '\(name)'") }
            for (name, member) in object {
                if let property = properties[name] as? [String: Any] {
                    if let failure = try check(member, against: property, at: "\(path).\(name)") { return failure }
                } else if let additional = schema["additionalProperties"] {
                    if let allowed = additional as? Bool, !allowed { return fail("'\(name)' is not an allowed key") }
                    if let extra = additional as? [String: Any], let failure = try check(member, against: extra, at: "\(path).\(name)") {
                        return failure
                    }
                }
            }
        }
        if let array = value as? [Any], !(value is [String: Any]) {
            if let minimum = schema["minItems"] as? Int, array.count < minimum { return fail("fewer than \(minimum) items") }
            if let maximum = schema["maxItems"] as? Int, array.count > maximum { return fail("more than \(maximum) items") }
            let prefix = schema["prefixItems"] as? [[String: Any]] ?? []
            for (index, item) in array.enumerated() {
                let itemSchema = index < prefix.count ? prefix[index] : schema["items"] as? [String: Any]
                if let itemSchema, let failure = try check(item, against: itemSchema, at: "\(path)[\(index)]") { return failure }
            }
        }
        if let all = schema["allOf"] as? [[String: Any]] {
            for part in all { if let failure = try check(value, against: part, at: path) { return failure } }
        }
        if let any = schema["anyOf"] as? [[String: Any]] {
            var matched = false
            for part in any where try check(value, against: part, at: path) == nil { matched = true }
            if !matched { return fail("matches none of anyOf") }
        }
        if let one = schema["oneOf"] as? [[String: Any]] {
            var failures: [ValidationFailure] = []
            var matches = 0
            for part in one {
                if let failure = try check(value, against: part, at: path) { failures.append(failure) } else { matches += 1 }
            }
            if matches != 1 {
                return fail(matches == 0 ? "matches none of oneOf (\(failures.map(\.description).joined(separator: "; ")))"
                                         : "matches \(matches) of oneOf")
            }
        }
        if let not = schema["not"] as? [String: Any], try check(value, against: not, at: path) == nil {
            return fail("matches a schema it must not")
        }
        return nil
    }

    private static func isBoolean(_ value: Any) -> Bool {
        // JSONSerialization gives true and false as NSNumbers of type char ("c").
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    private static func number(_ value: Any) -> Double? {
        guard !isBoolean(value), let number = value as? NSNumber else { return nil }
        return number.doubleValue
    }

    private static func matches(_ value: Any, type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any] && !(value is [String: Any])
        case "string": return value is String
        case "boolean": return isBoolean(value)
        case "null": return value is NSNull
        case "number": return number(value) != nil
        case "integer": return number(value).map { $0.rounded() == $0 } ?? false
        default: return false
        }
    }

    private static func kind(of value: Any) -> String {
        for type in ["null", "boolean", "integer", "number", "string", "array", "object"] where matches(value, type: type) {
            return type
        }
        return "\(type(of: value))"
    }

    private static func equal(_ a: Any, _ b: Any) -> Bool {
        if let x = a as? String, let y = b as? String { return x == y }
        if isBoolean(a) || isBoolean(b) { return isBoolean(a) && isBoolean(b) && (a as? Bool) == (b as? Bool) }
        if let x = number(a), let y = number(b) { return x == y }
        if a is NSNull && b is NSNull { return true }
        return false
    }
}
