import Tensors

// Losses, each the mean over the batch of a per-example loss: J = (1/m) Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾)
// (notes, eq. 3.31–3.32). Predictions and targets are `[m, k]` (or `[m]`).

/// The notes' squared loss, ½‖ŷ − y‖² per example, averaged over the batch.
public func squaredLoss<S>(predictions: Tensor<S>, targets: Tensor<S>) -> Tensor<S> {
    requireSameShape(predictions, targets, "squaredLoss")
    let batch = S(max(predictions.shape.first ?? 1, 1))
    return (predictions - targets).squared().sum() * S(0.5) / batch
}

/// Mean squared error over every element (PyTorch's `MSELoss`).
public func meanSquaredError<S>(predictions: Tensor<S>, targets: Tensor<S>) -> Tensor<S> {
    requireSameShape(predictions, targets, "meanSquaredError")
    return (predictions - targets).squared().mean()
}

/// Logistic loss on probabilities ŷ ∈ (0, 1): −(y log ŷ + (1 − y) log(1 − ŷ)) (eq. 3.9),
/// averaged over every element. The logarithms are floored at −100, as in PyTorch, so a
/// saturated probability gives a large finite loss instead of infinity, and the gradient
/// stays finite where p is exactly 0 or 1.
public func binaryCrossEntropy<S>(probabilities: Tensor<S>, targets: Tensor<S>) -> Tensor<S> {
    requireSameShape(probabilities, targets, "binaryCrossEntropy")
    return Tensor.binaryCrossEntropy(probabilities: probabilities, targets: targets)
}

/// Logistic loss on logits z (ŷ = σ(z)), fused and stable for any |z|:
/// L = log(1 + eᶻ) − y·z, whose gradient is σ(z) − y (eq. 3.21's a − y).
public func binaryCrossEntropy<S>(logits: Tensor<S>, targets: Tensor<S>) -> Tensor<S> {
    requireSameShape(logits, targets, "binaryCrossEntropy")
    return (logits.softplus() - targets * logits).mean()
}

/// Softmax cross-entropy on logits with integer labels (fused; δ = ŷ − y).
public func softmaxCrossEntropy<S>(logits: Tensor<S>, labels: [Int]) -> Tensor<S> {
    Tensor.softmaxCrossEntropy(logits: logits, labels: labels)
}

/// Softmax cross-entropy on logits with one-hot (or soft) targets `[m, k]`:
/// −(1/m) Σᵢ Σⱼ yᵢⱼ log softmax(zᵢ)ⱼ.
public func softmaxCrossEntropy<S>(logits: Tensor<S>, targets: Tensor<S>) -> Tensor<S> {
    requireSameShape(logits, targets, "softmaxCrossEntropy")
    let batch = S(max(logits.shape.first ?? 1, 1))
    return -(targets * logits.logSoftmax(alongAxis: -1)).sum() / batch
}

/// Cross-entropy of probabilities (a softmax output) against integer labels:
/// −(1/m) Σᵢ log ŷᵢ,yᵢ, with the logarithm floored at −100.
public func crossEntropy<S>(probabilities: Tensor<S>, labels: [Int]) -> Tensor<S> {
    Tensor.negativeLogLikelihood(probabilities: probabilities, labels: labels)
}

/// One-hot rows `[labels.count, classes]`.
public func oneHot<S: TensorScalar>(_ labels: [Int], classes: Int) -> Tensor<S> {
    var values = S.filled(0, count: labels.count * classes)
    for (i, label) in labels.enumerated() {
        checkPrecondition(label >= 0 && label < classes, "oneHot: label \(label) is outside the \(classes) classes")
        values[i * classes + label] = 1
    }
    return Tensor(shape: [labels.count, classes], scalars: values)
}

private func requireSameShape<S>(_ a: Tensor<S>, _ b: Tensor<S>, _ name: String) {
    checkPrecondition(a.shape == b.shape, "\(name): predictions \(a.shape) and targets \(b.shape) differ in shape")
}

/// The loss a training loop minimises, chosen by name.
public enum Loss: String, Sendable, Hashable, Codable, CaseIterable {
    /// ½‖ŷ − y‖² (the notes' form), averaged over the batch.
    case squared
    /// Mean squared error over every element.
    case meanSquaredError
    /// Logistic loss; fused with the model's final sigmoid when there is one.
    case binaryCrossEntropy
    /// Softmax cross-entropy; fused with the model's final softmax when there is one.
    case crossEntropy

    /// Whether targets are class labels rather than values.
    public var usesLabels: Bool { self == .crossEntropy }
}

// MARK: - Losses by name

extension Loss {
    /// The names a loss is known by (the command line's `--loss`): `cross-entropy`,
    /// `binary-cross-entropy` (or `logistic`), `squared`, `mse`.
    public static let names: [String: Loss] = [
        "cross-entropy": .crossEntropy, "crossentropy": .crossEntropy, "ce": .crossEntropy,
        "binary-cross-entropy": .binaryCrossEntropy, "bce": .binaryCrossEntropy, "logistic": .binaryCrossEntropy,
        "squared": .squared, "mse": .meanSquaredError,
    ]

    /// The loss called `name` (``names``); throws one line listing the known ones.
    public init(named name: String) throws(ConfigurationError) {
        guard let loss = Self.names[name.lowercased()] else {
            throw ConfigurationError("unknown loss '\(name)' (cross-entropy, binary-cross-entropy, squared, mse)")
        }
        self = loss
    }

    /// The loss of a model's outputs against class labels: cross-entropy of softmax
    /// probabilities `[m, K]`, or the logistic loss of one sigmoid output `[m, 1]` per
    /// example for labels 0 and 1. Averaged over the batch; differentiable.
    public func callAsFunction<S: TensorScalar>(_ outputs: Tensor<S>, labels: [Int]) -> Tensor<S> {
        switch self {
        case .crossEntropy: return NeuralNetworks.crossEntropy(probabilities: outputs, labels: labels)
        case .binaryCrossEntropy:
            return NeuralNetworks.binaryCrossEntropy(probabilities: outputs, targets: Tensor(shape: [labels.count, 1], scalars: labels.map { S($0) }))
        case .squared, .meanSquaredError:
            checkPrecondition(false, "\(self): a loss of values, not of labels; call it with targets:")
            return outputs
        }
    }

    /// The loss of a model's outputs against target values of the same shape (for
    /// cross-entropy: one-hot or probability targets, −(1/m) Σ t·log(ŷ + 10⁻¹²)).
    /// Differentiable.
    public func callAsFunction<S: TensorScalar>(_ outputs: Tensor<S>, targets: Tensor<S>) -> Tensor<S> {
        switch self {
        case .squared: return NeuralNetworks.squaredLoss(predictions: outputs, targets: targets)
        case .meanSquaredError: return NeuralNetworks.meanSquaredError(predictions: outputs, targets: targets)
        case .binaryCrossEntropy: return NeuralNetworks.binaryCrossEntropy(probabilities: outputs, targets: targets)
        case .crossEntropy:
            return -(targets * (outputs + S(1e-12)).log()).sum() / S(outputs.shape.first ?? 1)
        }
    }
}
