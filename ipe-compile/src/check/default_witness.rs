//! Witness placeholders over a list declared `= []` (issue 13). The schema default expands a
//! clause `all(x in L where F)` into `(has L and all(...)) or not has L`, which is no longer
//! one `all`. A clause whose witness a reason template names is rewritten to the equivalent
//! `not has L or all(...)` ([`hir::Clause::witness_all`]): when `L` is missing the clause is
//! true (the empty list), otherwise it is the `all`, whose first false element is the witness.
//! Clauses no template names keep their expansion (so their bytecode does not change).

use crate::hir::{self, Expr, Operand};

/// The `all` of `clause` when it is one `all` over a top-level list, or the expansion of one
/// over a list declared `= []` (`(has L and all(x in L ...)) or not has L`, in either order).
pub(super) fn all_of(clause: &hir::Clause) -> Option<&hir::Aggregate> {
    if let Some(agg) = clause.witness_all() {
        return Some(agg);
    }
    expanded(&clause.expr)
}

/// The `all` of the expansion `(has L and all(x in L ...)) or not has L`.
fn expanded(e: &Expr) -> Option<&hir::Aggregate> {
    let Expr::Or(xs) = e else {
        return None;
    };
    let (and, not) = match xs.as_slice() {
        [a @ Expr::And(_), n @ Expr::Not(_)] | [n @ Expr::Not(_), a @ Expr::And(_)] => (a, n),
        _ => return None,
    };
    let (Expr::And(parts), Expr::Not(not_has)) = (and, not) else {
        return None;
    };
    let agg = match parts.as_slice() {
        [Expr::Has(Operand::Slot(l)), Expr::All(agg)] if *l == agg.list => agg,
        _ => return None,
    };
    let has = Expr::Has(Operand::Slot(agg.list));
    (agg.within.is_none() && **not_has == has).then_some(agg)
}

/// Marks `clause` as the witness clause, rewriting a default expansion to
/// `not has L or all(...)` so that its code is the shape the verifier accepts.
pub(super) fn mark(clause: &mut hir::Clause) {
    clause.witness = true;
    if clause.witness_all().is_some() {
        return;
    }
    if let Some(agg) = expanded(&clause.expr).cloned() {
        let has = Expr::Has(Operand::Slot(agg.list));
        clause.expr = Expr::Or(vec![Expr::Not(Box::new(has)), Expr::All(agg)]);
    }
}
