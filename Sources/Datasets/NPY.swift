import Foundation
import Tensors

/// A NumPy `.npy` array: the magic `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the
/// header's length (2 bytes in 1.0, 4 after), a header that is a Python dict literal
/// (`{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`), then the values.
///
/// Read and written: float32, float64, int32, int64 and uint8, little-endian, C order.
/// Anything else — object arrays (`'|O'`, pickled Python objects), Fortran order,
/// big-endian data — is refused with ``DatasetError/unsupported(file:reason:)``. The
/// header is parsed as data, never evaluated.
public struct NPYArray: Sendable, Equatable {
    public enum DataType: String, Sendable, CaseIterable {
        case float32 = "<f4", float64 = "<f8", int32 = "<i4", int64 = "<i8", uint8 = "|u1"

        public var size: Int {
            switch self {
            case .uint8: return 1
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            }
        }

        public var isInteger: Bool { self != .float32 && self != .float64 }
    }

    public let shape: [Int]
    public let dataType: DataType
    /// The values' bytes, little-endian, C order.
    let payload: [UInt8]

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads a `.npy` file (raw or gzip-compressed).
    public init(contentsOf path: String) throws(DatasetError) {
        try self.init(bytes: FileContents.read(path), file: path)
    }

    /// Parses the bytes of a `.npy` file.
    public init(data: Data, file: String = "NumPy data") throws(DatasetError) {
        try self.init(bytes: [UInt8](data), file: file)
    }

