/// Define-by-run reverse-mode differentiation.
///
/// Each operation on tensors that need a gradient creates a node holding its parents'
/// nodes and a pullback: given ∂L/∂output, it returns ∂L/∂input for each input that
/// needs one. ``Tensor/backward()`` orders the nodes topologically and runs the pullbacks
/// from the output back to the leaves, adding (`+=`) into each node's gradient, since a
/// value may feed several consumers. Pullbacks capture inputs and saved values, never
/// their own output node, so the graph holds no cycles and is freed with its result.

/// Whether operations record how to differentiate them (on by default).
public enum GradientMode {
    @TaskLocal static var isRecording = true

    /// Whether operations run now are recorded.
    public static var isEnabled: Bool { isRecording }
}

/// Runs `body` without recording operations: for inference and parameter updates.
public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
    try GradientMode.$isRecording.withValue(false, operation: body)
}

final class GradientNode<Scalar: TensorScalar> {
    typealias Pullback = (_ outputGradient: Tensor<Scalar>, _ needed: [Bool]) -> [Tensor<Scalar>?]

    /// One entry per input of the operation; nil where the input needs no gradient.
    let parents: [GradientNode?]
    let pullback: Pullback?
    let shape: [Int]
    var gradient: Tensor<Scalar>?
    /// Intermediate gradients are freed once used, unless asked for.
    var retainsGradient: Bool
    /// Scratch state of one backward pass: the gradient that reached this node so far,
    /// and whether the traversal has seen it. Both are cleared before the pass ends.
    var pendingGradient: Tensor<Scalar>?
    var isVisited = false
    /// Called in each backward pass once this node's gradient for the pass is complete.
    var gradientReady: (() -> Void)?

    var isLeaf: Bool { pullback == nil }

    init(leafOfShape shape: [Int]) {
        parents = []
        pullback = nil
        self.shape = shape
        retainsGradient = true
    }

    init(parents: [GradientNode?], shape: [Int], pullback: @escaping Pullback) {
        self.parents = parents
        self.pullback = pullback
        self.shape = shape
        retainsGradient = false
    }

    func accumulate(_ incoming: Tensor<Scalar>) {
        checkPrecondition(incoming.shape == shape,
                     "backward: gradient of shape \(incoming.shape) for a value of shape \(shape)")
        if let existing = gradient {
            gradient = Tensor(shape: shape, scalars: Scalar.zip(
                .add, existing.scalars, strides: [1], incoming.scalars, strides: [1],
                shape: [existing.count]))
        } else {
            gradient = incoming.detached()
        }
    }
}

extension Tensor {
    /// A leaf whose gradient is tracked: operations on it are recorded, and
    /// ``backward()`` fills its ``gradient``.
    public func requiringGradient() -> Tensor {
        var leaf = detached()
        leaf.node = GradientNode(leafOfShape: shape)
        return leaf
    }

    /// Whether a gradient flows into this value.
    public var requiresGradient: Bool { node != nil }

    /// ∂L/∂self after ``backward()``: kept for leaves, and for intermediate values
    /// marked with ``retainingGradient()``.
    public var gradient: Tensor? { node?.gradient }

    /// Marks an intermediate value so that ``backward()`` keeps its gradient (δ = ∂L/∂z
    /// in the notes' recursion, say).
    @discardableResult
    public func retainingGradient() -> Tensor {
        node?.retainsGradient = true
        return self
    }

    /// Calls `hook` in every ``backward()`` pass as soon as this value's gradient for the
    /// pass is complete, before the pass goes on to the values it came from (for a
    /// parameter: once every use of it has sent its part). Data-parallel training starts
    /// summing a layer's gradients over processes then, while the layers below are still
    /// being differentiated. Nil removes the hook.
    public func onGradientReady(_ hook: (() -> Void)?) {
        node?.gradientReady = hook
    }

    /// Forgets the accumulated gradient.
    public func zeroGradient() {
        node?.gradient = nil
    }

