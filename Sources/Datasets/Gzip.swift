import CZlib
import Foundation

/// gzip decompression through zlib. Data that does not start with the gzip magic
/// bytes is returned as it is, so raw and compressed files read the same way.
enum Gzip {
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    static func decompressIfNeeded(_ data: Data, file: String) throws(DatasetError) -> [UInt8] {
        isCompressed(data) ? try decompress(data, file: file) : [UInt8](data)
    }

    /// Decompresses every member of a gzip file (RFC 1952 §2.2: a file is a series of
    /// members, and `gunzip` reads them all); zero bytes after the last member are padding.
    static func decompress(_ data: Data, file: String) throws(DatasetError) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt(file: file, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(expectedSize(data))
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        var members = 0
        var rest: Data.SubSequence = data[...]
        while true {
            rest.withUnsafeBytes { source in
                // zlib reads `next_in` only; its type is mutable for historical reasons.
                stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(source.count)
                repeat {
                    buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = uInt(chunk)
                        status = inflate(&stream, Z_NO_FLUSH)
                        output.append(contentsOf: out.prefix(chunk - Int(stream.avail_out)))
                    }
                } while status == Z_OK
            }
            guard status == Z_STREAM_END else {
                let reason = status == Z_BUF_ERROR ? "the gzip stream is truncated" : "the gzip data is corrupt (zlib status \(status))"
                throw .corrupt(file: file, reason: members == 0 ? reason : "member \(members + 1): \(reason)")
            }
            members += 1
            rest = rest.suffix(Int(stream.avail_in))
            if rest.allSatisfy({ $0 == 0 }) { return output }
            guard isCompressed(Data(rest.prefix(2))) else {
                throw .corrupt(file: file, reason: "\(rest.count) bytes after the end of the gzip data are not another gzip member")
            }
            guard inflateReset(&stream) == Z_OK else { throw .corrupt(file: file, reason: "zlib could not restart") }
        }
    }

    /// The uncompressed size from the gzip trailer (modulo 2³²), bounded by deflate's
    /// largest ratio so that a damaged trailer cannot reserve much memory.
    private static func expectedSize(_ data: Data) -> Int {
        guard data.count >= 18 else { return 0 }
        let trailer = data.suffix(4)
        let size = trailer.reversed().reduce(0) { $0 << 8 | Int($1) }
        return min(size, data.count * 1032)
    }
}
