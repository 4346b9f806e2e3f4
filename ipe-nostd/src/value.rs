//! Request values and the fixed-capacity evaluation context.

use crate::bundle::{Bundle, SlotId};
use crate::vocab::{ErrKind, JsonKind};

/// Symbol id of a string that is not in the bundle's string table.
pub const NO_SYMBOL: u32 = u32::MAX;

/// A request string with its symbol id in one bundle's string table ([`NO_SYMBOL`] if absent).
///
/// Build it with [`Bundle::intern`]; equality uses the symbol when both sides have one.
///
/// `#[repr(C)]` (like [`Value`]'s `#[repr(C, u8)]`) fixes the layout so the host's JIT can read
/// values with plain memory loads; it measures the offsets from real values at run time.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Str<'a> {
    /// The text.
    pub text: &'a str,
    /// Symbol id, or [`NO_SYMBOL`].
    pub sym: u32,
}

impl PartialEq for Str<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        if self.sym == NO_SYMBOL && other.sym == NO_SYMBOL {
            text_eq(self.text.as_bytes(), other.text.as_bytes())
        } else {
            self.sym == other.sym
        }
    }
}

/// `a == b` for two request texts. Issue #15, session 15: two request strings of 4 to 16 bytes
/// (the seed's `approver.department != requester.department`) are compared as two overlapping
/// words each, without a call to `memcmp`; session 16: 17 to 32 bytes as four (a prefix such
/// as `"registry.internal/"`); other lengths, and the firmware's `size` profile, compare the
/// slices.
#[inline(always)]
pub(crate) fn text_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    #[cfg(not(feature = "size"))]
    {
        let n = a.len();
        let word8 = |x: &[u8], at: usize| {
            x.get(at..)
                .and_then(<[u8]>::first_chunk::<8>)
                .map(|w| u64::from_ne_bytes(*w))
        };
        let word4 = |x: &[u8], at: usize| {
            x.get(at..)
                .and_then(<[u8]>::first_chunk::<4>)
                .map(|w| u32::from_ne_bytes(*w))
        };
        if (8..=16).contains(&n) {
            return word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8);
        }
        if (17..=32).contains(&n) {
            return word8(a, 0) == word8(b, 0)
                && word8(a, 8) == word8(b, 8)
                && word8(a, n - 16) == word8(b, n - 16)
                && word8(a, n - 8) == word8(b, n - 8);
        }
        if (4..8).contains(&n) {
            return word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4);
        }
    }
    a == b
}

/// One request value: an attribute, a list element or a record field.
///
/// Strings given for an enum slot or field are resolved to ranks when read, so a host may fill
/// any string attribute with [`Value::Str`].
///
/// The layout is `#[repr(C, u8)]`: a one-byte tag followed by the payload union, so native
/// code (the host's JIT) can load a slot's tag and payload directly.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C, u8)]
pub enum Value<'a> {
    /// Absent (or JSON `null`).
    #[default]
    Missing,
    /// Present but unusable (for example a float where an int is declared).
    Invalid(ErrKind),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(Str<'a>),
    /// An enum member, by rank.
    Enum(u16),
    /// A list of scalars.
    List(&'a [Value<'a>]),
    /// A list of records, flattened: element `i`'s field `f` is at `i * stride + f`, where
    /// `stride` is the slot's field count, or 1 for a record with no fields (one unread value
    /// per element).
    Records(&'a [Value<'a>]),
    /// An IP address (issue #14): 128 bits, most significant word first, IPv4 as
    /// IPv4-mapped IPv6 ([`crate::ip`]); four `u32` words keep `Value`'s size and alignment.
    Ip(crate::ip::Ip),
}

