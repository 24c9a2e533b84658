import CBLAS
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
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: threads) { part in
                let lower = count * part / threads, upper = count * (part + 1) / threads
                shared.value(lower..<upper)
            }
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
    /// with BLAS single-threaded while they run (a share's products then run on the
    /// thread that calls them, side by side with the other shares'); BLAS's thread count
    /// is restored afterwards. One share runs on the calling thread, as it is.
    public static func runShares(_ shares: Int, _ body: (Int) -> Void) {
        guard shares > 1 else { return body(0) }
        let threads = Int(backprop_blas_get_threads())
        backprop_blas_set_threads(1)
        defer { backprop_blas_set_threads(Int32(max(threads, 1))) }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: shares) { shared.value($0) }
        }
    }
}
