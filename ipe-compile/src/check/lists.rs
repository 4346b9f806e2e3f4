//! Set operators between lists (issue 13), expanded at check time into quantifiers over lists
//! of scalars and `in` tests (`docs/LANGUAGE.md`, Set operators):
//!
//! - `a subset_of b` is `all(x in a where x in b)`;
//! - `a contains_any b` and `a intersects b` are `any(x in a where x in b)`;
//! - `a contains_all b` is `all(x in b where x in a)`, and for a literal `b` the conjunction
//!   of `l in a` over its literals (`true` when it is empty).
//!
//! `a` is a list-of-scalars path; `b` a list-of-scalars path of the same element type or a
//! list literal of it. Either may be a nested list of an element in scope (`c.caps`, issue
//! #13): its aggregate reads it through the element (`within`) and `x in c.caps` is an
//! `in.field` test.

use super::expr::VTy;
use super::{ty_word, Ctx, Resolved, MAX_AGG_DEPTH};
use crate::ast::{ByteSpan, DataRef, Expr, ExprKind, Lit, Name, SetOp};
use crate::hir::{self, Aggregate, Literal, Operand, Scalar, SlotId, SlotType};

/// Whether `op rhs` expands into `in` tests only (`contains_all` against a literal list).
fn is_literal_contains_all(op: SetOp, rhs: &DataRef) -> bool {
    op == SetOp::ContainsAll && matches!(rhs, DataRef::Lits(..))
}

/// The right list, checked.
enum Rhs {
    /// A list attribute, or a nested list of the element bound at the level given.
    Slot(SlotId, Option<u8>),
    Lits(Vec<Literal>),
}

/// `lhs in list`, for a top-level list or a nested list held by the element bound at `within`.
fn in_list(lhs: Operand, list: SlotId, within: Option<u8>) -> hir::Expr {
    match within {
        None => hir::Expr::InList { lhs, list },
        Some(level) => hir::Expr::InNested { lhs, list, level },
    }
}

