//! Building evaluation contexts: from JSON text in one pass over a per-bundle path tree
//! ([`PolicySet::parse_json`](crate::PolicySet::parse_json)), from a typed
//! [`RequestBuilder`], or from a parsed `serde_json::Value` ([`fill`]).

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use hashbrown::HashMap;
use ipe_nostd::bundle::SlotId;
use ipe_nostd::format::kind;
use ipe_nostd::{Bundle, Context, ErrKind, JsonKind, Value, ValueKind};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use crate::engine::{HostDecision, PolicySet};
use crate::error::{Error, RequestError};

/// The JSON number rule every reader shares (defined once, in `ipe-nostd`'s `report`).
pub use ipe_nostd::report::{float_int, json_int, json_kind};

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
        (kind::INT, Json::Number(n)) => json_int(n).map_or_else(wrong, Value::Int),
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
                if info.fields == 0 {
                    // One unread placeholder per element: the stride is at least 1.
                    vals.push(Value::Missing);
                }
                for f in 0..info.fields {
                    let fi = bundle.field_info(slot, f);
                    vals.push(if item.is_object() {
                        scalar(bundle, lookup(item, fi.path), fi.kind)
                    } else {
                        Value::Invalid(ErrKind::NotRecord {
                            got: json_kind(item),
                        })
                    });
                }
            }
            Value::Records(vals.into_bump_slice())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The per-bundle request plan: JSON parsed straight into slot values.
// ---------------------------------------------------------------------------------------------

/// How one attribute or record field is read.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// A scalar of this kind.
    Scalar(ValueKind),
    /// A list of scalars.
    Scalars { elem: ValueKind, max_len: u32 },
    /// A list of records: `fields` fields read through the tree at node `root`, whose kinds
    /// start at `first_kind` in [`Plan::kinds`].
    Records {
        fields: u16,
        root: u32,
        first_kind: u32,
        max_len: u32,
    },
}

/// A path-tree node: one dotted-path segment.
#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, u32>,
    /// The slot (or record field) whose path ends here, and how it is read.
    target: Option<(u16, Shape)>,
}

/// The attribute paths of one bundle, split into segments once at load, so a JSON request is
/// read in one pass with no intermediate tree and no per-slot path splitting.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Node 0 is the request root; each list-of-records slot has its own field-tree root.
    nodes: Vec<Node>,
    /// Field kinds of every list-of-records slot.
    kinds: Vec<ValueKind>,
}

impl Plan {
    /// Splits every slot and field path of `bundle` into a tree.
    pub(crate) fn build(bundle: &Bundle<'_>) -> Plan {
        let mut plan = Plan {
            nodes: vec![Node::default()],
            ..Plan::default()
        };
        for s in 0..bundle.slot_count() {
            let Ok(slot) = SlotId::try_from(s) else {
                break;
            };
            let info = bundle.slot_info(slot);
            let shape = match (info.kind, info.elem) {
                (ValueKind::List, Some(elem)) => Shape::Scalars {
                    elem,
                    max_len: info.max_len,
                },
                (ValueKind::List, None) => {
                    let root = plan.new_node();
                    let first_kind = plan.kinds.len() as u32;
                    for f in 0..info.fields {
                        let fi = bundle.field_info(slot, f);
                        plan.kinds.push(fi.kind);
                        plan.insert(root, fi.path, f, Shape::Scalar(fi.kind));
                    }
                    Shape::Records {
                        fields: info.fields,
                        root,
                        first_kind,
                        max_len: info.max_len,
                    }
                }
                (k, _) => Shape::Scalar(k),
            };
            plan.insert(0, info.path, slot, shape);
        }
        plan
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(Node::default());
        (self.nodes.len() - 1) as u32
    }

