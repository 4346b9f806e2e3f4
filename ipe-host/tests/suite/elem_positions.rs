//! Issue 13, session 9: positions on an element's list field (`c.args[0]`,
//! `c.ports[-1].port`) are fields derived in each element by the three request readers
//! (one-pass JSON, `serde_json::Value`, typed builder), which must agree.

use bumpalo::Bump;
use ipe_host::{Field, PolicyEngine};
use ipe_nostd::{Bundle, Value};

use crate::common;

const SOURCE: &str = r#"
default allow
schema {
  containers: list of max 4 {
    name: string
    args: list of string max 3
    ports: list of max 4 { port: int }
  }
}
policy FirstArg:
  "a container runs"
  triggers when any(c in containers where c.args[0] == "run")
  denies
policy LastPort:
  "a container's last port is 443"
  triggers when any(c in containers where c.ports[-1].port == 443)
  denies
policy NoSecond:
  "every container has at most one arg"
  triggers when all(c in containers where (c.args[1] ?? "none") == "none")
  denies
"#;

fn summary(r: &ipe_host::Report) -> (Vec<String>, Vec<String>) {
    (
        r.violations.iter().map(|v| v.policy.clone()).collect(),
        r.errors
            .iter()
            .map(|e| format!("{}: {}", e.policy, e.error))
            .collect(),
    )
}

#[test]
fn issue13_element_positions_agree_in_the_three_readers() {
    let bytes = common::bundle(SOURCE);
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    let set = engine.load();
    let arena = Bump::new();
    let json = r#"{"containers": [{"name": "a", "args": ["run"], "ports": [{"port": 80}, {"port": 443}]},
                                  {"name": "b", "args": "x"}]}"#;
    let stream = set.report(&set.evaluate_json(json).expect("an object"));
    let value = ipe_host::request::parse_value(json).expect("valid JSON");
    let by_value = ipe_host::evaluate_json(&bundle, &value);
    assert_eq!(stream.to_json(), by_value.to_json());
    assert_eq!(
        summary(&stream),
        (
            vec!["FirstArg".to_owned(), "LastPort".to_owned()],
            vec![
                "NoSecond: attribute `containers[].args[1]` has the wrong type: expected list, got string"
                    .to_owned()
            ]
        )
    );
    // The same request through the typed builder: the positions are derived from the list
    // fields given, never set by the caller.
    let args = [Value::Str(bundle.intern("run"))];
    let ports = [Value::Int(80), Value::Int(443)];
    let mut req = set.request(&arena);
    req.records(
        "containers",
        [
            vec![
                ("name", Field::Str("a")),
                ("args", Field::Nested(Value::List(&args))),
                ("ports", Field::Nested(Value::Records(&ports))),
            ],
            vec![("name", Field::Str("b")), ("args", Field::Str("x"))],
        ],
    );
    let typed = set.report(&req.evaluate().expect("no attribute set twice"));
    assert_eq!(typed, stream);
}
