//! Typing `x in H value` after constants are expanded ([`crate::ast::DataRef::Closure`], issue #13,
//! `docs/LANGUAGE.md`, "Hierarchy membership of request values").

use super::expr::VTy;
use super::{ty_word, Ctx};
use crate::ast::{Expr, Name};
use crate::hir::{self, Scalar};

impl Ctx<'_> {
    /// `lhs in n value`: both sides strings; the closure's pairs become the pair set.
    pub(super) fn in_closure(
        &mut self,
        lhs: &Expr,
        n: &Name,
        pairs: &[(String, String)],
        value: &Expr,
    ) -> Option<hir::Expr> {
        let l = self.value(lhs);
        let r = self.value(value);
        let (l, r) = (l?, r?);
        let mut ok = true;
        for v in [&l, &r] {
            if v.ty != VTy::Scalar(Scalar::Str) {
                self.error(
                    v.span.clone(),
                    format!(
                        "mismatched types: expected string, found {}",
                        ty_word(&v.ty)
                    ),
                    Some(format!(
                        "`x in {} y` and `x in {}[y]` compare strings: both `x` and `y` are strings",
                        n.text, n.text
                    )),
                );
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        Some(hir::Expr::InHierarchy {
            lhs: l.operand()?,
            rhs: r.operand()?,
            pairs: pairs.to_vec(),
        })
    }
}
