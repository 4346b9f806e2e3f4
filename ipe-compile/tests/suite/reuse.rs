//! Issue #13, reuse: `def` items across files, aggregates over several lists, templates and
//! their instances from sources and JSON instance files, and where their errors point.

use ipe_compile::{compile_sources, compile_sources_with, CompileOptions, InstanceSource};
use serde_json::json;

const SCHEMA: &str = r#"schema {
  environment: string
  replicas: int
  spec.containers: list of c max 4 {
    name: string
    privileged: bool
  }
}
"#;

const TEMPLATE: &str = r#"
policy template MaxReplicas(limit: int, who: string, envs: list of string):
  "team {who} runs at most {limit} replicas in {envs}"
  triggers when environment in envs
  requires replicas <= limit with reason "{who}: too many replicas"
"#;

fn with_instances(
    json: &str,
) -> (
    Option<ipe_compile::hir::Program>,
    Vec<ipe_compile::Diagnostic>,
) {
    let options = CompileOptions {
        instances: vec![InstanceSource {
            name: "constraints.json".to_owned(),
            text: json.to_owned(),
        }],
        ..CompileOptions::default()
    };
    compile_sources_with(&[("schema.ipe", SCHEMA), ("t.ipe", TEMPLATE)], &options)
}

#[test]
fn issue13_json_instances_are_policies_with_rendered_intents() {
    let (program, diags) = with_instances(
        r#"[{"name": "Prod", "template": "MaxReplicas", "args": {"limit": 3, "who": "web", "envs": ["prod"]}},
            {"name": "Dev", "template": "MaxReplicas", "args": {"envs": ["dev", "test"], "who": "web", "limit": 10}}]"#,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let program = program.unwrap();
    let names: Vec<&str> = program.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Prod", "Dev"]);
    assert_eq!(
        program.policies[0].intent,
        "team web runs at most 3 replicas in prod"
    );
    assert_eq!(
        program.policies[1].intent,
        "team web runs at most 10 replicas in dev, test"
    );
    let r = ipe_compile::evaluate(&program, &json!({"environment": "prod", "replicas": 4}));
    assert_eq!(r.matched, ["Prod"]);
    assert_eq!(r.violations.len(), 1);
    assert_eq!(r.violations[0].reason, "web: too many replicas");
    assert_eq!(
        r.violations[0].intent,
        "team web runs at most 3 replicas in prod"
    );
    let r = ipe_compile::evaluate(&program, &json!({"environment": "test", "replicas": 4}));
    assert_eq!(r.matched, ["Dev"]);
    assert!(r.violations.is_empty());
    // The bundle compiles and verifies like any other.
    ipe_compile::lower::lower(&program).unwrap();
}

