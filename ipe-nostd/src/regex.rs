//! `matches` regular expressions (issue #14): the bundle's regex table and the one matcher
//! every runtime calls.
//!
//! The table is trailing section [`REGEX_SECTION`] of the body (`docs/bundle-format.md`): a
//! sequence of entries, each the regex's source text and its DFA as two postcard byte strings
//! (shortest length prefixes). The DFA is a `regex-automata` *sparse* DFA serialized
//! little-endian, built for unanchored search (a match anywhere in the string; `^` and `$`
//! anchor). Sparse DFAs have no alignment requirement, so a bundle at any address (an mmap,
//! flash, an odd offset in a buffer) is read in place: [`sparse::DFA::from_bytes`] borrows the
//! bytes and validates every state and start state (no copy, no allocation).
//!
//! Each DFA is validated once, when the bundle is loaded ([`load`]): the [`Bundle`] keeps the
//! validated DFAs ([`Dfas`]) and every match searches with them, never re-reading the bytes.
//! With the `alloc` feature they live in a `Vec`; without it in a fixed-capacity
//! `heapless::Vec` of [`MAX_REGEXES`] entries, and a bundle with more regexes is refused at
//! load ([`BundleError::TooManyRegexes`]).
//!
//! A match is one forward DFA search that stops at the first match state: linear in the
//! string's length (one transition per byte), no allocation, no backtracking, whatever the
//! regex.
//!
//! Without the `regex` feature a bundle with a regex table is refused at load
//! ([`BundleError::RegexUnsupported`]) and [`Dfas`] is empty (zero-sized).
//!
//! [`Bundle`]: crate::Bundle

use crate::bundle::BundleError;
use crate::read::{self, SymbolText};
use crate::Str;

#[cfg(feature = "regex")]
use regex_automata::dfa::{sparse, Automaton, StartKind};

/// The tag of the regex table's trailing section.
pub const REGEX_SECTION: u8 = 2;

/// One entry of the regex table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The regex as written in the policy (for listings).
    pub text: &'a str,
    /// Its serialized sparse DFA.
    pub dfa: &'a [u8],
}

/// The entries of a regex table in order; stops (with `Err`) at malformed bytes.
pub fn entries(table: &[u8]) -> impl Iterator<Item = Result<Entry<'_>, BundleError>> + '_ {
    let mut rest = table;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let entry = (|| {
            // Two postcard byte strings, the first UTF-8 (issue #15: read by `wire.rs`).
            let (text, left) = crate::wire::take_bytes(rest)?;
            let text = core::str::from_utf8(text).ok()?;
            let (dfa, left) = crate::wire::take_bytes(left)?;
            Some((Entry { text, dfa }, left))
        })();
        match entry {
            Some((e, left)) => {
                rest = left;
                Some(Ok(e))
            }
            None => {
                rest = &[];
                Some(Err(BundleError::MalformedBody))
            }
        }
    })
}

/// The number of entries of a (checked) regex table.
pub fn count(table: &[u8]) -> usize {
    entries(table).take_while(Result::is_ok).count()
}

/// Entry `i` of a (checked) regex table.
pub fn nth(table: &[u8], i: u16) -> Option<Entry<'_>> {
    entries(table).nth(usize::from(i))?.ok()
}

/// Bytes of the shortest postcard varint encoding `n`.
fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// How many regexes a bundle may hold in a build without the `alloc` feature: its validated
/// DFAs live in a fixed-capacity array inside the [`Bundle`](crate::Bundle), each entry
/// `size_of::<regex_automata::dfa::sparse::DFA<&[u8]>>()` bytes (720 on x86_64, a little less
/// on 32-bit targets: two 256-byte maps, whatever the DFA's size, whose transitions stay in the
/// bundle's bytes), so such a `Bundle` is about 2.9 KB larger than without the `regex` feature. A bundle with more
/// regexes is refused at load ([`BundleError::TooManyRegexes`]). Builds with `alloc` have no
/// such limit (a `Vec`, allocated once at load).
pub const MAX_REGEXES: usize = 4;

