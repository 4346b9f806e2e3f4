//! Differential tests: reference evaluator, interpreter, baseline JIT and optimized JIT must
//! agree on every policy outcome and every decision.

use ipe_host::jit::compile_bundle;
use ipe_host::JitTier;
use ipe_nostd::Bundle;
use ipe_testgen::backend::{check_cases, compare, Interp, Jit, Reference};
use ipe_testgen::corpus::CompiledFile;
use ipe_testgen::{bundle, request, SCHEMA};
use proptest::prelude::*;

/// One corpus file: both JIT tiers (every policy compiled, each outcome checked against the
/// interpreter's) agree with the interpreter and the reference on every case.
fn jit_agrees_with_interpreter_and_reference(file: &CompiledFile) {
    let interp = Interp::new(&file.bytes).expect("lowered bundles verify");
    let base = Jit::new(interp.0.clone(), JitTier::Baseline, true).expect("baseline JIT");
    let opt = Jit::new(interp.0.clone(), JitTier::Optimized, true).expect("optimized JIT");
    check_cases(file, &[&Reference(&file.program), &interp, &base, &opt]);
}

/// Every corpus file with cases through both JIT tiers, one test each.
mod every_corpus_file {
    ipe_testgen::corpus_tests!(cases: super::jit_agrees_with_interpreter_and_reference);
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
                let interp =
                    Interp::new(&bytes).map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
                let base = Jit::new(interp.0.clone(), JitTier::Baseline, true)
                    .map_err(|e| TestCaseError::fail(format!("baseline JIT: {e}\n{src}")))?;
                let opt = Jit::new(interp.0.clone(), JitTier::Optimized, true)
                    .map_err(|e| TestCaseError::fail(format!("optimized JIT: {e}\n{src}")))?;
                for req in &reqs {
                    compare(&[&Reference(&program), &base, &opt], req)
                        .map_err(|e| TestCaseError::fail(format!("{e}\nbundle:\n{src}")))?;
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
    // Measured in a child process (this test binary, re-run on this test alone): the other
    // tests' threads allocate meanwhile, and the process's RSS is theirs too.
    if crate::common::in_child(
        "jit_diff::jit_sets_free_their_code_when_dropped",
        "IPE_HOST_RSS_CHILD",
    ) {
        return;
    }
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

/// Issue 13: every bundle under `examples/` through both JIT tiers (every policy compiled to
/// native code, each outcome checked against the interpreter's): each request's decision is
/// its line of `expected.jsonl`.
#[test]
fn issue13_examples_decide_as_expected_on_both_jit_tiers() {
    for name in ipe_testgen::examples::NAMES {
        let example = ipe_testgen::examples::Example::load(name).expect("example directory");
        let program = example.compile().expect("example compiles");
        let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
        let interp = Interp::new(&bytes).expect("verifies");
        let base = Jit::new(interp.0.clone(), JitTier::Baseline, true).expect("baseline JIT");
        let opt = Jit::new(interp.0.clone(), JitTier::Optimized, true).expect("optimized JIT");
        let requests = example.lines("requests.jsonl").expect("requests");
        let expected = example.lines("expected.jsonl").expect("expectations");
        assert_eq!(requests.len(), expected.len(), "{name}");
        for (i, (req, exp)) in requests.iter().zip(&expected).enumerate() {
            let req: serde_json::Value = serde_json::from_str(req).expect("request is JSON");
            let exp: serde_json::Value = serde_json::from_str(exp).expect("expected is JSON");
            let got = compare(&[&Reference(&program), &interp, &base, &opt], &req)
                .unwrap_or_else(|e| panic!("{name} request {}: {e}", i + 1));
            let got: serde_json::Value = serde_json::from_str(&got).expect("decision is JSON");
            assert_eq!(got, exp, "{name} request {}", i + 1);
        }
    }
}

/// Issue #15 (compile time): the baseline tier compiles a `jump.if.false` over a few loads and
/// comparisons as no branch at all, where the `and` after them absorbs the clean `false` the
/// jump would have carried. A trigger whose jump skips to an `or` instead (no compiler emits
/// one; the verifier accepts it) must keep its branch: both tiers decide it as the
/// interpreter, on clean, false and erring operands.
#[test]
fn issue15_a_jump_over_an_or_keeps_its_branch_in_every_tier() {
    use ipe_nostd::isa::{Instr, Opcode};
    let src = "schema {\n  resource.type: string\n  environment: string\n}\n\
               policy P:\n  \"p\"\n  triggers when resource.type == \"Deployment\" \
               and environment == \"production\"\n  denies\n";
    let program = ipe_compile::compile_str(&[("p.ipe", src)]).expect("compiles");
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let body = Bundle::decode_unverified(&bytes).expect("decodes");
    let mut code = body.code.to_vec();
    let (mut pc, mut jump, mut and) = (0, None, None);
    while pc < code.len() {
        let (instr, next) = Instr::decode(&code, pc).expect("decodes");
        match instr {
            Instr::JumpIfFalse { .. } => jump = Some(pc),
            Instr::And {} => and = Some(pc),
            _ => {}
        }
        pc = next;
    }
    let (Some(jump), Some(and)) = (jump, and) else {
        panic!("the trigger is `a; jump.if.false; b; and`")
    };
    assert!(jump < and);
    code[and] = Opcode::Or as u8;
    let patched = ipe_compile::lower::encode(&ipe_nostd::format::Body {
        code: &code,
        ..body
    });
    let bundle = Bundle::from_bytes(&patched).expect("the verifier accepts the patched trigger");
    let interp = Interp(bundle.clone());
    let base = Jit::new(bundle.clone(), JitTier::Baseline, true).expect("baseline JIT");
    let opt = Jit::new(bundle, JitTier::Optimized, true).expect("optimized JIT");
    let types = [r#""Deployment""#, r#""Job""#, "3", ""];
    let envs = [r#""production""#, r#""dev""#, "5", ""];
    let mut matched = 0;
    for t in types {
        for e in envs {
            let mut fields = Vec::new();
            if !t.is_empty() {
                fields.push(format!(r#""resource": {{"type": {t}}}"#));
            }
            if !e.is_empty() {
                fields.push(format!(r#""environment": {e}"#));
            }
            let req: serde_json::Value =
                serde_json::from_str(&format!("{{{}}}", fields.join(", "))).expect("json");
            let d = compare(&[&interp, &base, &opt], &req).unwrap_or_else(|e| panic!("{e}"));
            matched += usize::from(d.contains(r#""matched":["P"]"#));
        }
    }
    // The patched trigger: a clean false type jumps over `env` and `or` (P does not apply; a
    // fall-through would make it `env`, and apply with "production"); a type of "Deployment"
    // makes `type or env` true whatever env is; a type in error does not jump, and `or`
    // with a clean true env is true: 4 + 2 requests where P applies.
    assert_eq!(matched, 6);
}
