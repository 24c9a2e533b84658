// Elementwise transcendental functions for the Kernels layer: exp, log, tanh, sigmoid,
// softplus over arrays, in Float and Double, without a libm call per element. Written
// as branch-free C so that clang vectorises the loops, and compiled twice (AVX2 + FMA
// and baseline x86-64) with the version chosen when the library loads.
// Accuracy against libm (KernelsTests): exp, log, sigmoid within 4 ulp; tanh, softplus
// within 6 ulp; exp results in the subnormal range lose precision gradually.
#ifndef BACKPROP_KERNELS_H
#define BACKPROP_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  BACKPROP_EXP = 0,
  BACKPROP_LOG = 1,
  BACKPROP_TANH = 2,
  BACKPROP_SIGMOID = 3,
  BACKPROP_SOFTPLUS = 4,
} backprop_function;

/// y[i] = f(x[i]) for i < n; x and y must not overlap.
void backprop_map_f32(backprop_function f, const float *x, float *y, size_t n);
void backprop_map_f64(backprop_function f, const double *x, double *y, size_t n);

#ifdef __cplusplus
}
#endif
#endif
