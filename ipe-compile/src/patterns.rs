//! `like` and `matches` (issue #14) on the compiler's side: the reference evaluator's own
//! matchers (independent of the runtimes' kernels on purpose) and the regex compiler that
//! builds the DFA stored in a bundle.

use regex_automata::dfa::{dense, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;

/// The largest serialized DFA (bytes) the compiler stores for one `matches` regex.
pub const REGEX_DFA_BUDGET: usize = 32 * 1024;

/// Memory the compiler may spend determinizing one regex before refusing it.
const BUILD_LIMIT: usize = 8 << 20;

/// Whether `hay` matches the stored `like` pattern `pat` (reference: dynamic programming over
/// characters; a `\` escapes the next character, a bare `*` is a wildcard).
pub fn like(hay: &str, pat: &str) -> bool {
    let mut toks = Vec::new();
    let mut it = pat.chars();
    while let Some(c) = it.next() {
        toks.push(match c {
            '*' => None,
            '\\' => Some(it.next().unwrap_or('\\')),
            c => Some(c),
        });
    }
    // row[j]: the characters read so far match the first j tokens.
    let mut row = vec![false; toks.len() + 1];
    row[0] = true;
    for (j, t) in toks.iter().enumerate() {
        row[j + 1] = row[j] && t.is_none();
    }
    for c in hay.chars() {
        let mut next = vec![false; toks.len() + 1];
        for (j, t) in toks.iter().enumerate() {
            next[j + 1] = match t {
                None => next[j] || row[j + 1],
                Some(t) => row[j] && *t == c,
            };
        }
        row = next;
    }
    row[toks.len()]
}

/// Whether regex `re` matches somewhere in `hay` (reference: the `regex` crate; the regex
/// compiled when the policy was checked, so it is valid).
pub fn matches(re: &str, hay: &str) -> bool {
    regex::Regex::new(re).is_ok_and(|r| r.is_match(hay))
}

/// Why a `matches` regex does not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexError {
    /// The regex syntax error, or a construct the DFA cannot run (e.g. a Unicode `\b`).
    Invalid(String),
    /// The DFA is larger than [`REGEX_DFA_BUDGET`] (or too large to build at all).
    TooLarge {
        /// Its serialized size, if it was built.
        bytes: Option<usize>,
    },
}

/// The serialized (little-endian) sparse DFA of `re`, searching unanchored (a match anywhere;
/// `^` and `$` anchor).
pub fn compile_regex(re: &str) -> Result<Vec<u8>, RegexError> {
    let dfa = dense::Builder::new()
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Unanchored)
                .dfa_size_limit(Some(BUILD_LIMIT))
                .determinize_size_limit(Some(BUILD_LIMIT)),
        )
        .syntax(syntax::Config::new())
        .thompson(thompson::Config::new().nfa_size_limit(Some(BUILD_LIMIT)))
        .build(re)
        .map_err(|e| {
            let text = e.to_string();
            if text.contains("exceeded") || text.contains("limit") {
                RegexError::TooLarge { bytes: None }
            } else {
                RegexError::Invalid(source_text(&e))
            }
        })?;
    let sparse = dfa
        .to_sparse()
        .map_err(|_| RegexError::TooLarge { bytes: None })?;
    let bytes = sparse.to_bytes_little_endian();
    if bytes.len() > REGEX_DFA_BUDGET {
        return Err(RegexError::TooLarge {
            bytes: Some(bytes.len()),
        });
    }
    Ok(bytes)
}

/// The most precise message of a build error (the syntax error's own text when there is one).
fn source_text(e: &dense::BuildError) -> String {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text = s.to_string();
        src = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue14_reference_like() {
        assert!(like("a.example.com", "*.example.com"));
        assert!(!like("example.com", "*.example.com"));
        assert!(like("a*b", "a\\*b"));
        assert!(!like("axb", "a\\*b"));
        assert!(like("", "*"));
        assert!(!like("x", ""));
    }

    #[test]
    fn issue14_regex_errors_and_budget() {
        assert!(matches!(compile_regex("(a"), Err(RegexError::Invalid(_))));
        assert!(compile_regex("^[a-z]+\\.demo$").is_ok());
        assert!(matches!(
            compile_regex("[a-z]{200}x[a-z]{200}"),
            Err(RegexError::TooLarge { .. })
        ));
    }
}
