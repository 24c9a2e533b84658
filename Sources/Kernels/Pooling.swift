/// Pooling kernels over the planes of NCHW images.

/// The C kernel of 2×2/2 max pooling for one precision: (x, y, index, planes, height, width).
typealias TwoByTwoMaxPool<S> = (UnsafePointer<S>, UnsafeMutablePointer<S>, UnsafeMutablePointer<Int32>, Int, Int, Int) -> Void
/// Its backward pass: (gradient, index, input gradient, planes, height, width).
typealias TwoByTwoMaxPoolBackward<S> = (UnsafePointer<S>, UnsafePointer<Int32>, UnsafeMutablePointer<S>, Int, Int, Int) -> Void

extension WindowGeometry {
    /// A 2×2 window at stride 2 without dilation or padding: the C kernels' case.
    var isTwoByTwo: Bool {
        kernelHeight == 2 && kernelWidth == 2 && strideHeight == 2 && strideWidth == 2
            && dilationHeight == 1 && dilationWidth == 1 && paddingHeight == 0 && paddingWidth == 0
    }
}

extension Kernels {
    /// Max pooling of each `height × width` plane: the largest value under each window,
    /// and its index `iy·width + ix` in the plane. Ties go to the first maximum in
    /// row-major window order (smallest ky, then smallest kx); a NaN in a window
    /// propagates (the first NaN is taken). Padding is not supported (must be 0).
    static func maxPool<S: KernelScalar>(
        _ x: [S], _ g: WindowGeometry, twoByTwo: TwoByTwoMaxPool<S>
    ) -> (values: [S], indices: [Int32]) {
        g.check("maxPool", input: x.count)
        checkPrecondition(g.paddingHeight == 0 && g.paddingWidth == 0, "maxPool: padding is not supported (\(g))")
        checkPrecondition(g.height * g.width <= Int(Int32.max), "maxPool: planes over 2³¹ elements")
        let planes = g.batch * g.channels, planeSize = g.height * g.width
        var values: [S] = []
        let indices = [Int32](unsafeUninitializedCapacity: g.outputCount) { idx, initializedIndices in
            values = [S](unsafeUninitializedCapacity: g.outputCount) { out, initialized in
                x.withUnsafeBufferPointer { source in
                    guard let src = source.baseAddress, let dst = out.baseAddress, let ind = idx.baseAddress else { return }
                    parallelFor(planes, work: planeSize) { range in
                        let (x, y, i) = (src + range.lowerBound * planeSize, dst + range.lowerBound * g.positions,
                                         ind + range.lowerBound * g.positions)
                        if g.isTwoByTwo {
                            twoByTwo(x, y, i, range.count, g.height, g.width)
                        } else {
                            for p in 0..<range.count {
                                maxPoolPlane(x + p * planeSize, y + p * g.positions, i + p * g.positions, g)
                            }
                        }
                    }
                }
                initialized = g.outputCount
            }
            initializedIndices = g.outputCount
        }
        return (values, indices)
    }

    /// Max pooling of one plane, any window.
    @inline(__always)
    static func maxPoolPlane<S: KernelScalar>(
        _ plane: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, _ index: UnsafeMutablePointer<Int32>,
        _ g: WindowGeometry
    ) {
        let (oh, ow, w) = (g.outputHeight, g.outputWidth, g.width)
        for oy in 0..<oh {
            for ox in 0..<ow {
                let y0 = oy * g.strideHeight, x0 = ox * g.strideWidth
                var best = plane[y0 * w + x0], at = y0 * w + x0
                for ky in 0..<g.kernelHeight {
                    for kx in 0..<g.kernelWidth {
                        let i = (y0 + ky * g.dilationHeight) * w + x0 + kx * g.dilationWidth
                        let v = plane[i]
                        if v > best || (v != v && best == best) { best = v; at = i }
                    }
                }
                out[oy * ow + ox] = best
                index[oy * ow + ox] = Int32(truncatingIfNeeded: at)
            }
        }
    }

