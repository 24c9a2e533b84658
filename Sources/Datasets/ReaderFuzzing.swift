import Foundation
import Tensors

/// The data-file readers run on bytes of any content, the way coverage-guided fuzzing
/// (the `Fuzz/` package) and the replay of its corpus (`Tests/FuzzCorpus/`) drive them.
///
/// Each function reads `data` as a file of its kind would be read and converts every
/// value; it returns the number of values read, or throws a ``DatasetError`` with a
/// one-line message. No input stops the program.
public enum ReaderFuzzing {
    /// An IDX file, raw or gzip-compressed, read as integers and as `Float`.
    @discardableResult
    public static func idx(_ data: Data) throws(DatasetError) -> Int {
        let file = "fuzz.idx"
        let array = try IDXArray(bytes: Gzip.decompressIfNeeded(data, file: file), file: file)
        return (array.integers?.count ?? 0) + array.scalars(Float.self).count
    }

    /// A CSV file whose last column is the target, standardised per feature, as a
    /// `Dataset<Float>`.
    @discardableResult
    public static func csv(_ data: Data) throws(DatasetError) -> Int {
        let table = try CSVTable(data: data, file: "fuzz.csv")
        let dataset: Dataset<Float> = try CSVFormat.dataset(
            from: table, options: CSVOptions(target: .index(-1), preprocessing: .fit(.perFeature)))
        return dataset.features.scalars.count
    }

    /// A NumPy `.npy` file, read as a `Double` tensor and as integers.
    @discardableResult
    public static func npy(_ data: Data) throws(DatasetError) -> Int {
        let array = try NPYArray(data: data, file: "fuzz.npy")
        return array.tensor(Double.self).scalars.count + (array.integers?.count ?? 0)
    }
}
