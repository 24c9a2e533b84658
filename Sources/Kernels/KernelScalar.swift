import CBLAS

/// A floating-point type the kernels compute in: `Float` or `Double`.
///
/// Each requirement is one whole-array kernel, implemented once generically and
/// specialised for each type in this module, so that code generic over the scalar pays
/// one dynamic call per kernel, never one per element.
public protocol KernelScalar: BinaryFloatingPoint, SIMDScalar, BitwiseCopyable, Sendable,
    CustomStringConvertible, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
    /// The widest SIMD vector the kernels use for this type.
    associatedtype Vector: SIMD where Vector.Scalar == Self
    /// Integers with the same lane count and width, for bit manipulation.
    associatedtype Bits: SIMD where Bits.Scalar: FixedWidthInteger & SignedInteger

    /// Row-major `C = alpha·op(A)·op(B) + beta·C`, with `op(A)` m×k and `op(B)` k×n.
    /// A stored transposed is read as such, without a copy. Costs 2·m·n·k flops.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: [Self], b: [Self], beta: Self, c: inout [Self])

    /// `out[i] = op(x[i])`.
    static func map(_ op: UnaryOp, _ x: [Self]) -> [Self]

    /// `out[i] = op(a[·], b[·])` over `shape`, each operand read through its own strides
    /// (0 along broadcast dimensions).
    static func zip(
        _ op: BinaryOp, _ a: [Self], strides aStrides: [Int], _ b: [Self],
        strides bStrides: [Int], shape: [Int]) -> [Self]

    /// Reduces the middle axis of an `[outer, count, inner]` array to `[outer, inner]`.
    static func reduce(_ op: ReduceOp, _ x: [Self], outer: Int, count: Int, inner: Int) -> [Self]

    /// Softmax (or log-softmax) along the middle axis of `[outer, count, inner]`,
    /// stable for large inputs (the maximum is subtracted first).
    static func softmax(_ x: [Self], outer: Int, count: Int, inner: Int, log: Bool) -> [Self]

    // Bit-level pieces of the vector maths, per type.
    static var mantissaBits: Int { get }
    static var exponentBias: Int { get }
    /// ln 2 = ln2High + ln2Low, with few enough bits in ln2High that n·ln2High is exact
    /// for every exponent n of this type.
    static var ln2High: Self { get }
    static var ln2Low: Self { get }
    /// Polynomial coefficients of (eʳ − 1 − r)/r², highest degree first, |r| ≤ ln2/2.
    static var expm1Coefficients: [Self] { get }
    /// Coefficients of the odd series 2·atanh(s) = 2(s + s³/3 + …), as c₁…, used by log.
    static var atanhCoefficients: [Self] { get }
    /// `x` scaled by 2ⁿ (n integral, within the normal exponent range).
    static func scaleByPowerOfTwo(_ x: Vector, _ n: Vector) -> Vector
    /// Splits positive normal `x` into `m·2ᵉ` with m in [1, 2).
    static func decompose(_ x: Vector) -> (mantissa: Vector, exponent: Vector)
}

extension Float: KernelScalar {
    public typealias Vector = SIMD16<Float>
    public typealias Bits = SIMD16<Int32>

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: [Float], b: [Float], beta: Float, c: inout [Float]
    ) {
        let shape = GEMMShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              aCount: a.count, bCount: b.count, cCount: c.count)
        guard shape.hasWork else { return Kernels.scaleEmptyProduct(&c, beta: beta, k: k) }
        c.withUnsafeMutableBufferPointer { cp in
            backprop_sgemm(shape.ta, shape.tb, shape.m, shape.n, shape.k, alpha, a, shape.lda,
                           b, shape.ldb, beta, cp.baseAddress, shape.ldc)
        }
    }
    public static func map(_ op: UnaryOp, _ x: [Float]) -> [Float] { Kernels.map(op, x) }
    public static func zip(
        _ op: BinaryOp, _ a: [Float], strides aStrides: [Int], _ b: [Float],
        strides bStrides: [Int], shape: [Int]
    ) -> [Float] { Kernels.zip(op, a, aStrides, b, bStrides, shape) }
    public static func reduce(_ op: ReduceOp, _ x: [Float], outer: Int, count: Int, inner: Int)
        -> [Float] { Kernels.reduce(op, x, outer, count, inner) }
    public static func softmax(_ x: [Float], outer: Int, count: Int, inner: Int, log: Bool)
        -> [Float] { Kernels.softmax(x, outer, count, inner, log) }

    public static var mantissaBits: Int { 23 }
    public static var exponentBias: Int { 127 }
    public static var ln2High: Float { 0.693359375 }
    public static var ln2Low: Float { -2.12194440e-4 }
    public static let expm1Coefficients: [Float] = taylorExpCoefficients(degree: 8)
    public static let atanhCoefficients: [Float] = atanhSeries(terms: 6)
    @inline(__always)
    public static func scaleByPowerOfTwo(_ x: Vector, _ n: Vector) -> Vector {
        let shift = (Bits(n, rounding: .towardZero) &+ 127) &<< 23
        return x * unsafeBitCast(SIMD16<UInt32>(truncatingIfNeeded: shift), to: Vector.self)
    }
    @inline(__always)
    public static func decompose(_ x: Vector) -> (mantissa: Vector, exponent: Vector) {
        let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
        let exponent = Bits(truncatingIfNeeded: bits &>> 23) &- 127
        let mantissa = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: Vector.self)
        return (mantissa, Vector(exponent))
    }
}

