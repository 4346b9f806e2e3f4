//! Building evaluation contexts, by concern:
//! - `value`: from a parsed `serde_json::Value` ([`fill`], [`slot_value`]) and the JSON
//!   helpers every reader shares ([`parse_value`], [`json_int`], [`json_kind`], [`lookup`]);
//! - `plan`: the per-bundle tree of slot paths, split once at load;
//! - `stream`: JSON text read in one pass over that tree, with no intermediate value
//!   ([`PolicySet::parse_json`](crate::PolicySet::parse_json));
//! - `builder`: typed Rust values ([`Field`]; the builder bound to a set is
//!   [`RequestBuilder`](crate::RequestBuilder)).
//!
//! Nothing here depends on the engine: the engine depends on this module.

pub(crate) mod builder;
pub(crate) mod plan;
pub mod slot;
mod stream;
mod value;

pub use builder::Field;
pub use value::{
    fill, float_int, json_int, json_kind, lookup, parse_value, slot_value, CheckedValue,
};

use std::cell::Cell;

use ipe_nostd::{Bundle, ErrKind, JsonKind, Value, ValueKind};

use crate::error::{Error, RequestError};

/// A JSON scalar as the readers see it (a number is an int when integer-valued, see
/// [`float_int`]).
#[derive(Clone, Copy)]
pub(crate) enum Scalar<'r> {
    Null,
    Bool(bool),
    Int(i64),
    /// A number that is not an int (its double, for `quantity` attributes, issue #14).
    Float(f64),
    Str(&'r str),
}

impl<'r> Scalar<'r> {
    /// A number read as a double: an int when integer-valued (see [`float_int`]).
    pub(crate) fn float(f: f64) -> Self {
        float_int(f).map_or(Scalar::Float(f), Scalar::Int)
    }

    /// The JSON kind of the scalar.
    pub(crate) fn kind(self) -> JsonKind {
        match self {
            Scalar::Null => JsonKind::Null,
            Scalar::Bool(_) => JsonKind::Bool,
            Scalar::Int(_) => JsonKind::Int,
            Scalar::Float(_) => JsonKind::Float,
            Scalar::Str(_) => JsonKind::Str,
        }
    }

