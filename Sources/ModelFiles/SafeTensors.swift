import Foundation
import Tensors

/// A safetensors file (Hugging Face's format, as PyTorch's `safetensors.torch` writes
/// it): an 8-byte little-endian header length N, N bytes of JSON —
/// `{"0.weight": {"dtype": "F32", "shape": [5, 6], "data_offsets": [0, 120]}, …,
/// "__metadata__": {"key": "value"}}` — then the tensors' bytes, little-endian, row-major,
/// each at its offsets from the start of that data block. The header is JSON data; nothing
/// in a file is ever executed.
public struct SafeTensors: Sendable, Equatable {
    /// The element types read and written.
    public enum DataType: String, Sendable, CaseIterable {
        case float32 = "F32", float64 = "F64", int64 = "I64", int32 = "I32", uint8 = "U8"

        public var size: Int {
            switch self {
            case .uint8: return 1
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            }
        }

        /// F32 for Float, F64 for Double.
        public static func of<S: TensorScalar>(_: S.Type) -> DataType {
            S.self == Float.self ? .float32 : .float64
        }
    }

    /// One stored tensor: type, shape and little-endian bytes.
    public struct Entry: Sendable, Equatable {
        public let dataType: DataType
        public let shape: [Int]
        let bytes: [UInt8]

        /// A Float (F32) or Double (F64) tensor.
        public init<S: TensorScalar>(_ tensor: Tensor<S>) {
            dataType = .of(S.self)
            shape = tensor.shape
            bytes = tensor.scalars.withUnsafeBytes { Array($0) }.littleEndianWords(size: dataType.size)
        }

        /// Integers stored as I64.
        public init(integers: [Int], shape: [Int]) {
            checkPrecondition(shape.reduce(1, *) == integers.count, "SafeTensors: \(integers.count) integers for shape \(shape)")
            dataType = .int64
            self.shape = shape
            bytes = integers.map { Int64($0).littleEndian }.withUnsafeBytes { Array($0) }
        }

        init(dataType: DataType, shape: [Int], bytes: [UInt8]) {
            self.dataType = dataType
            self.shape = shape
            self.bytes = bytes
        }

        public var count: Int { shape.reduce(1, *) }

        /// The values as a tensor of `S`; nil unless the stored type is `S`'s (F32 for
        /// Float, F64 for Double).
        public func tensor<S: TensorScalar>(_: S.Type = S.self) -> Tensor<S>? {
            guard dataType == .of(S.self), S.self == Float.self || S.self == Double.self else { return nil }
            return Tensor(shape: shape, scalars: copied(as: S.self).hostOrder())
        }

        /// The values as integers; nil for floating-point types.
        public var integers: [Int]? {
            switch dataType {
            case .uint8: return bytes.map { Int($0) }
            case .int32: return words(Int32.self).map { Int(Int32(littleEndian: $0)) }
            case .int64: return words(Int64.self).map { Int(Int64(littleEndian: $0)) }
            case .float32, .float64: return nil
            }
        }

        private func words<T: FixedWidthInteger & BitwiseCopyable>(_: T.Type) -> [T] { copied(as: T.self) }

