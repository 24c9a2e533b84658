import Datasets
import Foundation
import NeuralNetworks
import Tensors
import Training

/// The pictures a learner wants of a model whose input is one or two numbers: for two
/// inputs and classes, the decision boundary over training (a frame at chosen epochs, and
/// the final one with the data) and, per hidden unit of the first layers, what it computes
/// over the plane and its δ at the training examples; for one input and a value, the
/// fitted curve over the data. Axes are in the data's own units (features standardised
/// for the model are taken back).
final class PlanePictures: TrainingCallback {
    enum Kind { case boundary(classNames: [String]), curve(targetName: String) }

    static let side = 96
    static let curvePoints = 200
    static let frameCount = 8

    let kind: Kind
    let model: Sequential<Float>
    let featureNames: [String]
    /// Training examples in the data's units (at most 1000 of them, the first ones).
    let points: [[Double]]
    let labels: [Int]
    let values: [Double]
    let xRange: ClosedRange<Double>
    let yRange: ClosedRange<Double>
    /// The grid (or the curve's inputs) as the model reads them.
    private let grid: Tensor<Float>
    private let targetStandardization: Standardization?
    private let featureStandardization: Standardization?
    /// The epochs whose frame is kept (counted from 0), besides the latest.
    private let plannedEpochs: Set<Int>
    /// Per epoch: the boundary as RGB pixels, or the curve's values.
    private(set) var frames: [(epoch: Int, pixels: [UInt8], curve: [Double])] = []

    /// Pictures for `data` when its examples are two numbers with classes or one number
    /// with a value; nil otherwise.
    init?(model: Sequential<Float>, data: Dataset<Float>, epochs: Int) {
        guard data.exampleShape == [2] || data.exampleShape == [1], let targets = data.targets else { return nil }
        let dimensions = data.exampleShape[0]
        switch (targets, dimensions) {
        case (.classes(let labels, let classes), 2):
            kind = .boundary(classNames: classes.names)
            self.labels = labels
            values = []
        case (.values(let y), 1) where y.count == data.count:
            kind = .curve(targetName: data.targetName ?? "target")
            labels = []
            let restored = (try? data.targetStandardization.map { try $0.restored(y) }) ?? y
            values = restored.doubleScalars
        default: return nil
        }
        self.model = model
        featureNames = data.featureNames.count == dimensions ? data.featureNames : (1...dimensions).map { "x\($0)" }
        targetStandardization = data.targetStandardization
        let standardization = data.standardization
        func raw(_ value: Float, feature: Int) -> Double {
            guard let s = standardization else { return Double(value) }
            let j = s.scope == .global ? 0 : feature
            return Double(value) * s.standardDeviation[j] + s.mean[j]
        }
        featureStandardization = standardization
        func modelInput(_ value: Double, feature: Int) -> Float { Self.modelInput(value, feature: feature, standardization) }
        let features = data.features.scalars
        let shown = min(data.count, 1000)
        points = (0..<shown).map { i in (0..<dimensions).map { raw(features[i * dimensions + $0], feature: $0) } }
        func padded(_ values: [Double]) -> ClosedRange<Double> {
            let low = values.min() ?? 0, high = values.max() ?? 1
            let pad = max((high - low) * 0.08, 1e-6)
            return (low - pad)...(high + pad)
        }
        let allX = (0..<data.count).map { raw(features[$0 * dimensions], feature: 0) }
        xRange = padded(allX)
        if dimensions == 2 {
            yRange = padded((0..<data.count).map { raw(features[$0 * 2 + 1], feature: 1) })
            let side = Self.side
            var scalars: [Float] = []
            scalars.reserveCapacity(side * side * 2)
            for row in 0..<side {
                // Row 0 is the top of the picture: the largest second feature.
                let y = yRange.upperBound - (Double(row) + 0.5) / Double(side) * (yRange.upperBound - yRange.lowerBound)
                for column in 0..<side {
                    let x = xRange.lowerBound + (Double(column) + 0.5) / Double(side) * (xRange.upperBound - xRange.lowerBound)
                    scalars += [modelInput(x, feature: 0), modelInput(y, feature: 1)]
                }
            }
            grid = Tensor(shape: [side * side, 2], scalars: scalars)
        } else {
            yRange = padded(values)
            let (low, high, count) = (xRange.lowerBound, xRange.upperBound, Self.curvePoints)
            grid = Tensor(shape: [count, 1], scalars: (0..<count).map {
                modelInput(low + Double($0) / Double(count - 1) * (high - low), feature: 0)
            })
        }
        let count = min(Self.frameCount - 1, epochs)
        plannedEpochs = Set((0..<count).map { epochs == 1 ? 0 : Int((Double($0) * Double(epochs - 1) / Double(max(count, 1))).rounded()) })
    }

