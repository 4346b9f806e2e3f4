//! Reason templates: the placeholders (`{path}`, `{#count}`) and brace escapes (`{{`, `}}`)
//! inside a `with reason` string, read from the string's source text so every placeholder
//! keeps its exact span (see `docs/LANGUAGE.md`, "Reasons with values").

use super::SyntaxError;
use crate::ast::{ByteSpan, ReasonPart};

/// What a placeholder may hold, for help texts.
const PLACEHOLDER_HELP: &str = "a placeholder is an attribute path such as `{resource.name}`, \
     a field of an `all` clause's element such as `{c.name}`, `{#count}` or `{#found}`; write `{{` for a \
     literal brace";

/// Reads the string literal `raw` (its source text, quotes included, starting at byte `base`
/// of the file). `None` when it has no brace (a v1 reason, kept as it is); otherwise the
/// reason's text with `{{`/`}}` unescaped and its parts (literal text and placeholders).
pub(crate) fn template(
    raw: &str,
    base: usize,
) -> Result<Option<(String, Vec<ReasonPart>)>, SyntaxError> {
    if !raw.contains(['{', '}']) {
        return Ok(None);
    }
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut lit = String::new();
    let bytes = raw.as_bytes();
    // Skip the opening quote.
    let mut at = 1;
    while let Some(c) = raw.get(at..).and_then(|r| r.chars().next()) {
        match c {
            '"' => break,
            '\\' => {
                let e = match bytes.get(at + 1) {
                    Some(b'n') => '\n',
                    Some(b't') => '\t',
                    Some(b'"') => '"',
                    _ => '\\',
                };
                lit.push(e);
                at += 2;
            }
            '\r' if bytes.get(at + 1) == Some(&b'\n') => {
                lit.push('\n');
                at += 2;
            }
            '{' if bytes.get(at + 1) == Some(&b'{') => {
                lit.push('{');
                at += 2;
            }
            '}' if bytes.get(at + 1) == Some(&b'}') => {
                lit.push('}');
                at += 2;
            }
            '}' => {
                return Err(SyntaxError::located(
                    base + at..base + at + 1,
                    "unmatched `}` in a reason",
                    "write `}}` for a literal brace",
                ))
            }
            '{' => {
                let (inner, len) = hole(raw, at, base)?;
                let span: ByteSpan = base + at..base + at + len;
                if !lit.is_empty() {
                    text.push_str(&lit);
                    parts.push(ReasonPart::Text(std::mem::take(&mut lit)));
                }
                text.push('{');
                text.push_str(&inner);
                text.push('}');
                parts.push(ReasonPart::Hole { path: inner, span });
                at += len;
            }
            c => {
                lit.push(c);
                at += c.len_utf8();
            }
        }
    }
    if !lit.is_empty() {
        text.push_str(&lit);
        parts.push(ReasonPart::Text(lit));
    }
    Ok(Some((text, parts)))
}

