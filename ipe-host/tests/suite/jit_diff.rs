//! Differential tests: reference evaluator, interpreter, baseline JIT and optimized JIT must
//! agree on every policy outcome and every decision.

use bumpalo::Bump;
use ipe_compile::corpus;
use ipe_host::jit::{compile_bundle, JitSet};
use ipe_host::request;
use ipe_host::HostDecision;
use ipe_host::JitTier;
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::vm::{eval_policy_values, for_each_candidate};
use ipe_nostd::{Accumulator, Bundle, Context, Outcome};
use ipe_testgen::{bundle, request, SCHEMA};
use proptest::prelude::*;

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
    let mut d = HostDecision::new(bundle.default_effect());
    let mut acc = Accumulator::new(bundle.default_effect());
    for_each_candidate(bundle, values, |id| {
        acc.add(
            &mut d,
            id,
            set.eval(id, values).unwrap_or(Outcome::NotApplicable),
        );
    });
    acc.finish(&mut d);
    Ok(ipe_host::Report::of_host(bundle, &d).to_json())
}

#[test]
fn jit_agrees_with_interpreter_and_reference_on_every_corpus_case() {
    let files = corpus::compiled(&corpus::default_root()).expect("corpus loads and compiles");
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in &files {
        let (program, list) = (&file.program, &file.cases);
        let bytes = file.bytes.clone();
        let bundle = Bundle::from_bytes(&bytes).expect("lowered bundles verify");
        let base = compile_bundle(&bundle, JitTier::Baseline).expect("baseline JIT");
        let opt = compile_bundle(&bundle, JitTier::Optimized).expect("optimized JIT");
        for case in list {
            cases += 1;
            let reference = ipe_compile::evaluate(program, &case.request).to_json();
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

/// Random bundles of 4-11 policies, each compiled once per tier and checked against 12 random
/// requests: with the default 180 cases, about 1,350 policies and 2,160 requests, 16,000
/// policy evaluations per tier (`IPE_JIT_PROP_CASES` overrides the case count).
#[test]
fn jit_agrees_with_interpreter_and_reference_on_random_bundles() {
    let mut runner = ipe_testgen::runner("IPE_JIT_PROP_CASES", 180);
    runner
        .run(
            &(bundle(4..12), proptest::collection::vec(request(), 12)),
            |(src, reqs)| {
                let program = ipe_compile::compile_str(&[("schema.ipe", SCHEMA), ("p.ipe", &src)])
                    .map_err(|d| TestCaseError::fail(format!("does not compile:\n{src}\n{d}")))?;
                let bytes = ipe_compile::lower::lower(&program)
                    .map_err(|e| TestCaseError::fail(format!("does not lower: {e}\n{src}")))?
                    .bytes;
                let bundle = Bundle::from_bytes(&bytes)
                    .map_err(|e| TestCaseError::fail(format!("does not verify: {e}\n{src}")))?;
                let base = compile_bundle(&bundle, JitTier::Baseline)
                    .map_err(|e| TestCaseError::fail(format!("baseline JIT: {e}\n{src}")))?;
                let opt = compile_bundle(&bundle, JitTier::Optimized)
                    .map_err(|e| TestCaseError::fail(format!("optimized JIT: {e}\n{src}")))?;
                for req in &reqs {
                    let reference = ipe_compile::evaluate(&program, req).to_json();
                    let jit = check_request(&bundle, &[&base, &opt], req).map_err(|e| {
                        TestCaseError::fail(format!("{e}\nbundle:\n{src}\nrequest: {req}"))
                    })?;
                    prop_assert_eq!(&reference, &jit, "\nbundle:\n{}\nrequest: {}", src, req);
                }
                Ok(())
            },
        )
        .unwrap();
}

/// Resident set size in pages (`/proc/self/statm`), if the platform has it.
fn rss_pages() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    s.split_whitespace().nth(1)?.parse().ok()
}

/// Compiling and dropping thousands of JIT sets returns their memory: each set owns one
/// `JITModule` and frees it on drop.
#[test]
fn jit_sets_free_their_code_when_dropped() {
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed/policy.ipe"),
    )
    .expect("seed policy");
    let schema = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed/schema.ipe"),
    )
    .expect("seed schema");
    let program =
        ipe_compile::compile_str(&[("schema.ipe", schema.as_str()), ("policy.ipe", &src)])
            .expect("seed compiles");
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let round = |n: usize| {
        for _ in 0..n {
            let set = compile_bundle(&bundle, JitTier::Baseline).expect("compiles");
            assert_eq!(set.len(), 1);
        }
    };
    round(200);
    let Some(before) = rss_pages() else {
        return;
    };
    round(3_000);
    let after = rss_pages().unwrap_or(before);
    let grown_kib = after.saturating_sub(before) * 4;
    eprintln!("RSS growth over 3,000 compile/free cycles: {grown_kib} KiB");
    // A leaked module costs at least a page of code and one of data: 3,000 leaks would be
    // 24 MiB or more.
    assert!(grown_kib < 8 * 1024, "RSS grew by {grown_kib} KiB");
}
