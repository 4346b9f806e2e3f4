//! Positions on an element's list field (issue #13, session 9): `c.args[1]`, `c.ports[-1].port`
//! where `c` is bound by an aggregate over a top-level list of records and `args` / `ports` is
//! a nested list of that element (`check::nested`).
//!
//! Each is an element field of its own, as a position on a request list is a slot of its own
//! (`check::positional`): a scalar field whose path is the position (`args[1]`,
//! `ports[-1].port`), numbered after the declared fields like the internal fields of `has` on
//! a record path, whose value the host readers derive in each element from the element's list
//! field (`ipe_nostd::positional::derive_element`). So `has`, `??`, comparisons, reasons,
//! witnesses and errors (``missing attribute `containers[].args[1]` ``) treat it as any element
//! field, every engine reads it with `load.field`, and its cost is one step, as any field.

use super::{Ctx, Resolved};
use crate::ast::{AggKind, ByteSpan, CmpOp, Expr, ExprKind, Name};
use crate::hir::{self, SlotType};

/// Whether `key` (a path relative to an element) holds an index bracket: `[` then a digit or
/// `-`.
pub(super) fn has_index(key: &str) -> bool {
    key.match_indices('[').any(|(n, _)| {
        key.get(n + 1..)
            .and_then(|r| r.chars().next())
            .is_some_and(|c| c == '-' || c.is_ascii_digit())
    })
}

impl Ctx<'_> {
    /// Resolves `name` (`e.key`, `e` bound at `level`) when `key` is a position on a list
    /// field of the element: `None` when `key` has no index, `Some(None)` after a located
    /// error.
    pub(super) fn element_position(
        &mut self,
        name: &Name,
        level: usize,
        key: &str,
    ) -> Option<Option<Resolved>> {
        if !has_index(key) {
            return None;
        }
        let scope = self.scopes.get(level)?;
        let list = scope.list;
        let first = ipe_nostd::path::split_first(&name.text).0.to_owned();
        let Some((field, ty)) = self.position_field(name, list, &first, key) else {
            return Some(None);
        };
        let list_path = self.slot_path(list).to_owned();
        Some(Some(Resolved::Field {
            level: u8::try_from(level).unwrap_or(u8::MAX),
            list,
            field,
            ty,
            display: hir::joined(&format!("{list_path}[]"), key),
        }))
    }

    /// The field of list `list` (elements named `first`) that is position `key` on one of
    /// its elements' list fields, with its type, declared on first use; `None` after a located
    /// error (at `name`).
    pub(super) fn position_field(
        &mut self,
        name: &Name,
        list: hir::SlotId,
        first: &str,
        key: &str,
    ) -> Option<(u16, hir::Scalar)> {
        let list_path = self.slot_path(list).to_owned();
        self.position_field_checked(name, list, &list_path, first, key)
    }

    fn position_field_checked(
        &mut self,
        name: &Name,
        list: hir::SlotId,
        list_path: &str,
        first: &str,
        key: &str,
    ) -> Option<(u16, hir::Scalar)> {
        let Some(p) = ipe_nostd::positional::positional(key) else {
            self.error(
                name.span.clone(),
                format!("`{}` is not a valid list position", name.text),
                Some(format!(
                    "a position is an integer from -{m} to {m} without leading zeros (`{first}.list[0]` \
                     the first element, `{first}.list[-1]` the last), one per path",
                    m = ipe_nostd::positional::MAX_INDEX
                )),
            );
            return None;
        };
        let field_list = hir::joined(first, p.list);
        if !matches!(self.slot_type(list), SlotType::Records { .. }) {
            // The readers derive positions in the elements of a list of records, a nested
            // list's elements included (session 10).
            self.error(
                name.span.clone(),
                format!(
                    "`{}` is not a list field of an element of a top-level list: it has no \
                     position `[{}]`",
                    field_list, p.index
                ),
                Some(format!(
                    "positions select an element of a list field of an element of a top-level \
                     list of records; test the elements with `any(x in {field_list} where ...)`"
                )),
            );
            return None;
        }
        let np = super::nested::nested_path(list_path, p.list);
        let Some(nt) = self.schema.get(&np).cloned() else {
            let declared = self.slot_type(list).record_fields().unwrap_or(&[]);
            if declared.iter().any(|f| f.path == p.list) {
                self.error(
                    name.span.clone(),
                    format!(
                        "`{field_list}` is not a list: it has no position `[{}]`",
                        p.index
                    ),
                    Some("a position selects an element of a list field".to_owned()),
                );
            } else {
                let lists: Vec<String> = self
                    .schema
                    .keys()
                    .filter_map(|k| k.strip_prefix(&format!("{list_path}[].")))
                    .filter(|k| !k.contains("[]"))
                    .map(|k| format!("`{}`", hir::joined(first, k)))
                    .collect();
                self.error(
                    name.span.clone(),
                    format!("unknown attribute `{field_list}`"),
                    Some(if lists.is_empty() {
                        format!("the elements of `{list_path}` have no list field")
                    } else {
                        format!("the element's list fields: {}", lists.join(", "))
                    }),
                );
            }
            return None;
        };
        let ty = match (&nt, p.field) {
            (SlotType::List { elem, .. }, "") => elem.clone(),
            (SlotType::List { .. }, f) => {
                self.error(
                    name.span.clone(),
                    format!("`{field_list}` is a list of scalars: its element has no field `{f}`"),
                    Some(format!(
                        "compare the element itself: `{field_list}[{}]`",
                        p.index
                    )),
                );
                return None;
            }
            (SlotType::Records { fields, .. }, f) => {
                match fields
                    .iter()
                    .find(|x| x.path == f && !self.schema.contains_key(&format!("{np}[].{f}")))
                {
                    Some(x) => x.ty.clone(),
                    None => {
                        let names: Vec<String> = fields
                            .iter()
                            .filter(|x| !self.schema.contains_key(&format!("{np}[].{}", x.path)))
                            .map(|x| format!("`{}`", x.path))
                            .collect();
                        self.error(
                            name.span.clone(),
                            if f.is_empty() {
                                format!("`{}` is a record, not a value", name.text)
                            } else {
                                format!("the elements of `{field_list}` have no field `{f}`")
                            },
                            Some(format!(
                                "name a field of the element: {} (`{field_list}[{}].{}`)",
                                names.join(", "),
                                p.index,
                                fields.first().map_or("field", |x| x.path.as_str())
                            )),
                        );
                        return None;
                    }
                }
            }
            _ => {
                self.error(
                    name.span.clone(),
                    format!(
                        "`{field_list}` is not a list: it has no position `[{}]`",
                        p.index
                    ),
                    Some("a position selects an element of a list field".to_owned()),
                );
                return None;
            }
        };
        // The element's list field is declared with its slot (`check::nested`).
        let _nested = self.slot(&np, &nt);
        let declared = self.slot_type(list).record_fields().map_or(0, <[_]>::len);
        let implicit = self.implicit_fields.entry(list).or_default();
        let index = match implicit.iter().position(|(path, _)| path == key) {
            Some(i) => i,
            None => {
                implicit.push((key.to_owned(), ty.clone()));
                implicit.len() - 1
            }
        };
        Some((u16::try_from(declared + index).unwrap_or(u16::MAX), ty))
    }
}

