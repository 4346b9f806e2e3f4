//! The reference evaluator: a direct, simple reading of `docs/LANGUAGE.md` "Decision
//! semantics" over a [`hir::Program`] and a JSON request. Every faster backend is tested
//! against it.

use crate::decision::{ErrorReport, Report, ViolationReport};
use crate::hir::{
    self, Aggregate, Body, CmpOp, Expr, Literal, Operand, Program, Scalar, SlotId, SlotType, StrOp,
};
use ipe_nostd::vocab::{write_attr_error, DENIED_BY_POLICY, REQUIREMENT_NOT_MET};
use ipe_nostd::{Effect, ErrKind, ValueKind};
use serde_json::Value;

/// An attribute error, ordered as the language reports them: by slot, then field (`None`
/// first), then kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttrError {
    /// The attribute's slot.
    pub slot: SlotId,
    /// The element field, for fields of list elements.
    pub field: Option<u16>,
    /// What is wrong.
    pub kind: ErrKind,
}

/// A three-valued truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// True.
    True,
    /// False.
    False,
    /// An error (the smallest one met).
    Error(AttrError),
}

impl Truth {
    fn from_bool(b: bool) -> Self {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// A scalar value read from the request.
#[derive(Clone, Debug, PartialEq, Eq)]
enum V<'r> {
    Str(&'r str),
    Int(i64),
    Bool(bool),
    Enum(u16),
    /// An IP address as 128 bits (IPv4 as IPv4-mapped IPv6), issue #14.
    Ip(u128),
}

/// Reads an IP address with `std::net` (independently of `ipe_nostd::ip`): IPv4 dotted
/// decimal or IPv6 in any form and case; IPv4 as its IPv4-mapped IPv6 address.
pub(crate) fn parse_ip(s: &str) -> Option<u128> {
    match s.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => Some(u128::from(a.to_ipv6_mapped())),
        std::net::IpAddr::V6(a) => Some(u128::from(a)),
    }
}

/// The canonical text of an address: dotted decimal for an IPv4-mapped one, RFC 5952
/// otherwise (`std::net`'s `Display`).
pub(crate) fn show_ip(a: u128) -> String {
    let v6 = std::net::Ipv6Addr::from(a);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// The JSON kind of a value: integer-valued numbers are ints however they are spelled (the
/// host's rule, shared by every reader).
pub use ipe_nostd::report::json_kind;

/// Element `p.index` of `items` (negative from the end), or its field `p.field`: absent
/// (`None`) past either end, `NotRecord` for a field of an element that is not an object
/// (issue #13: positions on request lists and on an element's list field).
fn at_position<'r>(
    items: &'r [Value],
    p: &ipe_nostd::positional::Positional<'_>,
) -> Result<Option<&'r Value>, ErrKind> {
    let n = items.len();
    let i = if p.index < 0 {
        n.checked_sub(p.index.unsigned_abs() as usize)
    } else {
        usize::try_from(p.index).ok().filter(|&i| i < n)
    };
    let Some(item) = i.and_then(|i| items.get(i)) else {
        return Ok(None);
    };
    if p.field.is_empty() {
        return Ok(Some(item));
    }
    if !item.is_object() {
        return Err(ErrKind::NotRecord {
            got: json_kind(item),
        });
    }
    Ok(lookup(item, p.field))
}

/// Follows a path (its keys, [`ipe_nostd::path`]) through objects; `None` when a step is
/// absent, `null` or not an object.
fn lookup<'r>(root: &'r Value, path: &str) -> Option<&'r Value> {
    let mut v = root;
    for seg in ipe_nostd::path::segments(path) {
        let mut key = String::new();
        let _ = seg.write_key(&mut key);
        v = v.as_object()?.get(&key)?;
    }
    (!v.is_null()).then_some(v)
}

/// Piece `index` of `s` split with `str::split` on `sep` (negative from the end), issue #14;
/// none longer than [`ipe_nostd::segment::MAX_PIECE`] bytes (issue #15).
fn piece<'s>(s: &'s str, sep: &str, index: i64) -> Option<&'s str> {
    let pieces: Vec<&'s str> = s.split(sep).collect();
    let at = if index >= 0 {
        usize::try_from(index).ok()
    } else {
        usize::try_from(index.unsigned_abs())
            .ok()
            .and_then(|back| pieces.len().checked_sub(back))
    };
    at.and_then(|i| pieces.get(i))
        .copied()
        .filter(|p| p.len() <= ipe_nostd::segment::MAX_PIECE)
}

/// Whether a `segment`'s string is cut from a map constant's value (not from the request).
fn seg_root_is_constant(x: &Operand) -> bool {
    match x {
        Operand::Lookup(_) => true,
        Operand::Segment(g) => seg_root_is_constant(&g.x),
        _ => false,
    }
}

/// Reads a scalar of type `ty`.
fn scalar<'r>(v: &'r Value, ty: &Scalar) -> Result<V<'r>, ErrKind> {
    let wrong = |expected| ErrKind::WrongType {
        expected,
        got: json_kind(v),
    };
    match (ty, v) {
        (Scalar::Str, Value::String(s)) => Ok(V::Str(s)),
        (Scalar::Int, Value::Number(n)) => ipe_nostd::report::json_int(n)
            .map(V::Int)
            .ok_or_else(|| wrong(ValueKind::Int)),
        (Scalar::Bool, Value::Bool(b)) => Ok(V::Bool(*b)),
        // Issue #14: a quantity in milli-units, from a string or any number.
        (Scalar::Quantity, Value::String(s)) => ipe_nostd::quantity::parse_milli(s)
            .map(V::Int)
            .map_err(|_| ErrKind::BadQuantity),
        (Scalar::Quantity, Value::Number(n)) => match ipe_nostd::report::json_int(n) {
            Some(i) => i.checked_mul(1000),
            None => n
                .as_f64()
                .filter(|f| f.is_finite())
                .and_then(|f| ipe_nostd::quantity::parse_milli(&format!("{f}")).ok()),
        }
        .map(V::Int)
        .ok_or(ErrKind::BadQuantity),
        (Scalar::Quantity, _) => Err(ErrKind::BadQuantity),
        // Issue #14: RFC 3339 text or integer epoch seconds; duration text or seconds.
        (Scalar::Time, Value::String(s)) => crate::time_text::parse_timestamp(s)
            .map(V::Int)
            .ok_or(ErrKind::BadTimestamp),
        (Scalar::Duration, Value::String(s)) => crate::time_text::parse_duration(s)
            .map(V::Int)
            .ok_or(ErrKind::BadDuration),
        (Scalar::Time | Scalar::Duration, Value::Number(n)) => {
            let secs = ipe_nostd::report::json_int(n).ok_or_else(|| wrong(ty.kind()))?;
            let ms = i128::from(secs) * 1000;
            let (ok, bad) = if *ty == Scalar::Time {
                (
                    (i128::from(ipe_nostd::time::MIN_TIMESTAMP_MS)
                        ..=i128::from(ipe_nostd::time::MAX_TIMESTAMP_MS))
                        .contains(&ms),
                    ErrKind::BadTimestamp,
                )
            } else {
                (
                    ms.abs() <= i128::from(ipe_nostd::time::MAX_DURATION_MS),
                    ErrKind::BadDuration,
                )
            };
            if ok {
                Ok(V::Int(ms as i64))
            } else {
                Err(bad)
            }
        }
        (Scalar::Ip, Value::String(s)) => parse_ip(s).map(V::Ip).ok_or(ErrKind::NotIp),
        (Scalar::Enum(m), Value::String(s)) => m
            .iter()
            .position(|x| x == s)
            .map(|r| V::Enum(u16::try_from(r).unwrap_or(u16::MAX)))
            .ok_or(ErrKind::NotInEnum),
        (t, _) => Err(wrong(t.kind())),
    }
}

/// Evaluation of one program against one request.
struct Eval<'p, 'r> {
    program: &'p Program,
    request: &'r Value,
    /// The element bound at each aggregate level.
    env: Vec<&'r Value>,
    /// Per slot: for a map, its entries as `{"key": k, "value": v}` objects, or its error.
    maps: &'r [Option<Result<Vec<Value>, ErrKind>>],
    /// The evaluation trace being recorded (`ipe explain`, `ipe test` coverage), if any.
    trace: Option<crate::trace::Builder<'p>>,
}

