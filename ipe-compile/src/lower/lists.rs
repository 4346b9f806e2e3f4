//! Which lists of scalars an aggregate binds elements of: those slots get one field record,
//! their *self field* (path "", the element kind), so the list-of-records machinery (the
//! `load.field` family, the verifier's field typing, the JIT's element loops) reads their
//! elements unchanged. A list of scalars no aggregate binds keeps no field record, so v1
//! bundles are byte for byte what they were.

use std::collections::BTreeSet;

use crate::hir::{Aggregate, Expr, Operand, Program, SlotId, SlotType};

/// The list-of-scalars slots of `program` that a filtered aggregate iterates.
pub(super) fn bound_scalar_lists(program: &Program) -> BTreeSet<SlotId> {
    let mut out = BTreeSet::new();
    // Only a list-of-scalars slot is ever bound: without one, no policy is walked (issue #15).
    if !program
        .slots
        .iter()
        .any(|s| matches!(s.ty, SlotType::List { .. }))
    {
        return out;
    }
    for p in &program.policies {
        if let Some(t) = &p.trigger {
            walk(program, t, &mut out);
        }
        if let crate::hir::Body::Requires { clauses, .. } = &p.body {
            for c in clauses {
                walk(program, &c.expr, &mut out);
            }
        }
    }
    out
}

fn walk(program: &Program, e: &Expr, out: &mut BTreeSet<SlotId>) {
    fn operand(program: &Program, o: &Operand, out: &mut BTreeSet<SlotId>) {
        match o {
            Operand::Count(a) => aggregate(program, a, out),
            Operand::CountSum(aggs) => aggs.iter().for_each(|a| aggregate(program, a, out)),
            Operand::Arith(_, args) => args.iter().for_each(|a| operand(program, a, out)),
            Operand::Len(x) => operand(program, x, out),
            Operand::Segment(g) => operand(program, &g.x, out),
            Operand::MapGet(m) => operand(program, &m.key, out),
            _ => {}
        }
    }
    let operand = |o: &Operand, out: &mut BTreeSet<SlotId>| operand(program, o, out);
    match e {
        Expr::Const(_) => {}
        Expr::Truthy(o)
        | Expr::Has(o)
        | Expr::InSet { lhs: o, .. }
        | Expr::InIp { lhs: o, .. }
        | Expr::InRanges { lhs: o, .. }
        | Expr::InList { lhs: o, .. }
        | Expr::InNested { lhs: o, .. } => operand(o, out),
        Expr::Cmp { lhs, rhs, .. }
        | Expr::Str { lhs, rhs, .. }
        | Expr::Fold { lhs, rhs, .. }
        | Expr::InHierarchy { lhs, rhs, .. } => {
            operand(lhs, out);
            operand(rhs, out);
        }
        Expr::Not(x) => walk(program, x, out),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| walk(program, x, out)),
        Expr::Any(a) | Expr::All(a) => aggregate(program, a, out),
    }
}

fn aggregate(program: &Program, a: &Aggregate, out: &mut BTreeSet<SlotId>) {
    let Some(filter) = &a.filter else {
        return;
    };
    if program
        .slots
        .get(usize::from(a.list))
        .is_some_and(|s| matches!(s.ty, SlotType::List { .. }))
    {
        out.insert(a.list);
    }
    walk(program, filter, out);
}
