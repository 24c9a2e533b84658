import Tensors

/// Adds numbers across the processes of a data-parallel run (DESIGN.md, "One
/// data-parallel step, two scales"): every process calls `sum(_:)` with arrays of the
/// same length, in the same order, and every process gets the elementwise sum back.
/// Each process's ``Trainer`` then takes its share of every global batch, and the summed
/// gradients give every process the update one process would make, up to the order of
/// summation. MPI ranks are one implementation (the `Distributed` module).
public protocol GradientReducer: AnyObject {
    /// This process's place, 0 ..< ``size``.
    var rank: Int { get }
    /// How many processes take part.
    var size: Int { get }
    /// Replaces `values` by their sum over all processes.
    func sum(_ values: inout [Float])
    /// Replaces `values` by their sum over all processes.
    func sum(_ values: inout [Double])
    /// Starts replacing the values at `values` by their sum over all processes and
    /// returns at once; the sum is in place when ``PendingSum/wait()`` returns, and the
    /// memory must stay valid and untouched until then. Sums, started or not, happen in
    /// the order they are asked for, which must be the same in every process. By
    /// default, the sum is made before returning.
    func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> any PendingSum
    /// Starts replacing the values at `values` by their sum over all processes, as the
    /// `Float` version does.
    func startSum(_ values: UnsafeMutableBufferPointer<Double>) -> any PendingSum
}

/// A sum over processes under way (a ``GradientReducer``'s `startSum(_:)`).
public protocol PendingSum: AnyObject {
    /// Returns once the sum is in place.
    func wait()
}

/// A sum already made.
final class FinishedSum: PendingSum {
    func wait() {}
}

extension GradientReducer {
    /// Sums at once (a reducer without a communication thread of its own).
    public func startSum(_ values: UnsafeMutableBufferPointer<Float>) -> any PendingSum {
        var copy = Array(values)
        sum(&copy)
        _ = values.update(fromContentsOf: copy)
        return FinishedSum()
    }

    /// Sums at once (a reducer without a communication thread of its own).
    public func startSum(_ values: UnsafeMutableBufferPointer<Double>) -> any PendingSum {
        var copy = Array(values)
        sum(&copy)
        _ = values.update(fromContentsOf: copy)
        return FinishedSum()
    }
}

/// The gradients of a distributed step in buckets: consecutive parameters, taken from the
/// last back (the order backpropagation finishes them), each bucket closed once it holds
/// ``minimumBytes`` or an eighth of the model, whichever is more. Each bucket's sum over
/// the processes starts as soon as its gradients are in (overlapping the backward pass of
/// the layers below), in bucket order in every process; the last bucket, the first
/// layers', carries the step's loss and stop flag and is sent when the pass ends.
final class GradientBuckets<Scalar: TensorScalar> {
    /// Below this, a bucket's transfer is too short beside a message's latency.
    static var minimumBytes: Int { 64 << 10 }

    /// The parameters of each bucket, in the order the buckets are sent.
    let parameters: [Range<Int>]
    private let shapes: [[Int]]
    /// Each parameter's bucket and place in it.
    private let bucketOf: [Int]
    private let offsetOf: [Int]
    private let buffers: [UnsafeMutableBufferPointer<Scalar>]
    private var missing: [Int] = []
    /// Whether each parameter's gradient is in this step's buffers.
    private var deposited: [Bool] = []
    private var pending: [(any PendingSum)?] = []
    private var started = 0
    private var weight: Scalar = 1
    private var overlaps = true
    private let reducer: any GradientReducer

