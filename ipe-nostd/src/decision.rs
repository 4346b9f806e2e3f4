//! Decisions: per-policy outcomes and the combined request decision, as small ids into the
//! bundle, plus helpers that render them as text.

use core::fmt;

use heapless::Vec;

use crate::bundle::{Bundle, PolicyId, SlotId};
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
    /// The witness of the failed clause, when a reason template names it: the index (in list
    /// order) of the first element whose `all` filter is false.
    pub witness: Option<ElementIndex>,
}

/// The index of an element of a list of at most 65535 elements (a list whose witness a reason
/// template names is declared so: `docs/LANGUAGE.md`, "Reasons with values"). Stored as
/// index + 1, so an `Option<ElementIndex>` takes two bytes and a [`Violation`] stays small.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ElementIndex(core::num::NonZeroU16);

impl ElementIndex {
    /// The index `i`; `None` for 65535, which no list of at most 65535 elements has.
    #[inline]
    pub const fn new(i: u16) -> Option<ElementIndex> {
        match core::num::NonZeroU16::new(i.wrapping_add(1)) {
            Some(n) => Some(ElementIndex(n)),
            None => None,
        }
    }

    /// The index.
    #[inline]
    pub const fn get(self) -> u16 {
        self.0.get() - 1
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ElementIndex {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=u16}", self.get())
    }
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
/// `effect` is always right. When more than `M` policies matched, violated or erred, each
/// list keeps the `M` smallest policy ids and `truncated` counts the entries left out (see
/// "Decision" in `docs/LANGUAGE.md`); hosts that need every entry use growable lists
/// ([`DecisionLists`]).
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
    /// Entries left out of the three lists because they were full (0: the lists are complete).
    pub truncated: u32,
}

impl<const M: usize> Decision<M> {
    /// An empty decision with the given effect.
    pub fn new(effect: Effect) -> Self {
        Decision {
            effect,
            matched: empty(),
            violations: empty(),
            errors: empty(),
            truncated: 0,
        }
    }
}

/// An empty list, built where the caller puts it (issue #15, session 15): with the three
/// `Vec::new()` inline, LLVM merges their length stores across the uninitialised buffers into
/// one `memset` of the whole decision (604 bytes for `Decision<16>`, 49 instructions per
/// evaluation); out of line, each writes its length. The `size` profile (firmware) keeps the
/// `memset` call, which is smaller.
#[cfg_attr(not(feature = "size"), inline(never))]
#[cfg_attr(feature = "size", inline(always))]
fn empty<T, const M: usize>() -> Vec<T, M> {
    Vec::new()
}

/// Where an evaluator puts a decision: the effect and the three lists, in any order until
/// [`DecisionLists::sort`]. Implemented by the fixed-capacity [`Decision`] and by hosts'
/// growable decisions.
pub trait DecisionLists {
    /// Sets the decision's effect.
    fn set_effect(&mut self, effect: Effect);
    /// Adds a policy whose trigger held.
    fn push_matched(&mut self, policy: PolicyId);
    /// Adds a violation.
    fn push_violation(&mut self, violation: Violation);
    /// Adds a policy in error.
    fn push_error(&mut self, error: PolicyError);
    /// Sorts every list by policy id.
    fn sort(&mut self);
}

/// Pushes `x` into a full-or-not list keeping the `M` smallest keys; returns whether an entry
/// (`x` or the largest) was left out.
fn push_smallest<T: Copy, const M: usize>(
    v: &mut Vec<T, M>,
    x: T,
    key: impl Fn(&T) -> u16,
) -> bool {
    if v.push(x).is_ok() {
        return false;
    }
    let largest = v
        .iter_mut()
        .max_by_key(|e| key(e))
        .filter(|e| key(e) > key(&x));
    if let Some(e) = largest {
        *e = x;
    }
    true
}

impl<const M: usize> DecisionLists for Decision<M> {
    fn set_effect(&mut self, effect: Effect) {
        self.effect = effect;
    }
    #[inline]
    fn push_matched(&mut self, policy: PolicyId) {
        if push_smallest(&mut self.matched, policy, |p| *p) {
            self.truncated = self.truncated.saturating_add(1);
        }
    }
    #[inline]
    fn push_violation(&mut self, violation: Violation) {
        if push_smallest(&mut self.violations, violation, |v| v.policy) {
            self.truncated = self.truncated.saturating_add(1);
        }
    }
    #[inline]
    fn push_error(&mut self, error: PolicyError) {
        if push_smallest(&mut self.errors, error, |e| e.policy) {
            self.truncated = self.truncated.saturating_add(1);
        }
    }
    #[inline]
    fn sort(&mut self) {
        sort_small(&mut self.matched, |p| *p);
        sort_small(&mut self.violations, |v| v.policy);
        sort_small(&mut self.errors, |e| e.policy);
    }
}

