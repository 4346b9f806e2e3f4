//! Reason rendering with the request's values: a violation's reason text, written into any
//! [`fmt::Write`] from the bundle, the request's slot values and the violation's ids (no
//! allocation). Every engine's decision renders through [`write_reason`].
//!
//! A reason template's parts (`docs/bundle-format.md`, "Reason templates") are literal text,
//! a top-level attribute's value, a field of the failed clause's witness element, or the count
//! of a failed count clause; how each value is written is in `docs/LANGUAGE.md`, "Reasons with
//! values".

use core::fmt;

use crate::bundle::{BodyKind, Bundle, SlotId};
use crate::decision::Violation;
use crate::format::{kind, part_kind, ReasonPartRec};
use crate::isa::Instr;
use crate::read::{self, Scalar};
use crate::value::Value;
use crate::vocab::{self, ErrKind};

/// What a placeholder renders when its attribute is missing from the request.
pub const MISSING: &str = "<missing>";
/// What a placeholder renders when its attribute is present but invalid.
pub const INVALID: &str = "<invalid>";
/// What a placeholder renders when this violation has no such value (the witness or count of
/// another clause than the one that failed).
pub const NONE: &str = "<none>";

/// Writes the reason of violation `v` (see `docs/LANGUAGE.md`): the policy's reason template
/// filled from `values` (the request's slot values, as evaluated), else its `with reason` text,
/// else the default reason.
pub fn write_reason<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    v: Violation,
) -> fmt::Result {
    if !bundle.has_reason_template(v.policy) {
        return write_plain(w, bundle, values, v);
    }
    // Within a witness field over several lists (issue #13: parts flagged as continued, then
    // one that is not), whether an alternative was written already.
    let mut alt_done = false;
    for part in bundle.reason_parts(v.policy) {
        if part.kind() == part_kind::FIELD {
            let continued = part.default() == 1;
            let skip = alt_done || (continued && v.clause != Some(part.clause()));
            if !skip {
                write_field(w, bundle, values, v, part)?;
                alt_done = continued;
            }
            if !continued {
                alt_done = false;
            }
            continue;
        }
        match part.kind() {
            part_kind::TEXT => w.write_str(bundle.text_span(part.text()))?,
            part_kind::SLOT => {
                let s: SlotId = part.operand();
                let r = bundle.slot_rec(s);
                let val = values
                    .get(usize::from(s))
                    .copied()
                    .unwrap_or(Value::Missing);
                match read::bundle_scalar(bundle, val, r.kind(), r.enum_id()) {
                    // The schema default the conditions read (issue #13).
                    Err(ErrKind::Missing) if part.default() == 1 => {
                        w.write_str(bundle.text_span(part.text()))?
                    }
                    s => write_scalar(w, bundle, s, (r.kind(), r.enum_id()), false)?,
                }
            }
            part_kind::FIELD => write_field(w, bundle, values, v, part)?,
            part_kind::COUNT => match v.count {
                Some(n) => crate::digits::write_i64(w, n)?,
                None => w.write_str(NONE)?,
            },
            part_kind::FOUND => write_found(w, bundle, values, v)?,
            #[cfg(feature = "dynkey")]
            part_kind::MAP_ENTRY => write_entry(w, bundle, values, part)?,
            #[cfg(feature = "dynkey")]
            part_kind::WITNESS_ENTRY => write_witness_entry(w, bundle, values, v, part)?,
            #[cfg(feature = "lookups")]
            part_kind::CONST_ENTRY => write_const_entry(w, bundle, values, part)?,
            _ => w.write_str(NONE)?,
        }
    }
    Ok(())
}

/// The reason without a template: the `with reason` text or the default.
fn write_plain<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    v: Violation,
) -> fmt::Result {
    let p = bundle.policy(v.policy);
    if let Some(r) = p.reason {
        return w.write_str(r);
    }
    match (p.kind, v.clause) {
        (BodyKind::Denies, _) | (_, None) => w.write_str(vocab::DENIED_BY_POLICY),
        (BodyKind::Requires, Some(c)) => {
            let clause = bundle.clause(p.first_clause.saturating_add(c.into()));
            w.write_str(vocab::REQUIREMENT_NOT_MET)?;
            w.write_str(clause.text)?;
            match (clause.reports_count, v.count) {
                (true, Some(n)) => {
                    w.write_str(" (found ")?;
                    crate::digits::write_i64(w, n)?;
                    w.write_str(")")
                }
                _ => write_shown(w, bundle, values, clause.code, " (found ", ")").map(|_| ()),
            }
        }
    }
}

