import Datasets
import NeuralNetworks
import Tensors

extension Loss {
    /// The loss for a model with `outputs` outputs trained on `targets`: softmax
    /// cross-entropy for class labels, binary cross-entropy (the notes' logistic loss) for
    /// two classes read from one output, mean squared error for values.
    public static func recommended<Scalar>(for targets: DatasetTargets<Scalar>, outputs: Int) -> Loss {
        switch targets {
        case .classes(_, let classes): return classes.count == 2 && outputs == 1 ? .binaryCrossEntropy : .crossEntropy
        case .values: return .meanSquaredError
        }
    }

    /// The name used on the command line and in reports.
    public var displayName: String {
        switch self {
        case .squared: return "squared (½‖ŷ − y‖²)"
        case .meanSquaredError: return "mean squared error"
        case .binaryCrossEntropy: return "binary cross-entropy"
        case .crossEntropy: return "softmax cross-entropy"
        }
    }
}

/// Checks, before any work, that `model` can be trained on `data` with `loss`: the model
/// has parameters; the data has targets; its example shape passes through every layer
/// (``Layer/outputShape(forInput:)``); the outputs match the classes (K outputs, or one
/// sigmoid output for two classes with binary cross-entropy) or the target values; K
/// classes on K outputs end in a softmax, a log-softmax or no activation (logits), not a
/// sigmoid or ReLU; the loss suits the targets; no softmax ends a regression. Throws one line naming both
/// sides of what does not fit.
public func checkCompatibility<Model: Layer>(
    of model: Model, with data: Dataset<Model.Scalar>, loss: Loss
) throws(TrainingError) {
    guard let targets = data.targets else { throw .mismatch("the data has no targets") }
    guard data.count > 0 else { throw .mismatch("the data has no examples") }
    guard !model.namedParameters.isEmpty else {
        throw .mismatch("the model has no parameters to train (no layer has weights): add a dense or convolutional layer")
    }
    let output: [Int]
    do { output = try model.outputShape(forInput: data.exampleShape) } catch {
        throw .mismatch("the model does not take the data's examples of shape \(data.exampleShape): \(error)")
    }
    guard output.count == 1, let width = output.first else {
        throw .mismatch("the model's output per example has shape \(output); it must be a vector (end with Flatten and Dense)")
    }
    let final = (model as? Sequential<Model.Scalar>)?.finalActivation
    switch targets {
    case .classes(_, let classes):
        let names = classes.names.prefix(12).joined(separator: ", ") + (classes.count > 12 ? ", …" : "")
        switch loss {
        case .crossEntropy:
            guard width == classes.count else {
                let hint = width == 1 && classes.count == 2 ? " (one sigmoid output for two classes: use --loss binary-cross-entropy)" : ""
                throw .mismatch("the model has \(width) output\(width == 1 ? "" : "s") but the data has \(classes.count) classes (\(names))\(hint)")
            }
            // Cross-entropy takes the outputs as logits (or reads through a final softmax):
            // after a sigmoid or a ReLU they are squashed scores, not logits.
            // A softmax before other layers: cross-entropy would squash its outputs again.
            if let layers = (model as? Sequential<Model.Scalar>)?.layers,
               let early = layers.indices.dropLast().first(where: { index in
                   (layers[index] as? ActivationLayer<Model.Scalar>).map { [.softmax, .logSoftmax].contains($0.activation) } == true
               }) {
                let after = layers[(early + 1)...].map(\.summaryName).joined(separator: ", ")
                throw .mismatch("the model's \(layers[early].summaryName) (layer \(early)) is followed by \(after): cross-entropy reads the last layer's outputs as logits or probabilities, so end the model with the softmax")
            }
            if let final, ![.softmax, .logSoftmax, .identity].contains(final) {
                let binary = classes.count == 2 ? ", or one sigmoid output" : ""
                throw .mismatch("the model's last activation is \(final.rawValue), but \(classes.count) classes need a softmax output (or no activation: logits)\(binary)")
            }
        case .binaryCrossEntropy:
            guard classes.count == 2, width == 1 else {
                throw .mismatch("binary cross-entropy needs 2 classes and 1 output; the data has \(classes.count) classes (\(names)) and the model \(width) outputs")
            }
            guard final != .softmax else {
                throw .mismatch("the model ends in a softmax over 1 output, which is always 1; end it with a sigmoid for two classes")
            }
        case .squared, .meanSquaredError:
            throw .mismatch("loss \(loss.displayName) needs target values, but the data has \(classes.count) classes (\(names)); use cross-entropy")
        }
    case .values(let values):
        let k = targets.width
        if loss == .crossEntropy || loss == .binaryCrossEntropy,
           let outside = values.scalars.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw .mismatch("loss \(loss.displayName) needs targets in [0, 1], the data has \(outside); for class labels read the target as classes")
        }
        guard width == k else {
            // Class labels stored as floating-point numbers (0.0, 1.0, …) read as values, in
            // their own units (a standardised target comes back within rounding).
            let raw = (try? data.targetStandardization?.restored(values)) ?? values
            let numbers = raw.scalars.map { value in
                Swift.abs(Double(value) - Double(value).rounded()) < 1e-4 ? Double(value).rounded() : Double(value)
            }
            let classes = k == 1 ? LearningTask.classValues(numbers) : nil
            let hint = classes.map { " (its targets are the numbers \(LearningTask.listed($0)): if they are class labels, train with --task classification)" } ?? ""
            throw .mismatch("the model has \(width) output\(width == 1 ? "" : "s") but the data has \(k) target value\(k == 1 ? "" : "s") per example\(hint)")
        }
        if final == .softmax && loss != .crossEntropy {
            throw .mismatch("the model ends in a softmax, whose outputs sum to 1: it cannot fit regression values; end it with an identity (no activation) output")
        }
    }
}

/// Checks that running `model` on batches of `batchSize` examples of `inputShape` fits
/// in this machine's memory (``Memory/workingBytes(_:inputShape:batchSize:optimizerSlots:)``):
/// for training when `optimizerSlots` is set (two covers every optimiser here: Adam's
/// moments), else for evaluation and prediction. Throws
/// one line with the estimate and what to change.
public func checkMemory<Model: Layer>(
    of model: Model, inputShape: [Int], batchSize: Int, optimizerSlots: Int? = nil
) throws(TrainingError) {
    let bytes: Int
    do { bytes = try Memory.workingBytes(model, inputShape: inputShape, batchSize: batchSize, optimizerSlots: optimizerSlots) } catch {
        throw .mismatch("the model does not take examples of shape \(inputShape): \(error)")
    }
    guard bytes <= Memory.physical else {
        let work = optimizerSlots == nil ? "running the model" : "training"
        throw .mismatch("\(work) on batches of \(batchSize) needs about \(bytes == .max ? "more than \(Memory.text(.max))" : Memory.text(bytes)) of memory, more than this machine's \(Memory.text(Memory.physical)); use a smaller model\(batchSize > 1 ? " or batch size" : "")")
    }
}
