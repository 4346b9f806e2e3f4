//! The streaming path: JSON text read in one pass over a bundle's [`Plan`], straight into
//! slot values in an arena (serde visitors; no intermediate tree).

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use ipe_nostd::{Bundle, ErrKind, JsonKind, Value, ValueKind};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::plan::{Node, Plan, Shape};
use super::{duplicate_key, request_error, wrong, Flag, Scalar, Stop};
use crate::error::Error;

/// Reads a JSON request into one value per slot of `bundle`, allocated in `arena`.
pub(super) fn parse<'r>(
    plan: &Plan,
    bundle: &Bundle<'_>,
    json: &'r str,
    arena: &'r Bump,
) -> Result<&'r [Value<'r>], Error> {
    let values = arena.alloc_slice_fill_copy(bundle.slot_count(), Value::Missing);
    let mut de = serde_json::Deserializer::from_str(json);
    let flag = Flag::default();
    let reader = Reader {
        plan,
        bundle,
        arena,
        flag: &flag,
    };
    let root = NodeSeed {
        r: reader,
        node: 0,
        out: values,
        root: true,
    };
    let read = root.deserialize(&mut de).and_then(|()| de.end());
    match read {
        Ok(()) => {
            plan.derive(bundle, values);
            Ok(values)
        }
        Err(e) => Err(request_error(&flag, e)),
    }
}

/// What every visitor of one parse shares.
#[derive(Clone, Copy)]
struct Reader<'p, 'b, 'r> {
    plan: &'p Plan,
    bundle: &'p Bundle<'b>,
    arena: &'r Bump,
    /// Why the parse stopped, set by the reader that stopped it.
    flag: &'p Flag,
}

impl<'p, 'r> Reader<'p, '_, 'r> {
    fn node(&self, id: u32) -> Option<&Node> {
        self.plan.nodes.get(id as usize)
    }

    /// Stops the parse: the request root is not an object.
    fn root_not_an_object<E: serde::de::Error>(&self) -> E {
        self.flag.set(Stop::NotAnObject);
        E::custom("request is not an object")
    }

    /// Scalar `j` read as a value of kind `k`, strings interned through the plan.
    #[inline]
    fn read(&self, j: Scalar<'r>, k: ValueKind) -> Value<'r> {
        j.read_by(k, |s| self.plan.intern(self.bundle, s))
    }

    /// Skips one value (still failing on a repeated key).
    fn skip(&self) -> Skip<'r, 'p> {
        Skip {
            arena: self.arena,
            flag: self.flag,
        }
    }
}

/// Reads the JSON value at one tree node into `out` (slots, or one record's fields).
struct NodeSeed<'p, 'b, 'r, 'o> {
    r: Reader<'p, 'b, 'r>,
    node: u32,
    out: &'o mut [Value<'r>],
    /// The request root, which must be an object.
    root: bool,
}