    fn insert(&mut self, root: u32, path: &str, target: u16, shape: Shape) {
        let mut at = root;
        for seg in path.split('.') {
            let existing = self
                .nodes
                .get(at as usize)
                .and_then(|n| n.children.get(seg).copied());
            at = match existing {
                Some(c) => c,
                None => {
                    let c = self.new_node();
                    if let Some(n) = self.nodes.get_mut(at as usize) {
                        n.children.insert(seg.into(), c);
                    }
                    c
                }
            };
        }
        if let Some(n) = self.nodes.get_mut(at as usize) {
            n.target = Some((target, shape));
        }
    }

    /// Reads a JSON request into one value per slot of `bundle`, allocated in `arena`.
    pub(crate) fn parse<'r>(
        &self,
        bundle: &Bundle<'_>,
        json: &'r str,
        arena: &'r Bump,
    ) -> Result<&'r [Value<'r>], Error> {
        let values = arena.alloc_slice_fill_copy(bundle.slot_count(), Value::Missing);
        let mut de = serde_json::Deserializer::from_str(json);
        let reader = Reader {
            plan: self,
            bundle,
            arena,
        };
        let root = NodeSeed {
            r: reader,
            node: 0,
            out: values,
            root: true,
        };
        root.deserialize(&mut de).map_err(request_error)?;
        de.end().map_err(request_error)?;
        Ok(values)
    }
}

/// A parse error as the request error it stands for.
fn request_error(e: serde_json::Error) -> Error {
    if e.is_data() {
        let text = e.to_string();
        if text.starts_with(NOT_AN_OBJECT) {
            return RequestError::NotAnObject.into();
        }
        if text.starts_with(DUPLICATE_KEY) {
            return RequestError::DuplicateKey(e).into();
        }
    }
    RequestError::Json(e).into()
}

/// Parses a JSON request into a `serde_json::Value`, failing (like every other reader) on a
/// repeated object key anywhere in it, or when it is not an object.
///
/// `serde_json`'s own parser keeps the last of repeated keys; this one rejects them, so the
/// value path ([`fill`], the reference evaluator) sees the same requests as the one-pass
/// reader.
pub fn parse_value(text: &str) -> Result<Json, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = CheckedValue.deserialize(&mut de).map_err(request_error)?;
    de.end().map_err(request_error)?;
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
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CheckedValue {
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
        while let Some(v) = seq.next_element_seed(CheckedValue)? {
            items.push(v);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = serde_json::Map::new();
        // The smallest repeated key, reported once the object ends (as the one-pass reader does).
        let mut repeated: Option<String> = None;
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(CheckedValue)?;
            if out.contains_key(&k) {
                if repeated.as_ref().is_none_or(|r| k < *r) {
                    repeated = Some(k);
                }
            } else {
                out.insert(k, v);
            }
        }
        match repeated {
            Some(k) => Err(serde::de::Error::custom(format_args!(
                "{DUPLICATE_KEY} `{k}`"
            ))),
            None => Ok(Json::Object(out)),
        }
    }
}

/// The custom-error text marking a non-object request root.
const NOT_AN_OBJECT: &str = "ipe: request is not an object";

/// What every visitor of one parse shares.
#[derive(Clone, Copy)]
struct Reader<'p, 'b, 'r> {
    plan: &'p Plan,
    bundle: &'p Bundle<'b>,
    arena: &'r Bump,
}

impl<'r> Reader<'_, '_, 'r> {
    fn node(&self, id: u32) -> Option<&Node> {
        self.plan.nodes.get(id as usize)
    }

    /// A scalar JSON value read as kind `k`.
    fn scalar(&self, j: Scalar<'r>, k: ValueKind) -> Value<'r> {
        match (k, j) {
            (_, Scalar::Null) => Value::Missing,
            (ValueKind::Str | ValueKind::Enum, Scalar::Str(s)) => Value::Str(self.bundle.intern(s)),
            (ValueKind::Int, Scalar::Int(i)) => Value::Int(i),
            (ValueKind::Bool, Scalar::Bool(b)) => Value::Bool(b),
            (k, j) => wrong(k, j.kind()),
        }
    }
}

fn wrong(expected: ValueKind, got: JsonKind) -> Value<'static> {
    Value::Invalid(ErrKind::WrongType { expected, got })
}

