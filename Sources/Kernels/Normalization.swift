/// Batch normalisation (Ioffe and Szegedy, 2015) over the channel axis of
/// `[batch, channels, size]` (size = height·width for images, 1 for features).
extension Kernels {
    /// Training-mode batch normalisation: per channel c, over the M = batch·size values,
    /// μ = mean, σ² = biased variance, x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β.
    /// Returns y, μ and 1/√(σ² + ε) per channel, the biased variance σ², and M.
    ///
    /// With `exchange` (synchronised batch normalisation over several processes, each
    /// holding a share of the batch), the statistics are those of the whole batch: the
    /// per-channel sums and the value count go through `exchange.sum`, then the sums of
    /// squared deviations from the common mean (two passes, as in one process). A process
    /// whose share is empty (batch 0) still takes part in both sums.
    static func batchNormalize<S: KernelScalar>(
        _ x: [S], scale: [S], shift: [S], batch: Int, channels: Int, size: Int, epsilon: S,
        exchange: BatchStatisticsExchange? = nil
    ) -> (output: [S], mean: [S], inverseDeviation: [S], variance: [S], count: Int) {
        checkPrecondition(x.count == batch * channels * size,
                     "batchNorm: \(x.count) elements, expected [\(batch), \(channels), \(size)]")
        checkPrecondition(scale.count == channels && shift.count == channels,
                     "batchNorm: \(scale.count) scales and \(shift.count) shifts for \(channels) channels")
        checkPrecondition(batch * size > 0 || exchange != nil,
                     "batchNorm: no values per channel in [\(batch), \(channels), \(size)]")
        var mean = [S](repeating: 0, count: channels)
        var variance = [S](repeating: 0, count: channels)
        var inverse = [S](repeating: 0, count: channels)
        var count = batch * size
        let output = [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                /// Σ over channel c's values of f(value).
                func channelSum(_ c: Int, _ f: (S) -> S) -> S {
                    var total: S = 0
                    for n in 0..<batch {
                        let row = px.baseAddress! + (n * channels + c) * size
                        for i in 0..<size { total += f(row[i]) }
                    }
                    return total
                }
                func normalize(_ c: Int) {
                    let a = scale[c] * inverse[c], b = shift[c] - mean[c] * scale[c] * inverse[c]
                    for n in 0..<batch {
                        let offset = (n * channels + c) * size
                        for i in 0..<size { out[offset + i] = px[offset + i] * a + b }
                    }
                }
                if let exchange {
                    var sums = (0..<channels).map { Double(channelSum($0) { $0 }) } + [Double(batch * size)]
                    exchange.sum(&sums)
                    count = Int(sums[channels])
                    let m = S(count)
                    for c in 0..<channels { mean[c] = S(sums[c]) / m }
                    var squares = (0..<channels).map { c in Double(channelSum(c) { ($0 - mean[c]) * ($0 - mean[c]) }) }
                    exchange.sum(&squares)
                    for c in 0..<channels {
                        variance[c] = S(squares[c]) / m
                        inverse[c] = 1 / (variance[c] + epsilon).squareRoot()
                        normalize(c)
                    }
                } else {
                    let m = S(batch * size)
                    for c in 0..<channels {
                        let mu = channelSum(c) { $0 } / m
                        let sigma2 = channelSum(c) { ($0 - mu) * ($0 - mu) } / m
                        (mean[c], variance[c], inverse[c]) = (mu, sigma2, 1 / (sigma2 + epsilon).squareRoot())
                        normalize(c)
                    }
                }
            }
            initialized = x.count
        }
        return (output, mean, inverse, variance, count)
    }

    /// The backward pass of ``batchNormalize``: with g = ∂L/∂y and sums over the M
    /// values of a channel, ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂, and
    /// ∂L/∂x = (γ/√(σ² + ε))·(g − Σg/M − x̂·Σ(g·x̂)/M).
    ///
    /// With `exchange`, g is this process's gradient, which the caller weights by
    /// `exchange.weight` (its share of the batch) when it adds the processes' gradients:
    /// the sums in ∂L/∂x are taken over the whole batch (each process's Σg and Σg·x̂
    /// weighted, summed through `exchange.sum`, divided back by the weight) and M is the
    /// whole batch's count. ∂L/∂γ and ∂L/∂β stay this process's own sums.
    static func batchNormalizeBackward<S: KernelScalar>(
        _ x: [S], gradient g: [S], mean: [S], inverseDeviation: [S], scale: [S],
        batch: Int, channels: Int, size: Int, exchange: BatchStatisticsExchange? = nil
    ) -> (input: [S], scale: [S], shift: [S]) {
        checkPrecondition(x.count == batch * channels * size && g.count == x.count,
                     "batchNormBackward: \(x.count) values and \(g.count) gradients for [\(batch), \(channels), \(size)]")
        checkPrecondition(mean.count == channels && inverseDeviation.count == channels && scale.count == channels,
                     "batchNormBackward: statistics do not match \(channels) channels")
        var gradientScale = [S](repeating: 0, count: channels)
        var gradientShift = [S](repeating: 0, count: channels)
        let input = [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                g.withUnsafeBufferPointer { pg in
                    for c in 0..<channels {
                        let mu = mean[c]
                        var sumG: S = 0, sumGX: S = 0
                        for n in 0..<batch {
                            let offset = (n * channels + c) * size
                            for i in 0..<size {
                                sumG += pg[offset + i]
                                sumGX += pg[offset + i] * (px[offset + i] - mu)
                            }
                        }
                        // Σ g·x̂
                        (gradientShift[c], gradientScale[c]) = (sumG, sumGX * inverseDeviation[c])
                    }
                    var meanG = [S](repeating: 0, count: channels), meanGX = meanG
                    if let exchange {
                        let w = exchange.weight
                        var sums = (0..<channels).flatMap { [Double(gradientShift[$0]) * w, Double(gradientScale[$0]) * w] }
                            + [Double(batch * size)]
                        exchange.sum(&sums)
                        let m = sums[2 * channels]
                        for c in 0..<channels {
                            // Back to this process's scale, which its upstream gradients keep.
                            (meanG[c], meanGX[c]) = (w > 0 ? S(sums[2 * c] / m / w) : 0, w > 0 ? S(sums[2 * c + 1] / m / w) : 0)
                        }
                    } else {
                        let m = S(batch * size)
                        for c in 0..<channels { (meanG[c], meanGX[c]) = (gradientShift[c] / m, gradientScale[c] / m) }
                    }
                    for c in 0..<channels {
                        let (mu, inv) = (mean[c], inverseDeviation[c])
                        let k = scale[c] * inv
                        for n in 0..<batch {
                            let offset = (n * channels + c) * size
                            for i in 0..<size {
                                let xhat = (px[offset + i] - mu) * inv
                                out[offset + i] = k * (pg[offset + i] - meanG[c] - xhat * meanGX[c])
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
        return (input, gradientScale, gradientShift)
    }
}

/// How synchronised batch normalisation adds its statistics over the processes of a
/// data-parallel step, each holding a share of the batch.
public struct BatchStatisticsExchange: @unchecked Sendable {
    /// Replaces an array by its elementwise sum over the processes; every process calls
    /// it the same number of times, in the same order, with arrays of the same length.
    public var sum: (inout [Double]) -> Void
    /// This process's share of the batch (its examples over the batch's), the weight its
    /// gradients are given when the processes' gradients are added.
    public var weight: Double

    /// An exchange through `sum`, for a process holding `weight` of the batch.
    public init(weight: Double, sum: @escaping (inout [Double]) -> Void) {
        self.weight = weight
        self.sum = sum
    }
}
