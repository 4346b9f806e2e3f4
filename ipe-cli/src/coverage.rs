//! `ipe test`'s clause coverage: per policy and per condition (the trigger, its `and`
//! conjuncts, each `requires` clause, each aggregate filter), how often the suite's requests
//! made it true, false and an error, counted from the reference evaluator's traces
//! ([`ipe_compile::trace`]); rendered as a table, JSON and LCOV with source lines.

use ipe_compile::eval::Truth;
use ipe_compile::hir::{self, Body, Expr};
use ipe_compile::trace::{self, ItemKind, PolicyTrace, Site};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write;

/// The counts of one condition.
#[derive(Clone, Debug)]
pub struct ItemCoverage {
    /// What it is.
    pub kind: ItemKind,
    /// Its text (for clauses, as written; else rendered from the checked program).
    pub text: String,
    /// Source line (1-based) of the condition, or of its policy when it cannot be located.
    pub line: usize,
    /// Whether an error is possible (it reads a request value).
    pub can_error: bool,
    /// The constant value of a constant condition (e.g. the clause of `permits`).
    pub constant: Option<bool>,
    /// Times true.
    pub t: u64,
    /// Times false.
    pub f: u64,
    /// Times an error.
    pub e: u64,
}

impl ItemCoverage {
    /// The outcomes the suite did not see, among those possible (`true`, `false`, `error`).
    pub fn missing(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if self.t == 0 && self.constant != Some(false) {
            m.push("true");
        }
        if self.f == 0 && self.constant != Some(true) {
            m.push("false");
        }
        if self.e == 0 && self.can_error {
            m.push("error");
        }
        m
    }

    /// A short label: `trigger`, `trigger[2]`, `clause 1`, `filter 1` (1-based).
    pub fn label(&self) -> String {
        match self.kind {
            ItemKind::Trigger => "trigger".to_owned(),
            ItemKind::TriggerConjunct(i) => format!("trigger.{}", i + 1),
            ItemKind::Clause(i) => format!("clause {}", i + 1),
            ItemKind::AggregateFilter(i) => format!("filter {}", i + 1),
        }
    }
}

/// The coverage of one policy.
#[derive(Clone, Debug)]
pub struct PolicyCoverage {
    /// Its name.
    pub name: String,
    /// Its source file.
    pub file: String,
    /// The line of its name.
    pub line: usize,
    /// Requests for which it applied, did not apply, and was an error (its trigger's value;
    /// true without a trigger), and for which it was not evaluated (an earlier rule of its
    /// first-match group decided).
    pub applies: [u64; 4],
    /// Its conditions.
    pub items: Vec<ItemCoverage>,
}

/// A suite's coverage of one program.
pub struct Coverage {
    /// One entry per policy, in bundle order.
    pub policies: Vec<PolicyCoverage>,
}

/// Source text of the program's files, by index.
fn texts(program: &hir::Program) -> Vec<String> {
    program
        .files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect()
}

/// The line of byte `offset` of file `file`.
fn line_of(texts: &[String], file: u16, offset: usize) -> usize {
    texts
        .get(usize::from(file))
        .map_or(1, |t| ipe_compile::source::line_col(t, offset).0)
}

/// Without parentheses.
fn unparen(e: &ipe_compile::ast::Expr) -> &ipe_compile::ast::Expr {
    match &e.kind {
        ipe_compile::ast::ExprKind::Paren(x) => unparen(x),
        _ => e,
    }
}

/// Byte offsets of a policy's trigger conjuncts (or whole trigger) and clauses, from its
/// syntax tree (`None` each when the checked program's shape differs, e.g. after a `def`
/// expanded).
struct Spans {
    trigger: Option<usize>,
    conjuncts: Vec<usize>,
    clauses: Vec<usize>,
}

