import CMPI
import Foundation
import Training

/// One thread that runs the work given to it in order (MPI calls, one at a time).
final class CommunicationThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var running = false

    init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "backprop-mpi"
        thread.start()
    }

    /// Runs `job` after the jobs given before it.
    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Returns once every job given so far has run.
    func drain() {
        condition.lock()
        while !jobs.isEmpty || running { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            running = true
            condition.unlock()
            job()
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
    }
}

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
        guard backprop_mpi_init_serialized() == 0 else {
            throw MPIError(description: "MPI_Init_thread failed or does not allow MPI calls from a communication thread (MPI_THREAD_SERIALIZED)")
        }
        return MPIWorld()
    }

    private init() {
        rank = Int(backprop_mpi_rank())
        size = Int(backprop_mpi_size())
        libraryVersion = String(cString: backprop_mpi_library_version()).split(separator: "\n").first.map(String.init) ?? ""
    }

    /// The sums made so far; the seconds MPI spent in them (waiting for the slowest
    /// process included); and the seconds the training thread waited for them (less,
    /// where sums started early ran beside the backward pass).
    public var sums: Int { statisticsLock.withLock { statistics.sums } }
    public var secondsInSums: Double { statisticsLock.withLock { statistics.secondsInSums } }
    public var secondsWaiting: Double { statisticsLock.withLock { statistics.secondsWaiting } }
    private let statisticsLock = NSLock()
    private var statistics = Statistics()
    private struct Statistics { var sums = 0, secondsInSums = 0.0, secondsWaiting = 0.0 }

    /// The thread that makes the sums started early (`startSum(_:)`):
    /// Open MPI does not progress a non-blocking collective while the caller computes.
    private let communication = CommunicationThread()

    public func sum(_ values: inout [Float]) {
        blocking { values.withUnsafeMutableBufferPointer { allreduce($0) } }
    }

    public func sum(_ values: inout [Double]) {
        blocking { values.withUnsafeMutableBufferPointer { allreduce($0) } }
    }

    /// A sum made on this thread, after the sums already started (in order), timed.
    private func blocking(_ sum: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        communication.drain()
        let drained = DispatchTime.now().uptimeNanoseconds
        sum()
        let end = DispatchTime.now().uptimeNanoseconds
        record(busy: end - drained, waited: end - start)
    }

    public func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> any PendingSum {
        started { self.allreduce(values) }
    }

    public func startSum(_ values: UnsafeMutableBufferPointer<Double>) -> any PendingSum {
        started { self.allreduce(values) }
    }

    private func started(_ work: @escaping () -> Void) -> any PendingSum {
        let sum = StartedSum(world: self)
        communication.submit {
            let start = DispatchTime.now().uptimeNanoseconds
            work()
            self.record(busy: DispatchTime.now().uptimeNanoseconds - start, waited: 0)
            sum.done.signal()
        }
        return sum
    }

    private final class StartedSum: PendingSum, @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        let world: MPIWorld
        init(world: MPIWorld) { self.world = world }
        func wait() {
            let start = DispatchTime.now().uptimeNanoseconds
            done.wait()
            world.record(busy: 0, waited: DispatchTime.now().uptimeNanoseconds - start)
        }
    }

    private func allreduce(_ values: UnsafeMutableBufferPointer<Float>) {
        let status = backprop_mpi_sum_floats(values.baseAddress, Int32(values.count))
        if status != 0 { abort(message: "MPI_Allreduce failed (\(status))") }
    }

    private func allreduce(_ values: UnsafeMutableBufferPointer<Double>) {
        let status = backprop_mpi_sum_doubles(values.baseAddress, Int32(values.count))
        if status != 0 { abort(message: "MPI_Allreduce failed (\(status))") }
    }

    private func record(busy: UInt64, waited: UInt64) {
        statisticsLock.withLock {
            if busy > 0 { statistics.sums += 1 }
            statistics.secondsInSums += Double(busy) / 1e9
            statistics.secondsWaiting += Double(waited) / 1e9
        }
    }

    /// Ends MPI in this process (every rank calls it before exiting).
    public func finish() {
        communication.drain()
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
