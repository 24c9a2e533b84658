// Tests of the Kernels layer against independent references: naive loops for GEMM,
// zip, reductions, softmax and data movement, and libm (in extended precision where the
// platform has it) for the vectorised maths, measured in ulps.
//
// Inputs come from a fixed-seed generator written here, so every run sees the same
// values; no expected result is produced by the code under test.

import Testing
@testable import Kernels
import CBLAS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Helpers: deterministic inputs

/// Knuth's MMIX linear congruential generator: small, deterministic, good enough for
/// test inputs.
struct LCG {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x2545_F491_4F6C_DD1D }

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }

    /// Uniform in [0, 1), 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    mutating func index(below n: Int) -> Int { Int((next() >> 33) % UInt64(n)) }

    mutating func values<S: BinaryFloatingPoint>(
        _ count: Int, in low: Double, _ high: Double, as _: S.Type = S.self
    ) -> [S] {
        (0..<count).map { _ in S(uniform(low, high)) }
    }
}

// MARK: - Helpers: reference maths

#if arch(x86_64) || arch(i386)
/// The precision references are computed in: x87 extended (64-bit significand), so that
/// Double results are measured against something more accurate than themselves.
typealias Wide = Float80
func refExp(_ x: Wide) -> Wide { expl(x) }
func refLog(_ x: Wide) -> Wide { logl(x) }
func refTanh(_ x: Wide) -> Wide { tanhl(x) }
func refLog1p(_ x: Wide) -> Wide { log1pl(x) }
func refPow(_ x: Wide, _ y: Wide) -> Wide { powl(x, y) }
#else
typealias Wide = Double
func refExp(_ x: Wide) -> Wide { exp(x) }
func refLog(_ x: Wide) -> Wide { log(x) }
func refTanh(_ x: Wide) -> Wide { tanh(x) }
func refLog1p(_ x: Wide) -> Wide { log1p(x) }
func refPow(_ x: Wide, _ y: Wide) -> Wide { pow(x, y) }
#endif

/// σ(x) = 1/(1 + e⁻ˣ), in the wide type.
func refSigmoid(_ x: Wide) -> Wide { 1 / (1 + refExp(-x)) }

/// softplus(x) = log1p(eˣ), written as x + log1p(e⁻ˣ) for x > 0 so that the reference
/// itself never overflows.
func refSoftplus(_ x: Wide) -> Wide { x > 0 ? x + refLog1p(refExp(-x)) : refLog1p(refExp(x)) }

/// The spacing of `S` values around `exact`: the ulp of the binade that holds `exact`
/// (the smaller one when `exact` rounds up to a power of two); subnormal spacing below
/// the normal range.
func ulpAround<S: KernelScalar>(_ exact: Wide, as _: S.Type) -> S {
    let magnitude = Swift.abs(S(exact))
    if magnitude < S.leastNormalMagnitude { return S.leastNonzeroMagnitude }
    return Wide(magnitude) <= Swift.abs(exact) ? magnitude.ulp : magnitude.nextDown.ulp
}

/// Error of `got` in ulps of `S` around `exact`; infinite for a non-finite `got`.
func ulpError<S: KernelScalar>(_ got: S, _ exact: Wide) -> Double {
    guard got.isFinite else { return .infinity }
    return Double(Swift.abs(Wide(got) - exact) / Wide(ulpAround(exact, as: S.self)))
}

/// `a` and `b` are the same value, NaN matching NaN.
func same<S: FloatingPoint>(_ a: S, _ b: S) -> Bool { a == b || (a.isNaN && b.isNaN) }

func typeName<S>(_: S.Type) -> String { "\(S.self)" }

// MARK: - Helpers: ulp measurement of the vector maths

/// Worst errors of one kernel over a set of inputs, separately for normal results and
/// for tiny (subnormal or zero) ones, plus every input whose result had the wrong kind
/// (NaN, infinity) altogether.
struct ULPReport: CustomStringConvertible {
    let name: String
    var checkedNormal = 0
    var worstNormal = 0.0
    var worstNormalInput = 0.0
    var checkedTiny = 0
    var worstTiny = 0.0
    var worstTinyInput = 0.0
    var wrongKind: [String] = []

    mutating func merge(_ other: ULPReport) {
        checkedNormal += other.checkedNormal
        if other.worstNormal > worstNormal {
            worstNormal = other.worstNormal; worstNormalInput = other.worstNormalInput
        }
        checkedTiny += other.checkedTiny
        if other.worstTiny > worstTiny { worstTiny = other.worstTiny; worstTinyInput = other.worstTinyInput }
        wrongKind += other.wrongKind
    }

    var description: String {
        var text = "[ulp] \(name): worst \(format(worstNormal)) ulp at x = \(worstNormalInput) "
            + "over \(checkedNormal) normal results"
        if checkedTiny > 0 {
            text += "; subnormal/zero results: worst \(format(worstTiny)) ulp at x = \(worstTinyInput) "
                + "over \(checkedTiny)"
        }
        if !wrongKind.isEmpty { text += "; WRONG KIND: \(wrongKind.prefix(5))" }
        return text
    }

    private func format(_ x: Double) -> String {
        x.isFinite ? String(Double(Int(x * 1000)) / 1000) : "\(x)"
    }
}

/// Runs `S.map(op, inputs)` once and measures every result against `reference`.
func measure<S: KernelScalar>(
    _ name: String, _ op: UnaryOp, _ inputs: [S], _ reference: (Wide) -> Wide
) -> ULPReport {
    let results = S.map(op, inputs)
    var report = ULPReport(name: name)
    for (x, got) in Swift.zip(inputs, results) {
        let exact = reference(Wide(x))
        let rounded = S(exact)
        if exact.isNaN || !rounded.isFinite {
            if !same(got, rounded) { report.wrongKind.append("\(name)(\(x)) = \(got), expected \(rounded)") }
            continue
        }
        let error = ulpError(got, exact)
        if Swift.abs(rounded) >= S.leastNormalMagnitude {
            report.checkedNormal += 1
            if error > report.worstNormal || error.isNaN || report.checkedNormal == 1 {
                report.worstNormal = error.isNaN ? .infinity : error; report.worstNormalInput = Double(x)
            }
        } else {
            report.checkedTiny += 1
            if error > report.worstTiny || error.isNaN || report.checkedTiny == 1 {
                report.worstTiny = error.isNaN ? .infinity : error; report.worstTinyInput = Double(x)
            }
        }
    }
    return report
}

/// An evenly spaced grid over `range`, as many uniformly random points again, and `extra`.
func sweep<S: KernelScalar>(
    _: S.Type, _ range: ClosedRange<Double>, points: Int, extra: [Double] = [], seed: UInt64
) -> [S] {
    var rng = LCG(seed: seed)
    let step = (range.upperBound - range.lowerBound) / Double(points - 1)
    var xs = (0..<points).map { S(range.lowerBound + Double($0) * step) }
    xs += rng.values(points, in: range.lowerBound, range.upperBound, as: S.self)
    xs += extra.map { S($0) }
    return xs
}

