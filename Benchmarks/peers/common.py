"""What every peer workload shares: seeds, the timing rules of WORKLOADS.md, the
initialisations, peak memory and the versions a result line names.

Nothing here imports torch: run.py imports it only after the thread variables are set.
"""
import os
import platform
import statistics
import time

import numpy as np

INIT_SEED = 1234      # weights, W4's data, W0's matrices
SHUFFLE_SEED = 1235   # the order of the training examples, epoch by epoch
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

now = time.perf_counter


def median(values):
    return float(statistics.median(values))


def epoch_seconds(times):
    """The figure for a training run: the median of epochs 2-4, epoch 1 being the
    warm-up; with fewer than four epochs, the last one (as `backprop bench workload`)."""
    return median(times[1:4]) if len(times) >= 4 else float(times[-1])


def permutations(count, epochs):
    """One shuffle of range(count) per epoch, the same for every tool."""
    generator = np.random.default_rng(SHUFFLE_SEED)
    return [generator.permutation(count) for _ in range(epochs)]


def normal_layer(generator, inputs, outputs):
    """W ~ N(0, 1) of shape [outputs, inputs], b = 0 (W1's initialisation)."""
    return generator.standard_normal((outputs, inputs), dtype=np.float32), np.zeros(outputs, np.float32)


def uniform_layer(generator, inputs, outputs):
    """W, b ~ U(-1/sqrt(inputs), 1/sqrt(inputs)): torch.nn.Linear's own distribution,
    drawn here so that the NumPy and PyTorch versions start from the same numbers."""
    bound = 1 / np.sqrt(inputs)
    weight = generator.uniform(-bound, bound, (outputs, inputs)).astype(np.float32)
    return weight, generator.uniform(-bound, bound, outputs).astype(np.float32)


def peak_rss_mb():
    """This process's peak resident memory (VmHWM) in MiB, the figure Backprop reports."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def versions():
    """Python, NumPy, PyTorch (when imported) and the BLAS libraries loaded, with the
    thread count each one will use."""
    found = {"python": platform.python_version(), "numpy": np.__version__}
    torch = __import__("sys").modules.get("torch")
    if torch is not None:
        found["torch"] = torch.__version__
        found["torch_threads"] = torch.get_num_threads()
        found["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "other"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return found
    found["thread_pools"] = [
        {key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads")}
        for pool in threadpool_info()]
    return found


def thread_environment(threads):
    """The environment of a child process limited to `threads` threads in every pool."""
    environment = dict(os.environ)
    environment.update({name: str(threads) for name in THREAD_VARIABLES})
    return environment
