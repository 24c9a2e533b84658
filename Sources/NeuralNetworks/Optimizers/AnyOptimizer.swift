import Tensors

/// One of the library's optimisers, chosen at run time (from a command line or a file).
public enum AnyOptimizer<Scalar: TensorScalar>: Optimizer {
    /// Gradient descent, plain, with momentum, or Nesterov.
    case sgd(SGD<Scalar>)
    /// Adam or AdamW.
    case adam(Adam<Scalar>)

    /// By name: `sgd`, `momentum` (classical), `notes-momentum` (eq. 3.33), `nesterov`,
    /// `adam`, `adamw`. Settings out of range throw.
    public init(name: String, learningRate: Double, momentum: Double = 0.9, weightDecay: Double = 0)
        throws(ConfigurationError)
    {
        switch name {
        case "sgd": self = .sgd(try SGD(learningRate: learningRate, weightDecay: weightDecay))
        case "momentum", "notes-momentum", "nesterov":
            let form: SGD<Scalar>.MomentumForm = name == "momentum" ? .classical : name == "nesterov" ? .nesterov : .notes
            self = .sgd(try SGD(learningRate: learningRate, momentum: momentum, momentumForm: form, weightDecay: weightDecay))
        case "adam": self = .adam(try Adam(learningRate: learningRate, weightDecay: weightDecay))
        case "adamw": self = .adam(try Adam(learningRate: learningRate, weightDecay: weightDecay, decoupled: true))
        default:
            throw ConfigurationError("unknown optimizer '\(name)' (sgd, momentum, notes-momentum, nesterov, adam, adamw)")
        }
    }

    /// The names ``init(name:learningRate:momentum:weightDecay:)`` accepts.
    public static var names: [String] { ["sgd", "momentum", "notes-momentum", "nesterov", "adam", "adamw"] }

    /// Whether the optimiser of this name takes a momentum β (the SGD momentum forms).
    public static func usesMomentum(_ name: String) -> Bool { ["momentum", "notes-momentum", "nesterov"].contains(name) }

    /// α of the optimiser inside.
    public var learningRate: Double {
        get {
            switch self {
            case .sgd(let o): return o.learningRate
            case .adam(let o): return o.learningRate
            }
        }
        set {
            switch self {
            case .sgd(var o): o.learningRate = newValue; self = .sgd(o)
            case .adam(var o): o.learningRate = newValue; self = .adam(o)
            }
        }
    }

    /// Forwards to the optimiser inside.
    public mutating func beginStep() {
        switch self {
        case .sgd(var o): o.beginStep(); self = .sgd(o)
        case .adam(var o): o.beginStep(); self = .adam(o)
        }
    }

    /// Updates one parameter with the optimiser inside.
    public mutating func update(_ name: String, _ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>) {
        switch self {
        case .sgd(var o):
            o.update(name, &parameter, gradient: gradient)
            self = .sgd(o)
        case .adam(var o):
            o.update(name, &parameter, gradient: gradient)
            self = .adam(o)
        }
    }

    /// The state of the optimiser inside.
    public var state: [String: Tensor<Scalar>] {
        switch self {
        case .sgd(let o): return o.state
        case .adam(let o): return o.state
        }
    }

    /// Restores the state of the optimiser inside; throws ``ConfigurationError`` for state it
    /// does not recognise.
    public mutating func restore(state: [String: Tensor<Scalar>]) throws {
        switch self {
        case .sgd(var o): try o.restore(state: state); self = .sgd(o)
        case .adam(var o): try o.restore(state: state); self = .adam(o)
        }
    }
}
