import Foundation

enum FileContents {
    /// The bytes of the file at `path`, gzip-decompressed when they are compressed.
    static func read(_ path: String) throws(DatasetError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .unreadable(file: path, reason: error.localizedDescription)
        }
        return try Gzip.decompressIfNeeded(data, file: path)
    }
}