/// The effect of a decision without its lists (issue #15: lists are built only when asked):
/// a [`DecisionLists`] that keeps nothing but what [`Accumulator::finish`] sets, for callers
/// that record outcomes their own way or want only allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectOnly {
    /// Allow or deny (the default until [`Accumulator::finish`]).
    pub effect: Effect,
}

impl EffectOnly {
    /// The effect `default` until an accumulator finishes into it.
    pub const fn new(default: Effect) -> Self {
        EffectOnly { effect: default }
    }
}

impl DecisionLists for EffectOnly {
    #[inline(always)]
    fn set_effect(&mut self, effect: Effect) {
        self.effect = effect;
    }
    #[inline(always)]
    fn push_matched(&mut self, _: PolicyId) {}
    #[inline(always)]
    fn push_violation(&mut self, _: Violation) {}
    #[inline(always)]
    fn push_error(&mut self, _: PolicyError) {}
    #[inline(always)]
    fn sort(&mut self) {}
}

/// Sorts a fixed-capacity list by `key` with an insertion sort: the lists hold at most `M`
/// entries and arrive nearly sorted (policies are evaluated in id order), and this keeps
/// `core::slice::sort` (about 6.8 KiB of thumbv7m flash for three instantiations) out of
/// firmware. Policy ids are unique within a list, so stability does not matter.
fn sort_small<T: Copy>(v: &mut [T], key: impl Fn(&T) -> u16) {
    for i in 1..v.len() {
        // The pair ending at `j`, moved down while out of order (issue #15, session 12: no
        // `slice::swap`, whose bounds check the compiler could not drop).
        let mut j = i;
        while let Some([a, b]) = j
            .checked_sub(1)
            .and_then(|k| v.get_mut(k..=j))
            .and_then(|p| <&mut [T; 2]>::try_from(p).ok())
        {
            if key(a) <= key(b) {
                break;
            }
            core::mem::swap(a, b);
            j -= 1;
        }
    }
}

/// Combines policy outcomes into a decision: the one rule every evaluator uses (any
/// violation or error denies; otherwise any applied policy allows; otherwise the default).
#[derive(Clone, Copy, Debug)]
pub struct Accumulator {
    default: Effect,
    /// [`APPLIED`](Self::APPLIED) and [`DENIED`](Self::DENIED), one byte (issue #15, session
    /// 20: two `bool`s were stored one byte each and read together by `finish`, a load the
    /// processor could not forward from the two stores).
    flags: u8,
}

impl Accumulator {
    /// Starts combining for a bundle with this default effect.
    pub const fn new(default: Effect) -> Self {
        Accumulator { default, flags: 0 }
    }

    /// Some policy applied.
    const APPLIED: u8 = 1;
    /// Some policy was violated or failed.
    const DENIED: u8 = 2;

    /// Adds one policy's outcome (in any order) to `d`.
    #[inline]
    pub fn add<D: DecisionLists>(&mut self, d: &mut D, policy: PolicyId, outcome: Outcome) {
        match outcome {
            Outcome::NotApplicable => {}
            Outcome::Satisfied => self.satisfied(d, policy),
            Outcome::Violated(v) => self.violated(d, policy, v),
            Outcome::Error { error, applied } => {
                self.flags |= Self::DENIED;
                if applied {
                    self.flags |= Self::APPLIED;
                    d.push_matched(policy);
                }
                d.push_error(error);
            }
        }
    }

    /// [`add`](Self::add) of [`Outcome::Satisfied`] (a caller that knows the outcome without
    /// building one).
    #[inline]
    pub fn satisfied<D: DecisionLists>(&mut self, d: &mut D, policy: PolicyId) {
        self.flags |= Self::APPLIED;
        d.push_matched(policy);
    }

    /// [`add`](Self::add) of policy `policy`'s [`Outcome::Violated`] with `v` (a caller that
    /// knows the outcome without building one).
    #[inline(always)]
    pub fn violated<D: DecisionLists>(&mut self, d: &mut D, policy: PolicyId, v: Violation) {
        self.flags |= Self::APPLIED | Self::DENIED;
        d.push_matched(policy);
        d.push_violation(v);
    }

    /// Sets the effect of `d` and sorts its lists by policy id.
    #[inline]
    pub fn finish<D: DecisionLists>(self, d: &mut D) {
        d.set_effect(if self.flags & Self::DENIED != 0 {
            Effect::Deny
        } else if self.flags & Self::APPLIED != 0 {
            Effect::Allow
        } else {
            self.default
        });
        d.sort();
    }
}

