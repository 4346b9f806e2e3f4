//! Differential tests: reference evaluator, interpreter, baseline JIT and optimized JIT must
//! agree on every policy outcome and every decision.

use bumpalo::Bump;
use ipe_compile::corpus::{self, FileExpect};
use ipe_host::jit::{compile_bundle, JitSet, Tier};
use ipe_host::request;
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::vm::{eval_policy_values, for_each_candidate};
use ipe_nostd::{Bundle, Context, Decision, DecisionBuilder, Outcome};

const SLOTS: usize = 256;

/// Checks every policy of `bundle` on one request through the interpreter and both JIT tiers;
/// returns the decision JSON the JIT produces, or a description of the first disagreement.
fn check_request(
    bundle: &Bundle<'_>,
    sets: &[&JitSet],
    req: &serde_json::Value,
) -> Result<String, String> {
    let arena = Bump::new();
    let mut ctx = Context::<SLOTS>::new();
    request::fill(bundle, req, &arena, &mut ctx);
    let values = ctx.values();
    for i in 0..bundle.policy_count() {
        let id = PolicyId::try_from(i).map_err(|e| e.to_string())?;
        let interp = eval_policy_values(bundle, id, values);
        for set in sets {
            let jit = set.eval(id, values);
            if jit != Some(interp) {
                return Err(format!(
                    "policy {} ({:?} tier): interpreter {interp:?}, JIT {jit:?}",
                    bundle.policy(id).name,
                    set.tier()
                ));
            }
        }
    }
    let set = sets.first().ok_or("no JIT set")?;
    let mut out = DecisionBuilder::<SLOTS>::new(bundle.default_effect());
    for_each_candidate(bundle, values, |id| {
        out.add(id, set.eval(id, values).unwrap_or(Outcome::NotApplicable));
    });
    let d: Decision<SLOTS> = out.finish();
    Ok(ipe_host::Report::new(bundle, &d).to_json())
}

#[test]
fn jit_agrees_with_interpreter_and_reference_on_every_corpus_case() {
    let files = corpus::load(&corpus::default_root()).expect("corpus loads");
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in &files {
        let FileExpect::Cases(list) = &file.expect else {
            continue;
        };
        let program = ipe_compile::compile_str(&[(file.id.as_str(), file.source.as_str())])
            .expect("corpus case compiles");
        let bytes = ipe_compile::lower::lower(&program)
            .expect("corpus case lowers")
            .bytes;
        let bundle = Bundle::from_bytes(&bytes).expect("lowered bundles verify");
        let base = compile_bundle(&bundle, Tier::Baseline).expect("baseline JIT");
        let opt = compile_bundle(&bundle, Tier::Optimized).expect("optimized JIT");
        for case in list {
            cases += 1;
            let reference = ipe_compile::evaluate(&program, &case.request).to_json();
            match check_request(&bundle, &[&base, &opt], &case.request) {
                Ok(jit) if jit == reference => {}
                Ok(jit) => failures.push(format!(
                    "{} / {}:\n  request:   {}\n  reference: {reference}\n  jit:       {jit}",
                    file.id, case.name, case.request
                )),
                Err(e) => failures.push(format!(
                    "{} / {}:\n  request: {}\n  {e}",
                    file.id, case.name, case.request
                )),
            }
        }
    }
    eprintln!("{cases} corpus cases compared through interpreter and JIT");
    assert!(cases >= 100, "only {cases} corpus cases found");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
