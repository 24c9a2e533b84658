#include "backprop_reductions.h"

// Rows are added in order, one vector of columns at a time, so each column's sum is
// formed in the same order as a plain loop over the rows (the result does not depend on
// the vector width).
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MULTIVERSION
#endif

#define COLUMN_SUMS(name, T)                                                        \
  MULTIVERSION                                                                      \
  void name(const T *restrict x, T *restrict out, size_t rows, size_t cols) {       \
    for (size_t j = 0; j < cols; j++) out[j] = 0;                                   \
    for (size_t i = 0; i < rows; i++) {                                             \
      const T *restrict row = x + i * cols;                                         \
      for (size_t j = 0; j < cols; j++) out[j] += row[j];                           \
    }                                                                               \
  }

COLUMN_SUMS(backprop_column_sums_f32, float)
COLUMN_SUMS(backprop_column_sums_f64, double)
