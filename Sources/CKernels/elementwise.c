// Algorithms (the same for both precisions):
// exp: x = n·ln2 + r, |r| ≤ ln2/2 (n by the magic-number rounding 1.5·2^p), eʳ by a
//   Taylor polynomial, 2ⁿ by building the exponent bits, in two halves so that results
//   reaching into the subnormal range lose precision gradually.
// expm1: the same reduction, 2ⁿ(eʳ − 1) + (2ⁿ − 1), without cancellation near 0.
// log: x = m·2ᵉ with m in [√½, √2), log m = 2·atanh(s), s = (m − 1)/(m + 1), by its series.
// tanh|x| = u/(u + 2) with u = e^{2|x|} − 1; sigmoid from e^{−|x|}; softplus
//   = max(x, 0) + log1p(e^{−|x|}) with log1p(e) = log(u)·e/(u − 1), u = 1 + e (Goldberg).
#include "backprop_kernels.h"

#include <stdint.h>

#define INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define MULTIVERSION __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define MULTIVERSION
#endif

// ---------------------------------------------------------------- Float

typedef union { float f; uint32_t u; } f32bits;

INLINE float magic_f32(void) { return 12582912.0f; }  // 1.5·2²³

INLINE float pow2_f32(float x, float n) {  // x·2ⁿ, n integral, n + 127 in [1, 254]
  f32bits b = {.f = n + (12582912.0f + 127.0f)};
  b.u = (b.u - 0x4B400000u) << 23;
  return x * b.f;
}

INLINE float round_f32(float x) { return (x + magic_f32()) - magic_f32(); }

INLINE float scale_f32(float x, float n) {
  float half = round_f32(n * 0.5f);
  half = half > n * 0.5f ? half - 1.0f : half;
  return pow2_f32(pow2_f32(x, half), n - half);
}

