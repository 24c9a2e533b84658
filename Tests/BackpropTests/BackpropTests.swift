import Backprop
import Foundation
import Testing

/// What a user of the library writes, with one import and no access to internals: a new
/// differentiable operation, a new layer, a loss chosen by name, and training with them.
extension Tensor {
    /// GELU in its exact form, x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)), written as a user
    /// would: values computed without recording, and the derivative
    /// Φ(x) + x·φ(x) given as the pullback.
    func exactGELU() -> Tensor {
        let x = self
        let (phi, density) = withoutGradients { () -> (Tensor, Tensor) in
            let values = x.scalars.map { Double($0) }
            let cdf = values.map { 0.5 * (1 + erf($0 / 2.0.squareRoot())) }
            let pdf = values.map { Foundation.exp(-0.5 * $0 * $0) / (2 * Double.pi).squareRoot() }
            return (Tensor(shape: x.shape, scalars: cdf.map { Scalar($0) }), Tensor(shape: x.shape, scalars: pdf.map { Scalar($0) }))
        }
        let y = withoutGradients { x * phi }
        return .differentiable(y, from: [x]) { gradient, _ in [gradient * (phi + x * density)] }
    }
}

/// A layer of the user's own: the exact GELU above.
final class ExactGELU<Scalar: TensorScalar>: Layer {
    func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> { input.exactGELU() }
    var summaryName: String { "ExactGELU" }
    func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] { shape }
}

@Suite("import Backprop: the library as a user sees it")
struct UmbrellaTests {
    @Test("a user's differentiable operation passes the Float64 gradient check")
    func customOperation() {
        var generator = RandomSource(seed: 5)
        let x = Tensor<Double>.randomNormal([3, 4], using: &generator)
        let result = GradientCheck.check([x]) { inputs in (inputs[0].exactGELU() * inputs[0]).sum() }
        #expect(result.maximumRelativeErrors.allSatisfy { $0 < 1e-7 }, "\(result)")
        // Values: GELU(1) = Φ(1) = 0.8413447460685429, GELU(−1) = −(1 − Φ(1)).
        let values = Tensor<Double>([1, -1]).exactGELU().scalars
        #expect(abs(values[0] - 0.8413447460685429) < 1e-12 && abs(values[1] + 0.15865525393145707) < 1e-12)
    }

    @Test("a user's layer inside a Sequential trains with a loss chosen by name, and its gradients check")
    func customLayer() throws {
        var generator = RandomSource(seed: 6)
        let x = Tensor<Float>.randomNormal([64, 2], using: &generator)
        let labels = x.scalars.enumerated().filter { $0.offset % 2 == 0 }.map { $0.element > 0 ? 1 : 0 }
        let model = Sequential<Float>(seed: 7) {
            Dense(inputSize: 2, outputSize: 8)
            ExactGELU()
            Dense(inputSize: 8, outputSize: 2)
            Softmax()
        }
        let loss = try Loss(named: "cross-entropy")
        var optimizer = try SGD<Float>(learningRate: 0.5)
        let before = loss(model(x), labels: labels).scalar
        for _ in 0..<200 {
            let value = loss(model(x), labels: labels)
            value.backward()
            optimizer.step(model)
            model.zeroGradients()
        }
        let after = loss(model(x), labels: labels).scalar
        #expect(after < 0.3 * before, "loss \(before) → \(after)")
        #expect(throws: ConfigurationError.self) { try Loss(named: "hinge") }
        let check = Sequential<Double>(seed: 8) { Dense(inputSize: 2, outputSize: 3); ExactGELU(); Dense(inputSize: 3, outputSize: 1) }
        let inputs = Tensor<Double>.randomNormal([4, 2], using: &generator), targets = Tensor<Double>.randomNormal([4, 1], using: &generator)
        let mse = try Loss(named: "mse")
        for (name, error) in GradientCheck.checkParameters(of: check, loss: { mse($0(inputs), targets: targets) }) {
            #expect(error < 1e-6, "\(name)")
        }
    }
}
