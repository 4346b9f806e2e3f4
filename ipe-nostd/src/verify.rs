//! The bundle verifier: every check that makes evaluation of an accepted bundle total.
//!
//! After [`verify`] accepts a body, every reference in it is in range, every text range is
//! valid UTF-8, every code block is well typed with a bounded stack, its jumps go forward to
//! instruction boundaries, its aggregate bodies are well nested, and each policy's recorded
//! cost bound equals the one recomputed here. The interpreter relies on nothing else.

use crate::bundle::value_kind;
use crate::format::{self, kind, rec, Body, NONE_U32};
use crate::isa::{CmpOp, Opcode, StrOp, MAX_LEVELS, STACK_CELLS};

/// A section of the body, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Section {
    /// The default decision byte.
    Default,
    /// String table.
    Symbols,
    /// Attribute slots.
    Slots,
    /// Record fields.
    Fields,
    /// Enums.
    Enums,
    /// Enum members.
    Members,
    /// Constants.
    Consts,
    /// Constant sets.
    Sets,
    /// Set keys.
    SetKeys,
    /// Policies.
    Policies,
    /// Requirement clauses.
    Clauses,
    /// Metadata.
    Metadata,
    /// Index groups.
    IndexGroups,
    /// Index buckets.
    IndexBuckets,
    /// Index policy lists.
    IndexPolicies,
    /// Unindexed policy list.
    Unindexed,
}

/// Which code block of a policy an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Block {
    /// The trigger.
    Trigger,
    /// Requirement clause `n` of the policy (0-based).
    Clause(u16),
}

/// What is wrong with a code block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CodeError {
    /// A byte that is no opcode.
    BadOpcode(u8),
    /// An instruction's operands run past the block.
    Truncated,
    /// An operand is out of range (slot, field, constant, set, operator or level).
    BadOperand,
    /// An instruction pops more cells than the block pushed.
    StackUnderflow,
    /// The stack would exceed its fixed size.
    StackOverflow,
    /// Operand types do not fit the instruction.
    TypeMismatch,
    /// A jump lands outside the block, inside an instruction, or with a different stack.
    BadJump,
    /// The block does not end with exactly one condition on the stack.
    BadEnd,
    /// Aggregate bodies nest deeper than the fixed bound.
    TooDeep,
    /// More jumps pending at once than the verifier tracks.
    TooManyJumps,
}

/// Why a bundle body was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum VerifyError {
    /// A section's length is not a whole number of records, or has too many records.
    BadLength(Section),
    /// Record `index` of `section` has an invalid field (kind, flag, text range, reference).
    BadRecord {
        /// The section.
        section: Section,
        /// The record index.
        index: u32,
    },
    /// Records of `section` that must be strictly ascending are not, at `index`.
    Unsorted {
        /// The section.
        section: Section,
        /// The first out-of-order record.
        index: u32,
    },
    /// Policy `policy` is not in exactly one index group or the unindexed list.
    IndexCoverage {
        /// The policy.
        policy: u16,
    },
    /// Policy `policy` is filed in index group `group`, but its trigger does not begin with
    /// `slot == constant` or `slot in set` on the group's slot (followed by nothing or by a
    /// jump to the end on false), so the index is not implied by the code.
    IndexTrigger {
        /// The policy.
        policy: u16,
        /// The index group.
        group: u32,
    },
    /// The buckets policy `policy` is filed under are not exactly the keys of its trigger's
    /// leading conjunct: `key` is a bucket without that key in the trigger, or a key of the
    /// trigger without a bucket holding the policy.
    IndexKey {
        /// The policy.
        policy: u16,
        /// The key in question.
        key: i64,
    },
    /// A code block is invalid.
    Code {
        /// The policy.
        policy: u16,
        /// The block.
        block: Block,
        /// Byte offset of the bad instruction in the block.
        pc: u32,
        /// What is wrong.
        error: CodeError,
    },
    /// A policy's cost bound exceeds the budget the verifier was given.
    OverBudget {
        /// The policy.
        policy: u16,
        /// Its cost bound (`u64::MAX` when it does not even fit 64 bits).
        cost: u64,
        /// The budget.
        budget: u32,
    },
    /// A policy's recorded cost bound differs from the recomputed one.
    CostMismatch {
        /// The policy.
        policy: u16,
        /// Recorded.
        recorded: u32,
        /// Recomputed.
        computed: u32,
    },
}

