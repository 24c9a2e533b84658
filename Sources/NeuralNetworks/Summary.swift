import Tensors

extension Sequential {
    /// A table of the layers with each one's output shape (per example), forward
    /// floating-point operations per example and parameter count, and the totals; throws
    /// naming the layer if `inputShape` does not fit.
    public func summary(inputShape: [Int]) throws(ShapeError) -> String {
        var rows: [(String, String, String, String)] = [("Layer", "Output shape", "FLOPs", "Parameters")]
        var shape = inputShape
        var totalFLOPs = 0
        rows.append(("Input", "\(shape)", "", "0"))
        for (index, layer) in layers.enumerated() {
            let output = try layer.outputShape(forInput: shape)
            let flops = Self.forwardFLOPs(of: layer, input: shape, output: output)
            totalFLOPs = Memory.sum([totalFLOPs, flops])
            rows.append(("\(index): \(layer.summaryName)", "\(output)", Self.grouped(flops), Self.grouped(layer.parameterCount)))
            shape = output
        }
        let widths = (rows.map(\.0.count).max()!, rows.map(\.1.count).max()!, rows.map(\.2.count).max()!,
                      rows.map(\.3.count).max()!)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: n - s.count) }
        func padLeft(_ s: String, _ n: Int) -> String { String(repeating: " ", count: n - s.count) + s }
        var lines = rows.map {
            "\(pad($0.0, widths.0))  \(pad($0.1, widths.1))  \(padLeft($0.2, widths.2))  \(padLeft($0.3, widths.3))"
        }
        let rule = String(repeating: "─", count: widths.0 + widths.1 + widths.2 + widths.3 + 6)
        lines.insert(rule, at: 1)
        lines.append(rule)
        lines.append("Forward FLOPs per example: \(Self.grouped(totalFLOPs)) (a training step costs about three times as many)")
        lines.append("Total parameters: \(Self.grouped(parameterCount))")
        return lines.joined(separator: "\n")
    }

    /// Floating-point operations of one example's forward pass through `layer`, a
    /// multiply-add counted as two: a dense layer 2·in·out (+ out for the bias), a
    /// convolution 2·(C_in·k_h·k_w)·C_out·H_out·W_out (+ the bias per output), pooling one
    /// per window element, batch normalisation two per element, activations one per
    /// element; reshaping and dropout (at inference) none.
    public static func forwardFLOPs(of layer: any Layer<Scalar>, input: [Int], output: [Int]) -> Int {
        let (product, sum) = (Memory.product, Memory.sum)
        let outputs = product(output), inputs = product(input)
        if let sequential = layer as? Sequential<Scalar> {
            var shape = input
            var total = 0
            for inner in sequential.layers {
                guard let next = try? inner.outputShape(forInput: shape) else { return total }
                total = sum([total, forwardFLOPs(of: inner, input: shape, output: next)])
                shape = next
            }
            return total
        }
        guard let configuration = try? LayerConfiguration(describing: layer) else { return outputs }
        switch configuration {
        case .dense(let inputSize, let outputSize, let useBias):
            return sum([product([2, inputSize, outputSize]), useBias ? outputSize : 0])
        case .conv2D(let inputChannels, _, let kernel, _, _, _, let useBias):
            return sum([product([2, inputChannels] + kernel + [outputs]), useBias ? outputs : 0])
        case .maxPool2D(let kernel, _, _, _), .avgPool2D(let kernel, _, _, _, _):
            return product(kernel + [outputs])
        case .globalAveragePool2D: return inputs
        case .batchNorm1D, .batchNorm2D: return product([2, outputs])
        case .flatten, .dropout: return 0
        default: return outputs
        }
    }

    /// 1234567 → "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }
}
