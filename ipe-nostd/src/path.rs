//! Attribute paths as text: the one encoding of a sequence of object keys that the compiler
//! writes into a bundle and every reader walks (see `docs/bundle-format.md`, "Paths").
//!
//! A key that is an identifier (`[A-Za-z_][A-Za-z0-9_-]*`) is written as itself, after a `.`
//! unless it is the first; any other key (a dot, colon, slash, space, quote, unicode, the empty
//! key) is written `["..."]` with `\"`, `\\`, `\n` and `\t` escaped. So `a.b` is the keys `a`,
//! `b`, and `metadata.labels["app.kubernetes.io/name"]` is three keys, the last with dots in
//! it. The encoding is canonical (one text per key sequence) and is exactly how the source
//! writes the path, so messages print it as written. Plain dotted paths are unchanged from
//! bundle format 1.

use core::fmt;

/// One key of a path, borrowed from the path text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// An identifier key, the text itself.
    Plain(&'a str),
    /// A quoted key: the text between the quotes, escapes not yet resolved.
    Quoted(&'a str),
}

impl<'a> Segment<'a> {
    /// The key's characters, escapes resolved.
    pub fn chars(self) -> KeyChars<'a> {
        match self {
            Segment::Plain(s) => KeyChars {
                rest: s.chars(),
                escaped: false,
            },
            Segment::Quoted(s) => KeyChars {
                rest: s.chars(),
                escaped: true,
            },
        }
    }

    /// Whether the key is exactly `key`.
    pub fn is(self, key: &str) -> bool {
        match self {
            Segment::Plain(s) => s == key,
            Segment::Quoted(s) if !s.contains('\\') => s == key,
            Segment::Quoted(_) => self.chars().eq(key.chars()),
        }
    }

    /// Writes the key itself (escapes resolved) to `out`.
    pub fn write_key<W: fmt::Write>(self, out: &mut W) -> fmt::Result {
        match self {
            Segment::Plain(s) => out.write_str(s),
            Segment::Quoted(s) if !s.contains('\\') => out.write_str(s),
            Segment::Quoted(_) => self.chars().try_for_each(|c| out.write_char(c)),
        }
    }

    /// The key without escapes, when it has none to resolve (every plain key, and quoted
    /// keys without `\`), so a reader can borrow it.
    pub fn as_plain_str(self) -> Option<&'a str> {
        match self {
            Segment::Plain(s) => Some(s),
            Segment::Quoted(s) => (!s.contains('\\')).then_some(s),
        }
    }
}

/// The characters of a [`Segment`]'s key, escapes resolved.
#[derive(Clone, Debug)]
pub struct KeyChars<'a> {
    rest: core::str::Chars<'a>,
    escaped: bool,
}

impl Iterator for KeyChars<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        let c = self.rest.next()?;
        if !self.escaped || c != '\\' {
            return Some(c);
        }
        Some(match self.rest.next() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some(other) => other,
            None => '\\',
        })
    }
}

/// Whether `key` is written as itself (an identifier) rather than quoted.
pub fn is_plain(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Writes one key in path form: `key` or `.key` when it is an identifier (the dot unless it
/// is the first), `["key"]` with escapes otherwise.
pub fn write_segment<W: fmt::Write>(out: &mut W, key: &str, first: bool) -> fmt::Result {
    if is_plain(key) {
        if !first {
            out.write_char('.')?;
        }
        return out.write_str(key);
    }
    out.write_str("[\"")?;
    write_escaped(
        out,
        KeyChars {
            rest: key.chars(),
            escaped: false,
        },
    )?;
    out.write_str("\"]")
}

/// Writes the path of `keys` (see the module documentation).
pub fn write_path<'k, W: fmt::Write>(
    out: &mut W,
    keys: impl IntoIterator<Item = &'k str>,
) -> fmt::Result {
    keys.into_iter()
        .enumerate()
        .try_for_each(|(i, k)| write_segment(out, k, i == 0))
}

/// Writes `outer` followed by the relative path `inner` (`a.b` + `c` is `a.b.c`, `a` +
/// `["x.y"]` is `a["x.y"]`).
pub fn write_joined<W: fmt::Write + ?Sized>(out: &mut W, outer: &str, inner: &str) -> fmt::Result {
    out.write_str(outer)?;
    if !inner.starts_with('[') && !outer.is_empty() && !inner.is_empty() {
        out.write_char('.')?;
    }
    out.write_str(inner)
}

/// The keys of the path text `path`, in order. Text that is not in canonical form (see
/// [`is_canonical`]) still yields segments, read leniently; the verifier refuses such paths.
pub fn segments(path: &str) -> Segments<'_> {
    Segments {
        rest: path,
        first: true,
    }
}