/// Positive inputs spread over every binade of `S`, subnormals included, plus values
/// close to 1 (where log is small) and the extremes.
func positiveSweep<S: KernelScalar>(_: S.Type, points: Int, seed: UInt64) -> [S] {
    var rng = LCG(seed: seed)
    let lowest = S.leastNonzeroMagnitude.exponent
    let highest = S.greatestFiniteMagnitude.exponent
    var xs: [S] = []
    for _ in 0..<points {
        let exponent = lowest + S.Exponent(rng.index(below: Int(highest - lowest) + 1))
        let x = S(sign: .plus, exponent: exponent, significand: S(rng.uniform(1, 2)))
        if x > 0 && x.isFinite { xs.append(x) }
    }
    xs += rng.values(points / 4, in: 0.5, 2, as: S.self)
    for k in 1...64 {
        let step: S = S(k) * S.ulpOfOne
        xs.append(1 + step)
        xs.append(1 - step / 2)
    }
    xs += [1, 2, 0.5, S.leastNonzeroMagnitude, S.leastNormalMagnitude, S.leastNormalMagnitude.nextDown,
           S.greatestFiniteMagnitude, S(2).squareRoot(), S(2).squareRoot().nextUp, S(2).squareRoot().nextDown]
    return xs
}

/// One vector-math kernel: its name, operation, documented bound, reference and the
/// input ranges per type.
struct MathCase: Sendable, CustomTestStringConvertible {
    let name: String
    let op: UnaryOp
    let bound: Double
    let reference: @Sendable (Wide) -> Wide
    /// Random inputs for the SIMD-tail tests, per type.
    let floatRange: ClosedRange<Double>
    let doubleRange: ClosedRange<Double>

    var testDescription: String { "\(name) (≤ \(bound) ulp)" }
}

let mathCases: [MathCase] = [
    MathCase(name: "exp", op: .exp, bound: 4, reference: refExp,
             floatRange: -100...88, doubleRange: -740...709),
    MathCase(name: "log", op: .log, bound: 4, reference: refLog,
             floatRange: 1e-30...1e30, doubleRange: 1e-300...1e300),
    MathCase(name: "tanh", op: .tanh, bound: 6, reference: refTanh,
             floatRange: -30...30, doubleRange: -30...30),
    MathCase(name: "sigmoid", op: .sigmoid, bound: 4, reference: refSigmoid,
             floatRange: -80...80, doubleRange: -80...80),
    MathCase(name: "softplus", op: .softplus, bound: 6, reference: refSoftplus,
             floatRange: -80...80, doubleRange: -80...80),
]

/// Inputs of the full accuracy sweeps, per kernel and type.
func accuracyInputs<S: KernelScalar>(_ name: String, _: S.Type) -> [S] {
    let isFloat = S.self == Float.self
    let small: [Double] = [0, -0.0, 1e-3, -1e-3, 1e-7, -1e-7, 1e-20, -1e-20, 0.5, -0.5, 1, -1]
    let points = 6000
    switch name {
    case "exp":
        // Whole range, both tails: results from the largest finite down into subnormals.
        let range: ClosedRange<Double> = isFloat ? -100...88 : -740...709
        let edges: [Double] = isFloat
            ? [88.72, 88.7228, -87.33, -87.34, -103.27, -103.2]
            : [709.78, -708.39, -708.4, -744.4, -745.1]
        return sweep(S.self, range, points: points, extra: small + edges, seed: 1)
            + sweep(S.self, -2...2, points: points / 4, seed: 2)
    case "log":
        return positiveSweep(S.self, points: 2 * points, seed: 3)
    case "tanh":
        return sweep(S.self, -30...30, points: points, extra: small, seed: 4)
            + sweep(S.self, -1...1, points: points / 4, seed: 5)
    case "sigmoid":
        let tails: ClosedRange<Double> = isFloat ? -87...87 : -700...700
        return sweep(S.self, -80...80, points: points, extra: small, seed: 6)
            + sweep(S.self, tails, points: points / 4, seed: 7)
    case "softplus":
        let tails: ClosedRange<Double> = isFloat ? -87...87 : -700...700
        return sweep(S.self, -80...80, points: points, extra: small, seed: 8)
            + sweep(S.self, tails, points: points / 4, seed: 9)
            + sweep(S.self, -3...3, points: points / 4, seed: 10)
    default:
        fatalError("no inputs for \(name)")
    }
}

// MARK: - GEMM

/// `C = alpha·op(A)·op(B) + beta·C` by the definition, accumulated in Double, with the
/// magnitude Σ|alpha·a·b| + |beta·c| of every entry for the error bound.
func naiveGEMM(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Double, a: [Double], b: [Double], beta: Double, c: [Double]
) -> (values: [Double], magnitudes: [Double]) {
    var values = [Double](repeating: 0, count: m * n)
    var magnitudes = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0, magnitude = 0.0
            for p in 0..<k {
                let x = transposeA ? a[p * m + i] : a[i * k + p]
                let y = transposeB ? b[j * k + p] : b[p * n + j]
                sum += x * y
                magnitude += Swift.abs(x * y)
            }
            values[i * n + j] = alpha * sum + beta * c[i * n + j]
            magnitudes[i * n + j] = Swift.abs(alpha) * magnitude + Swift.abs(beta * c[i * n + j])
        }
    }
    return (values, magnitudes)
}

struct GEMMCase: Sendable, CustomTestStringConvertible {
    let m: Int, n: Int, k: Int
    var testDescription: String { "m=\(m) n=\(n) k=\(k)" }
}

struct Transposition: Sendable, CustomTestStringConvertible {
    let a: Bool, b: Bool
    var testDescription: String { "transposeA=\(a) transposeB=\(b)" }
}

/// Checks one GEMM in type `S` against the naive loops; returns the worst error relative
/// to each entry's magnitude.
func checkGEMM<S: KernelScalar>(
    _: S.Type, _ shape: GEMMCase, _ t: Transposition, tolerance: Double, seed: UInt64
) -> Double {
    let (m, n, k) = (shape.m, shape.n, shape.k)
    var rng = LCG(seed: seed)
    let a: [S] = rng.values(m * k, in: -1, 1)
    let b: [S] = rng.values(k * n, in: -1, 1)
    let c0: [S] = rng.values(m * n, in: -1, 1)
    let alpha: S = -1.25, beta: S = 0.75
    var c = c0
    S.gemm(transposeA: t.a, transposeB: t.b, m: m, n: n, k: k,
           alpha: alpha, a: a, b: b, beta: beta, c: &c)
    let reference = naiveGEMM(
        transposeA: t.a, transposeB: t.b, m: m, n: n, k: k, alpha: Double(alpha),
        a: a.map(Double.init), b: b.map(Double.init), beta: Double(beta), c: c0.map(Double.init))
    var worst = 0.0
    for i in 0..<(m * n) {
        let error = Swift.abs(Double(c[i]) - reference.values[i]) / reference.magnitudes[i]
        worst = error.isNaN ? .infinity : max(worst, error)
        #expect(error <= tolerance,
                "\(S.self) C[\(i / n), \(i % n)] = \(c[i]), expected \(reference.values[i])")
    }
    return worst
}

@Suite("GEMM against naive loops")
struct GEMMTests {
    static let shapes = [GEMMCase(m: 7, n: 5, k: 3), GEMMCase(m: 33, n: 17, k: 65),
                         GEMMCase(m: 1, n: 1, k: 1), GEMMCase(m: 1, n: 9, k: 4),
                         GEMMCase(m: 6, n: 1, k: 11)]
    static let transpositions = [Transposition(a: false, b: false), Transposition(a: false, b: true),
                                 Transposition(a: true, b: false), Transposition(a: true, b: true)]