/// The entries of every map slot of `program` in `request` (`None` for other slots): a map is
/// a JSON object; a `null` value is an absent key; more entries than `max` make it invalid,
/// then a value of the wrong type does (the smallest such error, naming the map).
fn map_entries(program: &Program, request: &Value) -> Vec<Option<Result<Vec<Value>, ErrKind>>> {
    program
        .slots
        .iter()
        .map(|slot| {
            let SlotType::Map { fields, max_len } = &slot.ty else {
                return None;
            };
            let ty = &fields.get(1)?.ty;
            let Some(v) = lookup(request, &slot.path) else {
                return Some(Err(ErrKind::Missing));
            };
            let Value::Object(m) = v else {
                return Some(Err(ErrKind::WrongType {
                    expected: ValueKind::List,
                    got: json_kind(v),
                }));
            };
            let present: Vec<(&String, &Value)> = m.iter().filter(|(_, v)| !v.is_null()).collect();
            if present.len() > *max_len as usize {
                return Some(Err(ErrKind::TooLong));
            }
            // A map of records (issue 13): a bad value is an error of the field read, not of
            // the map (as for a list of records).
            let record = fields.get(1).is_some_and(|f| f.path != "value");
            if let Some(e) = present
                .iter()
                .filter(|_| !record)
                .filter_map(|(_, v)| scalar(v, ty).err())
                .min()
            {
                return Some(Err(e));
            }
            Some(Ok(present
                .into_iter()
                .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
                .collect()))
        })
        .collect()
}

type R<T> = Result<T, AttrError>;

impl<'p, 'r> Eval<'p, 'r> {
    fn err(slot: SlotId, field: Option<u16>, kind: ErrKind) -> AttrError {
        AttrError { slot, field, kind }
    }