    /// The backward pass of max pooling: each output gradient goes, whole, to the input
    /// element that was the window's maximum (adding up where windows overlap).
    static func maxPoolBackward<S: KernelScalar>(
        _ gradient: [S], indices: [Int32], _ g: WindowGeometry, twoByTwo: TwoByTwoMaxPoolBackward<S>
    ) -> [S] {
        if let problem = g.problem { fatalError("maxPoolBackward: \(problem) (\(g))") }
        checkPrecondition(gradient.count == g.outputCount && indices.count == g.outputCount,
                     "maxPoolBackward: \(gradient.count) gradients and \(indices.count) indices for \(g.outputCount) outputs")
        let planes = g.batch * g.channels, planeSize = g.height * g.width
        return [S](unsafeUninitializedCapacity: g.inputCount) { out, initialized in
            gradient.withUnsafeBufferPointer { source in
                indices.withUnsafeBufferPointer { idx in
                    guard let src = source.baseAddress, let dst = out.baseAddress, let ind = idx.baseAddress else { return }
                    parallelFor(planes, work: planeSize) { range in
                        if g.isTwoByTwo {
                            return twoByTwo(src + range.lowerBound * g.positions, ind + range.lowerBound * g.positions,
                                            dst + range.lowerBound * planeSize, range.count, g.height, g.width)
                        }
                        for p in range {
                            let plane = dst + p * planeSize
                            plane.update(repeating: 0, count: planeSize)
                            let (s, i) = (src + p * g.positions, ind + p * g.positions)
                            for o in 0..<g.positions {
                                let at = Int(i[o])
                                checkPrecondition(at >= 0 && at < planeSize, "maxPoolBackward: index \(at) outside the plane")
                                plane[at] += s[o]
                            }
                        }
                    }
                }
            }
            initialized = g.inputCount
        }
    }

    /// Average pooling of each plane: the mean of the `kernelHeight·kernelWidth` values
    /// under each window (no padding).
    static func averagePool<S: KernelScalar>(_ x: [S], _ g: WindowGeometry) -> [S] {
        g.check("averagePool", input: x.count)
        checkPrecondition(g.paddingHeight == 0 && g.paddingWidth == 0, "averagePool: padding is not supported (\(g))")
        let planes = g.batch * g.channels, planeSize = g.height * g.width
        let scale = 1 / S(g.kernelHeight * g.kernelWidth)
        let (oh, ow, w) = (g.outputHeight, g.outputWidth, g.width)
        return [S](unsafeUninitializedCapacity: g.outputCount) { out, initialized in
            x.withUnsafeBufferPointer { source in
                guard let src = source.baseAddress, let dst = out.baseAddress else { return }
                parallelFor(planes, work: g.positions * g.kernelHeight * g.kernelWidth) { range in
                    for p in range {
                        let plane = src + p * planeSize, o = dst + p * g.positions
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                let y0 = oy * g.strideHeight, x0 = ox * g.strideWidth
                                var total: S = 0
                                for ky in 0..<g.kernelHeight {
                                    let r = plane + (y0 + ky * g.dilationHeight) * w + x0
                                    for kx in 0..<g.kernelWidth { total += r[kx * g.dilationWidth] }
                                }
                                o[oy * ow + ox] = total * scale
                            }
                        }
                    }
                }
            }
            initialized = g.outputCount
        }
    }

    /// The backward pass of average pooling: each output gradient, divided by the window
    /// size, is added to every input element under its window.
    static func averagePoolBackward<S: KernelScalar>(_ gradient: [S], _ g: WindowGeometry) -> [S] {
        if let problem = g.problem { fatalError("averagePoolBackward: \(problem) (\(g))") }
        checkPrecondition(gradient.count == g.outputCount,
                     "averagePoolBackward: \(gradient.count) gradients for \(g.outputCount) outputs")
        let planes = g.batch * g.channels, planeSize = g.height * g.width
        let scale = 1 / S(g.kernelHeight * g.kernelWidth)
        let (oh, ow, w) = (g.outputHeight, g.outputWidth, g.width)
        return [S](unsafeUninitializedCapacity: g.inputCount) { out, initialized in
            gradient.withUnsafeBufferPointer { source in
                guard let src = source.baseAddress, let dst = out.baseAddress else { return }
                parallelFor(planes, work: planeSize) { range in
                    for p in range {
                        let plane = dst + p * planeSize, s = src + p * g.positions
                        plane.update(repeating: 0, count: planeSize)
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                let share = s[oy * ow + ox] * scale
                                let y0 = oy * g.strideHeight, x0 = ox * g.strideWidth
                                for ky in 0..<g.kernelHeight {
                                    let r = plane + (y0 + ky * g.dilationHeight) * w + x0
                                    for kx in 0..<g.kernelWidth { r[kx * g.dilationWidth] += share }
                                }
                            }
                        }
                    }
                }
            }
            initialized = g.inputCount
        }
    }
}

