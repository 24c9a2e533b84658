// Scratch memory for the kernels: a few grow-only buffers per thread, reused from call
// to call, so that the large temporaries of a convolution (its column matrix) are not
// handed back to the system and faulted in again at every training step.
#ifndef BACKPROP_SCRATCH_H
#define BACKPROP_SCRATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { BACKPROP_SCRATCH_SLOTS = 4 };

/// The calling thread's buffer `slot` (0 ≤ slot < BACKPROP_SCRATCH_SLOTS), at least
/// `bytes` long and 64-byte aligned, or NULL when memory runs out. Its contents are
/// undefined. It stays valid until the same thread asks for the same slot again (or
/// exits, when it is freed), so a caller must not hold a slot across a call that may use
/// it.
void *backprop_scratch(size_t slot, size_t bytes);

#ifdef __cplusplus
}
#endif
#endif