#[cfg(all(feature = "regex", feature = "alloc"))]
type DfaVec<'a> = alloc::vec::Vec<sparse::DFA<&'a [u8]>>;
#[cfg(all(feature = "regex", not(feature = "alloc")))]
type DfaVec<'a> = heapless::Vec<sparse::DFA<&'a [u8]>, MAX_REGEXES>;

/// The regex table's DFAs, validated once at load ([`load`]) and borrowing the bundle's bytes:
/// entry `i` is regex `i` of the table. Zero-sized without the `regex` feature.
#[derive(Clone, Debug, Default)]
pub struct Dfas<'a> {
    #[cfg(feature = "regex")]
    dfas: DfaVec<'a>,
    #[cfg(not(feature = "regex"))]
    dfas: core::marker::PhantomData<&'a [u8]>,
}

impl<'a> Dfas<'a> {
    /// The validated DFA of regex `re` (`None` past the table's end).
    #[cfg(feature = "regex")]
    #[inline]
    pub fn get(&self, re: u16) -> Option<&sparse::DFA<&'a [u8]>> {
        self.dfas.get(usize::from(re))
    }

    /// Number of regexes.
    pub fn len(&self) -> usize {
        #[cfg(feature = "regex")]
        return self.dfas.len();
        #[cfg(not(feature = "regex"))]
        0
    }

    /// Whether there are no regexes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether regex `re` matches somewhere in `hay` (`false` past the table's end, which the
    /// verifier rules out for `str.match` operands).
    #[inline]
    pub fn is_match(&self, re: u16, hay: &str) -> bool {
        #[cfg(feature = "regex")]
        return self.get(re).is_some_and(|d| is_match(d, hay));
        #[cfg(not(feature = "regex"))]
        {
            let _ = (re, hay);
            false
        }
    }
}

/// Checks a regex table at load and returns its validated DFAs: well-formed entries with
/// shortest length prefixes, and each DFA valid for unanchored search (validated here, once).
/// `RegexUnsupported` when the build lacks the `regex` feature and the table is not empty;
/// `BadRegex` names the first invalid DFA; `TooManyRegexes` when a build without `alloc` has no
/// room for them all ([`MAX_REGEXES`]).
pub fn load(table: &[u8]) -> Result<Dfas<'_>, BundleError> {
    let mut dfas = Dfas::default();
    if table.is_empty() {
        return Ok(dfas);
    }
    if !cfg!(feature = "regex") {
        return Err(BundleError::RegexUnsupported);
    }
    let mut len = 0usize;
    for (i, e) in entries(table).enumerate() {
        let e = e?;
        let index = u16::try_from(i).map_err(|_| BundleError::MalformedBody)?;
        len = len
            .saturating_add(varint_len(e.text.len()) + e.text.len())
            .saturating_add(varint_len(e.dfa.len()) + e.dfa.len());
        push_dfa(&mut dfas, e.dfa, index)?;
    }
    if len != table.len() {
        return Err(BundleError::NonCanonical);
    }
    Ok(dfas)
}

/// Checks a regex table at load (see [`load`], which also keeps the validated DFAs).
pub fn check_table(table: &[u8]) -> Result<(), BundleError> {
    load(table).map(|_| ())
}

#[cfg(feature = "regex")]
fn push_dfa<'a>(dfas: &mut Dfas<'a>, dfa: &'a [u8], index: u16) -> Result<(), BundleError> {
    let (d, read) = sparse::DFA::from_bytes(dfa).map_err(|_| BundleError::BadRegex(index))?;
    let unanchored = matches!(d.start_kind(), StartKind::Unanchored | StartKind::Both);
    if read != dfa.len() || !unanchored {
        return Err(BundleError::BadRegex(index));
    }
    #[cfg(feature = "alloc")]
    dfas.dfas.push(d);
    #[cfg(not(feature = "alloc"))]
    dfas.dfas
        .push(d)
        .map_err(|_| BundleError::TooManyRegexes { max: MAX_REGEXES })?;
    Ok(())
}

