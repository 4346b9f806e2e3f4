//! The integration tests of ipe-host, in one binary (modules live in `suite/`).

/// The JIT against the interpreter and the reference evaluator: the whole corpus and random
/// well-typed policies and requests, at the baseline and optimized tiers.
#[cfg(feature = "jit")]
#[path = "suite/jit_diff.rs"]
mod jit_diff;