        /// The bytes reinterpreted as `count` values of `T` (one copy).
        private func copied<T: BitwiseCopyable>(as _: T.Type) -> [T] {
            checkPrecondition(bytes.count == count * MemoryLayout<T>.size, "SafeTensors: \(bytes.count) bytes for \(count) values")
            return [T](unsafeUninitializedCapacity: count) { out, initialized in
                bytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(out).copyMemory(from: $0) }
                initialized = count
            }
        }
    }

    public var tensors: [String: Entry]
    /// The header's `__metadata__`: free-form strings.
    public var metadata: [String: String]

    public init(tensors: [String: Entry] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads a safetensors file.
    public init(contentsOf path: String) throws(ModelFileError) {
        try self.init(data: readFile(path), file: path)
    }

    /// Parses the bytes of a safetensors file; every offset and size is checked.
    public init(data: Data, file: String = "safetensors data") throws(ModelFileError) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw .corrupt(file: file, reason: "shorter than the 8-byte header length") }
        let length = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= UInt64(bytes.count - 8) else {
            throw .corrupt(file: file, reason: "header length \(length) is longer than the \(bytes.count - 8) bytes after it")
        }
        let headerEnd = 8 + Int(length)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[8..<headerEnd]))
        } catch {
            throw .corrupt(file: file, reason: "the header is not valid safetensors JSON (\(PlainErrors.reason(error)))")
        }
        let buffer = bytes.count - headerEnd
        var tensors: [String: Entry] = [:]
        for (name, raw) in header.entries {
            guard let dataType = DataType(rawValue: raw.dtype) else {
                throw .unsupportedType(file: file, tensor: name, dtype: String(raw.dtype.prefix(16)))
            }
            let (begin, end) = (raw.data_offsets.first ?? -1, raw.data_offsets.last ?? -1)
            guard raw.data_offsets.count == 2, begin >= 0, begin <= end, end <= buffer else {
                throw .corrupt(file: file, reason: "tensor '\(name)': data offsets \(raw.data_offsets) outside the \(buffer)-byte data block")
            }
            guard let needed = Self.byteCount(raw.shape, dataType), needed == end - begin else {
                throw .corrupt(file: file, reason: "tensor '\(name)': shape \(raw.shape) of \(dataType.rawValue) does not fill offsets \(raw.data_offsets)")
            }
            tensors[name] = Entry(dataType: dataType, shape: raw.shape, bytes: Array(bytes[(headerEnd + begin)..<(headerEnd + end)]))
        }
        try Self.checkLayout(header.entries, dataBlock: buffer, file: file)
        self.init(tensors: tensors, metadata: header.metadata)
    }

    /// The file's bytes: tensors sorted by name, header padded with spaces to a multiple
    /// of 8 bytes (as the reference implementation does).
    public func encoded() -> Data {
        let names = tensors.keys.sorted()
        var offset = 0
        var header = Header(metadata: metadata)
        for name in names {
            let entry = tensors[name]!
            header.entries[name] = RawEntry(dtype: entry.dataType.rawValue, shape: entry.shape,
                                            data_offsets: [offset, offset + entry.bytes.count])
            offset += entry.bytes.count
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json = [UInt8]((try? encoder.encode(header)) ?? Data("{}".utf8))
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * $0)) } + json
        bytes.reserveCapacity(bytes.count + offset)
        for name in names { bytes += tensors[name]!.bytes }
        return Data(bytes)
    }

    /// Writes the file atomically (temporary file, fsync, rename).
    public func write(to path: String) throws(ModelFileError) {
        try AtomicFile.write(encoded(), to: path)
    }

    /// The reference parser's rule: the tensors, in the order of their offsets, tile the
    /// data block exactly (no overlap, no gap, nothing after the last one).
    private static func checkLayout(_ entries: [String: RawEntry], dataBlock: Int, file: String) throws(ModelFileError) {
        let ordered = entries.sorted { ($0.value.data_offsets[0], $0.value.data_offsets[1], $0.key) < ($1.value.data_offsets[0], $1.value.data_offsets[1], $1.key) }
        var covered = 0
        var previous: String?
        for (name, raw) in ordered {
            let begin = raw.data_offsets[0]
            if begin < covered {
                throw .corrupt(file: file, reason: "tensor '\(name)' at bytes \(raw.data_offsets) overlaps tensor '\(previous ?? "")', which ends at byte \(covered)")
            }
            if begin > covered {
                let after = previous.map { "after tensor '\($0)'" } ?? "at the start of the data block"
                throw .corrupt(file: file, reason: "bytes \(covered)..<\(begin) \(after) belong to no tensor")
            }
            covered = raw.data_offsets[1]
            previous = name
        }
        if covered != dataBlock {
            let extra = dataBlock - covered
            throw .corrupt(file: file, reason: extra == 1 ? "1 byte after the last tensor belongs to no tensor"
                                                          : "\(extra) bytes after the last tensor belong to no tensor")
        }
    }

    /// Bytes for `shape` of `dataType`; nil for a negative dimension or an overflow.
    private static func byteCount(_ shape: [Int], _ dataType: DataType) -> Int? {
        var total = dataType.size
        for n in shape {
            guard n >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: n)
            guard !overflow else { return nil }
            total = product
        }
        return total
    }
}

// MARK: - The JSON header

private struct RawEntry: Codable {
    let dtype: String
    let shape: [Int]
    // swiftlint:disable:next identifier_name
    let data_offsets: [Int]
}

private struct Header: Codable {
    var entries: [String: RawEntry] = [:]
    var metadata: [String: String] = [:]

    init(metadata: [String: String]) {
        self.metadata = metadata
    }

    private struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    private static let metadataKey = "__metadata__"

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if key.stringValue == Self.metadataKey {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                entries[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        if !metadata.isEmpty { try container.encode(metadata, forKey: Key(stringValue: Self.metadataKey)) }
        for (name, entry) in entries { try container.encode(entry, forKey: Key(stringValue: name)) }
    }
}

// MARK: - Byte order and files

extension [UInt8] {
    /// Host-order words of `size` bytes in little-endian order (a no-op on little-endian
    /// machines, which all supported platforms are).
    func littleEndianWords(size: Int) -> [UInt8] {
        #if _endian(big)
        return stride(from: 0, to: count, by: size).flatMap { self[$0..<($0 + size)].reversed() }
        #else
        return self
        #endif
    }
}

extension Array where Element: BitwiseCopyable {
    /// Values read from little-endian bytes, in host order (a no-op on little-endian machines).
    func hostOrder() -> [Element] {
        #if _endian(big)
        return withUnsafeBytes { Array<UInt8>($0) }.littleEndianWords(size: MemoryLayout<Element>.size)
            .withUnsafeBytes { Array($0.bindMemory(to: Element.self)) }
        #else
        return self
        #endif
    }
}

func readFile(_ path: String) throws(ModelFileError) -> Data {
    if let problem = PlainErrors.unreadableFile(path) {
        throw problem == "no such file" ? .missingFile(path) : .unreadable(file: path, reason: problem)
    }
    do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw .unreadable(file: path, reason: PlainErrors.reason(error))
    }
}
