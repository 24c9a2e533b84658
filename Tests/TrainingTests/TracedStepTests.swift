import Datasets
import NeuralNetworks
import Tensors
import Testing
@testable import Training

@Suite("the traced step (explain --trace) is a training step")
struct TracedStepTests {
    /// 4 → 6, batch normalisation, ReLU, dropout 0.5, 6 → 3, softmax; the same seed gives
    /// the same weights and the same dropout generator.
    static func network() -> Sequential<Double> {
        Sequential<Double>(seed: 11) {
            Dense<Double>(inputSize: 4, outputSize: 6); BatchNorm1D<Double>(features: 6); ReLU<Double>()
            Dropout<Double>(probability: 0.5); Dense<Double>(inputSize: 6, outputSize: 3); Softmax<Double>()
        }
    }

    @Test("with batch norm and dropout: the trace's updated weights and running statistics are those of one step of fit with the same seed, batch and optimiser")
    func sameAsFit() throws {
        let count = 8
        var generator = RandomSource(seed: 5)
        let x = Tensor<Double>.randomNormal([count, 4], using: &generator)
        let labels = (0..<count).map { $0 % 3 }
        // fit shuffles with its seed; the rows are laid out so that its one full batch is x in order.
        let configuration = try FitConfiguration(epochs: 1, batchSize: .full, loss: .crossEntropy, seed: 3)
        var shuffle = RandomSource(seed: configuration.seed)
        let order = shuffle.permutation(count)
        var rows = [[Double]](repeating: [], count: count), shuffledLabels = [Int](repeating: 0, count: count)
        for (position, row) in order.enumerated() {
            rows[row] = Array(x.scalars[(position * 4)..<(position * 4 + 4)])
            shuffledLabels[row] = labels[position]
        }
        let data = try Dataset(features: Tensor(shape: [count, 4], scalars: rows.flatMap { $0 }),
                               targets: .labels(shuffledLabels, classes: 3))

        let fitted = Self.network()
        var fitOptimizer = try SGD<Double>(learningRate: 0.1, weightDecay: 0.01)
        _ = try fit(fitted, optimizer: &fitOptimizer, data: data, configuration: configuration)

        let traced = Self.network()
        traced.isTraining = false  // the trace runs a training step whatever the mode it finds
        var traceOptimizer = try SGD<Double>(learningRate: 0.1, weightDecay: 0.01)
        let trace = StepTrace(model: traced, input: x, optimizer: &traceOptimizer) { crossEntropy(probabilities: $0, labels: labels) }

        #expect(trace.worstError < 1e-6, "\(trace.parameters.map { ($0.name, $0.finiteDifferenceError) })")
        for ((name, value), (fittedName, expected)) in zip(traced.namedParameters, fitted.namedParameters) {
            #expect(name == fittedName)
            #expect(maxAbsDifference(value.scalars, expected.scalars) < 1e-12, "\(name): \(value.scalars) against fit's \(expected.scalars)")
        }
        #expect(trace.parameters.map(\.updated) == traced.namedParameters.map(\.tensor), "the trace shows the weights the step left")
        for ((name, value), (_, expected)) in zip(traced.namedBuffers, fitted.namedBuffers) {
            #expect(maxAbsDifference(value.scalars, expected.scalars) < 1e-12, "\(name): \(value.scalars) against fit's \(expected.scalars)")
        }
        #expect(traced.namedCounters.map(\.value) == [1] && fitted.namedCounters.map(\.value) == [1], "one batch tracked")
        #expect(trace.buffers.map(\.name) == ["1.running_mean", "1.running_var"])
        #expect(trace.buffers[0].before.scalars == [Double](repeating: 0, count: 6) && trace.buffers[0].after == traced.namedBuffers[0].tensor)

        // Batch statistics: each feature's normalised output has mean β = 0 over the batch.
        let normalized = trace.layers[1].output.scalars
        for feature in 0..<6 {
            let mean = (0..<count).map { normalized[$0 * 6 + feature] }.reduce(0, +) / Double(count)
            #expect(abs(mean) < 1e-12, "feature \(feature): mean \(mean)")
        }
        // Dropout: some positive activations zeroed, the others scaled by 1/(1 − p) = 2.
        let (relu, dropped) = (trace.layers[2].output.scalars, trace.layers[3].output.scalars)
        #expect(zip(relu, dropped).contains { $0 > 0 && $1 == 0 } && zip(relu, dropped).allSatisfy { $1 == 0 || $1 == 2 * $0 })
        #expect(!traced.isTraining, "the model's mode is restored")
    }
}
