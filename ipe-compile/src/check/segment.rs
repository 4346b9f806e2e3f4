//! `segment(x, sep, i)` (issue #14): piece `i` of the string `x` split on the literal `sep`.
//!
//! `x` is any string value: a string attribute or element field (its schema default applies,
//! and `x ?? d` inside is allowed: both expand like any optional read), a piece of another
//! `segment`, a map constant's value `M[k]`, or a literal (then the piece is folded). `sep` is
//! a non-empty string literal and `i` an int literal (negative counts from the end).

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx};
use crate::ast::{ByteSpan, Expr};
use crate::hir::{Literal, Operand, Scalar, Segment};

const HELP: &str = "`segment(x, \"/\", i)` takes a string (an attribute, element field, map \
                    value or another `segment`), a non-empty separator literal and a piece \
                    index literal (0 is the first piece, -1 the last)";

impl Ctx<'_> {
    /// Checks `segment(x, sep, i)` (three arguments, as the parser guarantees).
    pub(super) fn segment(
        &mut self,
        args: &[Expr],
        span: ByteSpan,
        text: crate::ast::Text,
    ) -> Option<Val> {
        let [x, sep, index] = args else {
            return None;
        };
        // `x`'s schema default applies, even when the `segment` is itself the left of a `??`.
        let saved = std::mem::replace(&mut self.optional.raw, false);
        let xv = self.value(x);
        self.optional.raw = saved;
        let sepv = self.value(sep);
        let indexv = self.value(index);
        let (xv, sepv, indexv) = (xv?, sepv?, indexv?);
        let sep = match &sepv.op {
            ValOp::Operand(Operand::Lit(Literal::Str(s))) if !s.is_empty() => s.as_str().to_owned(),
            ValOp::Operand(Operand::Lit(Literal::Str(_))) => {
                self.error(
                    sepv.span.clone(),
                    "the separator of `segment` is empty".to_owned(),
                    Some(
                        "write a separator of at least one character, e.g. `segment(x, \"/\", 1)`"
                            .into(),
                    ),
                );
                return None;
            }
            _ => {
                self.error(
                    sepv.span.clone(),
                    format!(
                        "the separator of `segment` must be a string literal, found `{}`",
                        sepv.text_str()
                    ),
                    Some(HELP.into()),
                );
                return None;
            }
        };
        let ValOp::Operand(Operand::Lit(Literal::Int(i))) = &indexv.op else {
            self.error(
                indexv.span.clone(),
                format!(
                    "the piece index of `segment` must be an int literal, found `{}`",
                    indexv.text_str()
                ),
                Some(HELP.into()),
            );
            return None;
        };
        let i = *i;
        let op = match (&xv.op, &xv.ty) {
            (ValOp::Operand(Operand::Lit(Literal::Str(s))), _) => {
                match ipe_nostd::segment::segment(s, &sep, i) {
                    Some(piece) => Operand::Lit(Literal::Str(piece.into())),
                    None => {
                        self.error(
                            span,
                            format!("`\"{s}\"` has no piece {i} when split on `\"{sep}\"`"),
                            Some("write the piece itself as a literal".into()),
                        );
                        return None;
                    }
                }
            }
            (
                ValOp::Operand(
                    o @ (Operand::Slot(_)
                    | Operand::Field { .. }
                    | Operand::Segment(_)
                    | Operand::Lookup(_)),
                ),
                VTy::Scalar(Scalar::Str),
            ) => Operand::Segment(Box::new(Segment {
                x: o.clone(),
                sep,
                index: i,
            })),
            (ValOp::Operand(_), VTy::Scalar(Scalar::Str)) => {
                self.error(
                    xv.span.clone(),
                    "`segment` splits a string attribute, element field, map value or piece, \
                     found another string value"
                        .to_owned(),
                    Some(HELP.into()),
                );
                return None;
            }
            (_, ty) => {
                let found = ty_word(ty);
                self.error(
                    xv.span.clone(),
                    format!("mismatched types: `segment` needs a string, found {found}"),
                    Some(HELP.into()),
                );
                return None;
            }
        };
        Some(Val {
            op: ValOp::Operand(op),
            ty: VTy::Scalar(Scalar::Str),
            span,
            text,
        })
    }
}
