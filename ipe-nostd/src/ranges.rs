//! Integer range tables (issue #14, session 9): `port in [22, 80, 8000..8100]` and ranges in a
//! `const` or data-file list compile to one `in.range` instruction over a table of the
//! bundle's `int_ranges` section ([`Body::int_ranges`](crate::format::Body::int_ranges)).
//!
//! The section is a sequence of [`INT_RANGE_LEN`]-byte records. A table starts at a header
//! record whose `lo` is its number of ranges `n` (at least 1) and whose `hi` is 0, followed by
//! `n` inclusive ranges `[lo, hi]` (a single int as `lo == hi`), sorted, disjoint and
//! non-adjacent (`hi + 1 < next lo`: touching ranges are merged), so membership is one binary
//! search. The verifier checks every table an instruction names ([`check`]); lookups on an
//! unchecked table never panic and only give a wrong answer.

use crate::format::{IntRangeRec, INT_RANGE_LEN};

/// The ranges of the table whose header is record `at` of `section` (without the header), or
/// `None` when the header or its ranges are outside the section or the count is not positive.
pub fn table(section: &[u8], at: u16) -> Option<&[u8]> {
    let start = usize::from(at).checked_mul(INT_RANGE_LEN)?;
    let head = section.get(start..start.checked_add(INT_RANGE_LEN)?)?;
    let n = usize::try_from(IntRangeRec::nth(head, 0).lo()).ok()?;
    if n == 0 {
        return None;
    }
    let first = start.checked_add(INT_RANGE_LEN)?;
    section.get(first..first.checked_add(n.checked_mul(INT_RANGE_LEN)?)?)
}

/// The `(lo, hi)` ranges of a table (as [`table`] returns it).
pub fn iter(table: &[u8]) -> impl Iterator<Item = (i64, i64)> + '_ {
    (0..table.len() / INT_RANGE_LEN).map(move |i| {
        let r = IntRangeRec::nth(table, i);
        (r.lo(), r.hi())
    })
}

/// Why a range table is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The header is outside the section, its count is not positive or its ranges run past
    /// the end, or its `hi` is not 0.
    Bounds,
    /// A range with `lo > hi`, or two ranges not in increasing order with a gap between them.
    Order,
}

/// Checks the table whose header is record `at` of `section`: in bounds, every range
/// non-empty, ranges sorted, disjoint and non-adjacent.
pub fn check(section: &[u8], at: u16) -> Result<(), TableError> {
    let start = usize::from(at).saturating_mul(INT_RANGE_LEN);
    let head = section
        .get(start..start.saturating_add(INT_RANGE_LEN))
        .ok_or(TableError::Bounds)?;
    if IntRangeRec::nth(head, 0).hi() != 0 {
        return Err(TableError::Bounds);
    }
    let t = table(section, at).ok_or(TableError::Bounds)?;
    let mut last: Option<i64> = None;
    for (lo, hi) in iter(t) {
        if lo > hi {
            return Err(TableError::Order);
        }
        if let Some(prev) = last {
            // The next range starts after a gap: `prev + 1 < lo`.
            match prev.checked_add(1) {
                Some(p) if p < lo => {}
                _ => return Err(TableError::Order),
            }
        }
        last = Some(hi);
    }
    Ok(())
}

/// Whether `v` is in one of the ranges of `table` (sorted and disjoint): one binary search.
pub fn contains(table: &[u8], v: i64) -> bool {
    let (mut lo, mut hi) = (0usize, table.len() / INT_RANGE_LEN);
    // Invariant: every range before `lo` ends below `v`, every range from `hi` starts above.
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let r = IntRangeRec::nth(table, mid);
        if r.hi() < v {
            lo = mid + 1;
        } else if r.lo() > v {
            hi = mid;
        } else {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::IntRangeFields;

    fn section(tables: &[&[(i64, i64)]]) -> std::vec::Vec<u8> {
        let mut out = std::vec::Vec::new();
        for t in tables {
            out.extend(
                IntRangeFields {
                    lo: t.len() as i64,
                    hi: 0,
                }
                .to_bytes(),
            );
            for &(lo, hi) in t.iter() {
                out.extend(IntRangeFields { lo, hi }.to_bytes());
            }
        }
        out
    }

    #[test]
    fn issue14_range_tables_are_searched_and_checked() {
        let s = section(&[
            &[(22, 22), (80, 80), (8000, 8100)],
            &[(i64::MIN, -1), (1, i64::MAX)],
        ]);
        assert_eq!(check(&s, 0), Ok(()));
        assert_eq!(check(&s, 4), Ok(()));
        let t = table(&s, 0).expect("a table");
        for (v, hit) in [
            (21, false),
            (22, true),
            (23, false),
            (80, true),
            (7999, false),
            (8000, true),
            (8050, true),
            (8100, true),
            (8101, false),
            (i64::MIN, false),
        ] {
            assert_eq!(contains(t, v), hit, "{v}");
        }
        let t = table(&s, 4).expect("a table");
        assert!(contains(t, i64::MIN) && contains(t, i64::MAX) && !contains(t, 0));
        assert_eq!(iter(t).count(), 2);
        // A range record is no header; past the end is out of bounds.
        assert_eq!(check(&s, 1), Err(TableError::Bounds));
        assert_eq!(check(&s, 9), Err(TableError::Bounds));
        // Unsorted, overlapping, adjacent and empty ranges.
        for bad in [
            &[(5, 6), (1, 2)][..],
            &[(1, 5), (5, 6)],
            &[(1, 5), (6, 7)],
            &[(3, 2)],
            &[(1, i64::MAX), (i64::MAX, i64::MAX)],
        ] {
            assert_eq!(
                check(&section(&[bad]), 0),
                Err(TableError::Order),
                "{bad:?}"
            );
        }
        assert_eq!(check(&section(&[&[]]), 0), Err(TableError::Bounds));
    }
}
