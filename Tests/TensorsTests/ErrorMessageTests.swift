import Testing
import Tensors

/// Bad input stops the process with a message that says what was wrong. Each case runs
/// in a child process (an exit test); its standard error must name the shapes involved.
@Suite("Messages on bad input")
struct ErrorMessageTests {
    static func text(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test("adding [2, 3] and [4, 5] names both shapes")
    func addShapeMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let a = Tensor<Double>.zeros([2, 3])
            let b = Tensor<Double>.zeros([4, 5])
            _ = a + b
        }
        let message = Self.text(result)
        #expect(message.contains("[2, 3]") && message.contains("[4, 5]"), "stderr: \(message)")
        #expect(message.contains("add"), "stderr: \(message)")
    }

    @Test("multiplying [2, 3] by a [3, 2] elementwise names both shapes")
    func multiplyShapeMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.ones([2, 3]) * Tensor<Float>.ones([3, 2])
        }
        let message = Self.text(result)
        #expect(message.contains("[2, 3]") && message.contains("[3, 2]"), "stderr: \(message)")
    }

    @Test("matmul of [2, 3] and [4, 5] names both shapes")
    func matmulShapeMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Double>.zeros([2, 3]), Tensor<Double>.zeros([4, 5]))
        }
        let message = Self.text(result)
        #expect(message.contains("[2, 3]") && message.contains("[4, 5]"), "stderr: \(message)")
        #expect(message.contains("matmul"), "stderr: \(message)")
    }

    @Test("matmul of a vector names its shape")
    func matmulNotMatrix() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = matmul(Tensor<Double>.zeros([3]), Tensor<Double>.zeros([3, 2]))
        }
        let message = Self.text(result)
        #expect(message.contains("[3]") && message.contains("[3, 2]"), "stderr: \(message)")
    }

    @Test("a tensor from the wrong number of values says how many and what shape")
    func wrongValueCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
        }
        let message = Self.text(result)
        #expect(message.contains("5 values") && message.contains("[2, 3]"), "stderr: \(message)")
    }

    @Test("ragged rows are reported")
    func raggedRows() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>([[1, 2, 3], [4, 5]])
        }
        let message = Self.text(result)
        #expect(message.contains("row 1 has 2 values"), "stderr: \(message)")
    }

    @Test("reshaping 6 values to [4, 2] names both shapes")
    func reshapeMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([2, 3]).reshaped(to: [4, 2])
        }
        let message = Self.text(result)
        #expect(message.contains("[2, 3]") && message.contains("[4, 2]"), "stderr: \(message)")
    }

    @Test("backward from a non-scalar names its shape")
    func backwardNonScalar() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let x = Tensor<Double>.ones([2, 2]).requiringGradient()
            (x * x).backward()
        }
        let message = Self.text(result)
        #expect(message.contains("backward") && message.contains("[2, 2]"), "stderr: \(message)")
    }

    @Test("concatenating [2, 3] and [3, 2] along axis 0 names both shapes")
    func concatenateMismatch() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.concatenate([Tensor<Double>.zeros([2, 3]), Tensor<Double>.zeros([3, 2])], alongAxis: 0)
        }
        let message = Self.text(result)
        #expect(message.contains("[2, 3]") && message.contains("[3, 2]"), "stderr: \(message)")
    }

    @Test("an axis out of range is named, for sum and mean alike")
    func axisOutOfRange() async {
        let sum = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([2, 3]).sum(alongAxis: 2)
        }
        #expect(Self.text(sum).contains("axis 2 out of range for shape [2, 3]"), "stderr: \(Self.text(sum))")
        let mean = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([2, 3]).mean(alongAxis: 2)
        }
        #expect(Self.text(mean).contains("axis 2 out of range for shape [2, 3]"), "stderr: \(Self.text(mean))")
    }

    @Test("a gather index out of range is named")
    func gatherOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([3, 2]).gatheringRows([0, 3])
        }
        let message = Self.text(result)
        #expect(message.contains("row 3") && message.contains("[3, 2]"), "stderr: \(message)")
    }
}
