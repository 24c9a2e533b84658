import Foundation
import Testing
@testable import Tensors

@Suite("Tensor basics")
struct TensorBasicsTests {
    // MARK: Construction and access

    @Test("init from scalars, arrays and rows")
    func construction() {
        let scalar = Tensor<Double>(2.5)
        #expect(scalar.shape == [] && scalar.rank == 0 && scalar.count == 1 && scalar.scalar == 2.5)

        let vector = Tensor<Float>([1, 2, 3])
        #expect(vector.shape == [3] && vector.rank == 1 && vector.scalars == [1, 2, 3])

        let matrix = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(matrix.shape == [2, 3])
        #expect(matrix.rank == 2 && matrix.count == 6)
        #expect(matrix.scalars == [1, 2, 3, 4, 5, 6])
        #expect(matrix[0, 0] == 1 && matrix[0, 2] == 3 && matrix[1, 0] == 4 && matrix[1, 2] == 6)

        let cube = Tensor<Double>(shape: [2, 3, 4], scalars: (0..<24).map(Double.init))
        #expect(cube[1, 2, 3] == 23 && cube[1, 0, 2] == 14 && cube[0, 2, 1] == 9)

        let empty = Tensor<Double>(shape: [0, 3], scalars: [])
        #expect(empty.count == 0 && empty.shape == [0, 3])
    }

    @Test("doubleScalars: every Float and Double value exactly, in row-major order")
    func doubleScalars() {
        let floats: [Float] = [1, -0.1, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.infinity, 3e-39]
        let f = Tensor<Float>(shape: [2, 3], scalars: floats)
        #expect(f.doubleScalars == floats.map { Double($0) })
        #expect(f.doubleScalars[1] != -0.1, "Float's 0.1 is not Double's")
        let doubles: [Double] = [0.1, -2, .pi, .leastNormalMagnitude]
        #expect(Tensor<Double>(shape: [4], scalars: doubles).doubleScalars == doubles)
        #expect(Tensor<Float>(shape: [0, 3], scalars: []).doubleScalars.isEmpty)
    }

    @Test("zeros, ones, repeating")
    func filled() {
        let z = Tensor<Double>.zeros([2, 3])
        #expect(z.shape == [2, 3] && z.scalars == [Double](repeating: 0, count: 6))
        let o = Tensor<Float>.ones([4])
        #expect(o.shape == [4] && o.scalars == [1, 1, 1, 1])
        let r = Tensor<Double>(repeating: 7, shape: [1, 2, 2])
        #expect(r.count == 4 && r.scalars.allSatisfy { $0 == 7 })
        #expect(Tensor<Double>.ones([]).shape == [] && Tensor<Double>.ones([]).scalar == 1)
    }

    @Test("equality, description, conversion")
    func equalityAndConversion() {
        let a = Tensor<Double>([[1, 2], [3, 4]])
        #expect(a == Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        #expect(a != Tensor(shape: [4], scalars: [1, 2, 3, 4]), "same values, other shape")
        #expect(a != Tensor([[1, 2], [3, 5]]))
        #expect(a.requiringGradient() == a, "gradient history is ignored")
        #expect(a.description.contains("[2, 2]"))
        let f: Tensor<Float> = a.converted()
        #expect(f.shape == [2, 2] && f.scalars == [1, 2, 3, 4])
        #expect(Tensor<Double>([0.1]).converted(to: Float.self).scalar == Float(0.1))
    }

    // MARK: Shapes

    @Test("reshape, with a dimension inferred from -1")
    func reshape() {
        let x = Tensor<Double>(shape: [2, 3, 4], scalars: (0..<24).map(Double.init))
        let y = x.reshaped(to: [-1, 4])
        #expect(y.shape == [6, 4])
        #expect(y.scalars == x.scalars)
        #expect(x.reshaped(to: [4, -1, 2]).shape == [4, 3, 2])
        #expect(x.reshaped(to: [-1]).shape == [24])
        #expect(x.reshaped(to: [24, 1]).shape == [24, 1])
        #expect(x.flattenedBatch().shape == [2, 12])
        #expect(Tensor<Double>(5).reshaped(to: [1, 1]).shape == [1, 1])
    }

