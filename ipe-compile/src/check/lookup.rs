//! Typing `M[y]` and `M[y].field` after constants are expanded (issue #13, `docs/LANGUAGE.md`,
//! "Lookups by a request value"): the key is a string read at run time, the value has the
//! type of the table's rows.

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx};
use crate::ast::{ByteSpan, Lit, Lookup};
use crate::hir::{self, Literal, Operand, Scalar};

impl Ctx<'_> {
    /// The value of the lookup `l` (its rows filled by `check::consts`).
    pub(super) fn lookup_value(
        &mut self,
        l: &Lookup,
        span: ByteSpan,
        text: crate::ast::Text,
    ) -> Option<Val> {
        let Some(rows) = l.rows.as_ref() else {
            // Issue #13: no constant of that name, a request map read with a run-time key.
            return self.map_get_value(l, span, text);
        };
        let key = self.value(&l.key)?;
        let map = &l.map.text;
        if key.ty != VTy::Scalar(Scalar::Str) {
            self.error(
                key.span.clone(),
                format!(
                    "mismatched types: expected string, found {}",
                    ty_word(&key.ty)
                ),
                Some(format!(
                    "the keys of `{map}` are strings: `{map}[y]` needs a string `y` (an attribute, an element's field or a parameter)"
                )),
            );
            return None;
        }
        let key = match key.op {
            ValOp::Operand(o @ (Operand::Slot(_) | Operand::Field { .. })) => o,
            _ => {
                self.error(
                    key.span.clone(),
                    format!("the key of `{map}[...]` must be a string attribute read from the request"),
                    Some("use a request path, an element's field or a parameter (an attribute with a schema default is not supported as a key: write `?? ` after the lookup instead)".to_owned()),
                );
                return None;
            }
        };
        let ty = match rows.first().map(|r| &r.1) {
            Some(Lit::Int(_)) => Scalar::Int,
            Some(Lit::Bool(_)) => Scalar::Bool,
            _ => Scalar::Str,
        };
        let rows = rows
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Lit::Str(s) => Literal::Str(s.clone()),
                    Lit::Int(n) => Literal::Int(*n),
                    Lit::Bool(b) => Literal::Bool(*b),
                };
                (k.clone(), v)
            })
            .collect();
        let op = Operand::Lookup(Box::new(hir::Lookup { key, rows }));
        if l.has {
            // `has M[y]` (issue #13, session 9): `y` is a key of the table.
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
