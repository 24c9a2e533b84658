import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One-input elementwise operations.
public enum UnaryOp: Sendable, Hashable {
    case negate, abs, square, sqrt, reciprocal
    case exp, log, tanh, sigmoid, relu, softplus
    /// `x ≥ 0 ? x : slope·x`.
    case leakyReLU(slope: Double)
    /// GELU in its exact form, x·Φ(x) = ½x(1 + erf(x/√2)), with libm's `erf` (in Double,
    /// then rounded, for Float too).
    case gelu
}

/// Two-input elementwise operations, including the fused derivative rules of the
/// activations (so the backward pass of an activation is one pass over memory).
public enum BinaryOp: Sendable, Hashable {
    case add, subtract, multiply, divide, maximum, minimum, power
    /// 1 where the relation holds, else 0.
    case equal, greater, greaterOrEqual, less, lessOrEqual
    /// `(y, g) ↦ g·y·(1 − y)`, with y = σ(z): σ'(z) = σ(z)(1 − σ(z)).
    case sigmoidBackward
    /// `(y, g) ↦ g·(1 − y²)`, with y = tanh(z).
    case tanhBackward
    /// `(z, g) ↦ z > 0 ? g : 0`.
    case reluBackward
    /// `(z, g) ↦ z > 0 ? g : slope·g` (PyTorch's rule; slope·g at 0).
    case leakyReLUBackward(slope: Double)
    /// `(z, g) ↦ g·(Φ(z) + z·φ(z))`: the derivative of the exact GELU z·Φ(z), with φ the
    /// standard normal density e^{−z²/2}/√(2π).
    case geluBackward
}

/// Namespace of the kernels behind `KernelScalar`'s requirements.
public enum Kernels {
    // MARK: Unary

    static func map<S: KernelScalar>(_ op: UnaryOp, _ x: [S]) -> [S] {
        [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            if let o = out.baseAddress { map(op, x, into: o) }
            initialized = x.count
        }
    }

    /// `map` writing into `out` (same count as `x`), reusing its storage when unshared.
    static func map<S: KernelScalar>(_ op: UnaryOp, _ x: [S], into out: inout [S]) {
        checkPrecondition(out.count == x.count, "map: \(x.count) inputs for \(out.count) outputs")
        out.withUnsafeMutableBufferPointer { o in
            if let base = o.baseAddress { map(op, x, into: base) }
        }
    }

    /// `out[i] = op(x[i])` for the `x.count` elements at `out`.
    static func map<S: KernelScalar>(_ op: UnaryOp, _ x: [S], into out: UnsafeMutablePointer<S>) {
        switch op {
        case .negate: mapScalars(x, out) { -$0 }
        case .abs: mapScalars(x, out) { Swift.abs($0) }
        case .square: mapScalars(x, out) { $0 * $0 }
        case .sqrt: mapScalars(x, out) { $0.squareRoot() }
        case .reciprocal: mapScalars(x, out) { 1 / $0 }
        case .exp: transcendental(BACKPROP_EXP, x, out)
        case .log: transcendental(BACKPROP_LOG, x, out)
        case .tanh: transcendental(BACKPROP_TANH, x, out)
        case .sigmoid: transcendental(BACKPROP_SIGMOID, x, out)
        case .softplus: transcendental(BACKPROP_SOFTPLUS, x, out)
        case .relu: mapScalars(x, out) { $0 < 0 ? 0 : $0 }
        case .leakyReLU(let slope):
            let a = S(slope)
            mapScalars(x, out) { $0 < 0 ? $0 * a : $0 }
        case .gelu: mapScalars(x, out) { S(gelu(Double($0))) }
        }
    }

