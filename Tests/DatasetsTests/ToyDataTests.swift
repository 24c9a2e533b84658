import Foundation
import Testing
@testable import Datasets

@Suite("toy data sets")
struct ToyDataTests {
    @Test("each set: 2-D points (1-D for housing), balanced classes, shuffled, the same for the same seed", arguments: ToyData.names)
    func shapes(name: String) throws {
        let data = try ToyData.dataset(name, samples: 300, seed: 4)
        let again = try ToyData.dataset(name, samples: 300, seed: 4)
        let other = try ToyData.dataset(name, samples: 300, seed: 5)
        #expect(data.features == again.features, "same seed, same data")
        #expect(data.features != other.features)
        if name == "housing" {
            #expect(data.features.shape == [300, 1] && data.task == .regression)
            guard case .values(let prices)? = data.targets else { Issue.record("no prices"); return }
            // Below 750 ft² the ReLU is off: prices there are noise around 0; above, 200 k$ per 1000 ft².
            let big = zip(data.features.scalars, prices.scalars).filter { $0.0 > 3 }.map { Double($0.1) }
            #expect(big.allSatisfy { $0 > 300 && $0 < 650 }, "\(big.prefix(5))")
        } else {
            #expect(data.features.shape == [300, 2])
            guard case .classes(let labels, let classes)? = data.targets else { Issue.record("no labels"); return }
            let count = classes.count
            for k in 0..<count { #expect(labels.filter { $0 == k }.count == 300 / count) }
            #expect(Array(labels.prefix(12)) != (0..<12).map { $0 % count }, "the examples are shuffled")
        }
    }

    @Test("the labels follow each set's rule on noise-free points")
    func rules() throws {
        func points(_ name: String, classes: Int = 3) throws -> [(x: Float, y: Float, label: Int)] {
            let data = try ToyData.dataset(name, samples: 400, noise: 0, classes: classes, seed: 1)
            guard case .classes(let labels, _)? = data.targets else { return [] }
            return labels.indices.map { (data.features.scalars[2 * $0], data.features.scalars[2 * $0 + 1], labels[$0]) }
        }
        for p in try points("xor") { #expect((p.x * p.y < 0 ? 1 : 0) == p.label && abs(p.x) >= 0.2 && abs(p.y) >= 0.2) }
        for p in try points("circles") {
            let radius = (p.x * p.x + p.y * p.y).squareRoot()
            #expect(abs(radius - (p.label == 0 ? 1 : 0.5)) < 1e-5)
        }
        for p in try points("checkerboard") {
            #expect((Int((2 * p.x + 2).rounded(.down)) + Int((2 * p.y + 2).rounded(.down))) % 2 == p.label)
        }
        for p in try points("sine") { #expect((Double(p.y) > sin(.pi * Double(p.x)) / 2 ? 1 : 0) == p.label) }
        #expect(Set(try points("spirals", classes: 5).map(\.label)) == Set(0..<5))
    }

    @Test("an unknown set, too few samples, negative noise or one class are one-line errors")
    func errors() {
        for (make, words) in [
            ({ try ToyData.dataset("swirl") }, "unknown toy data set"),
            ({ try ToyData.dataset("moons", samples: 1) }, "samples must be in 2"),
            ({ try ToyData.dataset("moons", noise: -1) }, "noise must be ≥ 0"),
            ({ try ToyData.dataset("spirals", classes: 1) }, "classes must be in 2"),
        ] as [(() throws -> Dataset<Float>, String)] {
            do {
                _ = try make()
                Issue.record("no error for \(words)")
            } catch {
                #expect("\(error)".contains(words) && !"\(error)".contains("\n"), "\(error)")
            }
        }
    }
}
