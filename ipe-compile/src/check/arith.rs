//! Integer arithmetic (issue #14): typing `+ - * / % &`, unary minus, `min`, `max` and `abs`,
//! and folding them at compile time when every operand is a literal.

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx};
use crate::ast::{ArithOp, ByteSpan, Expr};
use crate::hir::{Literal, Operand, Scalar};
use ipe_nostd::arith::ArithError;

impl Ctx<'_> {
    /// Checks `op` over `args` (each an int); a result over literals only is a literal.
    pub(super) fn arith(
        &mut self,
        op: ArithOp,
        args: &[Expr],
        span: ByteSpan,
        text: crate::ast::Text,
    ) -> Option<Val> {
        let vals: Vec<Option<Val>> = args.iter().map(|a| self.value(a)).collect();
        // `+` and `-` over a timestamp or a duration are time arithmetic (issue #14, "Time").
        let timeish = |v: &Val| {
            matches!(
                v.ty,
                VTy::Scalar(crate::hir::Scalar::Time | crate::hir::Scalar::Duration)
            )
        };
        if matches!(op, ArithOp::Add | ArithOp::Sub)
            && vals.len() == 2
            && vals.iter().flatten().any(timeish)
        {
            // The operator is the `+`/`-` between the operands (errors point at it).
            let sym = if op == ArithOp::Sub { '-' } else { '+' };
            let gap = match args {
                [a, b] => a.span.end..b.span.start,
                _ => span.clone(),
            };
            let op_span = self
                .span_text(&gap)
                .find(sym)
                .map_or(span.clone(), |k| gap.start + k..gap.start + k + 1);
            let mut vals = vals.into_iter();
            let (l, r) = (vals.next().flatten()?, vals.next().flatten()?);
            return self.time_arith(op == ArithOp::Sub, op_span, span, l, r);
        }
        let mut ops = Vec::with_capacity(vals.len());
        for v in vals {
            let v = v?;
            match (&v.op, &v.ty) {
                (ValOp::Operand(o), VTy::Scalar(Scalar::Int)) => ops.push(o.clone()),
                (_, ty) => {
                    let found = ty_word(ty);
                    self.error(
                        v.span.clone(),
                        format!(
                            "mismatched types: `{}` needs int operands, found {found}",
                            op.keyword()
                        ),
                        Some("arithmetic works on int attributes, counts and int literals".into()),
                    );
                    return None;
                }
            }
        }
        let lits: Option<Vec<i64>> = ops
            .iter()
            .map(|o| match o {
                Operand::Lit(Literal::Int(i)) => Some(*i),
                _ => None,
            })
            .collect();
        let op_v = match lits {
            Some(l) => {
                let (a, b) = (
                    l.first().copied().unwrap_or(0),
                    l.get(1).copied().unwrap_or(0),
                );
                match op.apply(a, b) {
                    Ok(v) => Operand::Lit(Literal::Int(v)),
                    Err(e) => {
                        let what = match e {
                            ArithError::Overflow => "arithmetic overflow",
                            ArithError::DivByZero => "division by zero",
                        };
                        self.error(
                            span,
                            format!("{what} in a constant expression"),
                            Some(
                                "constant arithmetic is computed at compile time and must stay \
                                 within the 64-bit signed range, with a divisor other than 0"
                                    .into(),
                            ),
                        );
                        return None;
                    }
                }
            }
            None => Operand::Arith(op, ops),
        };
        Some(Val {
            op: ValOp::Operand(op_v),
            ty: VTy::Scalar(Scalar::Int),
            span,
            text,
        })
    }
}
