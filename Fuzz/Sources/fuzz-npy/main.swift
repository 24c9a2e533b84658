// Coverage-guided fuzzing of the reader of NumPy .npy files: `Fuzz/run.sh npy [runs]`.
import FuzzSupport
import Datasets

/// One input: read as a file, any thrown error ignored as long as its message is one line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOneInput(data, size, ReaderFuzzing.npy)
}

runLibFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
