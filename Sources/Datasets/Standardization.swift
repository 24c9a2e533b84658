import Tensors

/// Standardisation with a training set's statistics: x ↦ (x − μ)/σ, per feature or with
/// one μ and σ for all values. Fit it on the training data only, store it with the
/// model (it is `Codable`), and apply the same values to validation, test and new data.
///
/// σ is the population standard deviation (divided by N, as scikit-learn's
/// `StandardScaler`); a feature with σ = 0 (a constant pixel) is only centred.
public struct Standardization: Sendable, Hashable, Codable {
    public enum Scope: String, Sendable, Hashable, Codable {
        /// One μ and σ per feature (each position after the batch dimension).
        case perFeature
        /// One μ and σ over every value (images: all pixels alike).
        case global
    }

    public let scope: Scope
    /// μ: one value per feature, or one value for ``Scope/global``.
    public let mean: [Double]
    /// σ, as ``mean``.
    public let standardDeviation: [Double]

    public init(scope: Scope, mean: [Double], standardDeviation: [Double]) {
        checkPrecondition(mean.count == standardDeviation.count && (scope == .perFeature || mean.count == 1),
                     "Standardization: \(mean.count) means and \(standardDeviation.count) deviations")
        self.scope = scope
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    private enum CodingKeys: String, CodingKey { case scope, mean, standardDeviation }

    /// Reads a standardisation (a model.json's `preprocessing`), checking what ``init(scope:mean:standardDeviation:)``
    /// requires and what applying it needs: as many σ as μ (one of each for
    /// ``Scope/global``), every μ finite, every σ 0 (a constant feature, only centred) or
    /// at least Float's smallest normal value (a smaller one divides into infinity).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let scope = try container.decode(Scope.self, forKey: .scope)
        let mean = try container.decode([Double].self, forKey: .mean)
        let deviation = try container.decode([Double].self, forKey: .standardDeviation)
        func refuse(_ reason: String) -> DecodingError {
            DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: reason))
        }
        guard mean.count == deviation.count else { throw refuse("\(mean.count) means and \(deviation.count) standard deviations") }
        guard scope == .perFeature || mean.count == 1 else { throw refuse("a global standardisation has one mean, not \(mean.count)") }
        if let index = mean.firstIndex(where: { !$0.isFinite }) { throw refuse("mean \(index) is \(mean[index])") }
        if let index = deviation.firstIndex(where: { !($0 == 0 || ($0.isFinite && $0 >= Double(Float.leastNormalMagnitude))) }) {
            throw refuse("standard deviation \(index) is \(deviation[index]); each is 0 (a constant feature) or a positive number")
        }
        self.init(scope: scope, mean: mean, standardDeviation: deviation)
    }

    /// The statistics of `features` `[N, …]` (N ≥ 1), computed in Double.
    public init<S: TensorScalar>(fittedTo features: Tensor<S>, scope: Scope = .perFeature) {
        checkPrecondition(features.rank >= 1 && features.shape[0] > 0,
                     "Standardization: needs at least one example, got shape \(features.shape)")
        let columns = scope == .global ? 1 : features.count / features.shape[0]
        let (mean, deviation): ([Double], [Double])
        if S.self == Float.self {
            (mean, deviation) = columnStatistics(unsafeBitCast(features.scalars, to: [Float].self), columns: columns)
        } else {
            (mean, deviation) = columnStatistics(features.doubleScalars, columns: columns)
        }
        self.init(scope: scope, mean: mean, standardDeviation: deviation)
    }

    /// The number of features these statistics were fitted on (nil for global scope).
    public var featureCount: Int? { scope == .global ? nil : mean.count }

    /// `(features − μ)/σ`, same shape, no gradient history; throws if the number of
    /// features per example differs from the fitted one.
    public func applied<S: TensorScalar>(to features: Tensor<S>) throws(DatasetError) -> Tensor<S> {
        if let expected = featureCount, features.rank == 0 || features.shape.dropFirst().reduce(1, *) != expected {
            throw .mismatch("standardisation was fitted on \(expected) features per example, the data has shape \(features.shape)")
        }
        let columns = mean.count
        let scale = standardDeviation.map { $0 > 0 ? 1 / $0 : 1 }
        let values = ScalarArrays.transform(
            features.scalars,
            float: { standardize($0, mean: mean.map { Float($0) }, scale: scale.map { Float($0) }, columns: columns) },
            double: { standardize($0, mean: mean, scale: scale, columns: columns) })
        return Tensor(shape: features.shape, scalars: values)
    }

    /// The inverse of ``applied(to:)``: `x·σ + μ`, back in the original units (a
    /// regression model's standardised predictions as values of the target).
    public func restored<S: TensorScalar>(_ values: Tensor<S>) throws(DatasetError) -> Tensor<S> {
        if let expected = featureCount, values.rank == 0 || values.shape.dropFirst().reduce(1, *) != expected {
            throw .mismatch("standardisation was fitted on \(expected) values per example, got shape \(values.shape)")
        }
        let columns = mean.count
        let scale = standardDeviation.map { $0 > 0 ? $0 : 1 }
        let shift = zip(mean, scale).map { -$0 / $1 }
        let result = ScalarArrays.transform(
            values.scalars,
            float: { standardize($0, mean: shift.map { Float($0) }, scale: scale.map { Float($0) }, columns: columns) },
            double: { standardize($0, mean: shift, scale: scale, columns: columns) })
        return Tensor(shape: values.shape, scalars: result)
    }
}

/// Per-column mean and population standard deviation of a row-major `[rows, columns]`
/// array, accumulated in Double (two passes, for accuracy).
private func columnStatistics<T: BinaryFloatingPoint>(_ x: [T], columns: Int) -> ([Double], [Double]) {
    guard columns > 0 else { return ([], []) }
    let rows = x.count / columns
    var sum = [Double](repeating: 0, count: columns)
    x.withUnsafeBufferPointer { p in
        for r in 0..<rows {
            for c in 0..<columns { sum[c] += Double(p[r * columns + c]) }
        }
    }
    let mean = sum.map { $0 / Double(rows) }
    var squares = [Double](repeating: 0, count: columns)
    x.withUnsafeBufferPointer { p in
        for r in 0..<rows {
            for c in 0..<columns {
                let d = Double(p[r * columns + c]) - mean[c]
                squares[c] += d * d
            }
        }
    }
    return (mean, squares.map { ($0 / Double(rows)).squareRoot() })
}

/// `(x − mean[c]) · scale[c]` for each column c of a row-major array.
private func standardize<T: BinaryFloatingPoint>(_ x: [T], mean: [T], scale: [T], columns: Int) -> [T] {
    guard columns > 0 else { return x }
    return [T](unsafeUninitializedCapacity: x.count) { out, initialized in
        x.withUnsafeBufferPointer { p in
            for r in 0..<(x.count / columns) {
                for c in 0..<columns {
                    out[r * columns + c] = (p[r * columns + c] - mean[c]) * scale[c]
                }
            }
        }
        initialized = x.count
    }
}
