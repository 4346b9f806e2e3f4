//! `ipe test`: runs the test files beside the policies (`*.test.json`, see `docs/testing.md`)
//! on the engines asked for, prints a line per case and a summary like `cargo test`, and
//! measures clause coverage with the reference evaluator's traces ([`crate::coverage`]).

use crate::authoring::{Compiled, Engine, Sources};
use crate::coverage::Coverage;
use anyhow::Context;
use ipe_compile::Report;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The engines a run uses (`--engine`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engines {
    /// The host interpreter.
    Interp,
    /// The host JIT (every policy compiled at load).
    Jit,
    /// The reference evaluator.
    Reference,
    /// All three; any disagreement between them fails the case.
    All,
}

impl Engines {
    fn list(self) -> Vec<Engine> {
        match self {
            Engines::Interp => vec![Engine::Interp],
            Engines::Jit => vec![Engine::Jit],
            Engines::Reference => vec![Engine::Reference],
            Engines::All => vec![Engine::Interp, Engine::Jit, Engine::Reference],
        }
    }
}

/// Text for people or JSON for tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text.
    Text,
    /// JSON.
    Json,
}

/// What `ipe test` was asked.
pub struct TestArgs {
    /// Sources, directories and test files.
    pub paths: Vec<PathBuf>,
    /// Only cases whose full name (`file::case`) contains this text.
    pub filter: Option<String>,
    /// Output format.
    pub format: Format,
    /// Engines.
    pub engines: Engines,
    /// Coverage report format, if any.
    pub coverage: Option<Format>,
    /// Where to write LCOV, if anywhere.
    pub lcov: Option<PathBuf>,
    /// Template instance files.
    pub instances: Vec<PathBuf>,
    /// Data files.
    pub data: Vec<PathBuf>,
    /// The cost budget.
    pub max_cost: u32,
}

/// One test file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    /// What the file tests (documentation only).
    #[serde(default)]
    #[allow(dead_code, reason = "documentation only: accepted, never read")]
    description: Option<String>,
    cases: Vec<Case>,
}

/// One named case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    request: Value,
    #[serde(default)]
    now: Option<Value>,
    #[serde(default)]
    data: Option<Map<String, Value>>,
    expect: Expect,
}

/// What a case expects: the decision, and optionally the lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    decision: Decision,
    #[serde(default)]
    matched: Option<Vec<String>>,
    #[serde(default)]
    violations: Option<Vec<ExpectViolation>>,
    #[serde(default)]
    errors: Option<Vec<ExpectError>>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Decision {
    Allow,
    Deny,
}

/// A violation: the policy's name, or the name and the exact reason.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ExpectViolation {
    Name(String),
    Full(FullViolation),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FullViolation {
    policy: String,
    #[serde(default)]
    reason: Option<String>,
}

/// An error: the policy's name, or the name and the exact error text, or the name and the
/// attribute the error names.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ExpectError {
    Name(String),
    Full(FullError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FullError {
    policy: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    attribute: Option<String>,
}

/// The test files among `paths` and under its directories (sorted), and the other paths
/// (the bundle's sources). A `.ipe` file's sibling `<stem>.test.json` is a test file too.
fn split_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let is_test = |p: &Path| p.to_string_lossy().ends_with(".test.json");
    let mut tests = Vec::new();
    let mut sources = Vec::new();
    for p in paths {
        if is_test(p) {
            tests.push(p.clone());
            continue;
        }
        sources.push(p.clone());
        if p.is_dir() {
            for e in walkdir::WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
            {
                if e.file_type().is_file() && is_test(e.path()) {
                    tests.push(e.path().to_owned());
                }
            }
        } else if p.extension().is_some_and(|e| e == "ipe") {
            let sibling = p.with_extension("test.json");
            if sibling.is_file() {
                tests.push(sibling);
            }
        }
    }
    tests.dedup();
    (tests, sources)
}

/// The result of one case.
struct CaseResult {
    name: String,
    /// Each engine's decision JSON (or its error), in engine order.
    decisions: Vec<(Engine, Result<Report, String>)>,
    /// Why it failed (empty: passed).
    failure: Vec<String>,
}

/// The outcome of a run.
pub struct Outcome {
    /// Standard output.
    pub stdout: String,
    /// Standard error (the case lines when standard output carries coverage JSON).
    pub stderr: String,
    /// Whether every case passed.
    pub passed: bool,
}

