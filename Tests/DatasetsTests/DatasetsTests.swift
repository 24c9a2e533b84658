import Foundation
import Testing
@testable import Datasets

/// An IDX file's bytes: header (magic, dimensions) then the payload.
func idxBytes(type: UInt8, shape: [Int], payload: [UInt8]) -> Data {
    var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
    for n in shape { bytes += [UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] }
    return Data(bytes + payload)
}

@Suite("IDX")
struct IDXTests {
    @Test("unsigned bytes in any number of dimensions")
    func readsBytes() throws {
        let array = try IDXArray(data: idxBytes(type: 0x08, shape: [2, 3, 2], payload: Array(0..<12)))
        #expect(array.shape == [2, 3, 2])
        #expect(array.integers == Array(0..<12))
        #expect(array.scalars(Float.self, scale: 0.5) == (0..<12).map { Float($0) / 2 })
    }

    @Test("big-endian 32-bit integers and floats")
    func readsWideTypes() throws {
        let ints = try IDXArray(data: idxBytes(type: 0x0C, shape: [2], payload: [0, 0, 1, 2, 0xFF, 0xFF, 0xFF, 0xFE]))
        #expect(ints.integers == [258, -2])
        let bits = Float(1.5).bitPattern
        let floats = try IDXArray(data: idxBytes(type: 0x0D, shape: [1], payload: [
            UInt8(bits >> 24), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]))
        #expect(floats.scalars(Double.self) == [1.5])
    }

    @Test("wrong magic number is a typed error")
    func badMagic() {
        #expect(throws: DatasetError.badMagic(file: "IDX data", found: 0x0102_0801)) {
            try IDXArray(data: Data([1, 2, 8, 1, 0, 0, 0, 1, 7]))
        }
    }

    @Test("header dimensions that do not match the bytes")
    func shapeMismatch() {
        #expect(throws: DatasetError.self) {
            try IDXArray(data: idxBytes(type: 0x08, shape: [3, 3], payload: Array(repeating: 0, count: 8)))
        }
        #expect(throws: DatasetError.self) {
            try IDXArray(data: idxBytes(type: 0x08, shape: [Int(UInt32.max), 4], payload: []))
        }
        #expect(throws: DatasetError.self) { try IDXArray(data: Data([0, 0, 8])) }
    }

    @Test("a truncated gzip stream is a typed error, not a crash")
    func truncatedGzip() throws {
        let path = MNISTFormat.fashionMNISTDirectory + "/t10k-labels-idx1-ubyte.gz"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = #expect(throws: DatasetError.self) {
            try Gzip.decompress(data.prefix(data.count / 2), file: "half.gz")
        }
        #expect(error?.description.contains("truncated") == true)
    }

    @Test("a gzip file of several members reads them all, as gunzip does; zero padding is allowed, other trailing bytes are not")
    func multiMemberGzip() throws {
        let directory = MNISTFormat.fashionMNISTDirectory
        let labels = try Data(contentsOf: URL(fileURLWithPath: directory + "/t10k-labels-idx1-ubyte.gz"))
        let images = try Data(contentsOf: URL(fileURLWithPath: directory + "/t10k-images-idx3-ubyte.gz"))
        let (first, second) = (try Gzip.decompress(labels, file: "l.gz"), try Gzip.decompress(images, file: "i.gz"))
        #expect(try Gzip.decompress(labels + images, file: "both.gz") == first + second)
        #expect(try Gzip.decompress(labels + labels + labels, file: "three.gz") == first + first + first)
        #expect(try Gzip.decompress(labels + Data(count: 512), file: "padded.gz") == first)
        let garbage = #expect(throws: DatasetError.self) { try Gzip.decompress(labels + Data("junk".utf8), file: "g.gz") }
        #expect(garbage?.description == "g.gz: 4 bytes after the end of the gzip data are not another gzip member")
        let truncated = #expect(throws: DatasetError.self) {
            try Gzip.decompress(labels + images.prefix(images.count / 2), file: "t.gz")
        }
        #expect(truncated?.description == "t.gz: member 2: the gzip stream is truncated")
    }
}

@Suite("Fashion-MNIST from the Debian package")
struct FashionMNISTTests {
    @Test("the test split: 10 000 images 28×28, labels 0…9, pixels in [0, 1]")
    func testSplit() throws {
        let test = try MNISTFormat.load(.test, as: Float.self)
        #expect(test.images.shape == [10_000, 1, 28, 28])
        #expect(test.count == 10_000)
        #expect(Set(test.labels) == Set(0..<10))
        #expect(test.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(test.flattenedImages.shape == [10_000, 784])
        // Fashion-MNIST's test set is balanced: 1 000 images per class.
        #expect((0..<10).allSatisfy { c in test.labels.filter { $0 == c }.count == 1000 })
    }

    @Test("a missing directory is named as such")
    func missingFile() {
        let error = #expect(throws: DatasetError.self) {
            try MNISTFormat.load(.test, from: "/nonexistent", as: Float.self)
        }
        #expect(error?.description == "/nonexistent: no such directory")
    }
}
