import Kernels

/// Elementwise functions and softmax, each with its derivative rule beside it.
extension Tensor {
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func mapped(_ op: UnaryOp) -> Tensor {
        Tensor(shape: shape, scalars: Scalar.map(op, scalars))
    }

    /// `op(self, other)` for same-shaped tensors, not recorded.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func zipped(_ op: BinaryOp, _ other: Tensor) -> Tensor {
        Tensor.elementwise(op, self, other, name: "\(op)")
    }

    /// eˣ; d/dx = eˣ.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func exp() -> Tensor {
        let y = mapped(.exp)
        return Tensor.record(y, from: [self]) { g, _ in [g * y] }
    }

    /// Natural logarithm; d/dx = 1/x.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func log() -> Tensor {
        let x = detached()
        return Tensor.record(mapped(.log), from: [self]) { g, _ in [g / x] }
    }

    /// √x; d/dx = 1/(2√x).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sqrt() -> Tensor {
        let y = mapped(.sqrt)
        return Tensor.record(y, from: [self]) { g, _ in [g / (2 * y)] }
    }

    /// x²; d/dx = 2x.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squared() -> Tensor {
        let x = detached()
        return Tensor.record(mapped(.square), from: [self]) { g, _ in [2 * g * x] }
    }

    /// xᵖ elementwise; d/dx = p·xᵖ⁻¹.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func pow(_ p: Scalar) -> Tensor {
        let x = detached()
        let y = zipped(.power, Tensor(p))
        return Tensor.record(y, from: [self]) { g, _ in
            [g * p * x.zipped(.power, Tensor(p - 1))]
        }
    }

    /// tanh x; d/dx = 1 − tanh²x (eq. 1.6).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func tanh() -> Tensor {
        let y = mapped(.tanh)
        return Tensor.record(y, from: [self]) { g, _ in [Tensor.tanhPullback(output: y, g)] }
    }

    /// σ(x) = 1/(1 + e⁻ˣ); σ' = σ(1 − σ) (eq. 1.4).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sigmoid() -> Tensor {
        let y = mapped(.sigmoid)
        return Tensor.record(y, from: [self]) { g, _ in [Tensor.sigmoidPullback(output: y, g)] }
    }

    /// max(x, 0); the derivative is 1 for x > 0 and 0 otherwise (eq. 1.5).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func relu() -> Tensor {
        let x = detached()
        return Tensor.record(mapped(.relu), from: [self]) { g, _ in [Tensor.reluPullback(input: x, g)] }
    }

    /// x for x ≥ 0, slope·x otherwise (PyTorch's `leaky_relu` with `negative_slope`);
    /// the derivative is 1 for x > 0 and the slope otherwise (at 0 too, as PyTorch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func leakyReLU(slope: Scalar = 0.01) -> Tensor {
        let x = detached()
        return Tensor.record(mapped(.leakyReLU(slope: Double(slope))), from: [self]) { g, _ in
            [Tensor.leakyReLUPullback(input: x, slope: slope, g)]
        }
    }

    /// GELU, x·Φ(x) with Φ the standard normal distribution function (Hendrycks and
    /// Gimpel, 2016), as PyTorch's `gelu(x, approximate=…)`:
    /// - `.exact`: ½x(1 + erf(x/√2)); d/dx = Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π);
    /// - `.tanh`: ½x(1 + tanh(√(2/π)(x + 0.044715x³))), composed of recorded primitives.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gelu(approximate: GELUApproximation = .exact) -> Tensor {
        switch approximate {
        case .exact:
            let x = detached()
            return Tensor.record(mapped(.gelu), from: [self]) { g, _ in [x.zipped(.geluBackward, g)] }
        case .tanh:
            let inner = (self + self.pow(3) * Scalar(0.044715)) * Scalar((2.0 / Double.pi).squareRoot())
            return self * (inner.tanh() + 1) * Scalar(0.5)
        }
    }

    private static func requirePullbackShapes(_ value: Tensor, _ g: Tensor, _ name: String) {
        checkPrecondition(value.shape == g.shape, "\(name): value of shape \(value.shape), gradient of shape \(g.shape)")
    }

    // The derivative rules of the elementwise activations, for code that runs the
    // backward pass itself (the notes' δ recursion, δ = g ∘ f'(z)); not recorded. The
    // recorded operations above use the same rules.

    /// ∂L/∂x of y = tanh(x), from y and g = ∂L/∂y: g ∘ (1 − y²).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func tanhPullback(output y: Tensor, _ g: Tensor) -> Tensor {
        requirePullbackShapes(y, g, "tanhPullback")
        return y.zipped(.tanhBackward, g)
    }

    /// ∂L/∂x of y = σ(x), from y and g = ∂L/∂y: g ∘ y(1 − y).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func sigmoidPullback(output y: Tensor, _ g: Tensor) -> Tensor {
        requirePullbackShapes(y, g, "sigmoidPullback")
        return y.zipped(.sigmoidBackward, g)
    }

    /// ∂L/∂x of max(x, 0), from x and g = ∂L/∂y: g where x > 0, else 0.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func reluPullback(input x: Tensor, _ g: Tensor) -> Tensor {
        requirePullbackShapes(x, g, "reluPullback")
        return x.zipped(.reluBackward, g)
    }

    /// ∂L/∂x of the leaky ReLU, from x and g = ∂L/∂y: g where x > 0, else slope·g.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func leakyReLUPullback(input x: Tensor, slope: Scalar, _ g: Tensor) -> Tensor {
        requirePullbackShapes(x, g, "leakyReLUPullback")
        return x.zipped(.leakyReLUBackward(slope: Double(slope)), g)
    }

    /// log(1 + eˣ), stable for large |x|; d/dx = σ(x).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func softplus() -> Tensor {
        let x = detached()
        return Tensor.record(mapped(.softplus), from: [self]) { g, _ in [g * x.mapped(.sigmoid)] }
    }

    /// |x|; the derivative is sign(x) (0 at 0).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func abs() -> Tensor {
        let x = detached()
        return Tensor.record(mapped(.abs), from: [self]) { g, _ in
            [g * (x.zipped(.greater, Tensor(0)) - x.zipped(.less, Tensor(0)))]
        }
    }

    /// softmax along `axis`: e^{xᵢ}/Σⱼ e^{xⱼ}, computed after subtracting the maximum so
    /// that large inputs do not overflow. Backward: ∂L/∂x = y ∘ (g − Σⱼ gⱼyⱼ).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let axis = normalized(axis: axis)
        let (outer, n, inner) = split(around: axis, operation: "softmax")
        let y = Tensor(shape: shape, scalars: Scalar.softmax(
            scalars, outer: outer, count: n, inner: inner, log: false))
        return Tensor.record(y, from: [self]) { g, _ in
            [y * (g - (g * y).sum(alongAxis: axis, keepingDimension: true))]
        }
    }

    /// log-softmax along `axis`: xᵢ − log Σⱼ e^{xⱼ}, stable for large inputs.
    /// Backward: ∂L/∂x = g − softmax(x)·Σⱼ gⱼ.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let axis = normalized(axis: axis)
        let (outer, n, inner) = split(around: axis, operation: "logSoftmax")
        let y = Tensor(shape: shape, scalars: Scalar.softmax(
            scalars, outer: outer, count: n, inner: inner, log: true))
        return Tensor.record(y, from: [self]) { g, _ in
            [g - y.mapped(.exp) * g.sum(alongAxis: axis, keepingDimension: true)]
        }
    }
}

