//! IPE's std host: load verified bundles (copied or memory-mapped), evaluate requests from
//! many threads through a hash-indexed trigger index, replace the policy set atomically while
//! serving, and count what every policy does.
//!
//! # Brief overview
//! - [`PolicyEngine`]: the live policy set behind an atomic pointer; [`PolicyEngine::swap`],
//!   [`PolicyEngine::reload`] and [`PolicyEngine::publish`] replace it with a new version.
//! - [`Reader`]: one serving thread's cached view of the live set ([`PolicyEngine::reader`]),
//!   for hot loops: a pointer comparison per load while nothing new is published.
//! - [`PolicySet`]: one immutable version ([`PolicyEngine::load`]); evaluates JSON
//!   ([`PolicySet::evaluate_json`]), typed requests ([`PolicySet::request`]), prebuilt slot
//!   values ([`PolicySet::evaluate_values`]) and JSON-lines batches
//!   ([`PolicySet::evaluate_lines`]); renders decisions ([`PolicySet::report`]). On a data
//!   path, [`PolicySet::brief`] (and [`Reader::brief`]) answers allow or deny and the
//!   deciding policy ([`Brief`]), stopping at the first deny; [`PolicySet::decide_into`]
//!   keeps every outcome as data ([`Verdict`]).
//! - [`Stats`]: per-policy counters and the JIT's ([`PolicyEngine::stats`]).
//! - [`EngineOptions`]: interpreter only, everything compiled at load, or adaptive tiering
//!   ([`PolicyEngine::with_options`]).
//! - [`TrustPolicy`]: require signed bundles (issue #18) on load, swap and reload
//!   ([`PolicyEngine::with_trust`], [`PolicyEngine::from_file_with_trust`]), with
//!   anti-rollback across versions ([`PolicyEngine::highest_revision`]).
//! - [`Error`]: the one error type, with an [`ErrorKind`].
//!
//! Naming: a decision ([`HostDecision`], `ipe_nostd::Decision`) holds policy ids; a
//! [`Report`] is a decision resolved to names, intents and texts (its JSON form).
//!
//! # Examples
//! ```no_run
//! # fn demo() -> Result<(), ipe_host::Error> {
//! let engine = ipe_host::PolicyEngine::from_file("policies.ipeb")?;
//! let set = engine.load();
//! let d = set.evaluate_json(r#"{"resource":{"type":"Deployment"},"environment":"production"}"#)?;
//! println!("{}", set.report(&d).to_json());
//! eprint!("{}", engine.stats().table(10));
//! # Ok(()) }
//! ```
//!
//! # Features
//! | feature | what it adds |
//! |---|---|
//! | `jit` (default) | Cranelift native code for policies (module `jit`); [`PolicyEngine`] tiers hot policies per [`EngineOptions`] (default adaptive: baseline after 100 evaluations, optimized after 10,000, compiled on a background thread). Without it every [`TierMode`] runs the interpreter. |
#![deny(missing_docs)]

mod batch;
mod builder;
pub mod decide;
mod decision;
mod engine;
mod error;
mod index;
#[cfg(feature = "jit")]
#[expect(
    unsafe_code,
    reason = "calls into JIT-compiled code; every block has a SAFETY comment in jit/"
)]
pub mod jit;
// Without the `jit` feature: the same crate-internal items, no native code (wasmtime's
// enabled/disabled module pair), so the engine itself has no feature switches.
#[cfg(not(feature = "jit"))]
#[path = "jit_disabled.rs"]
mod jit;
mod mmap;
mod options;
mod reclaim;
pub mod report;
pub mod request;
mod stats;
pub mod trust;
mod verdict;

pub use batch::BatchSummary;
pub use builder::RequestBuilder;
pub use engine::{HostDecision, PolicyEngine, PolicySet, Prepared, Reader, Snapshot};
pub use error::{Error, ErrorKind, RequestError};
pub use ipe_nostd::Brief;
pub use mmap::MAP_THRESHOLD;
pub use options::{CodeTier, EngineOptions, JitStats, JitTier, TierMode};
pub use reclaim::SWEEP_EVERY;
pub use report::Report;
pub use request::Field;
pub use stats::{PolicyStats, Stats, SAMPLE_EVERY};
pub use trust::{SignatureInfo, TrustPolicy};
pub use verdict::Verdict;

use bumpalo::Bump;
use ipe_nostd::{Bundle, Context};

/// Slots a host context holds in [`evaluate_json`]; bundles needing more read the rest as
/// missing (use [`PolicyEngine`], which has no such limit).
pub const MAX_SLOTS: usize = 256;
/// A list capacity for host-side tools that use the fixed-capacity `ipe_nostd::Decision`
/// (the fuzz oracles); [`evaluate_json`] and [`PolicyEngine`] decisions are complete.
pub const MAX_LIST: usize = 256;

/// Evaluates one parsed JSON request against a bundle with the interpreter and renders the
/// decision, every list complete (the simple path used by the compiler's tests;
/// [`PolicyEngine`] is the fast one).
///
/// Parse request text with [`request::parse_value`]: `serde_json`'s own parser silently keeps
/// the last of repeated keys, which every IPE reader rejects.
pub fn evaluate_json(bundle: &Bundle<'_>, request: &serde_json::Value) -> Report {
    let arena = Bump::new();
    let mut ctx = Context::<MAX_SLOTS>::new();
    request::fill(bundle, request, &arena, &mut ctx);
    let mut d = HostDecision::new(bundle.default_effect());
    ipe_nostd::vm::evaluate_into(bundle, ctx.values(), &mut d);
    Report::with_values(bundle, &d, ctx.values())
}
