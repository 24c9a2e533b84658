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
        precondition(x.count == outer * count * inner,
                     "reduce: \(x.count) elements, expected [\(outer), \(count), \(inner)]")
        precondition(op == .sum || count > 0, "reduce: \(op) over an empty axis")
        switch op {
        case .sum: return reduce(x, outer, count, inner, identity: 0) { $0 + $1 }
        case .maximum: return reduce(x, outer, count, inner, identity: -.infinity) {
            $0.replacing(with: $1, where: ($1 .> $0) .| ($1 .!= $1))
        }
        case .minimum: return reduce(x, outer, count, inner, identity: .infinity) {
            $0.replacing(with: $1, where: ($1 .< $0) .| ($1 .!= $1))
        }
        }
    }

    @inline(__always)
    static func reduce<S: KernelScalar>(
        _ x: [S], _ outer: Int, _ count: Int, _ inner: Int, identity: S,
        _ combine: (S.Vector, S.Vector) -> S.Vector
    ) -> [S] {
        let width = S.Vector.scalarCount
        @inline(__always) func combineScalar(_ a: S, _ b: S) -> S {
            combine(S.Vector(repeating: a), S.Vector(repeating: b))[0]
        }
        return [S](unsafeUninitializedCapacity: outer * inner) { out, initialized in
            x.withUnsafeBufferPointer { source in
                let src = UnsafeRawPointer(source.baseAddress)
                let stride = MemoryLayout<S>.stride
                for o in 0..<outer {
                    if inner == 1 {
                        // A contiguous row: reduce in vector lanes, then across lanes.
                        let row = o * count
                        var lanes = S.Vector(repeating: identity)
                        var i = 0
                        while i + width <= count {
                            lanes = combine(lanes, src!.loadUnaligned(
                                fromByteOffset: (row + i) * stride, as: S.Vector.self))
                            i += width
                        }
                        var total = identity
                        for lane in 0..<width { total = combineScalar(total, lanes[lane]) }
                        while i < count { total = combineScalar(total, source[row + i]); i += 1 }
                        out[o] = total
                    } else {
                        // Rows of `inner` elements combined one after another, in vectors.
                        let dst = UnsafeMutableRawPointer(out.baseAddress!)
                        for j in 0..<inner { out[o * inner + j] = identity }
                        for k in 0..<count {
                            let base = (o * count + k) * inner
                            var j = 0
                            while j + width <= inner {
                                let offset = (o * inner + j) * stride
                                let sum = combine(
                                    dst.loadUnaligned(fromByteOffset: offset, as: S.Vector.self),
                                    src!.loadUnaligned(fromByteOffset: (base + j) * stride,
                                                       as: S.Vector.self))
                                dst.storeBytes(of: sum, toByteOffset: offset, as: S.Vector.self)
                                j += width
                            }
                            while j < inner {
                                out[o * inner + j] = combineScalar(out[o * inner + j], source[base + j])
                                j += 1
                            }
                        }
                    }
                }
            }
            initialized = outer * inner
        }
    }

    static func softmax<S: KernelScalar>(
        _ x: [S], _ outer: Int, _ count: Int, _ inner: Int, _ log: Bool
    ) -> [S] {
        precondition(x.count == outer * count * inner,
                     "softmax: \(x.count) elements, expected [\(outer), \(count), \(inner)]")
        if inner == 1 {
            var out = [S](repeating: 0, count: x.count)
            for o in 0..<outer {
                let row = Array(x[(o * count)..<((o + 1) * count)])
                let result = softmaxRow(row, log: log)
                out.replaceSubrange((o * count)..<((o + 1) * count), with: result)
            }
            return out
        }
        var out = [S](repeating: 0, count: x.count)
        var column = [S](repeating: 0, count: count)
        for o in 0..<outer {
            for j in 0..<inner {
                for k in 0..<count { column[k] = x[(o * count + k) * inner + j] }
                let result = softmaxRow(column, log: log)
                for k in 0..<count { out[(o * count + k) * inner + j] = result[k] }
            }
        }
        return out
    }

    /// softmax(x)ᵢ = e^{xᵢ − max}/Σⱼ e^{xⱼ − max}; log-softmax = xᵢ − max − log Σⱼ e^{xⱼ − max}.
    static func softmaxRow<S: KernelScalar>(_ row: [S], log: Bool) -> [S] {
        guard !row.isEmpty else { return [] }
        let largest = reduce(.maximum, row, 1, row.count, 1)[0]
        let shift = largest.isFinite ? largest : 0
        let shifted = mapVectors(row) { $0 - shift }
        let exponentials = map(.exp, shifted)
        let total = reduce(.sum, exponentials, 1, row.count, 1)[0]
        if log {
            let logTotal = map(.log, [total])[0]
            return mapVectors(shifted) { $0 - logTotal }
        }
        let inverse = 1 / total
        return mapVectors(exponentials) { $0 * inverse }
    }

    /// Index of the largest element along the middle axis of `[outer, count, inner]`
    /// (the first one on ties).
    public static func argmax<S: KernelScalar>(
        _ x: [S], outer: Int, count: Int, inner: Int
    ) -> [Int] {
        precondition(count > 0 && x.count == outer * count * inner,
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
