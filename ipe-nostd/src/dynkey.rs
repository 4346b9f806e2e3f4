//! Issue #13: a request map indexed by a key known only at run time (`labels[k]`,
//! `ports[p.name].number`, `docs/LANGUAGE.md` "Dynamic keys on request maps"). The one entry
//! search every runtime runs: the interpreter's `map.get` and `map.has`
//! ([`crate::isa::Instr::MapGet`], [`crate::isa::Instr::MapHas`]) and the JIT's helper.

use crate::value::{Str, Value};

/// The index of the entry whose key is `key` among a map's entries `vals` (a valid map slot's
/// value read as a list of records of `stride` fields, the key being field 0), if any.
///
/// A linear scan in the request's order: at most the map's `max` entries, the cost the
/// verifier charges. Readers refuse a key given twice, so at most one entry matches. Keys
/// compare as strings do everywhere ([`Str`]'s equality: by symbol when either has one).
pub fn find(vals: &[Value<'_>], stride: usize, key: Str<'_>) -> Option<usize> {
    vals.chunks_exact(stride.max(1))
        .position(|e| matches!(e.first(), Some(Value::Str(k)) if *k == key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::NO_SYMBOL;

    fn s(text: &str, sym: u32) -> Value<'_> {
        Value::Str(Str { text, sym })
    }

    #[test]
    fn issue13_find_scans_entries_by_key_text_or_symbol() {
        let vals = [s("a", NO_SYMBOL), Value::Int(1), s("b", 7), Value::Int(2)];
        let key = |text, sym| Str { text, sym };
        assert_eq!(find(&vals, 2, key("a", NO_SYMBOL)), Some(0));
        assert_eq!(find(&vals, 2, key("", 7)), Some(1));
        assert_eq!(find(&vals, 2, key("b", 7)), Some(1));
        assert_eq!(find(&vals, 2, key("c", NO_SYMBOL)), None);
        // A value that equals the key is not a key.
        assert_eq!(
            find(&[Value::Int(1), s("a", NO_SYMBOL)], 2, key("a", NO_SYMBOL)),
            None
        );
        assert_eq!(find(&[], 2, key("a", NO_SYMBOL)), None);
        assert_eq!(find(&vals, 0, key("a", NO_SYMBOL)), Some(0));
    }
}
