import CBLAS
public import CKernels

/// A floating-point type the kernels compute in: `Float` or `Double`.
///
/// Each requirement is one whole-array kernel, implemented once generically and
/// specialised for each type in this module, so that code generic over the scalar pays
/// one dynamic call per kernel, never one per element. Simple loops are written over
/// scalars so that the compiler vectorises them; exp, log, tanh, sigmoid and softplus are
/// in CKernels (C, vectorised by clang for AVX2 and for baseline x86-64). Generic Swift
/// code over `SIMD` vectors binds to the protocol's lane-by-lane implementations and
/// runs many times slower, which is why it is not used here.
public protocol KernelScalar: BinaryFloatingPoint, BitwiseCopyable, Sendable,
    CustomStringConvertible, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
    /// Row-major `C = alpha·op(A)·op(B) + beta·C`, with `op(A)` m×k and `op(B)` k×n.
    /// A stored transposed is read as such, without a copy. Costs 2·m·n·k flops.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: [Self], b: [Self], beta: Self, c: inout [Self])

    /// `op(A)·op(B)` as a new row-major `[m, n]` array: a GEMM with beta = 0, which
    /// writes every element, so the result is not zero-filled first.
    static func product(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Self], b: [Self]) -> [Self]

    /// A dense layer's affine map `C = X·Wᵀ + b`, X `[m, k]`, W `[n, k]`, b `[n]` or none,
    /// into `c` (`[m, n]`). Each block of C that the product is split into
    /// (``Kernels/productSplit(_:threads:)``) starts as the bias on the thread that then
    /// adds its product to it (beta = 1), so the bias is written where the block is
    /// computed, in that core's cache, and by both threads at once.
    /// Every element of `c` is written (by the bias fill, or by the product with beta = 0).
    static func linear(_ x: [Self], weight: [Self], bias: [Self]?, m: Int, n: Int, k: Int,
                       into c: UnsafeMutableBufferPointer<Self>)

    /// `out[i] = op(x[i])`.
    static func map(_ op: UnaryOp, _ x: [Self]) -> [Self]

    /// `y[i] = f(x[i])` for the transcendental functions of CKernels.
    static func transcendental(_ f: backprop_function, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ count: Int)

    /// `out[j] = Σᵢ x[i·cols + j]` (CKernels; `out` must not overlap `x`).
    static func columnSums(_ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, rows: Int, cols: Int)

    /// `out[i] = op(a[·], b[·])` over `shape`, each operand read through its own strides
    /// (0 along broadcast dimensions).
    static func zip(
        _ op: BinaryOp, _ a: [Self], strides aStrides: [Int], _ b: [Self],
        strides bStrides: [Int], shape: [Int]) -> [Self]

    /// Reduces the middle axis of an `[outer, count, inner]` array to `[outer, inner]`.
    static func reduce(_ op: ReduceOp, _ x: [Self], outer: Int, count: Int, inner: Int) -> [Self]

    // Variants that write into an existing array of the result's size, reusing its
    // storage when nothing else holds it (no allocation in a training step's steady
    // state). `out` must not share storage with an input.

    /// ``map(_:_:)`` into `out`.
    static func map(_ op: UnaryOp, _ x: [Self], into out: inout [Self])
    /// ``zip(_:_:strides:_:strides:shape:)`` into `out`.
    static func zip(
        _ op: BinaryOp, _ a: [Self], strides aStrides: [Int], _ b: [Self],
        strides bStrides: [Int], shape: [Int], into out: inout [Self])
    /// The sum over the middle axis of `[outer, count, inner]`, into `out`.
    static func sum(_ x: [Self], outer: Int, count: Int, inner: Int, into out: inout [Self])

    /// Softmax (or log-softmax) along the middle axis of `[outer, count, inner]`,
    /// stable for large inputs (the maximum is subtracted first).
    static func softmax(_ x: [Self], outer: Int, count: Int, inner: Int, log: Bool) -> [Self]

    /// `count` copies of `value`.
    static func filled(_ value: Self, count: Int) -> [Self]

    /// The index of the first NaN or infinite element, if any.
    static func firstNonFinite(_ x: [Self]) -> Int?

    /// Index of the largest element along the middle axis of `[outer, count, inner]`
    /// (the first one on ties; NaN is never chosen over a number).
    static func argmax(_ x: [Self], outer: Int, count: Int, inner: Int) -> [Int]

    /// In place: `y = a·x + b·y` (the optimisers' update step).
    static func scaledAdd(_ y: inout [Self], _ a: Self, _ x: [Self], _ b: Self)

    /// `out = wa·a + wb·b`, elementwise, overwriting `out` (of the same length).
    static func weightedSum(_ a: [Self], _ wa: Self, _ b: [Self], _ wb: Self, into out: inout [Self])

    /// SGD with momentum in one pass, in place (CKernels' backprop_momentum_step):
    /// g' = g + λw; v = gain·g' + βv; w = w − αv, or for Nesterov w = w − αβv − αg'. The
    /// same values as those steps taken one ``scaledAdd(_:_:_:_:)`` at a time.
    static func momentumStep(weights: inout [Self], velocity: inout [Self], gradient: [Self],
                             alpha: Self, beta: Self, gain: Self, lambda: Self, nesterov: Bool)

    // MARK: Convolutional networks (Convolution.swift, Normalization.swift)

    /// NCHW images unfolded into the columns of a `[patchSize, batch·positions]` matrix,
    /// zeros where a window reads padding: convolution as one GEMM.
    static func im2col(_ x: [Self], _ geometry: WindowGeometry) -> [Self]

    /// The adjoint of ``im2col(_:_:)``: columns added back into NCHW images.
    static func col2im(_ columns: [Self], _ geometry: WindowGeometry) -> [Self]

    /// im2col's rows `rows` of `images` images (CKernels' backprop_unfold): image i's
    /// channel c is the plane at `x + i·imageStride + c·channelStride`, row r of the
    /// result starts at `columns + r·columnStride`.
    static func unfold(
        _ x: UnsafePointer<Self>, into columns: UnsafeMutablePointer<Self>, _ window: UnsafePointer<backprop_window>,
        imageStride: Int, channelStride: Int, images: Int, rows: Range<Int>, columnStride: Int)

    /// col2im into the images `images` (CKernels' backprop_fold), laid out as in
    /// ``unfold(_:into:_:imageStride:channelStride:images:rows:columnStride:)``: every
    /// plane of those images is overwritten; entries of `columns` that read padding may be
    /// set to 0.
    static func fold(
        _ columns: UnsafeMutablePointer<Self>, into x: UnsafeMutablePointer<Self>, _ window: UnsafePointer<backprop_window>,
        imageStride: Int, channelStride: Int, channels: Int, images: Range<Int>, columnStride: Int)

    /// 2-D convolution of NCHW images `x` by `weight` `[outputChannels, channels, kh, kw]`
    /// plus `bias`, lowered to GEMM (im2col, then one GEMM per chunk of images).
    static func convolution(
        _ x: [Self], weight: [Self], bias: [Self]?, _ geometry: WindowGeometry, outputChannels: Int
    ) -> [Self]

    /// The gradients of ``convolution(_:weight:bias:_:outputChannels:)`` with respect to
    /// its input, weight and bias, given `gradient` = ∂L/∂Y; nil where not asked for.
    static func convolutionBackward(
        _ x: [Self], weight: [Self], gradient: [Self], _ geometry: WindowGeometry, outputChannels: Int,
        needs: (input: Bool, weight: Bool, bias: Bool)
    ) -> (input: [Self]?, weight: [Self]?, bias: [Self]?)

    /// ``convolution(_:weight:bias:_:outputChannels:)`` of `x` (laid out as `layout` says)
    /// written channels-first into `out`, `[outputChannels, batch, outputHeight,
    /// outputWidth]`, which must already hold that many values; the unfolded input is kept
    /// in `columns` when it holds `patchSize · batch · positions` values.
    static func convolutionChannelsFirst(
        _ x: [Self], layout: ImageLayout, weight: [Self], bias: [Self]?, _ geometry: WindowGeometry,
        outputChannels: Int, into out: inout [Self], columns: inout [Self])

    /// The gradients of ``convolutionChannelsFirst(_:layout:weight:bias:_:outputChannels:into:columns:)``
    /// from the channels-first `gradient`, written into the buffers given (each already
    /// of its size), each one that is not nil. `columns`: what the
    /// forward pass kept, or empty.
    static func convolutionChannelsFirstBackward(
        _ x: [Self], layout: ImageLayout, weight: [Self], gradient: [Self], _ geometry: WindowGeometry,
        outputChannels: Int, columns: [Self], weightGradient: inout [Self]?, biasGradient: inout [Self]?,
        inputGradient: inout [Self]?)

    /// Max pooling of each plane: values and the in-plane index of each maximum (the
    /// first maximum in row-major window order on ties).
    static func maxPool(_ x: [Self], _ geometry: WindowGeometry) -> (values: [Self], indices: [Int32])

    /// Each output gradient added to the input element that was its window's maximum.
    static func maxPoolBackward(_ gradient: [Self], indices: [Int32], _ geometry: WindowGeometry) -> [Self]

    /// Average pooling of each plane; a window's sum is divided by its taps inside the
    /// padded input (`countingPadding`, PyTorch's `count_include_pad`) or inside the input.
    static func averagePool(_ x: [Self], _ geometry: WindowGeometry, countingPadding: Bool) -> [Self]

    /// Each output gradient spread evenly over its window (divided as in the forward pass).
    static func averagePoolBackward(_ gradient: [Self], _ geometry: WindowGeometry, countingPadding: Bool) -> [Self]

    /// Training-mode batch normalisation over the channels of `[batch, channels, size]`:
    /// y, the batch mean, 1/√(σ² + ε) and the biased variance σ² of each channel, and the
    /// number of values per channel (over all processes with `exchange`).
    static func batchNormalize(
        _ x: [Self], scale: [Self], shift: [Self], batch: Int, channels: Int, size: Int, epsilon: Self,
        exchange: BatchStatisticsExchange?
    ) -> (output: [Self], mean: [Self], inverseDeviation: [Self], variance: [Self], count: Int)

    /// The backward pass of ``batchNormalize(_:scale:shift:batch:channels:size:epsilon:)``:
    /// ∂L/∂x, ∂L/∂γ and ∂L/∂β.
    static func batchNormalizeBackward(
        _ x: [Self], gradient: [Self], mean: [Self], inverseDeviation: [Self], scale: [Self],
        batch: Int, channels: Int, size: Int, exchange: BatchStatisticsExchange?
    ) -> (input: [Self], scale: [Self], shift: [Self])
}

