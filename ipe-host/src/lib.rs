//! IPE's std host: load bundles, build requests from JSON, evaluate and report decisions.
#![deny(missing_docs)]

#[cfg(feature = "jit")]
#[expect(
    unsafe_code,
    reason = "calls into JIT-compiled code; every block has a SAFETY comment in jit/"
)]
pub mod jit;
pub mod report;
pub mod request;

pub use report::Report;

use bumpalo::Bump;
use ipe_nostd::{Bundle, Context, Decision};

/// Slots a host context holds; bundles needing more are evaluated with a larger context.
pub const MAX_SLOTS: usize = 256;
/// Entries per decision list kept by the host.
pub const MAX_LIST: usize = 256;

/// Evaluates one JSON request against a bundle with the interpreter and renders the decision.
pub fn evaluate_json(bundle: &Bundle<'_>, request: &serde_json::Value) -> Report {
    let arena = Bump::new();
    let mut ctx = Context::<MAX_SLOTS>::new();
    request::fill(bundle, request, &arena, &mut ctx);
    let d: Decision<MAX_LIST> = ipe_nostd::evaluate(bundle, &ctx);
    Report::new(bundle, &d)
}
