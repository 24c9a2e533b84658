import CKernels

/// Convolution over NCHW images: the sliding-window geometry, im2col/col2im (their loops
/// in CKernels' windows.c), and the convolution lowered to GEMM with its backward pass. Pooling is in Pooling.swift, batch
/// normalisation in Normalization.swift.

/// A 2-D sliding window over a batch of NCHW images `[batch, channels, height, width]`:
/// the window's size, stride, zero padding and dilation (as PyTorch's `conv2d`), and for
/// pooling PyTorch's `ceil_mode`.
///
/// The window has `outputHeight × outputWidth` positions, with
/// `outputHeight = ⌊(height + 2·paddingHeight − dilationHeight·(kernelHeight − 1) − 1) / strideHeight⌋ + 1`
/// (and likewise across; ⌈·⌉ in ceil mode, see ``pooledLength(_:kernel:stride:padding:dilation:ceilMode:)``).
/// At position (oy, ox), tap (ky, kx) reads input row
/// `oy·strideHeight − paddingHeight + ky·dilationHeight` (zero outside the image).
public struct WindowGeometry: Sendable, Hashable, CustomStringConvertible {
    public let batch: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let strideHeight: Int
    public let strideWidth: Int
    public let paddingHeight: Int
    public let paddingWidth: Int
    public let dilationHeight: Int
    public let dilationWidth: Int
    /// Pooling's `ceil_mode`: the window positions are counted rounding up, so that a
    /// last, partial window covers a remainder the floor would drop.
    public let ceilMode: Bool

    public init(
        batch: Int, channels: Int, height: Int, width: Int,
        kernel: (height: Int, width: Int), stride: (height: Int, width: Int) = (1, 1),
        padding: (height: Int, width: Int) = (0, 0), dilation: (height: Int, width: Int) = (1, 1),
        ceilMode: Bool = false
    ) {
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        (kernelHeight, kernelWidth) = kernel
        (strideHeight, strideWidth) = stride
        (paddingHeight, paddingWidth) = padding
        (dilationHeight, dilationWidth) = dilation
        self.ceilMode = ceilMode
        outputHeight = Self.pooledLength(height, kernel: kernelHeight, stride: strideHeight, padding: paddingHeight,
                                         dilation: dilationHeight, ceilMode: ceilMode)
        outputWidth = Self.pooledLength(width, kernel: kernelWidth, stride: strideWidth, padding: paddingWidth,
                                        dilation: dilationWidth, ceilMode: ceilMode)
    }

