//! Maps (issue 13): `map of <scalar>` attributes, read as a list of entries whose fields are
//! `key` (field 0) and `value` (field 1). Everything here lowers to existing constructs:
//! `"k" in m` is `any` over the entries with `key == "k"`, `count/any/all(k, v in m ...)` are
//! aggregates over the entries, and a fixed key `m["k"]` is an attribute of its own (read
//! like a declared `m["k"]: T`).

use super::expr::{VTy, Val};
use super::{Ctx, Resolved, Scope, MAX_AGG_DEPTH};
use crate::ast::{AggKind, ByteSpan, Expr, Name};
use crate::hir::{self, Aggregate, CmpOp, Operand, Scalar, SlotId, SlotType};
use ipe_nostd::path::{self, Segment};

/// The entry field that an alias of a map aggregate names in `scope` (0 the key, 1 the value).
pub(super) fn alias_of(scope: &Scope, first: &str) -> Option<u16> {
    let (k, v) = scope.alias.as_ref()?;
    if k == first {
        Some(0)
    } else if v == first {
        Some(1)
    } else {
        None
    }
}

impl Ctx<'_> {
    /// A fixed key of a declared map (`m["k"]`, or `m.k` unless `k` is `count`, `any` or
    /// `all` written without quotes): an attribute of the map's value type at that path.
    pub(super) fn map_key(&mut self, name: &Name) -> Option<Resolved> {
        let (prefix, last) = path::split_last(&name.text)?;
        let Some(SlotType::Map { fields, .. }) = self.schema.get(prefix) else {
            return None;
        };
        if super::map_records::is_record_map(fields) {
            // `m["k"]` of a map of records is a record (`check::map_records`).
            return None;
        }
        let quoted = self
            .src
            .get(name.span.clone())
            .is_some_and(|s| s.ends_with(']'));
        if let Segment::Plain("count" | "any" | "all") = last {
            if !quoted {
                return None;
            }
        }
        let ty = SlotType::Scalar(fields.get(1)?.ty.clone());
        let id = self.slot(&name.text, &ty);
        Some(Resolved::Slot(id, ty))
    }

    /// The key or value bound by an enclosing map aggregate (`k`, `v` in `any(k, v in m ...)`).
    pub(super) fn map_alias(&mut self, name: &Name, level: usize, field: u16) -> Option<Resolved> {
        let (_, rest) = path::split_first(&name.text);
        let scope = self.scopes.get(level)?;
        if field == 1 && super::map_records::is_record_map(&scope.fields) {
            let fields = scope.fields.clone();
            return self.map_record_value(name, level, &fields, rest);
        }
        let f = scope.fields.get(usize::from(field))?.clone();
        let display = hir::joined(&format!("{}[]", scope.list_path), &f.path);
        let list = scope.list;
        if !rest.is_empty() {
            let what = if field == 0 { "key" } else { "value" };
            self.error(
                name.span.clone(),
                format!("unknown attribute `{}`", name.text),
                Some(format!(
                    "a map {what} is a {}, it has no attributes inside it",
                    f.ty.kind().as_str()
                )),
            );
            return None;
        }
        Some(Resolved::Field {
            level: u8::try_from(level).unwrap_or(u8::MAX),
            list,
            field,
            ty: f.ty,
            display,
        })
    }

    /// `"k" in m` on a map: whether the key is present (an `any` over the entries).
    pub(super) fn map_key_in(&mut self, l: Val, id: SlotId, map: &Name) -> Option<hir::Expr> {
        if l.ty != VTy::Scalar(Scalar::Str) {
            let found = super::ty_word(&l.ty);
            self.error(
                l.span.clone(),
                format!("mismatched types: expected string, found {found}"),
                Some(format!("the keys of map `{}` are strings", map.text)),
            );
            return None;
        }
        if !self.agg_room(&map.span) {
            return None;
        }
        // With the schema default `= {}`, a missing map reads as empty.
        self.list_read(id);
        let level = self.level();
        let key = Operand::Field {
            level,
            list: id,
            field: 0,
        };
        Some(hir::Expr::Any(Aggregate {
            list: id,
            level,
            within: None,
            filter: Some(Box::new(hir::Expr::Cmp {
                op: CmpOp::Eq,
                lhs: key,
                rhs: l.operand()?,
                ty: ipe_nostd::ValueKind::Str,
            })),
        }))
    }

    /// Whether one more aggregate level fits (reports it when not).
    fn agg_room(&mut self, span: &ByteSpan) -> bool {
        if self.scopes.len() >= usize::from(MAX_AGG_DEPTH) {
            self.error(
                span.clone(),
                format!("aggregates are nested more than {MAX_AGG_DEPTH} levels deep"),
                None,
            );
            return false;
        }
        true
    }

    /// `count(k, v in m [where F])`, `any(...)`, `all(...)`.
    pub(super) fn map_agg(
        &mut self,
        kind: AggKind,
        key: &Name,
        value: &Name,
        map: &Name,
        filter: Option<&Expr>,
        span: ByteSpan,
    ) -> Option<Val> {
        let text = crate::ast::Text::new(self.src.get(span.clone()).unwrap_or(""));
        let (id, fields) = match self.resolve(map)? {
            Resolved::Slot(id, SlotType::Map { fields, .. }) => (id, fields),
            Resolved::Slot(_, t) => {
                let found = match t {
                    SlotType::Scalar(s) => s.kind().as_str(),
                    SlotType::List { .. } => "list",
                    _ => "list of records",
                };
                self.error(
                    map.span.clone(),
                    format!("mismatched types: expected map, found {found}"),
                    Some("`k, v in ...` iterates a map; iterate a list with one name".to_owned()),
                );
                return None;
            }
            _ => {
                self.error(
                    map.span.clone(),
                    "mismatched types: expected map".to_owned(),
                    None,
                );
                return None;
            }
        };
        if key.text == value.text {
            self.error(
                value.span.clone(),
                format!("`{}` names both the key and the value", value.text),
                Some("give the key and the value different names".to_owned()),
            );
            return None;
        }
        let filter = match filter {
            Some(f) => {
                if !self.agg_room(&map.span) {
                    return None;
                }
                let list_path = self.slot_path(id).to_owned();
                self.scopes.push(Scope {
                    // No path starts with a NUL: only the aliases name this scope.
                    name: "\0".to_owned(),
                    list: id,
                    list_path,
                    fields,
                    alias: Some((key.text.as_str().to_owned(), value.text.as_str().to_owned())),
                });
                let saved = self.pending.take();
                let r = self.cond(f);
                self.pending = saved;
                self.scopes.pop();
                Some(Box::new(r?))
            }
            None => None,
        };
        self.list_read(id);
        let agg = Aggregate {
            list: id,
            level: self.level(),
            within: None,
            filter,
        };
        Some(super::expr::agg_val(kind, agg, span, text))
    }
}
