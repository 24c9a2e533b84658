// 2×2 max pooling at stride 2. A candidate replaces the best so far when it is strictly
// larger, or when it is NaN and the best is not (so NaN propagates and the first maximum
// wins ties). Four outputs are computed at once with vector types (SSE2, or AVX on the
// x86-64-v3 version): each pair of window columns is split from 8 consecutive inputs by
// shuffles, and the choices are bit masks, so there are no data-dependent branches. The
// last group of a row overlaps the previous one (rewriting the same values) instead of
// falling back to scalar code; rows narrower than four outputs use the scalar form.
#include "backprop_pooling.h"

#include <string.h>

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MULTIVERSION
#endif

typedef int32_t v4i __attribute__((vector_size(16)));

#define STEP(best, at, v, position, MASK)                                                \
  do {                                                                                  \
    MASK take = ((v) > best) | (((v) != (v)) & (best == best));                         \
    v4i take32 = __builtin_convertvector(take, v4i);                                    \
    best = (__typeof__(best))((take & (MASK)(v)) | (~take & (MASK)best));               \
    at = (take32 & (position)) | (~take32 & at);                                        \
  } while (0)

#define DEFINE_MAXPOOL(name, T, V4, V8, M4)                                             \
  typedef T V4 __attribute__((vector_size(4 * sizeof(T))));                             \
  typedef T V8 __attribute__((vector_size(8 * sizeof(T))));                             \
  typedef M4 name##_mask __attribute__((vector_size(4 * sizeof(T))));                   \
                                                                                        \
  static inline void name##_group(const T *top, const T *bottom, T *out, int32_t *at,   \
                                  int32_t first, int32_t width) {                       \
    V8 t, b;                                                                            \
    memcpy(&t, top, sizeof t);                                                          \
    memcpy(&b, bottom, sizeof b);                                                       \
    v4i position = first + (v4i){0, 2, 4, 6};                                           \
    V4 best = __builtin_shufflevector(t, t, 0, 2, 4, 6);                                \
    v4i index = position;                                                               \
    V4 v1 = __builtin_shufflevector(t, t, 1, 3, 5, 7);                                  \
    V4 v2 = __builtin_shufflevector(b, b, 0, 2, 4, 6);                                  \
    V4 v3 = __builtin_shufflevector(b, b, 1, 3, 5, 7);                                  \
    STEP(best, index, v1, position + 1, name##_mask);                                   \
    STEP(best, index, v2, position + width, name##_mask);                               \
    STEP(best, index, v3, position + width + 1, name##_mask);                           \
    memcpy(out, &best, sizeof best);                                                    \
    memcpy(at, &index, sizeof index);                                                   \
  }                                                                                     \
                                                                                        \
  static inline void name##_scalar(const T *top, const T *bottom, T *out, int32_t *at,  \
                                   int32_t first, int32_t width) {                      \
    T candidates[4] = {top[0], top[1], bottom[0], bottom[1]};                           \
    int32_t positions[4] = {first, first + 1, first + width, first + width + 1};        \
    T best = candidates[0];                                                             \
    int32_t index = first;                                                              \
    for (int k = 1; k < 4; k++) {                                                       \
      T v = candidates[k];                                                              \
      if (v > best || (v != v && best == best)) { best = v; index = positions[k]; }     \
    }                                                                                   \
    *out = best;                                                                        \
    *at = index;                                                                        \
  }                                                                                     \
                                                                                        \
  MULTIVERSION void name(const T *restrict x, T *restrict y, int32_t *restrict index,   \
                         size_t planes, size_t height, size_t width) {                  \
    const size_t rows = height / 2, columns = width / 2;                                \
    const int32_t w = (int32_t)width;                                                   \
    for (size_t p = 0; p < planes; p++) {                                               \
      const T *plane = x + p * height * width;                                          \
      for (size_t oy = 0; oy < rows; oy++) {                                            \
        const T *top = plane + 2 * oy * width, *bottom = top + width;                   \
        T *out = y + (p * rows + oy) * columns;                                         \
        int32_t *at = index + (p * rows + oy) * columns;                                \
        const int32_t start = (int32_t)(2 * oy * width);                                \
        if (columns < 4) {                                                              \
          for (size_t ox = 0; ox < columns; ox++)                                       \
            name##_scalar(top + 2 * ox, bottom + 2 * ox, out + ox, at + ox,             \
                          start + 2 * (int32_t)ox, w);                                  \
          continue;                                                                     \
        }                                                                               \
        for (size_t ox = 0;; ox += 4) {                                                 \
          if (ox + 4 > columns) ox = columns - 4;                                       \
          name##_group(top + 2 * ox, bottom + 2 * ox, out + ox, at + ox,                \
                       start + 2 * (int32_t)ox, w);                                     \
          if (ox + 4 == columns) break;                                                 \
        }                                                                               \
      }                                                                                 \
    }                                                                                   \
  }

