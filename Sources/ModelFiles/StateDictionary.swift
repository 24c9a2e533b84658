import NeuralNetworks
import Tensors

/// A network's tensors by their PyTorch `state_dict` names (`0.weight`, `0.bias`, …),
/// to and from safetensors.
public enum StateDictionary {
    /// The model's parameters, then its buffers (batch norm's running statistics).
    public static func tensors<S: TensorScalar>(of model: some Layer<S>) -> [(name: String, tensor: Tensor<S>)] {
        model.namedParameters + ((model as? any BufferedLayer<S>)?.namedBuffers ?? [])
    }

    /// The model's integer buffers (batch norm's `num_batches_tracked`).
    public static func counters<S: TensorScalar>(of model: some Layer<S>) -> [(name: String, value: Int)] {
        (model as? any BufferedLayer<S>)?.namedCounters ?? []
    }

    /// The model's tensors as a safetensors file (metadata `format: pt`, as PyTorch's
    /// `safetensors.torch.save_file` marks its files); integer buffers are I64 of shape
    /// [], as in a PyTorch `state_dict`.
    public static func safeTensors<S: TensorScalar>(of model: some Layer<S>) -> SafeTensors {
        var file = SafeTensors(metadata: ["format": "pt"])
        for (name, tensor) in tensors(of: model) { file.tensors[name] = SafeTensors.Entry(tensor) }
        for (name, value) in counters(of: model) { file.tensors[name] = SafeTensors.Entry(integers: [value], shape: []) }
        return file
    }

    /// Replaces the model's tensors with those of `weights`, after checking that the file
    /// has exactly the model's tensors (reporting every missing and unexpected name) and
    /// that each has the model's type and shape. Nothing is changed when a check fails.
    /// An integer buffer (`num_batches_tracked`) may be missing, as in files written
    /// before Backprop kept it: it is then 0, as PyTorch loads such files; present, it
    /// must be an integer of shape [].
    public static func load<S: TensorScalar>(
        _ weights: SafeTensors, into model: some Layer<S>, file: String = "weights"
    ) throws(ModelFileError) {
        let expected = tensors(of: model)
        let counterNames = counters(of: model).map(\.name)
        let expectedNames = Set(expected.map(\.name) + counterNames)
        let missing = expected.map(\.name).filter { weights.tensors[$0] == nil }
        let unexpected = weights.tensors.keys.filter { !expectedNames.contains($0) }.sorted()
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
            try requireFinite(tensor, name, file: file)
            values[name] = tensor
        }
        var counts: [String: Int] = [:]
        for name in counterNames {
            guard let entry = weights.tensors[name] else { continue }
            guard let integers = entry.integers else {
                throw .typeMismatch(file: file, tensor: name, expected: SafeTensors.DataType.int64.rawValue,
                                    found: entry.dataType.rawValue)
            }
            guard entry.shape.isEmpty else { throw .shapeMismatch(file: file, tensor: name, expected: [], found: entry.shape) }
            counts[name] = integers[0]
        }
        model.visitParameters { name, parameter in parameter.assign(values[name]!.scalars) }
        guard let buffered = model as? any BufferedLayer<S> else { return }
        buffered.visitBuffers { name, buffer in buffer = values[name]! }
        buffered.visitCounters { name, value in value = counts[name] ?? 0 }
    }

    /// Throws when `tensor` holds a NaN or an infinity: a model or an optimizer state
    /// with one gives only NaN from then on (a damaged file, or one written by a run that
    /// diverged), and is refused on loading rather than found later in its outputs.
    static func requireFinite<S: TensorScalar>(_ tensor: Tensor<S>, _ name: String, file: String) throws(ModelFileError) {
        guard let first = tensor.scalars.firstIndex(where: { !$0.isFinite }) else { return }
        let count = tensor.scalars.count { !$0.isFinite }
        throw .corrupt(file: file, reason: "tensor '\(name)' holds \(count) value\(count == 1 ? "" : "s") that \(count == 1 ? "is" : "are") NaN or infinite (the first at index \(first)); a model cannot compute with it")
    }
}