    /// The scalar read as a value of kind `k` (strings for enums are resolved when read):
    /// what the one-pass reader and the typed builder store for one attribute or field.
    #[inline]
    pub(crate) fn read(self, bundle: &Bundle<'_>, k: ValueKind) -> Value<'r> {
        self.read_by(k, |s| bundle.intern(s))
    }

    /// [`read`](Self::read) with strings interned by `intern` (which gives the answer of
    /// [`Bundle::intern`]: the one-pass reader looks them up in its plan).
    #[inline]
    pub(crate) fn read_by(
        self,
        k: ValueKind,
        intern: impl FnOnce(&'r str) -> ipe_nostd::Str<'r>,
    ) -> Value<'r> {
        match (k, self) {
            (_, Scalar::Null) => Value::Missing,
            (ValueKind::Str | ValueKind::Enum, Scalar::Str(s)) => Value::Str(intern(s)),
            (ValueKind::Int, Scalar::Int(i)) => Value::Int(i),
            (ValueKind::Bool, Scalar::Bool(b)) => Value::Bool(b),
            (ValueKind::Quantity, q) => quantity(q),
            (ValueKind::Time | ValueKind::Duration, s @ (Scalar::Str(_) | Scalar::Int(_))) => {
                time_value(k, s)
            }
            // Issue #14: an address in any form `core::net` reads (IPv4, IPv6 in any case);
            // other text is an invalid attribute.
            (ValueKind::Ip, Scalar::Str(s)) => {
                ipe_nostd::ip::parse(s).map_or(Value::Invalid(ErrKind::NotIp), Value::Ip)
            }
            (k, j) => wrong(k, j.kind()),
        }
    }
}

/// Issue #14: a timestamp from RFC 3339 text or integer epoch seconds, a duration from
/// duration text or integer seconds, as ms ([`ipe_nostd::time`]); text that does not parse or
/// a value out of range is [`ErrKind::BadTimestamp`] / [`ErrKind::BadDuration`].
#[cold]
fn time_value(k: ValueKind, s: Scalar<'_>) -> Value<'static> {
    use ipe_nostd::time;
    let (ms, bad) = if k == ValueKind::Time {
        let ms = match s {
            Scalar::Str(t) => time::parse_rfc3339(t),
            Scalar::Int(secs) => secs.checked_mul(1000).filter(|&m| time::timestamp_ok(m)),
            _ => None,
        };
        (ms, ErrKind::BadTimestamp)
    } else {
        let ms = match s {
            Scalar::Str(t) => time::parse_duration(t),
            Scalar::Int(secs) => secs.checked_mul(1000).filter(|&m| time::duration_ok(m)),
            _ => None,
        };
        (ms, ErrKind::BadDuration)
    };
    ms.map_or(Value::Invalid(bad), Value::Int)
}

/// The error of map value `v` (read for the value kind of map slot `slot`), by the shared
/// kernel: a wrong type, or a string outside the value enum (issue 13: a bad value makes the
/// whole map invalid, so the readers check every value when they read it).
pub(crate) fn map_value_error(bundle: &Bundle<'_>, slot: u16, v: Value<'_>) -> Option<ErrKind> {
    let f = bundle.field_info(slot, 1);
    let k = ipe_nostd::format::kind::from_value_kind(f.kind);
    ipe_nostd::read::scalar(bundle, v, k, f.enum_id).err()
}

/// A `quantity` attribute (issue #14) read into milli-units: a JSON string by the Kubernetes
/// grammar ([`ipe_nostd::quantity::parse_milli`]), an int times 1000, another number by its
/// shortest decimal text (`0.5` is 500); anything else, malformed text or a value outside the
/// 64-bit range in milli-units is [`ErrKind::BadQuantity`].
fn quantity(q: Scalar<'_>) -> Value<'static> {
    let milli = match q {
        Scalar::Null => return Value::Missing,
        Scalar::Str(s) => ipe_nostd::quantity::parse_milli(s).ok(),
        Scalar::Int(i) => i.checked_mul(1000),
        Scalar::Float(f) if f.is_finite() => ipe_nostd::quantity::parse_milli(&format!("{f}")).ok(),
        Scalar::Float(_) | Scalar::Bool(_) => None,
    };
    milli.map_or(Value::Invalid(ErrKind::BadQuantity), Value::Int)
}

/// A wrong-type attribute error: `expected` was declared, `got` was found.
pub(crate) fn wrong(expected: ValueKind, got: JsonKind) -> Value<'static> {
    Value::Invalid(ErrKind::WrongType { expected, got })
}

/// Why a parse stopped, as its reader saw it: a request error is classified by this flag,
/// never by reading serde's message text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Not stopped by a reader: the text is not JSON (or was cut short).
    #[default]
    Syntax,
    /// The request root is not an object.
    NotAnObject,
    /// An object repeats a key.
    DuplicateKey,
}

/// The flag one parse's readers set when they stop it.
pub(crate) type Flag = Cell<Stop>;

/// Stops a parse on an object that repeats `key` (the smallest repeated one).
pub(crate) fn duplicate_key<E: serde::de::Error>(flag: &Flag, key: &str) -> E {
    flag.set(Stop::DuplicateKey);
    E::custom(format_args!("duplicate key `{key}`"))
}

/// A failed parse as the request error it stands for, by the flag its readers set.
fn request_error(flag: &Flag, e: serde_json::Error) -> Error {
    match flag.get() {
        Stop::NotAnObject => RequestError::NotAnObject.into(),
        Stop::DuplicateKey => RequestError::DuplicateKey(e).into(),
        Stop::Syntax => RequestError::Json(e).into(),
    }
}
