use ipe_host::{EngineOptions, PolicyEngine};
use ipe_nostd::Bundle;
use ipe_testgen::backend::{check_cases, Host, Interp, Reference};
use ipe_testgen::corpus::CompiledFile;

/// One corpus file: the host engine (default options, from the JSON text), the `ipe-nostd`
/// interpreter (from the parsed value) and the reference evaluator agree on every case.
fn engine_agrees_with_interpreter_and_reference(file: &CompiledFile) {
    let interp = Interp::new(&file.bytes).expect("lowered bundles verify");
    let host = Host::new("host", &file.bytes, EngineOptions::default()).expect("engine loads");
    check_cases(file, &[&Reference(&file.program), &interp, &host]);
}

/// Every corpus file with cases, one test each.
mod every_corpus_file {
    ipe_testgen::corpus_tests!(cases: super::engine_agrees_with_interpreter_and_reference);
}

/// JSON texts whose shape differs from the schema in every way the reader distinguishes.
const EDGE_REQUESTS: &[&str] = &[
    r#"{}"#,
    r#"{"resource": null, "environment": null, "approvals": null}"#,
    r#"{"resource": "Deployment", "environment": 3, "approvals": {}}"#,
    r#"{"resource": {"type": {"nested": true}, "risk_level": ["high"]}}"#,
    r#"{"resource": {"type": "Deployment", "risk_level": "extreme"}, "environment": "production"}"#,
    r#"{"resource": {"type": "Deploy\u006dent", "risk_level": "h\u0069gh"}, "environment": "producti\u006fn", "requester": {"department": "pay\nments"}, "approvals": []}"#,
    r#"{"resource": {"type": "Deployment", "risk_level": "high"}, "environment": "production", "requester": {"department": "x"}, "approvals": [null, 3, "s", [1], {"role": 1, "department": true}, {"role": "junior", "department": "y"}, {"ro\u006ce": "senior-engineer", "department": 1.5}]}"#,
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
        let value = ipe_host::request::parse_value(text).expect("valid JSON");
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
    // Rendered with each request's values, as `ipe eval` does (default reasons show them).
    let got: Vec<String> = requests
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match set.report_json(l) {
            Ok(r) => r.to_json(),
            Err(e) => e.to_string(),
        })
        .collect();
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

/// Requests repeating a key: at the root, in a nested object, in a record, in an unread
/// subtree, in an element past a list's `max`, and through an escape (`ro\u006ce` is `role`).
const DUPLICATE_KEY_REQUESTS: &[(&str, &str)] = &[
    (
        r#"{"resource": {"type": "Deployment", "risk_level": "high"}, "resource": {"type": "Pod"}, "environment": "production"}"#,
        "resource",
    ),
    (
        r#"{"resource": {"type": "Pod", "type": "Deployment"}, "environment": "staging"}"#,
        "type",
    ),
    (
        r#"{"approvals": [{"role": "senior-engineer", "ro\u006ce": "junior"}], "environment": "production"}"#,
        "role",
    ),
    (
        r#"{"extra": {"b": 1, "a": [{"z": 1, "z": 2}]}, "environment": "production"}"#,
        "z",
    ),
    (
        r#"{"environment": "production", "environment": "production"}"#,
        "environment",
    ),
];

#[test]
fn issue11_duplicate_keys_are_malformed_in_every_reader() {
    let bytes = crate::common::bundle_dir("examples/seed");
    let interpreted =
        PolicyEngine::with_options(bytes.clone(), ipe_host::EngineOptions::interpreter())
            .expect("loads");
    let default = PolicyEngine::from_bytes(bytes).expect("loads");
    for (text, key) in DUPLICATE_KEY_REQUESTS {
        let want = format!("malformed request: duplicate key `{key}`");
        let value = ipe_host::request::parse_value(text).expect_err("value path rejects");
        assert!(
            value.to_string().starts_with(&want),
            "value path on {text}: {value}"
        );
        for engine in [&interpreted, &default] {
            let e = engine
                .evaluate_json(text)
                .expect_err("one-pass reader rejects");
            assert!(
                matches!(
                    e.kind(),
                    ipe_host::ErrorKind::Request(ipe_host::RequestError::DuplicateKey(_))
                ),
                "{text}: {e}"
            );
            // The same message, at the same place, as the value path.
            assert_eq!(e.to_string(), value.to_string(), "{text}");
        }
    }
}

