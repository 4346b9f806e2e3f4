//! The formatter's tokens: every token of a source with the whitespace before it, so the
//! layout can keep each token's text byte for byte and know where the source broke lines.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// An identifier or keyword (`-` allowed inside).
    Word,
    /// A run of letters and digits starting with a digit (integers, `0x1F`, `1h30m`).
    Number,
    /// A string literal, quotes and escapes as written (it may span lines).
    Str,
    /// A `#` comment (trailing whitespace removed).
    Comment,
    /// Any other character.
    Sym,
}

/// One token.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tok<'a> {
    /// What it is.
    pub kind: Kind,
    /// Its source text.
    pub text: &'a str,
    /// Line ends between the previous token and this one.
    pub nl: usize,
    /// Whether whitespace separates it from the previous token.
    pub ws: bool,
    /// Whether it starts its source line (column 1).
    pub col0: bool,
    /// Whether the canonical layout puts a space before it on a line (`canon.rs`).
    pub sp: bool,
}

impl Tok<'_> {
    /// Whether the token is word `w`.
    pub fn is(&self, w: &str) -> bool {
        matches!(self.kind, Kind::Word | Kind::Sym) && self.text == w
    }
}

/// The operators of several characters, one token each (longest first).
const MULTI: [&str; 9] = ["==", "!=", "<=", ">=", "??", "..", "->", "&&", "||"];

/// Every token of `src` (which the parser accepted).
pub(super) fn tokens(src: &str) -> Vec<Tok<'_>> {
    let bytes = src.as_bytes();
    // About one token per four bytes: few regrowths for a clause (issue #15).
    let mut out = Vec::with_capacity(src.len() / 4 + 4);
    let (mut nl, mut ws) = (0, false);
    let mut n = 0;
    while let Some(&b) = bytes.get(n) {
        let start = n;
        let kind = match b {
            b'\n' => {
                nl += 1;
                ws = true;
                n += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                ws = true;
                n += 1;
                continue;
            }
            b'#' => {
                n = src[n..].find('\n').map_or(src.len(), |e| n + e);
                Kind::Comment
            }
            b'"' => {
                n += 1;
                while let Some(&c) = bytes.get(n) {
                    n += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
                n = n.min(src.len());
                Kind::Str
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                n += 1;
                while bytes
                    .get(n)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
                {
                    n += 1;
                }
                Kind::Word
            }
            c if c.is_ascii_digit() => {
                while bytes
                    .get(n)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    n += 1;
                }
                Kind::Number
            }
            _ => {
                n += match MULTI.iter().find(|m| src[n..].starts_with(**m)) {
                    Some(m) => m.len(),
                    None => src[n..].chars().next().map_or(1, char::len_utf8),
                };
                Kind::Sym
            }
        };
        let mut text = &src[start..n];
        if kind == Kind::Comment {
            text = text.trim_end();
        }
        let col0 = start == 0 || bytes.get(start - 1) == Some(&b'\n');
        out.push(Tok {
            kind,
            text,
            nl,
            ws,
            col0,
            sp: ws,
        });
        nl = 0;
        ws = false;
    }
    super::canon::space(&mut out);
    out
}