impl Ctx<'_> {
    /// Checks `lhs op rhs` and expands it.
    pub(super) fn set_op(&mut self, op: SetOp, lhs: &Expr, rhs: &DataRef) -> Option<hir::Expr> {
        let ExprKind::Path(name) = &lhs.kind else {
            self.error(
                lhs.span.clone(),
                "expected a list path before a set operator".to_owned(),
                Some(
                    "write the list attribute on the left, e.g. `tags subset_of [\"a\", \"b\"]`"
                        .to_owned(),
                ),
            );
            return None;
        };
        let (a, elem, a_in) = self.scalar_list(name)?;
        let b = match rhs {
            DataRef::Name(p) => {
                let (b, belem, b_in) = self.scalar_list(p)?;
                if belem != elem {
                    let (e, f) = (ty_word(&VTy::Scalar(elem)), ty_word(&VTy::Scalar(belem)));
                    self.error(
                        p.span.clone(),
                        format!("mismatched types: expected list of {e}, found list of {f}"),
                        None,
                    );
                    return None;
                }
                Rhs::Slot(b, b_in)
            }
            DataRef::Lits(items, _) => Rhs::Lits(self.list_literals(&elem, items, &name.text)?),
            DataRef::Key(n, ..)
            | DataRef::Under(n, ..)
            | DataRef::Of(n, _)
            | DataRef::KeyOf(n, _)
            | DataRef::Closure(n, ..) => {
                // `check::consts` replaces constant selections by their values first.
                self.error(
                    n.span.clone(),
                    format!("unknown constant `{}`", n.text),
                    None,
                );
                return None;
            }
        };
        if self.scopes.len() >= usize::from(MAX_AGG_DEPTH) && !is_literal_contains_all(op, rhs) {
            // The expansion is one more aggregate level.
            self.error(
                lhs.span.clone(),
                format!("aggregates are nested more than {MAX_AGG_DEPTH} levels deep"),
                Some("a set operator is an aggregate over its list".to_owned()),
            );
            return None;
        }
        let level = self.level_of_scopes();
        let elem_of = |list| Operand::Field {
            level,
            list,
            field: 0,
        };
        let quantify = |over: SlotId, within: Option<u8>, filter: hir::Expr| Aggregate {
            list: over,
            level,
            filter: Some(Box::new(filter)),
            within,
        };
        Some(match (op, b) {
            (SetOp::SubsetOf, b) | (SetOp::ContainsAny | SetOp::Intersects, b) => {
                let filter = match b {
                    Rhs::Slot(b, b_in) => in_list(elem_of(a), b, b_in),
                    Rhs::Lits(set) => hir::Expr::InSet {
                        lhs: elem_of(a),
                        set,
                    },
                };
                let agg = quantify(a, a_in, filter);
                if op == SetOp::SubsetOf {
                    hir::Expr::All(agg)
                } else {
                    hir::Expr::Any(agg)
                }
            }
            (SetOp::ContainsAll, Rhs::Slot(b, b_in)) => {
                hir::Expr::All(quantify(b, b_in, in_list(elem_of(b), a, a_in)))
            }
            (SetOp::ContainsAll, Rhs::Lits(set)) => {
                let mut tests: Vec<hir::Expr> = set
                    .into_iter()
                    .map(|l| in_list(Operand::Lit(l), a, a_in))
                    .collect();
                match tests.len() {
                    0 => hir::Expr::Const(true),
                    1 => tests.pop()?,
                    _ => hir::Expr::And(tests),
                }
            }
        })
    }

    /// The nesting level an aggregate built here gets.
    fn level_of_scopes(&self) -> u8 {
        u8::try_from(self.scopes.len()).unwrap_or(u8::MAX)
    }

    /// `name` as a list-of-scalars slot, its element type and, for a nested list, the level
    /// of the element holding it; or a located error.
    fn scalar_list(&mut self, name: &Name) -> Option<(SlotId, Scalar, Option<u8>)> {
        let found = match self.resolve(name)? {
            Resolved::Slot(id, SlotType::List { elem, .. }) => return Some((id, elem, None)),
            Resolved::Nested {
                level,
                list,
                ty: SlotType::List { elem, .. },
                count: false,
                ..
            } => return Some((list, elem, Some(level))),
            Resolved::Slot(_, SlotType::Records { .. }) => "list of records".to_owned(),
            Resolved::Slot(_, SlotType::Map { .. }) => "map".to_owned(),
            Resolved::Slot(_, SlotType::Scalar(s)) | Resolved::Field { ty: s, .. } => {
                ty_word(&VTy::Scalar(s)).to_owned()
            }
            Resolved::Seed { .. } => "int".to_owned(),
            Resolved::Nested { count: true, .. } => "int".to_owned(),
            Resolved::Nested { .. } => "list of records".to_owned(),
            Resolved::NestedSeed { .. } => "condition".to_owned(),
        };
        self.error(
            name.span.clone(),
            format!("mismatched types: expected list, found {found}"),
            Some("set operators take lists of scalars on both sides".to_owned()),
        );
        None
    }

    /// The literals of a list literal compared with elements of type `elem` (of list
    /// `path`), deduplicated in order.
    fn list_literals(
        &mut self,
        elem: &Scalar,
        items: &[(Lit, ByteSpan)],
        path: &str,
    ) -> Option<Vec<Literal>> {
        let mut out: Vec<Literal> = Vec::with_capacity(items.len());
        let mut ok = true;
        for (lit, span) in items {
            let checked = match (elem, lit) {
                (Scalar::Str, Lit::Str(s)) => Some(Literal::Str(s.clone())),
                (Scalar::Int, Lit::Int(n)) => Some(Literal::Int(*n)),
                (Scalar::Bool, Lit::Bool(b)) => Some(Literal::Bool(*b)),
                (Scalar::Enum(m), Lit::Str(s)) => self.enum_literal(s, span, m, path),
                (_, lit) => {
                    let found = match lit {
                        Lit::Str(_) => "string",
                        Lit::Int(_) => "int",
                        Lit::Bool(_) => "bool",
                    };
                    let expected = elem.kind().as_str();
                    self.error(
                        span.clone(),
                        format!("mismatched types: expected {expected}, found {found}"),
                        None,
                    );
                    None
                }
            };
            match checked {
                Some(c) if !out.contains(&c) => out.push(c),
                Some(_) => {}
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}
