//! Record checks: every section's length, every reference in range, every text range valid,
//! and each policy's clauses, metadata and recorded cost bound.

use super::code::CodeVerifier;
use super::index::verify_index;
use super::{
    bad, count, range_ok, text, text_ok, Block, Section, Tables, VerifyError, MAX_LIST_LEN, R,
};
use crate::family::{check_kind, Family};
use crate::format::{
    body_kind, group, kind, meta_kind, part_kind, Body, ClauseRec, ConstRec, EnumRec, FieldRec,
    MemberRec, MetaRec, PolicyRec, ReasonPartRec, SetKeyRec, SetRec, SlotDefaultRec, SlotRec,
    SymbolRec, BUCKET_LEN, CLAUSE_LEN, CONST_LEN, ENUM_LEN, FIELD_LEN, GROUP_LEN, INT_RANGE_LEN,
    IP_RANGE_LEN, MEMBER_LEN, META_LEN, NONE_U16, NONE_U32, POLICY_LEN, POLICY_REF_LEN,
    REASON_PART_LEN, SET_KEY_LEN, SET_LEN, SLOT_DEFAULT_LEN, SLOT_LEN, SYMBOL_LEN,
};

/// Verifies a decoded body, refusing any policy whose cost bound exceeds `max_cost` steps.
pub fn verify_with_max_cost(body: &Body<'_>, max_cost: u32) -> R {
    verify_costs(body, max_cost, &mut Compare)
}

/// What the verifier does with each policy's recomputed cost bound.
pub(super) trait Costs {
    /// Policy `policy` records `recorded` and its code bounds `computed` (within the budget).
    fn policy(&mut self, policy: u16, recorded: u32, computed: u32) -> R;
}

/// Loading: the recorded bound must be the recomputed one.
struct Compare;

impl Costs for Compare {
    #[inline(always)]
    fn policy(&mut self, policy: u16, recorded: u32, computed: u32) -> R {
        if computed != recorded {
            return Err(VerifyError::CostMismatch {
                policy,
                recorded,
                computed,
            });
        }
        Ok(())
    }
}

/// Sealing ([`super::seal`]): each recomputed bound is kept, whatever is recorded; a policy
/// past the end of the slice is a mismatch (its bound could not be written).
#[cfg(not(feature = "size"))]
pub(super) struct Fill<'c>(pub(super) &'c mut [u32]);

#[cfg(not(feature = "size"))]
impl Costs for Fill<'_> {
    fn policy(&mut self, policy: u16, recorded: u32, computed: u32) -> R {
        match self.0.get_mut(usize::from(policy)) {
            Some(c) => {
                *c = computed;
                Ok(())
            }
            None => Err(VerifyError::CostMismatch {
                policy,
                recorded,
                computed,
            }),
        }
    }
}

