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

/// An SVG line chart with numeric axes, ticks, axis labels and a legend under the title.
func xyChart(title: String, xLabel: String, series: [ChartSeries], width: Double = 520, height: Double = 320) -> String {
    let left = 60.0, right = 16.0, top = 28.0 + 16.0 * Double((series.filter(\.inLegend).count + 2) / 3), bottom = 42.0
    let points = series.flatMap { zip($0.x, $0.y).filter { $0.0.isFinite && $0.1.isFinite } }
    guard !points.isEmpty else { return "" }
    var (xLow, xHigh) = (points.map(\.0).min()!, points.map(\.0).max()!)
    let integerX = points.allSatisfy { $0.0 == $0.0.rounded() }
    var (yLow, yHigh) = (points.map(\.1).min()!, points.map(\.1).max()!)
    if xHigh - xLow < 1e-12 { xLow -= 1; xHigh += 1 }
    if yHigh - yLow < 1e-12 { let m = max(abs(yHigh) * 0.05, 0.01); yLow -= m; yHigh += m }
    let pad = (yHigh - yLow) * 0.05
    yLow -= pad; yHigh += pad
    func px(_ x: Double) -> Double { left + (x - xLow) / (xHigh - xLow) * (width - left - right) }
    func py(_ y: Double) -> Double { top + (yHigh - y) / (yHigh - yLow) * (height - top - bottom) }
    var svg = chartStart(title: title, width: width, height: height, left: left, right: right, titleY: 16,
                         yRange: yLow...yHigh, py: py)
    for k in 0...4 {
        var x = xLow + (xHigh - xLow) * Double(k) / 4
        if integerX { x = x.rounded() }
        svg += "<text x=\"\(rounded(px(x)))\" y=\"\(rounded(height - bottom + 16))\" text-anchor=\"middle\" font-size=\"11\">\(tickLabel(x))</text>"
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

/// An SVG chart's opening: its title and five horizontal grid lines labelled with their
/// values over `yRange`, at heights `py` gives.
func chartStart(title: String, width: Double, height: Double, left: Double, right: Double, titleY: Double,
                yRange: ClosedRange<Double>, py: (Double) -> Double) -> String {
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(escape(title))\">"
    svg += "<text x=\"\(left)\" y=\"\(Int(titleY))\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>"
    for k in 0...4 {
        let v = yRange.lowerBound + (yRange.upperBound - yRange.lowerBound) * Double(k) / 4
        svg += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(rounded(py(v)))\" y2=\"\(rounded(py(v)))\" stroke=\"#eee\"/>"
        svg += "<text x=\"\(left - 6)\" y=\"\(rounded(py(v) + 4))\" text-anchor=\"end\" font-size=\"11\">\(tickLabel(v))</text>"
    }
    return svg
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