    init(bytes: [UInt8], file: String) throws(DatasetError) {
        guard bytes.count >= 10, bytes.starts(with: Self.magic) else {
            throw .badHeader(file: file, reason: "not a .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        guard (1...3).contains(major) else {
            throw .unsupported(file: file, reason: ".npy format version \(major).\(bytes[7]) (known: 1.0, 2.0, 3.0)")
        }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw .badHeader(file: file, reason: "the file ends inside the preamble") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let headerStart = 8 + lengthBytes
        guard headerLength <= bytes.count - headerStart else {
            throw .badHeader(file: file, reason: "header of \(headerLength) bytes is longer than the file")
        }
        let header = try NPYHeader(parsing: Array(bytes[headerStart..<(headerStart + headerLength)]), file: file)
        let dataStart = headerStart + headerLength
        let (count, overflow) = header.shape.reduce((1, false)) { acc, n in
            let (p, o) = acc.0.multipliedReportingOverflow(by: n)
            return (p, acc.1 || o)
        }
        let needed = count.multipliedReportingOverflow(by: header.dataType.size)
        guard !overflow, !needed.overflow, needed.partialValue == bytes.count - dataStart else {
            throw .corrupt(file: file, reason: "header shape \(header.shape) needs \(overflow || needed.overflow ? "too many" : String(needed.partialValue)) bytes of \(header.dataType) data, the file has \(bytes.count - dataStart)")
        }
        shape = header.shape
        dataType = header.dataType
        payload = Array(bytes[dataStart...])
    }

    /// A float32 (Float) or float64 (Double) array of the tensor's shape and values.
    public init<S: TensorScalar>(_ tensor: Tensor<S>) {
        shape = tensor.shape
        dataType = S.self == Float.self ? .float32 : .float64
        payload = S.self == Float.self || S.self == Double.self
            ? tensor.scalars.withUnsafeBytes { Array($0) }.littleEndianWords(size: dataType.size)
            : tensor.doubleScalars.withUnsafeBytes { Array($0) }.littleEndianWords(size: 8)
    }

    /// An integer array (labels): int64 by default, or int32 or uint8 when every value fits.
    public init(integers: [Int], shape: [Int]? = nil, dataType: DataType = .int64) throws(DatasetError) {
        let shape = shape ?? [integers.count]
        checkPrecondition(dataType.isInteger, "NPYArray(integers:): \(dataType) is not an integer type")
        checkPrecondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == integers.count,
                     "NPYArray: \(integers.count) values do not fill shape \(shape)")
        let range: ClosedRange<Int> = switch dataType {
        case .uint8: 0...255
        case .int32: Int(Int32.min)...Int(Int32.max)
        default: Int.min...Int.max
        }
        if let bad = integers.first(where: { !range.contains($0) }) {
            throw .mismatch("value \(bad) does not fit in \(dataType)")
        }
        self.shape = shape
        self.dataType = dataType
        switch dataType {
        case .uint8: payload = integers.map { UInt8($0) }
        case .int32: payload = integers.map { Int32($0).littleEndian }.withUnsafeBytes { Array($0) }
        default: payload = integers.map { Int64($0).littleEndian }.withUnsafeBytes { Array($0) }
        }
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values converted to `S`, in a tensor of the array's shape.
    public func tensor<S: TensorScalar>(_: S.Type = S.self) -> Tensor<S> {
        Tensor(shape: shape, scalars: ScalarArrays.make(S.self, floats: floats, doubles: doubles))
    }

    /// Unsigned bytes (`uint8`) as pixel values in [0, 1], each divided by 255 as IDX
    /// images are read (``IDXArray/pixels(_:)``), in a tensor of the array's shape; nil for
    /// other types.
    public func pixels<S: TensorScalar>(_: S.Type = S.self) -> Tensor<S>? {
        dataType == .uint8 ? Tensor(shape: shape, scalars: ScalarArrays.pixels(payload, as: S.self)) : nil
    }

    /// The values as integers (labels); nil for floating-point arrays.
    public var integers: [Int]? {
        switch dataType {
        case .uint8: return payload.map { Int($0) }
        case .int32: return words(Int32.self).map { Int(Int32(littleEndian: $0)) }
        case .int64: return words(Int64.self).map { Int(Int64(littleEndian: $0)) }
        case .float32, .float64: return nil
        }
    }

    /// The file's bytes: a version 1.0 header (2.0 when it would not fit), then the data.
    public func encoded() -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(\(shape.map(String.init).joined(separator: ", ")))"
        var header = Array("{'descr': '\(dataType.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let isVersion1 = header.count + 1 + 10 <= 65_535
        let preamble = isVersion1 ? 10 : 12
        // Pad with spaces so that the data starts at a multiple of 64 bytes; end with \n.
        header += [UInt8](repeating: 0x20, count: (64 - (preamble + header.count + 1) % 64) % 64) + [0x0A]
        var bytes = Self.magic + (isVersion1 ? [1, 0] : [2, 0])
        bytes += (0..<(preamble - 8)).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
        return Data(bytes + header + payload)
    }

    /// Writes the array as a `.npy` file, replacing the file at `path` atomically (a
    /// temporary file renamed into place).
    public func write(to path: String) throws(DatasetError) {
        do { try encoded().write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw .cannotWrite(file: path, reason: PlainErrors.reason(error))
        }
    }

    private func floats() -> [Float] {
        switch dataType {
        case .float32: return words(UInt32.self).map { Float(bitPattern: UInt32(littleEndian: $0)) }
        case .float64: return doubles().map { Float($0) }
        case .uint8: return payload.map { Float($0) }
        case .int32, .int64: return integers!.map { Float($0) }
        }
    }

    private func doubles() -> [Double] {
        switch dataType {
        case .float64: return words(UInt64.self).map { Double(bitPattern: UInt64(littleEndian: $0)) }
        case .float32: return floats().map { Double($0) }
        case .uint8: return payload.map { Double($0) }
        case .int32, .int64: return integers!.map { Double($0) }
        }
    }

    /// The payload as `count` words of type `T` (unaligned loads, one copy).
    private func words<T: FixedWidthInteger>(_: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: count) { out, initialized in
            payload.withUnsafeBytes { raw in
                if let source = raw.baseAddress, let target = out.baseAddress {
                    memcpy(target, source, count * MemoryLayout<T>.size)
                }
            }
            initialized = count
        }
    }
}

extension [UInt8] {
    /// Host-order words of `size` bytes reordered to little-endian (a no-op on
    /// little-endian machines).
    fileprivate func littleEndianWords(size: Int) -> [UInt8] {
        #if _endian(big)
        return stride(from: 0, to: count, by: size).flatMap { self[$0..<($0 + size)].reversed() }
        #else
        return self
        #endif
    }
}
