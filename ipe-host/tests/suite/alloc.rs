use bumpalo::Bump;
use ipe_host::{Field, PolicyEngine};

use crate::common;

/// The counting allocator, shared with ipe-capi's tests.
#[path = "../../../tests/support/counting.rs"]
mod counting;
use counting::allocations;

#[test]
fn counting_allocator_sees_allocations() {
    let n = allocations(|| {
        let v: Vec<u64> = Vec::with_capacity(16);
        std::hint::black_box(v);
    });
    assert_eq!(n, 1);
}

#[test]
fn json_evaluation_allocates_nothing_in_steady_state() {
    let engine = PolicyEngine::from_bytes(common::bundle_dir("examples/seed")).expect("loads");
    let requests = common::seed_requests();
    let set = engine.load();
    // Warm up: thread-local arena, arc-swap's per-thread node, stats shard ticket.
    for r in &requests {
        set.evaluate_json(r).expect("valid request");
    }
    let mut denies = 0;
    let n = allocations(|| {
        for _ in 0..10 {
            for r in &requests {
                let d = set.evaluate_json(r).expect("valid request");
                denies += usize::from(d.effect == ipe_nostd::Effect::Deny);
            }
        }
    });
    assert_eq!(
        n,
        0,
        "allocations in {} JSON evaluations",
        requests.len() * 10
    );
    assert!(denies > 0, "the seed requests include denials");
    // The engine-level entry point (load + evaluate) too.
    let n = allocations(|| {
        for r in &requests {
            engine.evaluate_json(r).expect("valid request");
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn builder_evaluation_allocates_nothing_in_steady_state() {
    let engine = PolicyEngine::from_bytes(common::bundle_dir("examples/seed")).expect("loads");
    let set = engine.load();
    let mut arena = Bump::new();
    let run = |arena: &mut Bump| {
        arena.reset();
        let mut req = set.request(arena);
        req.str("resource.type", "Deployment")
            .str("resource.risk_level", "high")
            .str("environment", "production")
            .str("requester.department", "payments")
            .records(
                "approvals",
                [
                    [
                        ("role", Field::Str("senior-engineer")),
                        ("department", Field::Str("security")),
                    ],
                    [
                        ("role", Field::Str("senior-engineer")),
                        ("department", Field::Str("platform")),
                    ],
                ],
            );
        req.evaluate().expect("no attribute set twice")
    };
    // Warm up (the decision is dropped, so its list buffers go back to the thread's pool).
    assert_eq!(run(&mut arena).effect, ipe_nostd::Effect::Allow);
    let n = allocations(|| {
        for _ in 0..100 {
            let d = run(&mut arena);
            assert_eq!(d.effect, ipe_nostd::Effect::Allow);
        }
    });
    assert_eq!(n, 0);
}

/// Issue 11: host decisions are complete (no fixed capacity) and still allocate nothing in
/// steady state, even when every one of 300 policies violates.
#[test]
fn issue11_complete_decisions_allocate_nothing_in_steady_state() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/decisions");
    let program = ipe_compile::compile_paths(&[format!("{root}/many_policies.ipe").into()])
        .expect("compiles");
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let engine =
        PolicyEngine::with_options(bytes, ipe_host::EngineOptions::interpreter()).expect("loads");
    let set = engine.load();
    let requests = [r#"{"x": 2}"#, r#"{"x": 1}"#, "{}"];
    for r in requests {
        let d = set.evaluate_json(r).expect("valid request");
        assert_eq!(d.matched().len(), 300, "{r}");
    }
    let mut listed = 0;
    let n = allocations(|| {
        for _ in 0..10 {
            for r in requests {
                let d = set.evaluate_json(r).expect("valid request");
                listed += d.matched().len() + d.violations().len() + d.errors().len();
            }
        }
    });
    assert_eq!(n, 0);
    // Per round: 600 (matched and violated), 300 (matched), 600 (matched and in error).
    assert_eq!(listed, 10 * 1500);
}

#[test]
fn batch_of_lines_allocates_nothing_per_line_in_steady_state() {
    let engine = PolicyEngine::from_bytes(common::bundle_dir("examples/seed")).expect("loads");
    let text = common::seed_requests().join("\n");
    let set = engine.load();
    let run = || {
        set.evaluate_lines(text.as_bytes(), |_, d| {
            assert!(d.is_ok());
        })
        .expect("in-memory input reads")
    };
    let warm = run();
    // The line buffer grows once per batch; nothing is allocated per line after that.
    let one = allocations(|| {
        run();
    });
    let text3 = [text.as_str(); 3].join("\n");
    let three = allocations(|| {
        set.evaluate_lines(text3.as_bytes(), |_, _| {})
            .expect("in-memory input reads");
    });
    assert_eq!(one, three, "allocations grow with the number of lines");
    assert!(warm.requests > 0);
}

/// Issue 13: quantifiers over lists of scalars and set operators, interpreted and
/// JIT-compiled, allocate nothing per evaluation in steady state.
#[test]
fn issue13_scalar_quantifiers_allocate_nothing_in_steady_state() {
    let json = r#"{"tags": ["a", "b"], "ports": [8080, 9090, 80], "allowed": ["a", "b", "c"]}"#;
    let mut options = vec![ipe_host::EngineOptions::interpreter()];
    if cfg!(feature = "jit") {
        options.push(ipe_host::EngineOptions::jit_all(
            ipe_host::JitTier::Optimized,
        ));
    }
    for opts in options {
        let engine =
            PolicyEngine::with_options(common::bundle(crate::lists::TAGS), opts).expect("loads");
        let set = engine.load();
        set.evaluate_json(json).expect("valid request");
        let n = allocations(|| {
            for _ in 0..20 {
                let d = set.evaluate_json(json).expect("valid request");
                assert_eq!(d.effect, ipe_nostd::Effect::Deny);
            }
        });
        assert_eq!(n, 0);
    }
}

/// Issue 13: nested lists (the corpus bundle `lists/nested`), read from JSON and evaluated
/// interpreted and JIT-compiled, allocate nothing per evaluation in steady state (the nested
/// values live in the reader's reused arena). Warm-up takes a few requests, not one: the
/// nested lists' growing vectors interleave in the arena, so the first request spreads over
/// more than one chunk, and a reset keeps only the largest; one warm-up left one allocation in
/// the next 20 requests, three leave none.
#[test]
fn issue13_nested_lists_allocate_nothing_in_steady_state() {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/lists/nested.ipe"),
    )
    .expect("the corpus file");
    let json = r#"{"containers": [{"name": "a", "ports": [{"hostPort": 80}, {"hostPort": 9001}], "capabilities": {"add": ["CHOWN", "NET_ADMIN"]}}, {"name": "b", "ports": [], "capabilities": {"add": []}}]}"#;
    let mut options = vec![ipe_host::EngineOptions::interpreter()];
    if cfg!(feature = "jit") {
        options.push(ipe_host::EngineOptions::jit_all(
            ipe_host::JitTier::Optimized,
        ));
    }
    for opts in options {
        let engine = PolicyEngine::with_options(common::bundle(&source), opts).expect("loads");
        let set = engine.load();
        for _ in 0..3 {
            set.evaluate_json(json).expect("valid request");
        }
        let n = allocations(|| {
            for _ in 0..20 {
                let d = set.evaluate_json(json).expect("valid request");
                assert_eq!(d.effect, ipe_nostd::Effect::Deny);
            }
        });
        assert_eq!(n, 0);
    }
}

/// Issue 15: `matches` (the corpus bundle `patterns/matches`, nine regexes) searches with the
/// DFAs validated when the bundle loaded, so deciding allocates nothing per evaluation,
/// interpreted and JIT-compiled (before, every match re-validated its DFA, which allocated in
/// host builds).
#[test]
fn issue15_matches_allocates_nothing_in_steady_state() {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/corpus/patterns/matches.ipe"),
    )
    .expect("the corpus file");
    let requests = [
        r#"{"host": "www.agilebank.demo", "name": "admin", "tags": ["team-a", "x"]}"#,
        r#"{"host": "www1.agilebank.demo", "name": "aab", "tags": []}"#,
        r#"{"host": "example.com", "name": "", "tags": ["team-b"]}"#,
    ];
    let mut options = vec![ipe_host::EngineOptions::interpreter()];
    if cfg!(feature = "jit") {
        options.push(ipe_host::EngineOptions::jit_all(
            ipe_host::JitTier::Optimized,
        ));
    }
    for opts in options {
        let engine = PolicyEngine::with_options(common::bundle(&source), opts).expect("loads");
        let set = engine.load();
        for _ in 0..3 {
            for r in requests {
                set.evaluate_json(r).expect("valid request");
            }
        }
        let mut matched = 0;
        let n = allocations(|| {
            for _ in 0..20 {
                for r in requests {
                    let d = set.evaluate_json(r).expect("valid request");
                    // `Empty` (the empty regex) matches every name: always a denial.
                    assert_eq!(d.effect, ipe_nostd::Effect::Deny);
                    matched += d.matched().len();
                }
            }
        });
        assert_eq!(n, 0);
        assert!(matched > 60, "the regexes ran and matched ({matched})");
    }
}

/// Issue 15: deciding into a reused `Verdict` (the decision as data: the effect and each
/// applied policy's outcome, no lists) allocates nothing once its buffer has grown,
/// interpreted and JIT-compiled.
#[test]
fn issue15_verdicts_allocate_nothing_in_steady_state() {
    let requests = common::seed_requests();
    let mut options = vec![ipe_host::EngineOptions::interpreter()];
    if cfg!(feature = "jit") {
        options.push(ipe_host::EngineOptions::jit_all(
            ipe_host::JitTier::Optimized,
        ));
    }
    for opts in options {
        let engine =
            PolicyEngine::with_options(common::bundle_dir("examples/seed"), opts).expect("loads");
        let set = engine.load();
        let arena = Bump::new();
        let values: Vec<_> = requests
            .iter()
            .map(|r| set.parse_json(r, &arena).expect("valid request"))
            .collect();
        let mut verdict = ipe_host::Verdict::new();
        for v in &values {
            set.decide_into(v, &mut verdict);
        }
        let (mut denies, mut outcomes) = (0, 0);
        let n = allocations(|| {
            for _ in 0..10 {
                for v in &values {
                    set.decide_into(v, &mut verdict);
                    denies += usize::from(verdict.effect() == ipe_nostd::Effect::Deny);
                    outcomes += verdict.outcomes().len();
                }
            }
        });
        assert_eq!(n, 0);
        assert!(denies > 0, "the seed requests include denials");
        assert!(outcomes > 0, "the seed policy applies to some requests");
    }
}
