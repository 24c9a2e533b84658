import Foundation
import Datasets
import NeuralNetworks
import Tensors

/// How `fit` trains.
public struct FitConfiguration: Sendable {
    /// How many examples each step's gradient averages over (eq. 3.32's B): the notes' three
    /// regimes of section 3.2.
    public enum BatchSize: Sendable, Hashable {
        /// Mini-batches of this many examples (1: stochastic gradient descent); the last
        /// batch of an epoch may be smaller.
        case examples(Int)
        /// The whole training set at once: (full-batch) gradient descent.
        case full
    }

    /// Where the validation metrics of each epoch come from, besides a validation set passed
    /// to ``fit(_:optimizer:data:configuration:validationData:callbacks:)``.
    public enum Validation: Sendable, Hashable {
        /// No validation split.
        case none
        /// A seeded random fraction of the training data is held out.
        case split(Double)
    }

    /// The number of passes over the training data, at least 1.
    public var epochs: Int
    /// The examples per step: one, some (mini-batch) or all.
    public var batchSize: BatchSize
    /// The loss 𝓛 averaged over each batch into J (eq. 3.32).
    public var loss: Loss
    /// Seeds the shuffling (and a validation split).
    public var seed: UInt64
    /// Whether part of the training data is held out for validation.
    public var validation: Validation
    /// How the learning rate α changes from epoch to epoch.
    public var schedule: LearningRateSchedule
    /// Stop after this many epochs without improvement of the validation loss (or the
    /// training loss, without validation), and restore the best weights.
    public var earlyStoppingPatience: Int?
    /// When set, each epoch ends by measuring every layer's health (``LayerHealth``) on
    /// this many training examples (the first ones, always the same), into
    /// ``EpochRecord/health``. It reads the model and changes nothing of the run.
    public var healthProbeExamples: Int?
    /// Threads for the data-parallel step: each batch split into this many shares (with
    /// at least 16 examples each), each share's forward and backward pass on a thread of
    /// its own with single-threaded products, the gradients summed, one update. nil (the
    /// default): for a stack of dense layers, one share, with each product split over the
    /// threads instead (with two BLAS threads, in two blocks of C on two threads; with
    /// more, by BLAS) — on a 2-core AVX2 machine that measured faster (W2, batch 64:
    /// median 0.89 s per epoch against 1.10 s with two shares, which each pack every
    /// weight matrix and whose gradients must then be summed; W1, batch 1000: a tie); for
    /// a stack with convolutions, one share per BLAS thread (W3, batch 64, two threads:
    /// 19 s per epoch against 27 s with the products and the kernels split instead). Applies to models with
    /// written-out backpropagation. The share count sets the order in which gradients
    /// are summed: the same count gives the same run, another count (so, for a CNN, another
    /// BLAS thread count) the same run up to rounding.
    public var threads: Int?
    /// With several processes (``Trainer/reducer``): whether each bucket of gradients
    /// (consecutive layers' gradients, from the last layer back) starts its sum as soon as backpropagation has finished it,
    /// on the reducer's communication thread beside the rest of the backward pass (true,
    /// the default), or every sum waits for the end of the pass. Overlap pays where that
    /// thread has a core of its own; with every core computing, it competes with them.
    /// The result is the same either way.
    public var overlapsGradientSums = true

    /// The settings of a run; throws ``ConfigurationError`` for fewer than one epoch, a batch
    /// size below 1, a validation split outside (0, 1) or a patience below 1.
    public init(
        epochs: Int, batchSize: BatchSize, loss: Loss, seed: UInt64 = 0,
        validation: Validation = .none, schedule: LearningRateSchedule = .constant,
        earlyStoppingPatience: Int? = nil
    ) throws(ConfigurationError) {
        guard epochs >= 1 else { throw ConfigurationError("epochs must be at least 1, got \(epochs)") }
        if case .examples(let n) = batchSize, n < 1 {
            throw ConfigurationError("batch size must be at least 1, got \(n)")
        }
        if case .split(let f) = validation, !(f > 0 && f < 1) {
            throw ConfigurationError("validation split must be in (0, 1), got \(f)")
        }
        if let patience = earlyStoppingPatience, patience < 1 {
            throw ConfigurationError("early-stopping patience must be at least 1, got \(patience)")
        }
        self.epochs = epochs
        self.batchSize = batchSize
        self.loss = loss
        self.seed = seed
        self.validation = validation
        self.schedule = schedule
        self.earlyStoppingPatience = earlyStoppingPatience
    }
}