    /// Window positions along one axis of `length` values, as PyTorch counts them
    /// (`pooling_output_shape`): ⌊(length + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1,
    /// or in ceil mode the same rounded up, less one if that last window would start past
    /// the input and its left padding (at or after `length + padding`). Below 1 when no
    /// window fits.
    public static func pooledLength(
        _ length: Int, kernel: Int, stride: Int, padding: Int, dilation: Int = 1, ceilMode: Bool = false
    ) -> Int {
        let stride = Swift.max(1, stride)
        let span = length + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)
        guard span >= 0 else { return 0 }
        var count = span / stride + 1
        if ceilMode && (count - 1) * stride >= length + padding { count -= 1 }
        return count
    }

    /// The extent the window covers in the (padded) input: `dilation·(kernel − 1) + 1`.
    public var effectiveKernelHeight: Int { dilationHeight * (kernelHeight - 1) + 1 }
    public var effectiveKernelWidth: Int { dilationWidth * (kernelWidth - 1) + 1 }
    public var paddedHeight: Int { height + 2 * paddingHeight }
    public var paddedWidth: Int { width + 2 * paddingWidth }

    /// Window positions down and across (meaningful when ``problem`` is nil).
    public let outputHeight: Int
    public let outputWidth: Int

    /// Window positions per image: `outputHeight · outputWidth`.
    public var positions: Int { outputHeight * outputWidth }
    /// This geometry as CKernels' im2col and col2im read it.
    var cWindow: backprop_window {
        backprop_window(height: Int64(height), width: Int64(width),
                        kernel_height: Int64(kernelHeight), kernel_width: Int64(kernelWidth),
                        stride_height: Int64(strideHeight), stride_width: Int64(strideWidth),
                        padding_height: Int64(paddingHeight), padding_width: Int64(paddingWidth),
                        dilation_height: Int64(dilationHeight), dilation_width: Int64(dilationWidth),
                        output_height: Int64(outputHeight), output_width: Int64(outputWidth))
    }

    /// Values under one window across all channels: `channels · kernelHeight · kernelWidth`.
    public var patchSize: Int { channels * kernelHeight * kernelWidth }
    public var inputCount: Int { batch * channels * height * width }
    /// Elements of a `[batch, channels, outputHeight, outputWidth]` result.
    public var outputCount: Int { batch * channels * positions }

    /// Why this geometry cannot be used, or nil when it can: sizes must be positive
    /// (padding non-negative) and the window must fit in the padded input (in ceil mode,
    /// at least one window must start there).
    public var problem: String? {
        if [batch, channels, height, width].contains(where: { $0 < 0 }) { return "negative input size" }
        if min(kernelHeight, kernelWidth) < 1 { return "kernel \(kernelHeight)×\(kernelWidth) is empty" }
        if min(strideHeight, strideWidth) < 1 { return "stride \(strideHeight)×\(strideWidth) must be positive" }
        if min(paddingHeight, paddingWidth) < 0 { return "padding \(paddingHeight)×\(paddingWidth) is negative" }
        if min(dilationHeight, dilationWidth) < 1 { return "dilation \(dilationHeight)×\(dilationWidth) must be positive" }
        if ceilMode {
            return outputHeight < 1 || outputWidth < 1 ? "no window fits the padded input \(paddedHeight)×\(paddedWidth)" : nil
        }
        if effectiveKernelHeight > paddedHeight || effectiveKernelWidth > paddedWidth {
            return "kernel \(effectiveKernelHeight)×\(effectiveKernelWidth) is larger than the padded input \(paddedHeight)×\(paddedWidth)"
        }
        return nil
    }

    public var description: String {
        "window \(kernelHeight)×\(kernelWidth), stride \(strideHeight)×\(strideWidth), padding \(paddingHeight)×\(paddingWidth), dilation \(dilationHeight)×\(dilationWidth)\(ceilMode ? ", ceil mode" : "") over [\(batch), \(channels), \(height), \(width)]"
    }

    func check(_ operation: String, input: Int, _ what: String = "input") {
        if let problem { fatalError("\(operation): \(problem) (\(self))") }
        checkPrecondition(input == inputCount, "\(operation): \(what) has \(input) elements, \(self) needs \(inputCount)")
    }
}

/// How a batch of images lies in memory, plane by plane (a plane is one channel of one
/// image, `height × width` values): NCHW keeps each image's channels together (plane
/// `n·channels + c`), the channels-first CNHW keeps each channel's images together (plane
/// `c·batch + n`), so that one channel of the whole batch is one contiguous row — the
/// layout of a convolution's GEMM result, used between the layers of a written-out
/// backward pass so that no scatter or gather is needed around the GEMMs.
public enum ImageLayout: Sendable, Hashable {
    case imagesFirst, channelsFirst

    /// How many values apart consecutive images and consecutive channels start, in a batch
    /// of `g.batch` images of `g.channels` channels.
    func strides(_ g: WindowGeometry) -> (image: Int, channel: Int) {
        let planeSize = g.height * g.width
        return self == .imagesFirst ? (g.channels * planeSize, planeSize) : (planeSize, g.batch * planeSize)
    }
}

extension Kernels {
    // MARK: im2col / col2im

    /// Unfolds the images into the columns of a `[patchSize, batch·positions]` matrix
    /// (row `(c, ky, kx)`, column `(n, oy, ox)`), zeros where the window reads padding,
    /// so that a convolution becomes one GEMM: `W[out, patchSize] · columns`.
    static func im2col<S: KernelScalar>(_ x: [S], _ g: WindowGeometry) -> [S] {
        g.check("im2col", input: x.count)
        let count = g.patchSize * g.batch * g.positions
        return [S](unsafeUninitializedCapacity: count) { out, initialized in
            x.withUnsafeBufferPointer { source in
                guard let src = source.baseAddress, let dst = out.baseAddress else { return }
                unfold(src, images: 0..<g.batch, into: dst, g)
            }
            initialized = count
        }
    }

