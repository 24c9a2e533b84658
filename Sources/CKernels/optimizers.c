#include "backprop_optimizers.h"

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MULTIVERSION
#endif

// The same arithmetic as SGD's passes of y = a·x + b·y: g' = λ·w + 1·g,
// v = gain·g' + β·v, w = (−α)·v + 1·w (Nesterov: w = (−αβ)·v + 1·w, then (−α)·g' + 1·w).
#define MOMENTUM_STEP(name, T)                                                                  \
  MULTIVERSION                                                                                  \
  void name(T *restrict w, T *restrict v, const T *restrict g, size_t begin, size_t end,       \
            T alpha, T beta, T gain, T lambda, int nesterov) {                                  \
    const T one = 1;                                                                            \
    if (nesterov) {                                                                             \
      for (size_t i = begin; i < end; i++) {                                                    \
        T gi = lambda != 0 ? lambda * w[i] + one * g[i] : g[i];                                 \
        T vi = gain * gi + beta * v[i];                                                         \
        v[i] = vi;                                                                              \
        T wi = (-alpha * beta) * vi + one * w[i];                                               \
        w[i] = (-alpha) * gi + one * wi;                                                        \
      }                                                                                         \
    } else {                                                                                    \
      for (size_t i = begin; i < end; i++) {                                                    \
        T gi = lambda != 0 ? lambda * w[i] + one * g[i] : g[i];                                 \
        T vi = gain * gi + beta * v[i];                                                         \
        v[i] = vi;                                                                              \
        w[i] = (-alpha) * vi + one * w[i];                                                      \
      }                                                                                         \
    }                                                                                           \
  }

MOMENTUM_STEP(backprop_momentum_step_f32, float)
MOMENTUM_STEP(backprop_momentum_step_f64, double)
