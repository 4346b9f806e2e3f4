//! Maps of records (issue 13): `map of [max N] { fields }`. A map slot (kind 6) whose entries
//! are records with the field `key` (field 0, the entry's key) and one field `value.<f>` per
//! field `f` of the declared record (sorted by path like every record's fields). Everything
//! else about maps (aggregates, `"k" in m`, `m.count`) is the scalar maps' code; this module
//! adds the schema type, the value's fields through the aggregate's value name (`v.port`), and
//! a fixed key's field (`m["k"].port`, an attribute of its own).

use super::{Ctx, Resolved};
use crate::ast::{self, Name, TypeExpr};
use crate::diag::Problem;
use crate::hir::{self, Field, Scalar, SlotType};
use ipe_nostd::path;

/// The path of an entry's value in a map's entry record.
pub(super) const VALUE: &str = "value";

/// Whether the entry fields `fields` of a map are those of a map of records (field 1 is not
/// the scalar value `value`).
pub(super) fn is_record_map(fields: &[Field]) -> bool {
    fields.get(1).is_some_and(|f| f.path != VALUE)
}

/// The slot type of `path: map of [max N] { fields }` (`inner` the records type of a value).
pub(super) fn slot_type(
    path: &ast::Name,
    inner: &TypeExpr,
    file: usize,
    problems: &mut Vec<Problem>,
) -> SlotType {
    if let TypeExpr::Records { fields, lists, .. } = inner {
        if let Some((name, _)) = lists.first() {
            problems.push(Problem {
                file,
                span: name.span.clone(),
                message: format!(
                    "the values of map `{}` cannot hold a list (`{}`)",
                    path.text, name.text
                ),
                help: Some(
                    "a map's record holds scalar fields; declare the list as a map of its own or a list of records"
                        .to_owned(),
                ),
            });
        }
        if fields.is_empty() && lists.is_empty() {
            problems.push(Problem {
                file,
                span: path.span.clone(),
                message: format!("the values of map `{}` have no fields", path.text),
                help: Some("declare at least one field, e.g. `map of { name: string }`".to_owned()),
            });
        }
    }
    let (fields, max_len) = match super::schema::slot_type(path, inner, file, problems) {
        SlotType::Records {
            fields, max_len, ..
        } => (fields, max_len),
        _ => (Vec::new(), super::schema::DEFAULT_MAX_LEN),
    };
    let mut out = vec![Field {
        path: "key".to_owned(),
        ty: Scalar::Str,
    }];
    // Only scalar fields: a declared list was reported above (its placeholder field is dropped).
    out.extend(fields.into_iter().filter_map(|f| {
        let TypeExpr::Records { lists, .. } = inner else {
            return None;
        };
        if lists.iter().any(|(n, _)| n.text == f.path) {
            return None;
        }
        Some(Field {
            path: hir::joined(VALUE, &f.path),
            ty: f.ty,
        })
    }));
    // `key` sorts before every `value...` path, so the key stays field 0.
    out.sort_by(|a, b| a.path.cmp(&b.path));
    SlotType::Map {
        fields: out,
        max_len,
    }
}

