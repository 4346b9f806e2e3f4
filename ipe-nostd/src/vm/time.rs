//! The time instructions (issue #14): `sub` and the calendar parts of a timestamp, on int
//! cells (timestamps and durations are ints of ms on the stack, see [`crate::time`]).

use super::{Cell, FALSE};

/// `a - b`: the smaller error if either is one. Readers bound timestamps and durations, so the
/// difference never overflows; it saturates defensively (the JIT wraps, which no verified
/// bundle reaches either).
#[inline]
pub(super) fn sub<'v>(a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
    match (a, b) {
        (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
        (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
        (Cell::Int(x), Cell::Int(y)) => Cell::Int(x.saturating_sub(y)),
        _ => FALSE,
    }
}

/// One calendar part `f` of timestamp cell `a`; an error stays the error.
#[inline]
pub(super) fn part(a: Cell<'_>, f: fn(i64) -> i64) -> Cell<'_> {
    match a {
        Cell::Int(t) => Cell::Int(f(t)),
        Cell::Err(e) => Cell::Err(e),
        _ => FALSE,
    }
}
