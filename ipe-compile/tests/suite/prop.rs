//! The reference evaluator against a hand-written encoding of the seed policy.

use super::seed::program;
use ipe_compile::evaluate;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// An optional JSON value drawn from a few interesting choices.
fn pick(choices: Vec<Value>) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![1 => Just(None), 6 => proptest::sample::select(choices).prop_map(Some)]
}

fn approval() -> impl Strategy<Value = Value> {
    (
        pick(vec![json!("senior-engineer"), json!("junior"), json!(3)]),
        pick(vec![json!("eng"), json!("ops"), json!(null)]),
    )
        .prop_map(|(r, d)| {
            let mut m = Map::new();
            if let Some(r) = r {
                m.insert("role".into(), r);
            }
            if let Some(d) = d {
                m.insert("department".into(), d);
            }
            Value::Object(m)
        })
}

fn request() -> impl Strategy<Value = Value> {
    (
        pick(vec![json!("Deployment"), json!("Job")]),
        pick(vec![json!("production"), json!("staging"), json!("dev")]),
        pick(vec![
            json!("low"),
            json!("medium"),
            json!("high"),
            json!("critical"),
            json!("bogus"),
            json!(2),
        ]),
        pick(vec![json!("eng"), json!("ops")]),
        proptest::option::of(proptest::collection::vec(approval(), 0..5)),
    )
        .prop_map(|(ty, env, risk, dept, appr)| {
            let mut resource = Map::new();
            if let Some(t) = ty {
                resource.insert("type".into(), t);
            }
            if let Some(r) = risk {
                resource.insert("risk_level".into(), r);
            }
            let mut req = Map::new();
            req.insert("resource".into(), Value::Object(resource));
            if let Some(e) = env {
                req.insert("environment".into(), e);
            }
            if let Some(d) = dept {
                req.insert("requester".into(), json!({"department": d}));
            }
            if let Some(a) = appr {
                req.insert("approvals".into(), Value::Array(a));
            }
            Value::Object(req)
        })
}

/// Truth with the error as (path order key, text): paths order as the slots do.
#[derive(Clone, Debug, PartialEq)]
enum T {
    True,
    False,
    Err(u8, String),
}

fn and(ts: Vec<T>) -> T {
    if ts.contains(&T::False) {
        return T::False;
    }
    ts.into_iter()
        .filter(|t| matches!(t, T::Err(..)))
        // Smaller path first, then missing before invalid (then the text, for a total order).
        .min_by_key(|t| match t {
            T::Err(k, s) => (*k, !s.starts_with("missing"), s.clone()),
            _ => (0, false, String::new()),
        })
        .unwrap_or(T::True)
}

fn string_attr(v: Option<&Value>, key: u8, path: &str) -> Result<String, T> {
    match v {
        None | Some(Value::Null) => Err(T::Err(key, format!("missing attribute `{path}`"))),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(_)) => Err(T::Err(
            key,
            format!("attribute `{path}` has the wrong type: expected string, got int"),
        )),
        Some(_) => Err(T::Err(
            key,
            format!("attribute `{path}` has the wrong type: expected string, got other"),
        )),
    }
}

/// Slot order: approvals(0) < approvals[].department(1) < approvals[].role(2) < environment(3)
/// < requester.department(4) < resource.risk_level(5) < resource.type(6).
fn oracle(req: &Value) -> Value {
    let get = |p: &str| p.split('.').try_fold(req, |v, s| v.get(s));
    let eq = |r: Result<String, T>, want: &[&str]| match r {
        Ok(s) => {
            if want.contains(&s.as_str()) {
                T::True
            } else {
                T::False
            }
        }
        Err(e) => e,
    };
    let ty = eq(
        string_attr(get("resource.type"), 6, "resource.type"),
        &["Deployment"],
    );
    let env = eq(
        string_attr(get("environment"), 3, "environment"),
        &["production", "staging"],
    );
    let risk = match get("resource.risk_level") {
        None | Some(Value::Null) => T::Err(5, "missing attribute `resource.risk_level`".into()),
        Some(Value::String(s)) => match s.as_str() {
            "low" => T::False,
            "medium" | "high" | "critical" => T::True,
            _ => T::Err(5, "attribute `resource.risk_level` is not one of \"low\", \"medium\", \"high\", \"critical\"".into()),
        },
        Some(_) => T::Err(5, "attribute `resource.risk_level` has the wrong type: expected enum, got int".into()),
    };
    let mut out = json!({"decision": "deny", "matched": [], "violations": [], "errors": []});
    match and(vec![ty, env, risk]) {
        T::False => return out,
        T::Err(_, e) => {
            out["errors"] = json!([{"policy": "RequireApproval", "error": e}]);
            return out;
        }
        T::True => out["matched"] = json!(["RequireApproval"]),
    }
    let requester = string_attr(get("requester.department"), 4, "requester.department");
    let count = match get("approvals") {
        None | Some(Value::Null) => Err(T::Err(0, "missing attribute `approvals`".into())),
        Some(Value::Array(items)) => {
            let mut n = 0;
            let mut errs = Vec::new();
            for item in items {
                let role = eq(
                    string_attr(item.get("role"), 2, "approvals[].role"),
                    &["senior-engineer"],
                );
                let dept = match (
                    string_attr(item.get("department"), 1, "approvals[].department"),
                    requester.clone(),
                ) {
                    (Ok(d), Ok(r)) => {
                        if d != r {
                            T::True
                        } else {
                            T::False
                        }
                    }
                    (Err(e), Err(f)) => and(vec![e, f]),
                    (Err(e), _) | (_, Err(e)) => e,
                };
                match and(vec![role, dept]) {
                    T::True => n += 1,
                    T::False => {}
                    e => errs.push(e),
                }
            }
            if errs.is_empty() {
                Ok(n)
            } else {
                Err(and(errs))
            }
        }
        Some(_) => Err(T::Err(0, "attribute `approvals` has the wrong type".into())),
    };
    match count {
        Ok(n) if n >= 2 => out["decision"] = json!("allow"),
        Ok(n) => {
            out["violations"] = json!([{"policy": "RequireApproval",
            "intent": "Production deployments need 2+ approvals from senior engineers",
            "reason": format!("requirement not met: approvals.count >= 2 where approver.role == \"senior-engineer\" and approver.department != requester.department (found {n})")}])
        }
        Err(T::Err(_, e)) => out["errors"] = json!([{"policy": "RequireApproval", "error": e}]),
        Err(_) => {}
    }
    out
}

/// Found by this test: the oracle ordered two errors on one field by their text, so "attribute
/// .. has the wrong type" beat "missing attribute ..", against the spec's missing-first rule.
#[test]
fn oracle_orders_missing_before_invalid_on_one_field() {
    let req = json!({"approvals": [{"department": "eng", "role": 3}, {"department": "eng"}],
        "environment": "production",
        "resource": {"risk_level": "medium", "type": "Deployment"}});
    let got: Value = serde_json::from_str(&evaluate(&program(), &req).to_json()).unwrap();
    assert_eq!(got, oracle(&req));
    assert_eq!(
        got["errors"][0]["error"],
        "missing attribute `approvals[].role`"
    );
}

proptest! {
    #[test]
    fn seed_policy_matches_the_oracle(req in request()) {
        let program = program();
        let got: Value = serde_json::from_str(&evaluate(&program, &req).to_json()).unwrap();
        prop_assert_eq!(got, oracle(&req), "request {}", req);
    }
}
