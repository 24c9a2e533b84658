import Tensors

extension GradientCheck {
    /// Checks the gradient of `loss` with respect to every parameter of `model` (Float64):
    /// reverse mode against central differences, perturbing each parameter element in
    /// place. Returns the largest relative error per parameter name, in parameter order.
    public static func checkParameters<L: Layer>(
        of model: L, step: Double = 1e-6, loss: (L) -> Tensor<Double>
    ) -> [(name: String, maximumRelativeError: Double)] where L.Scalar == Double {
        checkParameters(of: model, steps: [step], loss: loss).map { ($0.name, $0.maximumRelativeError) }
    }

    /// One parameter tensor's result of ``checkParameters(of:steps:entriesPerTensor:loss:)``.
    public struct ParameterResult: Sendable {
        /// The parameter's name (`0.weight`).
        public let name: String
        /// The largest relative error over the entries checked.
        public let maximumRelativeError: Double
        /// Entries compared with central differences.
        public let checkedEntries: Int
        /// The tensor's size.
        public let count: Int
    }

    /// Reverse mode against central differences for each parameter entry, at each of
    /// `steps`, keeping per entry the step that agrees best: rounding spoils a small step
    /// when the loss is large (a saturated softmax), a kink (ReLU, a max-pool tie) a
    /// large one. With `entriesPerTensor`, a larger tensor is checked at that many entries
    /// spread evenly over it, plus the entry with the largest gradient; each entry is
    /// restored exactly after its perturbation.
    public static func checkParameters<L: Layer>(
        of model: L, steps: [Double], entriesPerTensor: Int? = nil, loss: (L) -> Tensor<Double>
    ) -> [ParameterResult] where L.Scalar == Double {
        // A model without parameters has no gradient to check (and nothing to differentiate).
        guard !model.namedParameters.isEmpty else { return [] }
        model.zeroGradients()
        loss(model).backward()
        let analytic = model.namedParameters.map { ($0.name, $0.tensor.count, $0.tensor.gradient?.scalars) }
        model.zeroGradients()
        return analytic.map { name, count, gradient in
            var entries = Array(0..<count)
            if let limit = entriesPerTensor, limit > 0, count > limit {
                entries = (0..<limit).map { $0 * count / limit }
                if let gradient, let largest = gradient.indices.max(by: { abs(gradient[$0]) < abs(gradient[$1]) }),
                   !entries.contains(largest) {
                    entries.append(largest)
                }
            }
            var worst = 0.0
            for j in entries {
                let best = steps.map { step in
                    let numeric = (perturbed(model, name, j, step, loss) - perturbed(model, name, j, -step, loss)) / (2 * step)
                    return relativeError(gradient?[j] ?? 0, numeric)
                }.min() ?? 0
                worst = Swift.max(worst, best)
            }
            return ParameterResult(name: name, maximumRelativeError: worst, checkedEntries: entries.count, count: count)
        }
    }

    /// The loss with element `j` of parameter `name` moved by `delta` (then restored to
    /// its exact value).
    private static func perturbed<L: Layer>(
        _ model: L, _ name: String, _ j: Int, _ delta: Double, _ loss: (L) -> Tensor<Double>
    ) -> Double where L.Scalar == Double {
        var original = 0.0
        model.visitParameters { parameterName, tensor in
            guard parameterName == name else { return }
            tensor.updateScalars { original = $0[j]; $0[j] += delta }
        }
        defer {
            model.visitParameters { parameterName, tensor in
                guard parameterName == name else { return }
                tensor.updateScalars { $0[j] = original }
            }
        }
        return withoutGradients { loss(model).scalar }
    }
}
