//! Shared vocabulary: the kinds of values, effects and attribute errors that the compiler, the
//! interpreter and every host agree on.

use core::fmt;

/// What a bundle decides for a request that no policy applies to, and the kind of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Effect {
    /// The request is allowed.
    Allow,
    /// The request is denied.
    Deny,
}

impl Effect {
    /// The lowercase word used in sources and decision JSON (`allow` / `deny`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }
}

/// The declared type of an attribute or list element field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValueKind {
    /// A UTF-8 string, compared exactly.
    Str,
    /// A signed 64-bit integer.
    Int,
    /// A boolean.
    Bool,
    /// A member of an ordered enum, compared by declared rank.
    Enum,
    /// A list (of scalars or of records).
    List,
    /// A Kubernetes quantity (issue #14): read from a JSON string or number into an int of
    /// milli-units by the request readers; an int everywhere after reading.
    Quantity,
    /// A timestamp (issue #14): ms since the Unix epoch, read from RFC 3339 text or epoch
    /// seconds ([`crate::time`]).
    Time,
    /// A duration (issue #14): ms, read from duration text (`1h30m`) or seconds.
    Duration,
    /// An IP address (IPv4 or IPv6, issue #14).
    Ip,
}

impl ValueKind {
    /// The word used for this type in error messages (`string`, `int`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            ValueKind::Str => "string",
            ValueKind::Int => "int",
            ValueKind::Bool => "bool",
            ValueKind::Enum => "enum",
            ValueKind::List => "list",
            ValueKind::Quantity => "quantity",
            ValueKind::Time => "timestamp",
            ValueKind::Duration => "duration",
            ValueKind::Ip => "ip",
        }
    }
}

/// The JSON type of a request value that had the wrong type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JsonKind {
    /// A JSON string.
    Str,
    /// A JSON number with an integer value in the i64 range, however it is spelled (`1`, `1.0`,
    /// `1e0`; with a fraction or exponent only below 2^53 in magnitude).
    Int,
    /// Any other JSON number (non-integral, or out of range).
    Float,
    /// A JSON boolean.
    Bool,
    /// A JSON array.
    List,
    /// A JSON object.
    Object,
    /// JSON `null` where a value was required (a list element).
    Null,
}

impl JsonKind {
    /// The word used for this JSON type in error messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            JsonKind::Str => "string",
            JsonKind::Int => "int",
            JsonKind::Float => "float",
            JsonKind::Bool => "bool",
            JsonKind::List => "list",
            JsonKind::Object => "object",
            JsonKind::Null => "null",
        }
    }
}

/// Why an attribute could not be read. Ordered so that `Missing` sorts first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrKind {
    /// The attribute (or a step of its path) is absent or `null`.
    Missing,
    /// The attribute is present with the wrong JSON type.
    WrongType {
        /// The declared type.
        expected: ValueKind,
        /// The type found in the request.
        got: JsonKind,
    },
    /// A list element field could not be read because the element is not a JSON object (a
    /// record); `got` is the element's JSON type.
    NotRecord {
        /// The element's JSON type.
        got: JsonKind,
    },
    /// The attribute is a string that is not a member of its declared enum.
    NotInEnum,
    /// The attribute is a list longer than its declared maximum.
    TooLong,
    /// Integer arithmetic over the attribute overflowed the 64-bit signed range (issue #14).
    Overflow,
    /// Integer arithmetic over the attribute divided by zero (issue #14).
    DivByZero,
    /// A `quantity` attribute that is not a Kubernetes quantity, or whose value in
    /// milli-units is outside the 64-bit signed range (issue #14).
    BadQuantity,
    /// The attribute is the key of a lookup (`M[y]`, issue #13) and the map has no entry for
    /// its value.
    MissingKey,
    /// A timestamp attribute is text that is not RFC 3339 or a value outside the timestamp
    /// range (issue #14, [`crate::time`]).
    BadTimestamp,
    /// A duration attribute is text that is not a duration or a value outside the duration
    /// range (issue #14).
    BadDuration,
    /// The attribute is declared `ip` and is a string that is not an IP address (issue #14).
    NotIp,
    /// `segment(x, sep, i)` of the attribute has no piece `i` (issue #14): `x` has fewer
    /// pieces.
    NoSegment,
    /// The attribute is a map read with a key known only at run time (`labels[k]`, issue
    /// #13) and it has no entry for that key.
    MissingEntry,
}

/// The attribute error kind of an arithmetic error (issue #14).
pub const fn arith_kind(e: crate::arith::ArithError) -> ErrKind {
    match e {
        crate::arith::ArithError::Overflow => ErrKind::Overflow,
        crate::arith::ArithError::DivByZero => ErrKind::DivByZero,
    }
}

