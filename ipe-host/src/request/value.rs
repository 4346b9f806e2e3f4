//! Reading a parsed `serde_json::Value` into slot values ([`fill`], [`slot_value`]), and the
//! JSON helpers every reader shares: numbers as ints, JSON kinds, dotted paths and a parser
//! that rejects repeated keys ([`parse_value`]).

use bumpalo::Bump;
use ipe_nostd::bundle::SlotId;
use ipe_nostd::{Bundle, Context, ErrKind, Value, ValueKind};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use super::{duplicate_key, request_error, wrong, Flag, Scalar};
use crate::error::{Error, RequestError};

/// The JSON number rule every reader shares (defined once, in `ipe-nostd`'s `report`).
pub use ipe_nostd::report::{float_int, json_int, json_kind};

/// Follows a path ([`ipe_nostd::path`]: dotted keys, `["..."]` for any other key) through
/// nested objects; `None` when a step is absent or `null`.
pub fn lookup<'j>(root: &'j Json, path: &str) -> Option<&'j Json> {
    let mut v = root;
    for seg in ipe_nostd::path::segments(path) {
        let obj = v.as_object()?;
        v = match seg.as_plain_str() {
            Some(key) => obj.get(key)?,
            None => {
                let mut key = String::new();
                // Writing to a `String` cannot fail.
                let _ = seg.write_key(&mut key);
                obj.get(&key)?
            }
        };
    }
    (!v.is_null()).then_some(v)
}

/// Converts one JSON value for a declared scalar kind by the rule the other readers share
/// ([`Scalar::read`]; `null` is missing, strings for enums are resolved when read).
fn scalar<'j>(bundle: &Bundle<'_>, v: Option<&'j Json>, k: ValueKind) -> Value<'j> {
    let s = match v {
        None | Some(Json::Null) => Scalar::Null,
        Some(Json::Bool(b)) => Scalar::Bool(*b),
        Some(Json::Number(n)) => json_int(n).map_or_else(
            || Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
            Scalar::Int,
        ),
        Some(Json::String(t)) => Scalar::Str(t),
        Some(v @ (Json::Array(_) | Json::Object(_))) => return wrong(k, json_kind(v)),
    };
    s.read(bundle, k)
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
    if bundle.is_nested_slot(slot) {
        // Read inside the elements of the list that holds it.
        return Value::Missing;
    }
    if let Some(list) = ipe_nostd::positional::list_of(bundle, slot) {
        // A positional access (`xs[2]`, session 7): the element of its list.
        let path = bundle.slot_info(slot).path;
        if let Some(p) = ipe_nostd::positional::positional(path) {
            let v = slot_value(bundle, list, request, arena);
            return ipe_nostd::positional::element(bundle, list, p, v);
        }
    }
    let found = lookup(request, bundle.slot_info(slot).path);
    found_value(bundle, slot, found, arena)
}

/// The value `found` (absent: `None`) read as slot `slot` declares; a nested list field of a
/// list of records is read the same way with its own slot's declaration (issue #13).
fn found_value<'j>(
    bundle: &Bundle<'_>,
    slot: SlotId,
    found: Option<&'j Json>,
    arena: &'j Bump,
) -> Value<'j> {
    let info = bundle.slot_info(slot);
    if info.kind != ValueKind::List {
        return scalar(bundle, found, info.kind);
    }
    let Some(found) = found else {
        return Value::Missing;
    };
    if bundle.is_map(slot) {
        return map_value(bundle, slot, found, arena);
    }
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
            // A null element reads as missing, as in the other readers.
            let vals =
                arena.alloc_slice_fill_iter(items.iter().map(|v| scalar(bundle, Some(v), elem)));
            Value::List(vals)
        }
        None => {
            let mut vals = bumpalo::collections::Vec::with_capacity_in(
                items.len().saturating_mul(usize::from(info.fields)),
                arena,
            );
            // Positions on an element's list field (`c.args[0]`, session 9), derived per element.
            let positions = ipe_nostd::positional::has_field_positions(bundle, slot);
            for item in items {
                let start = vals.len();
                if info.fields == 0 {
                    // One unread placeholder per element: the stride is at least 1.
                    vals.push(Value::Missing);
                }
                for f in 0..info.fields {
                    let fi = bundle.field_info(slot, f);
                    vals.push(if item.is_object() {
                        match bundle.nested_slot(slot, f) {
                            Some(n) => found_value(bundle, n, lookup(item, fi.path), arena),
                            None => scalar(bundle, lookup(item, fi.path), fi.kind),
                        }
                    } else {
                        Value::Invalid(ErrKind::NotRecord {
                            got: json_kind(item),
                        })
                    });
                }
                if positions {
                    if let Some(elem) = vals.get_mut(start..) {
                        ipe_nostd::positional::derive_element(bundle, slot, elem);
                    }
                }
            }
            Value::Records(vals.into_bump_slice())
        }
    }
}

