import Foundation
import Datasets
import NeuralNetworks
import Tensors

/// One epoch's results.
public struct EpochRecord: Sendable, Equatable, Codable {
    /// Counted from 0.
    public var epoch: Int
    /// The learning rate α used in this epoch (after the schedule).
    public var learningRate: Double
    /// Running averages over the epoch's batches.
    public var training: Metrics
    /// The metrics on the validation data, when there is some.
    public var validation: Metrics?
    /// The epoch's wall-clock time, validation included.
    public var seconds: Double
    /// Every layer's health at the epoch's end, when asked for
    /// (``FitConfiguration/healthProbeExamples``).
    public var health: [LayerHealth]?
}

/// The training loss as it went, between epochs: the mean loss of a run of consecutive
/// batches (each batch its own point when an epoch has at most
/// ``History/pointsPerEpoch`` of them).
public struct StepRecord: Sendable, Equatable, Codable {
    /// Counted from 0.
    public var epoch: Int
    /// Optimiser steps taken since the run began, this point's batches included.
    public var step: Int
    /// Training examples seen since the run began, this point's batches included.
    public var examplesSeen: Int
    /// The mean of the batches' losses (each batch's loss a mean over its examples).
    public var loss: Double
    /// How many batches the point averages.
    public var batches: Int
}

/// The records of a training run.
public struct History: Sendable, Equatable, Codable {
    /// The most points ``steps`` keeps per epoch; longer epochs average runs of batches.
    public static let pointsPerEpoch = 200

    /// One record per epoch run, in order.
    public var epochs: [EpochRecord] = []
    /// The training loss step by step (or averaged over runs of batches in long epochs).
    public var steps: [StepRecord] = []
    /// The run of batches under way (its `loss` a sum), closed when full or at the epoch's end.
    public var pendingStep: StepRecord?
    /// The epoch whose weights the model holds after early stopping.
    public var bestEpoch: Int?
    /// True when early stopping ended the run before the last epoch.
    public var stoppedEarly = false
    /// True when a stop was requested mid-run (Ctrl-C); ``Trainer/progress`` resumes it.
    public var isInterrupted = false

    /// An empty history: no epoch run yet.
    public init() {}

    /// Decodes a history, also one saved before ``steps`` existed (it has none).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try container.decode([EpochRecord].self, forKey: .epochs)
        bestEpoch = try container.decodeIfPresent(Int.self, forKey: .bestEpoch)
        stoppedEarly = try container.decode(Bool.self, forKey: .stoppedEarly)
        isInterrupted = try container.decode(Bool.self, forKey: .isInterrupted)
        // Runs checkpointed before the step records existed resume without them.
        steps = try container.decodeIfPresent([StepRecord].self, forKey: .steps) ?? []
        pendingStep = try container.decodeIfPresent(StepRecord.self, forKey: .pendingStep)
    }

    /// Adds one batch's loss: a point of its own, or to the run of batches under way.
    mutating func record(epoch: Int, batch: Int, batchCount: Int, examples: Int, loss: Double) {
        let last = pendingStep ?? steps.last
        var point = pendingStep ?? StepRecord(epoch: epoch, step: last?.step ?? 0, examplesSeen: last?.examplesSeen ?? 0,
                                              loss: 0, batches: 0)
        point.step += 1
        point.examplesSeen += examples
        point.loss += loss
        point.batches += 1
        let perPoint = (batchCount + Self.pointsPerEpoch - 1) / Self.pointsPerEpoch
        if point.batches == perPoint || batch == batchCount - 1 {
            point.loss /= Double(point.batches)
            steps.append(point)
            pendingStep = nil
        } else {
            pendingStep = point
        }
    }
}

/// Progress within an epoch.
public struct BatchEvent: Sendable {
    /// The epoch under way, counted from 0.
    public var epoch: Int
    /// The batch just finished, counted from 0.
    public var batch: Int
    /// The batches in this epoch.
    public var batchCount: Int
    /// The examples of this epoch processed so far.
    public var examplesSeen: Int
    /// The examples in an epoch.
    public var exampleCount: Int
    /// Mean loss of the batches so far in this epoch.
    public var runningLoss: Double
    /// Seconds since the epoch started.
    public var elapsed: Double
}

/// What a ``TrainingCallback`` asks for after a batch or an epoch.
public enum CallbackDecision: Sendable {
    /// Go on, or stop training at this point (the model keeps its current weights).
    case proceed, stop
}

