import Datasets
import NeuralNetworks
import Tensors

extension Sequential {
    /// Class probabilities `[N, K]` of a classifier for `input`, in evaluation mode: the
    /// output of a final softmax as it is, other outputs through a softmax (logits); one
    /// output is the probability p of the second of two classes (through a sigmoid
    /// unless the model ends in one), given as `[1 − p, p]`.
    public func classProbabilities(_ input: Tensor<Scalar>, batchSize: Int = 2048) -> Tensor<Scalar> {
        let output = predict(input, batchSize: batchSize)
        let count = output.shape.first ?? 0
        let width = output.count / Swift.max(count, 1)
        if width == 1 {
            let p = finalActivation == .sigmoid ? output.scalars : output.sigmoid().scalars
            var pairs: [Scalar] = []
            pairs.reserveCapacity(2 * p.count)
            for value in p { pairs += [1 - value, value] }
            return Tensor(shape: [count, 2], scalars: pairs)
        }
        let flat = output.reshaped(to: [count, width])
        return finalActivation == .softmax ? flat : withoutGradients { flat.softmax(alongAxis: -1) }
    }

    /// The most probable class of each example (``classProbabilities(_:batchSize:)``).
    public func predictedClasses(_ input: Tensor<Scalar>, batchSize: Int = 2048) -> [Int] {
        classProbabilities(input, batchSize: batchSize).argmax(alongAxis: -1)
    }

    /// Regression predictions `[N, k]` in the target's original units: the model's
    /// outputs taken back through the training targets' standardisation, when there was one.
    public func predictedValues(_ input: Tensor<Scalar>, targetStandardization: Standardization?,
                                batchSize: Int = 2048) throws(DatasetError) -> Tensor<Scalar> {
        let output = predict(input, batchSize: batchSize)
        guard let targetStandardization else { return output }
        return try targetStandardization.restored(output)
    }
}

/// `confusion[actual][predicted]`: how many examples of each class went to each class.
public func confusionMatrix(predicted: [Int], actual: [Int], classes: Int) -> [[Int]] {
    var matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    for (p, a) in zip(predicted, actual) where matrix.indices.contains(a) && matrix.indices.contains(p) {
        matrix[a][p] += 1
    }
    return matrix
}
