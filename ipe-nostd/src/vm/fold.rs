//! `lower(x)` against another string and inside `like` and `matches` (issue #14, session 9):
//! `str.fold` (both strings folded, [`fold::test_both`](crate::fold::test_both)) and
//! `str.match.fold` (a regex over the folded string). Family `unicode`.

use super::{Cell, Machine, FALSE};
use crate::isa::StrOp;

impl<'v> Machine<'_, '_, 'v> {
    /// `str.fold op` on the two cells `a` and `b`: the smaller error if either is one.
    pub(super) fn str_fold(&self, op: StrOp, a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
        match (a, b) {
            (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
            (a, b) => match (a.as_str(), b.as_str()) {
                (Some(x), Some(y)) => Cell::Bool(crate::read::str_fold(self.bundle, op, x, y)),
                _ => FALSE,
            },
        }
    }

    /// `str.match.fold re` on the cell `a`: its error if it is one.
    pub(super) fn str_match_fold(&self, re: u16, a: Cell<'v>) -> Cell<'v> {
        match a {
            Cell::Err(x) => Cell::Err(x),
            a => match a.as_str() {
                Some(s) => Cell::Bool(crate::regex::str_match_folded(
                    self.bundle,
                    self.bundle.dfas(),
                    re,
                    s,
                )),
                None => FALSE,
            },
        }
    }
}
