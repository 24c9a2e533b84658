import Foundation
import Tensors

/// What a model will cost in memory, known before it is built or trained, so that a
/// size a machine cannot hold is a one-line error rather than a failed allocation.
public enum Memory {
    /// This machine's physical memory in bytes.
    public static var physical: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// `bytes` for people: "512 B", "3.2 MB", "48 GB".
    public static func text(_ bytes: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 || value >= 10 ? "\(Int(value.rounded())) \(units[unit])" : String(format: "%.1f %@", value, units[unit])
    }

    /// `a × b`, saturating at `Int.max` (sizes read from files and flags can be anything).
    public static func product(_ values: [Int]) -> Int {
        values.reduce(1) { acc, n in
            let (p, overflow) = acc.multipliedReportingOverflow(by: max(n, 0))
            return overflow ? .max : p
        }
    }

    /// `a + b`, saturating at `Int.max`.
    public static func sum(_ values: [Int]) -> Int {
        values.reduce(0) { acc, n in
            let (s, overflow) = acc.addingReportingOverflow(n)
            return overflow ? .max : s
        }
    }

    /// Throws when `parameters` values of `S` would not fit in this machine's memory:
    /// building such a model could only end in a failed allocation.
    public static func checkParameters<S: TensorScalar>(_ parameters: Int, of _: S.Type, model: String) throws(ConfigurationError) {
        let bytes = product([parameters, MemoryLayout<S>.size])
        guard bytes <= physical else {
            throw ConfigurationError("\(model) has \(parameters == .max ? "more than \(Int.max)" : "\(parameters)") parameters, \(bytes == .max ? "more than \(text(.max))" : text(bytes)) as \(S.self == Float.self ? "float32" : S.self == Double.self ? "float64" : "\(S.self)"), more than this machine's \(text(physical)) of memory")
        }
    }

    /// The memory running `model` needs, in bytes, estimated before any work: the
    /// parameters, and for a batch of `batchSize` examples the layers' outputs. Training
    /// (`optimizerSlots` set) keeps every output for the backward pass with a gradient of
    /// the same size, and a gradient and the optimizer's state per parameter; inference
    /// holds two outputs at a time. Saturates at `Int.max`.
    public static func workingBytes<Model: Layer>(
        _ model: Model, inputShape: [Int], batchSize: Int, optimizerSlots: Int? = nil
    ) throws(ShapeError) -> Int {
        let size = MemoryLayout<Model.Scalar>.size
        var outputs: [Int] = []
        var shape = inputShape
        for layer in (model as? Sequential<Model.Scalar>)?.layers ?? [model] {
            shape = try layer.outputShape(forInput: shape)
            outputs.append(product(shape))
        }
        let batch = max(batchSize, 1)
        let input = product(inputShape + [batch, size])
        guard let slots = optimizerSlots else {
            return sum([product([model.parameterCount, size]), input, product([outputs.max() ?? 0, 2, batch, size])])
        }
        return sum([product([model.parameterCount, 2 + slots, size]), input, product([sum(outputs), 2, batch, size])])
    }
}
