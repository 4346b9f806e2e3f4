#!/usr/bin/env bash
# Builds the WebAssembly packages of ipe-wasm into OUT (default: ipe-wasm/pkg):
#   OUT/node         compiler + engine, for Node (`require`)
#   OUT/node-engine  engine only (cargo feature `compiler` off), for Node
#   OUT/web          compiler + engine, ES module for browsers (the playground's `pkg/`)
#   OUT/web-engine   engine only, ES module
# and prints each `.wasm`'s size raw and gzip'd (-9). Needs the `wasm32-unknown-unknown`
# rustup target and the wasm-bindgen CLI of the crate's exact version ($WASM_BINDGEN, or
# ~/.cache/wasm-bindgen-cli/bin/wasm-bindgen as .ci/run installs it, or on PATH).
# The wasm builds use their own target directory (a cargo running this from a test holds the
# lock on the outer one) and a size profile: opt-level s, fat LTO, one codegen unit, abort.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-ipe-wasm/pkg}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
outer="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$outer/ipe-wasm-build"
export CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_OPT_LEVEL=s \
    CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
    CARGO_PROFILE_RELEASE_PANIC=abort
bindgen="${WASM_BINDGEN:-}"
if [ -z "$bindgen" ]; then
    if [ -x "$HOME/.cache/wasm-bindgen-cli/bin/wasm-bindgen" ]; then
        bindgen="$HOME/.cache/wasm-bindgen-cli/bin/wasm-bindgen"
    else
        bindgen="$(command -v wasm-bindgen || true)"
    fi
fi
if [ -z "$bindgen" ]; then
    echo "ipe-wasm/build.sh: the wasm-bindgen CLI is not installed (see .ci/run)" >&2
    exit 1
fi
want="$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' Cargo.toml)"
have="$("$bindgen" --version | awk '{print $2}')"
if [ "$want" != "$have" ]; then
    echo "ipe-wasm/build.sh: wasm-bindgen CLI $have, the crate is $want (see .ci/run)" >&2
    exit 1
fi
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/ipe_wasm.wasm"
for flavor in full engine; do
    features=()
    suffix=""
    if [ "$flavor" = engine ]; then
        features=(--no-default-features)
        suffix="-engine"
    fi
    cargo build -q -p ipe-wasm --lib --target wasm32-unknown-unknown --release "${features[@]}"
    for target in nodejs web; do
        dir="$OUT/$([ "$target" = nodejs ] && echo node || echo web)$suffix"
        rm -rf "$dir"
        "$bindgen" --target "$target" --out-dir "$dir" "$wasm"
        bytes=$(wc -c <"$dir/ipe_wasm_bg.wasm")
        gz=$(gzip -9 -c "$dir/ipe_wasm_bg.wasm" | wc -c)
        echo "ipe-wasm $flavor ($target): $bytes bytes, $gz gzip'd"
    done
done
