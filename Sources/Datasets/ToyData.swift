import Foundation
import Tensors

/// Small data sets with a known answer, generated from a seed: the 2-D classification
/// problems learners draw decision boundaries on, and the notes' housing example.
///
/// | name | examples |
/// | --- | --- |
/// | `xor` | points in the four quadrants, away from the axes; class 1 where x·y > 0 is false (XOR of the signs) |
/// | `moons` | two interleaving half circles (scikit-learn's `make_moons`) |
/// | `circles` | a circle inside a circle of twice its radius (`make_circles`, factor 0.5) |
/// | `spirals` | `classes` spiral arms winding out from the centre |
/// | `blobs` | `classes` Gaussian blobs on a circle of radius 3 |
/// | `checkerboard` | a 4×4 board on [−1, 1]², class = colour of the square |
/// | `sine` | points on [−1, 1]², class 1 above y = sin(πx)/2 |
/// | `housing` | 1-D regression: a house's price (k$) from its size (1000 ft²), a ReLU of the size plus noise: the notes' single neuron |
///
/// `noise` is the standard deviation of Gaussian noise added to each coordinate (each
/// set's own default when nil); classes are balanced, examples shuffled.
public enum ToyData {
    public static let names = ["xor", "moons", "circles", "spirals", "blobs", "checkerboard", "sine", "housing"]

    /// Each set's noise when none is given.
    public static func defaultNoise(_ name: String) -> Double {
        switch name {
        case "xor": return 0.05
        case "moons": return 0.1
        case "circles": return 0.05
        case "spirals": return 0.1
        case "blobs": return 0.5
        case "housing": return 20
        default: return 0.02
        }
    }

    /// The set `name` with `samples` examples; throws one line for an unknown name or a
    /// setting out of range.
    public static func dataset(
        _ name: String, samples: Int = 400, noise: Double? = nil, classes: Int = 3, seed: UInt64 = 0
    ) throws(DatasetError) -> Dataset<Float> {
        let source = "toy:\(name)"
        guard names.contains(name) else {
            throw .mismatch("\(source): unknown toy data set (known: \(names.joined(separator: ", ")))")
        }
        guard samples >= 2 && samples <= 10_000_000 else {
            throw .mismatch("\(source): samples must be in 2…10 000 000, got \(samples)")
        }
        let sigma = noise ?? defaultNoise(name)
        guard sigma >= 0 && sigma.isFinite else { throw .mismatch("\(source): noise must be ≥ 0, got \(sigma)") }
        let classCount = ["spirals", "blobs"].contains(name) ? classes : 2
        guard classCount >= 2 && classCount <= 100 else {
            throw .mismatch("\(source): classes must be in 2…100, got \(classes)")
        }
        var random = RandomSource(seed: seed)
        func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * random.nextUnitInterval() }
        func gaussian() -> Double { sigma * random.nextNormals(count: 1)[0] }

        if name == "housing" {
            var sizes: [Float] = [], prices: [Float] = []
            for _ in 0..<samples {
                let size = uniform(0.5, 3.5)
                sizes.append(Float(size))
                prices.append(Float(max(0, 200 * (size - 0.75)) + gaussian()))
            }
            var data = try Dataset(features: Tensor(shape: [samples, 1], scalars: sizes),
                                   targets: .values(Tensor(shape: [samples, 1], scalars: prices)),
                                   featureNames: ["size"])
            data.targetName = "price"
            data.taskReason = "the toy set's prices"
            return data
        }

        var points: [Float] = []
        var labels: [Int] = []
        for index in 0..<samples {
            let label = index % classCount
            let (x, y): (Double, Double)
            switch name {
            case "xor":
                let (sx, sy): (Double, Double) = label == 0
                    ? (random.nextUnitInterval() < 0.5 ? (1, 1) : (-1, -1)) : (random.nextUnitInterval() < 0.5 ? (1, -1) : (-1, 1))
                (x, y) = (sx * uniform(0.2, 1) + gaussian(), sy * uniform(0.2, 1) + gaussian())
            case "moons":
                let t = uniform(0, .pi)
                (x, y) = label == 0 ? (cos(t) + gaussian(), sin(t) + gaussian()) : (1 - cos(t) + gaussian(), 0.5 - sin(t) + gaussian())
            case "circles":
                let t = uniform(0, 2 * .pi), radius = label == 0 ? 1.0 : 0.5
                (x, y) = (radius * cos(t) + gaussian(), radius * sin(t) + gaussian())
            case "spirals":
                let r = uniform(0.05, 1)
                let angle = 2 * .pi * Double(label) / Double(classCount) + 4 * r
                (x, y) = (r * cos(angle) + gaussian() * r, r * sin(angle) + gaussian() * r)
            case "blobs":
                let angle = 2 * .pi * Double(label) / Double(classCount)
                (x, y) = (3 * cos(angle) + gaussian(), 3 * sin(angle) + gaussian())
            case "checkerboard":
                // Draw until the point's square has the colour of the label.
                var point = (uniform(-1, 1), uniform(-1, 1))
                while (Int(floor(2 * point.0 + 2)) + Int(floor(2 * point.1 + 2))) % 2 != label {
                    point = (uniform(-1, 1), uniform(-1, 1))
                }
                (x, y) = (point.0 + gaussian(), point.1 + gaussian())
            default:  // sine
                var point = (uniform(-1, 1), uniform(-1, 1))
                while (point.1 > sin(.pi * point.0) / 2 ? 1 : 0) != label { point = (uniform(-1, 1), uniform(-1, 1)) }
                (x, y) = (point.0 + gaussian(), point.1 + gaussian())
            }
            points += [Float(x), Float(y)]
            labels.append(label)
        }
        // Shuffle the examples (the loop above alternates the classes).
        var order = Array(0..<samples)
        for i in stride(from: samples - 1, to: 0, by: -1) {
            order.swapAt(i, Int(random.next() % UInt64(i + 1)))
        }
        let features = Tensor<Float>(shape: [samples, 2], scalars: order.flatMap { [points[2 * $0], points[2 * $0 + 1]] })
        var data = try Dataset(features: features, targets: .labels(order.map { labels[$0] }, classes: classCount),
                               featureNames: ["x1", "x2"])
        data.targetName = "class"
        data.taskReason = "the toy set's \(classCount) classes"
        return data
    }
}
