//! IPE's C ABI: a thin layer over [`ipe_host::PolicyEngine`] for data planes written in C or
//! C++, and for Python's `ctypes` (the package in `python/ipe_capi`).
//!
//! The header is `include/ipe.h`, generated from this crate by cbindgen (the test
//! `tests/header.rs` regenerates it and fails when the committed header differs; run it with
//! `IPE_BLESS_HEADER=1` to rewrite it).
//!
//! # Conventions
//! - Every function returns an [`IpeStatus`] (`IPE_STATUS_OK` is 0) except the free functions
//!   and [`ipe_status_name`]. After a failure, [`ipe_last_error`] copies a message naming the
//!   cause; the message is kept per thread until that thread's next failure.
//! - No panic crosses the boundary: each entry point catches one and returns
//!   `IPE_STATUS_PANIC`.
//! - Every pointer is checked for null. Text arguments are pointer + length, never
//!   NUL-terminated; text written back (decision JSON, messages) is NUL-terminated and its
//!   needed size, the NUL included, is reported.
//!
//! # Thread safety
//! - An [`IpeEngine`] is shared by any number of threads: deciding, swapping, reloading and
//!   reading its version may all run at the same time. Each decision sees exactly one bundle
//!   version; a swap never blocks a decision. Only [`ipe_engine_free`] must not race with any
//!   other use of the engine.
//! - An [`IpeRequest`] or [`IpeContext`] is not synchronized: one thread at a time (it may move
//!   between threads). Give each thread its own.
//!
//! # The fast path
//! An [`IpeContext`] is pinned to one bundle version; attribute paths are resolved to slot ids
//! once ([`ipe_context_slot`]), values set by slot (strings borrowed, not copied) and decided
//! into a caller-owned [`IpeContextDecision`] by [`ipe_decide_context`] with no heap allocation
//! in steady state; [`ipe_brief_context`] decides them in brief (the effect and the policy that
//! denied, into an [`IpeBrief`]), stopping at the first deny. `docs/capi.md` describes it,
//! with swap semantics and trust.
//!
//! `unsafe` lives only in the `ffi`, `context` and `manage` modules, every block with a
//! `// SAFETY:` comment.
#![deny(missing_docs)]

#[expect(
    unsafe_code,
    reason = "the C entry points: raw pointers from C; every block has a SAFETY comment"
)]
mod ffi;

#[expect(
    unsafe_code,
    reason = "the fast path's C entry points: raw pointers and borrowed strings from C; every block has a SAFETY comment"
)]
mod context;
#[expect(
    unsafe_code,
    reason = "the stats and trust C entry points: raw pointers from C; every block has a SAFETY comment"
)]
mod manage;

pub use context::*;
pub use ffi::*;
pub use manage::*;

use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use bumpalo::Bump;
use ipe_host::{Error, ErrorKind, HostDecision, PolicyEngine, PolicySet, Report};
use ipe_nostd::Effect;

/// What a call did: `IPE_STATUS_OK`, or why it failed ([`ipe_last_error`] gives the message).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpeStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was null.
    NullArgument = 1,
    /// A text argument (path, attribute name or value) is not UTF-8.
    InvalidUtf8 = 2,
    /// A bundle file could not be read.
    Io = 3,
    /// The bytes are not a valid bundle (header, checksum, body or verification).
    BadBundle = 4,
    /// The request is malformed (not a JSON object, a repeated key, an attribute set twice).
    BadRequest = 5,
    /// The output buffer is too small; the needed size was written. The decision struct, when
    /// given, is filled.
    BufferTooSmall = 6,
    /// `ipe_engine_reload` on an engine that was not opened from a file.
    NoSource = 7,
    /// A bug: a panic was caught at the boundary (the message says where).
    Panic = 8,
    /// Any other failure (the message says what).
    Other = 9,
    /// A trusted engine refused a bundle: unsigned, wrongly signed, signed by an unknown key,
    /// older than the minimum or highest accepted revision, or not yet valid (the message
    /// names which).
    Untrusted = 10,
    /// A slot id (or policy index) outside the context's pinned version (or the engine's
    /// policies): resolve it again.
    BadSlot = 11,
}

/// The effect of a decision.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpeEffect {
    /// The request is allowed.
    Allow = 0,
    /// The request is denied.
    Deny = 1,
}

/// A decision in numbers (the decision JSON has the policies' names, intents and reasons).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpeDecision {
    /// Allow or deny.
    pub effect: IpeEffect,
    /// Policies whose trigger held.
    pub matched: u32,
    /// Violated policies.
    pub violations: u32,
    /// Policies in error (a missing or wrong-typed attribute they read).
    pub errors: u32,
    /// The bundle version that decided (1 when opened, +1 per swap or reload).
    pub version: u64,
}

/// A borrowed byte string: `len` bytes at `ptr` (no NUL needed; `ptr` may be null only when
/// `len` is 0).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IpeStr {
    /// The first byte.
    pub ptr: *const std::ffi::c_char,
    /// How many bytes.
    pub len: usize,
}

/// A live policy set (opaque): a verified bundle that can be replaced atomically while other
/// threads decide. Shared by any number of threads; freed by [`ipe_engine_free`].
pub struct IpeEngine {
    engine: PolicyEngine,
}

/// A typed request (opaque): attributes set one by one without JSON, decided by
/// [`ipe_decide_request`] against any engine. Not synchronized: one thread at a time.
pub struct IpeRequest {
    attrs: Vec<(String, Attr)>,
}

