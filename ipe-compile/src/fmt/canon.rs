//! The canonical spacing between the tokens of a line, shared by the formatter and by the
//! clause texts of decisions ([`canonical_text`]): one space around binary operators and
//! between words, none inside `(` `)` and `[` `]` or around `.` and `..`, none before `,` and
//! `:` and one after them, none after a unary `-` (but `- 4`, the negation of a literal, is
//! not the literal `-4`: that space is kept), a call's `(` and an index's `[` right after
//! their name, and `{ a: int }` for a record type (a `{` after a word, number or string) but
//! `{"a": 1}` for a value. Token texts are kept as written.

use super::lex::{self, Kind, Tok};

/// Words after which an operand starts (so a `-` after them is a sign, and a `(` or `[`
/// after them is spaced).
const OPERAND_STARTS: [&str; 19] = [
    "and",
    "or",
    "not",
    "in",
    "has",
    "where",
    "contains",
    "starts_with",
    "ends_with",
    "like",
    "matches",
    "contains_all",
    "contains_any",
    "intersects",
    "subset_of",
    "enum",
    "requires",
    "denies",
    "permits",
];

/// The source text `src` (a clause, a condition) with its tokens canonically spaced, on one
/// line, its comments left out: the text a decision shows for it. Two sources that differ
/// only in whitespace (and comments) have the same canonical text.
pub fn canonical_text(src: &str) -> String {
    if is_canonical(src) {
        // Issue #15: most clauses are written canonically already; they are not lexed.
        return src.to_owned();
    }
    spaced_tokens(src)
}

/// [`canonical_text`] as a [`crate::ast::Text`]: a canonical source of up to 24 bytes is
/// copied inline, without an allocation (issue #15: a requirement clause's text).
pub(crate) fn canonical_inline(src: &str) -> crate::ast::Text {
    if is_canonical(src) {
        return crate::ast::Text::new(src);
    }
    spaced_tokens(src).into()
}

/// [`canonical_text`] from the tokens.
fn spaced_tokens(src: &str) -> String {
    let toks = lex::tokens(src);
    // One pass over the tokens, comments skipped, into a string of the source's size
    // (issue #15: the checker calls this for every clause).
    let mut s = String::with_capacity(src.len());
    let mut first = true;
    for t in toks.iter().filter(|t| t.kind != Kind::Comment) {
        if !first && t.sp {
            s.push(' ');
        }
        s.push_str(t.text);
        first = false;
    }
    s
}

/// Whether each byte is a word byte of [`is_canonical`] (ASCII letters, digits, `_`): a table
/// (issue #15: every clause's text is tested).
const WORD_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_';
        b += 1;
    }
    t
};

/// Whether `src` is its own canonical text, by a conservative test that needs no tokens
/// (`false` says nothing): words (letters, digits, `_`; one starting with a digit is a
/// number), string literals without escapes or line ends, and the comparison operators,
/// each separated from the next by exactly one space, words joined by `.` without spaces;
/// any other character (signs, brackets, commas, comments, non-ASCII outside a string)
/// makes it `false`.
fn is_canonical(src: &str) -> bool {
    let b = src.as_bytes();
    let word = |c: u8| WORD_BYTES[usize::from(c)];
    // The end of the run of bytes from `n` that `f` accepts (a plain loop: issue #15, the
    // checker calls this for every clause).
    fn run(b: &[u8], mut n: usize, f: impl Fn(u8) -> bool) -> usize {
        while b.get(n).is_some_and(|&c| f(c)) {
            n += 1;
        }
        n
    }
    let mut n = 0;
    // Whether a token just ended (the next byte must be one space or the end).
    let mut after_token = false;
    while let Some(&c) = b.get(n) {
        if c == b' ' {
            if !after_token || b.get(n + 1) == Some(&b' ') {
                return false;
            }
            after_token = false;
            n += 1;
            continue;
        }
        if after_token {
            return false;
        }
        match c {
            c if word(c) => loop {
                n = run(b, n, word);
                // `a.b`: a path's segments, no space around the `.`.
                match (b.get(n), b.get(n + 1)) {
                    (Some(b'.'), Some(&d)) if d.is_ascii_alphabetic() || d == b'_' => n += 1,
                    _ => break,
                }
            },
            b'"' => {
                let body = run(b, n + 1, |c| !matches!(c, b'"' | b'\\' | b'\n' | b'\r')) - (n + 1);
                if b.get(n + 1 + body) != Some(&b'"') {
                    return false;
                }
                n += body + 2;
            }
            b'=' | b'!' | b'<' | b'>' => {
                let len = run(b, n, |c| matches!(c, b'=' | b'!' | b'<' | b'>')) - n;
                let op = src.get(n..n + len).unwrap_or("");
                if !matches!(op, "==" | "!=" | "<=" | ">=" | "<" | ">") {
                    return false;
                }
                n += len;
            }
            _ => return false,
        }
        after_token = true;
    }
    after_token || src.is_empty()
}

