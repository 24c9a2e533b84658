import NeuralNetworks
import Tensors

/// A loss applied to a model's output, fused with the model's final activation where
/// that is stabler and faster: cross-entropy after a final `Softmax` is computed on the
/// logits (δ = ŷ − y), logistic loss after a final `Sigmoid` likewise. Without such a
/// final layer, the output is taken as logits (as PyTorch's `CrossEntropyLoss` and
/// `BCEWithLogitsLoss` do).
struct Objective<Scalar: TensorScalar> {
    let loss: Loss

    /// The mean loss over the batch, and the model's output (probabilities for
    /// classification) for metrics.
    func evaluate(_ model: any Layer<Scalar>, _ x: Tensor<Scalar>, _ targets: Targets<Scalar>)
        -> (loss: Tensor<Scalar>, output: Tensor<Scalar>)
    {
        let sequential = model as? Sequential<Scalar>
        switch (loss, targets) {
        case (.crossEntropy, .labels(let labels, _)):
            let fused = sequential?.finalActivation == .softmax
            let logits = fused ? sequential!.forwardExceptLast(x) : model(x)
            return (softmaxCrossEntropy(logits: logits, labels: labels), logits.detached().softmax())
        case (.crossEntropy, .values(let y)):
            let fused = sequential?.finalActivation == .softmax
            let logits = fused ? sequential!.forwardExceptLast(x) : model(x)
            return (softmaxCrossEntropy(logits: logits, targets: y), logits.detached().softmax())
        case (.binaryCrossEntropy, .values(let y)):
            let fused = sequential?.finalActivation == .sigmoid
            let logits = fused ? sequential!.forwardExceptLast(x) : model(x)
            let y = y.reshaped(to: logits.shape)
            return (binaryCrossEntropy(logits: logits, targets: y), logits.detached().sigmoid())
        case (.squared, .values(let y)):
            let output = model(x)
            return (squaredLoss(predictions: output, targets: y.reshaped(to: output.shape)), output.detached())
        case (.meanSquaredError, .values(let y)):
            let output = model(x)
            return (meanSquaredError(predictions: output, targets: y.reshaped(to: output.shape)), output.detached())
        case (_, .labels):
            fatalError("loss \(loss) needs target values, not class labels")
        }
    }
}

/// Running sums of the metrics over the batches of an epoch (saved in checkpoints, so
/// that a resumed epoch reports the same figures).
public struct MetricAccumulator: Sendable, Equatable, Codable {
    public private(set) var examples = 0
    private var lossSum = 0.0
    private var correct = 0
    private var squaredErrorSum = 0.0
    private var absoluteErrorSum = 0.0
    private var valueCount = 0
    private var isClassification = false

    public init() {}

    mutating func add<Scalar>(loss: Double, output: Tensor<Scalar>, targets: Targets<Scalar>, lossKind: Loss) {
        let m = targets.count
        examples += m
        lossSum += loss * Double(m)
        switch targets {
        case .labels(let labels, _):
            isClassification = true
            correct += zip(output.argmax(alongAxis: -1), labels).filter { $0 == $1 }.count
        case .values(let y):
            let predicted = output.scalars, actual = y.scalars
            if lossKind == .binaryCrossEntropy {
                isClassification = true
                correct += zip(predicted, actual).filter { ($0 >= 0.5) == ($1 >= 0.5) }.count
                valueCount += predicted.count
            } else if lossKind == .crossEntropy {
                isClassification = true
                correct += zip(output.argmax(alongAxis: -1), y.argmax(alongAxis: -1)).filter { $0 == $1 }.count
            } else {
                for (p, a) in zip(predicted, actual) {
                    let d = Double(p) - Double(a)
                    squaredErrorSum += d * d
                    absoluteErrorSum += Swift.abs(d)
                }
                valueCount += predicted.count
            }
        }
    }

    public var metrics: Metrics {
        let n = Double(max(examples, 1))
        let binaryTotal = Double(max(valueCount, 1))
        return Metrics(
            loss: lossSum / n,
            accuracy: isClassification ? Double(correct) / (valueCount > 0 ? binaryTotal : n) : nil,
            meanSquaredError: isClassification ? nil : squaredErrorSum / binaryTotal,
            meanAbsoluteError: isClassification ? nil : absoluteErrorSum / binaryTotal)
    }
}

/// Metrics of a model on a data set.
public struct Metrics: Sendable, Equatable, Codable {
    public var loss: Double
    /// Classification only.
    public var accuracy: Double?
    /// Regression only.
    public var meanSquaredError: Double?
    public var meanAbsoluteError: Double?

    public init(loss: Double, accuracy: Double? = nil, meanSquaredError: Double? = nil,
                meanAbsoluteError: Double? = nil) {
        self.loss = loss
        self.accuracy = accuracy
        self.meanSquaredError = meanSquaredError
        self.meanAbsoluteError = meanAbsoluteError
    }
}
