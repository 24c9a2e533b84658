import Foundation
import Testing
import Tensors
@testable import Datasets

/// Files written by NumPy 2.4 (`np.save`), base64-encoded.
enum NumPyFiles {
    /// `np.arange(6, dtype='<f4').reshape(2, 3) / 4`
    static let float32 = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/AACAPwAAoD8="
    /// `np.arange(3, dtype='>f4')`
    static let bigEndian = "k05VTVBZAQB2AHsnZGVzY3InOiAnPmY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAP4AAAEAAAAA="
    /// `np.array([1, 'a', None], dtype=object)`, saved with `allow_pickle=True`
    static let object = "k05VTVBZAQB2AHsnZGVzY3InOiAnfE8nLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAqABJWRAAAAAAAAAIwWbnVtcHkuX2NvcmUubXVsdGlhcnJheZSMDF9yZWNvbnN0cnVjdJSTlIwFbnVtcHmUjAduZGFycmF5lJOUSwCFlEMBYpSHlFKUKEsBSwOFlGgDjAVkdHlwZZSTlIwCTziUiYiHlFKUKEsDjAF8lE5OTkr/////Sv////9LP3SUYoldlChLAYwBYZROZXSUYi4="
    /// `np.asfortranarray(np.arange(6, dtype='<f8').reshape(2, 3))`
    static let fortran = "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAAAAAAAAAhAAAAAAAAA8D8AAAAAAAAQQAAAAAAAAABAAAAAAAAAFEA="
    /// `np.array([0, 7, 255], dtype=np.uint8)`
    static let uint8 = "k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAB/8="
    /// `np.arange(4, dtype='<i8').reshape(2, 2)`, format version 2.0
    static let version2 = "k05VTVBZAgB0AAAAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAAEAAAAAAAAAAgAAAAAAAAADAAAAAAAAAA=="

    static func data(_ base64: String) -> Data { Data(base64Encoded: base64)! }
}

/// A `.npy` file with the given header text (padded as NumPy pads it) and payload.
func npyBytes(header: String, payload: [UInt8] = [], version: UInt8 = 1) -> Data {
    var text = Array(header.utf8)
    let preamble = version == 1 ? 10 : 12
    text += [UInt8](repeating: 0x20, count: (64 - (preamble + text.count + 1) % 64) % 64) + [0x0A]
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    bytes += (0..<(preamble - 8)).map { UInt8(truncatingIfNeeded: text.count >> (8 * $0)) }
    return Data(bytes + text + payload)
}

@Suite("NumPy .npy")
struct NPYTests {
    @Test("arrays written by NumPy: float32, uint8, int64 in format 2.0")
    func readsNumPy() throws {
        let floats = try NPYArray(data: NumPyFiles.data(NumPyFiles.float32))
        #expect(floats.shape == [2, 3] && floats.dataType == .float32)
        #expect(floats.tensor(Float.self) == Tensor(shape: [2, 3], scalars: [0, 0.25, 0.5, 0.75, 1, 1.25]))
        #expect(floats.tensor(Double.self).scalars == [0, 0.25, 0.5, 0.75, 1, 1.25])
        #expect(floats.integers == nil)
        let bytes = try NPYArray(data: NumPyFiles.data(NumPyFiles.uint8))
        #expect(bytes.integers == [0, 7, 255])
        #expect(bytes.tensor(Float.self).scalars == [0, 7, 255])
        let longs = try NPYArray(data: NumPyFiles.data(NumPyFiles.version2))
        #expect(longs.shape == [2, 2] && longs.integers == [0, 1, 2, 3])
    }

    @Test("uint8 features are pixel values: divided by 255 as IDX images are, with a note; a float32 array of the images / 255 reads the same")
    func uint8Pixels() throws {
        let bytes = Array(0...255)
        let images = try NPYArray(integers: bytes, shape: [4, 1, 8, 8], dataType: .uint8)
        let data = try Dataset<Float>(features: images, file: "X.npy")
        #expect(data.features.shape == [4, 1, 8, 8])
        // As NumPy computes x.astype(np.float32) / 255, which the float32 file holds.
        let divided = bytes.map { Float($0) / 255 }
        #expect(data.features.scalars == divided)
        #expect(data.notes == ["X.npy: unsigned bytes (uint8), read as pixel values: divided by 255 to [0, 1], as IDX images are"])
        let floats = try Dataset<Float>(features: NPYArray(Tensor(shape: [4, 1, 8, 8], scalars: divided)), file: "X.npy")
        #expect(floats.features == data.features && floats.notes.isEmpty)
        let idx = try IDXArray(data: idxBytes(type: 0x08, shape: [4, 8, 8], payload: bytes.map(UInt8.init)))
        #expect(idx.pixels(Float.self) == divided && idx.pixels(Double.self) == bytes.map { Double($0) / 255 })
        #expect(try Dataset<Double>(features: images).features.scalars == bytes.map { Double($0) / 255 })
        // Integer labels of uint8 stay labels.
        let labelled = try Dataset<Float>(features: images, targets: NPYArray(integers: [0, 1, 1, 0], dataType: .uint8))
        guard case .classes(let labels, _)? = labelled.targets else { Issue.record("no classes"); return }
        #expect(labels == [0, 1, 1, 0])
    }

