#!/usr/bin/env bash
# Coverage-guided fuzzing of one of Backprop's file readers with libFuzzer.
#
#   Fuzz/run.sh <reader> [runs]
#
#   reader  idx (raw or gzip), csv, npy, safetensors or architecture (model.json)
#   runs    how many inputs to try; default 1000000
#
# Builds the reader's fuzzer (Fuzz/Package.swift, Swift with -sanitize=fuzzer,address),
# runs it from the kept corpus Tests/FuzzCorpus/<reader>/ (which `make test` replays),
# then merges the new inputs into that corpus and minimises it with libFuzzer's -merge=1:
# the fewest inputs that together reach every branch the old corpus and the new inputs
# reach, plus the seed-* files (small valid files and past findings), always kept.
# The format's tokens in Fuzz/dictionaries/<reader>.dict (JSON keys, dtype codes, …)
# are given to libFuzzer.
#
# A trap, a memory error, an allocation over 2 GB, an input slower than 30 s or an
# error message of more than one line stops the run and fails the script; the input is
# then in Fuzz/crashes/<reader>/ (replay it with the binary the script names).
#
# Environment: FUZZ_BUILD_DIR (build directory; default Fuzz/.build), FUZZ_MAX_LEN
# (largest input in bytes; default 4096), FUZZ_FLAGS (more libFuzzer flags, e.g.
# "-seed=1"), FUZZ_ALLOW_MULTILINE_ERRORS=1 (look past error messages of more than one
# line, to find traps beyond a known such message).
set -euo pipefail

readers="idx csv npy safetensors architecture"
usage() { echo "usage: $0 <$(echo $readers | tr ' ' '|')> [runs]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
reader=$1
runs=${2:-1000000}
case " $readers " in *" $reader "*) ;; *) usage ;; esac
case $runs in '' | *[!0-9]*) usage ;; esac

fuzz=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$fuzz")
build=${FUZZ_BUILD_DIR:-$fuzz/.build}
corpus=$root/Tests/FuzzCorpus/$reader
crashes=$fuzz/crashes/$reader
max_len=${FUZZ_MAX_LEN:-4096}
dictionary=()
[ -f "$fuzz/dictionaries/$reader.dict" ] && dictionary=(-dict="$fuzz/dictionaries/$reader.dict")

# The Swift runtime's backtracer waits on a process that libFuzzer is ending: off.
export SWIFT_BACKTRACE=enable=no
# Symbolised stacks in crash reports, from the toolchain's llvm-symbolizer.
swift=$(command -v swift)
symbolizer=$(dirname "$(readlink -f "$swift" 2>/dev/null || echo "$swift")")/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$symbolizer}
flags=(-c release --package-path "$fuzz" --scratch-path "$build" -Xswiftc -sanitize=fuzzer,address)
# SwiftPM points an executable's `main` at the fuzzer's own entry (which starts
# libFuzzer); GNU gold fails on the duplicate `main` in libFuzzer's runtime, lld does not.
[ "$(uname)" = Linux ] && flags+=(-Xswiftc -use-ld=lld)
swift build "${flags[@]}" --product "fuzz-$reader"
binary=$(swift build "${flags[@]}" --show-bin-path)/fuzz-$reader

mkdir -p "$corpus" "$crashes"
found=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$found" "$log"' EXIT
before=$(ls "$corpus" | wc -l)

start=$(date +%s)
status=0
# New inputs go to the first directory ($found); the kept corpus is read, not written.
"$binary" -runs="$runs" -max_len="$max_len" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    ${dictionary[@]+"${dictionary[@]}"} -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} "$found" "$corpus" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
seconds=$(( $(date +%s) - start ))
executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)

if [ "$status" -ne 0 ]; then
    echo "fuzz-$reader: stopped after ${executed:-?} inputs in ${seconds} s (status $status); the input is in $crashes/;" \
        "replay it with: $binary <input>" >&2
    exit 1
fi

minimised=$found.merged
mkdir "$minimised"
trap 'rm -rf "$found" "$minimised" "$log"' EXIT
# Without FUZZ_ALLOW_MULTILINE_ERRORS: an input whose message is not one line is left out.
env -u FUZZ_ALLOW_MULTILINE_ERRORS "$binary" -merge=1 -use_counters=0 -max_len="$max_len" -timeout=30 "$minimised" "$corpus" "$found" >"$log" 2>&1 || {
    cat "$log" >&2; echo "fuzz-$reader: merging the corpus failed" >&2; exit 1; }
# Replace the corpus by the minimised inputs, less those that are a seed's bytes (libFuzzer
# names each input by its SHA-1), plus the seeds.
sha1() { if command -v sha1sum >/dev/null; then sha1sum; else shasum -a 1; fi | cut -d' ' -f1; }
seeds=" $(for f in "$corpus"/seed-*; do [ -e "$f" ] && sha1 <"$f"; done | tr '\n' ' ') "
find "$corpus" -maxdepth 1 -type f ! -name 'seed-*' -delete
for input in "$minimised"/*; do
    [ -e "$input" ] || continue
    case $seeds in *" $(basename "$input") "*) ;; *) cp "$input" "$corpus/" ;; esac
done
after=$(ls "$corpus" | wc -l)
allowed=""
[ "${FUZZ_ALLOW_MULTILINE_ERRORS:-}" = 1 ] && allowed=" (error messages of several lines let through)"
echo "fuzz-$reader: ${executed:-?} inputs in ${seconds} s, no crash$allowed; corpus Tests/FuzzCorpus/$reader: $after files (was $before)"