impl core::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            VerifyError::BadLength(s) => write!(f, "section {s:?} has a bad length"),
            VerifyError::BadRecord { section, index } => {
                write!(f, "record {index} of section {section:?} is invalid")
            }
            VerifyError::Unsorted { section, index } => {
                write!(f, "record {index} of section {section:?} is out of order")
            }
            VerifyError::IndexCoverage { policy } => {
                write!(f, "policy {policy} is not indexed exactly once")
            }
            VerifyError::IndexTrigger { policy, group } => write!(
                f,
                "policy {policy} is in index group {group} but its trigger does not begin \
                 with an equality or set test on that group's slot"
            ),
            VerifyError::IndexKey { policy, key } => write!(
                f,
                "policy {policy} is filed under index keys that differ from its trigger's \
                 at key {key}"
            ),
            VerifyError::Code {
                policy,
                block,
                pc,
                error,
            } => write!(f, "policy {policy}, {block:?}, offset {pc}: {error:?}"),
            VerifyError::OverBudget {
                policy,
                cost,
                budget,
            } => write!(
                f,
                "policy {policy} may take up to {cost} steps, over the budget of {budget}"
            ),
            VerifyError::CostMismatch {
                policy,
                recorded,
                computed,
            } => write!(
                f,
                "policy {policy} records cost bound {recorded} but its code bounds {computed}"
            ),
        }
    }
}

impl core::error::Error for VerifyError {}

/// Longest list bound a slot may declare.
pub const MAX_LIST_LEN: u32 = 1 << 16;

/// The cost budget [`verify`] applies: the most steps one policy's evaluation may take
/// (its trigger and clauses together, by the cost model of `docs/LANGUAGE.md`).
pub const DEFAULT_MAX_COST: u32 = 1_000_000;

type R<T = ()> = Result<T, VerifyError>;

fn count(section: Section, bytes: &[u8], len: usize, max: usize) -> R<usize> {
    if bytes.len() % len != 0 || bytes.len() / len > max {
        return Err(VerifyError::BadLength(section));
    }
    Ok(bytes.len() / len)
}

fn bad(section: Section, index: usize) -> VerifyError {
    VerifyError::BadRecord {
        section,
        index: index as u32,
    }
}

fn text_ok(body: &Body<'_>, off: u32, len: u32) -> bool {
    let start = off as usize;
    body.text
        .get(start..start.wrapping_add(len as usize))
        .is_some()
}

fn text<'a>(body: &Body<'a>, r: &[u8], at: usize) -> Option<&'a str> {
    let (off, len) = (rec::u32(r, at) as usize, rec::u32(r, at + 4) as usize);
    body.text.get(off..off.checked_add(len)?)
}

fn range_ok(first: u32, n: u32, total: usize) -> bool {
    (first as usize)
        .checked_add(n as usize)
        .is_some_and(|end| end <= total)
}

/// The shapes the code verifier needs, read once.
struct Tables<'b, 'a> {
    body: &'b Body<'a>,
    symbols: usize,
    slots: usize,
    enums: usize,
    consts: usize,
    sets: usize,
}

impl Tables<'_, '_> {
    fn slot(&self, s: u16) -> Option<&[u8]> {
        (usize::from(s) < self.slots).then(|| rec::nth(self.body.slots, format::SLOT_LEN, s.into()))
    }
    fn enum_len(&self, e: u16) -> Option<u32> {
        (usize::from(e) < self.enums)
            .then(|| rec::u32(rec::nth(self.body.enums, format::ENUM_LEN, e.into()), 4))
    }
}

/// Verifies a decoded body with the [`DEFAULT_MAX_COST`] budget.
pub fn verify(body: &Body<'_>) -> R {
    verify_with_max_cost(body, DEFAULT_MAX_COST)
}

