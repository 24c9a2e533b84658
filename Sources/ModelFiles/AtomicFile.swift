import Foundation
import Tensors
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes that a crash cannot leave half done: the bytes go to a temporary file in the
/// same directory, are flushed to disk (fsync), and the file is renamed over the target
/// (atomic on POSIX file systems); the directory is then synced so the rename persists.
/// Readers see the old file or the new one, never a mixture.
public enum AtomicFile {
    /// Throws what ``write(_:to:)`` would throw before writing anything: `path` is a
    /// directory, or its directory does not exist. A command that prints its result and
    /// also writes it to a file checks first, so that a bad path fails before any output.
    public static func checkTarget(_ path: String) throws(ModelFileError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .cannotWrite(file: path, reason: "it is a directory")
        }
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .cannotWrite(file: path, reason: "the directory \(directory) does not exist")
        }
    }

    public static func write(_ data: Data, to path: String) throws(ModelFileError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        try checkTarget(path)
        var template = Array("\(directory)/.\(url.lastPathComponent).tmp-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw failure(path, "cannot create a temporary file in \(directory)") }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var isRenamed = false
        defer {
            if !isRenamed { unlink(temporary) }
        }
        let written = data.withUnsafeBytes { bytes in writeAll(descriptor, bytes) }
        let synced = written && fsync(descriptor) == 0
        guard close(descriptor) == 0, written, synced else { throw failure(path, "writing the temporary file failed") }
        // mkstemp makes the file private (0600); model files are ordinary files.
        chmod(temporary, 0o644)
        guard rename(temporary, path) == 0 else { throw failure(path, "cannot rename the temporary file into place") }
        isRenamed = true
        let directoryDescriptor = open(directory, O_RDONLY)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            offset += count
        }
        return true
    }

    private static func failure(_ path: String, _ reason: String) -> ModelFileError {
        .cannotWrite(file: path, reason: "\(reason): \(String(cString: strerror(errno)).lowercased())")
    }
}
