//! Nested lists (issue #13): a list field of the element an enclosing aggregate binds. The
//! field record's enum id names the nested list's slot record (its kind, element kind, fields
//! and `max`); its value is the element's field value, read with the same [`read::list`]
//! kernel as a top-level list, and its errors name that slot (`containers[].ports`).

use super::{Cell, Machine};
#[cfg(feature = "nested")]
use crate::bundle::SlotId;
#[cfg(feature = "nested")]
use crate::decision::AttrError;
use crate::isa::Opcode;
#[cfg(feature = "nested")]
use crate::read;
#[cfg(feature = "nested")]
use crate::value::Value;

/// A list's elements and stride, or the error reading it.
#[cfg(feature = "nested")]
type ListRead<'v> = Result<(&'v [Value<'v>], usize), AttrError>;

impl<'v> Machine<'_, '_, 'v> {
    /// The nested list that is field `field` of the element bound at `level`: its slot, its
    /// elements and stride, or the error reading it.
    #[cfg(feature = "nested")]
    fn nested_list(&self, level: u8, field: u16) -> (SlotId, ListRead<'v>) {
        let (_, first, elem) = self
            .loops
            .get(usize::from(level))
            .copied()
            .unwrap_or((0, 0, &[]));
        let s = self
            .bundle
            .field_rec(usize::from(first).wrapping_add(field.into()))
            .enum_id();
        let v = elem
            .get(usize::from(field))
            .copied()
            .unwrap_or(Value::Missing);
        (s, self.list_of(s, v))
    }

    /// `in.field`: whether `a` is an element of the nested list of scalars at `(level, field)`.
    #[cfg(feature = "nested")]
    pub(super) fn in_field(&self, a: Cell<'v>, level: u8, field: u16) -> Cell<'v> {
        let (s, list) = self.nested_list(level, field);
        match (a, list) {
            (Cell::Err(x), Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Err(x)) => Cell::Err(x),
            (a, Ok((vals, _))) => {
                let r = self.bundle.slot_rec(s);
                let (ek, e) = (r.elem_kind(), r.enum_id());
                Cell::Bool(
                    a.scalar()
                        .is_some_and(|a| read::list_contains(self.bundle, ek, e, vals, a)),
                )
            }
        }
    }

    /// Runs aggregate `op` over the nested list at `(level, field)` with the `n`-byte body at
    /// `next` (within a block ending at `end`), binding its elements at `depth`; pushes its
    /// cell and returns the offset after the body.
    #[cfg(feature = "nested")]
    pub(super) fn nested_at(
        &mut self,
        op: Opcode,
        (level, field): (u8, u16),
        n: u16,
        (next, end): (usize, usize),
        depth: usize,
    ) -> usize {
        let n = usize::from(n);
        let body = if next + n <= end {
            (next, next + n)
        } else {
            (next, next)
        };
        let c = match self.nested_list(level, field) {
            (s, Ok(l)) => self.aggregate_over(op, s, l, body, depth),
            (_, Err(e)) => Cell::Err(e),
        };
        self.push(c);
        next + n
    }

    /// Without the `nested` family the verifier refuses `in.field` (issue #15).
    #[cfg(not(feature = "nested"))]
    pub(super) fn in_field(&self, _: Cell<'v>, _: u8, _: u16) -> Cell<'v> {
        super::FALSE
    }

    /// Without the `nested` family the verifier refuses the `*.field` aggregates (issue #15):
    /// their body is skipped.
    #[cfg(not(feature = "nested"))]
    pub(super) fn nested_at(
        &mut self,
        _: Opcode,
        _: (u8, u16),
        n: u16,
        (next, _): (usize, usize),
        _: usize,
    ) -> usize {
        self.push(super::FALSE);
        next + usize::from(n)
    }
}
