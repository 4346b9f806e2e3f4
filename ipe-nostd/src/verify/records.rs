//! Record checks: every section's length, every reference in range, every text range valid,
//! and each policy's clauses, metadata and recorded cost bound.

use super::code::CodeVerifier;
use super::index::verify_index;
use super::{
    bad, count, range_ok, text, text_ok, Block, Section, Tables, VerifyError, MAX_LIST_LEN, R,
};
use crate::format::{self, kind, rec, Body, NONE_U32};

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
