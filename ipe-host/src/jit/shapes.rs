//! The parts of a bundle that compiled code and its helpers need, copied out of the bundle so
//! a [`super::JitSet`] owns everything its code points into.

use ipe_nostd::format::kind;
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::{Bundle, ErrKind, JsonKind, Value, ValueKind};

use super::errcode;

/// One attribute slot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SlotShape {
    /// `format::kind`.
    pub kind: u8,
    /// Element kind of a list of scalars.
    pub elem: u8,
    /// Enum of the slot (or of its elements).
    pub enum_id: u16,
    /// First field record.
    pub first_field: u16,
    /// Field count of a list of records.
    pub fields: u16,
    /// Declared maximum list length.
    pub max_len: u32,
}

/// Bundle metadata owned by a compiled set.
#[derive(Debug, Default)]
pub(crate) struct Shapes {
    pub symbols: Vec<Box<str>>,
    pub slots: Vec<SlotShape>,
    /// Field records: (kind, enum).
    pub fields: Vec<(u8, u16)>,
    /// Member symbols of every enum, in rank order.
    pub enums: Vec<Vec<u32>>,
    /// Sorted keys of every constant set.
    pub sets: Vec<Vec<i64>>,
    /// Constants: (kind, value).
    pub consts: Vec<(u8, i64)>,
}

impl Shapes {
    pub(crate) fn of(bundle: &Bundle<'_>) -> Shapes {
        let symbols = (0..bundle.symbol_count())
            .map(|s| Box::<str>::from(bundle.symbol(s as u32)))
            .collect();
        let slots = (0..bundle.slot_count())
            .filter_map(|s| u16::try_from(s).ok())
            .map(|s| {
                let r = bundle.slot_rec(s);
                SlotShape {
                    kind: r.kind(),
                    elem: r.elem_kind(),
                    enum_id: r.enum_id(),
                    first_field: r.first_field(),
                    fields: r.field_count(),
                    max_len: r.max_len(),
                }
            })
            .collect();
        let fields = (0..bundle.field_count())
            .map(|f| {
                let r = bundle.field_rec(f);
                (r.kind(), r.enum_id())
            })
            .collect();
        let enums = (0..bundle.enum_count())
            .filter_map(|e| u16::try_from(e).ok())
            .map(|e| bundle.enum_member_symbols(e).collect())
            .collect();
        let sets = (0..bundle.set_count())
            .filter_map(|s| u16::try_from(s).ok())
            .map(|s| bundle.set_keys(s).collect())
            .collect();
        let consts = (0..bundle.const_count())
            .filter_map(|c| u16::try_from(c).ok())
            .map(|c| {
                let r = bundle.const_rec(c);
                (r.kind(), r.value())
            })
            .collect();
        Shapes {
            symbols,
            slots,
            fields,
            enums,
            sets,
            consts,
        }
    }

    pub(crate) fn slot(&self, s: u16) -> SlotShape {
        self.slots
            .get(usize::from(s))
            .copied()
            .unwrap_or(SlotShape {
                kind: kind::BOOL,
                elem: 0,
                enum_id: 0,
                first_field: 0,
                fields: 0,
                max_len: 0,
            })
    }

    /// Kind and enum of field `f` of list-of-records slot `s`.
    pub(crate) fn field(&self, s: u16, f: u16) -> (u8, u16) {
        let i = usize::from(self.slot(s).first_field).wrapping_add(usize::from(f));
        self.fields.get(i).copied().unwrap_or((kind::BOOL, 0))
    }

