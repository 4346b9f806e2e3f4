//! Findings as rustc-style text and as JSON.

use crate::{Analysis, Finding, Kind};
use ipe_compile::hir::{Body, Program};
use ipe_compile::source;

/// Where a finding points: file name, its text, byte range.
struct Loc {
    file: String,
    text: String,
    start: usize,
    end: usize,
}

/// The byte range of `clause` (whitespace-collapsed source text) in `text` from `from` on.
fn find_clause(text: &str, from: usize, clause: &str) -> Option<(usize, usize)> {
    let words: Vec<&str> = clause.split_whitespace().collect();
    let first = *words.first()?;
    let mut at = from;
    while let Some(i) = text.get(at..)?.find(first) {
        let start = at + i;
        let mut pos = start;
        let mut ok = true;
        for (k, w) in words.iter().enumerate() {
            if k > 0 {
                let rest = text.get(pos..)?;
                let skipped = rest.len() - rest.trim_start().len();
                pos += skipped;
            }
            if text.get(pos..)?.starts_with(w) {
                pos += w.len();
            } else {
                ok = false;
                break;
            }
        }
        if ok {
            return Some((start, pos));
        }
        at = start + first.len();
    }
    None
}

fn locate(
    program: &Program,
    f: &Finding,
    sources: &dyn Fn(usize) -> Option<String>,
) -> Option<Loc> {
    let p = program.policies.get(f.policy?)?;
    let file = usize::from(p.span.file);
    let text = sources(file)?;
    let (mut start, mut end) = (p.span.start as usize, p.span.end as usize);
    if let (Some(ci), Body::Requires { clauses, .. }) = (f.clause, &p.body) {
        if let Some((s, e)) = clauses
            .get(ci)
            .and_then(|c| find_clause(&text, start, &c.text))
        {
            (start, end) = (s, e);
        }
    }
    if start > text.len() || end > text.len() || start > end {
        return None;
    }
    Some(Loc {
        file: program.files.get(file)?.clone(),
        text,
        start,
        end,
    })
}

/// `(file, line, column)` of a finding, one-based.
fn position(
    program: &Program,
    f: &Finding,
    sources: &dyn Fn(usize) -> Option<String>,
) -> Option<(String, usize, usize)> {
    let loc = locate(program, f, sources)?;
    let (l, c) = source::line_col(&loc.text, loc.start);
    Some((loc.file, l, c))
}

/// Renders findings like rustc: `warning[IPE-A001]: ...`, the location, the source line with
/// an underline, the help, the other policy, the witness request; then a summary line.
/// `sources` gives the text of a file of the program by index.
pub fn render_text(
    program: &Program,
    analysis: &Analysis,
    sources: &dyn Fn(usize) -> Option<String>,
) -> String {
    let mut out = String::new();
    for f in &analysis.findings {
        let level = if f.kind == Kind::Unknown {
            "note"
        } else {
            "warning"
        };
        out.push_str(&format!("{level}[{}]: {}\n", f.kind.code(), f.message));
        let gutter;
        if let Some(loc) = locate(program, f, sources) {
            let (line, col) = source::line_col(&loc.text, loc.start);
            let ls = source::line_start(&loc.text, loc.start);
            let le = source::line_end(&loc.text, loc.start);
            let src_line = source::printable(loc.text.get(ls..le).unwrap_or(""));
            let width = loc
                .text
                .get(loc.start..loc.end.min(le).max(loc.start))
                .unwrap_or("")
                .chars()
                .count()
                .max(1);
            gutter = " ".repeat(line.to_string().len());
            out.push_str(&format!(
                "{gutter}--> {}:{line}:{col}\n{gutter} |\n{line} | {src_line}\n{gutter} | {}{}\n",
                loc.file,
                " ".repeat(col.saturating_sub(1)),
                "^".repeat(width)
            ));
        } else {
            gutter = String::new();
        }
        if let Some(o) = f.other.and_then(|o| program.policies.get(o)) {
            let other = Finding {
                policy: f.other,
                clause: None,
                ..f.clone()
            };
            if let Some((file, l, c)) = position(program, &other, sources) {
                out.push_str(&format!(
                    "{gutter} = note: `{}` is at {file}:{l}:{c}\n",
                    o.name
                ));
            }
        }
        if let Some(h) = &f.help {
            out.push_str(&format!("{gutter} = help: {h}\n"));
        }
        if let Some(n) = &f.note {
            out.push_str(&format!("{gutter} = note: {n}\n"));
        }
        if let Some(w) = &f.witness {
            out.push_str(&format!("{gutter} = witness: {w}\n"));
        }
        out.push('\n');
    }
    let (unknown, definite): (Vec<&Finding>, Vec<&Finding>) = analysis
        .findings
        .iter()
        .partition(|f| f.kind == Kind::Unknown);
    out.push_str(&format!(
        "analyzed {} policies: {} findings, {} unknown\n",
        program.policies.len(),
        definite.len(),
        unknown.len()
    ));
    out
}

/// The findings as one JSON object: `{"findings": [...], "summary": {...}}`.
pub fn to_json(
    program: &Program,
    analysis: &Analysis,
    sources: &dyn Fn(usize) -> Option<String>,
) -> serde_json::Value {
    let name = |i: Option<usize>| {
        i.and_then(|i| program.policies.get(i))
            .map(|p| serde_json::Value::String(p.name.as_str().to_owned()))
            .unwrap_or(serde_json::Value::Null)
    };
    let findings: Vec<serde_json::Value> = analysis
        .findings
        .iter()
        .map(|f| {
            let clause = match (f.policy.and_then(|p| program.policies.get(p)), f.clause) {
                (Some(p), Some(ci)) => match &p.body {
                    Body::Requires { clauses, .. } => clauses
                        .get(ci)
                        .map(|c| serde_json::Value::String(c.text.as_str().to_owned()))
                        .unwrap_or(serde_json::Value::Null),
                    Body::Denies { .. } => serde_json::Value::Null,
                },
                _ => serde_json::Value::Null,
            };
            let pos = position(program, f, sources);
            serde_json::json!({
                "code": f.kind.code(),
                "kind": f.kind.name(),
                "message": f.message,
                "policy": name(f.policy),
                "other": name(f.other),
                "clause": clause,
                "file": pos.as_ref().map(|p| p.0.clone()),
                "line": pos.as_ref().map(|p| p.1),
                "column": pos.as_ref().map(|p| p.2),
                "help": f.help,
                "note": f.note,
                "witness": f.witness,
            })
        })
        .collect();
    let unknown = analysis
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Unknown)
        .count();
    serde_json::json!({
        "findings": findings,
        "summary": {
            "policies": program.policies.len(),
            "findings": analysis.findings.len() - unknown,
            "unknown": unknown,
            "queries": analysis.queries,
        },
    })
}
