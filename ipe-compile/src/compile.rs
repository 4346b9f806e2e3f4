//! Compiling a bundle: files or in-memory sources to a checked [`hir::Program`] or diagnostics.

use crate::ast;
use crate::check::{self, inline, SourceFile};
use crate::diag::{Diagnostic, Diagnostics};
use crate::lower::{self, LowerError};
use crate::{hir, parser};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a bundle on disk could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A file or directory could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A path given as a source is a compiled bundle.
    #[error("`{}` is a compiled bundle, not a source: use `ipe eval {} --input ...` or `ipe inspect {}`", .0.display(), .0.display(), .0.display())]
    Bundle(PathBuf),
    /// A directory could not be walked.
    #[error("cannot read directory `{path}`: {source}")]
    Walk {
        /// The directory given.
        path: PathBuf,
        /// The cause.
        source: walkdir::Error,
    },
    /// The sources have errors.
    #[error("{0}")]
    Diagnostics(Diagnostics),
}

/// What a compilation accepts beyond the language's fixed limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// The cost budget: the most steps one policy's evaluation may take (default
    /// [`ipe_nostd::verify::DEFAULT_MAX_COST`]). A policy over it is a compile error.
    pub max_cost: u32,
    /// JSON data files whose top-level keys are constants of the bundle (`ipe compile
    /// --data`; see `docs/LANGUAGE.md`, "Constants, data files and hierarchies").
    pub data: Vec<DataFile>,
    /// Template instance files (`docs/LANGUAGE.md`, "Reuse"): each a JSON array of
    /// `{"name", "template", "args"}` objects whose instances are policies of the bundle,
    /// after the sources' policies, in order.
    pub instances: Vec<InstanceSource>,
}

/// A JSON instance file's name (for diagnostics) and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceSource {
    /// The name diagnostics show (usually the path).
    pub name: String,
    /// The JSON text.
    pub text: String,
}

impl InstanceSource {
    /// Reads an instance file from disk.
    pub fn read(path: &Path) -> Result<Self, CompileError> {
        let text = std::fs::read_to_string(path).map_err(|source| CompileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(InstanceSource {
            name: path.display().to_string(),
            text,
        })
    }
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            max_cost: ipe_nostd::verify::DEFAULT_MAX_COST,
            data: Vec::new(),
            instances: Vec::new(),
        }
    }
}

/// A JSON data file given to the compiler: its name (for messages) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataFile {
    /// The name diagnostics show, usually the path.
    pub name: String,
    /// The JSON text.
    pub text: String,
}

impl DataFile {
    /// Reads the data file at `path` (named by its path).
    pub fn read(path: &Path) -> Result<DataFile, CompileError> {
        let text = std::fs::read_to_string(path).map_err(|source| CompileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(DataFile {
            name: path.display().to_string(),
            text,
        })
    }
}

/// Compiles in-memory sources given as `(file name, text)` pairs, in bundle order, with the
/// default [`CompileOptions`].
///
/// Returns the program when there is no error, and every diagnostic found (all files, several
/// per file). Syntax errors stop the bundle before type checking. A returned program lowers
/// ([`lower::lower`]) without error.
pub fn compile_sources<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
) -> (Option<hir::Program>, Vec<Diagnostic>) {
    compile_sources_with(sources, &CompileOptions::default())
}

/// [`compile_sources`] with explicit options: a returned program lowers with
/// [`lower::lower_with_max_cost`] and `options.max_cost`.
pub fn compile_sources_with<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
    options: &CompileOptions,
) -> (Option<hir::Program>, Vec<Diagnostic>) {
    let (lowered, diags) = compile_lowered(sources, options);
    (lowered.map(|(program, _)| program), diags)
}

