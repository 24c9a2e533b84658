import Tensors

/// A layer with buffers: values saved with the model but not trained by gradient
/// descent, such as batch normalisation's running statistics (PyTorch's buffers, which
/// appear in its `state_dict` beside the parameters).
public protocol BufferedLayer<Scalar>: Layer {
    /// Visits each buffer with its name (`running_mean`, …), in a fixed order; the
    /// visitor may replace it (loading a model).
    func visitBuffers(_ visit: (_ name: String, _ buffer: inout Tensor<Scalar>) -> Void)

    /// Visits each integer buffer (PyTorch's int64 buffers of shape [], such as batch
    /// normalisation's `num_batches_tracked`) with its name; the visitor may replace it.
    /// None by default.
    func visitCounters(_ visit: (_ name: String, _ counter: inout Int) -> Void)
}

extension BufferedLayer {
    /// No integer buffers.
    public func visitCounters(_ visit: (String, inout Int) -> Void) {}

    /// The integer buffers with their names, in the order of ``visitCounters(_:)``.
    public var namedCounters: [(name: String, value: Int)] {
        var result: [(String, Int)] = []
        visitCounters { name, value in result.append((name, value)) }
        return result
    }

    /// The buffers with their names, in the order of ``visitBuffers(_:)``.
    public var namedBuffers: [(name: String, tensor: Tensor<Scalar>)] {
        var result: [(String, Tensor<Scalar>)] = []
        visitBuffers { name, tensor in result.append((name, tensor)) }
        return result
    }
}

extension Sequential: BufferedLayer {
    /// The buffers of the layers that have some, named by position as the parameters
    /// are (`1.running_mean`).
    public func visitBuffers(_ visit: (String, inout Tensor<Scalar>) -> Void) {
        for (index, layer) in layers.enumerated() {
            (layer as? any BufferedLayer<Scalar>)?.visitBuffers { name, tensor in visit("\(index).\(name)", &tensor) }
        }
    }

    /// The integer buffers of the layers that have some, named as the buffers are
    /// (`1.num_batches_tracked`).
    public func visitCounters(_ visit: (String, inout Int) -> Void) {
        for (index, layer) in layers.enumerated() {
            (layer as? any BufferedLayer<Scalar>)?.visitCounters { name, value in visit("\(index).\(name)", &value) }
        }
    }
}

/// Batch normalisation over the channels of `[batch, channels, …]` (Ioffe and Szegedy,
/// 2015), shared by ``BatchNorm1D`` and ``BatchNorm2D``.
///
/// In training, each channel is standardised with the batch's mean and (biased)
/// variance, then scaled by `weight` (γ, starting at 1) and shifted by `bias` (β, starting
/// at 0); the running averages move as r = (1 − momentum)·r + momentum·batch value, with
/// the unbiased variance, as in PyTorch, and ``batchesTracked`` counts the batches. In
/// evaluation, the running averages are used.
public class BatchNormalization<Scalar: TensorScalar>: BufferedLayer {
    /// γ, the per-channel scale `[channels]`, trained; starts at 1.
    public var weight: Tensor<Scalar>
    /// β, the per-channel shift `[channels]`, trained; starts at 0.
    public var bias: Tensor<Scalar>
    /// The running average of each channel's batch mean `[channels]`, used in evaluation.
    public var runningMean: Tensor<Scalar>
    /// The running average of each channel's unbiased batch variance `[channels]`, used in evaluation.
    public var runningVariance: Tensor<Scalar>
    /// The training-mode forward passes since the running statistics were reset
    /// (PyTorch's `num_batches_tracked`, saved with them). PyTorch reads it only when its
    /// momentum is None (a cumulative average), which Backprop does not have; it is kept
    /// so that a model's state moves between the two unchanged.
    public var batchesTracked = 0
    /// The number of channels (features) normalised, the size of dimension 1 of the input.
    public let channels: Int
    /// How far each batch moves the running statistics, in [0, 1] (PyTorch's default 0.1).
    public let momentum: Double
    /// Added to the variance before the square root, for stability (PyTorch's default 1e-5).
    public let epsilon: Double
    /// Training mode normalises with the batch's statistics and updates the running ones;
    /// evaluation mode uses the running ones.
    public var isTraining = true
    let name: String
    /// The per-example ranks accepted: 1 (features) and 2 for BatchNorm1D, 3 for BatchNorm2D.
    let exampleRanks: Set<Int>
    let layout: String

    init(name: String, channels: Int, momentum: Double, epsilon: Double, exampleRanks: Set<Int>, layout: String) {
        checkPrecondition(channels > 0, "\(name): channel count must be positive, got \(channels)")
        checkPrecondition(momentum >= 0 && momentum <= 1, "\(name): momentum must be in [0, 1], got \(momentum)")
        checkPrecondition(epsilon > 0, "\(name): epsilon must be positive, got \(epsilon)")
        self.name = name
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        self.exampleRanks = exampleRanks
        self.layout = layout
        weight = Tensor<Scalar>.ones([channels]).requiringGradient()
        bias = Tensor<Scalar>.zeros([channels]).requiringGradient()
        runningMean = .zeros([channels])
        runningVariance = .ones([channels])
    }