    pub(crate) fn members(&self, e: u16) -> &[u32] {
        self.enums.get(usize::from(e)).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn set(&self, k: u16) -> &[i64] {
        self.sets.get(usize::from(k)).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn symbol(&self, sym: u32) -> &str {
        self.symbols.get(sym as usize).map_or("", |s| s)
    }

    pub(crate) fn enum_rank(&self, e: u16, sym: u32) -> Option<u16> {
        if sym == NO_SYMBOL {
            return None;
        }
        self.members(e)
            .iter()
            .position(|&m| m == sym)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// The error code of reading `v` as a scalar of kind `k` (enum `e`) when it is not a valid
    /// one, at location code `at`; [`errcode::OK`] when it is valid.
    pub(crate) fn read_err(&self, v: Value<'_>, k: u8, e: u16, at: u64) -> u64 {
        let kind = match (k, v) {
            (_, Value::Missing) => ErrKind::Missing,
            (_, Value::Invalid(kind)) => kind,
            (kind::STR, Value::Str(_))
            | (kind::INT, Value::Int(_))
            | (kind::BOOL, Value::Bool(_)) => return errcode::OK,
            (kind::ENUM, Value::Enum(r)) if usize::from(r) < self.members(e).len() => {
                return errcode::OK
            }
            (kind::ENUM, Value::Str(s)) if self.enum_rank(e, s.sym).is_some() => {
                return errcode::OK
            }
            (kind::ENUM, Value::Enum(_) | Value::Str(_)) => ErrKind::NotInEnum,
            (_, v) => ErrKind::WrongType {
                expected: kind_of(k),
                got: v.json_kind(),
            },
        };
        at | errcode::kind_code(kind)
    }

    /// The interpreter's `list`: the elements and stride of list slot `s`, or its error code.
    pub(crate) fn list<'v>(&self, s: u16, v: Value<'v>) -> Result<(&'v [Value<'v>], usize), u64> {
        let sh = self.slot(s);
        let at = errcode::at(s, None);
        let (vals, stride) = match (sh.kind, v) {
            (_, Value::Missing) => return Err(at | errcode::kind_code(ErrKind::Missing)),
            (_, Value::Invalid(kind)) => return Err(at | errcode::kind_code(kind)),
            (kind::RECORDS, Value::Records(v)) => (v, usize::from(sh.fields).max(1)),
            (kind::LIST, Value::List(v)) => (v, 1),
            (_, v) => {
                return Err(at
                    | errcode::kind_code(ErrKind::WrongType {
                        expected: ValueKind::List,
                        got: v.json_kind(),
                    }))
            }
        };
        if vals.len() / stride > sh.max_len as usize {
            return Err(at | errcode::kind_code(ErrKind::TooLong));
        }
        if sh.kind == kind::LIST {
            // The smallest element error, as in the interpreter (codes order like errors).
            let mut worst = errcode::OK;
            for &v in vals {
                let v = if v == Value::Missing {
                    Value::Invalid(ErrKind::WrongType {
                        expected: kind_of(sh.elem),
                        got: JsonKind::Null,
                    })
                } else {
                    v
                };
                worst = worst.min(self.read_err(v, sh.elem, sh.enum_id, at));
            }
            if worst != errcode::OK {
                return Err(worst);
            }
        }
        Ok((vals, stride))
    }

    /// The comparable key of a valid scalar of kind `k` (enum `e`): symbol (or `None` for an
    /// unknown string, compared by text), integer, 0/1 or rank.
    pub(crate) fn scalar_key(&self, v: Value<'_>, k: u8, e: u16) -> Option<i64> {
        match (k, v) {
            (kind::ENUM, Value::Enum(r)) => Some(i64::from(r)),
            (kind::ENUM, Value::Str(s)) => self.enum_rank(e, s.sym).map(i64::from),
            (_, Value::Str(s)) if s.sym != NO_SYMBOL => Some(i64::from(s.sym)),
            (_, Value::Int(i)) => Some(i),
            (_, Value::Bool(b)) => Some(i64::from(b)),
            _ => None,
        }
    }
}

pub(crate) fn kind_of(k: u8) -> ValueKind {
    match k {
        kind::STR => ValueKind::Str,
        kind::INT => ValueKind::Int,
        kind::BOOL => ValueKind::Bool,
        kind::ENUM => ValueKind::Enum,
        _ => ValueKind::List,
    }
}
