//! The integration tests of ipe-host, in one binary (modules live in `suite/`).
//!
//! The binary installs a counting global allocator (see `suite/alloc.rs`); it counts per
//! thread, so tests running in parallel do not disturb each other.

/// Counting allocator and the zero-allocation tests of the steady-state evaluation paths.
#[path = "suite/alloc.rs"]
#[expect(unsafe_code, reason = "a counting `GlobalAlloc` needs `unsafe impl`")]
mod alloc;
/// Shared helpers: compiling sources to bundle bytes.
#[path = "suite/common.rs"]
mod common;
/// Every corpus case through the host engine, `ipe_nostd::evaluate` and the reference
/// evaluator, which must all agree; JSON edge cases against the `serde_json::Value` path.
#[path = "suite/corpus.rs"]
mod corpus;
/// Issue 13: default reasons show the values read, through the readers and the JIT.
#[path = "suite/default_reasons.rs"]
mod default_reasons;
/// Issue 13, session 9: positions on an element's list field through the three readers.
#[path = "suite/elem_positions.rs"]
mod elem_positions;
/// Loading (bytes, files, mappings), errors, reload, typed requests, batches and stats.
#[path = "suite/engine.rs"]
mod engine;
/// Minimal reproducers of JIT bugs found by the fuzz targets (`fuzz/`).
#[cfg(feature = "jit")]
#[path = "suite/fuzz_findings.rs"]
mod fuzz_findings;
/// Issue 14: `ip` values through the typed builder and the JSON readers.
#[path = "suite/ip.rs"]
mod ip;
/// Issue 15: slot read errors deferred to the error exit agree with the interpreter.
#[cfg(feature = "jit")]
#[path = "suite/jit_defer.rs"]
mod jit_defer;
/// The JIT against the interpreter and the reference evaluator: the whole corpus and random
/// well-typed policies and requests, at the baseline and optimized tiers.
#[cfg(feature = "jit")]
#[path = "suite/jit_diff.rs"]
mod jit_diff;
/// Issue 15, session 13: aggregates' fast and exact native copies and native text equality
/// agree with the interpreter.
#[cfg(feature = "jit")]
#[path = "suite/jit_fast.rs"]
mod jit_fast;
/// Issue 13: quantifiers over lists of scalars and set operators through the three readers
/// and the JIT.
#[path = "suite/lists.rs"]
mod lists;
/// Issue #15: `segment` pieces past `MAX_PIECE` bytes are no piece on every engine.
#[cfg(feature = "jit")]
#[path = "suite/long_pieces.rs"]
mod long_pieces;
/// Issue 13: nested lists (a hand-assembled bundle) through the three readers and the JIT.
#[path = "suite/nested.rs"]
mod nested;
/// Aggregate chains decoded at load (issue #15, session 13).
#[path = "suite/prepared.rs"]
mod prepared;
/// Issue 15: native code reused across versions (JIT-all publish, adaptive tiering).
#[cfg(feature = "jit")]
#[path = "suite/reuse.rs"]
mod reuse;
/// Issue 15: the host at scale (JIT mappings).
#[cfg(feature = "jit")]
#[path = "suite/scale.rs"]
mod scale;
/// Issue 18: engines requiring signed bundles on load, swap and reload; anti-rollback.
#[path = "suite/signed.rs"]
mod signed;
/// Issue 15: the one-pass reader's key matching and repeated-key check on wide objects.
#[path = "suite/stream_keys.rs"]
mod stream_keys;
/// Evaluating threads against concurrent swaps between two bundles with different answers.
#[path = "suite/swap.rs"]
mod swap;
/// The engine's code tiers: the corpus in every forced tier, adaptive promotion, swaps and
/// memory with JIT-compiled versions, compile time per policy.
#[path = "suite/tiering.rs"]
mod tiering;
/// Issue 15: the decision as data (`PolicySet::decide_into`, `Verdict`).
#[path = "suite/verdict.rs"]
mod verdict;