#[cfg(not(feature = "regex"))]
fn push_dfa(_: &mut Dfas<'_>, _: &[u8], index: u16) -> Result<(), BundleError> {
    Err(BundleError::BadRegex(index))
}

/// Whether the validated DFA `dfa` matches somewhere in `hay` (a search that gives up, only
/// with a DFA with quit bytes, which the compiler never builds, is no match). The JIT's
/// helper calls this with its own (owned) copy of the bundle's DFAs.
#[cfg(feature = "regex")]
#[inline]
pub fn is_match<T: AsRef<[u8]>>(dfa: &sparse::DFA<T>, hay: &str) -> bool {
    let input = regex_automata::Input::new(hay).earliest(true);
    matches!(dfa.try_search_fwd(&input), Ok(Some(_)))
}

/// Whether the validated DFA `dfa` matches somewhere in `lower(hay)` (issue #14, session 9,
/// `str.match.fold`): the DFA is stepped by hand over the lower-case UTF-8 of each char of
/// `hay` ([`fold::for_each_lowered_byte`](crate::fold::for_each_lowered_byte)), stopping at
/// the first match state, as [`is_match`] does over the bytes themselves; nothing allocated.
#[cfg(feature = "regex")]
pub fn is_match_folded<T: AsRef<[u8]>>(dfa: &sparse::DFA<T>, hay: &str) -> bool {
    // The start state of an unanchored search at the start of a text.
    let Ok(mut sid) = dfa.start_state_forward(&regex_automata::Input::new("")) else {
        return false;
    };
    let mut hit = false;
    let done = !crate::fold::for_each_lowered_byte(hay, |b| {
        sid = dfa.next_state(sid, b);
        if dfa.is_special_state(sid) {
            if dfa.is_match_state(sid) {
                hit = true;
                return false;
            }
            if dfa.is_dead_state(sid) || dfa.is_quit_state(sid) {
                return false;
            }
        }
        true
    });
    if done {
        return hit;
    }
    dfa.is_match_state(dfa.next_eoi_state(sid))
}

/// `lower(a) matches` regex `re` of `dfas` (issue #14, session 9; see [`is_match_folded`]).
#[inline]
pub fn str_match_folded<T: SymbolText + ?Sized>(
    t: &T,
    dfas: &Dfas<'_>,
    re: u16,
    a: Str<'_>,
) -> bool {
    #[cfg(feature = "regex")]
    return dfas
        .get(re)
        .is_some_and(|d| is_match_folded(d, read::text(t, &a)));
    #[cfg(not(feature = "regex"))]
    {
        let _ = (t, dfas, re, a);
        false
    }
}