/// Why training stopped early with an error.
extension FitConfiguration {
    /// The examples in the largest batch of an epoch over `count` examples.
    public func largestBatch(of count: Int) -> Int {
        switch batchSize {
        case .examples(let n): return min(n, count)
        case .full: return count
        }
    }
}

/// Why training or evaluation stopped with an error: a one-line message for the user.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss became NaN or infinite at this epoch and batch (counted from 0): usually a
    /// learning rate too large.
    case nonFiniteLoss(epoch: Int, batch: Int, value: Double)
    /// The data could not be read or used.
    case data(DatasetError)
    /// The model, the data and the loss do not fit together (``checkCompatibility(of:with:loss:)``).
    case mismatch(String)

    /// The one-line message (epochs and batches counted from 1).
    public var description: String {
        switch self {
        case .nonFiniteLoss(let epoch, let batch, let value):
            // NaN prints as "nan" or "-nan" (its sign bit is meaningless): name it instead.
            let became = value.isNaN ? "NaN (not a number)" : value.isInfinite ? "infinite" : "\(value)"
            return "the loss became \(became) at epoch \(epoch + 1), batch \(batch + 1); lower the learning rate or check the data"
        case .data(let error): return error.description
        case .mismatch(let message): return message
        }
    }
}

/// Trains `model` on `data` with `optimizer`: each epoch shuffles the examples with the
/// seeded generator, runs mini-batches (forward, loss, backward, update), then measures
/// the validation set. Returns the history, one record per epoch.
public func fit<Model: Layer, Opt: Optimizer>(
    _ model: Model, optimizer: inout Opt, data: Dataset<Model.Scalar>,
    configuration: FitConfiguration, validationData: Dataset<Model.Scalar>? = nil,
    callbacks: [any TrainingCallback] = []
) throws(TrainingError) -> History where Opt.Scalar == Model.Scalar {
    var trainer = Trainer(model: model, optimizer: optimizer, configuration: configuration, callbacks: callbacks)
    defer { optimizer = trainer.optimizer }
    return try trainer.run(data: data, validationData: validationData)
}

/// Evaluates `model` on `data` in evaluation mode, without recording gradients; after
/// checking that the model fits the data (``checkCompatibility(of:with:loss:)``).
/// Regression metrics are in the target's original units when the targets were
/// standardised (``Dataset/targetStandardization``).
public func evaluate<Model: Layer>(
    _ model: Model, on data: Dataset<Model.Scalar>, loss: Loss, batchSize: Int = 1024
) throws(TrainingError) -> Metrics {
    checkPrecondition(batchSize > 0, "evaluate: batch size must be positive, got \(batchSize)")
    try checkCompatibility(of: model, with: data, loss: loss)
    try checkMemory(of: model, inputShape: data.exampleShape, batchSize: min(batchSize, data.count))
    return evaluateChecked(model, on: data, loss: loss, batchSize: batchSize)
}

/// ``evaluate(_:on:loss:batchSize:)`` on data already checked.
func evaluateChecked<Model: Layer>(
    _ model: Model, on data: Dataset<Model.Scalar>, loss: Loss, batchSize: Int
) -> Metrics {
    let wasTraining = model.isTraining
    model.isTraining = false
    defer { model.isTraining = wasTraining }
    let objective = Objective<Model.Scalar>(loss: loss)
    var accumulator = MetricAccumulator()
    withoutGradients {
        for start in stride(from: 0, to: data.count, by: batchSize) {
            let batch = data.subset(Array(start..<min(start + batchSize, data.count)))
            let (value, output) = objective.evaluate(model, batch.features, batch.targets!)
            accumulator.add(loss: Double(value.scalar), output: output, targets: batch.targets!, lossKind: loss,
                            valueScale: data.targetStandardization?.standardDeviation)
        }
    }
    return accumulator.metrics
}
