// Products split over two threads (ProductSplit.swift, CKernels' pair.c): the same bits
// as one BLAS call, for sizes that do not divide evenly and every transposition, and
// correct products through the public GEMM path at the sizes where the split is used.

import Dispatch
import Synchronization
import Testing
@testable import Kernels
import CBLAS

@Suite("Products split over two threads")
struct ProductSplitTests {
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

    @Test("other products split along C's longer side, with two BLAS threads exactly, from 2¹⁸ multiply-adds")
    func productSplitDecision() {
        func shape(_ m: Int, _ n: Int, _ k: Int) -> GEMMShape {
            GEMMShape(transposeA: false, transposeB: false, m: m, n: n, k: k, aCount: m * k, bCount: n * k, cCount: m * n)
        }
        #expect(Kernels.productSplit(shape(64, 256, 784), threads: 2) == .columns(boundary: 128))
        #expect(Kernels.productSplit(shape(1000, 300, 784), threads: 2) == .rows(boundary: 504))
        #expect(Kernels.productSplit(shape(256, 784, 64), threads: 2) == .columns(boundary: 392))
        #expect(Kernels.productSplit(shape(64, 256, 784), threads: 1) == nil)
        #expect(Kernels.productSplit(shape(64, 256, 784), threads: 4) == nil)
        #expect(Kernels.productSplit(shape(64, 64, 63), threads: 2) == nil)      // 258 048 < 2¹⁸
        #expect(Kernels.productSplit(shape(64, 64, 64), threads: 2) == .columns(boundary: 32))
        #expect(Kernels.productSplit(shape(31, 31, 1000), threads: 2) == nil)    // both sides under 32
        #expect(Kernels.productSplit(shape(1, 300, 784), threads: 2) == nil)     // one row, W not transposed
        let oneRow = GEMMShape(transposeA: false, transposeB: true, m: 1, n: 300, k: 784,
                               aCount: 784, bCount: 300 * 784, cCount: 300)
        #expect(Kernels.productSplit(oneRow, threads: 4) == .columns(boundary: 152))
    }

    /// C = alpha·op(A)·op(B) + beta·C through the two blocks of `split`, against the
    /// naive loops: the worst error relative to each entry's magnitude.
    static func splitProductError<S: KernelScalar>(
        _: S.Type, _ shape: GEMMCase, _ t: Transposition, split: Kernels.ProductSplit, seed: UInt64,
        gemm: @escaping (Int32, Int32, Int32, Int32, Int32, S, UnsafePointer<S>?, Int32, UnsafePointer<S>?, Int32, S,
                         UnsafeMutablePointer<S>?, Int32) -> Void
    ) -> Double {
        let (m, n, k) = (shape.m, shape.n, shape.k)
        var rng = LCG(seed: seed)
        let a: [S] = rng.values(m * k, in: -1, 1), b: [S] = rng.values(k * n, in: -1, 1)
        let c0: [S] = rng.values(m * n, in: -1, 1)
        let g = GEMMShape(transposeA: t.a, transposeB: t.b, m: m, n: n, k: k, aCount: a.count, bCount: b.count, cCount: c0.count)
        let (alpha, beta): (S, S) = (-1.25, 0.75)
        var c = c0
        c.withUnsafeMutableBufferPointer { cp in
            Kernels.productBlocks(g, a, b, into: cp.baseAddress!, split: split) { rows, columns, a, b, c in
                gemm(g.ta, g.tb, rows, columns, g.k, alpha, a, g.lda, b, g.ldb, beta, c, g.ldc)
            }
        }
        let reference = naiveGEMM(transposeA: t.a, transposeB: t.b, m: m, n: n, k: k, alpha: Double(alpha),
                                  a: a.map(Double.init), b: b.map(Double.init), beta: Double(beta), c: c0.map(Double.init))
        var worst = 0.0
        for i in 0..<(m * n) {
            let error = Swift.abs(Double(c[i]) - reference.values[i]) / reference.magnitudes[i]
            worst = error.isNaN ? .infinity : max(worst, error)
        }
        return worst
    }

    @Test("split by rows or by columns at any point: every block right, every transposition",
          arguments: [GEMMCase(m: 37, n: 91, k: 53), GEMMCase(m: 100, n: 33, k: 129)], GEMMTests.transpositions)
    func splitBlocks(shape: GEMMCase, t: Transposition) {
        let seed = UInt64(shape.m * 10_000 + shape.n * 100 + shape.k)
        for split in [Kernels.ProductSplit.rows(boundary: shape.m / 2), .columns(boundary: (shape.n / 2 + 4) / 8 * 8),
                      .rows(boundary: 1), .columns(boundary: shape.n - 1)] {
            let float = Self.splitProductError(Float.self, shape, t, split: split, seed: seed, gemm: backprop_sgemm)
            #expect(float <= 1e-5, "Float \(split): relative error \(float)")
            let double = Self.splitProductError(Double.self, shape, t, split: split, seed: seed, gemm: backprop_dgemm)
            #expect(double <= 1e-12, "Double \(split): relative error \(double)")
        }
    }

