//! The witness of an `all` over several lists in a reason (issue #13):
//! `requires all(c in spec.containers, spec.initContainers where F)` with
//! `with reason "container {c.name} ..."`. The aggregate is expanded (`check/inline.rs`) into
//! `(all(c in spec.containers where F) and all(c in spec.initContainers where F))`; when the
//! policy's reason template names `c`, each `all` becomes a clause of its own (with the whole
//! aggregate's text), so each is a witness clause as any single-list `all`. Clauses run in
//! order and the first false one is reported, so the witness is the first false element of
//! the first list (in written order) that has one: the `all` over the lists is false exactly
//! when one of these clauses is, and an error otherwise meets as the `and` did (a false clause
//! wins over an error; errors compare by path). The placeholder becomes a
//! [`hir::ReasonPart::FieldOf`]: the field of whichever of the clauses failed.

use crate::ast::{self, AggKind, ExprKind, ReasonPart};

/// One requirement clause to check: the expression, the part of the `requires` whose text
/// it reports, and for a split aggregate the index of that part (shared by its clauses).
#[derive(Clone, Copy)]
pub(super) struct ClausePart<'e> {
    /// The condition of the clause.
    pub expr: &'e ast::Expr,
    /// The top-level conjunct it comes from (its text is the clause text).
    pub whole: &'e ast::Expr,
    /// For a clause split from an `all` over several lists: the conjunct's index.
    pub group: Option<usize>,
}

fn strip(e: &ast::Expr) -> &ast::Expr {
    match &e.kind {
        ExprKind::Paren(x) => strip(x),
        _ => e,
    }
}

/// The clauses of a `requires`, in order ([`clause_parts`]).
pub(super) enum ClauseParts<'e> {
    /// One clause per top-level conjunct (no reason template names a split aggregate's
    /// element): the conjuncts themselves, no list made (issue #15).
    Conjuncts(&'e [ast::Expr]),
    /// The clauses, some split from an `all` over several lists.
    Split(Vec<ClausePart<'e>>),
}

impl<'e> ClauseParts<'e> {
    /// The number of clauses.
    pub(super) fn len(&self) -> usize {
        match self {
            ClauseParts::Conjuncts(xs) => xs.len(),
            ClauseParts::Split(parts) => parts.len(),
        }
    }

    /// Clause `i`.
    pub(super) fn get(&self, i: usize) -> Option<ClausePart<'e>> {
        match self {
            ClauseParts::Conjuncts(xs) => xs.get(i).map(|whole| ClausePart {
                expr: whole,
                whole,
                group: None,
            }),
            ClauseParts::Split(parts) => parts.get(i).copied(),
        }
    }

    /// The clauses in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = ClausePart<'e>> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// The clauses of `requires expr`: its top-level conjuncts, with each expanded `all` over
/// several lists whose element the reason template `template` names split into one clause
/// per list.
pub(super) fn clause_parts<'e>(
    expr: &'e ast::Expr,
    template: Option<&[ReasonPart]>,
) -> ClauseParts<'e> {
    let parts: &[ast::Expr] = match &expr.kind {
        // The `and` of a range's expansion (`x in lo..hi`, `x in [lo..hi]`: every part starts
        // where the whole does, which no written `and` can) is one clause, shown as written
        // and run as one range table (issue #14, session 9).
        ExprKind::And(parts) if !range_expansion(expr) => parts,
        _ => std::slice::from_ref(expr),
    };
    if template.is_none() {
        // Only a template's placeholder splits an aggregate.
        return ClauseParts::Conjuncts(parts);
    }
    let named = |var: &str| {
        template.is_some_and(|t| {
            t.iter().any(|p| match p {
                ReasonPart::Hole { path, .. } => ipe_nostd::path::split_first(path).0 == var,
                ReasonPart::Lookup { key, .. } => ipe_nostd::path::split_first(key).0 == var,
                ReasonPart::Text(_) => false,
            })
        })
    };
    // Sized once: one clause per conjunct unless an aggregate splits.
    let mut out = Vec::with_capacity(parts.len());
    for (i, whole) in parts.iter().enumerate() {
        if let Some(alls) = several_lists(whole).filter(|(var, _)| named(var)) {
            out.extend(alls.1.into_iter().map(|expr| ClausePart {
                expr,
                whole,
                group: Some(i),
            }));
        } else {
            out.push(ClausePart {
                expr: whole,
                whole,
                group: None,
            });
        }
    }
    ClauseParts::Split(out)
}

/// Whether `e` is the `and` the parser expands a range into (`x >= lo and x <= hi`, both
/// comparisons against int literals and located where the whole starts).
fn range_expansion(e: &ast::Expr) -> bool {
    let ExprKind::And(parts) = &e.kind else {
        return false;
    };
    let bound = |p: &ast::Expr, want: ast::CmpOp| {
        p.span.start == e.span.start
            && matches!(&p.kind, ExprKind::Cmp { op, sides }
                if *op == want && matches!(sides[1].kind, ExprKind::Lit(ast::Lit::Int(_))))
    };
    matches!(parts.as_slice(), [a, b] if bound(a, ast::CmpOp::Ge) && bound(b, ast::CmpOp::Le))
}

/// The element name and the `all`s of an expanded `all` over several lists
/// (`(all(c in a where F) and all(c in b where F) ...)`), if `e` is one.
fn several_lists(e: &ast::Expr) -> Option<(&str, Vec<&ast::Expr>)> {
    let ExprKind::Paren(inner) = &e.kind else {
        return None;
    };
    let ExprKind::And(xs) = &strip(inner).kind else {
        return None;
    };
    let mut var: Option<&str> = None;
    for x in xs {
        let ExprKind::Agg {
            kind: AggKind::All,
            var: v,
            ..
        } = &x.kind
        else {
            return None;
        };
        if var.is_some_and(|w| w != v.text) {
            return None;
        }
        var = Some(&v.text);
    }
    (xs.len() >= 2).then(|| (var.unwrap_or_default(), xs.iter().collect()))
}