fn spans(text: &str, name: &str, policy: &hir::Policy) -> Option<Spans> {
    let (file, _) = ipe_compile::parser::parse_file(text);
    let p = file.items.iter().find_map(|i| match i {
        ipe_compile::ast::Item::Policy(p) if p.name.text == name => Some(p),
        ipe_compile::ast::Item::Group(g) => g.policies.iter().find(|p| p.name.text == name),
        _ => None,
    })?;
    let mut s = Spans {
        trigger: None,
        conjuncts: Vec::new(),
        clauses: Vec::new(),
    };
    if let (Some(t), Some(ht)) = (&p.trigger, &policy.trigger) {
        let t = unparen(t);
        s.trigger = Some(t.span.start);
        if let (ipe_compile::ast::ExprKind::And(xs), Expr::And(hs)) = (&t.kind, ht) {
            if xs.len() == hs.len() {
                s.conjuncts = xs.iter().map(|x| x.span.start).collect();
            }
        }
    }
    if let (ipe_compile::ast::Body::Requires { expr, .. }, Body::Requires { clauses, .. }) =
        (&p.body, &policy.body)
    {
        let e = unparen(expr);
        match &e.kind {
            ipe_compile::ast::ExprKind::And(xs) if xs.len() == clauses.len() => {
                s.clauses = xs.iter().map(|x| x.span.start).collect();
            }
            _ if clauses.len() == 1 => s.clauses = vec![e.span.start],
            _ => {}
        }
    }
    Some(s)
}

impl Coverage {
    /// Empty coverage of `program`'s policies.
    pub fn new(program: &hir::Program) -> Coverage {
        let texts = texts(program);
        let policies = program
            .policies
            .iter()
            .map(|p| {
                let file = usize::from(p.span.file);
                let text = texts.get(file).map_or("", String::as_str);
                let line = line_of(&texts, p.span.file, p.span.start as usize);
                let sp = spans(text, &p.name, p);
                let at = |o: Option<usize>| o.map_or(line, |o| line_of(&texts, p.span.file, o));
                // The line of each root condition, to place the aggregate filters inside it.
                let mut filter_lines = Vec::new();
                let mut push_filters = |e: &Expr, l: usize| {
                    let mut fs = Vec::new();
                    trace::aggregate_filters(e, &mut fs);
                    filter_lines.extend(fs.iter().map(|_| l));
                };
                if let Some(t) = &p.trigger {
                    match (t, sp.as_ref()) {
                        (Expr::And(xs), Some(s)) if s.conjuncts.len() == xs.len() => {
                            for (x, o) in xs.iter().zip(&s.conjuncts) {
                                push_filters(x, at(Some(*o)));
                            }
                        }
                        _ => push_filters(t, at(sp.as_ref().and_then(|s| s.trigger))),
                    }
                }
                if let Body::Requires { clauses, .. } = &p.body {
                    for (i, c) in clauses.iter().enumerate() {
                        push_filters(
                            &c.expr,
                            at(sp.as_ref().and_then(|s| s.clauses.get(i).copied())),
                        );
                    }
                }
                let items = trace::items(p)
                    .into_iter()
                    .map(|it| {
                        let (text, l) = match it.kind {
                            ItemKind::Trigger => (
                                trace::expr_text(program, it.expr),
                                at(sp.as_ref().and_then(|s| s.trigger)),
                            ),
                            ItemKind::TriggerConjunct(i) => (
                                trace::expr_text(program, it.expr),
                                at(sp.as_ref().and_then(|s| s.conjuncts.get(i).copied())),
                            ),
                            ItemKind::Clause(i) => (
                                match &p.body {
                                    Body::Requires { clauses, .. } => {
                                        clauses[i].text.as_str().to_owned()
                                    }
                                    Body::Denies { .. } => String::new(),
                                },
                                at(sp.as_ref().and_then(|s| s.clauses.get(i).copied())),
                            ),
                            ItemKind::AggregateFilter(i) => (
                                trace::expr_text(program, it.expr),
                                filter_lines.get(i).copied().unwrap_or(line),
                            ),
                        };
                        ItemCoverage {
                            kind: it.kind,
                            text,
                            line: l,
                            can_error: it.can_error,
                            constant: match it.expr {
                                Expr::Const(b) => Some(*b),
                                _ => None,
                            },
                            t: 0,
                            f: 0,
                            e: 0,
                        }
                    })
                    .collect();
                PolicyCoverage {
                    name: p.name.as_str().to_owned(),
                    file: program.files.get(file).cloned().unwrap_or_default(),
                    line,
                    applies: [0; 4],
                    items,
                }
            })
            .collect();
        Coverage { policies }
    }

