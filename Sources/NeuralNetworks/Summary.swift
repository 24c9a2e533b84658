import Tensors

extension Sequential {
    /// A table of the layers with each one's output shape (per example) and parameter
    /// count, and the totals; throws naming the layer if `inputShape` does not fit.
    public func summary(inputShape: [Int]) throws(ShapeError) -> String {
        var rows: [(String, String, String)] = [("Layer", "Output shape", "Parameters")]
        var shape = inputShape
        rows.append(("Input", "\(shape)", "0"))
        for (index, layer) in layers.enumerated() {
            shape = try layer.outputShape(forInput: shape)
            rows.append(("\(index): \(layer.summaryName)", "\(shape)", "\(layer.parameterCount)"))
        }
        let widths = (
            rows.map(\.0.count).max()!, rows.map(\.1.count).max()!, rows.map(\.2.count).max()!
        )
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: n - s.count) }
        func padLeft(_ s: String, _ n: Int) -> String { String(repeating: " ", count: n - s.count) + s }
        var lines = rows.map { "\(pad($0.0, widths.0))  \(pad($0.1, widths.1))  \(padLeft($0.2, widths.2))" }
        lines.insert(String(repeating: "─", count: widths.0 + widths.1 + widths.2 + 4), at: 1)
        lines.append(String(repeating: "─", count: widths.0 + widths.1 + widths.2 + 4))
        lines.append("Total parameters: \(parameterCount)")
        return lines.joined(separator: "\n")
    }
}
