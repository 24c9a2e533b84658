/// Batch normalisation (Ioffe and Szegedy, 2015) over the channel axis of
/// `[batch, channels, size]` (size = height·width for images, 1 for features).
extension Kernels {
    /// Training-mode batch normalisation: per channel c, over the M = batch·size values,
    /// μ = mean, σ² = biased variance, x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β.
    /// Returns y, μ and 1/√(σ² + ε) per channel, and the biased variance σ².
    static func batchNormalize<S: KernelScalar>(
        _ x: [S], scale: [S], shift: [S], batch: Int, channels: Int, size: Int, epsilon: S
    ) -> (output: [S], mean: [S], inverseDeviation: [S], variance: [S]) {
        checkPrecondition(x.count == batch * channels * size,
                     "batchNorm: \(x.count) elements, expected [\(batch), \(channels), \(size)]")
        checkPrecondition(scale.count == channels && shift.count == channels,
                     "batchNorm: \(scale.count) scales and \(shift.count) shifts for \(channels) channels")
        checkPrecondition(batch * size > 0, "batchNorm: no values per channel in [\(batch), \(channels), \(size)]")
        let m = S(batch * size)
        var mean = [S](repeating: 0, count: channels)
        var variance = [S](repeating: 0, count: channels)
        var inverse = [S](repeating: 0, count: channels)
        let output = [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                for c in 0..<channels {
                    var total: S = 0
                    for n in 0..<batch {
                        let row = px.baseAddress! + (n * channels + c) * size
                        for i in 0..<size { total += row[i] }
                    }
                    let mu = total / m
                    var squares: S = 0
                    for n in 0..<batch {
                        let row = px.baseAddress! + (n * channels + c) * size
                        for i in 0..<size { squares += (row[i] - mu) * (row[i] - mu) }
                    }
                    let sigma2 = squares / m
                    let inv = 1 / (sigma2 + epsilon).squareRoot()
                    (mean[c], variance[c], inverse[c]) = (mu, sigma2, inv)
                    let a = scale[c] * inv, b = shift[c] - mu * scale[c] * inv
                    for n in 0..<batch {
                        let offset = (n * channels + c) * size
                        for i in 0..<size { out[offset + i] = px[offset + i] * a + b }
                    }
                }
            }
            initialized = x.count
        }
        return (output, mean, inverse, variance)
    }

    /// The backward pass of ``batchNormalize``: with g = ∂L/∂y and sums over the M
    /// values of a channel, ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂, and
    /// ∂L/∂x = (γ/√(σ² + ε))·(g − Σg/M − x̂·Σ(g·x̂)/M).
    static func batchNormalizeBackward<S: KernelScalar>(
        _ x: [S], gradient g: [S], mean: [S], inverseDeviation: [S], scale: [S],
        batch: Int, channels: Int, size: Int
    ) -> (input: [S], scale: [S], shift: [S]) {
        checkPrecondition(x.count == batch * channels * size && g.count == x.count,
                     "batchNormBackward: \(x.count) values and \(g.count) gradients for [\(batch), \(channels), \(size)]")
        checkPrecondition(mean.count == channels && inverseDeviation.count == channels && scale.count == channels,
                     "batchNormBackward: statistics do not match \(channels) channels")
        let m = S(batch * size)
        var gradientScale = [S](repeating: 0, count: channels)
        var gradientShift = [S](repeating: 0, count: channels)
        let input = [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { px in
                g.withUnsafeBufferPointer { pg in
                    for c in 0..<channels {
                        let (mu, inv) = (mean[c], inverseDeviation[c])
                        var sumG: S = 0, sumGX: S = 0
                        for n in 0..<batch {
                            let offset = (n * channels + c) * size
                            for i in 0..<size {
                                sumG += pg[offset + i]
                                sumGX += pg[offset + i] * (px[offset + i] - mu)
                            }
                        }
                        sumGX *= inv  // Σ g·x̂
                        (gradientShift[c], gradientScale[c]) = (sumG, sumGX)
                        let k = scale[c] * inv
                        let meanG = sumG / m, meanGX = sumGX / m
                        for n in 0..<batch {
                            let offset = (n * channels + c) * size
                            for i in 0..<size {
                                let xhat = (px[offset + i] - mu) * inv
                                out[offset + i] = k * (pg[offset + i] - meanG - xhat * meanGX)
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
