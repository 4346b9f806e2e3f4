//! Typing expressions: paths to slots and fields, literals to typed constants, seed aggregates
//! and `where` filters to aggregates.

use super::{ty_word, Ctx, Resolved, Scope, SeedKind, MAX_AGG_DEPTH, MAX_DEPTH};
use crate::ast::{AggKind, ByteSpan, CmpOp, Expr, ExprKind, Lit, Name};
use crate::hir::{self, Aggregate, Literal, Operand, Scalar, SlotType};
use ipe_nostd::ValueKind;
use std::collections::{HashMap, HashSet};
use std::ops::Bound;

/// The type of a checked value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum VTy {
    /// A scalar (string literals are `Str` until compared with an enum).
    Scalar(Scalar),
    /// A list of scalars.
    List(Scalar),
    /// A list of records.
    Records,
    /// A condition.
    Cond,
}

/// A checked operand.
#[derive(Clone)]
pub(super) struct Val {
    pub(super) op: ValOp,
    pub(super) ty: VTy,
    pub(super) span: ByteSpan,
    /// The source text of an operand, or the path of an enum attribute; empty for a string
    /// literal, whose text is its value (issue #15: not copied; [`Val::text_str`]).
    pub(super) text: crate::ast::Text,
}

#[derive(Clone)]
pub(super) enum ValOp {
    Operand(Operand),
    Cond(hir::Expr),
    List,
}

/// The value of an explicit aggregate: an int for `count`, a condition for `any` and `all`.
pub(super) fn agg_val(
    kind: AggKind,
    agg: Aggregate,
    span: ByteSpan,
    text: crate::ast::Text,
) -> Val {
    let (op, ty) = match kind {
        AggKind::Count => (
            ValOp::Operand(Operand::Count(Box::new(agg))),
            VTy::Scalar(Scalar::Int),
        ),
        AggKind::Any => (ValOp::Cond(hir::Expr::Any(agg)), VTy::Cond),
        AggKind::All => (ValOp::Cond(hir::Expr::All(agg)), VTy::Cond),
    };
    Val { op, ty, span, text }
}

/// Paths and literals are not nesting levels; every operator, parenthesis and explicit
/// aggregate is one (`docs/LANGUAGE.md`, Limits).
fn is_leaf(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Lit(_) | ExprKind::Path(_) | ExprKind::TimeLit { .. } | ExprKind::Now
    )
}

