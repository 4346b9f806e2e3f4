//! `like` glob patterns (issue #14): the one matcher every runtime calls.
//!
//! A stored pattern is the text of the source literal with each wildcard a bare `*` and each
//! literal `*` or `\` escaped by a `\` (the compiler writes `\*` for the source's `\*` and
//! `\\` for a literal backslash). A `\` before any other character, or at the end, stands for
//! that character (or itself): every byte string is a pattern with one meaning.
//!
//! Matching is whole-string: `*` matches any sequence of characters, the empty one included;
//! everything else matches itself. The algorithm splits the pattern at its wildcards: the
//! first segment must be a prefix, the last a suffix, and each middle segment is found at its
//! leftmost place after the previous one (leftmost is always safe for `*`-only globs, so there
//! is no backtracking). Worst case `len(haystack) * len(pattern)` byte comparisons, no
//! allocation, no recursion. Bytes and characters agree: segments are UTF-8 text that never
//! starts with a continuation byte, so a segment matches only at a character boundary.

/// Whether `hay` matches the stored `like` pattern `pat` (see the module docs).
pub fn like(hay: &str, pat: &str) -> bool {
    let (h, p) = (hay.as_bytes(), pat.as_bytes());
    let Some(star) = next_star(p) else {
        return segment_at(h, 0, p) == Some(h.len());
    };
    let Some(mut pos) = segment_at(h, 0, p.get(..star).unwrap_or(&[])) else {
        return false;
    };
    let mut rest = p.get(star + 1..).unwrap_or(&[]);
    while let Some(star) = next_star(rest) {
        let seg = rest.get(..star).unwrap_or(&[]);
        match find_segment(h, pos, seg) {
            Some(end) => pos = end,
            None => return false,
        }
        rest = rest.get(star + 1..).unwrap_or(&[]);
    }
    // The last segment: a suffix, not overlapping what the earlier segments used.
    let need = segment_len(rest);
    match h.len().checked_sub(need) {
        Some(at) if at >= pos => segment_at(h, at, rest) == Some(h.len()),
        _ => false,
    }
}

/// The offset of the first unescaped `*` of `p`.
fn next_star(p: &[u8]) -> Option<usize> {
    let mut k = 0;
    while let Some(&c) = p.get(k) {
        match c {
            b'*' => return Some(k),
            b'\\' => k += 2,
            _ => k += 1,
        }
    }
    None
}

/// The number of bytes segment `seg` (escapes resolved, no wildcard) matches.
fn segment_len(seg: &[u8]) -> usize {
    let mut k = 0;
    let mut n = 0;
    while let Some(&c) = seg.get(k) {
        k += if c == b'\\' && k + 1 < seg.len() {
            2
        } else {
            1
        };
        n += 1;
    }
    n
}

/// If segment `seg` matches `h` at `at`, the offset just after the match.
fn segment_at(h: &[u8], at: usize, seg: &[u8]) -> Option<usize> {
    let mut i = at;
    let mut k = 0;
    while let Some(&c) = seg.get(k) {
        let lit = match (c, seg.get(k + 1)) {
            (b'\\', Some(&next)) => {
                k += 1;
                next
            }
            _ => c,
        };
        if h.get(i) != Some(&lit) {
            return None;
        }
        i += 1;
        k += 1;
    }
    Some(i)
}

/// The end of the leftmost match of segment `seg` in `h` at or after `from`.
fn find_segment(h: &[u8], from: usize, seg: &[u8]) -> Option<usize> {
    let need = segment_len(seg);
    let last = h.len().checked_sub(need)?;
    (from..=last).find_map(|at| segment_at(h, at, seg))
}

#[cfg(test)]
mod tests {
    use super::like;
    use std::vec::Vec;

    /// A slow oracle: dynamic programming over characters (`None` a wildcard).
    fn oracle(hay: &str, pat: &str) -> bool {
        let mut toks = Vec::new();
        let mut it = pat.chars();
        while let Some(c) = it.next() {
            toks.push(match c {
                '*' => None,
                '\\' => Some(it.next().unwrap_or('\\')),
                c => Some(c),
            });
        }
        let h: Vec<char> = hay.chars().collect();
        // m[j]: the first i characters match the first j tokens.
        let mut m = std::vec![false; toks.len() + 1];
        m[0] = true;
        for (j, t) in toks.iter().enumerate() {
            m[j + 1] = m[j] && t.is_none();
        }
        for c in h {
            let mut next = std::vec![false; toks.len() + 1];
            for (j, t) in toks.iter().enumerate() {
                next[j + 1] = match t {
                    None => next[j] || m[j + 1],
                    Some(t) => m[j] && *t == c,
                };
            }
            m = next;
        }
        m[toks.len()]
    }

    #[test]
    fn issue14_like_examples() {
        assert!(like("www.example.com", "*.example.com"));
        assert!(!like("example.com", "*.example.com"));
        assert!(like(".example.com", "*.example.com"));
        assert!(like("", ""));
        assert!(like("", "*"));
        assert!(like("anything", "*"));
        assert!(!like("a", ""));
        assert!(like("a*b", "a\\*b"));
        assert!(!like("axb", "a\\*b"));
        assert!(like("arn:aws:iam::123:user/bob", "arn:aws:iam::*:user/*"));
        assert!(!like("arn:aws:iam::123:role/bob", "arn:aws:iam::*:user/*"));
        assert!(like("ab", "a*b*"));
        assert!(!like("aba", "*ab"));
        assert!(like("aab", "*ab"));
        assert!(!like("ab", "a*ab"));
        assert!(like("aab", "a*ab"));
        assert!(like("héllo wörld", "h*ö*"));
        assert!(like("a\\b", "a\\\\b"));
    }

    /// The segment algorithm agrees with the dynamic-programming oracle on every pair of
    /// short words and patterns over a small alphabet.
    #[test]
    fn issue14_like_agrees_with_a_dynamic_programming_oracle() {
        let alpha = ["a", "b", "*", "\\*", "é", "\\\\", "\\"];
        let mut pats = std::vec![std::string::String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for p in &pats {
                for a in alpha {
                    next.push(std::format!("{p}{a}"));
                }
            }
            pats.extend(next);
            pats.sort();
            pats.dedup();
        }
        let words = [
            "", "a", "b", "ab", "ba", "aab", "abab", "*", "a*", "\\", "a\\b", "é", "aéb", "bbb",
            "abba", "**",
        ];
        for p in &pats {
            for w in words {
                assert_eq!(like(w, p), oracle(w, p), "{w:?} like {p:?}");
            }
        }
    }
}