/// A JSON scalar as the visitors see it.
#[derive(Clone, Copy)]
enum Scalar<'r> {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str(&'r str),
}

impl Scalar<'_> {
    /// A number read as a double: an int when integer-valued (see [`float_int`]).
    fn float(f: f64) -> Self {
        float_int(f).map_or(Scalar::Float, Scalar::Int)
    }

    fn kind(self) -> JsonKind {
        match self {
            Scalar::Null => JsonKind::Null,
            Scalar::Bool(_) => JsonKind::Bool,
            Scalar::Int(_) => JsonKind::Int,
            Scalar::Float => JsonKind::Float,
            Scalar::Str(_) => JsonKind::Str,
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
            return Err(E::custom(NOT_AN_OBJECT));
        }
        if let Some((t, shape)) = self.target() {
            let v = match (shape, j) {
                (_, Scalar::Null) => Value::Missing,
                (Shape::Scalar(k), j) => self.r.scalar(j, k),
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
        self.scalar(i64::try_from(v).map_or(Scalar::Float, Scalar::Int))
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
            return Err(serde::de::Error::custom(NOT_AN_OBJECT));
        }
        let skip = Skip {
            arena: self.r.arena,
        };
        let v = match self.target() {
            None => {
                while seq.next_element_seed(skip)?.is_some() {}
                return Ok(());
            }
            Some((t, Shape::Scalar(k))) => {
                while seq.next_element_seed(skip)?.is_some() {}
                (t, wrong(k, JsonKind::List))
            }
            Some((t, Shape::Scalars { elem, max_len })) => {
                let mut vals = BumpVec::new_in(self.r.arena);
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
                },
            )) => {
                // A record with no fields still takes one (unread) value: the stride is at least 1.
                let n = usize::from(fields).max(1);
                let mut vals = BumpVec::new_in(self.r.arena);
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
        if let Some((t, shape)) = self.target() {
            let expected = match shape {
                Shape::Scalar(k) => k,
                _ => ValueKind::List,
            };
            self.set(t, wrong(expected, JsonKind::Object));
        }
        let r = self.r;
        let skip = Skip { arena: r.arena };
        let node = r.node(self.node);
        let mut keys = BumpVec::new_in(r.arena);
        while let Some(key) = map.next_key_seed(KeySeed { arena: r.arena })? {
            keys.push(key);
            let child = node.and_then(|n| n.children.get(key).copied());
            match child {
                Some(c) if r.node(c).is_some() => {
                    map.next_value_seed(NodeSeed {
                        r,
                        node: c,
                        out: self.out,
                        root: false,
                    })?;
                }
                _ => map.next_value_seed(skip)?,
            }
        }
        unique_keys(&mut keys)?;
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

/// The custom-error text of an object with a repeated key (followed by the key).
const DUPLICATE_KEY: &str = "duplicate key";

/// Fails when `keys` (one object's keys, in any order) repeat one: names the smallest
/// repeated key. Sorts in place (no allocation).
fn unique_keys<E: serde::de::Error>(keys: &mut [&str]) -> Result<(), E> {
    keys.sort_unstable();
    match keys.windows(2).find_map(|w| match w {
        [a, b] if a == b => Some(*a),
        _ => None,
    }) {
        Some(k) => Err(E::custom(format_args!("{DUPLICATE_KEY} `{k}`"))),
        None => Ok(()),
    }
}

/// Skips one JSON value without keeping it, still failing on a repeated object key.
#[derive(Clone, Copy)]
struct Skip<'r> {
    arena: &'r Bump,
}

impl<'de> DeserializeSeed<'de> for Skip<'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'de> {
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
        let mut keys = BumpVec::new_in(self.arena);
        while let Some(k) = map.next_key_seed(KeySeed { arena: self.arena })? {
            keys.push(k);
            map.next_value_seed(self)?;
        }
        unique_keys(&mut keys)
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
        Ok(self.r.scalar(Scalar::Bool(v), self.elem))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value<'de>, E> {
        Ok(self.r.scalar(Scalar::Int(v), self.elem))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value<'de>, E> {
        let j = i64::try_from(v).map_or(Scalar::Float, Scalar::Int);
        Ok(self.r.scalar(j, self.elem))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(self.r.scalar(Scalar::float(v), self.elem))
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(self.r.scalar(Scalar::Str(v), self.elem))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value<'de>, E> {
        let s = self.r.arena.alloc_str(v);
        Ok(self.r.scalar(Scalar::Str(s), self.elem))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Missing)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Missing)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value<'de>, A::Error> {
        Skip {
            arena: self.r.arena,
        }
        .visit_seq(seq)?;
        Ok(wrong(self.elem, JsonKind::List))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value<'de>, A::Error> {
        Skip {
            arena: self.r.arena,
        }
        .visit_map(map)?;
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
        Skip {
            arena: self.r.arena,
        }
        .visit_seq(seq)?;
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

