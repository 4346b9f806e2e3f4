//! Nested lists (issue #13): a list field of list-of-records elements. Each nested list is a
//! slot of its own whose path is `list[].field` (`containers[].ports`), declared by the
//! schema next to its parent and never read from the request root: its value is the field
//! of the element an enclosing aggregate binds. Its parent's element has a field of that
//! name (the list itself) so field numbering, `has` and the bundle's field records cover it.

use std::collections::BTreeMap;

use super::expr::{VTy, Val, ValOp};
use super::{Ctx, Resolved, SeedKind};
use crate::ast::{self, ByteSpan, TypeExpr};
use crate::diag::Problem;
use crate::hir::{self, Aggregate, Operand, Scalar, SlotId, SlotType};

/// `field` and the seed kind of `field.count`, `field.any` or `field.all`.
fn seed_suffix(key: &str) -> Option<(&str, SeedKind)> {
    [
        (".count", SeedKind::Count),
        (".any", SeedKind::Any),
        (".all", SeedKind::All),
    ]
    .into_iter()
    .find_map(|(suffix, kind)| key.strip_suffix(suffix).map(|k| (k, kind)))
}

/// The slot path of nested list `field` of the elements of list `list`.
pub(super) fn nested_path(list: &str, field: &str) -> String {
    format!("{list}[].{field}")
}

/// Declares the nested lists of `ty` (at `path`) in `out`, recursively.
pub(super) fn declare(
    path: &str,
    ty: &TypeExpr,
    file: usize,
    problems: &mut Vec<Problem>,
    out: &mut BTreeMap<String, SlotType>,
    slot_type: fn(&ast::Name, &TypeExpr, usize, &mut Vec<Problem>) -> SlotType,
) {
    let TypeExpr::Records { lists, .. } = ty else {
        return;
    };
    for (name, t) in lists {
        let text = nested_path(path, &name.text);
        if out.contains_key(&text) {
            // Declared twice: reported with the parent's fields.
            continue;
        }
        let n = ast::Name {
            text: text.clone().into(),
            span: name.span.clone(),
        };
        let st = slot_type(&n, t, file, problems);
        out.insert(text.clone(), st);
        declare(&text, t, file, problems, out, slot_type);
    }
}

impl Ctx<'_> {
    /// The nested lists of records slot `path` (type `ty`), added as slots with it.
    pub(super) fn add_nested_slots(&mut self, path: &str, ty: &SlotType) {
        let SlotType::Records { fields, .. } = ty else {
            return;
        };
        for f in fields {
            let np = nested_path(path, &f.path);
            if let Some(nt) = self.schema.get(&np) {
                let nt = nt.clone();
                self.slot(&np, &nt);
            }
        }
    }

    /// `e.field` or `e.field.count` where `e` is bound at `level` to an element of `list`
    /// (path `list_path`) and `field` is a nested list.
    pub(super) fn resolve_nested(
        &mut self,
        level: usize,
        list: SlotId,
        list_path: &str,
        key: &str,
    ) -> Option<Resolved> {
        if let Some((k, kind)) = seed_suffix(key) {
            // `e.field.any` / `e.field.all`: a seed form over the nested list (issue #13).
            if kind != SeedKind::Count && self.schema.contains_key(&nested_path(list_path, k)) {
                let Some(Resolved::Nested {
                    level, list, path, ..
                }) = self.resolve_nested(level, list, list_path, k)
                else {
                    return None;
                };
                let written = match self.scopes.get(usize::from(level)) {
                    Some(s) => hir::joined(&s.name, k),
                    None => path,
                };
                return Some(Resolved::NestedSeed {
                    level,
                    list,
                    kind,
                    written,
                });
            }
        }
        let (field_path, count) = match self.schema.get(&nested_path(list_path, key)) {
            Some(_) => (key, false),
            None => match key.strip_suffix(".count") {
                Some(k) if self.schema.contains_key(&nested_path(list_path, k)) => (k, true),
                _ => return None,
            },
        };
        let np = nested_path(list_path, field_path);
        let ty = self.schema.get(&np)?.clone();
        if !matches!(ty, SlotType::List { .. } | SlotType::Records { .. }) {
            return None;
        }
        let field = self
            .scopes
            .get(level)?
            .fields
            .iter()
            .position(|f| f.path == field_path)?;
        let id = self.slot(&np, &ty);
        Some(Resolved::Nested {
            level: u8::try_from(level).unwrap_or(u8::MAX),
            parent: list,
            field: u16::try_from(field).unwrap_or(u16::MAX),
            list: id,
            ty,
            count,
            path: np,
        })
    }

    /// Whether `name` is a seed form over a nested list of an element in scope
    /// (`c.ports.any`, `c.ports.all`, `c.ports.count`), which a `where` may filter.
    pub(super) fn is_nested_seed(&self, name: &ast::Name) -> bool {
        let (first, rest) = ipe_nostd::path::split_first(&name.text);
        let Some(scope) = self.scopes.iter().rev().find(|s| s.name == first) else {
            return false;
        };
        seed_suffix(rest)
            .is_some_and(|(k, _)| self.schema.contains_key(&nested_path(&scope.list_path, k)))
    }

    /// The seed form `kind` over the nested list `list` held by the element bound at `level`
    /// (written `written`, e.g. `c.ports`), with the pending `where` filter, which names the
    /// nested list's element by its declared name: the aggregate `count/any/all(p in
    /// c.ports where F)` would be.
    pub(super) fn nested_seed(
        &mut self,
        level: u8,
        list: SlotId,
        kind: SeedKind,
        written: &str,
        span: ByteSpan,
        text: crate::ast::Text,
    ) -> Option<Val> {
        let filter = match &self.pending {
            Some((s, _)) if *s == span => self.pending.take().map(|(_, f)| f),
            _ => None,
        };
        let Some(f) = filter else {
            // Only `.any` and `.all` get here without a filter.
            self.error(
                span,
                format!("expected `where` after `{text}`"),
                Some(format!("write `{text} where <condition>`")),
            );
            return None;
        };
        let elem = match self.slot_type(list) {
            SlotType::Records {
                elem_name: Some(e), ..
            } => e.clone(),
            _ => {
                let path = self.slot_path(list).to_owned();
                self.error(
                    span,
                    format!(
                        "list `{path}` has no element name; declare one in the schema or use \
                         `count(x in {written} where ...)`"
                    ),
                    None,
                );
                return None;
            }
        };
        self.list_read(list);
        self.nested_list_read(list, level);
        let filter = self.filtered(list, &elem, &f, &span)?;
        let agg = Aggregate {
            list,
            level: self.level(),
            filter: Some(Box::new(filter)),
            within: Some(level),
        };
        let (op, ty) = match kind {
            SeedKind::Count => (
                ValOp::Operand(Operand::Count(Box::new(agg))),
                VTy::Scalar(Scalar::Int),
            ),
            SeedKind::Any => (ValOp::Cond(hir::Expr::Any(agg)), VTy::Cond),
            SeedKind::All => (ValOp::Cond(hir::Expr::All(agg)), VTy::Cond),
        };
        Some(Val { op, ty, span, text })
    }
}
