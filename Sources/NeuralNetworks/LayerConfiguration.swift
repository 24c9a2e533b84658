import Tensors

/// A layer described as data — its type and sizes, not its weights — so that a network
/// can be written to a JSON architecture file and built again from it. `Codable`: each
/// case is one JSON object, `{"dense": {"inputSize": 784, "outputSize": 300, "useBias": true}}`.
///
/// A new layer type is one case here, one line in ``makeLayer(_:)`` and a
/// ``ConfigurableLayer`` conformance that returns the case.
public indirect enum LayerConfiguration: Sendable, Hashable, Codable {
    case dense(inputSize: Int, outputSize: Int, useBias: Bool)
    case activation(function: Activation)
    case dropout(probability: Double)
    /// Layers applied in order; their parameters are named `0.weight`, `0.bias`, ….
    case sequential(layers: [LayerConfiguration])

    /// A new layer of this configuration, with parameters drawn from a fixed seed (a
    /// ``Sequential`` redraws them from its own generator; loading replaces them).
    /// Stops with a message for settings no layer accepts (a negative size); validate
    /// configurations read from files with ``validate()`` first.
    public func makeLayer<S: TensorScalar>(_: S.Type = S.self) -> any Layer<S> {
        switch self {
        case .dense(let input, let output, let useBias): return Dense<S>(inputSize: input, outputSize: output, useBias: useBias)
        case .activation(let function): return ActivationLayer<S>(function)
        case .dropout(let probability): return Dropout<S>(probability: probability)
        case .sequential(let layers): return Sequential<S>(configurations: layers)
        }
    }

    /// Checks the settings that ``makeLayer(_:)`` would stop on, so that a configuration
    /// read from a file is rejected with a message instead.
    public func validate() throws(ConfigurationError) {
        switch self {
        case .dense(let input, let output, _):
            guard input > 0 && output > 0 else { throw ConfigurationError("dense layer sizes must be positive, got \(input) → \(output)") }
        case .activation: break
        case .dropout(let probability):
            guard probability >= 0 && probability < 1 else { throw ConfigurationError("dropout probability must be in [0, 1), got \(probability)") }
        case .sequential(let layers):
            for layer in layers { try layer.validate() }
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
    var configuration: LayerConfiguration { get }
}

extension Dense: ConfigurableLayer {
    public var configuration: LayerConfiguration {
        .dense(inputSize: inputSize, outputSize: outputSize, useBias: bias != nil)
    }
}

extension ActivationLayer: ConfigurableLayer {
    public var configuration: LayerConfiguration { .activation(function: activation) }
}

extension Dropout: ConfigurableLayer {
    public var configuration: LayerConfiguration { .dropout(probability: probability) }
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
