//! The integration tests of ipe-cli, in one binary (modules live in `suite/`).

/// Issue #16: `ipe analyze` (findings, witnesses replayed with `ipe eval`, golden output).
#[path = "suite/analyze.rs"]
mod analyze;
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
/// Issue #15: `ipe explain-error` (load error codes).
#[path = "suite/explain_error.rs"]
mod explain_error;
/// Issue #16: `ipe fmt` against golden files.
#[path = "suite/fmt.rs"]
mod fmt;
/// Golden output files of `ipe test` and `ipe explain`.
#[path = "suite/golden.rs"]
mod golden;
/// `ipe inspect`'s listing, in-process.
#[path = "suite/inspect.rs"]
mod inspect;
/// Issue #18 part 2: `ipe push`, `ipe pull`, `ipe serve --bundle oci://` against a registry.
#[path = "suite/oci.rs"]
mod oci;
/// Issue #18: `ipe serve` against `ipe eval`.
#[path = "suite/serve.rs"]
mod serve;
/// Issue #18: keygen, compile --sign, sign, verify and eval --trusted-key end to end.
#[path = "suite/sign.rs"]
mod sign;
/// Issue #16: `ipe test`.
#[path = "suite/test.rs"]
mod test;
