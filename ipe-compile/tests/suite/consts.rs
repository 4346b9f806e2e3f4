//! Issue #13: constants, data files, hierarchies and set operators expand at compile time into
//! the v1 forms (so they run unchanged on every engine and cost what the written-out form
//! costs).

use ipe_compile::hir::{Body, Expr};
use ipe_compile::{compile_sources_with, compile_str, CompileOptions, DataFile};

/// The first clause of the only policy of `src`.
fn clause(src: &str) -> Expr {
    let program = compile_str(&[("p.ipe", src)]).unwrap_or_else(|d| panic!("{d}"));
    match &program.policies[0].body {
        Body::Requires { clauses, .. } => clauses[0].expr.clone(),
        Body::Denies { .. } => panic!("a requires policy"),
    }
}

/// The cost bound of the only policy of `src`.
fn cost(src: &str, data: Vec<DataFile>) -> u32 {
    let options = CompileOptions {
        data,
        ..CompileOptions::default()
    };
    let (program, diags) = compile_sources_with(&[("p.ipe", src)], &options);
    let program = program.unwrap_or_else(|| panic!("{diags:?}"));
    ipe_compile::lower::lower(&program).unwrap().policies[0].cost
}

const SCHEMA: &str = "schema {\n  image: string\n  replicas: int\n  env: string\n  user: string\n  tags: list of string\n}\n";

fn with_schema(rest: &str) -> String {
    format!("{SCHEMA}{rest}")
}

#[test]
fn issue13_constants_expand_to_the_written_out_forms() {
    let pairs = [
        (
            "const m = 50\npolicy P: \"p\" requires replicas <= m",
            "policy P: \"p\" requires replicas <= 50",
        ),
        (
            "const envs = [\"prod\", \"dev\"]\npolicy P: \"p\" requires env in envs",
            "policy P: \"p\" requires env in [\"prod\", \"dev\"]",
        ),
        (
            "const r = [\"a/\", \"b/\"]\npolicy P: \"p\" requires any(x in r where image starts_with x)",
            "policy P: \"p\" requires image starts_with \"a/\" or image starts_with \"b/\"",
        ),
        (
            "const m = {\"k\": [\"x\", \"y\"]}\npolicy P: \"p\" requires env in m[\"k\"]",
            "policy P: \"p\" requires env in [\"x\", \"y\"]",
        ),
        (
            "policy P: \"p\" requires tags contains_any [\"a\", \"b\"]",
            "policy P: \"p\" requires \"a\" in tags or \"b\" in tags",
        ),
        (
            "hierarchy g = {\"alice\": [\"eng\"], \"eng\": [\"staff\"], \"bob\": [\"sales\"]}\npolicy P: \"p\" requires user in g \"staff\"",
            "policy P: \"p\" requires user in [\"alice\", \"eng\", \"staff\"]",
        ),
    ];
    for (with_const, written) in pairs {
        assert_eq!(
            clause(&with_schema(with_const)),
            clause(&with_schema(written)),
            "{with_const}"
        );
        assert_eq!(
            cost(&with_schema(with_const), Vec::new()),
            cost(&with_schema(written), Vec::new()),
            "{with_const}"
        );
    }
}

#[test]
fn issue13_an_expanded_all_stays_one_clause() {
    let src = with_schema(
        "const envs = [\"prod\", \"dev\"]\npolicy P: \"p\" requires all(e in envs where env != e) and replicas > 0",
    );
    let program = compile_str(&[("p.ipe", src.as_str())]).unwrap();
    let Body::Requires { clauses, .. } = &program.policies[0].body else {
        panic!("requires");
    };
    assert_eq!(clauses.len(), 2);
    assert_eq!(clauses[0].text, "all(e in envs where env != e)");
    assert!(matches!(clauses[0].expr, Expr::And(ref xs) if xs.len() == 2));
}

#[test]
fn issue13_data_file_constants_are_plain_names() {
    let data = vec![DataFile {
        name: "d.json".to_owned(),
        text: r#"{"max_replicas": 5, "envs": ["prod"], "ok": 2.0}"#.to_owned(),
    }];
    let src = with_schema(
        "policy P: \"p\" requires replicas <= max_replicas and env in envs and replicas != ok",
    );
    let written = with_schema(
        "policy P: \"p\" requires replicas <= 5 and env in [\"prod\"] and replicas != 2",
    );
    assert_eq!(cost(&src, data.clone()), cost(&written, Vec::new()));
    let options = CompileOptions {
        data,
        ..CompileOptions::default()
    };
    let (program, diags) = compile_sources_with(&[("p.ipe", src.as_str())], &options);
    assert!(diags.is_empty(), "{diags:?}");
    let report = ipe_compile::evaluate(
        &program.unwrap(),
        &serde_json::json!({"replicas": 6, "env": "prod", "image": "x", "user": "u", "tags": []}),
    );
    assert_eq!(report.violations.len(), 1);
}

#[test]
fn issue13_data_file_errors_name_the_file_and_locate_the_problem() {
    let options = CompileOptions {
        data: vec![DataFile {
            name: "roles.json".to_owned(),
            text: "{\n  \"roles\": [\"a\",\n".to_owned(),
        }],
        ..CompileOptions::default()
    };
    let (program, diags) =
        compile_sources_with(&[("p.ipe", "policy P: \"p\" requires true")], &options);
    assert!(program.is_none());
    let d = &diags[0];
    assert_eq!(d.file(), "roles.json");
    assert!(d.message().contains("is not valid JSON"), "{}", d.message());
    assert!(d.render().contains("roles.json:3:1"), "{}", d.render());
}

#[test]
fn issue13_expansion_over_the_condition_limit_is_a_located_error() {
    let values: Vec<String> = (0..3000).map(|i| format!("\"v{i}\"")).collect();
    let src = with_schema(&format!(
        "const many = [{}]\npolicy P: \"p\" requires any(v in many where image starts_with v)",
        values.join(", ")
    ));
    let (program, diags) = ipe_compile::compile_sources(&[("p.ipe", src.as_str())]);
    assert!(program.is_none());
    assert!(
        diags[0]
            .message()
            .contains("gives more than 2048 conditions"),
        "{}",
        diags[0].message()
    );
    // `in` over the same constant is one binary search, whatever its size.
    let src = with_schema(&format!(
        "const many = [{}]\npolicy P: \"p\" requires env in many",
        values.join(", ")
    ));
    assert!(compile_str(&[("p.ipe", src.as_str())]).is_ok());
}

#[test]
fn issue13_v1_words_stay_paths() {
    // `const`, `hierarchy` and the set operators are only keywords where the new forms are.
    let src = "policy P: \"p\" requires const == \"a\" and hierarchy.intersects == 2 and x.contains_all != \"b\"";
    assert!(compile_str(&[("p.ipe", src)]).is_ok());
}
