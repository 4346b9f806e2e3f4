//! `ipe explain` (issue #16 part 3): golden output, errors, and the check that the explanation
//! never diverges from the engine: over every request case of the conformance corpus, the
//! explanation's final decision, matched, violated and errored policies equal the host
//! engine's.

use super::golden::{check, ipe, stderr, stdout};
use ipe_cli::authoring::Compiled;

/// Every corpus case: the explanation (derived from the traced policies' outcomes, not copied
/// from a report) equals the host interpreter's decision, and the corpus expectation.
#[test]
fn issue16_explain_agrees_with_the_engine_on_every_corpus_case() {
    let files = ipe_testgen::corpus::compiled(&ipe_testgen::corpus::default_root())
        .expect("the corpus compiles");
    let max = ipe_nostd::verify::DEFAULT_MAX_COST;
    let mut cases = 0;
    for f in files {
        let mut compiled = Compiled::new(f.program, max).expect("lowers");
        for case in &f.cases {
            let e = ipe_cli::explain::explain(&mut compiled, &case.request, max)
                .unwrap_or_else(|err| panic!("{} / {}: {err:#}", f.id, case.name));
            let engine = &e.engine;
            let at = format!("{} / {}", f.id, case.name);
            assert_eq!(e.decision, engine.effect, "{at}: decision");
            assert_eq!(e.matched, engine.matched, "{at}: matched");
            let violated: Vec<String> =
                engine.violations.iter().map(|v| v.policy.clone()).collect();
            assert_eq!(e.violated, violated, "{at}: violated");
            let errors: Vec<String> = engine.errors.iter().map(|v| v.policy.clone()).collect();
            assert_eq!(e.errors, errors, "{at}: errors");
            assert!(e.agrees, "{at}");
            // Recording a trace changes nothing in the reference evaluator's decision.
            let (traced, _) = ipe_compile::eval::evaluate_traced(&compiled.program, &case.request);
            assert_eq!(
                traced,
                ipe_compile::evaluate(&compiled.program, &case.request),
                "{at}: traced"
            );
            // And the corpus's hand-derived expectation.
            let decision = if e.decision == ipe_nostd::Effect::Allow {
                "allow"
            } else {
                "deny"
            };
            assert_eq!(decision, case.expect.decision, "{at}: expected decision");
            assert_eq!(e.matched, case.expect.matched, "{at}: expected matched");
            cases += 1;
        }
    }
    assert!(cases > 1500, "the whole corpus ran: {cases} cases");
}

#[test]
fn issue16_explain_text_golden() {
    let o = ipe(&[
        "explain",
        "examples/seed",
        "--request",
        "ipe-cli/tests/golden/fixtures/seed-one-approval.json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check("explain/seed-one-approval.txt", &stdout(&o));
}

#[test]
fn issue16_explain_json_golden() {
    let o = ipe(&[
        "explain",
        "examples/seed",
        "--request",
        "ipe-cli/tests/golden/fixtures/seed-one-approval.json",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["engine_agrees"], true);
    check("explain/seed-one-approval.json", &stdout(&o));
}

/// The index, first-match groups, errors and `now` in the 14-policy and k8s bundles.
#[test]
fn issue16_explain_index_groups_and_errors_golden() {
    let o = ipe(&[
        "explain",
        "examples/policies",
        "--request",
        "ipe-cli/tests/golden/fixtures/policies-missing-attribute.json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check("explain/policies-missing-attribute.txt", &stdout(&o));
    let o = ipe(&[
        "explain",
        "tests/corpus/groups/firewall.ipe",
        "--request",
        "ipe-cli/tests/golden/fixtures/first-match.json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    check("explain/first-match.txt", &stdout(&o));
}

/// A missing indexed attribute: the index cannot rule the policy out; the trigger is an error
/// and the request is denied (fail closed).
#[test]
fn issue16_explain_missing_index_attribute_golden() {
    let o = ipe(&[
        "explain",
        "examples/seed",
        "--request",
        "ipe-cli/tests/golden/fixtures/seed-missing-type.json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("the request lacks it, so the index cannot rule the policy out"));
    assert!(out.contains("outcome: error: missing attribute `resource.type`"));
    check("explain/seed-missing-type.txt", &out);
}

#[test]
fn issue16_explain_rejects_a_request_that_is_not_an_object() {
    let o = ipe(&[
        "explain",
        "examples/seed",
        "--request",
        "ipe-cli/tests/golden/fixtures/not-an-object.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: malformed request: expected a JSON object\n"
    );
}

/// Issue #13, session 10: an `ip` field read through a dynamic key shows its value in
/// canonical text (an IPv4-mapped address as IPv4), as the engines compare it.
#[test]
fn issue13_explain_shows_an_ip_field_read_through_a_dynamic_key() {
    let o = ipe(&[
        "explain",
        "tests/corpus/maps/dynkey_ip.ipe",
        "--request",
        "ipe-cli/tests/golden/fixtures/dynkey-ip.json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains(r#"true  svc[want].addr == src   [want = "web", svc[want].addr = "10.0.0.1", src = "10.0.0.1"]"#),
        "{out}"
    );
}