    fn slot(&self, id: SlotId) -> &'p hir::Slot {
        &self.program.slots[usize::from(id)]
    }

    /// The JSON value of top-level scalar slot `id`, `Ok(None)` when it is missing. A
    /// positional slot (`xs[2]`, `xs[0].name`, session 7) reads its list: missing when the
    /// list is or the position is out of range, the list's error when it is invalid.
    fn scalar_json(&self, id: SlotId) -> Result<Option<&'r Value>, ErrKind> {
        let slot = self.slot(id);
        let Some(p) = ipe_nostd::positional::positional(&slot.path) else {
            return Ok(lookup(self.request, &slot.path));
        };
        let Some(list) = self.program.slots.iter().position(|s| s.path == p.list) else {
            return Ok(None);
        };
        let items = match self.list(SlotId::try_from(list).unwrap_or(SlotId::MAX)) {
            Ok(items) => items,
            Err(e) if e.kind == ErrKind::Missing => return Ok(None),
            Err(e) => return Err(e.kind),
        };
        at_position(items, &p)
    }

    /// Reads a list slot, checking its length and, for lists of scalars, its elements.
    fn list(&self, id: SlotId) -> R<&'r [Value]> {
        if let Some(Some(entries)) = self.maps.get(usize::from(id)) {
            return match entries {
                Ok(e) => Ok(e),
                Err(k) => Err(Self::err(id, None, *k)),
            };
        }
        let slot = self.slot(id);
        self.list_value(id, lookup(self.request, &slot.path))
    }

    /// [`Self::list`] for an aggregate's list: a nested list (issue #13) is the field of the
    /// element bound at level `within` named by its path's last segment (`p[].field`); an
    /// element that is not an object makes it unreadable, like its other fields.
    fn agg_list(&self, id: SlotId, within: Option<u8>) -> R<&'r [Value]> {
        let Some(level) = within else {
            return self.list(id);
        };
        let elem = self.env[usize::from(level)];
        if !elem.is_object() {
            let got = json_kind(elem);
            return Err(Self::err(id, None, ErrKind::NotRecord { got }));
        }
        let field = self.slot(id).path.rsplit_once("[].").map_or("", |(_, f)| f);
        self.list_value(id, lookup(elem, field))
    }

    /// Value `v` (absent: `None`) read as list slot `id` declares.
    fn list_value(&self, id: SlotId, v: Option<&'r Value>) -> R<&'r [Value]> {
        let slot = self.slot(id);
        let v = v.ok_or(Self::err(id, None, ErrKind::Missing))?;
        let Value::Array(items) = v else {
            let got = json_kind(v);
            return Err(Self::err(
                id,
                None,
                ErrKind::WrongType {
                    expected: ValueKind::List,
                    got,
                },
            ));
        };
        let (max, elem) = match &slot.ty {
            SlotType::List { elem, max_len } => (*max_len, Some(elem)),
            SlotType::Records { max_len, .. } | SlotType::Map { max_len, .. } => (*max_len, None),
            SlotType::Scalar(_) => (u32::MAX, None),
        };
        if items.len() > max as usize {
            return Err(Self::err(id, None, ErrKind::TooLong));
        }
        if let Some(elem) = elem {
            if let Some(e) = items.iter().filter_map(|x| scalar(x, elem).err()).min() {
                return Err(Self::err(id, None, e));
            }
        }
        Ok(items)
    }

    fn operand(&mut self, o: &'p Operand) -> R<V<'r>> {
        let r = self.operand_r(o);
        if matches!(
            o,
            Operand::Slot(_)
                | Operand::Field { .. }
                | Operand::Count(_)
                | Operand::CountSum(_)
                | Operand::MapGet(_)
        ) {
            self.trace_read(|ev| ev.read_record(o, &r));
        }
        r
    }

    /// What a trace records of operand `o` read as `r`: its name and its JSON value (a count
    /// as a number) or its error text.
    fn read_record(&self, o: &Operand, r: &R<V<'r>>) -> (String, Result<Value, String>) {
        let name = match o {
            Operand::Slot(id) => self.slot(*id).path.clone(),
            Operand::Field { list, field, .. } => {
                let slot = self.slot(*list);
                let outer = format!("{}[]", slot.path);
                match slot.ty.record_fields() {
                    Some(fields) => hir::joined(&outer, &fields[usize::from(*field)].path),
                    None => outer,
                }
            }
            Operand::Count(agg) => format!("count({})", self.slot(agg.list).path),
            Operand::CountSum(aggs) => {
                let lists: Vec<&str> = aggs
                    .iter()
                    .map(|a| self.slot(a.list).path.as_str())
                    .collect();
                format!("count({})", lists.join(", "))
            }
            // Issue #13: `metadata.labels[params.key]`, as written.
            Operand::MapGet(_) => crate::trace::operand_text(self.program, o),
            _ => String::new(),
        };
        let value = match r {
            Err(e) => Err(error_text(self.program, *e)),
            Ok(v) => Ok(match o {
                Operand::Slot(id) => lookup(self.request, &self.slot(*id).path)
                    .cloned()
                    .unwrap_or(Value::Null),
                Operand::Field { level, list, field } => self
                    .field(*level, *list, *field)
                    .map_or(Value::Null, |(v, _)| v.clone()),
                Operand::MapGet(m) => {
                    let ty = self
                        .slot(m.map)
                        .ty
                        .record_fields()
                        .and_then(|f| f.get(usize::from(m.field)))
                        .map(|f| &f.ty);
                    match (v, ty) {
                        (V::Str(s), _) => Value::from(*s),
                        (V::Int(n), _) => Value::from(*n),
                        (V::Bool(b), _) => Value::from(*b),
                        // Issue #13, session 10: an `ip` field, in canonical text.
                        (V::Ip(a), _) => Value::from(show_ip(*a)),
                        (V::Enum(r), Some(Scalar::Enum(members))) => members
                            .get(usize::from(*r))
                            .map_or(Value::Null, |m| Value::from(m.as_str())),
                        _ => Value::Null,
                    }
                }
                _ => match v {
                    V::Int(n) => Value::from(*n),
                    _ => Value::Null,
                },
            }),
        };
        (name, value)
    }

    fn operand_r(&mut self, o: &'p Operand) -> R<V<'r>> {
        match o {
            Operand::Lit(Literal::Str(_)) => Ok(V::Str("")),
            Operand::Lit(Literal::Int(n)) => Ok(V::Int(*n)),
            Operand::Lit(Literal::Bool(b)) => Ok(V::Bool(*b)),
            Operand::Lit(Literal::Enum { rank, .. }) => Ok(V::Enum(*rank)),
            Operand::Slot(id) => {
                let slot = self.slot(*id);
                let v = self
                    .scalar_json(*id)
                    .map_err(|k| Self::err(*id, None, k))?
                    .ok_or(Self::err(*id, None, ErrKind::Missing))?;
                let SlotType::Scalar(ty) = &slot.ty else {
                    return Err(Self::err(*id, None, ErrKind::Missing));
                };
                scalar(v, ty).map_err(|k| Self::err(*id, None, k))
            }
            Operand::Field { level, list, field } => {
                let (v, ty) = self.field(*level, *list, *field)?;
                scalar(v, ty).map_err(|k| Self::err(*list, Some(*field), k))
            }
            Operand::Count(agg) => self
                .count(agg)
                .map(|n| V::Int(i64::try_from(n).unwrap_or(i64::MAX))),
            Operand::CountSum(aggs) => self
                .count_sum(aggs)
                .map(|n| V::Int(i64::try_from(n).unwrap_or(i64::MAX))),
            Operand::Segment(g) => self.segment(g),
            Operand::Len(x) => {
                // Issue #14: chars, not bytes. A literal's text is not carried by `V`
                // (`len(x ?? "default")` substitutes one).
                let n = match &**x {
                    Operand::Lit(Literal::Str(s)) => s.chars().count(),
                    Operand::Segment(g) if seg_root_is_constant(&g.x) => {
                        self.segment_text(g)?.chars().count()
                    }
                    x => match self.operand(x)? {
                        V::Str(s) => s.chars().count(),
                        _ => 0,
                    },
                };
                Ok(V::Int(i64::try_from(n).unwrap_or(i64::MAX)))
            }
            Operand::Arith(op, args) => {
                // Issue #14: every operand is evaluated; the smallest operand error wins,
                // else an overflow or division by zero names the first slot read.
                let vals: Vec<R<V<'r>>> = args.iter().map(|a| self.operand(a)).collect();
                if let Some(e) = vals.iter().filter_map(|v| v.as_ref().err()).min() {
                    return Err(*e);
                }
                let int = |v: Option<&R<V<'r>>>| match v {
                    Some(Ok(V::Int(i))) => *i,
                    _ => 0,
                };
                let (a, b) = (int(vals.first()), int(vals.get(1)));
                op.apply(a, b).map(V::Int).map_err(|e| {
                    let at = o.first_slot().unwrap_or(0);
                    Self::err(at, None, ipe_nostd::vocab::arith_kind(e))
                })
            }
            // Strings are read through `value`/`string_of` (the row is the program's text).
            Operand::Lookup(l) => Ok(match self.row(l)? {
                Literal::Str(_) => V::Str(""),
                Literal::Int(n) => V::Int(*n),
                Literal::Bool(b) => V::Bool(*b),
                Literal::Enum { rank, .. } => V::Enum(*rank),
            }),
            Operand::Time(op) => self.time_op(op).map(V::Int),
            Operand::MapGet(m) => self.map_get(m),
        }
    }

    /// The entry of request map `m.map` whose key is the string `m.key` (issue #13,
    /// `labels[k]`): `Ok(None)` when there is none; the smaller of the key's and the map's
    /// errors when either is one (a missing map is its missing error).
    fn map_entry(&mut self, m: &'p hir::MapGet) -> R<Option<&'r Value>> {
        let key = self.string_of(&m.key);
        let (key, entries) = both(key, self.list(m.map))?;
        Ok(entries
            .iter()
            .find(|e| e.get("key").and_then(Value::as_str) == Some(key.as_str())))
    }

    /// `m[k]` / `m[k].f` (issue #13): the entry's value (or field) read as the map declares
    /// it, errors at that field; a missing entry is the missing-entry error at the map.
    fn map_get(&mut self, m: &'p hir::MapGet) -> R<V<'r>> {
        let Some(entry) = self.map_entry(m)? else {
            return Err(Self::err(m.map, None, ErrKind::MissingEntry));
        };
        self.env.push(entry);
        let level = u8::try_from(self.env.len() - 1).unwrap_or(u8::MAX);
        let r = self
            .field(level, m.map, m.field)
            .and_then(|(v, ty)| scalar(v, ty).map_err(|k| Self::err(m.map, Some(m.field), k)));
        self.env.pop();
        r
    }

    /// `has m[k]` / `has m[k].f` (issue #13): whether the map has an entry under `k` whose
    /// field is present (a value that is not a record has its fields present but unreadable,
    /// as a list element's). A missing map has no entry; the key's error and an invalid map's
    /// error are errors (the smaller when both).
    fn map_has(&mut self, m: &'p hir::MapGet) -> R<bool> {
        let key = self.string_of(&m.key);
        let list = match self.list(m.map) {
            Err(e) if e.kind == ErrKind::Missing => Ok(None),
            Err(e) => Err(e),
            Ok(items) => Ok(Some(items)),
        };
        let (key, entries) = both(key, list)?;
        let entry = entries.and_then(|items| {
            items
                .iter()
                .find(|e| e.get("key").and_then(Value::as_str) == Some(key.as_str()))
        });
        let Some(entry) = entry else {
            return Ok(false);
        };
        let path = match &self.slot(m.map).ty {
            SlotType::Map { fields, .. } => fields.get(usize::from(m.field)).map(|f| &f.path),
            _ => None,
        };
        Ok(self.map_value_not_record(m.map, m.field, entry).is_some()
            || path.is_some_and(|p| lookup(entry, p).is_some()))
    }

    /// Issue #14: `+`, `-` and calendar parts, on ints of ms (`docs/LANGUAGE.md`, "Time").
    /// Operands are read left to right; when both are errors the smaller survives.
    fn time_op(&mut self, op: &'p hir::TimeOp) -> R<i64> {
        let int = |v: V<'_>| match v {
            V::Int(n) => n,
            _ => 0,
        };
        match op {
            hir::TimeOp::Arith { sub, lhs, rhs } => {
                let (l, r) = (self.operand(lhs), self.operand(rhs));
                let (l, r) = match (l, r) {
                    (Err(a), Err(b)) => return Err(a.min(b)),
                    (Err(a), _) | (_, Err(a)) => return Err(a),
                    (Ok(l), Ok(r)) => (int(l), int(r)),
                };
                // Readers bound every operand (10,000 years of ms), so this never overflows.
                Ok(if *sub {
                    l.saturating_sub(r)
                } else {
                    l.saturating_add(r)
                })
            }
            hir::TimeOp::Part { part, arg } => {
                let t = int(self.operand(arg)?);
                Ok(calendar_part(*part, t))
            }
        }
    }

    /// The element field value and its type; errors name `list[].field`.
    fn field(&self, level: u8, list: SlotId, field: u16) -> R<(&'r Value, &'p Scalar)> {
        let fields = match &self.slot(list).ty {
            SlotType::Records { fields, .. } | SlotType::Map { fields, .. } => fields,
            // The self field: the element of a list of scalars, valid since the list is.
            SlotType::List { elem, .. } => return Ok((self.env[usize::from(level)], elem)),
            SlotType::Scalar(_) => return Err(Self::err(list, Some(field), ErrKind::Missing)),
        };
        let f = &fields[usize::from(field)];
        let elem = self.env[usize::from(level)];
        if !elem.is_object() {
            let got = json_kind(elem);
            return Err(Self::err(list, Some(field), ErrKind::NotRecord { got }));
        }
        if let Some(got) = self.map_value_not_record(list, field, elem) {
            return Err(Self::err(list, Some(field), ErrKind::NotRecord { got }));
        }
        if let Some(p) = ipe_nostd::positional::positional(&f.path) {
            let v = self
                .element_position(list, elem, p)
                .map_err(|k| Self::err(list, Some(field), k))?
                .ok_or(Self::err(list, Some(field), ErrKind::Missing))?;
            return Ok((v, &f.ty));
        }
        let v = lookup(elem, &f.path).ok_or(Self::err(list, Some(field), ErrKind::Missing))?;
        Ok((v, &f.ty))
    }

    /// The value at position `p` of the list field `p.list` of element `elem` (an object) of
    /// list `list` (issue #13, session 9: `c.args[0]`, `c.ports[-1].port`), `Ok(None)` when it
    /// is missing: the list is missing or the position out of range (or the picked element
    /// lacks the field); the list's error (as its nested slot declares it) when it is invalid.
    fn element_position(
        &self,
        list: SlotId,
        elem: &'r Value,
        p: ipe_nostd::positional::Positional<'_>,
    ) -> Result<Option<&'r Value>, ErrKind> {
        let nested = hir::joined(&format!("{}[]", self.slot(list).path), p.list);
        let Some(id) = self.program.slots.iter().position(|s| s.path == nested) else {
            return Ok(None);
        };
        let id = SlotId::try_from(id).unwrap_or(SlotId::MAX);
        let items = match self.list_value(id, lookup(elem, p.list)) {
            Ok(items) => items,
            Err(e) if e.kind == ErrKind::Missing => return Ok(None),
            Err(e) => return Err(e.kind),
        };
        at_position(items, &p)
    }

    /// The sum of the counts of `aggs` (issue #13): every count is computed; an error if any
    /// is one, the smallest.
    fn count_sum(&mut self, aggs: &'p [Aggregate]) -> R<usize> {
        let mut total = 0usize;
        let mut err: Option<AttrError> = None;
        for a in aggs {
            match self.count(a) {
                Ok(n) => total = total.saturating_add(n),
                Err(e) => err = Some(err.map_or(e, |x| x.min(e))),
            }
        }
        err.map_or(Ok(total), Err)
    }

    /// For a value field of an entry of a map of records (issue 13) whose value is not an
    /// object, that value's kind: the field is unreadable, as a field of a list element that
    /// is not a record.
    fn map_value_not_record(
        &self,
        list: SlotId,
        field: u16,
        entry: &Value,
    ) -> Option<ipe_nostd::JsonKind> {
        let SlotType::Map { fields, .. } = &self.slot(list).ty else {
            return None;
        };
        let record = fields.get(1).is_some_and(|f| f.path != "value");
        let v = entry.get("value")?;
        (record && field > 0 && !v.is_object()).then(|| json_kind(v))
    }

    fn count(&mut self, agg: &'p Aggregate) -> R<usize> {
        let items = self.agg_list(agg.list, agg.within)?;
        let Some(filter) = &agg.filter else {
            return Ok(items.len());
        };
        let mut n = 0;
        let mut err: Option<AttrError> = None;
        for (i, item) in items.iter().enumerate() {
            match self.with_elem(i, item, filter) {
                Truth::True => n += 1,
                Truth::False => {}
                Truth::Error(e) => err = Some(err.map_or(e, |x| x.min(e))),
            }
        }
        err.map_or(Ok(n), Err)
    }

    fn with_elem(&mut self, index: usize, item: &'r Value, filter: &'p Expr) -> Truth {
        let traced = self.trace_open(crate::trace::NodeKind::Element { index, value: item });
        self.env.push(item);
        let t = self.expr(filter);
        self.env.pop();
        if traced {
            self.trace_close(t);
        }
        t
    }

    /// Opens a trace node when a trace is being recorded; true when one was opened.
    fn trace_open(&mut self, kind: crate::trace::NodeKind<'p, '_>) -> bool {
        self.trace.as_mut().is_some_and(|b| b.open(kind))
    }

    /// Starts (`true`) or stops recording evaluations into the trace, if there is one.
    fn trace_switch(&mut self, on: bool) {
        if let Some(b) = self.trace.as_mut() {
            b.on = on;
        }
    }

    /// The last evaluation recorded whole (a trigger's or a clause's tree).
    fn trace_take(&mut self) -> Option<crate::trace::Node<'p>> {
        self.trace.as_mut().and_then(|b| b.done.pop())
    }

    /// Closes the node [`Self::trace_open`] opened, with its value.
    fn trace_close(&mut self, t: Truth) {
        if let Some(b) = self.trace.as_mut() {
            b.close(t);
        }
    }

    /// Records a value read (an attribute, an element field, a count) in the open trace node.
    fn trace_read(&mut self, what: impl FnOnce(&Self) -> (String, Result<Value, String>)) {
        if self
            .trace
            .as_ref()
            .is_some_and(crate::trace::Builder::is_open)
        {
            let (path, value) = what(self);
            if let Some(b) = self.trace.as_mut() {
                b.read(path, value);
            }
        }
    }

    /// Whether the valid list of scalars `items` (of slot `list`) holds `l`.
    fn contains(&self, list: SlotId, items: &[Value], l: &Owned) -> Truth {
        let SlotType::List { elem, .. } = &self.slot(list).ty else {
            return Truth::False;
        };
        Truth::from_bool(
            items
                .iter()
                .any(|x| scalar(x, elem).map(Owned::of).as_ref() == Ok(l)),
        )
    }

    /// The row of lookup `l` under its key (issue #13): the key's error, or a missing key at
    /// the key when the table has no row for it.
    fn row(&mut self, l: &'p hir::Lookup) -> R<&'p Literal> {
        let k = self.string_of(&l.key)?;
        match l.rows.binary_search_by(|(r, _)| r.as_str().cmp(&k)) {
            Ok(i) => Ok(&l.rows[i].1),
            Err(_) => Err(match l.key {
                Operand::Field { list, field, .. } => {
                    Self::err(list, Some(field), ErrKind::MissingKey)
                }
                Operand::Slot(id) => Self::err(id, None, ErrKind::MissingKey),
                _ => Self::err(0, None, ErrKind::MissingKey),
            }),
        }
    }

    fn string_of(&mut self, o: &'p Operand) -> R<String> {
        match o {
            Operand::Lit(Literal::Str(s)) => Ok(s.as_str().to_owned()),
            Operand::Lookup(l) => match self.row(l)? {
                Literal::Str(s) => Ok(s.as_str().to_owned()),
                _ => Ok(String::new()),
            },
            Operand::Segment(g) if seg_root_is_constant(&g.x) => self.segment_text(g),
            _ => match self.operand(o)? {
                V::Str(s) => Ok(s.to_owned()),
                _ => Ok(String::new()),
            },
        }
    }

    /// Reads an operand as a comparable value (strings owned so literals and request strings
    /// compare alike).
    fn value(&mut self, o: &'p Operand) -> R<Owned> {
        Ok(match o {
            Operand::Lit(Literal::Str(s)) => Owned::Str(s.as_str().to_owned()),
            Operand::Segment(g) if seg_root_is_constant(&g.x) => Owned::Str(self.segment_text(g)?),
            Operand::Lookup(l) => match self.row(l)? {
                Literal::Str(s) => Owned::Str(s.as_str().to_owned()),
                Literal::Int(n) => Owned::Int(*n),
                Literal::Bool(b) => Owned::Bool(*b),
                Literal::Enum { rank, .. } => Owned::Int(i64::from(*rank)),
            },
            _ => match self.operand(o)? {
                V::Str(s) => Owned::Str(s.to_owned()),
                V::Int(n) => Owned::Int(n),
                V::Bool(b) => Owned::Bool(b),
                V::Enum(r) => Owned::Int(i64::from(r)),
                V::Ip(a) => Owned::Ip(a),
            },
        })
    }

    /// `has o`: whether the attribute (or element field, or lookup row) is present.
    fn has(&mut self, o: &'p Operand) -> R<bool> {
        Ok(match o {
            Operand::Slot(id) => !matches!(self.scalar_json(*id), Ok(None)),
            Operand::Field { level, list, field } => {
                let fields = match &self.slot(*list).ty {
                    SlotType::Records { fields, .. } | SlotType::Map { fields, .. } => fields,
                    // The element of a valid list of scalars is never null.
                    SlotType::List { .. } => return Ok(true),
                    SlotType::Scalar(_) => return Ok(false),
                };
                // A non-object element makes the field present but invalid (its read is a
                // wrong-type error), so `has` is true for it.
                let elem = self.env[usize::from(*level)];
                let path = &fields[usize::from(*field)].path;
                !elem.is_object()
                    || self.map_value_not_record(*list, *field, elem).is_some()
                    || match ipe_nostd::positional::positional(path) {
                        // A position on the element's list field (session 9): present unless
                        // missing (an invalid list makes it present but invalid).
                        Some(p) => !matches!(self.element_position(*list, elem, p), Ok(None)),
                        None => lookup(elem, path).is_some(),
                    }
            }
            Operand::MapGet(m) => self.map_has(m)?,
            // `has M[y]` (issue #13): `y` is a key of the table; an error when `y` is.
            Operand::Lookup(l) => match self.string_of(&l.key) {
                Ok(k) => l.rows.iter().any(|(r, _)| *r == k),
                Err(e) => return Err(e),
            },
            // `segment(x, ..) ?? d` (issue #14): `x` is present and, when it is a valid string,
            // has the piece.
            Operand::Segment(g) if matches!(g.x, Operand::Slot(_) | Operand::Field { .. }) => {
                self.has(&g.x)?
                    && match self.segment(g) {
                        Ok(_) => true,
                        Err(e) => e.kind != ErrKind::NoSegment,
                    }
            }
            // Over a piece or a map constant's value: present unless the value it is cut from
            // is missing, has no such piece or no such key (any other error is the read's).
            Operand::Segment(g) => match self.segment(g) {
                Ok(_) => true,
                Err(e) => !matches!(
                    e.kind,
                    ErrKind::Missing | ErrKind::NoSegment | ErrKind::MissingKey
                ),
            },
            _ => true,
        })
    }

    /// `segment(x, sep, i)` (issue #14) as a value: the piece, a slice of the request's
    /// string when `x` is cut from one; a piece of a map constant's value is read through
    /// [`Self::string_of`] and [`Self::value`], like the value itself (`V::Str("")` here).
    fn segment(&mut self, g: &'p hir::Segment) -> R<V<'r>> {
        let s = match self.operand(&g.x)? {
            V::Str(s) => s,
            _ => "",
        };
        if seg_root_is_constant(&g.x) {
            return self.segment_text(g).map(|_| V::Str(""));
        }
        match piece(s, &g.sep, g.index) {
            Some(p) => Ok(V::Str(p)),
            None => Err(self.no_segment(g)),
        }
    }

    /// The text of `segment(x, sep, i)` (issue #14), `x` any string operand.
    fn segment_text(&mut self, g: &'p hir::Segment) -> R<String> {
        let s = self.string_of(&g.x)?;
        match piece(&s, &g.sep, g.index) {
            Some(p) => Ok(p.to_owned()),
            None => Err(self.no_segment(g)),
        }
    }

    /// The no-segment error of `g`: at the attribute or element field its string is cut
    /// from (through nested pieces and a map constant's key).
    fn no_segment(&self, g: &hir::Segment) -> AttrError {
        let mut root = &g.x;
        loop {
            root = match root {
                Operand::Segment(inner) => &inner.x,
                Operand::Lookup(l) => &l.key,
                _ => break,
            };
        }
        match *root {
            Operand::Field { list, field, .. } => Self::err(list, Some(field), ErrKind::NoSegment),
            Operand::Slot(id) => Self::err(id, None, ErrKind::NoSegment),
            _ => Self::err(0, None, ErrKind::NoSegment),
        }
    }

    fn expr(&mut self, e: &'p Expr) -> Truth {
        let traced = self.trace_open(crate::trace::NodeKind::Expr(e));
        let t = match self.expr_r(e) {
            Ok(t) => t,
            Err(err) => Truth::Error(err),
        };
        if traced {
            self.trace_close(t);
        }
        t
    }

    fn expr_r(&mut self, e: &'p Expr) -> R<Truth> {
        Ok(match e {
            Expr::Const(b) => Truth::from_bool(*b),
            Expr::Truthy(o) => Truth::from_bool(self.value(o)? == Owned::Bool(true)),
            Expr::Cmp { op, lhs, rhs, .. } => {
                let (l, r) = both(self.value(lhs), self.value(rhs))?;
                Truth::from_bool(match op {
                    CmpOp::Eq => l == r,
                    CmpOp::Ne => l != r,
                    CmpOp::Lt => l < r,
                    CmpOp::Le => l <= r,
                    CmpOp::Gt => l > r,
                    CmpOp::Ge => l >= r,
                })
            }
            Expr::InSet { lhs, set } => {
                let l = self.value(lhs)?;
                Truth::from_bool(set.iter().any(|lit| Owned::of_lit(lit) == l))
            }
            Expr::InIp { lhs, ranges } => {
                // A linear scan over the ranges (the runtimes binary-search the table).
                let hit = match self.value(lhs)? {
                    Owned::Ip(a) => ranges.iter().any(|&(lo, hi)| lo <= a && a <= hi),
                    _ => false,
                };
                Truth::from_bool(hit)
            }
            Expr::InList { lhs, list } => {
                let (l, items) = both(self.value(lhs), self.list(*list))?;
                self.contains(*list, items, &l)
            }
            Expr::InNested { lhs, list, level } => {
                let (l, items) = both(self.value(lhs), self.agg_list(*list, Some(*level)))?;
                self.contains(*list, items, &l)
            }
            Expr::InHierarchy { lhs, rhs, pairs } => {
                let (l, r) = both(self.string_of(lhs), self.string_of(rhs))?;
                Truth::from_bool(pairs.iter().any(|(d, a)| *d == l && *a == r))
            }
            Expr::Str { op, lhs, rhs } => {
                let (l, r) = both(self.string_of(lhs), self.string_of(rhs))?;
                // Issue #14: `lower(x)` lowers each char on its own (`char::to_lowercase`, not
                // the context-sensitive `str::to_lowercase`).
                let low = || l.chars().flat_map(char::to_lowercase).collect::<String>();
                Truth::from_bool(match op {
                    StrOp::StartsWith => l.starts_with(&r),
                    StrOp::EndsWith => l.ends_with(&r),
                    StrOp::Contains => l.contains(&r),
                    StrOp::Like => crate::patterns::like(&l, &r),
                    StrOp::Matches => crate::patterns::matches(&r, &l),
                    StrOp::LowerEq => low() == r,
                    StrOp::LowerStartsWith => low().starts_with(&r),
                    StrOp::LowerEndsWith => low().ends_with(&r),
                    StrOp::LowerContains => low().contains(&r),
                })
            }
            Expr::Fold { op, lhs, rhs } => {
                // Issue #14, session 9: `lower(x)` against another folded string, a `like`
                // pattern or a regex; each char lowered on its own, as above.
                let (l, r) = both(self.string_of(lhs), self.string_of(rhs))?;
                let low = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<String>();
                Truth::from_bool(match op {
                    StrOp::LowerEq => low(&l) == low(&r),
                    StrOp::LowerStartsWith => low(&l).starts_with(&low(&r)),
                    StrOp::LowerEndsWith => low(&l).ends_with(&low(&r)),
                    StrOp::LowerContains => low(&l).contains(&low(&r)),
                    StrOp::Like => crate::patterns::like(&low(&l), &low(&r)),
                    StrOp::Matches => crate::patterns::matches(&r, &low(&l)),
                    StrOp::StartsWith | StrOp::EndsWith | StrOp::Contains => false,
                })
            }
            Expr::InRanges { lhs, ranges } => {
                // Issue #14, session 9: a linear scan (the runtimes binary-search the table).
                let hit = match self.value(lhs)? {
                    Owned::Int(v) => ranges.iter().any(|&(lo, hi)| lo <= v && v <= hi),
                    _ => false,
                };
                Truth::from_bool(hit)
            }
            Expr::Has(o) => Truth::from_bool(self.has(o)?),
            Expr::Not(x) => match self.expr(x) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                t => t,
            },
            Expr::And(xs) => combine(
                xs.iter().map(|x| self.expr(x)).collect(),
                Truth::False,
                Truth::True,
            ),
            Expr::Or(xs) => combine(
                xs.iter().map(|x| self.expr(x)).collect(),
                Truth::True,
                Truth::False,
            ),
            Expr::Any(agg) | Expr::All(agg) => {
                let items = self.agg_list(agg.list, agg.within)?;
                let Some(filter) = &agg.filter else {
                    return Ok(Truth::from_bool(matches!(e, Expr::All(_))));
                };
                let results = items
                    .iter()
                    .enumerate()
                    .map(|(n, i)| self.with_elem(n, i, filter))
                    .collect();
                if matches!(e, Expr::Any(_)) {
                    combine(results, Truth::True, Truth::False)
                } else {
                    combine(results, Truth::False, Truth::True)
                }
            }
        })
    }
}

/// Comparable values: enum ranks compare as integers (operands always share a type).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Owned {
    Str(String),
    Int(i64),
    Bool(bool),
    Ip(u128),
}

