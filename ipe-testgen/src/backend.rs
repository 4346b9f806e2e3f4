//! Every engine behind one [`Backend`] trait, and the one differential loop ([`compare`],
//! [`check_cases`]) that every test and fuzz oracle of the workspace runs.
//!
//! The backends: the reference evaluator ([`Reference`], the oracle), the bytecode interpreter
//! of `ipe-nostd` ([`Interp`]), the host engine in any tier mode ([`Host`]) and, with the `jit`
//! feature, the JIT's compiled sets at either tier (`Jit`).

#[cfg(feature = "jit")]
use bumpalo::Bump;
use ipe_compile::hir::Program;
use ipe_host::{EngineOptions, PolicyEngine};
use ipe_nostd::Bundle;
use serde_json::Value as Json;

use crate::corpus::{CompiledFile, Expect};

/// One way to decide a request: the rendered decision JSON, or why there is none.
pub trait Backend {
    /// The name used in disagreement reports.
    fn name(&self) -> &str;
    /// The decision JSON for `request`, or a description of what went wrong.
    fn decide(&self, request: &Json) -> Result<String, String>;
}

/// The reference evaluator over the checked program: the oracle.
pub struct Reference<'p>(pub &'p Program);

impl Backend for Reference<'_> {
    fn name(&self) -> &str {
        "reference"
    }
    fn decide(&self, request: &Json) -> Result<String, String> {
        Ok(ipe_compile::evaluate(self.0, request).to_json())
    }
}

/// The `ipe-nostd` interpreter over a request filled from a parsed value
/// (`ipe_host::evaluate_json`).
pub struct Interp<'b>(pub Bundle<'b>);

impl<'b> Interp<'b> {
    /// Verifies `bytes` with the default cost budget.
    pub fn new(bytes: &'b [u8]) -> Result<Interp<'b>, String> {
        Bundle::from_bytes(bytes)
            .map(Interp)
            .map_err(|e| format!("the bundle does not verify: {e}"))
    }
}

impl Backend for Interp<'_> {
    fn name(&self) -> &str {
        "interpreter"
    }
    fn decide(&self, request: &Json) -> Result<String, String> {
        Ok(ipe_host::evaluate_json(&self.0, request).to_json())
    }
}

/// The `ipe-nostd` interpreter given the bundle's aggregate chains decoded once
/// (`ipe_nostd::vm::Prepared`, issue #15, session 13): the same decision JSON as [`Interp`].
pub struct PreparedInterp<'b> {
    bundle: Bundle<'b>,
    prepared: ipe_nostd::vm::Prepared<16>,
}

impl<'b> PreparedInterp<'b> {
    /// Verifies `bytes` with the default cost budget and decodes its aggregate chains.
    pub fn new(bytes: &'b [u8]) -> Result<PreparedInterp<'b>, String> {
        let bundle =
            Bundle::from_bytes(bytes).map_err(|e| format!("the bundle does not verify: {e}"))?;
        let prepared = ipe_nostd::vm::Prepared::new(&bundle);
        Ok(PreparedInterp { bundle, prepared })
    }

    /// How many aggregate chains the table holds.
    pub fn chains(&self) -> usize {
        self.prepared.len()
    }
}

impl Backend for PreparedInterp<'_> {
    fn name(&self) -> &str {
        "interpreter (prepared chains)"
    }
    fn decide(&self, request: &Json) -> Result<String, String> {
        let arena = bumpalo::Bump::new();
        let mut ctx = ipe_nostd::Context::<{ ipe_host::MAX_SLOTS }>::new();
        ipe_host::request::fill(&self.bundle, request, &arena, &mut ctx);
        let mut d = ipe_host::HostDecision::new(self.bundle.default_effect());
        ipe_nostd::vm::evaluate_prepared_into(&self.bundle, &self.prepared, ctx.values(), &mut d);
        // Issue #15: the interpreter's decision in brief, with and without the chains.
        let brief = ipe_nostd::vm::brief_prepared(&self.bundle, &self.prepared, ctx.values());
        check_brief(self.name(), brief, &d)?;
        if ipe_nostd::vm::brief(&self.bundle, ctx.values()) != brief {
            return Err(format!(
                "{}: vm::brief is not vm::brief_prepared",
                self.name()
            ));
        }
        Ok(ipe_host::Report::with_values(&self.bundle, &d, ctx.values()).to_json())
    }
}