/// The placeholder whose `{` is at byte `at` of `raw`: its body as a canonical path (or
/// `#count`, `#found`) and the length of `{...}` in `raw`. The body is read with the string's
/// escapes resolved (`\"` is a quote), then as a path whose quoted keys (`["app/x"]`, with
/// their own escapes) may hold `}`; it ends at the first `}` outside a quoted key.
fn hole(raw: &str, at: usize, base: usize) -> Result<(String, usize), SyntaxError> {
    let bytes = raw.as_bytes();
    let mut body = String::new();
    let (mut in_key, mut key_escape) = (false, false);
    let mut j = at + 1;
    let unclosed = |why: &str, help: String| {
        SyntaxError::located(
            base + at..base + at + 1,
            format!("unclosed `{{` in a reason: {why}"),
            help,
        )
    };
    loop {
        let Some(c) = raw.get(j..).and_then(|r| r.chars().next()) else {
            return Err(unclosed(
                "the string ends inside the placeholder",
                close_help(&body),
            ));
        };
        let d = match c {
            // An unescaped quote ends the string literal.
            '"' => {
                return Err(unclosed(
                    "the string ends inside the placeholder",
                    close_help(&body),
                ))
            }
            '\n' | '\r' => {
                return Err(unclosed(
                    "the line ends inside the placeholder",
                    close_help(&body),
                ))
            }
            '\\' => {
                j += 2;
                match bytes.get(j - 1) {
                    Some(b'n') => '\n',
                    Some(b't') => '\t',
                    Some(b'"') => '"',
                    _ => '\\',
                }
            }
            c => {
                j += c.len_utf8();
                c
            }
        };
        if in_key {
            if key_escape {
                key_escape = false;
            } else if d == '\\' {
                key_escape = true;
            } else if d == '"' {
                in_key = false;
            }
            body.push(d);
            continue;
        }
        match d {
            '"' => in_key = true,
            '}' => break,
            '{' => {
                return Err(unclosed(
                    "a `{` inside a placeholder",
                    format!("close the placeholder with `}}`; {PLACEHOLDER_HELP}"),
                ))
            }
            _ => {}
        }
        body.push(d);
    }
    let len = j - at;
    let inner = body.trim();
    if inner == "#count" || inner == "#found" {
        return Ok((inner.to_owned(), len));
    }
    match canonical(inner) {
        Ok(path) => Ok((path, len)),
        Err(why) => Err(SyntaxError::located(
            base + at..base + at + len,
            format!("`{{{inner}}}` is not a placeholder: {why}"),
            PLACEHOLDER_HELP,
        )),
    }
}

/// The help for an unclosed placeholder: how quotes are written inside the reason string.
fn close_help(body: &str) -> String {
    if body.contains('[') {
        "inside a reason string, write a quoted key's quotes as `\\\"`: \
         `{metadata.labels[\\\"app\\\"]}`"
            .to_owned()
    } else {
        format!("close the placeholder with `}}`; {PLACEHOLDER_HELP}")
    }
}