#[test]
fn issue13_json_instance_errors_point_into_the_json_file() {
    let (program, diags) = with_instances(
        r#"[
  {"name": "Prod", "template": "MaxReplicas", "args": {"limit": "3", "who": "web", "envs": ["prod"]}}
]"#,
    );
    assert!(program.is_none());
    let d = &diags[0];
    assert_eq!(d.file(), "constraints.json");
    assert!(
        d.message()
            .contains("parameter `limit` of template `MaxReplicas` is int, found string"),
        "{}",
        d.message()
    );
    assert!(
        d.message()
            .contains("instance `Prod` in `constraints.json`"),
        "{}",
        d.message()
    );
    assert_eq!(d.underlined(), "\"Prod\"");
    assert_eq!(d.line_col(), (2, 12));

    let (_, diags) = with_instances(r#"[{"name": "Prod", "template": "MaxReplica", "args": {}}]"#);
    assert!(
        diags[0]
            .message()
            .starts_with("unknown template `MaxReplica`"),
        "{}",
        diags[0].message()
    );
    assert_eq!(diags[0].help(), Some("did you mean `MaxReplicas`?"));

    let (_, diags) = with_instances(
        r#"[{"name": "Prod", "template": "MaxReplicas", "args": {"limit": 1, "who": "x"}}]"#,
    );
    assert!(
        diags[0].message().contains("missing argument `envs`"),
        "{}",
        diags[0].message()
    );
    assert_eq!(diags[0].file(), "constraints.json");

    let (_, diags) =
        with_instances(r#"[{"name": "prod-repos", "template": "MaxReplicas", "args": {}}]"#);
    assert!(
        diags[0].message().contains("is not a policy name"),
        "{}",
        diags[0].message()
    );

    let (_, diags) = with_instances("[{\"name\": ");
    assert!(
        diags[0].message().contains("is not valid JSON"),
        "{}",
        diags[0].message()
    );
    assert_eq!(diags[0].file(), "constraints.json");

    let (_, diags) = with_instances(r#"{"name": "Prod"}"#);
    assert!(
        diags[0].message().contains("is not a JSON array"),
        "{}",
        diags[0].message()
    );
}

#[test]
fn issue13_a_def_from_another_file_is_reported_at_the_call_with_the_def_line() {
    let defs = "# shared defs\n\ndef long_name(c) = c.name > 3\n";
    let policy =
        "policy P:\n  \"p\"\n  requires not any(c in spec.containers where long_name(c))\n";
    let (program, diags) = compile_sources(&[
        ("schema.ipe", SCHEMA),
        ("defs.ipe", defs),
        ("p.ipe", policy),
    ]);
    assert!(program.is_none());
    let d = &diags[0];
    assert_eq!(d.file(), "p.ipe");
    assert_eq!(d.underlined(), "long_name(c)");
    assert_eq!(d.line_col(), (3, 47));
    assert_eq!(d.message(), "mismatched types: expected string, found int");
    assert_eq!(d.help(), Some("in def `long_name` at defs.ipe:3:29"));
}

#[test]
fn issue13_nested_defs_report_every_level() {
    let src = "def inner(c) = c.privileged == 1\ndef outer(c) = inner(c)\npolicy P: \"p\" requires all(c in spec.containers where outer(c))\n";
    let (_, diags) = compile_sources(&[("schema.ipe", SCHEMA), ("p.ipe", src)]);
    let d = &diags[0];
    assert_eq!(d.underlined(), "outer(c)");
    let help = d.help().unwrap();
    assert!(help.contains("in def `inner` at p.ipe:1:"), "{help}");
    assert!(help.contains("in def `outer` at p.ipe:2:16"), "{help}");
}

#[test]
fn issue13_defs_are_inlined_so_bundles_equal_the_hand_written_ones() {
    let with_defs = "def privileged(c) = c.privileged\ndef prod = environment == \"prod\"\npolicy P: \"p\" triggers when prod requires not any(c in spec.containers where privileged(c))\n";
    let by_hand = "policy P: \"p\" triggers when environment == \"prod\" requires not any(c in spec.containers where (c.privileged))\n";
    let a = ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", with_defs)]).unwrap();
    let b = ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", by_hand)]).unwrap();
    let (a, b) = (
        ipe_compile::lower::lower(&a).unwrap(),
        ipe_compile::lower::lower(&b).unwrap(),
    );
    // Same code and cost; only the clause text differs (it is the source text).
    assert_eq!(a.policies[0].cost, b.policies[0].cost);
    assert_eq!(a.policies[0].code_bytes, b.policies[0].code_bytes);
}

#[test]
fn issue13_any_over_several_lists_is_any_over_each() {
    let schema = "schema {\n  a: list of x { v: int }\n  b: list of y { v: int  w: string }\n}\n";
    let src = "default allow\npolicy P: \"p\" triggers when any(e in a, b where e.v > 1) denies\npolicy Q: \"q\" triggers when all(e in a, b where e.v > 1) denies\n";
    let program = ipe_compile::compile_str(&[("s.ipe", schema), ("p.ipe", src)]).unwrap();
    let decide = |r: serde_json::Value| ipe_compile::evaluate(&program, &r).matched;
    assert_eq!(
        decide(json!({"a": [], "b": [{"v": 2, "w": "x"}]})),
        ["P", "Q"]
    );
    assert_eq!(
        decide(json!({"a": [{"v": 0}], "b": [{"v": 2, "w": "x"}]})),
        ["P"]
    );
    assert_eq!(
        decide(json!({"a": [{"v": 2}], "b": [{"v": 2, "w": "x"}]})),
        ["P", "Q"]
    );
    assert_eq!(
        decide(json!({"a": [{"v": 2}], "b": [{"v": 0, "w": "x"}]})),
        ["P"]
    );
    assert_eq!(decide(json!({"a": [], "b": []})), ["Q"]);
}

#[test]
fn issue13_a_policy_named_template_is_still_a_policy() {
    let src = "policy template: \"t\" requires replicas > 1\ndefault allow\n";
    let program = ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", src)]).unwrap();
    assert_eq!(program.policies[0].name, "template");
}

#[test]
fn issue13_a_template_without_instances_is_not_a_policy() {
    let (program, diags) = compile_sources(&[("s.ipe", SCHEMA), ("t.ipe", TEMPLATE)]);
    assert!(diags.is_empty(), "{diags:?}");
    assert!(program.unwrap().policies.is_empty());
}

#[test]
fn issue13_unknown_function_lists_the_defs() {
    let src = "def alpha = replicas > 1\ndef beta = replicas > 2\npolicy P: \"p\" requires upper(environment) == \"X\"\n";
    let (_, diags) = compile_sources(&[("s.ipe", SCHEMA), ("p.ipe", src)]);
    assert_eq!(
        diags[0].message(),
        "functions are not part of the language (yet)"
    );
    assert_eq!(diags[0].underlined(), "upper");
    assert!(
        diags[0]
            .help()
            .unwrap()
            .ends_with("the defs are alpha, beta"),
        "{:?}",
        diags[0].help()
    );
}

#[test]
fn issue13_exponential_def_expansion_is_a_located_error() {
    let mut src = String::from("def d0 = replicas > 1\n");
    for i in 1..24 {
        src.push_str(&format!("def d{i} = d{} and d{}\n", i - 1, i - 1));
    }
    src.push_str("policy P: \"p\" requires d23\n");
    let (_, diags) = compile_sources(&[("s.ipe", SCHEMA), ("p.ipe", src.as_str())]);
    assert!(
        diags[0].message().contains("expands to more than"),
        "{}",
        diags[0].message()
    );
    assert_eq!(diags[0].file(), "p.ipe");
    assert_eq!(diags[0].underlined(), "d23");
}

#[test]
fn issue13_a_list_union_may_be_passed_to_a_def() {
    let schema = "schema {\n  a: list of x { ok: bool }\n  b: list of y { ok: bool }\n}\n";
    let src = "default allow\ndef both = a, b\ndef none_ok(l) = not any(e in l where e.ok)\npolicy P: \"p\" triggers when none_ok(both) denies\n";
    let program = ipe_compile::compile_str(&[("s.ipe", schema), ("p.ipe", src)]).unwrap();
    let decide = |r: serde_json::Value| ipe_compile::evaluate(&program, &r).matched;
    assert_eq!(decide(json!({"a": [{"ok": false}], "b": []})), ["P"]);
    assert_eq!(
        decide(json!({"a": [{"ok": false}], "b": [{"ok": true}]})),
        Vec::<String>::new()
    );
    // Used as a value inside the def, the union is an error at the call.
    let bad = "def both = a, b\ndef n(l) = l.count > 1\npolicy P: \"p\" requires n(both)\n";
    let (_, diags) = compile_sources(&[("s.ipe", schema), ("p.ipe", bad)]);
    assert_eq!(diags[0].message(), "`l` names several lists");
    assert_eq!(diags[0].underlined(), "n(both)");
}

#[test]
fn issue13_intent_placeholders_render_in_one_pass() {
    let src = "policy template T(a: string, b: string): \"{a} and {b} and {c} {\" requires replicas > 0\ninstance I = T(a: \"{b}\", b: \"x\")\n";
    let program = ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", src)]).unwrap();
    assert_eq!(program.policies[0].intent, "{b} and x and {c} {");
}