/// Hooks at the end of each batch and epoch (progress bars, logging, custom stopping).
public protocol TrainingCallback: AnyObject {
    /// Called after each batch's update.
    func batchEnded(_ event: BatchEvent) -> CallbackDecision
    /// Called after each epoch, with its metrics.
    func epochEnded(_ record: EpochRecord) -> CallbackDecision
}

extension TrainingCallback {
    /// Proceeds: a callback need only implement the hooks it uses.
    public func batchEnded(_ event: BatchEvent) -> CallbackDecision { .proceed }
    /// Proceeds: a callback need only implement the hooks it uses.
    public func epochEnded(_ record: EpochRecord) -> CallbackDecision { .proceed }
}

/// Where a run stands, at a batch boundary: with the model's weights and the optimiser's
/// state it resumes the run exactly (the same weights as a run never interrupted).
public struct TrainingProgress: Sendable, Equatable, Codable {
    /// The epoch under way (or next), counted from 0.
    public var epoch = 0
    /// The first batch of `epoch` not yet run.
    public var nextBatch = 0
    /// True when ``accumulator`` holds the sums of every process of a run over several
    /// (saved at a stop): on resuming, only the first process keeps them.
    public var accumulatorCoversAllProcesses: Bool?
    /// The shuffling generator's state when `epoch` began (it re-creates the epoch's order).
    public var epochStartGenerator: [UInt64]
    /// The metrics of the epoch's batches run so far.
    public var accumulator = MetricAccumulator()
    /// The time spent in the epoch so far.
    public var secondsInEpoch = 0.0
    /// The records of the epochs finished.
    public var history = History()
    /// Early stopping: the best monitored value and its epoch (its weights travel apart).
    public var bestValue: Double?
    /// The epoch of ``bestValue``, counted from 0.
    public var bestEpoch: Int?
}

/// The fit loop, as a value that can be stopped between batches and resumed.
public struct Trainer<Model: Layer, Opt: Optimizer> where Opt.Scalar == Model.Scalar {
    /// The element type of the model and its data.
    public typealias Scalar = Model.Scalar

    /// The model being trained; its parameters are updated in place.
    public let model: Model
    /// The optimiser, with its state (velocities, moments).
    public var optimizer: Opt
    /// The run's settings.
    public let configuration: FitConfiguration
    /// The hooks called after each batch and epoch.
    public var callbacks: [any TrainingCallback]
    /// Checked after every batch: when it returns true the run stops at that batch
    /// boundary, with ``progress`` ready to resume.
    public var stopRequested: @Sendable () -> Bool = { false }
    /// Where the run stands; saved in checkpoints to resume.
    public private(set) var progress: TrainingProgress
    /// Early stopping's best weights so far, by parameter name.
    public private(set) var bestWeights: [String: Tensor<Scalar>] = [:]
    private var generator: RandomSource
    /// The weights before an epoch's last step, for the health probe's update ratio.
    private var weightsBeforeLastStep: [String: Tensor<Scalar>] = [:]
    private let baseLearningRate: Double
    /// Dense stacks train through written-out backpropagation, which skips the graph.
    private let backpropagation: ModelBackpropagation<Scalar>
    /// One written-out backpropagation per share of a data-parallel step (made on first use).
    private var shareBackpropagations: [ModelBackpropagation<Scalar>] = []
    /// The data-parallel step's combined gradients, kept for the next step's.
    private var combinedGradients: [Tensor<Scalar>] = []
    /// Set when the written-out step does not apply to this model and loss.
    private var dataParallelUnavailable = false
    /// The model's dropout layers: each step tells them where its examples lie in the batch.
    private let dropoutLayers: [Dropout<Scalar>]
    /// The model's batch normalisations, in the order they run: synchronised over the
    /// processes of a distributed step.
    private let normalizationLayers: [BatchNormalization<Scalar>]
    /// Several processes training one model (MPI ranks): each takes its share of every
    /// batch and the gradients are summed across them (``GradientReducer``). Every
    /// process must run the same trainer on the same data with the same seed.
    public var reducer: (any GradientReducer)? {
        didSet { buckets = nil }
    }
    /// The distributed step's gradient buckets (made on its first use).
    private var buckets: GradientBuckets<Scalar>?

