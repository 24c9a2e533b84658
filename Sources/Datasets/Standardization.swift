import Tensors

/// Standardisation with a training set's statistics: x ↦ (x − μ)/σ, per feature, per
/// channel of images, or with one μ and σ for all values. Fit it on the training data
/// only, store it with the model (it is `Codable`), and apply the same values to
/// validation, test and new data.
///
/// σ is the population standard deviation (divided by N, as scikit-learn's
/// `StandardScaler`); a feature with σ = 0 (a constant pixel) is only centred.
public struct Standardization: Sendable, Hashable, Codable {
    public enum Scope: String, Sendable, Hashable, Codable {
        /// One μ and σ per feature (each position after the batch dimension).
        case perFeature
        /// One μ and σ per channel of images `[N, channels, height, width]`, over every
        /// example and pixel of the channel, as image libraries normalise (torchvision's
        /// `Normalize(mean, std)`). Applies to the images flattened as well
        /// (`[N, channels·height·width]`, each channel's pixels one run).
        case perChannel
        /// One μ and σ over every value (models saved before ``Scope/perChannel``: images).
        case global
    }

    public let scope: Scope
    /// μ: one value per feature, per channel, or one value for ``Scope/global``.
    public let mean: [Double]
    /// σ, as ``mean``.
    public let standardDeviation: [Double]

    public init(scope: Scope, mean: [Double], standardDeviation: [Double]) {
        checkPrecondition(mean.count == standardDeviation.count && (scope != .global || mean.count == 1),
                     "Standardization: \(mean.count) means and \(standardDeviation.count) deviations")
        self.scope = scope
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    private enum CodingKeys: String, CodingKey, CaseIterable { case scope, mean, standardDeviation }

    /// Any key, to find those that are none of `CodingKeys`.
    private struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    /// Reads a standardisation (a model.json's `preprocessing`), checking what ``init(scope:mean:standardDeviation:)``
    /// requires and what applying it needs: as many σ as μ (one of each for
    /// ``Scope/global``), every μ finite, every σ 0 (a constant feature, only centred) or
    /// at least Float's smallest normal value (a smaller one divides into infinity), and
    /// no other key (a misspelt one would be ignored).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.first(where: { CodingKeys(stringValue: $0.stringValue) == nil }) {
            let known = CodingKeys.allCases.map(\.stringValue).sorted().joined(separator: ", ")
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: decoder.codingPath,
                debugDescription: "unknown key '\(PlainErrors.escapingControlCharacters(String(unknown.stringValue.prefix(40))))'; expected one of \(known)"))
        }
        let scope = try container.decode(Scope.self, forKey: .scope)
        let mean = try container.decode([Double].self, forKey: .mean)
        let deviation = try container.decode([Double].self, forKey: .standardDeviation)
        func refuse(_ reason: String) -> DecodingError {
            DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: reason))
        }
        guard mean.count == deviation.count else { throw refuse("\(mean.count) means and \(deviation.count) standard deviations") }
        guard scope != .global || mean.count == 1 else { throw refuse("a global standardisation has one mean, not \(mean.count)") }
        guard !mean.isEmpty else { throw refuse("no means") }
        if let index = mean.firstIndex(where: { !$0.isFinite }) { throw refuse("mean \(index) is \(mean[index])") }
        if let index = deviation.firstIndex(where: { !($0 == 0 || ($0.isFinite && $0 >= Double(Float.leastNormalMagnitude))) }) {
            throw refuse("standard deviation \(index) is \(deviation[index]); each is 0 (a constant feature) or a positive number")
        }
        self.init(scope: scope, mean: mean, standardDeviation: deviation)
    }

    /// The statistics of `features` `[N, …]` (N ≥ 1; `[N, channels, …]` for
    /// ``Scope/perChannel``), computed in Double.
    public init<S: TensorScalar>(fittedTo features: Tensor<S>, scope: Scope = .perFeature) {
        checkPrecondition(features.rank >= 1 && features.shape[0] > 0,
                     "Standardization: needs at least one example, got shape \(features.shape)")
        checkPrecondition(scope != .perChannel || (features.rank >= 2 && features.shape[1] > 0),
                     "Standardization: per channel needs [N, channels, …], got shape \(features.shape)")
        let perExample = features.count / features.shape[0]
        let (channels, positions) = switch scope {
        case .perFeature: (perExample, 1)
        case .perChannel: (features.shape[1], perExample / features.shape[1])
        case .global: (1, 1)
        }
        let (mean, deviation): ([Double], [Double])
        if S.self == Float.self {
            (mean, deviation) = channelStatistics(unsafeBitCast(features.scalars, to: [Float].self), channels: channels, positions: positions)
        } else {
            (mean, deviation) = channelStatistics(features.doubleScalars, channels: channels, positions: positions)
        }
        self.init(scope: scope, mean: mean, standardDeviation: deviation)
    }

    /// The number of features these statistics were fitted on (nil for global and
    /// per-channel scope).
    public var featureCount: Int? { scope == .perFeature ? mean.count : nil }

    /// How `values` `[N, …]` run through the statistics: in blocks of `positions`
    /// values of one statistic, cycling through the `channels` statistics. Throws when
    /// they do not fit (another number of features, or of channels).
    private func layout(of values: Tensor<some TensorScalar>, what: String) throws(DatasetError) -> (channels: Int, positions: Int) {
        let perExample = values.rank == 0 ? 0 : values.shape.dropFirst().reduce(1, *)
        switch scope {
        case .perFeature:
            guard values.rank > 0, perExample == mean.count else {
                throw .mismatch("standardisation was fitted on \(mean.count) \(what) per example, the data has shape \(values.shape)")
            }
            return (mean.count, 1)
        case .perChannel:
            guard values.rank >= 2, perExample % mean.count == 0, values.rank == 2 || values.shape[1] == mean.count else {
                throw .mismatch("standardisation was fitted on images of \(mean.count) channel\(mean.count == 1 ? "" : "s"), the data has shape \(values.shape)")
            }
            return (mean.count, perExample / mean.count)
        case .global:
            return (1, 1)
        }
    }

    /// `(features − μ)/σ`, same shape, no gradient history; throws if the features per
    /// example (or the channels) differ from the fitted ones.
    public func applied<S: TensorScalar>(to features: Tensor<S>) throws(DatasetError) -> Tensor<S> {
        let (channels, positions) = try layout(of: features, what: "features")
        let scale = standardDeviation.map { $0 > 0 ? 1 / $0 : 1 }
        let values = ScalarArrays.transform(
            features.scalars,
            float: { standardize($0, mean: mean.map { Float($0) }, scale: scale.map { Float($0) }, channels: channels, positions: positions) },
            double: { standardize($0, mean: mean, scale: scale, channels: channels, positions: positions) })
        return Tensor(shape: features.shape, scalars: values)
    }

    /// The inverse of ``applied(to:)``: `x·σ + μ`, back in the original units (a
    /// regression model's standardised predictions as values of the target).
    public func restored<S: TensorScalar>(_ values: Tensor<S>) throws(DatasetError) -> Tensor<S> {
        let (channels, positions) = try layout(of: values, what: "values")
        let scale = standardDeviation.map { $0 > 0 ? $0 : 1 }
        let shift = zip(mean, scale).map { -$0 / $1 }
        let result = ScalarArrays.transform(
            values.scalars,
            float: { standardize($0, mean: shift.map { Float($0) }, scale: scale.map { Float($0) }, channels: channels, positions: positions) },
            double: { standardize($0, mean: shift, scale: scale, channels: channels, positions: positions) })
        return Tensor(shape: values.shape, scalars: result)
    }
}

