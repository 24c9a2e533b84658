#!/bin/sh
# One machine's cores as threads or as MPI ranks: W1, W2 and W3 of WORKLOADS.md trained
# by `backprop train` on Fashion-MNIST as 1 process × 2 BLAS threads, 2 ranks × 1 thread
# (mpirun on this machine, shared memory) and 1 × 1 for reference. Prints, for each, the
# median seconds per epoch after the first, and for the ranks the time in MPI_Allreduce
# and the time the training thread waited for it.
#
#   Benchmarks/mpi_scaling.sh            # W1 W2 W3
#   Benchmarks/mpi_scaling.sh W1 W2      # some of them
#
# Needs `make build` (or swift build -c release) and Open MPI's mpirun.
set -eu
cd "$(dirname "$0")/.."
backprop=.build/release/backprop
[ -x "$backprop" ] || { echo "build first: swift build -c release" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpirun not found: apt-get install openmpi-bin" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

workload() {
    case "$1" in
        W1) echo "--model cs229 --batch-size 1000 --lr 5 --epochs 4" ;;
        W2) echo "--model 784-256:relu-128:relu-10:softmax --optimizer momentum --momentum 0.9 --lr 0.05 --batch-size 64 --epochs 4" ;;
        W3) echo "--model 1x28x28-conv32k3p1-relu-maxpool2-conv64k3p1-relu-maxpool2-flatten-128:relu-10:softmax --optimizer momentum --momentum 0.9 --lr 0.05 --batch-size 64 --epochs 2" ;;
        *) echo "unknown workload $1 (W1, W2, W3)" >&2; exit 1 ;;
    esac
}

# The median of the epochs' seconds after the first (history.csv's third column).
epoch_seconds() {
    awk -F, 'NR > 2 { print $3 }' "$1/history.csv" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?') $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in "${@:-W1 W2 W3}"; do
    for w1 in $w; do
        flags=$(workload "$w1")
        # shellcheck disable=SC2086
        "$backprop" train --data fashion-mnist $flags --threads 1 --quiet --out "$out/$w1-1x1"
        # shellcheck disable=SC2086
        "$backprop" train --data fashion-mnist $flags --threads 2 --quiet --out "$out/$w1-1x2"
        # shellcheck disable=SC2086
        mpi=$(mpirun --allow-run-as-root --bind-to none -np 2 "$backprop" train --data fashion-mnist $flags --threads 1 \
              --out "$out/$w1-2x1" | grep '^MPI: .* sums')
        echo "$w1  1 process × 1 thread: $(epoch_seconds "$out/$w1-1x1") s/epoch;  1 process × 2 threads: $(epoch_seconds "$out/$w1-1x2") s/epoch;  2 ranks × 1 thread: $(epoch_seconds "$out/$w1-2x1") s/epoch"
        echo "    $mpi"
    done
done
