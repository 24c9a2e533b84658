// The notes' first network: one neuron, ŷ = max(wx + b, 0), fitted to house prices.
// Deep Learning notes, section 1 (Figure 1, the "kink"; ReLU is eq. 1.5).
//
//     swift run -c release example-housing-neuron [--small]
import Backprop
import ExampleSupport
import Foundation

let small = readExampleFlags("example-housing-neuron")

print("claim: one ReLU neuron ŷ = max(wx + b, 0) fits house prices with a kink and never predicts a negative price,"
    + " while a straight line does (notes, Deep Learning §1, Figure 1, eq. 1.5)")

// Prices in k$ from sizes in 1000 ft²: max(0, 200·(size − 0.75)) plus N(0, 20²) noise.
let (trainingCount, steps) = small ? (100, 1500) : (400, 4000)
let training = try ToyData.dataset("housing", samples: trainingCount, seed: 1)
let test = try ToyData.dataset("housing", samples: 1000, seed: 2)
func values(_ data: Dataset<Float>) -> (x: Tensor<Double>, y: Tensor<Double>) {
    guard case .values(let y) = data.targets else { fatalError("housing has values") }
    return (data.features.converted(to: Double.self), y.converted(to: Double.self))
}
let (x, y) = values(training)
let (testX, testY) = values(test)
print("data: \(trainingCount) training and 1000 test houses, price = max(0, 200·(size − 0.75)) + N(0, 20²) k$, sizes 0.5–3.5 (1000 ft²)")

// The neuron starts with a positive slope, so that every house activates it (a neuron
// that starts at zero output for every house would get no gradient: ReLU'(z) = 0).
let neuron = Sequential<Double> {
    Dense<Double>(inputSize: 1, outputSize: 1, weightInitializer: .constant(1), biasInitializer: .constant(0))
    ReLU<Double>()
}
// The squared loss ½(ŷ − y)² (backpropagation notes, §1), averaged over the houses, and
// full-batch gradient descent with momentum (Deep Learning notes, eqs. 3.31, 3.33).
var optimizer = try SGD<Double>(learningRate: 0.01, momentum: 0.9)
for _ in 0..<steps {
    squaredLoss(predictions: neuron(x), targets: y).backward()
    optimizer.step(neuron)
}
let w = neuron.namedParameters[0].tensor.scalar, b = neuron.namedParameters[1].tensor.scalar
let kink = -b / w
func rootMeanSquare(_ predictions: Tensor<Double>, _ targets: Tensor<Double>) -> Double {
    (2 * squaredLoss(predictions: predictions, targets: targets).scalar).squareRoot()
}
let trainingRMSE = rootMeanSquare(neuron.predict(x), y), testRMSE = rootMeanSquare(neuron.predict(testX), testY)
print(String(format: "neuron after %d steps: w = %.2f, b = %.2f, kink at size −b/w = %.3f (the data's: 200, -150, 0.750)",
             steps, w, b, kink))
print(String(format: "neuron RMSE: training %.2f k$, test %.2f k$ (noise σ = 20)", trainingRMSE, testRMSE))
let sizes = Tensor<Double>(shape: [301, 1], scalars: (0...300).map { 0.5 + 0.01 * Double($0) })
let lowestNeuronPrice = neuron.predict(sizes).scalars.min()!
print(String(format: "neuron's lowest price over sizes 0.5–3.5: %.2f k$", lowestNeuronPrice))

// The straight line of least squares, price = a·size + c, in closed form.
let xs = x.scalars, ys = y.scalars, n = Double(xs.count)
let meanX = xs.reduce(0, +) / n, meanY = ys.reduce(0, +) / n
let covariance: Double = zip(xs, ys).map { ($0 - meanX) * ($1 - meanY) }.reduce(0, +)
let variance: Double = xs.map { ($0 - meanX) * ($0 - meanX) }.reduce(0, +)
let slope = covariance / variance
let intercept = meanY - slope * meanX
let line = Tensor<Double>(shape: testX.shape, scalars: testX.scalars.map { slope * $0 + intercept })
let lineAtSmallest = slope * 0.5 + intercept
let sign = intercept < 0 ? "-" : "+"
print(String(format: "straight line (least squares): price = %.2f·size ", slope) + sign
    + String(format: " %.2f; test RMSE %.2f k$; at size 0.5 it predicts %.2f k$", abs(intercept), rootMeanSquare(line, testY), lineAtSmallest))

conclude("one ReLU neuron fits the prices (slope within 5 % of 200, kink within 0.05 of 0.75, test RMSE under 1.2·σ)"
    + " and never predicts a negative price, while the straight line predicts one for the smallest houses", [
    ("slope within 5 % of 200", abs(w - 200) <= 10),
    ("kink within 0.05 of 0.75", abs(kink - 0.75) <= 0.05),
    ("test RMSE under 24 k$", testRMSE < 24),
    ("no negative neuron price", lowestNeuronPrice >= 0),
    ("the line predicts a negative price at size 0.5", lineAtSmallest < 0),
])
