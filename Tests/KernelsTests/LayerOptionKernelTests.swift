// The kernels behind PyTorch's layer options: the exact GELU and its derivative against
// libm's erf, pooling's output lengths against PyTorch's, and padded, ceil-mode pooling
// against a loop over every tap of every window.

import Testing
@testable import Kernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("GELU and pooling windows")
struct LayerOptionKernelTests {
    @Test("exact GELU x·Φ(x) and its derivative Φ(x) + x·φ(x), in Float and Double")
    func gelu() {
        let xs: [Double] = [-40, -8, -3, -1, -0.25, -0.0, 0, 1e-3, 0.5, 1, 2.5, 8, 40]
        let phi = { (x: Double) in 0.5 * erfc(-x / 2.0.squareRoot()) }
        let density = { (x: Double) in exp(-x * x / 2) / (2 * Double.pi).squareRoot() }
        let g: [Double] = xs.indices.map { Double($0) - 4 }
        for (x, y) in zip(xs, Double.map(.gelu, xs)) {
            #expect(Swift.abs(y - x * phi(x)) <= 1e-15 * Swift.max(1, Swift.abs(x)), "gelu(\(x)) = \(y)")
        }
        for (i, y) in Double.zip(.geluBackward, xs, strides: [1], g, strides: [1], shape: [xs.count]).enumerated() {
            let expected = g[i] * (phi(xs[i]) + xs[i] * density(xs[i]))
            #expect(Swift.abs(y - expected) <= 1e-15 * Swift.max(1, Swift.abs(expected)), "gelu'(\(xs[i]))")
        }
        let floats = Float.map(.gelu, xs.map { Float($0) })
        for (x, y) in zip(xs, floats) {
            #expect(Swift.abs(Double(y) - x * phi(x)) <= 1e-6 * Swift.max(1, Swift.abs(x)), "Float gelu(\(x)) = \(y)")
        }
    }

    /// (length, kernel, stride, padding, ceil mode) → PyTorch's `pooling_output_shape`.
    @Test("pooled lengths equal PyTorch's, floor and ceil mode", arguments: [
        ((7, 2, 2, 0, false), 3), ((7, 2, 2, 0, true), 4), ((8, 2, 2, 0, true), 4),
        ((7, 2, 2, 1, false), 4), ((7, 2, 2, 1, true), 4), ((9, 3, 3, 1, true), 4), ((9, 3, 3, 1, false), 3),
        ((3, 4, 4, 0, true), 1), ((3, 4, 4, 0, false), 0), ((1, 5, 1, 0, true), 0), ((6, 3, 3, 1, true), 3),
        ((5, 3, 3, 1, true), 2), ((1, 3, 2, 1, true), 1),
    ])
    func pooledLength(_ c: ((Int, Int, Int, Int, Bool), Int)) {
        let (length, kernel, stride, padding, ceilMode) = c.0
        #expect(WindowGeometry.pooledLength(length, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode) == c.1)
    }

    /// Max and average pooling by PyTorch's definition, one output at a time: the taps
    /// inside the input, and the divisor counted over the padded input (clipped at its end).
    static func reference(_ x: [Double], _ g: WindowGeometry, max: Bool, countingPadding: Bool) -> [Double] {
        var out: [Double] = []
        for plane in 0..<(g.batch * g.channels) {
            for oy in 0..<g.outputHeight {
                for ox in 0..<g.outputWidth {
                    let (y0, x0) = (oy * g.strideHeight - g.paddingHeight, ox * g.strideWidth - g.paddingWidth)
                    let (y1, x1) = (Swift.min(y0 + g.kernelHeight, g.height + g.paddingHeight),
                                    Swift.min(x0 + g.kernelWidth, g.width + g.paddingWidth))
                    let padded = (y1 - y0) * (x1 - x0)
                    let rows = Swift.max(y0, 0)..<Swift.min(y1, g.height), columns = Swift.max(x0, 0)..<Swift.min(x1, g.width)
                    let taps = rows.flatMap { r in columns.map { x[plane * g.height * g.width + r * g.width + $0] } }
                    out.append(max ? taps.max()! : taps.reduce(0, +) / Double(countingPadding ? padded : taps.count))
                }
            }
        }
        return out
    }

    @Test("padded, ceil-mode max and average pooling equal the tap-by-tap definition", arguments: [
        (3, 2, 1, true), (2, 2, 1, true), (3, 3, 1, true), (2, 2, 0, true), (3, 2, 1, false), (4, 3, 2, true),
    ])
    func padded(_ c: (Int, Int, Int, Bool)) {
        var rng = LCG(seed: 31)
        let g = WindowGeometry(batch: 2, channels: 3, height: 7, width: 9, kernel: (c.0, c.0), stride: (c.1, c.1),
                               padding: (c.2, c.2), ceilMode: c.3)
        #expect(g.problem == nil)
        let x: [Double] = rng.values(g.inputCount, in: -3, 3)
        #expect(Double.maxPool(x, g).values == Self.reference(x, g, max: true, countingPadding: true))
        for counting in [true, false] {
            let got = Double.averagePool(x, g, countingPadding: counting)
            let expected = Self.reference(x, g, max: false, countingPadding: counting)
            #expect(zip(got, expected).allSatisfy { Swift.abs($0 - $1) < 1e-14 }, "countingPadding \(counting)")
        }
    }

    @Test("the 2×2 C kernel is not used where ceil mode adds a partial window")
    func twoByTwoCeil() {
        let g = WindowGeometry(batch: 1, channels: 1, height: 5, width: 5, kernel: (2, 2), stride: (2, 2), ceilMode: true)
        #expect(!g.isTwoByTwo && g.outputHeight == 3)
        let x = (0..<25).map { Float($0) }
        #expect(Float.maxPool(x, g).values == [6, 8, 9, 16, 18, 19, 21, 23, 24])
        #expect(WindowGeometry(batch: 1, channels: 1, height: 4, width: 4, kernel: (2, 2), stride: (2, 2), ceilMode: true).isTwoByTwo)
    }
}
