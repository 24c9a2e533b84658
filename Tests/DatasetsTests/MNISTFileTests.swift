import Foundation
import Testing
import Tensors
@testable import Datasets

/// A directory holding MNIST-format files written from the given arrays.
private func mnistDirectory(images: Data, labels: Data, split: String = "t10k") throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try images.write(to: directory.appendingPathComponent("\(split)-images-idx3-ubyte"))
    try labels.write(to: directory.appendingPathComponent("\(split)-labels-idx1-ubyte"))
    return directory
}

/// `data` as a gzip file holding one stored (uncompressed) deflate block, with its CRC-32.
private func gzipStored(_ data: Data) -> Data {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    crc = ~crc
    let size = UInt16(data.count), bytes = { (value: UInt32) in (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
    return Data([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 1, UInt8(size & 0xFF), UInt8(size >> 8), UInt8(~size & 0xFF), UInt8(~size >> 8)])
        + data + Data(bytes(crc) + bytes(UInt32(data.count)))
}

@Suite("MNIST-format directories")
struct MNISTFileTests {
    @Test("a file in both spellings (name and name.gz): the more recently modified is read, with a note naming it")
    func bothSpellings() throws {
        let bright = idxBytes(type: 0x08, shape: [2, 1, 2], payload: [255, 255, 255, 255])
        let directory = try mnistDirectory(images: bright, labels: idxBytes(type: 0x08, shape: [2], payload: [0, 1]))
        defer { try? FileManager.default.removeItem(at: directory) }
        let raw = directory.appendingPathComponent("t10k-images-idx3-ubyte").path, archive = raw + ".gz"
        try gzipStored(idxBytes(type: 0x08, shape: [2, 1, 2], payload: [0, 255, 0, 255])).write(to: URL(fileURLWithPath: archive))
        #expect(try Gzip.decompress(Data(contentsOf: URL(fileURLWithPath: archive)), file: archive).count == 20, "a valid gzip file")
        func modify(_ path: String, _ seconds: Double) throws {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_700_000_000 + seconds)], ofItemAtPath: path)
        }
        let both = "\(directory.path) holds both t10k-images-idx3-ubyte and t10k-images-idx3-ubyte.gz"
        // Unpacked and rewritten beside its archive: the raw file is newer, and read.
        try modify(archive, 0)
        try modify(raw, 60)
        let unpacked = try MNISTFormat.load(.test, from: directory.path, as: Float.self)
        #expect(unpacked.images.scalars == [1, 1, 1, 1])
        #expect(unpacked.notes == ["\(both): read t10k-images-idx3-ubyte, the more recently modified (t10k-images-idx3-ubyte.gz is older)"])
        #expect(unpacked.dataset(flattened: true).notes == unpacked.notes)
        // The archive downloaded again: it is newer, and read.
        try modify(archive, 120)
        let downloaded = try MNISTFormat.load(.test, from: directory.path, as: Float.self)
        #expect(downloaded.images.scalars == [0, 1, 0, 1])
        #expect(downloaded.notes == ["\(both): read t10k-images-idx3-ubyte.gz, the more recently modified (t10k-images-idx3-ubyte is older)"])
        // Modified at the same time: the archive, as before, said.
        try modify(raw, 120)
        let same = try MNISTFormat.load(.test, from: directory.path, as: Float.self)
        #expect(same.images.scalars == [0, 1, 0, 1])
        #expect(same.notes == ["\(both): read t10k-images-idx3-ubyte.gz (both were modified at the same time)"])
        // One spelling only: no note.
        try FileManager.default.removeItem(atPath: archive)
        #expect(try MNISTFormat.load(.test, from: directory.path, as: Float.self).notes.isEmpty)
    }

    @Test("raw (uncompressed) files load as images [N, 1, H, W] with their labels")
    func rawFiles() throws {
        let directory = try mnistDirectory(
            images: idxBytes(type: 0x08, shape: [2, 2, 2], payload: [0, 255, 51, 102, 0, 0, 0, 255]),
            labels: idxBytes(type: 0x08, shape: [2], payload: [3, 1]))
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = try MNISTFormat.load(.test, from: directory.path, classNames: ["a", "b", "c", "d"], as: Double.self)
        #expect(data.images == Tensor(shape: [2, 1, 2, 2], scalars: [0, 1, 0.2, 0.4, 0, 0, 0, 1]))
        let dataset = data.dataset(flattened: true)
        #expect(dataset.features.shape == [2, 4])
        guard case .classes(let labels, let classes) = dataset.targets else { Issue.record("no classes"); return }
        #expect(labels == [3, 1] && classes.names == ["a", "b", "c", "d"])
    }

    @Test("label count ≠ image count is a typed error naming both files")
    func countMismatch() throws {
        let directory = try mnistDirectory(
            images: idxBytes(type: 0x08, shape: [2, 1, 1], payload: [0, 0]),
            labels: idxBytes(type: 0x08, shape: [3], payload: [0, 1, 2]))
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = #expect(throws: DatasetError.self) { try MNISTFormat.load(.test, from: directory.path, as: Float.self) }
        #expect(error?.description.contains("has 3 labels but") == true)
        #expect(error?.description.contains("t10k-images-idx3-ubyte has 2 images") == true)
    }

    @Test("a label outside the named classes is a typed error naming it; without names the labels found are the classes")
    func labelOutOfRange() throws {
        let directory = try mnistDirectory(
            images: idxBytes(type: 0x08, shape: [2, 1, 1], payload: [0, 0]),
            labels: idxBytes(type: 0x08, shape: [2], payload: [9, 10]))
        defer { try? FileManager.default.removeItem(at: directory) }
        let names = MNISTFormat.fashionMNISTClassNames
        let error = #expect(throws: DatasetError.self) {
            try MNISTFormat.load(.test, from: directory.path, classNames: names, as: Float.self)
        }
        #expect(error?.description.contains("label '10' is neither one of the 10 class names nor an index 0..<10") == true,
                "\(error?.description ?? "")")
        let found = try MNISTFormat.load(.test, from: directory.path, as: Float.self)
        #expect(found.classNames == ["9", "10"] && found.labels == [0, 1])
    }

    @Test("a folder's classes are its training labels: a test label that no training image has is one line naming it and how many; test labels a subset of them load")
    func testLabelNotInTraining() throws {
        let directory = try mnistDirectory(
            images: idxBytes(type: 0x08, shape: [4, 1, 1], payload: [0, 1, 2, 3]),
            labels: idxBytes(type: 0x08, shape: [4], payload: [3, 7, 3, 7]), split: "train")
        defer { try? FileManager.default.removeItem(at: directory) }
        let testImages = directory.appendingPathComponent("t10k-images-idx3-ubyte"), testLabels = directory.appendingPathComponent("t10k-labels-idx1-ubyte")
        try idxBytes(type: 0x08, shape: [3, 1, 1], payload: [0, 1, 2]).write(to: testImages)
        try idxBytes(type: 0x08, shape: [3], payload: [9, 7, 9]).write(to: testLabels)
        #expect(throws: DatasetError.mismatch("\(testLabels.path): 2 test images with label 9, which no training image has (the training labels: 3, 7)")) {
            _ = try MNISTFormat.loadSplits(from: directory.path, as: Float.self)
        }
        // Label 1 must not be read as an index into the training classes.
        try idxBytes(type: 0x08, shape: [3], payload: [1, 3, 9]).write(to: testLabels)
        #expect(throws: DatasetError.mismatch("\(testLabels.path): 2 test images with labels 1, 9, which no training image has (the training labels: 3, 7)")) {
            _ = try MNISTFormat.loadSplits(from: directory.path, as: Float.self)
        }
        try idxBytes(type: 0x08, shape: [3], payload: [7, 7, 7]).write(to: testLabels)
        let (training, test) = try MNISTFormat.loadSplits(from: directory.path, as: Float.self)
        #expect(training.classNames == ["3", "7"] && test.classNames == ["3", "7"])
        #expect(training.labels == [0, 1, 0, 1] && test.labels == [1, 1, 1])
    }

    @Test("a folder without MNIST-format files says so, and what it holds: image files, nothing, or other files")
    func notAnMNISTFolder() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("not-mnist-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("cat"), withIntermediateDirectories: true)
        let expected = "\(directory.path) is not an MNIST-format folder (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz): "
        #expect(throws: DatasetError.mismatch(expected + "it has none of them")) { _ = try MNISTFormat.loadSplits(from: directory.path, as: Float.self) }
        for name in ["cat/1.png", "cat/2.PNG", "3.jpg"] { try Data([0]).write(to: directory.appendingPathComponent(name)) }
        #expect(throws: DatasetError.mismatch(expected + "it holds 3 image files (PNG, JPEG, …), which are not read: convert them to IDX files, or to a CSV of pixel values with a label column")) {
            _ = try MNISTFormat.load(.test, from: directory.path, as: Float.self)
        }
        // With some of its files, a missing one is named.
        try Data([0]).write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
        #expect(throws: DatasetError.mismatch("\(directory.path) has no t10k-images-idx3-ubyte (nor t10k-images-idx3-ubyte.gz): the test split of an MNIST-format folder")) {
            _ = try MNISTFormat.load(.test, from: directory.path, as: Float.self)
        }
    }

    @Test("a split read with a model's class names: labels by name, indices when no label is a name, and labels only partly among the names refused")
    func labelsAgainstGivenNames() throws {
        let directory = try mnistDirectory(
            images: idxBytes(type: 0x08, shape: [4, 1, 1], payload: [0, 1, 2, 3]),
            labels: idxBytes(type: 0x08, shape: [4], payload: [0, 1, 1, 0]))
        defer { try? FileManager.default.removeItem(at: directory) }
        let labels = directory.appendingPathComponent("t10k-labels-idx1-ubyte").path
        // A model whose classes are the labels 0 and 5: label 1 is not class 5.
        #expect(throws: DatasetError.mismatch("\(labels): label '1' is not one of the 2 class names (0, 5), though other labels are")) {
            _ = try MNISTFormat.load(.test, from: directory.path, classNames: ["0", "5"], as: Float.self)
        }
        #expect(try MNISTFormat.load(.test, from: directory.path, classNames: ["1", "0"], as: Float.self).labels == [1, 0, 0, 1])
        #expect(try MNISTFormat.load(.test, from: directory.path, classNames: ["cat", "dog"], as: Float.self).labels == [0, 1, 1, 0])
    }

    @Test("images of the wrong type or rank, and a wrong magic number in a file, are typed errors")
    func wrongArrays() throws {
        let floats = try mnistDirectory(
            images: idxBytes(type: 0x0D, shape: [1, 1, 1], payload: [0, 0, 0, 0]),
            labels: idxBytes(type: 0x08, shape: [1], payload: [0]))
        defer { try? FileManager.default.removeItem(at: floats) }
        #expect(throws: DatasetError.self) { try MNISTFormat.load(.test, from: floats.path, as: Float.self) }
        let badMagic = try mnistDirectory(images: Data([0, 1, 8, 3, 0, 0, 0, 0]), labels: Data())
        defer { try? FileManager.default.removeItem(at: badMagic) }
        let error = #expect(throws: DatasetError.self) { try MNISTFormat.load(.test, from: badMagic.path, as: Float.self) }
        #expect(error == .badMagic(file: badMagic.appendingPathComponent("t10k-images-idx3-ubyte").path, found: 0x0001_0803))
    }

    @Test("loading the 60 000 training images (figure printed; not a timed assertion)")
    func trainingLoadTime() throws {
        let start = Date()
        let train = try MNISTFormat.load(.training, as: Float.self)
        let seconds = Date().timeIntervalSince(start)
        #expect(train.images.shape == [60_000, 1, 28, 28])
        print("Fashion-MNIST training set (60 000 images, gzip) loaded in \(String(format: "%.3f", seconds)) s")
    }
}
