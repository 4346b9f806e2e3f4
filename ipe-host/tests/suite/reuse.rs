//! Issue #15: native code reused across versions: a policy whose code and what it reads are
//! unchanged keeps the live version's native code when a new version is published.

use std::time::Duration;

use ipe_host::{CodeTier, EngineOptions, JitTier, PolicyEngine};

use crate::common;

const POLICIES: usize = 120;

/// `POLICIES` policies over three kinds of body, no two with the same code (two would share
/// native code); policy `changed` (if any, a multiple of 3) gets a limit no other policy uses
/// (a new constant: the constant numbers of every later policy shift).
pub fn source(changed: Option<usize>) -> String {
    let mut src = String::from(
        "schema {\n  kind: string\n  env: string\n  replicas: int\n  \
         approvals: list of approver {\n    role: string\n  }\n}\ndefault allow\n",
    );
    for i in 0..POLICIES {
        let limit = if changed == Some(i) { 500 } else { i % 5 + 1 };
        let body = match i % 3 {
            0 => format!(
                "replicas <= {}",
                if changed == Some(i) { limit } else { i + 1 }
            ),
            1 => format!("env in [\"prod-{i}\", \"stage\"] and replicas != {limit}"),
            _ => format!(
                "approvals.count >= {limit} where approver.role == \"lead-{}\"",
                i % 7
            ),
        };
        src.push_str(&format!(
            "policy P{i}:\n  \"policy {i}\"\n  triggers when kind == \"k{}\"\n  requires\n    {body}\n",
            i % 10
        ));
    }
    src
}

/// Requests reaching every policy (`kind` `k0`..`k9`), with values on both sides of the
/// limits, the changed one's included.
fn requests() -> Vec<String> {
    let mut out = Vec::new();
    for k in 0..10 {
        for replicas in [0, 1, 3, 6, 499, 501] {
            for env in ["stage", "prod-7", "dev"] {
                let leads = (0..(replicas % 4))
                    .map(|j| format!("{{\"role\":\"lead-{j}\"}}"))
                    .collect::<Vec<_>>()
                    .join(",");
                out.push(format!(
                    "{{\"kind\":\"k{k}\",\"env\":\"{env}\",\"replicas\":{replicas},\
                     \"approvals\":[{leads}]}}"
                ));
            }
        }
    }
    out
}

/// Every request decided by `engine` as by the interpreter over `bytes`.
fn agrees_with_interpreter(engine: &PolicyEngine, bytes: &[u8]) {
    let interp =
        PolicyEngine::with_options(bytes.to_vec(), EngineOptions::interpreter()).expect("loads");
    for r in requests() {
        assert_eq!(
            engine.evaluate_json(&r).expect("valid"),
            interp.evaluate_json(&r).expect("valid"),
            "{r}"
        );
    }
}

#[test]
fn jit_all_publish_compiles_only_the_changed_policy() {
    let (a, b) = (
        common::bundle(&source(None)),
        common::bundle(&source(Some(30))),
    );
    let n = POLICIES as u64;
    let engine = PolicyEngine::with_options(a.clone(), EngineOptions::jit_all(JitTier::Baseline))
        .expect("loads");
    let s = engine.stats().jit;
    assert_eq!((s.compiled, s.reused, s.failures), (n, 0, 0));
    engine.swap(b.clone()).expect("swaps");
    let s = engine.stats().jit;
    assert_eq!((s.compiled, s.reused, s.baseline), (1, n - 1, POLICIES));
    // Version 1 is freed (its code region lives on in version 2): the reused code still runs,
    // and the changed policy decides by its new limit.
    engine.reclaim();
    assert_eq!(engine.stats().freed_versions, 1);
    assert_eq!(engine.retired_versions(), 0);
    agrees_with_interpreter(&engine, &b);
    let changed = r#"{"kind":"k0","env":"dev","replicas":400,"approvals":[]}"#;
    let d = engine.evaluate_json(changed).expect("valid");
    let set = engine.load();
    assert!(
        d.violations()
            .iter()
            .all(|v| set.bundle().policy(v.policy).name != "P30"),
        "P30 allows 400 replicas in version 2: {d:?}"
    );
    assert!(d
        .violations()
        .iter()
        .any(|v| set.bundle().policy(v.policy).name == "P0"));
    drop(set);
    // Back to the first bundle: P30 compiled again, the rest reused again.
    engine.swap(a.clone()).expect("swaps");
    let s = engine.stats().jit;
    assert_eq!((s.compiled, s.reused), (1, n - 1));
    agrees_with_interpreter(&engine, &a);
}

#[test]
fn a_new_version_starts_with_the_adaptive_code_of_the_one_it_replaces() {
    let a = common::bundle(&source(None));
    let engine =
        PolicyEngine::with_options(a.clone(), EngineOptions::adaptive(1, u64::MAX)).expect("loads");
    // k0 requests make P0, P10, P20, … hot.
    let set = engine.load_full();
    for r in requests().iter().take(18) {
        set.evaluate_json(r).expect("valid");
    }
    assert!(engine.wait_for_jit(Duration::from_secs(60)));
    let hot: Vec<u16> = (0..POLICIES as u16)
        .filter(|&id| set.code_tier(id) == CodeTier::Baseline)
        .collect();
    assert_eq!(hot.len(), POLICIES / 10, "{:?}", set.stats().jit);
    drop(set);
    // The same bytes again: before any request, the new version runs that native code.
    engine.swap(a.clone()).expect("swaps");
    let set = engine.load_full();
    assert_eq!(set.version(), 2);
    for id in 0..POLICIES as u16 {
        let expected = if hot.contains(&id) {
            CodeTier::Baseline
        } else {
            CodeTier::Interpreter
        };
        assert_eq!(set.code_tier(id), expected, "policy {id}");
    }
    let s = set.stats().jit;
    assert_eq!((s.compiled, s.reused), (0, hot.len() as u64));
    drop(set);
    agrees_with_interpreter(&engine, &a);
}

#[test]
fn nothing_moves_between_versions_with_other_strings() {
    // A new string literal renumbers the symbols compiled code compares with.
    let a = common::bundle(&source(None));
    let b = common::bundle(&source(None).replace("\"stage\"", "\"staging\""));
    let engine =
        PolicyEngine::with_options(a, EngineOptions::jit_all(JitTier::Baseline)).expect("loads");
    engine.swap(b.clone()).expect("swaps");
    let s = engine.stats().jit;
    assert_eq!((s.compiled, s.reused), (POLICIES as u64, 0));
    agrees_with_interpreter(&engine, &b);
}
