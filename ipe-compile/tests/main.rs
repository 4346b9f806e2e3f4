//! The integration tests of ipe-compile, in one binary (modules live in `suite/`).

/// Runs the shared corpus (`tests/corpus/` at the repository root) through the reference
/// evaluator.
#[path = "suite/corpus.rs"]
mod corpus;
/// Diagnostic messages, positions, underlines and help.
#[path = "suite/diagnostics.rs"]
mod diagnostics;
/// Property tests: the reference evaluator against an independent encoding of the seed policy.
#[path = "suite/prop.rs"]
mod prop;
/// The seed policy, compiled as written.
#[path = "suite/seed.rs"]
mod seed;