    @Test("alpha·op(A)·op(B) + beta·C, Float ≤ 1e-5 and Double ≤ 1e-12 relative",
          arguments: shapes, transpositions)
    func matchesNaiveLoops(shape: GEMMCase, transposition: Transposition) {
        let seed = UInt64(shape.m * 10_000 + shape.n * 100 + shape.k)
        _ = checkGEMM(Float.self, shape, transposition, tolerance: 1e-5, seed: seed)
        _ = checkGEMM(Double.self, shape, transposition, tolerance: 1e-12, seed: seed)
    }

    @Test("k = 0 leaves beta·C (and exactly 0 for beta = 0, even over NaN)")
    func emptyInnerDimension() {
        func check<S: KernelScalar>(_: S.Type) {
            var rng = LCG(seed: 11)
            let c0: [S] = rng.values(12, in: -4, 4)
            var c = c0
            S.gemm(transposeA: false, transposeB: true, m: 3, n: 4, k: 0,
                   alpha: 2.5, a: [], b: [], beta: -0.5, c: &c)
            #expect(c == c0.map { -0.5 * $0 }, "\(S.self): k = 0 must give beta·C")

            var nans = [S](repeating: .nan, count: 6)
            S.gemm(transposeA: true, transposeB: false, m: 2, n: 3, k: 0,
                   alpha: 1.5, a: [], b: [], beta: 0, c: &nans)
            #expect(nans == [S](repeating: 0, count: 6), "\(S.self): beta = 0 must not read C")
        }
        check(Float.self)
        check(Double.self)
    }

    /// Products with one row or one column go to GEMV inside the C binding; convolution
    /// calls it with leading dimensions wider than the matrices, so those are checked
    /// here: every matrix sits in a buffer with 3 spare columns (and C with 2).
    @Test("one-row and one-column products with padded leading dimensions (the GEMV path)",
          arguments: [GEMMCase(m: 1, n: 7, k: 5), GEMMCase(m: 6, n: 1, k: 4), GEMMCase(m: 1, n: 1, k: 9)],
          transpositions)
    func vectorProductsWithLeadingDimensions(shape: GEMMCase, transposition t: Transposition) {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        let (rowsA, colsA) = t.a ? (k, m) : (m, k)
        let (rowsB, colsB) = t.b ? (n, k) : (k, n)
        let (lda, ldb, ldc) = (colsA + 3, colsB + 3, n + 2)
        var rng = LCG(seed: UInt64(100 * m + 10 * n + k))
        let aPadded: [Float] = rng.values(rowsA * lda, in: -1, 1)
        let bPadded: [Float] = rng.values(rowsB * ldb, in: -1, 1)
        let cPadded: [Float] = rng.values(m * ldc, in: -1, 1)
        // The matrices themselves, packed, for the reference.
        let a = (0..<rowsA).flatMap { r in (0..<colsA).map { Double(aPadded[r * lda + $0]) } }
        let b = (0..<rowsB).flatMap { r in (0..<colsB).map { Double(bPadded[r * ldb + $0]) } }
        let c0 = (0..<m).flatMap { r in (0..<n).map { Double(cPadded[r * ldc + $0]) } }
        let reference = naiveGEMM(transposeA: t.a, transposeB: t.b, m: m, n: n, k: k,
                                  alpha: -1.25, a: a, b: b, beta: 0.75, c: c0)
        var c = cPadded
        c.withUnsafeMutableBufferPointer { cp in
            backprop_sgemm(t.a ? 1 : 0, t.b ? 1 : 0, Int32(m), Int32(n), Int32(k), -1.25, aPadded,
                           Int32(lda), bPadded, Int32(ldb), 0.75, cp.baseAddress, Int32(ldc))
        }
        for i in 0..<m {
            for j in 0..<ldc {
                let value = Double(c[i * ldc + j])
                if j < n {
                    let error = Swift.abs(value - reference.values[i * n + j]) / reference.magnitudes[i * n + j]
                    #expect(error <= 1e-5, "C[\(i), \(j)] = \(value), expected \(reference.values[i * n + j])")
                } else {
                    #expect(c[i * ldc + j] == cPadded[i * ldc + j], "padding C[\(i), \(j)] was written")
                }
            }
        }
    }

    @Test("product timing counts only while on, and only time inside products")
    func productTiming() {
        let a = [Float](repeating: 0.5, count: 256 * 256)
        func products(_ count: Int) {
            for _ in 0..<count {
                _ = Float.product(transposeA: false, transposeB: false, m: 256, n: 256, k: 256, a: a, b: a)
            }
        }
        let start = BLAS.productSeconds
        products(3)
        #expect(BLAS.productSeconds == start, "timing must be off by default")
        BLAS.timesProducts = true
        let clock = ContinuousClock()
        let wall = clock.measure { products(20) }
        BLAS.timesProducts = false
        let timed = BLAS.productSeconds - start
        #expect(timed > 0 && timed <= Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18,
                "timed \(timed) s of products in \(wall)")
        let afterOff = BLAS.productSeconds
        products(3)
        #expect(BLAS.productSeconds == afterOff, "timing must stop when switched off")
    }

    @Test("empty C (m = 0 or n = 0) is accepted and stays empty")
    func emptyOutput() {
        var c: [Float] = []
        Float.gemm(transposeA: false, transposeB: false, m: 0, n: 4, k: 3,
                   alpha: 1, a: [], b: [Float](repeating: 1, count: 12), beta: 1, c: &c)
        #expect(c.isEmpty)
        var d: [Double] = []
        Double.gemm(transposeA: true, transposeB: true, m: 3, n: 0, k: 2,
                    alpha: 1, a: [Double](repeating: 1, count: 6), b: [], beta: 1, c: &d)
        #expect(d.isEmpty)
    }
}

// MARK: - Vector maths: accuracy in ulps

/// The documented accuracy of CKernels against libm: exp, log, sigmoid within 4 ulp; tanh
/// and softplus within 6 ulp. The bound is asserted for normal results, and also for
/// subnormal results measured in units of the subnormal spacing (gradual underflow).
@Suite("Vector maths accuracy (CKernels: exp, log, sigmoid ≤ 4 ulp; tanh, softplus ≤ 6 ulp)")
struct VectorMathAccuracyTests {
    @Test("whole-range sweep within the documented ulp bound", arguments: mathCases)
    func sweepWithinBound(_ kernel: MathCase) {
        func check<S: KernelScalar>(_: S.Type) {
            let inputs = accuracyInputs(kernel.name, S.self)
            if kernel.op == .log {
                #expect(inputs.contains { $0 > 0 && $0 < S.leastNormalMagnitude }, "log sweep lacks subnormals")
            }
            let report = measure("\(kernel.name)<\(S.self)>", kernel.op, inputs, kernel.reference)
            print(report)
            #expect(report.wrongKind.isEmpty, "\(report)")
            #expect(report.checkedNormal > 0)
            #expect(report.worstNormal <= kernel.bound, "\(report)")
            #expect(report.worstTiny <= kernel.bound, "\(report)")
        }
        check(Float.self)
        check(Double.self)
    }

