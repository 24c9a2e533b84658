import Tensors

/// Any network of the library's layers written compactly, convolutional ones included:
/// the example shape, then one word per layer, separated by spaces (or commas, or `-`
/// to avoid quoting in a shell), e.g.
///
///     1x28x28 conv16k3p1 relu maxpool2 conv32k3p1 relu gap 2 softmax
///
/// is a 3×3 convolution to 16 channels with padding 1, ReLU, 2×2 max pooling, a
/// convolution to 32 channels, ReLU, global average pooling, a dense layer to 2 outputs
/// and a softmax. Each layer's input size comes from the shape before it, so only
/// outputs are written.
///
/// | word | layer |
/// | --- | --- |
/// | `784`, `3x32x32` (first) | the shape of one example: features, or channels×height×width |
/// | `N` | dense layer with N outputs (a spatial input is flattened first) |
/// | `N:act` | dense layer, then the activation (the dense spec's form, `300:relu`) |
/// | `convC` + `kK` `sS` `pP` `dD` `nobias` | 2-D convolution to C channels, kernel K (3), stride S (1), padding P (0), dilation D (1) |
/// | `maxpoolK` / `avgpoolK` + `sS` `pP` `ceil` | pooling with a K×K window, stride S (K), padding P (0), PyTorch's ceil mode |
/// | `gap` | global average pooling: `[C, H, W]` → `[C]` |
/// | `flatten` | `[C, H, W]` → `[C·H·W]` |
/// | `bn` | batch normalisation over the features or channels |
/// | `dropoutP` | dropout with probability P (`dropout` alone: 0.5) |
/// | `relu`, `sigmoid`, `tanh`, `softmax`, `logsoftmax`, `gelu`, `leakyrelu`, `identity` | activations (`gelu` exact; `gelutanh` its tanh form; `leakyrelu0.2` a slope of 0.2, default 0.01) |
///
/// A dense layer followed by an activation starts from the initialiser that suits it
/// (``Initializer/recommended(for:)``); convolutions from He's.
public struct NetworkSpec: Sendable, Hashable, CustomStringConvertible {
    /// The shape of one example.
    public var inputShape: [Int]
    /// The layers, in order, with every size filled in.
    public var layers: [LayerConfiguration]
    /// The per-example output shape.
    public let outputShape: [Int]
    /// The text it was parsed from, normalised to single spaces.
    public let description: String

    /// Parses `text`; throws one line naming the word that is wrong and why.
    public init(parsing text: String) throws(ConfigurationError) {
        let words = text.split(whereSeparator: { " ,-\t\n".contains($0) }).map(String.init)
        let written = text.lowercased()
        let text = text.count > 80 ? String(text.prefix(77)) + "…" : text
        guard let first = words.first else { throw ConfigurationError("the model spec is empty") }
        let dimensions = first.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard !dimensions.isEmpty, dimensions.allSatisfy({ ($0 ?? 0) > 0 }), dimensions.count == 1 || dimensions.count == 3 else {
            throw ConfigurationError("model spec '\(text)': it must start with the example shape, e.g. 784 or 1x28x28 (channels×height×width), not '\(first)'")
        }
        guard words.count >= 2 else { throw ConfigurationError("model spec '\(text)': no layers after the shape \(first)") }
        inputShape = dimensions.map { $0! }
        guard Memory.product(inputShape) <= 1 << 31 else {
            throw ConfigurationError("model spec '\(text)': an example of shape \(first) has more than 2³¹ values")
        }
        description = words.joined(separator: " ")
        layers = []
        var shape = inputShape
        var parameters = 0
        for (position, word) in words.enumerated().dropFirst() {
            let wordLayers: [LayerConfiguration]
            do { wordLayers = try Self.layers(for: word, after: shape, in: text) } catch {
                throw Self.splitSetting(word, after: words[position - 1], in: written).map {
                    ConfigurationError("model spec '\(text)': '\(word)' is not a layer; \($0)")
                } ?? error
            }
            for layer in wordLayers {
                do { try layer.validate() } catch { throw ConfigurationError("model spec '\(text)': '\(word)': \(error)") }
                parameters = Memory.sum([parameters, layer.parameterCount])
                try Memory.checkParameters(parameters, of: Float.self, model: "model spec '\(text)'")
                do { shape = try Self.outputShape(of: layer, forInput: shape) } catch {
                    throw ConfigurationError("model spec '\(text)': '\(word)' does not fit the shape \(shape) before it: \(error)")
                }
                guard Memory.product(shape) <= 1 << 31 else {
                    throw ConfigurationError("model spec '\(text)': '\(word)' makes an example of shape \(shape), more than 2³¹ values")
                }
                layers.append(layer)
            }
        }
        outputShape = shape
    }


