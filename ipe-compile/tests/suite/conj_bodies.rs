//! Issue #15: aggregate bodies that are a conjunction (or disjunction) of simple tests run
//! without the interpreter's dispatch loop (`ipe-nostd/src/vm/conj.rs`). Their decisions must
//! be the reference evaluator's for every mix of true, false, missing and wrong-typed elements,
//! for `count`, `any` and `all`, for one to five tests (five and more run through the loop),
//! and inside a nested aggregate whose tests read the outer element.

use ipe_testgen::backend::{Backend, Interp, PreparedInterp, Reference};
use serde_json::{json, Value};

const SCHEMA: &str = r#"default allow

schema {
  dept: string
  floor: int
  approvals: list of approver max 8 {
    role: string
    department: string
    level: int
    grade: enum ["low", "mid", "high"]
    tags: list of tag max 4 { name: string }
  }
}
"#;

/// The reference and interpreter decisions of `requires` over each request.
fn both(requires: &str, requests: &[Value]) -> Vec<(String, String)> {
    let source = format!("{SCHEMA}\npolicy P:\n  \"p\"\n  requires {requires}\n");
    let program = ipe_compile::compile_str(&[("conj.ipe", &source)])
        .unwrap_or_else(|e| panic!("{source}: {e:?}"));
    let compiled = ipe_compile::lower::lower(&program).expect("lowers to a verified bundle");
    let interp = Interp::new(&compiled.bytes).expect("verifies");
    // Issue #15, session 14: the chains evaluated in a prepared table decide the same.
    let prepared = PreparedInterp::new(&compiled.bytes).expect("verifies");
    requests
        .iter()
        .map(|r| {
            let decided = interp.decide(r).expect("decides");
            assert_eq!(
                prepared.decide(r).expect("decides"),
                decided,
                "{requires}: {r}"
            );
            (Reference(&program).decide(r).expect("decides"), decided)
        })
        .collect()
}

/// Requests whose elements make each test true, false, missing or of the wrong type.
fn requests() -> Vec<Value> {
    let el = |role: Value, dept: Value, level: Value, grade: Value| {
        let mut m = serde_json::Map::new();
        for (k, v) in [
            ("role", role),
            ("department", dept),
            ("level", level),
            ("grade", grade),
        ] {
            if !v.is_null() {
                m.insert(k.into(), v);
            }
        }
        m.insert("tags".into(), json!([{"name": "a"}, {"name": "b"}]));
        Value::Object(m)
    };
    let roles = [json!("senior"), json!("junior"), Value::Null, json!(7)];
    let depts = [json!("ops"), json!("payments"), Value::Null, json!(true)];
    let levels = [json!(3), json!(1), Value::Null, json!("x")];
    let grades = [json!("high"), json!("low"), Value::Null, json!("none")];
    let mut out = vec![
        json!({"dept": "payments", "floor": 2, "approvals": []}),
        json!({"dept": "payments", "floor": 2}),
        json!({"dept": "payments", "floor": 2, "approvals": "no"}),
    ];
    for (i, r) in roles.iter().enumerate() {
        for (j, d) in depts.iter().enumerate() {
            let l = &levels[(i + j) % 4];
            let g = &grades[(i + 2 * j) % 4];
            let a = el(r.clone(), d.clone(), l.clone(), g.clone());
            let b = el(
                roles[(i + 1) % 4].clone(),
                depts[(j + 3) % 4].clone(),
                levels[(i + j + 1) % 4].clone(),
                grades[j % 4].clone(),
            );
            out.push(json!({"dept": "payments", "floor": 2, "approvals": [a.clone(), b.clone()]}));
            out.push(json!({"dept": "payments", "approvals": [b, a]}));
        }
    }
    out
}

#[test]
fn issue15_conjunction_bodies_agree_with_the_reference() {
    let bodies = [
        // One test of each kind.
        r#"a.role == "senior""#,
        "a.department != dept",
        "a.level >= floor",
        "has a.role",
        r#"a.grade >= "mid""#,
        // Two to four tests (the seed policy's shape first).
        r#"a.role == "senior" and a.department != dept"#,
        r#"a.role == "senior" and a.level > 2 and has a.department"#,
        r#"a.role != "junior" and a.level >= floor and a.department != dept and a.grade <= "mid""#,
        r#"floor > 1 and a.role == "senior""#,
        // Five tests: not specialised, the same answers.
        r#"a.role != "x" and a.level >= 0 and a.department != dept and has a.grade and a.level < 9"#,
        // Disjunctions (the `or` chain, also specialised).
        r#"a.role == "senior" or a.department != dept"#,
        r#"a.level < 2 or has a.grade or floor == 2"#,
        // Neither: mixed chains and `not` run through the dispatch loop.
        r#"(a.role == "senior" or a.level > 2) and a.department != dept"#,
        r#"not (a.role == "senior" and a.level > 2)"#,
    ];
    let requests = requests();
    let mut compared = 0;
    for body in bodies {
        for requires in [
            format!("count(a in approvals where {body}) >= 1"),
            format!("any(a in approvals where {body})"),
            format!("all(a in approvals where {body})"),
            // A nested aggregate whose conjunction reads the outer element.
            format!("any(a in approvals where count(t in a.tags where t.name == \"a\" and {body}) == 1)"),
        ] {
            for (request, (reference, interp)) in requests.iter().zip(both(&requires, &requests)) {
                assert_eq!(reference, interp, "{requires}\n{request}");
                compared += 1;
            }
        }
    }
    assert!(compared > 1000);
}

/// Hand-derived answers for the seed policy's body shape: a false test decides an element
/// even when the other test is an error; errors decide only when no test is false.
#[test]
fn issue15_conjunction_body_false_absorbs_errors() {
    let requires = r#"count(a in approvals where a.role == "senior" and a.level > 2) >= 1"#;
    // The first element: role missing (an error) and level 1 (false): false, not an error.
    let [(reference, interp)] = <[_; 1]>::try_from(both(
        requires,
        &[json!({"dept": "d", "floor": 0, "approvals": [{"level": 1}, {"role": "senior", "level": 3}]})],
    ))
    .expect("one request");
    assert_eq!(reference, interp);
    assert!(interp.contains("\"decision\":\"allow\""), "{interp}");
    // Both tests errors in the only element: the clause is an error (fails closed).
    let [(reference, interp)] = <[_; 1]>::try_from(both(
        requires,
        &[json!({"dept": "d", "floor": 0, "approvals": [{"role": 1, "level": "x"}]})],
    ))
    .expect("one request");
    assert_eq!(reference, interp);
    assert!(interp.contains("\"decision\":\"deny\""), "{interp}");
    assert!(interp.contains("approvals"), "{interp}");
}
