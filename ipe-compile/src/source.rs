//! What may appear in source text, and the one definition of a line end that the lexer (comments,
//! string literals) and the diagnostics renderer (line, column, quoted line) share.
//!
//! A line ends at LF, or at CR immediately followed by LF. Every other control character (Unicode
//! category Cc except tab), a lone CR, U+2028 and U+2029 are rejected before parsing, so no
//! character can end a line for one part of the compiler and not for another.

/// The character that ends a line (after an optional CR).
pub const LF: char = '\n';

/// One character that source text may not contain, and where it first occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadChar {
    /// Byte offset of its first occurrence.
    pub offset: usize,
    /// The character.
    pub ch: char,
    /// How many times it occurs in the text.
    pub count: usize,
}

impl BadChar {
    /// The user-facing message.
    pub fn message(&self) -> String {
        let code = u32::from(self.ch);
        match self.ch {
            '\u{2028}' => format!("line separator U+{code:04X} is not allowed in source"),
            '\u{2029}' => format!("paragraph separator U+{code:04X} is not allowed in source"),
            _ => format!("control character U+{code:04X} is not allowed in source"),
        }
    }

    /// The help line.
    pub fn help(&self) -> String {
        let what = match self.ch {
            '\r' => "a carriage return must be followed by a line feed: save the file with LF or \
                     CRLF line ends"
                .to_owned(),
            _ => "lines end with LF or CRLF, and tab is the only other control character allowed; \
                  write `\\n` or `\\t` inside a string"
                .to_owned(),
        };
        if self.count > 1 {
            format!("{what} (it occurs {} times in this file)", self.count)
        } else {
            what
        }
    }
}

/// Whether `c`, followed by `next`, may not appear in source text.
fn is_bad(c: char, next: Option<char>) -> bool {
    match c {
        '\t' | '\n' => false,
        '\r' => next != Some('\n'),
        '\u{2028}' | '\u{2029}' => true,
        c => c.is_control(),
    }
}

/// Every kind of character `text` may not contain, in order of first occurrence.
pub fn bad_chars(text: &str) -> Vec<BadChar> {
    let mut out: Vec<BadChar> = Vec::new();
    // Printable ASCII, tab and LF are never bad: the characters before the first other byte
    // are skipped a byte at a time (issue #15: most sources have no other byte).
    let start = plain_prefix(text.as_bytes());
    let mut chars = text
        .get(start..)
        .unwrap_or("")
        .char_indices()
        .map(|(k, c)| (start + k, c))
        .peekable();
    while let Some((offset, ch)) = chars.next() {
        let next = chars.peek().map(|&(_, c)| c);
        if !is_bad(ch, next) {
            continue;
        }
        match out.iter_mut().find(|b| b.ch == ch) {
            Some(b) => b.count += 1,
            None => out.push(BadChar {
                offset,
                ch,
                count: 1,
            }),
        }
    }
    out
}

/// The length of the run of printable ASCII, tab and LF bytes at the start of `b`: 32 bytes a
/// step while every byte of a block is one (a test the compiler vectorizes), then a byte at a
/// time.
fn plain_prefix(b: &[u8]) -> usize {
    let plain = |c: u8| matches!(c, b' '..=b'~' | b'\t' | b'\n');
    let mut n = 0;
    for block in b.chunks_exact(32) {
        if !block.iter().fold(true, |all, &c| all & plain(c)) {
            break;
        }
        n += 32;
    }
    let rest = b.get(n..).unwrap_or(&[]);
    n + rest.iter().position(|&c| !plain(c)).unwrap_or(rest.len())
}

/// The length of the line end at the start of `s` (1 for LF, 2 for CR LF), if one is there.
pub fn line_end_at(s: &str) -> Option<usize> {
    if s.starts_with('\n') {
        Some(1)
    } else if s.starts_with("\r\n") {
        Some(2)
    } else {
        None
    }
}

/// The byte offset where the line containing `offset` starts.
pub fn line_start(text: &str, offset: usize) -> usize {
    let offset = floor_char(text, offset);
    text[..offset].rfind('\n').map_or(0, |n| n + 1)
}

/// The byte offset where the line containing `offset` ends (before its line end).
pub fn line_end(text: &str, offset: usize) -> usize {
    let offset = floor_char(text, offset);
    let end = text[offset..].find('\n').map_or(text.len(), |n| offset + n);
    if end > offset && text[..end].ends_with('\r') {
        end - 1
    } else {
        end
    }
}

/// The one-based line and column (in characters) of byte `offset`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char(text, offset);
    let start = line_start(text, offset);
    let line = text[..start].matches('\n').count() + 1;
    (line, text[start..offset].chars().count() + 1)
}

/// The byte offset of the one-based `line` and `column` (in characters; a column past the
/// end of its line is the line's end), clamped to the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => return text.len(),
        }
    }
    let end = line_end(text, start);
    text[start..end]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(end, |(n, _)| start + n)
}

/// `line` as shown in a diagnostic: control characters other than tab drawn as visible symbols
/// (one character each, so columns stay right).
pub fn printable(line: &str) -> String {
    line.chars()
        .map(|c| match c {
            '\t' => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// `offset` clamped to `text` and moved back to a character boundary.
fn floor_char(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_is_a_line_end_and_a_lone_cr_is_not() {
        assert!(bad_chars("a\r\nb\n\tc").is_empty());
        let bad = bad_chars("# x\rpolicy\r");
        assert_eq!(bad.len(), 1);
        assert_eq!((bad[0].offset, bad[0].ch, bad[0].count), (3, '\r', 2));
    }

    #[test]
    fn every_line_end_variant_is_reported() {
        for c in [
            '\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{c}', '\u{b}', '\0', '\u{7f}',
        ] {
            let text = format!("# c{c}policy");
            let bad = bad_chars(&text);
            assert_eq!(bad.len(), 1, "{c:?}");
            assert_eq!(bad[0].offset, 3);
        }
    }

    /// The block scan finds the first other byte wherever it is (issue #15).
    #[test]
    fn plain_prefix_stops_at_the_first_other_byte() {
        let base: Vec<u8> = (0..100u8).map(|i| b' ' + i % 95).collect();
        assert_eq!(plain_prefix(&base), 100);
        for at in 0..100 {
            for bad in [b'\r', 0x7f, 0x1f, 0x80, 0] {
                let mut b = base.clone();
                // Tabs and line ends before and after it are plain.
                b[at / 2] = b'\t';
                if let Some(c) = b.get_mut(at + 40) {
                    *c = b'\n';
                }
                b[at] = bad;
                assert_eq!(plain_prefix(&b), at, "{at} {bad}");
            }
        }
    }

    #[test]
    fn line_col_and_line_bounds_agree_for_lf_and_crlf() {
        for nl in ["\n", "\r\n"] {
            let text = format!("ab{nl}cde{nl}f");
            let d = text.find('d').unwrap_or(0);
            assert_eq!(line_col(&text, d), (2, 2));
            assert_eq!(&text[line_start(&text, d)..line_end(&text, d)], "cde");
        }
    }
}