    func epochEnded(_ record: EpochRecord) -> CallbackDecision {
        if let last = frames.last, !plannedEpochs.contains(last.epoch) { frames.removeLast() }
        let (pixels, curve) = picture()
        frames.append((record.epoch, pixels, curve))
        return .proceed
    }

    /// The model's picture now: the boundary's pixels, or the curve in the target's units.
    private func picture() -> ([UInt8], [Double]) {
        switch kind {
        case .boundary(let names):
            let probabilities = model.classProbabilities(grid)
            return (boundaryPixels(probabilities.scalars, classes: max(names.count, 2)), [])
        case .curve:
            let predicted = (try? model.predictedValues(grid, targetStandardization: targetStandardization)) ?? model.predict(grid)
            return ([], predicted.doubleScalars)
        }
    }

    /// Each pixel in its most probable class's colour, paler where the model is less sure.
    private func boundaryPixels(_ probabilities: [Float], classes: Int) -> [UInt8] {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(probabilities.count / classes * 3)
        for start in stride(from: 0, to: probabilities.count, by: classes) {
            var best = 0
            for k in 1..<classes where probabilities[start + k] > probabilities[start + best] { best = k }
            let floor = 1 / Double(classes)
            let sureness = max(0, min(1, (Double(probabilities[start + best]) - floor) / (1 - floor)))
            let strength = 0.18 + 0.5 * sureness
            let colour = classColour(best)
            for channel in 0..<3 {
                pixels.append(UInt8((255 * (1 - strength) + Double(colour[channel]) * strength).rounded()))
            }
        }
        return pixels
    }

    // MARK: - The report's sections

    func html() -> String {
        switch kind {
        case .boundary(let names): return boundaryHTML(names)
        case .curve(let target): return curveHTML(target)
        }
    }

    private var shownFrames: [(epoch: Int, pixels: [UInt8], curve: [Double])] {
        frames.filter { plannedEpochs.contains($0.epoch) } + (frames.last.map { plannedEpochs.contains($0.epoch) ? [] : [$0] } ?? [])
    }

    private func boundaryHTML(_ names: [String]) -> String {
        let (final, _) = picture()
        let legend = names.enumerated().map { index, name in
            "<span class=\"key\"><i style=\"background:\(hex(classColour(index)))\"></i>\(escape(name))</span>"
        }.joined(separator: " ")
        let framesHTML = shownFrames.map { frame in
            "<figure>\(planeSVG(pixels: frame.pixels, size: 150, dotRadius: 1.3, maximumPoints: 250))<figcaption>epoch \(frame.epoch + 1)</figcaption></figure>"
        }.joined(separator: "\n")
        return """
        <h2>Decision boundary</h2>
        <p>Each point of the plane in the colour of the class the model predicts there, paler where it is less sure;
        the dots are training examples (\(points.count) shown; 250 in the small pictures), in their class's colour. \(legend)</p>
        <div class="charts">\(planeSVG(pixels: final, size: 420, dotRadius: 3, axes: true))</div>
        <h3>Over training</h3>
        <div class="grid frames">\(framesHTML)</div>
        \(unitsHTML())
        """
    }