/// Iterator over the [`Segment`]s of a path text.
#[derive(Clone, Debug)]
pub struct Segments<'a> {
    rest: &'a str,
    first: bool,
}

impl<'a> Segments<'a> {
    /// The text of the segments not yet yielded (starting with `.` or `[` after the first).
    pub fn rest(&self) -> &'a str {
        self.rest
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;
    fn next(&mut self) -> Option<Segment<'a>> {
        if self.rest.is_empty() {
            // The empty path is one empty plain key (never canonical).
            if core::mem::take(&mut self.first) {
                return Some(Segment::Plain(""));
            }
            return None;
        }
        let first = core::mem::take(&mut self.first);
        let s = self.rest;
        if let Some(q) = s.strip_prefix("[\"") {
            // The closing quote is the first `"` not escaped by a `\`.
            let mut escaped = false;
            let end = q.char_indices().find_map(|(n, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close.then_some(n)
            });
            if let Some(end) = end {
                let after = q.get(end + 1..).unwrap_or("");
                if let Some(after) = after.strip_prefix(']') {
                    self.rest = after;
                    return Some(Segment::Quoted(q.get(..end).unwrap_or("")));
                }
            }
            // Unterminated: the rest is one lenient plain key.
            self.rest = "";
            return Some(Segment::Plain(s));
        }
        let s = if first {
            s
        } else {
            s.strip_prefix('.').unwrap_or(s)
        };
        let end = s
            .char_indices()
            .find(|&(n, c)| {
                c == '.' || (c == '[' && s.get(n..).is_some_and(|t| t.starts_with("[\"")))
            })
            .map_or(s.len(), |(n, _)| n);
        let (seg, rest) = s.split_at_checked(end).unwrap_or((s, ""));
        self.rest = rest;
        Some(Segment::Plain(seg))
    }
}

/// The first segment of `path` as written and the relative path after it (without its
/// leading `.`; empty when there is no more): `a.b["c"]` is `a` and `b["c"]`, `a["x.y"]` is `a`
/// and `["x.y"]`.
pub fn split_first(path: &str) -> (&str, &str) {
    let mut it = segments(path);
    let _ = it.next();
    let rest = it.rest();
    let head = path.get(..path.len() - rest.len()).unwrap_or(path);
    (head, rest.strip_prefix('.').unwrap_or(rest))
}

/// The path before the last segment and that segment, when there are at least two:
/// `a.b.count` is `a.b` and `count`.
pub fn split_last(path: &str) -> Option<(&str, Segment<'_>)> {
    let mut it = segments(path);
    let mut prev_end = 0;
    let mut last = it.next()?;
    let mut end = path.len() - it.rest().len();
    let mut more = false;
    while let Some(seg) = it.next() {
        more = true;
        prev_end = end;
        last = seg;
        end = path.len() - it.rest().len();
    }
    more.then(|| (path.get(..prev_end).unwrap_or(""), last))
}

/// The proper prefixes of `path` that end at a segment boundary, shortest first: for
/// `a.b["c"].d`, `a`, `a.b` and `a.b["c"]`.
pub fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    let mut it = segments(path);
    let _ = it.next();
    core::iter::from_fn(move || {
        let at = path.len() - it.rest().len();
        it.next()?;
        path.get(..at)
    })
}

