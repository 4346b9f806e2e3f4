#!/usr/bin/env bash
# CI for the fuzz targets: `bash fuzz/ci.sh [SECONDS]` (default 30 per target).
#  1. installs cargo-fuzz if absent (nightly toolchain required for the fuzz runs);
#  2. seeds the corpora (fuzz/seed.sh);
#  3. runs every target for SECONDS with -max_total_time (a crash, timeout or OOM fails);
#  4. replays the stored regressions, the seeds and generated `diff` cases on stable.
# Exits non-zero on any finding. Crash inputs land in fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-30}"
targets=(bundle source diff request)

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

bash seed.sh

# Stable replay first: it is the cheapest and shows the failing input by name.
cargo test --release -p ipe-fuzz

# -O -a: optimized, with debug assertions and overflow checks. -s none: every oracle is safe
# Rust and the JIT's generated code is not instrumented anyway, while AddressSanitizer makes
# Cranelift ~30x slower (diff: 13 exec/s with ASan); `-s address` stays available by hand.
flags=(-O -a -s none)
cargo +nightly fuzz build "${flags[@]}"
status=0
for t in "${targets[@]}"; do
    echo "== fuzz $t for ${secs}s"
    # -timeout: one input running longer than 10 s is a hang; -rss_limit_mb bounds memory.
    if ! cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -dict=ipe.dict -print_final_stats=1 2>&1 | tee "/tmp/ipe-fuzz-$t.log" | tail -n 15; then
        echo "!! fuzz target $t failed: see fuzz/artifacts/$t/" >&2
        status=1
    fi
done
exit "$status"