/// `{#found}`: the values the failed clause read ([`write_shown`]), or [`NONE`] when it shows
/// none.
fn write_found<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    v: Violation,
) -> fmt::Result {
    let Some(c) = v.clause else {
        return w.write_str(NONE);
    };
    let p = bundle.policy(v.policy);
    let code = bundle.clause(p.first_clause.saturating_add(c.into())).code;
    if !write_shown(w, bundle, values, code, "", "")? {
        w.write_str(NONE)?;
    }
    Ok(())
}

/// The smallest slot greater than `after` (any slot when `None`) whose value the clause
/// `code` reads with `load.slot`, `cmp.slot.const`, `in.slot.set`, `lookup.slot` (its key,
/// issue #13) or `seg.slot`/`has.seg.slot` (the whole string, issue #14); `None` when there is none
/// or when the clause is not of a shape whose values a reason shows: only those reads, `has`,
/// constants, comparisons, string tests, constant sets, `not`, `and`, `or` and their jumps,
/// time arithmetic and parts (no list, element or count; `docs/LANGUAGE.md`, "Values in
/// default reasons").
#[inline]
fn next_read(code: &[u8], after: Option<SlotId>) -> Option<SlotId> {
    let mut best: Option<SlotId> = None;
    let mut pc = 0usize;
    while pc < code.len() {
        let (instr, next) = Instr::decode(code, pc).ok()?;
        match instr {
            Instr::LoadSlot { slot }
            | Instr::CmpSlotConst { slot, .. }
            | Instr::InSlotSet { slot, .. }
            | Instr::LookupSlot { slot, .. }
            | Instr::InIpSlot { slot, .. }
            | Instr::SegSlot { slot, .. }
            | Instr::HasSegSlot { slot, .. } => {
                if after.is_none_or(|a| slot.0 > a) {
                    best = Some(best.map_or(slot.0, |b| b.min(slot.0)));
                }
            }
            // Issue #14: two addresses compared, both shown.
            Instr::CmpIpSlotSlot { a, b, .. } => {
                for slot in [a, b] {
                    if after.is_none_or(|a| slot.0 > a) {
                        best = Some(best.map_or(slot.0, |b| b.min(slot.0)));
                    }
                }
            }
            Instr::LoadConst { .. }
            | Instr::Cmp { .. }
            | Instr::StrOp { .. }
            | Instr::StrMatch { .. }
            | Instr::StrFold { .. }
            | Instr::StrMatchFold { .. }
            | Instr::InRange { .. }
            | Instr::InSet { .. }
            | Instr::InPairSet { .. }
            | Instr::Arith { .. }
            | Instr::StrLen {}
            | Instr::Seg { .. }
            | Instr::HasSeg { .. }
            | Instr::Has { .. }
            | Instr::Not {}
            | Instr::And {}
            | Instr::Or {}
            | Instr::JumpIfFalse { .. }
            | Instr::JumpIfTrue { .. }
            // Issue #14: time arithmetic and parts over the attributes read (a count, the only
            // other source of `add` operands, returns above).
            | Instr::Add {}
            | Instr::Sub {}
            | Instr::TimeHour {}
            | Instr::TimeWeekday {}
            | Instr::TimeOfDay {} => {}
            _ => return None,
        }
        pc = next;
    }
    best
}

/// The next attribute after `after` that the failed clause `code` shows, with its value: the
/// attributes whose values it reads ([`next_read`]), each once, in slot (path) order, leaving
/// out those missing from the request (so none without the request's values).
#[inline(never)]
fn next_shown<'v>(
    bundle: &Bundle<'_>,
    values: &[Value<'v>],
    code: &[u8],
    mut after: Option<SlotId>,
) -> Option<(SlotId, Result<Scalar<'v>, ErrKind>)> {
    loop {
        let s = next_read(code, after)?;
        after = Some(s);
        let r = bundle.slot_rec(s);
        let val = values
            .get(usize::from(s))
            .copied()
            .unwrap_or(Value::Missing);
        match read::bundle_scalar(bundle, val, r.kind(), r.enum_id()) {
            // Missing with a schema default (issue #13): shown as the default, which the
            // conditions read ([`write_shown`] writes it); never without the request's values.
            Err(ErrKind::Missing)
                if usize::from(s) < values.len() && bundle.slot_default(s).is_some() =>
            {
                return Some((s, Err(ErrKind::Missing)))
            }
            Err(ErrKind::Missing) => {}
            read => return Some((s, read)),
        }
    }
}

