import Foundation

/// One line of an ``xyChart``.
struct ChartSeries {
    var name: String
    var color: String
    var x: [Double]
    var y: [Double]
    var width = 2.0
    var opacity = 1.0
    /// Shown in the legend (a raw curve under its smoothed one is not).
    var inLegend = true
}

/// An SVG line chart with numeric axes on round ticks (``ChartAxis``), axis labels and a
/// legend under the title; `yLimits` bounds the y-axis to what the quantity can be.
func xyChart(title: String, xLabel: String, series: [ChartSeries], width: Double = 520, height: Double = 320,
             yLimits: ClosedRange<Double>? = nil, allowsLogScale: Bool = false) -> String {
    let points = series.flatMap { zip($0.x, $0.y).filter { $0.0.isFinite && $0.1.isFinite } }
    guard !points.isEmpty else { return "" }
    let integerX = points.allSatisfy { $0.0 == $0.0.rounded() }
    let xAxis = ChartAxis(covering: points.map(\.0), intervals: 5, integers: integerX)
    // Values all above 0 that span two powers of ten or more (a loss whose first steps
    // dwarf the rest) on a logarithmic axis, which the chart names, as the report does.
    let ys = points.map(\.1)
    let logarithmic = allowsLogScale && ys.allSatisfy { $0 > 0 } && ys.max()! >= 100 * ys.min()!
    let yAxis = logarithmic ? ChartAxis(logarithmicCovering: ys, intervals: 5) : ChartAxis(covering: ys, limits: yLimits, intervals: 5)
    let left = Swift.max(44, yAxis.labelWidth + 14), right = 24.0, bottom = 42.0
    let top = 28.0 + 16.0 * Double((series.filter(\.inLegend).count + 2) / 3)
    func px(_ x: Double) -> Double { xAxis.position(x, from: left, to: width - right) }
    func tickY(_ t: Double) -> Double { yAxis.position(t, from: height - bottom, to: top) }
    func py(_ y: Double) -> Double { tickY(logarithmic ? Foundation.log10(y) : y) }
    var svg = chartStart(title: title, width: width, height: height, left: left, right: right, titleY: 16, yAxis: yAxis, py: tickY)
    if logarithmic {
        svg += "<text x=\"\(rounded(left + 6))\" y=\"\(top + 12)\" font-size=\"10\" fill=\"#666\">log scale</text>"
    }
    for (x, label) in zip(xAxis.ticks, xAxis.labels) {
        svg += "<text x=\"\(rounded(px(x)))\" y=\"\(rounded(height - bottom + 16))\" text-anchor=\"middle\" font-size=\"11\">\(label)</text>"
    }
    svg += "<text x=\"\(rounded((left + width - right) / 2))\" y=\"\(height - 6)\" text-anchor=\"middle\" font-size=\"12\">\(escape(xLabel))</text>"
    svg += "<line x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>"
    svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(height - bottom)\" y2=\"\(height - bottom)\" stroke=\"#888\"/>"
    for s in series {
        let line = zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }.map { "\(rounded(px($0))),\(rounded(py($1)))" }
        if line.count == 1 {
            svg += "<circle cx=\"\(line[0].split(separator: ",")[0])\" cy=\"\(line[0].split(separator: ",")[1])\" r=\"3\" fill=\"\(s.color)\"/>"
        }
        svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"\(s.width)\" stroke-opacity=\"\(s.opacity)\" points=\"\(line.joined(separator: " "))\"><title>\(escape(s.name))</title></polyline>"
    }
    for (index, s) in series.filter(\.inLegend).enumerated() {
        let lx = left + Double(index % 3) * ((width - left - right) / 3), ly = 30.0 + 16 * Double(index / 3)
        svg += "<rect x=\"\(rounded(lx))\" y=\"\(ly - 4)\" width=\"12\" height=\"3\" fill=\"\(s.color)\"/>"
        svg += "<text x=\"\(rounded(lx + 16))\" y=\"\(ly)\" font-size=\"11\">\(escape(String(s.name.prefix(40))))</text>"
    }
    return svg + "</svg>"
}

/// An SVG chart's opening: its title, and a horizontal grid line at each of `yAxis`'s
/// ticks labelled with its value, at heights `py` gives.
func chartStart(title: String, width: Double, height: Double, left: Double, right: Double, titleY: Double,
                yAxis: ChartAxis, py: (Double) -> Double) -> String {
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
    svg += "<text x=\"\(left)\" y=\"\(Int(titleY))\" font-size=\"14\" font-weight=\"bold\">\(superscripted(escape(title)))</text>"
    svg += yGrid(yAxis, left: left, right: width - right, py: py)
    return svg
}

/// SVG text with the notes' layer index written `^[ℓ]` raised as a superscript.
func superscripted(_ text: String) -> String {
    text.replacingOccurrences(of: "^[ℓ]", with: "<tspan baseline-shift=\"super\" font-size=\"10\">[ℓ]</tspan>")
}

/// A grid line and a label at each of `axis`'s ticks, labels right-aligned left of `left`.
func yGrid(_ axis: ChartAxis, left: Double, right: Double, py: (Double) -> Double) -> String {
    zip(axis.ticks, axis.labels).map { value, label in
        "<line x1=\"\(rounded(left))\" x2=\"\(rounded(right))\" y1=\"\(rounded(py(value)))\" y2=\"\(rounded(py(value)))\" stroke=\"#eee\"/>"
            + "<text x=\"\(rounded(left - 6))\" y=\"\(rounded(py(value) + 4))\" text-anchor=\"end\" font-size=\"11\">\(label)</text>"
    }.joined()
}

/// Exponential moving average with the weight `weight` on the past, corrected for its
/// start at zero (as TensorBoard's smoothing): 0 leaves the values as they are.
func smoothed(_ values: [Double], weight: Double) -> [Double] {
    var average = 0.0, correction = 0.0
    return values.map { value in
        average = weight * average + (1 - weight) * value
        correction = weight * correction + (1 - weight)
        return correction > 0 ? average / correction : value
    }
}