    /// Counts one traced evaluation of `program` (the program these counts describe, or one
    /// compiled from the same sources with other data: same policies, same conditions).
    /// Returns false (counting nothing) when the program's shape differs.
    pub fn add(&mut self, program: &hir::Program, traces: &[PolicyTrace<'_>]) -> bool {
        if program.policies.len() != self.policies.len() {
            return false;
        }
        // Each condition's address in this program, to its (policy, item).
        let mut at: HashMap<*const Expr, (usize, usize)> = HashMap::new();
        for (pi, p) in program.policies.iter().enumerate() {
            let items = trace::items(p);
            if items.len() != self.policies[pi].items.len() {
                return false;
            }
            for (ii, it) in items.iter().enumerate() {
                at.entry(std::ptr::from_ref(it.expr)).or_insert((pi, ii));
            }
        }
        for pt in traces {
            let Some(pc) = self.policies.get_mut(pt.policy) else {
                continue;
            };
            let slot = match pt.applies {
                None => 3,
                Some(Truth::True) => 0,
                Some(Truth::False) => 1,
                Some(Truth::Error(_)) => 2,
            };
            pc.applies[slot] += 1;
            for root in pt.trigger.iter().chain(&pt.clauses) {
                root.walk(&mut |n| {
                    let Site::Expr(e) = n.site else { return };
                    let Some(&(pi, ii)) = at.get(&std::ptr::from_ref(e)) else {
                        return;
                    };
                    if let Some(item) = self.policies.get_mut(pi).and_then(|p| p.items.get_mut(ii))
                    {
                        match n.truth {
                            Truth::True => item.t += 1,
                            Truth::False => item.f += 1,
                            Truth::Error(_) => item.e += 1,
                        }
                    }
                });
            }
        }
        true
    }

    /// Conditions with an outcome the suite never saw, as `(policy, item)`.
    pub fn uncovered(&self) -> Vec<(&PolicyCoverage, &ItemCoverage)> {
        self.policies
            .iter()
            .flat_map(|p| p.items.iter().map(move |i| (p, i)))
            .filter(|(_, i)| !i.missing().is_empty())
            .collect()
    }

    /// (covered outcomes, possible outcomes) over every condition.
    pub fn totals(&self) -> (usize, usize) {
        let mut seen = 0;
        let mut all = 0;
        for i in self.policies.iter().flat_map(|p| &p.items) {
            let possible = usize::from(i.constant != Some(false))
                + usize::from(i.constant != Some(true))
                + usize::from(i.can_error);
            all += possible;
            seen += possible - i.missing().len();
        }
        (seen, all)
    }

    /// The table for people: a row per policy and per condition with its true / false /
    /// error counts, then the uncovered conditions with their source lines.
    pub fn table(&self) -> String {
        let mut o = String::new();
        let (seen, all) = self.totals();
        let _ = writeln!(
            o,
            "coverage: {seen}/{all} condition outcomes seen ({})",
            percent(seen, all)
        );
        let _ = writeln!(
            o,
            "  {:<44} {:>6} {:>6} {:>6}  line",
            "policy / condition", "true", "false", "error"
        );
        for p in &self.policies {
            let _ = writeln!(
                o,
                "  {:<44} {:>6} {:>6} {:>6}  {}:{}{}",
                clip(&p.name, 44),
                p.applies[0],
                p.applies[1],
                p.applies[2],
                p.file,
                p.line,
                if p.applies[3] > 0 {
                    format!(" ({} not evaluated: first-match)", p.applies[3])
                } else {
                    String::new()
                }
            );
            for i in &p.items {
                let cell = |n: u64, possible: bool| {
                    if possible {
                        n.to_string()
                    } else {
                        "-".to_owned()
                    }
                };
                let _ = writeln!(
                    o,
                    "    {:<42} {:>6} {:>6} {:>6}  {}",
                    clip(&format!("{}: {}", i.label(), i.text), 42),
                    cell(i.t, i.constant != Some(false)),
                    cell(i.f, i.constant != Some(true)),
                    cell(i.e, i.can_error),
                    i.line
                );
            }
        }
        let unc = self.uncovered();
        if unc.is_empty() {
            let _ = writeln!(
                o,
                "every condition was seen true, false and (where possible) error"
            );
        } else {
            let _ = writeln!(o, "uncovered ({}):", unc.len());
            for (p, i) in unc {
                let _ = writeln!(
                    o,
                    "  {}:{}: {} {}: never {}: {}",
                    p.file,
                    i.line,
                    p.name,
                    i.label(),
                    i.missing().join(", never "),
                    i.text
                );
            }
        }
        o
    }

    /// The coverage as JSON (see `docs/testing.md`).
    pub fn json(&self) -> Value {
        let (seen, all) = self.totals();
        json!({
            "outcomes_seen": seen,
            "outcomes_possible": all,
            "policies": self.policies.iter().map(|p| json!({
                "policy": p.name,
                "file": p.file,
                "line": p.line,
                "applies": {"true": p.applies[0], "false": p.applies[1], "error": p.applies[2],
                            "not_evaluated": p.applies[3]},
                "conditions": p.items.iter().map(|i| json!({
                    "condition": i.label(),
                    "text": i.text,
                    "line": i.line,
                    "true": i.t,
                    "false": i.f,
                    "error": i.e,
                    "can_error": i.can_error,
                    "missing": i.missing(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// LCOV: per source file, a function per policy (hit when it applied), a line per
    /// condition (hit when evaluated) and three branches per condition (true, false, error;
    /// `-` when never evaluated).
    pub fn lcov(&self) -> String {
        let mut o = String::from("TN:ipe\n");
        let mut files: Vec<&str> = self.policies.iter().map(|p| p.file.as_str()).collect();
        files.dedup();
        let mut seen_files = Vec::new();
        for f in files {
            if seen_files.contains(&f) {
                continue;
            }
            seen_files.push(f);
            let ps: Vec<&PolicyCoverage> = self.policies.iter().filter(|p| p.file == f).collect();
            let _ = writeln!(o, "SF:{f}");
            for p in &ps {
                let _ = writeln!(o, "FN:{},{}", p.line, p.name);
            }
            for p in &ps {
                let _ = writeln!(o, "FNDA:{},{}", p.applies[0], p.name);
            }
            let _ = writeln!(o, "FNF:{}", ps.len());
            let _ = writeln!(o, "FNH:{}", ps.iter().filter(|p| p.applies[0] > 0).count());
            // One line entry per source line (conditions sharing a line add up).
            let mut lines: Vec<(usize, u64)> = Vec::new();
            let (mut brf, mut brh) = (0, 0);
            for (block, (p, i)) in ps
                .iter()
                .flat_map(|p| p.items.iter().map(move |i| (p, i)))
                .enumerate()
            {
                let _ = p;
                let evaluated = i.t + i.f + i.e;
                let possible = [
                    (i.constant != Some(false), i.t),
                    (i.constant != Some(true), i.f),
                    (i.can_error, i.e),
                ];
                for (branch, (ok, n)) in possible.iter().enumerate() {
                    if !ok {
                        continue;
                    }
                    brf += 1;
                    if *n > 0 {
                        brh += 1;
                    }
                    let taken = if evaluated == 0 {
                        "-".to_owned()
                    } else {
                        n.to_string()
                    };
                    let _ = writeln!(o, "BRDA:{},{block},{branch},{taken}", i.line);
                }
                match lines.iter_mut().find(|(l, _)| *l == i.line) {
                    Some((_, hits)) => *hits += evaluated,
                    None => lines.push((i.line, evaluated)),
                }
            }
            let _ = writeln!(o, "BRF:{brf}");
            let _ = writeln!(o, "BRH:{brh}");
            lines.sort_unstable();
            for (l, hits) in &lines {
                let _ = writeln!(o, "DA:{l},{hits}");
            }
            let _ = writeln!(o, "LF:{}", lines.len());
            let _ = writeln!(o, "LH:{}", lines.iter().filter(|(_, h)| *h > 0).count());
            o.push_str("end_of_record\n");
        }
        o
    }
}

fn percent(seen: usize, all: usize) -> String {
    if all == 0 {
        "100.0%".to_owned()
    } else {
        format!("{:.1}%", seen as f64 * 100.0 / all as f64)
    }
}

/// `s` cut to `n` chars (with `...` when cut).
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut c: String = s.chars().take(n.saturating_sub(3)).collect();
        c.push_str("...");
        c
    }
}