impl Owned {
    fn of(v: V<'_>) -> Self {
        match v {
            V::Str(s) => Owned::Str(s.to_owned()),
            V::Int(n) => Owned::Int(n),
            V::Bool(b) => Owned::Bool(b),
            V::Enum(r) => Owned::Int(i64::from(r)),
            V::Ip(a) => Owned::Ip(a),
        }
    }

    fn of_lit(l: &Literal) -> Self {
        match l {
            Literal::Str(s) => Owned::Str(s.as_str().to_owned()),
            Literal::Int(n) => Owned::Int(*n),
            Literal::Bool(b) => Owned::Bool(*b),
            Literal::Enum { rank, .. } => Owned::Int(i64::from(*rank)),
        }
    }
}

/// Both results, or the smaller error.
fn both<A, B>(a: R<A>, b: R<B>) -> R<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(x), Err(y)) => Err(x.min(y)),
        (Err(x), _) | (_, Err(x)) => Err(x),
    }
}

/// `dominant` if any part is it; else the smallest error; else `otherwise`.
fn combine(parts: Vec<Truth>, dominant: Truth, otherwise: Truth) -> Truth {
    if parts.contains(&dominant) {
        return dominant;
    }
    parts
        .into_iter()
        .filter_map(|t| match t {
            Truth::Error(e) => Some(e),
            _ => None,
        })
        .min()
        .map_or(otherwise, Truth::Error)
}

