import ArgumentParser
import Datasets
import Foundation
import Tensors

/// Where data comes from, as the command line names it: `fashion-mnist`, a directory of
/// MNIST-format files, `csv:PATH`, `npy:FEATURES.npy[,TARGETS.npy]`, or (evaluate and
/// predict) a single IDX images file. Paths are recognised by what they are on disk.
enum DataSource: Equatable {
    case mnist(directory: String)
    case csv(path: String)
    case npy(features: String, targets: String?)
    case idxImages(path: String)
    /// A toy set of ``ToyData`` (`toy:spirals:5` for five arms).
    case toy(name: String, classes: Int)

    static let syntax = "'fashion-mnist', a directory of MNIST-format files, csv:PATH, npy:X.npy,y.npy or toy:NAME (\(ToyData.names.joined(separator: ", ")))"

    init(_ text: String, flag: String = "--data", allowsFeaturesOnly: Bool = false) throws {
        if text == "fashion-mnist" {
            self = .mnist(directory: MNISTFormat.fashionMNISTDirectory)
        } else if text.hasPrefix("csv:") {
            guard text.count > 4 else { throw ValidationError("\(flag): csv: needs a file name, as csv:PATH") }
            self = .csv(path: String(text.dropFirst(4)))
        } else if text.hasPrefix("toy:") {
            let parts = text.dropFirst(4).split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard ToyData.names.contains(parts[0]) else {
                throw ValidationError("\(flag): '\(parts[0])' is not a toy data set (\(ToyData.names.joined(separator: ", ")))")
            }
            guard parts.count == 1 || (parts.count == 2 && (Int(parts[1]) ?? 0) >= 2 && ["spirals", "blobs"].contains(parts[0])) else {
                throw ValidationError("\(flag): '\(text)': only spirals and blobs take a class count, as toy:spirals:K with K ≥ 2")
            }
            self = .toy(name: parts[0], classes: parts.count == 2 ? Int(parts[1])! : 3)
        } else if text.hasPrefix("npy:") {
            let files = text.dropFirst(4).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard files.count == 2 || (allowsFeaturesOnly && files.count == 1), !files.contains("") else {
                throw ValidationError("\(flag): npy: takes \(allowsFeaturesOnly ? "one or two files" : "two files"), features and targets: npy:X.npy,y.npy (got '\(text)')")
            }
            self = .npy(features: files[0], targets: files.count == 2 ? files[1] : nil)
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory) else {
                throw ValidationError("\(flag): '\(text)' does not exist; give \(Self.syntax)\(allowsFeaturesOnly ? ", or an IDX images file" : "")")
            }
            if isDirectory.boolValue {
                self = .mnist(directory: text)
            } else if allowsFeaturesOnly, !["csv", "tsv", "txt", "npy"].contains((text as NSString).pathExtension.lowercased()) {
                self = .idxImages(path: text)
            } else if (text as NSString).pathExtension.lowercased() == "npy" {
                throw ValidationError("\(flag): '\(text)' is a file; give \(Self.syntax) (NumPy arrays as npy:\(text)\(allowsFeaturesOnly ? "" : ",TARGETS.npy"))")
            } else {
                throw ValidationError("\(flag): '\(text)' is a file; give \(Self.syntax) (a CSV file as csv:\(text))")
            }
        }
    }

    /// Whether --task can choose the task: csv: and npy: data, whose targets may be read
    /// as classes or as values; an MNIST-format folder's or a toy set's are what they are.
    var acceptsTask: Bool {
        switch self {
        case .csv, .npy: return true
        case .mnist, .idxImages, .toy: return false
        }
    }
}

/// How data is read: flags of `train`, or what a saved model recorded.
struct DataReading {
    /// The target column of a CSV file (name or index); nil: the schema's.
    var target: String?
    var task: LearningTask?
    var classNames: [String]?
    /// Images become `[N, height·width]` for fully connected networks.
    var flatten: Bool
    /// The training data's schema, for validation, test and new data.
    var schema: DataSchema?
    /// The class names of the model to train, when it names its own: an MNIST-format
    /// folder's integer labels stand for them (without --class-names).
    var modelClassNames: [String]?
    /// Whether a CSV file without the target column is an error.
    var requiresTarget = true
    /// Whether an MNIST-format folder's test split is read with its training split (not
    /// when other test data is given).
    var readsTestSplit = true
    /// Toy data: examples in each split, noise (nil: the set's own), and the seed of the
    /// training split (the test split, and data for evaluate and predict, use the next).
    var toySamples = 400
    var toyNoise: Double?
    var toySeed: UInt64 = 0

    var targetColumn: CSVOptions.Column? {
        target.map { .nameOrIndex($0) }
    }
}

extension DataSource {
    /// The examples of this source: for MNIST-format folders the training split, with the
    /// test split beside it (`test`); other sources have no second part. With a schema
    /// (validation, test, new data), the folder's test split is the data, classes are
    /// mapped and standardisations applied as in training.
    func load(_ reading: DataReading) throws -> (data: Dataset<Float>, test: Dataset<Float>?) {
        var (data, test) = try loadRaw(reading)
        for note in data.notes + (test?.notes ?? []) {
            FileHandle.standardError.write(Data("backprop: note: \(note)\n".utf8))
        }
        if reading.flatten {
            data = data.flattened()
            test = test?.flattened()
        }
        if let schema = reading.schema {
            data = try schema.prepare(data)
            test = try test.map { try schema.prepare($0) }
        }
        return (data, test)
    }

