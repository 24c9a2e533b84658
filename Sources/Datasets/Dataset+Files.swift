import Tensors

extension Dataset {
    /// Features from one `.npy` array `[N, …]` (any supported type, converted) and
    /// optional targets from another: integers are class labels (named by `classes`, or
    /// "0"…"K−1" for K = the largest label + 1), floating-point values are regression
    /// targets (`[N]` becomes `[N, 1]`).
    public init(features: NPYArray, targets: NPYArray? = nil, classes: ClassLabels? = nil,
                file: String = "NumPy data") throws(DatasetError) {
        guard features.shape.count >= 1 else {
            throw .mismatch("\(file): features need a batch dimension, got shape \(features.shape)")
        }
        let count = features.shape[0]
        var datasetTargets: DatasetTargets<Scalar>?
        if let targets {
            guard targets.shape.first == count else {
                throw .mismatch("\(file): \(count) examples but targets of shape \(targets.shape)")
            }
            if let labels = targets.integers {
                guard targets.shape.count == 1 else {
                    throw .mismatch("\(file): integer labels must be one per example, got shape \(targets.shape)")
                }
                let names = classes ?? ClassLabels(names: (0..<((labels.max() ?? -1) + 1)).map(String.init))
                if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= names.count }) {
                    throw .mismatch("\(file): label \(labels[bad]) of example \(bad) is outside the \(names.count) classes")
                }
                datasetTargets = .classes(labels, names)
            } else {
                let values: Tensor<Scalar> = targets.tensor()
                datasetTargets = .values(targets.shape.count == 1 ? values.reshaped(to: [count, 1]) : values)
            }
        }
        self.init(features: features.tensor(), targets: datasetTargets)
        if let bad = Scalar.firstNonFinite(self.features.scalars) {
            let perExample = max(self.features.count / max(count, 1), 1)
            throw .mismatch("\(file): the features of example \(bad / perExample) contain NaN or infinity")
        }
    }
}

extension ImageDataset {
    /// The images as a ``Dataset``: `[N, 1, height, width]`, or `[N, height·width]`
    /// when `flattened` (for fully connected networks), with their class labels.
    public func dataset(flattened: Bool = false) -> Dataset<Scalar> {
        Dataset(features: flattened ? flattenedImages : images,
                targets: .classes(labels, ClassLabels(names: classNames)))
    }
}