    /// The adjoint of ``im2col(_:_:)``: each column entry is added back to the input
    /// element it was read from (overlapping windows add up); padding is dropped.
    /// `columns` is `[patchSize, batch·positions]`; the result is `[batch, channels, height, width]`.
    static func col2im<S: KernelScalar>(_ columns: [S], _ g: WindowGeometry) -> [S] {
        if let problem = g.problem { fatalError("col2im: \(problem) (\(g))") }
        checkPrecondition(columns.count == g.patchSize * g.batch * g.positions,
                     "col2im: \(columns.count) elements, expected [\(g.patchSize), \(g.batch * g.positions)] for \(g)")
        // fold may zero the entries that read padding, so it works on a copy.
        var columns = columns
        return [S](unsafeUninitializedCapacity: g.inputCount) { out, initialized in
            columns.withUnsafeMutableBufferPointer { source in
                guard let src = source.baseAddress, let dst = out.baseAddress else { return }
                fold(src, images: 0..<g.batch, into: dst, g)
            }
            initialized = g.inputCount
        }
    }

    /// im2col of `images` (a range of the batch in `x`) into `columns`, which is
    /// `[patchSize, images.count·positions]`; threads take rows of the result.
    static func unfold<S: KernelScalar>(
        _ x: UnsafePointer<S>, images: Range<Int>, into columns: UnsafeMutablePointer<S>, _ g: WindowGeometry,
        layout: ImageLayout = .imagesFirst
    ) {
        let width = images.count * g.positions
        let (imageStride, channelStride) = layout.strides(g)
        let first = x + images.lowerBound * imageStride
        withUnsafePointer(to: g.cWindow) { window in
            parallelFor(g.patchSize, work: width) { rows in
                S.unfold(first, into: columns, window, imageStride: imageStride, channelStride: channelStride,
                         images: images.count, rows: rows, columnStride: width)
            }
        }
    }

    /// col2im of `columns` (`[patchSize, images.count·positions]`) into the images
    /// `images` of the batch at `x`, which are overwritten; threads take whole images,
    /// so that no two write the same element. Entries of `columns` that read padding may
    /// be set to 0.
    static func fold<S: KernelScalar>(
        _ columns: UnsafeMutablePointer<S>, images: Range<Int>, into x: UnsafeMutablePointer<S>, _ g: WindowGeometry,
        layout: ImageLayout = .imagesFirst
    ) {
        let width = images.count * g.positions
        let (imageStride, channelStride) = layout.strides(g)
        let first = x + images.lowerBound * imageStride
        withUnsafePointer(to: g.cWindow) { window in
            parallelFor(images.count, work: g.patchSize * g.positions) { part in
                S.fold(columns, into: first, window, imageStride: imageStride, channelStride: channelStride,
                       channels: g.channels, images: part, columnStride: width)
            }
        }
    }
}

// MARK: - Convolution as GEMM

/// A row-major GEMM on raw pointers for one precision (`backprop_sgemm` or `backprop_dgemm`):
/// (transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc).
typealias PointerGEMM<S> = (Int32, Int32, Int32, Int32, Int32, S, UnsafePointer<S>?, Int32,
                            UnsafePointer<S>?, Int32, S, UnsafeMutablePointer<S>?, Int32) -> Void

extension Kernels {
    /// Images per GEMM: enough that the GEMM is large (and splits well across threads),
    /// few enough that the column matrix and the product of a chunk (2¹⁹ values, 2 MB in
    /// Float, at most unless one image needs more) stay in cache from im2col through the
    /// GEMM to the permutation or, backward, col2im. Measured on W3: chunks of one image
    /// are twice as slow on two threads; the whole batch at once is no faster and needs
    /// a column matrix for all of it (14 MB for W3's second convolution at batch 64,
    /// 230 MB when evaluating 1024 images at a time).
    static let chunkElements = 1 << 19

    static func convolutionChunk(_ g: WindowGeometry, outputChannels: Int) -> Int {
        let perImage = Swift.max(g.patchSize, outputChannels) * g.positions
        checkPrecondition(perImage <= Int(Int32.max), "conv2D: one image needs \(perImage) values per GEMM operand, over the BLAS integer range (\(g))")
        return Swift.max(1, Swift.min(g.batch, chunkElements / Swift.max(1, perImage)))
    }

    /// The calling thread's scratch buffer `slot` for `count` values (see
    /// `backprop_scratch`): reused from call to call, never freed by the caller.
    static func scratch<S>(_ slot: Int, count: Int, of _: S.Type = S.self) -> UnsafeMutablePointer<S> {
        let bytes = Swift.max(1, count) * MemoryLayout<S>.stride
        guard let raw = backprop_scratch(slot, bytes) else {
            fatalError("convolution: out of memory for \(bytes) bytes of scratch space")
        }
        return raw.bindMemory(to: S.self, capacity: Swift.max(1, count))
    }

