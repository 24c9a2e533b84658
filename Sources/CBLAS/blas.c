// Loader for the system BLAS. On Linux, OpenBLAS is opened with dlopen only after
// OPENBLAS_CORETYPE has been set from the CPU's features, because OpenBLAS reads that
// variable once, when it is loaded, and Debian's 0.3.21 misdetects recent CPUs (it runs
// its SSE3 "Prescott" kernels on AVX-512 Xeons). A user's own OPENBLAS_CORETYPE wins.
// On macOS the calls go straight to Accelerate.
#include "backprop_blas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };

// Per thread: a benchmark times the products its own thread calls (BLAS's worker threads
// run inside those calls), unaffected by other threads' products.
static _Thread_local int timing_enabled;
static _Thread_local long long timed_nanoseconds;

static void add_elapsed(const struct timespec *started) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  timed_nanoseconds += (long long)(now.tv_sec - started->tv_sec) * 1000000000LL +
                       (now.tv_nsec - started->tv_nsec);
}

void backprop_blas_set_timing(int enabled) { timing_enabled = enabled != 0; }
int backprop_blas_timing(void) { return timing_enabled; }
long long backprop_blas_timed_nanoseconds(void) { return timed_nanoseconds; }

// Per thread: set while the thread runs one share of a data-parallel step
// (Kernels.runShares), so that what it calls runs on it alone: backprop_blas_get_threads
// reports 1 there, and the thread count other threads see is left as it is.
static _Thread_local int alone_here;

void backprop_blas_set_alone_here(int alone) { alone_here = alone != 0; }
int backprop_blas_alone_here(void) { return alone_here; }

#define TIMING_START                                                                        \
  struct timespec started;                                                                  \
  int timed = timing_enabled;                                                               \
  if (timed) clock_gettime(CLOCK_MONOTONIC, &started);
#define TIMING_END                                                                          \
  if (timed) add_elapsed(&started);


#ifdef __APPLE__
#include <Accelerate/Accelerate.h>

int backprop_blas_load(void) { return 0; }
const char *backprop_blas_error(void) { return ""; }
const char *backprop_blas_library(void) { return "Accelerate"; }
const char *backprop_blas_corename(void) { return "Accelerate"; }
const char *backprop_blas_chosen_coretype(void) { return ""; }
void backprop_blas_set_threads(int count) { (void)count; }
int backprop_blas_get_threads(void) { return alone_here ? 1 : 0; }

void backprop_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc) {
  TIMING_START
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  TIMING_END
}
void backprop_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                    const double *b, int ldb, double beta, double *c, int ldc) {
  TIMING_START
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  TIMING_END
}

#else
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int,
                         const double *, int, double, double *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*dgemv_fn)(int, int, int, int, double, const double *, int, const double *, int,
                         double, double *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*corename_fn)(void);

static struct {
  int status;
  char error[512];
  const char *library;
  char chosen[32];
  sgemm_fn sgemm;
  dgemm_fn dgemm;
  sgemv_fn sgemv;
  dgemv_fn dgemv;
  set_threads_fn set_threads;
  get_threads_fn get_threads;
  corename_fn corename;
} blas = {.status = -1, .library = "", .chosen = ""};

// The thread count Backprop was given (BACKPROP_THREADS or OPENBLAS_NUM_THREADS at load,
// OpenBLAS's default otherwise, then backprop_blas_set_threads), which is what
// backprop_blas_get_threads returns. With exactly two, Backprop splits every product of
// some size over the calling thread and a helper itself (Kernels.productSplit in
// ProductSplit.swift) and OpenBLAS stays single-threaded: OpenBLAS's own second thread
// would sleep between a training step's products and have to be woken for each. So with
// two threads OpenBLAS's setting never changes during a run, and every caller's products
// split alike whatever other threads are doing.
static atomic_int configured_threads = 1;

static void apply_threads(int count) {
  atomic_store(&configured_threads, count);
  if (blas.set_threads != NULL) blas.set_threads(count == 2 ? 1 : count);
}

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/// The OpenBLAS core type whose kernels this CPU runs, chosen by its features;
/// NULL leaves the choice to OpenBLAS.
static const char *coretype_for_this_cpu(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512cd")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return NULL;
}

