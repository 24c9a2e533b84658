import Foundation
import Tensors

/// A set of labelled images in MNIST's files: `train-images-idx3-ubyte(.gz)`,
/// `train-labels-idx1-ubyte(.gz)`, `t10k-images-…`, `t10k-labels-…`.
public struct ImageDataset<Scalar: TensorScalar> {
    /// `[N, 1, height, width]` pixels scaled to [0, 1].
    public let images: Tensor<Scalar>
    public let labels: [Int]
    public let classNames: [String]

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

    /// Reads one split of an MNIST-format directory. Class names default to
    /// Fashion-MNIST's when there are ten classes, else to the digits.
    public static func load<S: TensorScalar>(
        _ split: Split, from directory: String = fashionMNISTDirectory,
        classNames: [String]? = nil, as _: S.Type = S.self
    ) throws(DatasetError) -> ImageDataset<S> {
        let imagesFile = try locate("\(split.rawValue)-images-idx3-ubyte", in: directory)
        let labelsFile = try locate("\(split.rawValue)-labels-idx1-ubyte", in: directory)
        let images = try IDXArray(contentsOf: imagesFile)
        let labels = try IDXArray(contentsOf: labelsFile)
        guard images.shape.count == 3, images.type == .uint8 else {
            throw .mismatch("\(imagesFile): expected unsigned-byte images [N, height, width], found \(images.type) \(images.shape)")
        }
        guard labels.shape.count == 1, let labelValues = labels.integers else {
            throw .mismatch("\(labelsFile): expected integer labels [N], found \(labels.type) \(labels.shape)")
        }
        guard labels.shape[0] == images.shape[0] else {
            throw .mismatch("\(labelsFile) has \(labels.shape[0]) labels but \(imagesFile) has \(images.shape[0]) images")
        }
        let names = classNames ?? fashionMNISTClassNames
        if let bad = labelValues.firstIndex(where: { $0 < 0 || $0 >= names.count }) {
            throw .mismatch("\(labelsFile): label \(labelValues[bad]) of image \(bad) is outside the \(names.count) classes")
        }
        let shape = [images.shape[0], 1, images.shape[1], images.shape[2]]
        return ImageDataset(
            images: Tensor(shape: shape, scalars: images.scalars(S.self, scale: 1.0 / 255)),
            labels: labelValues, classNames: names)
    }

    /// `name.gz` or `name` in `directory`.
    static func locate(_ name: String, in directory: String) throws(DatasetError) -> String {
        for candidate in ["\(name).gz", name] {
            let path = (directory as NSString).appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw .missingFile((directory as NSString).appendingPathComponent("\(name).gz"))
    }
}