    init(shapes: [[Int]], reducer: any GradientReducer) {
        self.shapes = shapes
        self.reducer = reducer
        let counts = shapes.map { $0.reduce(1, *) }
        let total = counts.reduce(0, +) * MemoryLayout<Scalar>.stride
        let limit = max(Self.minimumBytes, total / 8)
        var ranges: [Range<Int>] = []
        var upper = counts.count, bytes = 0
        for index in counts.indices.reversed() {
            bytes += counts[index] * MemoryLayout<Scalar>.stride
            if bytes >= limit || index == 0 {
                ranges.append(index..<upper)
                (upper, bytes) = (index, 0)
            }
        }
        if ranges.isEmpty { ranges = [0..<0] }
        parameters = ranges
        var bucketOf = [Int](repeating: 0, count: counts.count), offsetOf = bucketOf
        var buffers: [UnsafeMutableBufferPointer<Scalar>] = []
        for (bucket, range) in ranges.enumerated() {
            var offset = 0
            for index in range {
                (bucketOf[index], offsetOf[index]) = (bucket, offset)
                offset += counts[index]
            }
            // The last bucket's two extra values: the loss and the stop flag.
            let size = offset + (bucket == ranges.count - 1 ? 2 : 0)
            let buffer = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: size)
            buffer.initialize(repeating: 0)
            buffers.append(buffer)
        }
        (self.bucketOf, self.offsetOf, self.buffers) = (bucketOf, offsetOf, buffers)
    }

    deinit { for buffer in buffers { buffer.deallocate() } }

    /// A new step: this process's gradients are weighted by `weight` (its share of the
    /// batch). Without `overlap`, every sum waits for ``finish(loss:stop:)``.
    func begin(weight: Double, overlap: Bool) {
        self.weight = Scalar(weight)
        overlaps = overlap
        deposited = Array(repeating: false, count: shapes.count)
        missing = parameters.map(\.count)
        pending = Array(repeating: nil, count: parameters.count)
        started = 0
    }

    /// Parameter `index`'s gradient for this step (each parameter at most once a step).
    func deposit(_ index: Int, _ gradient: Tensor<Scalar>) {
        let bucket = bucketOf[index]
        let weighted = weight == 1 ? gradient : gradient * weight
        if weighted.count > 0 { weighted.scalars.withUnsafeBytes { source in
            UnsafeMutableRawPointer(buffers[bucket].baseAddress! + offsetOf[index]).copyMemory(
                from: source.baseAddress!, byteCount: source.count)
        } }
        deposited[index] = true
        missing[bucket] -= 1
        // Buckets start in order, so that every process sends them alike; the last one
        // waits for the loss and the stop flag.
        while overlaps && started < parameters.count - 1 && missing[started] == 0 { start(started) }
    }

    private func start(_ bucket: Int) {
        let buffer = buffers[bucket]
        let raw = UnsafeMutableRawPointer(buffer.baseAddress!)
        if Scalar.self == Float.self {
            pending[bucket] = reducer.startSum(UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: Float.self), count: buffer.count))
        } else {
            pending[bucket] = reducer.startSum(UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: Double.self), count: buffer.count))
        }
        started = bucket + 1
    }

    /// Sends what is left (parameters without a gradient count 0) with this process's
    /// weighted loss and its stop flag, waits for every sum, and returns the batch's
    /// mean loss, whether any process asked to stop, and the summed gradients.
    func finish(loss: Double, stop: Bool) -> (loss: Double, stop: Bool, gradients: [Tensor<Scalar>]) {
        let last = buffers[buffers.count - 1]
        last[last.count - 2] = Scalar(loss) * weight
        last[last.count - 1] = stop ? 1 : 0
        // A parameter without a gradient this step (none reached it, or no examples here) adds 0.
        for index in shapes.indices where !deposited[index] {
            let count = shapes[index].reduce(1, *)
            (buffers[bucketOf[index]].baseAddress! + offsetOf[index]).update(repeating: 0, count: count)
        }
        while started < parameters.count { start(started) }
        for sum in pending { sum?.wait() }
        let gradients = shapes.indices.map { index -> Tensor<Scalar> in
            let count = shapes[index].reduce(1, *)
            let source = UnsafeRawPointer(buffers[bucketOf[index]].baseAddress! + offsetOf[index])
            let scalars = [Scalar](unsafeUninitializedCapacity: count) { values, initialized in
                if count > 0 {
                    UnsafeMutableRawPointer(values.baseAddress!).copyMemory(from: source, byteCount: count * MemoryLayout<Scalar>.stride)
                }
                initialized = count
            }
            return Tensor(shape: shapes[index], scalars: scalars)
        }
        return (Double(last[last.count - 2]), last[last.count - 1] > 0, gradients)
    }
}

extension GradientReducer {
    /// Sums `values` of either precision.
    func sum<Scalar: TensorScalar>(_ values: inout [Scalar]) {
        // The scalar type is Float or Double itself: the array is reinterpreted, not
        // converted (a cast of the array would check every element, which for a model's
        // gradients costs more than the sum).
        if Scalar.self == Float.self {
            var floats = unsafeBitCast(values, to: [Float].self)
            values = []
            sum(&floats)
            values = unsafeBitCast(floats, to: [Scalar].self)
        } else if Scalar.self == Double.self {
            var doubles = unsafeBitCast(values, to: [Double].self)
            values = []
            sum(&doubles)
            values = unsafeBitCast(doubles, to: [Scalar].self)
        } else {
            var doubles = values.map { Double($0) }
            sum(&doubles)
            values = doubles.map { Scalar($0) }
        }
    }
}

extension MetricAccumulator {
    /// The accumulator's sums over all processes: what one process seeing every batch
    /// would have added. `columns` is the targets' width (the same in every process).
    mutating func reduce(with reducer: any GradientReducer, columns: Int) {
        // The same layout in every process, whatever it has seen: regression sums for
        // `columns` outputs (zeros where there are none).
        let regression = squaredErrorSums.count == columns
            ? squaredErrorSums + absoluteErrorSums + valueSums + squaredValueSums
            : [Double](repeating: 0, count: 4 * columns)
        var sums = [Double(examples), lossSum, Double(correct), Double(predictions), isClassification ? 1 : 0] + regression
        reducer.sum(&sums)
        examples = Int(sums[0])
        lossSum = sums[1]
        correct = Int(sums[2])
        predictions = Int(sums[3])
        isClassification = sums[4] > 0
        if isClassification {
            (squaredErrorSums, absoluteErrorSums, valueSums, squaredValueSums) = ([], [], [], [])
        } else {
            squaredErrorSums = Array(sums[5..<(5 + columns)])
            absoluteErrorSums = Array(sums[(5 + columns)..<(5 + 2 * columns)])
            valueSums = Array(sums[(5 + 2 * columns)..<(5 + 3 * columns)])
            squaredValueSums = Array(sums[(5 + 3 * columns)..<(5 + 4 * columns)])
        }
    }
}