impl Value<'_> {
    /// The JSON kind this value would have had, for wrong-type errors.
    pub const fn json_kind(&self) -> JsonKind {
        match self {
            Value::Bool(_) => JsonKind::Bool,
            Value::Int(_) => JsonKind::Int,
            Value::Str(_) | Value::Enum(_) | Value::Ip(_) => JsonKind::Str,
            Value::List(_) | Value::Records(_) => JsonKind::List,
            Value::Missing | Value::Invalid(_) => JsonKind::Null,
        }
    }
}

/// The error when a context has fewer slots than the bundle needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CapacityError {
    /// Slots the bundle declares.
    pub needed: usize,
    /// Slots the context holds.
    pub capacity: usize,
}

impl core::fmt::Display for CapacityError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the bundle needs {} attribute slots but the context holds {}",
            self.needed, self.capacity
        )
    }
}

impl core::error::Error for CapacityError {}

/// The attribute values of one request, in a fixed array of `N` slots (no allocation).
///
/// # Examples
/// ```
/// # fn demo(bundle: &ipe_nostd::Bundle<'_>) -> Option<()> {
/// use ipe_nostd::{Context, Value};
/// let mut ctx = Context::<16>::new();
/// let ty = bundle.slot("resource.type")?;
/// ctx.set(ty, Value::Str(bundle.intern("Deployment")));
/// # Some(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Context<'a, const N: usize> {
    values: [Value<'a>; N],
}

impl<const N: usize> Default for Context<'_, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const N: usize> Context<'a, N> {
    /// An empty context: every attribute missing.
    pub const fn new() -> Self {
        Context {
            values: [Value::Missing; N],
        }
    }

    /// Marks every attribute missing again, for reuse with the next request.
    pub fn clear(&mut self) {
        self.values = [Value::Missing; N];
    }

    /// Sets slot `slot` (ignored when `slot` is beyond the capacity).
    #[inline]
    pub fn set(&mut self, slot: SlotId, value: Value<'a>) {
        if let Some(v) = self.values.get_mut(usize::from(slot)) {
            *v = value;
        }
    }

    /// Sets the request time `now` (issue #14) to `ms` milliseconds since the Unix epoch, when
    /// `bundle`'s policies read it (a bundle that does not is unaffected). A policy that reads
    /// `now` when none was set gets the error ``missing attribute `now` ``.
    pub fn set_now(&mut self, bundle: &Bundle<'_>, ms: i64) {
        if let Some(s) = bundle.now_slot() {
            self.set(s, Value::Int(ms));
        }
    }

    /// Sets a string attribute, interning it in `bundle`'s string table. For an enum slot a
    /// member is stored as its rank ([`Value::Enum`]), so evaluation need not look it up;
    /// other strings stay [`Value::Str`] (and read as "not in enum", as before).
    #[inline]
    pub fn set_str(&mut self, bundle: &Bundle<'_>, slot: SlotId, text: &'a str) {
        let s = bundle.intern(text);
        let value = match bundle
            .enum_of_slot(slot)
            .and_then(|e| bundle.enum_rank(e, s))
        {
            Some(rank) => Value::Enum(rank),
            None => Value::Str(s),
        };
        self.set(slot, value);
    }