extension Double: KernelScalar {
    public typealias Vector = SIMD8<Double>
    public typealias Bits = SIMD8<Int64>

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: [Double], b: [Double], beta: Double, c: inout [Double]
    ) {
        let shape = GEMMShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              aCount: a.count, bCount: b.count, cCount: c.count)
        guard shape.hasWork else { return Kernels.scaleEmptyProduct(&c, beta: beta, k: k) }
        c.withUnsafeMutableBufferPointer { cp in
            backprop_dgemm(shape.ta, shape.tb, shape.m, shape.n, shape.k, alpha, a, shape.lda,
                           b, shape.ldb, beta, cp.baseAddress, shape.ldc)
        }
    }
    public static func map(_ op: UnaryOp, _ x: [Double]) -> [Double] { Kernels.map(op, x) }
    public static func zip(
        _ op: BinaryOp, _ a: [Double], strides aStrides: [Int], _ b: [Double],
        strides bStrides: [Int], shape: [Int]
    ) -> [Double] { Kernels.zip(op, a, aStrides, b, bStrides, shape) }
    public static func reduce(_ op: ReduceOp, _ x: [Double], outer: Int, count: Int, inner: Int)
        -> [Double] { Kernels.reduce(op, x, outer, count, inner) }
    public static func softmax(_ x: [Double], outer: Int, count: Int, inner: Int, log: Bool)
        -> [Double] { Kernels.softmax(x, outer, count, inner, log) }

    public static var mantissaBits: Int { 52 }
    public static var exponentBias: Int { 1023 }
    public static var ln2High: Double { 6.93147180369123816490e-01 }
    public static var ln2Low: Double { 1.90821492927058770002e-10 }
    public static let expm1Coefficients: [Double] = taylorExpCoefficients(degree: 14)
    public static let atanhCoefficients: [Double] = atanhSeries(terms: 12)
    @inline(__always)
    public static func scaleByPowerOfTwo(_ x: Vector, _ n: Vector) -> Vector {
        let shift = (Bits(n, rounding: .towardZero) &+ 1023) &<< 52
        return x * unsafeBitCast(SIMD8<UInt64>(truncatingIfNeeded: shift), to: Vector.self)
    }
    @inline(__always)
    public static func decompose(_ x: Vector) -> (mantissa: Vector, exponent: Vector) {
        let bits = unsafeBitCast(x, to: SIMD8<UInt64>.self)
        let exponent = Bits(truncatingIfNeeded: bits &>> 52) &- 1023
        let mantissa = unsafeBitCast((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000, to: Vector.self)
        return (mantissa, Vector(exponent))
    }
}

/// Taylor coefficients 1/j! for j = degree…2, highest first: (eʳ − 1 − r)/r² = Σ rʲ⁻²/j!.
func taylorExpCoefficients<S: BinaryFloatingPoint>(degree: Int) -> [S] {
    var factorial = 1.0
    var coefficients: [Double] = []
    for j in 1...degree {
        factorial *= Double(j)
        if j >= 2 { coefficients.append(1 / factorial) }
    }
    return coefficients.reversed().map { S($0) }
}

/// 2/(2j+1) for j = terms−1…0, highest first: 2·atanh(s) = s·Σ 2/(2j+1)·s²ʲ.
func atanhSeries<S: BinaryFloatingPoint>(terms: Int) -> [S] {
    (0..<terms).reversed().map { S(2.0 / Double(2 * $0 + 1)) }
}

/// Validated GEMM arguments: counts checked against the shape, leading dimensions of
/// row-major storage.
struct GEMMShape {
    let ta: Int32, tb: Int32, m: Int32, n: Int32, k: Int32
    let lda: Int32, ldb: Int32, ldc: Int32
    let hasWork: Bool

    init(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
         aCount: Int, bCount: Int, cCount: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        precondition(aCount == m * k, "gemm: A has \(aCount) elements, op(A) is [\(m), \(k)]")
        precondition(bCount == k * n, "gemm: B has \(bCount) elements, op(B) is [\(k), \(n)]")
        precondition(cCount == m * n, "gemm: C has \(cCount) elements, C is [\(m), \(n)]")
        precondition(max(m, n, k) <= Int(Int32.max), "gemm: size exceeds the BLAS integer range")
        BLAS.ensureReady()
        ta = transposeA ? 1 : 0
        tb = transposeB ? 1 : 0
        self.m = Int32(m); self.n = Int32(n); self.k = Int32(k)
        lda = Int32(max(1, transposeA ? m : k))
        ldb = Int32(max(1, transposeB ? k : n))
        ldc = Int32(max(1, n))
        hasWork = m > 0 && n > 0 && k > 0
    }
}
