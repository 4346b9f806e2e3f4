use ipe_compile::{compile_str, evaluate, hir::Program};
use serde_json::{json, Value};

pub const SCHEMA: &str = r#"schema {
  resource.type: string
  environment: string
  resource.risk_level: enum ["low", "medium", "high", "critical"]
  requester.department: string
  approvals: list of approver { role: string, department: string }
}
"#;

pub const SEED: &str = r#"policy RequireApproval:
  "Production deployments need 2+ approvals from senior engineers"
  triggers when
    resource.type == "Deployment"
    and environment in ["production", "staging"]
    and resource.risk_level >= "medium"
  requires
    approvals.count >= 2
    where approver.role == "senior-engineer"
    and approver.department != requester.department
"#;

pub fn program() -> Program {
    compile_str(&[("schema.ipe", SCHEMA), ("seed.ipe", SEED)]).unwrap()
}

fn decide(req: Value) -> Value {
    serde_json::from_str(&evaluate(&program(), &req).to_json()).unwrap()
}

fn approvals(list: &[(&str, &str)]) -> Value {
    list.iter()
        .map(|(r, d)| json!({"role": r, "department": d}))
        .collect()
}

fn request(risk: Value, appr: Value) -> Value {
    json!({"resource": {"type": "Deployment", "risk_level": risk}, "environment": "production",
           "requester": {"department": "eng"}, "approvals": appr})
}

const INTENT: &str = "Production deployments need 2+ approvals from senior engineers";

#[test]
fn allowed() {
    let d = decide(request(
        json!("high"),
        approvals(&[("senior-engineer", "ops"), ("senior-engineer", "sec")]),
    ));
    assert_eq!(
        d,
        json!({"decision": "allow", "matched": ["RequireApproval"], "violations": [], "errors": []})
    );
}

#[test]
fn denied_reports_the_clause_and_count() {
    let d = decide(request(
        json!("medium"),
        approvals(&[
            ("senior-engineer", "eng"),
            ("senior-engineer", "ops"),
            ("junior", "ops"),
        ]),
    ));
    let reason = "requirement not met: approvals.count >= 2 where approver.role == \"senior-engineer\" and approver.department != requester.department (found 1)";
    assert_eq!(
        d,
        json!({"decision": "deny", "matched": ["RequireApproval"],
        "violations": [{"policy": "RequireApproval", "intent": INTENT, "reason": reason}], "errors": []})
    );
}

#[test]
fn not_applicable_falls_back_to_default_deny() {
    let d = decide(request(json!("low"), approvals(&[])));
    assert_eq!(
        d,
        json!({"decision": "deny", "matched": [], "violations": [], "errors": []})
    );
}

#[test]
fn missing_attribute_is_an_error() {
    let d = decide(json!({"resource": {"type": "Deployment"}, "environment": "staging"}));
    assert_eq!(
        d["errors"],
        json!([{"policy": "RequireApproval", "error": "missing attribute `resource.risk_level`"}])
    );
    assert_eq!(d["decision"], "deny");
}

#[test]
fn out_of_enum_is_an_error() {
    let d = decide(request(json!("extreme"), approvals(&[])));
    assert_eq!(
        d["errors"][0]["error"],
        "attribute `resource.risk_level` is not one of \"low\", \"medium\", \"high\", \"critical\""
    );
}

#[test]
fn false_trigger_conjunct_absorbs_errors() {
    // Missing risk level, but the environment is not production: not applicable, no error.
    let d = decide(json!({"resource": {"type": "Deployment"}, "environment": "dev"}));
    assert_eq!(
        d,
        json!({"decision": "deny", "matched": [], "violations": [], "errors": []})
    );
}

#[test]
fn element_field_errors_name_the_list() {
    let d = decide(request(json!("high"), json!([{"role": "senior-engineer"}])));
    assert_eq!(
        d["errors"][0]["error"],
        "missing attribute `approvals[].department`"
    );
    let d = decide(request(json!("high"), json!(["x"])));
    assert_eq!(
        d["errors"][0]["error"],
        "attribute `approvals[].department` cannot be read: element is a string, expected a record"
    );
}
