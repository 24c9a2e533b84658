import CZlib
import Foundation
import NeuralNetworks
import Training

/// The training report: one self-contained HTML file (inline SVG and images as data
/// URIs, nothing fetched from the network).
struct Report {
    struct Example {
        /// Grey levels in [0, 1], row-major.
        var pixels: [Float]
        var width: Int
        var height: Int
        var predicted: Int
        var actual: Int
    }

    /// One output of a regression: its predictions beside the true values, in its units.
    struct Regression {
        var predicted: [Double]
        var actual: [Double]
        var targetName: String
    }

    var title: String
    var history: History
    var classNames: [String]
    var testMetrics: Metrics
    var summary: String
    var settings: [(String, String)]
    /// confusion[actual][predicted]
    var confusion: [[Int]] = []
    var misclassified: [Example] = []
    /// First-layer filters as images (normalised to [0, 1]), when the input is an image.
    var filters: [(pixels: [Float], width: Int, height: Int)] = []
    /// A regression's outputs, one for each output of the model.
    var regression: [Regression] = []
    var evaluationName = "test set"
    /// Set when the loss is not in the target's units (a regression trained on its
    /// standardised target): what it is measured in.
    var lossUnits: String?
    /// What the ReLU layers' weights were drawn with, when known: the health warnings
    /// offer no remedy already in force.
    var initializer: Initializer?
    /// The pictures of a model with one or two inputs (``PlanePictures``), as HTML.
    var pictures = ""
    /// How many training examples the layer-health probe read.
    var probeSize = 256

