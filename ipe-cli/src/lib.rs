//! The `ipe` command's library: its arguments and the decider ([`cli`]), streaming request
//! input ([`input`]) and the bundle listing ([`inspect`]). The binary is `src/main.rs`.
#![deny(missing_docs)]

pub mod cli;
pub mod fmt;
pub mod input;
pub mod inspect;
