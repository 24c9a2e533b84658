// Read bandwidth from one core and from two, for the bound on W5 at batch 1: how fast
// can one forward pass read the first layer's 784×300 Float weights (940 800 bytes)?
// One core reads the whole buffer again and again (it does not fit in a 512 KiB L2, so
// it comes from L3); two cores, pinned to CPUs 0 and 1, each read their own half (which
// does fit). Each figure is the fastest of 7 blocks of passes; the sums are kept, so no
// pass is optimised away.
//
//   cc -O2 -mavx2 -pthread Benchmarks/cache_bandwidth.c -o /tmp/cache_bandwidth
//   /tmp/cache_bandwidth [bytes ...]     (default: 940800, then 16 MiB for contrast)
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// Sums n floats (n a multiple of 64) with eight independent AVX accumulators, so that
// the loads, not the additions, set the pace.
__attribute__((noinline)) static float read_all(const float *p, size_t n) {
  __m256 a[8];
  for (int i = 0; i < 8; i++) a[i] = _mm256_setzero_ps();
  for (size_t i = 0; i < n; i += 64) {
    for (int j = 0; j < 8; j++) a[j] = _mm256_add_ps(a[j], _mm256_load_ps(p + i + 8 * j));
  }
  for (int j = 1; j < 8; j++) a[0] = _mm256_add_ps(a[0], a[j]);
  float lanes[8], sum = 0;
  _mm256_storeu_ps(lanes, a[0]);
  for (int j = 0; j < 8; j++) sum += lanes[j];
  return sum;
}

typedef struct { int cpu; size_t floats; int passes; double seconds; float sum; } reader;
static atomic_int ready;

static void *read_repeatedly(void *argument) {
  reader *r = argument;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(r->cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  float *p = aligned_alloc(64, r->floats * sizeof(float));
  for (size_t i = 0; i < r->floats; i++) p[i] = 1.0f;
  for (int i = 0; i < 50; i++) r->sum += read_all(p, r->floats);
  atomic_fetch_sub(&ready, 1);
  while (atomic_load(&ready) > 0) {}  // the readers start together
  r->seconds = 1e9;
  for (int block = 0; block < 7; block++) {
    double start = now();
    for (int i = 0; i < r->passes; i++) {
      __asm__ volatile("" : : "r"(p) : "memory");  // each pass reads memory again
      r->sum += read_all(p, r->floats);
    }
    double seconds = (now() - start) / r->passes;
    if (seconds < r->seconds) r->seconds = seconds;
  }
  free(p);
  return NULL;
}

int main(int argc, char **argv) {
  size_t defaults[] = {940800, 16u << 20};
  int count = argc > 1 ? argc - 1 : 2;
  for (int s = 0; s < count; s++) {
    size_t bytes = argc > 1 ? strtoull(argv[s + 1], NULL, 10) : defaults[s];
    for (int threads = 1; threads <= 2; threads++) {
      size_t each = bytes / sizeof(float) / threads / 64 * 64;
      reader readers[2];
      pthread_t ids[2];
      atomic_store(&ready, threads);
      for (int i = 0; i < threads; i++) {
        readers[i] = (reader){.cpu = i, .floats = each, .passes = (int)(2e8 / (each * 4)) + 1};
        pthread_create(&ids[i], NULL, read_repeatedly, &readers[i]);
      }
      double slowest = 0;
      for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        if (readers[i].seconds > slowest) slowest = readers[i].seconds;
      }
      double total = (double)each * sizeof(float) * threads;
      printf("%9.0f bytes on %d core(s), %9.0f each: %8.2f µs a pass, %6.1f GB/s in all (checksum %g)\n",
             total, threads, total / threads, slowest * 1e6, total / slowest / 1e9,
             (double)(readers[0].sum + (threads > 1 ? readers[1].sum : 0)));
    }
  }
  return 0;
}
