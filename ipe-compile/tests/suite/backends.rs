//! The bundled examples on the reference evaluator and the interpreter, and device-sized
//! decisions (the corpus runs per file in `corpus.rs`).

use ipe_nostd::Bundle;
use ipe_testgen::backend::{Backend, Interp, Reference};

/// The bundled examples: every request's decision, from sources through the reference
/// evaluator and from the compiled bundle through the interpreter, equals `expected.jsonl`.
/// Each bundle compiles with its own `*.data.json` and `*.instances.json` files
/// (`ipe_testgen::examples`), as `examples/README.md` tells the CLI to.
#[test]
fn examples_give_their_expected_decisions_on_both_engines() {
    for name in ipe_testgen::examples::NAMES {
        let example = ipe_testgen::examples::Example::load(name).expect("example directory");
        let program = example.compile().expect("example compiles");
        let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
        let bundle = Bundle::from_bytes(&bytes).expect("verifies");
        let requests = example.lines("requests.jsonl").expect("requests");
        let expected = example.lines("expected.jsonl").expect("expectations");
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
            let interp = decide(&Interp(bundle.clone()));
            assert_eq!(reference, exp, "{name} request {}: reference", i + 1);
            assert_eq!(interp, exp, "{name} request {}: interpreter", i + 1);
        }
    }
}

/// Issue 13: the three v2 examples are in the list above, need what their directories hold
/// (the gateway's roles and tenants come from its JSON files), and decide every request.
#[test]
fn issue13_v2_examples_are_checked_with_their_inputs() {
    for name in ["k8s-admission", "api-gateway", "firewall"] {
        assert!(ipe_testgen::examples::NAMES.contains(&name), "{name}");
    }
    let gateway = ipe_testgen::examples::Example::load("api-gateway").expect("directory");
    assert_eq!(
        (gateway.data.len(), gateway.instances.len()),
        (1, 1),
        "roles.data.json and tenants.instances.json"
    );
    // Without its data file the gateway does not compile (`roles` is unknown).
    assert!(ipe_compile::compile_paths(std::slice::from_ref(&gateway.dir)).is_err());
    let program = gateway.compile().expect("compiles with its inputs");
    // The two tenant instances are policies of the bundle, after the sources' policies.
    let names: Vec<&str> = program.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.last().copied(), Some("GlobexTenant"), "{names:?}");
    assert!(names.contains(&"AcmeTenant"), "{names:?}");
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
