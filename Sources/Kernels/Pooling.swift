/// Pooling kernels over the planes of NCHW images.

/// The C kernel of 2×2/2 max pooling for one precision: (x, y, index, planes, height, width).
typealias TwoByTwoMaxPool<S> = (UnsafePointer<S>, UnsafeMutablePointer<S>, UnsafeMutablePointer<Int32>, Int, Int, Int) -> Void
/// Its backward pass: (gradient, index, input gradient, planes, height, width).
typealias TwoByTwoMaxPoolBackward<S> = (UnsafePointer<S>, UnsafePointer<Int32>, UnsafeMutablePointer<S>, Int, Int, Int) -> Void

extension WindowGeometry {
    /// A 2×2 window at stride 2 without dilation or padding, dropping an odd last row or
    /// column (no ceil mode's partial window): the C kernels' case.
    var isTwoByTwo: Bool {
        kernelHeight == 2 && kernelWidth == 2 && strideHeight == 2 && strideWidth == 2
            && dilationHeight == 1 && dilationWidth == 1 && paddingHeight == 0 && paddingWidth == 0
            && outputHeight == height / 2 && outputWidth == width / 2
    }

    /// The taps of the window at output row `oy` that read input rows (not padding, not
    /// past the end), and the first row it reads.
    @inline(__always)
    func rowTaps(_ oy: Int) -> (taps: Range<Int>, origin: Int) {
        let origin = oy * strideHeight - paddingHeight
        return (Self.taps(origin, kernelHeight, dilationHeight, from: 0, to: height), origin)
    }

    /// The same across, for output column `ox`.
    @inline(__always)
    func columnTaps(_ ox: Int) -> (taps: Range<Int>, origin: Int) {
        let origin = ox * strideWidth - paddingWidth
        return (Self.taps(origin, kernelWidth, dilationWidth, from: 0, to: width), origin)
    }

    /// The taps t in 0..<kernel whose position `origin + t·dilation` lies in lower..<upper.
    @inline(__always)
    static func taps(_ origin: Int, _ kernel: Int, _ dilation: Int, from lower: Int, to upper: Int) -> Range<Int> {
        let first = origin >= lower ? 0 : (lower - origin + dilation - 1) / dilation
        let end = origin >= upper ? 0 : Swift.min(kernel, (upper - origin + dilation - 1) / dilation)
        return first..<Swift.max(first, end)
    }

    /// Checks what pooling needs beyond ``WindowGeometry/problem``: padding at most half
    /// the window (PyTorch's rule), so that every window reads at least one input.
    func checkPooling(_ operation: String, input: Int) {
        check(operation, input: input)
        checkPrecondition(paddingHeight <= kernelHeight / 2 && paddingWidth <= kernelWidth / 2,
                          "\(operation): padding more than half the window (\(self))")
    }

    /// The divisor of average pooling at output (oy, ox): the taps inside the padded
    /// input (PyTorch's `count_include_pad=True`, so a window over padding still divides
    /// by its full size, but not by the part a ceil-mode window has past the padding), or
    /// only those inside the input.
    @inline(__always)
    func averageDivisor(_ oy: Int, _ ox: Int, countingPadding: Bool) -> Int {
        guard countingPadding else { return rowTaps(oy).taps.count * columnTaps(ox).taps.count }
        let rows = Self.taps(oy * strideHeight - paddingHeight, kernelHeight, dilationHeight,
                             from: -paddingHeight, to: height + paddingHeight)
        let columns = Self.taps(ox * strideWidth - paddingWidth, kernelWidth, dilationWidth,
                                from: -paddingWidth, to: width + paddingWidth)
        return rows.count * columns.count
    }
}