    @Test("transposed values")
    func transpose() {
        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        let t = x.transposed()
        #expect(t.shape == [3, 2])
        #expect(t == Tensor([[1, 4], [2, 5], [3, 6]]))
        #expect(t.transposed() == x)
        #expect(Tensor<Double>([[7]]).transposed() == Tensor([[7]]))
        let row = Tensor<Double>([[1, 2, 3]])
        #expect(row.transposed().shape == [3, 1] && row.transposed().scalars == [1, 2, 3])
    }

    @Test("gather rows, repeats allowed")
    func gather() {
        let x = Tensor<Double>([[1, 2], [3, 4], [5, 6]])
        #expect(x.gatheringRows([2, 0, 2]) == Tensor([[5, 6], [1, 2], [5, 6]]))
        #expect(x.gatheringRows([]).shape == [0, 2])
        #expect(Tensor<Double>([10, 20, 30]).gatheringRows([1, 1]) == Tensor([20, 20]))
        let cube = Tensor<Double>(shape: [3, 1, 2], scalars: [0, 1, 2, 3, 4, 5])
        #expect(cube.gatheringRows([1]) == Tensor(shape: [1, 1, 2], scalars: [2, 3]))
    }

    @Test("concatenate values along axis 0 and 1, and slice")
    func concatenateAndSlice() {
        let a = Tensor<Double>([[1, 2], [3, 4]])
        let b = Tensor<Double>([[5, 6]])
        #expect(Tensor.concatenate([a, b], alongAxis: 0) == Tensor([[1, 2], [3, 4], [5, 6]]))
        let c = Tensor<Double>([[7], [8]])
        #expect(Tensor.concatenate([a, c], alongAxis: 1) == Tensor([[1, 2, 7], [3, 4, 8]]))
        #expect(Tensor.concatenate([c, a, c], alongAxis: -1) == Tensor([[7, 1, 2, 7], [8, 3, 4, 8]]))
        #expect(Tensor.concatenate([Tensor<Double>([1, 2]), Tensor([3])]) == Tensor([1, 2, 3]))

        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        #expect(x.slice(alongAxis: 0, 1..<3) == Tensor([[4, 5, 6], [7, 8, 9]]))
        #expect(x.slice(alongAxis: 1, 0..<2) == Tensor([[1, 2], [4, 5], [7, 8]]))
        #expect(x.slice(alongAxis: -1, 2..<3) == Tensor([[3], [6], [9]]))
        #expect(x.slice(alongAxis: 0, 1..<1).shape == [0, 3])
    }