    /// x·Φ(x) = ½x(1 + erf(x/√2)).
    @inline(__always)
    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x * 0.5.squareRoot())) }

    /// d/dx x·Φ(x) = Φ(x) + x·φ(x).
    @inline(__always)
    static func geluDerivative(_ x: Double) -> Double {
        let density = exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
        return 0.5 * (1 + erf(x * 0.5.squareRoot())) + x * density
    }

    /// `body` applied to every element, in a loop the compiler can vectorise.
    @inline(__always)
    static func mapScalars<S: KernelScalar>(_ x: [S], _ body: (S) -> S) -> [S] {
        [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            if let o = out.baseAddress { mapScalars(x, o, body) }
            initialized = x.count
        }
    }

    /// On the calling thread: split across threads, `body` would be called through a
    /// pointer per element instead of being inlined into a vectorised loop (measured: the
    /// split ReLU of W3 ran slower on two threads than the whole on one).
    @inline(__always)
    static func mapScalars<S: KernelScalar>(_ x: [S], _ out: UnsafeMutablePointer<S>, _ body: (S) -> S) {
        x.withUnsafeBufferPointer { source in
            for i in 0..<source.count { out[i] = body(source[i]) }
        }
    }

    /// The C kernels are split across the BLAS threads when the array is large; each
    /// element's result does not depend on the split.
    static func transcendental<S: KernelScalar>(_ f: backprop_function, _ x: [S], _ out: UnsafeMutablePointer<S>) {
        x.withUnsafeBufferPointer { source in
            guard let src = source.baseAddress else { return }
            parallelFor(source.count, work: 1) { range in
                S.transcendental(f, src + range.lowerBound, out + range.lowerBound, range.count)
            }
        }
    }

    // MARK: Binary, with broadcasting

    static func zip<S: KernelScalar>(
        _ op: BinaryOp, _ a: [S], _ aStrides: [Int], _ b: [S], _ bStrides: [Int], _ shape: [Int]
    ) -> [S] {
        let layout = StridedLayout(shape: shape, aStrides: aStrides, bStrides: bStrides,
                                   aCount: a.count, bCount: b.count)
        if case .power = op { return power(layout, a, b) }
        return [S](unsafeUninitializedCapacity: layout.count) { out, initialized in
            if let o = out.baseAddress { zip(op, layout, a, b, into: o) }
            initialized = layout.count
        }
    }

    /// `zip` writing into `out` (one element per position of `shape`), reusing its
    /// storage when unshared. `out` must not share storage with `a` or `b`.
    static func zip<S: KernelScalar>(
        _ op: BinaryOp, _ a: [S], _ aStrides: [Int], _ b: [S], _ bStrides: [Int], _ shape: [Int],
        into out: inout [S]
    ) {
        let layout = StridedLayout(shape: shape, aStrides: aStrides, bStrides: bStrides,
                                   aCount: a.count, bCount: b.count)
        checkPrecondition(out.count == layout.count, "zip: \(layout.count) results for \(out.count) outputs")
        if case .power = op { out = power(layout, a, b); return }
        out.withUnsafeMutableBufferPointer { o in
            if let base = o.baseAddress { zip(op, layout, a, b, into: base) }
        }
    }

    /// Every operation but `.power`, written to `out`: on as many threads as BLAS uses
    /// when there are many elements (``parallelFor(_:work:_:)``), each a contiguous range
    /// of positions, so the values do not depend on the split.
    static func zip<S: KernelScalar>(
        _ op: BinaryOp, _ layout: StridedLayout, _ a: [S], _ b: [S], into out: UnsafeMutablePointer<S>
    ) {
        guard layout.count > 0 else { return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                let (x, y) = (pa.baseAddress!, pb.baseAddress!)
                parallelFor(layout.count, work: 1) { positions in zip(op, layout, x, y, into: out, positions) }
            }
        }
    }

    /// ``zip(_:_:_:_:into:)`` over the positions in `positions`, each operation's loop
    /// compiled on its own (vectorised where it can be).
    static func zip<S: KernelScalar>(
        _ op: BinaryOp, _ layout: StridedLayout, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
        into out: UnsafeMutablePointer<S>, _ positions: Range<Int>
    ) {
        switch op {
        case .add: layout.apply(a, b, out, positions) { $0 + $1 }
        case .subtract: layout.apply(a, b, out, positions) { $0 - $1 }
        case .multiply: layout.apply(a, b, out, positions) { $0 * $1 }
        case .divide: layout.apply(a, b, out, positions) { $0 / $1 }
        case .maximum: layout.apply(a, b, out, positions) { $0.isNaN || $0 > $1 ? $0 : $1 }
        case .minimum: layout.apply(a, b, out, positions) { $0.isNaN || $0 < $1 ? $0 : $1 }
        case .power: fatalError("zip: power is computed by power(_:_:_:)")
        case .equal: layout.apply(a, b, out, positions) { $0 == $1 ? 1 : 0 }
        case .greater: layout.apply(a, b, out, positions) { $0 > $1 ? 1 : 0 }
        case .greaterOrEqual: layout.apply(a, b, out, positions) { $0 >= $1 ? 1 : 0 }
        case .less: layout.apply(a, b, out, positions) { $0 < $1 ? 1 : 0 }
        case .lessOrEqual: layout.apply(a, b, out, positions) { $0 <= $1 ? 1 : 0 }
        case .sigmoidBackward: layout.apply(a, b, out, positions) { y, g in g * y * (1 - y) }
        case .tanhBackward: layout.apply(a, b, out, positions) { y, g in g * (1 - y * y) }
        case .reluBackward: layout.apply(a, b, out, positions) { z, g in z > 0 ? g : 0 }
        case .leakyReLUBackward(let slope):
            let s = S(slope)
            layout.apply(a, b, out, positions) { z, g in z > 0 ? g : s * g }
        case .geluBackward: layout.apply(a, b, out, positions) { z, g in g * S(geluDerivative(Double(z))) }
        }
    }

    /// xᵖ: products for integral exponents up to 16 in magnitude, exp(p·log x) otherwise
    /// (NaN for negative x with a non-integral p, as libm's pow).
    static func power<S: KernelScalar>(_ layout: StridedLayout, _ x: [S], _ p: [S]) -> [S] {
        if layout.bIsScalar, let exponent = p.first {
            switch exponent {
            case 1: return layout.apply(x, p) { x, _ in x }
            case 2: return layout.apply(x, p) { x, _ in x * x }
            case 3: return layout.apply(x, p) { x, _ in x * x * x }
            case 0.5: return layout.apply(x, p) { x, _ in x.squareRoot() }
            case -1: return layout.apply(x, p) { x, _ in 1 / x }
            default:
                if exponent.rounded() == exponent && Swift.abs(exponent) <= 16 {
                    let n = Int(exponent)
                    return layout.apply(x, p) { x, _ in integerPower(x, n) }
                }
            }
        }
        let base = layout.apply(x, p) { x, _ in x }
        let exponent = layout.apply(x, p) { _, p in p }
        let logMagnitude = map(.log, map(.abs, base))
        let magnitude = map(.exp, zip(.multiply, exponent, [1], logMagnitude, [1], [base.count]))
        return [S](unsafeUninitializedCapacity: base.count) { out, initialized in
            for i in 0..<base.count {
                let (x, p) = (base[i], exponent[i])
                if x == 0 {
                    out[i] = p > 0 ? 0 : (p == 0 ? 1 : .infinity)
                } else if x > 0 || x.isNaN {
                    out[i] = magnitude[i]
                } else if p.rounded() != p {
                    out[i] = .nan
                } else {
                    let isOdd = (p / 2).rounded(.down) * 2 != p
                    out[i] = isOdd ? -magnitude[i] : magnitude[i]
                }
            }
            initialized = base.count
        }
    }

    /// xⁿ by repeated squaring: within about log₂|n| + 1 roundings of the exact value.
    @inline(__always)
    static func integerPower<S: KernelScalar>(_ x: S, _ n: Int) -> S {
        var base = n < 0 ? 1 / x : x
        var exponent = n < 0 ? -n : n
        var result: S = 1
        while exponent > 0 {
            if exponent & 1 == 1 { result *= base }
            base *= base
            exponent >>= 1
        }
        return result
    }

    static func scaledAdd<S: KernelScalar>(_ y: inout [S], _ a: S, _ x: [S], _ b: S) {
        checkPrecondition(x.count == y.count, "scaledAdd: \(x.count) and \(y.count) elements")
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                parallelFor(py.count, work: 1) { range in
                    for i in range { py[i] = a * px[i] + b * py[i] }
                }
            }
        }
    }

    static func weightedSum<S: KernelScalar>(_ a: [S], _ wa: S, _ b: [S], _ wb: S, into out: inout [S]) {
        checkPrecondition(a.count == b.count && b.count == out.count,
                          "weighted sum: \(a.count), \(b.count) and \(out.count) elements")
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    parallelFor(po.count, work: 1) { range in
                        for i in range { po[i] = wa * pa[i] + wb * pb[i] }
                    }
                }
            }
        }
    }

    /// `pass` over ranges of three equally long arrays, the first two updated in place,
    /// split across the BLAS threads when large.
    static func inPlacePass<S: KernelScalar>(
        _ a: inout [S], _ b: inout [S], _ c: [S],
        _ pass: (UnsafeMutablePointer<S>, UnsafeMutablePointer<S>, UnsafePointer<S>, Range<Int>) -> Void
    ) {
        checkPrecondition(a.count == b.count && b.count == c.count,
                          "in-place pass: \(a.count), \(b.count) and \(c.count) elements")
        guard !a.isEmpty else { return }
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                c.withUnsafeBufferPointer { pc in
                    parallelFor(pa.count, work: 1) { range in
                        pass(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, range)
                    }
                }
            }
        }
    }

    static func filled<S: KernelScalar>(_ value: S, _ count: Int) -> [S] {
        [S](repeating: value, count: count)
    }

    static func firstNonFinite<S: KernelScalar>(_ x: [S]) -> Int? {
        x.firstIndex { !$0.isFinite }
    }

    /// For a GEMM with nothing to multiply: C = beta·C when k = 0 (BLAS semantics).
    static func scaleEmptyProduct<S: KernelScalar>(_ c: inout [S], beta: S, k: Int) {
        guard k == 0 else { return }
        for i in c.indices { c[i] = beta == 0 ? 0 : beta * c[i] }
    }
}

