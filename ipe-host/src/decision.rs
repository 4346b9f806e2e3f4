//! The host's decision: complete lists whose buffers are reused per thread, so a steady
//! stream of decisions allocates nothing.

use std::cell::{Cell, RefCell};

use ipe_nostd::{DecisionLists, Effect, PolicyError, PolicyId, Violation};

/// A decision with every matched, violated and erring policy (no capacity, nothing cut):
/// policy ids into the [`PolicySet`](crate::PolicySet) that made it. Render it with
/// [`PolicySet::report`](crate::PolicySet::report).
///
/// A decision with few entries (up to four matched policies and two violations, no error)
/// keeps them in place; a longer one takes list buffers from a per-thread pool, which go back
/// to it when the decision is dropped, so a steady stream of decisions allocates nothing.
pub struct HostDecision {
    /// Allow or deny.
    pub effect: Effect,
    /// Whether an in-place list got an entry below its last.
    unsorted: bool,
    /// The matched policies while the decision has no pooled lists.
    matched: InlineVec<PolicyId, INLINE_MATCHED>,
    /// The violations while the decision has no pooled lists.
    violations: InlineVec<Violation, INLINE_VIOLATIONS>,
    /// The lists, taken from this thread's spares when an in-place list is full or at the first
    /// error (`None`: the entries, if any, are in place). Once taken, every entry is there.
    lists: Option<Box<Lists>>,
}

/// Matched policies a decision holds in place (issue #15, session 19: taking and giving back
/// pooled lists was ~30 instructions of every decision that matched a policy).
const INLINE_MATCHED: usize = 4;
/// Violations a decision holds in place.
const INLINE_VIOLATIONS: usize = 2;

/// A fixed-capacity list with a one-byte length.
type InlineVec<T, const N: usize> = heapless::Vec<T, N, u8>;

/// The three lists of a decision, moved to and from the pool as one pointer (issue #15).
#[derive(Debug, Default)]
struct Lists {
    matched: Vec<PolicyId>,
    violations: Vec<Violation>,
    errors: Vec<PolicyError>,
    /// Whether some entry was pushed after one with a higher policy id (issue #15, session
    /// 18: candidates mostly come in ascending ids, and a flag kept per push costs less than
    /// scanning the lists for order at the end).
    unsorted: bool,
}

/// Spare list buffers kept per thread beyond [`SPARE`] (more live decisions than this just
/// allocate).
const SPARES: usize = 8;

thread_local! {
    /// The spare lists of the last dropped decision: the one the next decision takes.
    static SPARE: Cell<Option<Box<Lists>>> = const { Cell::new(None) };
    /// Further spares, when several decisions of a thread are alive at once.
    #[allow(
        clippy::vec_box,
        reason = "the boxes move to and from decisions as they are, one pointer each"
    )]
    static POOL: RefCell<Vec<Box<Lists>>> = const { RefCell::new(Vec::new()) };
}

/// Empty lists from this thread's spares (or new ones).
#[inline]
fn take_lists() -> Box<Lists> {
    match SPARE.try_with(Cell::take) {
        Ok(Some(lists)) => lists,
        _ => take_pooled(),
    }
}

/// [`take_lists`] when the spare slot is empty.
#[cold]
#[inline(never)]
fn take_pooled() -> Box<Lists> {
    POOL.try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Keeps emptied lists for the next decision of this thread.
#[inline]
fn give_lists(lists: Box<Lists>) {
    // During thread teardown the spares may be gone: the lists are then simply freed.
    let _ = SPARE.try_with(|s| {
        if let Some(older) = s.replace(Some(lists)) {
            give_pooled(older);
        }
    });
}

/// [`give_lists`] when the spare slot was full.
#[cold]
#[inline(never)]
fn give_pooled(lists: Box<Lists>) {
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < SPARES {
                p.push(lists);
            }
        }
    });
}

impl HostDecision {
    /// An empty decision with the given effect (its entries are kept in place, or in lists
    /// taken from this thread's spare buffers once there are more).
    #[inline]
    pub fn new(effect: Effect) -> HostDecision {
        HostDecision {
            effect,
            unsorted: false,
            matched: InlineVec::new(),
            violations: InlineVec::new(),
            lists: None,
        }
    }

