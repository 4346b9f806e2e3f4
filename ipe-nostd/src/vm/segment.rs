//! `segment(x, sep, i)` (issue #14): `seg.slot`, `seg.field` and their `has.seg.*` forms.
//!
//! The piece is a slice of the request string's own text ([`crate::segment`]), looked up in
//! the string table so that it compares, and is found in sets, like any request string.

use super::{Cell, Machine, FALSE};
use crate::bundle::SlotId;
use crate::decision::AttrError;
use crate::format::kind;
use crate::isa::SEG_AT_SLOT;
use crate::value::{Value, NO_SYMBOL};
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
        let piece = if s.text.is_empty() && s.sym != NO_SYMBOL {
            // A constant (a map constant's value) holds only its symbol: its pieces are
            // constants too (the compiler puts every piece a `seg` can cut from a constant in
            // the string table), kept as their symbols.
            crate::segment::segment(self.bundle.symbol(s.sym), sep, i)
                .map(|p| Cell::Sym(self.bundle.intern(p).sym))
        } else {
            crate::segment::segment(s.text, sep, i).and_then(|p| self.piece_cell(a, p))
        };
        match piece {
            Some(piece) => piece,
            None => Cell::Err(AttrError {
                slot: at.0,
                field: at.1,
                kind: ErrKind::NoSegment,
            }),
        }
    }

    /// The cell of `piece`, a slice of the text of the string cell `a` (a request string or a
    /// piece of one): its symbol when the string table has it, else its byte range in the
    /// request string `a` refers to. A cell holds 24 bits of length, which every piece fits:
    /// [`crate::segment::segment`] gives none longer than [`crate::segment::MAX_PIECE`].
    fn piece_cell(&self, a: Cell<'v>, piece: &'v str) -> Option<Cell<'v>> {
        let sym = self.bundle.intern(piece).sym;
        if sym != NO_SYMBOL {
            return Some(Cell::Sym(sym));
        }
        let src = match a {
            Cell::Str(s) | Cell::Piece(s, ..) => s,
            _ => return None,
        };
        let start = (piece.as_ptr() as usize).wrapping_sub(src.text.as_ptr() as usize);
        let start = u32::try_from(start).ok()?;
        let len = u32::try_from(piece.len())
            .ok()
            .filter(|&n| n as usize <= crate::segment::MAX_PIECE)?;
        Some(Cell::Piece(src, start, len as u16, (len >> 16) as u8))
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

    /// The location of a `seg` instruction's no-segment error: field `at` of the element
    /// bound at `level`, or slot `at` when `level` is [`SEG_AT_SLOT`].
    pub(super) fn seg_at(&self, level: u8, at: u16) -> (SlotId, Option<u16>) {
        if level == SEG_AT_SLOT {
            return (at, None);
        }
        let list = self.loops.get(usize::from(level)).map_or(0, |l| l.0);
        (list, Some(at))
    }

    /// `has.seg`: whether `segment` of the string cell `a` is present: false when `a` is a
    /// missing, no-segment or missing-key error (a missing value, or a piece or map value
    /// that is not there), true for any other error (the read is that error), else whether
    /// the piece exists.
    pub(super) fn has_seg_cell(&self, a: Cell<'v>, sep: u16, index: u16) -> Cell<'v> {
        let present = match self.seg(a, (0, None), sep, index) {
            Cell::Err(e) => !matches!(
                e.kind,
                ErrKind::Missing | ErrKind::NoSegment | ErrKind::MissingKey
            ),
            _ => true,
        };
        Cell::Bool(present)
    }
}