/// Verifies a decoded body, refusing any policy whose cost bound exceeds `max_cost` steps.
pub fn verify_with_max_cost(body: &Body<'_>, max_cost: u32) -> R {
    if body.default > 1 {
        return Err(VerifyError::BadRecord {
            section: Section::Default,
            index: 0,
        });
    }
    let u32max = u32::MAX as usize - 1;
    let u16max = u16::MAX as usize - 1;
    let symbols = count(Section::Symbols, body.symbols, format::SYMBOL_LEN, u32max)?;
    let slots = count(Section::Slots, body.slots, format::SLOT_LEN, u16max)?;
    let fields = count(Section::Fields, body.fields, format::FIELD_LEN, u32max)?;
    let enums = count(Section::Enums, body.enums, format::ENUM_LEN, u16max)?;
    let members = count(Section::Members, body.members, 4, u32max)?;
    let consts = count(Section::Consts, body.consts, format::CONST_LEN, u16max + 1)?;
    let sets = count(Section::Sets, body.sets, format::SET_LEN, u16max + 1)?;
    let set_keys = count(Section::SetKeys, body.set_keys, 8, u32max)?;
    let policies = count(Section::Policies, body.policies, format::POLICY_LEN, u16max)?;
    let clauses = count(Section::Clauses, body.clauses, format::CLAUSE_LEN, u32max)?;
    let metas = count(Section::Metadata, body.metadata, format::META_LEN, u32max)?;
    let groups = count(
        Section::IndexGroups,
        body.index_groups,
        format::GROUP_LEN,
        u16max,
    )?;
    let buckets = count(
        Section::IndexBuckets,
        body.index_buckets,
        format::BUCKET_LEN,
        u32max,
    )?;
    let ipols = count(Section::IndexPolicies, body.index_policies, 2, u32max)?;
    let unindexed = count(Section::Unindexed, body.unindexed, 2, u16max)?;

    // Symbols: valid text, strictly ascending.
    let mut prev: Option<&str> = None;
    for i in 0..symbols {
        let r = rec::nth(body.symbols, format::SYMBOL_LEN, i);
        let s = text(body, r, 0).ok_or(bad(Section::Symbols, i))?;
        if prev.is_some_and(|p| p >= s) {
            return Err(VerifyError::Unsorted {
                section: Section::Symbols,
                index: i as u32,
            });
        }
        prev = Some(s);
    }
    // Enums and members.
    for m in 0..members {
        if rec::u32(body.members, m * 4) as usize >= symbols {
            return Err(bad(Section::Members, m));
        }
    }
    for e in 0..enums {
        let r = rec::nth(body.enums, format::ENUM_LEN, e);
        let (first, n) = (rec::u32(r, 0), rec::u32(r, 4));
        if n == 0 || n > u32::from(u16::MAX) || !range_ok(first, n, members) {
            return Err(bad(Section::Enums, e));
        }
    }
    let t = Tables {
        body,
        symbols,
        slots,
        enums,
        consts,
        sets,
    };
    let scalar_ok = |k: u8, e: u16| match k {
        kind::STR | kind::INT | kind::BOOL => true,
        kind::ENUM => t.enum_len(e).is_some(),
        _ => false,
    };
    // Fields.
    for i in 0..fields {
        let r = rec::nth(body.fields, format::FIELD_LEN, i);
        if text(body, r, 0).is_none() || !scalar_ok(rec::u8(r, 8), rec::u16(r, 10)) {
            return Err(bad(Section::Fields, i));
        }
    }
    // Slots: valid shapes, strictly ascending paths.
    let mut prev: Option<&str> = None;
    for i in 0..slots {
        let r = rec::nth(body.slots, format::SLOT_LEN, i);
        let path = text(body, r, 0).ok_or(bad(Section::Slots, i))?;
        let (k, ek, e) = (rec::u8(r, 8), rec::u8(r, 9), rec::u16(r, 10));
        let (ff, nf, max) = (rec::u16(r, 12), rec::u16(r, 14), rec::u32(r, 16));
        let ok = match k {
            kind::LIST => scalar_ok(ek, e) && max <= MAX_LIST_LEN,
            kind::RECORDS => range_ok(ff.into(), nf.into(), fields) && max <= MAX_LIST_LEN,
            _ => scalar_ok(k, e),
        };
        if !ok {
            return Err(bad(Section::Slots, i));
        }
        if prev.is_some_and(|p| p >= path) {
            return Err(VerifyError::Unsorted {
                section: Section::Slots,
                index: i as u32,
            });
        }
        prev = Some(path);
    }
    // Constants.
    for i in 0..consts {
        let r = rec::nth(body.consts, format::CONST_LEN, i);
        if !const_ok(&t, rec::u8(r, 0), rec::i64(r, 4), rec::u16(r, 12)) {
            return Err(bad(Section::Consts, i));
        }
    }
    // Sets: keys in range for their kind, strictly ascending.
    for i in 0..sets {
        let r = rec::nth(body.sets, format::SET_LEN, i);
        let (k, e, first, n) = (
            rec::u8(r, 0),
            rec::u16(r, 2),
            rec::u32(r, 4),
            rec::u32(r, 8),
        );
        if !range_ok(first, n, set_keys) {
            return Err(bad(Section::Sets, i));
        }
        let mut last: Option<i64> = None;
        for j in first as usize..(first as usize).saturating_add(n as usize) {
            let key = rec::i64(body.set_keys, j * 8);
            if !const_ok(&t, k, key, e) {
                return Err(bad(Section::SetKeys, j));
            }
            if last.is_some_and(|l| l >= key) {
                return Err(VerifyError::Unsorted {
                    section: Section::SetKeys,
                    index: j as u32,
                });
            }
            last = Some(key);
        }
    }
    // Metadata.
    for i in 0..metas {
        let r = rec::nth(body.metadata, format::META_LEN, i);
        let v = rec::i64(r, 12);
        let ok = text(body, r, 0).is_some()
            && match rec::u8(r, 8) {
                0 => text_ok(body, v as u32, (v >> 32) as u32),
                1 => true,
                2 => v == 0 || v == 1,
                _ => false,
            };
        if !ok {
            return Err(bad(Section::Metadata, i));
        }
    }
    // Clause records (code is verified per policy below).
    for i in 0..clauses {
        let r = rec::nth(body.clauses, format::CLAUSE_LEN, i);
        let (off, len) = (rec::u32(r, 0), rec::u32(r, 4));
        if !range_ok(off, len, body.code.len()) || text(body, r, 8).is_none() || rec::u8(r, 16) > 1
        {
            return Err(bad(Section::Clauses, i));
        }
    }
    // Policies and their code.
    for p in 0..policies {
        verify_policy(&t, p, clauses, metas, max_cost)?;
    }
    verify_index(body, slots, policies, groups, buckets, ipols, unindexed)
}