/// Two operands read through strides over one output shape, with adjacent dimensions
/// merged wherever both operands allow, so that the inner loop is as long as possible.
struct StridedLayout {
    let shape: [Int]
    let aStrides: [Int]
    let bStrides: [Int]
    let count: Int

    var bIsScalar: Bool { bStrides.allSatisfy { $0 == 0 } }

    init(shape: [Int], aStrides: [Int], bStrides: [Int], aCount: Int, bCount: Int) {
        checkPrecondition(aStrides.count == shape.count && bStrides.count == shape.count,
                     "zip: strides \(aStrides) and \(bStrides) do not match shape \(shape)")
        var extent = (a: 0, b: 0)
        for (d, n) in shape.enumerated() where n > 0 {
            extent.a += (n - 1) * aStrides[d]
            extent.b += (n - 1) * bStrides[d]
        }
        count = shape.reduce(1, *)
        checkPrecondition(count == 0 || (extent.a < aCount && extent.b < bCount),
                     "zip: strides reach past the operands (\(aCount) and \(bCount) elements)")
        if shape.count == 1 {
            // Already flat: no dimensions to merge.
            self.shape = shape
            self.aStrides = shape[0] == 1 ? [0] : aStrides
            self.bStrides = shape[0] == 1 ? [0] : bStrides
            return
        }
        var s: [Int] = [], sa: [Int] = [], sb: [Int] = []
        for d in shape.indices where shape[d] != 1 {
            if let last = s.indices.last,
               sa[last] == aStrides[d] * shape[d], sb[last] == bStrides[d] * shape[d] {
                s[last] *= shape[d]
                sa[last] = aStrides[d]
                sb[last] = bStrides[d]
            } else {
                s.append(shape[d]); sa.append(aStrides[d]); sb.append(bStrides[d])
            }
        }
        if s.isEmpty { s = [1]; sa = [0]; sb = [0] }
        self.shape = s
        self.aStrides = sa
        self.bStrides = sb
    }

