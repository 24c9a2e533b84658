import Tensors

/// A layer described as data — its type and settings, not its weights — so that a
/// network can be written to a JSON architecture file (`model.json`) and built again from
/// it. Each case is one JSON object named by the case, its settings by their labels:
/// `{"dense": {"inputSize": 784, "outputSize": 300, "useBias": true}}` (see
/// `LayerConfiguration+Codable.swift`). The settings are PyTorch's, with its defaults:
/// a key left out of a file takes the value the Swift default here gives.
///
/// A new layer type is one case here, one line in ``makeLayer(_:)``, its keys in the
/// Codable extension and a ``ConfigurableLayer`` conformance that returns the case.
public indirect enum LayerConfiguration: Sendable, Hashable, Codable {
    /// A ``Dense`` layer: `weight` `[outputSize, inputSize]` and, with `useBias`, `bias` `[outputSize]`.
    case dense(inputSize: Int, outputSize: Int, useBias: Bool = true)
    /// An ``ActivationLayer``. `negativeSlope` is read by the leaky ReLU only, `approximate`
    /// by GELU only, `axis` by softmax and log-softmax only (counted with the batch axis
    /// as 0, as PyTorch's `dim`; -1 is each example's scores).
    ///
    /// In a file, `{"function": "gelu"}` without `approximate` is the exact GELU, as
    /// PyTorch's `nn.GELU()`. Versions of Backprop before the option computed the tanh
    /// form for every GELU and wrote no `approximate` key, so their files now run the
    /// exact form (each GELU's output moves by at most 5·10⁻⁴); add
    /// `"approximate": "tanh"` to such a file to keep the function it was trained with.
    case activation(function: Activation, negativeSlope: Double = Activation.leakySlope,
                    approximate: GELUApproximation = .exact, axis: Int = -1)
    /// A ``Dropout`` layer zeroing each value with `probability` in training.
    case dropout(probability: Double)
    /// Layers applied in order; their parameters are named `0.weight`, `0.bias`, ….
    case sequential(layers: [LayerConfiguration])
    /// Sizes along (height, width) are pairs `[h, w]`, as PyTorch's tuples.
    case conv2D(inputChannels: Int, outputChannels: Int, kernelSize: [Int], stride: [Int] = [1, 1],
                padding: [Int] = [0, 0], dilation: [Int] = [1, 1], useBias: Bool = true)
    /// `padding` at most half the kernel; in a file, `stride` defaults to the kernel size.
    case maxPool2D(kernelSize: [Int], stride: [Int], padding: [Int] = [0, 0], ceilMode: Bool = false)
    /// As ``maxPool2D(kernelSize:stride:padding:ceilMode:)``; `countIncludePad` divides
    /// each window by its size inside the padded input (PyTorch's default) instead of
    /// inside the input.
    case avgPool2D(kernelSize: [Int], stride: [Int], padding: [Int] = [0, 0], ceilMode: Bool = false,
                   countIncludePad: Bool = true)
    /// A ``GlobalAveragePool2D`` layer: each channel's mean.
    case globalAveragePool2D
    /// A ``Flatten`` layer.
    case flatten
    /// A ``BatchNorm1D`` layer over `features` features.
    case batchNorm1D(features: Int, momentum: Double = 0.1, epsilon: Double = 1e-5)
    /// A ``BatchNorm2D`` layer over `channels` channels.
    case batchNorm2D(channels: Int, momentum: Double = 0.1, epsilon: Double = 1e-5)

    /// A new layer of this configuration, with parameters drawn from a fixed seed (a
    /// ``Sequential`` redraws them from its own generator; loading replaces them).
    /// Stops with a message for settings no layer accepts (a negative size); validate
    /// configurations read from files with ``validate()`` first.
    public func makeLayer<S: TensorScalar>(_: S.Type = S.self) -> any Layer<S> {
        switch self {
        case .dense(let input, let output, let useBias): return Dense<S>(inputSize: input, outputSize: output, useBias: useBias)
        case .activation(let function, let slope, let approximate, let axis):
            return ActivationLayer<S>(function, negativeSlope: slope, approximate: approximate, axis: axis)
        case .dropout(let probability): return Dropout<S>(probability: probability)
        case .sequential(let layers): return Sequential<S>(configurations: layers)
        case .conv2D(let input, let output, let kernel, let stride, let padding, let dilation, let useBias):
            return Conv2D<S>(inputChannels: input, outputChannels: output, kernelSize: pair(kernel), stride: pair(stride),
                             padding: pair(padding), dilation: pair(dilation), useBias: useBias)
        case .maxPool2D(let kernel, let stride, let padding, let ceilMode):
            return MaxPool2D<S>(kernelSize: pair(kernel), stride: pair(stride), padding: pair(padding), ceilMode: ceilMode)
        case .avgPool2D(let kernel, let stride, let padding, let ceilMode, let countIncludePad):
            return AvgPool2D<S>(kernelSize: pair(kernel), stride: pair(stride), padding: pair(padding), ceilMode: ceilMode,
                                countIncludePad: countIncludePad)
        case .globalAveragePool2D: return GlobalAveragePool2D<S>()
        case .flatten: return Flatten<S>()
        case .batchNorm1D(let features, let momentum, let epsilon):
            return BatchNorm1D<S>(features: features, momentum: momentum, epsilon: epsilon)
        case .batchNorm2D(let channels, let momentum, let epsilon):
            return BatchNorm2D<S>(channels: channels, momentum: momentum, epsilon: epsilon)
        }
    }

    /// Checks the settings that ``makeLayer(_:)`` would stop on, and that no tensor would
    /// exceed 2³¹ values, so that a configuration read from a file is rejected with a
    /// message instead.
    public func validate() throws(ConfigurationError) {
        if let sizes = parameterSizes {
            for size in sizes {
                guard Memory.product(size) <= 1 << 31 else {
                    throw ConfigurationError("a tensor of shape \(size) is larger than 2³¹ values")
                }
            }
        }
        switch self {
        case .dense(let input, let output, _):
            guard input > 0 && output > 0 else { throw ConfigurationError("dense layer sizes must be positive, got \(input) → \(output)") }
        case .activation(let function, let slope, _, _):
            // Finite in Float too: models train in Float32.
            guard function != .leakyReLU || (slope.isFinite && Swift.abs(slope) <= Double(Float.greatestFiniteMagnitude)) else {
                throw ConfigurationError("leakyReLU negativeSlope must be a finite number (within Float's range), got \(slope)")
            }
        case .globalAveragePool2D, .flatten: break
        case .dropout(let probability):
            guard probability >= 0 && probability < 1 else { throw ConfigurationError("dropout probability must be in [0, 1), got \(probability)") }
        case .sequential(let layers):
            for layer in layers { try layer.validate() }
        case .conv2D(let input, let output, let kernel, let stride, let padding, let dilation, _):
            guard input > 0 && output > 0 else { throw ConfigurationError("conv2D channel counts must be positive, got \(input) → \(output)") }
            try validatePair(kernel, "conv2D kernel size", minimum: 1)
            try validatePair(stride, "conv2D stride", minimum: 1)
            try validatePair(padding, "conv2D padding", minimum: 0)
            try validatePair(dilation, "conv2D dilation", minimum: 1)
        case .maxPool2D(let kernel, let stride, let padding, _), .avgPool2D(let kernel, let stride, let padding, _, _):
            try validatePair(kernel, "pooling kernel size", minimum: 1)
            try validatePair(stride, "pooling stride", minimum: 1)
            try validatePair(padding, "pooling padding", minimum: 0)
            guard padding[0] <= kernel[0] / 2 && padding[1] <= kernel[1] / 2 else {
                throw ConfigurationError("pooling padding \(padding) must be at most half the kernel size \(kernel)")
            }
        case .batchNorm1D(let channels, let momentum, let epsilon), .batchNorm2D(let channels, let momentum, let epsilon):
            guard channels > 0, momentum >= 0 && momentum <= 1, epsilon > 0 else {
                throw ConfigurationError("batch norm needs channels > 0, momentum in [0, 1], epsilon > 0; got \(channels), \(momentum), \(epsilon)")
            }
        }
    }

    /// The shapes of the layer's weight tensors (not of nested layers'); nil for none.
    private var parameterSizes: [[Int]]? {
        switch self {
        case .dense(let input, let output, _): return [[output, input]]
        case .conv2D(let input, let output, let kernel, _, _, _, _): return [[output, input] + kernel]
        default: return nil
        }
    }

    /// The number of trainable values the layer (with nested layers) will hold, saturating
    /// at `Int.max`: what building it costs, known before building.
    public var parameterCount: Int {
        let (product, sum) = (Memory.product, Memory.sum)
        switch self {
        case .dense(let input, let output, let useBias): return sum([product([output, input]), useBias ? output : 0])
        case .conv2D(let input, let output, let kernel, _, _, _, let useBias):
            return sum([product([output, input] + kernel), useBias ? output : 0])
        case .batchNorm1D(let channels, _, _), .batchNorm2D(let channels, _, _): return product([2, channels])
        case .sequential(let layers): return sum(layers.map(\.parameterCount))
        case .activation, .dropout, .maxPool2D, .avgPool2D, .globalAveragePool2D, .flatten: return 0
        }
    }

    /// The configuration of a layer built from the library's layers; throws for a layer
    /// type that cannot be described.
    public init<S: TensorScalar>(describing layer: any Layer<S>) throws(ConfigurationError) {
        if let sequential = layer as? Sequential<S> {
            self = .sequential(layers: try sequential.layerConfigurations())
        } else if let configurable = layer as? any ConfigurableLayer {
            self = configurable.configuration
        } else {
            throw ConfigurationError("\(layer.summaryName) (\(type(of: layer))) has no LayerConfiguration and cannot be saved as an architecture")
        }
    }
}