/// The cost bound of one top-level code block (a trigger or a clause), verifying it.
///
/// The compiler records the sum over a policy's blocks as the policy's cost bound. A bound
/// too large for 64 bits is `u64::MAX`, which exceeds every budget.
pub fn block_cost(body: &Body<'_>, code: &[u8]) -> Result<u64, (usize, CodeError)> {
    let t = Tables {
        body,
        symbols: body.symbols.len() / format::SYMBOL_LEN,
        slots: body.slots.len() / format::SLOT_LEN,
        enums: body.enums.len() / format::ENUM_LEN,
        consts: body.consts.len() / format::CONST_LEN,
        sets: body.sets.len() / format::SET_LEN,
    };
    CodeVerifier::new(&t).block(code, 0)
}

fn const_ok(t: &Tables<'_, '_>, k: u8, v: i64, e: u16) -> bool {
    match k {
        kind::STR => usize::try_from(v).is_ok_and(|s| s < t.symbols),
        kind::INT => true,
        kind::BOOL => v == 0 || v == 1,
        kind::ENUM => t.enum_len(e).is_some_and(|n| v >= 0 && v < i64::from(n)),
        _ => false,
    }
}

fn verify_policy(t: &Tables<'_, '_>, p: usize, clauses: usize, metas: usize, max_cost: u32) -> R {
    let body = t.body;
    let r = rec::nth(body.policies, format::POLICY_LEN, p);
    let reason_off = rec::u32(r, 16);
    let (t_off, t_len) = (rec::u32(r, 24), rec::u32(r, 28));
    let (fc, nc, bk) = (rec::u32(r, 32), rec::u16(r, 36), rec::u8(r, 38));
    let (fm, nm) = (rec::u32(r, 40), rec::u16(r, 44));
    let ok = text(body, r, 0).is_some()
        && text(body, r, 8).is_some()
        && (reason_off == NONE_U32 || text(body, r, 16).is_some())
        && range_ok(t_off, t_len, body.code.len())
        && range_ok(fc, nc.into(), clauses)
        && range_ok(fm, nm.into(), metas)
        && match bk {
            0 => nc > 0,
            1 => nc == 0,
            _ => false,
        };
    if !ok {
        return Err(bad(Section::Policies, p));
    }
    let policy = p as u16;
    let code_err = |block, pc: usize, error| VerifyError::Code {
        policy,
        block,
        pc: pc as u32,
        error,
    };
    let mut cost: u64 = 0;
    let trigger = body
        .code
        .get(t_off as usize..(t_off as usize).saturating_add(t_len as usize))
        .unwrap_or(&[]);
    if !trigger.is_empty() {
        let mut v = CodeVerifier::new(t);
        cost = cost.saturating_add(
            v.block(trigger, 0)
                .map_err(|(pc, e)| code_err(Block::Trigger, pc, e))?,
        );
    }
    for c in 0..nc {
        let cr = rec::nth(
            body.clauses,
            format::CLAUSE_LEN,
            fc as usize + usize::from(c),
        );
        let (off, len) = (rec::u32(cr, 0) as usize, rec::u32(cr, 4) as usize);
        let code = body.code.get(off..off.saturating_add(len)).unwrap_or(&[]);
        let mut v = CodeVerifier::new(t);
        cost = cost.saturating_add(
            v.block(code, 0)
                .map_err(|(pc, e)| code_err(Block::Clause(c), pc, e))?,
        );
    }
    // Saturated sums are u64::MAX, over every u32 budget: nothing over budget passes.
    let computed = match u32::try_from(cost) {
        Ok(c) if c <= max_cost => c,
        _ => {
            return Err(VerifyError::OverBudget {
                policy,
                cost,
                budget: max_cost,
            })
        }
    };
    let recorded = rec::u32(r, 48);
    if computed != recorded {
        return Err(VerifyError::CostMismatch {
            policy,
            recorded,
            computed,
        });
    }
    Ok(())
}

