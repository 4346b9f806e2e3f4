//! Dynamic keys on request maps (issue #13, `docs/LANGUAGE.md` "Dynamic keys on request
//! maps"): `m[k]`, `m[k].f` and `has m[k]` where `m` is a request map (`map of <scalar>` or
//! `map of { ... }`) and `k` a string known only at run time (an attribute, an element's
//! field, a map key bound by `any(k, v in ...)`, an element of a list of strings). The value
//! is [`hir::Operand::MapGet`]; `has m[k]` (and so `m[k] ?? d`) is its presence.

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx, Resolved};
use crate::ast::{ByteSpan, Expr, ExprKind, Lit, Lookup, Name};
use crate::hir::{self, Operand, Scalar, SlotType};

/// `M[key]` in `check::consts` when `M` is no constant: a string literal key (a parameter's or
/// a constant's value) is the fixed key `M["k"]` (its path, or `has` of it); any other key
/// stays a lookup without rows, which the checker reads as a request map's
/// ([`Ctx::map_get_value`]).
pub(super) fn request_lookup(l: &Lookup, key: Expr, e: &Expr) -> Expr {
    if let ExprKind::Lit(Lit::Str(k)) = &key.kind {
        let mut text = l.map.text.clone();
        // Writing to a `String` cannot fail.
        let _ = ipe_nostd::path::write_segment(&mut text, k, false);
        if let Some(f) = &l.field {
            text = (hir::joined(&text, f)).into();
        }
        let name = Name {
            text,
            span: e.span.clone(),
        };
        return Expr {
            span: e.span.clone(),
            kind: if l.has {
                ExprKind::Has(name)
            } else {
                ExprKind::Path(name)
            },
        };
    }
    Expr {
        span: e.span.clone(),
        kind: ExprKind::Lookup(Box::new(Lookup {
            key,
            rows: None,
            ..l.clone()
        })),
    }
}

impl Ctx<'_> {
    /// The value `m[k]` / `m[k].f`, or the condition `has m[k]`, of the request map `m` (a
    /// lookup that `check::consts` left without rows).
    pub(super) fn map_get_value(
        &mut self,
        l: &Lookup,
        span: ByteSpan,
        text: crate::ast::Text,
    ) -> Option<Val> {
        let map = &l.map.text;
        let (id, fields) = match self.resolve(&l.map)? {
            Resolved::Slot(id, SlotType::Map { fields, .. }) => (id, fields),
            other => {
                let found = match other {
                    Resolved::Slot(_, SlotType::Scalar(s)) => s.kind().as_str(),
                    Resolved::Slot(_, SlotType::Records { .. }) => "list of records",
                    Resolved::Field { ty, .. } => ty.kind().as_str(),
                    _ => "list",
                };
                let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) {
                    "an"
                } else {
                    "a"
                };
                self.error(
                    l.brackets.clone(),
                    format!("`{map}[...]` with a key read at run time needs a map, and `{map}` is {article} {found}"),
                    Some(format!(
                        "a key in brackets selects an entry of a map (`{map}: map of string` in the schema) or of a map constant; a list is read with a position (`{map}[0]`)"
                    )),
                );
                return None;
            }
        };
        let key = self.value(&l.key)?;
        if key.ty != VTy::Scalar(Scalar::Str) {
            self.error(
                key.span.clone(),
                format!(
                    "mismatched types: expected string, found {}",
                    ty_word(&key.ty)
                ),
                Some(format!(
                    "the keys of map `{map}` are strings: `{map}[k]` needs a string `k` (an attribute, an element's field or a bound key)"
                )),
            );
            return None;
        }
        let key = key.operand()?;
        let record = super::map_records::is_record_map(&fields);
        let field = match (&l.field, record) {
            (None, false) => 1u16,
            (Some(f), true) => {
                let path = hir::joined(super::map_records::VALUE, f);
                match fields.iter().position(|x| x.path == path) {
                    Some(i) => u16::try_from(i).ok()?,
                    None => {
                        let names: Vec<&str> = fields
                            .iter()
                            .filter_map(|x| x.path.strip_prefix("value."))
                            .collect();
                        let best = names
                            .iter()
                            .map(|n| (strsim::levenshtein(n, f), *n))
                            .min()
                            .filter(|(d, _)| *d <= (f.chars().count() / 3).max(1));
                        let help = match best {
                            Some((_, n)) => format!("did you mean `{map}[...].{n}`?"),
                            None => format!("the fields are `{}`", names.join("`, `")),
                        };
                        self.error(
                            span.clone(),
                            format!("the records of `{map}` have no field `{f}`"),
                            Some(help),
                        );
                        return None;
                    }
                }
            }
            // `has m[k]` of a map of records: the entry is there (its key, field 0, always is).
            (None, true) if l.has => 0,
            (None, true) => {
                let first = fields
                    .get(1)
                    .and_then(|x| x.path.strip_prefix("value."))
                    .unwrap_or("f");
                self.error(
                    span.clone(),
                    format!("`{map}[...]` is a record, not a value"),
                    Some(format!("read one of its fields, e.g. `{map}[...].{first}`")),
                );
                return None;
            }
            (Some(f), false) => {
                self.error(
                    span.clone(),
                    format!("the values of `{map}` are scalars, they have no field `{f}`"),
                    Some(format!("use `{map}[...]` itself")),
                );
                return None;
            }
        };
        let ty = fields.get(usize::from(field))?.ty.clone();
        let op = Operand::MapGet(Box::new(hir::MapGet {
            map: id,
            key,
            field,
        }));
        if l.has {
            return Some(Val {
                op: ValOp::Cond(hir::Expr::Has(op)),
                ty: VTy::Cond,
                span,
                text,
            });
        }
        Some(Val {
            op: ValOp::Operand(op),
            ty: VTy::Scalar(ty),
            span,
            text,
        })
    }
}
