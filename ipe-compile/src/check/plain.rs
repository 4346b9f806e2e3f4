//! Which policies the two syntax-tree expansions before checking leave unchanged (issue #15,
//! compile time): [`super::inline::expand`] (defs, templates, several-list aggregates) and
//! [`super::consts::expand`] (constants, data files, set operators, lookups). A policy these
//! predicates call plain is moved to the next stage as parsed instead of being copied node by
//! node, and it is left out of the expansion entirely.
//!
//! The predicates are conservative: `true` only where the expansion is known to return an
//! equal tree and report nothing (any form not listed, including forms added later, is not
//! plain and takes the full expansion). `tests::plain_policies_expand_to_themselves` checks
//! them against both expansions on every source of the corpus and the examples.

use crate::ast::{self, DataRef, Expr, ExprKind, Name};

/// The first `.`-separated segment of a path (what both expansions look names up by).
fn first_segment(n: &Name) -> &str {
    n.text.split('.').next().unwrap_or("")
}

/// `x` over the operands of a form both expansions only recurse through (operators,
/// parentheses, comparisons, `where`, `in [..]`): whether all are plain; `None` for another
/// form, which each predicate decides itself. Generic and inlined into each predicate
/// (issue #15: a call through `dyn Fn` per operand otherwise).
#[inline]
fn structural(e: &Expr, x: &impl Fn(&Expr) -> bool) -> Option<bool> {
    Some(match &e.kind {
        ExprKind::Paren(a) | ExprKind::Not(a) | ExprKind::Len(a) | ExprKind::Lower(a) => x(a),
        ExprKind::TimePart { arg, .. } => x(arg),
        ExprKind::TimeArith { lhs, rhs, .. }
        | ExprKind::Coalesce { lhs, rhs, .. }
        | ExprKind::Str { lhs, rhs, .. } => x(lhs) && x(rhs),
        ExprKind::Cmp { sides, .. } => x(&sides[0]) && x(&sides[1]),
        ExprKind::Where { expr, filter, .. } => x(expr) && x(filter),
        ExprKind::And(xs)
        | ExprKind::Or(xs)
        | ExprKind::CountLists(xs)
        | ExprKind::Segment(xs)
        | ExprKind::Arith { args: xs, .. } => xs.iter().all(x),
        ExprKind::InSet { lhs, .. } => x(lhs),
        _ => return None,
    })
}

/// Whether [`super::inline::expand`] leaves policy `p` (at the top level of a file) as it is,
/// `is_def` telling the names of defs (valid or not; `None` when the bundle has no def).
pub(crate) fn inline_plain(p: &ast::Policy, is_def: Option<&dyn Fn(&str) -> bool>) -> bool {
    // Adjacent text parts of a reason template are merged by the expansion.
    let merged = p.reason_template.as_ref().is_some_and(|parts| {
        parts
            .windows(2)
            .any(|w| matches!(w, [ast::ReasonPart::Text(_), ast::ReasonPart::Text(_)]))
    });
    !merged
        && p.trigger.as_ref().is_none_or(|t| inline_expr(t, is_def))
        && match &p.body {
            ast::Body::Requires { expr, .. } => inline_expr(expr, is_def),
            ast::Body::Denies { .. } | ast::Body::Permits { .. } => true,
        }
}

fn inline_expr(e: &Expr, is_def: Option<&dyn Fn(&str) -> bool>) -> bool {
    let x = |e: &Expr| inline_expr(e, is_def);
    let name = |n: &Name| is_def.is_none_or(|is_def| !is_def(first_segment(n)));
    if let Some(plain) = structural(e, &x) {
        return plain;
    }
    match &e.kind {
        ExprKind::Lit(_) | ExprKind::TimeLit { .. } | ExprKind::Now => true,
        // The expanded path takes its name's span (the parser's list equality gives the
        // element paths the span of the whole comparison).
        ExprKind::Path(n) => name(n) && n.span == e.span,
        ExprKind::Has(n) => name(n),
        ExprKind::Lookup(l) => x(&l.key),
        ExprKind::InPath { lhs, list } => x(lhs) && name(list),
        ExprKind::SetOp { lhs, rhs: data, .. } | ExprKind::InData { lhs, data } => {
            x(lhs)
                && match &**data {
                    DataRef::Lits(..)
                    | DataRef::Name(_)
                    | DataRef::Key(..)
                    | DataRef::Under(..) => true,
                    DataRef::Of(_, v) | DataRef::KeyOf(_, v) | DataRef::Closure(_, _, v) => x(v),
                }
        }
        ExprKind::Agg { list, filter, .. } => name(list) && filter.as_deref().is_none_or(x),
        ExprKind::MapAgg { map, filter, .. } => name(map) && filter.as_deref().is_none_or(x),
        // A call is a def (or an error); several lists become one aggregate per list.
        ExprKind::Call { .. } | ExprKind::AggLists { .. } => false,
        #[allow(
            unreachable_patterns,
            reason = "forms added to the syntax tree later are not plain until listed"
        )]
        _ => false,
    }
}

/// What [`consts_plain`] needs to know about the bundle's constants.
pub(crate) struct ConstNames<'a> {
    /// Whether a name is a constant's (`None` when the bundle has no constant).
    pub is_const: Option<&'a dyn Fn(&str) -> bool>,
    /// Whether a name is a first segment of a schema path or an element name (the schema's
    /// heads; `true` for every name without a schema).
    pub is_head: &'a dyn Fn(&str) -> bool,
    /// Whether some constant is a map of lists (a misspelled one is reported after `in`).
    pub maps: bool,
}