/// [`compile_sources_with`], also returning the lowering it ran to prove the program
/// compiles (issue #15: callers that want the bundle need not lower a second time): the same
/// bytes as [`lower::lower_with_max_cost`] with `options.max_cost`.
pub fn compile_bundle_sources_with<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
    options: &CompileOptions,
) -> (Option<(hir::Program, lower::Compiled)>, Vec<Diagnostic>) {
    compile_lowered(sources, options)
}

/// [`compile_sources_with`], also returning the lowering it ran to prove the program
/// compiles (issue #15: callers that want the bundle need not lower a second time).
fn compile_lowered<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
    options: &CompileOptions,
) -> (Option<(hir::Program, lower::Compiled)>, Vec<Diagnostic>) {
    let mut texts: Vec<Text<'_>> = sources
        .iter()
        .map(|(n, t)| Text::new(n.as_ref().to_owned(), t.as_ref()))
        .collect();
    let mut diags = Vec::new();
    let mut asts = Vec::new();
    for t in &texts {
        let (ast, errors) = parser::parse_file(t.text);
        for e in errors {
            diags.push(Diagnostic::new(
                &t.name,
                t.shared(),
                e.span(t.text),
                e.message(),
                e.help().map(str::to_owned),
            ));
        }
        asts.push(ast);
    }
    if !diags.is_empty() {
        return (None, diags);
    }
    // Instance files join the bundle's files after the sources (they hold no syntax tree of
    // their own: the expansion adds their instances' policies there).
    let first_json = texts.len();
    for inst in &options.instances {
        texts.push(Text::new(inst.name.clone(), &inst.text));
        asts.push(ast::File::default());
    }
    let files: Vec<SourceFile<'_>> = texts
        .iter()
        .zip(&asts)
        .map(|(t, ast)| SourceFile {
            name: &t.name,
            text: t.text,
            ast,
        })
        .collect();
    let json: Vec<inline::InstanceFile<'_>> = texts
        .iter()
        .enumerate()
        .skip(first_json)
        .map(|(file, t)| inline::InstanceFile {
            file,
            name: &t.name,
            text: t.text,
        })
        .collect();
    let expansion = inline::expand(&files, &json);
    drop(files);
    let expanded = expansion.apply(asts);
    let to_diag = |p: crate::diag::Problem| {
        let p = expanded.origins.resolve(p);
        let (name, text) = texts
            .get(p.file)
            .or(texts.first())
            .map_or(("", Arc::from("")), |t| (t.name.as_str(), t.shared()));
        Diagnostic::new(name, text, p.span, p.message, p.help)
    };
    if !expanded.problems.is_empty() {
        let mut d: Vec<Diagnostic> = expanded.problems.iter().cloned().map(to_diag).collect();
        sort_diags(&mut d, &texts);
        return (None, d);
    }
    // Constants, data files and set operators next: def and template bodies are already in
    // place, so a constant used inside a def expands at each use.
    let consts = match expand_consts(&texts, expanded.files, &options.data, &to_diag) {
        Ok(asts) => asts,
        Err(mut d) => {
            diags.append(&mut d);
            return (None, diags);
        }
    };
    let files: Vec<SourceFile<'_>> = texts
        .iter()
        .zip(&consts)
        .map(|(t, ast)| SourceFile {
            name: &t.name,
            text: t.text,
            ast,
        })
        .collect();
    let (program, mut problems) = check::check_expanded(&files, &expanded.origins);
    // A constant expanded into several values repeats its diagnostics at its one use.
    problems.dedup_by(|a, b| a.file == b.file && a.span == b.span && a.message == b.message);
    let synthetic = problems
        .iter()
        .any(|p| expanded.origins.text(&p.span).is_some());
    for p in problems {
        diags.push(to_diag(p));
    }
    if synthetic {
        sort_diags(&mut diags, &texts);
    }
    // The syntax trees are done with: their memory goes back before lowering allocates
    // (issue #15: the compile's peak was both trees and the bundle).
    drop(files);
    drop(consts);
    let Some(program) = program else {
        return (None, diags);
    };
    // The cost bound (and any format limit the checker could not see) comes from lowering
    // itself, so whatever this accepts compiles.
    match lower::lower_located(&program, options.max_cost) {
        Ok(compiled) => (Some((program, compiled)), diags),
        Err((policy, error)) => {
            diags.push(lower_diagnostic(&texts, &program, policy, &error));
            (None, diags)
        }
    }
}

