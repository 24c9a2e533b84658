// A second thread kept for work of a few microseconds: the calling thread runs share 0
// of a job while a persistent helper runs share 1, handed over through an atomic the
// helper spins on, because waking a sleeping thread (a futex, or a Dispatch pool) costs
// as much as the work itself.
#ifndef BACKPROP_PAIR_H
#define BACKPROP_PAIR_H

#ifdef __cplusplus
extern "C" {
#endif

/// One share of a job: `work(context, share)` for share 0 or 1.
typedef void (*backprop_pair_work)(void *context, int share);

/// Runs `work(context, 0)` on the calling thread and `work(context, 1)` on the helper
/// thread (started on the first call), side by side, and returns when both are done.
/// Each share always runs on the same thread while the helper is awake, so memory a
/// share reads stays in that core's cache from call to call. The helper spins for
/// about 200 µs after each job, then sleeps; when it has not taken share 1 by the time
/// share 0 is done, the caller runs share 1 itself, so a sleeping helper never makes a
/// call slower than running both shares in turn. Returns 0, or -1 (nothing run) when
/// the helper is serving another caller at that moment.
int backprop_pair_run(backprop_pair_work work, void *context);

#ifdef __cplusplus
}
#endif
#endif
