//! Diagnostics: compile errors with a labelled span and optional help, rendered like rustc
//! (`file:line:col`, the source line, an underline and a help line).

use crate::ast::ByteSpan;
use crate::source;
use miette::{NamedSource, SourceSpan};
use std::fmt;
use std::sync::Arc;

/// One compile error.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct Diagnostic {
    message: String,
    #[help]
    help: Option<String>,
    #[label]
    label: SourceSpan,
    #[source_code]
    source_code: NamedSource<Arc<str>>,
    file: String,
    text: Arc<str>,
    span: ByteSpan,
}

impl Diagnostic {
    /// Builds a diagnostic for `span` of the file `file` whose text is `text`.
    pub fn new(
        file: &str,
        text: Arc<str>,
        span: ByteSpan,
        message: String,
        help: Option<String>,
    ) -> Self {
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        Diagnostic {
            message,
            help,
            label: SourceSpan::from(start..end),
            source_code: NamedSource::new(file, Arc::clone(&text)),
            file: file.to_owned(),
            text,
            span: start..end,
        }
    }

    /// The message (lowercase, no final period).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The help line, if any.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The file name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The underlined byte range.
    pub fn span(&self) -> ByteSpan {
        self.span.clone()
    }

    /// The underlined source text.
    pub fn underlined(&self) -> &str {
        self.text.get(self.span.clone()).unwrap_or("")
    }

    /// One-based line and column (in characters) of the underline's start.
    pub fn line_col(&self) -> (usize, usize) {
        source::line_col(&self.text, self.span.start)
    }

    /// Renders the diagnostic like rustc does.
    pub fn render(&self) -> String {
        let (line, col) = self.line_col();
        let line_start = source::line_start(&self.text, self.span.start);
        let line_end = source::line_end(&self.text, self.span.start);
        let src_line = source::printable(&self.text[line_start..line_end]);
        let width = self.text[self.span.start..self.span.end.min(line_end).max(self.span.start)]
            .chars()
            .count()
            .max(1);
        let gutter = " ".repeat(line.to_string().len());
        let mut out = format!(
            "error: {}\n{gutter}--> {}:{line}:{col}\n{gutter} |\n{line} | {src_line}\n{gutter} | {}{}\n",
            self.message,
            self.file,
            " ".repeat(col - 1),
            "^".repeat(width)
        );
        if let Some(help) = &self.help {
            out.push_str(&format!("{gutter} |\n{gutter} = help: {help}\n"));
        }
        out
    }
}

/// Every diagnostic of one compilation, in file order.
#[derive(Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{}", d.render())?;
        }
        let n = self.0.len();
        write!(f, "error: {n} error{} found", if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}

/// A problem found by the checker, before it is attached to its source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Index of the file.
    pub file: usize,
    /// Underlined range.
    pub span: ByteSpan,
    /// Message.
    pub message: String,
    /// Help.
    pub help: Option<String>,
}
