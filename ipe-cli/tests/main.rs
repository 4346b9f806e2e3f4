//! The integration tests of ipe-cli, in one binary (modules live in `suite/`).

/// The `ipe` binary end to end.
#[path = "suite/cli.rs"]
mod cli;
/// Issue #13: data files on the command line.
#[path = "suite/data.rs"]
mod data;
/// Issue #13: every bundle under `examples/` through `ipe eval`.
#[path = "suite/examples.rs"]
mod examples;
/// Issue #16: `ipe explain`.
#[path = "suite/explain.rs"]
mod explain;
/// Golden output files of `ipe test` and `ipe explain`.
#[path = "suite/golden.rs"]
mod golden;
/// `ipe inspect`'s listing, in-process.
#[path = "suite/inspect.rs"]
mod inspect;
/// Issue #16: `ipe test`.
#[path = "suite/test.rs"]
mod test;
