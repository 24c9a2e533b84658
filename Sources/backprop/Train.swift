import ArgumentParser
import Datasets
import Foundation
import Kernels
import NeuralNetworks
import Tensors
import Training

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a network on real data (Fashion-MNIST by default).",
        discussion: """
            Examples:
              backprop train
              backprop train --model cs229 --lr 5 --batch-size 1000 --epochs 10
              backprop train --model 784-300:relu-10:softmax --optimizer momentum --lr 0.05
            """
    )

    @Option(help: "Data: 'fashion-mnist' or a directory of MNIST-format files.")
    var data: String = "fashion-mnist"

    @Option(help: "Model: a preset (\(ModelSpec.presetNames.joined(separator: ", "))) or a spec such as 784-300:relu-10:softmax.")
    var model: String = "mlp"

    @Option(help: "Optimizer: sgd, momentum, nesterov, adam, adamw.")
    var optimizer: String = "momentum"

    @Option(help: "Learning rate α.")
    var lr: Double = 0.05

    @Option(help: "Momentum β (momentum and nesterov).")
    var momentum: Double = 0.9

    @Option(help: "L2 regularisation λ on the weights (eq. 3.34).")
    var l2: Double = 0

    @Option(help: "Examples per mini-batch; 1 is stochastic gradient descent, 'full' is gradient descent.")
    var batchSize: String = "64"

    @Option(help: "Number of passes over the training data.")
    var epochs: Int = 10

    @Option(help: "Seed of every random choice (initialisation, shuffling).")
    var seed: UInt64 = 42

    @Option(help: "BLAS threads (default: BACKPROP_THREADS, or all cores).")
    var threads: Int?

    @Option(help: "Fraction of the training data held out for validation (0 for none).")
    var validationSplit: Double = 0

    @Option(help: "Stop after this many epochs without improvement, restoring the best weights.")
    var earlyStopping: Int?

    func run() throws {
        if let threads { BLAS.setThreadCount(threads) }
        let directory = data == "fashion-mnist" ? MNISTFormat.fashionMNISTDirectory : data
        let train = try MNISTFormat.load(.training, from: directory, as: Float.self)
        let test = try MNISTFormat.load(.test, from: directory, as: Float.self)
        let spec = try ModelSpec.preset(model) ?? ModelSpec(parsing: model)
        let network = spec.build(Float.self, seed: seed)
        let batch: FitConfiguration.BatchSize = batchSize == "full" ? .full : .examples(Int(batchSize) ?? 0)
        let configuration = try FitConfiguration(
            epochs: epochs, batchSize: batch, loss: .crossEntropy, seed: seed,
            validation: validationSplit > 0 ? .split(validationSplit) : .none,
            earlyStoppingPatience: earlyStopping)
        let trainingData = try LabeledData(features: train.flattenedImages, targets: .labels(train.labels, classes: 10))
        let testData = try LabeledData(features: test.flattenedImages, targets: .labels(test.labels, classes: 10))
        print("BLAS: \(BLAS.info)")
        print(network.summary(inputShape: [spec.inputSize]))
        let printer = EpochPrinter()
        switch optimizer {
        case "sgd":
            var sgd = try SGD<Float>(learningRate: lr, weightDecay: l2)
            _ = try fit(network, optimizer: &sgd, data: trainingData, configuration: configuration, callbacks: [printer])
        case "momentum", "nesterov":
            var sgd = try SGD<Float>(learningRate: lr, momentum: momentum,
                                     momentumForm: optimizer == "nesterov" ? .nesterov : .classical, weightDecay: l2)
            _ = try fit(network, optimizer: &sgd, data: trainingData, configuration: configuration, callbacks: [printer])
        case "adam", "adamw":
            var adam = try Adam<Float>(learningRate: lr, weightDecay: l2, decoupled: optimizer == "adamw")
            _ = try fit(network, optimizer: &adam, data: trainingData, configuration: configuration, callbacks: [printer])
        default:
            throw ValidationError("unknown optimizer '\(optimizer)' (sgd, momentum, nesterov, adam, adamw)")
        }
        let metrics = evaluate(network, on: testData, loss: .crossEntropy)
        print(String(format: "test: loss %.4f, accuracy %.4f", metrics.loss, metrics.accuracy ?? 0))
    }
}

final class EpochPrinter: TrainingCallback {
    func epochEnded(_ record: EpochRecord) -> CallbackDecision {
        var line = String(format: "epoch %d: loss %.4f, accuracy %.4f, %.2f s",
                          record.epoch + 1, record.training.loss, record.training.accuracy ?? 0, record.seconds)
        if let v = record.validation {
            line += String(format: "; validation loss %.4f, accuracy %.4f", v.loss, v.accuracy ?? 0)
        }
        print(line)
        return .proceed
    }
}