impl Ctx<'_> {
    fn enter(&mut self, span: &ByteSpan) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            if !self.depth_reported {
                self.depth_reported = true;
                self.error(
                    span.clone(),
                    format!("expression is nested more than {MAX_DEPTH} levels deep"),
                    None,
                );
            }
            return false;
        }
        true
    }

    /// Checks `e` as a condition.
    pub(super) fn cond(&mut self, e: &Expr) -> Option<hir::Expr> {
        let mark = self.optional_mark();
        if is_leaf(e) {
            let r = self.cond_inner(e);
            return self.optional_expand(mark, r);
        }
        let ok = self.enter(&e.span);
        let r = if ok { self.cond_inner(e) } else { None };
        self.depth -= 1;
        self.optional_expand(mark, r)
    }

    fn cond_inner(&mut self, e: &Expr) -> Option<hir::Expr> {
        match &e.kind {
            ExprKind::Paren(inner) => self.cond(inner),
            ExprKind::Not(inner) => Some(hir::Expr::Not(Box::new(self.cond(inner)?))),
            ExprKind::And(parts) if self.is_element_list_eq(parts) => {
                // `c.args == [a, b]` on an element's list field (session 9).
                let e = self.element_list_eq(parts, &e.span);
                self.cond(&e)
            }
            ExprKind::And(parts) | ExprKind::Or(parts) => {
                // Every part is checked (each reports its errors), into one list (issue #15).
                let mut checked = Vec::with_capacity(parts.len());
                let mut ok = true;
                for p in parts {
                    match self.cond(p) {
                        Some(c) if ok => checked.push(c),
                        Some(_) => {}
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                // Issue #14, session 9: range tests over one int become one range table.
                Some(super::int_ranges::fold(
                    if matches!(e.kind, ExprKind::And(_)) {
                        hir::Expr::And(checked)
                    } else {
                        hir::Expr::Or(checked)
                    },
                ))
            }
            ExprKind::Where { expr, kw, filter } => {
                self.with_where(expr, kw, filter, |cx, inner| cx.cond(inner))
            }
            ExprKind::Has(name) if self.is_record_prefix(name) => {
                // Declared only through the attributes inside it: `has` tests presence, as it
                // does without a schema (where such a path is inferred as a string).
                let id = self.slot(&name.text, &SlotType::Scalar(Scalar::Str));
                Some(hir::Expr::Has(Operand::Slot(id)))
            }
            ExprKind::Has(name) if self.is_element_record_prefix(name) => {
                // The element twin of the arm above: an internal string field, as inferred
                // without a schema.
                Some(hir::Expr::Has(self.implicit_field(name)?))
            }
            ExprKind::Has(name) => match self.resolve(name)? {
                Resolved::Slot(id, _) => Some(hir::Expr::Has(Operand::Slot(id))),
                Resolved::Field {
                    level, list, field, ..
                } => Some(hir::Expr::Has(Operand::Field { level, list, field })),
                // `has e.ports`: the element's field holding the nested list is present.
                Resolved::Nested {
                    level,
                    parent,
                    field,
                    count: false,
                    ..
                } => Some(hir::Expr::Has(Operand::Field {
                    level,
                    list: parent,
                    field,
                })),
                Resolved::Seed { .. }
                | Resolved::Nested { count: true, .. }
                | Resolved::NestedSeed { .. } => {
                    self.error(
                        name.span.clone(),
                        format!("unknown attribute `{}`", name.text),
                        None,
                    );
                    None
                }
            },
            ExprKind::Cmp { op, sides }
                if sides.iter().any(|x| super::strings::as_lower(x).is_some()) =>
            {
                let [lhs, rhs] = &**sides;
                self.lower_cmp(*op, lhs, rhs, &e.span)
            }
            ExprKind::Str { op, lhs, rhs } if super::strings::as_lower(lhs).is_some() => {
                let x = super::strings::as_lower(lhs)?;
                self.lower_test(super::strings::fused(*op), x, rhs)
            }
            ExprKind::InSet { lhs, items } if super::strings::as_lower(lhs).is_some() => {
                self.lower_in(super::strings::as_lower(lhs)?, items)
            }
            ExprKind::Cmp { op, sides } => {
                let [lhs, rhs] = &**sides;
                if let Some(x) = self.list_list_eq(*op, lhs, rhs, &e.span) {
                    return x;
                }
                let (l, r) = (self.value(lhs), self.value(rhs));
                self.compare(*op, l?, r?, &e.span)
            }
            ExprKind::Str { op, lhs, rhs } => {
                if *op == hir::StrOp::Matches && !self.check_regex(rhs) {
                    return None;
                }
                let (l, r) = (self.value(lhs), self.value(rhs));
                let (l, r) = (l?, r?);
                for v in [&l, &r] {
                    if v.ty != VTy::Scalar(Scalar::Str) {
                        let found = ty_word(&v.ty);
                        self.error(
                            v.span.clone(),
                            format!("mismatched types: expected string, found {found}"),
                            None,
                        );
                        return None;
                    }
                }
                Some(hir::Expr::Str {
                    op: *op,
                    lhs: l.operand()?,
                    rhs: r.operand()?,
                })
            }
            ExprKind::InSet { lhs, items } => self.in_set(lhs, items),
            ExprKind::InPath { lhs, list } => self.in_path(lhs, list),
            ExprKind::SetOp { op, lhs, rhs } => self.set_op(*op, lhs, rhs),
            ExprKind::InData { lhs, data } => match &**data {
                crate::ast::DataRef::Closure(n, pairs, value) => {
                    self.in_closure(lhs, n, pairs, value)
                }
                _ => {
                    // `check::consts` expands these before checking; never reached.
                    self.error(
                        e.span.clone(),
                        "this use of constant data was not expanded".to_owned(),
                        None,
                    );
                    None
                }
            },
            ExprKind::Path(name) if self.is_v4_path(name).is_some() => {
                // `src.is_v4`: the path spelling of `is_v4(src)` (check/ip.rs).
                let x = self.is_v4_path(name)?;
                let v = self.path_value(&x)?;
                self.is_v4(v)
            }
            ExprKind::Call { name, args } if name.text == "is_v4" && args.len() == 1 => {
                let v = self.value(args.first()?)?;
                self.is_v4(v)
            }
            ExprKind::Call { name, .. } => {
                // Calls are expanded before checking (`inline`); one left here is not a def.
                self.error(
                    name.span.clone(),
                    format!("`{}` is not a def", name.text),
                    None,
                );
                None
            }
            _ => {
                let v = self.value(e)?;
                match (v.op, &v.ty) {
                    (ValOp::Cond(c), _) => Some(c),
                    (ValOp::Operand(Operand::Lit(Literal::Bool(b))), _) => {
                        Some(hir::Expr::Const(b))
                    }
                    (ValOp::Operand(op), VTy::Scalar(Scalar::Bool)) => Some(hir::Expr::Truthy(op)),
                    (_, ty) => {
                        let found = ty_word(ty);
                        self.error(v.span, format!("expected a condition, found {found}"), None);
                        None
                    }
                }
            }
        }
    }

    /// Whether `name` is not itself declared but the schema declares attributes inside it
    /// (`resource.owner` for `resource.owner.name`), outside any element scope.
    fn is_record_prefix(&self, name: &Name) -> bool {
        let (first, _) = ipe_nostd::path::split_first(&name.text);
        if self.scopes.iter().any(|s| s.name == first)
            || self.schema.contains_key(name.text.as_str())
        {
            return false;
        }
        // Paths are sorted: one inside `name` sorts first among the keys from `name.` (or
        // `name["`) on.
        [".", "[\""].into_iter().any(|sep| {
            let inner = format!("{}{sep}", name.text);
            self.schema
                .range::<str, _>((Bound::Included(inner.as_str()), Bound::Unbounded))
                .next()
                .is_some_and(|(k, _)| k.starts_with(&inner))
        })
    }

    /// Whether `name` is `elem.p` for an element in scope, where `p` is not a declared field of
    /// the element but the schema declares fields inside it (`who` for `who.role`).
    fn is_element_record_prefix(&self, name: &Name) -> bool {
        let (first, rest) = ipe_nostd::path::split_first(&name.text);
        if rest.is_empty() {
            return false;
        }
        let Some(scope) = self.scopes.iter().rev().find(|s| s.name == first) else {
            return false;
        };
        !scope.fields.iter().any(|f| f.path == rest)
            && scope
                .fields
                .iter()
                .any(|f| ipe_nostd::path::is_inside(&f.path, rest))
    }

    /// The internal string field of an element record path (see `is_element_record_prefix`),
    /// numbered after the declared fields of its list on first use.
    fn implicit_field(&mut self, name: &Name) -> Option<Operand> {
        let (first, rest) = ipe_nostd::path::split_first(&name.text);
        if rest.is_empty() {
            return None;
        }
        let level = self.scopes.iter().rposition(|s| s.name == first)?;
        let scope = self.scopes.get(level)?;
        let list = scope.list;
        let declared = scope.fields.len();
        let implicit = self.implicit_fields.entry(list).or_default();
        let index = match implicit.iter().position(|(p, _)| p == rest) {
            Some(i) => i,
            None => {
                implicit.push((rest.to_owned(), Scalar::Str));
                implicit.len() - 1
            }
        };
        Some(Operand::Field {
            level: u8::try_from(level).unwrap_or(u8::MAX),
            list,
            field: u16::try_from(declared + index).unwrap_or(u16::MAX),
        })
    }

    /// Runs `f` on `expr` with `filter` attached to the seed aggregate in `expr`.
    fn with_where<T>(
        &mut self,
        expr: &Expr,
        kw: &ByteSpan,
        filter: &Expr,
        f: impl FnOnce(&mut Self, &Expr) -> Option<T>,
    ) -> Option<T> {
        let mut seeds = Vec::new();
        self.find_seeds(expr, &mut seeds);
        match seeds.len() {
            0 => {
                self.error(
                    kw.clone(),
                    "`where` needs an aggregate such as `list.count` before it".to_owned(),
                    None,
                );
                None
            }
            1 => {
                let saved = self.pending.replace((seeds[0].clone(), filter.clone()));
                let r = f(self, expr);
                self.pending = saved;
                r
            }
            n => {
                self.error(
                    kw.clone(),
                    format!("`where` must follow exactly one aggregate, found {n}"),
                    Some("put each aggregate and its `where` in parentheses".to_owned()),
                );
                None
            }
        }
    }

    /// Spans of the unfiltered seed aggregates in `e` (not inside other filters).
    fn find_seeds(&self, e: &Expr, out: &mut Vec<ByteSpan>) {
        match &e.kind {
            ExprKind::Path(name) => {
                if self.seed_of(name).is_some() || self.is_nested_seed(name) {
                    out.push(name.span.clone());
                }
            }
            ExprKind::Paren(x) | ExprKind::Not(x) | ExprKind::Len(x) | ExprKind::Lower(x) => {
                self.find_seeds(x, out)
            }
            ExprKind::And(xs)
            | ExprKind::Or(xs)
            | ExprKind::CountLists(xs)
            | ExprKind::Segment(xs)
            | ExprKind::Arith { args: xs, .. } => xs.iter().for_each(|x| self.find_seeds(x, out)),
            ExprKind::Cmp { sides, .. } => sides.iter().for_each(|x| self.find_seeds(x, out)),
            ExprKind::Str { lhs, rhs, .. } => {
                self.find_seeds(lhs, out);
                self.find_seeds(rhs, out);
            }
            ExprKind::InSet { lhs, .. } | ExprKind::InPath { lhs, .. } => self.find_seeds(lhs, out),
            ExprKind::TimeArith { lhs, rhs, .. } => {
                self.find_seeds(lhs, out);
                self.find_seeds(rhs, out);
            }
            ExprKind::TimePart { arg, .. } => self.find_seeds(arg, out),
            ExprKind::Lit(_)
            | ExprKind::TimeLit { .. }
            | ExprKind::Now
            | ExprKind::Agg { .. }
            | ExprKind::Has(_)
            | ExprKind::Lookup(_)
            | ExprKind::Where { .. }
            | ExprKind::SetOp { .. }
            | ExprKind::InData { .. }
            | ExprKind::Call { .. }
            | ExprKind::AggLists { .. }
            | ExprKind::Coalesce { .. }
            | ExprKind::MapAgg { .. } => {}
        }
    }

    /// Checks `e` as a value (operand of a comparison).
    pub(super) fn value(&mut self, e: &Expr) -> Option<Val> {
        if is_leaf(e) {
            return self.value_inner(e);
        }
        let ok = self.enter(&e.span);
        let r = if ok { self.value_inner(e) } else { None };
        self.depth -= 1;
        r
    }

    fn value_inner(&mut self, e: &Expr) -> Option<Val> {
        let span = e.span.clone();
        // The operand's source text only where a `Val` takes it (issue #15: a path or a
        // string literal carries its own text, so none is copied for them).
        let val = |op, ty, text| {
            Some(Val {
                op: ValOp::Operand(op),
                ty,
                span: span.clone(),
                text,
            })
        };
        match &e.kind {
            ExprKind::Lit(Lit::Str(s)) => Some(Val {
                op: ValOp::Operand(Operand::Lit(Literal::Str(s.clone()))),
                ty: VTy::Scalar(Scalar::Str),
                span: span.clone(),
                text: crate::ast::Text::default(),
            }),
            ExprKind::Lit(Lit::Int(n)) => {
                let text = self.span_text(&span);
                val(
                    Operand::Lit(Literal::Int(*n)),
                    VTy::Scalar(Scalar::Int),
                    text,
                )
            }
            ExprKind::Lit(Lit::Bool(b)) => {
                let text = self.span_text(&span);
                val(
                    Operand::Lit(Literal::Bool(*b)),
                    VTy::Scalar(Scalar::Bool),
                    text,
                )
            }
            ExprKind::Paren(inner) => {
                let mut v = self.value(inner)?;
                v.span = span.clone();
                Some(v)
            }
            ExprKind::Where { expr, kw, filter } => {
                self.with_where(expr, kw, filter, |cx, inner| cx.value(inner))
            }
            ExprKind::Path(name) => self.path_value(name),
            ExprKind::Coalesce { .. } => self.coalesce(e),
            ExprKind::Lookup(l) => {
                let text = self.span_text(&span);
                self.lookup_value(l, span, text)
            }
            ExprKind::CountLists(parts) => {
                let text = self.span_text(&span);
                self.count_lists(parts, span, text)
            }
            ExprKind::Arith { op, args } => {
                let text = self.span_text(&span);
                self.arith(*op, args, span, text)
            }
            ExprKind::TimeLit { .. }
            | ExprKind::Now
            | ExprKind::TimeArith { .. }
            | ExprKind::TimePart { .. } => self.time_value(e),
            ExprKind::Len(x) => {
                let text = self.span_text(&span);
                self.len(x, span, text)
            }
            ExprKind::Segment(xs) => {
                let text = self.span_text(&span);
                self.segment(xs, span, text)
            }
            ExprKind::Lower(_) => self.lower_misplaced(span.clone()),
            ExprKind::Agg {
                kind,
                var,
                list,
                filter,
            } => self.explicit_agg(*kind, var, list, filter.as_deref(), span.clone()),
            ExprKind::MapAgg {
                kind,
                key,
                value,
                map,
                filter,
            } => self.map_agg(*kind, key, value, map, filter.as_deref(), span.clone()),
            _ => {
                let text = self.span_text(&span);
                let c = self.cond(e)?;
                Some(Val {
                    op: ValOp::Cond(c),
                    ty: VTy::Cond,
                    span,
                    text,
                })
            }
        }
    }

    fn path_value(&mut self, name: &Name) -> Option<Val> {
        let span = name.span.clone();
        let text = name.text.clone();
        match self.resolve(name)? {
            Resolved::Slot(id, SlotType::Scalar(s)) => {
                Some(self.scalar_slot_value(id, s, span, text))
            }
            Resolved::Slot(id, SlotType::List { elem, .. }) => {
                let _ = id;
                Some(Val {
                    op: ValOp::List,
                    ty: VTy::List(elem),
                    span,
                    text: text.clone(),
                })
            }
            Resolved::Slot(id, SlotType::Records { .. } | SlotType::Map { .. }) => {
                let _ = id;
                Some(Val {
                    op: ValOp::List,
                    ty: VTy::Records,
                    span,
                    text: text.clone(),
                })
            }
            Resolved::Field {
                level,
                list,
                field,
                ty,
                display,
            } => Some(Val {
                op: ValOp::Operand(Operand::Field { level, list, field }),
                ty: VTy::Scalar(ty.read_type()),
                span,
                text: display.into(),
            }),
            Resolved::NestedSeed {
                level,
                list,
                kind,
                written,
            } => self.nested_seed(level, list, kind, &written, span, text.clone()),
            Resolved::Nested {
                level, list, count, ..
            } if count && self.pending.as_ref().is_some_and(|(s, _)| *s == span) => {
                // `e.field.count where F`: the seed form with a filter.
                let written = text.strip_suffix(".count").unwrap_or(&text).to_owned();
                self.nested_seed(level, list, SeedKind::Count, &written, span, text.clone())
            }
            Resolved::Nested {
                level,
                list,
                ty,
                count,
                path,
                ..
            } => Some(if count {
                self.nested_list_read(list, level);
                let agg = Aggregate {
                    list,
                    level: self.level(),
                    filter: None,
                    within: Some(level),
                };
                Val {
                    op: ValOp::Operand(Operand::Count(Box::new(agg))),
                    ty: VTy::Scalar(Scalar::Int),
                    span,
                    text: text.clone(),
                }
            } else {
                let ty = match ty {
                    SlotType::List { elem, .. } => VTy::List(elem),
                    _ => VTy::Records,
                };
                Val {
                    op: ValOp::List,
                    ty,
                    span,
                    text: path.into(),
                }
            }),
            Resolved::Seed {
                list,
                kind,
                list_path,
            } => {
                self.list_read(list);
                let filter = match &self.pending {
                    Some((s, _)) if *s == span => self.pending.take().map(|(_, f)| f),
                    _ => None,
                };
                let elem_name = match self.slot_type(list) {
                    SlotType::Records { elem_name, .. } => elem_name.clone(),
                    _ => None,
                };
                let agg = match filter {
                    None => {
                        if kind != SeedKind::Count {
                            self.error(
                                span,
                                format!("expected `where` after `{text}`"),
                                Some(format!("write `{text} where <condition>`")),
                            );
                            return None;
                        }
                        Aggregate {
                            list,
                            level: self.level(),
                            filter: None,
                            within: None,
                        }
                    }
                    Some(f) => {
                        let Some(elem) = elem_name else {
                            self.error(
                                span,
                                format!("list `{list_path}` has no element name; declare one in the schema or use `count(x in {list_path} where ...)`"),
                                None,
                            );
                            return None;
                        };
                        let filter = self.filtered(list, &elem, &f, &span)?;
                        Aggregate {
                            list,
                            level: self.level(),
                            filter: Some(Box::new(filter)),
                            within: None,
                        }
                    }
                };
                let (op, ty) = match kind {
                    SeedKind::Count => (
                        ValOp::Operand(Operand::Count(Box::new(agg))),
                        VTy::Scalar(Scalar::Int),
                    ),
                    SeedKind::Any => (ValOp::Cond(hir::Expr::Any(agg)), VTy::Cond),
                    SeedKind::All => (ValOp::Cond(hir::Expr::All(agg)), VTy::Cond),
                };
                Some(Val {
                    op,
                    ty,
                    span,
                    text: text.clone(),
                })
            }
        }
    }

    /// Checks `filter` with `name` bound to the elements of `list`.
    pub(super) fn filtered(
        &mut self,
        list: hir::SlotId,
        name: &str,
        filter: &Expr,
        span: &ByteSpan,
    ) -> Option<hir::Expr> {
        let fields = match self.slot_type(list).clone() {
            SlotType::Records { fields, .. } | SlotType::Map { fields, .. } => fields,
            // The element of a list of scalars is read as its self field (path ""): the name
            // alone (`t` in `all(t in tags where ...)`).
            SlotType::List { elem, .. } => vec![hir::Field {
                path: String::new(),
                ty: elem,
            }],
            SlotType::Scalar(_) => {
                self.error(span.clone(), "`where` needs a list".to_owned(), None);
                return None;
            }
        };
        if self.scopes.len() >= usize::from(MAX_AGG_DEPTH) {
            self.error(
                span.clone(),
                format!("aggregates are nested more than {MAX_AGG_DEPTH} levels deep"),
                None,
            );
            return None;
        }
        let list_path = self.slot_path(list).to_owned();
        self.scopes.push(Scope {
            name: name.to_owned(),
            list,
            list_path,
            fields,
            alias: None,
        });
        let saved = self.pending.take();
        let r = self.cond(filter);
        self.pending = saved;
        self.scopes.pop();
        r
    }

    fn explicit_agg(
        &mut self,
        kind: AggKind,
        var: &Name,
        list: &Name,
        filter: Option<&Expr>,
        span: ByteSpan,
    ) -> Option<Val> {
        let text = self.span_text(&span);
        let (id, within) = match self.resolve(list)? {
            Resolved::Slot(
                id,
                SlotType::List { .. } | SlotType::Records { .. } | SlotType::Map { .. },
            ) => (id, None),
            Resolved::Nested {
                list: id,
                level,
                count: false,
                ..
            } => (id, Some(level)),
            Resolved::Slot(_, SlotType::Scalar(s)) => {
                let found = ty_word(&VTy::Scalar(s));
                // `__element`: the count of a list equality (`parser::expand_list_eq`).
                let help = (var.text == "__element").then(|| {
                    "`==` with a list compares two lists element by element; test membership \
                     with `x in list`"
                        .to_owned()
                });
                self.error(
                    list.span.clone(),
                    format!("mismatched types: expected list, found {found}"),
                    help,
                );
                return None;
            }
            _ => {
                self.error(
                    list.span.clone(),
                    "mismatched types: expected list, found int".to_owned(),
                    None,
                );
                return None;
            }
        };
        let filter = match filter {
            Some(f) => Some(Box::new(self.filtered(id, &var.text, f, &list.span)?)),
            None => None,
        };
        self.list_read(id);
        if let Some(level) = within {
            self.nested_list_read(id, level);
        }
        let agg = Aggregate {
            list: id,
            level: self.level(),
            filter,
            within,
        };
        Some(agg_val(kind, agg, span, text))
    }

    pub(super) fn level(&self) -> u8 {
        u8::try_from(self.scopes.len()).unwrap_or(u8::MAX)
    }

    /// Types `lhs op rhs`.
    fn compare(&mut self, op: CmpOp, mut l: Val, mut r: Val, span: &ByteSpan) -> Option<hir::Expr> {
        if [&l, &r].iter().any(|v| v.ty == VTy::Scalar(Scalar::Ip)) {
            return self.ip_compare(op, l, r);
        }
        self.unify(&mut l, &mut r)?;
        let kind = match &l.ty {
            VTy::Scalar(s) => s.kind(),
            other => {
                let w = ty_word(other);
                self.error(
                    span.clone(),
                    format!("comparison `{}` is not defined for {w}", op.symbol()),
                    None,
                );
                return None;
            }
        };
        let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        if ordered && matches!(kind, ValueKind::Str | ValueKind::Bool) {
            let help = (kind == ValueKind::Str).then(|| {
                "declare the attribute as an enum in the schema to compare by rank".to_owned()
            });
            let w = kind.as_str();
            self.error(
                span.clone(),
                format!("comparison `{}` is not defined for {w}", op.symbol()),
                help,
            );
            return None;
        }
        // The operands taken out of the values, not the values moved (issue #15: a `Val` is
        // ~170 bytes).
        let ValOp::Operand(lhs) = l.op else {
            return None;
        };
        let ValOp::Operand(rhs) = r.op else {
            return None;
        };
        Some(hir::Expr::Cmp {
            op,
            lhs,
            rhs,
            ty: kind,
        })
    }

    /// Makes both sides the same type, resolving string literals against enums (in place:
    /// issue #15, a `Val` is ~170 bytes to move).
    pub(super) fn unify(&mut self, l: &mut Val, r: &mut Val) -> Option<()> {
        for v in [&*l, &*r] {
            if v.ty == VTy::Cond {
                self.error(
                    v.span.clone(),
                    "expected a value, found a condition".to_owned(),
                    None,
                );
                return None;
            }
        }
        let l_lit = matches!(l.op, ValOp::Operand(Operand::Lit(_)));
        let r_lit = matches!(r.op, ValOp::Operand(Operand::Lit(_)));
        match (&l.ty, &r.ty) {
            (VTy::Scalar(Scalar::Enum(m)), VTy::Scalar(Scalar::Str)) if r_lit => {
                let m = m.clone();
                self.as_enum_in(r, &m, l.text_str())
            }
            (VTy::Scalar(Scalar::Str), VTy::Scalar(Scalar::Enum(m))) if l_lit => {
                let m = m.clone();
                self.as_enum_in(l, &m, r.text_str())
            }
            (a, b) if a == b => Some(()),
            (a, b) => {
                let (expected, found, at) = if l_lit && !r_lit {
                    (b, a, &l.span)
                } else {
                    (a, b, &r.span)
                };
                let (e, f) = (ty_word(expected), ty_word(found));
                let at = at.clone();
                // Issue #14: an int where a timestamp or duration is expected.
                let help = match (expected, found) {
                    (VTy::Scalar(Scalar::Time), VTy::Scalar(Scalar::Int)) => Some(
                        "write a timestamp literal such as `timestamp(\"2026-01-01T00:00:00Z\")`"
                            .to_owned(),
                    ),
                    (VTy::Scalar(Scalar::Duration), VTy::Scalar(Scalar::Int)) => Some(
                        "write a duration literal such as `30d`, `12h`, `90s` or `500ms`"
                            .to_owned(),
                    ),
                    _ => None,
                };
                self.error(
                    at,
                    format!("mismatched types: expected {e}, found {f}"),
                    help,
                );
                None
            }
        }
    }

    /// Resolves a string literal to a member of an enum.
    fn as_enum(&mut self, mut v: Val, members: &[String], path: &str) -> Option<Val> {
        self.as_enum_in(&mut v, members, path)?;
        Some(v)
    }

    /// [`Self::as_enum`] in place.
    fn as_enum_in(&mut self, v: &mut Val, members: &[String], path: &str) -> Option<()> {
        let lit = self.enum_literal(v.text_str(), &v.span, members, path)?;
        v.op = ValOp::Operand(Operand::Lit(lit));
        v.ty = VTy::Scalar(Scalar::Enum(members.to_vec()));
        Some(())
    }

    pub(super) fn enum_literal(
        &mut self,
        s: &str,
        span: &ByteSpan,
        members: &[String],
        path: &str,
    ) -> Option<Literal> {
        if let Some(rank) = members.iter().position(|m| m == s) {
            return Some(Literal::Enum {
                rank: u16::try_from(rank).unwrap_or(u16::MAX),
                name: s.to_owned(),
            });
        }
        self.not_a_member(s, span, members, path);
        None
    }

    fn not_a_member(&mut self, s: &str, span: &ByteSpan, members: &[String], path: &str) {
        let list: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
        self.error(
            span.clone(),
            format!("\"{s}\" is not a value of enum `{path}`"),
            Some(format!("expected one of {}", list.join(", "))),
        );
    }

    fn in_set(&mut self, lhs: &Expr, items: &[(Lit, ByteSpan)]) -> Option<hir::Expr> {
        let l = self.value(lhs)?;
        if l.ty == VTy::Scalar(Scalar::Ip) {
            return self.in_ip_set(l, items);
        }
        let VTy::Scalar(ty) = l.ty.clone() else {
            let w = ty_word(&l.ty);
            self.error(
                l.span.clone(),
                format!("`in [...]` is not defined for {w}"),
                None,
            );
            return None;
        };
        // Hash lookups keep this linear in the list and the enum.
        let ranks: HashMap<&str, usize> = match &ty {
            Scalar::Enum(m) => m.iter().enumerate().map(|(i, m)| (m.as_str(), i)).collect(),
            _ => HashMap::new(),
        };
        let mut seen: HashSet<Literal> = HashSet::with_capacity(items.len());
        let mut set: Vec<Literal> = Vec::new();
        let mut ok = true;
        for (lit, span) in items {
            let checked = match (&ty, lit) {
                (Scalar::Str, Lit::Str(s)) => Some(Literal::Str(s.clone())),
                (Scalar::Int, Lit::Int(n)) => Some(Literal::Int(*n)),
                (Scalar::Bool, Lit::Bool(b)) => Some(Literal::Bool(*b)),
                (Scalar::Enum(m), Lit::Str(s)) => match ranks.get(s.as_str()) {
                    Some(&rank) => Some(Literal::Enum {
                        rank: u16::try_from(rank).unwrap_or(u16::MAX),
                        name: s.as_str().to_owned(),
                    }),
                    None => {
                        self.not_a_member(s, span, m, l.text_str());
                        None
                    }
                },
                (_, lit) => {
                    let found = match lit {
                        Lit::Str(_) => "string",
                        Lit::Int(_) => "int",
                        Lit::Bool(_) => "bool",
                    };
                    let expected = ty_word(&l.ty);
                    self.error(
                        span.clone(),
                        format!("mismatched types: expected {expected}, found {found}"),
                        None,
                    );
                    None
                }
            };
            match checked {
                Some(c) => {
                    if seen.insert(c.clone()) {
                        set.push(c);
                    }
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        Some(hir::Expr::InSet {
            lhs: l.operand()?,
            set,
        })
    }

    fn in_path(&mut self, lhs: &Expr, list: &Name) -> Option<hir::Expr> {
        let l = self.value(lhs);
        let resolved = self.resolve(list);
        let (l, resolved) = (l?, resolved?);
        let (id, elem, within) = match resolved {
            Resolved::Slot(id, SlotType::List { elem, .. }) => (id, elem, None),
            Resolved::Slot(id, SlotType::Map { .. }) => return self.map_key_in(l, id, list),
            Resolved::Nested {
                list: id,
                level,
                ty: SlotType::List { elem, .. },
                count: false,
                ..
            } => (id, elem, Some(level)),
            Resolved::Nested { count: false, .. } => {
                self.error(
                    list.span.clone(),
                    "mismatched types: expected list, found list of records".to_owned(),
                    None,
                );
                return None;
            }
            Resolved::Slot(_, SlotType::Records { .. }) => {
                self.error(
                    list.span.clone(),
                    "mismatched types: expected list, found list of records".to_owned(),
                    None,
                );
                return None;
            }
            Resolved::Slot(_, SlotType::Scalar(s)) | Resolved::Field { ty: s, .. } => {
                let found = ty_word(&VTy::Scalar(s));
                self.error(
                    list.span.clone(),
                    format!("mismatched types: expected list, found {found}"),
                    None,
                );
                return None;
            }
            Resolved::Seed { .. } | Resolved::Nested { .. } | Resolved::NestedSeed { .. } => {
                self.error(
                    list.span.clone(),
                    "mismatched types: expected list, found int".to_owned(),
                    None,
                );
                return None;
            }
        };
        if elem == Scalar::Ip && l.ty == VTy::Scalar(Scalar::Ip) {
            // `src in allowed_ips`: `any` element equal to `src` (check/ip.rs).
            return self.in_ip_list(lhs, list);
        }
        self.list_read(id);
        if let Some(level) = within {
            self.nested_list_read(id, level);
        }
        let elem_ty = VTy::Scalar(elem.clone());
        let l = match (&l.ty, &elem) {
            (VTy::Scalar(Scalar::Str), Scalar::Enum(m))
                if matches!(l.op, ValOp::Operand(Operand::Lit(_))) =>
            {
                let m = m.clone();
                self.as_enum(l, &m, &list.text)?
            }
            (t, _) if *t == elem_ty => l,
            (t, _) => {
                let (e, f) = (ty_word(t), ty_word(&elem_ty));
                self.error(
                    list.span.clone(),
                    format!("mismatched types: expected list of {e}, found list of {f}"),
                    None,
                );
                return None;
            }
        };
        Some(match within {
            None => hir::Expr::InList {
                lhs: l.operand()?,
                list: id,
            },
            Some(level) => hir::Expr::InNested {
                lhs: l.operand()?,
                list: id,
                level,
            },
        })
    }
}

impl Val {
    /// The operand's text: [`Val::text`], or a string literal's value.
    pub(super) fn text_str(&self) -> &str {
        match &self.op {
            ValOp::Operand(Operand::Lit(Literal::Str(s))) if self.text.is_empty() => s,
            ValOp::Operand(Operand::Lit(Literal::Enum { name: s, .. })) if self.text.is_empty() => {
                s
            }
            _ => &self.text,
        }
    }

    /// [`Val::text_str`], owned.
    pub(super) fn into_text(self) -> String {
        match self.op {
            ValOp::Operand(Operand::Lit(Literal::Str(s))) if self.text.is_empty() => s.into(),
            ValOp::Operand(Operand::Lit(Literal::Enum { name: s, .. })) if self.text.is_empty() => {
                s
            }
            _ => self.text.into(),
        }
    }

    pub(super) fn operand(self) -> Option<Operand> {
        match self.op {
            ValOp::Operand(o) => Some(o),
            ValOp::Cond(_) | ValOp::List => None,
        }
    }
}
