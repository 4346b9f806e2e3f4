#!/usr/bin/env bash
# Builds the seed corpora of every fuzz target from examples/ and tests/corpus/ into
# fuzz/corpus/<target>/ (not checked in), plus the stored regressions. Idempotent: seeds are
# rewritten, the fuzzer's own finds are kept.
set -euo pipefail
cd "$(dirname "$0")"
cargo run --quiet --release -p ipe-fuzz --bin ipe-fuzz-seed -- corpus
for t in bundle source diff request; do
    mkdir -p "corpus/$t"
    cp -f regressions/"$t"/* "corpus/$t/" 2>/dev/null || true
done
