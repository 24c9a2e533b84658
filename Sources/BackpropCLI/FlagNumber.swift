import ArgumentParser
import Tensors

/// A number given to a flag (`--lr 0.01`, GAMMA in `--schedule exponential:0.9`): decimal
/// and finite. Swift's `Double("0x10")` reads 16 and `Double("nan")` NaN, neither of which
/// a rate, a momentum, a fraction or a tolerance means; every floating-point flag reads
/// through here, as an option's transform (``parse(_:)``) or inside its own syntax
/// (``fault(_:)``), so that each refuses them in one line naming the flag. (An option
/// with a transform shows no default in its help: its help says it.)
enum FlagNumber {
    /// What is wrong with `text` as a flag's number, said of it ("is hexadecimal; …");
    /// nil when it is a finite decimal number.
    static func fault(_ text: String) -> String? {
        if let value = Double(decimal: text) { return value.isFinite ? nil : "is not a finite number" }
        return text.lowercased().contains("x") && Double(text) != nil ? "is hexadecimal; write the number in decimal"
                                                                     : "is not a number"
    }

    /// `text` as a finite decimal number; for `@Option(transform:)`, whose error the
    /// parser prints after the flag's name and the value.
    @Sendable static func parse(_ text: String) throws -> Double {
        guard let value = Double(decimal: text), value.isFinite else { throw ValidationError("it \(fault(text) ?? "is not a number")") }
        return value
    }
}
