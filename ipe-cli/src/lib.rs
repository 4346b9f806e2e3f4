//! The `ipe` command's library: its arguments and the decider ([`cli`]), streaming request
//! input ([`input`]), the bundle listing ([`inspect`]) and the decision service ([`serve`]). The binary is `src/main.rs`.
#![deny(missing_docs)]

pub mod cli;
pub mod input;
pub mod inspect;
pub mod oci;
pub mod serve;