impl Ctx<'_> {
    /// Whether `e` names a declared map (for messages: `m ?? d` is an error about a map).
    pub(super) fn is_map_path(&self, e: &ast::Expr) -> bool {
        let mut e = e;
        while let ast::ExprKind::Paren(inner) = &e.kind {
            e = inner;
        }
        matches!(&e.kind, ast::ExprKind::Path(n) if matches!(self.schema.get(n.text.as_str()), Some(SlotType::Map { .. })))
    }

    /// A field of a fixed key of a declared map of records (`m["k"].port`, `m.k.port`): an
    /// attribute of that field's type at that path. `m["k"]` alone is a record: an error.
    pub(super) fn map_record_key(&mut self, name: &Name) -> Option<Resolved> {
        for prefix in path::prefixes(&name.text) {
            let Some(SlotType::Map { fields, .. }) = self.schema.get(prefix) else {
                continue;
            };
            if !is_record_map(fields) {
                return None;
            }
            let fields = fields.clone();
            let after = name.text.get(prefix.len()..).unwrap_or("");
            let mut segs = path::segments(after.strip_prefix('.').unwrap_or(after));
            // A map's `count`, `any` and `all` written without quotes are its seed forms.
            if let Some(path::Segment::Plain("count" | "any" | "all")) = segs.clone().next() {
                if !after.starts_with("[\"") {
                    return None;
                }
            }
            let _key = segs.next()?;
            let rest = segs.rest();
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            if rest.is_empty() {
                self.error(
                    name.span.clone(),
                    format!("`{}` is a record, not a value", name.text),
                    Some(format!(
                        "the values of map `{prefix}` are records: name one of their fields, e.g. `{}`",
                        hir::joined(&name.text, field_name(&fields).unwrap_or("field"))
                    )),
                );
                return None;
            }
            let want = hir::joined(VALUE, rest);
            let Some(f) = fields.iter().find(|f| f.path == want) else {
                // The path up to and with the key (`m["k"]`), then each field of the record.
                let head = name
                    .text
                    .get(..name.text.len() - rest.len())
                    .unwrap_or("")
                    .trim_end_matches('.');
                let candidates = fields
                    .iter()
                    .filter_map(|f| Some(hir::joined(head, value_rest(&f.path)?)))
                    .collect();
                self.unknown(name, candidates);
                return None;
            };
            let ty = SlotType::Scalar(f.ty.clone());
            let id = self.slot(&name.text, &ty);
            return Some(Resolved::Slot(id, ty));
        }
        None
    }

    /// `v` or `v.field` where `v` is the value name of an aggregate over a map of records
    /// (`fields` the map's entry fields): the field `value.field` of the entry.
    pub(super) fn map_record_value(
        &mut self,
        name: &Name,
        level: usize,
        fields: &[Field],
        rest: &str,
    ) -> Option<Resolved> {
        let scope = self.scopes.get(level)?;
        let (list, list_path) = (scope.list, scope.list_path.clone());
        if rest.is_empty() {
            self.error(
                name.span.clone(),
                format!("`{}` is a whole record", name.text),
                Some(format!(
                    "a map value here is a record: name one of its fields, e.g. `{}`",
                    hir::joined(&name.text, field_name(fields).unwrap_or("field"))
                )),
            );
            return None;
        }
        let want = hir::joined(VALUE, rest);
        let Some(i) = fields.iter().position(|f| f.path == want) else {
            let (first, _) = path::split_first(&name.text);
            let candidates = fields
                .iter()
                .filter_map(|f| Some(hir::joined(first, value_rest(&f.path)?)))
                .collect();
            self.unknown(name, candidates);
            return None;
        };
        let f = fields.get(i)?;
        Some(Resolved::Field {
            level: u8::try_from(level).unwrap_or(u8::MAX),
            list,
            field: u16::try_from(i).unwrap_or(u16::MAX),
            ty: f.ty.clone(),
            display: hir::joined(&format!("{list_path}[]"), &f.path),
        })
    }
}

/// The field path of a value field inside the record (`value.port` is `port`, `value["a.b"]`
/// is `["a.b"]`); `None` for the key.
fn value_rest(path: &str) -> Option<&str> {
    let r = path.strip_prefix(VALUE)?;
    if r.is_empty() {
        return None;
    }
    Some(r.strip_prefix('.').unwrap_or(r))
}

/// The first value field's path inside the record, for help texts.
fn field_name(fields: &[Field]) -> Option<&str> {
    fields.iter().find_map(|f| value_rest(&f.path))
}

impl Ctx<'_> {
    /// A reason placeholder naming a fixed key of a declared map (`{m["team"]}`,
    /// `{m["k"].port}`): `Some(part)` when the path is inside a map (`Some(None)` after
    /// reporting a problem), `None` when it is not.
    pub(super) fn map_key_placeholder(&mut self, name: &Name) -> Option<Option<hir::ReasonPart>> {
        let inside_map = path::prefixes(&name.text)
            .any(|p| matches!(self.schema.get(p), Some(SlotType::Map { .. })));
        if !inside_map {
            return None;
        }
        let r = match self.map_key(name) {
            Some(r) => Some(r),
            None => self.map_record_key(name),
        };
        Some(match r {
            Some(Resolved::Slot(id, SlotType::Scalar(_))) => Some(hir::ReasonPart::Slot(id)),
            Some(_) => None,
            None => {
                if !self.problems.iter().any(|p| p.span == name.span) {
                    self.unknown(name, Vec::new());
                }
                None
            }
        })
    }
}