    /// γ·(x − μ)/√(σ² + ε) + β per channel for `[batch, channels, …]`; the output has the input's shape.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        requireShape(input.rank >= 2 && exampleRanks.contains(input.rank - 1) && input.shape[1] == channels,
                     summaryName, expected: "[batch, \(layout)]", actual: input.shape)
        guard isTraining else {
            return Tensor.normalized(input, mean: runningMean, variance: runningVariance, scale: weight,
                                     shift: bias, epsilon: Scalar(epsilon))
        }
        let (output, mean, variance, count) = Tensor.batchNormalized(input, scale: weight, shift: bias,
                                                                      epsilon: Scalar(epsilon), exchange: statisticsExchange)
        updateRunningStatistics(mean: mean.scalars, variance: variance.scalars, count: count)
        return output
    }

    /// Moves the running statistics towards a batch's (the unbiased variance, as PyTorch).
    private func updateRunningStatistics(mean: [Scalar], variance: [Scalar], count m: Int) {
        let unbiased = m > 1 ? Scalar(Double(m) / Double(m - 1)) : 1
        let (keep, take) = (Scalar(1 - momentum), Scalar(momentum))
        runningMean.updateScalars { Scalar.scaledAdd(&$0, take, mean, keep) }
        runningVariance.updateScalars { Scalar.scaledAdd(&$0, take * unbiased, variance, keep) }
        batchesTracked += 1
    }

    /// Synchronised batch normalisation: while set, training-mode statistics are those of
    /// the whole batch, which several processes (or threads) share, each running this
    /// layer on its share. A data-parallel trainer sets it for each step, so that K
    /// processes compute what one process computes on the whole batch; nil (the
    /// default) normalises with the statistics of the batch the layer sees.
    public var statisticsExchange: BatchStatisticsExchange?

    /// A process whose share of the batch is empty takes part in the step's exchanges
    /// all the same (the others wait for its sums): the forward pass's exchanges now,
    /// with the running statistics moved as everywhere else, and the backward pass's
    /// when the returned function is called (in the backward order of the layers).
    public func exchangeWithoutExamples() -> () -> Void {
        guard let exchange = statisticsExchange, isTraining else { return {} }
        let share = Tensor.emptyBatchNormalized(scale: weight, shift: bias, epsilon: Scalar(epsilon), exchange: exchange)
        updateRunningStatistics(mean: share.mean.scalars, variance: share.variance.scalars, count: share.count)
        return share.backward
    }

    /// `BatchNorm1D(64)` or `BatchNorm2D(16)`.
    public var summaryName: String { "\(name)(\(channels))" }

    /// The input shape, after checking its rank and channel count.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        try checkShape(exampleRanks.contains(shape.count) && shape.first == channels, summaryName,
                     expected: "[\(layout)] per example", actual: shape)
        return shape
    }

    /// `weight` (γ) and `bias` (β), PyTorch's names.
    public func visitParameters(_ visit: (String, inout Tensor<Scalar>) -> Void) {
        visit("weight", &weight)
        visit("bias", &bias)
    }

    /// `running_mean` and `running_var`, PyTorch's names.
    public func visitBuffers(_ visit: (String, inout Tensor<Scalar>) -> Void) {
        visit("running_mean", &runningMean)
        visit("running_var", &runningVariance)
    }

    /// `num_batches_tracked`: ``batchesTracked``.
    public func visitCounters(_ visit: (String, inout Int) -> Void) {
        visit("num_batches_tracked", &batchesTracked)
    }

    /// γ = 1, β = 0 and fresh running statistics (mean 0, variance 1, no batches
    /// tracked), as PyTorch.
    public func resetParameters(using generator: inout RandomSource) {
        weight = Tensor<Scalar>.ones([channels]).requiringGradient()
        bias = Tensor<Scalar>.zeros([channels]).requiringGradient()
        runningMean = .zeros([channels])
        runningVariance = .ones([channels])
        batchesTracked = 0
    }
}

/// Batch normalisation of feature vectors `[batch, features]` (or sequences `[batch,
/// features, length]`), per feature; PyTorch's `BatchNorm1d`.
public final class BatchNorm1D<Scalar: TensorScalar>: BatchNormalization<Scalar> {
    /// Batch normalisation of `features` features; γ = 1, β = 0.
    public init(features: Int, momentum: Double = 0.1, epsilon: Double = 1e-5) {
        super.init(name: "BatchNorm1D", channels: features, momentum: momentum, epsilon: epsilon,
                   exampleRanks: [1, 2], layout: "\(features)] or [batch, \(features), length")
    }
}

/// Batch normalisation of NCHW images `[batch, channels, height, width]`, per channel
/// over the batch and every position; PyTorch's `BatchNorm2d`.
public final class BatchNorm2D<Scalar: TensorScalar>: BatchNormalization<Scalar> {
    /// Batch normalisation of `channels` channels; γ = 1, β = 0.
    public init(channels: Int, momentum: Double = 0.1, epsilon: Double = 1e-5) {
        super.init(name: "BatchNorm2D", channels: channels, momentum: momentum, epsilon: epsilon,
                   exampleRanks: [3], layout: "\(channels), height, width")
    }
}
