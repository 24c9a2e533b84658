import Datasets
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
            self.lossAndGradientOf = lossAndGradientOf ?? WrittenOutBackpropagation<Scalar>.differentiating(lossOf)
        }

        /// What the training metrics read of a result: the logits themselves where only
        /// their argmax matters, else the output.
        func metricsOutput(_ result: Tensor<Scalar>) -> Tensor<Scalar> {
            metricsReadArgmax ? result : withoutGradients { outputOf(result) }
        }
    }

    func reading(_ model: any Layer<Scalar>, _ targets: DatasetTargets<Scalar>) -> Reading {
        let finalActivation = (model as? Sequential<Scalar>)?.finalActivation
        switch (loss, targets) {
        case (.crossEntropy, .classes(let labels, _)):
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
        case (.binaryCrossEntropy, .classes(let labels, _)):
            // Two classes with one output: the notes' logistic regression, y = label ∈ {0, 1}.
            let y = Tensor<Scalar>(shape: [labels.count, 1], scalars: labels.map { Scalar($0) })
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
        case (_, .classes):
            // checkCompatibility(of:with:loss:) refuses this pairing before any work.
            fatalError("loss \(loss) needs target values, not class labels")
        }
    }

    /// The mean loss over the batch (recorded, for ``Tensor/backward()``), and the
    /// model's output (probabilities for classification), or with `forMetrics` what the
    /// training metrics read of it (see ``Reading/metricsOutput(_:)``).
    func evaluate(_ model: any Layer<Scalar>, _ x: Tensor<Scalar>, _ targets: DatasetTargets<Scalar>,
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
    func gradients(_ backpropagation: ModelBackpropagation<Scalar>, _ model: any Layer<Scalar>,
                   _ x: Tensor<Scalar>, _ targets: DatasetTargets<Scalar>,
                   parameterReady: ((Int, Tensor<Scalar>) -> Void)? = nil)
        -> (loss: Tensor<Scalar>, output: Tensor<Scalar>, gradients: [Tensor<Scalar>])?
    {
        let reading = reading(model, targets)
        guard let stack = reading.usesLogits ? backpropagation.exceptLast : backpropagation.all else { return nil }
        let (value, result, gradients) = stack.gradients(x, lossAndGradient: reading.lossAndGradientOf, parameterReady: parameterReady)
        return (value, reading.metricsOutput(result), gradients)
    }
}

/// A model's written-out backpropagation (``WrittenOutBackpropagation``) through all of its
/// layers and through all but the last, where the model allows it.
struct ModelBackpropagation<Scalar: TensorScalar> {
    let all: WrittenOutBackpropagation<Scalar>?
    let exceptLast: WrittenOutBackpropagation<Scalar>?

    init(_ model: any Layer<Scalar>) {
        let sequential = model as? Sequential<Scalar>
        all = sequential.flatMap { WrittenOutBackpropagation($0) }
        exceptLast = sequential.flatMap { $0.layers.isEmpty ? nil : WrittenOutBackpropagation($0, layerCount: $0.layers.count - 1) }
    }
}

/// Running sums of the metrics over the batches of an epoch (saved in checkpoints, so
/// that a resumed epoch reports the same figures).
public struct MetricAccumulator: Sendable, Equatable, Codable {
    /// The examples added so far.
    public internal(set) var examples = 0
    var lossSum = 0.0
    var correct = 0
    /// What the accuracy divides by: examples, or every output of binary value targets.
    var predictions = 0
    var isClassification = false
    /// Per output column of regression values: Σ(ŷ − y)², Σ|ŷ − y|, Σy, Σy², in the units
    /// the model sees; ``valueScale`` takes them to the original units.
    var squaredErrorSums: [Double] = []
    var absoluteErrorSums: [Double] = []
    var valueSums: [Double] = []
    var squaredValueSums: [Double] = []
    /// σ of each output when the targets were standardised.
    private var valueScale: [Double]?

    /// An empty accumulator.
    public init() {}

    mutating func add<Scalar>(loss: Double, output: Tensor<Scalar>, targets: DatasetTargets<Scalar>, lossKind: Loss,
                              valueScale: [Double]? = nil) {
        let m = targets.count
        examples += m
        lossSum += loss * Double(m)
        switch targets {
        case .classes(let labels, _):
            isClassification = true
            if lossKind == .binaryCrossEntropy {
                correct += zip(output.scalars, labels).filter { ($0 >= 0.5 ? 1 : 0) == $1 }.count
            } else {
                correct += zip(output.argmax(alongAxis: -1), labels).filter { $0 == $1 }.count
            }
            predictions += m
        case .values(let y):
            if lossKind == .binaryCrossEntropy {
                isClassification = true
                correct += zip(output.scalars, y.scalars).filter { ($0 >= 0.5) == ($1 >= 0.5) }.count
                predictions += output.count
            } else if lossKind == .crossEntropy {
                isClassification = true
                correct += zip(output.argmax(alongAxis: -1), y.argmax(alongAxis: -1)).filter { $0 == $1 }.count
                predictions += m
            } else {
                addValues(predicted: output.scalars, actual: y.scalars, columns: y.count / Swift.max(m, 1))
                self.valueScale = valueScale
            }
        }
    }