/// Whether [`super::consts::expand`] leaves policy `p` as it is.
pub(crate) fn consts_plain(p: &ast::Policy, c: &ConstNames<'_>) -> bool {
    // `{M[y]}` naming a map constant (session 11) gets its table.
    let holes = p.reason_template.as_ref().is_none_or(|parts| {
        parts.iter().all(|part| match part {
            ast::ReasonPart::Hole { path, .. } => super::reason_entry::split(path)
                .is_none_or(|(m, _, _)| c.is_const.is_none_or(|f| !f(m))),
            _ => true,
        })
    });
    holes
        && p.trigger.as_ref().is_none_or(|t| consts_expr(t, c))
        && match &p.body {
            ast::Body::Requires { expr, .. } => consts_expr(expr, c),
            ast::Body::Denies { .. } | ast::Body::Permits { .. } => true,
        }
}

fn consts_expr(e: &Expr, c: &ConstNames<'_>) -> bool {
    let x = |e: &Expr| consts_expr(e, c);
    let is_const = |name: &str| c.is_const.is_some_and(|f| f(name));
    // A list after `in` or of an aggregate: not a constant, and no misspelled map constant.
    let list = |n: &Name| {
        let first = first_segment(n);
        !n.text.contains('[') && !is_const(first) && (!c.maps || (c.is_head)(first))
    };
    if let Some(plain) = structural(e, &x) {
        return plain;
    }
    match &e.kind {
        ExprKind::Lit(_)
        | ExprKind::Call { .. }
        | ExprKind::AggLists { .. }
        | ExprKind::TimeLit { .. }
        | ExprKind::Now => true,
        ExprKind::Path(n) => {
            !n.text.contains('[') && (c.is_const.is_none() || !is_const(first_segment(n)))
        }
        ExprKind::Has(n) => {
            c.is_const.is_none() || !is_const(n.text.split(['.', '[']).next().unwrap_or(""))
        }
        ExprKind::InPath { lhs, list: l } => x(lhs) && list(l),
        ExprKind::Agg {
            list: l, filter, ..
        } => list(l) && filter.as_deref().is_none_or(x),
        ExprKind::MapAgg { filter, .. } => filter.as_deref().is_none_or(x),
        // Lookups, set operators and data selections are always rewritten.
        ExprKind::Lookup(_) | ExprKind::SetOp { .. } | ExprKind::InData { .. } => false,
        #[allow(
            unreachable_patterns,
            reason = "forms added to the syntax tree later are not plain until listed"
        )]
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{consts, inline, SourceFile};
    use std::path::{Path, PathBuf};

    /// Every bundle of the corpus (one `.ipe` file, with its sibling data file) and of
    /// `examples/` (one directory).
    fn bundles() -> Vec<(Vec<PathBuf>, Option<PathBuf>)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut out = Vec::new();
        let mut dirs = vec![root.join("tests/corpus")];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "ipe") {
                    let data = p.with_extension("data.json");
                    out.push((vec![p], data.exists().then_some(data)));
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(root.join("examples")) {
            for e in entries.flatten() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(e.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|f| f.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "ipe"))
                    .collect();
                files.sort();
                if !files.is_empty() {
                    out.push((files, None));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn plain_policies_expand_to_themselves() {
        let (mut plain_inline, mut plain_consts, mut policies) = (0, 0, 0);
        let mut bad = Vec::new();
        let all = bundles();
        assert!(all.len() > 300, "corpus found: {}", all.len());
        for (paths, data) in all {
            let texts: Vec<(String, String)> = paths
                .iter()
                .map(|p| {
                    let text = std::fs::read_to_string(p).expect("reads");
                    (p.display().to_string(), text)
                })
                .collect();
            let asts: Vec<crate::ast::File> = texts
                .iter()
                .map(|(_, t)| crate::parser::parse_file(t).0)
                .collect();
            policies += asts
                .iter()
                .flat_map(|a| &a.items)
                .filter(|i| matches!(i, crate::ast::Item::Policy(_)))
                .count();
            let files: Vec<SourceFile<'_>> = texts
                .iter()
                .zip(&asts)
                .map(|((name, text), ast)| SourceFile { name, text, ast })
                .collect();
            let (n, b) = inline::plain_mismatches(&files);
            plain_inline += n;
            bad.extend(b.into_iter().map(|p| format!("inline: {p} in {paths:?}")));
            let expanded = inline::expand(&files, &[]);
            drop(files);
            let expanded = expanded.apply(asts);
            let data_text = data.map(|d| std::fs::read_to_string(&d).expect("reads"));
            let sources: Vec<consts::DataSource<'_>> = data_text
                .iter()
                .map(|text| consts::DataSource { name: "data", text })
                .collect();
            let names: Vec<consts::SourceText<'_>> = texts
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            let (n, b) = consts::plain_mismatches(&names, &expanded.files, &sources);
            plain_consts += n;
            bad.extend(b.into_iter().map(|p| format!("consts: {p} in {paths:?}")));
        }
        assert!(
            bad.is_empty(),
            "plain policies changed by expansion: {bad:#?}"
        );
        // Most policies of the corpus are plain: the fast path is exercised.
        assert!(
            plain_inline * 2 > policies && plain_consts * 2 > policies,
            "{plain_inline} and {plain_consts} plain of {policies}"
        );
    }
}