fn verify_index(
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
    let op = Opcode::from_byte(*code.first()?)?;
    let head_len = 1 + op.operand_len();
    let ops = code.get(1..head_len)?;
    let (slot, keys) = match op {
        Opcode::CmpSlotConst if CmpOp::from_byte(rec::u8(ops, 0)) == Some(CmpOp::Eq) => {
            let c = rec::nth(body.consts, format::CONST_LEN, rec::u16(ops, 3).into());
            (rec::u16(ops, 1), Keys::One(rec::i64(c, 4)))
        }
        Opcode::InSlotSet => {
            let set = rec::nth(body.sets, format::SET_LEN, rec::u16(ops, 2).into());
            let (first, n) = (rec::u32(set, 4) as usize, rec::u32(set, 8) as usize);
            if n == 0 {
                return None;
            }
            (rec::u16(ops, 0), Keys::Set { first, n })
        }
        _ => return None,
    };
    if code.len() == head_len {
        return Some((slot, keys));
    }
    let jump = code.get(head_len..)?;
    let jop = Opcode::from_byte(*jump.first()?)?;
    let after = head_len + 1 + jop.operand_len();
    let target = after.checked_add(usize::from(rec::u16(jump, 1)))?;
    (jop == Opcode::JumpIfFalse && target == code.len()).then_some((slot, keys))
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

/// Static cell types: bool, int, str, enum.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Ty {
    Bool = 0,
    Int = 1,
    Str = 2,
    Enum = 3,
}

fn ty_of(k: u8) -> Option<Ty> {
    Some(match k {
        kind::BOOL => Ty::Bool,
        kind::INT => Ty::Int,
        kind::STR => Ty::Str,
        kind::ENUM => Ty::Enum,
        _ => return None,
    })
}

/// Stack state: depth plus 2-bit cell types.
#[derive(Clone, Copy)]
struct State {
    depth: u8,
    tys: u64,
}

