//! Differential tests: reference evaluator, interpreter, baseline JIT and optimized JIT must
//! agree on every policy outcome and every decision.

use bumpalo::Bump;
use ipe_compile::corpus::{self, FileExpect};
use ipe_host::jit::{compile_bundle, JitSet, Tier};
use ipe_host::request;
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::vm::{eval_policy_values, for_each_candidate};
use ipe_nostd::{Bundle, Context, Decision, DecisionBuilder, Outcome};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

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

// ---- random well-typed bundles (the generator of ipe-compile's `random_policies` test, with
// more policies per bundle so one JIT module covers many) ----

const SCHEMA: &str = r#"schema {
  a.s: string
  a.t: string
  b.i: int
  b.j: int
  c.flag: bool
  c.level: enum ["low", "mid", "high"]
  tags: list of string max 4
  items: list of item max 4 { name: string, n: int, level: enum ["low", "mid", "high"], ok: bool }
}
"#;

const STRS: &[&str] = &["x", "y", "xy", "", "Y"];
const LEVELS: &[&str] = &["low", "mid", "high"];

fn lit_str() -> impl Strategy<Value = String> {
    proptest::sample::select(STRS).prop_map(|s| format!("{s:?}"))
}
fn lit_int() -> impl Strategy<Value = String> {
    (-2i64..3).prop_map(|i| i.to_string())
}
fn lit_level() -> impl Strategy<Value = String> {
    proptest::sample::select(LEVELS).prop_map(|s| format!("{s:?}"))
}
fn cmp_op() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&["==", "!=", "<", "<=", ">", ">="][..])
}
fn eq_op() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&["==", "!="][..])
}