    /// `Y = W ⊛ X + b` over NCHW images, as one GEMM `W[out, patchSize] · im2col(X)` per
    /// chunk of images; `weight` is `[out, channels, kh, kw]`, the result `[batch, out,
    /// outputHeight, outputWidth]`.
    static func convolution<S: KernelScalar>(
        _ x: [S], weight: [S], bias: [S]?, _ g: WindowGeometry, outputChannels: Int, gemm: PointerGEMM<S>
    ) -> [S] {
        let count = g.batch * outputChannels * g.positions
        // Every value is written below.
        var y = [S](unsafeUninitializedCapacity: count) { $1 = count }
        var noColumns: [S] = []
        convolution(x, layout: .imagesFirst, weight: weight, bias: bias, g, outputChannels: outputChannels,
                    into: &y, layout: .imagesFirst, columns: &noColumns, gemm: gemm)
        return y
    }

    /// `Y = W ⊛ X + b`, one GEMM `W[out, patchSize] · im2col(X)` per chunk of images. `x`
    /// is laid out as `inputLayout` says and `y` (which must hold `out · batch · positions`
    /// values, all overwritten) as `outputLayout` says:
    ///
    /// - channels-first (CNHW, `[out, batch·positions]`): each chunk's GEMM writes its
    ///   columns of Y in place (leading dimension batch·positions), and the bias is added
    ///   to them while they are still in cache; nothing is permuted;
    /// - batch-first (NCHW): each chunk's GEMM writes a scratch product, which is scattered
    ///   into the images with the bias.
    ///
    /// When `columns` holds `patchSize · batch · positions` values, the unfolded input is
    /// kept there, chunk after chunk (each chunk's `[patchSize, images·positions]` block
    /// whole), for the backward pass to reuse instead of unfolding again.
    static func convolution<S: KernelScalar>(
        _ x: [S], layout inputLayout: ImageLayout, weight: [S], bias: [S]?, _ g: WindowGeometry, outputChannels: Int,
        into y: inout [S], layout outputLayout: ImageLayout, columns kept: inout [S], gemm: PointerGEMM<S>
    ) {
        g.check("conv2D", input: x.count)
        checkPrecondition(weight.count == outputChannels * g.patchSize,
                     "conv2D: weight has \(weight.count) elements, expected [\(outputChannels), \(g.channels), \(g.kernelHeight), \(g.kernelWidth)]")
        checkPrecondition(bias.map { $0.count == outputChannels } ?? true,
                     "conv2D: bias has \(bias?.count ?? 0) elements for \(outputChannels) channels")
        checkPrecondition(y.count == outputChannels * g.batch * g.positions,
                          "conv2D: \(y.count) outputs for \(outputChannels) channels of \(g)")
        BLAS.ensureReady()
        let (chunk, positions, patch) = (convolutionChunk(g, outputChannels: outputChannels), g.positions, g.patchSize)
        let all = g.batch * positions
        guard all > 0 && outputChannels > 0 else { return }
        let keeping = kept.count == patch * all
        let scratchColumns: UnsafeMutablePointer<S> = scratch(0, count: keeping ? 1 : patch * chunk * positions)
        let product: UnsafeMutablePointer<S>? = outputLayout == .imagesFirst
            ? scratch(1, count: outputChannels * chunk * positions) : nil
        x.withUnsafeBufferPointer { px in
            weight.withUnsafeBufferPointer { pw in
                y.withUnsafeMutableBufferPointer { py in
                    kept.withUnsafeMutableBufferPointer { pk in
                        for first in stride(from: 0, to: g.batch, by: chunk) {
                            let images = first..<Swift.min(first + chunk, g.batch)
                            let n = images.count * positions
                            let columns = keeping ? pk.baseAddress! + patch * first * positions : scratchColumns
                            unfold(px.baseAddress!, images: images, into: columns, g, layout: inputLayout)
                            if let product {
                                gemm(0, 0, Int32(outputChannels), Int32(n), Int32(patch), 1, pw.baseAddress, Int32(patch),
                                     columns, Int32(n), 0, product, Int32(n))
                                scatterChannels(product, into: py.baseAddress! + first * outputChannels * positions,
                                                bias: bias, channels: outputChannels, images: images.count,
                                                positions: positions)
                                continue
                            }
                            let out = py.baseAddress! + first * positions
                            gemm(0, 0, Int32(outputChannels), Int32(n), Int32(patch), 1, pw.baseAddress, Int32(patch),
                                 columns, Int32(n), 0, out, Int32(all))
                            guard let bias else { continue }
                            parallelFor(outputChannels, work: n) { part in
                                for c in part {
                                    let (row, b) = (out + c * all, bias[c])
                                    for i in 0..<n { row[i] += b }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The backward pass of ``convolution(_:weight:bias:_:outputChannels:gemm:)``: the
    /// gradients asked for in `needs`, from the NCHW `gradient` = ∂L/∂Y.
    static func convolutionBackward<S: KernelScalar>(
        _ x: [S], weight: [S], gradient: [S], _ g: WindowGeometry, outputChannels: Int,
        needs: (input: Bool, weight: Bool, bias: Bool), gemm: PointerGEMM<S>
    ) -> (input: [S]?, weight: [S]?, bias: [S]?) {
        // col2im overwrites every image, chunk by chunk, so the input gradient starts uninitialised.
        var gradientInput = needs.input ? [S](unsafeUninitializedCapacity: g.inputCount) { $1 = g.inputCount } : nil
        var gradientWeight = needs.weight ? [S](repeating: 0, count: weight.count) : nil
        var gradientBias = needs.bias ? [S](repeating: 0, count: outputChannels) : nil
        convolutionBackward(x, layout: .imagesFirst, weight: weight, gradient: gradient, layout: .imagesFirst, g,
                            outputChannels: outputChannels, columns: [], weightGradient: &gradientWeight,
                            biasGradient: &gradientBias, inputGradient: &gradientInput, gemm: gemm)
        return (gradientInput, gradientWeight, gradientBias)
    }

    /// The backward pass of ``convolution(_:layout:weight:bias:_:outputChannels:into:layout:columns:gemm:)``,
    /// chunk by chunk, with G = ∂L/∂Y of a chunk as `[out, images·positions]` (read in
    /// place from a channels-first `gradient`, gathered from a batch-first one) and
    /// C = im2col(X) (the forward pass's kept `columns` when they fit, else unfolded
    /// again): ∂L/∂b = Σ row sums of G, ∂L/∂W = Σ G·Cᵀ, ∂L/∂X = col2im(Wᵀ·G) in `inputLayout`.
    /// Each gradient that is not nil is computed and overwritten.
    static func convolutionBackward<S: KernelScalar>(
        _ x: [S], layout inputLayout: ImageLayout, weight: [S], gradient: [S], layout gradientLayout: ImageLayout,
        _ g: WindowGeometry, outputChannels: Int, columns kept: [S],
        weightGradient: inout [S]?, biasGradient: inout [S]?, inputGradient: inout [S]?, gemm: PointerGEMM<S>
    ) {
        g.check("conv2D backward", input: x.count)
        let (positions, patch) = (g.positions, g.patchSize)
        let all = g.batch * positions
        checkPrecondition(weight.count == outputChannels * patch && gradient.count == outputChannels * all
                          && (weightGradient?.count ?? weight.count) == weight.count
                          && (biasGradient?.count ?? outputChannels) == outputChannels
                          && (inputGradient?.count ?? g.inputCount) == g.inputCount,
                          "conv2D backward: \(weight.count) weights and \(gradient.count) gradients do not match \(outputChannels) channels of \(g)")
        BLAS.ensureReady()
        if biasGradient != nil { biasGradient!.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        guard all > 0 && outputChannels > 0 else {
            if weightGradient != nil { weightGradient!.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
            return
        }
        let chunk = convolutionChunk(g, outputChannels: outputChannels)
        let keeping = kept.count == patch * all
        let scratchColumns: UnsafeMutablePointer<S> = scratch(0, count: patch * chunk * positions)
        let gathered: UnsafeMutablePointer<S>? = gradientLayout == .imagesFirst
            ? scratch(1, count: outputChannels * chunk * positions) : nil
        kept.withUnsafeBufferPointer { pk in
            gradient.withUnsafeBufferPointer { pg in
                x.withUnsafeBufferPointer { px in
                    weight.withUnsafeBufferPointer { pw in
                        for first in stride(from: 0, to: g.batch, by: chunk) {
                            let images = first..<Swift.min(first + chunk, g.batch)
                            let n = images.count * positions
                            // This chunk's G, `[out, n]` with leading dimension ld.
                            let (g0, ld): (UnsafePointer<S>, Int)
                            if let gathered {
                                gatherChannels(pg.baseAddress! + first * outputChannels * positions, into: gathered,
                                               channels: outputChannels, images: images.count, positions: positions)
                                (g0, ld) = (UnsafePointer(gathered), n)
                            } else {
                                (g0, ld) = (pg.baseAddress! + first * positions, all)
                            }
                            if biasGradient != nil {
                                biasGradient!.withUnsafeMutableBufferPointer { db in
                                    parallelFor(outputChannels, work: n) { part in
                                        for c in part { db[c] += sum(g0 + c * ld, count: n) }
                                    }
                                }
                            }
                            if weightGradient != nil {
                                let columns: UnsafePointer<S>
                                if keeping {
                                    columns = pk.baseAddress! + patch * first * positions
                                } else {
                                    unfold(px.baseAddress!, images: images, into: scratchColumns, g, layout: inputLayout)
                                    columns = UnsafePointer(scratchColumns)
                                }
                                weightGradient!.withUnsafeMutableBufferPointer { dw in
                                    gemm(0, 1, Int32(outputChannels), Int32(patch), Int32(n), 1, g0, Int32(ld),
                                         columns, Int32(n), first == 0 ? 0 : 1, dw.baseAddress, Int32(patch))
                                }
                            }
                            guard inputGradient != nil else { continue }
                            // Wᵀ·G into the scratch columns (kept columns stay as they are).
                            gemm(1, 0, Int32(patch), Int32(n), Int32(outputChannels), 1, pw.baseAddress, Int32(patch),
                                 g0, Int32(ld), 0, scratchColumns, Int32(n))
                            inputGradient!.withUnsafeMutableBufferPointer { dx in
                                fold(scratchColumns, images: images, into: dx.baseAddress!, g, layout: inputLayout)
                            }
                        }
                    }
                }
            }
        }
    }

    /// A chunk's product `[channels, images, positions]` into NCHW `[images, channels,
    /// positions]`, adding `bias[c]` to channel c when given.
    static func scatterChannels<S: KernelScalar>(
        _ product: UnsafePointer<S>, into y: UnsafeMutablePointer<S>, bias: [S]?,
        channels: Int, images: Int, positions: Int
    ) {
        parallelFor(images, work: channels * positions) { part in
            for n in part {
                for c in 0..<channels {
                    let (from, to) = (product + (c * images + n) * positions, y + (n * channels + c) * positions)
                    let b = bias?[c] ?? 0
                    for i in 0..<positions { to[i] = from[i] + b }
                }
            }
        }
    }

    /// NCHW `[images, channels, positions]` into `[channels, images·positions]`, the
    /// layout of the GEMMs.
    static func gatherChannels<S: KernelScalar>(
        _ g: UnsafePointer<S>, into out: UnsafeMutablePointer<S>, channels: Int, images: Int, positions: Int
    ) {
        parallelFor(channels, work: images * positions) { part in
            for c in part {
                for n in 0..<images {
                    (out + (c * images + n) * positions).update(from: g + (n * channels + c) * positions, count: positions)
                }
            }
        }
    }

    /// Σ x[i] with eight independent accumulators, so that the additions pipeline.
    @inline(__always)
    static func sum<S: KernelScalar>(_ x: UnsafePointer<S>, count: Int) -> S {
        var lanes = (S.zero, S.zero, S.zero, S.zero, S.zero, S.zero, S.zero, S.zero)
        var i = 0
        while i + 8 <= count {
            lanes.0 += x[i]; lanes.1 += x[i + 1]; lanes.2 += x[i + 2]; lanes.3 += x[i + 3]
            lanes.4 += x[i + 4]; lanes.5 += x[i + 5]; lanes.6 += x[i + 6]; lanes.7 += x[i + 7]
            i += 8
        }
        var total = ((lanes.0 + lanes.1) + (lanes.2 + lanes.3)) + ((lanes.4 + lanes.5) + (lanes.6 + lanes.7))
        while i < count { total += x[i]; i += 1 }
        return total
    }
}
