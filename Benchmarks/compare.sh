#!/usr/bin/env bash
# Runs Backprop's benchmark workloads and the PyTorch/NumPy peers of
# ../shared/bench/peers side by side, in one session on this machine, with 1 and 2
# threads, and writes Benchmarks/results/<date>.jsonl and .md (ratios to PyTorch).
#
#   Benchmarks/compare.sh [W0 W1 W2 W3 W4 W5]      (default: all of these)
# Needs: a release build (make build), python3 with numpy and torch, the peers in
# PEERS (default ../shared/bench/peers relative to the repository).
set -uo pipefail
cd "$(dirname "$0")/.."
PEERS=${PEERS:-../shared/bench/peers}
BIN=$(swift build -c release --show-bin-path)/backprop
WORKLOADS=${*:-W0 W1 W2 W3 W4 W5}
STAMP=$(date +%Y-%m-%dT%H%M%S)
OUT=Benchmarks/results
mkdir -p "$OUT"
JSONL=$OUT/$STAMP.jsonl
: > "$JSONL"

ours() { # THREADS ARGS...
  local t=$1; shift
  OPENBLAS_NUM_THREADS=$t BACKPROP_THREADS=$t "$BIN" bench "$@" --threads "$t" | sed "s/^{/{\"tool\":\"backprop\",/" >> "$JSONL"
}
peer() { # THREADS SCRIPT ARGS...   (adds the process's peak RSS, from /usr/bin/time)
  local t=$1 script=$2; shift 2
  local rss lines; rss=$(mktemp); lines=$(mktemp)
  (cd "$PEERS" && OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t \
     /usr/bin/time -f '%M' -o "$rss" python3 "$script" --threads "$t" "$@" 2>/dev/null) | grep '^{' > "$lines"
  RSS_FILE=$rss python3 -c '
import json, os, sys
kb = float(open(os.environ["RSS_FILE"]).read().split()[-1])
for line in sys.stdin:
    record = json.loads(line)
    record["peak_rss_mb"] = kb / 1024
    print(json.dumps(record))' < "$lines" >> "$JSONL"
  rm -f "$rss" "$lines"
}

for t in 1 2; do
  for w in $WORKLOADS; do
    echo "== $w, $t thread(s)" >&2
    case $w in
      W0) ours $t gemm --json; peer $t w0_gemm.py --lib numpy; peer $t w0_gemm.py --lib torch ;;
      W1) ours $t workload W1; peer $t w1_cs229_mlp.py --tool torch --save "/tmp/w1_torch_t$t.pt" ;;
      W2) ours $t workload W2; peer $t w2_relu_mlp.py --tool torch --epochs 5 ;;
      W3) ours $t workload W3; peer $t w3_cnn.py --epochs 2 ;;
      W4) ours $t workload W4; peer $t w4_tiny.py --tool torch ;;
      W5) ours $t workload W5
          [ -f "/tmp/w1_torch_t$t.pt" ] || peer $t w1_cs229_mlp.py --tool torch --save "/tmp/w1_torch_t$t.pt" > /dev/null
          peer $t w5_infer.py --model "/tmp/w1_torch_t$t.pt" ;;
    esac
  done
done
python3 Benchmarks/table.py "$JSONL" > "$OUT/$STAMP.md"
cat "$OUT/$STAMP.md"