impl<'r> NodeSeed<'_, '_, 'r, '_> {
    fn target(&self) -> Option<(u16, Shape)> {
        self.r.node(self.node).and_then(|n| n.target)
    }

    fn set(&mut self, t: u16, v: Value<'r>) {
        if let Some(slot) = self.out.get_mut(usize::from(t)) {
            *slot = v;
        }
    }

    fn scalar<E: serde::de::Error>(mut self, j: Scalar<'r>) -> Result<(), E> {
        if self.root {
            return Err(self.r.root_not_an_object());
        }
        if let Some((t, shape)) = self.target() {
            let v = match (shape, j) {
                (_, Scalar::Null) => Value::Missing,
                (Shape::Scalar(k), j) => self.r.read(j, k),
                (_, j) => wrong(ValueKind::List, j.kind()),
            };
            self.set(t, v);
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_, '_, 'de, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_, '_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(Scalar::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(Scalar::Int(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(Scalar::float(v))
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<(), E> {
        self.scalar(Scalar::Str(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        // An escaped string: keep the unescaped copy in the arena.
        let s = self.r.arena.alloc_str(v);
        self.scalar(Scalar::Str(s))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(Scalar::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.scalar(Scalar::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        if self.root {
            return Err(self.r.root_not_an_object());
        }
        let skip = self.r.skip();
        let v = match self.target() {
            None => {
                while seq.next_element_seed(skip)?.is_some() {}
                return Ok(());
            }
            Some((t, Shape::Scalar(k))) => {
                while seq.next_element_seed(skip)?.is_some() {}
                (t, wrong(k, JsonKind::List))
            }
            Some((t, Shape::Map { .. } | Shape::MapRecords { .. })) => {
                while seq.next_element_seed(skip)?.is_some() {}
                (t, wrong(ValueKind::List, JsonKind::List))
            }
            Some((t, Shape::Scalars { elem, max_len })) => {
                let mut vals = BumpVec::with_capacity_in(initial(max_len), self.r.arena);
                let mut too_long = false;
                while vals.len() < max_len as usize {
                    match seq.next_element_seed(ElemSeed { r: self.r, elem })? {
                        Some(v) => vals.push(v),
                        None => break,
                    }
                }
                // Past `max`: the rest is read without being kept.
                while seq.next_element_seed(skip)?.is_some() {
                    too_long = true;
                }
                let v = if too_long {
                    Value::Invalid(ErrKind::TooLong)
                } else {
                    Value::List(vals.into_bump_slice())
                };
                (t, v)
            }
            Some((
                t,
                Shape::Records {
                    fields,
                    root,
                    first_kind,
                    max_len,
                    positions,
                },
            )) => {
                // A record with no fields still takes one (unread) value: the stride is at least 1.
                let n = usize::from(fields).max(1);
                let mut vals = BumpVec::with_capacity_in(n * initial(max_len), self.r.arena);
                let mut items = 0usize;
                while items < max_len as usize {
                    let start = vals.len();
                    vals.extend(std::iter::repeat_n(Value::Missing, n));
                    let seed = ItemSeed {
                        r: self.r,
                        root,
                        first_kind,
                        out: vals.get_mut(start..).unwrap_or(&mut []),
                    };
                    if seq.next_element_seed(seed)?.is_none() {
                        vals.truncate(start);
                        break;
                    }
                    if let (Some(slot), Some(elem)) = (positions, vals.get_mut(start..)) {
                        ipe_nostd::positional::derive_element(self.r.bundle, slot, elem);
                    }
                    items += 1;
                }
                // Past `max`: the rest is read without being kept.
                let mut too_long = false;
                while seq.next_element_seed(skip)?.is_some() {
                    too_long = true;
                }
                let v = if too_long {
                    Value::Invalid(ErrKind::TooLong)
                } else {
                    Value::Records(vals.into_bump_slice())
                };
                (t, v)
            }
        };
        self.set(v.0, v.1);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        if let Some((t, Shape::Map { value, max_len })) = self.target() {
            return self.map_entries(map, t, value, max_len);
        }
        if let Some((t, shape @ Shape::MapRecords { .. })) = self.target() {
            return self.map_record_entries(map, t, shape);
        }
        if let Some((t, shape)) = self.target() {
            let expected = match shape {
                Shape::Scalar(k) => k,
                _ => ValueKind::List,
            };
            self.set(t, wrong(expected, JsonKind::Object));
        }
        let r = self.r;
        let skip = r.skip();
        let node = r.node(self.node);
        let mut keys = Keys::new(r.arena);
        // The key expected next: the plan's children in order, as requests usually list them.
        let mut hint = 0usize;
        while let Some(key) = map.next_key_seed(KeySeed { arena: r.arena })? {
            match node.and_then(|n| n.child(key, hint)) {
                Some((i, c)) => {
                    keys.known(i, key);
                    hint = i + 1;
                    if r.node(c).is_some() {
                        map.next_value_seed(NodeSeed {
                            r,
                            node: c,
                            out: self.out,
                            root: false,
                        })?;
                    } else {
                        map.next_value_seed(skip)?;
                    }
                }
                None => {
                    keys.other(key);
                    map.next_value_seed(skip)?;
                }
            }
        }
        keys.finish(r.flag)
    }
}

impl<'r> NodeSeed<'_, '_, 'r, '_> {
    /// Reads a JSON object into map slot `t` as (key, value) entries (issue 13): a `null`
    /// value is an absent key; more than `max_len` entries make the map invalid, then a value
    /// of the wrong type does (the smallest such error). A fixed key the bundle also reads as
    /// an attribute of its own (`m["k"]`) gets that entry's value.
    fn map_entries<A: MapAccess<'r>>(
        mut self,
        mut map: A,
        t: u16,
        value: ValueKind,
        max_len: u32,
    ) -> Result<(), A::Error> {
        let r = self.r;
        let node = r.node(self.node);
        let mut keys = Keys::new(r.arena);
        let mut vals = BumpVec::with_capacity_in(2 * initial(max_len), r.arena);
        let mut worst: Option<ErrKind> = None;
        let mut entries = 0usize;
        while let Some(key) = map.next_key_seed(KeySeed { arena: r.arena })? {
            keys.other(key);
            let v = map.next_value_seed(ElemSeed { r, elem: value })?;
            let fixed = node
                .and_then(|n| n.children.get(key))
                .and_then(|&c| r.node(c))
                .and_then(|n| n.target);
            if let Some((slot, Shape::Scalar(_))) = fixed {
                self.set(slot, v);
            }
            if matches!(v, Value::Missing) {
                continue;
            }
            if let Some(e) = super::map_value_error(r.bundle, t, v) {
                worst = Some(worst.map_or(e, |w| w.min(e)));
            }
            entries += 1;
            if entries <= max_len as usize {
                vals.push(r.read(Scalar::Str(key), ValueKind::Str));
                vals.push(v);
            }
        }
        keys.finish(r.flag)?;
        let v = if entries > max_len as usize {
            Value::Invalid(ErrKind::TooLong)
        } else if let Some(e) = worst {
            Value::Invalid(e)
        } else {
            Value::Records(vals.into_bump_slice())
        };
        self.set(t, v);
        Ok(())
    }
}

impl<'r> NodeSeed<'_, '_, 'r, '_> {
    /// Reads a JSON object into map-of-records slot `t` (issue 13): each entry is the key, then
    /// the value's fields read like a list element's (a value that is not an object makes them
    /// unreadable; a bad field is an error of that field only). A `null` value is an absent
    /// key; more than `max_len` entries make the map invalid. A fixed key's field the bundle
    /// reads as an attribute of its own (`m["k"].port`) gets that entry's field (missing when
    /// the value is not an object).
    fn map_record_entries<A: MapAccess<'r>>(
        mut self,
        mut map: A,
        t: u16,
        shape: Shape,
    ) -> Result<(), A::Error> {
        let Shape::MapRecords {
            fields,
            root,
            first_kind,
            max_len,
        } = shape
        else {
            return Ok(());
        };
        let r = self.r;
        let node = r.node(self.node);
        let n = usize::from(fields).max(1);
        let mut keys = Keys::new(r.arena);
        let mut vals = BumpVec::with_capacity_in(n * initial(max_len), r.arena);
        let mut entries = 0usize;
        while let Some(key) = map.next_key_seed(KeySeed { arena: r.arena })? {
            keys.other(key);
            let start = vals.len();
            vals.push(r.read(Scalar::Str(key), ValueKind::Str));
            vals.extend(std::iter::repeat_n(Value::Missing, n - 1));
            map.next_value_seed(ItemSeed {
                r,
                root,
                first_kind,
                out: vals.get_mut(start + 1..).unwrap_or(&mut []),
            })?;
            let fixed = node
                .and_then(|nd| nd.children.get(key))
                .and_then(|&c| r.node(c));
            for &(f, slot) in fixed.map_or(&[][..], |nd| nd.fixed.as_slice()) {
                let v = match vals.get(start + usize::from(f)) {
                    Some(Value::Invalid(ErrKind::NotRecord { .. })) | None => Value::Missing,
                    Some(&v) => v,
                };
                self.set(slot, v);
            }
            let null = matches!(
                vals.get(start + 1),
                Some(Value::Invalid(ErrKind::NotRecord {
                    got: JsonKind::Null
                }))
            );
            if null {
                vals.truncate(start);
                continue;
            }
            entries += 1;
            if entries > max_len as usize {
                vals.truncate(start);
            }
        }
        keys.finish(r.flag)?;
        let v = if entries > max_len as usize {
            Value::Invalid(ErrKind::TooLong)
        } else {
            Value::Records(vals.into_bump_slice())
        };
        self.set(t, v);
        Ok(())
    }
}

/// Reads an object key: borrowed from the input, or unescaped into the arena.
struct KeySeed<'r> {
    arena: &'r Bump,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'de> {
    type Value = &'de str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'de str, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'de> {
    type Value = &'de str;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<&'de str, E> {
        Ok(v)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<&'de str, E> {
        Ok(self.arena.alloc_str(v))
    }
}

/// The first capacity of a list's (or map's) element vector of at most `max_len` elements:
/// sized once, so a request of usual length never grows it.
fn initial(max_len: u32) -> usize {
    (max_len as usize).min(16)
}

/// The keys of one object read so far, for the repeated-key check. A key of the plan's node
/// is one bit (its index among the node's children, the first 64); any other is kept in the
/// arena and sorted at the end only when the keys did not come in ascending order.
struct Keys<'r> {
    /// The plan's children seen, by index.
    seen: u64,
    /// The smallest repeated key found so far.
    dup: Option<&'r str>,
    /// The other keys, in reading order.
    other: BumpVec<'r, &'r str>,
    /// Whether `other` is strictly ascending.
    sorted: bool,
}