/// Whether an operand starts after token `k` of `toks` (`prev` is the token before it).
fn operand_follows(toks: &[Tok<'_>], k: Option<usize>, prev: Option<usize>) -> bool {
    let Some(t) = k.and_then(|k| toks.get(k)) else {
        return true;
    };
    let before = prev.and_then(|p| toks.get(p));
    match t.kind {
        Kind::Sym => !matches!(t.text, ")" | "]" | "}"),
        Kind::Word if before.is_some_and(|b| b.is(".")) => false,
        Kind::Word => {
            OPERAND_STARTS.contains(&t.text)
                || (t.text == "when" && before.is_some_and(|b| b.is("triggers")))
                || (t.text == "reason" && before.is_some_and(|b| b.is("with")))
        }
        Kind::Number | Kind::Str | Kind::Comment => false,
    }
}

/// Sets every token's `sp`: whether the canonical layout puts a space before it when it
/// follows another token on the same line.
pub(super) fn space(toks: &mut [Tok<'_>]) {
    // The open braces: true for a record type's `{ ... }`, false for a value's `{...}`.
    let mut braces: Vec<bool> = Vec::new();
    // The previous code token, the one before it, and whether the previous is a sign.
    let (mut prev, mut prev2): (Option<usize>, Option<usize>) = (None, None);
    let mut prev_sign = false;
    for k in 0..toks.len() {
        let t = toks[k];
        if t.kind == Kind::Comment {
            toks[k].sp = true;
            continue;
        }
        let sign = t.is("-") && operand_follows(toks, prev, prev2);
        let sp = match prev.map(|p| toks[p]) {
            None => false,
            Some(p) => {
                let block = braces.last().copied().unwrap_or(false);
                if prev_sign {
                    // `-4` is a literal, `- 4` the negation of one: keep which.
                    t.kind == Kind::Number && t.ws
                } else if p.is("(") || p.is("[") || p.is(".") || p.is("..") {
                    false
                } else if p.is("{") {
                    block && !t.is("}")
                } else if matches!(t.text, "," | ")" | "]" | ":" | "." | "..")
                    && t.kind == Kind::Sym
                {
                    false
                } else if t.is("}") {
                    block
                } else if t.is("(") || t.is("[") {
                    match p.kind {
                        _ if operand_follows(toks, prev, prev2) => true,
                        // A call's `(` right after its name; an index's `[` keeps the
                        // source's choice (it decides whether it is an index).
                        Kind::Word if t.is("(") => false,
                        _ => t.ws,
                    }
                } else {
                    true
                }
            }
        };
        toks[k].sp = sp;
        if t.is("{") {
            let block =
                prev.is_some_and(|p| matches!(toks[p].kind, Kind::Word | Kind::Number | Kind::Str));
            braces.push(block);
        } else if t.is("}") {
            braces.pop();
        }
        prev_sign = sign;
        prev2 = prev;
        prev = Some(k);
    }
}

#[cfg(test)]
mod tests {
    use super::{is_canonical, spaced_tokens};

    /// The texts the test below takes from a line: the line, what follows `when` and
    /// `requires`, and its parts between `and` and `or`.
    fn pieces(line: &str) -> Vec<&str> {
        let t = line.trim();
        let mut out = vec![line, t];
        for kw in ["when ", "requires "] {
            if let Some((_, rest)) = t.split_once(kw) {
                out.push(rest);
                out.extend(rest.split(" and ").flat_map(|p| p.split(" or ")));
            }
        }
        out
    }

    #[test]
    fn canonical_sources_are_their_own_canonical_text() {
        let mut fast = 0;
        let hand = [
            "a.b == \"x y\"",
            "resource.replicas <= 10 and requester.department != \"blocked-1\"",
            "not a.b_c in xs",
            "x > 1",
            "",
        ];
        for s in hand {
            assert!(is_canonical(s), "{s:?}");
            assert_eq!(spaced_tokens(s), s);
        }
        for s in [
            "a==b",
            "a  == b",
            " a",
            "a ",
            "a . b",
            "a.1",
            "x == -1",
            "f(x)",
            "a = b",
            "\"a\\\"b\"",
            "a # c",
            "x in [1, 2]",
            "a-b == 1",
            "1.5 > x",
            "\"open",
            "a\tb",
            "a\nb",
            "x ?? 1 > 0",
            "a..b",
        ] {
            assert!(!is_canonical(s), "{s:?}");
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for dir in ["tests/corpus", "examples"] {
            for e in walkdir::WalkDir::new(root.join(dir)).into_iter().flatten() {
                if e.path().extension().is_none_or(|x| x != "ipe") {
                    continue;
                }
                let src = std::fs::read_to_string(e.path()).unwrap_or_default();
                for line in src.lines() {
                    for p in pieces(line) {
                        if is_canonical(p) {
                            fast += 1;
                            assert_eq!(spaced_tokens(p), p, "{}", e.path().display());
                        }
                    }
                }
            }
        }
        assert!(fast > 1000, "texts that took the fast path: {fast}");
    }
}
