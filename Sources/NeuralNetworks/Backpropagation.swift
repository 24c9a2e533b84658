import Tensors

/// Backpropagation written out for stacks of dense layers and elementwise activations —
/// the notes' algorithm (section 3) without a recorded graph:
///
/// - forward: z^[ℓ] = W^[ℓ] a^[ℓ−1] + b^[ℓ], a^[ℓ] = g^[ℓ](z^[ℓ]), keeping every a^[ℓ−1]
///   and z^[ℓ] (over a batch, Z = A·Wᵀ + b);
/// - the loss's gradient δ = ∂J/∂a^[L] at the output (the loss itself is differentiated
///   by its own rule, so a fused softmax cross-entropy gives δ = (ŷ − y)/m);
/// - backward: δ ← δ ∘ g'(z^[ℓ]) at each activation; at each dense layer
///   ∂J/∂W^[ℓ] = δᵀ a^[ℓ−1], ∂J/∂b^[ℓ] = Σ over the batch of δ, then δ ← δ W^[ℓ].
///
/// The result equals what ``Tensor/backward()`` computes through the same layers (the
/// same operations, in the same order), without graph nodes and pullbacks, and in
/// buffers kept from one call to the next: after the first batch of a given size, a
/// training step allocates almost nothing. For small networks that bookkeeping is most
/// of a step. The first layer's δ (the gradient for the input data) is not computed.
///
/// Built only for ``Sequential`` models of ``Dense``, ``Identity``, ``Sigmoid``,
/// ``Tanh``, ``ReLU`` and ``LeakyReLU`` layers (plus, unused by the loss, a final
/// softmax or sigmoid that the loss fuses); anything else trains through autodiff.
/// Not for concurrent use: one instance per training loop.
public final class DenseBackpropagation<Scalar: TensorScalar> {
    enum Stage {
        case dense(Dense<Scalar>, weightIndex: Int)
        case activation(PointwiseActivation)
    }

    let stages: [Stage]
    /// The first dense stage: below it no δ is needed.
    let firstDense: Int
    /// How many parameters the model has, in ``Layer/visitParameters(_:)`` order.
    public let parameterCount: Int

    // The buffers: each stage's output (z or a), the gradient with respect to each stage's
    // input, and the parameters' gradients.
    private var outputs: [Tensor<Scalar>]
    private var inputGradients: [Tensor<Scalar>]
    private var parameterGradients: [Tensor<Scalar>]

    /// The written-out backpropagation of `model`'s first `layerCount` layers (all by
    /// default); nil if one of them has no written-out rule, or if a later layer has
    /// parameters (they would get no gradient).
    public init?(_ model: Sequential<Scalar>, layerCount: Int? = nil) {
        let count = layerCount ?? model.layers.count
        guard count <= model.layers.count else { return nil }
        var stages: [Stage] = []
        var parameters = 0
        for layer in model.layers.prefix(count) {
            if let dense = layer as? Dense<Scalar> {
                stages.append(.dense(dense, weightIndex: parameters))
                parameters += dense.bias == nil ? 1 : 2
            } else if let pointwise = (layer as? ActivationLayer<Scalar>)?.pointwise {
                stages.append(.activation(pointwise))
            } else {
                return nil
            }
        }
        for layer in model.layers.dropFirst(count) where layer.parameterCount > 0 { return nil }
        self.stages = stages
        firstDense = stages.firstIndex { if case .dense = $0 { true } else { false } } ?? stages.count
        parameterCount = parameters
        outputs = Array(repeating: Tensor(0), count: stages.count)
        inputGradients = Array(repeating: Tensor(0), count: stages.count)
        parameterGradients = Array(repeating: Tensor(0), count: parameters)
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
                fatalError("DenseBackpropagation: the loss does not depend on the network's output")
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
        // Forward: z^[ℓ] = a^[ℓ−1]·Wᵀ + b, a^[ℓ] = g(z^[ℓ]).
        for index in stages.indices {
            let below = index == 0 ? x : outputs[index - 1]
            switch stages[index] {
            case .dense(let layer, _):
                requireShape(below.rank == 2 && below.shape[1] == layer.inputSize, layer.summaryName,
                             expected: "[batch, \(layer.inputSize)]", actual: below.shape)
                outputs[index].assignLinear(below, weight: layer.weight, bias: layer.bias)
            case .activation(let f):
                outputs[index].assign(f, of: below)
            }
        }
        // The loss's own gradient at the output.
        let output = outputs.last ?? x
        let (value, outputGradient) = lossAndGradient(output)
        checkPrecondition(outputGradient.shape == output.shape,
                          "DenseBackpropagation: loss gradient of shape \(outputGradient.shape) for an output of shape \(output.shape)")
        var delta = outputGradient
        // Backward: δ ← δ ∘ g'(z) at an activation; at a dense layer ∂W = δᵀ·a^[ℓ−1],
        // ∂b = Σ δ, δ ← δ·W.
        for index in stages.indices.reversed() where index >= firstDense {
            let below = index == 0 ? x : outputs[index - 1]
            switch stages[index] {
            case .activation(let f):
                inputGradients[index].assignPullback(of: f, input: below, output: outputs[index], gradient: delta)
            case .dense(let layer, let weightIndex):
                parameterGradients[weightIndex].assignMatmul(delta, transposed: true, below)
                if layer.bias != nil { parameterGradients[weightIndex + 1].assignColumnSums(of: delta) }
                if let parameterReady {
                    for index in weightIndex..<(weightIndex + (layer.bias != nil ? 2 : 1)) {
                        parameterReady(index, parameterGradients[index])
                    }
                }
                // δ for the layer below; the input data needs none.
                if index > firstDense { inputGradients[index].assignMatmul(delta, layer.weight) }
            }
            delta = inputGradients[index]
        }
        return (value, output, parameterGradients)
    }
}

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