/// A decision in brief: allow or deny and, for a deny that a policy made, that policy (the
/// first, in evaluation order, that was violated or in error). Its effect is always the full
/// decision's; the reasons and lists are in the full decision ([`crate::vm::brief`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Brief {
    /// Allow or deny.
    pub effect: Effect,
    /// The policy that denied: `None` for an allow, and for the deny of a bundle whose
    /// default is deny when no policy applied.
    pub denied_by: Option<PolicyId>,
}

impl Brief {
    /// Whether the request is allowed.
    #[inline(always)]
    pub fn allows(&self) -> bool {
        self.effect == Effect::Allow
    }
}

/// Combines outcomes, in evaluation order, into a [`Brief`]: deny overrides, so the brief is
/// [`settled`](Self::settled) at the first policy violated or in error, and a loop stops
/// there (it gives no outcome after that one).
#[derive(Clone, Copy, Debug)]
pub struct BriefAccumulator {
    default: Effect,
    applied: bool,
    denied_by: Option<PolicyId>,
}

impl BriefAccumulator {
    /// Starts a brief for a bundle with this default effect.
    pub const fn new(default: Effect) -> Self {
        BriefAccumulator {
            default,
            applied: false,
            denied_by: None,
        }
    }

    /// Adds policy `policy`'s outcome.
    #[inline(always)]
    pub fn add(&mut self, policy: PolicyId, outcome: &Outcome) {
        match outcome {
            Outcome::NotApplicable => {}
            Outcome::Satisfied => self.applied = true,
            Outcome::Violated(_) | Outcome::Error { .. } => self.denied(policy),
        }
    }

    /// [`add`](Self::add) of [`Outcome::Satisfied`].
    #[inline(always)]
    pub fn satisfied(&mut self) {
        self.applied = true;
    }

    /// [`add`](Self::add) of a violation or an error of policy `policy` (its details unread).
    /// The brief names the last policy given here: a loop stops once
    /// [`settled`](Self::settled), so that is the first.
    #[inline(always)]
    pub fn denied(&mut self, policy: PolicyId) {
        self.denied_by = Some(policy);
    }

    /// Whether the effect is settled (a deny): no later outcome can change it.
    #[inline(always)]
    pub fn settled(&self) -> bool {
        self.denied_by.is_some()
    }

    /// The brief.
    #[inline(always)]
    pub fn finish(self) -> Brief {
        let effect = if self.denied_by.is_some() {
            Effect::Deny
        } else if self.applied {
            Effect::Allow
        } else {
            self.default
        };
        Brief {
            effect,
            denied_by: self.denied_by,
        }
    }
}

/// Combines outcomes into a fixed-capacity [`Decision`].
#[derive(Clone, Debug)]
pub struct DecisionBuilder<const M: usize> {
    decision: Decision<M>,
    acc: Accumulator,
}

impl<const M: usize> DecisionBuilder<M> {
    /// Starts a decision for a bundle with this default.
    pub fn new(default: Effect) -> Self {
        DecisionBuilder {
            decision: Decision::new(default),
            acc: Accumulator::new(default),
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

/// Renders the reason of a violation (see `docs/LANGUAGE.md`) without the request's values
/// (see [`Bundle::reason_with`] for reasons with values).
pub struct ReasonText<'b, 'a> {
    bundle: &'b Bundle<'a>,
    violation: Violation,
}

impl fmt::Display for ReasonText<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Without the request's values, template placeholders render as missing.
        crate::render::write_reason(f, self.bundle, &[], self.violation)
    }
}

/// Renders an attribute error (see `docs/LANGUAGE.md`).
pub struct ErrorText<'b, 'a> {
    pub(crate) bundle: &'b Bundle<'a>,
    pub(crate) error: AttrError,
}

impl fmt::Display for ErrorText<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_error_text(f, self.bundle, self.error)
    }
}