extension KernelScalar {
    /// ``linear(_:weight:bias:m:n:k:into:)`` into an array of `m·n` elements, reusing its
    /// storage when unshared.
    public static func linear(_ x: [Self], weight: [Self], bias: [Self]?, m: Int, n: Int, k: Int, into c: inout [Self]) {
        c.withUnsafeMutableBufferPointer { linear(x, weight: weight, bias: bias, m: m, n: n, k: k, into: $0) }
    }

    /// ``linear(_:weight:bias:m:n:k:into:)`` as a new array.
    public static func linear(_ x: [Self], weight: [Self], bias: [Self]?, m: Int, n: Int, k: Int) -> [Self] {
        [Self](unsafeUninitializedCapacity: m * n) { c, initialized in
            linear(x, weight: weight, bias: bias, m: m, n: n, k: k, into: c)
            initialized = m * n
        }
    }
}

extension Float: KernelScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: [Float], b: [Float], beta: Float, c: inout [Float]
    ) {
        let shape = GEMMShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              aCount: a.count, bCount: b.count, cCount: c.count)
        guard shape.hasWork else { return Kernels.scaleEmptyProduct(&c, beta: beta, k: k) }
        c.withUnsafeMutableBufferPointer { cp in
            Kernels.productBlocks(shape, a, b, into: cp.baseAddress!) { m, n, a, b, c in
                backprop_sgemm(shape.ta, shape.tb, m, n, shape.k, alpha, a, shape.lda, b, shape.ldb, beta, c, shape.ldc)
            }
        }
    }
    public static func linear(_ x: [Float], weight: [Float], bias: [Float]?, m: Int, n: Int, k: Int,
                              into c: UnsafeMutableBufferPointer<Float>) {
        let shape = GEMMShape(transposeA: false, transposeB: true, m: m, n: n, k: k,
                              aCount: x.count, bCount: weight.count, cCount: c.count)
        guard let base = c.baseAddress else { return }
        let beta: Float = bias == nil ? 0 : 1
        Kernels.linear(shape, x, weight, bias, into: base) { m, n, a, b, c in
            backprop_sgemm(shape.ta, shape.tb, m, n, shape.k, 1, a, shape.lda, b, shape.ldb, beta, c, shape.ldc)
        }
    }
    public static func product(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], b: [Float]
    ) -> [Float] {
        let shape = GEMMShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              aCount: a.count, bCount: b.count, cCount: m * n)
        return Kernels.product(shape, a, b) { m, n, a, b, c in
            backprop_sgemm(shape.ta, shape.tb, m, n, shape.k, 1, a, shape.lda, b, shape.ldb, 0, c, shape.ldc)
        }
    }
    public static func map(_ op: UnaryOp, _ x: [Float]) -> [Float] { Kernels.map(op, x) }
    public static func transcendental(
        _ f: backprop_function, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int
    ) { backprop_map_f32(f, x, y, count) }
    public static func columnSums(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        backprop_column_sums_f32(x, out, rows, cols)
    }
    public static func zip(
        _ op: BinaryOp, _ a: [Float], strides aStrides: [Int], _ b: [Float],
        strides bStrides: [Int], shape: [Int]
    ) -> [Float] { Kernels.zip(op, a, aStrides, b, bStrides, shape) }
    public static func reduce(_ op: ReduceOp, _ x: [Float], outer: Int, count: Int, inner: Int)
        -> [Float] { Kernels.reduce(op, x, outer, count, inner) }
    public static func map(_ op: UnaryOp, _ x: [Float], into out: inout [Float]) { Kernels.map(op, x, into: &out) }
    public static func zip(
        _ op: BinaryOp, _ a: [Float], strides aStrides: [Int], _ b: [Float],
        strides bStrides: [Int], shape: [Int], into out: inout [Float]
    ) { Kernels.zip(op, a, aStrides, b, bStrides, shape, into: &out) }
    public static func sum(_ x: [Float], outer: Int, count: Int, inner: Int, into out: inout [Float]) {
        Kernels.sum(x, outer, count, inner, into: &out)
    }
    public static func softmax(_ x: [Float], outer: Int, count: Int, inner: Int, log: Bool)
        -> [Float] { Kernels.softmax(x, outer, count, inner, log) }
    public static func scaledAdd(_ y: inout [Float], _ a: Float, _ x: [Float], _ b: Float) {
        Kernels.scaledAdd(&y, a, x, b)
    }
    public static func weightedSum(_ a: [Float], _ wa: Float, _ b: [Float], _ wb: Float, into out: inout [Float]) {
        Kernels.weightedSum(a, wa, b, wb, into: &out)
    }
    public static func momentumStep(weights: inout [Float], velocity: inout [Float], gradient: [Float],
                                    alpha: Float, beta: Float, gain: Float, lambda: Float, nesterov: Bool) {
        Kernels.inPlacePass(&weights, &velocity, gradient) { w, v, g, range in
            backprop_momentum_step_f32(w, v, g, range.lowerBound, range.upperBound, alpha, beta, gain, lambda,
                                       nesterov ? 1 : 0)
        }
    }
    public static func filled(_ value: Float, count: Int) -> [Float] { Kernels.filled(value, count) }
    public static func firstNonFinite(_ x: [Float]) -> Int? { Kernels.firstNonFinite(x) }
    public static func argmax(_ x: [Float], outer: Int, count: Int, inner: Int) -> [Int] {
        Kernels.argmax(x, outer: outer, count: count, inner: inner)
    }
    public static func im2col(_ x: [Float], _ g: WindowGeometry) -> [Float] { Kernels.im2col(x, g) }
    public static func col2im(_ c: [Float], _ g: WindowGeometry) -> [Float] { Kernels.col2im(c, g) }
    public static func convolution(
        _ x: [Float], weight: [Float], bias: [Float]?, _ g: WindowGeometry, outputChannels: Int
    ) -> [Float] {
        Kernels.convolution(x, weight: weight, bias: bias, g, outputChannels: outputChannels) {
            backprop_sgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        }
    }
    public static func convolutionBackward(
        _ x: [Float], weight: [Float], gradient: [Float], _ g: WindowGeometry, outputChannels: Int,
        needs: (input: Bool, weight: Bool, bias: Bool)
    ) -> (input: [Float]?, weight: [Float]?, bias: [Float]?) {
        Kernels.convolutionBackward(x, weight: weight, gradient: gradient, g, outputChannels: outputChannels,
                                    needs: needs) { backprop_sgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) }
    }
    public static func convolutionChannelsFirst(
        _ x: [Float], layout: ImageLayout, weight: [Float], bias: [Float]?, _ g: WindowGeometry, outputChannels: Int,
        into out: inout [Float], columns: inout [Float]
    ) {
        Kernels.convolution(x, layout: layout, weight: weight, bias: bias, g, outputChannels: outputChannels,
                            into: &out, layout: .channelsFirst, columns: &columns) { backprop_sgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) }
    }
    public static func convolutionChannelsFirstBackward(
        _ x: [Float], layout: ImageLayout, weight: [Float], gradient: [Float], _ g: WindowGeometry, outputChannels: Int,
        columns: [Float], weightGradient: inout [Float]?, biasGradient: inout [Float]?, inputGradient: inout [Float]?
    ) {
        Kernels.convolutionBackward(
            x, layout: layout, weight: weight, gradient: gradient, layout: .channelsFirst, g, outputChannels: outputChannels,
            columns: columns, weightGradient: &weightGradient, biasGradient: &biasGradient, inputGradient: &inputGradient
        ) { backprop_sgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) }
    }
    public static func unfold(
        _ x: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, _ window: UnsafePointer<backprop_window>,
        imageStride: Int, channelStride: Int, images: Int, rows: Range<Int>, columnStride: Int
    ) {
        let status = backprop_unfold_f32(x, columns, window, imageStride, channelStride, images, rows.lowerBound,
                                         rows.upperBound, columnStride)
        if status != 0 { fatalError("im2col: out of memory") }
    }
    public static func fold(
        _ columns: UnsafeMutablePointer<Float>, into x: UnsafeMutablePointer<Float>, _ window: UnsafePointer<backprop_window>,
        imageStride: Int, channelStride: Int, channels: Int, images: Range<Int>, columnStride: Int
    ) {
        let status = backprop_fold_f32(columns, x, window, imageStride, channelStride, channels, images.lowerBound,
                                       images.upperBound, columnStride)
        if status != 0 { fatalError("col2im: out of memory") }
    }
    public static func maxPool(_ x: [Float], _ g: WindowGeometry) -> (values: [Float], indices: [Int32]) {
        Kernels.maxPool(x, g) { backprop_maxpool2x2_f32($0, $1, $2, $3, $4, $5) }
    }
    public static func maxPoolBackward(_ gradient: [Float], indices: [Int32], _ g: WindowGeometry) -> [Float] {
        Kernels.maxPoolBackward(gradient, indices: indices, g) { backprop_maxpool2x2_backward_f32($0, $1, $2, $3, $4, $5) }
    }
    public static func averagePool(_ x: [Float], _ g: WindowGeometry, countingPadding: Bool) -> [Float] {
        Kernels.averagePool(x, g, countingPadding: countingPadding)
    }
    public static func averagePoolBackward(_ gradient: [Float], _ g: WindowGeometry, countingPadding: Bool) -> [Float] {
        Kernels.averagePoolBackward(gradient, g, countingPadding: countingPadding)
    }
    public static func batchNormalize(
        _ x: [Float], scale: [Float], shift: [Float], batch: Int, channels: Int, size: Int, epsilon: Float,
        exchange: BatchStatisticsExchange?
    ) -> (output: [Float], mean: [Float], inverseDeviation: [Float], variance: [Float], count: Int) {
        Kernels.batchNormalize(x, scale: scale, shift: shift, batch: batch, channels: channels, size: size, epsilon: epsilon,
                               exchange: exchange)
    }
    public static func batchNormalizeBackward(
        _ x: [Float], gradient: [Float], mean: [Float], inverseDeviation: [Float], scale: [Float], batch: Int, channels: Int, size: Int,
        exchange: BatchStatisticsExchange?
    ) -> (input: [Float], scale: [Float], shift: [Float]) {
        Kernels.batchNormalizeBackward(x, gradient: gradient, mean: mean, inverseDeviation: inverseDeviation,
                                       scale: scale, batch: batch, channels: channels, size: size, exchange: exchange)
    }
}