/// A layer that can describe itself as a ``LayerConfiguration``.
public protocol ConfigurableLayer {
    /// The layer's type and settings (not its weights), as written to `model.json`.
    var configuration: LayerConfiguration { get }
}

extension Dense: ConfigurableLayer {
    /// ``LayerConfiguration/dense(inputSize:outputSize:useBias:)`` with this layer's sizes.
    public var configuration: LayerConfiguration {
        .dense(inputSize: inputSize, outputSize: outputSize, useBias: bias != nil)
    }
}

extension ActivationLayer: ConfigurableLayer {
    /// ``LayerConfiguration/activation(function:negativeSlope:approximate:axis:)`` with this
    /// layer's function and settings.
    public var configuration: LayerConfiguration {
        .activation(function: activation, negativeSlope: negativeSlope, approximate: approximate, axis: axis)
    }
}

extension Dropout: ConfigurableLayer {
    /// ``LayerConfiguration/dropout(probability:)`` with this layer's probability.
    public var configuration: LayerConfiguration { .dropout(probability: probability) }
}

extension Conv2D: ConfigurableLayer {
    /// ``LayerConfiguration/conv2D(inputChannels:outputChannels:kernelSize:stride:padding:dilation:useBias:)``
    /// with this layer's settings as `[height, width]` pairs.
    public var configuration: LayerConfiguration {
        .conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: [kernelSize.height, kernelSize.width],
                stride: [stride.height, stride.width], padding: [padding.height, padding.width],
                dilation: [dilation.height, dilation.width], useBias: bias != nil)
    }
}