impl State {
    fn push(&mut self, t: Ty) -> Result<(), CodeError> {
        if usize::from(self.depth) >= STACK_CELLS {
            return Err(CodeError::StackOverflow);
        }
        let shift = u32::from(self.depth) * 2;
        self.tys = (self.tys & !(3u64 << shift)) | ((t as u64) << shift);
        self.depth += 1;
        Ok(())
    }
    fn pop(&mut self, base: u8) -> Result<Ty, CodeError> {
        if self.depth <= base {
            return Err(CodeError::StackUnderflow);
        }
        self.depth -= 1;
        let shift = u32::from(self.depth) * 2;
        Ok(match (self.tys >> shift) & 3 {
            0 => Ty::Bool,
            1 => Ty::Int,
            2 => Ty::Str,
            _ => Ty::Enum,
        })
    }
    fn same(&self, other: &State) -> bool {
        self.depth == other.depth && self.live() == other.live()
    }
    fn live(&self) -> u64 {
        // Only the live cells matter for equality.
        let bits = u32::from(self.depth) * 2;
        if bits >= 64 {
            self.tys
        } else {
            self.tys & ((1u64 << bits) - 1)
        }
    }
}

/// Distinct pending jumps (by target and stack state) tracked in one block.
///
/// Compiled code needs at most one entry per `and`/`or` chain that is open (has emitted a
/// jump and not reached its exit yet). Each such chain keeps its running result on the stack
/// while its later operands run, so open chains never outnumber the stack cells.
const MAX_PENDING: usize = STACK_CELLS;

struct CodeVerifier<'t, 'b, 'a> {
    t: &'t Tables<'b, 'a>,
    state: State,
    /// Slot iterated at each level.
    loops: [u16; MAX_LEVELS],
}

impl<'t, 'b, 'a> CodeVerifier<'t, 'b, 'a> {
    fn new(t: &'t Tables<'b, 'a>) -> Self {
        CodeVerifier {
            t,
            state: State { depth: 0, tys: 0 },
            loops: [0; MAX_LEVELS],
        }
    }

    fn slot_kind(&self, s: u16) -> Result<u8, CodeError> {
        self.t
            .slot(s)
            .map(|r| rec::u8(r, 8))
            .ok_or(CodeError::BadOperand)
    }

    fn field_ty(&self, level: u8, field: u16, depth: usize) -> Result<Ty, CodeError> {
        if usize::from(level) >= depth {
            return Err(CodeError::BadOperand);
        }
        let slot = self.loops.get(usize::from(level)).copied().unwrap_or(0);
        let r = self.t.slot(slot).ok_or(CodeError::BadOperand)?;
        let (ff, nf) = (rec::u16(r, 12), rec::u16(r, 14));
        if field >= nf {
            return Err(CodeError::BadOperand);
        }
        let fr = rec::nth(
            self.t.body.fields,
            format::FIELD_LEN,
            usize::from(ff) + usize::from(field),
        );
        ty_of(rec::u8(fr, 8)).ok_or(CodeError::BadOperand)
    }

    fn scalar_slot_ty(&self, s: u16) -> Result<Ty, CodeError> {
        ty_of(self.slot_kind(s)?).ok_or(CodeError::TypeMismatch)
    }

    fn const_ty(&self, c: u16) -> Result<Ty, CodeError> {
        if usize::from(c) >= self.t.consts {
            return Err(CodeError::BadOperand);
        }
        ty_of(rec::u8(
            rec::nth(self.t.body.consts, format::CONST_LEN, c.into()),
            0,
        ))
        .ok_or(CodeError::BadOperand)
    }

    fn set_ty(&self, k: u16) -> Result<Ty, CodeError> {
        if usize::from(k) >= self.t.sets {
            return Err(CodeError::BadOperand);
        }
        ty_of(rec::u8(
            rec::nth(self.t.body.sets, format::SET_LEN, k.into()),
            0,
        ))
        .ok_or(CodeError::BadOperand)
    }

    fn cmp(&mut self, op: u8, a: Ty, b: Ty) -> Result<(), CodeError> {
        let op = CmpOp::from_byte(op).ok_or(CodeError::BadOperand)?;
        if a != b || (op.is_ordered() && !matches!(a, Ty::Int | Ty::Enum)) {
            return Err(CodeError::TypeMismatch);
        }
        self.state.push(Ty::Bool)
    }

