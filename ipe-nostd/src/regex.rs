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
//! A match is one forward DFA search that stops at the first match state: linear in the
//! string's length (one transition per byte), no allocation, no backtracking, whatever the
//! regex. Each match also re-reads the DFA with `from_bytes` (its validation is linear in the
//! DFA's size, which the compiler bounds).
//!
//! Without the `regex` feature a bundle with a regex table is refused at load
//! ([`BundleError::RegexUnsupported`]).

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
            let (text, left) = postcard::take_from_bytes::<&str>(rest).ok()?;
            let (dfa, left) = postcard::take_from_bytes::<&[u8]>(left).ok()?;
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

/// Checks a regex table at load: well-formed entries with shortest length prefixes, and each
/// DFA valid for unanchored search. `RegexUnsupported` when the build lacks the `regex` feature
/// and the table is not empty; `BadRegex` names the first invalid DFA.
pub fn check_table(table: &[u8]) -> Result<(), BundleError> {
    if table.is_empty() {
        return Ok(());
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
        check_dfa(e.dfa).map_err(|()| BundleError::BadRegex(index))?;
    }
    if len != table.len() {
        return Err(BundleError::NonCanonical);
    }
    Ok(())
}

#[cfg(feature = "regex")]
fn check_dfa(dfa: &[u8]) -> Result<(), ()> {
    let (d, read) = sparse::DFA::from_bytes(dfa).map_err(|_| ())?;
    let unanchored = matches!(d.start_kind(), StartKind::Unanchored | StartKind::Both);
    if read != dfa.len() || !unanchored {
        return Err(());
    }
    Ok(())
}

#[cfg(not(feature = "regex"))]
fn check_dfa(_: &[u8]) -> Result<(), ()> {
    Err(())
}

/// Whether the DFA `dfa` matches somewhere in `hay`. A DFA that does not deserialize (never
/// after [`check_table`]) or a search that gives up (only a DFA with quit bytes, which the
/// compiler never builds) is no match.
#[cfg(feature = "regex")]
pub fn is_match(dfa: &[u8], hay: &str) -> bool {
    let Ok((d, _)) = sparse::DFA::from_bytes(dfa) else {
        return false;
    };
    let input = regex_automata::Input::new(hay).earliest(true);
    matches!(d.try_search_fwd(&input), Ok(Some(_)))
}

/// Without the `regex` feature no bundle with a regex loads, so this never runs.
#[cfg(not(feature = "regex"))]
pub fn is_match(_: &[u8], _: &str) -> bool {
    false
}

/// `a matches` regex `re` of `table` (constants resolved through their symbols).
pub fn str_match<T: SymbolText + ?Sized>(t: &T, table: &[u8], re: u16, a: Str<'_>) -> bool {
    nth(table, re).is_some_and(|e| is_match(e.dfa, read::text(t, &a)))
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
}
