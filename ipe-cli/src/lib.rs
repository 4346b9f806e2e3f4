//! The `ipe` command's library: its arguments and the decider ([`cli`]), streaming request
//! input ([`input`]), the bundle listing ([`inspect`]), `ipe test` ([`mod@test`],
//! [`coverage`]) and `ipe explain` ([`explain`]), which share [`authoring`]. The binary is
//! `src/main.rs`.
#![deny(missing_docs)]

pub mod authoring;
pub mod cli;
pub mod coverage;
pub mod explain;
pub mod input;
pub mod inspect;
pub mod test;
