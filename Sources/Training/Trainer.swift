import Foundation
import NeuralNetworks
import Tensors

/// One epoch's results.
public struct EpochRecord: Sendable, Equatable, Codable {
    /// Counted from 0.
    public var epoch: Int
    public var learningRate: Double
    /// Running averages over the epoch's batches.
    public var training: Metrics
    public var validation: Metrics?
    public var seconds: Double
}

/// The records of a training run.
public struct History: Sendable, Equatable, Codable {
    public var epochs: [EpochRecord] = []
    /// The epoch whose weights the model holds after early stopping.
    public var bestEpoch: Int?
    public var stoppedEarly = false
}

/// Progress within an epoch.
public struct BatchEvent: Sendable {
    public var epoch: Int
    public var batch: Int
    public var batchCount: Int
    public var examplesSeen: Int
    public var exampleCount: Int
    /// Mean loss of the batches so far in this epoch.
    public var runningLoss: Double
    /// Seconds since the epoch started.
    public var elapsed: Double
}

public enum CallbackDecision: Sendable {
    case proceed, stop
}

/// Hooks at the end of each batch and epoch (progress bars, logging, custom stopping).
public protocol TrainingCallback: AnyObject {
    func batchEnded(_ event: BatchEvent) -> CallbackDecision
    func epochEnded(_ record: EpochRecord) -> CallbackDecision
}

extension TrainingCallback {
    public func batchEnded(_ event: BatchEvent) -> CallbackDecision { .proceed }
    public func epochEnded(_ record: EpochRecord) -> CallbackDecision { .proceed }
}

/// The fit loop, as a value that can be stopped between batches and resumed.
public struct Trainer<Model: Layer, Opt: Optimizer> where Opt.Scalar == Model.Scalar {
    public typealias Scalar = Model.Scalar

    public let model: Model
    public var optimizer: Opt
    public let configuration: FitConfiguration
    public var callbacks: [any TrainingCallback]
    /// The shuffling generator; its state at an epoch boundary resumes a run exactly.
    public var generator: RandomSource
    public private(set) var history = History()
    private let baseLearningRate: Double
    private var best: (value: Double, epoch: Int, weights: [String: Tensor<Scalar>])?

    public init(model: Model, optimizer: Opt, configuration: FitConfiguration,
                callbacks: [any TrainingCallback] = []) {
        self.model = model
        self.optimizer = optimizer
        self.configuration = configuration
        self.callbacks = callbacks
        self.generator = RandomSource(seed: configuration.seed)
        self.baseLearningRate = optimizer.learningRate
    }

    /// Runs the remaining epochs (all of them, on a new trainer).
    public mutating func run(data: LabeledData<Scalar>, validationData: LabeledData<Scalar>? = nil)
        throws(TrainingError) -> History
    {
        var training = data
        var validation = validationData
        if case .split(let fraction) = configuration.validation, validationData == nil {
            do {
                (training, validation) = try data.split(validationFraction: fraction, seed: configuration.seed &+ 1)
            } catch {
                throw .data(error)
            }
        }
        guard training.count > 0 else { throw .data(.badShape("no training examples")) }
        if case .labels = training.targets, !configuration.loss.usesLabels {
            throw .mismatch("loss \(configuration.loss.rawValue) needs target values, but the data has class labels")
        }
        while history.epochs.count < configuration.epochs && !history.stoppedEarly {
            let record = try runEpoch(training, validation: validation)
            history.epochs.append(record)
            var decision = callbacks.map { $0.epochEnded(record) }.contains { $0 == .stop } ? CallbackDecision.stop : .proceed
            if updateEarlyStopping(record) == .stop { decision = .stop }
            if decision == .stop { history.stoppedEarly = true }
        }
        if let best {
            restore(best.weights)
            history.bestEpoch = best.epoch
        }
        return history
    }

    private mutating func runEpoch(_ data: LabeledData<Scalar>, validation: LabeledData<Scalar>?)
        throws(TrainingError) -> EpochRecord
    {
        let epoch = history.epochs.count
        let start = Date()
        optimizer.learningRate = configuration.schedule.rate(base: baseLearningRate, epoch: epoch)
        model.isTraining = true
        let order = generator.permutation(data.count)
        let batchSize: Int
        switch configuration.batchSize {
        case .examples(let n): batchSize = n
        case .full: batchSize = data.count
        }
        let batchCount = (data.count + batchSize - 1) / batchSize
        let objective = Objective<Scalar>(loss: configuration.loss)
        var accumulator = MetricAccumulator<Scalar>()
        for batch in 0..<batchCount {
            let indices = Array(order[(batch * batchSize)..<min((batch + 1) * batchSize, data.count)])
            let examples = data.subset(indices)
            let (loss, output) = objective.evaluate(model, examples.features, examples.targets)
            let value = Double(loss.scalar)
            guard value.isFinite else {
                model.zeroGradients()
                throw .nonFiniteLoss(epoch: epoch, batch: batch, value: value)
            }
            loss.backward()
            optimizer.step(model)
            accumulator.add(loss: value, output: output, targets: examples.targets, lossKind: configuration.loss)
            let event = BatchEvent(
                epoch: epoch, batch: batch, batchCount: batchCount, examplesSeen: accumulator.examples,
                exampleCount: data.count, runningLoss: accumulator.metrics.loss,
                elapsed: Date().timeIntervalSince(start))
            for callback in callbacks { _ = callback.batchEnded(event) }
        }
        model.isTraining = false
        let validationMetrics = validation.map {
            evaluate(model, on: $0, loss: configuration.loss, batchSize: max(batchSize, 256))
        }
        return EpochRecord(
            epoch: epoch, learningRate: optimizer.learningRate, training: accumulator.metrics,
            validation: validationMetrics, seconds: Date().timeIntervalSince(start))
    }

    /// Tracks the best epoch; stops after `patience` epochs without improvement.
    private mutating func updateEarlyStopping(_ record: EpochRecord) -> CallbackDecision {
        guard let patience = configuration.earlyStoppingPatience else { return .proceed }
        let monitored = record.validation?.loss ?? record.training.loss
        if best == nil || monitored < best!.value {
            best = (monitored, record.epoch, snapshot())
        }
        return record.epoch - best!.epoch >= patience ? .stop : .proceed
    }

    private func snapshot() -> [String: Tensor<Scalar>] {
        Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor.detached()) })
    }

    private func restore(_ weights: [String: Tensor<Scalar>]) {
        model.visitParameters { name, parameter in
            if let saved = weights[name] { parameter.assign(saved.scalars) }
        }
    }
}
