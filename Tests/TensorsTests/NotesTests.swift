import Foundation
import Testing
@testable import Tensors

/// The hand-derived results of the CS229 deep-learning notes, reproduced by autodiff.
@Suite("CS229 notes: hand results")
struct NotesTests {
    /// σ(z) computed directly with libm, independently of the library's kernels.
    static func σ(_ z: Double) -> Double { 1 / (1 + Foundation.exp(-z)) }

    @Test("σ'(z) = σ(z)(1 − σ(z)) (eq. 1.4)")
    func sigmoidDerivative() throws {
        let values: [Double] = [-12, -4, -1.5, -0.25, 0, 0.1, 1, 3.5, 9]
        let z = Tensor(values).requiringGradient()
        let a = z.sigmoid()
        a.sum().backward()
        let expected = values.map { Self.σ($0) * (1 - Self.σ($0)) }
        let gradient = try #require(z.gradient)
        #expect(maxAbsDifference(gradient.scalars, expected) < 1e-14, "\(gradient)")
        // The forward value is σ itself, and σ'(0) = 1/4 exactly.
        #expect(maxAbsDifference(a.scalars, values.map(Self.σ)) < 1e-14)
        #expect(gradient.scalars[4] == 0.25)
    }

    @Test("tanh' = 1 − tanh² (eq. 1.6)")
    func tanhDerivative() {
        let values: [Double] = [-3, -0.5, 0, 0.7, 2]
        let z = Tensor(values).requiringGradient()
        z.tanh().sum().backward()
        let expected = values.map { 1 - Foundation.tanh($0) * Foundation.tanh($0) }
        #expect(maxAbsDifference(z.gradient?.scalars ?? [], expected) < 1e-14)
    }

    @Test("logistic regression: ∇W = (a − y)xᵀ (eq. 3.21), ∇b = a − y",
          arguments: testSeeds, [0.0, 1.0])
    func logisticRegression(seed: UInt64, y: Double) throws {
        var inputs = Inputs(seed: seed)
        let n = 3 + inputs.int(0...4)
        let x = inputs.normal([n, 1])                           // a column vector in Rⁿ
        let W = (0.5 * inputs.normal([1, n])).requiringGradient()  // W ∈ R^{1×n}
        let b = inputs.normal([1, 1]).requiringGradient()
        let a = (matmul(W, x) + b).sigmoid()
        let loss = -(y * a.log() + (1 - y) * (1 - a).log())
        #expect(loss.shape == [1, 1])
        loss.backward()

        let aValue = a.scalar
        let expectedW = x.scalars.map { (aValue - y) * $0 }      // (a − y)xᵀ, a 1×n row
        let gradientW = try #require(W.gradient)
        #expect(gradientW.shape == [1, n], "seed \(seed)")
        #expect(maxAbsDifference(gradientW.scalars, expectedW) < 1e-12, "seed \(seed): \(gradientW) vs \(expectedW)")
        #expect(Swift.abs((b.gradient?.scalar ?? .nan) - (aValue - y)) < 1e-12, "seed \(seed)")

        // a itself agrees with σ(Wx + b) computed by hand.
        let z = zip(W.scalars, x.scalars).map { $0 * $1 }.reduce(0, +) + b.scalar
        #expect(Swift.abs(aValue - Self.σ(z)) < 1e-14, "seed \(seed)")
    }

    @Test("logistic regression over a batch: ∇W = (1/m)Σ(aᵢ − yᵢ)xᵢᵀ", arguments: testSeeds)
    func logisticRegressionBatch(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let (m, n) = (6, 4)
        let X = inputs.normal([m, n])                 // examples in rows
        let Y = Tensor<Double>(shape: [m, 1], scalars: (0..<m).map { _ in Double(inputs.int(0...1)) })
        let W = inputs.normal([1, n]).requiringGradient()
        let b = inputs.normal([1]).requiringGradient()
        let A = (Tensor.matmul(X, transposed: false, W, transposed: true) + b).sigmoid()     // [m, 1]
        let loss = -(Y * A.log() + (1 - Y) * (1 - A).log()).mean()
        loss.backward()
        var expectedW = [Double](repeating: 0, count: n)
        var expectedB = 0.0
        for i in 0..<m {
            let residual = A.scalars[i] - Y.scalars[i]
            for j in 0..<n { expectedW[j] += residual * X[i, j] / Double(m) }
            expectedB += residual / Double(m)
        }
        #expect(maxAbsDifference(W.gradient?.scalars ?? [], expectedW) < 1e-12, "seed \(seed)")
        #expect(maxAbsDifference(b.gradient?.scalars ?? [], [expectedB]) < 1e-12, "seed \(seed)")
    }

    @Test("softmax with cross-entropy: ∂L/∂z = ŷ − y", arguments: testSeeds)
    func softmaxCrossEntropy(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let k = 2 + inputs.int(0...5)
        let label = inputs.int(0...(k - 1))
        let y = Tensor<Double>((0..<k).map { $0 == label ? 1 : 0 })
        let zValues = 2 * inputs.normal([k])

        // ŷ by hand with libm.
        let exps = zValues.scalars.map { Foundation.exp($0) }
        let total = exps.reduce(0, +)
        let expected = zip(exps, y.scalars).map { $0 / total - $1 }

        // With logSoftmax.
        let z1 = zValues.requiringGradient()
        let loss1 = -(y * z1.logSoftmax()).sum()
        loss1.backward()
        #expect(maxAbsDifference(z1.gradient?.scalars ?? [], expected) < 1e-12, "seed \(seed), logSoftmax")
        #expect(Swift.abs(loss1.scalar - (Foundation.log(total) - zValues.scalars[label])) < 1e-12, "seed \(seed)")

        // With softmax, then log.
        let z2 = zValues.requiringGradient()
        let loss2 = -(y * z2.softmax().log()).sum()
        loss2.backward()
        #expect(maxAbsDifference(z2.gradient?.scalars ?? [], expected) < 1e-12, "seed \(seed), softmax then log")
        #expect(Swift.abs(loss1.scalar - loss2.scalar) < 1e-12, "seed \(seed)")

        // For a batch [m, k], with the mean over examples: (ŷ − y)/m row by row, along axis 1;
        // and the same along axis 0 for examples in columns [k, m].
        let m = 3
        let scores = inputs.normal([m, k])
        let labels = (0..<m).map { _ in inputs.int(0...(k - 1)) }
        let oneHot = Tensor<Double>(shape: [m, k], scalars: (0..<m * k).map { labels[$0 / k] == $0 % k ? 1 : 0 })
        let rows = scores.requiringGradient()
        (-(oneHot * rows.logSoftmax(alongAxis: 1)).sum() / Double(m)).backward()
        let columns = scores.transposed().requiringGradient()
        (-(oneHot.transposed() * columns.softmax(alongAxis: 0).log()).sum() / Double(m)).backward()
        var expectedBatch = [Double]()
        for i in 0..<m {
            let e = (0..<k).map { Foundation.exp(scores[i, $0]) }
            let s = e.reduce(0, +)
            expectedBatch += (0..<k).map { (e[$0] / s - oneHot[i, $0]) / Double(m) }
        }
        #expect(maxAbsDifference(rows.gradient?.scalars ?? [], expectedBatch) < 1e-12, "seed \(seed), batch")
        let columnsBack = columns.gradient.map { g in withoutGradients { g.transposed() } }
        #expect(maxAbsDifference(columnsBack?.scalars ?? [], expectedBatch) < 1e-12, "seed \(seed), axis 0")
    }
}