    /// The layer's output shape, without making its large tensors: a dense layer's is its
    /// output size, a convolution's follows from its geometry.
    private static func outputShape(of layer: LayerConfiguration, forInput shape: [Int]) throws(ShapeError) -> [Int] {
        switch layer {
        case .dense(let input, let output, _):
            guard shape == [input] else { return try layer.makeLayer(Float.self).outputShape(forInput: shape) }
            return [output]
        case .conv2D(let input, let output, let kernel, let stride, let padding, let dilation, _):
            let geometry = Conv2D<Float>.Geometry(inputChannels: input, outputChannels: output, kernelSize: pair(kernel),
                                                  stride: pair(stride), padding: pair(padding), dilation: pair(dilation))
            return try Conv2D<Float>.outputShape(geometry, forInput: shape, fullShape: shape)
        default:
            return try layer.makeLayer(Float.self).outputShape(forInput: shape)
        }
    }

    /// The number of parameters the network will hold (saturating at `Int.max`).
    public var parameterCount: Int { Memory.sum(layers.map(\.parameterCount)) }

    /// The network, parameters drawn from one generator seeded with `seed`.
    public func build<S: TensorScalar>(_: S.Type = S.self, seed: UInt64) -> Sequential<S> {
        var built: [any Layer<S>] = []
        for (index, layer) in layers.enumerated() {
            if case .dense(let input, let output, let useBias) = layer,
               index + 1 < layers.count, case .activation(let function, _, _, _) = layers[index + 1] {
                built.append(Dense<S>(inputSize: input, outputSize: output, useBias: useBias,
                                      weightInitializer: .recommended(for: function)))
            } else {
                built.append(layer.makeLayer(S.self))
            }
        }
        return Sequential(seed: seed, layers: built)
    }

    /// Whether `text` is written in this grammar rather than the dense spec's
    /// (``ModelSpec/init(parsing:)``: sizes joined by `-`, each with an optional
    /// `:activation`), which stays the reading of text of that form.
    public static func looksLike(_ text: String) -> Bool {
        !text.split(separator: "-", omittingEmptySubsequences: false).allSatisfy { piece in
            let parts = piece.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count <= 2 && !parts[0].isEmpty && parts[0].allSatisfy(\.isNumber)
                && (parts.count == 1 || parts[1].allSatisfy(\.isLetter))
        }
    }

    // MARK: - Words

    private static func layers(for word: String, after shape: [Int], in text: String) throws(ConfigurationError) -> [LayerConfiguration] {
        let lower = word.lowercased()
        func fail(_ why: String) -> ConfigurationError { ConfigurationError("model spec '\(text)': '\(word)' \(why)") }
        let flattening: [LayerConfiguration] = shape.count > 1 ? [.flatten] : []
        let width = shape.reduce(1) { Memory.product([$0, $1]) }
        if let output = Int(lower) {
            guard output > 0 else { throw fail("is not a positive number of outputs") }
            return flattening + [.dense(inputSize: width, outputSize: output, useBias: true)]
        }
        if let colon = lower.firstIndex(of: ":"), let output = Int(lower[..<colon]) {
            guard output > 0 else { throw fail("is not a positive number of outputs") }
            guard let function = Activation(named: String(lower[lower.index(after: colon)...])) else {
                throw fail("names an unknown activation (known: \(activationNames))")
            }
            let dense: [LayerConfiguration] = flattening + [.dense(inputSize: width, outputSize: output, useBias: true)]
            return function == .identity ? dense : dense + [.activation(function: function)]
        }
        if let function = Activation(named: lower) { return [.activation(function: function)] }
        if lower == "gelutanh" { return [.activation(function: .gelu, approximate: .tanh)] }
        if lower.hasPrefix("leakyrelu"), let slope = Double(decimal: lower.dropFirst("leakyrelu".count)) {
            return [.activation(function: .leakyReLU, negativeSlope: slope)]
        }
        switch lower {
        case "gap": return [.globalAveragePool2D]
        case "flatten": return [.flatten]
        case "bn", "batchnorm":
            let channels = shape.first ?? 0
            return [shape.count == 1 ? .batchNorm1D(features: channels, momentum: 0.1, epsilon: 1e-5)
                                     : .batchNorm2D(channels: channels, momentum: 0.1, epsilon: 1e-5)]
        default: break
        }
        if lower.hasPrefix("dropout") {
            let rest = lower.dropFirst("dropout".count)
            guard let probability = rest.isEmpty ? 0.5 : Double(decimal: rest) else { throw fail("is not dropout or dropoutP (e.g. dropout0.25)") }
            return [.dropout(probability: probability)]
        }
        if lower.hasPrefix("conv") {
            let options = try options(lower.dropFirst("conv".count), allowed: "ksdp", flags: ["nobias"], word: word, in: text)
            guard let channels = options.leading else { throw fail("needs an output channel count, e.g. conv16k3p1") }
            guard shape.count == 3 else { throw fail("needs images [channels, height, width] before it, not \(shape)") }
            let (kernel, stride, padding, dilation) = (options["k"] ?? 3, options["s"] ?? 1, options["p"] ?? 0, options["d"] ?? 1)
            return [.conv2D(inputChannels: shape[0], outputChannels: channels, kernelSize: [kernel, kernel], stride: [stride, stride],
                            padding: [padding, padding], dilation: [dilation, dilation], useBias: !options.flags.contains("nobias"))]
        }
        for (prefix, isMax) in [("maxpool", true), ("avgpool", false)] where lower.hasPrefix(prefix) {
            let options = try options(lower.dropFirst(prefix.count), allowed: "sp", flags: ["ceil"], word: word, in: text)
            guard let kernel = options.leading else { throw fail("needs a window size, e.g. \(prefix)2") }
            let (stride, padding, ceil) = (options["s"] ?? kernel, options["p"] ?? 0, options.flags.contains("ceil"))
            return [isMax ? .maxPool2D(kernelSize: [kernel, kernel], stride: [stride, stride], padding: [padding, padding], ceilMode: ceil)
                          : .avgPool2D(kernelSize: [kernel, kernel], stride: [stride, stride], padding: [padding, padding], ceilMode: ceil)]
        }
        throw fail("is not a layer (a number of outputs, convC…, maxpoolK, avgpoolK, gap, flatten, bn, dropoutP or an activation: \(activationNames))")
    }