    @Test("a split product gives the same bits whether the helper thread or the caller runs the second block")
    func splitSameBitsWhenHelperBusy() {
        // Eight callers at once: the helper serves one, the others run both blocks in turn.
        let (m, n, k) = (96, 200, 130)
        var rng = LCG(seed: 5)
        let a: [Float] = rng.values(m * k, in: -1, 1), b: [Float] = rng.values(n * k, in: -1, 1)
        let g = GEMMShape(transposeA: false, transposeB: true, m: m, n: n, k: k, aCount: a.count, bCount: b.count, cCount: m * n)
        @Sendable func run() -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            c.withUnsafeMutableBufferPointer { cp in
                Kernels.productBlocks(g, a, b, into: cp.baseAddress!, split: .columns(boundary: 104)) { rows, columns, a, b, c in
                    backprop_sgemm(g.ta, g.tb, rows, columns, g.k, 1, a, g.lda, b, g.ldb, 0, c, g.ldc)
                }
            }
            return c
        }
        let expected = run()
        let mismatches = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<20 where run() != expected { mismatches.add(1, ordering: .relaxed) }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }

    @Test("Float and Double products of split size through the public path agree with the naive loop",
          arguments: [GEMMCase(m: 64, n: 256, k: 100), GEMMCase(m: 300, n: 40, k: 70), GEMMCase(m: 33, n: 129, k: 65)],
          GEMMTests.transpositions)
    func splitPublicPath(shape: GEMMCase, t: Transposition) {
        let seed = UInt64(shape.m * 10_000 + shape.n * 100 + shape.k)
        _ = checkGEMM(Float.self, shape, t, tolerance: 1e-5, seed: seed)
        _ = checkGEMM(Double.self, shape, t, tolerance: 1e-12, seed: seed)
    }

    @Test("a dense layer's X·Wᵀ + b: each block starts as its bias; the same bits as the bias filled whole, then the product",
          // Split by rows, by columns, and one row by outputs (each just large enough), then unsplit and k = 0.
          arguments: [GEMMCase(m: 300, n: 40, k: 22), GEMMCase(m: 64, n: 256, k: 16), GEMMCase(m: 1, n: 128, k: 512),
                      GEMMCase(m: 5, n: 3, k: 4), GEMMCase(m: 6, n: 9, k: 0)])
    func linear(shape: GEMMCase) {
        func check<S: KernelScalar>(_: S.Type, tolerance: Double) {
            let (m, n, k) = (shape.m, shape.n, shape.k)
            var rng = LCG(seed: UInt64(m * 1000 + n + k))
            let x: [S] = rng.values(m * k, in: -1, 1), weight: [S] = rng.values(n * k, in: -1, 1)
            let bias: [S] = rng.values(n, in: -1, 1)
            for withBias in [true, false] {
                let b = withBias ? bias : nil
                var into: [S] = rng.values(m * n, in: -5, 5)   // overwritten whole
                S.linear(x, weight: weight, bias: b, m: m, n: n, k: k, into: &into)
                let fresh = S.linear(x, weight: weight, bias: b, m: m, n: n, k: k)
                // The former way: every row the bias, then the product added (beta = 1).
                var former = (0..<(m * n)).map { withBias ? bias[$0 % n] : 0 }
                S.gemm(transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 1, a: x, b: weight,
                       beta: withBias ? 1 : 0, c: &former)
                #expect(into == former && fresh == former, "\(S.self) \(shape) bias \(withBias)")
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = withBias ? Double(bias[j]) : 0, magnitude = Swift.abs(sum)
                        for p in 0..<k {
                            sum += Double(x[i * k + p]) * Double(weight[j * k + p])
                            magnitude += Swift.abs(Double(x[i * k + p]) * Double(weight[j * k + p]))
                        }
                        let error = Swift.abs(Double(fresh[i * n + j]) - sum) / Swift.max(magnitude, 1e-30)
                        if error > tolerance {
                            Issue.record("\(S.self) \(shape) bias \(withBias): C[\(i), \(j)] = \(fresh[i * n + j]), expected \(sum)")
                            return
                        }
                    }
                }
            }
        }
        check(Float.self, tolerance: 1e-5)
        check(Double.self, tolerance: 1e-12)
    }

    @Test("a data-parallel step's shares run alone on their threads and leave the thread count other threads see",
          .enabled(if: BLAS.threadCount == 2, "BLAS on two threads, the default on a 2-core machine"))
    func sharesLeaveTheThreadCount() {
        let changed = Atomic(0), samples = Atomic(0), stop = Atomic(false)
        let group = DispatchGroup(), started = DispatchSemaphore(value: 0)
        DispatchQueue.global().async(group: group) {
            started.signal()
            while !stop.load(ordering: .relaxed) {
                if BLAS.threadCount != 2 { changed.add(1, ordering: .relaxed) }
                samples.add(1, ordering: .relaxed)
            }
        }
        started.wait()
        let notAlone = Atomic(0)
        var rounds = 0
        while rounds < 2000 || samples.load(ordering: .relaxed) < 10_000 {
            rounds += 1
            Kernels.runShares(2) { _ in
                if backprop_blas_get_threads() != 1 || backprop_blas_alone_here() != 1 { notAlone.add(1, ordering: .relaxed) }
                // A share's loop runs on its own thread.
                Kernels.parallelFor(1 << 20, work: 1) { range in
                    if range != 0..<(1 << 20) { notAlone.add(1, ordering: .relaxed) }
                }
            }
        }
        stop.store(true, ordering: .relaxed)
        group.wait()
        #expect(notAlone.load(ordering: .relaxed) == 0)
        #expect(samples.load(ordering: .relaxed) > 0)
        #expect(changed.load(ordering: .relaxed) == 0, "another thread saw the thread count change while shares ran")
        #expect(backprop_blas_alone_here() == 0 && BLAS.threadCount == 2, "the calling thread is itself again")
    }
}