    private func loadRaw(_ reading: DataReading) throws -> (data: Dataset<Float>, test: Dataset<Float>?) {
        let loaded = try loadEither(reading)
        // An MNIST-format folder's or a toy set's targets are what they are: --task cannot
        // turn class labels into values (csv: and npy: data take it as asked).
        if let asked = reading.task, reading.schema == nil, let found = loaded.data.task, found != asked, !acceptsTask {
            let name: String? = switch self {
            case .mnist(let directory): directory
            case .toy(let toy, _): "toy:\(toy)"
            default: nil
            }
            if let name {
                throw ValidationError("--task \(asked.rawValue): \(name)'s targets are \(found == .classification ? "class labels" : "values"), so its task is \(found.rawValue); --task applies to csv: and npy: data")
            }
        }
        return loaded
    }

    private func loadEither(_ reading: DataReading) throws -> (data: Dataset<Float>, test: Dataset<Float>?) {
        let schema = reading.schema
        switch self {
        case .mnist(let directory):
            let names = schema?.classes?.names ?? reading.classNames ?? reading.modelClassNames
            if schema != nil {
                return (try MNISTFormat.load(.test, from: directory, classNames: names, as: Float.self).dataset(), nil)
            }
            let (training, test) = reading.readsTestSplit
                ? try MNISTFormat.loadSplits(from: directory, classNames: names, as: Float.self)
                : (try MNISTFormat.load(.training, from: directory, classNames: names, as: Float.self), nil)
            var data = training.dataset()
            data.taskReason = MNISTFormat.isFashionMNIST(directory) && names == nil
                ? "Fashion-MNIST's labels" : "the folder's integer labels"
            return (data, test?.dataset())
        case .idxImages(let path):
            let images = try IDXArray(contentsOf: path)
            guard images.shape.count == 3, images.type == .uint8 else {
                throw ValidationError("--data: \(path) holds \(images.type) of shape \(images.shape), not unsigned-byte images [N, height, width]")
            }
            guard images.shape.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--data: \(path) holds images of shape \(images.shape): no pixels")
            }
            return (try Dataset(features: Tensor(shape: [images.shape[0], 1, images.shape[1], images.shape[2]],
                                                 scalars: images.pixels(Float.self)!)), nil)
        case .csv(let path):
            let options = schema?.csvOptions(target: reading.targetColumn, requiresTarget: reading.requiresTarget)
                ?? CSVOptions(target: reading.targetColumn, task: reading.task, classNames: reading.classNames)
            if schema == nil && options.target == nil {
                throw ValidationError("--data csv:\(path) needs --target COLUMN (a name or an index)")
            }
            if schema != nil && options.target == nil && reading.requiresTarget {
                throw ValidationError("--data csv:\(path): the model records no target column; give --target COLUMN")
            }
            return (try CSVFormat.load(path, options: options, as: Float.self), nil)
        case .toy(let name, let classes):
            let make = { (seed: UInt64) throws(DatasetError) in
                try ToyData.dataset(name, samples: reading.toySamples, noise: reading.toyNoise, classes: classes, seed: seed)
            }
            if schema != nil { return (try make(reading.toySeed &+ 1), nil) }
            return (try make(reading.toySeed), try make(reading.toySeed &+ 1))
        case .npy(let features, let targets):
            let data = try Dataset<Float>(
                features: NPYArray(contentsOf: features), targets: targets.map { try NPYArray(contentsOf: $0) },
                task: schema?.task ?? reading.task, classes: schema?.classes, classNames: reading.classNames,
                file: features, targetFile: targets ?? features)
            return (data, nil)
        }
    }
}

extension Dataset {
    /// Images `[N, 1, height, width]` as vectors `[N, height·width]` for fully connected
    /// networks; other data unchanged.
    func flattened() -> Dataset {
        guard features.rank > 2 else { return self }
        var result = self
        result.features = features.flattenedBatch()
        return result
    }
}

/// `--class-names`: names separated by commas, or a file with one name per line.
func parseClassNames(_ text: String) throws -> [String] {
    var isDirectory: ObjCBool = false
    let names: [String]
    if FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory), !isDirectory.boolValue {
        guard let contents = try? String(contentsOfFile: text, encoding: .utf8) else {
            throw ValidationError("--class-names: \(text) is not a readable UTF-8 text file")
        }
        names = contents.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    } else if !text.contains(",") {
        // One name alone is no list of classes: it names a file.
        throw ValidationError(isDirectory.boolValue ? "--class-names: \(text) is a directory, not a file of one name per line"
                                                    : "--class-names: \(text): no such file (give a file of one name per line, or names separated by commas)")
    } else {
        names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }
    guard !names.isEmpty, !names.contains("") else {
        throw ValidationError("--class-names: '\(text)' is not a comma-separated list of names or a file of one name per line")
    }
    guard Set(names).count == names.count else { throw ValidationError("--class-names: a name appears twice in '\(text)'") }
    return names
}
