// im2col and col2im. Where a tap (channel, ky, kx) reads inside the image depends only on
// ky (the output rows) and kx (the output columns), so those ranges are worked out once
// per call, for every ky and every kx. In general each output row is then a copy (im2col)
// or an addition (col2im) of a run of one input row, with the columns that read padding
// zeroed (im2col) or skipped (col2im). When the window moves by 1 and the output is as
// wide as the input ("same" padding across, the common 3×3 pad-1 case), consecutive
// outputs read consecutive inputs across row ends too, so a whole plane is one long copy
// or addition, which vectorises far better than rows of 14 or 28: im2col zeroes the few
// columns that read padding (and so wrapped onto a neighbouring row's edge) after the
// copy; col2im zeroes them in the columns before the addition, so that they add nothing.
// col2im takes one plane at a time and adds all of its taps while the plane is in L1, so
// each plane is zeroed and written once.
#include "backprop_windows.h"

#include <stdlib.h>

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MULTIVERSION
#endif

static inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Where kernel index k of one axis reads: its offset, and the outputs [lower, upper) of
// `count` whose input o·stride + offset lies in [0, size).
typedef struct {
  int64_t offset, lower, upper;
} reach;

static inline reach reach_of(int64_t k, int64_t dilation, int64_t padding, int64_t stride, int64_t size,
                             int64_t count) {
  reach r;
  r.offset = k * dilation - padding;
  int64_t lo = -floor_div(r.offset, stride);  // ⌈−offset / stride⌉
  if (lo < 0) lo = 0;
  int64_t hi = floor_div(size - 1 - r.offset, stride) + 1;
  if (hi > count) hi = count;
  r.lower = lo;
  r.upper = hi > lo ? hi : lo;
  return r;
}

// The reaches of every ky (first kernel_height entries) and every kx (the rest), in
// `buffer` when it is large enough, else in memory the caller frees (NULL when out of it).
static reach *reaches(const backprop_window *w, reach *buffer, size_t capacity, reach **allocated) {
  const size_t n = (size_t)(w->kernel_height + w->kernel_width);
  reach *r = buffer;
  *allocated = NULL;
  if (n > capacity) {
    r = *allocated = malloc(n * sizeof(reach));
    if (!r) return NULL;
  }
  for (int64_t ky = 0; ky < w->kernel_height; ky++)
    r[ky] = reach_of(ky, w->dilation_height, w->padding_height, w->stride_height, w->height,
                     w->output_height);
  for (int64_t kx = 0; kx < w->kernel_width; kx++)
    r[w->kernel_height + kx] = reach_of(kx, w->dilation_width, w->padding_width, w->stride_width,
                                        w->width, w->output_width);
  return r;
}

static inline int is_flat(const backprop_window *w) {
  return w->stride_height == 1 && w->stride_width == 1 && w->output_width == w->width;
}

// A tap of a flat window as one run: output position k in [from, to) reads plane value
// k + shift (the rows of `ry`, clamped to the plane).
typedef struct {
  int64_t from, to, shift;
} flat_run;

static inline flat_run flat_run_of(const backprop_window *w, reach ry, reach rx) {
  const int64_t size = w->height * w->width;
  flat_run r = {ry.lower * w->output_width, ry.upper * w->output_width, ry.offset * w->width + rx.offset};
  if (r.from + r.shift < 0) r.from = -r.shift;
  if (r.to + r.shift > size) r.to = size - r.shift;
  return r;
}