/// `a matches` regex `re` of `dfas` (constants resolved through their symbols).
#[inline]
pub fn str_match<T: SymbolText + ?Sized>(t: &T, dfas: &Dfas<'_>, re: u16, a: Str<'_>) -> bool {
    dfas.is_match(re, read::text(t, &a))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry with text `x` and a DFA of `dfa`.
    fn table(dfa: &[u8]) -> std::vec::Vec<u8> {
        let mut t = std::vec![1, b'x'];
        t.push(dfa.len() as u8);
        t.extend_from_slice(dfa);
        t
    }

    #[test]
    fn issue14_an_empty_table_is_fine_in_every_build() {
        assert_eq!(check_table(&[]), Ok(()));
        assert_eq!(count(&[]), 0);
    }

    /// A build without the `regex` feature refuses any regex table at load.
    #[cfg(not(feature = "regex"))]
    #[test]
    fn issue14_without_the_feature_a_regex_table_is_refused() {
        assert_eq!(
            check_table(&table(&[0; 8])),
            Err(BundleError::RegexUnsupported)
        );
    }

    /// With the feature, bytes that are no DFA are `BadRegex`, a cut entry `MalformedBody`.
    #[cfg(feature = "regex")]
    #[test]
    fn issue14_a_table_of_garbage_is_a_typed_error() {
        assert_eq!(check_table(&table(&[0; 8])), Err(BundleError::BadRegex(0)));
        assert_eq!(check_table(&[1, b'x', 9]), Err(BundleError::MalformedBody));
        assert_eq!(count(&table(&[0; 8])), 1);
    }

    /// A table of `n` entries, entry `i` the regex `a{i+1}` (built with the dev-dependency's
    /// DFA builder, serialized little-endian as the compiler does).
    #[cfg(feature = "regex")]
    fn regexes(n: usize) -> std::vec::Vec<u8> {
        let mut t = std::vec::Vec::new();
        for i in 0..n {
            let re = std::format!("a{{{}}}", i + 1);
            let dfa = sparse::DFA::new(&re).expect("builds");
            let bytes = dfa.to_bytes_little_endian();
            t.extend(postcard::to_allocvec(re.as_str()).expect("encodes"));
            t.extend(postcard::to_allocvec(bytes.as_slice()).expect("encodes"));
        }
        t
    }

    /// Issue 14 (session 9): `lower(s) matches re` feeds the DFA the lowered UTF-8 of each char;
    /// the same answers as the DFA over the lowered string, anchors and Unicode included.
    #[cfg(feature = "regex")]
    #[test]
    fn issue14_a_dfa_runs_over_the_folded_string() {
        for (re, hay, hit) in [
            ("^p[a-z]*d$", "PROD", true),
            ("^p[a-z]*d$", "PROD2", false),
            ("^äb$", "ÄB", true),
            ("^i\u{307}x", "İX", true),
            ("σ$", "ΟΔΟΣ", true),
            ("ς", "ΟΔΟΣ", false),
            ("x", "", false),
            ("", "", true),
            (
                "(a|aa)*b",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC",
                false,
            ),
            ("[0-9]", "ABC1", true),
        ] {
            let dfa = sparse::DFA::new(re).expect("builds");
            assert_eq!(is_match_folded(&dfa, hay), hit, "{re} {hay}");
            let low: std::string::String = hay.chars().flat_map(char::to_lowercase).collect();
            assert_eq!(is_match(&dfa, &low), hit, "{re} {low}");
        }
    }

    /// Issue 15: the DFAs are validated once at load and kept; matching uses them.
    #[cfg(feature = "regex")]
    #[test]
    fn issue15_load_keeps_the_validated_dfas() {
        let t = regexes(3);
        let dfas = load(&t).expect("valid table");
        assert_eq!(dfas.len(), 3);
        assert!(dfas.is_match(0, "xa"));
        assert!(!dfas.is_match(1, "xa"));
        assert!(dfas.is_match(1, "baab"));
        assert!(dfas.is_match(2, "aaa"));
        assert!(!dfas.is_match(2, "aa"));
        // Past the table's end: no match (the verifier rules such an operand out).
        assert!(!dfas.is_match(3, "aaaa"));
        assert!(dfas.get(3).is_none());
        assert!(load(&[]).expect("empty").is_empty());
    }

    /// Issue 15: a build without `alloc` holds at most `MAX_REGEXES` validated DFAs and refuses
    /// a bundle with more, with a typed error.
    #[cfg(all(feature = "regex", not(feature = "alloc")))]
    #[test]
    fn issue15_without_alloc_too_many_regexes_is_refused() {
        let full = regexes(MAX_REGEXES);
        assert_eq!(load(&full).map(|d| d.len()), Ok(MAX_REGEXES));
        assert_eq!(
            check_table(&regexes(MAX_REGEXES + 1)).err(),
            Some(BundleError::TooManyRegexes { max: MAX_REGEXES })
        );
    }

    /// With `alloc` there is no such limit.
    #[cfg(all(feature = "regex", feature = "alloc"))]
    #[test]
    fn issue15_with_alloc_many_regexes_load() {
        let t = regexes(MAX_REGEXES + 5);
        let dfas = load(&t).expect("valid table");
        assert_eq!(dfas.len(), MAX_REGEXES + 5);
        assert!(dfas.is_match(8, "aaaaaaaaa"));
    }
}