/// The decision-JSON text of an attribute error.
pub fn error_text(program: &Program, e: AttrError) -> String {
    let slot = &program.slots[usize::from(e.slot)];
    let (path, ty, max) = match (&slot.ty, e.field) {
        (
            SlotType::Records {
                fields, max_len, ..
            },
            Some(f),
        )
        // A field of a map of records (issue 13) is named like a list element's field.
        | (SlotType::Map { fields, max_len }, Some(f))
            if matches!(slot.ty, SlotType::Records { .. })
                || fields.get(1).is_some_and(|f| f.path != "value") =>
        {
            let f = &fields[usize::from(f)];
            let outer = format!("{}[]", slot.path);
            // A position on an element's list field (`c.args[0]`, session 9) carries that
            // list's error: its bound.
            let max = ipe_nostd::positional::positional(&f.path)
                .and_then(|p| {
                    let nested = crate::hir::joined(&outer, p.list);
                    program.slots.iter().find(|l| l.path == nested)
                })
                .map_or(*max_len, |l| match &l.ty {
                    SlotType::List { max_len, .. } | SlotType::Records { max_len, .. } => *max_len,
                    _ => *max_len,
                });
            (crate::hir::joined(&outer, &f.path), Some(&f.ty), max)
        }
        (SlotType::Scalar(s), _) => {
            // A position (`xs[2]`, session 7) carries its list's error: its list's bound.
            let max = ipe_nostd::positional::positional(&slot.path)
                .and_then(|p| program.slots.iter().find(|l| l.path == p.list))
                .map_or(0, |l| match &l.ty {
                    SlotType::List { max_len, .. } | SlotType::Records { max_len, .. } => *max_len,
                    _ => 0,
                });
            (slot.path.clone(), Some(s), max)
        }
        (SlotType::List { elem, max_len }, _) => (slot.path.clone(), Some(elem), *max_len),
        (SlotType::Records { max_len, .. }, _) => (slot.path.clone(), None, *max_len),
        (SlotType::Map { fields, max_len }, _) => {
            let ty = fields.get(1).map(|f| &f.ty);
            let members: Vec<&str> = match ty {
                Some(Scalar::Enum(m)) => m.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            let mut out = String::new();
            let _ =
                ipe_nostd::vocab::write_map_error(&mut out, &slot.path, e.kind, members, *max_len);
            return out;
        }
    };
    let members: Vec<&str> = match ty {
        Some(Scalar::Enum(m)) => m.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    let mut out = String::new();
    let _ = write_attr_error(&mut out, &path, e.kind, members, max);
    out
}

/// The truth of one top-level condition of `program` (a trigger or a clause, no aggregate
/// element bound) for `request` (used by `ipe analyze` to confirm its witnesses).
pub fn truth(program: &Program, request: &Value, e: &Expr) -> Truth {
    let maps = map_entries(program, request);
    let mut ev = Eval {
        program,
        request,
        env: Vec::new(),
        maps: &maps,
        trace: None,
    };
    ev.expr(e)
}

/// Evaluates `program` against `request` (a JSON object; anything else reads as an empty
/// request).
pub fn evaluate(program: &Program, request: &Value) -> Report {
    run(program, request, None)
}

/// [`evaluate`], also recording how each policy was evaluated ([`crate::trace`]).
pub fn evaluate_traced<'p>(
    program: &'p Program,
    request: &Value,
) -> (Report, Vec<crate::trace::PolicyTrace<'p>>) {
    let mut traces = Vec::new();
    let report = run(program, request, Some(&mut traces));
    (report, traces)
}

/// [`evaluate`], recording a trace per policy into `traces` when given.
fn run<'p>(
    program: &'p Program,
    request: &Value,
    mut traces: Option<&mut Vec<crate::trace::PolicyTrace<'p>>>,
) -> Report {
    let maps = map_entries(program, request);
    let mut ev = Eval {
        program,
        request,
        env: Vec::new(),
        maps: &maps,
        trace: traces.as_ref().map(|_| crate::trace::Builder::default()),
    };
    let mut d = Report {
        effect: program.default,
        matched: Vec::new(),
        violations: Vec::new(),
        errors: Vec::new(),
        truncated: 0,
    };
    // First-match groups: the group each policy is a rule of.
    let mut group_of: Vec<Option<usize>> = vec![None; program.policies.len()];
    for (gi, g) in program.groups.iter().enumerate() {
        for slot in group_of.iter_mut().skip(g.first).take(g.len) {
            *slot = Some(gi);
        }
    }
    // The groups already decided by one of their rules.
    let mut decided = vec![false; program.groups.len()];
    for (pi, p) in program.policies.iter().enumerate() {
        let group = group_of[pi];
        if group.is_some_and(|g| decided[g]) {
            // A rule after the one that decided its group: not evaluated, not listed.
            if let Some(t) = traces.as_deref_mut() {
                t.push(crate::trace::PolicyTrace::skipped(pi, group));
            }
            continue;
        }
        ev.trace_switch(true);
        let applies = match &p.trigger {
            None => Truth::True,
            Some(t) => ev.expr(t),
        };
        if let Some(t) = traces.as_deref_mut() {
            t.push(crate::trace::PolicyTrace::evaluated(
                pi,
                group,
                applies,
                ev.trace_take(),
            ));
        }
        ev.trace_switch(false);
        let mut clause_nodes = Vec::new();
        if applies != Truth::False {
            // True or an error: this rule decides for its group (an error fails closed).
            if let Some(g) = group {
                decided[g] = true;
            }
        }
        let fail = |d: &mut Report, e| {
            d.errors.push(ErrorReport {
                policy: p.name.as_str().to_owned(),
                error: error_text(program, e),
            });
        };
        match applies {
            Truth::False => continue,
            Truth::Error(e) => {
                fail(&mut d, e);
                continue;
            }
            Truth::True => d.matched.push(p.name.as_str().to_owned()),
        }
        let violate = |d: &mut Report, reason: String| {
            d.violations.push(ViolationReport {
                policy: p.name.as_str().to_owned(),
                intent: p.intent.as_str().to_owned(),
                reason,
            });
        };
        match &p.body {
            Body::Denies { .. } if p.template.is_some() => {
                let text = render(&mut ev, p, None, None);
                violate(&mut d, text);
            }
            Body::Denies { reason } => violate(
                &mut d,
                reason
                    .clone()
                    .unwrap_or_else(|| DENIED_BY_POLICY.to_owned()),
            ),
            Body::Requires { clauses, reason } => {
                ev.trace_switch(true);
                let results: Vec<Truth> = clauses
                    .iter()
                    .map(|c| {
                        let t = ev.expr(&c.expr);
                        clause_nodes.extend(ev.trace_take());
                        t
                    })
                    .collect();
                ev.trace_switch(false);
                if let Some(t) = traces.as_deref_mut().and_then(|t| t.last_mut()) {
                    t.clauses = std::mem::take(&mut clause_nodes);
                }
                if let Some(i) = results.iter().position(|t| *t == Truth::False) {
                    let c = &clauses[i];
                    let text = match reason {
                        _ if p.template.is_some() => {
                            let count = if c.reports_count {
                                found(&mut ev, &c.expr)
                            } else {
                                None
                            };
                            render(&mut ev, p, Some((i, c)), count)
                        }
                        Some(r) => r.clone(),
                        None => {
                            let mut s = format!("{REQUIREMENT_NOT_MET}{}", c.text);
                            let count = if c.reports_count {
                                found(&mut ev, &c.expr)
                            } else {
                                None
                            };
                            if let Some(n) = count {
                                s.push_str(&format!(" (found {n})"));
                            } else if let Some(v) = shown_values(&ev, &c.expr) {
                                s.push_str(&format!(" (found {v})"));
                            }
                            s
                        }
                    };
                    violate(&mut d, text);
                } else if let Truth::Error(e) = combine(results, Truth::False, Truth::True) {
                    fail(&mut d, e);
                }
            }
        }
    }
    if !d.violations.is_empty() || !d.errors.is_empty() {
        d.effect = Effect::Deny;
    } else if !d.matched.is_empty() {
        d.effect = Effect::Allow;
    }
    d
}

