import NeuralNetworks
import Tensors
import Testing
import Training

@Suite("memory a model needs, known before it runs")
struct MemoryTests {
    @Test("the estimate counts parameters, their gradients and optimiser state, and every layer's output for the batch")
    func estimate() throws {
        let model = Sequential<Float>(seed: 1) {
            Dense(inputSize: 4, outputSize: 3)  // 15 parameters, output 3
            ReLU()                              // output 3
            Dense(inputSize: 3, outputSize: 2)  // 8 parameters, output 2
        }
        let training = try Memory.workingBytes(model, inputShape: [4], batchSize: 10, optimizerSlots: 2)
        // parameters × (value, gradient, 2 slots) + input batch + outputs (3 + 3 + 2) × 2 × batch, in float32.
        #expect(training == (23 * 4 + 4 * 10 + 8 * 2 * 10) * 4)
        let inference = try Memory.workingBytes(model, inputShape: [4], batchSize: 10)
        #expect(inference == (23 + 4 * 10 + 3 * 2 * 10) * 4)
        #expect(throws: ShapeError.self) { try Memory.workingBytes(model, inputShape: [5], batchSize: 10) }
    }

    @Test("sizes saturate instead of overflowing, and read as people write them")
    func saturationAndText() {
        #expect(Memory.product([Int.max / 2, 3]) == .max)
        #expect(Memory.sum([.max, 1]) == .max)
        #expect(Memory.product([-1, 5]) == 0)
        #expect(Memory.text(512) == "512 B")
        #expect(Memory.text(3_200_000) == "3.2 MB")
        #expect(Memory.text(48_000_000_000) == "48 GB")
        #expect(Memory.text(6_000_000_000_000_000) == "6.0 PB")
    }

    @Test("training or running a model on batches no machine can hold is one line naming the estimate and the fix")
    func refused() throws {
        let model = Sequential<Float>(seed: 1) {
            Conv2D(inputChannels: 1, outputChannels: 1, kernelSize: 1)
            GlobalAveragePool2D()
            Dense(inputSize: 1, outputSize: 2)
        }
        // 10¹⁰ pixels an image, a million images a batch: exabytes.
        let error = #expect(throws: TrainingError.self) {
            try checkMemory(of: model, inputShape: [1, 100_000, 100_000], batchSize: 1_000_000, optimizerSlots: 2)
        }
        #expect(error?.description.hasPrefix("training on batches of 1000000 needs about") == true, "\(String(describing: error))")
        #expect(error?.description.hasSuffix("use a smaller model or batch size") == true)
        let running = #expect(throws: TrainingError.self) {
            try checkMemory(of: model, inputShape: [1, 100_000, 100_000], batchSize: 1_000_000)
        }
        #expect(running?.description.hasPrefix("running the model on batches of 1000000") == true)
        try checkMemory(of: model, inputShape: [1, 28, 28], batchSize: 64, optimizerSlots: 2)
        #expect(throws: ConfigurationError.self) { try Memory.checkParameters(Int.max, of: Double.self, model: "m") }
        try Memory.checkParameters(1000, of: Double.self, model: "m")
    }
}
