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
use crate::read::{self, ListDecl, Scalar};
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
    for part in bundle.reason_parts(v.policy) {
        match part.kind() {
            part_kind::TEXT => w.write_str(bundle.text_span(part.text()))?,
            part_kind::SLOT => {
                let s: SlotId = part.operand();
                let r = bundle.slot_rec(s);
                let val = values
                    .get(usize::from(s))
                    .copied()
                    .unwrap_or(Value::Missing);
                write_scalar(
                    w,
                    bundle,
                    read::scalar(bundle, val, r.kind(), r.enum_id()),
                    r.enum_id(),
                )?;
            }
            part_kind::FIELD => write_field(w, bundle, values, v, part)?,
            part_kind::COUNT => match v.count {
                Some(n) => write!(w, "{n}")?,
                None => w.write_str(NONE)?,
            },
            part_kind::FOUND => write_found(w, bundle, values, v)?,
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
                (true, Some(n)) => write!(w, " (found {n})"),
                _ if shown(bundle, values, clause.code).next().is_some() => {
                    w.write_str(" (found ")?;
                    write_shown(w, bundle, values, clause.code)?;
                    w.write_str(")")
                }
                _ => Ok(()),
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
    if shown(bundle, values, code).next().is_none() {
        return w.write_str(NONE);
    }
    write_shown(w, bundle, values, code)
}

/// Whether the clause `code` is of a shape whose values a reason shows: only top-level
/// scalar reads (`load.slot`, `cmp.slot.const`, `in.slot.set`, `has`), constants,
/// comparisons, string tests, constant sets, `not`, `and`, `or` and their jumps; no list,
/// element or count (`docs/LANGUAGE.md`, "Reasons with values").
fn shows_values(code: &[u8]) -> bool {
    let mut pc = 0usize;
    while pc < code.len() {
        match Instr::decode(code, pc) {
            Ok((
                Instr::LoadSlot { .. }
                | Instr::LoadConst { .. }
                | Instr::Cmp { .. }
                | Instr::CmpSlotConst { .. }
                | Instr::StrOp { .. }
                | Instr::InSet { .. }
                | Instr::InSlotSet { .. }
                | Instr::Has { .. }
                | Instr::Not {}
                | Instr::And {}
                | Instr::Or {}
                | Instr::JumpIfFalse { .. }
                | Instr::JumpIfTrue { .. },
                next,
            )) => pc = next,
            _ => return false,
        }
    }
    true
}

/// The smallest slot greater than `after` (any slot when `None`) whose value the clause
/// `code` reads (`has` reads no value).
fn next_read(code: &[u8], after: Option<SlotId>) -> Option<SlotId> {
    let mut best: Option<SlotId> = None;
    let mut pc = 0usize;
    while let Ok((instr, next)) = Instr::decode(code, pc) {
        let slot = match instr {
            Instr::LoadSlot { slot }
            | Instr::CmpSlotConst { slot, .. }
            | Instr::InSlotSet { slot, .. } => Some(slot.0),
            _ => None,
        };
        if let Some(s) = slot.filter(|&s| after.is_none_or(|a| s > a)) {
            best = Some(best.map_or(s, |b| b.min(s)));
        }
        pc = next;
    }
    best
}

/// The attributes a failed clause shows with their values: every top-level attribute whose
/// value it reads, each once, in slot (path) order, leaving out those missing from the
/// request (so nothing without the request's values); none for a clause of another shape.
fn shown<'b, 'v>(
    bundle: &'b Bundle<'_>,
    values: &'b [Value<'v>],
    code: &'b [u8],
) -> impl Iterator<Item = (SlotId, Value<'v>)> + 'b {
    let ok = shows_values(code);
    let mut after = None;
    core::iter::from_fn(move || {
        if !ok {
            return None;
        }
        let s = next_read(code, after)?;
        after = Some(s);
        Some(s)
    })
    .filter_map(move |s| {
        let val = values
            .get(usize::from(s))
            .copied()
            .unwrap_or(Value::Missing);
        let r = bundle.slot_rec(s);
        match read::scalar(bundle, val, r.kind(), r.enum_id()) {
            Err(ErrKind::Missing) => None,
            _ => Some((s, val)),
        }
    })
}

/// The [`shown`] attributes of the clause `code`, `path = value` joined by `, `: strings and
/// enum members as JSON strings (quoted, escaped), ints in decimal, bools `true`/`false`,
/// a present but invalid value [`INVALID`].
fn write_shown<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    code: &[u8],
) -> fmt::Result {
    for (i, (s, val)) in shown(bundle, values, code).enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        let r = bundle.slot_rec(s);
        w.write_str(bundle.slot_info(s).path)?;
        w.write_str(" = ")?;
        match read::scalar(bundle, val, r.kind(), r.enum_id()) {
            Ok(Scalar::Str(t)) => write_quoted(w, t.text)?,
            Ok(Scalar::Enum(m)) => match bundle.enum_members(r.enum_id()).nth(usize::from(m)) {
                Some(name) => write_quoted(w, name)?,
                None => w.write_str(INVALID)?,
            },
            other => write_scalar(w, bundle, other, r.enum_id())?,
        }
    }
    Ok(())
}

