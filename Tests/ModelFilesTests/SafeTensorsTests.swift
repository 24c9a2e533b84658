import Foundation
import Tensors
import Testing
@testable import ModelFiles

/// A safetensors file from a header text and data bytes.
func safetensorsBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    let json = Array(header.utf8)
    let length = declaredLength ?? UInt64(json.count)
    return Data((0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + json + data)
}

@Suite("safetensors")
struct SafeTensorsTests {
    @Test("F32, F64 and I64 tensors and metadata round-trip")
    func roundTrip() throws {
        var file = SafeTensors(metadata: ["format": "pt", "note": "ünïcode \"quoted\""])
        file.tensors["0.weight"] = .init(Tensor<Float>([[1, -2.5], [3, 4e-8]]))
        file.tensors["0.bias"] = .init(Tensor<Float>([0.5, 1]))
        file.tensors["double"] = .init(Tensor<Double>(shape: [], scalars: [.pi]))
        file.tensors["steps"] = .init(integers: [1, -2, 1 << 40], shape: [3])
        file.tensors["empty"] = .init(Tensor<Float>(shape: [0, 3], scalars: []))
        let read = try SafeTensors(data: file.encoded())
        #expect(read == file)
        #expect(read.tensors["0.weight"]?.tensor(Float.self) == Tensor<Float>([[1, -2.5], [3, 4e-8]]))
        #expect(read.tensors["double"]?.tensor(Double.self)?.scalar == .pi)
        #expect(read.tensors["double"]?.tensor(Float.self) == nil)
        #expect(read.tensors["steps"]?.integers == [1, -2, 1 << 40])
    }

