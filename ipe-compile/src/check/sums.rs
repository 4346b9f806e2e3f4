//! `count` over several lists (issue #13): `count(x in a, b where F)` is the sum of
//! `count(x in a where F)` and `count(x in b where F)`, an int computed at run time by the
//! `add` instruction (`docs/LANGUAGE.md`, "Aggregates over several lists").

use super::expr::{VTy, Val, ValOp};
use super::Ctx;
use crate::ast::{ByteSpan, Expr};
use crate::hir::{Operand, Scalar};

impl Ctx<'_> {
    /// Checks the per-list `count` aggregates `parts` (each with its own copy of the filter,
    /// expanded by `check::inline`) and sums them; every part is checked so that each list's
    /// errors are reported.
    pub(super) fn count_lists(
        &mut self,
        parts: &[Expr],
        span: ByteSpan,
        text: crate::ast::Text,
    ) -> Option<Val> {
        let mut aggs = Vec::with_capacity(parts.len());
        let mut ok = true;
        for p in parts {
            match self.value(p) {
                Some(Val {
                    op: ValOp::Operand(Operand::Count(a)),
                    ..
                }) => aggs.push(*a),
                _ => ok = false,
            }
        }
        ok.then_some(Val {
            op: ValOp::Operand(Operand::CountSum(aggs)),
            ty: VTy::Scalar(Scalar::Int),
            span,
            text,
        })
    }
}