    /// How a differentiable operation sends a gradient back: given ∂L/∂output, the
    /// gradients ∂L/∂input for the inputs whose `needed` flag is set (nil for the others),
    /// in the order of the inputs.
    public typealias Pullback = (_ outputGradient: Tensor, _ needed: [Bool]) -> [Tensor?]

    /// A new differentiable operation: `result`, computed from `inputs` without recording
    /// (inside ``withoutGradients(_:)``, or from scalars), becomes part of the graph with
    /// `pullback` as its backward rule, as every operation of the library is. Check the
    /// rule with ``GradientCheck/check(_:step:_:)`` in Float64.
    ///
    ///     extension Tensor {
    ///         func cube() -> Tensor {
    ///             let x = self
    ///             let y = withoutGradients { x * x * x }
    ///             return .differentiable(y, from: [x]) { g, _ in [g * 3 * x * x] }
    ///         }
    ///     }
    public static func differentiable(_ result: Tensor, from inputs: [Tensor], pullback: @escaping Pullback) -> Tensor {
        record(result, from: inputs, pullback: pullback)
    }

    /// Records `result` as computed from `inputs`, when recording is on and an input
    /// needs a gradient. `pullback` maps ∂L/∂result to ∂L/∂input for the inputs marked
    /// as needed (it may return nil for the others).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func record(
        _ result: Tensor, from inputs: [Tensor],
        pullback: @escaping GradientNode<Scalar>.Pullback
    ) -> Tensor {
        guard GradientMode.isRecording, inputs.contains(where: { $0.node != nil }) else {
            return result
        }
        var tracked = result
        tracked.node = GradientNode(parents: inputs.map { $0.node }, shape: result.shape,
                                    pullback: pullback)
        return tracked
    }

    /// Back-propagates from this scalar: ∂L/∂L = 1.
    public func backward() {
        checkPrecondition(count == 1, "backward: needs a scalar, got shape \(shape); pass a gradient")
        backward(gradient: Tensor(repeating: 1, shape: shape))
    }

    /// Back-propagates `seed` = ∂L/∂self through the recorded operations.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func backward(gradient seed: Tensor) {
        checkPrecondition(seed.shape == shape,
                     "backward: seed of shape \(seed.shape) for a value of shape \(shape)")
        guard let root = node else {
            fatalError("backward: this value does not depend on any tensor requiring a gradient")
        }
        withoutGradients {
            // This pass's gradients (`pendingGradient`), apart from those retained from
            // earlier passes, so that a retained node passes on only what reached it in
            // this pass.
            let order = Self.topologicalOrder(from: root)
            root.pendingGradient = seed.detached()
            for node in order.reversed() {
                guard let gradient = node.pendingGradient else { continue }
                node.pendingGradient = nil
                if node.retainsGradient { node.accumulate(gradient) }
                node.gradientReady?()
                guard let pullback = node.pullback else { continue }
                let inputGradients = pullback(gradient, node.parents.map { $0 != nil })
                for (parent, inputGradient) in zip(node.parents, inputGradients) {
                    guard let parent, let inputGradient else { continue }
                    checkPrecondition(inputGradient.shape == parent.shape,
                                 "backward: gradient of shape \(inputGradient.shape) for a value of shape \(parent.shape)")
                    parent.pendingGradient = parent.pendingGradient.map { $0 + inputGradient } ?? inputGradient.detached()
                }
            }
        }
    }

    /// Nodes reachable from `root`, each after all of its parents (iterative DFS).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func topologicalOrder(from root: GradientNode<Scalar>) -> [GradientNode<Scalar>] {
        var order: [GradientNode<Scalar>] = []
        root.isVisited = true
        var stack: [(node: GradientNode<Scalar>, nextParent: Int)] = [(root, 0)]
        while let (node, next) = stack.last {
            if next < node.parents.count {
                stack[stack.count - 1].nextParent += 1
                if let parent = node.parents[next], !parent.isVisited {
                    parent.isVisited = true
                    stack.append((parent, 0))
                }
            } else {
                order.append(node)
                stack.removeLast()
            }
        }
        for node in order { node.isVisited = false }
        return order
    }
}