    /// Policies whose trigger held, ascending.
    #[inline]
    pub fn matched(&self) -> &[PolicyId] {
        self.lists.as_ref().map_or(&self.matched, |l| &l.matched)
    }

    /// Violated policies, ascending.
    #[inline]
    pub fn violations(&self) -> &[Violation] {
        self.lists
            .as_ref()
            .map_or(&self.violations, |l| &l.violations)
    }

    /// Policies in error, ascending.
    #[inline]
    pub fn errors(&self) -> &[PolicyError] {
        self.lists.as_ref().map_or(&[], |l| &l.errors)
    }

    /// The pooled lists, taken from the spares on first use with the entries kept in place so
    /// far moved to them ([`spill`]).
    #[inline(always)]
    fn pooled(&mut self) -> &mut Lists {
        let HostDecision {
            unsorted,
            matched,
            violations,
            lists,
            ..
        } = self;
        lists.get_or_insert_with(|| spill(unsorted, matched, violations))
    }
}

impl core::fmt::Debug for HostDecision {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HostDecision")
            .field("effect", &self.effect)
            .field("matched", &self.matched())
            .field("violations", &self.violations())
            .field("errors", &self.errors())
            .finish()
    }
}

impl PartialEq for HostDecision {
    fn eq(&self, other: &HostDecision) -> bool {
        self.effect == other.effect
            && self.matched() == other.matched()
            && self.violations() == other.violations()
            && self.errors() == other.errors()
    }
}

impl Eq for HostDecision {}

impl Clone for HostDecision {
    fn clone(&self) -> HostDecision {
        let mut d = HostDecision {
            effect: self.effect,
            unsorted: self.unsorted,
            matched: self.matched.clone(),
            violations: self.violations.clone(),
            lists: None,
        };
        if let Some(from) = &self.lists {
            let to = d.pooled();
            to.matched.extend_from_slice(&from.matched);
            to.violations.extend_from_slice(&from.violations);
            to.errors.extend_from_slice(&from.errors);
            to.unsorted = from.unsorted;
        }
        d
    }
}

impl Drop for HostDecision {
    #[inline(always)]
    fn drop(&mut self) {
        if let Some(lists) = self.lists.take() {
            give_back(lists);
        }
    }
}

/// Lists taken from the spares holding a decision's in-place entries, which it leaves empty.
#[cold]
#[inline(never)]
fn spill(
    unsorted: &mut bool,
    matched: &mut InlineVec<PolicyId, INLINE_MATCHED>,
    violations: &mut InlineVec<Violation, INLINE_VIOLATIONS>,
) -> Box<Lists> {
    let mut l = take_lists();
    l.matched.extend_from_slice(matched);
    l.violations.extend_from_slice(violations);
    l.unsorted = core::mem::take(unsorted);
    matched.clear();
    violations.clear();
    l
}

/// Appends `entry` to a pooled list, noting in `unsorted` whether it sorts below the list's
/// last entry (by the policy id `key` gives).
#[inline(always)]
fn append<T>(list: &mut Vec<T>, unsorted: &mut bool, entry: T, key: impl Fn(&T) -> PolicyId) {
    *unsorted |= list.last().is_some_and(|last| key(last) > key(&entry));
    list.push(entry);
}

/// Empties a dropped decision's lists and keeps them for the next decision of this thread.
#[inline(never)]
fn give_back(mut lists: Box<Lists>) {
    lists.matched.clear();
    lists.violations.clear();
    lists.errors.clear();
    lists.unsorted = false;
    give_lists(lists);
}