/// One input text of a compile: its name, the text as the caller holds it, and the shared
/// copy diagnostics keep, made at the first diagnostic on it (issue #15: a compile without
/// diagnostics does not copy its sources).
struct Text<'a> {
    name: String,
    text: &'a str,
    shared: std::cell::OnceCell<Arc<str>>,
}

impl<'a> Text<'a> {
    fn new(name: String, text: &'a str) -> Self {
        Text {
            name,
            text,
            shared: std::cell::OnceCell::new(),
        }
    }

    /// The text as diagnostics hold it (copied once).
    fn shared(&self) -> Arc<str> {
        Arc::clone(self.shared.get_or_init(|| Arc::from(self.text)))
    }
}

/// Diagnostics in file order, then by position; the same diagnostic twice (a filter copied
/// for several lists) is kept once.
fn sort_diags(d: &mut Vec<Diagnostic>, texts: &[Text<'_>]) {
    let index = |name: &str| {
        texts
            .iter()
            .position(|t| t.name == name)
            .unwrap_or(usize::MAX)
    };
    d.sort_by_key(|x| (index(x.file()), x.span().start));
    d.dedup_by(|a, b| {
        a.file() == b.file()
            && a.span() == b.span()
            && a.message() == b.message()
            && a.help() == b.help()
    });
}

/// The syntax trees with every constant, data selection and set operator expanded
/// (`check::consts`), or the diagnostics of the constants and data files.
fn expand_consts(
    texts: &[Text<'_>],
    asts: Vec<crate::ast::File>,
    data: &[DataFile],
    to_diag: &dyn Fn(crate::diag::Problem) -> Diagnostic,
) -> Result<Vec<crate::ast::File>, Vec<Diagnostic>> {
    let inputs: Vec<check::consts::SourceText<'_>> =
        texts.iter().map(|t| (t.name.as_str(), t.text)).collect();
    let sources: Vec<check::consts::DataSource<'_>> = data
        .iter()
        .map(|d| check::consts::DataSource {
            name: &d.name,
            text: &d.text,
        })
        .collect();
    let expanded = check::consts::expand(&inputs, asts, &sources);
    // Data files first: a constant they fail to give makes its uses errors too.
    let mut diags = Vec::new();
    for p in expanded.data_problems {
        let Some(d) = data.get(p.data) else { continue };
        let text: Arc<str> = Arc::from(d.text.as_str());
        let span = match (p.line_col, &p.key) {
            (Some((line, col)), _) => {
                let at = crate::source::offset_of(&d.text, line, col);
                at..at
            }
            (None, Some(key)) => {
                // The key where it is written as a key (followed by `:`), best effort.
                let quoted = serde_json::Value::String(key.clone()).to_string();
                d.text
                    .match_indices(&quoted)
                    .map(|(at, _)| at)
                    .find(|&at| {
                        d.text
                            .get(at + quoted.len()..)
                            .is_some_and(|rest| rest.trim_start().starts_with(':'))
                    })
                    .map_or(0..0, |at| at..at + quoted.len())
            }
            (None, None) => 0..0,
        };
        let message = if p.message.starts_with("is ") {
            format!("data file `{}`: `{}` {}", d.name, p.path, p.message)
        } else {
            format!("data file `{}`, at `{}`: {}", d.name, p.path, p.message)
        };
        diags.push(Diagnostic::new(&d.name, text, span, message, p.help));
    }
    for p in expanded.problems {
        diags.push(to_diag(p));
    }
    if diags.is_empty() {
        Ok(expanded.asts)
    } else {
        Err(diags)
    }
}

/// A lowering error as a diagnostic on the policy it is about (its name), or on the start
/// of the first file for a bundle-wide limit.
fn lower_diagnostic(
    texts: &[Text<'_>],
    program: &hir::Program,
    policy: Option<usize>,
    error: &LowerError,
) -> Diagnostic {
    let p = policy.and_then(|i| program.policies.get(i));
    let (file, span) = p.map_or((0, 0..0), |p| {
        let (start, end) = (p.span.start as usize, p.span.end as usize);
        (usize::from(p.span.file), start..end)
    });
    let (message, help) = match error {
        LowerError::OverBudget { name, cost, budget } => (
            format!(
                "policy `{name}` may take up to {cost} steps, over the cost budget of {budget}"
            ),
            Some(
                "lower the `max` of the lists its aggregates and `in` tests go through, or raise \
                 the budget with `--max-cost`"
                    .to_owned(),
            ),
        ),
        other => match p {
            Some(p) => (
                format!("policy `{}` cannot be compiled: {other}", p.name),
                None,
            ),
            None => (format!("the bundle cannot be compiled: {other}"), None),
        },
    };
    let (name, text) = texts
        .get(file)
        .or(texts.first())
        .map_or(("", Arc::from("")), |t| (t.name.as_str(), t.shared()));
    Diagnostic::new(name, text, span, message, help)
}

/// Like [`compile_sources`], as a `Result`.
pub fn compile_str<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
) -> Result<hir::Program, Diagnostics> {
    compile_str_with(sources, &CompileOptions::default())
}

/// Like [`compile_sources_with`], as a `Result`.
pub fn compile_str_with<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
    options: &CompileOptions,
) -> Result<hir::Program, Diagnostics> {
    match compile_sources_with(sources, options) {
        (Some(p), d) if d.is_empty() => Ok(p),
        (_, d) => Err(Diagnostics(d)),
    }
}

/// Compiles in-memory sources to the checked program and its verified bundle
/// ([`lower::lower_with_max_cost`] with `options.max_cost`) in one pass: the same bytes as
/// [`compile_str_with`] followed by lowering, without lowering twice.
pub fn compile_bundle_str_with<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
    options: &CompileOptions,
) -> Result<(hir::Program, lower::Compiled), Diagnostics> {
    match compile_lowered(sources, options) {
        (Some(p), d) if d.is_empty() => Ok(p),
        (_, d) => Err(Diagnostics(d)),
    }
}