#define DEFINE_WINDOWS(suffix, T)                                                          \
  /* Zeroes the entries of rows `ry` of a tap's output whose columns read padding. */      \
  static inline void zero_padding_columns_##suffix(T *restrict out, int64_t ow, reach ry,  \
                                                   reach rx) {                             \
    for (int64_t oy = ry.lower; oy < ry.upper; oy++) {                                     \
      T *line = out + oy * ow;                                                             \
      for (int64_t ox = 0; ox < rx.lower; ox++) line[ox] = 0;                              \
      for (int64_t ox = rx.upper; ox < ow; ox++) line[ox] = 0;                             \
    }                                                                                      \
  }                                                                                        \
                                                                                           \
  /* im2col of one tap of one image: `out` gets its output_height·output_width values. */  \
  static inline void unfold_tap_##suffix(const T *restrict plane, T *restrict out,         \
                                         const backprop_window *w, reach ry, reach rx,     \
                                         int flat) {                                       \
    const int64_t oh = w->output_height, ow = w->output_width, width = w->width;           \
    for (int64_t k = 0; k < ry.lower * ow; k++) out[k] = 0;                                \
    for (int64_t k = ry.upper * ow; k < oh * ow; k++) out[k] = 0;                          \
    if (flat) {                                                                            \
      const flat_run run = flat_run_of(w, ry, rx);                                         \
      for (int64_t k = run.from; k < run.to; k++) out[k] = plane[k + run.shift];           \
      zero_padding_columns_##suffix(out, ow, ry, rx);                                      \
      return;                                                                              \
    }                                                                                      \
    const int64_t sh = w->stride_height, sw = w->stride_width;                             \
    for (int64_t oy = ry.lower; oy < ry.upper; oy++) {                                     \
      T *line = out + oy * ow;                                                             \
      const T *from = plane + (oy * sh + ry.offset) * width + rx.offset;                   \
      for (int64_t ox = 0; ox < rx.lower; ox++) line[ox] = 0;                              \
      if (sw == 1) {                                                                       \
        for (int64_t ox = rx.lower; ox < rx.upper; ox++) line[ox] = from[ox];              \
      } else {                                                                             \
        for (int64_t ox = rx.lower; ox < rx.upper; ox++) line[ox] = from[ox * sw];         \
      }                                                                                    \
      for (int64_t ox = rx.upper; ox < ow; ox++) line[ox] = 0;                             \
    }                                                                                      \
  }                                                                                        \
                                                                                           \
  /* col2im of one tap into one plane; the column's entries that read padding are */      \
  /* set to 0 in the flat case. */                                                         \
  static inline void fold_tap_##suffix(T *restrict column, T *restrict plane,              \
                                       const backprop_window *w, reach ry, reach rx,       \
                                       int flat) {                                         \
    const int64_t ow = w->output_width, width = w->width;                                  \
    if (ry.lower >= ry.upper || rx.lower >= rx.upper) return;                              \
    if (flat) {                                                                            \
      zero_padding_columns_##suffix(column, ow, ry, rx);                                   \
      const flat_run run = flat_run_of(w, ry, rx);                                         \
      for (int64_t k = run.from; k < run.to; k++) plane[k + run.shift] += column[k];       \
      return;                                                                              \
    }                                                                                      \
    const int64_t sh = w->stride_height, sw = w->stride_width;                             \
    for (int64_t oy = ry.lower; oy < ry.upper; oy++) {                                     \
      T *to = plane + (oy * sh + ry.offset) * width + rx.offset;                           \
      const T *from = column + oy * ow;                                                    \
      if (sw == 1) {                                                                       \
        for (int64_t ox = rx.lower; ox < rx.upper; ox++) to[ox] += from[ox];               \
      } else {                                                                             \
        for (int64_t ox = rx.lower; ox < rx.upper; ox++) to[ox * sw] += from[ox];          \
      }                                                                                    \
    }                                                                                      \
  }                                                                                        \
                                                                                           \
  MULTIVERSION int backprop_unfold_##suffix(                                               \
      const T *restrict x, T *restrict columns, const backprop_window *w,                  \
      ptrdiff_t image_stride, ptrdiff_t channel_stride, size_t images, size_t first_row,   \
      size_t end_row, size_t column_stride) {                                              \
    reach buffer[64], *allocated;                                                          \
    const reach *r = reaches(w, buffer, 64, &allocated);                                   \
    if (!r) return -1;                                                                     \
    const int64_t kh = w->kernel_height, kw = w->kernel_width;                             \
    const size_t positions = (size_t)(w->output_height * w->output_width);                 \
    const int flat = is_flat(w);                                                           \
    for (size_t row = first_row; row < end_row; row++) {                                   \
      const int64_t channel = (int64_t)row / (kh * kw);                                    \
      const int64_t ky = ((int64_t)row / kw) % kh, kx = (int64_t)row % kw;                 \
      for (size_t i = 0; i < images; i++)                                                  \
        unfold_tap_##suffix(x + (ptrdiff_t)i * image_stride + channel * channel_stride,    \
                            columns + row * column_stride + i * positions, w, r[ky],       \
                            r[kh + kx], flat);                                             \
    }                                                                                      \
    free(allocated);                                                                       \
    return 0;                                                                              \
  }                                                                                        \
                                                                                           \
  MULTIVERSION int backprop_fold_##suffix(                                                 \
      T *restrict columns, T *restrict x, const backprop_window *w,                        \
      ptrdiff_t image_stride, ptrdiff_t channel_stride, size_t channels,                   \
      size_t first_image, size_t end_image, size_t column_stride) {                        \
    reach buffer[64], *allocated;                                                          \
    const reach *r = reaches(w, buffer, 64, &allocated);                                   \
    if (!r) return -1;                                                                     \
    const int64_t kh = w->kernel_height, kw = w->kernel_width;                             \
    const int64_t size = w->height * w->width;                                             \
    const size_t positions = (size_t)(w->output_height * w->output_width);                 \
    const int flat = is_flat(w);                                                           \
    for (size_t i = first_image; i < end_image; i++) {                                     \
      for (size_t c = 0; c < channels; c++) {                                              \
        T *plane = x + (ptrdiff_t)i * image_stride + (ptrdiff_t)c * channel_stride;        \
        for (int64_t k = 0; k < size; k++) plane[k] = 0;                                   \
        T *column = columns + c * (size_t)(kh * kw) * column_stride + i * positions;       \
        for (int64_t ky = 0; ky < kh; ky++)                                                \
          for (int64_t kx = 0; kx < kw; kx++, column += column_stride)                     \
            fold_tap_##suffix(column, plane, w, r[ky], r[kh + kx], flat);                  \
      }                                                                                    \
    }                                                                                      \
    free(allocated);                                                                       \
    return 0;                                                                              \
  }

DEFINE_WINDOWS(f32, float)
DEFINE_WINDOWS(f64, double)
