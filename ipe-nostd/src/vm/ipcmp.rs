//! Two `ip` values compared with each other (issue #14): `cmp.ip.slot.slot`,
//! `cmp.ip.field.slot` and `cmp.ip.field.field`.
//!
//! The order is that of the 128-bit values ([`crate::ip::cmp`]), an IPv4 address being its
//! IPv4-mapped IPv6 address; a missing or invalid side is its error (the smaller of two).

use super::{Cell, Machine};
use crate::bundle::SlotId;
use crate::decision::AttrError;
use crate::isa::CmpOp;
use crate::read;
use crate::value::Value;

impl<'v> Machine<'_, '_, 'v> {
    /// The value of field `field` of the element bound at level `level`, with its location.
    pub(super) fn ip_field(&self, level: u8, field: u16) -> (Value<'v>, (SlotId, Option<u16>)) {
        let (slot, _, elem) = self
            .loops
            .get(usize::from(level))
            .copied()
            .unwrap_or((0, 0, &[]));
        let v = elem
            .get(usize::from(field))
            .copied()
            .unwrap_or(Value::Missing);
        (v, (slot, Some(field)))
    }

    /// `a op b` over the addresses `a` and `b` read at `at_a` and `at_b`.
    pub(super) fn ip_compare(
        op: CmpOp,
        (a, at_a): (Value<'v>, (SlotId, Option<u16>)),
        (b, at_b): (Value<'v>, (SlotId, Option<u16>)),
    ) -> Cell<'v> {
        let err = |at: (SlotId, Option<u16>), kind| AttrError {
            slot: at.0,
            field: at.1,
            kind,
        };
        match (read::ip_value(a), read::ip_value(b)) {
            (Ok(x), Ok(y)) => Cell::Bool(op.test(crate::ip::cmp(&x, &y))),
            (Err(x), Err(y)) => Cell::Err(err(at_a, x).min(err(at_b, y))),
            (Err(x), Ok(_)) => Cell::Err(err(at_a, x)),
            (Ok(_), Err(y)) => Cell::Err(err(at_b, y)),
        }
    }
}