    /// A trainer at the start of a run, shuffling with `configuration.seed`.
    public init(model: Model, optimizer: Opt, configuration: FitConfiguration,
                callbacks: [any TrainingCallback] = []) {
        self.model = model
        self.optimizer = optimizer
        self.configuration = configuration
        self.callbacks = callbacks
        self.generator = RandomSource(seed: configuration.seed)
        self.progress = TrainingProgress(epochStartGenerator: generator.state)
        self.baseLearningRate = optimizer.learningRate
        self.backpropagation = ModelBackpropagation(model)
        (self.dropoutLayers, self.normalizationLayers) = Self.stateLayers(of: model)
    }

    /// A trainer that continues from saved progress; `model` and `optimizer` must hold the
    /// weights and state saved with it. Early stopping's best weights are passed back in
    /// `bestWeights`; when they are not, its tracking restarts at the resumed epoch.
    public init(model: Model, optimizer: Opt, configuration: FitConfiguration,
                callbacks: [any TrainingCallback] = [], resumingFrom progress: TrainingProgress,
                bestWeights: [String: Tensor<Scalar>] = [:], baseLearningRate: Double) {
        self.model = model
        self.optimizer = optimizer
        self.configuration = configuration
        self.callbacks = callbacks
        self.progress = progress
        self.progress.history.isInterrupted = false
        if bestWeights.isEmpty {
            // Without the best epoch's weights, early stopping starts tracking afresh from
            // here rather than report an epoch whose weights it cannot restore.
            self.progress.bestValue = nil
            self.progress.bestEpoch = nil
        }
        self.generator = RandomSource(state: progress.epochStartGenerator)
        self.bestWeights = bestWeights
        self.baseLearningRate = baseLearningRate
        self.backpropagation = ModelBackpropagation(model)
        (self.dropoutLayers, self.normalizationLayers) = Self.stateLayers(of: model)
    }

    private static func stateLayers(of model: Model) -> ([Dropout<Scalar>], [BatchNormalization<Scalar>]) {
        let layers = (model as? Sequential<Scalar>)?.allLayers ?? [model]
        return (layers.compactMap { $0 as? Dropout<Scalar> }, layers.compactMap { $0 as? BatchNormalization<Scalar> })
    }

    /// The learning rate the schedule starts from (saved with a checkpoint).
    public var initialLearningRate: Double { baseLearningRate }

    /// Runs the remaining epochs, after checking that the model fits the data and the
    /// loss (``checkCompatibility(of:with:loss:)``). `validationData` is prepared like
    /// `data` (``DataSchema/prepare(_:)``: its standardisations applied when they are not).
    public mutating func run(data: Dataset<Scalar>, validationData: Dataset<Scalar>? = nil)
        throws(TrainingError) -> History
    {
        var training = data
        var validation: Dataset<Scalar>?
        do {
            validation = try validationData.map { data throws(DatasetError) in try DataSchema(describing: training).prepare(data) }
            if case .split(let fraction) = configuration.validation, validationData == nil {
                (training, validation) = try data.split(validationFraction: fraction, seed: configuration.seed &+ 1)
            }
        } catch {
            throw .data(error)
        }
        guard training.count > 0 else { throw .mismatch("no training examples") }
        if progress.accumulatorCoversAllProcesses == true, let reducer, reducer.size > 1, reducer.rank != 0 {
            // Resuming a run stopped mid-epoch: the first process holds the epoch's sums so far.
            progress.accumulator = MetricAccumulator()
        }
        progress.accumulatorCoversAllProcesses = nil
        try checkCompatibility(of: model, with: training, loss: configuration.loss)
        try checkMemory(of: model, inputShape: training.exampleShape, batchSize: configuration.largestBatch(of: training.count),
                        optimizerSlots: 2)
        try checkBatchNormalization(batch: configuration.largestBatch(of: training.count), examples: training.count)
        if let validation {
            guard validation.classes == training.classes else {
                throw .mismatch("the validation data's classes (\(validation.classes?.names ?? [])) differ from the training data's (\(training.classes?.names ?? []))")
            }
            try checkCompatibility(of: model, with: validation, loss: configuration.loss)
        }
        while progress.epoch < configuration.epochs && !progress.history.stoppedEarly {
            if progress.epoch > 0 && progress.nextBatch == 0 && stopAgreed() {
                progress.history.isInterrupted = true
                return progress.history
            }
            guard let record = try runEpoch(training, validation: validation) else {
                progress.history.isInterrupted = true
                return progress.history
            }
            progress.history.epochs.append(record)
            var decision = callbacks.map { $0.epochEnded(record) }.contains { $0 == .stop } ? CallbackDecision.stop : .proceed
            if updateEarlyStopping(record) == .stop { decision = .stop }
            if decision == .stop { progress.history.stoppedEarly = true }
            progress.epoch += 1
            progress.nextBatch = 0
            progress.accumulator = MetricAccumulator()
            progress.secondsInEpoch = 0
            progress.epochStartGenerator = generator.state
        }
        if let bestEpoch = progress.bestEpoch {
            restore(bestWeights)
            progress.history.bestEpoch = bestEpoch
        }
        return progress.history
    }

