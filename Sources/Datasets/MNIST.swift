import Foundation
import Tensors

/// A set of labelled images in MNIST's files: `train-images-idx3-ubyte(.gz)`,
/// `train-labels-idx1-ubyte(.gz)`, `t10k-images-…`, `t10k-labels-…`.
public struct ImageDataset<Scalar: TensorScalar> {
    /// `[N, 1, height, width]` pixels scaled to [0, 1].
    public let images: Tensor<Scalar>
    public let labels: [Int]
    public let classNames: [String]
    /// What the reader decided that its user should be told (which of two copies of a
    /// file it read), one line each; ``dataset(flattened:)`` passes them on.
    public var notes: [String] = []

    public var count: Int { labels.count }

    /// The images flattened to `[N, height·width]` for fully connected networks.
    public var flattenedImages: Tensor<Scalar> {
        images.reshaped(to: [count, images.count / max(count, 1)])
    }
}

/// MNIST-format data sets: Fashion-MNIST from Debian's `dataset-fashion-mnist` by
/// default, or any directory of MNIST-format files.
public enum MNISTFormat {
    /// Where Debian's package `dataset-fashion-mnist` puts the files.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    public enum Split: String, Sendable {
        case training = "train", test = "t10k"
    }

    /// Whether `directory` is where Debian puts Fashion-MNIST (the only folder whose
    /// classes are named after Fashion-MNIST's without being told).
    public static func isFashionMNIST(_ directory: String) -> Bool {
        URL(fileURLWithPath: directory).standardizedFileURL.path == fashionMNISTDirectory
    }

    /// Reads one split of an MNIST-format directory. The classes come from the data:
    /// `classNames` when given (label i is class i, or labels that are the names' own
    /// numbers map by name), Fashion-MNIST's names for Fashion-MNIST's folder, otherwise
    /// the distinct labels found, named by their numbers in numeric order.
    public static func load<S: TensorScalar>(
        _ split: Split, from directory: String = fashionMNISTDirectory,
        classNames: [String]? = nil, as _: S.Type = S.self
    ) throws(DatasetError) -> ImageDataset<S> {
        let (images, labels, file, notes) = try read(split, from: directory)
        let names = classNames ?? (isFashionMNIST(directory) ? fashionMNISTClassNames : nil)
        return try labelled(images, labels, names: names, file: file, notes: notes)
    }

    /// Both splits of an MNIST-format directory with one class mapping: the training
    /// split's distinct labels unless `classNames` (or Fashion-MNIST's folder) names them.
    /// Without names, a test label that no training image has throws
    /// ``DatasetError/mismatch(_:)`` naming it.
    public static func loadSplits<S: TensorScalar>(
        from directory: String = fashionMNISTDirectory, classNames: [String]? = nil, as _: S.Type = S.self
    ) throws(DatasetError) -> (training: ImageDataset<S>, test: ImageDataset<S>) {
        let training = try read(.training, from: directory)
        let test = try read(.test, from: directory)
        guard training.images.shape[1...] == test.images.shape[1...] else {
            throw .mismatch("\(directory): training images are \(training.images.shape[1])×\(training.images.shape[2]), test images \(test.images.shape[1])×\(test.images.shape[2])")
        }
        var names = classNames ?? (isFashionMNIST(directory) ? fashionMNISTClassNames : nil)
        if names == nil {
            // The classes are the training split's labels: a label that only test images
            // have is a class no model trained here can learn.
            let learned = Set(training.labels)
            let unseen = Set(test.labels).subtracting(learned).sorted()
            if let first = unseen.first {
                let count = test.labels.filter { unseen.contains($0) }.count
                let named = unseen.count == 1 ? "label \(first)" : "labels \(unseen.prefix(10).map(String.init).joined(separator: ", "))"
                let trained = learned.sorted().prefix(20).map(String.init).joined(separator: ", ")
                throw .mismatch("\(test.file): \(count) test image\(count == 1 ? "" : "s") with \(named), which no training image has (the training labels: \(trained))")
            }
            names = ClassLabels(sorting: learned.map(String.init)).names
        }
        return (try labelled(training.images, training.labels, names: names, file: training.file, notes: training.notes),
                try labelled(test.images, test.labels, names: names, file: test.file, notes: test.notes))
    }

    /// The images and integer labels of one split, checked against each other, with a
    /// note for each file found in both spellings.
    private static func read(_ split: Split, from directory: String) throws(DatasetError)
        -> (images: IDXArray, labels: [Int], file: String, notes: [String])
    {
        let (imagesFile, imagesNote) = try locate("\(split.rawValue)-images-idx3-ubyte", in: directory)
        let (labelsFile, labelsNote) = try locate("\(split.rawValue)-labels-idx1-ubyte", in: directory)
        let images = try IDXArray(contentsOf: imagesFile)
        let labels = try IDXArray(contentsOf: labelsFile)
        guard images.shape.count == 3, images.type == .uint8 else {
            throw .mismatch("\(imagesFile): expected unsigned-byte images [N, height, width], found \(images.type) \(images.shape)")
        }
        guard images.shape[0] > 0, images.shape[1] > 0, images.shape[2] > 0 else {
            throw .mismatch("\(imagesFile): images of shape \(images.shape) hold no pixels")
        }
        guard labels.shape.count == 1, let labelValues = labels.integers else {
            throw .mismatch("\(labelsFile): expected integer labels [N], found \(labels.type) \(labels.shape)")
        }
        guard labels.shape[0] == images.shape[0] else {
            throw .mismatch("\(labelsFile) has \(labels.shape[0]) labels but \(imagesFile) has \(images.shape[0]) images")
        }
        return (images, labelValues, labelsFile, [imagesNote, labelsNote].compactMap { $0 })
    }

    /// Images scaled to [0, 1] with labels mapped to classes (see ``load(_:from:classNames:as:)``).
    private static func labelled<S: TensorScalar>(_ images: IDXArray, _ labels: [Int], names: [String]?, file: String,
                                                  notes: [String]) throws(DatasetError) -> ImageDataset<S>
    {
        let (classes, lookup) = try ClassLabels.mapping(labels: labels.map(String.init), names: names, file: file)
        let shape = [images.shape[0], 1, images.shape[1], images.shape[2]]
        return ImageDataset(
            images: Tensor(shape: shape, scalars: images.pixels(S.self)!),
            labels: labels.map { lookup[String($0)]! }, classNames: classes.names, notes: notes)
    }

    /// `name.gz` or `name` in `directory`. When both are there, the more recently
    /// modified one (the `.gz` when they were modified at the same time), with a note
    /// naming which was read: a file unpacked or rewritten beside its archive is newer
    /// than the archive, and an archive downloaded again is newer than what was unpacked.
    static func locate(_ name: String, in directory: String) throws(DatasetError) -> (path: String, note: String?) {
        let manager = FileManager.default
        let compressed = (directory as NSString).appendingPathComponent("\(name).gz")
        let raw = (directory as NSString).appendingPathComponent(name)
        switch (manager.fileExists(atPath: compressed), manager.fileExists(atPath: raw)) {
        case (true, true):
            func modified(_ path: String) -> Date {
                ((try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
            }
            let (rawDate, compressedDate) = (modified(raw), modified(compressed))
            let both = "\(directory) holds both \(name) and \(name).gz"
            if rawDate > compressedDate { return (raw, "\(both): read \(name), the more recently modified (\(name).gz is older)") }
            if rawDate < compressedDate { return (compressed, "\(both): read \(name).gz, the more recently modified (\(name) is older)") }
            return (compressed, "\(both): read \(name).gz (both were modified at the same time)")
        case (true, false): return (compressed, nil)
        case (false, true): return (raw, nil)
        case (false, false): break
        }
        // A folder with no MNIST-format file at all: say so, and what it holds instead.
        let contents = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
        if manager.fileExists(atPath: directory), !contents.contains(where: { $0.contains("-idx") }) {
            let imageExtensions: Set<String> = ["png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"]
            func isImage(_ file: String) -> Bool { imageExtensions.contains((file as NSString).pathExtension.lowercased()) }
            // Image files in the folder, or in its class subfolders one level down.
            let images = contents.reduce(0) { count, entry in
                let nested = (try? manager.contentsOfDirectory(atPath: (directory as NSString).appendingPathComponent(entry))) ?? []
                return count + (isImage(entry) ? 1 : 0) + nested.filter(isImage).count
            }
            let held = images > 0
                ? "it holds \(images) image file\(images == 1 ? "" : "s") (PNG, JPEG, …), which are not read: convert them to IDX files, or to a CSV of pixel values with a label column"
                : contents.isEmpty ? "it is empty" : "it has none of them"
            throw .mismatch("\(directory) is not an MNIST-format folder (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz): \(held)")
        }
        guard manager.fileExists(atPath: directory) else { throw .mismatch("\(directory): no such directory") }
        let split = name.hasPrefix("t10k") ? "test split" : "training split"
        throw .mismatch("\(directory) has no \(name) (nor \(name).gz): the \(split) of an MNIST-format folder")
    }
}