    /// Counts around the SIMD widths (16 Floats, 8 Doubles), so that the padded tail
    /// vector is used; a tail result must equal the whole-vector result for the same input.
    @Test("odd counts exercise the SIMD tail (1, 7, 9, 15, 17, 1001 elements)", arguments: mathCases)
    func tailCounts(_ kernel: MathCase) {
        func check<S: KernelScalar>(_: S.Type, range: ClosedRange<Double>) {
            var rng = LCG(seed: 99)
            var report = ULPReport(name: "\(kernel.name)<\(S.self)> tails")
            for count in [1, 7, 9, 15, 17, 1001] {
                let xs: [S] = rng.values(count, in: range.lowerBound, range.upperBound)
                report.merge(measure(report.name, kernel.op, xs, kernel.reference))
                #expect(S.map(kernel.op, xs).count == count)
                // The same inputs padded to whole vectors go through the main loop only.
                let width = 16
                let padded = xs + [S](repeating: 0.5, count: (width - count % width) % width)
                let whole = Array(S.map(kernel.op, padded).prefix(count))
                let tail = S.map(kernel.op, xs)
                #expect(zip(whole, tail).allSatisfy { same($0, $1) },
                        "\(kernel.name)<\(S.self)>: tail of \(count) differs from whole vectors")
            }
            print(report)
            #expect(report.wrongKind.isEmpty, "\(report)")
            #expect(report.worstNormal <= kernel.bound, "\(report)")
            #expect(report.worstTiny <= kernel.bound, "\(report)")
        }
        check(Float.self, range: kernel.floatRange)
        check(Double.self, range: kernel.doubleRange)
    }

    @Test("empty input gives empty output")
    func empty() {
        for kernel in mathCases {
            #expect(Float.map(kernel.op, []).isEmpty)
            #expect(Double.map(kernel.op, []).isEmpty)
        }
    }
}

// MARK: - Vector maths: special values

@Suite("Vector maths special values")
struct VectorMathSpecialValueTests {
    /// Evaluates `op` at `x` placed in a full vector and alone (tail path).
    func both<S: KernelScalar>(_ op: UnaryOp, _ x: S) -> [S] {
        let width = 16
        var vector = [S](repeating: 0.25, count: width)
        vector[width / 2] = x
        return [S.map(op, vector)[width / 2], S.map(op, [x])[0]]
    }

