"""The first line of a comparison's results: when, where and with what it ran.

compare.sh passes what it knows through the environment: BACKPROP_COMMIT,
BACKPROP_BINARY, BACKPROP_GEMM_LINE (a line of `backprop bench gemm --json`, which
names the BLAS library and the OpenBLAS core), THREADS, WORKLOADS and QUICK.
"""
import datetime
import json
import os
import platform

import common
import torch  # noqa: F401  (so that common.versions() names it)


def cpu():
    model = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"model": model, "cores": os.cpu_count(), "system": platform.platform()}


gemm = json.loads(os.environ.get("BACKPROP_GEMM_LINE") or "{}")
binary = os.environ.get("BACKPROP_BINARY", "")
print(json.dumps({
    "tool": "session",
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": cpu(),
    "load_average": os.getloadavg(),
    "backprop": {"commit": os.environ.get("BACKPROP_COMMIT", "?"), "binary": binary,
                 "binary_built": datetime.datetime.fromtimestamp(os.path.getmtime(binary), datetime.timezone.utc)
                 .isoformat(timespec="seconds") if os.path.exists(binary) else None,
                 "blas": gemm.get("library"), "openblas_core": gemm.get("core")},
    "peers": common.versions(),
    "threads": [int(t) for t in os.environ.get("THREADS", "1 2").split()],
    "workloads": os.environ.get("WORKLOADS", "").split(),
    "quick": os.environ.get("QUICK") == "1",
}, sort_keys=True))