/// One attribute of a typed request.
enum Attr {
    Str(String),
    Int(i64),
    Bool(bool),
    Strs(Vec<String>),
}

/// A failed call: its status and message.
struct Failure {
    status: IpeStatus,
    message: String,
}

impl Failure {
    fn new(status: IpeStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    fn null(what: &str) -> Failure {
        Failure::new(IpeStatus::NullArgument, format!("`{what}` is null"))
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        let status = match e.kind() {
            ErrorKind::Io { .. } | ErrorKind::Read(_) => IpeStatus::Io,
            ErrorKind::Format(_) => IpeStatus::BadBundle,
            ErrorKind::Request(_) => IpeStatus::BadRequest,
            ErrorKind::NoSource => IpeStatus::NoSource,
            ErrorKind::Signature(_) => IpeStatus::Untrusted,
            _ => IpeStatus::Other,
        };
        Failure::new(status, e.to_string())
    }
}

thread_local! {
    /// The message of this thread's last failed call.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(message: String) {
    // During thread teardown the slot may be gone; the status still tells the caller.
    let _ = LAST_ERROR.try_with(|m| {
        if let Ok(mut m) = m.try_borrow_mut() {
            *m = message;
        }
    });
}

fn last_error() -> String {
    LAST_ERROR
        .try_with(|m| m.try_borrow().map(|m| m.clone()).unwrap_or_default())
        .unwrap_or_default()
}

/// Runs one entry point's body: a caught panic becomes `IpeStatus::Panic`, a failure records
/// its message for [`ipe_last_error`].
fn guard(name: &str, body: impl FnOnce() -> Result<IpeStatus, Failure>) -> IpeStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(f)) => {
            set_last_error(f.message);
            f.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            set_last_error(format!("internal error in {name}: {what}"));
            IpeStatus::Panic
        }
    }
}

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            IpeStatus::InvalidUtf8,
            format!("`{what}` is not UTF-8 (byte {})", e.valid_up_to()),
        )
    })
}

impl IpeEngine {
    fn open_bytes(bytes: &[u8]) -> Result<IpeEngine, Failure> {
        Ok(IpeEngine {
            engine: PolicyEngine::from_bytes(bytes.to_vec())?,
        })
    }

    fn open_file(path: &std::path::Path) -> Result<IpeEngine, Failure> {
        Ok(IpeEngine {
            engine: PolicyEngine::from_file(path)?,
        })
    }
}

impl IpeRequest {
    fn set(&mut self, path: &str, value: Attr) {
        self.attrs.push((path.to_owned(), value));
    }

    /// Evaluates the request against `set` through the host's typed builder; renders the
    /// decision JSON when `render` is set.
    fn decide(&self, set: &PolicySet, render: bool) -> Result<Decided, Failure> {
        let arena = Bump::new();
        let mut b = set.request(&arena);
        for (path, attr) in &self.attrs {
            match attr {
                Attr::Str(s) => b.str(path, s),
                Attr::Int(i) => b.int(path, *i),
                Attr::Bool(v) => b.bool(path, *v),
                Attr::Strs(items) => b.strs(path, items.iter().map(String::as_str)),
            };
        }
        let d = b.evaluate()?;
        let report = render.then(|| set.report_values(&d, b.values()));
        Ok(match report {
            Some(r) => Decided::of_report(set, &r),
            None => Decided::of_decision(set, &d),
        })
    }
}

/// A decision ready to be written back to C.
struct Decided {
    decision: IpeDecision,
    json: Option<String>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn effect(e: Effect) -> IpeEffect {
    match e {
        Effect::Allow => IpeEffect::Allow,
        Effect::Deny => IpeEffect::Deny,
    }
}

impl Decided {
    fn of_decision(set: &PolicySet, d: &HostDecision) -> Decided {
        Decided {
            decision: IpeDecision {
                effect: effect(d.effect),
                matched: count(d.matched().len()),
                violations: count(d.violations().len()),
                errors: count(d.errors().len()),
                version: set.version(),
            },
            json: None,
        }
    }

    fn of_report(set: &PolicySet, r: &Report) -> Decided {
        Decided {
            decision: IpeDecision {
                effect: effect(r.effect),
                matched: count(r.matched.len()),
                violations: count(r.violations.len()),
                errors: count(r.errors.len()),
                version: set.version(),
            },
            json: Some(r.to_json()),
        }
    }
}

/// Decides a JSON request against the engine's live version, at the request time `now_ms`
/// (ms since the Unix epoch, replacing any `now` the request carries) when given. With
/// `render`, through the CLI's path (`report_json`: the same decision JSON, reason templates
/// filled from the request); without, the struct only.
fn decide_json(
    engine: &IpeEngine,
    json: &str,
    now_ms: Option<i64>,
    render: bool,
) -> Result<Decided, Failure> {
    let set = engine.engine.load();
    Ok(match (now_ms, render) {
        (None, true) => Decided::of_report(&set, &set.report_json(json)?),
        (None, false) => Decided::of_decision(&set, &set.evaluate_json(json)?),
        (Some(now), true) => Decided::of_report(&set, &set.report_json_at(json, now)?),
        (Some(now), false) => Decided::of_decision(&set, &set.evaluate_json_at(json, now)?),
    })
}
