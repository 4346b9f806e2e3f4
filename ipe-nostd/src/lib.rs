//! IPE's device engine: decodes and verifies policy bundles and evaluates them with fixed
//! memory, no heap and no unsafe code.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod vocab;

pub use vocab::{ErrKind, Effect, JsonKind, ValueKind};
