import Tensors

/// The JSON form of a layer: one object whose only key names the case and whose value
/// holds its settings by label, `{"maxPool2D": {"kernelSize": [2, 2], "stride": [2, 2],
/// "padding": [0, 0], "ceilMode": false}}`; a case without settings is `{"flatten": {}}`.
///
/// Reading follows PyTorch's defaults for the keys a file leaves out: `stride` 1,
/// `padding` 0, `dilation` 1 and `useBias` true for conv2D; `useBias` true for dense;
/// pooling `stride` the kernel size (also when null, as PyTorch's `stride=None`),
/// `padding` 0, `ceilMode` false, `countIncludePad` true; batch norm `momentum` 0.1 and
/// `epsilon` 1e-5; and for activations the defaults of
/// ``LayerConfiguration/activation(function:negativeSlope:approximate:axis:)``; a function
/// may also be named as a model spec names it (`leakyrelu`, ``Activation/init(named:)``),
/// and is written back by its raw value (`leakyReLU`). A kernel
/// size, stride, padding or dilation may be one integer for both axes or a pair
/// `[height, width]`. A missing required key, an unknown key (such as a misspelt option,
/// which would otherwise be silently ignored) and an unknown layer type are errors naming
/// the layer and the key.
///
/// Writing writes every key (an activation: its function and the settings it reads), so
/// a file says everything and reads back equal.
extension LayerConfiguration {
    /// Reads a layer from its JSON object (see above); throws `DecodingError` naming the layer
    /// and the key for a missing required key, an unknown key or an unknown layer type.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: SettingKey.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            let keys = container.allKeys.map { "'\($0.stringValue)'" }.sorted().joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(
                codingPath: container.codingPath,
                debugDescription: "a layer is an object with one key, its type; found \(keys.isEmpty ? "none" : keys)"))
        }
        var settings = try Settings(container.nestedContainer(keyedBy: SettingKey.self, forKey: key), layer: key.stringValue)
        switch key.stringValue {
        case "dense":
            self = .dense(inputSize: try settings.required("inputSize"), outputSize: try settings.required("outputSize"),
                          useBias: try settings.optional("useBias") ?? true)
        case "activation":
            self = try Self.activation(&settings)
        case "dropout":
            self = .dropout(probability: try settings.required("probability"))
        case "sequential":
            self = .sequential(layers: try settings.required("layers"))
        case "conv2D":
            self = .conv2D(inputChannels: try settings.required("inputChannels"),
                           outputChannels: try settings.required("outputChannels"),
                           kernelSize: try settings.requiredPair("kernelSize"), stride: try settings.pair("stride") ?? [1, 1],
                           padding: try settings.pair("padding") ?? [0, 0], dilation: try settings.pair("dilation") ?? [1, 1],
                           useBias: try settings.optional("useBias") ?? true)
        case "maxPool2D":
            let kernel = try settings.requiredPair("kernelSize")
            self = .maxPool2D(kernelSize: kernel, stride: try settings.pair("stride") ?? kernel,
                              padding: try settings.pair("padding") ?? [0, 0], ceilMode: try settings.optional("ceilMode") ?? false)
        case "avgPool2D":
            let kernel = try settings.requiredPair("kernelSize")
            self = .avgPool2D(kernelSize: kernel, stride: try settings.pair("stride") ?? kernel,
                              padding: try settings.pair("padding") ?? [0, 0], ceilMode: try settings.optional("ceilMode") ?? false,
                              countIncludePad: try settings.optional("countIncludePad") ?? true)
        case "globalAveragePool2D":
            self = .globalAveragePool2D
        case "flatten":
            self = .flatten
        case "batchNorm1D":
            self = .batchNorm1D(features: try settings.required("features"), momentum: try settings.optional("momentum") ?? 0.1,
                                epsilon: try settings.optional("epsilon") ?? 1e-5)
        case "batchNorm2D":
            self = .batchNorm2D(channels: try settings.required("channels"), momentum: try settings.optional("momentum") ?? 0.1,
                                epsilon: try settings.optional("epsilon") ?? 1e-5)
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: container.codingPath,
                debugDescription: "unknown layer type '\(key.stringValue.prefix(40))' (known: \(Self.typeNames))"))
        }
        try settings.checkAllRead()
    }

    /// An activation's function, and the settings that function reads.
    private static func activation(_ settings: inout Settings) throws -> LayerConfiguration {
        let name: String = try settings.required("function")
        guard let function = Activation(named: name) else {
            throw settings.error("unknown function '\(name.prefix(40))' (known: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        switch function {
        case .leakyReLU:
            return .activation(function: function, negativeSlope: try settings.optional("negativeSlope") ?? Activation.leakySlope)
        case .gelu:
            guard let text: String = try settings.optional("approximate") else { return .activation(function: function) }
            guard let approximate = GELUApproximation(rawValue: text) else {
                throw settings.error("approximate must be \"none\" or \"tanh\", got '\(text.prefix(40))'")
            }
            return .activation(function: function, approximate: approximate)
        case .softmax, .logSoftmax:
            return .activation(function: function, axis: try settings.optional("axis") ?? -1)
        case .identity, .sigmoid, .tanh, .relu:
            return .activation(function: function)
        }
    }

    /// Writes the layer as one JSON object with every key, so that it reads back equal.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: SettingKey.self)
        var settings = container.nestedContainer(keyedBy: SettingKey.self, forKey: SettingKey(typeName))
        func write(_ value: some Encodable, _ key: String) throws { try settings.encode(value, forKey: SettingKey(key)) }
        switch self {
        case .dense(let input, let output, let useBias):
            try write(input, "inputSize"); try write(output, "outputSize"); try write(useBias, "useBias")
        case .activation(let function, let slope, let approximate, let axis):
            try write(function, "function")
            if function == .leakyReLU { try write(slope, "negativeSlope") }
            if function == .gelu { try write(approximate, "approximate") }
            if function.takesAxis { try write(axis, "axis") }
        case .dropout(let probability):
            try write(probability, "probability")
        case .sequential(let layers):
            try write(layers, "layers")
        case .conv2D(let input, let output, let kernel, let stride, let padding, let dilation, let useBias):
            try write(input, "inputChannels"); try write(output, "outputChannels"); try write(kernel, "kernelSize")
            try write(stride, "stride"); try write(padding, "padding"); try write(dilation, "dilation")
            try write(useBias, "useBias")
        case .maxPool2D(let kernel, let stride, let padding, let ceilMode):
            try write(kernel, "kernelSize"); try write(stride, "stride"); try write(padding, "padding")
            try write(ceilMode, "ceilMode")
        case .avgPool2D(let kernel, let stride, let padding, let ceilMode, let countIncludePad):
            try write(kernel, "kernelSize"); try write(stride, "stride"); try write(padding, "padding")
            try write(ceilMode, "ceilMode"); try write(countIncludePad, "countIncludePad")
        case .globalAveragePool2D, .flatten:
            break
        case .batchNorm1D(let features, let momentum, let epsilon):
            try write(features, "features"); try write(momentum, "momentum"); try write(epsilon, "epsilon")
        case .batchNorm2D(let channels, let momentum, let epsilon):
            try write(channels, "channels"); try write(momentum, "momentum"); try write(epsilon, "epsilon")
        }
    }

    /// The JSON key of the case.
    private var typeName: String {
        switch self {
        case .dense: return "dense"
        case .activation: return "activation"
        case .dropout: return "dropout"
        case .sequential: return "sequential"
        case .conv2D: return "conv2D"
        case .maxPool2D: return "maxPool2D"
        case .avgPool2D: return "avgPool2D"
        case .globalAveragePool2D: return "globalAveragePool2D"
        case .flatten: return "flatten"
        case .batchNorm1D: return "batchNorm1D"
        case .batchNorm2D: return "batchNorm2D"
        }
    }

    private static let typeNames = "dense, activation, dropout, sequential, conv2D, maxPool2D, avgPool2D, globalAveragePool2D, flatten, batchNorm1D, batchNorm2D"
}