extension Double: KernelScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: [Double], b: [Double], beta: Double, c: inout [Double]
    ) {
        let shape = GEMMShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              aCount: a.count, bCount: b.count, cCount: c.count)
        guard shape.hasWork else { return Kernels.scaleEmptyProduct(&c, beta: beta, k: k) }
        c.withUnsafeMutableBufferPointer { cp in
            Kernels.productBlocks(shape, a, b, into: cp.baseAddress!) { m, n, a, b, c in
                backprop_dgemm(shape.ta, shape.tb, m, n, shape.k, alpha, a, shape.lda, b, shape.ldb, beta, c, shape.ldc)
            }
        }
    }
    public static func linear(_ x: [Double], weight: [Double], bias: [Double]?, m: Int, n: Int, k: Int,
                              into c: UnsafeMutableBufferPointer<Double>) {
        let shape = GEMMShape(transposeA: false, transposeB: true, m: m, n: n, k: k,
                              aCount: x.count, bCount: weight.count, cCount: c.count)
        guard let base = c.baseAddress else { return }
        let beta: Double = bias == nil ? 0 : 1
        Kernels.linear(shape, x, weight, bias, into: base) { m, n, a, b, c in
            backprop_dgemm(shape.ta, shape.tb, m, n, shape.k, 1, a, shape.lda, b, shape.ldb, beta, c, shape.ldc)
        }
    }
    public static func product(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Double], b: [Double]
    ) -> [Double] {
        let shape = GEMMShape(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                              aCount: a.count, bCount: b.count, cCount: m * n)
        return Kernels.product(shape, a, b) { m, n, a, b, c in
            backprop_dgemm(shape.ta, shape.tb, m, n, shape.k, 1, a, shape.lda, b, shape.ldb, 0, c, shape.ldc)
        }
    }
    public static func map(_ op: UnaryOp, _ x: [Double]) -> [Double] { Kernels.map(op, x) }
    public static func transcendental(
        _ f: backprop_function, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int
    ) { backprop_map_f64(f, x, y, count) }
    public static func columnSums(_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, rows: Int, cols: Int) {
        backprop_column_sums_f64(x, out, rows, cols)
    }
    public static func zip(
        _ op: BinaryOp, _ a: [Double], strides aStrides: [Int], _ b: [Double],
        strides bStrides: [Int], shape: [Int]
    ) -> [Double] { Kernels.zip(op, a, aStrides, b, bStrides, shape) }
    public static func reduce(_ op: ReduceOp, _ x: [Double], outer: Int, count: Int, inner: Int)
        -> [Double] { Kernels.reduce(op, x, outer, count, inner) }
    public static func map(_ op: UnaryOp, _ x: [Double], into out: inout [Double]) { Kernels.map(op, x, into: &out) }
    public static func zip(
        _ op: BinaryOp, _ a: [Double], strides aStrides: [Int], _ b: [Double],
        strides bStrides: [Int], shape: [Int], into out: inout [Double]
    ) { Kernels.zip(op, a, aStrides, b, bStrides, shape, into: &out) }
    public static func sum(_ x: [Double], outer: Int, count: Int, inner: Int, into out: inout [Double]) {
        Kernels.sum(x, outer, count, inner, into: &out)
    }
    public static func softmax(_ x: [Double], outer: Int, count: Int, inner: Int, log: Bool)
        -> [Double] { Kernels.softmax(x, outer, count, inner, log) }
    public static func scaledAdd(_ y: inout [Double], _ a: Double, _ x: [Double], _ b: Double) {
        Kernels.scaledAdd(&y, a, x, b)
    }
    public static func weightedSum(_ a: [Double], _ wa: Double, _ b: [Double], _ wb: Double, into out: inout [Double]) {
        Kernels.weightedSum(a, wa, b, wb, into: &out)
    }
    public static func momentumStep(weights: inout [Double], velocity: inout [Double], gradient: [Double],
                                    alpha: Double, beta: Double, gain: Double, lambda: Double, nesterov: Bool) {
        Kernels.inPlacePass(&weights, &velocity, gradient) { w, v, g, range in
            backprop_momentum_step_f64(w, v, g, range.lowerBound, range.upperBound, alpha, beta, gain, lambda,
                                       nesterov ? 1 : 0)
        }
    }
    public static func filled(_ value: Double, count: Int) -> [Double] { Kernels.filled(value, count) }
    public static func firstNonFinite(_ x: [Double]) -> Int? { Kernels.firstNonFinite(x) }
    public static func argmax(_ x: [Double], outer: Int, count: Int, inner: Int) -> [Int] {
        Kernels.argmax(x, outer: outer, count: count, inner: inner)
    }
    public static func im2col(_ x: [Double], _ g: WindowGeometry) -> [Double] { Kernels.im2col(x, g) }
    public static func col2im(_ c: [Double], _ g: WindowGeometry) -> [Double] { Kernels.col2im(c, g) }
    public static func convolution(
        _ x: [Double], weight: [Double], bias: [Double]?, _ g: WindowGeometry, outputChannels: Int
    ) -> [Double] {
        Kernels.convolution(x, weight: weight, bias: bias, g, outputChannels: outputChannels) {
            backprop_dgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        }
    }
    public static func convolutionBackward(
        _ x: [Double], weight: [Double], gradient: [Double], _ g: WindowGeometry, outputChannels: Int,
        needs: (input: Bool, weight: Bool, bias: Bool)
    ) -> (input: [Double]?, weight: [Double]?, bias: [Double]?) {
        Kernels.convolutionBackward(x, weight: weight, gradient: gradient, g, outputChannels: outputChannels,
                                    needs: needs) { backprop_dgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) }
    }
    public static func convolutionChannelsFirst(
        _ x: [Double], layout: ImageLayout, weight: [Double], bias: [Double]?, _ g: WindowGeometry, outputChannels: Int,
        into out: inout [Double], columns: inout [Double]
    ) {
        Kernels.convolution(x, layout: layout, weight: weight, bias: bias, g, outputChannels: outputChannels,
                            into: &out, layout: .channelsFirst, columns: &columns) { backprop_dgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) }
    }
    public static func convolutionChannelsFirstBackward(
        _ x: [Double], layout: ImageLayout, weight: [Double], gradient: [Double], _ g: WindowGeometry, outputChannels: Int,
        columns: [Double], weightGradient: inout [Double]?, biasGradient: inout [Double]?, inputGradient: inout [Double]?
    ) {
        Kernels.convolutionBackward(
            x, layout: layout, weight: weight, gradient: gradient, layout: .channelsFirst, g, outputChannels: outputChannels,
            columns: columns, weightGradient: &weightGradient, biasGradient: &biasGradient, inputGradient: &inputGradient
        ) { backprop_dgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) }
    }
    public static func unfold(
        _ x: UnsafePointer<Double>, into columns: UnsafeMutablePointer<Double>, _ window: UnsafePointer<backprop_window>,
        imageStride: Int, channelStride: Int, images: Int, rows: Range<Int>, columnStride: Int
    ) {
        let status = backprop_unfold_f64(x, columns, window, imageStride, channelStride, images, rows.lowerBound,
                                         rows.upperBound, columnStride)
        if status != 0 { fatalError("im2col: out of memory") }
    }
    public static func fold(
        _ columns: UnsafeMutablePointer<Double>, into x: UnsafeMutablePointer<Double>, _ window: UnsafePointer<backprop_window>,
        imageStride: Int, channelStride: Int, channels: Int, images: Range<Int>, columnStride: Int
    ) {
        let status = backprop_fold_f64(columns, x, window, imageStride, channelStride, channels, images.lowerBound,
                                       images.upperBound, columnStride)
        if status != 0 { fatalError("col2im: out of memory") }
    }
    public static func maxPool(_ x: [Double], _ g: WindowGeometry) -> (values: [Double], indices: [Int32]) {
        Kernels.maxPool(x, g) { backprop_maxpool2x2_f64($0, $1, $2, $3, $4, $5) }
    }
    public static func maxPoolBackward(_ gradient: [Double], indices: [Int32], _ g: WindowGeometry) -> [Double] {
        Kernels.maxPoolBackward(gradient, indices: indices, g) { backprop_maxpool2x2_backward_f64($0, $1, $2, $3, $4, $5) }
    }
    public static func averagePool(_ x: [Double], _ g: WindowGeometry, countingPadding: Bool) -> [Double] {
        Kernels.averagePool(x, g, countingPadding: countingPadding)
    }
    public static func averagePoolBackward(_ gradient: [Double], _ g: WindowGeometry, countingPadding: Bool) -> [Double] {
        Kernels.averagePoolBackward(gradient, g, countingPadding: countingPadding)
    }
    public static func batchNormalize(
        _ x: [Double], scale: [Double], shift: [Double], batch: Int, channels: Int, size: Int, epsilon: Double,
        exchange: BatchStatisticsExchange?
    ) -> (output: [Double], mean: [Double], inverseDeviation: [Double], variance: [Double], count: Int) {
        Kernels.batchNormalize(x, scale: scale, shift: shift, batch: batch, channels: channels, size: size, epsilon: epsilon,
                               exchange: exchange)
    }
    public static func batchNormalizeBackward(
        _ x: [Double], gradient: [Double], mean: [Double], inverseDeviation: [Double], scale: [Double], batch: Int, channels: Int, size: Int,
        exchange: BatchStatisticsExchange?
    ) -> (input: [Double], scale: [Double], shift: [Double]) {
        Kernels.batchNormalizeBackward(x, gradient: gradient, mean: mean, inverseDeviation: inverseDeviation,
                                       scale: scale, batch: batch, channels: channels, size: size, exchange: exchange)
    }
}

