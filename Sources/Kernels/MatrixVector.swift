import CBLAS
import CKernels

extension Kernels {
    /// The smallest weight matrix, in elements, whose product with one row is split over
    /// two threads (256 KiB of Float): below it the handoff costs more than it saves
    /// (measured on a 2-core EPYC: 128×512 from 3.2 to 2.7 µs, but 64×512 from 1.6 to 2.0).
    static let rowSplitThreshold = 1 << 16

    /// Whether the one-row product `x·Wᵀ` (`[1, k]·[n, k]ᵀ`, a Dense layer's forward pass
    /// for one example) is split by output over two threads, given BLAS's thread count:
    /// when there are two threads or more and `W` is large. Each thread then reads only
    /// its half of `W`, and since the same half goes to the same thread at every call, it
    /// stays in that core's L2 cache (512 KiB on an AMD EPYC core: 784×300 Float weights
    /// do not fit in one, their halves do).
    static func splitsRows(_ shape: GEMMShape, threads: Int) -> Bool {
        shape.m == 1 && shape.tb == 1 && shape.n >= 16 && Int(shape.n) * Int(shape.k) >= rowSplitThreshold
            && threads >= 2
    }

    /// A fresh product C = op(A)·op(B) of `shape` (zeros when k = 0) through `gemm`
    /// (``productBlocks(_:_:_:into:gemm:)``).
    static func product<S: KernelScalar>(
        _ shape: GEMMShape, _ a: [S], _ b: [S],
        gemm: (_ count: Int, _ a: UnsafePointer<S>?, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>) -> Void
    ) -> [S] {
        let size = Int(shape.m) * Int(shape.n)
        guard shape.hasWork else { return S.filled(0, count: size) }
        return [S](unsafeUninitializedCapacity: size) { c, initialized in
            productBlocks(shape, a, b, into: c.baseAddress!, gemm: gemm)
            initialized = size
        }
    }

    /// Runs `gemm` (the precision's BLAS call, writing `count` columns of C from the given
    /// column of B and C on) over ``productColumns(_:_:)``'s column blocks of C at `c`.
    static func productBlocks<S: KernelScalar>(
        _ shape: GEMMShape, _ a: [S], _ b: [S], into c: UnsafeMutablePointer<S>,
        gemm: (_ count: Int, _ a: UnsafePointer<S>?, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>) -> Void
    ) {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                productColumns(shape) { first, count in
                    gemm(count, ap.baseAddress, bp.baseAddress! + first * Int(shape.ldb), c + first)
                }
            }
        }
    }

    static func productColumns(_ shape: GEMMShape, _ product: (_ first: Int, _ count: Int) -> Void) {
        let threads = backprop_blas_get_threads()
        guard splitsRows(shape, threads: Int(threads)) else { return product(0, Int(shape.n)) }
        backprop_blas_set_threads(1)
        defer { backprop_blas_set_threads(threads) }
        splittingRows(Int(shape.n), product)
    }

    /// Runs `product(first, count)` over `0..<n` in two ranges, the first on this thread
    /// and the second on CKernels' helper thread (`backprop_pair_run`), or both here when
    /// the helper is serving another caller. The ranges meet at a multiple of 8, so a
    /// one-row product split by rows of `W` computes each output as the same dot product,
    /// with the same BLAS kernel, as one call does: the result is the same bit for bit.
    static func splittingRows(_ n: Int, _ product: (_ first: Int, _ count: Int) -> Void) {
        let boundary = min(n, (n / 2 + 7) / 8 * 8)
        let ran = withoutActuallyEscaping(product) { product in
            var share: (Int32) -> Void = { $0 == 0 ? product(0, boundary) : product(boundary, n - boundary) }
            return withUnsafeMutablePointer(to: &share) { context in
                backprop_pair_run({ context, share in
                    context!.assumingMemoryBound(to: ((Int32) -> Void).self).pointee(share)
                }, context)
            }
        }
        if ran != 0 { product(0, n) }
    }
}
