//! The integration tests of ipe-compile, in one binary (modules live in `suite/`).

/// The bundled examples on the reference evaluator and the interpreter; device-sized
/// decisions.
#[path = "suite/backends.rs"]
mod backends;
/// Golden bundle bytes and malformed bundles.
#[path = "suite/bundle_bytes.rs"]
mod bundle_bytes;
/// Issue #15: aggregate bodies specialised as conjunctions agree with the reference.
#[path = "suite/conj_bodies.rs"]
mod conj_bodies;
/// Issue #13: constants, data files, hierarchies and set operators.
#[path = "suite/consts.rs"]
mod consts;
/// The shared corpus (`tests/corpus/` at the repository root), one test per file: expected
/// diagnostics, and every case on the reference evaluator and the interpreter.
#[path = "suite/corpus.rs"]
mod corpus;
/// Diagnostic messages, positions, underlines and help.
#[path = "suite/diagnostics.rs"]
mod diagnostics;
/// Issue #13, session 9: dynamic keys on request maps (instructions and cost).
#[path = "suite/dynkey.rs"]
mod dynkey;
/// Issue #16: `ipe fmt` keeps meaning and comments, and is idempotent.
#[path = "suite/fmt.rs"]
mod fmt;
/// Minimal reproducers of fuzz findings (`fuzz/`), one named test each.
#[path = "suite/fuzz_findings.rs"]
mod fuzz_findings;
/// Issue #13: first-match groups in the bundle format and the verifier.
#[path = "suite/groups.rs"]
mod groups;
/// Issue #14: the `ip_ranges` trailing section, its framing and the verifier's table checks.
#[path = "suite/ip_ranges.rs"]
mod ip_ranges;
/// Issue #11: format and verifier limits as located diagnostics at their boundaries, the
/// cost budget, wide `and`/`or`, and linear-time checking of long lists and enums.
#[path = "suite/limits.rs"]
mod limits;
/// Issue 13: quantifiers over lists of scalars and set operators (self fields, cost, verifier).
#[path = "suite/lists.rs"]
mod lists;
/// Issue 13: nested lists (slots of their own, list field records, `*.field`, cost, verifier).
#[path = "suite/nested.rs"]
mod nested;
/// Issue 13: the several-list and nested-list gaps: `count` over several lists (`add`), seed
/// forms and set operators over nested lists, nested lists without a schema.
#[path = "suite/nested_v2.rs"]
mod nested_v2;
/// Issue #13: `x ?? d`, schema defaults and `permits` against their definition.
#[path = "suite/optional.rs"]
mod optional;
/// Issue #14: `like` and `matches` in the bundle format, the loader and on long inputs.
#[path = "suite/patterns.rs"]
mod patterns;
/// Property tests: the reference evaluator against an independent encoding of the seed policy.
#[path = "suite/prop.rs"]
mod prop;
/// Random well-typed bundles and requests: interpreter against reference evaluator.
#[path = "suite/random_policies.rs"]
mod random_policies;
/// Issue #13 (session 6): reason part byte 9 (defaults, witnesses over several lists).
#[path = "suite/reason_defaults.rs"]
mod reason_defaults;
#[path = "suite/reason_entry.rs"]
mod reason_entry;
/// Issue #13 (session 11): reason part kinds 6 and 7.
#[path = "suite/reason_lookups.rs"]
mod reason_lookups;
/// Helpers shared by the reason-part tests.
#[path = "suite/reason_parts.rs"]
mod reason_parts;
/// Issue 13: reasons with values on the device path, template bytes and their verification.
#[path = "suite/reasons.rs"]
mod reasons;
/// Issue #13, reuse: defs, several lists, templates and instances.
#[path = "suite/reuse.rs"]
mod reuse;
/// The seed policy, compiled as written.
#[path = "suite/seed.rs"]
mod seed;
/// Issue #13 (session 7): the `slot_defaults` trailing section and its verifier checks.
#[path = "suite/slot_defaults.rs"]
mod slot_defaults;
/// Source text: line ends, control characters, CRLF against LF.
#[path = "suite/source_text.rs"]
mod source_text;
/// Issue #13: template list and record parameters, dynamic keys and hierarchy entities.
#[path = "suite/tparams.rs"]
mod tparams;
