//! An attribute error's text through defmt (issue #15): `defmt::Format` for
//! [`ErrorText`](crate::decision::ErrorText) writes the words of
//! [`write_error_text`](crate::decision::write_error_text) as defmt format strings, which live
//! in the ELF's `.defmt` section for the host's decoder, not in the device's flash; only the
//! bundle's own text (paths, enum members) and the numbers are sent. The same text, piece for
//! piece: `tests.rs` of the firmware example renders both.

use crate::decision::ErrorText;
use crate::vocab::{ErrKind, JsonKind, ValueKind};

/// An attribute path: the slot's path, and for a record field of a list's elements `[]` and
/// the field's path (`approvals[].role`, as `path::write_joined` joins them).
struct PathText<'a> {
    slot: &'a str,
    field: Option<&'a str>,
}

impl defmt::Format for PathText<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.slot);
        if let Some(field) = self.field {
            let dot = if field.starts_with('[') || field.is_empty() {
                ""
            } else {
                "."
            };
            defmt::write!(f, "[]{=str}{=str}", dot, field);
        }
    }
}

impl defmt::Format for ErrorText<'_, '_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        let (b, error) = (self.bundle, self.error);
        let slot = b.slot_info(error.slot);
        let field = error.field.map(|fi| (fi, b.field_info(error.slot, fi)));
        let enum_id = field.map_or(slot.enum_id, |(_, fi)| fi.enum_id);
        let map = field.is_none() && b.is_map(error.slot);
        let path = PathText {
            slot: slot.path,
            field: field.map(|(_, fi)| fi.path),
        };
        match error.kind {
            ErrKind::Missing => defmt::write!(f, "missing attribute `{}`", path),
            ErrKind::WrongType { expected, got } => defmt::write!(
                f,
                "attribute `{}` has the wrong type: expected {=str}, got {=str}",
                path,
                if map && expected == ValueKind::List {
                    "map"
                } else {
                    expected.as_str()
                },
                got.as_str()
            ),
            ErrKind::NotRecord {
                got: JsonKind::Null,
            } => defmt::write!(
                f,
                "attribute `{}` cannot be read: element is null, expected a record",
                path
            ),
            ErrKind::NotRecord { got } => defmt::write!(
                f,
                "attribute `{}` cannot be read: element is {=str} {=str}, expected a record",
                path,
                match got {
                    JsonKind::Int | JsonKind::Object => "an",
                    _ => "a",
                },
                got.as_str()
            ),
            ErrKind::NotInEnum => {
                defmt::write!(f, "attribute `{}` is not one of ", path);
                if b.has_enum(enum_id) {
                    for (i, v) in b.enum_members(enum_id).enumerate() {
                        let sep = if i > 0 { ", " } else { "" };
                        defmt::write!(f, "{=str}\"{=str}\"", sep, v);
                    }
                }
            }
            ErrKind::TooLong => {
                // A position carries its list's bound (as `write_error_text`).
                let max = match field {
                    Some((fi, _)) => crate::positional::field_position(b, error.slot, fi)
                        .map_or(slot.max_len, |(n, _, _)| b.slot_info(n).max_len),
                    None if map => slot.max_len,
                    None => crate::positional::list_of(b, error.slot)
                        .map_or(slot.max_len, |l| b.slot_info(l).max_len),
                };
                defmt::write!(
                    f,
                    "attribute `{}` has more than {=u32} {=str}",
                    path,
                    max,
                    if map { "entries" } else { "elements" }
                )
            }
            ErrKind::BadQuantity => {
                defmt::write!(f, "attribute `{}` is not a Kubernetes quantity", path)
            }
            #[cfg(feature = "arith")]
            ErrKind::Overflow => {
                defmt::write!(f, "arithmetic overflow in an expression reading `{}`", path)
            }
            #[cfg(feature = "arith")]
            ErrKind::DivByZero => {
                defmt::write!(f, "division by zero in an expression reading `{}`", path)
            }
            #[cfg(any(feature = "lookups", feature = "segment"))]
            ErrKind::MissingKey => defmt::write!(
                f,
                "missing key `{}`: the map has no entry for its value",
                path
            ),
            #[cfg(feature = "time")]
            ErrKind::BadTimestamp => defmt::write!(
                f,
                "attribute `{}` is not a timestamp (RFC 3339 text or epoch seconds, years 0000 to 9999)",
                path
            ),
            #[cfg(feature = "time")]
            ErrKind::BadDuration => defmt::write!(
                f,
                "attribute `{}` is not a duration (text such as `1h30m` or seconds, at most 10000 years)",
                path
            ),
            #[cfg(feature = "ip")]
            ErrKind::NotIp => defmt::write!(f, "attribute `{}` is not an IP address", path),
            #[cfg(feature = "segment")]
            ErrKind::NoSegment => defmt::write!(f, "attribute `{}` has no such segment", path),
            #[cfg(feature = "dynkey")]
            ErrKind::MissingEntry => defmt::write!(
                f,
                "missing entry of `{}`: the map has no entry for the key read",
                path
            ),
            // Kinds only the code of a family this build lacks produces (never met: the
            // verifier refuses that code), as `vocab::write_error_with` words them.
            #[allow(
                unreachable_patterns,
                reason = "every kind has its arm when the build has every family"
            )]
            _ => defmt::write!(f, "attribute `{}` cannot be read", path),
        }
    }
}
