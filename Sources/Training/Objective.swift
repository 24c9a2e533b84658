import NeuralNetworks
import Tensors

/// A loss applied to a model's output, fused with the model's final activation where
/// that is stabler and faster: cross-entropy after a final `Softmax` is computed on the
/// logits (δ = ŷ − y), logistic loss after a final `Sigmoid` likewise. Without such a
/// final layer, the output is taken as logits (as PyTorch's `CrossEntropyLoss` and
/// `BCEWithLogitsLoss` do).
struct Objective<Scalar: TensorScalar> {
    let loss: Loss

    /// How the loss reads a model's result: from the logits before a final activation it
    /// fuses (all layers but the last), or from the output; and which output the metrics
    /// see (probabilities for classification).
    struct Reading {
        let usesLogits: Bool
        let lossOf: (Tensor<Scalar>) -> Tensor<Scalar>
        let outputOf: (Tensor<Scalar>) -> Tensor<Scalar>
        /// Whether the metrics read only the output's argmax (cross-entropy's accuracy),
        /// which the logits give as well, without the softmax.
        let metricsReadArgmax: Bool
        /// The loss and its gradient, without recording (for written-out backpropagation).
        let lossAndGradientOf: (Tensor<Scalar>) -> (loss: Tensor<Scalar>, gradient: Tensor<Scalar>)

        init(usesLogits: Bool, lossOf: @escaping (Tensor<Scalar>) -> Tensor<Scalar>,
             outputOf: @escaping (Tensor<Scalar>) -> Tensor<Scalar>, metricsReadArgmax: Bool = false,
             lossAndGradientOf: ((Tensor<Scalar>) -> (loss: Tensor<Scalar>, gradient: Tensor<Scalar>))? = nil) {
            self.usesLogits = usesLogits
            self.metricsReadArgmax = metricsReadArgmax
            self.lossOf = lossOf
            self.outputOf = outputOf
            self.lossAndGradientOf = lossAndGradientOf ?? DenseBackpropagation<Scalar>.differentiating(lossOf)
        }

        /// What the training metrics read of a result: the logits themselves where only
        /// their argmax matters, else the output.
        func metricsOutput(_ result: Tensor<Scalar>) -> Tensor<Scalar> {
            metricsReadArgmax ? result : withoutGradients { outputOf(result) }
        }
    }

    func reading(_ model: any Layer<Scalar>, _ targets: Targets<Scalar>) -> Reading {
        let finalActivation = (model as? Sequential<Scalar>)?.finalActivation
        switch (loss, targets) {
        case (.crossEntropy, .labels(let labels, _)):
            return Reading(usesLogits: finalActivation == .softmax,
                           lossOf: { softmaxCrossEntropy(logits: $0, labels: labels) }, outputOf: { $0.softmax() },
                           metricsReadArgmax: true,
                           lossAndGradientOf: { Tensor.softmaxCrossEntropyWithGradient(logits: $0, labels: labels) })
        case (.crossEntropy, .values(let y)):
            return Reading(usesLogits: finalActivation == .softmax,
                           lossOf: { softmaxCrossEntropy(logits: $0, targets: y) }, outputOf: { $0.softmax() },
                           metricsReadArgmax: true)
        case (.binaryCrossEntropy, .values(let y)):
            return Reading(usesLogits: finalActivation == .sigmoid,
                           lossOf: { binaryCrossEntropy(logits: $0, targets: y.reshaped(to: $0.shape)) },
                           outputOf: { $0.sigmoid() })
        case (.squared, .values(let y)):
            return Reading(usesLogits: false,
                           lossOf: { squaredLoss(predictions: $0, targets: y.reshaped(to: $0.shape)) }, outputOf: { $0 })
        case (.meanSquaredError, .values(let y)):
            return Reading(usesLogits: false,
                           lossOf: { meanSquaredError(predictions: $0, targets: y.reshaped(to: $0.shape)) },
                           outputOf: { $0 },
                           lossAndGradientOf: {
                               Tensor.meanSquaredErrorWithGradient(predictions: $0, targets: y.reshaped(to: $0.shape))
                           })
        case (_, .labels):
            fatalError("loss \(loss) needs target values, not class labels")
        }
    }

    /// The mean loss over the batch (recorded, for ``Tensor/backward()``), and the
    /// model's output (probabilities for classification), or with `forMetrics` what the
    /// training metrics read of it (see ``Reading/metricsOutput(_:)``).
    func evaluate(_ model: any Layer<Scalar>, _ x: Tensor<Scalar>, _ targets: Targets<Scalar>,
                  forMetrics: Bool = false)
        -> (loss: Tensor<Scalar>, output: Tensor<Scalar>)
    {
        let reading = reading(model, targets)
        let result = reading.usesLogits ? (model as! Sequential<Scalar>).forwardExceptLast(x) : model(x)
        return (reading.lossOf(result), forMetrics ? reading.metricsOutput(result.detached())
                                                   : reading.outputOf(result.detached()))
    }

    /// The mean loss, the output for the metrics (the logits where they read only the
    /// argmax) and every parameter's gradient, through
    /// written-out backpropagation; nil when the layers the loss reads have no
    /// written-out rule (then ``evaluate(_:_:_:)`` and autodiff serve).
    func gradients(_ backpropagation: WrittenOutBackpropagation<Scalar>, _ model: any Layer<Scalar>,
                   _ x: Tensor<Scalar>, _ targets: Targets<Scalar>)
        -> (loss: Tensor<Scalar>, output: Tensor<Scalar>, gradients: [Tensor<Scalar>])?
    {
        let reading = reading(model, targets)
        guard let stack = reading.usesLogits ? backpropagation.exceptLast : backpropagation.all else { return nil }
        let (value, result, gradients) = stack.gradients(x, lossAndGradient: reading.lossAndGradientOf)
        return (value, reading.metricsOutput(result), gradients)
    }
}

/// A model's written-out backpropagation (``DenseBackpropagation``) through all of its
/// layers and through all but the last, where the model allows it.
struct WrittenOutBackpropagation<Scalar: TensorScalar> {
    let all: DenseBackpropagation<Scalar>?
    let exceptLast: DenseBackpropagation<Scalar>?

    init(_ model: any Layer<Scalar>) {
        let sequential = model as? Sequential<Scalar>
        all = sequential.flatMap { DenseBackpropagation($0) }
        exceptLast = sequential.flatMap { $0.layers.isEmpty ? nil : DenseBackpropagation($0, layerCount: $0.layers.count - 1) }
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
