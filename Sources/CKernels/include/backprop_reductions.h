// Reductions whose Swift form the compiler cannot vectorise, because it cannot prove
// that the output does not alias the input.
#ifndef BACKPROP_REDUCTIONS_H
#define BACKPROP_REDUCTIONS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[j] = Σᵢ x[i·cols + j] for a row-major rows×cols matrix (a bias gradient: the
/// sum of δ over the batch). `out` must not overlap `x`.
void backprop_column_sums_f32(const float *x, float *out, size_t rows, size_t cols);
void backprop_column_sums_f64(const double *x, double *out, size_t rows, size_t cols);

#ifdef __cplusplus
}
#endif
#endif
