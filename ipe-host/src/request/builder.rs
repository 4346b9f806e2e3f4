//! The typed request path: slot values from Rust values instead of JSON, with the same
//! wrong-type and repeated-attribute rules as the JSON readers. The builder bound to a policy
//! set is [`RequestBuilder`](crate::RequestBuilder); this module only needs the bundle.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use ipe_nostd::bundle::SlotId;
use ipe_nostd::{Bundle, ErrKind, JsonKind, Value, ValueKind};

use super::{wrong, Scalar};
use crate::error::RequestError;

/// A record field value for [`RequestBuilder::records`](crate::RequestBuilder::records).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Field<'r> {
    /// A string (or enum member name).
    Str(&'r str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A nested list field (issue #13): the list's value as [`Value::List`] of its elements,
    /// or [`Value::Records`] of its elements' fields flattened in the nested list's field
    /// order (see [`ipe_nostd::Bundle::nested_slot`]), allocated by the caller. It is checked
    /// against the nested list's declaration when read, as every list is.
    Nested(Value<'r>),
}

impl<'r> Field<'r> {
    /// The field's value read as a field of `kind` (a list kind for a nested list).
    fn read(self, bundle: &Bundle<'_>, kind: ValueKind) -> Value<'r> {
        let s = match self {
            Field::Str(s) => Scalar::Str(s),
            Field::Int(i) => Scalar::Int(i),
            Field::Bool(b) => Scalar::Bool(b),
            Field::Nested(v) if kind == ValueKind::List => return v,
            Field::Nested(_) => return wrong(kind, JsonKind::List),
        };
        match kind {
            ValueKind::List => wrong(ValueKind::List, s.kind()),
            k => s.read(bundle, k),
        }
    }
}

/// Slot values of one bundle being set from typed values, in a caller-owned arena; remembers
/// the first attribute (or record field) set twice.
pub(crate) struct TypedValues<'s, 'r> {
    bundle: &'s Bundle<'s>,
    arena: &'r Bump,
    values: &'r mut [Value<'r>],
    /// Which slots have been set.
    seen: &'r mut [bool],
    /// The first slot set twice.
    repeated: Option<SlotId>,
    /// The first record field set twice in one element: (list slot, field).
    repeated_field: Option<(SlotId, u16)>,
}

impl<'s, 'r> TypedValues<'s, 'r> {
    /// Every slot of `bundle` missing.
    pub(crate) fn new(bundle: &'s Bundle<'s>, arena: &'r Bump) -> Self {
        let n = bundle.slot_count();
        TypedValues {
            bundle,
            arena,
            values: arena.alloc_slice_fill_copy(n, Value::Missing),
            seen: arena.alloc_slice_fill_copy(n, false),
            repeated: None,
            repeated_field: None,
        }
    }

    /// Sets the scalar attribute at `path` (ignored when the bundle does not read it).
    pub(crate) fn scalar(&mut self, path: &str, j: Scalar<'r>) {
        let bundle = self.bundle;
        if let Some(slot) = bundle.slot(path) {
            let info = bundle.slot_info(slot);
            let v = match info.kind {
                ValueKind::List => wrong(ValueKind::List, j.kind()),
                k => j.read(bundle, k),
            };
            self.set_value(slot, v);
        }
    }

    /// Sets the list-of-strings (or list-of-enums) attribute at `path`.
    pub(crate) fn strs<I: IntoIterator<Item = &'r str>>(&mut self, path: &str, items: I) {
        let bundle = self.bundle;
        let Some(slot) = bundle.slot(path) else {
            return;
        };
        let info = bundle.slot_info(slot);
        let v = match (info.kind, info.elem) {
            (ValueKind::List, Some(elem)) => {
                let vals = BumpVec::from_iter_in(
                    items.into_iter().map(|s| Scalar::Str(s).read(bundle, elem)),
                    self.arena,
                );
                if vals.len() > info.max_len as usize {
                    Value::Invalid(ErrKind::TooLong)
                } else {
                    Value::List(vals.into_bump_slice())
                }
            }
            (k, _) => wrong(k, JsonKind::List),
        };
        self.set_value(slot, v);
    }

    /// Sets the list-of-records attribute at `path`: one iterator of `(field path, value)`
    /// per element.
    pub(crate) fn records<'k, I, R>(&mut self, path: &str, items: I)
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (&'k str, Field<'r>)>,
    {
        let bundle = self.bundle;
        let Some(slot) = bundle.slot(path) else {
            return;
        };
        let info = bundle.slot_info(slot);
        if info.kind != ValueKind::List || info.elem.is_some() || bundle.is_map(slot) {
            self.set_value(slot, wrong(info.kind, JsonKind::List));
            return;
        }
        // A record with no fields still takes one (unread) value: the stride is at least 1.
        let n = usize::from(info.fields).max(1);
        let mut vals = BumpVec::new_in(self.arena);
        let set_in_item = self.arena.alloc_slice_fill_copy(n, false);
        // Positions on an element's list field (`c.args[0]`, session 9), derived per element.
        let positions = ipe_nostd::positional::has_field_positions(bundle, slot);
        let mut count = 0usize;
        for item in items {
            let start = vals.len();
            vals.extend(std::iter::repeat_n(Value::Missing, n));
            set_in_item.fill(false);
            for (key, field) in item {
                if let Some(f) = bundle.field(slot, key) {
                    if let Some(seen) = set_in_item.get_mut(usize::from(f)) {
                        if *seen && self.repeated_field.is_none() {
                            self.repeated_field = Some((slot, f));
                        }
                        *seen = true;
                    }
                    let kind = bundle.field_info(slot, f).kind;
                    let mut x = field.read(bundle, kind);
                    if let Some(n) = bundle.nested_slot(slot, f) {
                        // Positions in a nested list's elements (`p.hosts[0]`, session 10).
                        x = derive_nested(bundle, self.arena, n, x);
                    }
                    if let Some(v) = vals.get_mut(start + usize::from(f)) {
                        *v = x;
                    }
                }
            }
            if positions {
                if let Some(elem) = vals.get_mut(start..) {
                    ipe_nostd::positional::derive_element(bundle, slot, elem);
                }
            }
            count += 1;
        }
        let v = if count > info.max_len as usize {
            Value::Invalid(ErrKind::TooLong)
        } else {
            Value::Records(vals.into_bump_slice())
        };
        self.set_value(slot, v);
    }

    /// Sets the map attribute at `path` from its (key, value) entries (issue 13), by the rule
    /// of the JSON readers: more than `max` entries make it invalid, then a value of the wrong
    /// kind does (the smallest such error); a key given twice makes the request malformed,
    /// like a repeated JSON key. A fixed key the bundle also reads as an attribute of its own
    /// (`m["k"]`) gets that entry's value.
    pub(crate) fn map<I: IntoIterator<Item = (&'r str, Field<'r>)>>(
        &mut self,
        path: &str,
        entries: I,
    ) {
        let bundle = self.bundle;
        let Some(slot) = bundle.slot(path) else {
            return;
        };
        if !bundle.is_map(slot) || bundle.is_record_map(slot) {
            // A map of records takes its entries through `map_records`.
            self.set_value(slot, wrong(bundle.slot_info(slot).kind, JsonKind::Object));
            return;
        }
        let info = bundle.slot_info(slot);
        let value = bundle.field_info(slot, 1).kind;
        let mut vals = BumpVec::new_in(self.arena);
        let mut keys = BumpVec::new_in(self.arena);
        let mut worst: Option<ErrKind> = None;
        let mut key_path = bumpalo::collections::String::new_in(self.arena);
        for (key, field) in entries {
            keys.push(key);
            let v = field.read(bundle, value);
            key_path.clear();
            key_path.push_str(path);
            // Writing to a `String` cannot fail.
            let _ = ipe_nostd::path::write_segment(&mut key_path, key, false);
            if let Some(fixed) = bundle.slot(&key_path) {
                self.set_value(fixed, v);
            }
            if let Some(e) = super::map_value_error(bundle, slot, v) {
                worst = Some(worst.map_or(e, |w| w.min(e)));
            }
            vals.push(Scalar::Str(key).read(bundle, ValueKind::Str));
            vals.push(v);
        }
        keys.sort_unstable();
        if keys.windows(2).any(|w| w.first() == w.last()) && self.repeated.is_none() {
            self.repeated = Some(slot);
        }
        let v = if keys.len() > info.max_len as usize {
            Value::Invalid(ErrKind::TooLong)
        } else if let Some(e) = worst {
            Value::Invalid(e)
        } else {
            Value::Records(vals.into_bump_slice())
        };
        self.set_value(slot, v);
    }

    /// Sets the map-of-records attribute at `path` (issue 13) from its entries, each a key and
    /// the value's `(field path, value)` pairs (field paths as in the record: `port`,
    /// `["a.b"]`), by the rule of the JSON readers: more than `max` entries make it invalid; a
    /// bad field is an error of that field only; a key given twice makes the request
    /// malformed, and so does a field given twice in one entry. A fixed key's field the
    /// bundle also reads as an attribute of its own (`m["k"].port`) gets that entry's field.
    pub(crate) fn map_records<'k, I, R>(&mut self, path: &str, entries: I)
    where
        I: IntoIterator<Item = (&'r str, R)>,
        R: IntoIterator<Item = (&'k str, Field<'r>)>,
    {
        let bundle = self.bundle;
        let Some(slot) = bundle.slot(path) else {
            return;
        };
        if !bundle.is_record_map(slot) {
            self.set_value(slot, wrong(bundle.slot_info(slot).kind, JsonKind::Object));
            return;
        }
        let info = bundle.slot_info(slot);
        let n = usize::from(info.fields).max(1);
        let mut vals = BumpVec::new_in(self.arena);
        let mut keys = BumpVec::new_in(self.arena);
        let set_in_item = self.arena.alloc_slice_fill_copy(n, false);
        let mut field_path = bumpalo::collections::String::new_in(self.arena);
        let mut fixed_path = bumpalo::collections::String::new_in(self.arena);
        for (key, fields) in entries {
            keys.push(key);
            let start = vals.len();
            vals.push(Scalar::Str(key).read(bundle, ValueKind::Str));
            vals.extend(std::iter::repeat_n(Value::Missing, n - 1));
            set_in_item.fill(false);
            for (name, field) in fields {
                field_path.clear();
                // Writing to a `String` cannot fail.
                let _ = ipe_nostd::path::write_joined(&mut field_path, "value", name);
                let Some(f) = bundle.field(slot, &field_path).filter(|&f| f > 0) else {
                    continue;
                };
                if let Some(seen) = set_in_item.get_mut(usize::from(f)) {
                    if *seen && self.repeated_field.is_none() {
                        self.repeated_field = Some((slot, f));
                    }
                    *seen = true;
                }
                let v = field.read(bundle, bundle.field_info(slot, f).kind);
                if let Some(out) = vals.get_mut(start + usize::from(f)) {
                    *out = v;
                }
                fixed_path.clear();
                fixed_path.push_str(path);
                let _ = ipe_nostd::path::write_segment(&mut fixed_path, key, false);
                let mut joined = bumpalo::collections::String::new_in(self.arena);
                let _ = ipe_nostd::path::write_joined(&mut joined, &fixed_path, name);
                if let Some(fixed) = bundle.slot(&joined) {
                    self.set_value(fixed, v);
                }
            }
        }
        keys.sort_unstable();
        if keys.windows(2).any(|w| w.first() == w.last()) && self.repeated.is_none() {
            self.repeated = Some(slot);
        }
        let v = if keys.len() > info.max_len as usize {
            Value::Invalid(ErrKind::TooLong)
        } else {
            Value::Records(vals.into_bump_slice())
        };
        self.set_value(slot, v);
    }

    /// Sets a slot to a raw value (no kind check).
    pub(crate) fn set_value(&mut self, slot: SlotId, value: Value<'r>) {
        if let Some(seen) = self.seen.get_mut(usize::from(slot)) {
            if *seen && self.repeated.is_none() {
                self.repeated = Some(slot);
            }
            *seen = true;
        }
        if let Some(v) = self.values.get_mut(usize::from(slot)) {
            *v = value;
        }
    }

    /// The slot values so far (positional slots derived from their lists).
    pub(crate) fn values(&self) -> &[Value<'r>] {
        self.derived()
    }

    /// The values with every positional slot (`xs[2]`, session 7) derived from its list: a
    /// copy in the arena when the bundle has such slots.
    fn derived(&self) -> &'r [Value<'r>] {
        let bundle = self.bundle;
        let positional: Vec<SlotId> = (0..bundle.slot_count())
            .filter_map(|s| SlotId::try_from(s).ok())
            .filter(|&s| ipe_nostd::positional::list_of(bundle, s).is_some())
            .collect();
        let out = self.arena.alloc_slice_copy(self.values);
        for s in positional {
            if let Some(v) = ipe_nostd::positional::value(bundle, s, out) {
                if let Some(o) = out.get_mut(usize::from(s)) {
                    *o = v;
                }
            }
        }
        out
    }

    /// The slot values, or the error naming the first attribute or record field set twice.
    pub(crate) fn finish(&self) -> Result<&[Value<'r>], RequestError> {
        let bundle = self.bundle;
        if let Some(slot) = self.repeated {
            let path = bundle.slot_info(slot).path.to_owned();
            return Err(RequestError::DuplicatePath(path));
        }
        if let Some((slot, f)) = self.repeated_field {
            let mut path = bundle.slot_info(slot).path.to_owned();
            // Writing to a `String` cannot fail.
            let _ = ipe_nostd::path::write_joined(&mut path, "[]", bundle.field_info(slot, f).path);
            return Err(RequestError::DuplicatePath(path));
        }
        Ok(self.derived())
    }
}