DEFINE_MAXPOOL(backprop_maxpool2x2_f32, float, f32x4, f32x8, int32_t)
DEFINE_MAXPOOL(backprop_maxpool2x2_f64, double, f64x4, f64x8, int64_t)

// The backward pass: every element of a window gets the output's gradient if it is the
// recorded maximum and 0 otherwise, so each input element is written exactly once (no
// separate zeroing pass); a last odd row or column, which no window covers, gets 0.
#define DEFINE_MAXPOOL_BACKWARD(name, T, V4, V8, M4)                                    \
  typedef M4 name##_mask __attribute__((vector_size(4 * sizeof(T))));                   \
                                                                                        \
  static inline void name##_group(const T *g, const int32_t *at, T *top, T *bottom,     \
                                  int32_t first, int32_t width) {                       \
    V4 gradient;                                                                        \
    v4i index;                                                                          \
    memcpy(&gradient, g, sizeof gradient);                                              \
    memcpy(&index, at, sizeof index);                                                   \
    v4i position = first + (v4i){0, 2, 4, 6};                                           \
    name##_mask bits = (name##_mask)gradient;                                           \
    V4 a = (V4)(__builtin_convertvector(index == position, name##_mask) & bits);        \
    V4 b = (V4)(__builtin_convertvector(index == position + 1, name##_mask) & bits);    \
    V4 c = (V4)(__builtin_convertvector(index == position + width, name##_mask) & bits); \
    V4 d = (V4)(__builtin_convertvector(index == position + width + 1, name##_mask) & bits); \
    V8 upper = __builtin_shufflevector(a, b, 0, 4, 1, 5, 2, 6, 3, 7);                   \
    V8 lower = __builtin_shufflevector(c, d, 0, 4, 1, 5, 2, 6, 3, 7);                   \
    memcpy(top, &upper, sizeof upper);                                                  \
    memcpy(bottom, &lower, sizeof lower);                                               \
  }                                                                                     \
                                                                                        \
  MULTIVERSION void name(const T *restrict g, const int32_t *restrict index,            \
                         T *restrict x, size_t planes, size_t height, size_t width) {   \
    const size_t rows = height / 2, columns = width / 2;                                \
    const int32_t w = (int32_t)width;                                                   \
    for (size_t p = 0; p < planes; p++) {                                               \
      T *plane = x + p * height * width;                                                \
      for (size_t oy = 0; oy < rows; oy++) {                                            \
        T *top = plane + 2 * oy * width, *bottom = top + width;                         \
        const T *gradient = g + (p * rows + oy) * columns;                              \
        const int32_t *at = index + (p * rows + oy) * columns;                          \
        const int32_t start = (int32_t)(2 * oy * width);                                \
        if (columns < 4) {                                                              \
          for (size_t ox = 0; ox < columns; ox++) {                                     \
            int32_t i = start + 2 * (int32_t)ox;                                        \
            top[2 * ox] = at[ox] == i ? gradient[ox] : 0;                               \
            top[2 * ox + 1] = at[ox] == i + 1 ? gradient[ox] : 0;                       \
            bottom[2 * ox] = at[ox] == i + w ? gradient[ox] : 0;                        \
            bottom[2 * ox + 1] = at[ox] == i + w + 1 ? gradient[ox] : 0;                \
          }                                                                             \
        } else {                                                                        \
          for (size_t ox = 0;; ox += 4) {                                               \
            if (ox + 4 > columns) ox = columns - 4;                                     \
            name##_group(gradient + ox, at + ox, top + 2 * ox, bottom + 2 * ox,         \
                         start + 2 * (int32_t)ox, w);                                   \
            if (ox + 4 == columns) break;                                               \
          }                                                                             \
        }                                                                               \
        if (width % 2) top[width - 1] = bottom[width - 1] = 0;                          \
      }                                                                                 \
      if (height % 2) memset(plane + (height - 1) * width, 0, width * sizeof(T));       \
    }                                                                                   \
  }

DEFINE_MAXPOOL_BACKWARD(backprop_maxpool2x2_backward_f32, float, f32x4, f32x8, int32_t)
DEFINE_MAXPOOL_BACKWARD(backprop_maxpool2x2_backward_f64, double, f64x4, f64x8, int64_t)
