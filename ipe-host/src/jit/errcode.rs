//! Attribute errors as `u64` codes whose unsigned order is [`AttrError`]'s order.
//!
//! Native code keeps an error next to every stack cell; [`OK`] (all ones) means "no error",
//! so the smaller of two errors — and "an error beats no error" — is a single unsigned `min`.

use ipe_nostd::{AttrError, ErrKind, JsonKind, ValueKind};

/// "No error".
pub(crate) const OK: u64 = u64::MAX;

/// "No error, and found" ([`in_list`](super::helpers::in_list)): above every error code (a
/// code is below 2^48: [`at`] puts the slot in bits 32..48), so `umin` with an error still
/// gives the error.
pub(crate) const FOUND: u64 = OK - 1;

/// [`ErrKind::NotRecord`] codes are this plus the JSON kind (between wrong type and not in enum).
const NOT_RECORD: u64 = 72;
const NOT_IN_ENUM: u64 = 80;
const TOO_LONG: u64 = 81;
/// Issue #14 (arithmetic, quantities, time) and #13 (lookups), in [`ErrKind`]'s order.
const OVERFLOW: u64 = 82;
const DIV_BY_ZERO: u64 = 83;
const BAD_QUANTITY: u64 = 84;
const MISSING_KEY: u64 = 85;
const BAD_TIMESTAMP: u64 = 86;
const BAD_DURATION: u64 = 87;
const NOT_IP: u64 = 88;
const NO_SEGMENT: u64 = 89;
/// Issue #13, session 9 (`labels[k]`): from the middle of the free codes 90..=255, so that
/// kinds added by others in parallel keep their order below it.
const MISSING_ENTRY: u64 = 170;

/// Every value kind in [`ValueKind`]'s order: a wrong-type code holds the index, so codes
/// order like [`ValueKind`]s.
const VALUE_KINDS: [ValueKind; 9] = [
    ValueKind::Str,
    ValueKind::Int,
    ValueKind::Bool,
    ValueKind::Enum,
    ValueKind::List,
    ValueKind::Quantity,
    ValueKind::Time,
    ValueKind::Duration,
    ValueKind::Ip,
];

/// The value kind of index `i` as [`kind_code`] encodes it; `None` for an index no value
/// kind encodes to.
fn value_kind(i: u64) -> Option<ValueKind> {
    VALUE_KINDS.get(usize::try_from(i).ok()?).copied()
}

fn value_index(k: ValueKind) -> u64 {
    VALUE_KINDS.iter().position(|&x| x == k).unwrap_or(0) as u64
}

fn json_kind(i: u64) -> Option<JsonKind> {
    Some(match i {
        0 => JsonKind::Str,
        1 => JsonKind::Int,
        2 => JsonKind::Float,
        3 => JsonKind::Bool,
        4 => JsonKind::List,
        5 => JsonKind::Object,
        6 => JsonKind::Null,
        _ => return None,
    })
}

/// The low byte of an error code: the kind, in [`ErrKind`]'s order.
pub(crate) fn kind_code(k: ErrKind) -> u64 {
    match k {
        ErrKind::Missing => 0,
        ErrKind::WrongType { expected, got } => 1 + value_index(expected) * 8 + got as u64,
        ErrKind::NotRecord { got } => NOT_RECORD + got as u64,
        ErrKind::NotInEnum => NOT_IN_ENUM,
        ErrKind::TooLong => TOO_LONG,
        ErrKind::Overflow => OVERFLOW,
        ErrKind::DivByZero => DIV_BY_ZERO,
        ErrKind::BadQuantity => BAD_QUANTITY,
        ErrKind::MissingKey => MISSING_KEY,
        ErrKind::BadTimestamp => BAD_TIMESTAMP,
        ErrKind::BadDuration => BAD_DURATION,
        ErrKind::NotIp => NOT_IP,
        ErrKind::NoSegment => NO_SEGMENT,
        ErrKind::MissingEntry => MISSING_ENTRY,
    }
}

/// The code of an error at `slot` (and `field` of a list element) with kind code 0; OR a
/// [`kind_code`] into it.
pub(crate) fn at(slot: u16, field: Option<u16>) -> u64 {
    (u64::from(slot) << 32) | (field.map_or(0, |f| u64::from(f) + 1) << 8)
}

/// The kind byte of a deferred read error (`codegen/defer.rs`): no kind code uses it, and
/// [`decode`] refuses it.
pub(crate) const PENDING: u64 = 0xFE;

