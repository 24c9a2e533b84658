// Max pooling over a 2×2 window with stride 2, the common case of convolutional
// networks, written as branch-free C so that clang vectorises it (AVX2 and baseline
// x86-64 versions, chosen when the library loads).
#ifndef BACKPROP_POOLING_H
#define BACKPROP_POOLING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// For each of `planes` row-major planes of height×width, writes the largest value of
/// every 2×2 window at stride 2 (⌊height/2⌋×⌊width/2⌋ outputs per plane) to `y` and its
/// in-plane index iy·width + ix to `index`. On ties the first maximum in row-major window
/// order wins; a NaN in a window propagates (the first NaN wins).
void backprop_maxpool2x2_f32(const float *x, float *y, int32_t *index, size_t planes,
                             size_t height, size_t width);
void backprop_maxpool2x2_f64(const double *x, double *y, int32_t *index, size_t planes,
                             size_t height, size_t width);

/// The backward pass of backprop_maxpool2x2: writes every element of `x` (the input
/// gradient, planes of height×width): g at each window's recorded maximum, 0 elsewhere.
void backprop_maxpool2x2_backward_f32(const float *g, const int32_t *index, float *x,
                                      size_t planes, size_t height, size_t width);
void backprop_maxpool2x2_backward_f64(const double *g, const int32_t *index, double *x,
                                      size_t planes, size_t height, size_t width);

#ifdef __cplusplus
}
#endif
#endif