    /// The value of slot `slot` (missing when beyond the capacity).
    #[inline]
    pub fn get(&self, slot: SlotId) -> Value<'a> {
        self.values
            .get(usize::from(slot))
            .copied()
            .unwrap_or(Value::Missing)
    }

    /// Derives the positional slots (`xs[2]`, issue #13 session 7) from their lists: call it
    /// after setting every list, before evaluating ([`crate::positional::derive`]); a bundle
    /// without positions is unaffected.
    pub fn derive_positions(&mut self, bundle: &Bundle<'_>) {
        crate::positional::derive(bundle, &mut self.values);
    }

    /// All slot values.
    pub fn values(&self) -> &[Value<'a>] {
        &self.values
    }

    /// Checks the context can hold every slot of `bundle`.
    pub fn check_capacity(bundle: &Bundle<'_>) -> Result<(), CapacityError> {
        let needed = bundle.slot_count();
        if needed > N {
            Err(CapacityError {
                needed,
                capacity: N,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #15, sessions 15 and 16: the word-wise compare of 4 to 32 bytes is the slices'
    /// `==`.
    #[test]
    fn issue15_text_eq_is_slice_equality() {
        let base = *b"abcdefghijklmnopqrstuvwxyz0123456789";
        for n in 0..=base.len() {
            let a = &base[..n];
            assert!(text_eq(a, a));
            for i in 0..n {
                let mut b = base;
                b[i] ^= 1;
                assert!(!text_eq(a, &b[..n]), "{n} bytes, byte {i} differs");
                assert_eq!(text_eq(a, &b[..n]), a == &b[..n]);
            }
            if n > 0 {
                assert!(!text_eq(a, &base[..n - 1]));
            }
        }
    }

    /// The JIT relies on `#[repr(C, u8)]`: the tag is the first byte, every payload starts at
    /// one aligned offset, and the size stays what it was (32 bytes on 64-bit targets).
    #[test]
    fn value_layout_is_a_tag_byte_then_the_payload() {
        use core::mem::{align_of, size_of};
        if size_of::<usize>() == 8 {
            assert_eq!(size_of::<Value<'_>>(), 32);
            assert_eq!(size_of::<Str<'_>>(), 24);
        }
        assert_eq!(
            align_of::<Value<'_>>(),
            align_of::<usize>().max(align_of::<i64>())
        );
        let v = Value::Int(7);
        let base = &v as *const Value<'_> as usize;
        if let Value::Int(i) = &v {
            assert_eq!(i as *const i64 as usize - base, align_of::<Value<'_>>());
        }
        let s = Value::Str(Str { text: "x", sym: 3 });
        let base = &s as *const Value<'_> as usize;
        if let Value::Str(st) = &s {
            let at = st as *const Str<'_> as usize - base;
            assert_eq!(at, align_of::<Value<'_>>());
            assert_eq!(
                &st.sym as *const u32 as usize - base,
                at + size_of::<&str>()
            );
        }
    }
}

#[cfg(test)]
mod value_tests {
    use super::*;

    #[test]
    fn hot_types_stay_small() {
        // A context is `N` values; the interpreter's stack is 32 cells of similar size.
        assert!(core::mem::size_of::<Value<'_>>() <= 32);
        // An IP address (four `u32` words, issue #14) keeps the size and alignment: its
        // payload is 16 bytes with alignment 4, placed where every payload starts.
        if core::mem::size_of::<usize>() == 8 {
            assert_eq!(core::mem::size_of::<Value<'_>>(), 32);
        }
        assert_eq!(core::mem::align_of::<crate::ip::Ip>(), 4);
        let v = Value::Ip([1, 2, 3, 4]);
        let base = &v as *const Value<'_> as usize;
        if let Value::Ip(a) = &v {
            assert_eq!(
                a as *const crate::ip::Ip as usize - base,
                core::mem::align_of::<Value<'_>>()
            );
        } else {
            panic!("not an ip");
        }
        assert!(core::mem::size_of::<Str<'_>>() <= 24);
        assert!(core::mem::size_of::<crate::AttrError>() <= 8);
        assert!(core::mem::size_of::<crate::Outcome>() <= 24);
    }

    #[test]
    fn unknown_strings_compare_by_text_known_ones_by_symbol() {
        let a = Str {
            text: "abc",
            sym: NO_SYMBOL,
        };
        let b = Str {
            text: "abc",
            sym: NO_SYMBOL,
        };
        let c = Str {
            text: "abd",
            sym: NO_SYMBOL,
        };
        let k = Str {
            text: "abc",
            sym: 3,
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        // A known symbol never equals an unknown string: the table holds every constant.
        assert_ne!(a, k);
        assert_eq!(k, Str { text: "", sym: 3 });
    }
}