    /// Runs (the rest of) the current epoch; nil when a stop was requested first.
    private mutating func runEpoch(_ data: Dataset<Scalar>, validation: Dataset<Scalar>?)
        throws(TrainingError) -> EpochRecord?
    {
        let epoch = progress.epoch
        let start = Date().addingTimeInterval(-progress.secondsInEpoch)
        optimizer.learningRate = configuration.schedule.rate(base: baseLearningRate, epoch: epoch)
        model.isTraining = true
        generator = RandomSource(state: progress.epochStartGenerator)
        let order = generator.permutation(data.count)
        let batchSize: Int
        switch configuration.batchSize {
        case .examples(let n): batchSize = n
        case .full: batchSize = data.count
        }
        let batchCount = (data.count + batchSize - 1) / batchSize
        let objective = Objective<Scalar>(loss: configuration.loss)
        while progress.nextBatch < batchCount {
            let batch = progress.nextBatch
            let indices = Array(order[(batch * batchSize)..<min((batch + 1) * batchSize, data.count)])
            if batch == batchCount - 1 && configuration.healthProbeExamples != nil {
                weightsBeforeLastStep = Dictionary(model.namedParameters.map { ($0.name, $0.tensor.detached()) },
                                                   uniquingKeysWith: { a, _ in a })
            }
            if let reducer, reducer.size > 1 {
                // Several processes: this one's share of the global batch, the gradients
                // summed across them; a stop asked for in any process stops them all here.
                let (value, stop) = try distributedStep(data, indices: indices, objective: objective, reducer: reducer,
                                                        epoch: epoch, batch: batch)
                progress.history.record(epoch: epoch, batch: batch, batchCount: batchCount, examples: indices.count, loss: value)
                finishBatch(epoch: epoch, batch: batch, batchCount: batchCount, start: start, count: data.count)
                if progress.nextBatch < batchCount && stop {
                    // The checkpoint (written by the first process) holds every process's sums.
                    progress.accumulator.reduce(with: reducer, columns: data.targets?.width ?? 1)
                    progress.accumulatorCoversAllProcesses = true
                    return nil
                }
                continue
            }
            for dropout in dropoutLayers { dropout.startBatch(firstExample: 0) }
            let shares = shareCount(batch: indices.count)
            if shares > 1, !dataParallelUnavailable,
               let parts = dataParallelStep(data, indices: indices, shares: shares, objective: objective) {
                // The data-parallel step: each share's mean loss and gradients on a thread
                // of its own, combined weighted by the share's size (the batch's mean).
                let value = parts.loss
                guard value.isFinite else { throw .nonFiniteLoss(epoch: epoch, batch: batch, value: value) }
                optimizer.step(model, gradients: parts.gradients)
                combinedGradients = parts.gradients
                for part in parts.outputs {
                    progress.accumulator.add(loss: part.loss, output: part.output, targets: part.targets,
                                             lossKind: configuration.loss, valueScale: data.targetStandardization?.standardDeviation)
                }
                progress.history.record(epoch: epoch, batch: batch, batchCount: batchCount, examples: indices.count, loss: value)
                finishBatch(epoch: epoch, batch: batch, batchCount: batchCount, start: start, count: data.count)
                if progress.nextBatch < batchCount && stopRequested() { return nil }
                continue
            }
            let examples = data.subset(indices)
            let targets = examples.targets!
            let value: Double, output: Tensor<Scalar>
            if let (loss, result, gradients) = objective.gradients(
                backpropagation, model, examples.features, targets) {
                (value, output) = (Double(loss.scalar), result)
                guard value.isFinite else { throw .nonFiniteLoss(epoch: epoch, batch: batch, value: value) }
                optimizer.step(model, gradients: gradients)
            } else {
                // The graph is dropped before the update, so that no pullback still holds
                // the weights' storage and the optimiser updates them in place.
                (value, output) = {
                    let (loss, output) = objective.evaluate(model, examples.features, targets, forMetrics: true)
                    let value = Double(loss.scalar)
                    if value.isFinite { loss.backward() }
                    return (value, output.detached())
                }()
                guard value.isFinite else {
                    model.zeroGradients()
                    throw .nonFiniteLoss(epoch: epoch, batch: batch, value: value)
                }
                optimizer.step(model)
            }
            progress.accumulator.add(loss: value, output: output, targets: targets, lossKind: configuration.loss,
                                     valueScale: data.targetStandardization?.standardDeviation)
            progress.history.record(epoch: epoch, batch: batch, batchCount: batchCount, examples: indices.count, loss: value)
            finishBatch(epoch: epoch, batch: batch, batchCount: batchCount, start: start, count: data.count)
            if progress.nextBatch < batchCount && stopRequested() { return nil }
        }
        model.isTraining = false
        if let reducer, reducer.size > 1 {
            // Every process's metrics over the whole epoch, so that all of them see the same
            // figures (and early stopping decides alike).
            progress.accumulator.reduce(with: reducer, columns: data.targets?.width ?? 1)
            try checkSameWeights(reducer, epoch: epoch)
        }
        let validationMetrics = validation.map {
            evaluateChecked(model, on: $0, loss: configuration.loss, batchSize: max(batchSize, 256))
        }
        var health: [LayerHealth]?
        if let probeSize = configuration.healthProbeExamples, let sequential = model as? Sequential<Scalar> {
            let probe = data.subset(Array(0..<min(probeSize, data.count)))
            health = LayerHealth.measure(sequential, probe: probe, loss: configuration.loss, previousWeights: weightsBeforeLastStep)
            weightsBeforeLastStep = [:]
        }
        return EpochRecord(
            epoch: epoch, learningRate: optimizer.learningRate, training: progress.accumulator.metrics,
            validation: validationMetrics, seconds: Date().timeIntervalSince(start), health: health)
    }