/// Checks once that a small product with both operands transposed agrees with a naive
/// loop, in both precisions (23×19 by 19×17, values exact in binary).
static int products_agree(void) {
  enum { M = 23, N = 17, K = 19 };
  float af[K * M], bf[N * K], cf[M * N];
  double ad[K * M], bd[N * K], cd[M * N];
  for (int i = 0; i < K * M; i++) ad[i] = af[i] = (float)((i * 7) % 13 - 6) / 8.0f;
  for (int i = 0; i < N * K; i++) bd[i] = bf[i] = (float)((i * 5) % 11 - 5) / 4.0f;
  // A is stored as Aᵀ (K×M), B as Bᵀ (N×K).
  blas.sgemm(kRowMajor, kTrans, kTrans, M, N, K, 1.0f, af, M, bf, K, 0.0f, cf, N);
  blas.dgemm(kRowMajor, kTrans, kTrans, M, N, K, 1.0, ad, M, bd, K, 0.0, cd, N);
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < N; j++) {
      double reference = 0;
      for (int p = 0; p < K; p++) reference += ad[p * M + i] * bd[j * K + p];
      // Every partial sum is exact in both precisions, so the results must be too.
      if (cf[i * N + j] != (float)reference || cd[i * N + j] != reference) return 0;
    }
  }
  return 1;
}

static void load_library(void) {
  const char *user = getenv("OPENBLAS_CORETYPE");
  // A child process inherits the variable this process set: BACKPROP_CHOSEN_CORETYPE says
  // the value was Backprop's choice, not the user's, so that the child reports it alike.
  const char *inherited = getenv("BACKPROP_CHOSEN_CORETYPE");
  if (user == NULL || user[0] == '\0') {
    const char *core = coretype_for_this_cpu();
    if (core != NULL) {
      setenv("OPENBLAS_CORETYPE", core, 1);
      setenv("BACKPROP_CHOSEN_CORETYPE", core, 1);
      snprintf(blas.chosen, sizeof blas.chosen, "%s", core);
    }
  } else if (inherited != NULL && strcmp(inherited, user) == 0) {
    snprintf(blas.chosen, sizeof blas.chosen, "%s", user);
  }
  // Idle OpenBLAS threads spin (sched_yield) for 2^28 cycles by default, taking a core
  // from the elementwise work between products; 2^16 lets them sleep soon after.
  if (getenv("OPENBLAS_THREAD_TIMEOUT") == NULL) setenv("OPENBLAS_THREAD_TIMEOUT", "16", 1);
  const char *threads = getenv("BACKPROP_THREADS");
  if (threads != NULL && threads[0] != '\0' && getenv("OPENBLAS_NUM_THREADS") == NULL) {
    setenv("OPENBLAS_NUM_THREADS", threads, 1);
  }
  static const char *candidates[] = {"libopenblas.so.0", "libopenblas.so", "libblas.so.3"};
  void *handle = NULL;
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && handle == NULL; i++) {
    handle = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
    if (handle != NULL) blas.library = candidates[i];
  }
  if (handle == NULL) {
    snprintf(blas.error, sizeof blas.error,
             "cannot load OpenBLAS (libopenblas.so.0): %s; install libopenblas-dev", dlerror());
    blas.status = -2;
    return;
  }
  blas.sgemm = (sgemm_fn)dlsym(handle, "cblas_sgemm");
  blas.dgemm = (dgemm_fn)dlsym(handle, "cblas_dgemm");
  blas.sgemv = (sgemv_fn)dlsym(handle, "cblas_sgemv");
  blas.dgemv = (dgemv_fn)dlsym(handle, "cblas_dgemv");
  blas.set_threads = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
  blas.get_threads = (get_threads_fn)dlsym(handle, "openblas_get_num_threads");
  blas.corename = (corename_fn)dlsym(handle, "openblas_get_corename");
  if (blas.sgemm == NULL || blas.dgemm == NULL || blas.sgemv == NULL || blas.dgemv == NULL) {
    snprintf(blas.error, sizeof blas.error, "%s has no cblas_sgemm/cblas_dgemm/cblas_sgemv/cblas_dgemv",
             blas.library);
    blas.status = -3;
    return;
  }
  if (!products_agree()) {
    snprintf(blas.error, sizeof blas.error,
             "%s (core %s) computes wrong matrix products on this CPU; "
             "set OPENBLAS_CORETYPE to a core it supports",
             blas.library, blas.corename != NULL ? blas.corename() : "unknown");
    blas.status = -4;
    return;
  }
  if (blas.get_threads != NULL) apply_threads(blas.get_threads());
  blas.status = 0;
}

