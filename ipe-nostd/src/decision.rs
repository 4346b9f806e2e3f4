//! Decisions: per-policy outcomes and the combined request decision, as small ids into the
//! bundle, plus helpers that render them as text.

use core::fmt;

use heapless::Vec;

use crate::bundle::{BodyKind, Bundle, PolicyId, SlotId};
use crate::format::NONE_U16;
use crate::vocab::{self, Effect, ErrKind};

/// An attribute that could not be read: which one and why.
///
/// Ordered by (slot, field, kind) — slots are sorted by path, fields by field path, so this is
/// the "smaller error" order of `docs/LANGUAGE.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AttrError {
    /// The top-level slot (for a list element field, the list).
    pub slot: SlotId,
    /// The field of a list element, if the error is in one.
    pub field: Option<u16>,
    /// What went wrong.
    pub kind: ErrKind,
}

/// The outcome of one policy for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// The trigger is false.
    NotApplicable,
    /// Triggered and every clause holds.
    Satisfied,
    /// Triggered and denied.
    Violated(Violation),
    /// The trigger, or the requirement with no false clause, is an error.
    Error {
        /// The error.
        error: PolicyError,
        /// Whether the trigger held (the error was in the requirement), so the policy applied.
        applied: bool,
    },
}

/// Why a policy was violated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Violation {
    /// The policy.
    pub policy: PolicyId,
    /// The first false clause (0-based, in source order); `None` for `denies`.
    pub clause: Option<u16>,
    /// The count the failed clause compared, when it reports one.
    pub count: Option<i64>,
}

/// A policy in error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PolicyError {
    /// The policy.
    pub policy: PolicyId,
    /// The smallest attribute error that decided it.
    pub error: AttrError,
}

/// The decision for one request, holding up to `M` entries per list.
///
/// `effect` is always right; when more than `M` policies matched, violated or erred, the
/// lists keep the first `M` by policy id and `truncated` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<const M: usize> {
    /// Allow or deny.
    pub effect: Effect,
    /// Policies whose trigger held, ascending.
    pub matched: Vec<PolicyId, M>,
    /// Violated policies, ascending.
    pub violations: Vec<Violation, M>,
    /// Policies in error, ascending.
    pub errors: Vec<PolicyError, M>,
    /// Whether some list overflowed.
    pub truncated: bool,
}

impl<const M: usize> Decision<M> {
    /// An empty decision with the given effect.
    pub const fn new(effect: Effect) -> Self {
        Decision {
            effect,
            matched: Vec::new(),
            violations: Vec::new(),
            errors: Vec::new(),
            truncated: false,
        }
    }
}

/// Combines outcomes into a decision: the accumulator used by every evaluator.
#[derive(Clone, Debug)]
pub struct DecisionBuilder<const M: usize> {
    decision: Decision<M>,
    acc: Accumulator,
}

/// Whether some policy applied or denied: the builder's state besides the decision itself,
/// so an evaluator can fill a decision in place (no moves of the lists).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Accumulator {
    applied: bool,
    denied: bool,
}

impl Accumulator {
    /// Adds one policy's outcome (in any order) to `d`.
    #[inline]
    pub(crate) fn add<const M: usize>(
        &mut self,
        d: &mut Decision<M>,
        policy: PolicyId,
        outcome: Outcome,
    ) {
        let mut overflow = false;
        match outcome {
            Outcome::NotApplicable => {}
            Outcome::Satisfied => {
                self.applied = true;
                overflow |= d.matched.push(policy).is_err();
            }
            Outcome::Violated(v) => {
                self.applied = true;
                self.denied = true;
                overflow |= d.matched.push(policy).is_err();
                overflow |= d.violations.push(v).is_err();
            }
            Outcome::Error { error, applied } => {
                self.denied = true;
                if applied {
                    self.applied = true;
                    overflow |= d.matched.push(policy).is_err();
                }
                overflow |= d.errors.push(error).is_err();
            }
        }
        d.truncated |= overflow;
    }