extension MaxPool2D: ConfigurableLayer {
    /// ``LayerConfiguration/maxPool2D(kernelSize:stride:padding:ceilMode:)`` with this layer's settings.
    public var configuration: LayerConfiguration {
        .maxPool2D(kernelSize: [kernelSize.height, kernelSize.width], stride: [stride.height, stride.width],
                   padding: [padding.height, padding.width], ceilMode: ceilMode)
    }
}

extension AvgPool2D: ConfigurableLayer {
    /// ``LayerConfiguration/avgPool2D(kernelSize:stride:padding:ceilMode:countIncludePad:)``
    /// with this layer's settings.
    public var configuration: LayerConfiguration {
        .avgPool2D(kernelSize: [kernelSize.height, kernelSize.width], stride: [stride.height, stride.width],
                   padding: [padding.height, padding.width], ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
}

extension GlobalAveragePool2D: ConfigurableLayer {
    /// ``LayerConfiguration/globalAveragePool2D``.
    public var configuration: LayerConfiguration { .globalAveragePool2D }
}

extension Flatten: ConfigurableLayer {
    /// ``LayerConfiguration/flatten``.
    public var configuration: LayerConfiguration { .flatten }
}

extension BatchNorm1D: ConfigurableLayer {
    /// ``LayerConfiguration/batchNorm1D(features:momentum:epsilon:)`` with this layer's settings.
    public var configuration: LayerConfiguration { .batchNorm1D(features: channels, momentum: momentum, epsilon: epsilon) }
}

extension BatchNorm2D: ConfigurableLayer {
    /// ``LayerConfiguration/batchNorm2D(channels:momentum:epsilon:)`` with this layer's settings.
    public var configuration: LayerConfiguration { .batchNorm2D(channels: channels, momentum: momentum, epsilon: epsilon) }
}

/// `[height, width]` as a tuple (validated to have two entries).
func pair(_ values: [Int]) -> (height: Int, width: Int) {
    checkPrecondition(values.count == 2, "LayerConfiguration: expected [height, width], got \(values)")
    return (values[0], values[1])
}

/// Checks a `[height, width]` setting: each at least `minimum` and at most 2³¹ − 1, so
/// that the shape arithmetic built on it cannot overflow.
private func validatePair(_ values: [Int], _ what: String, minimum: Int) throws(ConfigurationError) {
    guard values.count == 2, values.allSatisfy({ $0 >= minimum && $0 <= Int(Int32.max) }) else {
        throw ConfigurationError("\(what) must be [height, width], each from \(minimum) to \(Int32.max); got \(values)")
    }
}

extension Sequential {
    /// A network built from configurations, parameters drawn from one generator seeded
    /// with `seed`.
    public convenience init(configurations: [LayerConfiguration], seed: UInt64 = 0) {
        self.init(seed: seed, layers: configurations.map { $0.makeLayer(Scalar.self) })
    }

    /// The layers' configurations, in order; throws for a layer that has none.
    public func layerConfigurations() throws(ConfigurationError) -> [LayerConfiguration] {
        var result: [LayerConfiguration] = []
        for layer in layers { result.append(try LayerConfiguration(describing: layer)) }
        return result
    }
}
