import NeuralNetworks
import Tensors

/// A network's tensors by their PyTorch `state_dict` names (`0.weight`, `0.bias`, …),
/// to and from safetensors.
public enum StateDictionary {
    /// The model's parameters, then its buffers (batch norm's running statistics).
    public static func tensors<S: TensorScalar>(of model: some Layer<S>) -> [(name: String, tensor: Tensor<S>)] {
        model.namedParameters + ((model as? any BufferedLayer<S>)?.namedBuffers ?? [])
    }

    /// The model's tensors as a safetensors file (metadata `format: pt`, as PyTorch's
    /// `safetensors.torch.save_file` marks its files).
    public static func safeTensors<S: TensorScalar>(of model: some Layer<S>) -> SafeTensors {
        var file = SafeTensors(metadata: ["format": "pt"])
        for (name, tensor) in tensors(of: model) { file.tensors[name] = SafeTensors.Entry(tensor) }
        return file
    }

    /// Replaces the model's tensors with those of `weights`, after checking that the file
    /// has exactly the model's tensors (reporting every missing and unexpected name) and
    /// that each has the model's type and shape. Nothing is changed when a check fails.
    /// PyTorch's `num_batches_tracked` beside a batch norm's `running_mean` is ignored
    /// (it matters only when PyTorch's momentum is None, which Backprop does not have).
    public static func load<S: TensorScalar>(
        _ weights: SafeTensors, into model: some Layer<S>, file: String = "weights"
    ) throws(ModelFileError) {
        let expected = tensors(of: model)
        let expectedNames = Set(expected.map(\.name))
        let missing = expected.map(\.name).filter { weights.tensors[$0] == nil }
        let unexpected = weights.tensors.keys.filter { name in
            !expectedNames.contains(name) && !isBatchCounter(name, besides: expectedNames)
        }.sorted()
        guard missing.isEmpty && unexpected.isEmpty else {
            throw .tensorsMismatch(file: file, missing: missing, unexpected: unexpected)
        }
        var values: [String: Tensor<S>] = [:]
        for (name, current) in expected {
            let entry = weights.tensors[name]!
            guard let tensor = entry.tensor(S.self) else {
                throw .typeMismatch(file: file, tensor: name, expected: SafeTensors.DataType.of(S.self).rawValue,
                                    found: entry.dataType.rawValue)
            }
            guard tensor.shape == current.shape else {
                throw .shapeMismatch(file: file, tensor: name, expected: current.shape, found: tensor.shape)
            }
            values[name] = tensor
        }
        model.visitParameters { name, parameter in parameter.assign(values[name]!.scalars) }
        (model as? any BufferedLayer<S>)?.visitBuffers { name, buffer in buffer = values[name]! }
    }

    private static func isBatchCounter(_ name: String, besides names: Set<String>) -> Bool {
        let suffix = ".num_batches_tracked"
        return name.hasSuffix(suffix) && names.contains(name.dropLast(suffix.count) + ".running_mean")
    }
}