    /// Verifies one block at nesting `level` whose cells start at the current depth; returns
    /// its cost bound. Errors carry the offset within `code`.
    fn block(&mut self, code: &[u8], level: usize) -> Result<u64, (usize, CodeError)> {
        let base = self.state.depth;
        let mut pending: [(usize, State); MAX_PENDING] = [(0, self.state); MAX_PENDING];
        let mut npending = 0usize;
        let mut cost: u64 = 0;
        let mut pc = 0usize;
        while pc < code.len() {
            // Merge jumps landing here; reject any that skipped over this point.
            let mut i = 0;
            while i < npending {
                let (target, st) = pending.get(i).copied().unwrap_or((0, self.state));
                if target < pc {
                    return Err((pc, CodeError::BadJump));
                }
                if target == pc {
                    if !st.same(&self.state) {
                        return Err((pc, CodeError::BadJump));
                    }
                    npending -= 1;
                    if let (Some(last), true) = (pending.get(npending).copied(), i < npending) {
                        if let Some(slot) = pending.get_mut(i) {
                            *slot = last;
                        }
                    }
                } else {
                    i += 1;
                }
            }
            let at = pc;
            let byte = code.get(pc).copied().unwrap_or(0);
            let op = Opcode::from_byte(byte).ok_or((at, CodeError::BadOpcode(byte)))?;
            let ops = code
                .get(pc + 1..pc + 1 + op.operand_len())
                .ok_or((at, CodeError::Truncated))?;
            pc += 1 + op.operand_len();
            cost = cost.saturating_add(1);
            let e = |err| (at, err);
            let base_u8 = base;
            let u16_at = |i: usize| rec::u16(ops, i);
            match op {
                Opcode::LoadSlot => {
                    let t = self.scalar_slot_ty(u16_at(0)).map_err(e)?;
                    self.state.push(t).map_err(e)?;
                }
                Opcode::LoadField | Opcode::HasField => {
                    let t = self
                        .field_ty(rec::u8(ops, 0), u16_at(1), level)
                        .map_err(e)?;
                    let pushed = if op == Opcode::HasField { Ty::Bool } else { t };
                    self.state.push(pushed).map_err(e)?;
                }
                Opcode::LoadConst => {
                    let t = self.const_ty(u16_at(0)).map_err(e)?;
                    self.state.push(t).map_err(e)?;
                }
                Opcode::Cmp => {
                    let b = self.state.pop(base_u8).map_err(e)?;
                    let a = self.state.pop(base_u8).map_err(e)?;
                    self.cmp(rec::u8(ops, 0), a, b).map_err(e)?;
                }
                Opcode::CmpSlotConst => {
                    let a = self.scalar_slot_ty(u16_at(1)).map_err(e)?;
                    let b = self.const_ty(u16_at(3)).map_err(e)?;
                    self.cmp(rec::u8(ops, 0), a, b).map_err(e)?;
                }
                Opcode::CmpFieldConst | Opcode::CmpFieldSlot => {
                    let a = self
                        .field_ty(rec::u8(ops, 1), u16_at(2), level)
                        .map_err(e)?;
                    let b = if op == Opcode::CmpFieldConst {
                        self.const_ty(u16_at(4))
                    } else {
                        self.scalar_slot_ty(u16_at(4))
                    }
                    .map_err(e)?;
                    self.cmp(rec::u8(ops, 0), a, b).map_err(e)?;
                }
                Opcode::StrOp => {
                    StrOp::from_byte(rec::u8(ops, 0)).ok_or(e(CodeError::BadOperand))?;
                    let b = self.state.pop(base_u8).map_err(e)?;
                    let a = self.state.pop(base_u8).map_err(e)?;
                    if a != Ty::Str || b != Ty::Str {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    self.state.push(Ty::Bool).map_err(e)?;
                }
                Opcode::InSet => {
                    let s = self.set_ty(u16_at(0)).map_err(e)?;
                    let a = self.state.pop(base_u8).map_err(e)?;
                    if a != s {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    self.state.push(Ty::Bool).map_err(e)?;
                }
                Opcode::InSlotSet => {
                    let a = self.scalar_slot_ty(u16_at(0)).map_err(e)?;
                    if a != self.set_ty(u16_at(2)).map_err(e)? {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    self.state.push(Ty::Bool).map_err(e)?;
                }
                Opcode::InList => {
                    let s = u16_at(0);
                    let r = self.t.slot(s).ok_or(e(CodeError::BadOperand))?;
                    if rec::u8(r, 8) != kind::LIST {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    let et = ty_of(rec::u8(r, 9)).ok_or(e(CodeError::BadOperand))?;
                    let a = self.state.pop(base_u8).map_err(e)?;
                    if a != et {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    // A scan of the list: bounded by its length.
                    cost = cost.saturating_add(u64::from(rec::u32(r, 16)));
                    self.state.push(Ty::Bool).map_err(e)?;
                }
                Opcode::Has => {
                    self.slot_kind(u16_at(0)).map_err(e)?;
                    self.state.push(Ty::Bool).map_err(e)?;
                }
                Opcode::Not => {
                    if self.state.pop(base_u8).map_err(e)? != Ty::Bool {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    self.state.push(Ty::Bool).map_err(e)?;
                }
                Opcode::And | Opcode::Or => {
                    let b = self.state.pop(base_u8).map_err(e)?;
                    let a = self.state.pop(base_u8).map_err(e)?;
                    if a != Ty::Bool || b != Ty::Bool {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    self.state.push(Ty::Bool).map_err(e)?;
                }
                Opcode::NoteCount => {
                    let a = self.state.pop(base_u8).map_err(e)?;
                    if a != Ty::Int {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    self.state.push(Ty::Int).map_err(e)?;
                }
                Opcode::JumpIfFalse | Opcode::JumpIfTrue => {
                    let a = self.state.pop(base_u8).map_err(e)?;
                    if a != Ty::Bool {
                        return Err(e(CodeError::TypeMismatch));
                    }
                    self.state.push(Ty::Bool).map_err(e)?;
                    let target = pc + usize::from(u16_at(0));
                    if target > code.len() {
                        return Err(e(CodeError::BadJump));
                    }
                    // Jumps to one target with one stack state share an entry: every
                    // operand of an n-ary `and`/`or` jumps to the same exit, so the entries
                    // are bounded by the chains open at once, not by their operand count.
                    let known = pending
                        .get(..npending)
                        .unwrap_or(&[])
                        .iter()
                        .any(|(t, st)| *t == target && st.same(&self.state));
                    if !known {
                        let slot = pending
                            .get_mut(npending)
                            .ok_or(e(CodeError::TooManyJumps))?;
                        *slot = (target, self.state);
                        npending += 1;
                    }
                }
                Opcode::Count | Opcode::Any | Opcode::All => {
                    let (s, n) = (u16_at(0), usize::from(u16_at(2)));
                    let r = self.t.slot(s).ok_or(e(CodeError::BadOperand))?;
                    let k = rec::u8(r, 8);
                    let max = u64::from(rec::u32(r, 16));
                    if n == 0 {
                        if op != Opcode::Count || !(k == kind::LIST || k == kind::RECORDS) {
                            return Err(e(CodeError::BadOperand));
                        }
                    } else {
                        if k != kind::RECORDS {
                            return Err(e(CodeError::TypeMismatch));
                        }
                        if level >= MAX_LEVELS {
                            return Err(e(CodeError::TooDeep));
                        }
                        let body = code.get(pc..pc + n).ok_or(e(CodeError::Truncated))?;
                        if let Some(l) = self.loops.get_mut(level) {
                            *l = s;
                        }
                        let body_cost = self
                            .block(body, level + 1)
                            .map_err(|(bpc, err)| (pc + bpc, err))?;
                        // The body left one bool; the aggregate consumes it.
                        self.state.pop(base_u8).map_err(e)?;
                        cost = cost.saturating_add(max.saturating_mul(body_cost.saturating_add(1)));
                        pc += n;
                    }
                    let t = if op == Opcode::Count {
                        Ty::Int
                    } else {
                        Ty::Bool
                    };
                    self.state.push(t).map_err(e)?;
                }
            }
        }
        for i in 0..npending {
            if pending
                .get(i)
                .is_some_and(|(t, st)| *t != code.len() || !st.same(&self.state))
            {
                return Err((code.len(), CodeError::BadJump));
            }
        }
        if self.state.depth != base + 1 || self.state.pop(base).ok() != Some(Ty::Bool) {
            return Err((code.len(), CodeError::BadEnd));
        }
        // Leave the result on the stack for the caller of a body; a top-level block is done.
        self.state.push(Ty::Bool).map_err(|err| (code.len(), err))?;
        Ok(cost)
    }
}