impl<'r> Keys<'r> {
    fn new(arena: &'r Bump) -> Self {
        Keys {
            seen: 0,
            dup: None,
            other: BumpVec::new_in(arena),
            sorted: true,
        }
    }

    /// Key `key`, child `i` of the plan's node.
    #[inline]
    fn known(&mut self, i: usize, key: &'r str) {
        if i < 64 {
            let bit = 1u64 << i;
            if self.seen & bit != 0 {
                self.repeated(key);
            }
            self.seen |= bit;
        } else {
            self.other(key);
        }
    }

    /// Key `key`, not a child of the plan's node.
    #[inline]
    fn other(&mut self, key: &'r str) {
        if self.other.last().is_some_and(|&last| last >= key) {
            self.sorted = false;
        }
        self.other.push(key);
    }

    fn repeated(&mut self, key: &'r str) {
        self.dup = Some(self.dup.map_or(key, |d| d.min(key)));
    }

    /// Fails when the object repeated a key: names the smallest repeated one.
    fn finish<E: serde::de::Error>(mut self, flag: &Flag) -> Result<(), E> {
        if !self.sorted {
            self.other.sort_unstable();
            let first = self.other.windows(2).find_map(|w| match w {
                [a, b] if a == b => Some(*a),
                _ => None,
            });
            if let Some(k) = first {
                self.repeated(k);
            }
        }
        match self.dup {
            Some(k) => Err(duplicate_key(flag, k)),
            None => Ok(()),
        }
    }
}