/// A calendar part of timestamp `t` (ms) in UTC, through the `time` crate (independent of the
/// runtimes' integer arithmetic); the arithmetic answer outside the crate's range.
fn calendar_part(part: hir::TimePart, t: i64) -> i64 {
    let day = 86_400_000i64;
    let dt = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t) * 1_000_000).ok();
    match (part, dt) {
        (hir::TimePart::Hour, Some(dt)) => i64::from(dt.hour()),
        (hir::TimePart::Weekday, Some(dt)) => i64::from(dt.weekday().number_from_monday()),
        (hir::TimePart::TimeOfDay, Some(dt)) => {
            let (h, m, s, ms) = (
                i64::from(dt.hour()),
                i64::from(dt.minute()),
                i64::from(dt.second()),
                i64::from(dt.millisecond()),
            );
            ((h * 60 + m) * 60 + s) * 1000 + ms
        }
        (hir::TimePart::Hour, None) => t.rem_euclid(day) / 3_600_000,
        (hir::TimePart::Weekday, None) => (t.div_euclid(day) + 3).rem_euclid(7) + 1,
        (hir::TimePart::TimeOfDay, None) => t.rem_euclid(day),
    }
}

/// The count in a `count`-comparison clause.
fn found<'p>(ev: &mut Eval<'p, '_>, e: &'p Expr) -> Option<usize> {
    let Expr::Cmp { lhs, rhs, .. } = e else {
        return None;
    };
    [lhs, rhs].into_iter().find_map(|o| match o {
        Operand::Count(agg) => ev.count(agg).ok(),
        Operand::CountSum(aggs) => ev.count_sum(aggs).ok(),
        _ => None,
    })
}

