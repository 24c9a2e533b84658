import Kernels

/// Work split into shares that run side by side, one thread each: the in-process half of
/// the data-parallel step (DESIGN.md, "One data-parallel step, two scales").
public enum DataParallel {
    /// Runs `body(share)` for each share in `0..<shares` on threads of its own, with
    /// matrix products single-threaded inside each share; returns when all are done.
    /// Bodies must write only what their own share owns.
    public static func run(shares: Int, _ body: (Int) -> Void) {
        Kernels.runShares(shares, body)
    }

    /// The threads the matrix products may use (BLAS's thread count), which is also how
    /// many shares a step can run side by side.
    public static var availableThreads: Int { BLAS.threadCount }
}