/// Whether the file at `path` starts with the bundle magic (`IPEB`). Reads four bytes, only
/// from a regular file.
pub fn is_bundle_file(path: &Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == ipe_nostd::format::MAGIC)
}

/// Lists the bundle's files: each file path as given, and every `.ipe` file under each
/// directory (recursively, sorted by path). Warnings (files skipped) are dropped: see
/// [`bundle_files_warning`].
pub fn bundle_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CompileError> {
    bundle_files_warning(paths, &mut |_| {})
}

/// [`bundle_files`], passing `warn` one sentence per entry of a directory that is skipped
/// though it may have been meant as a source: a `.ipe` name that is not a regular file (a
/// FIFO, a socket, a symbolic link to a directory), or a name whose extension is `.ipe` in
/// another case (`B.IPE`; names are case-sensitive).
///
/// Symbolic links to directories are not followed (so links cannot loop); links to files
/// are read.
pub fn bundle_files_warning(
    paths: &[PathBuf],
    warn: &mut dyn FnMut(&str),
) -> Result<Vec<PathBuf>, CompileError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, warn)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    warn: &mut dyn FnMut(&str),
) -> Result<(), CompileError> {
    let entries = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name();
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CompileError::Walk {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        let ty = entry.file_type();
        if ty.is_dir() {
            continue;
        }
        let Some(ext) = path.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if ext != "ipe" {
            if ext.eq_ignore_ascii_case("ipe") {
                warn(&format!(
                    "skipping `{}`: only `.ipe` files are sources (names are case-sensitive)",
                    path.display()
                ));
            }
            continue;
        }
        // A symbolic link counts as what it points to.
        let is_file =
            ty.is_file() || (ty.is_symlink() && std::fs::metadata(path).is_ok_and(|m| m.is_file()));
        if is_file {
            found.push(path.to_owned());
        } else {
            warn(&format!(
                "skipping `{}`: not a regular file",
                path.display()
            ));
        }
    }
    found.sort();
    out.extend(found);
    Ok(())
}

