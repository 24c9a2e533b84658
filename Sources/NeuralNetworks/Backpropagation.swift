import Tensors

/// Backpropagation written out for stacks of dense, convolution and pooling layers and
/// elementwise activations — the notes' algorithm (section 3) without a recorded graph:
///
/// - forward: z^[ℓ] = W^[ℓ] a^[ℓ−1] + b^[ℓ], a^[ℓ] = g^[ℓ](z^[ℓ]), keeping every a^[ℓ−1]
///   and z^[ℓ] (over a batch, Z = A·Wᵀ + b; for a convolution, the same with W shared by
///   every window position, eq. 3.39);
/// - the loss's gradient δ = ∂J/∂a^[L] at the output (the loss itself is differentiated
///   by its own rule, so a fused softmax cross-entropy gives δ = (ŷ − y)/m);
/// - backward: δ ← δ ∘ g'(z^[ℓ]) at each activation; at each dense layer
///   ∂J/∂W^[ℓ] = δᵀ a^[ℓ−1], ∂J/∂b^[ℓ] = Σ over the batch of δ, then δ ← δ W^[ℓ]; at a
///   convolution the same sums over every window position too (δ ← col2im(Wᵀδ)); at a
///   pooling layer δ goes back to the window's maximum, or spread over the window.
///
/// The result equals what ``Tensor/backward()`` computes through the same layers (the
/// same operations, up to the order of some sums), without graph nodes and pullbacks,
/// and in buffers kept from one call to the next: after the first batch of a given size,
/// a dense step allocates almost nothing. Between convolutions, images are kept
/// channels-first, `[channels, batch, height, width]` (``ImageLayout/channelsFirst``),
/// the layout in which a convolution's GEMM writes them and its backward GEMMs read them,
/// so that nothing is permuted around the GEMMs; a ``Flatten`` (or a
/// ``GlobalAveragePool2D``) takes them to batch-first rows. A ReLU followed by max pooling
/// runs as max pooling followed by ReLU, which gives the same values and gradients with
/// less work. The first layer's δ (the gradient for the input data) is not computed.
///
/// Built only for ``Sequential`` models of ``Dense``, ``Conv2D``, ``MaxPool2D``,
/// ``AvgPool2D``, ``GlobalAveragePool2D``, ``Flatten``, ``Identity``, ``Sigmoid``,
/// ``Tanh``, ``ReLU`` and ``LeakyReLU`` layers (plus, unused by the loss, a final
/// softmax or sigmoid that the loss fuses); anything else (batch normalisation, dropout,
/// GELU) trains through autodiff. Not for concurrent use: one instance per training loop.
public final class WrittenOutBackpropagation<Scalar: TensorScalar> {
    enum Stage {
        case dense(Dense<Scalar>, weightIndex: Int)
        case activation(PointwiseActivation)
        case convolution(Conv2D<Scalar>, weightIndex: Int, inputLayout: ImageLayout)
        case pooling(Pool2DLayer<Scalar>, inputLayout: ImageLayout)
        case flatten(inputLayout: ImageLayout)
        case globalAveragePooling(inputLayout: ImageLayout)
    }

    let stages: [Stage]
    /// The first stage with parameters: below it no δ is needed.
    let firstParametric: Int
    /// The layout of the last stage's output: channels-first images are handed to the
    /// loss batch-first.
    let outputLayout: ImageLayout
    /// How many parameters the model has, in ``Layer/visitParameters(_:)`` order.
    public let parameterCount: Int
    /// Whether the stack has a convolution.
    public var hasConvolution: Bool {
        stages.contains { if case .convolution = $0 { true } else { false } }
    }

    // The buffers: each stage's output (z or a), the gradient with respect to each stage's
    // input, and the parameters' gradients.
    private var outputs: [Tensor<Scalar>]
    private var inputGradients: [Tensor<Scalar>]
    private var parameterGradients: [Tensor<Scalar>]
    /// Each convolution's unfolded input, kept from the forward pass for the backward one.
    private var columns: [Tensor<Scalar>]
    /// The pooling stages' backward passes, from their last forward pass.
    private var pullbacks: [((Tensor<Scalar>) -> Tensor<Scalar>)?]
    /// Channels-first output images batch-first for the loss, and the loss's gradient back.
    private var batchFirstOutput = Tensor<Scalar>(0)
    private var channelsFirstGradient = Tensor<Scalar>(0)