/// Writes the shown attributes of the failed clause `code` ([`next_shown`]), `path = value`
/// joined by `, ` (values as [`write_scalar`] writes them quoted), after `open` and before
/// `close`; writes nothing and returns false when there is none.
fn write_shown<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    code: &[u8],
    open: &str,
    close: &str,
) -> Result<bool, fmt::Error> {
    let mut after = None;
    while let Some((s, read)) = next_shown(bundle, values, code, after) {
        w.write_str(if after.is_some() { ", " } else { open })?;
        after = Some(s);
        let r = bundle.slot_rec(s);
        w.write_str(bundle.text_span(r.path()))?;
        w.write_str(" = ")?;
        match (read, bundle.slot_default(s)) {
            (Err(ErrKind::Missing), Some(d)) if matches!(r.kind(), kind::STR | kind::ENUM) => {
                write_quoted(w, d)?
            }
            (Err(ErrKind::Missing), Some(d)) => w.write_str(d)?,
            (read, _) => write_scalar(w, bundle, read, (r.kind(), r.enum_id()), true)?,
        }
    }
    if after.is_some() {
        w.write_str(close)?;
    }
    Ok(after.is_some())
}

/// `s` as a JSON string: quoted; `"`, backslash and control characters escaped (`\n`, `\r`,
/// `\t`, `\b`, `\f`, the others `\u00XX` in lowercase hex); everything else as is. Runs of
/// unescaped text are written whole (`write_str` only: no `char` encoding, issue #15).
fn write_quoted<W: fmt::Write + ?Sized>(w: &mut W, s: &str) -> fmt::Result {
    const HEX: &str = "0123456789abcdef";
    w.write_str("\"")?;
    let mut rest = s;
    while let Some(i) = rest
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)
    {
        // An ASCII byte is a char boundary: both pieces exist.
        w.write_str(rest.get(..i).unwrap_or_default())?;
        let b = rest.as_bytes().get(i).copied().unwrap_or_default();
        rest = rest.get(i + 1..).unwrap_or_default();
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => {
                w.write_str(if b < 0x10 { "\\u000" } else { "\\u001" })?;
                let d = usize::from(b & 0x0f);
                HEX.get(d..d + 1).unwrap_or_default()
            }
        };
        w.write_str(escaped)?;
    }
    w.write_str(rest)?;
    w.write_str("\"")
}

/// Field `field` of the witness element of clause `clause` of violation `v`: its record and
/// its value; `None` when another clause failed or there is no such element.
fn witness_field<'b, 'v>(
    bundle: &Bundle<'b>,
    values: &[Value<'v>],
    v: Violation,
    clause: u16,
    field: u16,
) -> Option<(crate::format::FieldRec<'b>, Value<'v>)> {
    let (Some(failed), Some(witness)) = (v.clause, v.witness) else {
        return None;
    };
    if failed != clause {
        return None;
    }
    let p = bundle.policy(v.policy);
    let code = bundle
        .clause(p.first_clause.saturating_add(clause.into()))
        .code;
    let list = crate::witness::clause_list(code)?;
    let first_field = bundle.slot_rec(list).first_field();
    let decl = bundle.list_decl(list);
    let val = values
        .get(usize::from(list))
        .copied()
        .unwrap_or(Value::Missing);
    match read::list(bundle, decl, val) {
        Ok((vals, stride)) if decl.kind == kind::RECORDS => vals
            .chunks_exact(stride)
            .nth(usize::from(witness.get()))
            .map(|elem| {
                let fr = bundle.field_rec(usize::from(first_field).saturating_add(field.into()));
                let fv = elem
                    .get(usize::from(field))
                    .copied()
                    .unwrap_or(Value::Missing);
                (fr, fv)
            }),
        _ => None,
    }
}

/// A field of the witness element of the part's clause.
fn write_field<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    v: Violation,
    part: ReasonPartRec<'_>,
) -> fmt::Result {
    let Some((fr, fv)) = witness_field(bundle, values, v, part.clause(), part.operand()) else {
        return w.write_str(NONE);
    };
    write_scalar(
        w,
        bundle,
        read::bundle_scalar(bundle, fv, fr.kind(), fr.enum_id()),
        (fr.kind(), fr.enum_id()),
        false,
    )
}

