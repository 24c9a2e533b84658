import Tensors

/// One training step of a Float64 network on one batch, as the fit loop runs it, with
/// every number kept: each layer's output and its δ (∂J/∂output), the loss, every
/// parameter's gradient and its value before and after the optimiser's update, the
/// buffers the step moved (batch normalisation's running statistics), and the three-way
/// check of the gradients — the written-out δ recursion (``WrittenOutBackpropagation``,
/// for stacks of dense, convolution and pooling layers and activations), reverse-mode
/// autodiff, and central differences.
///
/// The step runs in training mode, as the fit loop (`Trainer`) runs one: batch normalisation
/// normalises with the batch's statistics and moves its running ones once, and each
/// dropout layer draws the batch's masks from its seeded generator
/// (``Dropout/startBatch(firstExample:)``). The check's extra forward passes reuse those
/// masks and leave the running statistics as the step left them, so the model ends as
/// one step of fit with the same seed, batch and optimiser leaves it.
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

    /// One parameter's gradient, how well the three ways agree, and the update.
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
        /// The parameter before the step.
        public let value: Tensor<Double>
        /// The parameter after the optimiser's update.
        public let updated: Tensor<Double>
    }

    /// A buffer that the step moved (`1.running_mean`), before and after.
    public struct BufferChange {
        /// The buffer's name, as the model's buffers are named.
        public let name: String
        /// The buffer before the step.
        public let before: Tensor<Double>
        /// The buffer after the step.
        public let after: Tensor<Double>
    }

    /// The batch x = a^[0].
    public let input: Tensor<Double>
    /// Each layer's output and δ, in order.
    public let layers: [LayerValues]
    /// J for the batch.
    public let loss: Double
    /// Each parameter's gradient, check and update, in ``Layer/visitParameters(_:)`` order.
    public let parameters: [ParameterCheck]
    /// The buffers the step moved, in ``BufferedLayer/visitBuffers(_:)`` order (batch
    /// normalisation's running statistics; none for a model without them).
    public let buffers: [BufferChange]

    /// The largest relative error of the check.
    public var worstError: Double {
        parameters.map { max($0.writtenOutError ?? 0, $0.finiteDifferenceError) }.max() ?? 0
    }

    /// Runs the step and updates `model` with `optimizer`: `loss` maps the network's
    /// output to the scalar J. Central differences use `step` and ten times it, keeping
    /// the closer agreement per entry, over every entry or, with `entriesPerTensor`, that
    /// many of a larger tensor (``GradientCheck/checkParameters(of:steps:entriesPerTensor:loss:)``);
    /// the written-out recursion and autodiff are compared on every entry. The model's
    /// gradients are cleared before and after; its mode (training or evaluation) is
    /// restored after.
    public init<Rule: Optimizer<Double>>(
        model: Sequential<Double>, input: Tensor<Double>, optimizer: inout Rule,
        loss: @escaping (Tensor<Double>) -> Tensor<Double>, step: Double = 1e-6, entriesPerTensor: Int? = nil
    ) {
        self.input = input
        let wasTraining = model.isTraining
        model.isTraining = true
        defer { model.isTraining = wasTraining }
        model.zeroGradients()
        let masks = DropoutReplay(model)
        let buffersBefore = model.namedBuffers
        masks.draw()
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
        // The check's passes see the step's masks and leave the running statistics as the
        // step moved them.
        let state = model.namedBuffers, counters = model.namedCounters
        defer {
            let kept = Dictionary(uniqueKeysWithValues: state), keptCounters = Dictionary(uniqueKeysWithValues: counters)
            model.visitBuffers { name, buffer in buffer = kept[name] ?? buffer }
            model.visitCounters { name, counter in counter = keptCounters[name] ?? counter }
        }
        // The written-out recursion over the longest stack of layers it covers; the layers
        // after it (a softmax) join the loss.
        let written = (1...max(model.layers.count, 1)).reversed().lazy.compactMap { count -> [Tensor<Double>]? in
            guard count <= model.layers.count, let backpropagation = WrittenOutBackpropagation(model, layerCount: count) else { return nil }
            let rest = Array(model.layers.dropFirst(count))
            let composed: (Tensor<Double>) -> Tensor<Double> = { output in
                masks.draw()
                return loss(rest.reduce(output) { $1($0) })
            }
            return backpropagation.gradients(input, loss: composed).gradients.map { $0.detached() }
        }.first
        // Two steps: rounding dominates a small one when J is large (a saturated softmax),
        // kinks (ReLU, max-pool ties) a large one; each parameter keeps the closer agreement.
        let differences = GradientCheck.checkParameters(of: model, steps: [step, step * 10],
                                                        entriesPerTensor: entriesPerTensor) { network in
            masks.draw()
            return loss(network(input))
        }
        model.zeroGradients()
        let values = model.namedParameters.map { $0.tensor.detached() }
        optimizer.step(model, gradients: autodiff.map(\.1))
        let updated = model.namedParameters.map { $0.tensor.detached() }
        parameters = autodiff.enumerated().map { index, entry in
            let writtenError = written.map { gradients in
                zip(gradients[index].scalars, entry.1.scalars).map { GradientCheck.relativeError($0, $1) }.max() ?? 0
            }
            return ParameterCheck(name: entry.0, gradient: entry.1, writtenOutError: writtenError,
                                  finiteDifferenceError: differences[index].maximumRelativeError,
                                  finiteDifferenceEntries: differences[index].checkedEntries,
                                  value: values[index], updated: updated[index])
        }
        buffers = zip(buffersBefore, state).map { BufferChange(name: $0.name, before: $0.tensor, after: $1.tensor) }
    }
}

/// The masks of a step's dropout layers, drawn as the fit loop draws them (one key per
/// layer and batch, examples numbered from 0) and drawn again, the same, for each further
/// pass over the batch.
private struct DropoutReplay {
    let layers: [Dropout<Double>]
    let generators: [RandomSource]

    init(_ model: Sequential<Double>) {
        layers = model.allLayers.compactMap { $0 as? Dropout<Double> }
        generators = layers.map(\.maskGenerator)
    }

    /// Sets each layer's next call to the step's masks.
    func draw() {
        for (layer, generator) in zip(layers, generators) {
            layer.maskGenerator = generator
            layer.startBatch(firstExample: 0)
        }
    }
}