    private mutating func addValues<Scalar: TensorScalar>(predicted: [Scalar], actual: [Scalar], columns: Int) {
        if squaredErrorSums.isEmpty {
            let zeros = [Double](repeating: 0, count: columns)
            (squaredErrorSums, absoluteErrorSums, valueSums, squaredValueSums) = (zeros, zeros, zeros, zeros)
        }
        for column in 0..<columns {
            var squared = 0.0, absolute = 0.0, sum = 0.0, sumOfSquares = 0.0
            for index in stride(from: column, to: Swift.min(predicted.count, actual.count), by: columns) {
                let (y, d) = (Double(actual[index]), Double(predicted[index]) - Double(actual[index]))
                squared += d * d
                absolute += Swift.abs(d)
                sum += y
                sumOfSquares += y * y
            }
            squaredErrorSums[column] += squared
            absoluteErrorSums[column] += absolute
            valueSums[column] += sum
            squaredValueSums[column] += sumOfSquares
        }
    }

    /// The metrics over everything added: the mean loss, and the accuracy for classes or MSE,
    /// MAE and R² for values (in the target's original units when a scale was given).
    public var metrics: Metrics {
        let n = Double(Swift.max(examples, 1))
        guard !isClassification else {
            return Metrics(loss: lossSum / n, accuracy: Double(correct) / Double(Swift.max(predictions, 1)))
        }
        let columns = squaredErrorSums.count
        guard columns > 0 else { return Metrics(loss: lossSum / n) }
        let scale = valueScale.map { $0.map { $0 > 0 ? $0 : 1 } } ?? [Double](repeating: 1, count: columns)
        let outputs = (0..<columns).map { j in
            let total = squaredValueSums[j] - valueSums[j] * valueSums[j] / n
            return OutputMetrics(meanSquaredError: squaredErrorSums[j] * scale[j] * scale[j] / n,
                                 meanAbsoluteError: absoluteErrorSums[j] * scale[j] / n,
                                 rSquared: total > 0 ? 1 - squaredErrorSums[j] / total : .nan)
        }
        let count = Double(columns)
        var metrics = Metrics(loss: lossSum / n, meanSquaredError: outputs.map(\.meanSquaredError).reduce(0, +) / count,
                              meanAbsoluteError: outputs.map(\.meanAbsoluteError).reduce(0, +) / count,
                              rSquared: outputs.map(\.rSquared).reduce(0, +) / count)
        if columns > 1 { metrics.outputs = outputs }
        return metrics
    }
}

/// Metrics of a model on a data set.
public struct Metrics: Sendable, Equatable, Codable {
    /// The mean loss, in the units the model is trained in (standardised targets for a
    /// regression with target standardisation).
    public var loss: Double
    /// Classification only.
    public var accuracy: Double?
    /// Regression only, in the target's original units.
    public var meanSquaredError: Double?
    /// Regression only, in the target's original units: the mean of |ŷ − y|.
    public var meanAbsoluteError: Double?
    /// The coefficient of determination 1 − SSE/SST (averaged over outputs); NaN when the
    /// targets do not vary.
    public var rSquared: Double?
    /// A regression with several outputs: each output's MSE, MAE and R² in its own units
    /// (``meanSquaredError`` and ``meanAbsoluteError`` pool outputs that may be in different
    /// units, so they mean little then); nil otherwise.
    public var outputs: [OutputMetrics]?

    /// Metrics from their values.
    public init(loss: Double, accuracy: Double? = nil, meanSquaredError: Double? = nil,
                meanAbsoluteError: Double? = nil, rSquared: Double? = nil) {
        self.loss = loss
        self.accuracy = accuracy
        self.meanSquaredError = meanSquaredError
        self.meanAbsoluteError = meanAbsoluteError
        self.rSquared = rSquared
    }

    /// √MSE, in the target's original units.
    public var rootMeanSquaredError: Double? { meanSquaredError.map { $0.squareRoot() } }
}

/// One output of a regression: its errors in its own units, and its R².
public struct OutputMetrics: Sendable, Equatable, Codable {
    /// The mean of (ŷ − y)², in the output's original units squared.
    public var meanSquaredError: Double
    /// The mean of |ŷ − y|, in the output's original units.
    public var meanAbsoluteError: Double
    /// 1 − SSE/SST for this output; NaN when its targets do not vary.
    public var rSquared: Double

    /// An output's metrics from their values.
    public init(meanSquaredError: Double, meanAbsoluteError: Double, rSquared: Double) {
        self.meanSquaredError = meanSquaredError
        self.meanAbsoluteError = meanAbsoluteError
        self.rSquared = rSquared
    }

    /// √MSE, in the output's original units.
    public var rootMeanSquaredError: Double { meanSquaredError.squareRoot() }
}
