// The products of one training step of W1 and W2 (Benchmarks/WORKLOADS.md), alone: each
// at its own shape, split over two threads the way Backprop splits it (the longer of C's
// sides, at the multiple of 8 nearest the middle, each half a single-threaded OpenBLAS
// call, the second on a spinning helper thread), with nothing else in the step. The sum
// over an epoch's steps is what the products cost when they run at the speed OpenBLAS
// reaches at these shapes: a floor for the epoch that this BLAS can reach, beside the
// FLOP floor (the same work at the GFLOP/s of a large square product, also measured).
//
//   cc -O2 -pthread Benchmarks/product_floor.c -o /tmp/product_floor -lopenblas
//   OPENBLAS_NUM_THREADS=1 /tmp/product_floor
//
// Against a newer OpenBLAS, the one in PyPI's scipy-openblas32 wheel (its symbols carry a
// scipy_ prefix):
//   pip download --no-deps scipy-openblas32 && unzip -q scipy_openblas32-*.whl -d /tmp/sob
//   L=/tmp/sob/scipy_openblas32/lib
//   cc -O2 -pthread -Dcblas_sgemm=scipy_cblas_sgemm -Dopenblas_set_num_threads=scipy_openblas_set_num_threads \
//      Benchmarks/product_floor.c -o /tmp/product_floor_new -L$L -lscipy_openblas -Wl,-rpath,$L
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// One product C (m×n) = op(A)·op(B), row-major, op(A) m×k, op(B) k×n.
typedef struct {
  int ta, tb, m, n, k;
  const char *name;
} product;

// A block of a product: the rows or columns [first, first + count) of C.
typedef struct {
  const product *p;
  int rows;  // 1: split by rows of C, 0: by columns
  int first, count;
  const float *a, *b;
  float *c;
} block;

static void run_block(const block *x) {
  const product *p = x->p;
  int lda = p->ta ? p->m : p->k, ldb = p->tb ? p->k : p->n, ldc = p->n;
  const float *a = x->a, *b = x->b;
  float *c = x->c;
  int m = p->m, n = p->n;
  if (x->rows) {
    a += p->ta ? x->first : (size_t)x->first * lda;
    c += (size_t)x->first * ldc;
    m = x->count;
  } else {
    b += p->tb ? (size_t)x->first * ldb : x->first;
    c += x->first;
    n = x->count;
  }
  cblas_sgemm(CblasRowMajor, p->ta ? CblasTrans : CblasNoTrans, p->tb ? CblasTrans : CblasNoTrans, m, n, p->k, 1,
              a, lda, b, ldb, 0, c, ldc);
}

// The helper: spins on `posted` for a block to run, as CKernels' pair does.
static _Atomic(const block *) posted;
static atomic_int done;
static void *helper(void *unused) {
  (void)unused;
  for (;;) {
    const block *x;
    while (!(x = atomic_load_explicit(&posted, memory_order_acquire))) {}
    atomic_store(&posted, NULL);
    if (x->p == NULL) return NULL;
    run_block(x);
    atomic_store_explicit(&done, 1, memory_order_release);
  }
}

// Backprop's split (Kernels.productSplit with two threads): none below 2^18 of m·n·k or
// when the longer side is under 32; else the longer side at the multiple of 8 nearest
// its middle.
static void run_split(const product *p, const float *a, const float *b, float *c) {
  int side = p->m > p->n ? p->m : p->n;
  if ((long)p->m * p->n * p->k < (1 << 18) || side < 32 || p->m == 1) {
    block whole = {p, 1, 0, p->m, a, b, c};
    run_block(&whole);
    return;
  }
  int boundary = (side / 2 + 4) / 8 * 8, rows = p->n < p->m;
  block first = {p, rows, 0, boundary, a, b, c}, second = {p, rows, boundary, side - boundary, a, b, c};
  atomic_store(&done, 0);
  atomic_store_explicit(&posted, &second, memory_order_release);
  run_block(&first);
  while (!atomic_load_explicit(&done, memory_order_acquire)) {}
}

