//! Compiling a bundle: files or in-memory sources to a checked [`hir::Program`] or diagnostics.

use crate::check::{self, SourceFile};
use crate::diag::{Diagnostic, Diagnostics};
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

/// Compiles in-memory sources given as `(file name, text)` pairs, in bundle order.
///
/// Returns the program when there is no error, and every diagnostic found (all files, several
/// per file). Syntax errors stop the bundle before type checking.
pub fn compile_sources<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
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
                e.help().map(str::to_owned),
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
    (program, diags)
}

/// Like [`compile_sources`], as a `Result`.
pub fn compile_str<N: AsRef<str>, T: AsRef<str>>(
    sources: &[(N, T)],
) -> Result<hir::Program, Diagnostics> {
    match compile_sources(sources) {
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
    let mut sources = Vec::new();
    for p in bundle_files(paths)? {
        let text = std::fs::read_to_string(&p).map_err(|source| CompileError::Io {
            path: p.clone(),
            source,
        })?;
        sources.push((p.display().to_string(), text));
    }
    compile_str(&sources).map_err(CompileError::Diagnostics)
}
