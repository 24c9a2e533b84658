// Coverage-guided fuzzing of the reader of safetensors files: `Fuzz/run.sh safetensors [runs]`.
import FuzzSupport
import ModelFiles

/// One input: read as a file, any thrown error ignored as long as its message is one line.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOneInput(data, size, ModelFileFuzzing.safeTensors)
}

runLibFuzzer { data, size in data.map { fuzz($0, size) } ?? 0 }
