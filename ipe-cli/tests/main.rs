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
/// `ipe inspect`'s listing, in-process.
#[path = "suite/inspect.rs"]
mod inspect;
/// Issue #18 part 2: `ipe push`, `ipe pull`, `ipe serve --bundle oci://` against a registry.
#[path = "suite/oci.rs"]
mod oci;
/// Issue #18: `ipe serve` against `ipe eval`.
#[path = "suite/serve.rs"]
mod serve;
