import Tensors

/// A fully connected network written compactly: sizes joined by `-`, each hidden or
/// output size optionally followed by `:activation`, e.g. `784-300:sigmoid-10:softmax`
/// (the notes' network) or `4-3:relu-1` (the housing example). Presets name common ones.
public struct ModelSpec: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One dense layer and the activation after it: `300:sigmoid`.
    public struct Stage: Sendable, Hashable, Codable {
        /// The layer's number of units, n^[ℓ].
        public var size: Int
        /// g^[ℓ], applied after the layer (identity: none).
        public var activation: Activation
    }

    /// The number of input features, n^[0].
    public var inputSize: Int
    /// The layers in order, the last one the output layer.
    public var stages: [Stage]
    /// Weight initialiser for every dense layer; nil picks per activation
    /// (``Initializer/recommended(for:)``).
    public var initializer: Initializer?

    /// A spec from its parts.
    public init(inputSize: Int, stages: [Stage], initializer: Initializer? = nil) {
        self.inputSize = inputSize
        self.stages = stages
        self.initializer = initializer
    }

    /// The presets, for `inputSize` inputs and `outputs` outputs after `outputActivation`:
    /// softmax over the classes for classification (the default: ten classes of
    /// 784-pixel images), identity for regression.
    public static func preset(_ name: String, inputSize: Int = 784, outputs: Int = 10,
                              outputActivation: Activation = .softmax) -> ModelSpec? {
        func spec(_ hidden: [(Int, Activation)], _ initializer: Initializer? = nil) -> ModelSpec {
            ModelSpec(inputSize: inputSize,
                      stages: hidden.map { Stage(size: $0.0, activation: $0.1) }
                          + [Stage(size: outputs, activation: outputActivation)],
                      initializer: initializer)
        }
        switch name {
        case "logistic": return spec([])
        case "cs229": return spec([(300, .sigmoid)], .normal(standardDeviation: 1))
        case "mlp": return spec([(256, .relu), (128, .relu)])
        default: return nil
        }
    }

    /// The names ``preset(_:inputSize:outputs:outputActivation:)`` knows: `logistic` (no hidden
    /// layer), `cs229` (300 sigmoid units, N(0, 1) weights), `mlp` (256 and 128 ReLU units).
    public static let presetNames = ["logistic", "cs229", "mlp"]

    /// Parses a compact spec; throws a one-line error naming the bad part.
    public init(parsing text: String) throws(ConfigurationError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let input = Int(parts[0]), input > 0 else {
            throw ConfigurationError("model spec '\(text)' must look like 784-300:relu-10:softmax (input size first, then at least one layer)")
        }
        var stages: [Stage] = []
        for part in parts.dropFirst() {
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count <= 2, let size = Int(pieces[0]), size > 0 else {
                throw ConfigurationError("model spec '\(text)': '\(part)' is not SIZE or SIZE:ACTIVATION")
            }
            let name = pieces.count == 2 ? pieces[1] : "identity"
            guard let activation = Activation(named: name.lowercased()) else {
                throw ConfigurationError("model spec '\(text)': unknown activation '\(name)' (known: \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            stages.append(Stage(size: size, activation: activation))
        }
        self.init(inputSize: input, stages: stages)
    }

    /// The compact form, `784-300:sigmoid-10:softmax`, which ``init(parsing:)`` reads back.
    public var description: String {
        ([String(inputSize)] + stages.map { $0.activation == .identity ? "\($0.size)" : "\($0.size):\($0.activation.rawValue)" })
            .joined(separator: "-")
    }

    /// The number of parameters the network will hold (saturating at `Int.max`).
    public var parameterCount: Int {
        var width = inputSize
        var counts: [Int] = []
        for stage in stages {
            counts.append(Memory.product([width + 1, stage.size]))
            width = stage.size
        }
        return Memory.sum(counts)
    }

    /// Throws when the network's parameters as `S` would not fit in this machine's
    /// memory (``Memory/checkParameters(_:of:model:)``); call before ``build(_:seed:)``
    /// for a spec read from input.
    public func checkMemory<S: TensorScalar>(_: S.Type) throws(ConfigurationError) {
        try Memory.checkParameters(parameterCount, of: S.self, model: "model '\(description)'")
    }

    /// The network: a Dense layer per stage, each followed by its activation layer
    /// (none for identity), parameters drawn from one generator seeded with `seed`.
    public func build<S: TensorScalar>(_: S.Type = S.self, seed: UInt64) -> Sequential<S> {
        var layers: [any Layer<S>] = []
        var width = inputSize
        for stage in stages {
            let weights = initializer ?? Initializer.recommended(for: stage.activation)
            layers.append(Dense<S>(inputSize: width, outputSize: stage.size, weightInitializer: weights))
            if stage.activation != .identity { layers.append(ActivationLayer<S>(stage.activation)) }
            width = stage.size
        }
        return Sequential(seed: seed, layers: layers)
    }
}

// MARK: - Convolutional presets

extension ModelSpec {
    /// Presets that are not stacks of dense layers; ``network(preset:outputs:outputActivation:as:seed:)``
    /// builds them. "cnn" is workload W3 of Benchmarks/WORKLOADS.md for `[1, 28, 28]` images:
    /// conv 1→32 3×3 pad 1, ReLU, max-pool 2, conv 32→64 3×3 pad 1, ReLU, max-pool 2,
    /// flatten, dense 3136→128, ReLU, dense 128→classes, softmax.
    public static let networkPresetNames = ["cnn"]

    /// The per-example input shape a network preset expects (`[1, 28, 28]` for "cnn").
    public static func networkInputShape(preset name: String) -> [Int]? {
        name == "cnn" ? [1, 28, 28] : nil
    }

    /// The network preset `name` with `outputs` outputs after `outputActivation` (softmax
    /// over classes, identity for regression), parameters drawn from one generator seeded
    /// with `seed`; nil for an unknown name.
    public static func network<S: TensorScalar>(
        preset name: String, outputs: Int = 10, outputActivation: Activation = .softmax, as _: S.Type = S.self,
        seed: UInt64
    ) -> Sequential<S>? {
        guard name == "cnn" else { return nil }
        var layers: [any Layer<S>] = [
            Conv2D<S>(inputChannels: 1, outputChannels: 32, kernelSize: 3, padding: 1), ReLU<S>(), MaxPool2D<S>(kernelSize: 2),
            Conv2D<S>(inputChannels: 32, outputChannels: 64, kernelSize: 3, padding: 1), ReLU<S>(), MaxPool2D<S>(kernelSize: 2),
            Flatten<S>(), Dense<S>(inputSize: 64 * 7 * 7, outputSize: 128, weightInitializer: .heUniform), ReLU<S>(),
            Dense<S>(inputSize: 128, outputSize: outputs),
        ]
        if outputActivation != .identity { layers.append(ActivationLayer<S>(outputActivation)) }
        return Sequential(seed: seed, layers: layers)
    }
}
