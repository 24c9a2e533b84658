import Foundation
import Tensors

/// Layers applied one after the other: a^[ℓ] = g^[ℓ](W^[ℓ]a^[ℓ−1] + b^[ℓ]) (notes,
/// section 1). Parameters are named by position, as in PyTorch: `0.weight`, `0.bias`,
/// `2.weight`, …
///
/// ```swift
/// let model = Sequential<Float>(seed: 42) {
///     Dense(inputSize: 784, outputSize: 300)
///     Sigmoid()
///     Dense(inputSize: 300, outputSize: 10)
///     Softmax()
/// }
/// ```
public final class Sequential<Scalar: TensorScalar>: Layer {
    /// The layers in the order they run; layer ℓ's parameters are named `ℓ.weight`, `ℓ.bias`.
    public let layers: [any Layer<Scalar>]
    /// "0.", "1.", …: the prefixes of the layers' parameter names.
    private let namePrefixes: [String]
    /// The forward pass that ``Layer/predict(_:batchSize:)`` runs on a few examples.
    private let smallBatchForward = SmallBatchForward<Scalar>()

    /// The layers, with every parameter drawn afresh from one generator seeded with
    /// `seed`, in layer order: the same seed gives the same network.
    public init(seed: UInt64 = 0, layers: [any Layer<Scalar>]) {
        self.layers = layers
        namePrefixes = layers.indices.map { "\($0)." }
        var generator = RandomSource(seed: seed)
        resetParameters(using: &generator)
    }

    /// The layers listed in the closure, one per line, with parameters drawn from `seed`.
    public convenience init(seed: UInt64 = 0, @LayerBuilder<Scalar> _ build: () -> [any Layer<Scalar>]) {
        self.init(seed: seed, layers: build())
    }

    // Loops by index: `reduce` and `enumerated()` over an array of existentials run
    // unspecialised here, and cost more than a small layer's whole computation.

    /// Forward propagation: each layer applied to the previous one's output, a^[0] = x.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        forward(input, layerCount: layers.count)
    }

    private func forward(_ input: Tensor<Scalar>, layerCount: Int) -> Tensor<Scalar> {
        var activation = input
        for index in 0..<layerCount { activation = layers[index](activation) }
        return activation
    }

    /// Every layer inside, depth first in the order they run (the layers of a nested
    /// ``Sequential`` after it).
    public var allLayers: [any Layer<Scalar>] {
        layers.flatMap { layer in [layer] + ((layer as? Sequential<Scalar>)?.allLayers ?? []) }
    }

    /// `Sequential(4 layers)`.
    public var summaryName: String { "Sequential(\(layers.count) layers)" }

    /// The shape after every layer in turn; throws at the first layer that does not take its input.
    public func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int] {
        var shape = shape
        for layer in layers { shape = try layer.outputShape(forInput: shape) }
        return shape
    }

    /// Each layer's parameters, prefixed by the layer's position (`0.weight`, `0.bias`, `2.weight`, …).
    public func visitParameters(_ visit: (String, inout Tensor<Scalar>) -> Void) {
        for index in layers.indices {
            let prefix = namePrefixes[index]
            layers[index].visitParameters { name, tensor in visit(prefix + name, &tensor) }
        }
    }

    /// Redraws every layer's parameters from `generator`, in layer order.
    public func resetParameters(using generator: inout RandomSource) {
        for layer in layers { layer.resetParameters(using: &generator) }
    }

    /// Draws every dense and convolutional weight (nested layers too) with `initializer`
    /// instead of the layer's own, and every parameter afresh from a generator seeded
    /// with `seed`: the same values as building the model with those initialisers and
    /// that seed. Returns how many layers it changed.
    @discardableResult
    public func reinitialize(weights initializer: Initializer, seed: UInt64) -> Int {
        var changed = 0
        for layer in allLayers {
            if let dense = layer as? Dense<Scalar> {
                dense.weightInitializer = initializer
                changed += 1
            } else if let convolution = layer as? Conv2D<Scalar> {
                convolution.weightInitializer = initializer
                changed += 1
            }
        }
        var generator = RandomSource(seed: seed)
        resetParameters(using: &generator)
        return changed
    }

    /// Whether any layer is in training mode; setting it sets every layer.
    public var isTraining: Bool {
        get {
            for index in 0..<layers.count where layers[index].isTraining { return true }
            return false
        }
        set { for index in 0..<layers.count { layers[index].isTraining = newValue } }
    }

    /// Runs every layer but the last: the logits of a network that ends in softmax
    /// (or sigmoid), for fused, stable losses.
    public func forwardExceptLast(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        forward(input, layerCount: Swift.max(layers.count - 1, 0))
    }

    /// The output for an input of at most ``SmallBatchForward/exampleLimit`` examples,
    /// through the written-out forward pass (``WrittenOutBackpropagation/output(_:)``),
    /// built at the first call, in buffers kept from one call to the next: no layer-by-layer
    /// dispatch, no per-operation allocation, nothing recorded. The same operations as
    /// calling the model, so the same values. Nil, for the caller to call the layers in
    /// turn, when a layer has no written-out rule (a trailing softmax or other activation
    /// is applied as a layer), when the input's shape does not fit the model (the layers
    /// then report it), or while another thread runs this forward pass.
    func smallBatchOutput(_ input: Tensor<Scalar>) -> Tensor<Scalar>? {
        let forward = smallBatchForward
        guard input.rank >= 1, input.shape[0] <= SmallBatchForward<Scalar>.exampleLimit, forward.lock.try() else { return nil }
        defer { forward.lock.unlock() }
        if !forward.isBuilt {
            forward.isBuilt = true
            if let plan = WrittenOutBackpropagation(self) {
                forward.plan = (plan, layers.count)
            } else if layers.last is ActivationLayer<Scalar>, let plan = WrittenOutBackpropagation(self, layerCount: layers.count - 1) {
                forward.plan = (plan, layers.count - 1)
            }
        }
        guard let (plan, planned) = forward.plan else { return nil }
        let exampleShape = Array(input.shape.dropFirst())
        if exampleShape != forward.checkedExampleShape {
            guard (try? outputShape(forInput: exampleShape)) != nil else { return nil }
            forward.checkedExampleShape = exampleShape
        }
        var output = plan.output(input)
        for index in planned..<layers.count { output = layers[index](output) }
        return output
    }

    /// Whether ``smallBatchOutput(_:)`` has found a written-out forward pass for this model.
    var hasSmallBatchForward: Bool { smallBatchForward.lock.withLock { smallBatchForward.plan != nil } }

    /// The activation of the last layer, if it is an activation layer; nil also for a
    /// softmax or log-softmax over another axis than each example's scores (the last, or
    /// 1 of `[batch, scores]`), which the losses must not take for a softmax over classes.
    public var finalActivation: Activation? {
        guard let last = layers.last as? ActivationLayer<Scalar> else { return nil }
        return last.activation.takesAxis && ![-1, 1].contains(last.axis) ? nil : last.activation
    }
}

