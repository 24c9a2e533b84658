/// Which form of GELU, x·Φ(x), to compute: PyTorch's `approximate` argument, whose
/// spellings (`"none"`, `"tanh"`) are the raw values.
public enum GELUApproximation: String, Sendable, Hashable, Codable, CaseIterable {
    /// The exact form ½x(1 + erf(x/√2)) (PyTorch's default, `approximate="none"`).
    case exact = "none"
    /// Hendrycks and Gimpel's tanh form ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
    /// (`approximate="tanh"`); within 5·10⁻⁴ of the exact form.
    case tanh
}
