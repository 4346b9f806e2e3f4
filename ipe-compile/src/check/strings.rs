//! String functions (issue #14): typing `len(x)` and folding it over a literal; `lower(x)`
//! compared with a lower-case literal, fused into one case-insensitive string test.

use super::expr::{VTy, Val, ValOp};
use super::{ty_word, Ctx};
use crate::ast::{ByteSpan, Expr, ExprKind, Lit, StrOp};
use crate::hir::{self, Literal, Operand, Scalar};

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

/// `s` lowered char by char, as `lower(x)` compares (`char::to_lowercase`, context-free).
pub(super) fn lowered(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The fused case-insensitive form of a string operator.
pub(super) fn fused(op: StrOp) -> StrOp {
    match op {
        StrOp::StartsWith => StrOp::LowerStartsWith,
        StrOp::EndsWith => StrOp::LowerEndsWith,
        StrOp::Contains => StrOp::LowerContains,
        op => op,
    }
}

/// The `lower(x)` inside parentheses, if `e` is one.
pub(super) fn as_lower(e: &Expr) -> Option<&Expr> {
    match &e.kind {
        ExprKind::Lower(x) => Some(x),
        ExprKind::Paren(x) => as_lower(x),
        _ => None,
    }
}

const LOWER_HELP: &str = "`lower(x)` compares a string case-insensitively: write it on the left \
                          of `==`, `!=`, `in [..]`, `starts_with`, `ends_with` or `contains`, \
                          with a lower-case string literal on the right";

impl Ctx<'_> {
    /// `lower(x)` where a value is expected (not a comparison it can fuse with).
    pub(super) fn lower_misplaced(&mut self, span: ByteSpan) -> Option<Val> {
        self.error(
            span,
            "`lower(x)` is not a value here".to_owned(),
            Some(LOWER_HELP.into()),
        );
        None
    }

    /// The string operand `x` of `lower(x)`; `None` (reported) when it is not a string.
    fn lower_operand(&mut self, x: &Expr) -> Option<Operand> {
        let v = self.value(x)?;
        match (&v.op, &v.ty) {
            (ValOp::Operand(o), VTy::Scalar(Scalar::Str)) => Some(o.clone()),
            (_, ty) => {
                let found = ty_word(ty);
                self.error(
                    v.span.clone(),
                    format!("mismatched types: `lower` needs a string, found {found}"),
                    Some(LOWER_HELP.into()),
                );
                None
            }
        }
    }

    /// The lower-case string literal `needle` compared with `lower(x)`; `None` (reported)
    /// otherwise.
    fn lower_needle(&mut self, needle: &Expr) -> Option<String> {
        let v = self.value(needle)?;
        let ValOp::Operand(Operand::Lit(Literal::Str(s))) = &v.op else {
            self.error(
                v.span.clone(),
                format!(
                    "`lower(x)` is compared with `{}`, not a string literal",
                    v.text
                ),
                Some(LOWER_HELP.into()),
            );
            return None;
        };
        let low = lowered(s);
        if *s != low {
            self.error(
                v.span.clone(),
                format!("`{s}` is not lower case, so `lower(x)` never matches it"),
                Some(format!("write the literal in lower case: `\"{low}\"`")),
            );
            return None;
        }
        Some(s.clone())
    }

    /// `lower(x) op needle` for a fused operator `op` (`LowerEq` .. `LowerContains`); over a
    /// literal `x`, the constant.
    pub(super) fn lower_test(&mut self, op: StrOp, x: &Expr, needle: &Expr) -> Option<hir::Expr> {
        let (o, n) = (self.lower_operand(x), self.lower_needle(needle));
        let (o, n) = (o?, n?);
        if let Operand::Lit(Literal::Str(s)) = &o {
            return Some(hir::Expr::Const(op.test(&lowered(s), &n)));
        }
        Some(hir::Expr::Str {
            op,
            lhs: o,
            rhs: Operand::Lit(Literal::Str(n)),
        })
    }

    /// `lower(x) in [..]`: `lower(x) == a or lower(x) == b ...` (every item a lower-case
    /// string literal).
    pub(super) fn lower_in(&mut self, x: &Expr, items: &[(Lit, ByteSpan)]) -> Option<hir::Expr> {
        let o = self.lower_operand(x);
        let mut ok = true;
        let mut needles = Vec::with_capacity(items.len());
        for (lit, span) in items {
            let e = Expr {
                kind: ExprKind::Lit(lit.clone()),
                span: span.clone(),
            };
            match self.lower_needle(&e) {
                Some(n) if !needles.contains(&n) => needles.push(n),
                Some(_) => {}
                None => ok = false,
            }
        }
        let o = o?;
        if !ok {
            return None;
        }
        let parts: Vec<hir::Expr> = needles
            .into_iter()
            .map(|n| match &o {
                Operand::Lit(Literal::Str(s)) => hir::Expr::Const(lowered(s) == n),
                _ => hir::Expr::Str {
                    op: StrOp::LowerEq,
                    lhs: o.clone(),
                    rhs: Operand::Lit(Literal::Str(n)),
                },
            })
            .collect();
        Some(match parts.len() {
            0 => hir::Expr::Const(false),
            1 => parts.into_iter().next()?,
            _ => hir::Expr::Or(parts),
        })
    }
}

impl Ctx<'_> {
    /// `lower(x) == "lit"`, `lower(x) != "lit"` (either side); another comparison is an error.
    pub(super) fn lower_cmp(
        &mut self,
        op: crate::ast::CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        span: &ByteSpan,
    ) -> Option<hir::Expr> {
        use crate::ast::CmpOp;
        let (x, needle) = match (as_lower(lhs), as_lower(rhs)) {
            (Some(x), None) => (x, rhs),
            (None, Some(x)) => (x, lhs),
            _ => {
                self.error(
                    span.clone(),
                    "`lower(x)` is compared with another `lower(..)`".to_owned(),
                    Some(LOWER_HELP.into()),
                );
                return None;
            }
        };
        match op {
            CmpOp::Eq => self.lower_test(StrOp::LowerEq, x, needle),
            CmpOp::Ne => {
                let t = self.lower_test(StrOp::LowerEq, x, needle)?;
                Some(match t {
                    hir::Expr::Const(b) => hir::Expr::Const(!b),
                    t => hir::Expr::Not(Box::new(t)),
                })
            }
            _ => {
                self.error(
                    span.clone(),
                    format!("comparison `{}` is not defined for `lower(x)`", op.symbol()),
                    Some(LOWER_HELP.into()),
                );
                None
            }
        }
    }
}
