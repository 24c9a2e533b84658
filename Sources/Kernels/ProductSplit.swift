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
        gemm: (_ m: Int32, _ n: Int32, _ a: UnsafePointer<S>?, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>) -> Void
    ) -> [S] {
        let size = Int(shape.m) * Int(shape.n)
        guard shape.hasWork else { return S.filled(0, count: size) }
        return [S](unsafeUninitializedCapacity: size) { c, initialized in
            productBlocks(shape, a, b, into: c.baseAddress!, gemm: gemm)
            initialized = size
        }
    }

    /// `C = X·Wᵀ + b` through `gemm` (the precision's BLAS call with beta = 1 when there is
    /// a bias, 0 when not), each block of ``productBlocks(_:_:_:into:gemm:)`` filled with
    /// its columns' bias just before its product, on the thread that computes it. Each
    /// element gets the same operations as a whole-C bias fill followed by the same
    /// blocks' products, so the result is the same bit for bit.
    static func linear<S: KernelScalar>(
        _ shape: GEMMShape, _ x: [S], _ weight: [S], _ bias: [S]?, into base: UnsafeMutablePointer<S>,
        gemm: (_ m: Int32, _ n: Int32, _ a: UnsafePointer<S>?, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>) -> Void
    ) {
        let (m, n, ldc) = (Int(shape.m), Int(shape.n), Int(shape.ldc))
        if let bias { checkPrecondition(bias.count == n, "linear: \(bias.count) biases for \(n) outputs") }
        func run(bias: UnsafePointer<S>?) {
            // The block's rows, each its columns' bias (zeros without one, where k = 0).
            func fill(_ block: UnsafeMutablePointer<S>, rows: Int, columns: Int) {
                let first = (block - base) % ldc
                for row in 0..<rows {
                    if let bias {
                        (block + row * ldc).update(from: bias + first, count: columns)
                    } else {
                        (block + row * ldc).update(repeating: 0, count: columns)
                    }
                }
            }
            guard shape.hasWork else { return fill(base, rows: m, columns: n) }
            productBlocks(shape, x, weight, into: base) { rows, columns, a, b, block in
                if bias != nil { fill(block, rows: Int(rows), columns: Int(columns)) }
                gemm(rows, columns, a, b, block)
            }
        }
        if let bias { bias.withUnsafeBufferPointer { run(bias: $0.baseAddress) } } else { run(bias: nil) }
    }

    /// How a product is split over two threads: C's columns, or its rows, in two ranges
    /// that meet at `boundary`.
    enum ProductSplit: Equatable {
        case columns(boundary: Int)
        case rows(boundary: Int)
    }

    /// The least work, m·n·k, of a product of two rows or more that is split over two
    /// threads: OpenBLAS runs smaller ones on one thread, as the split would gain less
    /// than the handoff costs.
    static let productSplitMinimum = 1 << 18

    /// Whether and how a product of `shape` is split over two threads, given BLAS's
    /// thread count:
    /// - a one-row product `x·Wᵀ` with a large `W` (``splitsRows(_:threads:)``), by
    ///   output, whenever there are two threads or more;
    /// - any other product of ``productSplitMinimum`` or more when BLAS has exactly two
    ///   threads, along the longer of C's sides (of 32 or more), at the multiple of 8
    ///   nearest the middle. Each half then packs only its half of that side's operand,
    ///   and runs on a thread that spins between jobs (CKernels' pair), where OpenBLAS's
    ///   own two threads go to sleep between a training step's products and are woken
    ///   at the next. Measured on W1 and W2, two threads, side by side: median epochs
    ///   8 % and 18 % shorter; the same GFLOP/s for large square products. With more
    ///   threads OpenBLAS splits.
    static func productSplit(_ shape: GEMMShape, threads: Int) -> ProductSplit? {
        let (m, n) = (Int(shape.m), Int(shape.n))
        if splitsRows(shape, threads: threads) { return .columns(boundary: rowBoundary(n)) }
        guard threads == 2, m > 1, m * n * Int(shape.k) >= productSplitMinimum else { return nil }
        let side = max(m, n)
        guard side >= 32 else { return nil }
        let boundary = (side / 2 + 4) / 8 * 8
        return n >= m ? .columns(boundary: boundary) : .rows(boundary: boundary)
    }

    /// Runs `gemm` (the precision's BLAS call, for an `m`×`n` block of C from the given
    /// rows of op(A) and columns of op(B)) over the whole of C, or over the two blocks of
    /// ``productSplit(_:threads:)`` side by side with BLAS single-threaded in each.
    static func productBlocks<S: KernelScalar>(
        _ shape: GEMMShape, _ a: [S], _ b: [S], into c: UnsafeMutablePointer<S>,
        gemm: (_ m: Int32, _ n: Int32, _ a: UnsafePointer<S>?, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>) -> Void
    ) {
        let threads = backprop_blas_get_threads()
        guard let split = productSplit(shape, threads: Int(threads)) else {
            return a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in gemm(shape.m, shape.n, ap.baseAddress, bp.baseAddress!, c) }
            }
        }
        // With two threads OpenBLAS is single-threaded already (CBLAS's blas.c); with more
        // (a one-row product), it is made so while the two blocks run.
        if threads != 2 { backprop_blas_set_threads(1) }
        defer { if threads != 2 { backprop_blas_set_threads(threads) } }
        productBlocks(shape, a, b, into: c, split: split, gemm: gemm)
    }

    /// `gemm` over the two blocks of C that `split` makes, the first on this thread and
    /// the second on CKernels' helper thread (both here in turn when the helper is busy,
    /// with the same result). A block's products may round differently from one call
    /// over the whole of C (OpenBLAS's edge kernels differ), so a given thread count
    /// always splits the same way.
    static func productBlocks<S: KernelScalar>(
        _ shape: GEMMShape, _ a: [S], _ b: [S], into c: UnsafeMutablePointer<S>, split: ProductSplit,
        gemm: (_ m: Int32, _ n: Int32, _ a: UnsafePointer<S>?, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>) -> Void
    ) {
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                let (a, b) = (ap.baseAddress!, bp.baseAddress!)
                switch split {
                case .columns(let boundary):
                    splitting(Int(shape.n), at: boundary) { first, count in
                        gemm(shape.m, Int32(count), a, b + (shape.tb == 1 ? first * Int(shape.ldb) : first), c + first)
                    }
                case .rows(let boundary):
                    splitting(Int(shape.m), at: boundary) { first, count in
                        gemm(Int32(count), shape.n, a + (shape.ta == 1 ? first : first * Int(shape.lda)), b,
                             c + first * Int(shape.ldc))
                    }
                }
            }
        }
    }

    /// Where a one-row product's outputs are split: near the middle, at a multiple of 8.
    static func rowBoundary(_ n: Int) -> Int { min(n, (n / 2 + 7) / 8 * 8) }

    /// Runs `product(first, count)` over `0..<n` in two ranges, the first on this thread
    /// and the second on CKernels' helper thread (`backprop_pair_run`), or both here in
    /// turn when the helper is serving another caller. The ranges meet at a multiple of 8, so a
    /// one-row product split by rows of `W` computes each output as the same dot product,
    /// with the same BLAS kernel, as one call does: the result is the same bit for bit.
    static func splittingRows(_ n: Int, _ product: (_ first: Int, _ count: Int) -> Void) {
        splitting(n, at: rowBoundary(n), product)
    }

    /// `product(0, boundary)` on this thread and `product(boundary, n − boundary)` on
    /// CKernels' helper thread, or both here in turn when the helper is serving another
    /// caller: the same two calls either way, so the same result bit for bit.
    static func splitting(_ n: Int, at boundary: Int, _ product: (_ first: Int, _ count: Int) -> Void) {
        func share(_ half: Int) { half == 0 ? product(0, boundary) : product(boundary, n - boundary) }
        if !onPair(share) {
            share(0)
            share(1)
        }
    }
}