/// Writes the decision-JSON text for an attribute error, exactly as `docs/LANGUAGE.md` specifies.
///
/// `path` is the attribute path (`approvals[].role` for a list element field), `enum_values`
/// the members of the attribute's enum (used for [`ErrKind::NotInEnum`]) and `max_len` the
/// attribute's list bound (used for [`ErrKind::TooLong`]).
pub fn write_attr_error<'s, W: fmt::Write>(
    w: &mut W,
    path: impl fmt::Display,
    kind: ErrKind,
    enum_values: impl IntoIterator<Item = &'s str>,
    max_len: u32,
) -> fmt::Result {
    write_error_with(
        w,
        |w| write!(w, "{path}"),
        kind,
        enum_values,
        max_len,
        false,
    )
}

/// [`write_attr_error`] for an attribute declared as a map: a value that is not a JSON object
/// is ``expected map``, a map over its bound ``has more than N entries``; other errors (a
/// value of the wrong type names the map, expected the value type) read as for any attribute.
pub fn write_map_error<'s, W: fmt::Write>(
    w: &mut W,
    path: impl fmt::Display,
    kind: ErrKind,
    enum_values: impl IntoIterator<Item = &'s str>,
    max_len: u32,
) -> fmt::Result {
    write_error_with(w, |w| write!(w, "{path}"), kind, enum_values, max_len, true)
}

/// [`write_attr_error`] (or [`write_map_error`] when `map`) with the path written by `path`:
/// the text through [`fmt::Write::write_str`] alone, so firmware that renders error texts into
/// a byte buffer links no `core::fmt` formatting (issue #15).
pub fn write_error_with<'s, W, P>(
    w: &mut W,
    path: P,
    kind: ErrKind,
    enum_values: impl IntoIterator<Item = &'s str>,
    max_len: u32,
    map: bool,
) -> fmt::Result
where
    W: fmt::Write + ?Sized,
    P: FnOnce(&mut W) -> fmt::Result,
{
    let (before, after) = match kind {
        ErrKind::Missing => ("missing attribute `", "`"),
        ErrKind::WrongType { .. } => ("attribute `", "` has the wrong type: expected "),
        ErrKind::NotRecord { .. } => ("attribute `", "` cannot be read: element is "),
        ErrKind::NotInEnum => ("attribute `", "` is not one of "),
        ErrKind::TooLong => ("attribute `", "` has more than "),
        #[cfg(feature = "arith")]
        ErrKind::Overflow => ("arithmetic overflow in an expression reading `", "`"),
        #[cfg(feature = "arith")]
        ErrKind::DivByZero => ("division by zero in an expression reading `", "`"),
        ErrKind::BadQuantity => ("attribute `", "` is not a Kubernetes quantity"),
        #[cfg(any(feature = "lookups", feature = "segment"))]
        ErrKind::MissingKey => ("missing key `", "`: the map has no entry for its value"),
        #[cfg(feature = "time")]
        ErrKind::BadTimestamp => (
            "attribute `",
            "` is not a timestamp (RFC 3339 text or epoch seconds, years 0000 to 9999)",
        ),
        #[cfg(feature = "time")]
        ErrKind::BadDuration => (
            "attribute `",
            "` is not a duration (text such as `1h30m` or seconds, at most 10000 years)",
        ),
        #[cfg(feature = "ip")]
        ErrKind::NotIp => ("attribute `", "` is not an IP address"),
        #[cfg(feature = "segment")]
        ErrKind::NoSegment => ("attribute `", "` has no such segment"),
        #[cfg(feature = "dynkey")]
        ErrKind::MissingEntry => (
            "missing entry of `",
            "`: the map has no entry for the key read",
        ),
        // Kinds that only the code of a family this build lacks produces (issue #15: their
        // texts stay out of the firmware's flash); never met, as the verifier refuses that code.
        #[cfg(not(feature = "arith"))]
        ErrKind::Overflow | ErrKind::DivByZero => ABSENT_FAMILY,
        #[cfg(not(any(feature = "lookups", feature = "segment")))]
        ErrKind::MissingKey => ABSENT_FAMILY,
        #[cfg(not(feature = "time"))]
        ErrKind::BadTimestamp | ErrKind::BadDuration => ABSENT_FAMILY,
        #[cfg(not(feature = "ip"))]
        ErrKind::NotIp => ABSENT_FAMILY,
        #[cfg(not(feature = "segment"))]
        ErrKind::NoSegment => ABSENT_FAMILY,
        #[cfg(not(feature = "dynkey"))]
        ErrKind::MissingEntry => ABSENT_FAMILY,
    };
    w.write_str(before)?;
    path(w)?;
    w.write_str(after)?;
    match kind {
        ErrKind::WrongType { expected, got } => {
            w.write_str(if map && expected == ValueKind::List {
                "map"
            } else {
                expected.as_str()
            })?;
            w.write_str(", got ")?;
            w.write_str(got.as_str())
        }
        ErrKind::NotRecord {
            got: JsonKind::Null,
        } => w.write_str("null, expected a record"),
        ErrKind::NotRecord { got } => {
            w.write_str(match got {
                JsonKind::Int | JsonKind::Object => "an ",
                _ => "a ",
            })?;
            w.write_str(got.as_str())?;
            w.write_str(", expected a record")
        }
        ErrKind::NotInEnum => {
            for (i, v) in enum_values.into_iter().enumerate() {
                w.write_str(if i > 0 { ", \"" } else { "\"" })?;
                w.write_str(v)?;
                w.write_str("\"")?;
            }
            Ok(())
        }
        ErrKind::TooLong => {
            crate::digits::write_u64(w, u64::from(max_len))?;
            w.write_str(if map { " entries" } else { " elements" })
        }
        _ => Ok(()),
    }
}

