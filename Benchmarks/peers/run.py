#!/usr/bin/env python3
"""The PyTorch and NumPy versions of Backprop's benchmark workloads (../WORKLOADS.md).

    python3 Benchmarks/peers/run.py W1 [W2 …|all] [--tool torch|numpy] [--threads 1,2]
                                    [--epochs N] [--l2 λ] [--quick]

Prints one JSON line per workload and thread count (W0: one per matrix size) on stdout,
with the keys `backprop bench workload` uses where they mean the same thing. Each
workload and thread count runs in a process of its own, started with OMP_NUM_THREADS,
MKL_NUM_THREADS and OPENBLAS_NUM_THREADS set to the thread count before NumPy or PyTorch
is imported (torch.set_num_threads as well); so each line's peak_rss_mb is its own.
--quick runs a few steps of each, to check that everything works: not a measurement.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (NumPy only; PyTorch waits for the thread variables)

MODULES = {"W0": "w0_gemm", "W1": "w1_cs229_mlp", "W2": "w2_relu_mlp", "W3": "w3_cnn",
           "W4": "w4_step_overhead", "W5": "w5_inference"}
TOOLS = {"torch": set(MODULES), "numpy": set(MODULES) - {"W3"}}
CHILD = "BACKPROP_PEER_THREADS"


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="+", metavar="WORKLOAD", help="W0 … W5, or all")
    parser.add_argument("--tool", choices=sorted(TOOLS), default="torch")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--epochs", type=int, help="training epochs (default: W1, W5 10; W2 5; W3 2)")
    parser.add_argument("--l2", type=float, default=0.0, help="W1, W5: L2 weight decay λ on the weights")
    parser.add_argument("--quick", action="store_true", help="a few steps of each: a smoke test")
    options = parser.parse_args()
    names = list(MODULES) if [w.lower() for w in options.workloads] == ["all"] else [w.upper() for w in options.workloads]
    for name in names:
        if name not in MODULES:
            parser.error(f"unknown workload {name} (W0 … W5 or all)")
        if name not in TOOLS[options.tool]:
            parser.error(f"{name} has no {options.tool} version")
    try:
        options.threads = [int(t) for t in options.threads.split(",")]
        assert all(t > 0 for t in options.threads)
    except (ValueError, AssertionError):
        parser.error(f"--threads must be positive integers separated by commas, got {options.threads!r}")
    if options.epochs is not None and options.epochs < 1:
        parser.error("--epochs must be at least 1")
    options.workloads = names
    return options


def run_each_in_its_own_process(options):
    """This script again for each workload and thread count, with the thread variables set."""
    for name in options.workloads:
        for threads in options.threads:
            command = [sys.executable, os.path.abspath(__file__), name, "--tool", options.tool,
                       "--threads", str(threads), "--l2", str(options.l2)]
            command += ["--epochs", str(options.epochs)] if options.epochs else []
            command += ["--quick"] if options.quick else []
            environment = common.thread_environment(threads) | {CHILD: str(threads)}
            if subprocess.run(command, env=environment).returncode != 0:
                sys.exit(f"run.py: {name} with {options.tool} on {threads} thread(s) failed")


def run_here(options):
    name, threads = options.workloads[0], options.threads[0]
    if options.tool == "torch":
        import torch
        torch.set_num_threads(threads)
    module = __import__(MODULES[name])
    results = module.run(options.tool, options)
    for result in results if isinstance(results, list) else [results]:
        line = {"workload": name, "tool": options.tool, "threads": threads, **result,
                "peak_rss_mb": common.peak_rss_mb(), "versions": common.versions()}
        if options.quick:
            line["quick"] = True
        print(json.dumps(line, sort_keys=True), flush=True)


if __name__ == "__main__":
    options = arguments()
    if os.environ.get(CHILD) == ",".join(map(str, options.threads)) and len(options.workloads) == 1:
        run_here(options)
    else:
        run_each_in_its_own_process(options)
