//! The bundled examples on the reference evaluator and the interpreter, and device-sized
//! decisions (the corpus runs per file in `corpus.rs`).

use ipe_nostd::Bundle;
use ipe_testgen::backend::{Backend, Interp, Reference};

/// The bundled examples: every request's decision, from sources through the reference
/// evaluator and from the compiled bundle through the interpreter, equals `expected.jsonl`.
#[test]
fn examples_give_their_expected_decisions_on_both_engines() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for name in ["seed", "policies"] {
        let dir = root.join(name);
        let program =
            ipe_compile::compile_paths(std::slice::from_ref(&dir)).expect("example compiles");
        let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
        let bundle = Bundle::from_bytes(&bytes).expect("verifies");
        let requests = std::fs::read_to_string(dir.join("requests.jsonl")).unwrap();
        let expected = std::fs::read_to_string(dir.join("expected.jsonl")).unwrap();
        let requests: Vec<&str> = requests.lines().filter(|l| !l.trim().is_empty()).collect();
        let expected: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            requests.len(),
            expected.len(),
            "{name}: one expectation per request"
        );
        for (i, (req, exp)) in requests.iter().zip(&expected).enumerate() {
            let req: serde_json::Value = serde_json::from_str(req).unwrap();
            let exp: serde_json::Value = serde_json::from_str(exp).unwrap();
            let decide = |b: &dyn Backend| -> serde_json::Value {
                serde_json::from_str(&b.decide(&req).unwrap()).unwrap()
            };
            let reference = decide(&Reference(&program));
            let interp = decide(&Interp(bundle));
            assert_eq!(reference, exp, "{name} request {}: reference", i + 1);
            assert_eq!(interp, exp, "{name} request {}: interpreter", i + 1);
        }
    }
}

/// Issue 11: a device-sized decision (`Decision<M>`, small `M`) on the 300-policy corpus
/// bundle keeps the `M` smallest ids, counts what it left out, and renders that count.
#[test]
fn issue11_device_decision_reports_its_truncated_count() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/decisions");
    let program =
        ipe_compile::compile_paths(&[format!("{root}/many_policies.ipe").into()]).unwrap();
    let bytes = ipe_compile::lower::lower(&program).unwrap().bytes;
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    let mut ctx = ipe_nostd::Context::<4>::new();
    ctx.set(bundle.slot("x").unwrap(), ipe_nostd::Value::Int(2));
    let d: ipe_nostd::Decision<4> = ipe_nostd::evaluate(&bundle, &ctx);
    assert_eq!(d.effect, ipe_nostd::Effect::Deny);
    assert_eq!(d.matched.as_slice(), &[0, 1, 2, 3]);
    assert_eq!(d.violations.len(), 4);
    assert_eq!(d.truncated, 2 * (300 - 4));
    let json = ipe_compile::Report::new(&bundle, &d).to_json();
    assert!(json.ends_with(r#","truncated":592}"#), "{json}");
    // The host's own decision for the same request is complete.
    let full = Interp(bundle).decide(&serde_json::json!({"x": 2})).unwrap();
    let value: serde_json::Value = serde_json::from_str(&full).unwrap();
    assert_eq!(
        (
            value["matched"].as_array().map(Vec::len),
            value["violations"].as_array().map(Vec::len)
        ),
        (Some(300), Some(300))
    );
    assert!(!full.contains("truncated"));
}
