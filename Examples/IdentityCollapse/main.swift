// Without a non-linearity, depth buys nothing: Dense layers with identity activations are
// one linear map W̃x + b̃, so such a network is logistic regression and cannot fit XOR,
// while the same network with ReLUs can. Deep Learning notes, section 2.1
// (eqs. 2.8–2.12: W̃ = W[2]W[1]).
//
//     swift run -c release example-identity-collapse [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-identity-collapse")

print("claim: a deep stack of Dense layers with g(z) = z is one linear map W̃x + b̃ and cannot fit XOR;"
    + " the same stack with ReLUs can (notes, Deep Learning §2.1, eqs. 2.8–2.12)")

let (depth, width, steps) = (small ? 4 : 6, 8, small ? 500 : 2000)

/// `depth` Dense layers 2 → width → … → width → 1, each followed by `activation` (the
/// last by a sigmoid).
@MainActor
func network(_ activation: @escaping () -> any Layer<Double>) -> Sequential<Double> {
    Sequential<Double>(seed: 9) {
        for layer in 0..<depth {
            Dense<Double>(inputSize: layer == 0 ? 2 : width, outputSize: layer == depth - 1 ? 1 : width,
                          weightInitializer: .xavierNormal, biasInitializer: .normal(standardDeviation: 0.1))
            if layer < depth - 1 { activation() } else { Sigmoid<Double>() }
        }
    }
}

// 1. The collapse: W̃ = W[L]⋯W[1], b̃ = W[L](⋯(W[2]b[1] + b[2])⋯) + b[L].
let linear = network { Identity<Double>() }
let parameters = linear.namedParameters
var wTilde = parameters[0].tensor.detached(), bTilde = parameters[1].tensor.detached().reshaped(to: [width, 1])
for l in 1..<depth {
    let w = parameters[2 * l].tensor.detached(), b = parameters[2 * l + 1].tensor.detached()
    wTilde = Tensor.matmul(w, wTilde)
    bTilde = Tensor.matmul(w, bTilde) + b.reshaped(to: [b.count, 1])
}
print("identity network: \(depth) Dense layers, \(linear.parameterCount) parameters;"
    + " W̃ = W[\(depth)]⋯W[1] is \(wTilde.shape[0])×\(wTilde.shape[1])")
var random = RandomSource(seed: 10)
let points = Tensor<Double>.randomNormal([1000, 2], using: &random)
let stackOutput = linear.forwardExceptLast(points)  // z[L], before the final sigmoid
let collapsed = Tensor.linear(points, weight: wTilde, bias: bTilde.reshaped(to: [1]))
let collapseError = zip(stackOutput.scalars, collapsed.scalars).map { abs($0 - $1) }.max()!
    / stackOutput.scalars.map(abs).max()!
print(String(format: "on 1000 random points, max |stack(x) − (W̃x + b̃)| / max |stack(x)| = %.1e", collapseError))

// 2. XOR, the four corners: no line separates them, so a linear model gets at most 3 of 4,
// and its best log loss is ln 2 (ŷ = ½ everywhere).
let corners = Tensor<Double>([[0, 0], [0, 1], [1, 0], [1, 1]])
let xor = Tensor<Double>(shape: [4, 1], scalars: [0, 1, 1, 0])
@MainActor
func train(_ model: Sequential<Double>) throws -> (loss: Double, accuracy: Double, outputs: [Double]) {
    var optimizer = try Adam<Double>(learningRate: 0.01)
    for _ in 0..<steps {
        binaryCrossEntropy(logits: model.forwardExceptLast(corners), targets: xor).backward()
        optimizer.step(model)
    }
    let outputs = model.predict(corners).scalars
    let correct = zip(outputs, xor.scalars).filter { ($0 >= 0.5) == ($1 == 1) }.count
    return (binaryCrossEntropy(probabilities: model.predict(corners), targets: xor).scalar, Double(correct) / 4, outputs)
}
let linearFit = try train(linear)
let reluFit = try train(network { ReLU<Double>() })
func list(_ values: [Double]) -> String { values.map { String(format: "%.3f", $0) }.joined(separator: ", ") }
print("XOR after \(steps) Adam steps (α = 0.01), ŷ at (0,0), (0,1), (1,0), (1,1):")
print("  identity activations: ŷ = \(list(linearFit.outputs)); "
    + String(format: "log loss %.4f (ln 2 = %.4f), accuracy %.2f", linearFit.loss, log(2.0), linearFit.accuracy))
print("  ReLU activations:     ŷ = \(list(reluFit.outputs)); "
    + String(format: "log loss %.4f, accuracy %.2f", reluFit.loss, reluFit.accuracy))

conclude("the identity stack equals one linear map (to 1e-12), stays at XOR's linear optimum (loss ≥ ln 2 − 1e-6,"
    + " accuracy ≤ 0.75), and the ReLU stack fits XOR (accuracy 1, loss < 0.1)", [
    ("stack = W̃x + b̃ to 1e-12", collapseError <= 1e-12),
    ("identity loss ≥ ln 2 − 1e-6", linearFit.loss >= log(2.0) - 1e-6),
    ("identity accuracy ≤ 0.75", linearFit.accuracy <= 0.75),
    ("ReLU accuracy 1", reluFit.accuracy == 1),
    ("ReLU loss < 0.1", reluFit.loss < 0.1),
])