    @Test("what this library writes is byte for byte what NumPy writes")
    func writesLikeNumPy() throws {
        let tensor = Tensor<Float>(shape: [2, 3], scalars: [0, 0.25, 0.5, 0.75, 1, 1.25])
        #expect(NPYArray(tensor).encoded() == NumPyFiles.data(NumPyFiles.float32))
        #expect(try NPYArray(integers: [0, 7, 255], dataType: .uint8).encoded() == NumPyFiles.data(NumPyFiles.uint8))
    }

    @Test("every type round-trips, including scalars, empty arrays and a file on disk")
    func roundTrip() throws {
        let doubles = Tensor<Double>(shape: [3, 1], scalars: [-1.5, .pi, 1e300])
        #expect(try NPYArray(data: NPYArray(doubles).encoded()).tensor(Double.self) == doubles)
        let scalar = Tensor<Float>(shape: [], scalars: [7])
        #expect(try NPYArray(data: NPYArray(scalar).encoded()).tensor(Float.self) == scalar)
        let empty = Tensor<Float>(shape: [0, 4], scalars: [])
        #expect(try NPYArray(data: NPYArray(empty).encoded()).tensor(Float.self) == empty)
        for type in [NPYArray.DataType.int32, .int64] {
            let array = try NPYArray(integers: [-2, 0, 2_000_000_000, 5], shape: [2, 2], dataType: type)
            #expect(try NPYArray(data: array.encoded()) == array)
            #expect(array.integers == [-2, 0, 2_000_000_000, 5])
        }
        #expect(throws: DatasetError.mismatch("value 256 does not fit in uint8")) {
            try NPYArray(integers: [256], dataType: .uint8)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID()).npy").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try NPYArray(doubles).write(to: path)
        #expect(try NPYArray(contentsOf: path).tensor(Double.self) == doubles)
    }

    @Test("a long header is written in format 2.0 and read back")
    func version2() throws {
        let tensor = Tensor<Float>.zeros(Array(repeating: 1, count: 30_000))
        let encoded = NPYArray(tensor).encoded()
        #expect(encoded[6] == 2)
        #expect(try NPYArray(data: encoded).shape == tensor.shape)
    }

    @Test("object arrays, Fortran order, big-endian data are refused, each with the reason")
    func refused() {
        let object = #expect(throws: DatasetError.self) { try NPYArray(data: NumPyFiles.data(NumPyFiles.object), file: "o.npy") }
        #expect(object?.description == "o.npy: not supported: object array ('|O'): it would need pickled Python objects, which are never loaded")
        let fortran = #expect(throws: DatasetError.self) { try NPYArray(data: NumPyFiles.data(NumPyFiles.fortran), file: "f.npy") }
        #expect(fortran?.description == "f.npy: not supported: Fortran-order (column-major) arrays; save with np.ascontiguousarray")
        let big = #expect(throws: DatasetError.self) { try NPYArray(data: NumPyFiles.data(NumPyFiles.bigEndian), file: "b.npy") }
        #expect(big?.description.contains("big-endian data ('>f4')") == true)
        #expect(throws: DatasetError.self) { try NPYArray(data: npyBytes(header: "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0])) }
        #expect(throws: DatasetError.unsupported(file: "NumPy data", reason: "structured (record) arrays")) {
            try NPYArray(data: npyBytes(header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0]))
        }
        #expect(throws: DatasetError.self) { try NPYArray(data: npyBytes(header: "{}", version: 9)) }
    }

    @Test("bad headers: not a dict, missing or extra keys, bad shapes, length beyond the file, data size")
    func badHeaders() {
        let cases = [
            "[1, 2]",
            "{'descr': '<f4', 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': True, }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)",
            "{'descr': __import__('os').system('true'), 'fortran_order': False, 'shape': (1,), }",
        ]
        for header in cases {
            let error = #expect(throws: DatasetError.self, "\(header)") { try NPYArray(data: npyBytes(header: header, payload: [0, 0, 0, 0]), file: "h.npy") }
            #expect(error?.description.hasPrefix("h.npy: bad header:") == true, "\(header): \(String(describing: error))")
        }
        var long = [UInt8](npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 0]))
        long[8] = 0xFF; long[9] = 0xFF
        #expect(throws: DatasetError.badHeader(file: "NumPy data", reason: "header of 65535 bytes is longer than the file")) {
            try NPYArray(data: Data(long))
        }
        #expect(throws: DatasetError.self) { try NPYArray(data: Data("not numpy at all".utf8)) }
        let short = #expect(throws: DatasetError.self) {
            try NPYArray(data: npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", payload: [0, 0, 0, 0]), file: "s.npy")
        }
        #expect(short?.description == "s.npy: header shape [2, 3] needs 24 bytes of float32 data, the file has 4")
        #expect(throws: DatasetError.self) {
            try NPYArray(data: npyBytes(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }"))
        }
    }

    @Test("one-hot targets [N, K] are K classes at the positions of their 1s, with a note; other rows, or task regression, are values")
    func oneHotTargets() throws {
        func classes(_ data: Dataset<Float>) -> (labels: [Int], names: [String])? {
            guard case .classes(let labels, let classes) = data.targets else { return nil }
            return (labels, classes.names)
        }
        let x = NPYArray(Tensor<Float>.zeros([4, 2]))
        let oneHot = NPYArray(Tensor<Float>([[0, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 0]]))
        let data = try Dataset<Float>(features: x, targets: oneHot, targetFile: "y.npy")
        #expect(classes(data)?.labels == [1, 0, 2, 1] && classes(data)?.names == ["0", "1", "2"])
        #expect(data.taskReason == "y.npy holds one-hot rows: 3 classes")
        #expect(data.notes == ["y.npy: every row is one-hot (one 1, the rest 0): read as 3 classes, each example's class the position of its 1 (--task regression reads the 3 columns as values)"])
        let integers = try NPYArray(integers: [0, 1, 1, 0, 1, 0, 0, 1], shape: [4, 2], dataType: .uint8)
        #expect(classes(try Dataset<Float>(features: x, targets: integers))?.labels == [1, 0, 0, 1])
        let named = try Dataset<Float>(features: x, targets: oneHot, classNames: ["a", "b", "c"])
        #expect(named.classes?.names == ["a", "b", "c"])
        let model = try Dataset<Float>(features: x, targets: oneHot, task: .classification, classes: ClassLabels(names: ["p", "q", "r"]))
        #expect(classes(model)?.labels == [1, 0, 2, 1] && classes(model)?.names == ["p", "q", "r"])
        #expect(throws: DatasetError.mismatch("y.npy: one-hot rows of 3 columns, but the model has 2 classes")) {
            try Dataset<Float>(features: x, targets: oneHot, classes: ClassLabels(names: ["p", "q"]), targetFile: "y.npy")
        }
        let values = try Dataset<Float>(features: x, targets: oneHot, task: .regression)
        #expect(values.task == .regression && values.notes.isEmpty)
        for rows in [[[1, 1, 0], [1, 0, 0]], [[0.5, 0.5, 0], [1, 0, 0]], [[0, 0, 0], [1, 0, 0]]] as [[[Float]]] {
            let other = try Dataset<Float>(features: NPYArray(Tensor<Float>.zeros([2, 2])), targets: NPYArray(Tensor<Float>(rows)))
            #expect(other.task == .regression && other.notes.isEmpty, "\(rows)")
        }
    }

    @Test("features and labels from .npy files form a data set")
    func dataset() throws {
        let images = NPYArray(Tensor<Float>.zeros([3, 1, 2, 2]))
        let labels = try NPYArray(integers: [0, 2, 1], dataType: .uint8)
        let data = try Dataset<Float>(features: images, targets: labels)
        #expect(data.features.shape == [3, 1, 2, 2])
        guard case .classes(let indices, let classes) = data.targets else { Issue.record("no classes"); return }
        #expect(indices == [0, 2, 1] && classes.names == ["0", "1", "2"])
        let values = try Dataset<Double>(features: images, targets: NPYArray(Tensor<Double>([1, 2, 3])))
        guard case .values(let targets) = values.targets else { Issue.record("no values"); return }
        #expect(targets.shape == [3, 1])
        #expect(throws: DatasetError.self) { try Dataset<Float>(features: images, targets: try NPYArray(integers: [0, 1])) }
        let withNaN = NPYArray(Tensor<Float>([[1, 2], [3, .nan]]))
        #expect(throws: DatasetError.mismatch("x.npy: the features of example [1] (counting from 0) hold NaN or infinity")) {
            try Dataset<Float>(features: withNaN, file: "x.npy")
        }
        #expect(throws: DatasetError.self) {
            try Dataset<Float>(features: images, targets: labels, classes: ClassLabels(names: ["a", "b"]))
        }
    }
}
