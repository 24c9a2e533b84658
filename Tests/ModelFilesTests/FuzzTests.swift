import Foundation
import NeuralNetworks
import Tensors
import Testing
@testable import ModelFiles

/// Seeded random damage to valid bytes: flipped bytes, cuts, insertions (often of JSON
/// punctuation and digits), deletions and repeated chunks.
struct ByteMutator {
    var generator: RandomSource

    init(seed: UInt64) { generator = RandomSource(seed: seed) }

    mutating func mutate(_ data: Data) -> Data {
        var bytes = [UInt8](data)
        for _ in 0...index(3) {
            let position = index(bytes.count + 1)
            switch index(6) {
            case 0, 1:
                if !bytes.isEmpty { bytes[min(position, bytes.count - 1)] = byte() }
            case 2: bytes.removeSubrange(position...)
            case 3: bytes.insert(contentsOf: (0...index(8)).map { _ in byte() }, at: position)
            case 4: bytes.removeSubrange(position..<min(bytes.count, position + index(16) + 1))
            default:
                let chunk = Array(bytes[position..<min(bytes.count, position + index(32))])
                bytes.insert(contentsOf: chunk, at: index(bytes.count + 1))
            }
        }
        return Data(bytes)
    }

    private mutating func index(_ bound: Int) -> Int { Int(generator.next() % UInt64(max(bound, 1))) }

    private mutating func byte() -> UInt8 {
        let special = Array("{}[]\":,-0123456789e.F3264I8U ".utf8) + [0x00, 0xFF, 0x80]
        return index(2) == 0 ? special[index(special.count)] : UInt8(truncatingIfNeeded: generator.next())
    }
}

/// Runs `read` on mutations of `valid`; every failure must be a ``ModelFileError`` (the
/// typed throws guarantee it) with a one-line message. Returns (accepted, rejected).
func fuzzModelFile(_ valid: Data, seed: UInt64, iterations: Int,
                   _ read: (Data) throws(ModelFileError) -> Void) -> (Int, Int) {
    var mutator = ByteMutator(seed: seed)
    var (accepted, rejected) = (0, 0)
    for iteration in 0..<iterations {
        do {
            try read(mutator.mutate(valid))
            accepted += 1
        } catch {
            rejected += 1
            #expect(!error.description.contains("\n"), "seed \(seed), iteration \(iteration): \(error)")
        }
    }
    return (accepted, rejected)
}

@Suite("Fuzzing the model-file readers (seeded mutations of valid files)")
struct ModelFileFuzzTests {
    @Test("safetensors, loaded into the model they were saved from", arguments: [UInt64(31)])
    func safetensors(seed: UInt64) throws {
        var file = StateDictionary.safeTensors(of: smallNetwork(Float.self))
        file.tensors["counts"] = .init(integers: [1, 2, 3], shape: [3])
        let valid = file.encoded()
        let model = smallNetwork(Float.self)
        let (accepted, rejected) = fuzzModelFile(valid, seed: seed, iterations: 3000) { data throws(ModelFileError) in
            var weights = try SafeTensors(data: data)
            for entry in weights.tensors.values {
                _ = entry.tensor(Float.self)
                _ = entry.integers
            }
            weights.tensors["counts"] = nil
            try StateDictionary.load(weights, into: model)
        }
        #expect(accepted > 0 && rejected > 0, "seed \(seed)")
    }

    @Test("architecture JSON, built into a model", arguments: [UInt64(32)])
    func architecture(seed: UInt64) throws {
        let cnn = Sequential<Float> {
            Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, padding: 1)
            BatchNorm2D(channels: 2)
            ReLU()
            MaxPool2D(kernelSize: 2)
            GlobalAveragePool2D()
            Dense(inputSize: 2, outputSize: 3)
        }
        let architectures = [try ModelArchitecture(describing: smallNetwork(Float.self)).json(),
                             try ModelArchitecture(describing: cnn).json()]
        for (offset, valid) in architectures.enumerated() {
            let (accepted, rejected) = fuzzModelFile(valid, seed: seed &+ UInt64(offset), iterations: 1000) { data throws(ModelFileError) in
                let architecture = try ModelArchitecture(json: data)
                // A mutation that makes a layer huge is valid; building it only costs time.
                guard architecture.layers.map(\.parameterCount).reduce(0, { $0 &+ $1 }) < 100_000 else { return }
                _ = try architecture.makeModel(Float.self)
            }
            #expect(accepted > 0 && rejected > 0, "seed \(seed &+ UInt64(offset))")
        }
    }

    @Test("checkpoints", arguments: [UInt64(33)])
    func checkpoint(seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let model = smallNetwork(Float.self)
        try Checkpoint(model: model, optimizer: try Adam<Float>(), epoch: 2, generator: RandomSource(seed: 3),
                       trainingState: .object(["epoch": .integer(2)]))
            .write(to: directory.file("c"))
        let valid = try Data(contentsOf: URL(fileURLWithPath: directory.file("c")))
        let path = directory.file("m")
        let (accepted, rejected) = fuzzModelFile(valid, seed: seed, iterations: 1500) { data throws(ModelFileError) in
            do { try data.write(to: URL(fileURLWithPath: path)) } catch { return }
            var optimizer = try! Adam<Float>()
            let checkpoint = try Checkpoint<Float>(contentsOf: path)
            try checkpoint.restore(into: checkpoint.makeModel(), optimizer: &optimizer)
        }
        #expect(accepted > 0 && rejected > 0, "seed \(seed)")
    }
}
