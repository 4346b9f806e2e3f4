//! Index checks: the trigger index may only skip a policy whose trigger it proves false.

use super::{bad, range_ok, Section, VerifyError, R};
use crate::format::kind::{self, value_kind};
use crate::format::{
    group, Body, BucketRec, ConstRec, GroupRec, PolicyRec, PolicyRefRec, SetKeyRec, SetRec, SlotRec,
};
use crate::isa::{CmpOp, Instr};

pub(super) fn verify_index(
    body: &Body<'_>,
    slots: usize,
    policies: usize,
    groups: usize,
    buckets: usize,
    ipols: usize,
    unindexed: usize,
) -> R {
    let id_ok =
        |i: usize| usize::from(PolicyRefRec::nth(body.index_policies, i).policy()) < policies;
    let ascending = |list: &[u8], first: usize, n: usize| {
        let mut last: Option<u16> = None;
        for i in first..first + n {
            let id = PolicyRefRec::nth(list, i).policy();
            if last.is_some_and(|l| l >= id) {
                return false;
            }
            last = Some(id);
        }
        true
    };
    let mut prev_slot: Option<u16> = None;
    for g in 0..groups {
        let r = GroupRec::nth(body.index_groups, g);
        let (slot, fb, nb, fp, np) = (
            r.slot(),
            r.first_bucket(),
            r.bucket_count(),
            r.first_policy(),
            r.policy_count(),
        );
        let slot_kind = SlotRec::nth(body.slots, slot.into()).kind();
        let ok = usize::from(slot) < slots
            && value_kind(slot_kind).is_some()
            && slot_kind != kind::LIST
            && slot_kind != kind::IP
            && !kind::is_records(slot_kind)
            && nb > 0
            && np > 0
            && range_ok(fb, nb, buckets)
            && range_ok(fp, np, ipols)
            && (fp as usize..fp as usize + np as usize).all(id_ok)
            && ascending(body.index_policies, fp as usize, np as usize);
        if !ok {
            return Err(bad(Section::IndexGroups, g));
        }
        if prev_slot.is_some_and(|s| s >= slot) {
            return Err(VerifyError::Unsorted {
                section: Section::IndexGroups,
                index: g as u32,
            });
        }
        prev_slot = Some(slot);
        let mut last_key: Option<i64> = None;
        for b in fb as usize..fb as usize + nb as usize {
            let br = BucketRec::nth(body.index_buckets, b);
            let (key, bf, bn) = (br.key(), br.first_policy(), br.policy_count());
            let members_ok = bn > 0
                && range_ok(bf, bn, ipols)
                && ascending(body.index_policies, bf as usize, bn as usize)
                && (bf as usize..bf as usize + bn as usize).all(|i| {
                    let id = PolicyRefRec::nth(body.index_policies, i).policy();
                    contains_sorted(body.index_policies, fp as usize, np as usize, id)
                });
            if !members_ok {
                return Err(bad(Section::IndexBuckets, b));
            }
            if last_key.is_some_and(|l| l >= key) {
                return Err(VerifyError::Unsorted {
                    section: Section::IndexBuckets,
                    index: b as u32,
                });
            }
            last_key = Some(key);
        }
        prove_group(body, g, slot, (fb, nb), (fp, np))?;
    }
    if !(0..unindexed)
        .all(|i| usize::from(PolicyRefRec::nth(body.unindexed, i).policy()) < policies)
        || !ascending(body.unindexed, 0, unindexed)
    {
        return Err(bad(Section::Unindexed, 0));
    }
    // Every policy is in exactly one group's list or the unindexed list. With few groups (on
    // hosts) the lists are walked side by side, one cursor each, as the policies ascend: each
    // list is ascending with every id below `policies`, so a list holds policy `p` exactly
    // when its cursor is at `p` (issue #15: two binary searches per policy were a seventh of
    // verifying a 10,000-policy bundle). Otherwise each list is searched.
    let merge = cfg!(not(feature = "size")) && groups < MERGED_LISTS;
    // The next entry of the unindexed list, then of each group's list.
    let mut at = [0usize; MERGED_LISTS];
    for p in 0..policies {
        let id = p as u16;
        // Whether list `k` (0: the unindexed list, then each group's) holds policy `p`: by its
        // cursor when walking, else by a search (`cfg!` again: the closure is not inlined in
        // the `size` profile, where the walk must fold away).
        let mut holds = |list: &[u8], first: usize, n: usize, k: usize| match at.get_mut(k) {
            Some(a) if cfg!(not(feature = "size")) && merge => {
                let has = *a < n && PolicyRefRec::nth(list, first + *a).policy() == id;
                *a += usize::from(has);
                has
            }
            _ => contains_sorted(list, first, n, id),
        };
        let unindexed_has = holds(body.unindexed, 0, unindexed, 0);
        let mut seen = usize::from(unindexed_has);
        for g in 0..groups {
            let r = GroupRec::nth(body.index_groups, g);
            let (fp, np) = (r.first_policy() as usize, r.policy_count() as usize);
            seen += usize::from(holds(body.index_policies, fp, np, g + 1));
        }
        if seen != 1 {
            return Err(VerifyError::IndexCoverage { policy: id });
        }
        // First-match rules are visited in order among the unindexed policies.
        if PolicyRec::nth(body.policies, p).group() != group::NONE && !unindexed_has {
            return Err(VerifyError::GroupRuleIndexed { policy: id });
        }
    }
    Ok(())
}