static float *filled(size_t n) {
  float *x = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
  return x;
}

// Times `count` products, `steps` times over, best of `blocks` blocks; returns seconds
// per step and prints each product's share.
static double step_time(const char *workload, const product *ps, int count, int steps, int blocks) {
  float *a = filled(1 << 22), *b = filled(1 << 22), *c = filled(1 << 22);
  double total = 0;
  printf("%s, one step's products on two threads:\n", workload);
  for (int i = 0; i < count; i++) {
    double best = 1e9;
    for (int r = 0; r < blocks; r++) {
      double start = now();
      for (int s = 0; s < steps; s++) run_split(&ps[i], a, b, c);
      double t = (now() - start) / steps;
      if (t < best) best = t;
    }
    double flop = 2.0 * ps[i].m * ps[i].n * ps[i].k;
    printf("  %-28s %4d×%4d×%4d  %8.1f µs  %6.1f GFLOP/s\n", ps[i].name, ps[i].m, ps[i].n, ps[i].k, best * 1e6,
           flop / best / 1e9);
    total += best;
  }
  free(a), free(b), free(c);
  return total;
}

static double flops(const product *ps, int count) {
  double f = 0;
  for (int i = 0; i < count; i++) f += 2.0 * ps[i].m * ps[i].n * ps[i].k;
  return f;
}

int main(void) {
  openblas_set_num_threads(1);
  pthread_t thread;
  pthread_create(&thread, NULL, helper, NULL);

  // The peak: a 2048² product split in two, as the FLOP floor's GFLOP/s.
  product square = {0, 0, 2048, 2048, 2048, "2048² square"};
  double peak_seconds = step_time("Peak", &square, 1, 3, 5);
  double peak = flops(&square, 1) / peak_seconds;

  // W1: 784 → 300 sigmoid → 10 softmax, batch 1000, 60 steps. Weights are [out, in].
  product w1[] = {
      {0, 1, 1000, 300, 784, "forward X·W1ᵀ"},
      {0, 1, 1000, 10, 300, "forward A·W2ᵀ"},
      {1, 0, 10, 300, 1000, "dW2 = δ2ᵀ·A"},
      {0, 0, 1000, 300, 10, "δ2·W2"},
      {1, 0, 300, 784, 1000, "dW1 = δ1ᵀ·X"},
  };
  // W2: 784 → 256 → 128 → 10, batch 64, 938 steps (937 of 64 and one of 32: counted as
  // 937.5 of 64).
  product w2[] = {
      {0, 1, 64, 256, 784, "forward X·W1ᵀ"},  {0, 1, 64, 128, 256, "forward A1·W2ᵀ"},
      {0, 1, 64, 10, 128, "forward A2·W3ᵀ"},  {1, 0, 10, 128, 64, "dW3 = δ3ᵀ·A2"},
      {0, 0, 64, 128, 10, "δ3·W3"},           {1, 0, 128, 256, 64, "dW2 = δ2ᵀ·A1"},
      {0, 0, 64, 256, 128, "δ2·W2"},          {1, 0, 256, 784, 64, "dW1 = δ1ᵀ·X"},
  };
  struct {
    const char *name;
    product *ps;
    int count;
    double steps;
    int reps;
  } workloads[] = {{"W1", w1, 5, 60, 20}, {"W2", w2, 8, 937.5, 300}};
  printf("\n");
  for (int w = 0; w < 2; w++) {
    double step = step_time(workloads[w].name, workloads[w].ps, workloads[w].count, workloads[w].reps, 7);
    double work = flops(workloads[w].ps, workloads[w].count) * workloads[w].steps;
    printf("  an epoch: %.1f GFLOP; products at these shapes %.3f s; at the peak (%.0f GFLOP/s) %.3f s\n\n",
           work / 1e9, step * workloads[w].steps, peak / 1e9, work / peak);
  }
  block stop = {NULL};
  atomic_store(&posted, &stop);
  pthread_join(thread, NULL);
  return 0;
}
