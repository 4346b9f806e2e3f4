//! List equality between two request lists (issue #13, session 8): `xs == ys`, `xs != ys`
//! with both request lists of scalars of one element type. Expanded before checking, as
//! written source would be, to
//! `(count(xs) == count(ys) and (not has xs[0] or not has ys[0] or xs[0] == ys[0]) and ...)`
//! over the positions below the smaller declared `max` (`check::positional`), and `!=` its
//! `not`: ordered, element-wise, the same length. A missing or invalid list is its error (the
//! count reads it, and a present but invalid list makes every position its error; a position
//! the other list lacks is not read, so its "missing" never hides that error), so every engine
//! runs the expansion and the cost bound stays exact.

use super::Ctx;
use crate::ast::{AggKind, ByteSpan, CmpOp, Expr, ExprKind, Name};
use crate::hir::{self, SlotType};

/// The most positions one `xs == ys` compares: the smaller declared `max` of the two lists
/// must not exceed it (the default `max` is 256).
pub(crate) const MAX_POSITIONS: u32 = 256;

impl Ctx<'_> {
    /// The request list of scalars `e` names at the top level (not an element's field), with
    /// its element type and `max`.
    fn top_list(&self, e: &Expr) -> Option<(Name, hir::Scalar, u32)> {
        let ExprKind::Path(n) = &e.kind else {
            return None;
        };
        let first = ipe_nostd::path::split_first(&n.text).0;
        if self.scopes.iter().any(|s| s.name == first) {
            return None;
        }
        match self.schema.get(n.text.as_str())? {
            SlotType::List { elem, max_len } => Some((n.clone(), elem.clone(), *max_len)),
            _ => None,
        }
    }

    /// Whether `n` names a top-level request list (not an element's list field).
    fn top_list_name(&self, n: &Name) -> Option<()> {
        self.top_list(&Expr {
            kind: ExprKind::Path(n.clone()),
            span: n.span.clone(),
        })
        .map(|_| ())
    }

    /// `lhs op rhs` when both sides are request lists of scalars: the expansion checked, or
    /// a located error. `None` when they are not two such lists.
    pub(super) fn list_list_eq(
        &mut self,
        op: CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        span: &ByteSpan,
    ) -> Option<Option<hir::Expr>> {
        // Both sides name lists by paths (issue #15: a comparison with a literal, most of
        // them, is not looked up).
        if !matches!(lhs.kind, ExprKind::Path(_)) || !matches!(rhs.kind, ExprKind::Path(_)) {
            return None;
        }
        // An element's list field (`c.args`, session 9) compares as a request list does.
        let list = |cx: &Self, e: &Expr| cx.top_list(e).or_else(|| cx.element_list(e));
        let (l, r) = (list(self, lhs)?, list(self, rhs)?);
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            self.error(
                span.clone(),
                "lists compare with `==` and `!=` only".to_owned(),
                Some("test the elements with `xs[0] < 5` or `all(x in xs where ...)`".to_owned()),
            );
            return Some(None);
        }
        if l.1 != r.1 {
            self.error(
                span.clone(),
                format!(
                    "mismatched types: `{}` is a list of {}, `{}` a list of {}",
                    l.0.text,
                    l.1.kind().as_str(),
                    r.0.text,
                    r.1.kind().as_str()
                ),
                Some("lists of different element types are never equal: compare lists of one element type".to_owned()),
            );
            return Some(None);
        }
        let n = l.2.min(r.2);
        if n > MAX_POSITIONS {
            self.error(
                span.clone(),
                format!(
                    "`{} {} {}` compares up to {n} positions, more than {MAX_POSITIONS}",
                    l.0.text,
                    op.symbol(),
                    r.0.text
                ),
                Some(format!(
                    "declare a `max` of at most {MAX_POSITIONS} on one of the lists (`{}: list of ... max 64`)",
                    l.0.text
                ),
                ),
            );
            return Some(None);
        }
        let at = |kind: ExprKind| Expr {
            kind,
            span: span.clone(),
        };
        let count = |list: &Name| {
            at(ExprKind::Agg {
                kind: AggKind::Count,
                var: Box::new(Name {
                    text: ("__element".to_owned()).into(),
                    span: list.span.clone(),
                }),
                list: Box::new(list.clone()),
                filter: None,
            })
        };
        let pos = |list: &Name, k: u32| Name {
            text: format!("{}[{k}]", list.text).into(),
            span: list.span.clone(),
        };
        let mut parts = vec![at(ExprKind::cmp(CmpOp::Eq, count(&l.0), count(&r.0)))];
        for k in 0..n {
            let (a, b) = (pos(&l.0, k), pos(&r.0, k));
            // Both `has` tests: a position one valid list lacks is never read, so an invalid
            // list's error is never hidden by a missing position of the other.
            parts.push(at(ExprKind::Paren(Box::new(at(ExprKind::Or(vec![
                at(ExprKind::Not(Box::new(at(ExprKind::Has(a.clone()))))),
                at(ExprKind::Not(Box::new(at(ExprKind::Has(b.clone()))))),
                at(ExprKind::cmp(
                    CmpOp::Eq,
                    at(ExprKind::Path(a)),
                    at(ExprKind::Path(b)),
                )),
            ]))))));
        }
        // An element's list field (session 9) is read by an aggregate over it before its
        // positions, so a missing or invalid one is its own error, not a position's.
        let mut positions = parts.split_off(1);
        for (side, (list, var)) in [(&r, (&r.0, "__right")), (&l, (&l.0, "__left"))] {
            if self.top_list_name(&side.0).is_none() && !positions.is_empty() {
                let inner = Self::and(positions, span);
                positions = vec![super::elem_positions::over_element_list(
                    list, var, inner, span,
                )];
            }
        }
        parts.extend(positions);
        let all = at(ExprKind::Paren(Box::new(at(ExprKind::And(parts)))));
        let e = match op {
            CmpOp::Ne => at(ExprKind::Not(Box::new(all))),
            _ => all,
        };
        Some(self.cond(&e))
    }
}

