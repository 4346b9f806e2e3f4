//! `ipe fmt`: rewrites `.ipe` sources in the canonical layout (`ipe_compile::fmt`), or with
//! `--check` prints a unified diff of each file that would change (see `docs/fmt.md`).

use anyhow::Context;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Sources read.
    pub files: usize,
    /// Sources that were rewritten (or, with `--check`, would be).
    pub changed: usize,
    /// Sources that did not parse (reported and left untouched).
    pub failed: usize,
}

impl Summary {
    /// Whether the run fails: a source did not parse, or `--check` found one to change.
    pub fn failed(&self, check: bool) -> bool {
        self.failed > 0 || (check && self.changed > 0)
    }
}

/// The unified diff from `old` to `new`, labelled with `name`.
pub fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (formatted)"))
        .to_string()
}

/// The diagnostics of a source that does not parse, rendered as `ipe check` renders them.
fn syntax_errors(name: &str, src: &str, errors: &[ipe_compile::parser::SyntaxError]) -> String {
    let text: Arc<str> = Arc::from(src);
    let diags = errors
        .iter()
        .map(|e| {
            ipe_compile::Diagnostic::new(
                name,
                Arc::clone(&text),
                e.span(src),
                e.message(),
                e.help().map(str::to_owned),
            )
        })
        .collect();
    format!("{}\n", ipe_compile::Diagnostics(diags))
}

/// Formats one source text named `name`: `Ok(formatted)`, or the rendered syntax errors.
pub fn format_text(name: &str, src: &str) -> Result<String, String> {
    ipe_compile::fmt::format_source(src).map_err(|e| syntax_errors(name, src, &e))
}

/// The `.ipe` files of `paths` (directories walked in name order), without those under an
/// `exclude` path.
pub fn sources(paths: &[PathBuf], exclude: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut warn = |w: &str| {
        let _ = writeln!(std::io::stderr().lock(), "warning: {w}");
    };
    let files = ipe_compile::compile::bundle_files_warning(paths, &mut warn)?;
    Ok(files
        .into_iter()
        .filter(|f| !exclude.iter().any(|x| f.starts_with(x)))
        .collect())
}

/// Runs `ipe fmt` over `paths` (`-`: standard input to standard output). Diffs (`--check`)
/// and formatted standard input go to `out`, diagnostics and notes to `err`.
pub fn run(
    paths: &[PathBuf],
    exclude: &[PathBuf],
    check: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    if paths.iter().any(|p| p == Path::new("-")) {
        anyhow::ensure!(
            paths.len() == 1,
            "`-` (standard input) cannot be mixed with paths"
        );
        let mut src = String::new();
        std::io::stdin()
            .read_to_string(&mut src)
            .context("reading standard input")?;
        summary.files = 1;
        match format_text("<stdin>", &src) {
            Ok(new) if check => {
                if new != src {
                    summary.changed = 1;
                    out.write_all(diff("<stdin>", &src, &new).as_bytes())?;
                }
            }
            Ok(new) => {
                summary.changed = usize::from(new != src);
                out.write_all(new.as_bytes())?;
            }
            Err(e) => {
                summary.failed = 1;
                err.write_all(e.as_bytes())?;
            }
        }
        return Ok(summary);
    }
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    for file in sources(paths, exclude)? {
        let src = std::fs::read_to_string(&file)
            .with_context(|| format!("reading `{}`", file.display()))?;
        let name = file.display().to_string();
        summary.files += 1;
        match format_text(&name, &src) {
            Ok(new) if new == src => {}
            Ok(new) => {
                summary.changed += 1;
                if check {
                    out.write_all(diff(&name, &src, &new).as_bytes())?;
                } else {
                    std::fs::write(&file, new).with_context(|| format!("writing `{name}`"))?;
                    writeln!(err, "formatted {name}")?;
                }
            }
            Err(e) => {
                summary.failed += 1;
                err.write_all(e.as_bytes())?;
                writeln!(err, "note: `{name}` does not parse; it was left unchanged")?;
            }
        }
    }
    Ok(summary)
}
