import CBLAS
import CKernels
import Dispatch

extension Kernels {
    /// Work (in elements touched) below which a loop stays on the calling thread: a
    /// fork and join costs a few microseconds.
    static let parallelWorkThreshold = 1 << 16

    /// Runs `body` over `0..<count` split into contiguous ranges, on as many threads as
    /// BLAS uses (``BLAS/setThreadCount(_:)``), when the loop is large enough to gain from
    /// it; ranges never overlap, so bodies that write only their own items need no locks.
    /// `work` is the cost of one item, in elements.
    @inline(__always)
    static func parallelFor(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        guard count * work >= parallelWorkThreshold else { return body(0..<count) }
        let threads = min(count, Int(backprop_blas_get_threads()))
        guard threads > 1 else { return body(0..<count) }
        runSideBySide(threads) { part in
            body((count * part / threads)..<(count * (part + 1) / threads))
        }
    }

    /// Runs `body(0)` on this thread and `body(1)` on CKernels' helper thread
    /// (`backprop_pair_run`) side by side; false, with nothing run, when the helper is
    /// serving another caller at that moment.
    static func onPair(_ body: (Int) -> Void) -> Bool {
        withoutActuallyEscaping(body) { body in
            var share: (Int32) -> Void = { body(Int($0)) }
            return withUnsafeMutablePointer(to: &share) { context in
                backprop_pair_run({ context, share in
                    context!.assumingMemoryBound(to: ((Int32) -> Void).self).pointee(share)
                }, context)
            } == 0
        }
    }

    /// Runs `body(i)` for each `i` in `0..<count` side by side and returns when all are
    /// done: two through CKernels' pair (`backprop_pair_run`: a helper thread that spins
    /// between jobs, so a step's several fork-joins cost no thread wake-ups), more, or
    /// two while the pair serves another caller, through Dispatch's pool.
    static func runSideBySide(_ count: Int, _ body: (Int) -> Void) {
        if count == 2 && onPair(body) { return }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
        }
    }
}

/// A value handed to the threads of ``Kernels/parallelFor(_:work:_:)``, whose ranges
/// never overlap.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

extension Kernels {
    /// Runs `body(share)` for each share in `0..<shares`, each on a thread of its own,
    /// with everything a share calls on its own thread (its products unsplit and
    /// single-threaded, its elementwise loops on that thread), side by side with the other
    /// shares. Each share's thread reports one BLAS thread while it runs (CBLAS's
    /// `backprop_blas_set_alone_here`); other threads still see the thread count they had.
    /// With two threads OpenBLAS is single-threaded already (blas.c); with more, its global
    /// setting is made 1 while the shares run and restored afterwards (OpenBLAS 0.3.21 has
    /// no per-call thread count), which products called on other threads meanwhile see.
    /// One share runs on the calling thread, as it is.
    public static func runShares(_ shares: Int, _ body: (Int) -> Void) {
        guard shares > 1 else { return body(0) }
        let threads = Int(backprop_blas_get_threads())
        let switches = threads > 2
        if switches { backprop_blas_set_threads(1) }
        defer { if switches { backprop_blas_set_threads(Int32(threads)) } }
        runSideBySide(shares) { share in
            let wasAlone = backprop_blas_alone_here()
            backprop_blas_set_alone_here(1)
            defer { backprop_blas_set_alone_here(wasAlone) }
            body(share)
        }
    }
}