    /// The written-out backpropagation of `model`'s first `layerCount` layers (all by
    /// default); nil if one of them has no written-out rule, or if a later layer has
    /// parameters (they would get no gradient).
    public init?(_ model: Sequential<Scalar>, layerCount: Int? = nil) {
        let count = layerCount ?? model.layers.count
        guard count <= model.layers.count else { return nil }
        var stages: [Stage] = []
        var parameters = 0
        var layout = ImageLayout.imagesFirst
        for layer in model.layers.prefix(count) {
            if let dense = layer as? Dense<Scalar> {
                // A dense layer reads rows; channels-first images cannot reach one.
                guard layout == .imagesFirst else { return nil }
                stages.append(.dense(dense, weightIndex: parameters))
                parameters += dense.bias == nil ? 1 : 2
            } else if let pointwise = (layer as? ActivationLayer<Scalar>)?.pointwise {
                stages.append(.activation(pointwise))
            } else if let convolution = layer as? Conv2D<Scalar> {
                stages.append(.convolution(convolution, weightIndex: parameters, inputLayout: layout))
                parameters += convolution.bias == nil ? 1 : 2
                layout = .channelsFirst
            } else if let pooling = layer as? Pool2DLayer<Scalar>, pooling is MaxPool2D<Scalar> || pooling is AvgPool2D<Scalar> {
                stages.append(.pooling(pooling, inputLayout: layout))
            } else if layer is Flatten<Scalar> {
                stages.append(.flatten(inputLayout: layout))
                layout = .imagesFirst
            } else if layer is GlobalAveragePool2D<Scalar> {
                stages.append(.globalAveragePooling(inputLayout: layout))
                layout = .imagesFirst
            } else {
                return nil
            }
        }
        for layer in model.layers.dropFirst(count) where layer.parameterCount > 0 { return nil }
        // ReLU then max pooling = max pooling then ReLU (ReLU is monotone), with the same
        // gradient: where the window's maximum is positive it passes to the same element,
        // where it is not, ReLU's derivative is 0 either way. Pooled first, ReLU and its
        // derivative see a quarter of the values (for 2×2 windows).
        for index in stages.indices.dropLast() {
            if case .activation(.relu) = stages[index], case .pooling(let pooling, _) = stages[index + 1],
               pooling is MaxPool2D<Scalar> {
                stages.swapAt(index, index + 1)
            }
        }
        self.stages = stages
        firstParametric = stages.firstIndex {
            switch $0 {
            case .dense, .convolution: true
            default: false
            }
        } ?? stages.count
        outputLayout = layout
        parameterCount = parameters
        outputs = Array(repeating: Tensor(0), count: stages.count)
        inputGradients = Array(repeating: Tensor(0), count: stages.count)
        parameterGradients = Array(repeating: Tensor(0), count: parameters)
        pullbacks = Array(repeating: nil, count: stages.count)
        columns = Array(repeating: Tensor(0), count: stages.count)
    }

    /// One forward and backward pass over a batch: the loss that `loss` computes from the
    /// stack's output, that output, and ∂loss/∂θ for every parameter θ in
    /// ``Layer/visitParameters(_:)`` order. The loss is differentiated through autodiff;
    /// see ``gradients(_:lossAndGradient:parameterReady:)`` for losses that give their gradient directly.
    public func gradients(
        _ input: Tensor<Scalar>, loss: (Tensor<Scalar>) -> Tensor<Scalar>
    ) -> (loss: Tensor<Scalar>, output: Tensor<Scalar>, gradients: [Tensor<Scalar>]) {
        withoutActuallyEscaping(loss) { gradients(input, lossAndGradient: Self.differentiating($0)) }
    }

    /// A loss's value and gradient with respect to its input, through autodiff.
    public static func differentiating(_ loss: @escaping (Tensor<Scalar>) -> Tensor<Scalar>)
        -> (Tensor<Scalar>) -> (loss: Tensor<Scalar>, gradient: Tensor<Scalar>)
    {
        return { output in
            let leaf = output.requiringGradient()
            let value = loss(leaf)
            value.backward()
            guard let gradient = leaf.gradient else {
                fatalError("WrittenOutBackpropagation: the loss does not depend on the network's output")
            }
            return (value.detached(), gradient)
        }
    }