/// A ``Sequential`` model's written-out forward pass for a few examples at a time, and
/// its buffers (``Sequential/smallBatchOutput(_:)``): one thread at a time, under `lock`.
final class SmallBatchForward<Scalar: TensorScalar>: @unchecked Sendable {
    /// The most examples a call takes: the buffers are kept between calls, and stay small.
    static var exampleLimit: Int { 8 }

    let lock = NSLock()
    /// Whether `plan` has been looked for.
    var isBuilt = false
    /// The forward pass of the model's first `layers` layers (the rest is one activation).
    var plan: (forward: WrittenOutBackpropagation<Scalar>, layers: Int)?
    /// The shape of one example that the model was last found to take.
    var checkedExampleShape: [Int]?
}

/// The result builder of ``Sequential/init(seed:_:)``: one layer per line, with `if`, `if`/`else`
/// and `for` allowed.
@resultBuilder
public enum LayerBuilder<Scalar: TensorScalar> {
    /// One layer.
    public static func buildExpression(_ layer: any Layer<Scalar>) -> [any Layer<Scalar>] { [layer] }
    /// The layers of consecutive lines, in order.
    public static func buildBlock(_ parts: [any Layer<Scalar>]...) -> [any Layer<Scalar>] {
        parts.flatMap { $0 }
    }
    /// The layers of an `if` without `else`, or none.
    public static func buildOptional(_ part: [any Layer<Scalar>]?) -> [any Layer<Scalar>] { part ?? [] }
    /// The layers of an `if` branch.
    public static func buildEither(first: [any Layer<Scalar>]) -> [any Layer<Scalar>] { first }
    /// The layers of an `else` branch.
    public static func buildEither(second: [any Layer<Scalar>]) -> [any Layer<Scalar>] { second }
    /// The layers of every iteration of a `for` loop.
    public static func buildArray(_ parts: [[any Layer<Scalar>]]) -> [any Layer<Scalar>] {
        parts.flatMap { $0 }
    }
}
