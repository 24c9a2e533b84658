import Tensors

/// One training step of a Float64 network on one batch, with every number kept: each
/// layer's output and its δ (∂J/∂output), the loss, every parameter's gradient, and the
/// three-way check of those gradients — the written-out δ recursion
/// (``WrittenOutBackpropagation``, for stacks of dense, convolution and pooling layers and
/// activations), reverse-mode
/// autodiff, and central differences.
public struct StepTrace {
    /// One layer's numbers in the step.
    public struct LayerValues {
        /// The layer's summary name.
        public let name: String
        /// The layer's output for the batch.
        public let output: Tensor<Double>
        /// ∂J/∂output: the notes' δ when the layer is affine.
        public let delta: Tensor<Double>?
    }

    /// One parameter's gradient and how well the three ways agree.
    public struct ParameterCheck {
        /// The parameter's name (`0.weight`).
        public let name: String
        /// ∂J/∂parameter from autodiff.
        public let gradient: Tensor<Double>
        /// The written-out recursion against autodiff (nil where it does not apply).
        public let writtenOutError: Double?
        /// Autodiff against central differences.
        public let finiteDifferenceError: Double
        /// The entries compared with central differences (all, unless the trace was
        /// asked to check a sample of large tensors).
        public let finiteDifferenceEntries: Int
    }

    /// The batch x = a^[0].
    public let input: Tensor<Double>
    /// Each layer's output and δ, in order.
    public let layers: [LayerValues]
    /// J for the batch.
    public let loss: Double
    /// Each parameter's gradient and check, in ``Layer/visitParameters(_:)`` order.
    public let parameters: [ParameterCheck]

    /// The largest relative error of the check.
    public var worstError: Double {
        parameters.map { max($0.writtenOutError ?? 0, $0.finiteDifferenceError) }.max() ?? 0
    }

    /// Runs the step: `loss` maps the network's output to the scalar J. Central
    /// differences use `step` and ten times it, keeping the closer agreement per entry,
    /// over every entry or, with `entriesPerTensor`, that many of a larger tensor
    /// (``GradientCheck/checkParameters(of:steps:entriesPerTensor:loss:)``); the written-out
    /// recursion and autodiff are compared on every entry. The model's gradients are
    /// cleared before and after.
    public init(model: Sequential<Double>, input: Tensor<Double>, loss: @escaping (Tensor<Double>) -> Tensor<Double>,
                step: Double = 1e-6, entriesPerTensor: Int? = nil) {
        self.input = input
        model.zeroGradients()
        var outputs: [Tensor<Double>] = []
        var value = input
        for layer in model.layers {
            value = layer(value).retainingGradient()
            outputs.append(value)
        }
        let objective = loss(value)
        objective.backward()
        layers = zip(model.layers, outputs).map { layer, output in
            LayerValues(name: layer.summaryName, output: output.detached(), delta: output.gradient)
        }
        self.loss = objective.scalar
        let autodiff = model.namedParameters.map { ($0.name, $0.tensor.gradient ?? Tensor<Double>.zeros($0.tensor.shape)) }
        model.zeroGradients()
        // The written-out recursion over the longest stack of layers it covers; the layers
        // after it (a softmax) join the loss.
        let written = (1...max(model.layers.count, 1)).reversed().lazy.compactMap { count -> [Tensor<Double>]? in
            guard count <= model.layers.count, let backpropagation = WrittenOutBackpropagation(model, layerCount: count) else { return nil }
            let rest = Array(model.layers.dropFirst(count))
            let composed: (Tensor<Double>) -> Tensor<Double> = { output in loss(rest.reduce(output) { $1($0) }) }
            return backpropagation.gradients(input, loss: composed).gradients.map { $0.detached() }
        }.first
        // Two steps: rounding dominates a small one when J is large (a saturated softmax),
        // kinks (ReLU, max-pool ties) a large one; each parameter keeps the closer agreement.
        let differences = GradientCheck.checkParameters(of: model, steps: [step, step * 10],
                                                        entriesPerTensor: entriesPerTensor) { loss($0(input)) }
        model.zeroGradients()
        parameters = autodiff.enumerated().map { index, entry in
            let writtenError = written.map { gradients in
                zip(gradients[index].scalars, entry.1.scalars).map { GradientCheck.relativeError($0, $1) }.max() ?? 0
            }
            return ParameterCheck(name: entry.0, gradient: entry.1, writtenOutError: writtenError,
                                  finiteDifferenceError: differences[index].maximumRelativeError,
                                  finiteDifferenceEntries: differences[index].checkedEntries)
        }
    }
}
