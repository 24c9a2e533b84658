import CMPI
import Foundation
import Training

/// Why MPI could not be used.
public struct MPIError: Error, CustomStringConvertible {
    public let description: String
}

/// The processes of an `mpirun` launch as one ``GradientReducer``: Open MPI's
/// `MPI_Allreduce` over `MPI_COMM_WORLD`. Open MPI is loaded only when the process was
/// launched by mpirun (``isLaunched``), so one process needs no MPI installed.
public final class MPIWorld: GradientReducer {
    public let rank: Int
    public let size: Int
    /// `MPI_Get_library_version`'s first line.
    public let libraryVersion: String

    /// Whether mpirun started this process (Open MPI sets `OMPI_COMM_WORLD_SIZE`, PMIx
    /// `PMIX_RANK`); read before any MPI call.
    public static var isLaunched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// How many ranks mpirun started on this machine (for threads per rank).
    public static var localSize: Int {
        Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
    }

    /// Loads Open MPI and initialises it; call once, when ``isLaunched``.
    public static func start() throws(MPIError) -> MPIWorld {
        guard backprop_mpi_load() == 0 else { throw MPIError(description: String(cString: backprop_mpi_error())) }
        guard backprop_mpi_init() == 0 else { throw MPIError(description: "MPI_Init failed") }
        return MPIWorld()
    }

    private init() {
        rank = Int(backprop_mpi_rank())
        size = Int(backprop_mpi_size())
        libraryVersion = String(cString: backprop_mpi_library_version()).split(separator: "\n").first.map(String.init) ?? ""
    }

    /// The sums made so far, and the seconds spent in them (waiting for the slowest
    /// process included).
    public private(set) var sums = 0
    public private(set) var secondsInSums = 0.0

    public func sum(_ values: inout [Float]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let status = values.withUnsafeMutableBufferPointer { backprop_mpi_sum_floats($0.baseAddress, Int32($0.count)) }
        if status != 0 { abort(message: "MPI_Allreduce failed (\(status))") }
        count(since: start)
    }

    public func sum(_ values: inout [Double]) {
        let start = DispatchTime.now().uptimeNanoseconds
        let status = values.withUnsafeMutableBufferPointer { backprop_mpi_sum_doubles($0.baseAddress, Int32($0.count)) }
        if status != 0 { abort(message: "MPI_Allreduce failed (\(status))") }
        count(since: start)
    }

    private func count(since start: UInt64) {
        sums += 1
        secondsInSums += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Ends MPI in this process (every rank calls it before exiting).
    public func finish() {
        _ = backprop_mpi_finalize()
    }

    /// Ends every process of the job with `code` (after this process printed why).
    public func abort(code: Int32) -> Never {
        backprop_mpi_abort(code)
        exit(code)
    }

    /// Prints `message` and ends every process of the job: one failing rank must not
    /// leave the others waiting in a sum.
    public func abort(message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("backprop (rank \(rank) of \(size)): \(message)\n".utf8))
        backprop_mpi_abort(code)
        exit(code)
    }
}
