// Coverage-guided fuzzing of the reader of model.json architecture files: `Fuzz/run.sh architecture [runs]`.
import FuzzSupport
import ModelFiles

/// One input: read as a file, any thrown error ignored as long as its message is one line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOneInput(data, size) { bytes throws(ModelFileError) in try ModelFileFuzzing.architecture(bytes) }
}

runLibFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
