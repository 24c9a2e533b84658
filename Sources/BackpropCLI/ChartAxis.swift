import Foundation

/// A chart axis on round numbers: ticks a step of 1, 2, 2.5 or 5 × 10^k apart, a range
/// that ends on ticks (or the range given, for a picture whose extent is fixed), clamped
/// to what the quantity can be (a loss is never below 0, an accuracy never above 1), and
/// labels that tell every tick apart (SI suffixes k, M, G, T; exponents past them).
struct ChartAxis {
    /// The axis runs from `low` to `high`.
    let low: Double
    let high: Double
    let step: Double
    let ticks: [Double]
    /// The axis runs over log₁₀ of the values: its ticks are powers of ten.
    private(set) var isLogarithmic = false

    /// An axis over `values` (and `including`, such as 0 for a zero line), about
    /// `intervals` steps long, inside `limits`. `integers` keeps the step whole (epochs,
    /// steps).
    init(covering values: [Double], including: [Double] = [], limits: ClosedRange<Double>? = nil, intervals: Int = 5,
         integers: Bool = false) {
        let finite = (values + including).filter(\.isFinite)
        var a = finite.min() ?? 0, b = finite.max() ?? 1
        if let limits { (a, b) = (a.clamped(limits.lowerBound, limits.upperBound), b.clamped(limits.lowerBound, limits.upperBound)) }
        if b - a <= Swift.max(Swift.abs(a), Swift.abs(b)) * 1e-12 {
            // One value: a span around it that stays inside the limits (all zeros: 0 to 1).
            let margin = a == 0 ? 1 : Swift.abs(a) * 0.1
            (a, b) = (a - margin, b + margin)
            if let limits {
                if a < limits.lowerBound { (a, b) = (limits.lowerBound, Swift.min(limits.lowerBound + 2 * margin, limits.upperBound)) }
                if b > limits.upperBound { (a, b) = (Swift.max(limits.upperBound - 2 * margin, limits.lowerBound), limits.upperBound) }
            }
        }
        let step = Self.niceStep((b - a) / Double(Swift.max(intervals, 1)), integers: integers)
        var low = (a / step).rounded(.down) * step, high = (b / step).rounded(.up) * step
        if let limits { (low, high) = (Swift.max(low, limits.lowerBound), Swift.min(high, limits.upperBound)) }
        self.init(low: low, high: high, step: step)
    }

    /// A logarithmic axis over positive `values`: it runs over their log₁₀, from one
    /// power of ten to another, a tick at each power (or every second, third, …).
    init(logarithmicCovering values: [Double], intervals: Int = 5) {
        let logs = values.filter { $0.isFinite && $0 > 0 }.map { Foundation.log10($0) }
        self.init(covering: logs, intervals: intervals, integers: true)
        isLogarithmic = true
    }

    /// Ticks on round numbers inside `range`, which the axis spans as it is (the extent
    /// of a picture).
    init(inside range: ClosedRange<Double>, intervals: Int = 5) {
        let span = range.upperBound - range.lowerBound
        self.init(low: range.lowerBound, high: range.upperBound,
                  step: Self.niceStep((span > 0 ? span : 1) / Double(Swift.max(intervals, 1)), integers: false))
    }

    private init(low: Double, high: Double, step: Double) {
        (self.low, self.high, self.step) = (low, high, step)
        let first = (low / step - 1e-9).rounded(.up), last = (high / step + 1e-9).rounded(.down)
        ticks = first <= last ? stride(from: first, through: last, by: 1).map { $0 * step } : []
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^k that is at least `raw` (whole when `integers`).
    static func niceStep(_ raw: Double, integers: Bool) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let magnitude = Foundation.pow(10, (Foundation.log10(raw)).rounded(.down))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? 10 * magnitude
        return integers ? Swift.max(1, step.rounded(.up)) : step
    }

    /// `value`'s place between `from` (at `low`) and `to` (at `high`).
    func position(_ value: Double, from start: Double, to end: Double) -> Double {
        high > low ? start + (value - low) / (high - low) * (end - start) : (start + end) / 2
    }

    /// Each tick's label, all with one suffix or exponent and as many decimals as the step needs.
    var labels: [String] { ticks.map(label) }

    /// A value on this axis written as its ticks are.
    func label(_ value: Double) -> String {
        if isLogarithmic {
            // 10^k: 0.001 … 100, then the SI suffixes, then exponents.
            let k = Int(value.rounded())
            switch k {
            case -3 ..< 0: return "0." + String(repeating: "0", count: -k - 1) + "1"
            case 0 ..< 15: return ["1", "10", "100"][k % 3] + ["", "k", "M", "G", "T"][k / 3]
            default: return "1e\(k)"
            }
        }
        if Swift.abs(value) < step * 1e-6 { return "0" }
        let largest = Swift.max(Swift.abs(low), Swift.abs(high), step)
        if largest >= 1e15 || largest < 1e-3 {
            // Each tick in its own exponent (5e-6, 1e-5), with the digits the step needs.
            let exponent = Int((Foundation.log10(Swift.abs(value)) + 1e-9).rounded(.down))
            let digits = Swift.max(0, exponent - Int(Foundation.log10(step).rounded(.down)) + (isHalfStep ? 1 : 0))
            var mantissa = String(format: "%.\(digits)f", value / Foundation.pow(10, Double(exponent)))
            if mantissa.contains(".") {
                while mantissa.hasSuffix("0") { mantissa.removeLast() }
                if mantissa.hasSuffix(".") { mantissa.removeLast() }
            }
            return "\(mantissa)e\(exponent)"
        }
        let (divisor, suffix) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")].first { largest >= $0.0 } ?? (1, "")
        return String(format: "%.\(Self.decimals(step / divisor))f", value / divisor) + suffix
    }

    /// The widest label, in pixels at font size 11 (about 6.5 px a character).
    var labelWidth: Double { Double(labels.map(\.count).max() ?? 1) * 6.5 }

    private var isHalfStep: Bool {
        let leading = step / Foundation.pow(10, Foundation.log10(step).rounded(.down))
        return Swift.abs(leading - 2.5) < 1e-6
    }

    /// The decimals that write multiples of `step` exactly (0.25 needs 2, 50 none).
    private static func decimals(_ step: Double) -> Int {
        for digits in 0...12 {
            let scaled = step * Foundation.pow(10, Double(digits))
            if Swift.abs(scaled - scaled.rounded()) < 1e-6 * Swift.max(scaled, 1) { return digits }
        }
        return 12
    }
}
