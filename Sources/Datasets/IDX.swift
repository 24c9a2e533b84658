import Foundation
import Tensors

/// The IDX format of MNIST and Fashion-MNIST, raw or gzip-compressed: two zero bytes,
/// a type code, the number of dimensions, each dimension as a big-endian UInt32, then
/// the values in row-major order (big-endian for multi-byte types).
public struct IDXArray: Sendable, Equatable {
    public enum ElementType: UInt8, Sendable {
        case uint8 = 0x08, int8 = 0x09, int16 = 0x0B, int32 = 0x0C, float32 = 0x0D, float64 = 0x0E

        var size: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16: return 2
            case .int32, .float32: return 4
            case .float64: return 8
            }
        }
    }

    public let shape: [Int]
    public let type: ElementType
    /// The data bytes after the header, as stored (big-endian).
    let payload: ArraySlice<UInt8>

    /// Reads an IDX file (gzip or raw).
    public init(contentsOf path: String) throws(DatasetError) {
        try self.init(bytes: FileContents.read(path), file: path)
    }

    /// Parses the bytes of an (uncompressed) IDX file.
    public init(data: Data, file: String = "IDX data") throws(DatasetError) {
        try self.init(bytes: [UInt8](data), file: file)
    }

    init(bytes: [UInt8], file: String) throws(DatasetError) {
        guard bytes.count >= 4 else { throw .corrupt(file: file, reason: "file is shorter than an IDX header") }
        let magic = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        guard bytes[0] == 0, bytes[1] == 0, let type = ElementType(rawValue: bytes[2]), bytes[3] >= 1 else {
            throw .badMagic(file: file, found: magic)
        }
        let rank = Int(bytes[3])
        let headerSize = 4 + 4 * rank
        guard bytes.count >= headerSize else {
            throw .corrupt(file: file, reason: "header declares \(rank) dimensions but the file ends first")
        }
        let shape = (0..<rank).map { d in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) }
        }
        let (count, overflow) = shape.reduce((1, false)) { acc, n in
            let (p, o) = acc.0.multipliedReportingOverflow(by: n)
            return (p, acc.1 || o)
        }
        let expected = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, !expected.overflow, bytes.count - headerSize == expected.partialValue else {
            throw .corrupt(file: file, reason: "header shape \(shape) needs \(overflow ? "too many" : String(expected.partialValue)) bytes of data, file has \(bytes.count - headerSize)")
        }
        self.shape = shape
        self.type = type
        self.payload = bytes[headerSize...]
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values as integers (labels); nil for floating-point files.
    public var integers: [Int]? {
        switch type {
        case .uint8: return payload.map { Int($0) }
        case .int8: return payload.map { Int(Int8(bitPattern: $0)) }
        case .int16: return (0..<count).map { Int(Int16(bitPattern: UInt16(word($0, 2)))) }
        case .int32: return (0..<count).map { Int(Int32(bitPattern: UInt32(word($0, 4)))) }
        case .float32, .float64: return nil
        }
    }

    /// Unsigned bytes as pixel values in [0, 1] (each divided by 255, as NumPy's `x / 255`),
    /// in Float or Double; nil for other types.
    public func pixels<S: TensorScalar>(_: S.Type = S.self) -> [S]? {
        type == .uint8 ? ScalarArrays.pixels(payload, as: S.self) : nil
    }

    /// The values scaled by `scale`, in Float or Double.
    public func scalars<S: TensorScalar>(_: S.Type = S.self, scale: Double = 1) -> [S] {
        ScalarArrays.make(S.self, floats: { floats(scale: Float(scale)) }, doubles: { doubles(scale: scale) })
    }

    private func floats(scale: Float) -> [Float] {
        type == .uint8 ? scaledBytes(scale) : doubles(scale: Double(scale)).map { Float($0) }
    }

    private func doubles(scale: Double) -> [Double] {
        switch type {
        case .uint8: return scaledBytes(scale)
        case .int8, .int16, .int32: return integers!.map { Double($0) * scale }
        case .float32: return (0..<count).map { Double(Float(bitPattern: UInt32(word($0, 4)))) * scale }
        case .float64: return (0..<count).map { Double(bitPattern: word($0, 8)) * scale }
        }
    }

    /// Unsigned bytes times `scale`, in one vectorisable pass.
    private func scaledBytes<T: BinaryFloatingPoint>(_ scale: T) -> [T] {
        [T](unsafeUninitializedCapacity: payload.count) { out, initialized in
            payload.withUnsafeBufferPointer { bytes in
                for i in bytes.indices { out[i] = T(bytes[i]) * scale }
            }
            initialized = payload.count
        }
    }

    private func word(_ i: Int, _ size: Int) -> UInt64 {
        (0..<size).reduce(0) { $0 << 8 | UInt64(payload[payload.startIndex + i * size + $1]) }
    }
}
