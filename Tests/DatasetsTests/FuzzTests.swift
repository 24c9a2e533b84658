import Foundation
import Testing
import Tensors
@testable import Datasets

/// Seeded random damage to valid bytes: flipped bytes, cuts, insertions, deletions and
/// repeated chunks, one to three at a time.
struct Mutator {
    var generator: RandomSource

    init(seed: UInt64) { generator = RandomSource(seed: seed) }

    mutating func mutate(_ data: Data) -> Data {
        var bytes = [UInt8](data)
        for _ in 0...(index(3)) {
            let position = index(bytes.count + 1)
            switch index(6) {
            case 0, 1:
                if !bytes.isEmpty { bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: generator.next()) }
            case 2:
                bytes.removeSubrange(position...)
            case 3:
                bytes.insert(contentsOf: (0..<index(8) + 1).map { _ in interestingByte() }, at: position)
            case 4:
                bytes.removeSubrange(position..<min(bytes.count, position + index(16) + 1))
            default:
                let chunk = Array(bytes[position..<min(bytes.count, position + index(32))])
                bytes.insert(contentsOf: chunk, at: index(bytes.count + 1))
            }
        }
        return Data(bytes)
    }

    private mutating func index(_ bound: Int) -> Int { Int(generator.next() % UInt64(max(bound, 1))) }

    /// Bytes that matter to parsers (delimiters, quotes, digits, 0x00, 0xFF) half the time.
    private mutating func interestingByte() -> UInt8 {
        let special = Array(",\"\n\r()'{}:-0123456789.eE ".utf8) + [0x00, 0xFF, 0x7F, 0x80]
        return index(2) == 0 ? special[index(special.count)] : UInt8(truncatingIfNeeded: generator.next())
    }
}

/// Runs `read` on `iterations` mutations of `valid`; every outcome must be a value or a
/// ``DatasetError`` (guaranteed by the typed throws) whose message is one line.
func fuzz(_ valid: Data, seed: UInt64, iterations: Int, _ read: (Data) throws(DatasetError) -> Void) -> (accepted: Int, rejected: Int) {
    var mutator = Mutator(seed: seed)
    var (accepted, rejected) = (0, 0)
    for iteration in 0..<iterations {
        let input = mutator.mutate(valid)
        do {
            try read(input)
            accepted += 1
        } catch {
            rejected += 1
            #expect(!error.description.contains("\n"), "seed \(seed), iteration \(iteration): \(error)")
        }
    }
    return (accepted, rejected)
}

@Suite("Fuzzing the readers (seeded mutations of valid files)")
struct ReaderFuzzTests {
    @Test("IDX", arguments: [UInt64(1)])
    func idx(seed: UInt64) {
        let valid = idxBytes(type: 0x08, shape: [3, 4, 4], payload: (0..<48).map { UInt8($0 * 5) })
        let (accepted, rejected) = fuzz(valid, seed: seed, iterations: 4000) { data throws(DatasetError) in
            let array = try IDXArray(data: data)
            _ = array.integers
            _ = array.scalars(Float.self)
        }
        #expect(rejected > accepted, "seed \(seed)")
    }

    @Test("gzip-compressed IDX (Fashion-MNIST test labels)", arguments: [UInt64(2)])
    func gzip(seed: UInt64) throws {
        let path = MNISTFormat.fashionMNISTDirectory + "/t10k-labels-idx1-ubyte.gz"
        let valid = try Data(contentsOf: URL(fileURLWithPath: path))
        let (_, rejected) = fuzz(valid, seed: seed, iterations: 300) { data throws(DatasetError) in
            _ = try IDXArray(bytes: Gzip.decompressIfNeeded(data, file: "labels.gz"), file: "labels.gz")
        }
        #expect(rejected > 0, "seed \(seed)")
    }

    @Test("CSV", arguments: [UInt64(3)])
    func csv(seed: UInt64) {
        let valid = Data("a,b,\"c d\",label\n1.5,2,-3e2,cat\n4,5,6,dog\n7,8,\"9\",cat\n".utf8)
        let (accepted, rejected) = fuzz(valid, seed: seed, iterations: 4000) { data throws(DatasetError) in
            let table = try CSVTable(data: data)
            let _: Dataset<Float> = try CSVFormat.dataset(from: table, options: CSVOptions(
                target: .index(-1), preprocessing: .fit(.perFeature)))
        }
        #expect(accepted > 0 && rejected > 0, "seed \(seed)")
    }

    @Test("NumPy .npy", arguments: [UInt64(4)])
    func npy(seed: UInt64) throws {
        let valids = [
            NPYArray(Tensor<Float>(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])).encoded(),
            try NPYArray(integers: [1, 2, 3], dataType: .int32).encoded(),
            NumPyFiles.data(NumPyFiles.version2),
        ]
        for (offset, valid) in valids.enumerated() {
            let (accepted, rejected) = fuzz(valid, seed: seed &+ UInt64(offset), iterations: 1500) { data throws(DatasetError) in
                let array = try NPYArray(data: data)
                _ = array.tensor(Double.self)
                _ = array.integers
            }
            #expect(accepted > 0 && rejected > 0, "seed \(seed &+ UInt64(offset))")
        }
    }
}