/// The text of an error kind that only a family this build lacks produces (never written:
/// the verifier refuses that family's code; issue #15).
#[cfg(not(all(
    feature = "arith",
    feature = "lookups",
    feature = "time",
    feature = "ip",
    feature = "segment",
    feature = "dynkey"
)))]
const ABSENT_FAMILY: (&str, &str) = ("attribute `", "` cannot be read");

/// The violation reason of a `denies` policy without `with reason`.
pub const DENIED_BY_POLICY: &str = "denied by policy";

/// The prefix of the violation reason for a failed `requires` clause.
pub const REQUIREMENT_NOT_MET: &str = "requirement not met: ";

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed buffer to render into without alloc.
    struct Buf([u8; 128], usize);

    impl fmt::Write for Buf {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.1 + s.len();
            self.0
                .get_mut(self.1..end)
                .ok_or(fmt::Error)?
                .copy_from_slice(s.as_bytes());
            self.1 = end;
            Ok(())
        }
    }

    fn render(kind: ErrKind) -> Buf {
        let mut b = Buf([0; 128], 0);
        assert!(write_attr_error(&mut b, "items[].name", kind, [], 0).is_ok());
        b
    }

    fn text(b: &Buf) -> &str {
        core::str::from_utf8(&b.0[..b.1]).unwrap()
    }

    /// Issue #15: the texts written through `write_str` alone (the path by a closure) are the
    /// texts `docs/LANGUAGE.md` gives, for attributes and for maps.
    #[test]
    fn issue15_error_texts_through_write_str() {
        let cases = [
            (ErrKind::Missing, false, "missing attribute `a.b`"),
            (
                ErrKind::WrongType {
                    expected: ValueKind::Int,
                    got: JsonKind::Str,
                },
                false,
                "attribute `a.b` has the wrong type: expected int, got string",
            ),
            (
                ErrKind::WrongType {
                    expected: ValueKind::List,
                    got: JsonKind::Bool,
                },
                true,
                "attribute `a.b` has the wrong type: expected map, got bool",
            ),
            (
                ErrKind::WrongType {
                    expected: ValueKind::List,
                    got: JsonKind::Bool,
                },
                false,
                "attribute `a.b` has the wrong type: expected list, got bool",
            ),
            (
                ErrKind::NotRecord {
                    got: JsonKind::Object,
                },
                false,
                "attribute `a.b` cannot be read: element is an object, expected a record",
            ),
            (
                ErrKind::NotInEnum,
                false,
                "attribute `a.b` is not one of \"x\", \"y\"",
            ),
            (
                ErrKind::TooLong,
                false,
                "attribute `a.b` has more than 4294967295 elements",
            ),
            (
                ErrKind::TooLong,
                true,
                "attribute `a.b` has more than 4294967295 entries",
            ),
            #[cfg(feature = "arith")]
            (
                ErrKind::Overflow,
                false,
                "arithmetic overflow in an expression reading `a.b`",
            ),
            #[cfg(feature = "lookups")]
            (
                ErrKind::MissingKey,
                false,
                "missing key `a.b`: the map has no entry for its value",
            ),
            #[cfg(feature = "segment")]
            (
                ErrKind::NoSegment,
                true,
                "attribute `a.b` has no such segment",
            ),
            // Issue #15: without its family a kind only that family produces has a short text.
            #[cfg(not(feature = "time"))]
            (
                ErrKind::BadTimestamp,
                false,
                "attribute `a.b` cannot be read",
            ),
        ];
        for (kind, map, want) in cases {
            let mut b = Buf([0; 128], 0);
            let path = |w: &mut Buf| fmt::Write::write_str(w, "a.b");
            assert!(write_error_with(&mut b, path, kind, ["x", "y"], u32::MAX, map).is_ok());
            assert_eq!(text(&b), want);
            // The `Display` forms write the same text.
            let mut d = Buf([0; 128], 0);
            let r = if map {
                write_map_error(&mut d, "a.b", kind, ["x", "y"], u32::MAX)
            } else {
                write_attr_error(&mut d, "a.b", kind, ["x", "y"], u32::MAX)
            };
            assert!(r.is_ok());
            assert_eq!(text(&d), want);
        }
    }

    #[test]
    fn issue11_element_not_a_record_says_so() {
        for (got, text) in [
            (
                JsonKind::Str,
                "attribute `items[].name` cannot be read: element is a string, expected a record",
            ),
            (
                JsonKind::Int,
                "attribute `items[].name` cannot be read: element is an int, expected a record",
            ),
            (
                JsonKind::Null,
                "attribute `items[].name` cannot be read: element is null, expected a record",
            ),
        ] {
            let b = render(ErrKind::NotRecord { got });
            assert_eq!(core::str::from_utf8(&b.0[..b.1]), Ok(text));
        }
    }
}
