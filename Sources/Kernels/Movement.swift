#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Data movement: copies of whole blocks, the same for every element type.
extension Kernels {
    /// The `[rows, columns]` matrix `x` transposed to `[columns, rows]`, in cache blocks.
    public static func transpose<S: BitwiseCopyable>(_ x: [S], rows: Int, columns: Int) -> [S] {
        checkPrecondition(x.count == rows * columns,
                     "transpose: \(x.count) elements, expected [\(rows), \(columns)]")
        let block = 32
        return [S](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { src in
                for i0 in stride(from: 0, to: rows, by: block) {
                    for j0 in stride(from: 0, to: columns, by: block) {
                        for i in i0..<min(i0 + block, rows) {
                            for j in j0..<min(j0 + block, columns) {
                                out[j * rows + i] = src[i * columns + j]
                            }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// Rows `indices` of `x`, seen as rows of `rowLength` elements.
    public static func gatherRows<S: BitwiseCopyable>(
        _ x: [S], rowLength: Int, indices: [Int]
    ) -> [S] {
        let rows = rowLength == 0 ? 0 : x.count / rowLength
        for index in indices {
            checkPrecondition(index >= 0 && index < rows, "gather: row \(index) outside 0..<\(rows)")
        }
        let count = indices.count * rowLength
        let bytes = rowLength * MemoryLayout<S>.stride
        return [S](unsafeUninitializedCapacity: count) { out, initialized in
            x.withUnsafeBytes { src in
                indices.withUnsafeBufferPointer { rows in
                    let dst = UnsafeMutableRawPointer(out.baseAddress)
                    // Batches of 16 Ki elements or more are copied by the BLAS threads, a
                    // range of rows each: the rows are scattered over a large array, so each
                    // element costs about four of a streaming pass (parallelFor's unit). On
                    // W2 (64 rows of 784, two threads) the gather went from 55 to 32 µs.
                    parallelFor(rows.count, work: rowLength * 4) { range in
                        for r in range where bytes > 0 {
                            memcpy(dst! + r * bytes, src.baseAddress! + rows[r] * bytes, bytes)
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// Concatenation of `[outer, partsᵢ, inner]` arrays along their middle axis.
    public static func concatenate<S: BitwiseCopyable>(
        _ parts: [[S]], outer: Int, middles: [Int], inner: Int
    ) -> [S] {
        checkPrecondition(parts.count == middles.count, "concatenate: \(parts.count) parts, \(middles.count) sizes")
        for (part, middle) in Swift.zip(parts, middles) {
            checkPrecondition(part.count == outer * middle * inner,
                         "concatenate: a part has \(part.count) elements, expected \(outer * middle * inner)")
        }
        let total = middles.reduce(0, +)
        let count = outer * total * inner
        let size = MemoryLayout<S>.stride
        return [S](unsafeUninitializedCapacity: count) { out, initialized in
            let dst = UnsafeMutableRawPointer(out.baseAddress)
            var offset = 0
            for (part, middle) in Swift.zip(parts, middles) {
                let chunk = middle * inner * size
                part.withUnsafeBytes { src in
                    for o in 0..<outer where chunk > 0 {
                        memcpy(dst! + (o * total * inner) * size + offset * inner * size,
                               src.baseAddress! + o * chunk, chunk)
                    }
                }
                offset += middle
            }
            initialized = count
        }
    }
}

extension Kernels {
    /// `[a, b, inner]` → `[b, a, inner]`: between channels-first `[channels, batch, …]`
    /// and batch-first `[batch, channels, …]` (either way, with a and b swapped).
    public static func swapLeadingAxes<S: BitwiseCopyable>(_ x: [S], _ a: Int, _ b: Int, inner: Int, into out: inout [S]) {
        checkPrecondition(x.count == a * b * inner && out.count == x.count,
                          "swapLeadingAxes: \(x.count) and \(out.count) elements for [\(a), \(b), \(inner)]")
        let bytes = inner * MemoryLayout<S>.stride
        guard bytes > 0 else { return }
        x.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                parallelFor(a, work: b * inner) { part in
                    for i in part {
                        for j in 0..<b {
                            memcpy(dst.baseAddress! + (j * a + i) * bytes, src.baseAddress! + (i * b + j) * bytes, bytes)
                        }
                    }
                }
            }
        }
    }
}