    /// Sets the effect and sorts the lists by policy id.
    #[inline]
    pub(crate) fn finish<const M: usize>(self, d: &mut Decision<M>) {
        if self.denied {
            d.effect = Effect::Deny;
        } else if self.applied {
            d.effect = Effect::Allow;
        }
        if d.matched.len() > 1 {
            d.matched.sort_unstable();
        }
        if d.violations.len() > 1 {
            d.violations.sort_unstable_by_key(|v| v.policy);
        }
        if d.errors.len() > 1 {
            d.errors.sort_unstable_by_key(|e| e.policy);
        }
    }
}

impl<const M: usize> DecisionBuilder<M> {
    /// Starts a decision for a bundle with this default.
    pub const fn new(default: Effect) -> Self {
        DecisionBuilder {
            decision: Decision::new(default),
            acc: Accumulator {
                applied: false,
                denied: false,
            },
        }
    }

    /// Adds one policy's outcome (in any order).
    pub fn add(&mut self, policy: PolicyId, outcome: Outcome) {
        self.acc.add(&mut self.decision, policy, outcome);
    }

    /// The final decision, lists sorted by policy id.
    pub fn finish(mut self) -> Decision<M> {
        self.acc.finish(&mut self.decision);
        self.decision
    }
}

/// Renders the reason of a violation (see `docs/LANGUAGE.md`).
pub struct ReasonText<'b, 'a> {
    bundle: &'b Bundle<'a>,
    violation: Violation,
}

impl fmt::Display for ReasonText<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.bundle.policy(self.violation.policy);
        if let Some(r) = p.reason {
            return f.write_str(r);
        }
        match (p.kind, self.violation.clause) {
            (BodyKind::Denies, _) | (_, None) => f.write_str(vocab::DENIED_BY_POLICY),
            (BodyKind::Requires, Some(c)) => {
                let clause = self.bundle.clause(p.first_clause.saturating_add(c.into()));
                f.write_str(vocab::REQUIREMENT_NOT_MET)?;
                f.write_str(clause.text)?;
                match (clause.reports_count, self.violation.count) {
                    (true, Some(n)) => write!(f, " (found {n})"),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// Renders an attribute error (see `docs/LANGUAGE.md`).
pub struct ErrorText<'b, 'a> {
    bundle: &'b Bundle<'a>,
    error: AttrError,
}

impl fmt::Display for ErrorText<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.bundle;
        let slot = b.slot_info(self.error.slot);
        let (enum_id, path_field) = match self.error.field {
            Some(field) => {
                let fi = b.field_info(self.error.slot, field);
                (fi.enum_id, Some(fi.path))
            }
            None => (slot.enum_id, None),
        };
        let members = b.enum_members(if b.has_enum(enum_id) {
            enum_id
        } else {
            NONE_U16
        });
        let members = members.take(if b.has_enum(enum_id) { usize::MAX } else { 0 });
        match path_field {
            Some(field) => vocab::write_attr_error(
                f,
                JoinedPath(slot.path, field),
                self.error.kind,
                members,
                slot.max_len,
            ),
            None => vocab::write_attr_error(f, slot.path, self.error.kind, members, slot.max_len),
        }
    }
}

struct JoinedPath<'a>(&'a str, &'a str);

impl fmt::Display for JoinedPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[].{}", self.0, self.1)
    }
}

impl<'a> Bundle<'a> {
    /// The reason text of a violation.
    pub fn reason<'b>(&'b self, violation: Violation) -> ReasonText<'b, 'a> {
        ReasonText {
            bundle: self,
            violation,
        }
    }

    /// The text of an attribute error.
    pub fn error_text<'b>(&'b self, error: AttrError) -> ErrorText<'b, 'a> {
        ErrorText {
            bundle: self,
            error,
        }
    }
}