/// Scalar kind `k`, enum `e` and location `at` (an [`at`] code) in one word for
/// [`read_err_at`](super::helpers::read_err_at): `at` keeps bits 8..48, the kind byte takes
/// the kind code's low byte (0 in `at`) and the enum the top 16 bits (above the slot).
pub(crate) fn pack_read(k: u8, e: u16, at: u64) -> u64 {
    (at & AT_BITS) | u64::from(k) | (u64::from(e) << 48)
}

/// The `(k, e, at)` [`pack_read`] packed.
pub(crate) fn unpack_read(p: u64) -> (u8, u16, u64) {
    ((p & 0xFF) as u8, (p >> 48) as u16, p & AT_BITS)
}

/// The bits an [`at`] code can use: the slot (32..48) and the field plus one (8..32).
const AT_BITS: u64 = 0x0000_FFFF_FFFF_FF00;

/// The code of `e`.
#[cfg(test)]
pub(crate) fn encode(e: AttrError) -> u64 {
    at(e.slot, e.field) | kind_code(e.kind)
}

/// The error a code stands for; `None` for [`OK`] or a code no [`encode`] produces.
pub(crate) fn decode(c: u64) -> Option<AttrError> {
    let slot = u16::try_from(c >> 32).ok()?;
    let f = (c >> 8) & 0xFF_FFFF;
    let field = match f {
        0 => None,
        f => Some(u16::try_from(f - 1).ok()?),
    };
    let kind = match c & 0xFF {
        0 => ErrKind::Missing,
        NOT_IN_ENUM => ErrKind::NotInEnum,
        TOO_LONG => ErrKind::TooLong,
        OVERFLOW => ErrKind::Overflow,
        DIV_BY_ZERO => ErrKind::DivByZero,
        BAD_QUANTITY => ErrKind::BadQuantity,
        MISSING_KEY => ErrKind::MissingKey,
        BAD_TIMESTAMP => ErrKind::BadTimestamp,
        BAD_DURATION => ErrKind::BadDuration,
        NOT_IP => ErrKind::NotIp,
        NO_SEGMENT => ErrKind::NoSegment,
        MISSING_ENTRY => ErrKind::MissingEntry,
        k @ NOT_RECORD..NOT_IN_ENUM => ErrKind::NotRecord {
            got: json_kind(k - NOT_RECORD)?,
        },
        k => ErrKind::WrongType {
            expected: value_kind((k - 1) / 8)?,
            got: json_kind((k - 1) % 8)?,
        },
    };
    Some(AttrError { slot, field, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kinds() -> Vec<ErrKind> {
        let mut v = vec![
            ErrKind::Missing,
            ErrKind::NotInEnum,
            ErrKind::TooLong,
            ErrKind::Overflow,
            ErrKind::DivByZero,
            ErrKind::BadQuantity,
            ErrKind::MissingKey,
            ErrKind::BadTimestamp,
            ErrKind::BadDuration,
            ErrKind::NotIp,
            ErrKind::NoSegment,
            ErrKind::MissingEntry,
        ];
        for e in 0..9 {
            for g in 0..7 {
                if let (Some(expected), Some(got)) = (value_kind(e), json_kind(g)) {
                    v.push(ErrKind::WrongType { expected, got });
                }
            }
        }
        for g in 0..7 {
            if let Some(got) = json_kind(g) {
                v.push(ErrKind::NotRecord { got });
            }
        }
        v
    }

    #[test]
    fn issue15_packed_read_arguments_round_trip() {
        for slot in [0u16, 1, 7, u16::MAX] {
            for field in [None, Some(0u16), Some(3), Some(u16::MAX)] {
                for k in [0u8, 1, 3, 9, u8::MAX] {
                    for e in [0u16, 5, u16::MAX] {
                        let a = at(slot, field);
                        assert_eq!(unpack_read(pack_read(k, e, a)), (k, e, a));
                    }
                }
            }
        }
    }

    #[test]
    fn codes_round_trip_and_keep_the_error_order() {
        let mut errs = Vec::new();
        for slot in [0u16, 1, 7, u16::MAX] {
            for field in [None, Some(0u16), Some(3), Some(u16::MAX)] {
                for kind in all_kinds() {
                    errs.push(AttrError { slot, field, kind });
                }
            }
        }
        for a in &errs {
            assert_eq!(decode(encode(*a)), Some(*a));
            assert!(encode(*a) < OK);
            for b in &errs {
                assert_eq!(a.cmp(b), encode(*a).cmp(&encode(*b)), "{a:?} vs {b:?}");
            }
        }
        assert_eq!(decode(OK), None);
    }
}
