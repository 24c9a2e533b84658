import Kernels
// How synchronised batch normalisation adds its statistics over processes, for the layers.
@_exported import struct Kernels.BatchStatisticsExchange

/// Batch normalisation over axis 1 of `[batch, channels]` or `[batch, channels, …]`
/// (Ioffe and Szegedy, 2015): each channel is standardised, then scaled and shifted by
/// learned γ (`scale`) and β (`shift`), both `[channels]`.
extension Tensor {
    /// Training mode: y = γ·(x − μ)/√(σ² + ε) + β with μ and σ² (biased) the mean and
    /// variance of each channel over the batch and all positions. Returns y (recorded),
    /// the batch's μ and σ² (not recorded), for running averages, and the number of values
    /// per channel they were taken over.
    ///
    /// Backward, over the M values of a channel: ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂, and
    /// ∂L/∂x = γ/√(σ² + ε) · (g − Σg/M − x̂·Σ(g·x̂)/M), where x̂ = (x − μ)/√(σ² + ε); the
    /// last two terms are the paths through μ and σ².
    ///
    /// With `exchange`, the batch is split over several processes and this is one
    /// process's share (possibly empty): μ, σ² and the sums of the backward pass are the
    /// whole batch's (synchronised batch normalisation; ``BatchStatisticsExchange``).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func batchNormalized(
        _ input: Tensor, scale: Tensor, shift: Tensor, epsilon: Scalar, exchange: BatchStatisticsExchange? = nil
    ) -> (output: Tensor, mean: Tensor, variance: Tensor, count: Int) {
        let (batch, channels, size) = normalizationLayout(input.shape, scale.shape, shift.shape)
        let forward = Scalar.batchNormalize(input.scalars, scale: scale.scalars, shift: shift.scalars,
                                            batch: batch, channels: channels, size: size, epsilon: epsilon,
                                            exchange: exchange)
        let output = Tensor(shape: input.shape, scalars: forward.output)
        let (x, gamma) = (input.detached(), scale.detached())
        let recorded = record(output, from: [input, scale, shift]) { g, _ in
            let backward = Scalar.batchNormalizeBackward(
                x.scalars, gradient: g.scalars, mean: forward.mean, inverseDeviation: forward.inverseDeviation,
                scale: gamma.scalars, batch: batch, channels: channels, size: size, exchange: exchange)
            return [Tensor(shape: x.shape, scalars: backward.input),
                    Tensor(shape: [channels], scalars: backward.scale),
                    Tensor(shape: [channels], scalars: backward.shift)]
        }
        return (recorded, Tensor(shape: [channels], scalars: forward.mean),
                Tensor(shape: [channels], scalars: forward.variance), forward.count)
    }

    /// A process's part in ``batchNormalized(_:scale:shift:epsilon:exchange:)`` when its
    /// share of the batch is empty: the forward pass's exchanges now (returning the whole
    /// batch's μ, σ² and count), the backward pass's when `backward` is called.
    public static func emptyBatchNormalized(
        scale: Tensor, shift: Tensor, epsilon: Scalar, exchange: BatchStatisticsExchange
    ) -> (mean: Tensor, variance: Tensor, count: Int, backward: () -> Void) {
        let channels = scale.count
        let forward = Scalar.batchNormalize([], scale: scale.scalars, shift: shift.scalars, batch: 0, channels: channels,
                                            size: 1, epsilon: epsilon, exchange: exchange)
        let gamma = scale.scalars
        return (Tensor(shape: [channels], scalars: forward.mean), Tensor(shape: [channels], scalars: forward.variance),
                forward.count, {
                    _ = Scalar.batchNormalizeBackward([], gradient: [], mean: forward.mean, inverseDeviation: forward.inverseDeviation,
                                                      scale: gamma, batch: 0, channels: channels, size: 1, exchange: exchange)
                })
    }

    /// Evaluation mode: y = γ·(x − mean)/√(variance + ε) + β with given statistics (the
    /// running averages), as one affine map per channel; differentiable in x, γ and β.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func normalized(
        _ input: Tensor, mean: Tensor, variance: Tensor, scale: Tensor, shift: Tensor, epsilon: Scalar
    ) -> Tensor {
        let (_, channels, _) = normalizationLayout(input.shape, scale.shape, shift.shape)
        checkPrecondition(mean.shape == [channels] && variance.shape == [channels],
                     "batchNorm: mean \(mean.shape) and variance \(variance.shape) do not match input \(input.shape)")
        var perChannel = [Int](repeating: 1, count: input.rank)
        perChannel[1] = channels
        let a = scale / (variance.detached() + epsilon).sqrt()
        let b = shift - mean.detached() * a
        return input * a.reshaped(to: perChannel) + b.reshaped(to: perChannel)
    }

    /// `[batch, channels, size]` of an input normalised along axis 1.
    static func normalizationLayout(_ input: [Int], _ scale: [Int], _ shift: [Int]) -> (Int, Int, Int) {
        checkPrecondition(input.count >= 2, "batchNorm: input must be [batch, channels, …], got \(input)")
        checkPrecondition(scale == [input[1]] && shift == [input[1]],
                     "batchNorm: scale \(scale) and shift \(shift) do not match the channels of input \(input)")
        return (input[0], input[1], input.dropFirst(2).reduce(1, *))
    }
}
