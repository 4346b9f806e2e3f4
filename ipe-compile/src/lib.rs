//! IPE's policy language: parse, check, evaluate (reference) and compile `.ipe` sources.
#![deny(missing_docs)]

pub mod hir;
