import Foundation

/// How the learning rate changes from epoch to epoch (epochs counted from 0).
public enum LearningRateSchedule: Sendable, Hashable, Codable {
    /// The base rate in every epoch.
    case constant
    /// Multiplied by `factor` every `epochs` epochs.
    case step(epochs: Int, factor: Double)
    /// Multiplied by `gamma` every epoch.
    case exponential(gamma: Double)
    /// Cosine annealing from the base rate to `minimum` over `epochs` epochs.
    case cosine(epochs: Int, minimum: Double)

    /// The learning rate α for `epoch` (from 0), starting from `base`.
    public func rate(base: Double, epoch: Int) -> Double {
        switch self {
        case .constant:
            return base
        case .step(let every, let factor):
            return base * pow(factor, Double(epoch / max(every, 1)))
        case .exponential(let gamma):
            return base * pow(gamma, Double(epoch))
        case .cosine(let total, let minimum):
            let progress = Double(min(epoch, total)) / Double(max(total, 1))
            return minimum + (base - minimum) * (1 + cos(.pi * progress)) / 2
        }
    }
}
