import Backprop
import Foundation
import Testing

/// The code of the documentation's "Getting started" article
/// (`Sources/Backprop/Backprop.docc/GettingStarted.md`), line for line, so that the
/// article compiles against the current API and does what it says. Only the directory the
/// model is saved to differs: a temporary one here, `runs/moons` in the article.
@Suite("documentation: Getting started")
struct GettingStartedTests {
    @Test("the article's first model trains, evaluates, saves and loads")
    func firstModel() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("backprop-getting-started-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // From the article:
        let training = try ToyData.dataset("moons", samples: 400, seed: 1)
        let test = try ToyData.dataset("moons", samples: 400, seed: 2)

        let model = Sequential<Float>(seed: 3) {
            Dense(inputSize: 2, outputSize: 16)
            Tanh()
            Dense(inputSize: 16, outputSize: 16)
            Tanh()
            Dense(inputSize: 16, outputSize: 2)
            Softmax()
        }
        print(try model.summary(inputShape: [2]))

        var optimizer = try Adam<Float>(learningRate: 0.01)
        let configuration = try FitConfiguration(
            epochs: 150, batchSize: .examples(32), loss: .crossEntropy, seed: 4)
        let history = try fit(model, optimizer: &optimizer, data: training,
                              configuration: configuration)
        print("training loss", history.epochs[0].training.loss,
              "→", history.epochs.last!.training.loss)

        let metrics = try evaluate(model, on: test, loss: .crossEntropy)
        print("test accuracy", metrics.accuracy!)

        try ModelFile.save(model, to: directory, inputShape: [2],
                           classNames: training.classes?.names)
        let loaded = try ModelFile.load(Float.self, from: directory).model
        let again = try evaluate(loaded, on: test, loss: .crossEntropy)
        print("reloaded test accuracy", again.accuracy!)

        let points = Tensor<Float>([[0, 1], [1, -0.5]])
        print(loaded.predictedClasses(points))
        // End of the article's code.

        #expect(history.epochs.count == 150)
        #expect(history.epochs.last!.training.loss < 0.5 * history.epochs[0].training.loss)
        #expect(metrics.accuracy! >= 0.97, "the article promises at least 97 %")
        #expect(again == metrics, "the loaded model gives the same metrics")
        #expect(loaded.predictedClasses(points) == model.predictedClasses(points))
    }
}