    func html() -> String {
        var cards: [(String, String)] = []
        if let accuracy = testMetrics.accuracy { cards.append(("Accuracy", String(format: "%.2f %%", accuracy * 100))) }
        if let outputs = testMetrics.outputs, outputs.count == regression.count {
            // Outputs in different units: each one's figures apart, never pooled.
            for (output, name) in zip(outputs, regression.map(\.targetName)) {
                cards.append(("R² of \(escape(name))", rSquaredText(output.rSquared)))
                cards.append(("RMSE of \(escape(name))", String(format: "%.6g", output.rootMeanSquaredError)))
                cards.append(("MAE of \(escape(name))", String(format: "%.6g", output.meanAbsoluteError)))
            }
        } else {
            if let r2 = testMetrics.rSquared { cards.append(("R²", rSquaredText(r2))) }
            if let rmse = testMetrics.rootMeanSquaredError { cards.append(("RMSE", String(format: "%.6g", rmse))) }
            if let mae = testMetrics.meanAbsoluteError { cards.append(("MAE", String(format: "%.6g", mae))) }
        }
        cards.append((lossUnits.map { "Loss, \($0)" } ?? "Loss", String(format: "%.4f", testMetrics.loss)))
        let cardHTML = cards.map { "<div class=\"card\">\($0.0) (\(evaluationName), after training)<b>\($0.1)</b></div>" }.joined(separator: "\n  ")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
        .cards { display: flex; gap: 1em; flex-wrap: wrap; }
        .card { background: #f5f7fa; border-radius: 8px; padding: .8em 1.2em; }
        .card b { display: block; font-size: 1.5em; }
        .charts { display: flex; gap: 1.5em; flex-wrap: wrap; }
        table { border-collapse: collapse; font-size: .9em; }
        td, th { padding: .25em .6em; border: 1px solid #e3e3e3; text-align: right; }
        th { background: #f5f7fa; } td.l, th.l { text-align: left; }
        pre { background: #f5f7fa; padding: 1em; overflow-x: auto; }
        .grid { display: flex; flex-wrap: wrap; gap: .6em; }
        .grid figure { margin: 0; text-align: center; font-size: .75em; width: 84px; }
        .grid img { width: 84px; height: 84px; image-rendering: pixelated; border: 1px solid #ccc; }
        .filters img { width: 56px; height: 56px; image-rendering: pixelated; border: 1px solid #ccc; }
        .frames figure { width: 150px; } .units figure { width: 176px; } .units img { width: 84px; height: 84px; }
        .units svg, .units img { border: 1px solid #ccc; margin: 1px; }
        .key { white-space: nowrap; margin-right: .8em; } .key i { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; }
        .note { color: #666; font-size: .85em; } .warn { background: #fff4e5; border-left: 4px solid #f0a030; padding: .4em .8em; margin: .4em 0; }
        .ok { background: #eef8ee; border-left: 4px solid #4a4; padding: .4em .8em; }
        </style></head><body>
        <h1>\(escape(title))</h1>
        <div class="cards">
          \(cardHTML)
          <div class="card">Epochs<b>\(history.epochs.count)</b></div>
          <div class="card">Steps<b>\(history.steps.last?.step ?? 0)</b></div>
        </div>
        <p class="note">The same seed and settings give this page byte for byte; wall-clock times are in history.csv.</p>
        <h2>Learning curves</h2>
        <p class="note">Training: each epoch's mean over its batches, taken while the weights changed (and with dropout on, if any)\(history.epochs.contains { $0.validation != nil } ? "; validation: the model evaluated at the end of each epoch" : ""). The cards above evaluate the model after training on the \(evaluationName), so they differ from the curves' last training point.</p>
        \(lossUnits == nil ? "" : "<p class=\"note\">The loss is the mean squared error of the standardised target (the target minus its mean, divided by its standard deviation), the units the model is trained in: the squared error in the target's units divided by its variance. RMSE and MAE are in the target's units.</p>")
        <div class="charts">
        \(lineChart(title: lossUnits.map { "Loss (\($0))" } ?? "Loss", series: curves { $0.loss }, limits: 0...Double.infinity,
                    keptEpoch: history.bestEpoch, allowsLogScale: true))
        \(lineChart(title: "Accuracy", series: curves { $0.accuracy }, limits: 0...1, keptEpoch: history.bestEpoch))
        \(rmseCharts())
        \(lineChart(title: "R²", series: curves { $0.rSquared }, limits: -Double.infinity...1, keptEpoch: history.bestEpoch))
        </div>
        \(stepChart())
        \(regressionCharts())
        \(pictures)
        \(healthSection())
        \(confusionTable())
        \(misclassifiedGrid())
        \(filterGrid())
        <h2>Model</h2>
        <pre>\(escape(summary))</pre>
        <h2>Settings</h2>
        <table>\(settings.map { "<tr><th class=\"l\">\(escape($0.0))</th><td class=\"l\">\(escape($0.1))</td></tr>" }.joined())</table>
        </body></html>
        """
    }

    private func curves(_ value: (Metrics) -> Double?) -> [(String, String, [Double])] {
        var series: [(String, String, [Double])] = []
        let training = history.epochs.compactMap { value($0.training) }
        if !training.isEmpty { series.append(("training", "#1f77b4", training)) }
        let validation = history.epochs.compactMap { $0.validation.flatMap(value) }
        if !validation.isEmpty { series.append(("validation", "#ff7f0e", validation)) }
        return series
    }

    /// An SVG line chart of per-epoch series, with axes on round ticks, and a legend;
    /// `limits` bounds the y-axis to what the quantity can be (a loss is never below 0).
    /// `keptEpoch` (counted from 0) is marked with a dashed line: early stopping's choice.
    /// `allowsLogScale`: values all above 0 that span two powers of ten or more (a loss
    /// whose first epoch dwarfs the rest) are drawn on a logarithmic axis, and the chart says so.
    func lineChart(title: String, series: [(name: String, color: String, values: [Double])],
                   limits: ClosedRange<Double>? = nil, keptEpoch: Int? = nil, allowsLogScale: Bool = false,
                   legendSpacing: Double = 92) -> String {
        let all = series.flatMap(\.values).filter(\.isFinite)
        guard !all.isEmpty else { return "" }
        let logarithmic = allowsLogScale && all.allSatisfy { $0 > 0 } && all.max()! >= 100 * all.min()!
        let yAxis = logarithmic ? ChartAxis(logarithmicCovering: all, intervals: 5) : ChartAxis(covering: all, limits: limits, intervals: 5)
        let width = 480.0, height = 300.0, left = Swift.max(44, yAxis.labelWidth + 14), right = 16.0, top = 28.0, bottom = 40.0
        let epochs = series.map(\.values.count).max() ?? 1
        let count = max(epochs, 2)
        func x(_ i: Int) -> Double {
            epochs == 1 ? (left + width - right) / 2 : left + Double(i) / Double(count - 1) * (width - left - right)
        }
        func tickY(_ t: Double) -> Double { yAxis.position(t, from: height - bottom, to: top) }
        func y(_ v: Double) -> Double { tickY(logarithmic ? Foundation.log10(v) : v) }
        var svg = chartStart(title: title, width: width, height: height, left: left, right: right, titleY: 18, yAxis: yAxis, py: tickY)
        if logarithmic {
            svg += "<text x=\"\(rounded(left + 6))\" y=\"\(top + 12)\" font-size=\"10\" fill=\"#666\">log scale</text>"
        }
        for epoch in Self.epochTicks(epochs) {
            svg += "<text x=\"\(rounded(x(epoch - 1)))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" font-size=\"11\">\(epoch)</text>"
        }
        svg += "<text x=\"\(rounded((left + width - right) / 2))\" y=\"\(height - 6)\" text-anchor=\"middle\" font-size=\"12\">epoch</text>"
        if let kept = keptEpoch, kept < epochs {
            svg += "<line x1=\"\(rounded(x(kept)))\" x2=\"\(rounded(x(kept)))\" y1=\"\(top)\" y2=\"\(height - bottom)\" stroke=\"#2ca02c\" stroke-dasharray=\"4 3\"/>"
            svg += "<text x=\"\(rounded(x(kept) + (kept > epochs / 2 ? -4 : 4)))\" y=\"\(top + 12)\" text-anchor=\"\(kept > epochs / 2 ? "end" : "start")\" font-size=\"10\" fill=\"#2ca02c\">kept: epoch \(kept + 1)</text>"
        }
        svg += "<line x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>"
        svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(height - bottom)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>"
        for (index, s) in series.enumerated() {
            let points = s.values.enumerated().filter(\.element.isFinite).map { "\(x($0.offset)),\(y($0.element))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\" points=\"\(points)\"/>"
            for (i, v) in s.values.enumerated() where v.isFinite {
                svg += "<circle cx=\"\(x(i))\" cy=\"\(y(v))\" r=\"2.5\" fill=\"\(s.color)\"><title>epoch \(i + 1): \(String(format: "%.4f", v))</title></circle>"
            }
            // The legend sits in the title row, right of the title, clear of the curves.
            let lx = width - right - legendSpacing + 2 - Double(series.count - 1 - index) * legendSpacing
            svg += "<rect x=\"\(lx)\" y=\"10\" width=\"12\" height=\"3\" fill=\"\(s.color)\"/>"
            svg += "<text x=\"\(lx + 16)\" y=\"15\" font-size=\"11\">\(s.name)</text>"
        }
        return svg + "</svg>"
    }

    /// The RMSE over the epochs: one chart, or one per output when there are several (in
    /// different units, they share no axis).
    private func rmseCharts() -> String {
        guard regression.count > 1 else {
            return lineChart(title: "RMSE", series: curves { $0.rootMeanSquaredError }, limits: 0...Double.infinity,
                             keptEpoch: history.bestEpoch, allowsLogScale: true)
        }
        return regression.enumerated().map { index, output in
            lineChart(title: "RMSE of \(output.targetName)",
                      series: curves { $0.outputs.flatMap { $0.indices.contains(index) ? $0[index].rootMeanSquaredError : nil } },
                      limits: 0...Double.infinity, keptEpoch: history.bestEpoch, allowsLogScale: true)
        }.joined(separator: "\n")
    }

    /// Per output, predicted against true values (the diagonal is a perfect model) and the
    /// residuals against the predictions, in the output's units.
    private func regressionCharts() -> String {
        regression.map(regressionCharts).joined(separator: "\n")
    }

    private func regressionCharts(_ regression: Regression) -> String {
        guard !regression.actual.isEmpty else { return "" }
        let name = escape(regression.targetName)
        let residuals = zip(regression.predicted, regression.actual).map { $0 - $1 }
        let limits = (regression.predicted + regression.actual).filter(\.isFinite)
        let low = limits.min() ?? 0, high = limits.max() ?? 1
        return """
        <h2>Predicted vs true \(name) (\(evaluationName))</h2>
        <div class="charts">
        \(scatterChart(title: "Predicted vs true \(name)", x: regression.actual, y: regression.predicted,
                       xLabel: "true \(name)", yLabel: "predicted \(name)", line: (low, low, high, high)))
        \(scatterChart(title: "Residuals of \(name)", x: regression.predicted, y: residuals,
                       xLabel: "predicted \(name)", yLabel: "predicted − true", line: nil, zeroLine: true))
        </div>
        """
    }

    /// An SVG scatter plot with axes and ticks; `line` draws a reference segment
    /// (x₀, y₀, x₁, y₁), `zeroLine` the line y = 0. At most 5000 points are drawn.
    private func scatterChart(title: String, x: [Double], y: [Double], xLabel: String, yLabel: String,
                              line: (Double, Double, Double, Double)?, zeroLine: Bool = false) -> String {
        let points = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
        guard !points.isEmpty else { return "" }
        let xAxis = ChartAxis(covering: points.map(\.0) + (line.map { [$0.0, $0.2] } ?? []), intervals: 4)
        let yAxis = ChartAxis(covering: points.map(\.1) + (line.map { [$0.1, $0.3] } ?? []), including: zeroLine ? [0] : [],
                              intervals: 4)
        // The rotated y-axis title at x = 12 and the tick labels right of it, apart.
        let width = 480.0, height = 360.0, left = Swift.max(56, yAxis.labelWidth + 32), right = 28.0, top = 28.0, bottom = 44.0
        func px(_ v: Double) -> Double { xAxis.position(v, from: left, to: width - right) }
        func py(_ v: Double) -> Double { yAxis.position(v, from: height - bottom, to: top) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(title)\">"
        svg += "<text x=\"\(width / 2)\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(title)</text>"
        svg += yGrid(yAxis, left: left, right: width - right, py: py)
        for (u, label) in zip(xAxis.ticks, xAxis.labels) {
            svg += "<text x=\"\(rounded(px(u)))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" font-size=\"11\">\(label)</text>"
        }
        svg += "<text x=\"\(rounded((left + width - right) / 2))\" y=\"\(height - 6)\" text-anchor=\"middle\" font-size=\"12\">\(xLabel)</text>"
        svg += "<text x=\"12\" y=\"\((top + height - bottom) / 2)\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 12 \((top + height - bottom) / 2))\">\(yLabel)</text>"
        svg += "<line x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>"
        svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(height - bottom)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>"
        if let (x0, y0, x1, y1) = line {
            svg += "<line x1=\"\(px(x0))\" y1=\"\(py(y0))\" x2=\"\(px(x1))\" y2=\"\(py(y1))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>"
        }
        if zeroLine { svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(py(0))\" y2=\"\(py(0))\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>" }
        let step = max(1, points.count / 5000)
        for index in stride(from: 0, to: points.count, by: step) {
            let (u, v) = points[index]
            svg += "<circle cx=\"\(px(u))\" cy=\"\(py(v))\" r=\"2.2\" fill=\"#1f77b4\" fill-opacity=\"0.55\"/>"
        }
        return svg + "</svg>"
    }

    /// The epochs (counted from 1) labelled under a chart of `epochs` epochs: 1 and the
    /// multiples of a round step (1, 2, 5, 10, 20, 25, 50, …) of about a tenth of them.
    static func epochTicks(_ epochs: Int) -> [Int] {
        let step = Int(ChartAxis.niceStep(Double(epochs) / 10, integers: true))
        return ([1] + stride(from: step, through: epochs, by: step)).reduce(into: []) { ticks, epoch in
            if ticks.last != epoch { ticks.append(epoch) }
        }
    }

    private func confusionTable() -> String {
        guard !confusion.isEmpty else { return "" }
        let maximum = max(confusion.flatMap { $0 }.max() ?? 1, 1)
        var rows = "<tr><th class=\"l\">actual \\ predicted</th>" + classNames.map { "<th>\(escape($0))</th>" }.joined() + "<th>recall</th></tr>"
        for (i, row) in confusion.enumerated() {
            let total = max(row.reduce(0, +), 1)
            rows += "<tr><th class=\"l\">\(escape(classNames[i]))</th>"
            for (j, n) in row.enumerated() {
                let strength = Double(n) / Double(maximum)
                let color = i == j ? "rgba(31,119,180,\(0.1 + 0.8 * strength))" : "rgba(214,39,40,\(n == 0 ? 0 : 0.1 + 0.8 * strength))"
                rows += "<td style=\"background:\(color)\">\(n)</td>"
            }
            rows += "<td>\(String(format: "%.1f %%", Double(row[i]) / Double(total) * 100))</td></tr>"
        }
        return "<h2>Confusion matrix (\(evaluationName))</h2><table>\(rows)</table>"
    }

    private func misclassifiedGrid() -> String {
        guard !misclassified.isEmpty else { return "" }
        let figures = misclassified.map { e in
            "<figure><img alt=\"\(escape(classNames[e.actual]))\" src=\"\(bitmapDataURI(e.pixels, width: e.width, height: e.height))\"><figcaption>predicted <b>\(escape(classNames[e.predicted]))</b><br>true \(escape(classNames[e.actual]))</figcaption></figure>"
        }
        return "<h2>Misclassified images (\(evaluationName))</h2><div class=\"grid\">\(figures.joined())</div>"
    }

    private func filterGrid() -> String {
        guard !filters.isEmpty else { return "" }
        let images = filters.map { "<img alt=\"filter\" src=\"\(bitmapDataURI($0.pixels, width: $0.width, height: $0.height))\">" }
        return "<h2>First-layer weights</h2><div class=\"grid filters\">\(images.joined())</div>"
    }
}

func escape(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

/// A greyscale image (levels in [0, 1], row-major) as an 8-bit BMP data URI (every
/// browser shows BMP; no encoder needed).
func bitmapDataURI(_ pixels: [Float], width: Int, height: Int) -> String {
    let palette: [UInt8] = (0..<256).flatMap { level -> [UInt8] in [UInt8(level), UInt8(level), UInt8(level), 0] }
    let levels = pixels.map { UInt8(max(0, min(255, ($0.isFinite ? $0 : 0) * 255)).rounded()) }
    return bmpDataURI(levels, width: width, height: height, bitsPerPixel: 8, palette: palette)
}

/// An RGB image (three bytes per pixel, row-major, top row first) as a PNG data URI
/// (zlib-compressed: a picture of a few flat colours takes a few kilobytes).
func rgbBitmapDataURI(_ pixels: [UInt8], width: Int, height: Int) -> String {
    var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    func chunk(_ type: String, _ data: [UInt8]) {
        let typed = Array(type.utf8) + data
        bytes += be32(data.count) + typed
        bytes += be32(Int(typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }))
    }
    // 8 bits per channel, colour type 2 (RGB), no interlace; each row after filter byte 0.
    chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
    var raw: [UInt8] = []
    raw.reserveCapacity((width * 3 + 1) * height)
    for row in 0..<height {
        raw.append(0)
        raw += pixels[(row * width * 3)..<((row + 1) * width * 3)]
    }
    var compressedSize = compressBound(uLong(raw.count))
    var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
    let status = compress2(&compressed, &compressedSize, raw, uLong(raw.count), 9)
    precondition(status == Z_OK, "zlib failed to compress an image in memory (\(status))")
    chunk("IDAT", Array(compressed.prefix(Int(compressedSize))))
    chunk("IEND", [])
    return "data:image/png;base64," + Data(bytes).base64EncodedString()
}

private func bmpDataURI(_ pixels: [UInt8], width: Int, height: Int, bitsPerPixel: Int, palette: [UInt8]) -> String {
    let rowBytes = width * bitsPerPixel / 8
    let rowSize = (rowBytes + 3) / 4 * 4
    let offset = 14 + 40 + palette.count
    let fileSize = offset + rowSize * height
    var bytes: [UInt8] = []
    bytes.reserveCapacity(fileSize)
    func le32(_ v: Int) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
    func le16(_ v: Int) { bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    bytes += [0x42, 0x4D]; le32(fileSize); le32(0); le32(offset)
    le32(40); le32(width); le32(height); le16(1); le16(bitsPerPixel); le32(0); le32(rowSize * height); le32(2835); le32(2835)
    le32(palette.count / 4); le32(0)
    bytes += palette
    for row in (0..<height).reversed() {  // BMP rows run bottom-up
        bytes += pixels[(row * rowBytes)..<((row + 1) * rowBytes)]
        bytes += [UInt8](repeating: 0, count: rowSize - rowBytes)
    }
    return "data:image/bmp;base64," + Data(bytes).base64EncodedString()
}
