//! Issue #13, template list and record parameters (`check/tparams.rs`) and the located errors
//! for dynamic bracket keys and non-literal hierarchy entities (`parser/keys.rs`).

use ipe_compile::{compile_sources_with, CompileOptions, InstanceSource};
use serde_json::json;

const SCHEMA: &str = "schema {\n  image: string\n  replicas: int\n  kind: string\n}\n";

fn lowered(src: &str) -> ipe_compile::lower::Compiled {
    let p = ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", src)]).unwrap();
    ipe_compile::lower::lower(&p).unwrap()
}

#[test]
fn issue13_an_aggregate_over_a_list_parameter_compiles_like_the_written_out_or() {
    let template = "policy template T(repos: list of string):\n  \"t\"\n  requires any(r in repos where image starts_with r)\ninstance P = T(repos: [\"gcr.io/\", \"quay.io/\"])\n";
    let by_hand = "policy P:\n  \"t\"\n  requires (image starts_with \"gcr.io/\" or image starts_with \"quay.io/\")\n";
    let constant = "const repos = [\"gcr.io/\", \"quay.io/\"]\npolicy P:\n  \"t\"\n  requires any(r in repos where image starts_with r)\n";
    let (a, b, c) = (lowered(template), lowered(by_hand), lowered(constant));
    assert_eq!(a.policies[0].cost, b.policies[0].cost);
    assert_eq!(a.policies[0].code_bytes, b.policies[0].code_bytes);
    assert_eq!(a.policies[0].cost, c.policies[0].cost);
    assert_eq!(a.policies[0].code_bytes, c.policies[0].code_bytes);
}

#[test]
fn issue13_record_instances_from_source_and_json_decide_alike() {
    let template = "policy template Limits(ranges: list of { min: int, max: int }):\n  \"within {ranges}\"\n  requires any(r in ranges where replicas >= r.min and replicas <= r.max)\n";
    let source = format!(
        "{template}instance L = Limits(ranges: [{{max: 3, min: 1}}, {{min: 5, max: 10}}])\n"
    );
    let a = ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", &source)]).unwrap();
    let options = CompileOptions {
        instances: vec![InstanceSource {
            name: "i.json".to_owned(),
            text: r#"[{"name": "L", "template": "Limits", "args": {"ranges": [{"min": 1, "max": 3}, {"max": 10, "min": 5}]}}]"#.to_owned(),
        }],
        ..CompileOptions::default()
    };
    let (b, diags) = compile_sources_with(&[("s.ipe", SCHEMA), ("p.ipe", template)], &options);
    assert!(diags.is_empty(), "{diags:?}");
    let b = b.unwrap();
    // Records render in the declared field order, whatever order they were written in.
    assert_eq!(
        a.policies[0].intent,
        "within {min: 1, max: 3}, {min: 5, max: 10}"
    );
    assert_eq!(a.policies[0].intent, b.policies[0].intent);
    for n in [0, 1, 3, 4, 5, 10, 11] {
        let req = json!({ "replicas": n });
        let (ra, rb) = (
            ipe_compile::evaluate(&a, &req),
            ipe_compile::evaluate(&b, &req),
        );
        assert_eq!(
            ra.violations.len(),
            usize::from(!matches!(n, 1..=3 | 5..=10)),
            "{n}"
        );
        assert_eq!(format!("{ra:?}"), format!("{rb:?}"), "{n}");
    }
}

#[test]
fn issue13_list_parameter_misuse_is_underlined_at_the_use_with_the_instance_in_the_help() {
    let src = "policy template T(repos: list of string):\n  \"t\"\n  requires image == repos\n\ninstance P = T(repos: [\"a\"])\n";
    let (program, diags) = compile_sources_with(
        &[("s.ipe", SCHEMA), ("p.ipe", src)],
        &CompileOptions::default(),
    );
    assert!(program.is_none());
    let d = &diags[0];
    assert_eq!(d.file(), "p.ipe");
    assert_eq!(
        d.message(),
        "parameter `repos` is a list of string, not a value"
    );
    assert_eq!(d.underlined(), "repos");
    assert_eq!(d.line_col(), (3, 21));
    assert!(
        d.help()
            .unwrap()
            .ends_with("in template `T` (instance `P`) at p.ipe:5:10"),
        "{:?}",
        d.help()
    );
}

#[test]
fn issue13_a_list_parameter_passed_to_a_def_is_iterated_there() {
    let src = "def from_any(l) = any(r in l where image starts_with r)\npolicy template T(repos: list of string):\n  \"t\"\n  requires from_any(repos)\ninstance P = T(repos: [\"gcr.io/\"])\n";
    let p = ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", src)]).unwrap();
    let r = ipe_compile::evaluate(&p, &json!({"image": "gcr.io/x"}));
    assert!(r.violations.is_empty());
    let r = ipe_compile::evaluate(&p, &json!({"image": "docker.io/x"}));
    assert_eq!(
        r.violations[0].reason,
        "requirement not met: from_any([\"gcr.io/\"]) (found image = \"docker.io/x\")"
    );
}

#[test]
fn issue13_words_after_in_path_that_end_the_expression_are_not_entities() {
    // `x in l` followed by an operator, a clause keyword or a metadata block still parses.
    let src = "hierarchy h = {\"a\": [\"b\"]}\nconst l = [\"x\"]\npolicy P:\n  \"p\"\n  triggers when kind in l and kind in h \"b\" or image in l\n  requires image in l with reason \"r\"\n  metadata\n    owner: \"me\"\n";
    ipe_compile::compile_str(&[("s.ipe", SCHEMA), ("p.ipe", src)]).unwrap();
}

#[test]
fn issue13_dynamic_keys_are_located_errors() {
    // Session 9: a key read at run time selects an entry of a request map; after anything
    // else it is a located error.
    let cases = [
        (
            "schema {\n  labels: list of string\n  k: string\n}\npolicy P:\n  \"p\"\n  requires labels[k] == \"x\"\n",
            "`labels[...]` with a key read at run time needs a map, and `labels` is a list",
            "[k]",
        ),
        (
            "schema {\n  labels: map of string\n  k: string\n}\npolicy P:\n  \"p\"\n  requires labels[-k] == \"x\"\n",
            "a key in brackets must be a string literal",
            "[-k]",
        ),
    ];
    for (src, message, underlined) in cases {
        let (program, diags) = compile_sources_with(&[("p.ipe", src)], &CompileOptions::default());
        assert!(program.is_none());
        assert_eq!(diags[0].message(), message);
        assert_eq!(diags[0].underlined(), underlined);
        assert!(diags[0].help().is_some());
    }
}