    /// What to write instead when `word` is the setting of the word before it, split off
    /// by a separator (`dropout-0.1`, `leakyrelu 0.2`): nil when it is not. (`dropout-1` is
    /// dropout and a dense layer of one output, and parses as such.)
    private static func splitSetting(_ word: String, after previous: String, in written: String) -> String? {
        let (previous, word) = (previous.lowercased(), word.lowercased())
        guard ["dropout", "leakyrelu"].contains(previous), Double(decimal: word) != nil else { return nil }
        let separated = written.contains(previous + "-" + word) ? "without '-'" : "as one word"
        return "write \(previous)\(word), \(separated)"
    }

    private static var activationNames: String { Activation.allCases.map { $0.rawValue.lowercased() }.joined(separator: ", ") }

    /// `16k3p1` → leading 16, k 3, p 1; letters from `allowed`, each once, followed by a
    /// positive number (p may be 0); whole words from `flags`.
    private struct Options {
        var leading: Int?
        var values: [Character: Int] = [:]
        var flags: Set<String> = []
        subscript(_ key: Character) -> Int? { values[key] }
    }

    private static func options(_ text: Substring, allowed: String, flags: [String], word: String, in spec: String)
        throws(ConfigurationError) -> Options {
        func fail(_ why: String) -> ConfigurationError { ConfigurationError("model spec '\(spec)': '\(word)' \(why)") }
        var rest = text
        var result = Options()
        for flag in flags where rest.hasSuffix(flag) {
            result.flags.insert(flag)
            rest = rest.dropLast(flag.count)
        }
        let digits = rest.prefix { $0.isNumber }
        if !digits.isEmpty {
            guard let value = Int(digits), value > 0 else { throw fail("has a size that is not a positive number") }
            result.leading = value
        }
        rest = rest.dropFirst(digits.count)
        while let key = rest.first {
            guard allowed.contains(key) else {
                throw fail("has '\(key)', which is not one of its options (\(allowed.map { "\($0)N" }.joined(separator: ", ")))")
            }
            guard result.values[key] == nil else { throw fail("gives '\(key)' twice") }
            rest = rest.dropFirst()
            let number = rest.prefix { $0.isNumber }
            guard let value = Int(number) else { throw fail("needs a number after '\(key)'") }
            guard value > 0 || (key == "p" && value == 0) else {
                throw fail("has '\(key)\(number)': \(key == "k" ? "a kernel size" : key == "s" ? "a stride" : key == "d" ? "a dilation" : "it") must be at least 1")
            }
            result.values[key] = value
            rest = rest.dropFirst(number.count)
        }
        return result
    }
}
