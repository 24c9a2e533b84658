#!/usr/bin/env bash
# Runs Backprop's benchmark workloads (Benchmarks/WORKLOADS.md) and their PyTorch and
# NumPy versions (Benchmarks/peers/) one after the other, in one session on this
# machine, with each thread count, and writes Benchmarks/results/<date>.jsonl (a first
# line naming the versions and the machine, then one line per workload, tool and
# thread count) and <date>.md (the table of Benchmarks/table.py: ratios to PyTorch).
#
#   Benchmarks/compare.sh [W0 W1 W2 W3 W4 W5]   (default: all of them)
#   THREADS="1 2"   thread counts (the default)
#   ROUNDS=N        run every workload N times, Backprop and its peers taking turns to go
#                   first; the table shows medians over the rounds and the per-round ratio's
#                   range (default 1: on a shared machine, 3 gives steadier ratios)
#   QUICK=1         a few steps of each, to check that everything runs: not a measurement
#                   (its results go to /tmp/backprop-compare-quick unless OUT says otherwise)
#   OUT=…           the results folder (default Benchmarks/results)
#   BIN=…           the backprop binary (default .build/release/backprop, from make build)
#   PYTHON=…        a Python with Benchmarks/peers/requirements.txt (default python3)
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/backprop}
PY=${PYTHON:-python3}
THREADS=${THREADS:-1 2}
ROUNDS=${ROUNDS:-1}
QUICK=${QUICK:-0}
WORKLOADS=${*:-W0 W1 W2 W3 W4 W5}
[ -x "$BIN" ] || { echo "compare.sh: no $BIN: run make build first, or set BIN" >&2; exit 1; }
STAMP=$(date +%Y-%m-%dT%H%M%S)
OUT=${OUT:-$([ "$QUICK" = 1 ] && echo "${TMPDIR:-/tmp}/backprop-compare-quick" || echo Benchmarks/results)}
mkdir -p "$OUT"
JSONL=$OUT/$STAMP.jsonl
FAILURES=0

if [ "$QUICK" = 1 ]; then
  GEMM="--sizes 256,512 --repeats 2 --min-batch-seconds 0.05"; PEER_QUICK=--quick
  declare -A EPOCHS=([W1]=2 [W2]=1 [W3]=1 [W5]=2)
else
  GEMM=""; PEER_QUICK=""
  declare -A EPOCHS=()
fi
QUICK_TAG=$([ "$QUICK" = 1 ] && echo '"quick":true,' || true)

ours() { # WORKLOAD THREADS
  local w=$1 t=$2 args
  if [ "$w" = W0 ]; then args=(bench gemm --json $GEMM); else args=(bench workload "$w"); fi
  [ -n "${EPOCHS[$w]:-}" ] && args+=(--epochs "${EPOCHS[$w]}")
  OPENBLAS_NUM_THREADS=$t BACKPROP_THREADS=$t "$BIN" "${args[@]}" --threads "$t" \
    | sed "s/^{/{\"tool\":\"backprop\",$QUICK_TAG/" >> "$JSONL" || { echo "   backprop $w failed" >&2; FAILURES=$((FAILURES + 1)); }
}
peer() { # TOOL WORKLOAD THREADS
  "$PY" Benchmarks/peers/run.py "$2" --tool "$1" --threads "$3" $PEER_QUICK >> "$JSONL" \
    || { echo "   $1 $2 failed" >&2; FAILURES=$((FAILURES + 1)); }
}

BACKPROP_COMMIT=$(git describe --always --dirty 2>/dev/null || echo unknown) BACKPROP_BINARY=$BIN \
BACKPROP_GEMM_LINE=$("$BIN" bench gemm --sizes 64 --threads 1 --repeats 1 --min-batch-seconds 0.001 --json) \
THREADS=$THREADS WORKLOADS=$WORKLOADS QUICK=$QUICK "$PY" Benchmarks/peers/session.py > "$JSONL" || exit 1
for round in $(seq 1 "$ROUNDS"); do
  for t in $THREADS; do
    for w in $WORKLOADS; do
      echo "== $w, $t thread(s)$([ "$ROUNDS" -gt 1 ] && echo ", round $round of $ROUNDS")" >&2
      # Odd rounds run Backprop first, even rounds its peers: neither always gets the
      # quieter or the busier moment after the other.
      if [ $((round % 2)) = 1 ]; then ours "$w" "$t"; fi
      peer torch "$w" "$t"
      [ "$w" != W3 ] && peer numpy "$w" "$t"
      if [ $((round % 2)) = 0 ]; then ours "$w" "$t"; fi
    done
  done
done
"$PY" -c 'import json, os, datetime
print(json.dumps({"tool": "session_end", "load_average": os.getloadavg(),
                  "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}))' >> "$JSONL"
"$PY" Benchmarks/table.py "$JSONL" > "$OUT/$STAMP.md"
cat "$OUT/$STAMP.md"
[ "$FAILURES" = 0 ] || { echo "compare.sh: $FAILURES run(s) failed; see above" >&2; exit 1; }