/// Free-function spellings, as in the notes: `sigmoid(z)`, `relu(z)`, …
public func exp<S>(_ x: Tensor<S>) -> Tensor<S> { x.exp() }
/// The natural logarithm of each element, `x.log()`.
public func log<S>(_ x: Tensor<S>) -> Tensor<S> { x.log() }
/// The square root of each element, `x.sqrt()`.
public func sqrt<S>(_ x: Tensor<S>) -> Tensor<S> { x.sqrt() }
/// Each element to the power `p`, `x.pow(p)`.
public func pow<S>(_ x: Tensor<S>, _ p: S) -> Tensor<S> { x.pow(p) }
/// tanh of each element (eq. 1.6), `x.tanh()`.
public func tanh<S>(_ x: Tensor<S>) -> Tensor<S> { x.tanh() }
/// σ(z) = 1/(1 + e⁻ᶻ) of each element (eq. 1.4), `x.sigmoid()`.
public func sigmoid<S>(_ x: Tensor<S>) -> Tensor<S> { x.sigmoid() }
/// max(z, 0) of each element (eq. 1.5), `x.relu()`.
public func relu<S>(_ x: Tensor<S>) -> Tensor<S> { x.relu() }
/// e^{zⱼ} / Σₖ e^{zₖ} along `axis` (the last by default), `x.softmax(alongAxis:)`.
public func softmax<S>(_ x: Tensor<S>, alongAxis axis: Int = -1) -> Tensor<S> {
    x.softmax(alongAxis: axis)
}
/// zⱼ − log Σₖ e^{zₖ} along `axis`, stable for large inputs, `x.logSoftmax(alongAxis:)`.
public func logSoftmax<S>(_ x: Tensor<S>, alongAxis axis: Int = -1) -> Tensor<S> {
    x.logSoftmax(alongAxis: axis)
}
