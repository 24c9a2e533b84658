import Tensors

/// A stage of a network: a function of a batch, with named parameters.
///
/// Layers are reference types, like PyTorch modules: an optimiser updates a layer's
/// parameters in place, and a model switches all of its layers between training and
/// evaluation. Parameter names are stable and PyTorch-like (`weight`, `bias`; inside a
/// ``Sequential``, `0.weight`, `0.bias`, …); optimiser state and model files use them.
public protocol Layer<Scalar>: AnyObject {
    /// The element type of the tensors the layer takes and returns, `Float` or `Double`.
    associatedtype Scalar: TensorScalar

    /// The layer applied to a batch (the first dimension is the batch).
    func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar>

    /// A short name for summaries: `Dense(784 → 300)`.
    var summaryName: String { get }

    /// The shape of one example's output, for one example's input shape (no batch
    /// dimension); throws a one-line error naming the layer and both shapes if the input
    /// does not fit. Training, evaluation and prediction call it on the data's example
    /// shape before any work, so that input never reaches the forward pass's checks.
    func outputShape(forInput shape: [Int]) throws(ShapeError) -> [Int]

    /// Visits each parameter with its name, in a fixed order; the visitor may update it.
    func visitParameters(_ visit: (_ name: String, _ parameter: inout Tensor<Scalar>) -> Void)

    /// Draws fresh parameters from `generator`.
    func resetParameters(using generator: inout RandomSource)

    /// Training mode (dropout active, batch statistics) or evaluation mode.
    var isTraining: Bool { get set }
}

extension Layer {
    /// No parameters: activations, pooling and the like have none to visit.
    public func visitParameters(_ visit: (String, inout Tensor<Scalar>) -> Void) {}
    /// Nothing to draw for a layer without parameters.
    public func resetParameters(using generator: inout RandomSource) {}
    /// Always `false` for a layer that behaves the same in training and evaluation; setting it
    /// does nothing.
    public var isTraining: Bool {
        get { false }
        set {}
    }

    /// The parameters with their names, in the order of ``visitParameters(_:)``.
    public var namedParameters: [(name: String, tensor: Tensor<Scalar>)] {
        var result: [(String, Tensor<Scalar>)] = []
        visitParameters { name, tensor in result.append((name, tensor)) }
        return result
    }

    /// The number of scalar parameters.
    public var parameterCount: Int {
        namedParameters.reduce(0) { $0 + $1.tensor.count }
    }

    /// Clears the gradients of all parameters.
    public func zeroGradients() {
        visitParameters { _, tensor in tensor.zeroGradient() }
    }

    /// Runs the layer on `input` without recording gradients, in evaluation mode,
    /// `batchSize` examples at a time.
    public func predict(_ input: Tensor<Scalar>, batchSize: Int = 1024) -> Tensor<Scalar> {
        checkPrecondition(batchSize > 0, "predict: batch size must be positive, got \(batchSize)")
        if input.shape.first ?? 0 <= batchSize, let model = self as? Sequential<Scalar>,
           let output = model.smallBatchOutput(input) {
            return output
        }
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }
        return withoutGradients {
            let total = input.shape.first ?? 0
            if total <= batchSize { return self(input) }
            let parts = stride(from: 0, to: total, by: batchSize).map { start in
                self(input.slice(alongAxis: 0, start..<min(start + batchSize, total)))
            }
            return Tensor.concatenate(parts, alongAxis: 0)
        }
    }
}

/// An input shape a layer cannot take, found before any computation: the layer and both
/// shapes in one line.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    /// The one-line message: the layer, the expected shape and the shape given.
    public let description: String
    /// An error with the given one-line message.
    public init(_ description: String) { self.description = description }
}

/// The check of ``Layer/outputShape(forInput:)``: throws naming the layer and both shapes.
func checkShape(_ condition: Bool, _ layer: @autoclosure () -> String, expected: @autoclosure () -> String,
                actual: [Int]) throws(ShapeError) {
    guard condition else { throw ShapeError("\(layer()): expected input of shape \(expected()), got \(actual)") }
}

/// A shape check inside a forward pass (a programming error by then): stops with the
/// thrown check's message.
func requireShape<T>(_ check: () throws(ShapeError) -> T) -> T {
    do { return try check() } catch { fatalError(error.description) }
}

/// A shape check that names the layer and both shapes.
func requireShape(_ condition: Bool, _ layer: @autoclosure () -> String, expected: @autoclosure () -> String,
                  actual: [Int]) {
    checkPrecondition(condition, "\(layer()): expected input of shape \(expected()), got \(actual)")
}