extension Kernels {
    /// Max pooling of each `height × width` plane: the largest value under each window,
    /// and its index `iy·width + ix` in the plane. Padding counts as −∞ (it is never
    /// chosen), as in PyTorch. Ties go to the first maximum in row-major window order
    /// (smallest ky, then smallest kx); a NaN in a window propagates (the first NaN is
    /// taken).
    static func maxPool<S: KernelScalar>(
        _ x: [S], _ g: WindowGeometry, twoByTwo: TwoByTwoMaxPool<S>
    ) -> (values: [S], indices: [Int32]) {
        g.checkPooling("maxPool", input: x.count)
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

    /// Max pooling of one plane, any window: over the taps that read the input (a window
    /// always has one when the geometry has no ``WindowGeometry/problem`` and padding is
    /// at most half the kernel, as the layers require).
    @inline(__always)
    static func maxPoolPlane<S: KernelScalar>(
        _ plane: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, _ index: UnsafeMutablePointer<Int32>,
        _ g: WindowGeometry
    ) {
        let (oh, ow, w) = (g.outputHeight, g.outputWidth, g.width)
        for oy in 0..<oh {
            let (rows, y0) = g.rowTaps(oy)
            for ox in 0..<ow {
                let (columns, x0) = g.columnTaps(ox)
                var best = -S.infinity, at = -1
                for ky in rows {
                    for kx in columns {
                        let i = (y0 + ky * g.dilationHeight) * w + x0 + kx * g.dilationWidth
                        let v = plane[i]
                        if at < 0 || v > best || (v != v && best == best) { best = v; at = i }
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

    /// Average pooling of each plane: the sum of the input values under each window
    /// (padding adds zeros) divided by ``WindowGeometry/averageDivisor(_:_:countingPadding:)``
    /// — PyTorch's `avg_pool2d` with `count_include_pad` = `countingPadding`.
    static func averagePool<S: KernelScalar>(_ x: [S], _ g: WindowGeometry, countingPadding: Bool) -> [S] {
        g.checkPooling("averagePool", input: x.count)
        let planes = g.batch * g.channels, planeSize = g.height * g.width
        let (oh, ow, w) = (g.outputHeight, g.outputWidth, g.width)
        return [S](unsafeUninitializedCapacity: g.outputCount) { out, initialized in
            x.withUnsafeBufferPointer { source in
                guard let src = source.baseAddress, let dst = out.baseAddress else { return }
                parallelFor(planes, work: g.positions * g.kernelHeight * g.kernelWidth) { range in
                    for p in range {
                        let plane = src + p * planeSize, o = dst + p * g.positions
                        for oy in 0..<oh {
                            let (rows, y0) = g.rowTaps(oy)
                            for ox in 0..<ow {
                                let (columns, x0) = g.columnTaps(ox)
                                var total: S = 0
                                for ky in rows {
                                    let r = plane + (y0 + ky * g.dilationHeight) * w + x0
                                    for kx in columns { total += r[kx * g.dilationWidth] }
                                }
                                o[oy * ow + ox] = total / S(g.averageDivisor(oy, ox, countingPadding: countingPadding))
                            }
                        }
                    }
                }
            }
            initialized = g.outputCount
        }
    }

    /// The backward pass of average pooling: each output gradient, divided by its
    /// window's divisor, is added to every input element under its window.
    static func averagePoolBackward<S: KernelScalar>(_ gradient: [S], _ g: WindowGeometry, countingPadding: Bool) -> [S] {
        if let problem = g.problem { fatalError("averagePoolBackward: \(problem) (\(g))") }
        checkPrecondition(gradient.count == g.outputCount,
                     "averagePoolBackward: \(gradient.count) gradients for \(g.outputCount) outputs")
        let planes = g.batch * g.channels, planeSize = g.height * g.width
        let (oh, ow, w) = (g.outputHeight, g.outputWidth, g.width)
        return [S](unsafeUninitializedCapacity: g.inputCount) { out, initialized in
            gradient.withUnsafeBufferPointer { source in
                guard let src = source.baseAddress, let dst = out.baseAddress else { return }
                parallelFor(planes, work: planeSize) { range in
                    for p in range {
                        let plane = dst + p * planeSize, s = src + p * g.positions
                        plane.update(repeating: 0, count: planeSize)
                        for oy in 0..<oh {
                            let (rows, y0) = g.rowTaps(oy)
                            for ox in 0..<ow {
                                let (columns, x0) = g.columnTaps(ox)
                                let share = s[oy * ow + ox] / S(g.averageDivisor(oy, ox, countingPadding: countingPadding))
                                for ky in rows {
                                    let r = plane + (y0 + ky * g.dilationHeight) * w + x0
                                    for kx in columns { r[kx * g.dilationWidth] += share }
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