/// What a placeholder shows when its attribute is missing, is invalid, or has no value for
/// this violation (`docs/LANGUAGE.md`, "Reasons with values").
const MISSING: &str = "<missing>";
const INVALID: &str = "<invalid>";
const NONE: &str = "<none>";

/// A read value as a reason shows it (strings raw, enum members by name).
fn show(v: Result<&Value, ErrKind>, ty: &Scalar) -> String {
    match v.and_then(|v| scalar(v, ty).map(|s| (v, s))) {
        Ok((_, V::Int(n))) if *ty == Scalar::Time => crate::time_text::format_timestamp(n),
        Ok((_, V::Int(n))) if *ty == Scalar::Duration => crate::time_text::format_duration(n),
        Ok((_, V::Str(s))) => s.to_owned(),
        Ok((_, V::Int(n))) => n.to_string(),
        Ok((_, V::Bool(b))) => b.to_string(),
        Ok((v, V::Enum(_))) => v.as_str().unwrap_or(INVALID).to_owned(),
        Ok((_, V::Ip(a))) => show_ip(a),
        Err(ErrKind::Missing) => MISSING.to_owned(),
        Err(_) => INVALID.to_owned(),
    }
}

/// Renders policy `p`'s reason template for the failed clause `failed` (index and clause;
/// `None` for `denies`), with the count it reports.
fn render<'p>(
    ev: &mut Eval<'p, '_>,
    p: &'p hir::Policy,
    failed: Option<(usize, &'p hir::Clause)>,
    count: Option<usize>,
) -> String {
    let mut out = String::new();
    for part in p.template.iter().flatten() {
        match part {
            hir::ReasonPart::Text(t) => out.push_str(t),
            hir::ReasonPart::Slot(s) => {
                let slot = ev.slot(*s);
                let SlotType::Scalar(ty) = &slot.ty else {
                    out.push_str(INVALID);
                    continue;
                };
                out.push_str(&match ev.scalar_json(*s) {
                    Ok(v) => show(v.ok_or(ErrKind::Missing), ty),
                    Err(_) => INVALID.to_owned(),
                });
            }
            hir::ReasonPart::SlotOr(s, default) => {
                let slot = ev.slot(*s);
                let SlotType::Scalar(ty) = &slot.ty else {
                    out.push_str(INVALID);
                    continue;
                };
                match lookup(ev.request, &slot.path) {
                    // Missing: the schema default, written as a placeholder writes a value.
                    None => out.push_str(&match default {
                        hir::Literal::Str(s) => s.as_str().to_owned(),
                        hir::Literal::Int(n) => n.to_string(),
                        hir::Literal::Bool(b) => b.to_string(),
                        hir::Literal::Enum { name, .. } => name.clone(),
                    }),
                    Some(v) => out.push_str(&show(Ok(v), ty)),
                }
            }
            hir::ReasonPart::FieldOf(alts) => {
                // The list whose clause failed (issue #13: an `all` over several lists).
                let mine = alts
                    .iter()
                    .find(|a| failed.is_some_and(|(i, _)| i == usize::from(a.clause)));
                match mine {
                    Some(a) => out.push_str(&witness_field(ev, failed, a.clause, a.list, a.field)),
                    None => out.push_str(NONE),
                }
            }
            hir::ReasonPart::Field {
                clause,
                list,
                field,
            } => out.push_str(&witness_field(ev, failed, *clause, *list, *field)),
            hir::ReasonPart::Count => match count {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str(NONE),
            },
            hir::ReasonPart::Found => out.push_str(&found_values(ev, failed.map(|(_, c)| c))),
            hir::ReasonPart::MapEntry { map, key, field } => {
                out.push_str(&map_entry_text(ev, *map, *key, *field));
            }
            hir::ReasonPart::ConstEntry { key, rows } => {
                // `{M[y]}` (session 11): the table's value under the key, raw.
                out.push_str(&match ev.scalar_json(*key) {
                    Ok(None | Some(Value::Null)) => MISSING.to_owned(),
                    Ok(Some(Value::String(k))) => {
                        match rows.binary_search_by(|r| r.0.as_str().cmp(k.as_str())) {
                            Ok(i) => match &rows[i].1 {
                                hir::Literal::Str(s) => s.as_str().to_owned(),
                                hir::Literal::Int(n) => n.to_string(),
                                hir::Literal::Bool(b) => b.to_string(),
                                hir::Literal::Enum { name, .. } => name.clone(),
                            },
                            Err(_) => MISSING.to_owned(),
                        }
                    }
                    _ => INVALID.to_owned(),
                });
            }
            hir::ReasonPart::WitnessEntry {
                clause,
                list,
                key_field,
                map,
                field,
            } => {
                let elem = match failed {
                    Some((i, c)) if i == usize::from(*clause) => witness(ev, c),
                    _ => None,
                };
                out.push_str(&match elem {
                    None => NONE.to_owned(),
                    Some(elem) => match element_field(ev, *list, elem, *key_field) {
                        Ok(Some(Value::String(k))) => map_entry_under(ev, *map, k, *field),
                        Ok(None | Some(Value::Null)) | Err(ErrKind::Missing) => MISSING.to_owned(),
                        _ => INVALID.to_owned(),
                    },
                });
            }
        }
    }
    out
}

/// A `{m[k]}` placeholder (issue #13, session 10): field `field` of the entry of map `map`
/// under the string in slot `key`, as a placeholder shows a value; [`MISSING`] when the key or
/// the map is missing or there is no such entry, [`INVALID`] when either is invalid.
fn map_entry_text(ev: &mut Eval<'_, '_>, map: hir::SlotId, key: hir::SlotId, field: u16) -> String {
    let key = match ev.scalar_json(key) {
        Ok(None | Some(Value::Null)) => return MISSING.to_owned(),
        Ok(Some(Value::String(k))) => k.clone(),
        _ => return INVALID.to_owned(),
    };
    map_entry_under(ev, map, &key, field)
}

/// Field `field` of the entry of map `map` under `key`, as a placeholder shows a value
/// ([`map_entry_text`], and `{limits[c.name]}` with the key read from a witness, session 11).
fn map_entry_under(ev: &mut Eval<'_, '_>, map: hir::SlotId, key: &str, field: u16) -> String {
    let entries = match ev.list(map) {
        Ok(items) => items,
        Err(e) if e.kind == ErrKind::Missing => return MISSING.to_owned(),
        Err(_) => return INVALID.to_owned(),
    };
    let Some(entry) = entries
        .iter()
        .find(|e| e.get("key").and_then(Value::as_str) == Some(key))
    else {
        return MISSING.to_owned();
    };
    let SlotType::Map { fields, .. } = &ev.slot(map).ty else {
        return INVALID.to_owned();
    };
    let Some(f) = fields.get(usize::from(field)) else {
        return INVALID.to_owned();
    };
    if ev.map_value_not_record(map, field, entry).is_some() {
        return INVALID.to_owned();
    }
    show(lookup(entry, &f.path).ok_or(ErrKind::Missing), &f.ty)
}