/// The value of map slot `slot` (issue 13): a JSON object read as (key, value) entries; a
/// `null` value is an absent key; more entries than `max` make it invalid, then a value of the
/// wrong type does (the smallest such error, naming the map).
fn map_value<'j>(bundle: &Bundle<'_>, slot: SlotId, found: &'j Json, arena: &'j Bump) -> Value<'j> {
    let Json::Object(m) = found else {
        return Value::Invalid(ErrKind::WrongType {
            expected: ValueKind::List,
            got: json_kind(found),
        });
    };
    let info = bundle.slot_info(slot);
    let value_kind = bundle.field_info(slot, 1).kind;
    let present = m.iter().filter(|(_, v)| !v.is_null());
    if present.clone().count() > info.max_len as usize {
        return Value::Invalid(ErrKind::TooLong);
    }
    if bundle.is_record_map(slot) {
        return record_map_value(bundle, slot, present, arena);
    }
    let mut vals = bumpalo::collections::Vec::with_capacity_in(m.len() * 2, arena);
    let mut worst: Option<ErrKind> = None;
    for (k, v) in present {
        let v = scalar(bundle, Some(v), value_kind);
        if let Some(e) = super::map_value_error(bundle, slot, v) {
            worst = Some(worst.map_or(e, |w| w.min(e)));
        }
        vals.push(Scalar::Str(k).read(bundle, ValueKind::Str));
        vals.push(v);
    }
    match worst {
        Some(e) => Value::Invalid(e),
        None => Value::Records(vals.into_bump_slice()),
    }
}

/// The entries of map-of-records slot `slot` (issue 13), at most `max` of them: the key, then
/// each value field read like a field of a list element (a value that is not an object makes
/// its fields unreadable; a bad field is an error of that field only, where it is read).
fn record_map_value<'j>(
    bundle: &Bundle<'_>,
    slot: SlotId,
    present: impl Iterator<Item = (&'j String, &'j Json)>,
    arena: &'j Bump,
) -> Value<'j> {
    let fields = bundle.slot_info(slot).fields;
    let mut vals = bumpalo::collections::Vec::new_in(arena);
    for (k, v) in present {
        vals.push(Scalar::Str(k).read(bundle, ValueKind::Str));
        for f in 1..fields {
            let fi = bundle.field_info(slot, f);
            // `value.port` inside the entry is `port` inside the value.
            let (_, inner) = ipe_nostd::path::split_first(fi.path);
            vals.push(if v.is_object() {
                scalar(bundle, lookup(v, inner), fi.kind)
            } else {
                Value::Invalid(ErrKind::NotRecord { got: json_kind(v) })
            });
        }
    }
    Value::Records(vals.into_bump_slice())
}

/// Parses a JSON request into a `serde_json::Value`, failing (like every other reader) on a
/// repeated object key anywhere in it, or when it is not an object.
///
/// `serde_json`'s own parser keeps the last of repeated keys; this one rejects them, so the
/// value path ([`fill`], the reference evaluator) sees the same requests as the one-pass
/// reader.
pub fn parse_value(text: &str) -> Result<Json, Error> {
    let flag = Flag::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Checked(&flag)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| request_error(&flag, e))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(RequestError::NotAnObject.into())
    }
}

/// Reads any JSON value as a `serde_json::Value` (a `DeserializeSeed`), failing on a repeated
/// object key: what [`parse_value`] uses, for callers streaming values themselves.
#[derive(Clone, Copy, Debug)]
pub struct CheckedValue;

impl<'de> DeserializeSeed<'de> for CheckedValue {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Checked(&Flag::default()).deserialize(d)
    }
}

/// [`CheckedValue`] with the flag of one parse (set when a repeated key stops it).
#[derive(Clone, Copy)]
struct Checked<'f>(&'f Flag);

impl<'de> DeserializeSeed<'de> for Checked<'_> {
    type Value = Json;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Checked<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::from(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            items.push(v);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = serde_json::Map::new();
        // The smallest repeated key, reported once the object ends (as the one-pass reader does).
        let mut repeated: Option<String> = None;
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(self)?;
            if out.contains_key(&k) {
                if repeated.as_ref().is_none_or(|r| k < *r) {
                    repeated = Some(k);
                }
            } else {
                out.insert(k, v);
            }
        }
        match repeated {
            Some(k) => Err(duplicate_key(self.0, &k)),
            None => Ok(Json::Object(out)),
        }
    }
}