/// [`verify_with_max_cost`], each policy's recomputed cost bound handed to `costs`.
pub(super) fn verify_costs<C: Costs>(body: &Body<'_>, max_cost: u32, costs: &mut C) -> R {
    if body.default > 1 {
        return Err(VerifyError::BadRecord {
            section: Section::Default,
            index: 0,
        });
    }
    let u32max = u32::MAX as usize - 1;
    let u16max = u16::MAX as usize - 1;
    let symbols = count(Section::Symbols, body.symbols, SYMBOL_LEN, u32max)?;
    let slots = count(Section::Slots, body.slots, SLOT_LEN, u16max)?;
    let fields = count(Section::Fields, body.fields, FIELD_LEN, u32max)?;
    let enums = count(Section::Enums, body.enums, ENUM_LEN, u16max)?;
    let members = count(Section::Members, body.members, MEMBER_LEN, u32max)?;
    let consts = count(Section::Consts, body.consts, CONST_LEN, u16max + 1)?;
    let sets = count(Section::Sets, body.sets, SET_LEN, u16max + 1)?;
    let set_keys = count(Section::SetKeys, body.set_keys, SET_KEY_LEN, u32max)?;
    let policies = count(Section::Policies, body.policies, POLICY_LEN, u16max)?;
    let clauses = count(Section::Clauses, body.clauses, CLAUSE_LEN, u32max)?;
    let metas = count(Section::Metadata, body.metadata, META_LEN, u32max)?;
    let groups = count(Section::IndexGroups, body.index_groups, GROUP_LEN, u16max)?;
    let buckets = count(
        Section::IndexBuckets,
        body.index_buckets,
        BUCKET_LEN,
        u32max,
    )?;
    let ipols = count(
        Section::IndexPolicies,
        body.index_policies,
        POLICY_REF_LEN,
        u32max,
    )?;
    let unindexed = count(Section::Unindexed, body.unindexed, POLICY_REF_LEN, u16max)?;
    let parts = count(
        Section::ReasonParts,
        body.reason_parts,
        REASON_PART_LEN,
        u32max,
    )?;
    let ip_ranges = count(Section::IpRanges, body.ip_ranges, IP_RANGE_LEN, u32max)?;
    #[cfg(not(feature = "ip"))]
    let _ = ip_ranges;
    slot_defaults(body, slots, u16max)?;
    // Integer range tables (issue #14, session 9): whole records here; each table an
    // `in.range` names is checked where the code verifier meets it.
    count(
        Section::IntRanges,
        body.int_ranges,
        INT_RANGE_LEN,
        u16max + 1,
    )?;

    // Kinds of a language family this build lacks (issue #14): refused before anything reads them.
    let unsupported = VerifyError::Unsupported;
    for i in 0..slots {
        let r = SlotRec::nth(body.slots, i);
        check_kind(r.kind()).map_err(unsupported)?;
        check_kind(r.elem_kind()).map_err(unsupported)?;
    }
    for i in 0..fields {
        check_kind(FieldRec::nth(body.fields, i).kind()).map_err(unsupported)?;
    }
    for i in 0..consts {
        check_kind(ConstRec::nth(body.consts, i).kind()).map_err(unsupported)?;
    }
    for i in 0..sets {
        check_kind(SetRec::nth(body.sets, i).kind()).map_err(unsupported)?;
    }

    // Symbols: valid text, strictly ascending.
    let mut prev: Option<&str> = None;
    for i in 0..symbols {
        let r = SymbolRec::nth(body.symbols, i);
        let s = text(body, r.text()).ok_or(bad(Section::Symbols, i))?;
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
        if MemberRec::nth(body.members, m).symbol() as usize >= symbols {
            return Err(bad(Section::Members, m));
        }
    }
    for e in 0..enums {
        let r = EnumRec::nth(body.enums, e);
        let (first, n) = (r.first_member(), r.member_count());
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
        // An address (issue #14) is a scalar slot, field or list element kind.
        kind::STR
        | kind::INT
        | kind::BOOL
        | kind::QUANTITY
        | kind::TIME
        | kind::DURATION
        | kind::IP => true,
        kind::ENUM => t.enum_len(e).is_some(),
        _ => false,
    };
    // Fields.
    for i in 0..fields {
        let r = FieldRec::nth(body.fields, i);
        // The empty path is the self field of a list of scalars (checked with its slot).
        let path = text(body, r.path());
        let plain = path.is_some_and(|p| p.is_empty() || crate::path::is_canonical(p));
        // A position on a sibling list field (issue #13, session 9: `args[0]`) is a scalar
        // field whose value the readers derive: it needs the `positional` family.
        let positional = !plain && path.is_some_and(positional_field_path);
        if positional && !Family::Positional.enabled() {
            return Err(VerifyError::Unsupported(Family::Positional));
        }
        let path_ok = plain
            || (positional
                && path.is_some_and(crate::positional::is_canonical_positional)
                && scalar_ok(r.kind(), r.enum_id()));
        // A list field (issue #13) names its nested list's slot record, of the same kind.
        let nested_ok = |k: u8, s: u16| {
            matches!(k, kind::LIST | kind::RECORDS)
                && usize::from(s) < slots
                && SlotRec::nth(body.slots, usize::from(s)).kind() == k
        };
        if !path_ok || !(scalar_ok(r.kind(), r.enum_id()) || nested_ok(r.kind(), r.enum_id())) {
            return Err(bad(Section::Fields, i));
        }
    }
    // Slots: valid shapes, strictly ascending paths.
    let mut prev: Option<&str> = None;
    for i in 0..slots {
        let r = SlotRec::nth(body.slots, i);
        let path = text(body, r.path()).ok_or(bad(Section::Slots, i))?;
        let plain = crate::path::is_canonical(path) || nested_slot_path(path);
        if !plain && !Family::Positional.enabled() {
            // Positional slots need the `positional` family (issue #15); recognised here by
            // an index bracket (`[` then a digit or `-`), so the build without the family does
            // not carry the positional path parser.
            let b = path.as_bytes();
            let indexed = b
                .windows(2)
                .any(|w| matches!(w, [b'[', c] if c.is_ascii_digit() || *c == b'-'));
            return Err(if indexed {
                VerifyError::Unsupported(Family::Positional)
            } else {
                bad(Section::Slots, i)
            });
        }
        if !plain && !crate::positional::is_canonical_positional(path) {
            return Err(bad(Section::Slots, i));
        }
        let (k, ek, e) = (r.kind(), r.elem_kind(), r.enum_id());
        let (ff, nf, max) = (r.first_field(), r.field_count(), r.max_len());
        let ok = match k {
            // A list of scalars has no field record, or one: its self field (path "", the
            // element's kind and enum), through which aggregates read its elements.
            kind::LIST => {
                scalar_ok(ek, e)
                    && max <= MAX_LIST_LEN
                    && match nf {
                        0 => true,
                        1 => {
                            range_ok(ff.into(), 1, fields) && {
                                let fr = FieldRec::nth(body.fields, usize::from(ff));
                                fr.kind() == ek
                                    && fr.enum_id() == e
                                    && text(body, fr.path()) == Some("")
                            }
                        }
                        _ => false,
                    }
            }
            kind::RECORDS => {
                range_ok(ff.into(), nf.into(), fields)
                    && max <= MAX_LIST_LEN
                    // Only a list of scalars has a self field: a record's fields have paths.
                    && (usize::from(ff)..usize::from(ff) + usize::from(nf))
                        .all(|j| text(body, FieldRec::nth(body.fields, j).path()) != Some(""))
                    && nested_after(body, i, ff, nf)
            }
            // A map's entries: field 0 the key (a string, path `key`), then either field 1
            // the value (path `value`, the slot's enum) or, for a map of records (issue 13),
            // one or more scalar fields `value.<field>` (the slot's enum none).
            kind::MAP => {
                nf >= 2
                    && range_ok(ff.into(), nf.into(), fields)
                    && FieldRec::nth(body.fields, usize::from(ff)).kind() == kind::STR
                    && text(body, FieldRec::nth(body.fields, usize::from(ff)).path()) == Some("key")
                    && max <= MAX_LIST_LEN
                    && map_values_ok(body, ff, nf, e)
            }
            _ => scalar_ok(k, e),
        };
        // A positional access (session 7, `xs[2]`) is a scalar slot whose value is derived.
        let positional_ok = k != kind::LIST && k != kind::RECORDS && k != kind::MAP
            || !Family::Positional.enabled()
            || !crate::positional::is_canonical_positional(path);
        if !ok || !positional_ok {
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
        let r = ConstRec::nth(body.consts, i);
        if !const_ok(&t, r.kind(), r.value(), r.enum_id()) {
            return Err(bad(Section::Consts, i));
        }
    }
    // Sets: keys in range for their kind, strictly ascending.
    for i in 0..sets {
        let r = SetRec::nth(body.sets, i);
        let (k, e, first, n) = (r.kind(), r.enum_id(), r.first_key(), r.key_count());
        // Without the `ip` family an IP set was refused above (issue #14).
        #[cfg(feature = "ip")]
        if k == kind::IP {
            // A range table (issue #14): records of `ip_ranges`, sorted and disjoint.
            ip_table(body, i, first, n, ip_ranges)?;
            continue;
        }
        if !range_ok(first, n, set_keys) {
            return Err(bad(Section::Sets, i));
        }
        let mut last: Option<i64> = None;
        for j in first as usize..(first as usize).saturating_add(n as usize) {
            let key = SetKeyRec::nth(body.set_keys, j).key();
            let ok = if k == kind::PAIR {
                pair_ok(&t, key, e)
            } else {
                const_ok(&t, k, key, e)
            };
            if !ok {
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
        let r = MetaRec::nth(body.metadata, i);
        let v = r.value();
        let ok = text(body, r.key()).is_some()
            && match r.kind() {
                meta_kind::STR => text_ok(body, v as u32, (v >> 32) as u32),
                meta_kind::INT => true,
                meta_kind::BOOL => v == 0 || v == 1,
                _ => false,
            };
        if !ok {
            return Err(bad(Section::Metadata, i));
        }
    }
    // Clause records (code is verified per policy below).
    for i in 0..clauses {
        let r = ClauseRec::nth(body.clauses, i);
        let code = r.code();
        if !range_ok(code.off, code.len, body.code.len())
            || text(body, r.text()).is_none()
            || r.reports_count() > 1
            || r.witness() > 1
        {
            return Err(bad(Section::Clauses, i));
        }
    }
    // Policies and their code.
    for p in 0..policies {
        verify_policy(&t, p, clauses, metas, max_cost, costs)?;
        verify_template(body, p, parts, slots)?;
    }
    verify_index(body, slots, policies, groups, buckets, ipols, unindexed)
}

/// The list slot of a witness clause ([`crate::witness::clause_list`]).
fn witness_list(body: &Body<'_>, clause: &ClauseRec<'_>) -> Option<u16> {
    let (off, len) = (clause.code().off as usize, clause.code().len as usize);
    crate::witness::clause_list(body.code.get(off..off.checked_add(len)?)?)
}

/// Whether slot `map` (in range) is a map whose field `entry` (1 or more) is a scalar a
/// placeholder shows: the map and entry of a [`part_kind::MAP_ENTRY`] or
/// [`part_kind::WITNESS_ENTRY`] part.
fn map_entry_ok(body: &Body<'_>, map: usize, entry: u16) -> bool {
    let mr = SlotRec::nth(body.slots, map);
    mr.kind() == kind::MAP
        && entry >= 1
        && entry < mr.field_count()
        && shown_kind(
            FieldRec::nth(
                body.fields,
                usize::from(mr.first_field()) + usize::from(entry),
            )
            .kind(),
        )
}

/// Whether a value of kind `k` can be shown in a reason (a scalar kind).
fn shown_kind(k: u8) -> bool {
    matches!(
        k,
        kind::STR
            | kind::INT
            | kind::BOOL
            | kind::ENUM
            | kind::QUANTITY
            | kind::TIME
            | kind::DURATION
            | kind::IP
    )
}

/// Whether (`set`, `konst`) is a lookup table as `lookup.slot` reads it: a non-empty set of
/// strings whose `n` rows are the constants `konst .. konst + n`, all strings, all ints or all
/// bools.
fn const_table_ok(body: &Body<'_>, set: u16, konst: u16) -> bool {
    if usize::from(set) >= SetRec::count(body.sets) {
        return false;
    }
    let sr = SetRec::nth(body.sets, usize::from(set));
    let n = usize::try_from(sr.key_count()).unwrap_or(usize::MAX);
    let first = usize::from(konst);
    let Some(end) = first.checked_add(n) else {
        return false;
    };
    if sr.kind() != kind::STR || n == 0 || end > ConstRec::count(body.consts) {
        return false;
    }
    let k0 = ConstRec::nth(body.consts, first).kind();
    matches!(k0, kind::STR | kind::INT | kind::BOOL)
        && (first..end).all(|c| ConstRec::nth(body.consts, c).kind() == k0)
}

/// A policy's reason template: parts in range, texts valid, slots scalar, every field part
/// naming a field of a witness clause's list; and every witness clause an `all` of the whole
/// clause.
fn verify_template(body: &Body<'_>, p: usize, parts: usize, slots: usize) -> R {
    let r = PolicyRec::nth(body.policies, p);
    let (fp, np) = (r.first_part(), r.part_count());
    let (fc, nc) = (r.first_clause() as usize, r.clause_count());
    for c in 0..usize::from(nc) {
        let cr = ClauseRec::nth(body.clauses, fc + c);
        if cr.witness() != 0 && witness_list(body, &cr).is_none() {
            return Err(bad(Section::Clauses, fc + c));
        }
    }
    if np == 0 {
        return if fp == 0 {
            Ok(())
        } else {
            Err(bad(Section::Policies, p))
        };
    }
    if !range_ok(fp, np.into(), parts) || r.reason().off != NONE_U32 {
        return Err(bad(Section::Policies, p));
    }
    for i in fp as usize..fp as usize + usize::from(np) {
        let part = ReasonPartRec::nth(body.reason_parts, i);
        let zero_text = part.text().off == 0 && part.text().len == 0;
        let ok = match part.kind() {
            part_kind::TEXT => {
                text(body, part.text()).is_some()
                    && part.clause() == 0
                    && part.operand() == 0
                    && part.default() == 0
            }
            part_kind::SLOT => {
                let default_ok = match part.default() {
                    0 => zero_text,
                    1 => text(body, part.text()).is_some(),
                    _ => false,
                };
                default_ok
                    && part.clause() == 0
                    && usize::from(part.operand()) < slots
                    && shown_kind(SlotRec::nth(body.slots, usize::from(part.operand())).kind())
            }
            part_kind::FIELD => {
                let end = fp as usize + usize::from(np);
                // Continued (issue #13): another witness field part follows in this policy.
                let default_ok = match part.default() {
                    0 => true,
                    1 => {
                        i + 1 < end
                            && ReasonPartRec::nth(body.reason_parts, i + 1).kind()
                                == part_kind::FIELD
                    }
                    _ => false,
                };
                zero_text && default_ok && part.clause() < nc && {
                    let cr = ClauseRec::nth(body.clauses, fc + usize::from(part.clause()));
                    cr.witness() != 0
                        && witness_list(body, &cr).is_some_and(|list| {
                            let lr = SlotRec::nth(body.slots, usize::from(list));
                            usize::from(list) < slots
                                && part.operand() < lr.field_count()
                                && lr.max_len() <= u32::from(u16::MAX)
                        })
                }
            }
            part_kind::COUNT | part_kind::FOUND => {
                zero_text && part.default() == 0 && part.clause() == 0 && part.operand() == 0
            }
            // Issue #13, session 10: a map entry under a key read from a string slot, with the
            // `dynkey` family only: the map slot's field `entry` (1 or more, a scalar).
            part_kind::MAP_ENTRY => {
                let (map, key) = (usize::from(part.operand()), usize::from(part.clause()));
                crate::family::Family::DynKey.enabled()
                    && zero_text
                    && part.default() == 0
                    && map < slots
                    && key < slots
                    && SlotRec::nth(body.slots, key).kind() == kind::STR
                    && map_entry_ok(body, map, part.entry())
            }
            // Session 11: a map entry under a string field of a witness element (the field
            // in the text offset), with the `dynkey` family only.
            part_kind::WITNESS_ENTRY => {
                let map = usize::from(part.operand());
                crate::family::Family::DynKey.enabled()
                    && part.text().len == 0
                    && part.default() == 0
                    && part.clause() < nc
                    && map < slots
                    && map_entry_ok(body, map, part.entry())
                    && {
                        let cr = ClauseRec::nth(body.clauses, fc + usize::from(part.clause()));
                        cr.witness() != 0
                            && witness_list(body, &cr).is_some_and(|list| {
                                let lr = SlotRec::nth(body.slots, usize::from(list));
                                usize::from(list) < slots
                                    && lr.kind() == kind::RECORDS
                                    && lr.max_len() <= u32::from(u16::MAX)
                                    && part.text().off < u32::from(lr.field_count())
                                    && FieldRec::nth(
                                        body.fields,
                                        usize::from(lr.first_field()) + part.text().off as usize,
                                    )
                                    .kind()
                                        == kind::STR
                            })
                    }
            }
            // Session 11: a map constant's lookup table (`lookup.slot`'s operands: set
            // `operand`, constants from `entry`) under the string in slot `clause`, with the
            // `lookups` family only.
            part_kind::CONST_ENTRY => {
                let key = usize::from(part.clause());
                crate::family::Family::Lookups.enabled()
                    && zero_text
                    && part.default() == 0
                    && key < slots
                    && SlotRec::nth(body.slots, key).kind() == kind::STR
                    && const_table_ok(body, part.operand(), part.entry())
            }
            _ => false,
        };
        if !ok {
            return Err(bad(Section::ReasonParts, i));
        }
    }
    Ok(())
}

/// The schema defaults section (issue #13): records strictly ascending by slot, each naming a
/// scalar slot of kind string, int, bool or enum, its reserved bytes 0 and its text a valid
/// text range.
fn slot_defaults(body: &Body<'_>, slots: usize, max: usize) -> R {
    let n = count(
        Section::SlotDefaults,
        body.slot_defaults,
        SLOT_DEFAULT_LEN,
        max,
    )?;
    if n > 0 && !Family::Defaults.enabled() {
        // Schema defaults need the `defaults` family (issue #15).
        return Err(VerifyError::Unsupported(Family::Defaults));
    }
    let mut last: Option<u16> = None;
    for i in 0..n {
        let r = SlotDefaultRec::nth(body.slot_defaults, i);
        let s = r.slot();
        let ok = last.is_none_or(|l| s > l)
            && usize::from(s) < slots
            && r.bytes().get(2..4) == Some(&[0u8, 0][..])
            && text(body, r.text()).is_some()
            && matches!(
                SlotRec::nth(body.slots, usize::from(s)).kind(),
                kind::STR | kind::INT | kind::BOOL | kind::ENUM
            );
        if !ok {
            return Err(bad(Section::SlotDefaults, i));
        }
        last = Some(s);
    }
    Ok(())
}

/// A key of a pair set (issue #13): two symbol ids, high and low 32 bits; no enum
/// (`0xFFFF`).
fn pair_ok(t: &Tables<'_, '_>, v: i64, e: u16) -> bool {
    let (hi, lo) = ((v as u64 >> 32) as usize, (v as u64 & 0xFFFF_FFFF) as usize);
    e == NONE_U16 && hi < t.symbols && lo < t.symbols
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

fn verify_policy<C: Costs>(
    t: &Tables<'_, '_>,
    p: usize,
    clauses: usize,
    metas: usize,
    max_cost: u32,
    costs: &mut C,
) -> R {
    let body = t.body;
    let r = PolicyRec::nth(body.policies, p);
    let reason = r.reason();
    let (t_off, t_len) = (r.trigger().off, r.trigger().len);
    let (fc, nc, bk) = (r.first_clause(), r.clause_count(), r.body_kind());
    let (fm, nm) = (r.first_meta(), r.meta_count());
    let ok = text(body, r.name()).is_some()
        && text(body, r.intent()).is_some()
        && (reason.off == NONE_U32 || text(body, reason).is_some())
        && range_ok(t_off, t_len, body.code.len())
        && range_ok(fc, nc.into(), clauses)
        && range_ok(fm, nm.into(), metas)
        && match bk {
            body_kind::REQUIRES => nc > 0,
            body_kind::DENIES => nc == 0,
            _ => false,
        }
        // A later rule of a first-match group follows a rule of the same group.
        && match r.group() {
            group::NONE | group::FIRST => true,
            group::NEXT => p
                .checked_sub(1)
                .is_some_and(|q| PolicyRec::nth(body.policies, q).group() != group::NONE),
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
        let cr = ClauseRec::nth(body.clauses, fc as usize + usize::from(c));
        let (off, len) = (cr.code().off as usize, cr.code().len as usize);
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
    costs.policy(policy, r.cost_bound(), computed)
}

/// Whether every list field among fields `first..first + n` of records slot `slot` names a
/// slot after `slot` (so nested lists form no cycle and every reader's descent ends).
fn nested_after(body: &Body<'_>, slot: usize, first: u16, n: u16) -> bool {
    (usize::from(first)..usize::from(first) + usize::from(n)).all(|f| {
        let fr = FieldRec::nth(body.fields, f);
        !matches!(fr.kind(), kind::LIST | kind::RECORDS) || usize::from(fr.enum_id()) > slot
    })
}

/// Whether field path `p` has an index bracket (`[` then a digit or `-`): a positional
/// element field (issue #13, session 9), recognised without the positional path parser.
fn positional_field_path(p: &str) -> bool {
    p.as_bytes()
        .windows(2)
        .any(|w| matches!(w, [b'[', c] if c.is_ascii_digit() || *c == b'-'))
}

/// Whether `p` names the slot of a nested list: canonical paths joined by `[]`, each piece
/// after a `[]` a field path (`containers[].ports`, `a[]["x.y"]`, `a[].b[].c`).
fn nested_slot_path(p: &str) -> bool {
    let mut pieces = crate::path::split_brackets(p);
    let first_ok = pieces.next().is_some_and(crate::path::is_canonical);
    let mut rest = pieces.peekable();
    first_ok
        && rest.peek().is_some()
        && rest.all(|piece| {
            let field = piece.strip_prefix('.').unwrap_or(piece);
            (piece.starts_with('.') || piece.starts_with('[')) && crate::path::is_canonical(field)
        })
}

/// The value fields of a map slot (fields `ff + 1 .. ff + nf`, enum id `e`): one field
/// `value` with the slot's enum, or (a map of records, issue 13) scalar fields `value.<f>` /
/// `value["f"]` with no map-wide enum.
fn map_values_ok(body: &Body<'_>, ff: u16, nf: u16, e: u16) -> bool {
    let first = usize::from(ff) + 1;
    let last = usize::from(ff) + usize::from(nf);
    let path = |j: usize| text(body, FieldRec::nth(body.fields, j).path());
    if nf == 2 && path(first) == Some("value") {
        return FieldRec::nth(body.fields, first).enum_id() == e;
    }
    e == NONE_U16
        && (first..last).all(|j| {
            let r = FieldRec::nth(body.fields, j);
            path(j).is_some_and(|p| {
                p.strip_prefix("value")
                    .is_some_and(|r| r.starts_with('.') || r.starts_with("[\""))
            }) && !matches!(r.kind(), kind::LIST | kind::RECORDS)
        })
}

/// Checks the range table of set `i` (kind [`kind::IP`]): `n` records of `ip_ranges` from
/// `first`, within the section, each `lo <= hi`, sorted and disjoint.
#[cfg(feature = "ip")]
fn ip_table(body: &Body<'_>, i: usize, first: u32, n: u32, ranges: usize) -> R {
    if !range_ok(first, n, ranges) {
        return Err(bad(Section::Sets, i));
    }
    let (start, len) = (first as usize, n as usize);
    let table = body
        .ip_ranges
        .get(
            start.saturating_mul(IP_RANGE_LEN)
                ..start.saturating_add(len).saturating_mul(IP_RANGE_LEN),
        )
        .ok_or(bad(Section::Sets, i))?;
    match crate::ip::check_table(table) {
        Ok(_) => Ok(()),
        Err(crate::ip::TableError::Length) => Err(bad(Section::Sets, i)),
        Err(crate::ip::TableError::Inverted { index }) => {
            Err(bad(Section::IpRanges, start + index))
        }
        Err(crate::ip::TableError::Unsorted { index }) => Err(VerifyError::Unsorted {
            section: Section::IpRanges,
            index: (start + index) as u32,
        }),
    }
}