/// A source file's text, or the diagnostic saying why its bytes are not a source: a UTF-8
/// byte order mark, or bytes that are not UTF-8 (located at the first bad byte).
fn source_text(name: &str, bytes: Vec<u8>) -> Result<String, Box<Diagnostic>> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(BOM) {
        let text: Arc<str> = Arc::from(String::from_utf8_lossy(&bytes).as_ref());
        return Err(Box::new(Diagnostic::new(
            name,
            text,
            0..BOM.len(),
            "the file starts with a UTF-8 byte order mark".to_owned(),
            Some("save the file as UTF-8 without a byte order mark".to_owned()),
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e
            .as_bytes()
            .get(..at)
            .unwrap_or_default()
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        let byte = e.as_bytes().get(at).copied().unwrap_or_default();
        // The lossy text keeps everything before `at`, then one U+FFFD (3 bytes) per bad run.
        let text: Arc<str> = Arc::from(String::from_utf8_lossy(e.as_bytes()).as_ref());
        Box::new(Diagnostic::new(
            name,
            text,
            at..at + '\u{FFFD}'.len_utf8(),
            format!("line {line} is not valid UTF-8 (byte 0x{byte:02X})"),
            Some("sources are UTF-8: convert the file (e.g. from Latin-1 with `iconv -f latin1 -t utf-8`)".to_owned()),
        ))
    })
}

/// Compiles the bundle made of `paths` (files, or directories contributing their `.ipe` files).
pub fn compile_paths(paths: &[PathBuf]) -> Result<hir::Program, CompileError> {
    compile_paths_with(paths, &CompileOptions::default(), &mut |_| {})
}

/// [`compile_paths`] with explicit options, passing `warn` each file skipped while walking
/// directories (see [`bundle_files_warning`]).
///
/// A compiled bundle given as a source is an error naming it; a source that is not UTF-8 (or
/// starts with a byte order mark) is a located diagnostic.
pub fn compile_paths_with(
    paths: &[PathBuf],
    options: &CompileOptions,
    warn: &mut dyn FnMut(&str),
) -> Result<hir::Program, CompileError> {
    compile_bundle_paths_with(paths, options, warn).map(|(program, _)| program)
}

/// [`compile_paths_with`], also returning the verified bundle (the lowering it runs to prove
/// the program compiles, [`lower::lower_with_max_cost`] with `options.max_cost`), so the
/// caller need not lower a second time (issue #15).
pub fn compile_bundle_paths_with(
    paths: &[PathBuf],
    options: &CompileOptions,
    warn: &mut dyn FnMut(&str),
) -> Result<(hir::Program, lower::Compiled), CompileError> {
    let mut sources = Vec::new();
    let mut bad = Vec::new();
    for p in bundle_files_warning(paths, warn)? {
        let bytes = std::fs::read(&p).map_err(|source| CompileError::Io {
            path: p.clone(),
            source,
        })?;
        if bytes.starts_with(&ipe_nostd::format::MAGIC) {
            return Err(CompileError::Bundle(p));
        }
        let name = p.display().to_string();
        match source_text(&name, bytes) {
            Ok(text) => sources.push((name, text)),
            Err(d) => bad.push(*d),
        }
    }
    if !bad.is_empty() {
        return Err(CompileError::Diagnostics(Diagnostics(bad)));
    }
    compile_bundle_str_with(&sources, options).map_err(CompileError::Diagnostics)
}
