/// Reductions along one axis.
public enum ReduceOp: Sendable, Hashable {
    case sum, maximum, minimum
}

extension Kernels {
    /// Reduces the middle axis of `[outer, count, inner]`; `count` must be at least 1
    /// for maximum and minimum.
    static func reduce<S: KernelScalar>(
        _ op: ReduceOp, _ x: [S], _ outer: Int, _ count: Int, _ inner: Int
    ) -> [S] {
        checkPrecondition(x.count == outer * count * inner,
                     "reduce: \(x.count) elements, expected [\(outer), \(count), \(inner)]")
        checkPrecondition(op == .sum || count > 0, "reduce: \(op) over an empty axis")
        switch op {
        case .sum:
            return [S](unsafeUninitializedCapacity: outer * inner) { out, initialized in
                if let o = out.baseAddress { sum(x, outer, count, inner, into: o) }
                initialized = outer * inner
            }
        case .maximum: return reduce(x, outer, count, inner, identity: -.infinity) { $1 > $0 || $1.isNaN ? $1 : $0 }
        case .minimum: return reduce(x, outer, count, inner, identity: .infinity) { $1 < $0 || $1.isNaN ? $1 : $0 }
        }
    }

    /// Contiguous rows (inner = 1) are reduced with eight independent accumulators, so
    /// that the additions pipeline; otherwise whole rows of `inner` elements are combined
    /// one after another, a loop the compiler vectorises.
    @inline(__always)
    static func reduce<S: KernelScalar>(
        _ x: [S], _ outer: Int, _ count: Int, _ inner: Int, identity: S, _ combine: (S, S) -> S
    ) -> [S] {
        [S](unsafeUninitializedCapacity: outer * inner) { out, initialized in
            if let o = out.baseAddress { reduce(x, outer, count, inner, identity: identity, into: o, combine) }
            initialized = outer * inner
        }
    }

    /// The sum of the middle axis of `[outer, count, inner]` written into `out`
    /// (`outer·inner` elements), reusing its storage when unshared.
    static func sum<S: KernelScalar>(_ x: [S], _ outer: Int, _ count: Int, _ inner: Int, into out: inout [S]) {
        checkPrecondition(x.count == outer * count * inner,
                          "reduce: \(x.count) elements, expected [\(outer), \(count), \(inner)]")
        checkPrecondition(out.count == outer * inner, "reduce: \(outer * inner) sums for \(out.count) outputs")
        out.withUnsafeMutableBufferPointer { o in
            if let base = o.baseAddress { sum(x, outer, count, inner, into: base) }
        }
    }

    /// Sums over the middle axis: rows of `inner` columns added in order (in C, where the
    /// compiler can vectorise across columns), contiguous runs with eight accumulators.
    static func sum<S: KernelScalar>(_ x: [S], _ outer: Int, _ count: Int, _ inner: Int,
                                     into out: UnsafeMutablePointer<S>) {
        guard inner > 1 && count > 0 else { return reduce(x, outer, count, inner, identity: 0, into: out) { $0 + $1 } }
        x.withUnsafeBufferPointer { src in
            for o in 0..<outer {
                S.columnSums(src.baseAddress! + o * count * inner, out + o * inner, rows: count, cols: inner)
            }
        }
    }

    @inline(__always)
    static func reduce<S: KernelScalar>(
        _ x: [S], _ outer: Int, _ count: Int, _ inner: Int, identity: S, into out: UnsafeMutablePointer<S>,
        _ combine: (S, S) -> S
    ) {
        x.withUnsafeBufferPointer { src in
            for o in 0..<outer {
                if inner == 1 {
                    let row = o * count
                    var lanes = (identity, identity, identity, identity, identity, identity, identity, identity)
                    var i = 0
                    while i + 8 <= count {
                        lanes.0 = combine(lanes.0, src[row + i]); lanes.1 = combine(lanes.1, src[row + i + 1])
                        lanes.2 = combine(lanes.2, src[row + i + 2]); lanes.3 = combine(lanes.3, src[row + i + 3])
                        lanes.4 = combine(lanes.4, src[row + i + 4]); lanes.5 = combine(lanes.5, src[row + i + 5])
                        lanes.6 = combine(lanes.6, src[row + i + 6]); lanes.7 = combine(lanes.7, src[row + i + 7])
                        i += 8
                    }
                    var total = combine(combine(combine(lanes.0, lanes.1), combine(lanes.2, lanes.3)),
                                        combine(combine(lanes.4, lanes.5), combine(lanes.6, lanes.7)))
                    while i < count { total = combine(total, src[row + i]); i += 1 }
                    out[o] = total
                } else {
                    let base = o * inner
                    for j in 0..<inner { out[base + j] = identity }
                    for k in 0..<count {
                        let row = (o * count + k) * inner
                        for j in 0..<inner { out[base + j] = combine(out[base + j], src[row + j]) }
                    }
                }
            }
        }
    }

    /// softmax(x)ᵢ = e^{xᵢ − max}/Σⱼ e^{xⱼ − max}; log-softmax = xᵢ − max − log Σⱼ e^{xⱼ − max},
    /// over the middle axis of `[outer, count, inner]`. The exponentials of the whole
    /// array are taken in one vectorised pass.
    static func softmax<S: KernelScalar>(
        _ x: [S], _ outer: Int, _ count: Int, _ inner: Int, _ log: Bool
    ) -> [S] {
        checkPrecondition(x.count == outer * count * inner,
                     "softmax: \(x.count) elements, expected [\(outer), \(count), \(inner)]")
        guard count > 0 else { return x }
        let largest = reduce(.maximum, x, outer, count, inner)
        // x − max (0 for an infinite maximum, so that a row of −∞ gives NaN, not a crash).
        let shifted = [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { src in
                largest.withUnsafeBufferPointer { m in
                    for o in 0..<outer {
                        for k in 0..<count {
                            let row = (o * count + k) * inner
                            for j in 0..<inner {
                                let peak = m[o * inner + j]
                                out[row + j] = src[row + j] - (peak.isFinite ? peak : 0)
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
        let exponentials = map(.exp, shifted)
        let totals = reduce(.sum, exponentials, outer, count, inner)
        // softmax = e^{x − max}·(1/Σ); log-softmax = (x − max) − log Σ.
        let (source, adjustments) = log ? (shifted, map(.log, totals)) : (exponentials, mapScalars(totals) { 1 / $0 })
        return [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            source.withUnsafeBufferPointer { src in
                adjustments.withUnsafeBufferPointer { t in
                    for o in 0..<outer {
                        for k in 0..<count {
                            let row = (o * count + k) * inner
                            if log {
                                for j in 0..<inner { out[row + j] = src[row + j] - t[o * inner + j] }
                            } else {
                                for j in 0..<inner { out[row + j] = src[row + j] * t[o * inner + j] }
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// Index of the largest element along the middle axis of `[outer, count, inner]`
    /// (the first one on ties).
    static func argmax<S: KernelScalar>(
        _ x: [S], outer: Int, count: Int, inner: Int
    ) -> [Int] {
        checkPrecondition(count > 0 && x.count == outer * count * inner,
                     "argmax: \(x.count) elements, expected [\(outer), \(count), \(inner)]")
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                var best = x[o * count * inner + j], bestIndex = 0
                for k in 1..<max(count, 1) where x[(o * count + k) * inner + j] > best {
                    best = x[(o * count + k) * inner + j]
                    bestIndex = k
                }
                result[o * inner + j] = bestIndex
            }
        }
        return result
    }
}
