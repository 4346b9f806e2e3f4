//! The `ipe` command's library: its arguments and the decider ([`cli`]), streaming request
//! input ([`input`]), the bundle listing ([`inspect`]) and the decision service ([`serve`]). The binary is `src/main.rs`.
#![deny(missing_docs)]

pub mod analyze;
pub mod cli;
pub mod fmt;
pub mod input;
pub mod inspect;
pub mod serve;
pub mod sign;
