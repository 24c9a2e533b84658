#include "backprop_scratch.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct {
  void *pointer[BACKPROP_SCRATCH_SLOTS];
  size_t bytes[BACKPROP_SCRATCH_SLOTS];
} scratch;

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void release(void *p) {
  scratch *s = p;
  for (int i = 0; i < BACKPROP_SCRATCH_SLOTS; i++) free(s->pointer[i]);
  free(s);
}

static void make_key(void) { pthread_key_create(&key, release); }

void *backprop_scratch(size_t slot, size_t bytes) {
  if (slot >= BACKPROP_SCRATCH_SLOTS) return NULL;
  pthread_once(&once, make_key);
  scratch *s = pthread_getspecific(key);
  if (s == NULL) {
    s = calloc(1, sizeof *s);
    if (s == NULL || pthread_setspecific(key, s) != 0) {
      free(s);
      return NULL;
    }
  }
  if (s->bytes[slot] < bytes || s->pointer[slot] == NULL) {
    free(s->pointer[slot]);
    size_t rounded = (bytes + 63) / 64 * 64;
    s->pointer[slot] = aligned_alloc(64, rounded > 0 ? rounded : 64);
    s->bytes[slot] = s->pointer[slot] ? rounded : 0;
  }
  return s->pointer[slot];
}
