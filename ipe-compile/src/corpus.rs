//! The shared corpus under the repository's `tests/corpus/`: each `<group>/<name>.ipe` is one
//! bundle with a sibling `<name>.cases.json` of requests and expected decisions, and each
//! `fail/<name>.ipe` must fail to compile with the diagnostic its leading `# error:`,
//! `# underline:` and `# help:` comment lines describe. Every backend's tests iterate
//! [`load`].

use crate::decision::Report;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One corpus file.
#[derive(Clone, Debug)]
pub struct CorpusFile {
    /// `<group>/<name>`, for messages.
    pub id: String,
    /// The `.ipe` path.
    pub path: PathBuf,
    /// Its text.
    pub source: String,
    /// What is expected of it.
    pub expect: FileExpect,
}

/// What a corpus file expects.
#[derive(Clone, Debug)]
pub enum FileExpect {
    /// The bundle compiles; each case is a request and its decision.
    Cases(Vec<Case>),
    /// The bundle fails to compile; the first diagnostic is described.
    Fail(FailExpect),
}

/// A request and its expected decision.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Case name.
    pub name: String,
    /// The request.
    pub request: serde_json::Value,
    /// The expected decision.
    pub expect: Expect,
}

/// An expected decision (intents are not compared).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `allow` or `deny`.
    pub decision: String,
    /// Applied policies.
    pub matched: Vec<String>,
    /// Violations.
    pub violations: Vec<ExpectViolation>,
    /// Errors.
    pub errors: Vec<ExpectError>,
}

/// An expected violation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectViolation {
    /// Policy name.
    pub policy: String,
    /// Reason text.
    pub reason: String,
}

/// An expected policy error.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectError {
    /// Policy name.
    pub policy: String,
    /// Error text.
    pub error: String,
}

/// The expected first diagnostic of a compile-fail file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailExpect {
    /// A substring of the message.
    pub error: String,
    /// The exact underlined text, if given.
    pub underline: Option<String>,
    /// A substring of the help, if given.
    pub help: Option<String>,
}

impl Expect {
    /// The expectation a decision meets exactly (for comparing and printing).
    pub fn of(d: &Report) -> Expect {
        Expect {
            decision: d.effect.as_str().to_owned(),
            matched: d.matched.clone(),
            violations: d
                .violations
                .iter()
                .map(|v| ExpectViolation {
                    policy: v.policy.clone(),
                    reason: v.reason.clone(),
                })
                .collect(),
            errors: d
                .errors
                .iter()
                .map(|e| ExpectError {
                    policy: e.policy.clone(),
                    error: e.error.clone(),
                })
                .collect(),
        }
    }
}

impl FailExpect {
    /// Checks a diagnostic against this expectation; `Err` says what differs.
    pub fn check(&self, d: &crate::Diagnostic) -> Result<(), String> {
        let mut problems = Vec::new();
        if !d.message().contains(&self.error) {
            problems.push(format!(
                "message `{}` does not contain `{}`",
                d.message(),
                self.error
            ));
        }
        if let Some(u) = &self.underline {
            if d.underlined() != u {
                problems.push(format!("underlined `{}`, expected `{u}`", d.underlined()));
            }
        }
        if let Some(h) = &self.help {
            if !d.help().is_some_and(|x| x.contains(h.as_str())) {
                problems.push(format!("help {:?} does not contain `{h}`", d.help()));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// Why the corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file could not be read.
    #[error("cannot read `{0}`: {1}")]
    Io(PathBuf, std::io::Error),
    /// A cases file is not valid.
    #[error("invalid cases file `{0}`: {1}")]
    Cases(PathBuf, serde_json::Error),
    /// A compile-fail file has no `# error:` line.
    #[error("`{0}` has no `# error:` line")]
    NoError(PathBuf),
    /// A file with request cases does not compile or lower.
    #[error("corpus file `{0}` does not compile: {1}")]
    Compile(String, String),
}

/// A corpus file with request cases, checked and lowered: what every backend's test iterates.
#[derive(Clone, Debug)]
pub struct CompiledFile {
    /// Path relative to the corpus root, without extension.
    pub id: String,
    /// The checked program (for the reference evaluator).
    pub program: crate::hir::Program,
    /// The verified bundle bytes (for the interpreter, the host and the JIT).
    pub bytes: Vec<u8>,
    /// The requests and their expected decisions.
    pub cases: Vec<Case>,
}

/// Loads the corpus under `root` and compiles every file that has request cases, in order.
pub fn compiled(root: &Path) -> Result<Vec<CompiledFile>, CorpusError> {
    let mut out = Vec::new();
    for file in load(root)? {
        let FileExpect::Cases(cases) = file.expect else {
            continue;
        };
        let program = crate::compile_str(&[(file.id.as_str(), file.source.as_str())])
            .map_err(|d| CorpusError::Compile(file.id.clone(), d.to_string()))?;
        let bytes = crate::lower::lower(&program)
            .map_err(|e| CorpusError::Compile(file.id.clone(), e.to_string()))?
            .bytes;
        out.push(CompiledFile {
            id: file.id,
            program,
            bytes,
            cases,
        });
    }
    Ok(out)
}

/// The corpus directory of this repository.
pub fn default_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus")
}

/// Loads every corpus file under `root`, sorted by path.
pub fn load(root: &Path) -> Result<Vec<CorpusFile>, CorpusError> {
    let files = crate::compile::bundle_files(&[root.to_owned()])
        .map_err(|e| CorpusError::Io(root.to_owned(), std::io::Error::other(e.to_string())))?;
    let mut out = Vec::new();
    for path in files {
        let source =
            std::fs::read_to_string(&path).map_err(|e| CorpusError::Io(path.clone(), e))?;
        let id = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .with_extension("")
            .display()
            .to_string();
        let cases_path = path.with_extension("cases.json");
        let expect = if cases_path.exists() {
            let text = std::fs::read_to_string(&cases_path)
                .map_err(|e| CorpusError::Io(cases_path.clone(), e))?;
            FileExpect::Cases(
                serde_json::from_str(&text)
                    .map_err(|e| CorpusError::Cases(cases_path.clone(), e))?,
            )
        } else {
            FileExpect::Fail(
                fail_expect(&source).ok_or_else(|| CorpusError::NoError(path.clone()))?,
            )
        };
        out.push(CorpusFile {
            id,
            path,
            source,
            expect,
        });
    }
    Ok(out)
}

/// Reads the leading `# key: value` comment lines of a compile-fail file.
fn fail_expect(source: &str) -> Option<FailExpect> {
    let mut f = FailExpect::default();
    let mut has_error = false;
    for line in source.lines() {
        let Some(c) = line.trim_start().strip_prefix('#') else {
            break;
        };
        let c = c.trim_start();
        if let Some(v) = c.strip_prefix("error:") {
            f.error = v.trim().to_owned();
            has_error = true;
        } else if let Some(v) = c.strip_prefix("underline:") {
            f.underline = Some(v.trim().to_owned());
        } else if let Some(v) = c.strip_prefix("help:") {
            f.help = Some(v.trim().to_owned());
        }
    }
    has_error.then_some(f)
}