/// The host engine, deciding from the request's JSON text with its one-pass reader.
pub struct Host {
    name: String,
    engine: PolicyEngine,
}

impl Host {
    /// Loads `bytes` into an engine with `options`; `name` says which (e.g. `host`,
    /// `host (baseline JIT)`).
    pub fn new(name: &str, bytes: &[u8], options: EngineOptions) -> Result<Host, String> {
        PolicyEngine::with_options(bytes.to_vec(), options)
            .map(|engine| Host {
                name: name.to_owned(),
                engine,
            })
            .map_err(|e| format!("{name}: the engine does not load: {e}"))
    }

    /// The engine, for assertions specific to one test (tiers, statistics).
    pub fn engine(&self) -> &PolicyEngine {
        &self.engine
    }
}

impl Backend for Host {
    fn name(&self) -> &str {
        &self.name
    }
    fn decide(&self, request: &Json) -> Result<String, String> {
        let set = self.engine.load();
        let text = request.to_string();
        // Issue #15: the decision as data (`decide_into`) has the effect and, once asked for
        // its lists, exactly the decision `evaluate_values` makes.
        let arena = bumpalo::Bump::new();
        if let Ok(values) = set.parse_json(&text, &arena) {
            let mut verdict = ipe_host::Verdict::new();
            set.decide_into(values, &mut verdict);
            let d = set.evaluate_values(values);
            if verdict.effect() != d.effect || verdict.to_decision() != d {
                return Err(format!(
                    "{}: the verdict ({verdict:?}) is not the decision {d:?}",
                    self.name
                ));
            }
            // Issue #15, session 18: the fixed-capacity decision and a thread's cached reader
            // run the same candidate loop into other collectors: the same lists.
            let fixed = set.decide::<64>(values);
            let same = fixed.effect == d.effect
                && (fixed.truncated != 0
                    || (fixed.matched.as_slice() == d.matched()
                        && fixed.violations.as_slice() == d.violations()
                        && fixed.errors.as_slice() == d.errors()));
            if !same {
                return Err(format!(
                    "{}: decide::<64> gave {fixed:?}, evaluate_values {d:?}",
                    self.name
                ));
            }
            // Issue #15: the decision in brief has the decision's effect, and its deciding
            // policy is one the decision lists as violated or in error.
            let brief = set.brief(values);
            check_brief(&self.name, brief, &d)?;
            let mut reader = self.engine.reader();
            if reader.brief(values) != brief {
                return Err(format!("{}: through a reader, another brief", self.name));
            }
            let through = reader.load().evaluate_values(values);
            if through != d {
                return Err(format!(
                    "{}: through a reader {through:?}, through load {d:?}",
                    self.name
                ));
            }
        }
        set.report_json(&text)
            .map(|r| r.to_json())
            .map_err(|e| format!("error: {e}"))
    }
}

/// One JIT tier's compiled set of a bundle. Every decision first checks each compiled
/// policy's outcome against the interpreter's (`eval_policy_values`), candidates or not.
#[cfg(feature = "jit")]
pub struct Jit<'b> {
    bundle: Bundle<'b>,
    set: ipe_host::jit::JitSet,
    name: &'static str,
    /// Whether a policy the JIT did not compile is a disagreement.
    every_policy: bool,
}