/// A condition over top-level attributes, or over element `it` when `elem` is set.
fn leaf(elem: bool) -> BoxedStrategy<String> {
    let s_path = if elem {
        proptest::sample::select(&["it.name", "a.s", "a.t"][..]).boxed()
    } else {
        proptest::sample::select(&["a.s", "a.t"][..]).boxed()
    };
    let i_path = if elem {
        proptest::sample::select(&["it.n", "b.i", "b.j"][..]).boxed()
    } else {
        proptest::sample::select(&["b.i", "b.j"][..]).boxed()
    };
    let e_path = if elem {
        proptest::sample::select(&["it.level", "c.level"][..]).boxed()
    } else {
        Just("c.level").boxed()
    };
    let b_path = if elem {
        proptest::sample::select(&["it.ok", "c.flag"][..]).boxed()
    } else {
        Just("c.flag").boxed()
    };
    let mut options: Vec<BoxedStrategy<String>> = vec![
        (s_path.clone(), eq_op(), lit_str())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        (s_path.clone(), eq_op(), s_path.clone())
            .prop_map(|(p, o, q)| format!("{p} {o} {q}"))
            .boxed(),
        (i_path.clone(), cmp_op(), lit_int())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        (i_path.clone(), cmp_op(), i_path)
            .prop_map(|(p, o, q)| format!("{p} {o} {q}"))
            .boxed(),
        (e_path.clone(), cmp_op(), lit_level())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        (e_path, proptest::collection::vec(lit_level(), 1..3))
            .prop_map(|(p, ls)| format!("{p} in [{}]", ls.join(", ")))
            .boxed(),
        (s_path.clone(), proptest::collection::vec(lit_str(), 1..4))
            .prop_map(|(p, ls)| format!("{p} in [{}]", ls.join(", ")))
            .boxed(),
        b_path.clone().prop_map(str::to_owned).boxed(),
        (b_path, eq_op(), any::<bool>())
            .prop_map(|(p, o, b)| format!("{p} {o} {b}"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(&["starts_with", "ends_with", "contains"][..]),
            lit_str(),
        )
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        s_path.clone().prop_map(|p| format!("{p} in tags")).boxed(),
        proptest::sample::select(&["a.s", "b.i", "c.level", "tags", "items"][..])
            .prop_map(|p| format!("has {p}"))
            .boxed(),
        (cmp_op(), 0i64..4)
            .prop_map(|(o, n)| format!("tags.count {o} {n}"))
            .boxed(),
    ];
    if elem {
        options.push(
            proptest::sample::select(&["it.name", "it.n", "it.ok"][..])
                .prop_map(|p| format!("has {p}"))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn cond(elem: bool, depth: u32) -> BoxedStrategy<String> {
    let leaf = leaf(elem);
    if depth == 0 {
        return leaf;
    }
    let inner = cond(elem, depth - 1);
    let mut options = vec![
        leaf.clone(),
        leaf,
        (inner.clone(), inner.clone())
            .prop_map(|(a, b)| format!("({a} and {b})"))
            .boxed(),
        (inner.clone(), inner.clone())
            .prop_map(|(a, b)| format!("({a} or {b})"))
            .boxed(),
        inner.clone().prop_map(|a| format!("not ({a})")).boxed(),
    ];
    if !elem {
        let body = cond(true, depth - 1);
        options.push(
            (proptest::sample::select(&["any", "all"][..]), body.clone())
                .prop_map(|(q, f)| format!("{q}(it in items where {f})"))
                .boxed(),
        );
        options.push(
            (body, cmp_op(), 0i64..4)
                .prop_map(|(f, o, n)| format!("count(it in items where {f}) {o} {n}"))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

fn policy(i: usize) -> impl Strategy<Value = String> {
    (
        proptest::option::weighted(0.8, cond(false, 2)),
        any::<bool>(),
        proptest::collection::vec(cond(false, 2), 1..4),
    )
        .prop_map(move |(trigger, denies, clauses)| {
            let mut s = format!("policy P{i}:\n  \"random policy {i}\"\n");
            if let Some(t) = trigger {
                s.push_str(&format!("  triggers when {t}\n"));
            }
            if denies {
                s.push_str("  denies\n");
            } else {
                s.push_str(&format!("  requires {}\n", clauses.join("\n    and ")));
            }
            s
        })
}

fn bundle() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(&["", "default allow\n", "default deny\n"][..]),
        proptest::collection::vec(0usize..1, 4..12).prop_flat_map(|v| {
            let n = v.len();
            (0..n).map(policy).collect::<Vec<_>>()
        }),
    )
        .prop_map(|(d, ps)| format!("{d}{}", ps.join("\n")))
}

/// A JSON value for an attribute: usually well typed, sometimes missing or wrong.
fn attr(good: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        6 => good.prop_map(Some),
        1 => Just(None),
        1 => proptest::sample::select(vec![json!(null), json!(1.5), json!("zz"), json!([1]), json!({}), json!(true)]).prop_map(Some),
    ]
    .boxed()
}

fn s_val() -> BoxedStrategy<Value> {
    prop_oneof![
        proptest::sample::select(STRS).prop_map(|s| json!(s)),
        Just(json!("unknown"))
    ]
    .boxed()
}
fn i_val() -> BoxedStrategy<Value> {
    (-3i64..4).prop_map(|i| json!(i)).boxed()
}
fn e_val() -> BoxedStrategy<Value> {
    proptest::sample::select(vec!["low", "mid", "high", "HIGH"])
        .prop_map(|s| json!(s))
        .boxed()
}
fn b_val() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(|b| json!(b)).boxed()
}

fn item() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => (attr(s_val()), attr(i_val()), attr(e_val()), attr(b_val())).prop_map(|(a, b, c, d)| {
            let mut m = Map::new();
            for (k, v) in [("name", a), ("n", b), ("level", c), ("ok", d)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        }),
        1 => Just(json!("not an object")),
    ]
    .boxed()
}

fn request() -> impl Strategy<Value = Value> {
    (
        (attr(s_val()), attr(s_val()), attr(i_val()), attr(i_val())),
        (attr(b_val()), attr(e_val())),
        attr(
            proptest::collection::vec(s_val(), 0..6)
                .prop_map(Value::Array)
                .boxed(),
        ),
        attr(
            proptest::collection::vec(item(), 0..6)
                .prop_map(Value::Array)
                .boxed(),
        ),
    )
        .prop_map(|((s, t, i, j), (flag, level), tags, items)| {
            let mut root = Map::new();
            let mut put = |path: &str, v: Option<Value>| {
                let Some(v) = v else { return };
                let mut parts = path.split('.');
                let first = parts.next().unwrap_or_default().to_owned();
                match parts.next() {
                    None => {
                        root.insert(first, v);
                    }
                    Some(second) => {
                        let obj = root.entry(first).or_insert_with(|| json!({}));
                        if let Some(o) = obj.as_object_mut() {
                            o.insert(second.to_owned(), v);
                        }
                    }
                }
            };
            put("a.s", s);
            put("a.t", t);
            put("b.i", i);
            put("b.j", j);
            put("c.flag", flag);
            put("c.level", level);
            put("tags", tags);
            put("items", items);
            Value::Object(root)
        })
}

/// Random bundles of 4-11 policies, each compiled once per tier and checked against 12 random
/// requests: with the default 180 cases, about 1,350 policies and 2,160 requests, 16,000
/// policy evaluations per tier (`IPE_JIT_PROP_CASES` overrides the case count).
#[test]
fn jit_agrees_with_interpreter_and_reference_on_random_bundles() {
    let cases: u32 = std::env::var("IPE_JIT_PROP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(bundle(), proptest::collection::vec(request(), 12)),
            |(src, reqs)| {
                let program = ipe_compile::compile_str(&[("schema.ipe", SCHEMA), ("p.ipe", &src)])
                    .map_err(|d| TestCaseError::fail(format!("does not compile:\n{src}\n{d}")))?;
                let bytes = ipe_compile::lower::lower(&program)
                    .map_err(|e| TestCaseError::fail(format!("does not lower: {e}\n{src}")))?
                    .bytes;
                let bundle = Bundle::from_bytes(&bytes)
                    .map_err(|e| TestCaseError::fail(format!("does not verify: {e}\n{src}")))?;
                let base = compile_bundle(&bundle, Tier::Baseline)
                    .map_err(|e| TestCaseError::fail(format!("baseline JIT: {e}\n{src}")))?;
                let opt = compile_bundle(&bundle, Tier::Optimized)
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
            let set = compile_bundle(&bundle, Tier::Baseline).expect("compiles");
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
