// The one-row product split over two threads (MatrixVector.swift, CKernels' pair.c):
// the same bits as one BLAS call, for sizes that do not divide evenly, and correct
// products through the public GEMM path at the sizes where the split is used.

import Dispatch
import Synchronization
import Testing
@testable import Kernels
import CBLAS

@Suite("One-row products split over two threads")
struct MatrixVectorTests {
    /// `x·Wᵀ` for `x` `[1, k]`, `W` `[n, k]`: C = alpha·x·Wᵀ + beta·C, through
    /// `product(first, count)` calls over output ranges.
    static func rowProduct(n: Int, k: Int, seed: UInt64,
                           _ run: (_ n: Int, _ product: (Int, Int) -> Void) -> Void) -> (c: [Float], reference: [Float]) {
        var rng = LCG(seed: seed)
        let w: [Float] = rng.values(n * k, in: -1, 1)
        let x: [Float] = rng.values(k, in: -1, 1)
        let c0: [Float] = rng.values(n, in: -1, 1)
        func call(_ c: UnsafeMutablePointer<Float>, _ first: Int, _ count: Int) {
            w.withUnsafeBufferPointer { wp in
                backprop_sgemm(0, 1, 1, Int32(count), Int32(k), -1.25, x, Int32(k),
                               wp.baseAddress! + first * k, Int32(k), 0.75, c + first, Int32(n))
            }
        }
        var reference = c0
        reference.withUnsafeMutableBufferPointer { call($0.baseAddress!, 0, n) }
        var c = c0
        c.withUnsafeMutableBufferPointer { cp in run(n) { call(cp.baseAddress!, $0, $1) } }
        return (c, reference)
    }

    // Under 9216 elements (OpenBLAS's threading threshold) a GEMV runs on the calling
    // thread whatever BLAS's thread count, which other tests change meanwhile, so the
    // one-call reference is the single-threaded product the split must reproduce.
    @Test("the same bits as one call, for sizes the split point does not divide",
          arguments: [(16, 9), (17, 541), (37, 241), (91, 101), (13, 700), (100, 91), (8, 1), (1, 5000)])
    func sameBits(n: Int, k: Int) {
        let (c, reference) = Self.rowProduct(n: n, k: k, seed: UInt64(n * 1000 + k)) { n, product in
            Kernels.splittingRows(n, product)
        }
        #expect(c == reference, "n=\(n) k=\(k)")
    }

    @Test("callers on several threads at once (the helper serves one, the others run alone)")
    func concurrentCallers() {
        let mismatches = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for round in 0..<50 {
                let (c, reference) = Self.rowProduct(n: 91, k: 101, seed: UInt64(caller * 100 + round)) { n, product in
                    Kernels.splittingRows(n, product)
                }
                if c != reference { mismatches.add(1, ordering: .relaxed) }
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }

    @Test("split only for one row of x·Wᵀ with W of 2¹⁶ elements or more, and two threads")
    func splitDecision() {
        func shape(_ m: Int, _ n: Int, _ k: Int, transposeB: Bool = true) -> GEMMShape {
            GEMMShape(transposeA: false, transposeB: transposeB, m: m, n: n, k: k,
                      aCount: m * k, bCount: n * k, cCount: m * n)
        }
        #expect(Kernels.splitsRows(shape(1, 300, 784), threads: 2))
        #expect(Kernels.splitsRows(shape(1, 256, 256), threads: 4))
        #expect(!Kernels.splitsRows(shape(1, 300, 784), threads: 1))
        #expect(!Kernels.splitsRows(shape(2, 300, 784), threads: 2))
        #expect(!Kernels.splitsRows(shape(1, 300, 784, transposeB: false), threads: 2))
        #expect(!Kernels.splitsRows(shape(1, 255, 256), threads: 2))
        #expect(!Kernels.splitsRows(shape(1, 8, 10_000), threads: 2))
    }

    /// Through Float.gemm, Float.product and Double.gemm at the sizes that split when BLAS
    /// has two threads (its default on a 2-core machine; other tests may change it
    /// meanwhile, and either way the product must be right), against the naive loop.
    @Test("Float and Double one-row products of split size agree with the naive loop",
          arguments: [GEMMCase(m: 1, n: 300, k: 784), GEMMCase(m: 1, n: 257, k: 301), GEMMCase(m: 1, n: 1001, k: 67)])
    func publicPath(shape: GEMMCase) {
        let t = Transposition(a: false, b: true)
        _ = checkGEMM(Float.self, shape, t, tolerance: 1e-5, seed: UInt64(shape.n * 1000 + shape.k))
        _ = checkGEMM(Double.self, shape, t, tolerance: 1e-12, seed: UInt64(shape.n * 1000 + shape.k))
        var rng = LCG(seed: 7)
        let x: [Float] = rng.values(shape.k, in: -1, 1), w: [Float] = rng.values(shape.n * shape.k, in: -1, 1)
        let c = Float.product(transposeA: false, transposeB: true, m: 1, n: shape.n, k: shape.k, a: x, b: w)
        let reference = naiveGEMM(transposeA: false, transposeB: true, m: 1, n: shape.n, k: shape.k, alpha: 1,
                                  a: x.map(Double.init), b: w.map(Double.init), beta: 0,
                                  c: [Double](repeating: 0, count: shape.n))
        for j in 0..<shape.n {
            #expect(Swift.abs(Double(c[j]) - reference.values[j]) <= 1e-5 * reference.magnitudes[j], "C[0, \(j)]")
        }
    }
}
