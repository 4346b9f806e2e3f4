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
                let rest = raw.get(at + 1..).unwrap_or("");
                let close = rest.find(['}', '{', '"', '\\', '\n', '\r']);
                let Some(len) = close.filter(|&n| rest.as_bytes().get(n) == Some(&b'}')) else {
                    return Err(SyntaxError::located(
                        base + at..base + at + 1,
                        "unclosed `{` in a reason",
                        format!("close the placeholder with `}}`; {PLACEHOLDER_HELP}"),
                    ));
                };
                let span: ByteSpan = base + at..base + at + len + 2;
                let inner = rest.get(..len).unwrap_or("").trim();
                if !is_placeholder(inner) {
                    return Err(SyntaxError::located(
                        span,
                        format!("`{{{inner}}}` is not a placeholder"),
                        PLACEHOLDER_HELP,
                    ));
                }
                if !lit.is_empty() {
                    text.push_str(&lit);
                    parts.push(ReasonPart::Text(std::mem::take(&mut lit)));
                }
                text.push('{');
                text.push_str(inner);
                text.push('}');
                parts.push(ReasonPart::Hole {
                    path: inner.to_owned(),
                    span,
                });
                at += len + 2;
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

/// `#count`, or a dotted path of identifiers.
fn is_placeholder(s: &str) -> bool {
    s == "#count"
        || s == "#found"
        || (!s.is_empty()
            && s.split('.').all(|seg| {
                let mut cs = seg.chars();
                cs.next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            }))
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
}