impl DecisionLists for HostDecision {
    fn set_effect(&mut self, effect: Effect) {
        self.effect = effect;
    }
    #[inline(always)]
    fn push_matched(&mut self, policy: PolicyId) {
        if self.lists.is_none() {
            let below = self.matched.last().is_some_and(|&p| p > policy);
            if self.matched.push(policy).is_ok() {
                self.unsorted |= below;
                return;
            }
        }
        let l = self.pooled();
        append(&mut l.matched, &mut l.unsorted, policy, |&p| p);
    }
    #[inline(always)]
    fn push_violation(&mut self, violation: Violation) {
        if self.lists.is_none() {
            let below = self
                .violations
                .last()
                .is_some_and(|v| v.policy > violation.policy);
            if self.violations.push(violation).is_ok() {
                self.unsorted |= below;
                return;
            }
        }
        let l = self.pooled();
        append(&mut l.violations, &mut l.unsorted, violation, |v| v.policy);
    }
    #[inline]
    fn push_error(&mut self, error: PolicyError) {
        let l = self.pooled();
        append(&mut l.errors, &mut l.unsorted, error, |e| e.policy);
    }
    #[inline]
    fn sort(&mut self) {
        // Issue #15: most decisions are in order already (no call into the sort).
        match &mut self.lists {
            Some(l) if l.unsorted => l.sort(),
            Some(_) => {}
            None if self.unsorted => {
                self.matched.sort_unstable();
                self.violations.sort_unstable_by_key(|v| v.policy);
                self.unsorted = false;
            }
            None => {}
        }
    }
}

