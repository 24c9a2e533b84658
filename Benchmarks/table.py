"""Markdown table of Benchmarks/compare.sh's JSON lines: Backprop against PyTorch (and
NumPy in the notes), per workload and thread count. Ratios are Backprop / PyTorch.

    python3 Benchmarks/table.py Benchmarks/results/<date>.jsonl

Also reads the results of earlier versions of compare.sh (no session line; the peers'
W0 as one line with a GFLOP/s figure per size).
"""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
session = next((r for r in rows if r.get("tool") == "session"), None)
session_end = next((r for r in rows if r.get("tool") == "session_end"), {})


def header():
    if session is None:
        info = open("/proc/cpuinfo").read().splitlines()
        cpu = next((l.split(":", 1)[1].strip() for l in info if l.startswith("model name")), "?")
        cores = sum(1 for l in info if l.startswith("processor"))
        print(f"Machine: {cpu}, {cores} cores. All rows from one session; thread counts as stated.\n")
        return
    machine, ours, peers = session["machine"], session["backprop"], session["peers"]
    blas = ", ".join(f"{p['internal_api']} {p['version'] or ''} {p['architecture'] or ''}".strip()
                     for p in peers.get("thread_pools", []))
    load = lambda r: " ".join(f"{x:.2f}" for x in r["load_average"]) if r else "?"
    print(f"{session['date']} to {session_end.get('date', '?')}, {machine['model']}, {machine['cores']} cores "
          f"({machine['system']}); load average {load(session)} at the start, {load(session_end or None)} at the end.")
    print(f"Backprop {ours['commit']} (binary built {ours['binary_built']}), {ours['blas']} with the "
          f"{ours['openblas_core']} core; PyTorch {peers.get('torch')} ({peers.get('torch_blas')}), "
          f"NumPy {peers['numpy']}, Python {peers['python']}; loaded BLAS and OpenMP pools: {blas}.")
    print(f"Threads: {', '.join(map(str, session['threads']))}. All rows from this one session.")
    if session.get("quick"):
        print("\n**QUICK run (a few steps of each): checks that the scripts run; the figures mean nothing.**")
    print()


def matching(**wanted):
    return [r for r in rows
            if all(r.get(k) == v or (k == "workload" and str(r.get(k, "")).startswith(v)) for k, v in wanted.items())]


def first(**wanted):
    found = matching(**wanted)
    return found[0] if found else None


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def rounds(workload, threads, key):
    """Backprop's and PyTorch's figures for `key` in each round (compare.sh ROUNDS=N:
    the i-th line of each tool is its i-th round)."""
    ours = [r[key] for r in matching(tool="backprop", workload=workload, threads=threads) if key in r]
    theirs = [r[key] for r in matching(tool="torch", workload=workload, threads=threads) if key in r]
    return ours, theirs


def compared(workload, threads, key):
    """Medians over the rounds, and a note with the range of the per-round ratios when
    there was more than one round."""
    ours, theirs = rounds(workload, threads, key)
    if not ours or not theirs:
        return None
    a, b = median(ours), median(theirs)
    ratios = sorted(x / y for x, y in zip(ours, theirs))
    note = (f"median of {len(ratios)} rounds; ratio per round {ratios[0]:.2f}–{ratios[-1]:.2f}"
            if len(ratios) > 1 else None)
    return a, b, note


def peer_gflops(tool, threads, n):
    """A peer's GFLOP/s at size n: one line per size now, one line with a dict before."""
    line = first(tool=tool, workload="W0", threads=threads, size=n)
    if line:
        return line["gflops"]
    line = first(tool=tool, workload="W0", threads=threads)
    return line["gflops"].get(str(n)) if line and isinstance(line.get("gflops"), dict) else None


def numpy_note(mine, workload, threads, key, unit=""):
    theirs = [r[key] for r in matching(tool="numpy", workload=workload, threads=threads) if key in r]
    if theirs:
        return f"NumPy {median(theirs):.4g}{unit} → {mine / median(theirs):.2f} of NumPy"
    return None


header()
print("| workload | threads | Backprop | PyTorch | Backprop / PyTorch | notes |")
print("|---|---|---|---|---|---|")
for t in sorted({r["threads"] for r in rows if r.get("tool") == "backprop"}):
    for n in (256, 1024, 2048, 4096):
        mine = first(tool="backprop", workload="W0", threads=t, size=n)
        torch, numpy = peer_gflops("torch", t, n), peer_gflops("numpy", t, n)
        if mine and torch:
            a = mine["gflops"]
            notes = [f"NumPy {numpy:.1f} → {a / numpy:.2f} of NumPy"] if numpy else []
            print(f"| W0 sgemm {n}² (GFLOP/s) | {t} | {a:.1f} | {torch:.1f} | {a / torch:.2f} | "
                  f"{'; '.join(notes + ['higher is better'])} |")
    for w, key in (("W1", "epoch_s"), ("W2", "epoch_s"), ("W3", "epoch_s"), ("W4", "us_per_step")):
        mine, theirs = first(tool="backprop", workload=w, threads=t), first(tool="torch", workload=w, threads=t)
        if mine and theirs:
            a, b, spread = compared(w, t, key)
            notes = [spread] if spread else []
            if "test_acc" in mine and "test_acc" in theirs:
                notes.append(f"test acc {mine['test_acc']:.4f} vs {theirs['test_acc']:.4f}")
            notes.append("lower is better")
            if mine.get("gemm_share") is not None:
                notes.append(f"Backprop time in GEMM {100 * mine['gemm_share']:.0f} %")
            if "peak_rss_mb" in theirs:
                notes.append(f"peak RSS {mine['peak_rss_mb']:.0f} MB vs {theirs['peak_rss_mb']:.0f} MB")
            notes.append(numpy_note(a, w, t, key))
            print(f"| {w} {key} | {t} | {a:.4g} | {b:.4g} | {a / b:.2f} | {'; '.join(filter(None, notes))} |")
    mine, theirs = first(tool="backprop", workload="W5", threads=t), first(tool="torch", workload="W5", threads=t)
    if mine and theirs:
        a, b, spread = compared("W5", t, "batch10000_samples_per_s")
        notes = [spread, numpy_note(a, "W5", t, "batch10000_samples_per_s"), "higher is better"]
        print(f"| W5 batch 10 000 (samples/s) | {t} | {a:.0f} | {b:.0f} | {a / b:.2f} | {'; '.join(filter(None, notes))} |")
        a, b, spread = compared("W5", t, "batch1_us_per_sample")
        notes = [spread, numpy_note(a, "W5", t, "batch1_us_per_sample"), "lower is better"]
        print(f"| W5 batch 1 (µs/sample) | {t} | {a:.1f} | {b:.1f} | {a / b:.2f} | {'; '.join(filter(None, notes))} |")