    /// One forward and backward pass over a batch, with a loss that returns its value and
    /// its gradient with respect to the stack's output (as
    /// ``Tensor/softmaxCrossEntropyWithGradient(logits:labels:)`` does): that loss, the
    /// output, and ∂loss/∂θ for every parameter θ in ``Layer/visitParameters(_:)``
    /// order. Nothing is recorded and the model is not changed. The returned tensors share
    /// this object's buffers until the next call (release them before it, or the next
    /// call copies instead of reusing). `parameterReady`, when given, is called with each
    /// parameter's index and gradient as soon as the backward pass has computed it (from
    /// the last layer's back), so that a data-parallel step can start summing it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gradients(
        _ input: Tensor<Scalar>, lossAndGradient: (Tensor<Scalar>) -> (loss: Tensor<Scalar>, gradient: Tensor<Scalar>),
        parameterReady: ((Int, Tensor<Scalar>) -> Void)? = nil
    ) -> (loss: Tensor<Scalar>, output: Tensor<Scalar>, gradients: [Tensor<Scalar>]) {
        let x = input.detached()
        for index in stages.indices { forward(index, below: index == 0 ? x : outputs[index - 1]) }
        // The loss's own gradient at the output (images batch-first, as the model returns them).
        var output = outputs.last ?? x
        if outputLayout == .channelsFirst {
            batchFirstOutput.assignSwappingLeadingAxes(of: output, shape: Tensor<Scalar>.imageShape(output.shape, in: .channelsFirst))
            output = batchFirstOutput
        }
        let (value, outputGradient) = lossAndGradient(output)
        checkPrecondition(outputGradient.shape == output.shape,
                          "WrittenOutBackpropagation: loss gradient of shape \(outputGradient.shape) for an output of shape \(output.shape)")
        var delta = outputGradient
        if outputLayout == .channelsFirst, let last = outputs.last {
            channelsFirstGradient.assignSwappingLeadingAxes(of: outputGradient, shape: last.shape)
            delta = channelsFirstGradient
        }
        for index in stages.indices.reversed() where index >= firstParametric {
            backward(index, below: index == 0 ? x : outputs[index - 1], delta: delta, parameterReady: parameterReady)
            delta = inputGradients[index]
        }
        return (value, output, parameterGradients)
    }

    /// The stack's output for `input` (images batch-first, as the model returns them), by
    /// the forward pass alone, in this object's buffers: nothing is recorded and no
    /// gradient is computed. The result may share a buffer until the next call, which
    /// then writes a fresh one instead.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func output(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let x = input.detached()
        for index in stages.indices { forward(index, below: index == 0 ? x : outputs[index - 1]) }
        guard let last = outputs.last else { return x }
        guard outputLayout == .channelsFirst else { return last }
        var batchFirst = Tensor<Scalar>(0)
        batchFirst.assignSwappingLeadingAxes(of: last, shape: Tensor<Scalar>.imageShape(last.shape, in: .channelsFirst))
        return batchFirst
    }

    /// Stage `index`'s output from its input `below`.
    private func forward(_ index: Int, below: Tensor<Scalar>) {
        switch stages[index] {
        case .dense(let layer, _):
            requireShape(below.rank == 2 && below.shape[1] == layer.inputSize, layer.summaryName,
                         expected: "[batch, \(layer.inputSize)]", actual: below.shape)
            outputs[index].assignLinear(below, weight: layer.weight, bias: layer.bias)
        case .activation(let f):
            outputs[index].assign(f, of: below)
        case .convolution(let layer, _, let layout):
            let shape = Tensor<Scalar>.imageShape(below.shape, in: layout)
            _ = requireShape { () throws(ShapeError) in
                try layer.outputShape(forInput: Array(shape.dropFirst()), fullShape: shape)
            }
            outputs[index].assignConvolution(below, layout: layout, weight: layer.weight, bias: layer.bias,
                                             stride: layer.stride, padding: layer.padding, dilation: layer.dilation,
                                             columns: &columns[index])
        case .pooling(let layer, let layout):
            // Pooling reads planes: the same call serves either layout.
            let shape = Tensor<Scalar>.imageShape(below.shape, in: layout)
            _ = requireShape { () throws(ShapeError) in
                try layer.pooledShape(Array(shape.dropFirst()), fullShape: shape)
            }
            let (output, pullback) = if let average = layer as? AvgPool2D<Scalar> {
                below.averagePooled2DWithPullback(kernelSize: layer.kernelSize, stride: layer.stride,
                                                  padding: layer.padding, ceilMode: layer.ceilMode,
                                                  countIncludePad: average.countIncludePad)
            } else {
                below.maxPooled2DWithPullback(kernelSize: layer.kernelSize, stride: layer.stride,
                                              padding: layer.padding, ceilMode: layer.ceilMode)
            }
            (outputs[index], pullbacks[index]) = (output, pullback)
        case .flatten(let layout):
            requireShape(below.rank >= 1, "Flatten", expected: "[batch, …]", actual: below.shape)
            if layout == .channelsFirst {
                outputs[index].assignSwappingLeadingAxes(of: below, shape: [below.shape[1], below.count / Swift.max(1, below.shape[1])])
            } else {
                outputs[index] = below.flattenedBatch()
            }
        case .globalAveragePooling(let layout):
            requireShape(below.rank == 4, "GlobalAveragePool2D", expected: "[batch, channels, height, width]",
                         actual: Tensor<Scalar>.imageShape(below.shape, in: layout))
            if layout == .channelsFirst {
                let (c, n, size) = (below.shape[0], below.shape[1], below.shape[2] * below.shape[3])
                outputs[index] = below.reshaped(to: [c, n, size]).mean(alongAxis: 2).transposed()
            } else {
                outputs[index] = below.globalAveragePooled2D()
            }
        }
    }

    /// Stage `index`'s parameter gradients, and (above the first stage with parameters)
    /// the gradient with respect to its input `below`, from `delta`, the gradient with
    /// respect to its output.
    private func backward(_ index: Int, below: Tensor<Scalar>, delta: Tensor<Scalar>,
                          parameterReady: ((Int, Tensor<Scalar>) -> Void)?) {
        let needsInputGradient = index > firstParametric
        switch stages[index] {
        case .activation(let f):
            inputGradients[index].assignPullback(of: f, input: below, output: outputs[index], gradient: delta)
        case .dense(let layer, let weightIndex):
            parameterGradients[weightIndex].assignMatmul(delta, transposed: true, below)
            if layer.bias != nil { parameterGradients[weightIndex + 1].assignColumnSums(of: delta) }
            announce(weightIndex, layer.bias != nil, parameterReady)
            // δ for the layer below; the input data needs none.
            if needsInputGradient { inputGradients[index].assignMatmul(delta, layer.weight) }
        case .convolution(let layer, let weightIndex, let layout):
            // The buffers are moved out while they are written, so that writing copies nothing.
            var biasGradient = layer.bias == nil ? nil : take(&parameterGradients[weightIndex + 1])
            var inputGradient = needsInputGradient ? take(&inputGradients[index]) : nil
            Tensor.assignConvolutionGradients(
                input: below, layout: layout, weight: layer.weight, outputGradient: delta, stride: layer.stride,
                padding: layer.padding, dilation: layer.dilation, columns: columns[index],
                weightGradient: &parameterGradients[weightIndex],
                biasGradient: &biasGradient, inputGradient: &inputGradient)
            if let biasGradient { parameterGradients[weightIndex + 1] = biasGradient }
            if let inputGradient { inputGradients[index] = inputGradient }
            announce(weightIndex, layer.bias != nil, parameterReady)
        case .pooling:
            inputGradients[index] = pullbacks[index]!(delta)
        case .flatten(let layout):
            if layout == .channelsFirst {
                let batchFirst = Tensor<Scalar>.imageShape(below.shape, in: .channelsFirst)
                inputGradients[index].assignSwappingLeadingAxes(of: delta.reshaped(to: batchFirst), shape: below.shape)
            } else {
                inputGradients[index] = delta.reshaped(to: below.shape)
            }
        case .globalAveragePooling(let layout):
            // Each value of a plane gets 1/size of its mean's gradient.
            let (size, shape) = (below.shape[2] * below.shape[3], below.shape)
            let perChannel = layout == .channelsFirst ? delta.transposed() : delta
            inputGradients[index] = (perChannel * Scalar(1 / Double(Swift.max(1, size))))
                .reshaped(to: [shape[0], shape[1], 1]).broadcast(to: [shape[0], shape[1], size]).reshaped(to: shape)
        }
    }

    /// Hands a layer's parameter gradients (its weight's, then its bias's) to `parameterReady`.
    private func announce(_ weightIndex: Int, _ hasBias: Bool, _ parameterReady: ((Int, Tensor<Scalar>) -> Void)?) {
        guard let parameterReady else { return }
        for index in weightIndex..<(weightIndex + (hasBias ? 2 : 1)) { parameterReady(index, parameterGradients[index]) }
    }

    /// The tensor in `slot`, leaving an empty one there, so that the caller holds the only
    /// reference to its storage.
    private func take(_ slot: inout Tensor<Scalar>) -> Tensor<Scalar> {
        var taken = Tensor<Scalar>(0)
        swap(&taken, &slot)
        return taken
    }
}

/// The former name of ``WrittenOutBackpropagation``, from when it covered dense layers only.
@available(*, deprecated, renamed: "WrittenOutBackpropagation")
public typealias DenseBackpropagation<Scalar: TensorScalar> = WrittenOutBackpropagation<Scalar>

extension ActivationLayer {
    /// The layer's function as a ``PointwiseActivation``; nil for GELU, softmax and
    /// log-softmax.
    var pointwise: PointwiseActivation? {
        switch activation {
        case .identity: return .identity
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .relu: return .relu
        case .leakyReLU: return .leakyReLU(slope: negativeSlope)
        case .gelu, .softmax, .logSoftmax: return nil
        }
    }
}