/// `{m[k]}`, `{m[k].f}` (issue #13, session 10, [`part_kind::MAP_ENTRY`]): field `entry` of
/// the entry of map slot `operand` under the string in slot `clause`, as a placeholder shows a
/// value; [`MISSING`] when the key or the map is missing or the map has no such entry,
/// [`INVALID`] when either is invalid. Without the `dynkey` family no verified bundle has such
/// a part.
#[cfg(feature = "dynkey")]
fn write_entry<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    part: ReasonPartRec<'_>,
) -> fmt::Result {
    let value = |s: SlotId| {
        values
            .get(usize::from(s))
            .copied()
            .unwrap_or(Value::Missing)
    };
    let (key, map, field) = (part.clause(), part.operand(), part.entry());
    let kr = bundle.slot_rec(key);
    let key = read::bundle_scalar(bundle, value(key), kr.kind(), kr.enum_id());
    write_entry_under(w, bundle, values, (map, field), key)
}

/// `{owners[doc].team}` (issue #13, session 11, [`part_kind::CONST_ENTRY`]): the value of a
/// map constant's lookup table (set `operand`, constants from `entry`) under the string in
/// slot `clause`, as a placeholder shows a value (strings raw); [`MISSING`] when the key is
/// missing or not in the table, [`INVALID`] when it is not a string. Without the `lookups`
/// family no verified bundle has such a part.
#[cfg(feature = "lookups")]
fn write_const_entry<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    part: ReasonPartRec<'_>,
) -> fmt::Result {
    let key = part.clause();
    let kr = bundle.slot_rec(key);
    let val = values
        .get(usize::from(key))
        .copied()
        .unwrap_or(Value::Missing);
    let text = match read::bundle_scalar(bundle, val, kr.kind(), kr.enum_id()) {
        Ok(Scalar::Str(k)) => k.text,
        Err(ErrKind::Missing) => return w.write_str(MISSING),
        _ => return w.write_str(INVALID),
    };
    let sym = bundle.intern(text).sym;
    let row = (sym != crate::value::NO_SYMBOL)
        .then(|| bundle.set_position(part.operand(), i64::from(sym)))
        .flatten();
    let Some(row) = row else {
        return w.write_str(MISSING);
    };
    let c = bundle.const_rec(part.entry().saturating_add(row));
    match c.kind() {
        kind::STR => w.write_str(bundle.symbol(u32::try_from(c.value()).unwrap_or(u32::MAX))),
        kind::BOOL => w.write_str(if c.value() != 0 { "true" } else { "false" }),
        _ => crate::digits::write_i64(w, c.value()),
    }
}

/// `{limits[c.name]}` (issue #13, session 11, [`part_kind::WITNESS_ENTRY`]): as
/// [`write_entry`], the key being the string field (the part's text offset) of the witness
/// element of the part's clause; [`NONE`] when another clause failed.
#[cfg(feature = "dynkey")]
fn write_witness_entry<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    v: Violation,
    part: ReasonPartRec<'_>,
) -> fmt::Result {
    let kf = u16::try_from(part.text().off).unwrap_or(u16::MAX);
    let Some((fr, kv)) = witness_field(bundle, values, v, part.clause(), kf) else {
        return w.write_str(NONE);
    };
    let key = read::bundle_scalar(bundle, kv, fr.kind(), fr.enum_id());
    write_entry_under(w, bundle, values, (part.operand(), part.entry()), key)
}

/// Field `field` of the entry of map slot `map` under `key` (as read), as a placeholder shows
/// a value: [`write_entry`] and [`write_witness_entry`].
#[cfg(feature = "dynkey")]
fn write_entry_under<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    (map, field): (SlotId, u16),
    key: Result<Scalar<'_>, ErrKind>,
) -> fmt::Result {
    let value = |s: SlotId| {
        values
            .get(usize::from(s))
            .copied()
            .unwrap_or(Value::Missing)
    };
    let key = match key {
        Ok(Scalar::Str(k)) => k,
        Err(ErrKind::Missing) => return w.write_str(MISSING),
        _ => return w.write_str(INVALID),
    };
    let first_field = bundle.slot_rec(map).first_field();
    let (vals, stride) = match read::list(bundle, bundle.list_decl(map), value(map)) {
        Ok(l) => l,
        Err(ErrKind::Missing) => return w.write_str(MISSING),
        Err(_) => return w.write_str(INVALID),
    };
    let stride = stride.max(1);
    let entry = crate::dynkey::find(vals, stride, key).and_then(|i| {
        let start = i.checked_mul(stride)?;
        vals.get(start..start.checked_add(stride)?)
    });
    let Some(entry) = entry else {
        return w.write_str(MISSING);
    };
    let fr = bundle.field_rec(usize::from(first_field).saturating_add(field.into()));
    let fv = entry
        .get(usize::from(field))
        .copied()
        .unwrap_or(Value::Missing);
    write_scalar(
        w,
        bundle,
        read::bundle_scalar(bundle, fv, fr.kind(), fr.enum_id()),
        (fr.kind(), fr.enum_id()),
        false,
    )
}