/// `ipe test` as a command: runs it, writes its output, and exits 1 when a case failed.
pub fn command(args: &TestArgs) -> anyhow::Result<std::process::ExitCode> {
    use std::io::Write;
    let outcome = run(args)?;
    let _ = std::io::stderr()
        .lock()
        .write_all(outcome.stderr.as_bytes());
    let mut out = std::io::stdout().lock();
    out.write_all(outcome.stdout.as_bytes())
        .and_then(|()| out.flush())
        .context("writing standard output")?;
    Ok(if outcome.passed {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}

/// Runs `ipe test`.
pub fn run(args: &TestArgs) -> anyhow::Result<Outcome> {
    let (test_files, source_paths) = split_paths(&args.paths);
    if test_files.is_empty() {
        anyhow::bail!(
            "no test files: give a directory holding `*.test.json` files, a `.ipe` file with a \
             sibling `<name>.test.json`, or test files themselves (see docs/testing.md)"
        );
    }
    if source_paths.is_empty() {
        anyhow::bail!("no policy sources: give the bundle's `.ipe` files or directories");
    }
    let sources = Sources::read(source_paths, &args.instances, &args.data, args.max_cost)?;
    let mut warnings = String::new();
    let mut warn = |w: &str| {
        let _ = writeln!(warnings, "warning: {w}");
    };
    let mut base = sources.compile_bundle(None, &mut warn)?;
    if args.engines.list().contains(&Engine::Jit) {
        for name in base.jit_fallbacks(args.max_cost)? {
            warn(&format!(
                "--engine jit: policy `{name}` runs on the interpreter (its native compilation \
                 failed)"
            ));
        }
    }
    let mut coverage =
        (args.coverage.is_some() || args.lcov.is_some()).then(|| Coverage::new(&base.program));
    // Programs by data override (its JSON text; "" for none).
    let mut programs: HashMap<String, Compiled> = HashMap::new();
    programs.insert(String::new(), base);
    let engines = args.engines.list();
    let mut results = Vec::new();
    let mut filtered_out = 0usize;
    for tf in &test_files {
        let text =
            std::fs::read_to_string(tf).with_context(|| format!("reading `{}`", tf.display()))?;
        let file: TestFile = serde_json::from_str(&text).with_context(|| {
            format!(
                "`{}` is not a test file (see docs/testing.md)",
                tf.display()
            )
        })?;
        for case in file.cases {
            let name = format!("{}::{}", tf.display(), case.name);
            if args
                .filter
                .as_ref()
                .is_some_and(|f| !name.contains(f.as_str()))
            {
                filtered_out += 1;
                continue;
            }
            results.push(run_case(
                &name,
                tf,
                case,
                &sources,
                &mut programs,
                &engines,
                coverage.as_mut(),
                &mut warn,
            ));
        }
    }
    let failed = results.iter().filter(|r| !r.failure.is_empty()).count();
    let passed = results.len() - failed;
    let mut stdout = String::new();
    let mut stderr = warnings;
    match args.format {
        Format::Json => {
            let mut doc = json!({
                "engines": engines.iter().map(|e| e.name()).collect::<Vec<_>>(),
                "cases": results.iter().map(|r| json!({
                    "name": r.name,
                    "status": if r.failure.is_empty() { "passed" } else { "failed" },
                    "decisions": r.decisions.iter().map(|(e, d)| (e.name().to_owned(), match d {
                        Ok(rep) => serde_json::to_value(rep).unwrap_or(Value::Null),
                        Err(e) => json!({"error": e}),
                    })).collect::<Map<String, Value>>(),
                    "failure": r.failure,
                })).collect::<Vec<_>>(),
                "passed": passed,
                "failed": failed,
                "filtered_out": filtered_out,
            });
            if let (Some(c), Some(obj)) = (&coverage, doc.as_object_mut()) {
                obj.insert("coverage".to_owned(), c.json());
            }
            stdout.push_str(&serde_json::to_string_pretty(&crate::authoring::sorted(
                &doc,
            ))?);
            stdout.push('\n');
        }
        Format::Text => {
            let report = text_report(&results, &engines, passed, failed, filtered_out);
            match (&coverage, args.coverage) {
                (Some(c), Some(Format::Json)) => {
                    // Standard output is the coverage document alone; the report goes to
                    // standard error.
                    stderr.push_str(&report);
                    stdout.push_str(&serde_json::to_string_pretty(&crate::authoring::sorted(
                        &c.json(),
                    ))?);
                    stdout.push('\n');
                }
                (Some(c), Some(Format::Text)) => {
                    stdout.push_str(&report);
                    stdout.push('\n');
                    stdout.push_str(&c.table());
                }
                _ => stdout.push_str(&report),
            }
        }
    }
    if let (Some(c), Some(path)) = (&coverage, &args.lcov) {
        std::fs::write(path, c.lcov()).with_context(|| format!("writing `{}`", path.display()))?;
    }
    Ok(Outcome {
        stdout,
        stderr,
        passed: failed == 0,
    })
}

/// The `cargo test`-like report.
fn text_report(
    results: &[CaseResult],
    engines: &[Engine],
    passed: usize,
    failed: usize,
    filtered_out: usize,
) -> String {
    let mut o = String::new();
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let _ = writeln!(
        o,
        "running {} test{} (engine{} {})",
        results.len(),
        if results.len() == 1 { "" } else { "s" },
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    for r in results {
        let _ = writeln!(
            o,
            "test {} ... {}",
            r.name,
            if r.failure.is_empty() { "ok" } else { "FAILED" }
        );
    }
    if failed > 0 {
        let _ = writeln!(o, "\nfailures:");
        for r in results.iter().filter(|r| !r.failure.is_empty()) {
            let _ = writeln!(o, "\n---- {} ----", r.name);
            for l in &r.failure {
                let _ = writeln!(o, "{l}");
            }
        }
        let _ = writeln!(o, "\nfailures:");
        for r in results.iter().filter(|r| !r.failure.is_empty()) {
            let _ = writeln!(o, "    {}", r.name);
        }
    }
    let _ = writeln!(
        o,
        "\ntest result: {}. {passed} passed, {failed} failed; {filtered_out} filtered out",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    o
}

/// Runs one case on every engine (and, with coverage, a traced reference evaluation).
#[allow(
    clippy::too_many_arguments,
    reason = "one case against the run's shared state"
)]
fn run_case(
    name: &str,
    file: &Path,
    case: Case,
    sources: &Sources,
    programs: &mut HashMap<String, Compiled>,
    engines: &[Engine],
    coverage: Option<&mut Coverage>,
    warn: &mut dyn FnMut(&str),
) -> CaseResult {
    let fail = |why: String| CaseResult {
        name: name.to_owned(),
        decisions: Vec::new(),
        failure: vec![why],
    };
    let mut request = case.request;
    if !request.is_object() {
        return fail("  the case's `request` is not a JSON object".to_owned());
    }
    if let Some(now) = &case.now {
        if let Err(e) = crate::authoring::set_now(&mut request, now) {
            return fail(format!("  `now`: {e}"));
        }
    }
    let key = case
        .data
        .as_ref()
        .map(|d| Value::Object(d.clone()).to_string())
        .unwrap_or_default();
    if !programs.contains_key(&key) {
        let label = format!("{} (data of case `{}`)", file.display(), case.name);
        let compiled = case
            .data
            .as_ref()
            .context("no data override")
            .and_then(|d| sources.compile_bundle(Some((&label, d)), warn));
        match compiled {
            Ok(c) => {
                programs.insert(key.clone(), c);
            }
            Err(e) => return fail(format!("  the case's data does not compile:\n{e:#}")),
        }
    }
    let Some(compiled) = programs.get_mut(&key) else {
        return fail("  internal: no program".to_owned());
    };
    let decisions: Vec<(Engine, Result<Report, String>)> = engines
        .iter()
        .map(|&e| {
            (
                e,
                compiled
                    .decide(e, &request, sources.max_cost)
                    .map_err(|x| format!("{x:#}")),
            )
        })
        .collect();
    if let Some(c) = coverage {
        let (_, traces) = ipe_compile::eval::evaluate_traced(&compiled.program, &request);
        if !c.add(&compiled.program, &traces) {
            warn(&format!(
                "{name}: its data changes the bundle's shape; not counted in coverage"
            ));
        }
    }
    let mut failure = Vec::new();
    if let Some((e0, first)) = decisions.first() {
        match first {
            Ok(rep) => failure.extend(compare(&case.expect, rep)),
            Err(err) => failure.push(format!(
                "  {}: the request got no decision: {err}",
                e0.name()
            )),
        }
        if !failure.is_empty() && decisions.len() > 1 {
            failure.insert(0, format!("  (decision of engine {})", e0.name()));
        }
        for (e, d) in &decisions[1..] {
            let a = first.as_ref().map(Report::to_json);
            let b = d.as_ref().map(Report::to_json);
            if a != b {
                failure.push(format!(
                    "  engines disagree: {} and {}",
                    e0.name(),
                    e.name()
                ));
                failure.push(format!(
                    "  - {}: {}",
                    e0.name(),
                    a.unwrap_or_else(|x| x.clone())
                ));
                failure.push(format!(
                    "  + {}: {}",
                    e.name(),
                    b.unwrap_or_else(|x| x.clone())
                ));
            }
        }
    }
    CaseResult {
        name: name.to_owned(),
        decisions,
        failure,
    }
}

/// The differences between what a case expects and a decision, as diff lines (`-`
/// expected, `+` actual); empty when it matches.
fn compare(expect: &Expect, got: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let decision = match got.effect {
        ipe_nostd::Effect::Allow => Decision::Allow,
        ipe_nostd::Effect::Deny => Decision::Deny,
    };
    let word = |d: Decision| match d {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    };
    if decision != expect.decision {
        out.push("  decision:".to_owned());
        out.push(format!("  - {}", word(expect.decision)));
        out.push(format!("  + {}", word(decision)));
    }
    let mut section = |title: &str, want: Vec<String>, have: Vec<String>, ok: bool| {
        if !ok {
            out.push(format!("  {title}:"));
            out.extend(want.iter().map(|w| format!("  - {w}")));
            if want.is_empty() {
                out.push("  - (none)".to_owned());
            }
            out.extend(have.iter().map(|h| format!("  + {h}")));
            if have.is_empty() {
                out.push("  + (none)".to_owned());
            }
        }
    };
    if let Some(m) = &expect.matched {
        let mut a = m.clone();
        let mut b = got.matched.clone();
        a.sort();
        b.sort();
        section("matched", m.clone(), got.matched.clone(), a == b);
    }
    if let Some(v) = &expect.violations {
        let want: Vec<(String, Option<String>)> = v
            .iter()
            .map(|x| match x {
                ExpectViolation::Name(n) => (n.clone(), None),
                ExpectViolation::Full(f) => (f.policy.clone(), f.reason.clone()),
            })
            .collect();
        let have: Vec<(String, String)> = got
            .violations
            .iter()
            .map(|x| (x.policy.clone(), x.reason.clone()))
            .collect();
        let ok = same(&want, &have, |w, h| {
            w.0 == h.0 && w.1.as_ref().is_none_or(|r| *r == h.1)
        });
        section(
            "violations",
            want.iter()
                .map(|(p, r)| match r {
                    Some(r) => format!("{p}: {r}"),
                    None => p.clone(),
                })
                .collect(),
            have.iter().map(|(p, r)| format!("{p}: {r}")).collect(),
            ok,
        );
    }
    if let Some(v) = &expect.errors {
        let want: Vec<(String, Option<String>, Option<String>)> = v
            .iter()
            .map(|x| match x {
                ExpectError::Name(n) => (n.clone(), None, None),
                ExpectError::Full(f) => (f.policy.clone(), f.error.clone(), f.attribute.clone()),
            })
            .collect();
        let have: Vec<(String, String)> = got
            .errors
            .iter()
            .map(|x| (x.policy.clone(), x.error.clone()))
            .collect();
        let ok = same(&want, &have, |w, h| {
            w.0 == h.0
                && w.1.as_ref().is_none_or(|e| *e == h.1)
                && w.2.as_ref().is_none_or(|a| names_attribute(&h.1, a))
        });
        section(
            "errors",
            want.iter()
                .map(|(p, e, a)| match (e, a) {
                    (Some(e), _) => format!("{p}: {e}"),
                    (None, Some(a)) => format!("{p}: (an error naming `{a}`)"),
                    (None, None) => p.clone(),
                })
                .collect(),
            have.iter().map(|(p, e)| format!("{p}: {e}")).collect(),
            ok,
        );
    }
    out
}

/// Whether error text `e` names attribute `a` (errors quote the path: `` `a` ``).
fn names_attribute(e: &str, a: &str) -> bool {
    e.contains(&format!("`{a}`"))
}

/// Whether `want` and `have` pair up one to one under `eq`, in any order.
fn same<W, H>(want: &[W], have: &[H], eq: impl Fn(&W, &H) -> bool) -> bool {
    if want.len() != have.len() {
        return false;
    }
    let mut used = vec![false; have.len()];
    want.iter().all(
        |w| match (0..have.len()).find(|&i| !used[i] && eq(w, &have[i])) {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        },
    )
}
