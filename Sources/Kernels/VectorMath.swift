/// Vectorised exp, expm1, log, tanh, sigmoid and softplus on SIMD vectors, generic over
/// `Float` and `Double` (each specialised in this module). No libm call per element.
///
/// Accuracy, against libm (tested in KernelsTests): exp, log, sigmoid within 4 ulp;
/// tanh and softplus within 6 ulp; exp results below the smallest normal number are
/// flushed towards zero gradually by two-step scaling.
enum VectorMath<S: KernelScalar> {
    typealias V = S.Vector

    static var ln2: S { S(0.693147180559945309417232121458176568) }
    static var log2e: S { S(1.442695040888963407359924681001892137) }

    /// `x = n·ln2 + r` with |r| ≤ ln2/2; returns `q = eʳ − 1` and `n`.
    @inline(__always)
    static func reducedExpm1(_ x: V) -> (q: V, n: V) {
        let n = (x * log2e).rounded(.toNearestOrEven)
        let r = (x - n * S.ln2High) - n * S.ln2Low
        var p = V(repeating: S.expm1Coefficients[0])
        for c in S.expm1Coefficients.dropFirst() { p = p * r + V(repeating: c) }
        return (r + r * r * p, n)
    }

    /// 2ⁿ·x for integral n in roughly ±2·(exponent bias), in two steps so that neither
    /// factor leaves the normal range.
    @inline(__always)
    static func scale(_ x: V, _ n: V) -> V {
        let half = (n * 0.5).rounded(.down)
        return S.scaleByPowerOfTwo(S.scaleByPowerOfTwo(x, half), n - half)
    }

    static var expUpperBound: S { S(S.exponentBias + 1) * ln2 }
    static var expLowerBound: S { -S(S.exponentBias + S.mantissaBits) * ln2 }

    @inline(__always)
    static func exp(_ x: V) -> V {
        let clamped = x.clamped(lowerBound: V(repeating: expLowerBound - 1),
                                upperBound: V(repeating: expUpperBound + 1))
        let (q, n) = reducedExpm1(clamped)
        var result = scale(q + 1, n)
        result.replace(with: .infinity, where: x .> expUpperBound)
        result.replace(with: 0, where: x .< expLowerBound)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// eˣ − 1 without cancellation near 0.
    @inline(__always)
    static func expm1(_ x: V) -> V {
        let clamped = x.clamped(lowerBound: V(repeating: -S(S.mantissaBits + 2) * ln2),
                                upperBound: V(repeating: expUpperBound + 1))
        let (q, n) = reducedExpm1(clamped)
        let twoToN = scale(V(repeating: 1), n)
        var result = scale(q, n) + (twoToN - 1)
        result.replace(with: .infinity, where: x .> expUpperBound)
        result.replace(with: x, where: x .!= x)
        return result
    }

    @inline(__always)
    static func log(_ x: V) -> V {
        // Bring subnormal inputs into the normal range first.
        let subnormal = x .< S.leastNormalMagnitude
        let boost = S(S.mantissaBits + 1)
        var y = x
        y.replace(with: x * S.scaleByPowerOfTwo(V(repeating: 1), V(repeating: boost)),
                  where: subnormal)
        var (m, e) = S.decompose(y)
        e.replace(with: e - boost, where: subnormal)
        let large = m .> S(2).squareRoot()
        m.replace(with: m * 0.5, where: large)
        e.replace(with: e + 1, where: large)
        let f = m - 1
        let s = f / (f + 2)
        let s2 = s * s
        var p = V(repeating: S.atanhCoefficients[0])
        for c in S.atanhCoefficients.dropFirst() { p = p * s2 + V(repeating: c) }
        var result = e * S.ln2High + (s * p + e * S.ln2Low)
        result.replace(with: -.infinity, where: x .== 0)
        result.replace(with: .infinity, where: x .== .infinity)
        result.replace(with: .nan, where: (x .< 0) .| (x .!= x))
        return result
    }

    @inline(__always)
    static func tanh(_ x: V) -> V {
        // tanh|x| = u/(u + 2) with u = e^{2|x|} − 1; saturates to ±1 well before overflow.
        let limit = S(S.mantissaBits) * 0.5 * ln2 + 2
        let a = (x.replacing(with: -x, where: x .< 0)).clamped(
            lowerBound: V(repeating: 0), upperBound: V(repeating: limit))
        let u = expm1(a + a)
        var t = u / (u + 2)
        t.replace(with: -t, where: x .< 0)
        t.replace(with: x, where: x .!= x)
        return t
    }

    /// σ(x) = 1/(1 + e⁻ˣ), computed from e^{−|x|} so that neither side overflows.
    @inline(__always)
    static func sigmoid(_ x: V) -> V {
        let e = exp(x.replacing(with: -x, where: x .> 0))
        let s = 1 / (1 + e)
        return s.replacing(with: e * s, where: x .< 0)
    }

    /// log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}), stable for any x.
    @inline(__always)
    static func softplus(_ x: V) -> V {
        let e = exp(x.replacing(with: -x, where: x .> 0))
        let u = 1 + e
        // log1p(e) = log(u)·e/(u − 1) corrects the rounding of 1 + e (Goldberg).
        var log1p = log(u) * (e / (u - 1))
        log1p.replace(with: e, where: u .== 1)
        return x.replacing(with: 0, where: x .< 0) + log1p
    }
}
