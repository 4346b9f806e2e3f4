//! The `ipe` command's library: its arguments and the decider ([`cli`]), streaming request
//! input ([`input`]), the bundle listing ([`inspect`]), `ipe test` ([`mod@test`], [`coverage`])
//! and `ipe explain` ([`explain`]), which share [`authoring`], `ipe fmt` ([`fmt`]), `ipe analyze`
//! ([`analyze`]), signing ([`sign`]), the decision service ([`serve`]) and `ipe explain-error`
//! ([`explain_error`]: load error codes). The binary is
//! `src/main.rs`.
#![deny(missing_docs)]

pub mod analyze;
pub mod authoring;
pub mod cli;
pub mod coverage;
pub mod explain;
pub mod explain_error;
pub mod fmt;
pub mod input;
pub mod inspect;
pub mod oci;
pub mod serve;
pub mod sign;
pub mod test;