/// The most lists (the unindexed list and the groups') the coverage check walks side by side.
const MERGED_LISTS: usize = 8;

/// The keys a trigger's leading conjunct admits: one constant, or a set's keys.
#[derive(Clone, Copy)]
enum Keys {
    One(i64),
    Set { first: usize, n: usize },
}

impl Keys {
    fn contains(self, body: &Body<'_>, key: i64) -> bool {
        match self {
            Keys::One(k) => k == key,
            Keys::Set { first, n } => {
                let (mut lo, mut hi) = (first, first.saturating_add(n));
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    match SetKeyRec::nth(body.set_keys, mid).key().cmp(&key) {
                        core::cmp::Ordering::Less => lo = mid + 1,
                        core::cmp::Ordering::Greater => hi = mid,
                        core::cmp::Ordering::Equal => return true,
                    }
                }
                false
            }
        }
    }
}

/// The slot and keys of the leading conjunct of policy `p`'s trigger, if the trigger is that
/// conjunct alone or that conjunct followed by `jump.false` to the end of the block (so the
/// trigger is false whenever the conjunct is). Runs after the code is verified.
fn trigger_head(body: &Body<'_>, p: u16) -> Option<(u16, Keys)> {
    let (off, end) = PolicyRec::nth(body.policies, usize::from(p))
        .trigger()
        .bounds()?;
    let code = body.code.get(off..end)?;
    let (head, head_len) = Instr::decode(code, 0).ok()?;
    let (slot, keys) = match head {
        Instr::CmpSlotConst {
            op: CmpOp::Eq,
            slot,
            konst,
        } => {
            let c = ConstRec::nth(body.consts, konst.0.into());
            (slot.0, Keys::One(c.value()))
        }
        Instr::InSlotSet { slot, set } => {
            let set = SetRec::nth(body.sets, set.0.into());
            let (first, n) = (set.first_key() as usize, set.key_count() as usize);
            if n == 0 {
                return None;
            }
            (slot.0, Keys::Set { first, n })
        }
        _ => return None,
    };
    if code.len() == head_len {
        return Some((slot, keys));
    }
    match Instr::decode(code, head_len).ok()? {
        (Instr::JumpIfFalse { by }, after) => {
            let target = after.checked_add(usize::from(by.0))?;
            (target == code.len()).then_some((slot, keys))
        }
        _ => None,
    }
}

