//! String functions (issue #14): typing `len(x)` and folding it over a literal.

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx};
use crate::ast::{ByteSpan, Expr};
use crate::hir::{Literal, Operand, Scalar};

impl Ctx<'_> {
    /// Checks `len(x)`: `x` a string; over a literal, the literal's char count.
    pub(super) fn len(&mut self, x: &Expr, span: ByteSpan, text: String) -> Option<Val> {
        let v = self.value(x)?;
        let op = match (&v.op, &v.ty) {
            (ValOp::Operand(Operand::Lit(Literal::Str(s))), _) => {
                Operand::Lit(Literal::Int(i64::try_from(s.chars().count()).ok()?))
            }
            (ValOp::Operand(o), VTy::Scalar(Scalar::Str)) => Operand::Len(Box::new(o.clone())),
            (_, ty) => {
                let found = ty_word(ty);
                self.error(
                    v.span.clone(),
                    format!("mismatched types: `len` needs a string, found {found}"),
                    Some(
                        "`len(x)` counts the characters of a string attribute; a list's length \
                         is `count(x in list)`"
                            .into(),
                    ),
                );
                return None;
            }
        };
        Some(Val {
            op: ValOp::Operand(op),
            ty: VTy::Scalar(Scalar::Int),
            span,
            text,
        })
    }
}
