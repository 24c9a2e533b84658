import Foundation
import Testing

// End-to-end tests of how `backprop` reads and writes a CSV file's cells and names, each
// on a small file written here with a known answer.

@Suite("backprop on your own CSV: cells and names")
struct CSVCellsTests {
    /// A failed `train`: exit 1, no crash, exactly `line` on standard error, no run directory.
    static func expectRefusal(_ text: String, target: String = "label", model: String = "2-4:relu-2:softmax", line: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("data.csv")
        try Data(text.utf8).write(to: file)
        let out = directory.appendingPathComponent("run")
        let run = try Run(["train", "--data", "csv:\(file.path)", "--target", target, "--model", model,
                           "--epochs", "1", "--out", out.path])
        #expect(run.status == 1 && !run.crashed, "\(run.output)\(run.error)", sourceLocation: sourceLocation)
        #expect(run.error == "backprop: \(file.path): \(line)\n", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: out.path), "a run directory was left", sourceLocation: sourceLocation)
    }

    @Test("two feature columns named 'a' are refused at train time, naming both indexes, and no run directory is left")
    func duplicateFeatureNames() throws {
        try Self.expectRefusal("a,a,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,0\n", model: "3-2:softmax",
                               line: "columns 0 and 1 are both named 'a'")
    }
}