/// Any JSON key.
private struct SettingKey: CodingKey {
    let stringValue: String
    init(_ stringValue: String) { self.stringValue = stringValue }
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

/// The settings object of one layer, read key by key; remembers what was read so that
/// the keys left over can be reported as unknown.
private struct Settings {
    let container: KeyedDecodingContainer<SettingKey>
    let layer: String
    private var read: Set<String> = []

    init(_ container: KeyedDecodingContainer<SettingKey>, layer: String) {
        self.container = container
        self.layer = layer
    }

    /// A one-line error about this layer's settings.
    func error(_ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: container.codingPath, debugDescription: message))
    }

    /// The value at `key`; nil when absent or null.
    mutating func optional<T: Decodable>(_ key: String) throws -> T? {
        read.insert(key)
        let codingKey = SettingKey(key)
        // Foundation calls a number that does not fit an Int (2.5, 1e400) "not valid JSON",
        // without the key: name the key and what it needs.
        if T.self == Int.self || T.self == [Int].self {
            guard container.contains(codingKey), try !container.decodeNil(forKey: codingKey) else { return nil }
            if let value = try? container.decode(T.self, forKey: codingKey) { return value }
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath + [codingKey],
                                                    debugDescription: T.self == Int.self ? "expected an integer" : "expected a list of integers"))
        }
        return try container.decodeIfPresent(T.self, forKey: codingKey)
    }

    mutating func required<T: Decodable>(_ key: String) throws -> T {
        guard let value: T = try optional(key) else { throw error("missing required key '\(key)'") }
        return value
    }

    /// A size along (height, width): one integer for both or a list; nil when absent or
    /// null. (A list's length is checked by ``LayerConfiguration/validate()``.)
    mutating func pair(_ key: String) throws -> [Int]? {
        read.insert(key)
        let codingKey = SettingKey(key)
        guard container.contains(codingKey), try !container.decodeNil(forKey: codingKey) else { return nil }
        if let size = try? container.decode(Int.self, forKey: codingKey) { return [size, size] }
        if let sizes = try? container.decode([Int].self, forKey: codingKey) { return sizes }
        throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath + [codingKey],
                                                debugDescription: "expected an integer or a pair [height, width]"))
    }

    mutating func requiredPair(_ key: String) throws -> [Int] {
        guard let value = try pair(key) else { throw error("missing required key '\(key)'") }
        return value
    }

    /// Throws for a key that no setting of the layer read, naming its path and the keys
    /// the layer has.
    func checkAllRead() throws {
        let unknown = container.allKeys.map(\.stringValue).filter { !read.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        let known = read.sorted().joined(separator: ", ")
        throw DecodingError.dataCorrupted(.init(
            codingPath: container.codingPath + [SettingKey(String(first.prefix(40)))],
            debugDescription: known.isEmpty ? "unknown key; \(layer) has no settings" : "unknown key; expected one of \(known)"))
    }
}