    @inline(__always)
    func apply<S: KernelScalar>(_ a: [S], _ b: [S], _ f: (S, S) -> S) -> [S] {
        [S](unsafeUninitializedCapacity: count) { out, initialized in
            if let o = out.baseAddress { apply(a, b, o, f) }
            initialized = count
        }
    }

    /// `out[i] = f(a[·], b[·])` for the `count` positions, written to `out`.
    @inline(__always)
    func apply<S: KernelScalar>(_ a: [S], _ b: [S], _ o: UnsafeMutablePointer<S>, _ f: (S, S) -> S) {
        guard count > 0 else { return }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in apply(pa.baseAddress!, pb.baseAddress!, o, 0..<count, f) }
        }
    }

    /// `out[i] = f(a[·], b[·])` for the positions in `positions`, row by row of the
    /// innermost dimension (the first and last rows possibly in part).
    @inline(__always)
    func apply<S: KernelScalar>(_ pa: UnsafePointer<S>, _ pb: UnsafePointer<S>, _ o: UnsafeMutablePointer<S>,
                                _ positions: Range<Int>, _ f: (S, S) -> S) {
        let last = shape.count - 1
        let inner = shape[last], ia = aStrides[last], ib = bStrides[last]
        guard inner > 0, !positions.isEmpty else { return }
        // The multi-index of the first row over the outer dimensions, and its offsets.
        var row = positions.lowerBound / inner
        var index = [Int](repeating: 0, count: last)
        var offsetA = 0, offsetB = 0
        var rest = row
        for d in stride(from: last - 1, through: 0, by: -1) {
            index[d] = rest % shape[d]
            rest /= shape[d]
            offsetA += index[d] * aStrides[d]
            offsetB += index[d] * bStrides[d]
        }
        var start = positions.lowerBound - row * inner
        var position = positions.lowerBound
        while position < positions.upperBound {
            let end = min(inner, start + positions.upperBound - position)
            let x = pa + offsetA, y = pb + offsetB
            let z = o + row * inner
            if ia == 1 && ib == 1 {
                for j in start..<end { z[j] = f(x[j], y[j]) }
            } else if ia == 1 && ib == 0 {
                let yv = y[0]
                for j in start..<end { z[j] = f(x[j], yv) }
            } else if ia == 0 && ib == 1 {
                let xv = x[0]
                for j in start..<end { z[j] = f(xv, y[j]) }
            } else {
                for j in start..<end { z[j] = f(x[j * ia], y[j * ib]) }
            }
            position += end - start
            start = 0
            row += 1
            // Advance the multi-index over the outer dimensions.
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                offsetA += aStrides[d]
                offsetB += bStrides[d]
                if index[d] < shape[d] { break }
                offsetA -= aStrides[d] * shape[d]
                offsetB -= bStrides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