// q = eʳ − 1 after reduction; returns q and n.
INLINE float reduced_expm1_f32(float x, float *n_out) {
  float n = round_f32(x * 1.44269504088896341f);
  float r = (x - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 2.4801587e-5f;  // 1/8!
  p = p * r + 1.9841270e-4f;
  p = p * r + 1.3888889e-3f;
  p = p * r + 8.3333333e-3f;
  p = p * r + 4.1666667e-2f;
  p = p * r + 1.6666667e-1f;
  p = p * r + 0.5f;
  *n_out = n;
  return r + r * r * p;
}

static const float kExpUpperF32 = 88.7228394f;   // 128·ln2
static const float kExpLowerF32 = -103.972077f;  // −150·ln2

INLINE float exp_f32(float x) {
  float c = x < kExpLowerF32 - 1 ? kExpLowerF32 - 1 : (x > kExpUpperF32 + 1 ? kExpUpperF32 + 1 : x);
  float n;
  float q = reduced_expm1_f32(c, &n);
  float y = scale_f32(q + 1.0f, n);
  y = x > kExpUpperF32 ? __builtin_inff() : y;
  y = x < kExpLowerF32 ? 0.0f : y;
  return x != x ? x : y;
}

INLINE float expm1_f32(float x) {
  float c = x < -17.5f ? -17.5f : (x > kExpUpperF32 + 1 ? kExpUpperF32 + 1 : x);
  float n;
  float q = reduced_expm1_f32(c, &n);
  float y = scale_f32(q, n) + (scale_f32(1.0f, n) - 1.0f);
  y = x > kExpUpperF32 ? __builtin_inff() : y;
  return x != x ? x : y;
}

INLINE float log_f32(float x) {
  int subnormal = x < 1.17549435e-38f;
  float y = subnormal ? x * 16777216.0f : x;  // ·2²⁴
  f32bits b = {.f = y};
  f32bits e_bits = {.u = ((b.u >> 23) & 0xFFu) + 0x4B400000u};
  float e = e_bits.f - (12582912.0f + 127.0f);
  e = subnormal ? e - 24.0f : e;
  f32bits m_bits = {.u = (b.u & 0x007FFFFFu) | 0x3F800000u};
  float m = m_bits.f;
  int large = m > 1.41421356f;
  m = large ? m * 0.5f : m;
  e = large ? e + 1.0f : e;
  float f = m - 1.0f;
  float s = f / (f + 2.0f);
  float s2 = s * s;
  float p = 2.0f / 11;
  p = p * s2 + 2.0f / 9;
  p = p * s2 + 2.0f / 7;
  p = p * s2 + 2.0f / 5;
  p = p * s2 + 2.0f / 3;
  p = p * s2 + 2.0f;
  float r = e * 0.693359375f + (s * p + e * -2.12194440e-4f);
  r = x == 0.0f ? -__builtin_inff() : r;
  r = x == __builtin_inff() ? __builtin_inff() : r;
  return (x < 0.0f || x != x) ? __builtin_nanf("") : r;
}

INLINE float tanh_f32(float x) {
  float a = x < 0 ? -x : x;
  a = a > 10.0f ? 10.0f : a;
  float u = expm1_f32(a + a);
  float t = u / (u + 2.0f);
  return x != x ? x : (x < 0 ? -t : t);
}

INLINE float sigmoid_f32(float x) {
  float e = exp_f32(x > 0 ? -x : x);
  float s = 1.0f / (1.0f + e);
  return x < 0 ? e * s : s;
}

INLINE float softplus_f32(float x) {
  float e = exp_f32(x > 0 ? -x : x);
  float u = 1.0f + e;
  float l = u == 1.0f ? e : log_f32(u) * (e / (u - 1.0f));
  return (x < 0 ? 0.0f : x) + l;
}

// ---------------------------------------------------------------- Double

typedef union { double f; uint64_t u; } f64bits;

INLINE double magic_f64(void) { return 6755399441055744.0; }  // 1.5·2⁵²

INLINE double pow2_f64(double x, double n) {
  f64bits b = {.f = n + (6755399441055744.0 + 1023.0)};
  b.u = (b.u - 0x4338000000000000ull) << 52;
  return x * b.f;
}

INLINE double round_f64(double x) { return (x + magic_f64()) - magic_f64(); }

INLINE double scale_f64(double x, double n) {
  double half = round_f64(n * 0.5);
  half = half > n * 0.5 ? half - 1.0 : half;
  return pow2_f64(pow2_f64(x, half), n - half);
}

INLINE double reduced_expm1_f64(double x, double *n_out) {
  double n = round_f64(x * 1.44269504088896340736);
  double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
  double p = 1.0 / 87178291200.0;  // 1/14!
  p = p * r + 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  *n_out = n;
  return r + r * r * p;
}

static const double kExpUpperF64 = 709.782712893384;   // 1024·ln2
static const double kExpLowerF64 = -745.1332191019412;  // −1075·ln2

INLINE double exp_f64(double x) {
  double c = x < kExpLowerF64 - 1 ? kExpLowerF64 - 1 : (x > kExpUpperF64 + 1 ? kExpUpperF64 + 1 : x);
  double n;
  double q = reduced_expm1_f64(c, &n);
  double y = scale_f64(q + 1.0, n);
  y = x > kExpUpperF64 ? __builtin_inf() : y;
  y = x < kExpLowerF64 ? 0.0 : y;
  return x != x ? x : y;
}

INLINE double expm1_f64(double x) {
  double c = x < -38.0 ? -38.0 : (x > kExpUpperF64 + 1 ? kExpUpperF64 + 1 : x);
  double n;
  double q = reduced_expm1_f64(c, &n);
  double y = scale_f64(q, n) + (scale_f64(1.0, n) - 1.0);
  y = x > kExpUpperF64 ? __builtin_inf() : y;
  return x != x ? x : y;
}

INLINE double log_f64(double x) {
  int subnormal = x < 2.2250738585072014e-308;
  double y = subnormal ? x * 9007199254740992.0 : x;  // ·2⁵³
  f64bits b = {.f = y};
  f64bits e_bits = {.u = ((b.u >> 52) & 0x7FFull) + 0x4338000000000000ull};
  double e = e_bits.f - (6755399441055744.0 + 1023.0);
  e = subnormal ? e - 53.0 : e;
  f64bits m_bits = {.u = (b.u & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull};
  double m = m_bits.f;
  int large = m > 1.4142135623730951;
  m = large ? m * 0.5 : m;
  e = large ? e + 1.0 : e;
  double f = m - 1.0;
  double s = f / (f + 2.0);
  double s2 = s * s;
  double p = 2.0 / 23;
  p = p * s2 + 2.0 / 21;
  p = p * s2 + 2.0 / 19;
  p = p * s2 + 2.0 / 17;
  p = p * s2 + 2.0 / 15;
  p = p * s2 + 2.0 / 13;
  p = p * s2 + 2.0 / 11;
  p = p * s2 + 2.0 / 9;
  p = p * s2 + 2.0 / 7;
  p = p * s2 + 2.0 / 5;
  p = p * s2 + 2.0 / 3;
  p = p * s2 + 2.0;
  double r = e * 6.93147180369123816490e-01 + (s * p + e * 1.90821492927058770002e-10);
  r = x == 0.0 ? -__builtin_inf() : r;
  r = x == __builtin_inf() ? __builtin_inf() : r;
  return (x < 0.0 || x != x) ? __builtin_nan("") : r;
}

INLINE double tanh_f64(double x) {
  double a = x < 0 ? -x : x;
  a = a > 20.0 ? 20.0 : a;
  double u = expm1_f64(a + a);
  double t = u / (u + 2.0);
  return x != x ? x : (x < 0 ? -t : t);
}

INLINE double sigmoid_f64(double x) {
  double e = exp_f64(x > 0 ? -x : x);
  double s = 1.0 / (1.0 + e);
  return x < 0 ? e * s : s;
}

INLINE double softplus_f64(double x) {
  double e = exp_f64(x > 0 ? -x : x);
  double u = 1.0 + e;
  double l = u == 1.0 ? e : log_f64(u) * (e / (u - 1.0));
  return (x < 0 ? 0.0 : x) + l;
}

// ---------------------------------------------------------------- Loops

#define DEFINE_LOOP(name, T, f)                                                   \
  MULTIVERSION static void name(const T *restrict x, T *restrict y, size_t n) {  \
    for (size_t i = 0; i < n; i++) y[i] = f(x[i]);                                \
  }

DEFINE_LOOP(loop_exp_f32, float, exp_f32)
DEFINE_LOOP(loop_log_f32, float, log_f32)
DEFINE_LOOP(loop_tanh_f32, float, tanh_f32)
DEFINE_LOOP(loop_sigmoid_f32, float, sigmoid_f32)
DEFINE_LOOP(loop_softplus_f32, float, softplus_f32)
DEFINE_LOOP(loop_exp_f64, double, exp_f64)
DEFINE_LOOP(loop_log_f64, double, log_f64)
DEFINE_LOOP(loop_tanh_f64, double, tanh_f64)
DEFINE_LOOP(loop_sigmoid_f64, double, sigmoid_f64)
DEFINE_LOOP(loop_softplus_f64, double, softplus_f64)

void backprop_map_f32(backprop_function f, const float *x, float *y, size_t n) {
  switch (f) {
    case BACKPROP_EXP: loop_exp_f32(x, y, n); break;
    case BACKPROP_LOG: loop_log_f32(x, y, n); break;
    case BACKPROP_TANH: loop_tanh_f32(x, y, n); break;
    case BACKPROP_SIGMOID: loop_sigmoid_f32(x, y, n); break;
    case BACKPROP_SOFTPLUS: loop_softplus_f32(x, y, n); break;
  }
}

void backprop_map_f64(backprop_function f, const double *x, double *y, size_t n) {
  switch (f) {
    case BACKPROP_EXP: loop_exp_f64(x, y, n); break;
    case BACKPROP_LOG: loop_log_f64(x, y, n); break;
    case BACKPROP_TANH: loop_tanh_f64(x, y, n); break;
    case BACKPROP_SIGMOID: loop_sigmoid_f64(x, y, n); break;
    case BACKPROP_SOFTPLUS: loop_softplus_f64(x, y, n); break;
  }
}
