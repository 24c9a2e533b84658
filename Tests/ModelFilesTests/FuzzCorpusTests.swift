import Foundation
import ModelFiles
import Testing

/// Replays the corpus that coverage-guided fuzzing keeps (`Tests/FuzzCorpus/<reader>/`,
/// grown by `Fuzz/run.sh <reader>`) through the same reader calls as the fuzzers: every
/// input is read, or refused with a ``ModelFileError`` whose message is one line; none may
/// stop the program.
@Suite("Fuzz corpus replay: model files")
struct ModelFileCorpusTests {
    @Test("safetensors, every tensor read")
    func safeTensors() throws {
        let accepted = try replayCorpus("safetensors") { data throws(ModelFileError) in
            try ModelFileFuzzing.safeTensors(data)
        }
        #expect(accepted > 0, "no input of the corpus is read (its seeds are valid files)")
    }

    @Test("model.json architectures, built into models")
    func architecture() throws {
        let accepted = try replayCorpus("architecture") { data throws(ModelFileError) in
            try ModelFileFuzzing.architecture(data)
        }
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