/// A nested list of records given by the caller (`Field::Nested(Value::Records(..))`, list
/// slot `slot`) whose elements, or their own nested lists' elements, have positional fields
/// (issue #13, session 10: `p.hosts[0]` with `p` in `c.ports`): a copy in the arena with those
/// fields derived in each element ([`ipe_nostd::positional::derive_element`]), as the JSON
/// readers derive them; any other value unchanged.
fn derive_nested<'r>(
    bundle: &Bundle<'_>,
    arena: &'r Bump,
    slot: SlotId,
    v: Value<'r>,
) -> Value<'r> {
    let Value::Records(vals) = v else {
        return v;
    };
    let fields = bundle.slot_info(slot).fields;
    let inner: Vec<(u16, SlotId)> = (0..fields)
        .filter_map(|f| bundle.nested_slot(slot, f).map(|n| (f, n)))
        .filter(|&(_, n)| n > slot)
        .collect();
    let positions = ipe_nostd::positional::has_field_positions(bundle, slot);
    if !positions && inner.is_empty() {
        return v;
    }
    let out = arena.alloc_slice_copy(vals);
    for elem in out.chunks_mut(usize::from(fields).max(1)) {
        for &(f, n) in &inner {
            if let Some(x) = elem.get_mut(usize::from(f)) {
                *x = derive_nested(bundle, arena, n, *x);
            }
        }
        if positions {
            ipe_nostd::positional::derive_element(bundle, slot, elem);
        }
    }
    Value::Records(out)
}