#[cfg(feature = "jit")]
impl<'b> Jit<'b> {
    /// Compiles every policy of `bundle` at `tier`. With `every_policy`, a policy left to the
    /// interpreter (unsupported bytecode) is reported as a disagreement.
    pub fn new(
        bundle: Bundle<'b>,
        tier: ipe_host::JitTier,
        every_policy: bool,
    ) -> Result<Jit<'b>, ipe_host::jit::JitError> {
        let set = ipe_host::jit::compile_bundle(&bundle, tier)?;
        let name = match tier {
            ipe_host::JitTier::Baseline => "jit-baseline",
            ipe_host::JitTier::Optimized => "jit-optimized",
        };
        Ok(Jit {
            bundle,
            set,
            name,
            every_policy,
        })
    }

    /// The decision JSON over prebuilt slot values, after checking every policy's outcome
    /// against the interpreter's.
    pub fn decide_values(&self, values: &[ipe_nostd::Value<'_>]) -> Result<String, String> {
        use ipe_nostd::{vm, Accumulator, PolicyId};
        let bundle = &self.bundle;
        for i in 0..bundle.policy_count() {
            let id = PolicyId::try_from(i).map_err(|e| e.to_string())?;
            let interp = vm::eval_policy_values(bundle, id, values);
            match self.set.eval(id, values) {
                Some(jit) if jit == interp => {}
                None if !self.every_policy => {}
                jit => {
                    return Err(format!(
                        "policy {} ({}): interpreter {interp:?}, JIT {jit:?}",
                        bundle.policy(id).name,
                        self.name
                    ))
                }
            }
        }
        let mut d = ipe_host::HostDecision::new(bundle.default_effect());
        let mut acc = Accumulator::new(bundle.default_effect());
        let mut groups = vm::FirstMatch::new();
        vm::for_each_candidate(bundle, values, |id| {
            if groups.admit(bundle, id) {
                let o = self
                    .set
                    .eval(id, values)
                    .unwrap_or_else(|| vm::eval_policy_values(bundle, id, values));
                groups.settle(&o);
                acc.add(&mut d, id, o);
            }
        });
        acc.finish(&mut d);
        Ok(ipe_host::Report::with_values(bundle, &d, values).to_json())
    }
}

#[cfg(feature = "jit")]
impl Backend for Jit<'_> {
    fn name(&self) -> &str {
        self.name
    }
    fn decide(&self, request: &Json) -> Result<String, String> {
        let arena = Bump::new();
        let mut ctx = ipe_nostd::Context::<{ ipe_host::MAX_SLOTS }>::new();
        ipe_host::request::fill(&self.bundle, request, &arena, &mut ctx);
        self.decide_values(ctx.values())
    }
}

/// Runs `request` on every backend and compares: the first backend's decision JSON when all
/// agree, else a report naming each backend's answer.
pub fn compare(backends: &[&dyn Backend], request: &Json) -> Result<String, String> {
    let answers: Vec<(&str, Result<String, String>)> = backends
        .iter()
        .map(|b| (b.name(), b.decide(request)))
        .collect();
    let first = match answers.first() {
        Some((_, Ok(d))) => d.clone(),
        Some((name, Err(e))) => return Err(format!("{name}: {e}\n  request: {request}")),
        None => return Err("no backend to compare".to_owned()),
    };
    if answers.iter().all(|(_, a)| a.as_ref() == Ok(&first)) {
        return Ok(first);
    }
    let mut report = format!("backends disagree\n  request: {request}");
    for (name, a) in &answers {
        let text = match a {
            Ok(d) => d.as_str(),
            Err(e) => e.as_str(),
        };
        report.push_str(&format!("\n  {name:<14} {text}"));
    }
    Err(report)
}

/// Runs every case of a corpus file through `backends` ([`compare`]) and checks the
/// decision against the case's expectation (through the reference evaluator, which every
/// backend must agree with byte for byte); panics listing every failing case.
pub fn check_cases(file: &CompiledFile, backends: &[&dyn Backend]) {
    let mut failures = Vec::new();
    for case in &file.cases {
        if let Err(e) = compare(backends, &case.request) {
            failures.push(format!("{} / {}: {e}", file.id, case.name));
        }
        let got = Expect::of(&ipe_compile::evaluate(&file.program, &case.request));
        if got != case.expect {
            failures.push(format!(
                "{} / {}:\n  expected {:?}\n  got      {got:?}",
                file.id, case.name, case.expect
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n")
    );
}

/// Issue #15: a decision in brief has the full decision's effect, and names a policy exactly
/// when the decision has a violation or an error, one of those.
fn check_brief(
    name: &str,
    brief: ipe_nostd::Brief,
    d: &ipe_host::HostDecision,
) -> Result<(), String> {
    let named = brief.denied_by.is_none_or(|id| {
        d.violations().iter().any(|v| v.policy == id) || d.errors().iter().any(|e| e.policy == id)
    });
    let denied = !d.violations().is_empty() || !d.errors().is_empty();
    if brief.effect != d.effect || !named || brief.denied_by.is_some() != denied {
        return Err(format!(
            "{name}: the brief ({brief:?}) is not the decision {d:?}"
        ));
    }
    Ok(())
}