    /// Counts the batch as done and tells the callbacks.
    private mutating func finishBatch(epoch: Int, batch: Int, batchCount: Int, start: Date, count: Int) {
        progress.nextBatch += 1
        progress.secondsInEpoch = Date().timeIntervalSince(start)
        let event = BatchEvent(
            epoch: epoch, batch: batch, batchCount: batchCount, examplesSeen: progress.accumulator.examples,
            exampleCount: count, runningLoss: progress.accumulator.metrics.loss,
            elapsed: progress.secondsInEpoch)
        for callback in callbacks { _ = callback.batchEnded(event) }
    }

    /// How many shares a batch of `batch` examples is split into: one per thread asked
    /// for (``FitConfiguration/threads``; one by default), each of at least
    /// ``minimumShare`` examples.
    func shareCount(batch: Int) -> Int {
        min(configuration.threads ?? automaticShares, batch / Self.minimumShare)
    }

    /// The shares of a step when ``FitConfiguration/threads`` is not set: one per BLAS
    /// thread for a stack with convolutions (which the written-out pass trains), one
    /// otherwise — what measured faster on each (see ``FitConfiguration/threads``).
    var automaticShares: Int {
        let stack = backpropagation.exceptLast ?? backpropagation.all
        return stack?.hasConvolution == true ? DataParallel.availableThreads : 1
    }

    /// The fewest examples a share of a data-parallel step takes: below it, splitting
    /// the batch costs more than it gains.
    static var minimumShare: Int { 16 }