// ---------------------------------------------------------------------------------------------
// The typed builder.
// ---------------------------------------------------------------------------------------------

/// A record field value for [`RequestBuilder::records`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<'r> {
    /// A string (or enum member name).
    Str(&'r str),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

impl<'r> Field<'r> {
    fn scalar(self) -> Scalar<'r> {
        match self {
            Field::Str(s) => Scalar::Str(s),
            Field::Int(i) => Scalar::Int(i),
            Field::Bool(b) => Scalar::Bool(b),
        }
    }
}

/// A request built from typed Rust values for one [`PolicySet`], in a caller-owned arena.
///
/// Paths the bundle does not read are ignored (like extra JSON keys); a value of the wrong
/// kind is recorded as a wrong-type attribute error, exactly as the same JSON would be.
/// Setting the same attribute (or the same field of one record) twice makes the request
/// malformed, like a repeated JSON key: [`evaluate`](Self::evaluate) then fails.
///
/// # Examples
/// ```no_run
/// # fn demo(engine: &ipe_host::PolicyEngine) {
/// use ipe_host::Field;
/// let arena = bumpalo::Bump::new();
/// let set = engine.load();
/// let mut req = set.request(&arena);
/// req.str("resource.type", "Deployment")
///     .str("environment", "production")
///     .records("approvals", [[("role", Field::Str("senior-engineer"))]]);
/// let decision = req.evaluate().expect("no attribute is set twice");
/// # let _ = decision; }
/// ```
pub struct RequestBuilder<'s, 'r> {
    set: &'s PolicySet,
    arena: &'r Bump,
    values: &'r mut [Value<'r>],
    /// Which slots have been set.
    seen: &'r mut [bool],
    /// The first slot set twice.
    repeated: Option<SlotId>,
    /// The first record field set twice in one element: (list slot, field).
    repeated_field: Option<(SlotId, u16)>,
}

impl<'s, 'r> RequestBuilder<'s, 'r> {
    pub(crate) fn new(set: &'s PolicySet, arena: &'r Bump) -> Self {
        let n = set.bundle().slot_count();
        RequestBuilder {
            set,
            arena,
            values: arena.alloc_slice_fill_copy(n, Value::Missing),
            seen: arena.alloc_slice_fill_copy(n, false),
            repeated: None,
            repeated_field: None,
        }
    }