/// Whether `inner` is a path strictly inside `outer` (`outer` followed by more segments).
pub fn is_inside(inner: &str, outer: &str) -> bool {
    inner
        .strip_prefix(outer)
        .is_some_and(|r| r.starts_with('.') || r.starts_with("[\""))
}

/// The byte offset of the first `needle` in `hay` (`Some(0)` for an empty needle), by a
/// byte-wise scan: `O(hay.len() * needle.len())` in the worst case, linear for the fixed
/// two-byte `[]` the bundle paths use. Unlike `str::find`, it links no `core::str::pattern`
/// searcher (about 5 KiB of thumbv7m flash with the panic formatting it brings).
pub fn find_bytes(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    if n.is_empty() {
        return Some(0);
    }
    hay.as_bytes().windows(n.len()).position(|w| w == n)
}

/// The pieces of `path` between its `[]` markers (`a[].b` is `a` and `.b`), as `str::split`
/// would give them.
pub fn split_brackets(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(path);
    core::iter::from_fn(move || {
        let r = rest?;
        match find_bytes(r, "[]") {
            Some(at) => {
                rest = r.get(at + 2..);
                r.get(..at)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// Whether `path` is the canonical text of its keys: at least one key, identifiers plain,
/// every other key quoted with exactly the escapes [`write_segment`] writes.
pub fn is_canonical(path: &str) -> bool {
    #[cfg(feature = "size")]
    return is_canonical_bytes(path.as_bytes());
    #[cfg(not(feature = "size"))]
    is_canonical_segments(path)
}

/// [`is_canonical`] by one scan of the bytes (issue #15: the `size` profile's, without the
/// segment iterator, key characters and escape writer): the same answer for every `str`
/// (unit test over every short string of an alphabet of the path syntax).
#[cfg_attr(
    not(feature = "size"),
    allow(dead_code, reason = "hosts walk segments; tests compare both")
)]
fn is_canonical_bytes(b: &[u8]) -> bool {
    let plain = |key: &[u8]| {
        key.first()
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            && key
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-')
    };
    let mut i = 0;
    while i < b.len() {
        let rest = b.get(i..).unwrap_or(&[]);
        if rest.starts_with(b"[\"") {
            // A quoted key: every `\` starts one of the four escapes, no raw quote, newline or
            // tab, closed by `"]`; an identifier would have been written plain.
            let start = i + 2;
            let mut j = start;
            let mut escaped = false;
            loop {
                match b.get(j) {
                    None | Some(b'\n' | b'\t') => return false,
                    Some(b'"') => break,
                    Some(b'\\') => {
                        if !matches!(b.get(j + 1), Some(b'"' | b'\\' | b'n' | b't')) {
                            return false;
                        }
                        escaped = true;
                        j += 2;
                    }
                    Some(_) => j += 1,
                }
            }
            if b.get(j + 1) != Some(&b']') || (!escaped && plain(b.get(start..j).unwrap_or(&[]))) {
                return false;
            }
            i = j + 2;
        } else {
            // An identifier: after a `.` unless it is the first key; it ends at a `.` or `["`.
            if i > 0 {
                if rest.first() != Some(&b'.') {
                    return false;
                }
                i += 1;
            }
            let start = i;
            while b
                .get(i..)
                .is_some_and(|r| r.first().is_some_and(|&c| c != b'.') && !r.starts_with(b"[\""))
            {
                i += 1;
            }
            if !plain(b.get(start..i).unwrap_or(&[])) {
                return false;
            }
        }
    }
    !b.is_empty()
}

/// [`is_canonical`] through [`segments`] and [`write_segment`]'s escapes (hosts).
#[cfg_attr(
    feature = "size",
    allow(
        dead_code,
        reason = "the `size` profile scans bytes; tests compare both"
    )
)]
fn is_canonical_segments(path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    let mut first = true;
    let mut len = 0usize;
    for seg in segments(path) {
        let ok = match seg {
            Segment::Plain(s) => is_plain(s),
            Segment::Quoted(q) => {
                let mut canon = Canon {
                    expect: q,
                    ok: true,
                };
                !is_plain_chars(seg.chars())
                    && write_escaped(&mut canon, seg.chars()).is_ok()
                    && canon.ok
                    && canon.expect.is_empty()
            }
        };
        if !ok {
            return false;
        }
        len += match seg {
            Segment::Plain(s) => s.len() + usize::from(!first),
            Segment::Quoted(q) => q.len() + 4,
        };
        first = false;
    }
    len == path.len()
}

fn is_plain_chars(mut chars: KeyChars<'_>) -> bool {
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn write_escaped<W: fmt::Write>(out: &mut W, chars: KeyChars<'_>) -> fmt::Result {
    for c in chars {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\t' => out.write_str("\\t")?,
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// A writer that checks its output against `expect`, consuming it.
struct Canon<'a> {
    expect: &'a str,
    ok: bool,
}

impl fmt::Write for Canon<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self.expect.strip_prefix(s) {
            Some(rest) => self.expect = rest,
            None => self.ok = false,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    /// Issue #15: the byte scan of the `size` profile answers as the segment walk does, for
    /// every string of up to 5 characters over the path syntax's alphabet, and for longer
    /// paths of the other tests.
    #[test]
    fn issue15_canonical_byte_scan_agrees_with_segments() {
        let alphabet = [
            'a', 'Z', '_', '-', '0', '.', '[', ']', '"', '\\', 'n', '\n', '\t', 'é', ' ',
        ];
        let mut s = String::new();
        let mut n = 0usize;
        let mut canonical = 0usize;
        fn walk(s: &mut String, depth: usize, alphabet: &[char], n: &mut usize, c: &mut usize) {
            let (a, b) = (is_canonical_bytes(s.as_bytes()), is_canonical_segments(s));
            assert_eq!(a, b, "{s:?}");
            *n += 1;
            *c += usize::from(a);
            if depth == 0 {
                return;
            }
            for &ch in alphabet {
                s.push(ch);
                walk(s, depth - 1, alphabet, n, c);
                s.pop();
            }
        }
        walk(&mut s, 5, &alphabet, &mut n, &mut canonical);
        assert!(n > 800_000 && canonical > 8_000, "{n} {canonical}");
        for p in [
            r#"a.b["c"].d"#,
            r#"metadata.labels["app.kubernetes.io/name"]"#,
            r#"a["x\"y"]["z\\"].w-1"#,
            r#"a["ok\q"]"#,
            r#"["x y"].["z"]"#,
            r#"a["b"]c"#,
            r#"a["b"].c["d"]"#,
            "a[\"tab\\t\"]",
            "a[\"raw\ttab\"]",
        ] {
            assert_eq!(
                is_canonical_bytes(p.as_bytes()),
                is_canonical_segments(p),
                "{p}"
            );
        }
    }

    /// The byte-wise helpers that keep `core::str::pattern` out of firmware answer as `str`'s
    /// own `find` and `split` do.
    #[test]
    fn issue13_fw_find_bytes_and_split_brackets_agree_with_str() {
        let paths = [
            "",
            "[]",
            "a",
            "a[]",
            "[]a",
            "a[].b",
            "a[]b[]c",
            "a[][]",
            "a[]]",
            "a[[]",
            "é[]é",
            "a[\"x\"][].b",
        ];
        for p in paths {
            assert_eq!(find_bytes(p, "[]"), p.find("[]"), "{p:?}");
            assert_eq!(find_bytes(p, ""), Some(0), "{p:?}");
            let ours: Vec<&str> = split_brackets(p).collect();
            let theirs: Vec<&str> = p.split("[]").collect();
            assert_eq!(ours, theirs, "{p:?}");
        }
    }

    fn keys(p: &str) -> Vec<String> {
        segments(p)
            .map(|s| {
                let mut k = String::new();
                s.write_key(&mut k).unwrap();
                k
            })
            .collect()
    }

    fn path(ks: &[&str]) -> String {
        let mut p = String::new();
        write_path(&mut p, ks.iter().copied()).unwrap();
        p
    }

    #[test]
    fn issue13_plain_paths_are_dotted_and_other_keys_quoted() {
        assert_eq!(path(&["resource", "risk_level"]), "resource.risk_level");
        assert_eq!(
            path(&["metadata", "labels", "app.kubernetes.io/name"]),
            r#"metadata.labels["app.kubernetes.io/name"]"#
        );
        assert_eq!(path(&["a", "say \"hi\"\\", "b"]), r#"a["say \"hi\"\\"].b"#);
        assert_eq!(path(&["x", ""]), r#"x[""]"#);
        assert_eq!(path(&["ü"]), r#"["ü"]"#);
        assert_eq!(path(&["a", "l\nt\t"]), r#"a["l\nt\t"]"#);
    }

    #[test]
    fn issue13_segments_invert_write_path() {
        for ks in [
            &["a"][..],
            &["a", "b", "c"],
            &["metadata", "labels", "app.kubernetes.io/name"],
            &["request", "context", "aws:SourceIp"],
            &["a", "say \"hi\"\\", "b", "[\"x\"]"],
            &["x", "", "y"],
            &["ü", "日本", "a b"],
            &["\"]", "\\"],
            &["a", "l\nt\t"],
        ] {
            let p = path(ks);
            assert_eq!(keys(&p), ks, "{p}");
            assert!(is_canonical(&p), "{p}");
            let eq = segments(&p).zip(ks.iter()).all(|(s, k)| s.is(k));
            assert!(eq, "{p}");
        }
    }

    #[test]
    fn issue13_non_canonical_paths_are_recognised() {
        for p in [
            "",
            "a.",
            ".a",
            "a..b",
            r#"a["b"]"#,
            r#"a.["b c"]"#,
            r#"a["b c"#,
            r#"a["\q"]"#,
            "a b",
            "1a",
            r#"a["x"]b"#,
        ] {
            assert!(!is_canonical(p), "{p}");
        }
        for p in ["a", "a.b-c._d", r#"a["b c"].d["e f"]"#, r#"["a.b"]"#] {
            assert!(is_canonical(p), "{p}");
        }
    }

    #[test]
    fn issue13_split_paths_at_segments() {
        assert_eq!(split_first("a"), ("a", ""));
        assert_eq!(split_first(r#"a.b["c.d"]"#), ("a", r#"b["c.d"]"#));
        assert_eq!(split_first(r#"a["x.y"].z"#), ("a", r#"["x.y"].z"#));
        assert_eq!(split_first(r#"["x.y"].z"#), (r#"["x.y"]"#, "z"));
        assert_eq!(split_last("a"), None);
        assert_eq!(
            split_last("a.b.count"),
            Some(("a.b", Segment::Plain("count")))
        );
        assert_eq!(
            split_last(r#"a["b.c"]"#),
            Some(("a", Segment::Quoted("b.c")))
        );
        let p: Vec<&str> = prefixes(r#"a.b["c.d"].e"#).collect();
        assert_eq!(p, ["a", "a.b", r#"a.b["c.d"]"#]);
        assert!(is_inside(r#"a["b"]"#, "a"));
        assert!(is_inside("a.b", "a"));
        assert!(!is_inside("ab", "a"));
        assert!(!is_inside("a", "a"));
    }

    #[test]
    fn issue13_joined_paths() {
        let j = |a: &str, b: &str| {
            let mut s = String::new();
            write_joined(&mut s, a, b).unwrap();
            s
        };
        assert_eq!(j("a.b", "c"), "a.b.c");
        assert_eq!(j("a", r#"["x.y"]"#), r#"a["x.y"]"#);
        assert_eq!(j("a[]", "c"), "a[].c");
        assert_eq!(j("a[]", r#"["c"]"#), r#"a[]["c"]"#);
    }
}
