/// Central finite differences in Float64, against the gradients of reverse mode.
///
/// For each input xᵢ of a scalar function f, each element is perturbed by ±h and
/// (f(x + h) − f(x − h))/2h is compared with ∂f/∂x from ``Tensor/backward()``. The
/// error of an input is the largest |analytic − numeric| / max(|analytic|, |numeric|, 10⁻³)
/// over its elements (see ``relativeError(_:_:)``).
public enum GradientCheck {
    /// What ``GradientCheck/check(_:step:_:)`` found: one error per input.
    public struct Result: Sendable, CustomStringConvertible {
        /// The largest relative error of each input, in input order.
        public let maximumRelativeErrors: [Double]
        /// The largest error over all inputs (0 when there are none); below about 1e-6 in
        /// Float64 the analytic gradient is right.
        public var worst: Double { maximumRelativeErrors.max() ?? 0 }

        /// One line per input: `input i: max relative error e`.
        public var description: String {
            maximumRelativeErrors.enumerated()
                .map { "input \($0.offset): max relative error \($0.element)" }
                .joined(separator: "\n")
        }
    }

    /// Checks `function` at `inputs` with step `step`.
    public static func check(
        _ inputs: [Tensor<Double>], step: Double = 1e-6,
        _ function: ([Tensor<Double>]) -> Tensor<Double>
    ) -> Result {
        let tracked = inputs.map { $0.requiringGradient() }
        let output = function(tracked)
        checkPrecondition(output.count == 1, "gradient check: the function must return a scalar, got \(output.shape)")
        checkPrecondition(output.requiresGradient, "gradient check: the output does not depend on the inputs")
        output.backward()
        var errors: [Double] = []
        for (i, input) in inputs.enumerated() {
            let analytic = tracked[i].gradient?.scalars ?? [Double](repeating: 0, count: input.count)
            var worst = 0.0
            for j in 0..<input.count {
                let numeric = withoutGradients {
                    (evaluate(function, inputs, i, j, +step) - evaluate(function, inputs, i, j, -step)) / (2 * step)
                }
                worst = max(worst, relativeError(analytic[j], numeric))
            }
            errors.append(worst)
        }
        return Result(maximumRelativeErrors: errors)
    }

    /// |a − b| / max(|a|, |b|), taken as absolute below a magnitude of 1e-3 (where
    /// finite differences can only be trusted absolutely); infinite when either is NaN or
    /// infinite, so that a gradient that is not a number never passes a check (NaN would
    /// compare false with every tolerance, and be dropped by `max`).
    public static func relativeError(_ a: Double, _ b: Double) -> Double {
        guard a.isFinite && b.isFinite else { return .infinity }
        return Swift.abs(a - b) / Swift.max(Swift.abs(a), Swift.abs(b), 1e-3)
    }

    private static func evaluate(
        _ function: ([Tensor<Double>]) -> Tensor<Double>, _ inputs: [Tensor<Double>],
        _ i: Int, _ j: Int, _ delta: Double
    ) -> Double {
        var values = inputs[i].scalars
        values[j] += delta
        var perturbed = inputs
        perturbed[i] = Tensor(shape: inputs[i].shape, scalars: values)
        return function(perturbed).scalar
    }
}
