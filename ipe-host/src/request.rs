//! Building evaluation contexts from JSON requests.

use bumpalo::Bump;
use ipe_nostd::bundle::SlotId;
use ipe_nostd::format::kind;
use ipe_nostd::{Bundle, Context, ErrKind, JsonKind, Value, ValueKind};
use serde_json::Value as Json;

fn json_kind(v: &Json) -> JsonKind {
    match v {
        Json::String(_) => JsonKind::Str,
        Json::Number(n) if n.is_i64() => JsonKind::Int,
        Json::Number(_) => JsonKind::Float,
        Json::Bool(_) => JsonKind::Bool,
        Json::Array(_) => JsonKind::List,
        Json::Object(_) => JsonKind::Object,
        Json::Null => JsonKind::Null,
    }
}

/// Follows a dotted path through nested objects; `None` when a step is absent or `null`.
pub fn lookup<'j>(root: &'j Json, path: &str) -> Option<&'j Json> {
    let mut v = root;
    for seg in path.split('.') {
        v = v.as_object()?.get(seg)?;
    }
    (!v.is_null()).then_some(v)
}

fn value_kind(k: ValueKind) -> u8 {
    match k {
        ValueKind::Str => kind::STR,
        ValueKind::Int => kind::INT,
        ValueKind::Bool => kind::BOOL,
        ValueKind::Enum => kind::ENUM,
        ValueKind::List => kind::LIST,
    }
}

/// Converts one JSON scalar for a declared kind (strings for enums are resolved when read).
fn scalar<'j>(bundle: &Bundle<'_>, v: Option<&'j Json>, k: ValueKind) -> Value<'j> {
    let Some(v) = v else {
        return Value::Missing;
    };
    let wrong = || {
        Value::Invalid(ErrKind::WrongType {
            expected: k,
            got: json_kind(v),
        })
    };
    match (value_kind(k), v) {
        (kind::STR | kind::ENUM, Json::String(s)) => Value::Str(bundle.intern(s)),
        (kind::INT, Json::Number(n)) => n.as_i64().map_or_else(wrong, Value::Int),
        (kind::BOOL, Json::Bool(b)) => Value::Bool(*b),
        _ => wrong(),
    }
}

/// Fills `ctx` with the attributes of `request` that `bundle` reads, allocating list storage
/// in `arena` (reset it between requests to reuse its memory).
pub fn fill<'j, const N: usize>(
    bundle: &Bundle<'_>,
    request: &'j Json,
    arena: &'j Bump,
    ctx: &mut Context<'j, N>,
) {
    for s in 0..bundle.slot_count() {
        let Ok(slot) = SlotId::try_from(s) else {
            break;
        };
        ctx.set(slot, slot_value(bundle, slot, request, arena));
    }
}

/// The value of one slot in `request`.
pub fn slot_value<'j>(
    bundle: &Bundle<'_>,
    slot: SlotId,
    request: &'j Json,
    arena: &'j Bump,
) -> Value<'j> {
    let info = bundle.slot_info(slot);
    let found = lookup(request, info.path);
    if info.kind != ValueKind::List {
        return scalar(bundle, found, info.kind);
    }
    let Some(found) = found else {
        return Value::Missing;
    };
    let Json::Array(items) = found else {
        return Value::Invalid(ErrKind::WrongType {
            expected: ValueKind::List,
            got: json_kind(found),
        });
    };
    if items.len() > info.max_len as usize {
        return Value::Invalid(ErrKind::TooLong);
    }
    match info.elem {
        Some(elem) => {
            let vals = arena.alloc_slice_fill_iter(items.iter().map(|v| match v {
                Json::Null => Value::Missing,
                v => scalar(bundle, Some(v), elem),
            }));
            Value::List(vals)
        }
        None => {
            let mut vals = bumpalo::collections::Vec::with_capacity_in(
                items.len().saturating_mul(usize::from(info.fields)),
                arena,
            );
            for item in items {
                for f in 0..info.fields {
                    let fi = bundle.field_info(slot, f);
                    vals.push(if item.is_object() {
                        scalar(bundle, lookup(item, fi.path), fi.kind)
                    } else {
                        Value::Invalid(ErrKind::WrongType {
                            expected: fi.kind,
                            got: json_kind(item),
                        })
                    });
                }
            }
            Value::Records(vals.into_bump_slice())
        }
    }
}
