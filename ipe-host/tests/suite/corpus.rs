use ipe_compile::corpus;
use ipe_host::PolicyEngine;
use ipe_nostd::Bundle;

#[test]
fn engine_agrees_with_interpreter_and_reference_on_every_corpus_case() {
    let files = corpus::compiled(&corpus::default_root()).expect("corpus loads and compiles");
    let mut failures = Vec::new();
    let mut cases = 0;
    for file in &files {
        let (program, list) = (&file.program, &file.cases);
        let bytes = file.bytes.clone();
        let bundle = Bundle::from_bytes(&bytes).expect("lowered bundles verify");
        let engine = PolicyEngine::from_bytes(bytes.clone()).expect("engine loads");
        let set = engine.load();
        for case in list {
            cases += 1;
            let reference = ipe_compile::evaluate(program, &case.request).to_json();
            let nostd = ipe_host::evaluate_json(&bundle, &case.request).to_json();
            let text = case.request.to_string();
            let host = match set.evaluate_json(&text) {
                Ok(d) => set.report(&d).to_json(),
                Err(e) => format!("error: {e}"),
            };
            if reference != nostd || reference != host {
                failures.push(format!(
                    "{} / {}:\n  request:   {text}\n  reference: {reference}\n  nostd:     {nostd}\n  host:      {host}",
                    file.id, case.name
                ));
            }
        }
    }
    assert!(cases >= 100, "only {cases} corpus cases found");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// JSON texts whose shape differs from the schema in every way the reader distinguishes.
const EDGE_REQUESTS: &[&str] = &[
    r#"{}"#,
    r#"{"resource": null, "environment": null, "approvals": null}"#,
    r#"{"resource": "Deployment", "environment": 3, "approvals": {}}"#,
    r#"{"resource": {"type": {"nested": true}, "risk_level": ["high"]}}"#,
    r#"{"resource": {"type": "Deployment", "risk_level": "extreme"}, "environment": "production"}"#,
    r#"{"resource": {"type": "Deploy\u006dent", "risk_level": "h\u0069gh"}, "environment": "producti\u006fn", "requester": {"department": "pay\nments"}, "approvals": []}"#,
    r#"{"resource": {"type": "Deployment", "risk_level": "high"}, "resource": {"type": "Pod"}, "environment": "production"}"#,
    r#"{"resource": {"type": "Pod"}, "resource": {"type": "Deployment", "risk_level": "critical"}, "environment": "staging", "approvals": [{"role": "senior-engineer", "department": "a"}, {"role": "senior-engineer", "department": "b"}]}"#,
    r#"{"resource": {"type": "Deployment", "risk_level": "high"}, "environment": "production", "requester": {"department": "x"}, "approvals": [null, 3, "s", [1], {"role": 1, "department": true}, {"role": "senior-engineer", "role": "junior", "department": "y"}, {"ro\u006ce": "senior-engineer", "department": 1.5}]}"#,
    r#"{"resource": {"type": "Deployment", "risk_level": "medium"}, "environment": "production", "requester": {"department": 18446744073709551615}, "approvals": [{"role": "senior-engineer", "department": -0}, {"role": "senior-engineer", "department": 1e3, "extra": {"deep": [1, {"x": 2}]}}]}"#,
    r#"{"extra": [1, 2, {"a": "b"}], "resource": {"type": "Deployment", "risk_level": "low", "more": null}, "environment": "production"}"#,
];

#[test]
fn json_reader_matches_the_value_path_on_edge_cases() {
    let bytes = crate::common::bundle_dir("examples/seed");
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    let set = engine.load();
    for text in EDGE_REQUESTS {
        let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
        let expected = ipe_host::evaluate_json(&bundle, &value).to_json();
        let d = set.evaluate_json(text).expect("an object");
        assert_eq!(set.report(&d).to_json(), expected, "request {text}");
    }
}

#[test]
fn realistic_example_bundle_matches_its_expectations() {
    let bytes = crate::common::bundle_dir("examples/policies");
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policies");
    let requests = std::fs::read_to_string(root.join("requests.jsonl")).expect("requests");
    let expected = std::fs::read_to_string(root.join("expected.jsonl")).expect("expected");
    let set = engine.load();
    let mut got = Vec::new();
    set.evaluate_lines(requests.as_bytes(), |_, d| {
        got.push(match d {
            Ok(d) => set.report(d).to_json(),
            Err(e) => e.to_string(),
        });
    })
    .expect("reads");
    let want: Vec<serde_json::Value> = expected
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("expected line is JSON"))
        .collect();
    let got: Vec<serde_json::Value> = got
        .iter()
        .map(|l| serde_json::from_str(l).expect("report is JSON"))
        .collect();
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "request {}", i + 1);
    }
}