    /// The plane as an image with the training examples over it.
    private func planeSVG(pixels: [UInt8], size: Int, dotRadius: Double, axes: Bool = false, maximumPoints: Int = 1000) -> String {
        // With axes, room left of the picture for the y tick labels and, apart from them, the rotated axis title.
        let margin = axes ? Swift.max(54, ChartAxis(inside: yRange).labelWidth + 32) : 0
        let s = Double(size)
        func px(_ x: Double) -> Double { margin + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * s }
        func py(_ y: Double) -> Double { (yRange.upperBound - y) / (yRange.upperBound - yRange.lowerBound) * s }
        // With axes, 8 px above the picture keep its top tick label whole.
        let top = axes ? 8.0 : 0
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(s + margin * 1.4))\" height=\"\(Int(s + margin + top))\"><g transform=\"translate(0 \(Int(top)))\">"
        svg += "<image x=\"\(margin)\" y=\"0\" width=\"\(size)\" height=\"\(size)\" preserveAspectRatio=\"none\" href=\"\(rgbBitmapDataURI(pixels, width: Self.side, height: Self.side))\"/>"
        for (point, label) in zip(points, labels).prefix(maximumPoints) {
            svg += "<circle cx=\"\(rounded(px(point[0])))\" cy=\"\(rounded(py(point[1])))\" r=\"\(dotRadius)\" fill=\"\(hex(classColour(label)))\" stroke=\"#fff\" stroke-width=\"\(dotRadius > 2 ? 0.8 : 0.3)\"/>"
        }
        if axes { svg += axesSVG(left: margin, size: s) }
        return svg + "</g></svg>"
    }

    private func axesSVG(left: Double, size: Double) -> String {
        var svg = "<rect x=\"\(left)\" y=\"0\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" stroke=\"#888\"/>"
        let (xAxis, yAxis) = (ChartAxis(inside: xRange), ChartAxis(inside: yRange))
        for (x, label) in zip(xAxis.ticks, xAxis.labels) {
            svg += "<text x=\"\(rounded(xAxis.position(x, from: left, to: left + size)))\" y=\"\(rounded(size + 16))\" text-anchor=\"middle\" font-size=\"11\">\(label)</text>"
        }
        for (y, label) in zip(yAxis.ticks, yAxis.labels) {
            svg += "<text x=\"\(rounded(left - 6))\" y=\"\(rounded(yAxis.position(y, from: size, to: 0) + 4))\" text-anchor=\"end\" font-size=\"11\">\(label)</text>"
        }
        svg += "<text x=\"\(rounded(left + size / 2))\" y=\"\(rounded(size + 36))\" text-anchor=\"middle\" font-size=\"12\">\(escape(featureNames[0]))</text>"
        if featureNames.count > 1 {
            svg += "<text transform=\"translate(12 \(rounded(size / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(escape(featureNames[1]))</text>"
        }
        return svg
    }

    /// For each hidden unit of the first two layers (up to 16 units each): a^[ℓ]_j over
    /// the plane, and δ^[ℓ]_j = ∂J/∂z^[ℓ]_j at each training example, for cross-entropy
    /// on the logits (the logistic loss with one output).
    private func unitsHTML() -> String {
        let layers = model.layers
        let affine = layers.indices.filter { layers[$0] is Dense<Float> }
        guard affine.count >= 2, affine.first == 0 || layers.prefix(affine[0]).allSatisfy({ $0.parameterCount == 0 }) else { return "" }
        // δ at the training examples: one backward pass with each affine output kept.
        let shown = points.count
        let features = Tensor<Float>(shape: [shown, 2], scalars: pointsAsModelInput())
        var outputs: [Tensor<Float>] = []
        model.zeroGradients()
        let lossLayers = model.finalActivation == .softmax || model.finalActivation == .sigmoid ? layers.count - 1 : layers.count
        var value = features
        for layer in layers.prefix(lossLayers) {
            value = layer(value).retainingGradient()
            outputs.append(value)
        }
        let objective: Tensor<Float>
        if value.shape.last == 1 {
            let y = Tensor<Float>(shape: [shown, 1], scalars: labels.prefix(shown).map { Float($0) })
            objective = binaryCrossEntropy(logits: value, targets: y)
        } else {
            objective = softmaxCrossEntropy(logits: value, labels: Array(labels.prefix(shown)))
        }
        objective.backward()
        defer { model.zeroGradients() }
        // The plane through the same layers, without gradients.
        var planeOutputs: [Tensor<Float>] = []
        withoutGradients {
            var v = grid
            for layer in layers { v = layer(v); planeOutputs.append(v) }
        }
        var sections: [String] = []
        for (position, start) in affine.dropLast().prefix(2).enumerated() {
            let end = affine[position + 1]
            let aIndex = end - 1
            guard let delta = outputs[start].gradient else { continue }
            let units = min(delta.shape[1], 16)
            let width = delta.shape[1]
            let a = planeOutputs[aIndex]
            let activation = (layers[aIndex] as? ActivationLayer<Float>)?.activation.rawValue ?? "identity"
            var figures: [String] = []
            for unit in 0..<units {
                let activations = (0..<(Self.side * Self.side)).map { Double(a.scalars[$0 * width + unit]) }
                let deltas = (0..<shown).map { Double(delta.scalars[$0 * width + unit]) * Double(shown) }
                figures.append("""
                <figure>\(heatmapImage(activations))\(deltaImage(deltas))<figcaption>unit \(unit + 1): a (left), δ (right)</figcaption></figure>
                """)
            }
            sections.append("""
            <h3>Layer \(position + 1): \(escape(layers[start].summaryName)) + \(activation)\(width > units ? " (first \(units) of \(width) units)" : "")</h3>
            <div class="grid units">\(figures.joined(separator: "\n"))</div>
            """)
        }
        guard !sections.isEmpty else { return "" }
        return """
        <h2>Hidden units</h2>
        <p>Left: what each unit computes, a<sup>[ℓ]</sup><sub>j</sub> over the plane (dark low, yellow high, scaled per unit).
        Right: its δ<sup>[ℓ]</sup><sub>j</sub> = ∂J/∂z<sup>[ℓ]</sup><sub>j</sub> at each training example, for that example's own loss
        (red positive, blue negative, white 0; scaled per unit): where the unit's weights are pushed hardest.</p>
        \(sections.joined(separator: "\n"))
        """
    }

    /// The shown training examples as the model reads them (standardised when the data was).
    private func pointsAsModelInput() -> [Float] {
        points.flatMap { point in point.enumerated().map { Self.modelInput($1, feature: $0, featureStandardization) } }
    }

    /// A value in the data's units as the model reads it.
    private static func modelInput(_ value: Double, feature: Int, _ standardization: Standardization?) -> Float {
        guard let s = standardization else { return Float(value) }
        let j = s.scope == .global ? 0 : feature
        return Float((value - s.mean[j]) / s.standardDeviation[j])
    }

    private func heatmapImage(_ values: [Double]) -> String {
        let low = values.min() ?? 0, high = values.max() ?? 1
        var pixels: [UInt8] = []
        for v in values {
            let t = high - low > 1e-12 ? (v - low) / (high - low) : 0.5
            pixels += viridis(t)
        }
        return "<img src=\"\(rgbBitmapDataURI(pixels, width: Self.side, height: Self.side))\" alt=\"activation\">"
    }

    /// δ at the training examples as a picture: a square per example, red positive, blue
    /// negative, white 0, on grey.
    private func deltaImage(_ deltas: [Double]) -> String {
        let scale = max(deltas.map(abs).max() ?? 0, 1e-30)
        let side = Self.side
        var pixels = [UInt8](repeating: 236, count: side * side * 3)
        // Larger |δ| drawn last, on top.
        for index in deltas.indices.sorted(by: { abs(deltas[$0]) < abs(deltas[$1]) }) {
            let point = points[index]
            let column = Int((point[0] - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Double(side))
            let row = Int((yRange.upperBound - point[1]) / (yRange.upperBound - yRange.lowerBound) * Double(side))
            let t = deltas[index] / scale
            let fade = UInt8((255 * (1 - abs(t))).rounded())
            let colour: [UInt8] = t >= 0 ? [255, fade, fade] : [fade, fade, 255]
            for r in max(row - 1, 0)...min(row + 1, side - 1) {
                for c in max(column - 1, 0)...min(column + 1, side - 1) {
                    pixels.replaceSubrange(((r * side + c) * 3)..<((r * side + c) * 3 + 3), with: colour)
                }
            }
        }
        return "<img src=\"\(rgbBitmapDataURI(pixels, width: side, height: side))\" alt=\"δ\">"
    }

    private func curveHTML(_ target: String) -> String {
        let (_, final) = picture()
        let curves = shownFrames.map(\.curve) + [final]
        // The curve is drawn over xRange, so the x-axis spans it; the y-axis ends on round ticks.
        let xAxis = ChartAxis(inside: xRange)
        let yAxis = ChartAxis(covering: values + curves.flatMap { $0 }, intervals: 5)
        let width = 560.0, height = 340.0, left = Swift.max(60, yAxis.labelWidth + 32), right = 24.0, top = 16.0, bottom = 44.0
        func px(_ x: Double) -> Double { xAxis.position(x, from: left, to: width - right) }
        func py(_ y: Double) -> Double { yAxis.position(y, from: height - bottom, to: top) }
        let xs = (0..<Self.curvePoints).map { xRange.lowerBound + Double($0) / Double(Self.curvePoints - 1) * (xRange.upperBound - xRange.lowerBound) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\">"
        svg += yGrid(yAxis, left: left, right: width - right, py: py)
        for (x, label) in zip(xAxis.ticks, xAxis.labels) {
            svg += "<text x=\"\(rounded(px(x)))\" y=\"\(rounded(height - bottom + 16))\" text-anchor=\"middle\" font-size=\"11\">\(label)</text>"
        }
        for (x, y) in zip(points.map { $0[0] }, values) {
            svg += "<circle cx=\"\(rounded(px(x)))\" cy=\"\(rounded(py(y)))\" r=\"2.4\" fill=\"#1f77b4\" fill-opacity=\"0.55\"/>"
        }
        let framesShown = shownFrames
        for (index, frame) in framesShown.enumerated() {
            let shade = Int(200 - 120 * Double(index) / Double(max(framesShown.count - 1, 1)))
            let line = zip(xs, frame.curve).map { "\(rounded(px($0))),\(rounded(py($1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"rgb(\(shade),\(shade),\(shade))\" stroke-width=\"1\" points=\"\(line)\"><title>epoch \(frame.epoch + 1)</title></polyline>"
        }
        let line = zip(xs, final).map { "\(rounded(px($0))),\(rounded(py($1)))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2.5\" points=\"\(line)\"/>"
        svg += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\" font-size=\"12\">\(escape(featureNames[0]))</text>"
        svg += "<text transform=\"translate(14 \((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\">\(escape(target))</text>"
        svg += "<line x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>"
        svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(height - bottom)\" y2=\"\(height - bottom)\" stroke=\"#888\"/></svg>"
        let epochs = framesShown.map { "\($0.epoch + 1)" }.joined(separator: ", ")
        return """
        <h2>Fitted curve</h2>
        <p>The training examples (blue), the model's curve at the end (red) and after epochs \(epochs) (grey, darker later),
        in the data's units.</p>
        <div class="charts">\(svg)</div>
        """
    }
}

/// Ten distinct class colours (the tab10 palette).
func classColour(_ index: Int) -> [UInt8] {
    let palette: [[UInt8]] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
                              [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]]
    return palette[((index % palette.count) + palette.count) % palette.count]
}

func hex(_ colour: [UInt8]) -> String { String(format: "#%02x%02x%02x", colour[0], colour[1], colour[2]) }

/// A coordinate with two decimals: enough for the eye, and a smaller page.
func rounded(_ value: Double) -> String { String(format: "%.2f", value) }

/// Viridis, by linear interpolation between five of its colours.
func viridis(_ t: Double) -> [UInt8] {
    let stops: [[Double]] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]]
    let x = max(0, min(1, t.isFinite ? t : 0)) * Double(stops.count - 1)
    let i = min(Int(x), stops.count - 2)
    let f = x - Double(i)
    return (0..<3).map { UInt8((stops[i][$0] * (1 - f) + stops[i + 1][$0] * f).rounded()) }
}
