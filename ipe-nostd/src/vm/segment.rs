//! `segment(x, sep, i)` (issue #14): `seg.slot`, `seg.field` and their `has.seg.*` forms.
//!
//! The piece is a slice of the request string's own text ([`crate::segment`]), looked up in
//! the string table so that it compares, and is found in sets, like any request string.

use super::{Cell, Machine, FALSE};
use crate::bundle::SlotId;
use crate::decision::AttrError;
use crate::format::kind;
use crate::value::Value;
use crate::vocab::ErrKind;

impl<'v> Machine<'_, '_, 'v> {
    /// The separator text and the index of a `seg.*` instruction (`None` for constants of
    /// other kinds, which the verifier rejects).
    fn seg_args(&self, sep: u16, index: u16) -> Option<(&str, i64)> {
        let s = self.bundle.const_rec(sep);
        let i = self.bundle.const_rec(index);
        if s.kind() != kind::STR || i.kind() != kind::INT {
            return None;
        }
        Some((self.bundle.symbol(s.value() as u32), i.value()))
    }

    /// Piece `index` of the string cell `a` split on constant `sep`: `a`'s error, or the
    /// no-segment error at `at` when there is no such piece.
    pub(super) fn seg(
        &self,
        a: Cell<'v>,
        at: (SlotId, Option<u16>),
        sep: u16,
        index: u16,
    ) -> Cell<'v> {
        let Some(s) = a.as_str() else {
            return match a {
                Cell::Err(_) => a,
                _ => FALSE,
            };
        };
        let Some((sep, i)) = self.seg_args(sep, index) else {
            return FALSE;
        };
        match crate::segment::segment(s.text, sep, i) {
            Some(piece) => Cell::str(self.bundle.intern(piece)),
            None => Cell::Err(AttrError {
                slot: at.0,
                field: at.1,
                kind: ErrKind::NoSegment,
            }),
        }
    }

    /// Whether `segment` of the value `v` (read as the cell `a`) is present: false for a
    /// missing value, true for an invalid one (its read is the error), else whether the piece
    /// exists.
    pub(super) fn has_seg(&self, v: Value<'v>, a: Cell<'v>, sep: u16, index: u16) -> Cell<'v> {
        if matches!(v, Value::Missing) {
            return Cell::Bool(false);
        }
        let present = match self.seg(a, (0, None), sep, index) {
            Cell::Err(e) => e.kind != ErrKind::NoSegment,
            _ => true,
        };
        Cell::Bool(present)
    }
}
