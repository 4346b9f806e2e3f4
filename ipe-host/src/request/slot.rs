//! Typed values by slot id (issue #17, the C ABI's fast path): the typed builder's rules for
//! one scalar or list of strings, for callers that resolved slot ids once
//! ([`ipe_nostd::Bundle::slot`]) and fill the slot values themselves.

use bumpalo::collections::Vec as BumpVec;
use bumpalo::Bump;
use ipe_nostd::bundle::SlotId;
use ipe_nostd::{Bundle, ErrKind, JsonKind, Value, ValueKind};

use super::{wrong, Scalar};

/// A scalar given for one slot, as a typed request gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotScalar<'r> {
    /// A string (an enum member name, RFC 3339 or duration text, an address, a quantity).
    Str(&'r str),
    /// An integer (seconds for a timestamp or duration, units for a quantity).
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// The value of `slot` given `v`, by the typed builder's rule
/// ([`RequestBuilder`](crate::RequestBuilder)): the same value (or attribute error) the same
/// JSON scalar would give. A slot id the bundle does not have gives [`Value::Missing`].
pub fn slot_scalar<'r>(bundle: &Bundle<'_>, slot: SlotId, v: SlotScalar<'r>) -> Value<'r> {
    if usize::from(slot) >= bundle.slot_count() {
        return Value::Missing;
    }
    let s = match v {
        SlotScalar::Str(s) => Scalar::Str(s),
        SlotScalar::Int(i) => Scalar::Int(i),
        SlotScalar::Bool(b) => Scalar::Bool(b),
    };
    match bundle.slot_info(slot).kind {
        ValueKind::List => wrong(ValueKind::List, s.kind()),
        k => s.read(bundle, k),
    }
}

/// The value of list slot `slot` given these strings (in `arena`), by the typed builder's
/// rule for a list of strings (or enums): each element read as the element kind, a list
/// longer than declared invalid, any other slot a wrong-type error. A slot id the bundle does
/// not have gives [`Value::Missing`].
pub fn slot_strs<'r, I: IntoIterator<Item = &'r str>>(
    bundle: &Bundle<'_>,
    slot: SlotId,
    items: I,
    arena: &'r Bump,
) -> Value<'r> {
    if usize::from(slot) >= bundle.slot_count() {
        return Value::Missing;
    }
    let info = bundle.slot_info(slot);
    match (info.kind, info.elem) {
        (ValueKind::List, Some(elem)) => {
            let vals = BumpVec::from_iter_in(
                items.into_iter().map(|s| Scalar::Str(s).read(bundle, elem)),
                arena,
            );
            if vals.len() > info.max_len as usize {
                Value::Invalid(ErrKind::TooLong)
            } else {
                Value::List(vals.into_bump_slice())
            }
        }
        (k, _) => wrong(k, JsonKind::List),
    }
}