int backprop_blas_load(void) {
  pthread_once(&load_once, load_library);
  return blas.status;
}

static void require_blas(void) {
  if (backprop_blas_load() != 0) {
    fprintf(stderr, "backprop: %s\n", blas.error);
    abort();
  }
}

const char *backprop_blas_error(void) { return blas.error; }
const char *backprop_blas_library(void) { backprop_blas_load(); return blas.library; }
const char *backprop_blas_corename(void) {
  if (backprop_blas_load() != 0 || blas.corename == NULL) return "unknown";
  return blas.corename();
}
const char *backprop_blas_chosen_coretype(void) { backprop_blas_load(); return blas.chosen; }

void backprop_blas_set_threads(int count) {
  require_blas();
  apply_threads(count);
}
int backprop_blas_get_threads(void) {
  require_blas();
  return alone_here ? 1 : atomic_load(&configured_threads);
}

// A product with one row or one column is a matrix-vector product. OpenBLAS 0.3.21 sends
// it through the full GEMM path, which packs the whole matrix on every call (for one
// 784-pixel image through a 784×300 layer that copy is most of the time), so such
// products go to GEMV, which reads the matrix in place. k = 0 stays with GEMM: GEMV
// returns early there without applying beta.
#define GEMM_OR_GEMV(gemm, gemv)                                                            \
  require_blas();                                                                           \
  TIMING_START                                                                              \
  if (k > 0 && m == 1) {                                                                    \
    /* c (1×n) = op(A) (1×k) · op(B): c = op(B)ᵀ a; a's elements lie lda apart if Aᵀ. */   \
    if (tb) {                                                                               \
      blas.gemv(kRowMajor, kNoTrans, n, k, alpha, b, ldb, a, ta ? lda : 1, beta, c, 1);     \
    } else {                                                                                \
      blas.gemv(kRowMajor, kTrans, k, n, alpha, b, ldb, a, ta ? lda : 1, beta, c, 1);       \
    }                                                                                       \
    goto done;                                                                              \
  }                                                                                         \
  if (k > 0 && n == 1) {                                                                    \
    /* c (m×1, ldc apart) = op(A) (m×k) · b (k×1); b's elements lie ldb apart unless Bᵀ. */ \
    if (ta) {                                                                               \
      blas.gemv(kRowMajor, kTrans, k, m, alpha, a, lda, b, tb ? 1 : ldb, beta, c, ldc);     \
    } else {                                                                                \
      blas.gemv(kRowMajor, kNoTrans, m, k, alpha, a, lda, b, tb ? 1 : ldb, beta, c, ldc);   \
    }                                                                                       \
    goto done;                                                                              \
  }                                                                                         \
  blas.gemm(kRowMajor, ta ? kTrans : kNoTrans, tb ? kTrans : kNoTrans, m, n, k, alpha, a,   \
            lda, b, ldb, beta, c, ldc);                                                     \
  done:                                                                                     \
  TIMING_END


void backprop_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc) {
  GEMM_OR_GEMV(sgemm, sgemv)
}
void backprop_dgemm(int ta, int tb, int m, int n, int k, double alpha, const double *a, int lda,
                    const double *b, int ldb, double beta, double *c, int ldc) {
  GEMM_OR_GEMV(dgemm, dgemv)
}
#endif
