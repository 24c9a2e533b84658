import Datasets
import Foundation
import Testing

/// Replays the corpus that coverage-guided fuzzing keeps (`Tests/FuzzCorpus/<reader>/`,
/// grown by `Fuzz/run.sh <reader>`) through the same reader calls as the fuzzers: every
/// input is read, or refused with a ``DatasetError`` whose message is one line; none may
/// stop the program.
@Suite("Fuzz corpus replay: data files")
struct DataFileCorpusTests {
    @Test("IDX, raw and gzip-compressed")
    func idx() throws {
        let accepted = try replayCorpus("idx") { data throws(DatasetError) in try ReaderFuzzing.idx(data) }
        #expect(accepted > 0, "no input of the corpus is read (its seeds are valid files)")
    }

    @Test("CSV, as a Dataset<Float> with the last column as target")
    func csv() throws {
        let accepted = try replayCorpus("csv") { data throws(DatasetError) in try ReaderFuzzing.csv(data) }
        #expect(accepted > 0, "no input of the corpus is read (its seeds are valid files)")
    }

    @Test("NumPy .npy")
    func npy() throws {
        let accepted = try replayCorpus("npy") { data throws(DatasetError) in try ReaderFuzzing.npy(data) }
        #expect(accepted > 0, "no input of the corpus is read (its seeds are valid files)")
    }
}

/// Runs `read` on every file of `Tests/FuzzCorpus/<reader>/`, expecting a value or a
/// one-line error, and returns how many were read; a missing or empty directory fails.
func replayCorpus<Failure: Error & CustomStringConvertible>(
    _ reader: String, sourceFile: String = #filePath, _ read: (Data) throws(Failure) -> Int
) throws -> Int {
    let directory = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus").appendingPathComponent(reader)
    let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        .filter { !$0.lastPathComponent.hasPrefix(".") }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
    try #require(!files.isEmpty, "the fuzz corpus \(directory.path) is empty")
    var accepted = 0
    for file in files {
        let data = try Data(contentsOf: file)
        do {
            _ = try read(data)
            accepted += 1
        } catch {
            #expect(!error.description.contains("\n"), "\(reader)/\(file.lastPathComponent): \(error)")
        }
    }
    return accepted
}