/// Proves index group `g` (on `slot`) implied by the code: every policy of the group has a
/// trigger led by an equality or set test on `slot`, each bucket's policies admit its key,
/// and each policy is in the bucket of every key it admits. So a policy whose trigger can be
/// true for a value is in that value's bucket, and the buckets say nothing else.
fn prove_group(
    body: &Body<'_>,
    g: usize,
    slot: u16,
    (fb, nb): (u32, u32),
    (fp, np): (u32, u32),
) -> R {
    let heads = |p: u16| -> R<Keys> {
        match trigger_head(body, p) {
            Some((s, keys)) if s == slot => Ok(keys),
            _ => Err(VerifyError::IndexTrigger {
                policy: p,
                group: g as u32,
            }),
        }
    };
    let bucket_of = |key: i64| -> Option<(usize, usize)> {
        let (mut lo, mut hi) = (fb as usize, (fb as usize).saturating_add(nb as usize));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let br = BucketRec::nth(body.index_buckets, mid);
            match br.key().cmp(&key) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => {
                    return Some((br.first_policy() as usize, br.policy_count() as usize))
                }
            }
        }
        None
    };
    // Each policy of the group is in the bucket of every key its trigger admits: the
    // (policy, admitted key) pairs, counted, map one to one into the buckets' entries (no two
    // pairs share an entry: a group's policies, a set's keys, a group's bucket keys and a
    // bucket's policies are each strictly ascending).
    #[cfg(not(feature = "size"))]
    let mut pairs: u64 = 0;
    for i in fp as usize..(fp as usize).saturating_add(np as usize) {
        let p = PolicyRefRec::nth(body.index_policies, i).policy();
        let keys = heads(p)?;
        let check = |key: i64| match bucket_of(key) {
            Some((bf, bn)) if contains_sorted(body.index_policies, bf, bn, p) => Ok(()),
            _ => Err(VerifyError::IndexKey { policy: p, key }),
        };
        // One loop over the keys, a single key as a run of one (issue #15, session 12: one
        // copy of `check`).
        let (first, n, one) = match keys {
            Keys::One(k) => (0, 1, Some(k)),
            Keys::Set { first, n } => (first, n, None),
        };
        #[cfg(not(feature = "size"))]
        {
            pairs = pairs.saturating_add(n as u64);
        }
        for j in first..first.saturating_add(n) {
            check(one.unwrap_or_else(|| SetKeyRec::nth(body.set_keys, j).key()))?;
        }
    }
    // Each bucket holds only policies whose trigger admits its key: so when there are as many
    // entries as pairs (issue #15: no trigger decoded twice). Otherwise, and always in the
    // `size` profile (the shortcut is 0.15 KiB of thumbv7m flash), every entry is checked.
    let buckets = fb as usize..(fb as usize).saturating_add(nb as usize);
    #[cfg(not(feature = "size"))]
    {
        let entries = buckets.clone().fold(0u64, |sum, b| {
            sum.saturating_add(BucketRec::nth(body.index_buckets, b).policy_count().into())
        });
        if entries == pairs {
            return Ok(());
        }
    }
    for b in buckets {
        let br = BucketRec::nth(body.index_buckets, b);
        let (key, bf, bn) = (br.key(), br.first_policy(), br.policy_count());
        for i in bf as usize..(bf as usize).saturating_add(bn as usize) {
            let p = PolicyRefRec::nth(body.index_policies, i).policy();
            if !heads(p)?.contains(body, key) {
                return Err(VerifyError::IndexKey { policy: p, key });
            }
        }
    }
    Ok(())
}

fn contains_sorted(list: &[u8], first: usize, n: usize, id: u16) -> bool {
    let (mut lo, mut hi) = (first, first + n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match PolicyRefRec::nth(list, mid).policy().cmp(&id) {
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
            core::cmp::Ordering::Equal => return true,
        }
    }
    false
}
