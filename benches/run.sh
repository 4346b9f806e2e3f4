#!/usr/bin/env bash
# Regenerates the generated section of BENCHMARKS.md from a fresh run:
#   1. runs the cross-engine agreement test (timings are meaningless if decisions differ),
#   2. runs every divan bench binary of ipe-benches, keeping their output,
#   3. builds and runs firmware-example (its size report: issue #15's flash and RAM goal),
#   4. writes the tables (benches/report.py) between the bench:begin/end markers.
#
# Usage: benches/run.sh [divan args...]   e.g. benches/run.sh --sample-count 20
# Env: CARGO_TARGET_DIR, BENCH_OUT (keep the raw divan output), BENCHMARKS (file to update).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${BENCH_OUT:-$(mktemp -d)}"
mkdir -p "$out"

cargo test --release -p ipe-benches --test agreement --test v3   # v3: issue #14 and `cidr/N`
# `latency` (issue #15) is a plain harness that ignores divan's arguments; IPE_LATENCY_SECS sets
# its seconds per case.
for bench in eval compile decode swap throughput latency ${EXTRA_BENCHES:-}; do
    cargo bench -p ipe-benches --bench "$bench" -- "$@" | tee "$out/$bench.txt"
done
# Issue #15's goal ratios, each engine beside its baseline (benches/pairs.rs), in several
# processes: the machine's slow moments slow the engines more than the baseline, so report.py
# takes the median over every process and repetition (~3.5 s a process).
for i in $(seq "${PAIRS_RUNS:-9}"); do
    cargo bench -p ipe-benches --bench pairs -- "$@" > "$out/pairs-$i.txt"
done
echo "pairs: $(ls "$out"/pairs-*.txt | wc -l) processes"
# Issue #15's firmware goal: flash and RAM of thumbv7m `valve` (builds and runs it under QEMU).
bash firmware-example/run.sh | tee "$out/firmware.txt"
cat /proc/loadavg > "$out/loadavg" 2>/dev/null || true
python3 benches/report.py "$out" "${BENCHMARKS:-BENCHMARKS.md}" "benches/run.sh${*:+ $*}"
echo "${BENCHMARKS:-BENCHMARKS.md} regenerated (raw divan output in $out)"