/// Validated GEMM arguments: counts checked against the shape, leading dimensions of
/// row-major storage.
struct GEMMShape {
    let ta: Int32, tb: Int32, m: Int32, n: Int32, k: Int32
    let lda: Int32, ldb: Int32, ldc: Int32
    let hasWork: Bool

    init(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
         aCount: Int, bCount: Int, cCount: Int) {
        checkPrecondition(m >= 0 && n >= 0 && k >= 0, "gemm: negative size m=\(m) n=\(n) k=\(k)")
        checkPrecondition(aCount == m * k, "gemm: A has \(aCount) elements, op(A) is [\(m), \(k)]")
        checkPrecondition(bCount == k * n, "gemm: B has \(bCount) elements, op(B) is [\(k), \(n)]")
        checkPrecondition(cCount == m * n, "gemm: C has \(cCount) elements, C is [\(m), \(n)]")
        checkPrecondition(max(m, n, k) <= Int(Int32.max), "gemm: size exceeds the BLAS integer range")
        BLAS.ensureReady()
        ta = transposeA ? 1 : 0
        tb = transposeB ? 1 : 0
        self.m = Int32(m); self.n = Int32(n); self.k = Int32(k)
        lda = Int32(max(1, transposeA ? m : k))
        ldb = Int32(max(1, transposeB ? k : n))
        ldc = Int32(max(1, n))
        hasWork = m > 0 && n > 0 && k > 0
    }
}