/// Skips one JSON value without keeping it, still failing on a repeated object key.
#[derive(Clone, Copy)]
struct Skip<'r, 'f> {
    arena: &'r Bump,
    flag: &'f Flag,
}

impl<'de> DeserializeSeed<'de> for Skip<'de, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::new(self.arena);
        while let Some(k) = map.next_key_seed(KeySeed { arena: self.arena })? {
            keys.other(k);
            map.next_value_seed(self)?;
        }
        keys.finish(self.flag)
    }
}

/// Reads one element of a list of scalars.
struct ElemSeed<'p, 'b, 'r> {
    r: Reader<'p, 'b, 'r>,
    elem: ValueKind,
}

impl<'de> DeserializeSeed<'de> for ElemSeed<'_, '_, 'de> {
    type Value = Value<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ElemSeed<'_, '_, 'de> {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list element")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value<'de>, E> {
        Ok(self.r.read(Scalar::Bool(v), self.elem))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value<'de>, E> {
        Ok(self.r.read(Scalar::Int(v), self.elem))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value<'de>, E> {
        let j = i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int);
        Ok(self.r.read(j, self.elem))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(self.r.read(Scalar::float(v), self.elem))
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(self.r.read(Scalar::Str(v), self.elem))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value<'de>, E> {
        let s = self.r.arena.alloc_str(v);
        Ok(self.r.read(Scalar::Str(s), self.elem))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Missing)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Missing)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value<'de>, A::Error> {
        self.r.skip().visit_seq(seq)?;
        Ok(wrong(self.elem, JsonKind::List))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value<'de>, A::Error> {
        self.r.skip().visit_map(map)?;
        Ok(wrong(self.elem, JsonKind::Object))
    }
}

/// Reads one element of a list of records into its fields.
struct ItemSeed<'p, 'b, 'r, 'o> {
    r: Reader<'p, 'b, 'r>,
    root: u32,
    first_kind: u32,
    out: &'o mut [Value<'r>],
}

impl ItemSeed<'_, '_, '_, '_> {
    /// A non-object element: no field can be read from it.
    fn not_object(self, got: JsonKind) {
        let first = self.first_kind as usize;
        let fields = self
            .r
            .plan
            .kinds
            .get(first..first.saturating_add(self.out.len()))
            .map_or(0, <[ValueKind]>::len);
        for v in self.out.iter_mut().take(fields) {
            *v = Value::Invalid(ErrKind::NotRecord { got });
        }
    }
}

impl<'de> DeserializeSeed<'de> for ItemSeed<'_, '_, 'de, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ItemSeed<'_, '_, 'de, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a record")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.not_object(JsonKind::Bool);
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.not_object(JsonKind::Int);
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.not_object(if i64::try_from(v).is_ok() {
            JsonKind::Int
        } else {
            JsonKind::Float
        });
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.not_object(Scalar::float(v).kind());
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.not_object(JsonKind::Str);
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.not_object(JsonKind::Null);
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.not_object(JsonKind::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.r.skip().visit_seq(seq)?;
        self.not_object(JsonKind::List);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        NodeSeed {
            r: self.r,
            node: self.root,
            out: self.out,
            root: false,
        }
        .visit_map(map)
    }
}