    fn reader(&self) -> Reader<'s, 's, 'r> {
        Reader {
            plan: &EMPTY_PLAN,
            bundle: self.set.bundle(),
            arena: self.arena,
        }
    }

    fn put(&mut self, path: &str, j: Scalar<'r>) -> &mut Self {
        let bundle = self.set.bundle();
        if let Some(slot) = bundle.slot(path) {
            let info = bundle.slot_info(slot);
            let v = match info.kind {
                ValueKind::List => wrong(ValueKind::List, j.kind()),
                k => self.reader().scalar(j, k),
            };
            self.set_value(slot, v);
        }
        self
    }

    /// Sets a string (or enum) attribute.
    pub fn str(&mut self, path: &str, value: &'r str) -> &mut Self {
        self.put(path, Scalar::Str(value))
    }

    /// Sets an integer attribute.
    pub fn int(&mut self, path: &str, value: i64) -> &mut Self {
        self.put(path, Scalar::Int(value))
    }

    /// Sets a boolean attribute.
    pub fn bool(&mut self, path: &str, value: bool) -> &mut Self {
        self.put(path, Scalar::Bool(value))
    }

    /// Sets a list-of-strings (or list-of-enums) attribute.
    pub fn strs<I: IntoIterator<Item = &'r str>>(&mut self, path: &str, items: I) -> &mut Self {
        let bundle = self.set.bundle();
        let Some(slot) = bundle.slot(path) else {
            return self;
        };
        let info = bundle.slot_info(slot);
        let v = match (info.kind, info.elem) {
            (ValueKind::List, Some(elem)) => {
                let r = self.reader();
                let vals = BumpVec::from_iter_in(
                    items.into_iter().map(|s| r.scalar(Scalar::Str(s), elem)),
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
        self
    }

    /// Sets a list-of-records attribute: one iterator of `(field path, value)` per element.
    pub fn records<'k, I, R>(&mut self, path: &str, items: I) -> &mut Self
    where
        I: IntoIterator<Item = R>,
        R: IntoIterator<Item = (&'k str, Field<'r>)>,
    {
        let bundle = self.set.bundle();
        let Some(slot) = bundle.slot(path) else {
            return self;
        };
        let info = bundle.slot_info(slot);
        if info.kind != ValueKind::List || info.elem.is_some() {
            self.set_value(slot, wrong(info.kind, JsonKind::List));
            return self;
        }
        let r = self.reader();
        // A record with no fields still takes one (unread) value: the stride is at least 1.
        let n = usize::from(info.fields).max(1);
        let mut vals = BumpVec::new_in(self.arena);
        let set_in_item = self.arena.alloc_slice_fill_copy(n, false);
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
                    if let Some(v) = vals.get_mut(start + usize::from(f)) {
                        *v = r.scalar(field.scalar(), kind);
                    }
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
        self
    }

    /// Sets a slot to a raw value (no kind check).
    pub fn set_value(&mut self, slot: SlotId, value: Value<'r>) -> &mut Self {
        if let Some(seen) = self.seen.get_mut(usize::from(slot)) {
            if *seen && self.repeated.is_none() {
                self.repeated = Some(slot);
            }
            *seen = true;
        }
        if let Some(v) = self.values.get_mut(usize::from(slot)) {
            *v = value;
        }
        self
    }

    /// The slot values so far.
    pub fn values(&self) -> &[Value<'r>] {
        self.values
    }

    /// Evaluates the request against the set it was built for; fails when an attribute or
    /// a record field was set twice (the request is malformed).
    pub fn evaluate(&self) -> Result<HostDecision, Error> {
        let bundle = self.set.bundle();
        if let Some(slot) = self.repeated {
            let path = bundle.slot_info(slot).path.to_owned();
            return Err(RequestError::DuplicatePath(path).into());
        }
        if let Some((slot, f)) = self.repeated_field {
            let path = format!(
                "{}[].{}",
                bundle.slot_info(slot).path,
                bundle.field_info(slot, f).path
            );
            return Err(RequestError::DuplicatePath(path).into());
        }
        Ok(self.set.evaluate_values(self.values))
    }
}

static EMPTY_PLAN: Plan = Plan {
    nodes: Vec::new(),
    kinds: Vec::new(),
};