    /// One data-parallel step's work: the batch split into `shares` contiguous shares,
    /// each share's mean loss and gradients computed on its own thread (matrix products
    /// single-threaded there), then combined in share order weighted by the share's size:
    /// the batch's mean loss and its gradients, up to the order of summation. The same
    /// thread count always sums in the same order, so it gives the same run.
    /// Nil, and never tried again, when the model has no written-out backpropagation for
    /// the loss (autodiff steps run on one thread, BLAS splitting each product).
    private mutating func dataParallelStep(_ data: Dataset<Scalar>, indices: [Int], shares: Int,
                                           objective: Objective<Scalar>)
        -> (loss: Double, gradients: [Tensor<Scalar>], outputs: [(loss: Double, output: Tensor<Scalar>, targets: DatasetTargets<Scalar>)])?
    {
        guard backpropagation.all != nil || backpropagation.exceptLast != nil else {
            dataParallelUnavailable = true
            return nil
        }
        while shareBackpropagations.count < shares { shareBackpropagations.append(ModelBackpropagation(model)) }
        let bounds = (0...shares).map { $0 * indices.count / shares }
        typealias Part = (loss: Double, output: Tensor<Scalar>, targets: DatasetTargets<Scalar>, gradients: [Tensor<Scalar>])
        var parts = [Part?](repeating: nil, count: shares)
        let workers = shareBackpropagations
        let model = self.model
        parts.withUnsafeMutableBufferPointer { results in
            DataParallel.run(shares: shares) { share in
                let part = data.subset(Array(indices[bounds[share]..<bounds[share + 1]]))
                let targets = part.targets!
                if let (loss, output, gradients) = objective.gradients(workers[share], model, part.features, targets) {
                    results[share] = (Double(loss.scalar), output, targets, gradients)
                }
            }
        }
        guard parts.allSatisfy({ $0 != nil }) else {
            dataParallelUnavailable = true
            return nil
        }
        let weights = (0..<shares).map { Double(bounds[$0 + 1] - bounds[$0]) / Double(indices.count) }
        let done = parts.map { $0! }
        // Into the buffers of the last step (taken out, so that writing copies nothing).
        var gradients = combinedGradients
        combinedGradients = []
        if gradients.count != done[0].gradients.count { gradients = done[0].gradients.map { _ in Tensor(0) } }
        let scalarWeights = weights.map { Scalar($0) }
        for p in gradients.indices {
            gradients[p].assignWeightedSum(of: done.map { $0.gradients[p] }, weights: scalarWeights)
        }
        let loss = zip(done, weights).map { $0.loss * $1 }.reduce(0, +)
        return (loss, gradients, done.map { ($0.loss, $0.output, $0.targets) })
    }

    /// Several processes must hold the same weights bit for bit after every epoch: each
    /// sends a checksum of its weights' bits, and each compares the sum with its own
    /// times the number of processes.
    private func checkSameWeights(_ reducer: any GradientReducer, epoch: Int) throws(TrainingError) {
        var hash: UInt64 = 14_695_981_039_346_656_037  // FNV-1a over the weights' bit patterns
        let buffers = (model as? any BufferedLayer<Scalar>)?.namedBuffers ?? []
        for parameter in model.namedParameters + buffers {
            for value in parameter.tensor.scalars {
                hash = (hash ^ Double(value).bitPattern) &* 1_099_511_628_211
            }
        }
        // 40 bits: sums of up to 2^13 of them stay exact in a Double.
        let checksum = Double(hash >> 24)
        var sums = [checksum]
        reducer.sum(&sums)
        guard sums[0] == checksum * Double(reducer.size) else {
            throw .mismatch("after epoch \(epoch + 1) process \(reducer.rank) of \(reducer.size) holds other weights than the rest (checksums differ): the processes did not run the same model, data or seed")
        }
    }

    /// Whether to stop: asked for here, or with several processes, in any of them.
    private func stopAgreed() -> Bool {
        guard let reducer, reducer.size > 1 else { return stopRequested() }
        var flag: [Double] = [stopRequested() ? 1 : 0]
        reducer.sum(&flag)
        return flag[0] > 0
    }

