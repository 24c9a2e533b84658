import Foundation
import Testing
@testable import NeuralNetworks
import Tensors

/// Statistical checks use 100 000 draws. For the sample mean of N(0, σ²) the standard
/// error is σ/√n ≈ 0.0032σ; for the sample variance s² it is σ²√(2/n) ≈ 0.0045σ². For
/// U(−a, a) (variance a²/3, fourth central moment a⁴/5) the standard error of s² is
/// a²√(4/45/n) ≈ 0.00094a², i.e. 0.28 % of a²/3. Every bound below is at least 5
/// standard errors (a false failure has probability below 10⁻⁶), yet tight enough to
/// catch a wrong formula (e.g. 1/fan instead of 2/fan is off by 50 %, fanIn instead of
/// fanIn + fanOut by far more).
@Suite("Initialisers")
struct InitializerTests {
    static let draws = 100_000

    static func moments(_ values: [Double]) -> (mean: Double, variance: Double) {
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
        return (mean, variance)
    }

    static func draw(_ initializer: Initializer, fanIn: Int, fanOut: Int, seed: UInt64 = 1) -> [Double] {
        var generator = RandomSource(seed: seed)
        let t: Tensor<Double> = initializer.make([draws], fanIn: fanIn, fanOut: fanOut, using: &generator)
        #expect(t.shape == [draws])
        return t.scalars
    }

    @Test("zeros and constant are exact")
    func exactInitializers() {
        var generator = RandomSource(seed: 1)
        let before = generator
        let z: Tensor<Float> = Initializer.zeros.make([3, 4], fanIn: 4, fanOut: 3, using: &generator)
        #expect(z.shape == [3, 4] && z.scalars == [Float](repeating: 0, count: 12))
        let c: Tensor<Double> = Initializer.constant(0.37).make([2, 5], fanIn: 5, fanOut: 2, using: &generator)
        #expect(c.shape == [2, 5] && c.scalars == [Double](repeating: 0.37, count: 10))
        #expect(generator == before, "constant initialisers draw nothing")
    }

    @Test("normal(σ): mean 0, standard deviation σ", arguments: [0.1, 1.0, 3.0])
    func normal(sigma: Double) {
        let values = Self.draw(.normal(standardDeviation: sigma), fanIn: 10, fanOut: 10)
        let (mean, variance) = Self.moments(values)
        #expect(Swift.abs(mean) < 5 * sigma / Double(Self.draws).squareRoot())
        #expect(Swift.abs(variance / (sigma * sigma) - 1) < 5 * (2.0 / Double(Self.draws)).squareRoot())
    }

    @Test("xavierNormal: σ² = 2/(fanIn + fanOut) (eq. 3.13); heNormal: σ² = 2/fanIn",
          arguments: [(784, 300), (10, 10), (3, 50)])
    func normalVariants(fans: (Int, Int)) {
        let (fanIn, fanOut) = fans
        let relativeBound = 5 * (2.0 / Double(Self.draws)).squareRoot()  // ≈ 2.2 %
        for (initializer, target) in [(Initializer.xavierNormal, 2.0 / Double(fanIn + fanOut)),
                                      (Initializer.heNormal, 2.0 / Double(fanIn))] {
            let (mean, variance) = Self.moments(Self.draw(initializer, fanIn: fanIn, fanOut: fanOut))
            #expect(Swift.abs(mean) < 5 * target.squareRoot() / Double(Self.draws).squareRoot(), "\(initializer)")
            #expect(Swift.abs(variance / target - 1) < relativeBound, "\(initializer): variance \(variance), expected \(target)")
        }
    }

    @Test("xavierUniform: U(±√(6/(fanIn+fanOut))); heUniform: U(±√(6/fanIn)) — bounds and variance",
          arguments: [(784, 300), (10, 10), (3, 50)])
    func uniformVariants(fans: (Int, Int)) {
        let (fanIn, fanOut) = fans
        for (initializer, bound) in [(Initializer.xavierUniform, (6.0 / Double(fanIn + fanOut)).squareRoot()),
                                     (Initializer.heUniform, (6.0 / Double(fanIn)).squareRoot())] {
            let values = Self.draw(initializer, fanIn: fanIn, fanOut: fanOut)
            #expect(values.allSatisfy { $0 >= -bound && $0 <= bound }, "\(initializer) outside ±\(bound)")
            // The extremes come close to the bounds: the chance that none of 10⁵ draws falls
            // in the outer 0.1 % at one end is (1 − 0.0005)¹⁰⁰⁰⁰⁰ ≈ e⁻⁵⁰.
            #expect(values.min()! < -bound * 0.999 && values.max()! > bound * 0.999, "\(initializer)")
            let (mean, variance) = Self.moments(values)
            let target = bound * bound / 3  // = 2/(fanIn + fanOut), resp. 2/fanIn
            #expect(Swift.abs(mean) < 5 * target.squareRoot() / Double(Self.draws).squareRoot())
            #expect(Swift.abs(variance / target - 1) < 5 * 3 * (4.0 / 45 / Double(Self.draws)).squareRoot(),
                    "\(initializer): variance \(variance), expected \(target)")
        }
    }

    @Test("uniform(a, b) stays in [a, b)")
    func uniformRange() {
        let values = Self.draw(.uniform(lowerBound: -0.5, upperBound: 2), fanIn: 1, fanOut: 1)
        #expect(values.allSatisfy { $0 >= -0.5 && $0 < 2 })
        let (mean, variance) = Self.moments(values)
        #expect(Swift.abs(mean - 0.75) < 0.01)  // σ = 2.5/√12 ≈ 0.72; 5σ/√n ≈ 0.011
        #expect(Swift.abs(variance / (2.5 * 2.5 / 12) - 1) < 0.015)
    }

    @Test("same seed → same values; different seed → different", arguments: [
        Initializer.normal(standardDeviation: 0.1), .xavierNormal, .xavierUniform, .heNormal, .heUniform,
        .uniform(lowerBound: 0, upperBound: 1),
    ])
    func seeded(initializer: Initializer) {
        var g1 = RandomSource(seed: 5), g2 = RandomSource(seed: 5), g3 = RandomSource(seed: 6)
        let a: Tensor<Float> = initializer.make([4, 6], fanIn: 6, fanOut: 4, using: &g1)
        let b: Tensor<Float> = initializer.make([4, 6], fanIn: 6, fanOut: 4, using: &g2)
        let c: Tensor<Float> = initializer.make([4, 6], fanIn: 6, fanOut: 4, using: &g3)
        #expect(a == b)
        #expect(a != c)
        #expect(Set(a.scalars).count > 20, "draws are not constant")
    }

    @Test("recommended initialiser: He for ReLU-like, Xavier otherwise")
    func recommended() {
        #expect(Initializer.recommended(for: .relu) == .heNormal)
        #expect(Initializer.recommended(for: .leakyReLU) == .heNormal)
        #expect(Initializer.recommended(for: .sigmoid) == .xavierNormal)
        #expect(Initializer.recommended(for: .tanh) == .xavierNormal)
    }
}