/// Writes the text of attribute error `error` ([`Bundle::error_text`]) through
/// [`fmt::Write::write_str`] alone: firmware renders it into a byte buffer without `core::fmt`'s
/// formatting machinery (issue #15).
pub fn write_error_text<W: fmt::Write + ?Sized>(
    w: &mut W,
    b: &Bundle<'_>,
    error: AttrError,
) -> fmt::Result {
    let slot = b.slot_info(error.slot);
    let (enum_id, path_field) = match error.field {
        Some(field) => {
            let fi = b.field_info(error.slot, field);
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
        Some(field) => {
            // A position on an element's list field (`c.args[0]`, session 9) carries that
            // list's error: its bound.
            let max = error
                .field
                .and_then(|fi| crate::positional::field_position(b, error.slot, fi))
                .map_or(slot.max_len, |(n, _, _)| b.slot_info(n).max_len);
            vocab::write_error_with(
                w,
                |w: &mut W| {
                    w.write_str(slot.path)?;
                    crate::path::write_joined(w, "[]", field)
                },
                error.kind,
                members,
                max,
                false,
            )
        }
        None => {
            let map = b.is_map(error.slot);
            // A position (`xs[2]`, session 7) carries its list's error: its list's bound.
            let max = if map {
                slot.max_len
            } else {
                crate::positional::list_of(b, error.slot)
                    .map_or(slot.max_len, |l| b.slot_info(l).max_len)
            };
            vocab::write_error_with(
                w,
                |w: &mut W| w.write_str(slot.path),
                error.kind,
                members,
                max,
                map,
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 11: a fixed-capacity decision that overflows says how much it left out, and keeps
    /// the smallest policy ids whatever order the outcomes came in.
    #[test]
    fn issue11_small_decision_counts_what_it_truncates() {
        let mut b = DecisionBuilder::<2>::new(Effect::Allow);
        for id in (0..5u16).rev() {
            let v = Violation {
                policy: id,
                clause: None,
                count: None,
                witness: None,
            };
            b.add(id, Outcome::Violated(v));
        }
        let d = b.finish();
        assert_eq!(d.effect, Effect::Deny);
        assert_eq!(d.matched.as_slice(), &[0, 1]);
        let ids: heapless::Vec<PolicyId, 2> = d.violations.iter().map(|v| v.policy).collect();
        assert_eq!(ids.as_slice(), &[0, 1]);
        // Three matched and three violations left out.
        assert_eq!(d.truncated, 6);

        let mut b = DecisionBuilder::<8>::new(Effect::Allow);
        b.add(3, Outcome::Satisfied);
        let d = b.finish();
        assert_eq!((d.matched.as_slice(), d.truncated), (&[3][..], 0));
    }

    /// Issue 15: an accumulator finishing into [`EffectOnly`] gives the effect the full
    /// decision has, for every mix of outcomes, and keeps no list.
    #[test]
    fn issue15_effect_only_has_the_decisions_effect() {
        let violated = Outcome::Violated(Violation {
            policy: 1,
            clause: Some(0),
            count: None,
            witness: None,
        });
        let error = |applied| Outcome::Error {
            error: PolicyError {
                policy: 2,
                error: AttrError {
                    slot: 0,
                    field: None,
                    kind: ErrKind::Missing,
                },
            },
            applied,
        };
        let mixes: [&[Outcome]; 6] = [
            &[],
            &[Outcome::NotApplicable],
            &[Outcome::Satisfied],
            &[Outcome::Satisfied, violated],
            &[Outcome::NotApplicable, error(false)],
            &[Outcome::Satisfied, error(true)],
        ];
        for default in [Effect::Allow, Effect::Deny] {
            for outcomes in mixes {
                let mut full = DecisionBuilder::<4>::new(default);
                let mut acc = Accumulator::new(default);
                let mut only = EffectOnly::new(default);
                for (id, &o) in outcomes.iter().enumerate() {
                    full.add(id as PolicyId, o);
                    acc.add(&mut only, id as PolicyId, o);
                }
                acc.finish(&mut only);
                assert_eq!(
                    only.effect,
                    full.finish().effect,
                    "{default:?} {outcomes:?}"
                );
            }
        }
    }

    /// The insertion sort that replaced `sort_unstable` (firmware size) sorts every list of a
    /// fixed decision by policy id, whatever order the outcomes came in.
    #[test]
    fn issue13_fw_decision_lists_sort_in_any_arrival_order() {
        // Every arrival order of 5 ids with a deterministic shuffle, and the worst case.
        let orders: [[u16; 5]; 4] = [
            [4, 3, 2, 1, 0],
            [2, 0, 4, 1, 3],
            [0, 1, 2, 3, 4],
            [3, 4, 0, 2, 1],
        ];
        for order in orders {
            let mut b = DecisionBuilder::<8>::new(Effect::Allow);
            for id in order {
                let error = PolicyError {
                    policy: id,
                    error: AttrError {
                        slot: 0,
                        field: None,
                        kind: ErrKind::Missing,
                    },
                };
                let outcome = match id % 3 {
                    0 => Outcome::Satisfied,
                    1 => Outcome::Violated(Violation {
                        policy: id,
                        clause: None,
                        count: None,
                        witness: None,
                    }),
                    _ => Outcome::Error {
                        error,
                        applied: true,
                    },
                };
                b.add(id, outcome);
            }
            let d = b.finish();
            assert_eq!(d.matched.as_slice(), &[0, 1, 2, 3, 4], "{order:?}");
            let v: heapless::Vec<PolicyId, 8> = d.violations.iter().map(|v| v.policy).collect();
            assert_eq!(v.as_slice(), &[1, 4], "{order:?}");
            let e: heapless::Vec<PolicyId, 8> = d.errors.iter().map(|e| e.policy).collect();
            assert_eq!(e.as_slice(), &[2], "{order:?}");
        }
    }
}