/// A value as a reason shows it: strings raw (JSON-quoted when `quoted`), ints in decimal,
/// bools `true`/`false`, enum members by name (JSON-quoted when `quoted`), timestamps as RFC
/// 3339 text and durations as duration text (issue #14; JSON-quoted when `quoted`); [`MISSING`]
/// or [`INVALID`] when it cannot be read. `(k, enum_id)` is the declared kind and enum.
fn write_scalar<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    s: Result<Scalar<'_>, ErrKind>,
    (k, enum_id): (u8, u16),
    quoted: bool,
) -> fmt::Result {
    // Without the `time` family no verified bundle has these kinds (issue #14).
    #[cfg(not(feature = "time"))]
    let _ = k;
    #[cfg(feature = "time")]
    if let (Ok(Scalar::Int(i)), crate::format::kind::TIME | crate::format::kind::DURATION) = (s, k)
    {
        if quoted {
            w.write_char('"')?;
        }
        if k == crate::format::kind::TIME {
            crate::time::write_rfc3339(w, i)?;
        } else {
            crate::time::write_duration(w, i)?;
        }
        return if quoted { w.write_char('"') } else { Ok(()) };
    }
    let text = |w: &mut W, t: &str| {
        if quoted {
            write_quoted(w, t)
        } else {
            w.write_str(t)
        }
    };
    match s {
        Ok(Scalar::Str(s)) => text(w, s.text),
        Ok(Scalar::Int(i)) => crate::digits::write_i64(w, i),
        Ok(Scalar::Bool(b)) => w.write_str(if b { "true" } else { "false" }),
        Ok(Scalar::Enum(r)) => match bundle.enum_members(enum_id).nth(usize::from(r)) {
            Some(name) => text(w, name),
            None => w.write_str(INVALID),
        },
        #[cfg(feature = "ip")]
        Ok(Scalar::Ip(a)) => {
            if quoted {
                w.write_str("\"")?;
            }
            crate::ip::write(w, &a)?;
            if quoted {
                w.write_str("\"")?;
            }
            Ok(())
        }
        // Without the `ip` family no verified bundle reads addresses (issue #14).
        #[cfg(not(feature = "ip"))]
        Ok(Scalar::Ip(_)) => w.write_str(INVALID),
        Err(ErrKind::Missing) => w.write_str(MISSING),
        Err(_) => w.write_str(INVALID),
    }
}

/// A violation's reason rendered with the request's values ([`write_reason`]), as a
/// [`fmt::Display`].
pub struct Reason<'b, 'a, 'v> {
    bundle: &'b Bundle<'a>,
    values: &'b [Value<'v>],
    violation: Violation,
}

impl fmt::Display for Reason<'_, '_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_reason(f, self.bundle, self.values, self.violation)
    }
}

impl<'a> Bundle<'a> {
    /// The reason text of a violation, its placeholders filled from `values` (the slot values
    /// the decision was made from).
    pub fn reason_with<'b, 'v>(
        &'b self,
        values: &'b [Value<'v>],
        violation: Violation,
    ) -> Reason<'b, 'a, 'v> {
        Reason {
            bundle: self,
            values,
            violation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write_quoted;
    use std::string::String;

    /// Issue #15: quoting writes runs of text whole and escapes what JSON needs escaped,
    /// in the text `serde_json` gives for the same string.
    #[test]
    fn issue15_quoted_text_is_json() {
        for (s, want) in [
            ("", r#""""#),
            ("plain é ü 日本", "\"plain é ü 日本\""),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#),
            (
                "\u{0}\u{1}\u{f}\u{10}\u{1f} ",
                r#""\u0000\u0001\u000f\u0010\u001f ""#,
            ),
            ("x\u{7f}y", "\"x\u{7f}y\""),
        ] {
            let mut out = String::new();
            write_quoted(&mut out, s).unwrap();
            assert_eq!(out, want, "{s:?}");
        }
    }
}