/// The mean and population standard deviation of each channel of a row-major array
/// whose values run in blocks of `positions` values of one channel, the blocks cycling
/// through the `channels` (a table: blocks of one value, a channel per column; images
/// `[N, C, H, W]`: blocks of H·W pixels), accumulated in Double (two passes, for accuracy).
private func channelStatistics<T: BinaryFloatingPoint>(_ x: [T], channels: Int, positions: Int) -> ([Double], [Double]) {
    guard channels > 0, positions > 0 else { return ([], []) }
    let rows = x.count / (channels * positions)
    let count = Double(rows * positions)
    var sum = [Double](repeating: 0, count: channels)
    x.withUnsafeBufferPointer { p in
        for row in 0..<rows {
            for c in 0..<channels {
                let start = (row * channels + c) * positions
                for i in start..<(start + positions) { sum[c] += Double(p[i]) }
            }
        }
    }
    let mean = sum.map { $0 / count }
    var squares = [Double](repeating: 0, count: channels)
    x.withUnsafeBufferPointer { p in
        for row in 0..<rows {
            for c in 0..<channels {
                let start = (row * channels + c) * positions
                for i in start..<(start + positions) {
                    let d = Double(p[i]) - mean[c]
                    squares[c] += d * d
                }
            }
        }
    }
    return (mean, squares.map { ($0 / count).squareRoot() })
}

/// `(x − mean[c]) · scale[c]` for each value of channel c, in the layout of
/// ``channelStatistics(_:channels:positions:)``.
private func standardize<T: BinaryFloatingPoint>(_ x: [T], mean: [T], scale: [T], channels: Int, positions: Int) -> [T] {
    guard channels > 0, positions > 0 else { return x }
    return [T](unsafeUninitializedCapacity: x.count) { out, initialized in
        x.withUnsafeBufferPointer { p in
            for row in 0..<(x.count / (channels * positions)) {
                for c in 0..<channels {
                    let start = (row * channels + c) * positions
                    for i in start..<(start + positions) { out[i] = (p[i] - mean[c]) * scale[c] }
                }
            }
        }
        initialized = x.count
    }
}