/// `s` as a JSON string: quoted; `"`, backslash and control characters escaped (`\n`, `\r`,
/// `\t`, `\b`, `\f`, the others `\u00XX` in lowercase hex); everything else as is.
fn write_quoted<W: fmt::Write + ?Sized>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "\\u00",
            _ => continue,
        };
        w.write_str(s.get(start..i).unwrap_or(""))?;
        w.write_str(esc)?;
        if esc.len() == 4 {
            w.write_char(if b < 0x10 { '0' } else { '1' })?;
            w.write_char(char::from_digit(u32::from(b & 0x0f), 16).unwrap_or('0'))?;
        }
        start = i + 1;
    }
    w.write_str(s.get(start..).unwrap_or(""))?;
    w.write_char('"')
}

/// A field of the witness element of the part's clause.
fn write_field<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    v: Violation,
    part: ReasonPartRec<'_>,
) -> fmt::Result {
    let (Some(clause), Some(witness)) = (v.clause, v.witness) else {
        return w.write_str(NONE);
    };
    if clause != part.clause() {
        return w.write_str(NONE);
    }
    let p = bundle.policy(v.policy);
    let code = bundle
        .clause(p.first_clause.saturating_add(clause.into()))
        .code;
    let Ok((Instr::All { list, .. }, _)) = Instr::decode(code, 0) else {
        return w.write_str(NONE);
    };
    let r = bundle.slot_rec(list.0);
    let decl = ListDecl {
        kind: r.kind(),
        elem: r.elem_kind(),
        enum_id: r.enum_id(),
        fields: r.field_count(),
        max_len: r.max_len(),
    };
    let val = values
        .get(usize::from(list.0))
        .copied()
        .unwrap_or(Value::Missing);
    let elem = match read::list(bundle, decl, val) {
        Ok((vals, stride)) if r.kind() == kind::RECORDS => {
            vals.chunks_exact(stride).nth(usize::from(witness.get()))
        }
        _ => None,
    };
    let Some(elem) = elem else {
        return w.write_str(NONE);
    };
    let field = part.operand();
    let fr = bundle.field_rec(usize::from(r.first_field()).saturating_add(field.into()));
    let fv = elem
        .get(usize::from(field))
        .copied()
        .unwrap_or(Value::Missing);
    write_scalar(
        w,
        bundle,
        read::scalar(bundle, fv, fr.kind(), fr.enum_id()),
        fr.enum_id(),
    )
}

/// A value as a reason shows it: strings raw, ints in decimal, bools `true`/`false`, enum
/// members by name; [`MISSING`] or [`INVALID`] when it cannot be read.
fn write_scalar<W: fmt::Write + ?Sized>(
    w: &mut W,
    bundle: &Bundle<'_>,
    s: Result<Scalar<'_>, ErrKind>,
    enum_id: u16,
) -> fmt::Result {
    match s {
        Ok(Scalar::Str(s)) => w.write_str(s.text),
        Ok(Scalar::Int(i)) => write!(w, "{i}"),
        Ok(Scalar::Bool(b)) => w.write_str(if b { "true" } else { "false" }),
        Ok(Scalar::Enum(r)) => match bundle.enum_members(enum_id).nth(usize::from(r)) {
            Some(name) => w.write_str(name),
            None => w.write_str(INVALID),
        },
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
