//! `check`, `compile` and `explain` (feature `compiler`): ipe-compile's diagnostics with
//! ranges, bundles as `ipe compile` writes them, and `ipe explain`'s explanations.

use serde::Serialize;

/// One position of a diagnostic's range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Position {
    /// One-based line.
    pub line: usize,
    /// One-based column, in characters (Unicode scalar values).
    pub column: usize,
    /// Byte offset into the file's UTF-8 text.
    pub offset: usize,
    /// Offset in UTF-16 code units (JavaScript string indices).
    pub utf16: usize,
}

impl Position {
    /// The position of byte `offset` of `text`.
    pub fn at(text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let offset = (0..=offset)
            .rev()
            .find(|&o| text.is_char_boundary(o))
            .unwrap_or(0);
        let (line, column) = line_col(text, offset);
        Position {
            line,
            column,
            offset,
            utf16: text.get(..offset).map_or(0, |t| t.encode_utf16().count()),
        }
    }
}

/// The one-based line and column (in characters) of byte `offset`, by ipe-compile's line rule.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    ipe_compile::source::line_col(text, offset)
}

/// A diagnostic as the package returns it: the compiler's message, help and range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Always `"error"`: every diagnostic of the compiler stops the bundle.
    pub severity: &'static str,
    /// The message (lowercase, no final period).
    pub message: String,
    /// The help line, if any.
    pub help: Option<String>,
    /// The file the range is in (the source's name).
    pub file: String,
    /// Where the underline starts.
    pub start: Position,
    /// Where it ends (exclusive).
    pub end: Position,
    /// The diagnostic as `ipe check` prints it (rustc-like, with the source line and caret).
    pub rendered: String,
}

/// Named sources (`(file name, text)`) plus the data and instance files, as `ipe compile
/// FILES --data D --instances I` reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// `(file name, text)` pairs, in bundle order.
    pub files: Vec<(String, String)>,
    /// JSON data files, `(name, text)` (`--data`).
    pub data: Vec<(String, String)>,
    /// JSON instance files, `(name, text)` (`--instances`).
    pub instances: Vec<(String, String)>,
}

impl Sources {
    /// One source named `policy.ipe`.
    pub fn one(text: &str) -> Sources {
        Sources {
            files: vec![("policy.ipe".to_owned(), text.to_owned())],
            ..Sources::default()
        }
    }

    /// The text of the file named `name` (sources, then data and instances).
    fn text_of(&self, name: &str) -> Option<&str> {
        self.files
            .iter()
            .chain(&self.data)
            .chain(&self.instances)
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }

    /// The compiler options these sources give: their data files and instance files.
    pub fn compile_options(&self) -> ipe_compile::CompileOptions {
        ipe_compile::CompileOptions {
            data: self
                .data
                .iter()
                .map(|(name, text)| ipe_compile::DataFile {
                    name: name.clone(),
                    text: text.clone(),
                })
                .collect(),
            instances: self
                .instances
                .iter()
                .map(|(name, text)| ipe_compile::InstanceSource {
                    name: name.clone(),
                    text: text.clone(),
                })
                .collect(),
            ..ipe_compile::CompileOptions::default()
        }
    }
}

fn diagnostic(sources: &Sources, d: &ipe_compile::Diagnostic) -> Diagnostic {
    let text = sources.text_of(d.file()).unwrap_or("");
    let span = d.span();
    Diagnostic {
        severity: "error",
        message: d.message().to_owned(),
        help: d.help().map(str::to_owned),
        file: d.file().to_owned(),
        start: Position::at(text, span.start),
        end: Position::at(text, span.end),
        rendered: d.render(),
    }
}

/// Every diagnostic of compiling `sources` (empty when they compile), in file order: what
/// `ipe check` reports.
pub fn diagnostics(sources: &Sources) -> Vec<Diagnostic> {
    let (_, found) = ipe_compile::compile_sources_with(&sources.files, &sources.compile_options());
    found.iter().map(|d| diagnostic(sources, d)).collect()
}

/// Why [`compile_bundle`] made no bundle.
#[derive(Debug)]
pub enum CompileFailure {
    /// The sources have errors.
    Diagnostics(Vec<Diagnostic>),
    /// The checked program could not be lowered (a compiler limit), in words.
    Lower(String),
}

/// The bundle bytes `ipe compile` writes for `sources`, or why there are none.
pub fn compile_bundle(sources: &Sources) -> Result<Vec<u8>, CompileFailure> {
    let options = sources.compile_options();
    match ipe_compile::compile_bundle_sources_with(&sources.files, &options) {
        (Some((_, compiled)), found) if found.is_empty() => Ok(compiled.bytes),
        (_, found) => Err(CompileFailure::Diagnostics(
            found.iter().map(|d| diagnostic(sources, d)).collect(),
        )),
    }
}

/// How [`explain_request`] renders the explanation: `ipe explain --format text|json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    /// The text `ipe explain` prints.
    Text,
    /// The JSON `ipe explain --format json` prints (pretty, sorted keys, final newline).
    Json,
}

/// What `ipe explain FILES --request R [--now T] --format F` prints for `sources` and the
/// request text (`now_ms`: the request time in ms since the Unix epoch, set as the request's
/// `now`), or the error it reports: the rendered diagnostics, a lowering limit, `malformed
/// request: ...`, or a mismatch with the host engine (which the tests rule out).
pub fn explain_request(
    sources: &Sources,
    request: &str,
    now_ms: Option<i64>,
    format: ExplainFormat,
) -> Result<String, String> {
    let options = sources.compile_options();
    let (program, bytes) = match ipe_compile::compile_bundle_sources_with(&sources.files, &options)
    {
        (Some((program, compiled)), found) if found.is_empty() => (program, compiled.bytes),
        (_, found) => {
            let text: Vec<String> = found.iter().map(ipe_compile::Diagnostic::render).collect();
            return Err(text.join("\n"));
        }
    };
    let engine_options = ipe_host::EngineOptions {
        max_cost: options.max_cost,
        ..ipe_host::EngineOptions::interpreter()
    };
    let engine =
        ipe_host::PolicyEngine::with_options(bytes, engine_options).map_err(|e| e.to_string())?;
    let mut value: serde_json::Value =
        serde_json::from_str(request).map_err(|e| format!("malformed request: {e}"))?;
    let Some(object) = value.as_object_mut() else {
        return Err("malformed request: expected a JSON object".to_owned());
    };
    if let Some(ms) = now_ms {
        if !ipe_nostd::time::timestamp_ok(ms) {
            return Err("nowMs: not a timestamp of the years 0000 to 9999".to_owned());
        }
        // `ipe explain --now`'s forms: integer epoch seconds, else RFC 3339 text.
        let now = if ms % 1000 == 0 {
            serde_json::Value::from(ms / 1000)
        } else {
            let mut text = String::new();
            let _ = ipe_nostd::time::write_rfc3339(&mut text, ms);
            serde_json::Value::from(text)
        };
        object.insert("now".to_owned(), now);
    }
    let e = ipe_explain::explain(&program, &engine, &value)
        .map_err(|detail| format!("malformed request: {detail}"))?;
    let body = match format {
        ExplainFormat::Text => e.text.clone(),
        ExplainFormat::Json => e.json_text(),
    };
    if e.agrees {
        Ok(body)
    } else {
        Err(body)
    }
}
