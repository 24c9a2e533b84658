"""Markdown table of Benchmarks/compare.sh's JSON lines: Backprop against PyTorch (and
NumPy for W0), per workload and thread count. Ratios are Backprop / peer."""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
cores = sum(1 for l in open("/proc/cpuinfo") if l.startswith("processor"))
print(f"Machine: {cpu}, {cores} cores. All rows from one session; thread counts as stated.\n")
print("| workload | threads | Backprop | PyTorch | Backprop / PyTorch | notes |")
print("|---|---|---|---|---|---|")


def first(pred):
    found = [r for r in rows if pred(r)]
    return found[0] if found else None


for t in (1, 2):
    ours = lambda w: first(lambda r: r.get("tool") == "backprop" and r.get("workload") == w and r.get("threads") == t)
    peer = lambda prefix, tool="torch": first(
        lambda r: r.get("tool") == tool and str(r.get("workload", "")).startswith(prefix) and r.get("threads") == t)
    for n in (256, 1024, 2048, 4096):
        mine = first(lambda r: r.get("tool") == "backprop" and r.get("workload") == "W0" and r.get("threads") == t and r.get("size") == n)
        tp, npy = peer("W0"), peer("W0", "numpy")
        if mine and tp and npy:
            a, b, c = mine["gflops"], tp["gflops"][str(n)], npy["gflops"][str(n)]
            print(f"| W0 sgemm {n}² (GFLOP/s) | {t} | {a:.1f} | {b:.1f} | {a / b:.2f} | NumPy {c:.1f} → {a / c:.2f} of NumPy; higher is better |")
    for w, key in (("W1", "epoch_s"), ("W2", "epoch_s"), ("W3", "epoch_s"), ("W4", "us_per_step")):
        mine, theirs = ours(w), peer(w)
        if mine and theirs:
            a, b = mine[key], theirs[key]
            notes = []
            if "test_acc" in mine and "test_acc" in theirs:
                notes.append(f"test acc {mine['test_acc']:.4f} vs {theirs['test_acc']:.4f}")
            notes.append("lower is better")
            if "gemm_share" in mine:
                notes.append(f"Backprop time in GEMM {100 * mine['gemm_share']:.0f} %")
            if "peak_rss_mb" in theirs:
                notes.append(f"peak RSS {mine['peak_rss_mb']:.0f} MB vs {theirs['peak_rss_mb']:.0f} MB")
            print(f"| {w} {key} | {t} | {a:.4g} | {b:.4g} | {a / b:.2f} | {'; '.join(notes)} |")
    mine, theirs = ours("W5"), peer("W5")
    if mine and theirs:
        a, b = mine["batch10000_samples_per_s"], theirs["batch10000_samples_per_s"]
        print(f"| W5 batch 10 000 (samples/s) | {t} | {a:.0f} | {b:.0f} | {a / b:.2f} | higher is better |")
        a, b = mine["batch1_us_per_sample"], theirs["batch1_us_per_sample"]
        print(f"| W5 batch 1 (µs/sample) | {t} | {a:.1f} | {b:.1f} | {a / b:.2f} | lower is better |")