#[test]
fn issue11_typed_builder_rejects_a_path_set_twice() {
    let bytes = crate::common::bundle_dir("examples/seed");
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let set = engine.load();
    let arena = bumpalo::Bump::new();
    let mut req = set.request(&arena);
    req.str("environment", "production")
        .str("environment", "staging");
    let e = req.evaluate().expect_err("a path set twice is malformed");
    assert_eq!(
        e.to_string(),
        "malformed request: attribute `environment` is set twice"
    );
    let mut req = set.request(&arena);
    req.records(
        "approvals",
        [[
            ("role", ipe_host::Field::Str("senior-engineer")),
            ("role", ipe_host::Field::Str("junior")),
        ]],
    );
    let e = req.evaluate().expect_err("a field set twice is malformed");
    assert_eq!(
        e.to_string(),
        "malformed request: attribute `approvals[].role` is set twice"
    );
}

#[test]
fn issue11_integer_valued_numbers_are_ints_in_every_reader() {
    let bytes = crate::common::bundle_dir("examples/seed");
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    let set = engine.load();
    // `department` is a string: an integer-valued number is reported as an int there.
    for (text, got) in [
        (r#"{"requester": {"department": 1.0}}"#, "int"),
        (r#"{"requester": {"department": 1e0}}"#, "int"),
        (r#"{"requester": {"department": -0}}"#, "int"),
        (r#"{"requester": {"department": 0.5e1}}"#, "int"),
        (r#"{"requester": {"department": 1.5}}"#, "float"),
        (
            r#"{"requester": {"department": 9007199254740992.0}}"#,
            "float",
        ),
        (
            r#"{"requester": {"department": 18446744073709551615}}"#,
            "float",
        ),
    ] {
        let value = ipe_host::request::parse_value(text).expect("valid");
        let kind = ipe_host::request::json_kind(&value["requester"]["department"]);
        assert_eq!(format!("{kind:?}").to_lowercase(), got, "{text}");
        let nostd = ipe_host::evaluate_json(&bundle, &value).to_json();
        let d = set.evaluate_json(text).expect("an object");
        assert_eq!(set.report(&d).to_json(), nostd, "{text}");
    }
}

#[test]
fn issue11_a_list_past_its_max_is_read_without_being_kept() {
    let bytes = crate::common::bundle_dir("examples/seed");
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let set = engine.load();
    // 100 000 records against the default max of 256: only the first 256 may be kept.
    let item = r#"{"role": "senior-engineer", "department": "security"},"#;
    let mut text = String::from(r#"{"environment": "production", "approvals": ["#);
    text.push_str(&item.repeat(100_000));
    text.push_str(r#"{"role": "x", "department": "y"}]}"#);
    let arena = bumpalo::Bump::new();
    let values = set.parse_json(&text, &arena).expect("an object");
    assert!(
        values.contains(&ipe_nostd::Value::Invalid(ipe_nostd::ErrKind::TooLong)),
        "the list is too long"
    );
    // Kept: 256 records of 2 fields; materialising all of them would take megabytes.
    assert!(
        arena.allocated_bytes() < 256 * 1024,
        "arena holds {} bytes for a {}-byte request",
        arena.allocated_bytes(),
        text.len()
    );
    // A duplicate key past the bound is still found.
    let dup = text.replace(
        r#"{"role": "x", "department": "y"}"#,
        r#"{"role": "x", "role": "y"}"#,
    );
    assert!(set.parse_json(&dup, &bumpalo::Bump::new()).is_err());
}

/// Issue 13: every bundle under `examples/` (compiled with its `*.data.json` and
/// `*.instances.json` files) on the host engine, from each request's JSON text through the
/// one-pass reader, reasons rendered with the request's values: `expected.jsonl`, line by line.
#[test]
fn issue13_every_example_matches_its_expectations_on_the_host_engine() {
    for name in ipe_testgen::examples::NAMES {
        let example = ipe_testgen::examples::Example::load(name).expect("example directory");
        let program = example.compile().expect("example compiles");
        let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
        let engine = PolicyEngine::from_bytes(bytes).expect("loads");
        let set = engine.load();
        let requests = example.lines("requests.jsonl").expect("requests");
        let expected = example.lines("expected.jsonl").expect("expectations");
        assert_eq!(requests.len(), expected.len(), "{name}");
        for (i, (req, exp)) in requests.iter().zip(&expected).enumerate() {
            let got = set.report_json(req).expect("a decision").to_json();
            let got: serde_json::Value = serde_json::from_str(&got).expect("report is JSON");
            let exp: serde_json::Value = serde_json::from_str(exp).expect("expected is JSON");
            assert_eq!(got, exp, "{name} request {}", i + 1);
        }
    }
}
