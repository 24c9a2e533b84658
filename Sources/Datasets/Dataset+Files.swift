import Tensors

extension Dataset {
    /// Features from one `.npy` array `[N, …]` (any supported type, converted) and
    /// optional targets from another. Without `task`, integers are class labels and
    /// floating-point values are regression targets (`[N]` becomes `[N, 1]`). Classes are
    /// `classes` (the training data's: labels map by name), or `classNames` for labels
    /// 0..<K, or the distinct labels found, named by their numbers.
    ///
    /// Features of unsigned bytes (`uint8`) are pixel values: divided by 255 to [0, 1], as
    /// IDX images are, with a note saying so.
    ///
    /// Targets `[N, K]` (K ≥ 2) whose every row holds one 1 and K − 1 zeros are one-hot
    /// labels, unless `task` is regression: K classes, each example's the position of its
    /// 1 (class i is `classes`' or `classNames`' i-th, or named `i`), with a note saying so.
    public init(features: NPYArray, targets: NPYArray? = nil, task: LearningTask? = nil,
                classes: ClassLabels? = nil, classNames: [String]? = nil,
                file: String = "NumPy data", targetFile: String = "NumPy targets") throws(DatasetError) {
        guard features.shape.count >= 2 else {
            throw .mismatch("\(file): features need a batch dimension and at least one feature, got shape \(features.shape) (a single feature is shape (N, 1))")
        }
        let count = features.shape[0]
        var datasetTargets: DatasetTargets<Scalar>?
        var reason: String?
        var readingNotes: [String] = []
        let pixels: Tensor<Scalar>? = features.pixels()
        if pixels != nil {
            readingNotes.append("\(file): unsigned bytes (uint8), read as pixel values: divided by 255 to [0, 1], as IDX images are")
        }
        if let targets {
            guard targets.shape.first == count else {
                throw .mismatch("\(targetFile): \(count) examples in \(file) but targets of shape \(targets.shape)")
            }
            let integers = targets.integers ?? (task == .classification ? Self.integralValues(targets) : nil)
            let chosen = task ?? (classes != nil || classNames != nil || integers != nil ? .classification : .regression)
            if task == nil {
                reason = "\(targetFile) holds \(integers != nil ? "integers: class labels" : "floating-point values")"
            }
            if task != .regression, let positions = Self.oneHotPositions(targets) {
                let width = targets.shape[1]
                let names = try Self.oneHotClasses(width, classes: classes, classNames: classNames, targetFile: targetFile)
                datasetTargets = .classes(positions, names)
                if task == nil { reason = "\(targetFile) holds one-hot rows: \(width) classes" }
                readingNotes.append("\(targetFile): every row is one-hot (one 1, the rest 0): read as \(width) classes, each example's class the position of its 1 (--task regression reads the \(width) columns as values)")
            } else if chosen == .classification {
                guard let labels = integers, targets.shape.count == 1 || targets.shape == [count, 1] else {
                    throw .mismatch("\(targetFile): class labels must be one integer per example, got \(targets.dataType) of shape \(targets.shape)")
                }
                let texts = labels.map(String.init)
                let (names, lookup): (ClassLabels, [String: Int])
                if let classes {
                    (names, lookup) = (classes, try classes.lookup(fileLabels: texts, file: targetFile))
                } else {
                    (names, lookup) = try ClassLabels.mapping(labels: texts, names: classNames, file: targetFile)
                    if let classNames, let note = ClassLabels.sortedIntegersNote(labels: texts, names: classNames, file: targetFile) {
                        readingNotes.append(note)
                    }
                }
                var indices: [Int] = []
                indices.reserveCapacity(count)
                for (example, text) in texts.enumerated() {
                    guard let index = lookup[text] else {
                        throw .mismatch("\(targetFile): label \(text) of example [\(example)] (counting from 0) is not one of the \(names.count) classes (\(ClassLabels.shownList(names.names)))")
                    }
                    indices.append(index)
                }
                datasetTargets = .classes(indices, names)
            } else {
                guard targets.shape.count <= 2, targets.shape.dropFirst().allSatisfy({ $0 > 0 }) else {
                    throw .mismatch("\(targetFile): regression targets must be [N] or [N, k], got shape \(targets.shape)")
                }
                let values: Tensor<Scalar> = targets.tensor()
                datasetTargets = .values(targets.shape.count == 1 ? values.reshaped(to: [count, 1]) : values)
            }
        }
        do {
            try self.init(features: pixels ?? features.tensor(), targets: datasetTargets)
        } catch .nonFiniteData(let what, let example) {
            // Named as NumPy indexes the array: example 1 is the second, [1].
            throw .mismatch("\(what == "features" ? file : targetFile): the \(what) of example [\(example)] (counting from 0) hold NaN or infinity")
        }
        taskReason = reason
        notes = readingNotes
    }

    /// The position of each row's 1 when `array` is `[N, K]` (N ≥ 1, K ≥ 2) and every row
    /// holds one 1 and K − 1 zeros; nil otherwise.
    private static func oneHotPositions(_ array: NPYArray) -> [Int]? {
        guard array.shape.count == 2, array.shape[0] > 0, array.shape[1] >= 2 else { return nil }
        let width = array.shape[1]
        let values: [Double] = array.tensor().scalars
        var positions: [Int] = []
        positions.reserveCapacity(array.shape[0])
        for row in stride(from: 0, to: values.count, by: width) {
            var position: Int?
            for column in 0..<width {
                let value = values[row + column]
                if value == 1 && position == nil { position = column } else if value != 0 { return nil }
            }
            guard let position else { return nil }
            positions.append(position)
        }
        return positions
    }

    /// The classes of one-hot rows of `width` columns: `classes` (a model's) or
    /// `classNames`, which must be `width`, or `0..<width` named by their numbers.
    private static func oneHotClasses(_ width: Int, classes: ClassLabels?, classNames: [String]?, targetFile: String)
        throws(DatasetError) -> ClassLabels
    {
        if let classes {
            guard classes.count == width else {
                throw .mismatch("\(targetFile): one-hot rows of \(width) columns, but the model has \(classes.count) classes")
            }
            return classes
        }
        guard let classNames else { return ClassLabels(count: width) }
        let names = try ClassLabels(validating: classNames, source: "\(targetFile): the class names")
        guard names.count == width else {
            throw .mismatch("\(targetFile): one-hot rows of \(width) columns, but \(names.count) class names")
        }
        return names
    }

    /// The values of a floating-point array when every one is an integer.
    private static func integralValues(_ array: NPYArray) -> [Int]? {
        let values: [Double] = array.tensor().scalars
        guard values.allSatisfy({ $0.rounded() == $0 && Swift.abs($0) < 1e15 }) else { return nil }
        return values.map { Int($0) }
    }
}

extension ImageDataset {
    /// The images as a ``Dataset``: `[N, 1, height, width]`, or `[N, height·width]`
    /// when `flattened` (for fully connected networks), with their class labels and the
    /// reader's notes.
    public func dataset(flattened: Bool = false) -> Dataset<Scalar> {
        var data = Dataset(unchecked: flattened ? flattenedImages : images, .classes(labels, ClassLabels(names: classNames)))
        data.notes = notes
        return data
    }
}
