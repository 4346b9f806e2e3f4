//! Issue 13, lists: quantifiers over lists of scalars and set operators through the host's
//! three request readers (one-pass JSON, `serde_json::Value`, typed builder) and its JIT.

use bumpalo::Bump;
use ipe_host::{CodeTier, EngineOptions, JitTier, PolicyEngine};
use ipe_nostd::{Bundle, Effect};

use crate::common;

pub(crate) const TAGS: &str = r#"
default allow
schema {
  tags: list of string max 4
  allowed: list of string
  ports: list of int
}
policy KnownTags:
  "every tag is allowed"
  triggers when all(t in tags where t in allowed)
  denies
policy HighPorts:
  "two ports above 1024"
  triggers when count(p in ports where p > 1024) >= 2
  denies
policy Required:
  "tags hold a and b"
  triggers when tags contains_all ["a", "b"] and ports subset_of [80, 443, 8080, 9090]
  denies
"#;

/// A typed request: `tags`, `ports`, `allowed` (absent when `None`), and the same request as
/// JSON.
type Typed = (
    &'static [&'static str],
    &'static [i64],
    Option<&'static [&'static str]>,
    &'static str,
);

/// Valid lists, a tag outside `allowed`, `tags` too long, `allowed` missing.
const REQUESTS: &[Typed] = &[
    (
        &["a", "b"],
        &[8080, 9090],
        Some(&["a", "b", "c"]),
        r#"{"tags": ["a", "b"], "ports": [8080, 9090], "allowed": ["a", "b", "c"]}"#,
    ),
    (
        &["a", "z"],
        &[80],
        Some(&["a"]),
        r#"{"tags": ["a", "z"], "ports": [80], "allowed": ["a"]}"#,
    ),
    (
        &["a", "b", "c", "d", "e"],
        &[],
        Some(&[]),
        r#"{"tags": ["a", "b", "c", "d", "e"], "ports": [], "allowed": []}"#,
    ),
    (
        &[],
        &[1025, 1026, 1],
        None,
        r#"{"tags": [], "ports": [1025, 1026, 1]}"#,
    ),
];

#[test]
fn issue13_the_three_readers_agree_on_scalar_quantifiers() {
    let bytes = common::bundle(TAGS);
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    let set = engine.load();
    let arena = Bump::new();
    for (tags, ports, allowed, json) in REQUESTS {
        let stream = set.report(&set.evaluate_json(json).expect("an object"));
        let value = ipe_host::request::parse_value(json).expect("valid JSON");
        let by_value = ipe_host::evaluate_json(&bundle, &value);
        assert_eq!(stream.to_json(), by_value.to_json(), "{json}");
        let mut req = set.request(&arena);
        req.strs("tags", tags.iter().copied());
        let port_values: Vec<ipe_nostd::Value<'_>> =
            ports.iter().map(|&p| ipe_nostd::Value::Int(p)).collect();
        let ports_slot = bundle.slot("ports").expect("a slot");
        req.set_value(ports_slot, ipe_nostd::Value::List(&port_values));
        if let Some(a) = allowed {
            req.strs("allowed", a.iter().copied());
        }
        let typed = set.report(&req.evaluate().expect("no attribute set twice"));
        assert_eq!(typed, stream, "{json}");
    }
    // Invalid elements: the readers agree, and the error names the list.
    let json = r#"{"tags": ["a", 3], "ports": [80, "x"], "allowed": ["a"]}"#;
    let stream = set.report(&set.evaluate_json(json).expect("an object"));
    let value = ipe_host::request::parse_value(json).expect("valid JSON");
    assert_eq!(
        stream.to_json(),
        ipe_host::evaluate_json(&bundle, &value).to_json()
    );
    let errors: Vec<&str> = stream.errors.iter().map(|e| e.error.as_str()).collect();
    assert_eq!(
        errors,
        [
            "attribute `tags` has the wrong type: expected string, got int",
            "attribute `ports` has the wrong type: expected int, got string",
            "attribute `ports` has the wrong type: expected int, got string",
        ]
    );
}

#[test]
fn issue13_scalar_quantifiers_run_as_native_code() {
    if !cfg!(feature = "jit") {
        return;
    }
    for tier in [JitTier::Baseline, JitTier::Optimized] {
        let engine = PolicyEngine::with_options(common::bundle(TAGS), EngineOptions::jit_all(tier))
            .expect("loads");
        let set = engine.load();
        for id in 0..3 {
            assert_ne!(
                set.code_tier(id),
                CodeTier::Interpreter,
                "policy {id} at {tier:?}"
            );
        }
        let d = set.evaluate_json(REQUESTS[0].3).expect("an object");
        assert_eq!(d.effect, Effect::Deny);
        assert_eq!(set.report(&d).violations.len(), 3);
    }
}
