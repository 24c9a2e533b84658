import CBLAS

/// The system BLAS: OpenBLAS on Linux (loaded with the fastest kernels this CPU runs
/// correctly), Accelerate on macOS.
///
/// Nothing needs to be set by the user. On Linux the loader chooses `OPENBLAS_CORETYPE`
/// from the CPU's features before OpenBLAS initialises (AVX-512 → `SkylakeX`,
/// AVX2 + FMA → `Haswell`, otherwise OpenBLAS's own choice), unless the variable is
/// already set. The thread count comes from `BACKPROP_THREADS` (or `OPENBLAS_NUM_THREADS`)
/// and can be changed with ``setThreadCount(_:)``. The first GEMM checks once that a small
/// product agrees with a naive reference, in both precisions.
public enum BLAS {
    /// What was loaded, for reports and benchmarks.
    public struct Info: Sendable, CustomStringConvertible {
        public let library: String
        public let coreName: String
        /// The `OPENBLAS_CORETYPE` Backprop chose; empty when the user or OpenBLAS chose.
        public let chosenCoreType: String
        public let threadCount: Int

        public var description: String {
            let chosen = chosenCoreType.isEmpty ? "" : " (chosen by Backprop)"
            return "\(library), core \(coreName)\(chosen), \(threadCount) thread(s)"
        }
    }

    public static var info: Info {
        ensureReady()
        return Info(
            library: String(cString: backprop_blas_library()),
            coreName: String(cString: backprop_blas_corename()),
            chosenCoreType: String(cString: backprop_blas_chosen_coretype()),
            threadCount: threadCount
        )
    }

    /// The number of threads matrix products use (0 where the platform decides by
    /// itself). With two, Backprop splits each product of 2¹⁸ multiply-adds or more over
    /// the calling thread and a helper thread itself, OpenBLAS single-threaded in each;
    /// with more, OpenBLAS splits them.
    public static var threadCount: Int {
        ensureReady()
        return Int(backprop_blas_get_threads())
    }

    public static func setThreadCount(_ count: Int) {
        checkPrecondition(count >= 1, "BLAS thread count must be at least 1, got \(count)")
        ensureReady()
        backprop_blas_set_threads(Int32(count))
    }

    /// Benchmarks: while on, every matrix product called from this thread adds its wall
    /// time to ``productSeconds`` (BLAS's own worker threads run inside those calls), so
    /// that a benchmark can report the share of a training step spent in GEMM. Per
    /// thread, off by default; costs two clock reads per product when on.
    public static var timesProducts: Bool {
        get { ensureReady(); return backprop_blas_timing() != 0 }
        set { ensureReady(); backprop_blas_set_timing(newValue ? 1 : 0) }
    }

    /// Seconds this thread has spent inside matrix products while ``timesProducts`` was on.
    public static var productSeconds: Double {
        Double(backprop_blas_timed_nanoseconds()) / 1e9
    }

    /// Loads the library and checks it once; stops with a readable message if BLAS is
    /// missing or computes wrong products.
    public static func ensureReady() {
        _ = readiness
    }

    private static let readiness: Bool = {
        let status = backprop_blas_load()
        checkPrecondition(status == 0, "backprop: \(String(cString: backprop_blas_error()))")
        return true
    }()
}
