//! IPE's device engine: decodes and verifies policy bundles and evaluates them with fixed
//! memory, no heap and no unsafe code.
//!
//! # Brief overview
//! - [`Bundle`]: a verified bundle borrowed from bytes ([`Bundle::from_bytes`]).
//! - [`Context`]: a request's attribute values in `N` fixed slots, filled by slot id
//!   ([`Bundle::slot`]) with [`Value`]s.
//! - [`evaluate`]: runs the candidate policies and returns a [`Decision`] of small ids;
//!   [`Bundle::reason`] and [`Bundle::error_text`] render them.
//! - [`read`]: the rules for reading request values that every runtime shares.
//! - [`isa`]: the instruction set; [`verify`]: the verifier every load runs; [`format`]: the
//!   wire format.
//!
//! # Features
//! | feature | what it adds |
//! |---|---|
//! | `defmt` | `defmt::Format` on public types, for firmware logs; the load errors as their stable code, `E<code>` ([`errcode`]); an attribute error's text ([`decision::ErrorText`]) with its words as defmt format strings (not in flash) |
//! | `defmt-errors` | with `defmt`: the load errors logged with their derived structure instead of their code |
//! | `alloc` | [`report`]: decisions rendered with names and their JSON form (uses `alloc` and `serde_json` without `std`) |
//! | `regex` | `matches`: bundles with a regex table load and run (a `regex-automata` sparse DFA search); without it they are refused at load |
//! | `time` | timestamps, durations, `sub` and `time.*` (issue #14); without it bundles using them are refused at load |
//! | `ip` | addresses, IP range sets and `in.ip.*` (issue #14); without it bundles using them are refused at load |
//! | `unicode` | the `lower(...)` string tests and the Unicode case tables (issue #14); without it bundles using them are refused at load |
//! | `arith` | the `arith` instruction (`+ - * / % &`, unary `-`, `min`, `max`, `abs`; issue #14); without it bundles using it are refused at load |
//! | `segment`, `positional`, `defaults`, `dynkey`, `ranges` | `segment(x, sep, i)`, positional list access, schema defaults, dynamic map keys, integer range tables (issue #15); without one, bundles using it are refused at load |
//! | `lookups`, `nested`, `like` | lookup tables (`lookup.*`), nested lists (`in.field`, `*.field` aggregates), glob patterns (`like`) (issue #15, session 10); without one, bundles using it are refused at load |
//! | `signature` | signed bundles (issue #18): [`signed::Trust`], [`Bundle::from_signed`] and [`signed::seal`] check and write Ed25519 envelopes; without it an envelope still opens unverified ([`signed::open_unverified`]) |
//! | `size` | smaller firmware, same decisions: `contains` by a byte-wise scan (worst case `len(haystack) * len(needle)`) instead of `core`'s two-way search |
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The crate docs link the items of the optional features (`report`, signing, `matches`); a
// build without one of them documents the rest without failing on those links.
#![cfg_attr(
    not(all(feature = "alloc", feature = "signature", feature = "regex")),
    allow(
        rustdoc::broken_intra_doc_links,
        reason = "the links name items of features this build leaves out"
    )
)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod arith;
pub mod bundle;
pub mod decision;
pub mod digits;
pub mod disasm;
pub mod dynkey;
pub mod errcode;
#[cfg(feature = "defmt")]
mod errlog;
pub mod family;
pub mod fold;
pub mod format;
pub mod ip;
pub mod isa;
pub mod path;
pub mod pattern;
pub mod positional;
pub mod quantity;
pub mod ranges;
pub mod read;
pub mod regex;
pub mod render;
#[cfg(feature = "alloc")]
pub mod report;
pub mod segment;
pub mod signed;
pub mod time;
pub mod value;
pub mod verify;
pub mod vm;
pub mod vocab;
mod wire;
pub mod witness;

pub use bundle::{Bundle, BundleError, PolicyId, SlotId};
pub use decision::{
    Accumulator, AttrError, Brief, BriefAccumulator, Decision, DecisionBuilder, DecisionLists,
    EffectOnly, Outcome, PolicyError, Violation,
};
pub use value::{Context, Str, Value};
pub use vm::{eval_policy, evaluate};
pub use vocab::{Effect, ErrKind, JsonKind, ValueKind};
