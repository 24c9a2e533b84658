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
