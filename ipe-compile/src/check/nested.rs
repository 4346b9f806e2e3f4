//! Nested lists (issue #13): a list field of list-of-records elements. Each nested list is a
//! slot of its own whose path is `list[].field` (`containers[].ports`), declared by the
//! schema next to its parent and never read from the request root: its value is the field
//! of the element an enclosing aggregate binds. Its parent's element has a field of that
//! name (the list itself) so field numbering, `has` and the bundle's field records cover it.

use std::collections::BTreeMap;

use super::{Ctx, Resolved};
use crate::ast::{self, TypeExpr};
use crate::diag::Problem;
use crate::hir::{SlotId, SlotType};

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
            text: text.clone(),
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
}
