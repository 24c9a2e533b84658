// Optimiser updates fused into one pass over the parameters.
#ifndef BACKPROP_OPTIMIZERS_H
#define BACKPROP_OPTIMIZERS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// SGD with momentum, in place, one pass over elements [begin, end):
///   g' = g + lambda·w                       (L2; lambda may be 0)
///   v  = gain·g' + beta·v                   (gain = 1 classical/Nesterov, 1 − beta notes)
///   w  = w − alpha·v                        (classical, notes)
///   w  = (w − alpha·beta·v) − alpha·g'      (Nesterov)
/// Each expression is evaluated as written, without contraction into fused multiply-adds,
/// so the result equals the same steps taken one array pass at a time.
void backprop_momentum_step_f32(float *w, float *v, const float *g, size_t begin, size_t end, float alpha,
                                float beta, float gain, float lambda, int nesterov);
void backprop_momentum_step_f64(double *w, double *v, const double *g, size_t begin, size_t end,
                                double alpha, double beta, double gain, double lambda, int nesterov);

#ifdef __cplusplus
}
#endif
#endif