/// Field `field` of element `elem` of list `list` (a list of records), the JSON value or
/// `None` when absent; the element's error when it is no record.
fn element_field<'r>(
    ev: &mut Eval<'_, 'r>,
    list: hir::SlotId,
    elem: &'r Value,
    field: u16,
) -> Result<Option<&'r Value>, ErrKind> {
    let SlotType::Records { fields, .. } = &ev.slot(list).ty else {
        return Err(ErrKind::Missing);
    };
    let Some(f) = fields.get(usize::from(field)) else {
        return Err(ErrKind::Missing);
    };
    if !elem.is_object() {
        return Err(ErrKind::NotRecord {
            got: json_kind(elem),
        });
    }
    match ipe_nostd::positional::positional(&f.path) {
        Some(p) => ev.element_position(list, elem, p),
        None => Ok(lookup(elem, &f.path)),
    }
}

/// A witness field placeholder: field `field` of list `list`'s witness when `clause` is the
/// failed one, else [`NONE`].
fn witness_field<'p>(
    ev: &mut Eval<'p, '_>,
    failed: Option<(usize, &'p hir::Clause)>,
    clause: u16,
    list: hir::SlotId,
    field: u16,
) -> String {
    let elem = match failed {
        Some((i, c)) if i == usize::from(clause) => witness(ev, c),
        _ => None,
    };
    let (Some(elem), SlotType::Records { fields, .. }) = (elem, &ev.slot(list).ty) else {
        return NONE.to_owned();
    };
    let f = &fields[usize::from(field)];
    let v = if elem.is_object() {
        match ipe_nostd::positional::positional(&f.path) {
            // A position on the element's list field (`{c.args[0]}`, session 9).
            Some(p) => ev
                .element_position(list, elem, p)
                .and_then(|v| v.ok_or(ErrKind::Missing)),
            None => lookup(elem, &f.path).ok_or(ErrKind::Missing),
        }
    } else {
        Err(ErrKind::NotRecord {
            got: json_kind(elem),
        })
    };
    show(v, &f.ty)
}

/// The witness of a false `all` clause: its first element, in list order, whose filter is
/// false.
fn witness<'p, 'r>(ev: &mut Eval<'p, 'r>, c: &'p hir::Clause) -> Option<&'r Value> {
    let agg = c.witness_all()?;
    let filter = agg.filter.as_deref()?;
    let items = ev.list(agg.list).ok()?;
    items
        .iter()
        .enumerate()
        .find(|(i, item)| ev.with_elem(*i, item, filter) == Truth::False)
        .map(|(_, item)| item)
}

/// `{#found}`: the values the failed clause read ([`shown_values`]), `<none>` when it shows
/// none.
fn found_values(ev: &Eval<'_, '_>, clause: Option<&hir::Clause>) -> String {
    clause
        .and_then(|c| shown_values(ev, &c.expr))
        .unwrap_or_else(|| NONE.to_owned())
}

/// The values a failed clause shows (`docs/LANGUAGE.md`, "Reasons with values"): for a clause
/// made only of comparisons, `in [..]`, string tests, bare conditions and `has` on top-level
/// attributes and literals, under `not`/`and`/`or`, every attribute whose value it reads
/// (`has` reads none), each once, in path order, as `path = value` joined by `, `, leaving
/// out attributes missing from the request; `None` for another shape or when nothing is left.
fn shown_values(ev: &Eval<'_, '_>, e: &Expr) -> Option<String> {
    let mut slots = Vec::new();
    if !value_reads(e, &mut slots) {
        return None;
    }
    let mut shown: Vec<(&str, String)> = Vec::new();
    for s in slots {
        let slot = ev.slot(s);
        if shown.iter().any(|(p, _)| *p == slot.path) {
            continue;
        }
        let SlotType::Scalar(ty) = &slot.ty else {
            return None;
        };
        let Ok(v) = ev.scalar_json(s) else {
            shown.push((&slot.path, INVALID.to_owned()));
            continue;
        };
        let Some(v) = v else {
            // Missing: its schema default, the value the conditions read (issue #13).
            if let Some(d) = slot.default.as_ref().filter(|_| shows_default(ty)) {
                shown.push((&slot.path, found_default(d)));
            }
            continue;
        };
        let text = match scalar(v, ty) {
            Ok(V::Int(n)) if *ty == Scalar::Time => {
                format!("\"{}\"", crate::time_text::format_timestamp(n))
            }
            Ok(V::Int(n)) if *ty == Scalar::Duration => {
                format!("\"{}\"", crate::time_text::format_duration(n))
            }
            Ok(V::Str(t)) => serde_json::to_string(t).ok()?,
            Ok(V::Enum(_)) => serde_json::to_string(v.as_str()?).ok()?,
            Ok(V::Int(n)) => n.to_string(),
            Ok(V::Bool(b)) => b.to_string(),
            Ok(V::Ip(a)) => serde_json::to_string(&show_ip(a)).ok()?,
            Err(_) => INVALID.to_owned(),
        };
        shown.push((&slot.path, text));
    }
    shown.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if shown.is_empty() {
        return None;
    }
    let parts: Vec<String> = shown.iter().map(|(p, v)| format!("{p} = {v}")).collect();
    Some(parts.join(", "))
}

/// Whether a missing attribute of type `ty` with a schema default shows the default in a
/// default reason's ` (found ...)` part and `{#found}`: the types whose default is written as
/// the request writes them (string, int, bool, enum).
pub(crate) fn shows_default(ty: &Scalar) -> bool {
    matches!(
        ty,
        Scalar::Str | Scalar::Int | Scalar::Bool | Scalar::Enum(_)
    )
}

/// A schema default as ` (found ...)` writes a value: strings and enum members quoted.
fn found_default(d: &hir::Literal) -> String {
    match d {
        hir::Literal::Str(s) => serde_json::to_string(s.as_str()).unwrap_or_default(),
        hir::Literal::Enum { name, .. } => serde_json::to_string(name).unwrap_or_default(),
        hir::Literal::Int(n) => n.to_string(),
        hir::Literal::Bool(b) => b.to_string(),
    }
}

/// Collects the top-level attributes whose values `e` reads; false when `e` reads a list, an
/// element or a count (a shape whose values a reason does not show).
fn value_reads(e: &Expr, out: &mut Vec<SlotId>) -> bool {
    // A lookup (issue #13) shows its key when the key is a top-level attribute.
    fn operand(o: &Operand, out: &mut Vec<SlotId>) -> bool {
        match o {
            Operand::Slot(s) => {
                out.push(*s);
                true
            }
            Operand::Lit(_) => true,
            Operand::Lookup(l) => operand(&l.key, out),
            Operand::Field { .. } | Operand::Count(_) | Operand::CountSum(_) => false,
            Operand::Arith(_, args) => args.iter().all(|a| operand(a, out)),
            // Issue #14: time arithmetic shows the attributes it reads.
            Operand::Time(op) => op.operands().into_iter().all(|o| operand(o, out)),
            Operand::Len(x) => operand(x, out),
            Operand::Segment(g) => operand(&g.x, out),
            // Issue #13: a request map's entry is no attribute a reason shows.
            Operand::MapGet(_) => false,
        }
    }
    match e {
        Expr::Const(_) => true,
        Expr::Truthy(o)
        | Expr::InSet { lhs: o, .. }
        | Expr::InIp { lhs: o, .. }
        | Expr::InRanges { lhs: o, .. } => operand(o, out),
        Expr::Cmp { lhs, rhs, .. } | Expr::Str { lhs, rhs, .. } | Expr::Fold { lhs, rhs, .. } => {
            operand(lhs, out) && operand(rhs, out)
        }
        Expr::Has(Operand::Lookup(l)) => operand(&l.key, out),
        Expr::Has(Operand::Segment(g)) => operand(&g.x, out),
        Expr::Has(o) => !matches!(o, Operand::Field { .. } | Operand::MapGet(_)),
        Expr::Not(e) => value_reads(e, out),
        Expr::And(es) | Expr::Or(es) => es.iter().all(|e| value_reads(e, out)),
        Expr::InHierarchy { lhs, rhs, .. } => operand(lhs, out) && operand(rhs, out),
        Expr::InList { .. } | Expr::InNested { .. } | Expr::Any(_) | Expr::All(_) => false,
    }
}
