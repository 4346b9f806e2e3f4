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
        return write_plain(w, bundle, v);
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
                _ => Ok(()),
            }
        }
    }
}

/// The attributes the failed clause compared, `path = value` joined by `, ` (in the order the
/// clause reads them, each once), when the clause is one comparison of attributes and
/// constants; [`NONE`] otherwise.
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
    // At most two slots: one comparison of two operands.
    let mut slots: [Option<SlotId>; 2] = [None; 2];
    let (mut n, mut cmps, mut pc) = (0usize, 0usize, 0usize);
    while pc < code.len() {
        let Ok((instr, next)) = Instr::decode(code, pc) else {
            return w.write_str(NONE);
        };
        let slot = match instr {
            Instr::LoadSlot { slot } => Some(slot.0),
            Instr::CmpSlotConst { slot, .. } => {
                cmps += 1;
                Some(slot.0)
            }
            Instr::Cmp { .. } => {
                cmps += 1;
                None
            }
            Instr::LoadConst { .. } => None,
            _ => return w.write_str(NONE),
        };
        if let Some(s) = slot.filter(|s| !slots.contains(&Some(*s))) {
            match slots.get_mut(n) {
                Some(x) => *x = Some(s),
                None => return w.write_str(NONE),
            }
            n += 1;
        }
        pc = next;
    }
    if cmps != 1 || n == 0 {
        return w.write_str(NONE);
    }
    for (i, s) in slots.iter().flatten().enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        let r = bundle.slot_rec(*s);
        w.write_str(bundle.slot_info(*s).path)?;
        w.write_str(" = ")?;
        let val = values
            .get(usize::from(*s))
            .copied()
            .unwrap_or(Value::Missing);
        write_scalar(
            w,
            bundle,
            read::scalar(bundle, val, r.kind(), r.enum_id()),
            r.enum_id(),
        )?;
    }
    Ok(())
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
    let Some(list) = crate::witness::clause_list(code).map(crate::isa::Slot) else {
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
