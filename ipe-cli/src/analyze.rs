//! `ipe analyze` (issue #16): static analysis of a bundle with the Z3 SMT solver (the
//! `ipe-analyze` crate), printed as rustc-style findings or JSON.

use ipe_compile::hir::Program;

/// The output format of `ipe analyze`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style findings and a summary line.
    Text,
    /// One JSON object: `{"findings": [...], "summary": {...}}`.
    Json,
}

/// The text of file `i` of `program` (its name is the path it was read from).
fn source_of(program: &Program) -> impl Fn(usize) -> Option<String> + '_ {
    move |i| std::fs::read_to_string(program.files.get(i)?).ok()
}

/// Analyzes `program` (or, with `old`, diffs it against the old version) and returns the
/// output text and whether there is any finding that is not unknown.
pub fn run(
    program: &Program,
    old: Option<&Program>,
    format: Format,
    options: &ipe_analyze::Options,
) -> (String, bool) {
    let analysis = match old {
        Some(old) => ipe_analyze::diff(old, program, options),
        None => ipe_analyze::analyze(program, options),
    };
    let sources = source_of(program);
    let text = match format {
        Format::Text => ipe_analyze::render_text(program, &analysis, &sources),
        Format::Json => {
            let mut s = ipe_analyze::to_json(program, &analysis, &sources).to_string();
            s.push('\n');
            s
        }
    };
    let definite = analysis
        .findings
        .iter()
        .any(|f| f.kind != ipe_analyze::Kind::Unknown);
    (text, definite)
}
