//! Index checks: the trigger index may only skip a policy whose trigger it proves false.

use super::{bad, range_ok, Section, VerifyError, R};
use crate::format::kind::{self, value_kind};
use crate::format::{self, rec, Body};
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
    let id_ok = |i: usize| (rec::u16(body.index_policies, i * 2) as usize) < policies;
    let ascending = |list: &[u8], first: usize, n: usize| {
        let mut last: Option<u16> = None;
        for i in first..first + n {
            let id = rec::u16(list, i * 2);
            if last.is_some_and(|l| l >= id) {
                return false;
            }
            last = Some(id);
        }
        true
    };
    let mut prev_slot: Option<u16> = None;
    for g in 0..groups {
        let r = rec::nth(body.index_groups, format::GROUP_LEN, g);
        let (slot, fb, nb, fp, np) = (
            rec::u16(r, 0),
            rec::u32(r, 4),
            rec::u32(r, 8),
            rec::u32(r, 12),
            rec::u32(r, 16),
        );
        let slot_kind = rec::u8(rec::nth(body.slots, format::SLOT_LEN, slot.into()), 8);
        let ok = usize::from(slot) < slots
            && value_kind(slot_kind).is_some()
            && slot_kind != kind::LIST
            && slot_kind != kind::RECORDS
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
            let br = rec::nth(body.index_buckets, format::BUCKET_LEN, b);
            let (key, bf, bn) = (rec::i64(br, 0), rec::u32(br, 8), rec::u32(br, 12));
            let members_ok = bn > 0
                && range_ok(bf, bn, ipols)
                && ascending(body.index_policies, bf as usize, bn as usize)
                && (bf as usize..bf as usize + bn as usize).all(|i| {
                    let id = rec::u16(body.index_policies, i * 2);
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
    if !(0..unindexed).all(|i| (rec::u16(body.unindexed, i * 2) as usize) < policies)
        || !ascending(body.unindexed, 0, unindexed)
    {
        return Err(bad(Section::Unindexed, 0));
    }
    // Every policy is in exactly one group's list or the unindexed list.
    for p in 0..policies {
        let id = p as u16;
        let mut seen = usize::from(contains_sorted(body.unindexed, 0, unindexed, id));
        for g in 0..groups {
            let r = rec::nth(body.index_groups, format::GROUP_LEN, g);
            let (fp, np) = (rec::u32(r, 12) as usize, rec::u32(r, 16) as usize);
            seen += usize::from(contains_sorted(body.index_policies, fp, np, id));
        }
        if seen != 1 {
            return Err(VerifyError::IndexCoverage { policy: id });
        }
    }
    Ok(())
}

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
                    match rec::i64(body.set_keys, mid * 8).cmp(&key) {
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
    let r = rec::nth(body.policies, format::POLICY_LEN, usize::from(p));
    let (off, len) = (rec::u32(r, 24) as usize, rec::u32(r, 28) as usize);
    let code = body.code.get(off..off.checked_add(len)?)?;
    let (head, head_len) = Instr::decode(code, 0).ok()?;
    let (slot, keys) = match head {
        Instr::CmpSlotConst {
            op: CmpOp::Eq,
            slot,
            konst,
        } => {
            let c = rec::nth(body.consts, format::CONST_LEN, konst.0.into());
            (slot.0, Keys::One(rec::i64(c, 4)))
        }
        Instr::InSlotSet { slot, set } => {
            let set = rec::nth(body.sets, format::SET_LEN, set.0.into());
            let (first, n) = (rec::u32(set, 4) as usize, rec::u32(set, 8) as usize);
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
            let br = rec::nth(body.index_buckets, format::BUCKET_LEN, mid);
            match rec::i64(br, 0).cmp(&key) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => {
                    return Some((rec::u32(br, 8) as usize, rec::u32(br, 12) as usize))
                }
            }
        }
        None
    };
    // Each policy of the group is in the bucket of every key its trigger admits.
    for i in fp as usize..(fp as usize).saturating_add(np as usize) {
        let p = rec::u16(body.index_policies, i * 2);
        let keys = heads(p)?;
        let check = |key: i64| match bucket_of(key) {
            Some((bf, bn)) if contains_sorted(body.index_policies, bf, bn, p) => Ok(()),
            _ => Err(VerifyError::IndexKey { policy: p, key }),
        };
        match keys {
            Keys::One(k) => check(k)?,
            Keys::Set { first, n } => {
                for j in first..first.saturating_add(n) {
                    check(rec::i64(body.set_keys, j * 8))?;
                }
            }
        }
    }
    // Each bucket holds only policies whose trigger admits its key.
    for b in fb as usize..(fb as usize).saturating_add(nb as usize) {
        let br = rec::nth(body.index_buckets, format::BUCKET_LEN, b);
        let (key, bf, bn) = (rec::i64(br, 0), rec::u32(br, 8), rec::u32(br, 12));
        for i in bf as usize..(bf as usize).saturating_add(bn as usize) {
            let p = rec::u16(body.index_policies, i * 2);
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
        match rec::u16(list, mid * 2).cmp(&id) {
            core::cmp::Ordering::Less => lo = mid + 1,
            core::cmp::Ordering::Greater => hi = mid,
            core::cmp::Ordering::Equal => return true,
        }
    }
    false
}