    func check<S: KernelScalar>(_: S.Type) {
        let inf = S.infinity
        for r in both(.exp, -inf) { #expect(r == 0, "exp<\(S.self)>(-inf) = \(r)") }
        for r in both(.exp, inf) { #expect(r == inf, "exp<\(S.self)>(+inf) = \(r)") }
        for r in both(.exp, S.nan) { #expect(r.isNaN, "exp<\(S.self)>(nan) = \(r)") }
        for r in both(.exp, S(0)) { #expect(r == 1, "exp<\(S.self)>(0) = \(r)") }
        for r in both(.exp, S(1000)) { #expect(r == inf, "exp<\(S.self)>(1000) = \(r)") }
        for r in both(.exp, S(-1000)) { #expect(r == 0, "exp<\(S.self)>(-1000) = \(r)") }

        for r in both(.log, S(0)) { #expect(r == -inf, "log<\(S.self)>(0) = \(r)") }
        for r in both(.log, -S(0)) { #expect(r == -inf, "log<\(S.self)>(-0) = \(r)") }
        for r in both(.log, S(-1)) { #expect(r.isNaN, "log<\(S.self)>(-1) = \(r)") }
        for r in both(.log, -inf) { #expect(r.isNaN, "log<\(S.self)>(-inf) = \(r)") }
        for r in both(.log, inf) { #expect(r == inf, "log<\(S.self)>(+inf) = \(r)") }
        for r in both(.log, S.nan) { #expect(r.isNaN, "log<\(S.self)>(nan) = \(r)") }
        for r in both(.log, S(1)) { #expect(r == 0, "log<\(S.self)>(1) = \(r)") }

        for r in both(.tanh, inf) { #expect(r == 1, "tanh<\(S.self)>(+inf) = \(r)") }
        for r in both(.tanh, -inf) { #expect(r == -1, "tanh<\(S.self)>(-inf) = \(r)") }
        for r in both(.tanh, S(0)) { #expect(r == 0, "tanh<\(S.self)>(0) = \(r)") }
        for r in both(.tanh, S(1e4)) { #expect(r == 1, "tanh<\(S.self)>(1e4) = \(r)") }
        for r in both(.tanh, S.nan) { #expect(r.isNaN, "tanh<\(S.self)>(nan) = \(r)") }

        for r in both(.sigmoid, inf) { #expect(r == 1, "sigmoid<\(S.self)>(+inf) = \(r)") }
        for r in both(.sigmoid, -inf) { #expect(r == 0, "sigmoid<\(S.self)>(-inf) = \(r)") }
        for r in both(.sigmoid, S(0)) { #expect(r == 0.5, "sigmoid<\(S.self)>(0) = \(r)") }
        for r in both(.sigmoid, S(1e4)) { #expect(r == 1, "sigmoid<\(S.self)>(1e4) = \(r)") }
        for r in both(.sigmoid, S(-1e4)) { #expect(r == 0, "sigmoid<\(S.self)>(-1e4) = \(r)") }
        for r in both(.sigmoid, S.nan) { #expect(r.isNaN, "sigmoid<\(S.self)>(nan) = \(r)") }

        for r in both(.softplus, inf) { #expect(r == inf, "softplus<\(S.self)>(+inf) = \(r)") }
        for r in both(.softplus, -inf) { #expect(r == 0, "softplus<\(S.self)>(-inf) = \(r)") }
        for r in both(.softplus, S(1e4)) { #expect(r == 1e4, "softplus<\(S.self)>(1e4) = \(r)") }
        for r in both(.softplus, S(-1e4)) { #expect(r == 0, "softplus<\(S.self)>(-1e4) = \(r)") }
        for r in both(.softplus, S.nan) { #expect(r.isNaN, "softplus<\(S.self)>(nan) = \(r)") }
        let ln2 = S(0.693147180559945309417232121458176568)
        for r in both(.softplus, S(0)) {
            #expect(ulpError(r, Wide(0.693147180559945309417232121458176568)) <= 6,
                    "softplus<\(S.self)>(0) = \(r), expected \(ln2)")
        }
    }

    @Test("exp(±inf) = inf/0, exp(NaN) NaN, log(0) = -inf, log(-1) NaN, tanh(±inf) = ±1, sigmoid(±inf) = 1/0, …")
    func specialValues() {
        check(Float.self)
        check(Double.self)
    }
}

// MARK: - Elementwise maps with exact results

@Suite("Elementwise maps against scalar operations")
struct ElementwiseMapTests {
    func inputs<S: KernelScalar>(_: S.Type) -> [S] {
        var rng = LCG(seed: 21)
        var xs: [S] = rng.values(1001, in: -50, 50)
        xs += rng.values(37, in: -1e-3, 1e-3)
        xs += [0, -0.0, 1, -1, .infinity, -.infinity, .nan, S.leastNonzeroMagnitude,
               -S.leastNormalMagnitude, S.greatestFiniteMagnitude, -S.greatestFiniteMagnitude]
        return xs
    }

    /// Every operation is one correctly rounded IEEE operation (or none), so the kernel
    /// must agree with the scalar expression exactly, at every count (tails included).
    @Test("negate, abs, square, sqrt, reciprocal, relu, leakyReLU equal the scalar expressions")
    func exactMaps() {
        func check<S: KernelScalar>(_: S.Type) {
            let slope = 0.01
            let cases: [(String, UnaryOp, (S) -> S)] = [
                ("negate", .negate, { -$0 }),
                // Compared as values: the kernel keeps the sign of -0 (-0 == +0 here).
                ("abs", .abs, { Swift.abs($0) }),
                ("square", .square, { $0 * $0 }),
                ("sqrt", .sqrt, { $0.squareRoot() }),
                ("reciprocal", .reciprocal, { 1 / $0 }),
                ("relu", .relu, { $0 < 0 ? 0 : $0 }),
                ("leakyReLU", .leakyReLU(slope: slope), { $0 < 0 ? S(slope) * $0 : $0 }),
            ]
            let all = inputs(S.self)
            for (name, op, scalar) in cases {
                for count in [1, 15, 17, all.count] {
                    let xs = Array(all.suffix(count))
                    let got = S.map(op, xs)
                    #expect(got.count == count)
                    for (x, y) in zip(xs, got) where !same(y, scalar(x)) {
                        Issue.record("\(name)<\(S.self)>(\(x)) = \(y), expected \(scalar(x))")
                    }
                }
            }
            #expect(S.map(.relu, [-3, 2]) == [0, 2])
            #expect(S.map(.leakyReLU(slope: 0.5), [-3, 2]) == [-1.5, 2])
            #expect(S.map(.sqrt, [-1])[0].isNaN)
            #expect(S.map(.reciprocal, [0])[0] == .infinity)
        }
        check(Float.self)
        check(Double.self)
    }
}

@Suite("scaledAdd against a scalar loop")
struct ScaledAddTests {
    @Test("y = a·x + b·y in place, every element")
    func matchesLoop() {
        func check<S: KernelScalar>(_: S.Type) {
            var rng = LCG(seed: 23)
            for count in [0, 1, 17, 1001] {
                let x: [S] = rng.values(count, in: -2, 2)
                let y0: [S] = rng.values(count, in: -2, 2)
                let (a, b): (S, S) = (-0.375, 0.875)
                var y = y0
                S.scaledAdd(&y, a, x, b)
                #expect(y == (0..<count).map { a * x[$0] + b * y0[$0] }, "scaledAdd<\(S.self)> count \(count)")
            }
        }
        check(Float.self)
        check(Double.self)
    }
}

@Suite("momentumStep against the same steps one pass at a time")
struct MomentumStepTests {
    /// The reference: SGD's passes, each y = a·x + b·y, as written before the fused kernel.
    func reference<S: KernelScalar>(
        _ w0: [S], _ v0: [S], _ g0: [S], alpha: S, beta: S, gain: S, lambda: S, nesterov: Bool
    ) -> (w: [S], v: [S]) {
        var (w, v, g) = (w0, v0, g0)
        if lambda != 0 { S.scaledAdd(&g, lambda, w, 1) }
        S.scaledAdd(&v, gain, g, beta)
        if nesterov {
            S.scaledAdd(&w, -alpha * beta, v, 1)
            S.scaledAdd(&w, -alpha, g, 1)
        } else {
            S.scaledAdd(&w, -alpha, v, 1)
        }
        return (w, v)
    }

    @Test("bit for bit, every form, with and without L2, short and long (split across threads) arrays")
    func equalsPasses() {
        func check<S: KernelScalar>(_: S.Type) {
            var rng = LCG(seed: 31)
            for count in [0, 1, 19, 200_003] {
                let w0: [S] = rng.values(count, in: -2, 2), v0: [S] = rng.values(count, in: -1, 1)
                let g: [S] = rng.values(count, in: -3, 3)
                for (gain, nesterov) in [(S(1), false), (S(0.1), false), (S(1), true)] {
                    for lambda: S in [0, 0.01] {
                        var (w, v) = (w0, v0)
                        S.momentumStep(weights: &w, velocity: &v, gradient: g, alpha: 0.05, beta: 0.9, gain: gain,
                                       lambda: lambda, nesterov: nesterov)
                        let expected = reference(w0, v0, g, alpha: 0.05, beta: 0.9, gain: gain, lambda: lambda,
                                                 nesterov: nesterov)
                        #expect(w == expected.w && v == expected.v,
                                "\(S.self) count \(count) gain \(gain) λ \(lambda) nesterov \(nesterov)")
                    }
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }
}

// MARK: - zip with broadcasting

/// Scalar-loop reference of `zip`: the multi-index walked in row-major order, each
/// operand read at the dot product of the index with its strides.
func referenceZip<S, T>(
    _ a: [S], _ aStrides: [Int], _ b: [S], _ bStrides: [Int], _ shape: [Int], _ f: (S, S) -> T
) -> [T] {
    let count = shape.reduce(1, *)
    var out: [T] = []
    out.reserveCapacity(count)
    var index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<count {
        var offsetA = 0, offsetB = 0
        for d in shape.indices {
            offsetA += index[d] * aStrides[d]
            offsetB += index[d] * bStrides[d]
        }
        out.append(f(a[offsetA], b[offsetB]))
        var d = shape.count - 1
        while d >= 0 {
            index[d] += 1
            if index[d] < shape[d] { break }
            index[d] = 0
            d -= 1
        }
    }
    return out
}

struct BroadcastCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shape: [Int]
    let aStrides: [Int], aCount: Int
    let bStrides: [Int], bCount: Int
    var testDescription: String { name }
}

let broadcastCases: [BroadcastCase] = [
    BroadcastCase(name: "same shape [7, 13]", shape: [7, 13],
                  aStrides: [13, 1], aCount: 91, bStrides: [13, 1], bCount: 91),
    BroadcastCase(name: "scalar b over [7, 13]", shape: [7, 13],
                  aStrides: [13, 1], aCount: 91, bStrides: [0, 0], bCount: 1),
    BroadcastCase(name: "scalar a over [7, 13]", shape: [7, 13],
                  aStrides: [0, 0], aCount: 1, bStrides: [13, 1], bCount: 91),
    BroadcastCase(name: "row b [13] over [7, 13]", shape: [7, 13],
                  aStrides: [13, 1], aCount: 91, bStrides: [0, 1], bCount: 13),
    BroadcastCase(name: "column b [7, 1] over [7, 13]", shape: [7, 13],
                  aStrides: [13, 1], aCount: 91, bStrides: [1, 0], bCount: 7),
    BroadcastCase(name: "column a [7, 1] with row b [13]", shape: [7, 13],
                  aStrides: [1, 0], aCount: 7, bStrides: [0, 1], bCount: 13),
    BroadcastCase(name: "3-D [3, 4, 5] with b [3, 1, 5]", shape: [3, 4, 5],
                  aStrides: [20, 5, 1], aCount: 60, bStrides: [5, 0, 1], bCount: 15),
    BroadcastCase(name: "3-D [3, 4, 5] with b [1, 4, 1]", shape: [3, 4, 5],
                  aStrides: [20, 5, 1], aCount: 60, bStrides: [0, 1, 0], bCount: 4),
    BroadcastCase(name: "3-D [3, 4, 5], a read transposed (stored [5, 4, 3])", shape: [3, 4, 5],
                  aStrides: [1, 3, 12], aCount: 60, bStrides: [20, 5, 1], bCount: 60),
    BroadcastCase(name: "size-1 dimensions [2, 1, 9] with b [9]", shape: [2, 1, 9],
                  aStrides: [9, 9, 1], aCount: 18, bStrides: [0, 0, 1], bCount: 9),
    BroadcastCase(name: "1-D, 1001 elements", shape: [1001],
                  aStrides: [1], aCount: 1001, bStrides: [1], bCount: 1001),
    BroadcastCase(name: "empty [0, 5]", shape: [0, 5],
                  aStrides: [5, 1], aCount: 0, bStrides: [0, 1], bCount: 5),
]

/// 2¹⁶ elements or more: split over the BLAS threads (two on a 2-core machine), the split
/// falling inside a row.
let splitBroadcastCases: [BroadcastCase] = [
    BroadcastCase(name: "split: [3, 30001] with row b", shape: [3, 30001],
                  aStrides: [30001, 1], aCount: 90003, bStrides: [0, 1], bCount: 30001),
    BroadcastCase(name: "split: 3-D [5, 7, 2003] with b [5, 1, 2003]", shape: [5, 7, 2003],
                  aStrides: [14021, 2003, 1], aCount: 70105, bStrides: [2003, 0, 1], bCount: 10015),
    BroadcastCase(name: "split: [257, 300], a read transposed, column b", shape: [257, 300],
                  aStrides: [1, 257], aCount: 77100, bStrides: [1, 0], bCount: 257),
    BroadcastCase(name: "split: 1-D, 70001 elements", shape: [70001],
                  aStrides: [1], aCount: 70001, bStrides: [1], bCount: 70001),
]

/// Operands for zip: values in [-3, 3] with exact zeros, small integers and ties mixed in.
func zipOperands<S: KernelScalar>(_ c: BroadcastCase, seed: UInt64) -> ([S], [S]) {
    var rng = LCG(seed: seed)
    func make(_ count: Int) -> [S] {
        (0..<count).map { _ in
            switch rng.index(below: 8) {
            case 0: return 0
            case 1: return S(rng.index(below: 5)) - 2
            default: return S(rng.uniform(-3, 3))
            }
        }
    }
    return (make(c.aCount), make(c.bCount))
}

@Suite("zip with broadcasting strides against scalar loops")
struct ZipTests {
    static func binaryCases<S: KernelScalar>(_: S.Type) -> [(String, BinaryOp, (S, S) -> S)] {
        [
            ("add", .add, { $0 + $1 }),
            ("subtract", .subtract, { $0 - $1 }),
            ("multiply", .multiply, { $0 * $1 }),
            ("divide", .divide, { $0 / $1 }),
            ("maximum", .maximum, { $0.isNaN || $1.isNaN ? .nan : Swift.max($0, $1) }),
            ("minimum", .minimum, { $0.isNaN || $1.isNaN ? .nan : Swift.min($0, $1) }),
            ("equal", .equal, { $0 == $1 ? 1 : 0 }),
            ("greater", .greater, { $0 > $1 ? 1 : 0 }),
            ("greaterOrEqual", .greaterOrEqual, { $0 >= $1 ? 1 : 0 }),
            ("less", .less, { $0 < $1 ? 1 : 0 }),
            ("lessOrEqual", .lessOrEqual, { $0 <= $1 ? 1 : 0 }),
            // Fused activation derivatives: (y, g) ↦ g·σ'(z), g·tanh'(z), relu'(z)·g.
            ("sigmoidBackward", .sigmoidBackward, { y, g in g * y * (1 - y) }),
            ("tanhBackward", .tanhBackward, { y, g in g * (1 - y * y) }),
            ("reluBackward", .reluBackward, { z, g in z > 0 ? g : 0 }),
            ("leakyReLUBackward", .leakyReLUBackward(slope: 0.1), { z, g in z > 0 ? g : S(0.1) * g }),
        ]
    }

    @Test("arithmetic, comparisons and fused backward ops equal the scalar loop",
          arguments: broadcastCases)
    func matchesScalarLoop(_ c: BroadcastCase) {
        Self.check(c, operations: nil)
    }

    @Test("split over threads: the same as the scalar loop, whichever ranges the threads take",
          arguments: splitBroadcastCases)
    func splitMatchesScalarLoop(_ c: BroadcastCase) {
        // The split is the same for every operation: three of them, one per kind.
        Self.check(c, operations: ["add", "maximum", "sigmoidBackward"])
    }

    /// `zip` for `c` against ``referenceZip(_:_:_:_:_:_:)``, for the named operations (all
    /// when nil), in both precisions.
    static func check(_ c: BroadcastCase, operations: Set<String>?) {
        func check<S: KernelScalar>(_: S.Type) {
            let (a, b): ([S], [S]) = zipOperands(c, seed: UInt64(c.shape.reduce(7, *)))
            for (name, op, f) in Self.binaryCases(S.self) where operations?.contains(name) ?? true {
                let got = S.zip(op, a, strides: c.aStrides, b, strides: c.bStrides, shape: c.shape)
                let expected = referenceZip(a, c.aStrides, b, c.bStrides, c.shape, f)
                #expect(got.count == expected.count, "\(name)<\(S.self)> \(c.name)")
                for (i, (x, y)) in zip(got, expected).enumerated() where !same(x, y) {
                    Issue.record("\(name)<\(S.self)> \(c.name): [\(i)] = \(x), expected \(y)")
                    break
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("maximum and minimum propagate NaN from either side")
    func nanPropagation() {
        let a: [Float] = [.nan, 1, 2, .nan]
        let b: [Float] = [1, .nan, 3, .nan]
        for op in [BinaryOp.maximum, .minimum] {
            let got = Float.zip(op, a, strides: [1], b, strides: [1], shape: [4])
            #expect(got[0].isNaN && got[1].isNaN && got[3].isNaN, "\(op): \(got)")
            #expect(got[2] == (op == .maximum ? 3 : 2))
        }
    }
}

// MARK: - zip: power

/// Ulp bound for xᵖ: exact operations for the exponents with fast paths; otherwise
/// exp(p·log|x|), whose error grows with |p·ln|x|| (log's 4 ulp and the rounding of the
/// product are relative errors of the argument of exp, i.e. absolute errors of its
/// result's logarithm).
func powerBound(_ x: Double, _ p: Double, scalarExponent: Bool) -> Double {
    if x == 0 || p == 0 { return 0 }  // 0ᵖ and x⁰ are exact (0, 1 or inf)
    if scalarExponent {
        switch p {
        case 1, 2, 0.5, -1: return 0.5 + 1e-9  // one correctly rounded operation
        case 3: return 1.5  // two roundings
        default: break
        }
    }
    return 6 + 10 * Swift.abs(p * log(Swift.abs(x)))
}

@Suite("zip power against pow")
struct PowerTests {
    /// Measures `zip(.power)` against powl, NaN where pow is NaN.
    func check<S: KernelScalar>(
        _ base: [S], _ exponent: [S], strides: ([Int], [Int]), shape: [Int], label: String
    ) {
        let got = S.zip(.power, base, strides: strides.0, exponent, strides: strides.1, shape: shape)
        let scalarExponent = strides.1.allSatisfy { $0 == 0 }
        var worst = 0.0
        let pairs = referenceZip(base, strides.0, exponent, strides.1, shape) { x, p in (x, p) }
        #expect(got.count == pairs.count)
        for ((x, p), y) in zip(pairs, got) {
            let exact = refPow(Wide(x), Wide(p))
            let rounded = S(exact)
            if exact.isNaN || !rounded.isFinite || rounded == 0 {
                #expect(same(y, rounded), "\(label) pow<\(S.self)>(\(x), \(p)) = \(y), expected \(rounded)")
                continue
            }
            let error = ulpError(y, exact)
            worst = Swift.max(worst, error)
            #expect(error <= powerBound(Double(x), Double(p), scalarExponent: scalarExponent),
                    "\(label) pow<\(S.self)>(\(x), \(p)) = \(y), expected \(rounded): \(error) ulp")
        }
        print("[ulp] power<\(S.self)> \(label): worst \(worst) ulp")
    }

    @Test("scalar exponents 2, 0.5, 3, 1, -1, 0, 4, 5, 1.5, -2.25 (negative base → NaN for non-integers)")
    func scalarExponents() {
        func run<S: KernelScalar>(_: S.Type) {
            var rng = LCG(seed: 31)
            let positive: [S] = rng.values(101, in: 0.1, 10)
            var mixed: [S] = rng.values(101, in: -4, 4)
            mixed += [0, -1, 1, -2, 2, -0.5]
            for p: S in [2, 0.5, 3, 1, -1, 0, 4, 5, 1.5, -2.25] {
                check(positive, [p], strides: ([1], [0]), shape: [positive.count], label: "x > 0, p = \(p)")
                check(mixed, [p], strides: ([1], [0]), shape: [mixed.count], label: "x mixed, p = \(p)")
            }
            // Negative bases: integral exponents keep the sign rule, others are NaN.
            let negative: [S] = [-2, -3, -0.5]
            #expect(S.zip(.power, negative, strides: [1], [3], strides: [0], shape: [3]) == [-8, -27, -0.125])
            #expect(S.zip(.power, negative, strides: [1], [2], strides: [0], shape: [3]) == [4, 9, 0.25])
            for p: S in [0.5, 1.5, -2.25] {
                let got = S.zip(.power, negative, strides: [1], [p], strides: [0], shape: [3])
                #expect(got.allSatisfy { $0.isNaN }, "pow<\(S.self)>(negative, \(p)) = \(got)")
            }
        }
        run(Float.self)
        run(Double.self)
    }

    @Test("elementwise and broadcast exponents, negative bases, zero bases")
    func arrayExponents() {
        func run<S: KernelScalar>(_: S.Type) {
            var rng = LCG(seed: 32)
            // Exponents: integers (odd and even), halves and arbitrary values.
            let base: [S] = (0..<203).map { i in
                i % 11 == 0 ? 0 : S(rng.uniform(-5, 5))
            }
            let exponent: [S] = (0..<203).map { i in
                switch i % 4 {
                case 0: return S(rng.index(below: 9)) - 4
                case 1: return S(rng.index(below: 9)) / 2 - 2
                default: return S(rng.uniform(-3, 3))
                }
            }
            check(base, exponent, strides: ([1], [1]), shape: [203], label: "same shape")
            // [7, 29] bases with a row of exponents and with a column of exponents.
            check(base, Array(exponent.prefix(29)), strides: ([29, 1], [0, 1]), shape: [7, 29],
                  label: "row exponents")
            check(base, Array(exponent.prefix(7)), strides: ([29, 1], [1, 0]), shape: [7, 29],
                  label: "column exponents")
            let zeros: [S] = [0, 0, 0, 0, 0]
            let powers: [S] = [2, 0, -1, 0.5, -0.5]
            #expect(S.zip(.power, zeros, strides: [1], powers, strides: [1], shape: [5])
                    == [0, 1, .infinity, 0, .infinity])
        }
        run(Float.self)
        run(Double.self)
    }
}

// MARK: - Reductions

struct ReduceCase: Sendable, CustomTestStringConvertible {
    let outer: Int, count: Int, inner: Int
    var testDescription: String { "[\(outer), \(count), \(inner)]" }
}

/// Counts that are not multiples of the SIMD widths (16 Floats, 8 Doubles), contiguous
/// rows (inner = 1) and strided columns (inner > 1, with and without a vector tail).
let reduceCases: [ReduceCase] = [
    ReduceCase(outer: 3, count: 37, inner: 1), ReduceCase(outer: 1, count: 101, inner: 1),
    ReduceCase(outer: 2, count: 1, inner: 1), ReduceCase(outer: 4, count: 15, inner: 1),
    ReduceCase(outer: 2, count: 9, inner: 19), ReduceCase(outer: 3, count: 7, inner: 3),
    ReduceCase(outer: 1, count: 33, inner: 17), ReduceCase(outer: 2, count: 5, inner: 16),
    ReduceCase(outer: 1, count: 1, inner: 9),
]

@Suite("Reductions, softmax and argmax against loops")
struct ReductionTests {
    @Test("sum, maximum and minimum over the middle axis", arguments: reduceCases)
    func reduceMatchesLoops(_ c: ReduceCase) {
        func check<S: KernelScalar>(_: S.Type, tolerance: Double) {
            var rng = LCG(seed: UInt64(c.outer * 1000 + c.count * 10 + c.inner))
            let x: [S] = rng.values(c.outer * c.count * c.inner, in: -10, 10)
            let sum = S.reduce(.sum, x, outer: c.outer, count: c.count, inner: c.inner)
            let maximum = S.reduce(.maximum, x, outer: c.outer, count: c.count, inner: c.inner)
            let minimum = S.reduce(.minimum, x, outer: c.outer, count: c.count, inner: c.inner)
            #expect(sum.count == c.outer * c.inner && maximum.count == sum.count && minimum.count == sum.count)
            for o in 0..<c.outer {
                for j in 0..<c.inner {
                    let column = (0..<c.count).map { x[(o * c.count + $0) * c.inner + j] }
                    let total = column.reduce(0.0) { $0 + Double($1) }
                    let magnitude = column.reduce(0.0) { $0 + Swift.abs(Double($1)) }
                    let r = o * c.inner + j
                    #expect(Swift.abs(Double(sum[r]) - total) <= tolerance * magnitude,
                            "sum<\(S.self)>[\(o), \(j)] = \(sum[r]), expected \(total)")
                    #expect(maximum[r] == column.max()!, "maximum<\(S.self)>[\(o), \(j)]")
                    #expect(minimum[r] == column.min()!, "minimum<\(S.self)>[\(o), \(j)]")
                }
            }
        }
        check(Float.self, tolerance: 1e-6)
        check(Double.self, tolerance: 1e-14)
    }

    @Test("sum over an empty axis is 0; maximum and minimum propagate NaN")
    func edgeCases() {
        #expect(Float.reduce(.sum, [], outer: 2, count: 0, inner: 3) == [0, 0, 0, 0, 0, 0])
        func check<S: KernelScalar>(_: S.Type) {
            for (count, inner) in [(37, 1), (5, 19)] {
                var x = [S](repeating: 1, count: count * inner)
                x[count * inner - 1] = .nan  // last element of the last column
                x[0] = .nan  // first element of the first column
                for op in [ReduceOp.maximum, .minimum] {
                    let r = S.reduce(op, x, outer: 1, count: count, inner: inner)
                    #expect(r.first!.isNaN && r.last!.isNaN, "\(op)<\(S.self)> [1, \(count), \(inner)]: \(r)")
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    @Test("argmax picks the first of tied maxima", arguments: [1, 3])
    func argmaxTies(inner: Int) {
        var rng = LCG(seed: 41)
        let (outer, count) = (5, 21)
        // Few distinct values, so that most rows have ties for the maximum.
        let x: [Float] = (0..<(outer * count * inner)).map { _ in Float(rng.index(below: 4)) }
        let got = Kernels.argmax(x, outer: outer, count: count, inner: inner)
        #expect(got.count == outer * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                let column = (0..<count).map { x[(o * count + $0) * inner + j] }
                let expected = column.firstIndex(of: column.max()!)!
                #expect(got[o * inner + j] == expected, "argmax[\(o), \(j)] of \(column)")
            }
        }
        #expect(Kernels.argmax([Double](repeating: 2, count: 6), outer: 1, count: 6, inner: 1) == [0])
        #expect(Kernels.argmax([1, 7, 7, -1] as [Double], outer: 1, count: 4, inner: 1) == [1])
    }
}

// MARK: - Softmax

struct SoftmaxCase: Sendable, CustomTestStringConvertible {
    let outer: Int, count: Int, inner: Int
    var testDescription: String { "[\(outer), \(count), \(inner)]" }
}

@Suite("Softmax against a wide reference")
struct SoftmaxTests {
    static let cases = [SoftmaxCase(outer: 3, count: 10, inner: 1), SoftmaxCase(outer: 2, count: 37, inner: 1),
                        SoftmaxCase(outer: 1, count: 1, inner: 1), SoftmaxCase(outer: 2, count: 5, inner: 7),
                        SoftmaxCase(outer: 3, count: 17, inner: 4)]

    /// Softmax or log-softmax of `x` along the middle axis, in the wide type.
    func reference<S: KernelScalar>(_ x: [S], _ c: SoftmaxCase, log: Bool) -> [Wide] {
        var out = [Wide](repeating: 0, count: x.count)
        for o in 0..<c.outer {
            for j in 0..<c.inner {
                let indices = (0..<c.count).map { (o * c.count + $0) * c.inner + j }
                let largest = indices.map { Wide(x[$0]) }.max()!
                let total = indices.reduce(Wide(0)) { $0 + refExp(Wide(x[$1]) - largest) }
                for i in indices {
                    out[i] = log ? Wide(x[i]) - largest - refLog(total) : refExp(Wide(x[i]) - largest) / total
                }
            }
        }
        return out
    }

    func check<S: KernelScalar>(_ x: [S], _ c: SoftmaxCase, tolerance: Double, label: String) {
        for log in [false, true] {
            let got = S.softmax(x, outer: c.outer, count: c.count, inner: c.inner, log: log)
            let expected = reference(x, c, log: log)
            #expect(got.count == x.count)
            for (i, (y, e)) in zip(got, expected).enumerated() {
                #expect(y.isFinite, "softmax<\(S.self)> \(label) log=\(log): [\(i)] = \(y)")
                // Relative to the value for probabilities, to max(1, |value|) for logs.
                let scale = log ? Swift.max(1, Swift.abs(e)) : Swift.abs(e) + Wide(S.leastNormalMagnitude)
                let error = Double(Swift.abs(Wide(y) - e) / scale)
                #expect(error <= tolerance,
                        "softmax<\(S.self)> \(label) log=\(log): [\(i)] = \(y), expected \(e)")
            }
            if !log {
                // Each slice sums to one.
                for o in 0..<c.outer {
                    for j in 0..<c.inner {
                        let total = (0..<c.count).reduce(0.0) { $0 + Double(got[(o * c.count + $1) * c.inner + j]) }
                        #expect(Swift.abs(total - 1) <= Double(c.count) * tolerance)
                    }
                }
            }
        }
    }

    @Test("softmax and log-softmax, Float ≤ 2e-6 and Double ≤ 5e-15 relative", arguments: cases)
    func matchesReference(_ c: SoftmaxCase) {
        var rng = LCG(seed: UInt64(c.outer * 100 + c.count * 10 + c.inner))
        let values = (0..<(c.outer * c.count * c.inner)).map { _ in rng.uniform(-6, 6) }
        check(values.map { Float($0) }, c, tolerance: 2e-6, label: "random")
        check(values.map { Double($0) }, c, tolerance: 5e-15, label: "random")
    }

    /// Inputs around ±1000 overflow a naive exp; the shifted kernel must stay finite.
    @Test("large inputs (±1000) give finite, correct results", arguments: [1, 3])
    func stability(inner: Int) {
        let c = SoftmaxCase(outer: 2, count: 6, inner: inner)
        let pattern: [Double] = [1000, 999, 1000, -1000, 0, 998.5]
        var values: [Double] = []
        for o in 0..<c.outer {
            for k in 0..<c.count {
                for j in 0..<inner { values.append(pattern[(k + o + j) % pattern.count] + Double(j)) }
            }
        }
        check(values.map { Float($0) }, c, tolerance: 2e-6, label: "large")
        check(values, c, tolerance: 5e-15, label: "large")
        // Every entry equal to 1000: the uniform distribution.
        let flat = Float.softmax([Float](repeating: 1000, count: 5), outer: 1, count: 5, inner: 1, log: false)
        #expect(flat.allSatisfy { Swift.abs($0 - 0.2) <= 1e-7 }, "\(flat)")
    }
}

// MARK: - Data movement

@Suite("transpose, gatherRows and concatenate against loops")
struct MovementTests {
    @Test("transpose of [rows, columns] (across the 32-element blocks)",
          arguments: [(37, 70), (1, 5), (5, 1), (32, 32), (33, 31), (0, 4)])
    func transpose(rows: Int, columns: Int) {
        let x = (0..<(rows * columns)).map { $0 * 3 + 1 }
        let got = Kernels.transpose(x, rows: rows, columns: columns)
        var expected = [Int](repeating: -1, count: x.count)
        for i in 0..<rows { for j in 0..<columns { expected[j * rows + i] = x[i * columns + j] } }
        #expect(got == expected)
        let doubles = x.map { Double($0) / 7 }
        #expect(Kernels.transpose(doubles, rows: rows, columns: columns) == expected.map { Double($0) / 7 })
    }

    @Test("gatherRows with repeated, reordered and no indices")
    func gatherRows() {
        let rowLength = 5
        let x = (0..<(6 * rowLength)).map { Float($0) + 0.5 }
        for indices in [[5, 0, 0, 3, 5], [2], [], [0, 1, 2, 3, 4, 5]] {
            let got = Kernels.gatherRows(x, rowLength: rowLength, indices: indices)
            let expected = indices.flatMap { r in (0..<rowLength).map { x[r * rowLength + $0] } }
            #expect(got == expected, "indices \(indices)")
        }
        let doubles = (0..<12).map { Double($0) }
        #expect(Kernels.gatherRows(doubles, rowLength: 1, indices: [11, 3]) == [11, 3])
    }

    @Test("concatenate along the middle axis, empty parts included",
          arguments: [(3, [2, 0, 5, 1], 4), (1, [3, 2], 1), (4, [1, 1, 1], 1), (2, [0, 3], 6)])
    func concatenate(outer: Int, middles: [Int], inner: Int) {
        var next = 0
        let parts: [[Int]] = middles.map { middle in
            (0..<(outer * middle * inner)).map { _ in next += 1; return next }
        }
        let got = Kernels.concatenate(parts, outer: outer, middles: middles, inner: inner)
        var expected: [Int] = []
        for o in 0..<outer {
            for (part, middle) in zip(parts, middles) {
                expected += part[(o * middle * inner)..<((o + 1) * middle * inner)]
            }
        }
        #expect(got == expected)
    }
}