impl Lists {
    /// Sorts every list by policy id (most lists arrive sorted: the unindexed policies and
    /// each bucket are in ascending ids, so a check is all they need).
    #[inline(never)]
    fn sort(&mut self) {
        if !self.matched.is_sorted() {
            self.matched.sort_unstable();
        }
        if !self.violations.is_sorted_by_key(|v| v.policy) {
            self.violations.sort_unstable_by_key(|v| v.policy);
        }
        if !self.errors.is_sorted_by_key(|e| e.policy) {
            self.errors.sort_unstable_by_key(|e| e.policy);
        }
        self.unsorted = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipe_nostd::{AttrError, ErrKind};

    fn violation(policy: PolicyId) -> Violation {
        Violation {
            policy,
            clause: Some(1),
            count: None,
            witness: None,
        }
    }

    fn error(policy: PolicyId) -> PolicyError {
        PolicyError {
            policy,
            error: AttrError {
                slot: 3,
                field: None,
                kind: ErrKind::Missing,
            },
        }
    }

    /// Issue #15, session 14: a decision's lists are taken from the thread's spares and given
    /// back emptied: a later decision starts empty whatever the earlier ones held, however
    /// many are alive at once, and equality ignores whether a decision has taken lists.
    #[test]
    fn spare_lists_come_back_empty_and_live_decisions_do_not_share_them() {
        let mut live = Vec::new();
        for round in 0..3u16 {
            for n in 0..(SPARES as u16 + 3) {
                let mut d = HostDecision::new(Effect::Allow);
                assert!(d.matched().is_empty() && d.violations().is_empty());
                assert!(d.errors().is_empty());
                assert_eq!(d, HostDecision::new(Effect::Allow));
                for id in (0..=n).rev() {
                    d.push_matched(id);
                    d.push_violation(violation(id));
                    d.push_error(error(id));
                }
                d.sort();
                let ids: Vec<PolicyId> = (0..=n).collect();
                assert_eq!(d.matched(), ids.as_slice());
                assert!(d.violations().iter().map(|v| v.policy).eq(0..=n));
                assert!(d.errors().iter().map(|e| e.policy).eq(0..=n));
                let copy = d.clone();
                assert_eq!(copy, d);
                // Keep some alive (more than the spares hold), drop the rest.
                if (n + round) % 2 == 0 {
                    live.push(d);
                }
            }
            for (i, d) in live.iter().enumerate() {
                assert!(!d.matched().is_empty(), "decision {i} kept its lists");
            }
            live.clear();
        }
        let mut d = HostDecision::new(Effect::Deny);
        d.push_matched(7);
        d.sort();
        assert_eq!(d.matched(), [7]);
        assert_ne!(d, HostDecision::new(Effect::Deny));
        let mut e = HostDecision::new(Effect::Deny);
        e.push_matched(7);
        assert_eq!(d, e);
    }

    /// Issue #15, session 18: the lists are sorted when any one of them got an entry below its
    /// last, and a decision whose lists came back to the spares out of order (dropped unsorted)
    /// does not pass its order on.
    #[test]
    fn one_list_out_of_order_is_sorted_and_the_flag_does_not_outlive_its_decision() {
        for out_of_order in 0..3 {
            let mut d = HostDecision::new(Effect::Deny);
            for id in [2u16, 5, 9] {
                d.push_matched(id);
                d.push_violation(violation(id));
                d.push_error(error(id));
            }
            match out_of_order {
                0 => d.push_matched(1),
                1 => d.push_violation(violation(1)),
                _ => d.push_error(error(1)),
            }
            d.sort();
            assert!(d.matched().is_sorted(), "{:?}", d.matched());
            assert!(d.violations().is_sorted_by_key(|v| v.policy));
            assert!(d.errors().is_sorted_by_key(|e| e.policy));
            assert_eq!(
                d.matched().len() + d.violations().len() + d.errors().len(),
                10
            );
        }
        // Dropped unsorted: the spare it leaves starts a decision already in order.
        let mut d = HostDecision::new(Effect::Deny);
        for id in [9, 3, 10, 11, 12, 13] {
            d.push_matched(id);
        }
        assert!(d.lists.as_ref().is_some_and(|l| l.unsorted));
        drop(d);
        let mut d = HostDecision::new(Effect::Deny);
        for id in [4, 8, 10, 11, 12, 13] {
            d.push_matched(id);
        }
        assert!(d.lists.as_ref().is_some_and(|l| !l.unsorted));
        d.sort();
        assert_eq!(d.matched(), [4, 8, 10, 11, 12, 13]);
    }

    /// Issue #15, session 19: up to four matched policies and two violations stay in place;
    /// one more of either, or any error, moves every entry to pooled lists, in order and
    /// with the order flag, whichever list overflowed and wherever the entry out of order was.
    #[test]
    fn entries_in_place_move_to_pooled_lists_whole_and_in_order() {
        for overflow in 0..3 {
            for late in [false, true] {
                let mut d = HostDecision::new(Effect::Deny);
                // In place: 5 and 7 matched and violated (7 first when `late`).
                let first = if late { [7u16, 5] } else { [5, 7] };
                for id in first {
                    d.push_matched(id);
                    d.push_violation(violation(id));
                }
                d.push_matched(9);
                assert!(
                    d.lists.is_none(),
                    "three matched, two violations stay in place"
                );
                assert_eq!(d.unsorted, late);
                match overflow {
                    0 => {
                        d.push_matched(11);
                        d.push_matched(2);
                    }
                    1 => {
                        d.push_matched(2);
                        d.push_violation(violation(2));
                    }
                    _ => d.push_error(error(2)),
                }
                assert!(d.lists.is_some(), "case {overflow}: moved to pooled lists");
                assert!(d.matched.is_empty() && d.violations.is_empty());
                d.sort();
                let matched: &[PolicyId] = match overflow {
                    0 => &[2, 5, 7, 9, 11],
                    1 => &[2, 5, 7, 9],
                    _ => &[5, 7, 9],
                };
                assert_eq!(d.matched(), matched, "case {overflow}, late {late}");
                let violated: Vec<PolicyId> = d.violations().iter().map(|v| v.policy).collect();
                let expected: &[PolicyId] = if overflow == 1 { &[2, 5, 7] } else { &[5, 7] };
                assert_eq!(violated, expected, "case {overflow}, late {late}");
                assert_eq!(d.errors().len(), usize::from(overflow == 2));
                assert_eq!(d.clone(), d);
            }
        }
        // In place and out of order: sorted without pooled lists, equal to the pooled form.
        let mut small = HostDecision::new(Effect::Deny);
        let mut pooled = HostDecision::new(Effect::Deny);
        for id in [8u16, 3] {
            small.push_matched(id);
            small.push_violation(violation(id));
            pooled.push_matched(id);
            pooled.push_violation(violation(id));
        }
        pooled.pooled();
        small.sort();
        pooled.sort();
        assert!(small.lists.is_none() && !small.unsorted);
        assert_eq!(small.matched(), [3, 8]);
        assert_eq!(small, pooled);
        assert_eq!(small.clone(), small);
    }
}
