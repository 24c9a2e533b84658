import CZlib
import Foundation

/// gzip decompression through zlib. Data that does not start with the gzip magic
/// bytes is returned as it is, so raw and compressed files read the same way.
enum Gzip {
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    static func decompressIfNeeded(_ data: Data, file: String) throws(DatasetError) -> Data {
        isCompressed(data) ? try decompress(data, file: file) : data
    }

    static func decompress(_ data: Data, file: String) throws(DatasetError) -> Data {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt(file: file, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        var input = [UInt8](data)
        let inputCount = input.count
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(inputCount)
            repeat {
                buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(out.baseAddress!, count: chunk - Int(stream.avail_out))
                }
            } while status == Z_OK
        }
        guard status == Z_STREAM_END else {
            let reason = status == Z_BUF_ERROR ? "the gzip stream is truncated" : "the gzip data is corrupt (zlib status \(status))"
            throw .corrupt(file: file, reason: reason)
        }
        return output
    }
}
