#ifndef BACKPROP_CLIBFUZZER_H
#define BACKPROP_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): parses libFuzzer's
/// command-line flags and runs `callback` on each input, as libFuzzer's own main() would.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
