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

const NESTED: &str = r#"
default allow
schema {
  containers: list of max 4 {
    name: string
    ports: list of max 4 { port: int, hosts: list of string max 3 }
  }
}
policy FirstHost:
  "a port's first host is evil"
  triggers when any(c in containers where any(p in c.ports where p.hosts[0] == "evil"))
  denies
policy LastHost:
  "a port's last host is x"
  triggers when any(c in containers where any(p in c.ports where (p.hosts[-1] ?? "") == "x"))
  denies
"#;

/// Issue 13, session 10: positions on a nested element's list field (`p.hosts[0]` with `p` in
/// `c.ports`) are derived by the three readers alike; the typed builder derives them in the
/// nested records the caller gives.
#[test]
fn issue13_nested_element_positions_agree_in_the_three_readers() {
    let bytes = common::bundle(NESTED);
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let engine = PolicyEngine::from_bytes(bytes.clone()).expect("loads");
    let set = engine.load();
    let arena = Bump::new();
    let json = r#"{"containers": [{"name": "a", "ports": [{"port": 1, "hosts": ["a", "x"]},
                                                        {"port": 2, "hosts": ["evil"]}]}]}"#;
    let stream = set.report(&set.evaluate_json(json).expect("an object"));
    let value = ipe_host::request::parse_value(json).expect("valid JSON");
    let by_value = ipe_host::evaluate_json(&bundle, &value);
    assert_eq!(stream.to_json(), by_value.to_json());
    assert_eq!(
        summary(&stream),
        (
            vec!["FirstHost".to_owned(), "LastHost".to_owned()],
            Vec::new()
        )
    );
    // The nested records in the nested slot's field order, positions left missing: the
    // builder derives them.
    let ports_slot = bundle.slot("containers[].ports").expect("the nested slot");
    let stride = usize::from(bundle.slot_info(ports_slot).fields);
    let hosts_f = usize::from(bundle.field(ports_slot, "hosts").expect("hosts"));
    let port_f = usize::from(bundle.field(ports_slot, "port").expect("port"));
    let hosts1 = [
        Value::Str(bundle.intern("a")),
        Value::Str(bundle.intern("x")),
    ];
    let hosts2 = [Value::Str(bundle.intern("evil"))];
    let mut ports = vec![Value::Missing; 2 * stride];
    ports[hosts_f] = Value::List(&hosts1);
    ports[port_f] = Value::Int(1);
    ports[stride + hosts_f] = Value::List(&hosts2);
    ports[stride + port_f] = Value::Int(2);
    let mut req = set.request(&arena);
    req.records(
        "containers",
        [vec![
            ("name", Field::Str("a")),
            ("ports", Field::Nested(Value::Records(&ports))),
        ]],
    );
    let typed = set.report(&req.evaluate().expect("no attribute set twice"));
    assert_eq!(typed, stream);
}
