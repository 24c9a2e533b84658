"""W0: float32 C = A·B for square n×n matrices, in GFLOP/s (2n³ per product).

Per size: two untimed products, then `repeats` timed batches of k products, k chosen
so that a batch lasts at least `min_batch_s`; the figure is the best batch. C is
allocated once, so the timing holds no allocation. One record per size.
"""
import numpy as np

import common

SIZES = (256, 512, 1024, 2048, 4096)


def product(tool, a, b):
    """A function computing a·b into a preallocated result, with `tool`."""
    if tool == "numpy":
        c = np.empty_like(a)
        return lambda: np.matmul(a, b, out=c)
    import torch
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    tc = torch.empty_like(ta)
    return lambda: torch.mm(ta, tb, out=tc)


def gflops(multiply, n, repeats, min_batch_s):
    multiply(); multiply()
    start = common.now(); multiply(); single = common.now() - start
    per_batch = max(1, int(np.ceil(min_batch_s / max(single, 1e-9))))
    best = float("inf")
    for _ in range(repeats):
        start = common.now()
        for _ in range(per_batch):
            multiply()
        best = min(best, (common.now() - start) / per_batch)
    return 2 * n ** 3 / best / 1e9


def run(tool, options):
    sizes = SIZES[:2] if options.quick else SIZES
    repeats, min_batch_s = (2, 0.05) if options.quick else (5, 0.2)
    generator = np.random.default_rng(common.INIT_SEED)
    records = []
    for n in sizes:
        a = generator.uniform(-1, 1, (n, n)).astype(np.float32)
        b = generator.uniform(-1, 1, (n, n)).astype(np.float32)
        rate = gflops(product(tool, a, b), n, repeats, min_batch_s)
        records.append({"size": n, "gflops": round(rate, 1)})
    return records
