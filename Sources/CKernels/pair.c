#include "backprop_pair.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

enum { kOpen, kTakenByHelper, kTakenByCaller };

static struct {
  atomic_flag busy;            // held by the one caller whose job is posted
  atomic_uint posted;          // jobs posted so far; a new value is a new job
  atomic_int share1;           // kOpen until the helper or the caller takes share 1
  atomic_int share1_done;      // set by the helper when its share 1 is done
  atomic_int sleeping;         // the helper waits on `wake` (or is about to)
  backprop_pair_work work;     // the job, published by the release store of kOpen
  void *context;
  pthread_mutex_t lock;
  pthread_cond_t wake;
} pair = {.busy = ATOMIC_FLAG_INIT, .share1 = kTakenByCaller, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static pthread_once_t started = PTHREAD_ONCE_INIT;
static int start_failed;

// How long the helper spins for the next job before it sleeps: long enough to span the
// gaps between a training step's products and fork-joins, and between one inference and
// the next, short enough not to hold a core for long. At 50 µs the helper slept and was
// woken 1–5 times a step on W1 and W2 (1 034 and 2 969 context switches in a run, against
// 277 and 94 at 200 µs), each wake-up delaying its half of the next product.
static const long long kSpinNanoseconds = 200000;

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static long long nanoseconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

/// The next job after `seen`: spins, then sleeps on `wake`.
static unsigned next_job(unsigned seen) {
  long long deadline = nanoseconds() + kSpinNanoseconds;
  for (unsigned spins = 1;; spins++) {
    unsigned posted = atomic_load_explicit(&pair.posted, memory_order_acquire);
    if (posted != seen) return posted;
    relax();
    if (spins % 256 == 0 && nanoseconds() > deadline) break;
  }
  pthread_mutex_lock(&pair.lock);
  // Seq-cst store, then load: either the poster sees `sleeping` and signals under the
  // lock, or this load sees its job.
  atomic_store(&pair.sleeping, 1);
  while (atomic_load(&pair.posted) == seen) pthread_cond_wait(&pair.wake, &pair.lock);
  atomic_store(&pair.sleeping, 0);
  pthread_mutex_unlock(&pair.lock);
  return atomic_load_explicit(&pair.posted, memory_order_acquire);
}

static void *helper(void *unused) {
  (void)unused;
  unsigned seen = atomic_load(&pair.posted);
  for (;;) {
    seen = next_job(seen);
    int open = kOpen;
    if (atomic_compare_exchange_strong(&pair.share1, &open, kTakenByHelper)) {
      pair.work(pair.context, 1);
      atomic_store_explicit(&pair.share1_done, 1, memory_order_release);
    }
  }
  return NULL;
}

static void start_helper(void) {
  pthread_t thread;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  start_failed = pthread_create(&thread, &attributes, helper, NULL) != 0;
  pthread_attr_destroy(&attributes);
}

int backprop_pair_run(backprop_pair_work work, void *context) {
  pthread_once(&started, start_helper);
  if (start_failed || atomic_flag_test_and_set_explicit(&pair.busy, memory_order_acquire)) return -1;
  pair.work = work;
  pair.context = context;
  atomic_store_explicit(&pair.share1_done, 0, memory_order_relaxed);
  // Releases the job: a helper whose exchange finds kOpen also sees work and context.
  atomic_store_explicit(&pair.share1, kOpen, memory_order_release);
  atomic_fetch_add(&pair.posted, 1);  // seq-cst: see next_job
  if (atomic_load(&pair.sleeping)) {
    pthread_mutex_lock(&pair.lock);
    pthread_cond_signal(&pair.wake);
    pthread_mutex_unlock(&pair.lock);
  }
  work(context, 0);
  int open = kOpen;
  if (atomic_compare_exchange_strong(&pair.share1, &open, kTakenByCaller)) {
    work(context, 1);
  } else {
    while (!atomic_load_explicit(&pair.share1_done, memory_order_acquire)) relax();
  }
  atomic_flag_clear_explicit(&pair.busy, memory_order_release);
  return 0;
}