/// The canonical text of the placeholder path `s` (identifiers after `.`, quoted keys
/// `["..."]` with the escapes `\"`, `\\`, `\n`, `\t`), or what is wrong with it.
fn canonical(s: &str) -> Result<String, String> {
    let ident = |s: &str| -> usize {
        let mut n = 0;
        for (i, c) in s.char_indices() {
            let ok = if i == 0 {
                c.is_ascii_alphabetic() || c == '_'
            } else {
                c.is_ascii_alphanumeric() || c == '_' || c == '-'
            };
            if !ok {
                break;
            }
            n = i + c.len_utf8();
        }
        n
    };
    if s.is_empty() {
        return Err("it is empty".to_owned());
    }
    let n = ident(s);
    if n == 0 {
        return Err("a path starts with a name".to_owned());
    }
    let mut out = String::new();
    let (first, mut rest) = s.split_at(n);
    // Writing to a `String` cannot fail.
    let _ = ipe_nostd::path::write_segment(&mut out, first, true);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let n = ident(r);
            if n == 0 {
                return Err("expected a name after `.`".to_owned());
            }
            let (seg, r) = r.split_at(n);
            let _ = ipe_nostd::path::write_segment(&mut out, seg, false);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let mut key = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                match chars.next() {
                    None => return Err("a quoted key is not closed".to_owned()),
                    Some((i, '"')) => break i + 1,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => key.push('\n'),
                        Some((_, 't')) => key.push('\t'),
                        Some((_, c @ ('"' | '\\'))) => key.push(c),
                        _ => return Err("a quoted key has an unknown escape".to_owned()),
                    },
                    Some((_, c)) => key.push(c),
                }
            };
            let Some(r) = r.get(end..).and_then(|r| r.strip_prefix(']')) else {
                return Err("expected `]` after the quoted key".to_owned());
            };
            let _ = ipe_nostd::path::write_segment(&mut out, &key, false);
            rest = r;
        } else if let Some((index, r)) = rest
            .strip_prefix('[')
            .filter(|r| r.starts_with(|c: char| c == '-' || c.is_ascii_digit()))
            .and_then(|r| r.split_once(']'))
        {
            // A list position (`{xs[0]}`, `{c.args[-1]}`, issue #13): checked as written by
            // the path's resolution.
            out.push('[');
            out.push_str(index);
            out.push(']');
            rest = r;
        } else if let Some((key, r)) = rest
            .strip_prefix('[')
            .filter(|r| r.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
            .and_then(|r| r.split_once(']'))
        {
            // A key read at run time (`{labels[params.key]}`, issue #13, session 10): an
            // attribute path, resolved by the checker.
            let key = canonical(key.trim()).map_err(|why| format!("in the key: {why}"))?;
            if key.contains('[') {
                return Err(
                    "a key read at run time is an attribute path without brackets".to_owned(),
                );
            }
            out.push('[');
            out.push_str(&key);
            out.push(']');
            rest = r;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            return Err(format!(
                "unexpected `{c}` (a path is names joined by `.`, and quoted keys `[\"...\"]`)"
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue13_template_parts_and_escapes() {
        assert_eq!(template("\"plain\"", 0), Ok(None));
        let (text, parts) = template("\"a {{b}} {x.y} \\\"q\\\" {#count}\"", 10)
            .expect("parses")
            .expect("has braces");
        assert_eq!(text, "a {b} {x.y} \"q\" {#count}");
        assert_eq!(
            parts,
            vec![
                ReasonPart::Text("a {b} ".to_owned()),
                ReasonPart::Hole {
                    path: "x.y".to_owned(),
                    span: 19..24
                },
                ReasonPart::Text(" \"q\" ".to_owned()),
                ReasonPart::Hole {
                    path: "#count".to_owned(),
                    span: 31..39
                },
            ]
        );
        let e = template("\"a } b\"", 0).expect_err("lone brace");
        assert_eq!((e.offset, e.end), (3, Some(4)));
        let e = template("\"a {b c} d\"", 0).expect_err("not a path");
        assert_eq!((e.offset, e.end), (3, Some(8)));
        assert!(template("\"a {b\"", 0).is_err());
    }

    #[test]
    fn issue13_placeholder_quoted_keys() {
        // `{m[\"app/x\"].y}` in the source: the path's canonical text, a quoted key holding
        // `}` and `.`, and a quoted identifier key, which is the plain path.
        let (_, parts) = template(r#""a {m[\"app/x\"].y} {c[\"a}b\"]} {m[\"team\"]}""#, 0)
            .expect("parses")
            .expect("has braces");
        let holes: Vec<&str> = parts
            .iter()
            .filter_map(|p| match p {
                ReasonPart::Hole { path, .. } => Some(path.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(holes, vec![r#"m["app/x"].y"#, r#"c["a}b"]"#, "m.team"]);
        // A quote inside the key: `\\\"` in the source is `\"` in the path.
        let (_, parts) = template(r#""{m[\"say \\\"hi\\\"\"]}""#, 0)
            .expect("parses")
            .expect("has braces");
        assert!(
            matches!(&parts[..], [ReasonPart::Hole { path, .. }] if path == r#"m["say \"hi\""]"#)
        );
        let e = template(r#""{m["a"]}""#, 0).expect_err("an unescaped quote ends the string");
        assert_eq!((e.offset, e.end), (1, Some(2)));
        let e = template(r#""{m[\"a\"}""#, 0).expect_err("no `]`");
        assert_eq!((e.offset, e.end), (1, Some(10)));
        // A key read at run time (issue #13, session 10), resolved by the checker.
        let (_, parts) = template(r#""{m[a.b]}""#, 0)
            .expect("a dynamic key")
            .expect("a template");
        assert!(matches!(&parts[..], [ReasonPart::Hole { path, .. }] if path == "m[a.b]"));
        assert!(template(r#""{m[a[0]]}""#, 0).is_err());
        assert!(template(r#""{.a}""#, 0).is_err());
        assert!(template(r#""{a.}""#, 0).is_err());
    }
}
