import Foundation
import Tensors

enum FileContents {
    /// The bytes of the file at `path`, gzip-decompressed when they are compressed.
    static func read(_ path: String) throws(DatasetError) -> [UInt8] {
        if let problem = PlainErrors.unreadableFile(path) {
            throw problem == "no such file" ? .missingFile(path) : .unreadable(file: path, reason: problem)
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(file: path, reason: PlainErrors.reason(error))
        }
        return try Gzip.decompressIfNeeded(data, file: path)
    }
}