    /// One step of a run over several processes (``reducer``): this process's share of
    /// the global batch (contiguous, by rank; possibly empty), its mean loss and
    /// gradients weighted by the share's size, summed over the processes in buckets
    /// (``GradientBuckets``: each bucket's sum starts while the backward pass goes on to
    /// the layers below) with the stop flags in the last one, then one update. Returns
    /// the batch's mean loss and whether any process asked to stop.
    private mutating func distributedStep(_ data: Dataset<Scalar>, indices: [Int], objective: Objective<Scalar>,
                                          reducer: any GradientReducer, epoch: Int, batch: Int)
        throws(TrainingError) -> (loss: Double, stop: Bool)
    {
        let lower = reducer.rank * indices.count / reducer.size, upper = (reducer.rank + 1) * indices.count / reducer.size
        let parameters = model.namedParameters.map(\.tensor)
        if buckets == nil { buckets = GradientBuckets(shapes: parameters.map(\.shape), reducer: reducer) }
        let buckets = buckets!
        let weight = Double(upper - lower) / Double(indices.count)
        // Synchronised batch normalisation sums during the backward pass from the training
        // thread; gradient sums then wait for the pass's end, to keep one order of sums in
        // every process.
        buckets.begin(weight: weight, overlap: configuration.overlapsGradientSums && normalizationLayers.isEmpty)
        // Dropout draws each example's mask by its place in the global batch; batch
        // normalisation takes the global batch's statistics (synchronised).
        for dropout in dropoutLayers { dropout.startBatch(firstExample: lower) }
        let exchange = BatchStatisticsExchange(weight: weight) { reducer.sum(&$0) }
        for normalization in normalizationLayers { normalization.statisticsExchange = exchange }
        defer { for normalization in normalizationLayers { normalization.statisticsExchange = nil } }
        var loss = 0.0
        if upper == lower {
            // No examples here: the other processes' statistics sums still need this one's.
            let backward = normalizationLayers.map { $0.exchangeWithoutExamples() }
            for exchangeBackward in backward.reversed() { exchangeBackward() }
        } else {
            let part = data.subset(Array(indices[lower..<upper]))
            let targets = part.targets!
            let output: Tensor<Scalar>
            if let (value, result, _) = objective.gradients(backpropagation, model, part.features, targets,
                                                            parameterReady: { buckets.deposit($0, $1) }) {
                (loss, output) = (Double(value.scalar), result)
            } else {
                for (index, parameter) in parameters.enumerated() {
                    parameter.onGradientReady { buckets.deposit(index, parameter.gradient!) }
                }
                defer { for parameter in parameters { parameter.onGradientReady(nil) } }
                let (value, result) = objective.evaluate(model, part.features, targets, forMetrics: true)
                loss = Double(value.scalar)
                // Synchronised batch normalisation exchanges sums in the backward pass, which
                // every process must run; a non-finite loss stops them all after the sum.
                if loss.isFinite || !normalizationLayers.isEmpty { value.backward() }
                output = result.detached()
                model.zeroGradients()
            }
            progress.accumulator.add(loss: loss, output: output, targets: targets, lossKind: configuration.loss,
                                     valueScale: data.targetStandardization?.standardDeviation)
        }
        let summed = buckets.finish(loss: loss, stop: stopRequested())
        guard summed.loss.isFinite else { throw .nonFiniteLoss(epoch: epoch, batch: batch, value: summed.loss) }
        optimizer.step(model, gradients: summed.gradients)
        return (summed.loss, summed.stop)
    }

    /// Batch normalisation of features needs two examples in every batch: a batch of one
    /// normalises each value to β, so that nothing is learnt from it (PyTorch refuses it
    /// too). Throws when the batch size, or the last batch of an epoch, is one example.
    private func checkBatchNormalization(batch: Int, examples: Int) throws(TrainingError) {
        guard let sequential = model as? Sequential<Scalar>,
              sequential.allLayers.contains(where: { $0 is BatchNorm1D<Scalar> }) else { return }
        if batch < 2 {
            throw .mismatch("batch normalisation of features (BatchNorm1D) needs at least 2 examples a batch: a batch of 1 normalises every value to β, and nothing is learnt; use a batch size of 2 or more")
        }
        if examples % batch == 1 {
            let suggestion = (batch...examples).first { examples % $0 != 1 } ?? examples
            throw .mismatch("batch normalisation of features (BatchNorm1D) needs at least 2 examples a batch, and the last batch of each epoch would hold 1 (\(examples) examples in batches of \(batch)); use a batch size that leaves 0 or at least 2, such as \(suggestion)")
        }
    }

    /// Tracks the best epoch; stops after `patience` epochs without improvement.
    private mutating func updateEarlyStopping(_ record: EpochRecord) -> CallbackDecision {
        guard let patience = configuration.earlyStoppingPatience else { return .proceed }
        let monitored = record.validation?.loss ?? record.training.loss
        if progress.bestValue == nil || monitored < progress.bestValue! {
            progress.bestValue = monitored
            progress.bestEpoch = record.epoch
            bestWeights = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor.detached()) })
        }
        return record.epoch - progress.bestEpoch! >= patience ? .stop : .proceed
    }

    private func restore(_ weights: [String: Tensor<Scalar>]) {
        model.visitParameters { name, parameter in
            if let saved = weights[name] { parameter.assign(saved.scalars) }
        }
    }
}
