//! `in.range` (issue #14, session 9): an int against an integer range table of the bundle
//! (one binary search, [`ranges::contains`](crate::ranges::contains)).

use super::{Cell, Machine, FALSE};

impl<'v> Machine<'_, '_, 'v> {
    /// `in.range table` on the cell `a`: its error if it is one.
    pub(super) fn in_range(&self, table: u16, a: Cell<'v>) -> Cell<'v> {
        match a {
            Cell::Err(x) => Cell::Err(x),
            Cell::Int(v) => {
                let t = crate::ranges::table(self.bundle.int_ranges(), table).unwrap_or(&[]);
                Cell::Bool(crate::ranges::contains(t, v))
            }
            _ => FALSE,
        }
    }
}
