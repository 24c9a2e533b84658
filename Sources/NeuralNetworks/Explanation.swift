import Tensors

extension Sequential {
    /// The network in the notes' notation, with this model's shapes: each layer's forward
    /// equation (and its batch-first form), its parameter count as arithmetic, its FLOPs
    /// forward and backward per example; then the backward pass — δ at the output, the δ
    /// recursion δ^[ℓ] = (W^[ℓ+1]ᵀ δ^[ℓ+1]) ∘ g′(z^[ℓ]), ∂J/∂W^[ℓ] = δ^[ℓ] a^[ℓ−1]ᵀ — and
    /// the totals, with the memory the backward pass keeps for a batch of `batchSize`.
    /// Throws naming the layer if `inputShape` does not fit.
    public func explanation(inputShape: [Int], batchSize: Int = 64) throws(ShapeError) -> String {
        var lines: [String] = []
        var shape = inputShape
        var affine = 0  // ℓ of the notes: the count of layers with weights so far
        var parameterTerms: [String] = []
        var (forwardTotal, backwardTotal, keptPerExample) = (0, 0, Memory.product(inputShape))
        var denseLayers: [(index: Int, width: Int)] = []
        var current = "a^[0]"  // the notes' name of the value flowing into the next layer
        func dims(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }
        lines.append("Input a^[0] ∈ ℝ^\(dims(inputShape)) per example; a batch of B examples is [B, \(shape.map(String.init).joined(separator: ", "))].")
        for (index, layer) in layers.enumerated() {
            let output = try layer.outputShape(forInput: shape)
            let forward = Self.forwardFLOPs(of: layer, input: shape, output: output)
            // Backward: a layer with weights computes ∂W and the δ below (two products the
            // size of the forward one); an elementwise layer one product by g′.
            let backward = layer.parameterCount > 0 ? Memory.product([2, forward]) : forward
            forwardTotal = Memory.sum([forwardTotal, forward])
            backwardTotal = Memory.sum([backwardTotal, backward])
            keptPerExample = Memory.sum([keptPerExample, Memory.product(output)])
            lines.append("")
            lines.append("\(index): \(layer.summaryName)  [\(shape.map(String.init).joined(separator: ", "))] → [\(output.map(String.init).joined(separator: ", "))]")
            let configuration = try? LayerConfiguration(describing: layer)
            switch configuration {
            case .dense(let input, let width, let useBias)?:
                affine += 1
                let l = "[\(affine)]", below = "[\(affine - 1)]"
                denseLayers.append((index, width))
                let batch = current.hasPrefix("a^") ? "A^\(below)" : "X"
                lines.append("   z^\(l) = W^\(l) \(current) + \(useBias ? "b^\(l)" : "0"),  W^\(l) ∈ ℝ^{\(width)×\(input)}\(useBias ? ", b^\(l) ∈ ℝ^{\(width)}" : "")")
                lines.append("   batch-first: Z^\(l) = \(batch) W^\(l)ᵀ\(useBias ? " + b^\(l)" : "")   ([B, \(input)] · [\(input), \(width)] → [B, \(width)])")
                let count = useBias ? "\(width)·\(input) + \(width) = \(width * input + width)" : "\(width)·\(input) = \(width * input)"
                lines.append("   parameters: \(count)")
                parameterTerms.append("\(layer.parameterCount)")
            case .conv2D(let inputChannels, let outputChannels, let kernel, let stride, let padding, let dilation, let useBias)?:
                affine += 1
                lines.append("   z^[\(affine)] = W^[\(affine)] ⋆ \(current)\(useBias ? " + b^[\(affine)]" : "") (each output channel a \(kernel[0])×\(kernel[1]) filter slid over the input), W^[\(affine)] ∈ ℝ^{\(outputChannels)×\(inputChannels)×\(kernel[0])×\(kernel[1])}")
                let sides = (0..<2).map { axis in
                    "⌊(\(shape[axis + 1]) + 2·\(padding[axis]) − \(dilation[axis])·(\(kernel[axis]) − 1) − 1)/\(stride[axis])⌋ + 1 = \(output[axis + 1])"
                }
                lines.append("   output size per side: \(sides[0]) (height), \(sides[1]) (width)")
                let weights = kernel[0] * kernel[1] * inputChannels * outputChannels
                lines.append("   parameters: \(kernel[0])·\(kernel[1])·\(inputChannels)·\(outputChannels)\(useBias ? " + \(outputChannels)" : "") = \(layer.parameterCount)"
                             + " (k·k·c_in·c_out\(useBias ? " + c_out" : "")); a dense layer doing the same map would need "
                             + "\(Memory.product(shape))·\(Memory.product(output))\(useBias ? " + \(Memory.product(output))" : "") = "
                             + "\(Self.grouped(Memory.sum([Memory.product([Memory.product(shape), Memory.product(output)]), useBias ? Memory.product(output) : 0])))")
                lines.append("   parameter sharing: the same \(weights) weights at all \(output[1])·\(output[2]) = \(output[1] * output[2]) positions, so")
                lines.append("   ∂J/∂w = Σ over positions of δ at the position × the input patch under the kernel there")
                parameterTerms.append("\(layer.parameterCount)")
            case .activation(let function, _, _, _)?:
                let l = "[\(affine)]"
                let derivative: String
                switch function {
                case .relu: derivative = "g′(z) = 1 for z > 0, else 0"
                case .sigmoid: derivative = "g′(z) = g(z)(1 − g(z))"
                case .tanh: derivative = "g′(z) = 1 − g(z)²"
                case .leakyReLU: derivative = "g′(z) = 1 for z > 0, else the slope"
                case .identity: derivative = "g′(z) = 1"
                case .gelu: derivative = "g′(z) = Φ(z) + z·φ(z)"
                case .softmax, .logSoftmax: derivative = "with cross-entropy, the loss's gradient at z is ŷ − y (see below)"
                }
                let how = function == .softmax || function == .logSoftmax ? "over each example's outputs" : "elementwise"
                lines.append("   a^\(l) = \(function.rawValue)(\(current)), \(how); \(derivative)")
            case .batchNorm1D?, .batchNorm2D?:
                lines.append("   normalises each channel with the batch's mean and variance (running averages in evaluation), then γ·x̂ + β")
                lines.append("   parameters: 2·\(layer.parameterCount / 2) = \(layer.parameterCount) (γ, β)")
                parameterTerms.append("\(layer.parameterCount)")
            case .maxPool2D?, .avgPool2D?, .globalAveragePool2D?:
                lines.append("   no parameters; backward sends δ to the \(configuration.map { if case .maxPool2D = $0 { return "maximum of each window" } else { return "window's inputs, divided evenly" } } ?? "")")
            default:
                if layer.parameterCount > 0 { parameterTerms.append("\(layer.parameterCount)") }
            }
            lines.append("   FLOPs per example: forward \(Self.grouped(forward)), backward ≈ \(Self.grouped(backward))")
            switch configuration {
            case .dense?, .conv2D?: current = "z^[\(affine)]"
            case .activation?: current = "a^[\(affine)]"
            default: current = "x\(index)"
            }
            shape = output
        }
        lines.append("")
        lines.append("Backward pass (the notes' δ recursion):")
        let output = "δ^[\(affine)] = ŷ − y ∈ ℝ^\(dims(shape))"
        switch finalActivation {
        case .softmax?: lines.append("   at the output, softmax with cross-entropy: \(output)")
        case .sigmoid?: lines.append("   at the output, sigmoid with the logistic loss: \(output)")
        default: lines.append("   at the output, squared loss on identity outputs: \(output)")
        }
        if denseLayers.count > 1 && denseLayers.count == affine {
            for position in stride(from: denseLayers.count - 2, through: 0, by: -1) {
                let l = position + 1
                lines.append("   δ^[\(l)] = (W^[\(l + 1)]ᵀ δ^[\(l + 1)]) ∘ g′(z^[\(l)]) ∈ ℝ^{\(denseLayers[position].width)}")
            }
        }
        if denseLayers.count != affine {
            lines.append("   through each layer in turn, δ of its input = its Jacobian transposed times δ of its output (a convolution's: the")
            lines.append("   filters slid back over δ; a pooling layer's: δ routed to the inputs each window used)")
        }
        lines.append("   for each layer with weights: ∂J/∂W^[ℓ] = δ^[ℓ] a^[ℓ−1]ᵀ, ∂J/∂b^[ℓ] = δ^[ℓ] (summed over the batch: ∂W = Δᵀ A)")
        lines.append("")
        let total = parameterCount
        lines.append("Parameters: \(parameterTerms.count > 1 ? parameterTerms.joined(separator: " + ") + " = " : "")\(Self.grouped(total))")
        lines.append("FLOPs per example: forward \(Self.grouped(forwardTotal)), backward ≈ \(Self.grouped(backwardTotal)), a training step ≈ \(Self.grouped(Memory.sum([forwardTotal, backwardTotal])))")
        let kept = Memory.product([keptPerExample, batchSize, MemoryLayout<Scalar>.size])
        lines.append("Memory the backward pass keeps for a batch of \(batchSize): every layer's output, \(Self.grouped(keptPerExample)) values per example = \(Memory.text(kept)) as \(Scalar.self == Float.self ? "float32" : "float64")")
        return lines.joined(separator: "\n")
    }
}
