//! The comments of a source with their positions (for tools such as `ipe fmt`); the parser
//! itself skips them as whitespace.

use crate::ast::ByteSpan;

/// One `#` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// From the `#` to the end of the line (the line end excluded).
    pub span: ByteSpan,
    /// The comment's text, `#` included, trailing whitespace removed.
    pub text: String,
    /// Whether code precedes it on its line (an end-of-line comment).
    pub trailing: bool,
}

/// Every comment of `src`, in source order (a `#` inside a string literal is not one).
pub fn comments(src: &str) -> Vec<Comment> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut code_on_line = false;
    let mut n = 0;
    while let Some(&b) = bytes.get(n) {
        match b {
            b'"' => {
                code_on_line = true;
                n += 1;
                while let Some(&c) = bytes.get(n) {
                    n += if c == b'\\' { 2 } else { 1 };
                    if c == b'"' {
                        break;
                    }
                }
            }
            b'#' => {
                let end = src[n..].find('\n').map_or(src.len(), |e| n + e);
                let end = n + src[n..end].trim_end().len();
                out.push(Comment {
                    span: n..end,
                    text: src[n..end].to_owned(),
                    trailing: code_on_line,
                });
                n = end;
            }
            b'\n' => {
                code_on_line = false;
                n += 1;
            }
            c => {
                code_on_line |= !c.is_ascii_whitespace();
                n += 1;
            }
        }
    }
    out
}