    @Test("the layout: little-endian header length, JSON header padded to 8 bytes, data by offsets")
    func layout() throws {
        var file = SafeTensors()
        file.tensors["b"] = .init(Tensor<Float>([1]))
        file.tensors["a"] = .init(Tensor<Float>([2, 3]))
        let bytes = [UInt8](file.encoded())
        let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(length % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        #expect(header.trimmingCharacters(in: .whitespaces)
            == #"{"a":{"data_offsets":[0,8],"dtype":"F32","shape":[2]},"b":{"data_offsets":[8,12],"dtype":"F32","shape":[1]}}"#)
        #expect(Array(bytes[(8 + length)...]) == [0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 63])
    }

    @Test("a file as PyTorch-side writers produce it: keys in any order, U8 and I32 read as integers")
    func foreignFile() throws {
        let data = safetensorsBytes(
            header: #"{"__metadata__":{"format":"pt"},"n":{"dtype":"I32","shape":[1],"data_offsets":[1,5]},"m":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#,
            data: [7, 0xFE, 0xFF, 0xFF, 0xFF])
        let file = try SafeTensors(data: data)
        #expect(file.tensors["m"]?.integers == [7])
        #expect(file.tensors["n"]?.integers == [-2])
        #expect(file.metadata == ["format": "pt"])
    }

    // MARK: - Bad input: each a typed error with one line

    @Test("a header longer than the file")
    func headerTooLong() {
        let error = #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: "{}", declaredLength: 1000), file: "w.safetensors")
        }
        #expect(error?.description == "w.safetensors: header length 1000 is longer than the 2 bytes after it")
        #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: "{}", declaredLength: UInt64.max))
        }
        #expect(throws: ModelFileError.corrupt(file: "safetensors data", reason: "shorter than the 8-byte header length")) {
            try SafeTensors(data: Data([1, 0, 0]))
        }
    }

    @Test("offsets outside the data, or not matching the shape")
    func badOffsets() {
        let outside = #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), file: "w.st")
        }
        #expect(outside?.description == "w.st: tensor 'w': data offsets [0, 8] outside the 4-byte data block")
        for offsets in ["[4,0]", "[-1,3]", "[0]", "[0,4,8]"] {
            #expect(throws: ModelFileError.self, "\(offsets)") {
                try SafeTensors(data: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#, data: [0, 0, 0, 0, 0, 0, 0, 0]))
            }
        }
        let size = #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), file: "w.st")
        }
        #expect(size?.description == "w.st: tensor 'w': shape [3] of F32 does not fill offsets [0, 8]")
        #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#))
        }
        #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#))
        }
    }

    @Test("tensors must tile the data block: overlap, gap and trailing bytes refused as the reference parser does")
    func tiling() throws {
        func read(_ header: String, bytes: Int) throws(ModelFileError) {
            _ = try SafeTensors(data: safetensorsBytes(header: header, data: Array(repeating: 0, count: bytes)), file: "w.st")
        }
        let cases: [(header: String, bytes: Int, message: String)] = [
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8,
             "w.st: tensor 'b' at bytes [4, 8] overlaps tensor 'a', which ends at byte 8"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, 12,
             "w.st: bytes 4..<8 after tensor 'a' belong to no tensor"),
            (#"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8,
             "w.st: bytes 0..<4 at the start of the data block belong to no tensor"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 7,
             "w.st: 3 bytes after the last tensor belong to no tensor"),
            (#"{}"#, 1, "w.st: 1 byte after the last tensor belongs to no tensor"),
        ]
        for (header, bytes, message) in cases {
            let error = #expect(throws: ModelFileError.self, "\(header)") { try read(header, bytes: bytes) }
            #expect(error?.description == message)
        }
        // Empty tensors may share an offset; order in the header does not matter.
        try read(#"{"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"F64","shape":[0,3],"data_offsets":[8,8]}}"#, bytes: 8)
    }

    @Test("a tensor name or type with a line break is quoted escaped, so the message stays one line")
    func controlCharacters() {
        let error = #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: #"{"a\nb":{"dtype":"F\t32","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), file: "w.st")
        }
        #expect(error?.description == #"w.st: tensor 'a\nb' has type F\t32, which is not supported (F32, F64, I64, I32, U8)"#)
    }

    @Test("an unknown type, a header that is not JSON or not the format's JSON")
    func badHeader() {
        let type = #expect(throws: ModelFileError.self) {
            try SafeTensors(data: safetensorsBytes(header: #"{"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#, data: [0, 0]), file: "w.st")
        }
        #expect(type?.description == "w.st: tensor 'w' has type BF16, which is not supported (F32, F64, I64, I32, U8)")
        for header in ["not json", "[1,2]", #"{"w":{"dtype":"F32"}}"#, #"{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#,
                       #"{"__metadata__":{"a":1}}"#, #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#] {
            let error = #expect(throws: ModelFileError.self, "\(header)") {
                try SafeTensors(data: safetensorsBytes(header: header, data: [0, 0, 0, 0]), file: "w.st")
            }
            #expect(error?.description.hasPrefix("w.st: the header is not valid safetensors JSON") == true)
            #expect(error?.description.contains("\n") == false)
        }
    }

    @Test("files: missing, and written atomically (no temporary file left, old file replaced)")
    func files() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        #expect(throws: ModelFileError.missingFile(directory.file("none.safetensors"))) {
            try SafeTensors(contentsOf: directory.file("none.safetensors"))
        }
        var file = SafeTensors()
        file.tensors["x"] = .init(Tensor<Float>([1]))
        try file.write(to: directory.file("w.safetensors"))
        file.tensors["x"] = .init(Tensor<Float>([2]))
        try file.write(to: directory.file("w.safetensors"))
        #expect(try directory.contents() == ["w.safetensors"])
        #expect(try SafeTensors(contentsOf: directory.file("w.safetensors")) == file)
        let error = #expect(throws: ModelFileError.self) { try file.write(to: directory.file("no/such/dir/w.safetensors")) }
        #expect(error?.description == "\(directory.file("no/such/dir/w.safetensors")): cannot write (the directory \(directory.file("no/such/dir")) does not exist)")
        let onDirectory = #expect(throws: ModelFileError.self) { try file.write(to: directory.path) }
        #expect(onDirectory?.description == "\(directory.path): cannot write (it is a directory)")
        let reading = #expect(throws: ModelFileError.self) { try SafeTensors(contentsOf: directory.path) }
        #expect(reading?.description == "\(directory.path): cannot read (it is a directory, not a file)")
    }
}
