// The BLAS binding: the handful of BLAS entry points Backprop uses, behind a loader that
// picks OpenBLAS's fastest correct kernels for this CPU before the library initialises.
#ifndef BACKPROP_BLAS_H
#define BACKPROP_BLAS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major GEMM: C = alpha * op(A) * op(B) + beta * C, op(X) = X or Xᵀ.
/// `transA`/`transB` are 0 (no transpose) or 1 (transpose).
void backprop_sgemm(int transA, int transB, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta,
                    float *c, int ldc);
void backprop_dgemm(int transA, int transB, int m, int n, int k, double alpha,
                    const double *a, int lda, const double *b, int ldb, double beta,
                    double *c, int ldc);

/// Loads the library (once). Returns 0 on success, otherwise a negative code; the
/// message is then in backprop_blas_error().
int backprop_blas_load(void);
const char *backprop_blas_error(void);

/// What was loaded: the library path or name, OpenBLAS's core name ("Haswell",
/// "SkylakeX", …; "Accelerate" on macOS), and the OPENBLAS_CORETYPE this loader chose
/// (empty when it left the choice to OpenBLAS or to the user).
const char *backprop_blas_library(void);
const char *backprop_blas_corename(void);
const char *backprop_blas_chosen_coretype(void);

/// The thread count for matrix products (see blas.c: with exactly two, Backprop splits
/// products itself and OpenBLAS runs single-threaded).
void backprop_blas_set_threads(int count);

/// Benchmarks: while timing is on for a thread, every product that thread calls adds its
/// wall time to the thread's running total (nanoseconds), so that a benchmark can report
/// the share of a step spent in BLAS.
void backprop_blas_set_timing(int enabled);
int backprop_blas_timing(void);
long long backprop_blas_timed_nanoseconds(void);
int backprop_blas_get_threads(void);

/// Per thread: while set, backprop_blas_get_threads returns 1 on this thread (it runs one
/// share of a data-parallel step, side by side with the others), and only on it.
void backprop_blas_set_alone_here(int alone);
int backprop_blas_alone_here(void);

#ifdef __cplusplus
}
#endif
#endif
