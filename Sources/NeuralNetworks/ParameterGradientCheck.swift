import Tensors

extension GradientCheck {
    /// Checks the gradient of `loss` with respect to every parameter of `model` (Float64):
    /// reverse mode against central differences, perturbing each parameter element in
    /// place. Returns the largest relative error per parameter name, in parameter order.
    public static func checkParameters<L: Layer>(
        of model: L, step: Double = 1e-6, loss: (L) -> Tensor<Double>
    ) -> [(name: String, maximumRelativeError: Double)] where L.Scalar == Double {
        model.zeroGradients()
        loss(model).backward()
        let analytic = model.namedParameters.map { ($0.name, $0.tensor.gradient?.scalars) }
        model.zeroGradients()
        return analytic.map { name, gradient in
            var worst = 0.0
            let count = model.namedParameters.first { $0.name == name }!.tensor.count
            for j in 0..<count {
                let plus = perturbed(model, name, j, step, loss)
                let minus = perturbed(model, name, j, -step, loss)
                let numeric = (plus - minus) / (2 * step)
                worst = Swift.max(worst, relativeError(gradient?[j] ?? 0, numeric))
            }
            return (name, worst)
        }
    }

    /// The loss with element `j` of parameter `name` moved by `delta` (then restored).
    private static func perturbed<L: Layer>(
        _ model: L, _ name: String, _ j: Int, _ delta: Double, _ loss: (L) -> Tensor<Double>
    ) -> Double where L.Scalar == Double {
        func shift(_ amount: Double) {
            model.visitParameters { parameterName, tensor in
                guard parameterName == name else { return }
                tensor.updateScalars { $0[j] += amount }
            }
        }
        shift(delta)
        defer { shift(-delta) }
        return withoutGradients { loss(model).scalar }
    }
}