    @Test("broadcasting arithmetic values")
    func broadcastValues() {
        let m = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(m + Tensor([10, 20, 30]) == Tensor([[11, 22, 33], [14, 25, 36]]))
        #expect(m * Tensor(shape: [2, 1], scalars: [1, -1]) == Tensor([[1, 2, 3], [-4, -5, -6]]))
        #expect(m - 1 == Tensor([[0, 1, 2], [3, 4, 5]]))
        #expect(12 / Tensor<Double>([3, 4]) == Tensor([4, 3]))
        #expect(-m == Tensor([[-1, -2, -3], [-4, -5, -6]]))
        #expect(Tensor<Double>([1, 2]).broadcast(to: [2, 2]) == Tensor([[1, 2], [1, 2]]))
        #expect(Tensor<Double>([[1], [2]]).broadcast(to: [2, 3]) == Tensor([[1, 1, 1], [2, 2, 2]]))
        #expect(Tensor<Double>(shape: [1, 3], scalars: [1, 2, 3]) + Tensor(shape: [2, 1], scalars: [10, 20])
                == Tensor([[11, 12, 13], [21, 22, 23]]))
        #expect(m.summed(toShape: [3]) == Tensor([5, 7, 9]))
        #expect(m.summed(toShape: [2, 1]) == Tensor(shape: [2, 1], scalars: [6, 15]))
        #expect(m.summed(toShape: [1, 3]) == Tensor(shape: [1, 3], scalars: [5, 7, 9]))
        #expect(m.summed(toShape: []) == Tensor(21))
        #expect(Tensor.maximum(m, Tensor([2, 7, 0])) == Tensor([[2, 7, 3], [4, 7, 6]]))
    }

    @Test("matmul values in all transpose combinations")
    func matmulValues() {
        let a = Tensor<Double>([[1, 2], [3, 4], [5, 6]])       // [3, 2]
        let b = Tensor<Double>([[1, 0, 2], [-1, 3, 1]])        // [2, 3]
        let ab = Tensor<Double>([[-1, 6, 4], [-1, 12, 10], [-1, 18, 16]])
        #expect(matmul(a, b) == ab)
        #expect(Tensor.matmul(a.transposed(), transposed: true, b) == ab)
        #expect(Tensor.matmul(a, transposed: false, b.transposed(), transposed: true) == ab)
        #expect(Tensor.matmul(a.transposed(), transposed: true, b.transposed(), transposed: true) == ab)
        #expect(Tensor.matmul(a, transposed: true, a) == Tensor([[35, 44], [44, 56]]))
        let f = Tensor<Float>([[1, 2], [3, 4]])
        #expect(matmul(f, f) == Tensor([[7, 10], [15, 22]]))
    }

    // MARK: Reductions

    @Test("sum and mean values, overall and along axes")
    func reductions() {
        let x = Tensor<Double>(shape: [2, 3, 2], scalars: (1...12).map(Double.init))
        #expect(x.sum().shape == [] && x.sum().scalar == 78)
        #expect(x.mean().scalar == 6.5)
        #expect(x.sum(alongAxis: 0) == Tensor([[8, 10], [12, 14], [16, 18]]))
        #expect(x.sum(alongAxis: 1) == Tensor([[9, 12], [27, 30]]))
        #expect(x.sum(alongAxis: 2) == Tensor([[3, 7, 11], [15, 19, 23]]))
        #expect(x.sum(alongAxis: -1) == x.sum(alongAxis: 2))
        #expect(x.sum(alongAxis: 1, keepingDimension: true).shape == [2, 1, 2])
        #expect(x.sum(alongAxis: 1, keepingDimension: true).scalars == [9, 12, 27, 30])
        #expect(x.mean(alongAxis: 1) == Tensor([[3, 4], [9, 10]]))
        #expect(x.mean(alongAxis: 0, keepingDimension: true).shape == [1, 3, 2])
        #expect(x.max(alongAxis: 1) == Tensor([[5, 6], [11, 12]]))
        #expect(x.max(alongAxis: 2, keepingDimension: true).shape == [2, 3, 1])
        #expect(Tensor<Double>([-3, -1, -2]).max(alongAxis: 0).scalar == -1)
        #expect(Tensor<Double>([[1, 2], [3, 4]]).mean(alongAxis: 1).scalars == [1.5, 3.5])
    }

    @Test("argmax takes the first of tied values")
    func argmax() {
        let x = Tensor<Double>([[1, 3, 3], [5, 5, 0], [-1, -2, -0.5], [2, 2, 2]])
        #expect(x.argmax() == [1, 0, 2, 0])
        #expect(x.argmax(alongAxis: 1) == [1, 0, 2, 0])
        #expect(x.argmax(alongAxis: 0) == [1, 1, 0])          // columns 1, 5, −1, 2 | 3, 5, −2, 2 | 3, 0, −0.5, 2
        #expect(Tensor<Double>([[4, 1], [4, 1]]).argmax(alongAxis: 0) == [0, 0])
        let y = Tensor<Double>([[0, 7], [7, 7]])
        #expect(y.argmax(alongAxis: 0) == [1, 0])
        #expect(Tensor<Float>([4, 9, 9, 1]).argmax() == [1])
        let cube = Tensor<Double>(shape: [2, 2, 2], scalars: [0, 5, 1, 5, 9, 9, 9, 8])
        #expect(cube.argmax(alongAxis: 1) == [1, 0, 0, 0])
    }

    @Test("comparisons give 1 and 0, with broadcasting")
    func comparisons() {
        let a = Tensor<Double>([1, 2, 3])
        let b = Tensor<Double>([3, 2, 1])
        #expect(a.isGreater(than: b).scalars == [0, 0, 1])
        #expect(a.isLess(than: b).scalars == [1, 0, 0])
        #expect(a.isEqual(to: b).scalars == [0, 1, 0])
        #expect(a.isGreaterOrEqual(to: b).scalars == [0, 1, 1])
        #expect(a.isLessOrEqual(to: b).scalars == [1, 1, 0])
        #expect(a.isGreater(than: Tensor(2)).scalars == [0, 0, 1])
        let m = Tensor<Double>([[1, 5], [4, 2]])
        #expect(m.isGreaterOrEqual(to: Tensor([2, 3])) == Tensor([[0, 1], [1, 0]]))
        #expect(!a.requiringGradient().isGreater(than: b).requiresGradient, "comparisons are not recorded")
    }

    // MARK: Elementwise values

    @Test("elementwise functions agree with libm", arguments: [UInt64(5)])
    func elementwiseValues(seed: UInt64) {
        var inputs = Inputs(seed: seed)
        let x = 3 * inputs.normal([1000])
        let positive = inputs.uniform([1000], 1e-3, 50)
        func check(_ name: String, _ got: Tensor<Double>, _ f: (Double) -> Double, _ input: Tensor<Double>) {
            let expected = input.scalars.map(f)
            #expect(maxRelativeDifference(got.scalars, expected) < 1e-14, "\(name), seed \(seed)")
        }
        check("exp", x.exp(), Foundation.exp, x)
        check("log", positive.log(), Foundation.log, positive)
        check("sqrt", positive.sqrt(), Foundation.sqrt, positive)
        check("tanh", x.tanh(), Foundation.tanh, x)
        check("sigmoid", x.sigmoid(), { 1 / (1 + Foundation.exp(-$0)) }, x)
        check("softplus", x.softplus(), { Foundation.log1p(Foundation.exp($0)) }, x)
        check("pow 2.5", positive.pow(2.5), { Foundation.pow($0, 2.5) }, positive)
        check("pow 0.5", positive.pow(0.5), { Foundation.pow($0, 0.5) }, positive)
        check("pow 3", x.pow(3), { $0 * $0 * $0 }, x)
        check("squared", x.squared(), { $0 * $0 }, x)
        check("abs", x.abs(), { Swift.abs($0) }, x)
        check("relu", x.relu(), { Swift.max($0, 0) }, x)
        check("leakyReLU", x.leakyReLU(slope: 0.1), { $0 >= 0 ? $0 : 0.1 * $0 }, x)
        #expect(Tensor<Double>([-2, 2]).pow(3).scalars == [-8, 8])
        // Integral exponents outside the kernel's exact cases (1, 2, 3, 0.5, −1) go through
        // exp(p·log|x|): correctly signed, and within a few ulps of libm (2⁴ gives
        // 15.999999999999998, one ulp below 16).
        check("pow 4", x.pow(4), { Foundation.pow($0, 4) }, x)
        check("pow 5", x.pow(5), { Foundation.pow($0, 5) }, x)
        #expect(maxRelativeDifference(Tensor<Double>([-2, 2]).pow(4).scalars, [16, 16]) < 1e-15)
        #expect(maxRelativeDifference(Tensor<Double>([-2, 2]).pow(5).scalars, [-32, 32]) < 1e-15)
        #expect(Tensor<Double>([0, 4]).pow(0.5).scalars == [0, 2])
        #expect(Tensor<Double>([-4]).pow(2.5).scalar.isNaN)
        #expect(Tensor<Double>([1000]).softplus().scalar == 1000)
        #expect(Tensor<Double>([-1000]).sigmoid().scalar == 0)
        #expect(Tensor<Double>([1000]).sigmoid().scalar == 1)
    }

    // MARK: Softmax stability

    @Test("softmax of [1000, 1000, 0] has no NaN and sums to 1")
    func softmaxStable() {
        let y = Tensor<Double>([1000, 1000, 0]).softmax()
        #expect(!y.scalars.contains { $0.isNaN || $0.isInfinite })
        let total: Double = y.scalars.reduce(0, +)
        #expect(Swift.abs(total - 1) < 1e-15)
        let (first, second, third): (Double, Double, Double) = (y.scalars[0], y.scalars[1], y.scalars[2])
        #expect(first == 0.5 && second == 0.5 && third < 1e-300)

        let f = Tensor<Float>([1000, 1000, 0]).softmax()
        #expect(!f.scalars.contains { $0.isNaN })
        let floatTotal: Float = f.scalars.reduce(0, +)
        #expect(Swift.abs(floatTotal - 1) < 1e-6)

        let columns = Tensor<Double>([[1000, -5], [1000, 3], [0, 800]]).softmax(alongAxis: 0)
        #expect(!columns.scalars.contains { $0.isNaN })
        #expect(maxAbsDifference(columns.sum(alongAxis: 0).scalars, [1, 1]) < 1e-15)
        #expect(columns[0, 0] == 0.5 && columns[2, 1] == 1)

        let plain = Tensor<Double>([1, 2, 3]).softmax()
        let e = [1.0, 2, 3].map { Foundation.exp($0) }
        #expect(maxAbsDifference(plain.scalars, e.map { $0 / e.reduce(0, +) }) < 1e-15)
    }

    @Test("logSoftmax is stable for large inputs")
    func logSoftmaxStable() {
        let y = Tensor<Double>([1000, 0, -1000]).logSoftmax()
        #expect(!y.scalars.contains { !$0.isFinite })
        #expect(maxAbsDifference(y.scalars, [0, -1000, -2000]) < 1e-12)
        let z = Tensor<Double>([[1000, 1000], [-2000, 5]]).logSoftmax()
        #expect(maxAbsDifference(z.scalars, [-Foundation.log(2), -Foundation.log(2), -2005, 0]) < 1e-12)
        let f = Tensor<Float>([500, 0, -500]).logSoftmax()
        #expect(f.scalars.allSatisfy { $0.isFinite })
        #expect(f.scalars[0] == 0 && f.scalars[2] == -1000)
        // exp(logSoftmax) = softmax on ordinary inputs.
        let x = Tensor<Double>([[0.3, -1, 2], [4, 4.5, -3]])
        #expect(maxAbsDifference(x.logSoftmax().exp().scalars, x.softmax().scalars) < 1e-15)
        #expect(maxAbsDifference(x.logSoftmax(alongAxis: 0).exp().scalars, x.softmax(alongAxis: 0).scalars) < 1e-15)
    }

    // MARK: Randomness

    @Test("the same seed gives the same values; another seed, others")
    func seededGenerator() {
        var a = RandomSource(seed: 42), b = RandomSource(seed: 42), c = RandomSource(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
        #expect(Set(first).count == 8)

        var g1 = RandomSource(seed: 7), g2 = RandomSource(seed: 7), g3 = RandomSource(seed: 8)
        let n1 = Tensor<Double>.randomNormal([3, 4], using: &g1)
        #expect(n1 == Tensor<Double>.randomNormal([3, 4], using: &g2))
        #expect(n1.shape == [3, 4])
        let n3 = Tensor<Double>.randomNormal([3, 4], using: &g3)
        #expect(zip(n1.scalars, n3.scalars).allSatisfy { $0 != $1 })

        // A saved state continues the same sequence.
        var original = RandomSource(seed: 99)
        _ = original.next()
        var restored = RandomSource(state: original.state)
        #expect(restored == original)
        #expect((0..<5).map { _ in original.next() } == (0..<5).map { _ in restored.next() })

        // Uniform values stay in range.
        var u = RandomSource(seed: 1)
        let uniform = Tensor<Double>.randomUniform([10_000], lowerBound: -2, upperBound: 3, using: &u)
        #expect(uniform.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        #expect(Swift.abs(uniform.mean().scalar - 0.5) < 0.1)   // SE = 5/√12/100 ≈ 0.0144, 7 SE
        #expect((0..<1000).allSatisfy { _ in let v = u.nextUnitInterval(); return v >= 0 && v < 1 })
    }

    /// For n = 100 000 draws of N(μ, σ²): the sample mean has standard error σ/√n, and the
    /// sample standard deviation has standard error ≈ σ/√(2n). The tolerances are 6 standard
    /// errors, so a correct generator fails with probability about 2·10⁻⁹ per check (and the
    /// seed is fixed, so the outcome is deterministic); a wrong mean or scale (off by 2% or
    /// more) fails.
    @Test("randomNormal has the right mean and standard deviation on 100k draws",
          arguments: [(0.0, 1.0), (3.0, 2.0), (-1.0, 0.1)])
    func normalMoments(mean: Double, standardDeviation: Double) {
        let n = 100_000
        var g = RandomSource(seed: 2024)
        let values = Tensor<Double>.randomNormal([n], mean: mean, standardDeviation: standardDeviation, using: &g).scalars
        let sampleMean = values.reduce(0, +) / Double(n)
        let sampleStd = (values.map { ($0 - sampleMean) * ($0 - sampleMean) }.reduce(0, +) / Double(n - 1)).squareRoot()
        let meanTolerance = 6 * standardDeviation / Double(n).squareRoot()
        let stdTolerance = 6 * standardDeviation / (2 * Double(n)).squareRoot()
        #expect(Swift.abs(sampleMean - mean) < meanTolerance, "mean \(sampleMean)")
        #expect(Swift.abs(sampleStd - standardDeviation) < stdTolerance, "std \(sampleStd)")
        // The shape of the distribution: about 68.27% within one σ (binomial SE ≈ 0.0015).
        let within = Double(values.filter { Swift.abs($0 - mean) < standardDeviation }.count) / Double(n)
        #expect(Swift.abs(within - 0.6827) < 6 * 0.0015, "fraction within 1σ: \(within)")
        // Float draws too.
        var h = RandomSource(seed: 2024)
        let floats = Tensor<Float>.randomNormal([1000], mean: Float(mean), standardDeviation: Float(standardDeviation), using: &h)
        #expect(floats.count == 1000 && floats.scalars.allSatisfy { $0.isFinite })
    }

    @Test("permutation is a permutation, seeded")
    func permutation() {
        var g = RandomSource(seed: 5), same = RandomSource(seed: 5)
        let p = g.permutation(50)
        #expect(p.sorted() == Array(0..<50))
        #expect(p != Array(0..<50))
        #expect(p == same.permutation(50))
        #expect(g.permutation(50) != p, "the next draw is another order")
        #expect(g.permutation(1) == [0])
        #expect(g.permutation(0) == [])
        // Every position gets every value over many draws (no stuck positions).
        var seen = [Set<Int>](repeating: [], count: 5)
        for _ in 0..<200 {
            for (i, v) in g.permutation(5).enumerated() { seen[i].insert(v) }
        }
        #expect(seen.allSatisfy { $0.count == 5 })
    }

    // MARK: Value semantics

    @Test("copy-on-write: mutating a copy leaves the original unchanged")
    func copyOnWrite() {
        let original = Tensor<Double>([[1, 2], [3, 4]])
        var copy = original
        copy.updateScalars { $0[0] = 99 }
        #expect(original.scalars == [1, 2, 3, 4])
        #expect(copy.scalars == [99, 2, 3, 4])

        var assigned = original
        assigned.assign([5, 6, 7, 8])
        #expect(original == Tensor([[1, 2], [3, 4]]))
        #expect(assigned == Tensor([[5, 6], [7, 8]]))

        // A parameter updated in place stays the same leaf and sees new values next time.
        var w = Tensor<Double>([1, 2]).requiringGradient()
        let snapshot = w
        w.updateScalars { $0[1] = -2 }
        #expect(snapshot.scalars == [1, 2])
        #expect(w.scalars == [1, -2])
        #expect(w.node === snapshot.node)
        (w * w).sum().backward()
        #expect(w.gradient?.scalars == [2, -4])
    }
}