/// Whether `path` names a list of scalars of [`scalar_lists`]: a top-level one, or an
/// element's nested one (`c.args`, session 9: `[].args` in `lists`).
pub(crate) fn is_scalar_list(lists: &std::collections::HashSet<String>, path: &str) -> bool {
    if lists.contains(path) {
        return true;
    }
    let (_, rest) = ipe_nostd::path::split_first(path);
    !rest.is_empty() && lists.contains(&format!("[].{rest}"))
}

/// The paths the schemas of `files` declare as lists of scalars: a list constant or a list
/// parameter compares with one of them (`xs == allowed`, `check::consts`, `check::inline`);
/// against anything else it keeps the "is a list, not a value" error. A nested list of scalars
/// of the elements of a top-level list of records is there as `[].field` (`[].args`, session
/// 9), which an element's path (`c.args`) matches ([`is_scalar_list`]); so is one of the
/// elements of a nested list of records, at any depth (`p.hosts` with `p` in `c.ports`,
/// session 11).
pub(crate) fn scalar_lists<'a>(
    files: impl Iterator<Item = &'a crate::ast::File>,
) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for f in files {
        for item in &f.items {
            if let crate::ast::Item::Schema(entries) = item {
                for e in entries {
                    if matches!(e.ty, crate::ast::TypeExpr::List { .. }) {
                        out.insert(e.path.text.as_str().to_owned());
                    }
                    element_scalar_lists(&e.ty, &mut out);
                }
            }
        }
    }
    out
}

/// Adds `[].field` to `out` for each list of scalars of the elements of `ty` (a list of
/// records), and of its nested lists of records at any depth.
fn element_scalar_lists(ty: &crate::ast::TypeExpr, out: &mut std::collections::HashSet<String>) {
    if let crate::ast::TypeExpr::Records { lists, .. } = ty {
        for (name, t) in lists {
            if matches!(t, crate::ast::TypeExpr::List { .. }) {
                out.insert(format!("[].{}", name.text));
            }
            element_scalar_lists(t, out);
        }
    }
}
