//! The decision for one request, shared by every backend, and its JSON form.
//!
//! It is `ipe-nostd`'s rendered decision, a [`Report`] ([`ipe_nostd::report`]): the reference
//! evaluator produces the same type the interpreter, the host engine and the JIT are rendered
//! into, so their JSON is compared byte for byte.
//!
//! Naming, one name per concept across the workspace: a *decision* (`ipe_nostd::Decision`,
//! `ipe_host::HostDecision`) holds policy ids and `Violation` / `PolicyError` records; a
//! *report* ([`Report`], [`ViolationReport`], [`ErrorReport`]) is a decision resolved to the
//! bundle's text (names, intents, reasons, error messages), the shape printed as JSON.

pub use ipe_nostd::report::{ErrorReport, Report, ViolationReport};
