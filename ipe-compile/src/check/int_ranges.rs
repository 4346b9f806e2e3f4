//! Integer range tables (issue #14, session 9): the parser expands `x in lo..hi` and a list
//! with ranges (`x in [22, 80, 8000..8100]`, a `const` or data-file list with ranges) into
//! comparisons (`parser/ranges.rs`); once checked, a conjunction `x >= lo and x <= hi` over an
//! int, and a disjunction of such ranges with `x == v` and `x in [ints]` over the same `x`, is
//! folded here into one [`hir::Expr::InRanges`]: sorted, merged inclusive ranges that lower to
//! one `in.range` instruction (a binary search of a table of the bundle) instead of a
//! comparison pair per range. The same truth value and errors: every part reads the same `x`,
//! so an error of `x` is the error of the whole, and an int is in the union of the ranges.
//! A lone `x == v` is left alone (the trigger index files it).

use crate::hir::{CmpOp, Expr, Literal, Operand};
use ipe_nostd::ValueKind;

/// A range test: its int operand, its ranges, and whether it holds a real range.
type RangeTest<'e> = (&'e Operand, Vec<(i64, i64)>, bool);

/// The int operand and the ranges `e` tests, if it is a range test: `x in ranges`, `x in
/// [ints]`, `x == v`, or `x >= lo and x <= hi`. `ranged` tells whether it holds a real range
/// (not only single values).
fn as_ranges(e: &Expr) -> Option<RangeTest<'_>> {
    match e {
        Expr::InRanges { lhs, ranges } => Some((lhs, ranges.clone(), true)),
        Expr::InSet { lhs, set } => {
            let vs: Option<Vec<(i64, i64)>> = set
                .iter()
                .map(|l| match l {
                    Literal::Int(v) => Some((*v, *v)),
                    _ => None,
                })
                .collect();
            Some((lhs, vs?, false))
        }
        Expr::And(parts) => match parts.as_slice() {
            [a, b] => {
                let ((CmpOp::Ge, x, lo), (CmpOp::Le, y, hi)) = (int_cmp(a)?, int_cmp(b)?) else {
                    return None;
                };
                (x == y && lo <= hi).then(|| (x, vec![(lo, hi)], true))
            }
            _ => None,
        },
        e => match int_cmp(e)? {
            (CmpOp::Eq, x, v) => Some((x, vec![(v, v)], false)),
            _ => None,
        },
    }
}

/// `x op v` over an int, `v` an int literal.
fn int_cmp(e: &Expr) -> Option<(CmpOp, &Operand, i64)> {
    match e {
        Expr::Cmp {
            op,
            lhs,
            rhs: Operand::Lit(Literal::Int(v)),
            ty: ValueKind::Int,
        } => Some((*op, lhs, *v)),
        _ => None,
    }
}

/// Sorts and merges `ranges` (overlapping or adjacent ranges become one).
pub(crate) fn merge(mut ranges: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    ranges.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match out.last_mut() {
            Some(last) if last.1.checked_add(1).is_none_or(|n| n >= lo) => {
                last.1 = last.1.max(hi);
            }
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// `e` with a range conjunction or a disjunction of range tests over one int operand folded
/// into [`Expr::InRanges`] (see the module docs); anything else unchanged.
pub(super) fn fold(e: Expr) -> Expr {
    let folded = match &e {
        Expr::And(_) => as_ranges(&e).map(|(x, r, _)| (x.clone(), r)),
        Expr::Or(parts) if parts.len() >= 2 => {
            let mut all: Vec<(i64, i64)> = Vec::new();
            let mut x: Option<&Operand> = None;
            let mut ranged = false;
            let mut ok = true;
            for p in parts {
                match as_ranges(p) {
                    Some((o, r, g)) if x.is_none_or(|x| x == o) => {
                        x = Some(o);
                        all.extend(r);
                        ranged |= g;
                    }
                    _ => {
                        ok = false;
                        break;
                    }
                }
            }
            match x {
                Some(x) if ok && ranged => Some((x.clone(), all)),
                _ => None,
            }
        }
        _ => None,
    };
    match folded {
        Some((lhs, ranges)) => Expr::InRanges {
            lhs,
            ranges: merge(ranges),
        },
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::merge;

    #[test]
    fn issue14_ranges_merge_sorted_and_non_adjacent() {
        assert_eq!(
            merge(vec![
                (8000, 8100),
                (22, 22),
                (80, 80),
                (8050, 8200),
                (23, 25)
            ]),
            vec![(22, 25), (80, 80), (8000, 8200)]
        );
        assert_eq!(
            merge(vec![(i64::MAX, i64::MAX), (0, i64::MAX), (i64::MIN, -1)]),
            vec![(i64::MIN, i64::MAX)]
        );
        assert_eq!(merge(vec![(1, 1), (3, 3)]), vec![(1, 1), (3, 3)]);
    }
}