impl Ctx<'_> {
    /// The nested list of scalars `e` names as an element's list field (`c.args`, `c` bound
    /// over a top-level list of records), with its element type and `max`: `c.args == ys`
    /// compares it as a request list (`check::list_eq_lists`).
    pub(super) fn element_list(&self, e: &crate::ast::Expr) -> Option<(Name, hir::Scalar, u32)> {
        let crate::ast::ExprKind::Path(n) = &e.kind else {
            return None;
        };
        let (first, rest) = ipe_nostd::path::split_first(&n.text);
        let scope = self.scopes.iter().rev().find(|s| s.name == first)?;
        if rest.is_empty() {
            return None;
        }
        match self
            .schema
            .get(&super::nested::nested_path(&scope.list_path, rest))?
        {
            SlotType::List { elem, max_len } => Some((n.clone(), elem.clone(), *max_len)),
            _ => None,
        }
    }
}

/// The element list equality's aggregate over the element's list `list` (filter `inner`):
/// `all(__element in list where inner)`. Reading the list first makes a missing or invalid
/// list its own error (``missing attribute `containers[].args` ``), never one of its
/// positions' (which, as fields of the outer element, come first in error order).
pub(super) fn over_element_list(list: &Name, var: &str, inner: Expr, span: &ByteSpan) -> Expr {
    Expr {
        kind: ExprKind::Agg {
            kind: AggKind::All,
            var: Box::new(Name {
                text: var.to_owned().into(),
                span: list.span.clone(),
            }),
            list: Box::new(list.clone()),
            filter: Some(Box::new(inner)),
        },
        span: span.clone(),
    }
}

impl Ctx<'_> {
    /// Whether `parts` is the expansion of `L == [items]` (`parser::expand_list_eq`:
    /// `count(__element in L) == k` then `L[i] == item` for each item, at least one) with `L`
    /// an element's list field.
    pub(super) fn is_element_list_eq(&self, parts: &[Expr]) -> bool {
        let Some((
            ExprKind::Cmp {
                op: CmpOp::Eq,
                sides,
            },
            rest,
        )) = parts.split_first().map(|(a, r)| (&a.kind, r))
        else {
            return false;
        };
        let [lhs, _] = &**sides;
        let ExprKind::Agg {
            kind: AggKind::Count,
            var,
            list,
            filter: None,
        } = &lhs.kind
        else {
            return false;
        };
        var.text == "__element"
            && !rest.is_empty()
            && rest.iter().enumerate().all(|(k, p)| {
                matches!(&p.kind, ExprKind::Cmp { op: CmpOp::Eq, sides }
                    if matches!(&sides[0].kind, ExprKind::Path(n) if n.text == format!("{}[{k}]", list.text)))
            })
            && self
                .element_list(&Expr {
                    kind: ExprKind::Path((**list).clone()),
                    span: list.span.clone(),
                })
                .is_some()
    }

    /// The expansion `parts` of `L == [items]` ([`Self::is_element_list_eq`]) with the item
    /// comparisons inside an aggregate over `L`: `count(L) == k and all(__element in L where
    /// L[0] == a and ...)`. Same truth (a list of another length is false; positions compare
    /// in order); a missing or invalid list is its error, as for a request list.
    pub(super) fn element_list_eq(&self, parts: &[Expr], span: &ByteSpan) -> Expr {
        let Some((count, items)) = parts.split_first() else {
            return Self::and(parts.to_vec(), span);
        };
        let list = match &count.kind {
            ExprKind::Cmp { sides, .. } => match &sides[0].kind {
                ExprKind::Agg { list, .. } => list.clone(),
                _ => return Self::and(parts.to_vec(), span),
            },
            _ => return Self::and(parts.to_vec(), span),
        };
        let inner = Self::and(items.to_vec(), span);
        Self::and(
            vec![
                count.clone(),
                over_element_list(&list, "__element", inner, span),
            ],
            span,
        )
    }

    pub(super) fn and(mut parts: Vec<Expr>, span: &ByteSpan) -> Expr {
        if parts.len() == 1 {
            return parts.remove(0);
        }
        Expr {
            kind: ExprKind::And(parts),
            span: span.clone(),
        }
    }
}
