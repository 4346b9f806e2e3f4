//! Compiling a bundle: files or in-memory sources to a checked [`hir::Program`] or diagnostics.

use crate::check::{self, SourceFile};
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
    /// The sources have errors.
    #[error("{0}")]
    Diagnostics(Diagnostics),
}

/// What a compilation accepts beyond the language's fixed limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileOptions {
    /// The cost budget: the most steps one policy's evaluation may take (default
    /// [`ipe_nostd::verify::DEFAULT_MAX_COST`]). A policy over it is a compile error.
    pub max_cost: u32,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            max_cost: ipe_nostd::verify::DEFAULT_MAX_COST,
        }
    }
}

/// Compiles in-memory sources given as `(file name, text)` pairs, in bundle order, with the
/// default [`CompileOptions`].
///
/// Returns the program when there is no error, and every diagnostic found (all files, several
/// per file). Syntax errors stop the bundle before type checking. A returned program lowers
/// ([`lower::lower`](crate::lower::lower)) without error.
pub fn compile_sources<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
) -> (Option<hir::Program>, Vec<Diagnostic>) {
    compile_sources_with(sources, &CompileOptions::default())
}

/// [`compile_sources`] with explicit options: a returned program lowers with
/// [`lower::lower_with_max_cost`](crate::lower::lower_with_max_cost) and `options.max_cost`.
pub fn compile_sources_with<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
    options: &CompileOptions,
) -> (Option<hir::Program>, Vec<Diagnostic>) {
    let texts: Vec<(String, Arc<str>)> = sources
        .iter()
        .map(|(n, t)| (n.as_ref().to_owned(), Arc::from(t.as_ref())))
        .collect();
    let mut diags = Vec::new();
    let mut asts = Vec::new();
    for (name, text) in &texts {
        let (ast, errors) = parser::parse_file(text);
        for e in errors {
            diags.push(Diagnostic::new(
                name,
                Arc::clone(text),
                e.span(text),
                e.message(),
                None,
            ));
        }
        asts.push(ast);
    }
    if !diags.is_empty() {
        return (None, diags);
    }
    let files: Vec<SourceFile<'_>> = texts
        .iter()
        .zip(&asts)
        .map(|((name, text), ast)| SourceFile { name, text, ast })
        .collect();
    let (program, problems) = check::check(&files);
    for p in problems {
        let (name, text) = &texts[p.file];
        diags.push(Diagnostic::new(
            name,
            Arc::clone(text),
            p.span,
            p.message,
            p.help,
        ));
    }
    let Some(program) = program else {
        return (None, diags);
    };
    // The cost bound (and any format limit the checker could not see) comes from lowering
    // itself, so whatever this accepts compiles.
    match lower::lower_located(&program, options.max_cost) {
        Ok(_) => (Some(program), diags),
        Err((policy, error)) => {
            diags.push(lower_diagnostic(&texts, &program, policy, &error));
            (None, diags)
        }
    }
}

/// A lowering error as a diagnostic on the policy it is about (its name), or on the start
/// of the first file for a bundle-wide limit.
fn lower_diagnostic(
    texts: &[(String, Arc<str>)],
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
        .map_or(("", Arc::from("")), |(n, t)| (n.as_str(), Arc::clone(t)));
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

/// Lists the bundle's files: each file path as given, and every `.ipe` file under each
/// directory (recursively, sorted by path).
pub fn bundle_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CompileError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CompileError> {
    let io = |source| CompileError::Io {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "ipe") {
            out.push(path);
        }
    }
    Ok(())
}

/// Compiles the bundle made of `paths` (files, or directories contributing their `.ipe` files).
pub fn compile_paths(paths: &[PathBuf]) -> Result<hir::Program, CompileError> {
    compile_paths_with(paths, &CompileOptions::default())
}

/// [`compile_paths`] with explicit options.
pub fn compile_paths_with(
    paths: &[PathBuf],
    options: &CompileOptions,
) -> Result<hir::Program, CompileError> {
    let mut sources = Vec::new();
    for p in bundle_files(paths)? {
        let text = std::fs::read_to_string(&p).map_err(|source| CompileError::Io {
            path: p.clone(),
            source,
        })?;
        sources.push((p.display().to_string(), text));
    }
    compile_str_with(&sources, options).map_err(CompileError::Diagnostics)
}
