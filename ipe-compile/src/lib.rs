//! IPE's policy language: parse, check, evaluate (reference) and compile `.ipe` sources.
#![deny(missing_docs)]

pub mod ast;
mod check;
pub mod diag;
pub mod hir;
pub mod parser;
pub mod source;
pub mod time_text;
pub mod trace;

pub use check::{MAX_AGG_DEPTH, MAX_DEPTH};
pub mod compile;
pub mod decision;
pub mod eval;
pub mod fmt;

pub use compile::{
    bundle_files, compile_bundle_paths_with, compile_bundle_sources_with, compile_bundle_str_with,
    compile_paths, compile_paths_with, compile_sources, compile_sources_with, compile_str,
    compile_str_with, CompileError, CompileOptions, DataFile, InstanceSource,
};
pub use decision::{ErrorReport, Report, ViolationReport};
pub use diag::{Diagnostic, Diagnostics};
pub use eval::evaluate;
pub mod lower;
pub mod patterns;
