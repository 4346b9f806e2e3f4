//! Issue #11: whatever the checker accepts compiles and evaluates on every engine, and every
//! limit of the format or the verifier is a located diagnostic, tested at its boundary (N
//! accepted, N + 1 refused). Also the cost budget and the front end's linear time on long
//! lists and enums.

use ipe_compile::{compile_sources, compile_sources_with, CompileOptions, Diagnostic};
use ipe_nostd::verify::{VerifyError, DEFAULT_MAX_COST};
use ipe_nostd::{Bundle, BundleError};
use ipe_testgen::backend::{compare, Interp, Reference};
use serde_json::{json, Value};

/// Compiles, lowers and verifies `src`, then checks that the interpreter and the reference
/// evaluator give the same decision on `request`, which is returned.
fn compiles_and_agrees(src: &str, request: &Value) -> String {
    let (program, diags) = compile_sources(&[("p.ipe", src)]);
    let first = diags.first().map(|d| d.render()).unwrap_or_default();
    let program = program.unwrap_or_else(|| panic!("does not check:\n{first}"));
    let compiled = ipe_compile::lower::lower(&program).expect("a checked program lowers");
    let interp = Interp::new(&compiled.bytes).expect("a lowered bundle verifies");
    compare(&[&Reference(&program), &interp], request).unwrap_or_else(|e| panic!("{e}"))
}

/// The first diagnostic of a source that must not compile.
fn refused(src: &str) -> Diagnostic {
    let (program, mut diags) = compile_sources(&[("p.ipe", src)]);
    assert!(program.is_none(), "accepted");
    assert!(!diags.is_empty(), "refused without a diagnostic");
    diags.remove(0)
}

fn decision(json: &str) -> Value {
    serde_json::from_str::<Value>(json).expect("decision JSON")["decision"].clone()
}

/// `and`/`or` of every width from 1 to 200, in a trigger, a requirement clause and an
/// aggregate filter: once, 18 operands and more made the verifier fail with `TooManyJumps`.
#[test]
fn issue11_wide_and_or_compile_and_evaluate_in_every_position() {
    for width in 1..=200usize {
        let or = |f: &dyn Fn(usize) -> String| (0..width).map(f).collect::<Vec<_>>().join(" or ");
        let and = |f: &dyn Fn(usize) -> String| (0..width).map(f).collect::<Vec<_>>().join(" and ");
        let src = format!(
            "schema {{\n  r: string\n  n: int\n  items: list of item max 4 {{ v: int }}\n}}\n\
             policy T:\n  \"t\"\n  triggers when {}\n  denies\n\
             policy C:\n  \"c\"\n  requires {}\n\
             policy F:\n  \"f\"\n  triggers when items.any where {}\n  denies\n\
             policy G:\n  \"g\"\n  triggers when all(x in items where {})\n  denies\n",
            or(&|i| format!("r == \"r{i}\"")),
            and(&|i| format!("n != {i}")),
            or(&|i| format!("item.v == {i}")),
            and(&|i| format!("x.v != {i}")),
        );
        let last = width - 1;
        let hit = json!({"r": format!("r{last}"), "n": last, "items": [{"v": last}]});
        let d = compiles_and_agrees(&src, &hit);
        assert!(
            d.contains(r#""matched":["T","C","F"]"#),
            "width {width}: {d}"
        );
        let miss = json!({"r": "none", "n": 1000, "items": [{"v": 1000}]});
        let d = compiles_and_agrees(&src, &miss);
        assert!(d.contains(r#""matched":["C","G"]"#), "width {width}: {d}");
    }
}

#[test]
fn issue11_list_max_65536_compiles_and_65537_is_located() {
    let src = |max: u32| {
        format!("schema {{\n  tags: list of int max {max}\n}}\npolicy P:\n  \"x\"\n  requires 3 in tags\n")
    };
    let d = compiles_and_agrees(&src(65536), &json!({"tags": [1, 2, 3]}));
    assert_eq!(decision(&d), "allow");
    let d = refused(&src(65537));
    assert_eq!(d.message(), "list `tags` has `max 65537`, more than 65536");
    assert_eq!(d.underlined(), "tags");
    assert_eq!(d.line_col(), (2, 3));
    assert_eq!(d.help(), Some("declare `max 65536` or less"));
}

#[test]
fn issue11_enum_of_65535_members_compiles_and_65536_is_located() {
    let src = |n: usize| {
        let members: Vec<String> = (0..n).map(|i| format!("\"m{i}\"")).collect();
        format!(
            "schema {{\n  level: enum [{}]\n}}\npolicy P:\n  \"x\"\n  requires level >= \"m65534\"\n",
            members.join(", ")
        )
    };
    let d = compiles_and_agrees(&src(65535), &json!({"level": "m65534"}));
    assert_eq!(decision(&d), "allow");
    let d = refused(&src(65536));
    assert_eq!(d.message(), "enum of `level` has more than 65535 members");
    assert_eq!(d.underlined(), "\"m65535\"");
    assert_eq!(d.line_col().0, 2);
}

#[test]
fn issue11_65535_clauses_compile_and_65536_is_located() {
    let src = |n: usize| {
        let clauses: Vec<String> = (0..n).map(|i| format!("n > {}", i % 7)).collect();
        format!("policy P:\n  \"x\"\n  requires {}\n", clauses.join(" and "))
    };
    let d = compiles_and_agrees(&src(65535), &json!({"n": 7}));
    assert_eq!(decision(&d), "allow");
    let d = refused(&src(65536));
    assert_eq!(
        d.message(),
        "a policy may have at most 65535 requirement clauses"
    );
    assert_eq!(
        d.underlined(),
        "n > 1",
        "the 65536th clause (65535 % 7 == 1)"
    );
}

#[test]
fn issue11_65535_metadata_entries_compile_and_65536_is_located() {
    let src = |n: usize| {
        let entries: String = (0..n).map(|i| format!("    k{i}: {i}\n")).collect();
        format!("policy P:\n  \"x\"\n  requires n > 0\n  metadata\n{entries}")
    };
    let d = compiles_and_agrees(&src(65535), &json!({"n": 1}));
    assert_eq!(decision(&d), "allow");
    let d = refused(&src(65536));
    assert_eq!(
        d.message(),
        "a policy may have at most 65535 metadata entries"
    );
    assert_eq!(d.underlined(), "k65535");
}

#[test]
fn issue11_2048_conditions_compile_and_2049_are_located() {
    // A flat `or` of k comparisons is k + 1 conditions.
    let src = |k: usize| {
        let ors: Vec<String> = (0..k).map(|i| format!("n == {i}")).collect();
        format!(
            "policy P:\n  \"x\"\n  triggers when {}\n  denies\n",
            ors.join(" or ")
        )
    };
    let d = compiles_and_agrees(&src(2047), &json!({"n": 2046}));
    assert_eq!(decision(&d), "deny");
    let d = refused(&src(2048));
    assert_eq!(
        d.message(),
        "this trigger has 2049 conditions, more than 2048"
    );
    assert!(d.underlined().starts_with("n == 0 or n == 1"));
    assert_eq!(d.line_col(), (3, 17));
    // The densest code per condition (two counts compared, 17 bytes each) still fits.
    let dense: Vec<String> = (0..2047)
        .map(|_| "count(a in xs) == count(b in ys)".to_owned())
        .collect();
    let src = format!(
        "policy P:\n  \"x\"\n  requires {}\n  with reason \"r\"\n",
        dense.join(" or ")
    );
    let d = compiles_and_agrees(&src, &json!({"xs": [{}], "ys": []}));
    assert_eq!(decision(&d), "deny");
}

#[test]
fn issue11_65534_policies_compile_and_65535_are_located() {
    let src = |n: usize| {
        let mut s = String::from("default allow\n");
        for i in 0..n {
            s.push_str(&format!(
                "policy P{i}:\n  \"x\"\n  triggers when n == {i}\n  denies\n"
            ));
        }
        s
    };
    let d = compiles_and_agrees(&src(65534), &json!({"n": 65533}));
    assert!(d.contains(r#""matched":["P65533"]"#), "{d}");
    let d = refused(&src(65535));
    assert_eq!(d.message(), "a bundle may have at most 65534 policies");
    assert_eq!(d.underlined(), "P65534");
}

const NESTED: &str = "schema {
  a: list of x { v: int }
  b: list of y { v: int }
  c: list of z { v: int }
  d: list of w { v: int }
}
policy Nested:
  \"four nested aggregates over lists of 256\"
  requires any(p in a where any(q in b where any(r in c where any(s in d where s.v == p.v))))
";

#[test]
fn issue11_cost_over_budget_is_a_located_error_naming_bound_and_budget() {
    let d = refused(NESTED);
    assert_eq!(
        d.message(),
        format!("policy `Nested` may take up to 17213555201 steps, over the cost budget of {DEFAULT_MAX_COST}")
    );
    assert_eq!(d.underlined(), "Nested");
    assert_eq!(d.line_col(), (7, 8));
    assert!(d.help().unwrap().contains("`--max-cost`"));
    assert!(d.help().unwrap().contains("`max`"));
    // Over even the largest budget a bundle can record: still refused, never saturated.
    let opts = CompileOptions {
        max_cost: u32::MAX,
        ..CompileOptions::default()
    };
    let (program, diags) = compile_sources_with(&[("p.ipe", NESTED)], &opts);
    assert!(program.is_none());
    assert!(diags[0].message().contains("17213555201 steps"));
}

#[test]
fn issue11_cost_budget_boundary_and_verifier_budget() {
    // Three nested aggregates, by the cost model of docs/LANGUAGE.md: the innermost body is
    // 3 steps (two field loads, a compare); each `any` costs 1 + 256 * (body + 1), so
    // 1 + 256 * (1 + 1 + 256 * (1 + 1 + 256 * (3 + 1))) = 67,240,449 steps.
    let src = "schema {
  a: list of x { v: int }
  b: list of y { v: int }
  c: list of z { v: int }
}
policy Three:
  \"three nested aggregates\"
  requires any(p in a where any(q in b where any(r in c where r.v == p.v)))
";
    let d = refused(src);
    assert!(
        d.message().contains("over the cost budget"),
        "{}",
        d.message()
    );
    let big = CompileOptions {
        max_cost: 100_000_000,
        ..CompileOptions::default()
    };
    let (program, _) = compile_sources_with(&[("p.ipe", src)], &big);
    let program = program.expect("checks with a larger budget");
    let compiled = ipe_compile::lower::lower_with_max_cost(&program, big.max_cost).unwrap();
    let cost = compiled.policies[0].cost;
    assert_eq!(cost, 67_240_449);
    // Exactly the bound is accepted, one less is refused, by the checker and the verifier.
    let at = CompileOptions {
        max_cost: cost,
        ..CompileOptions::default()
    };
    assert!(compile_sources_with(&[("p.ipe", src)], &at).0.is_some());
    let below = CompileOptions {
        max_cost: cost - 1,
        ..CompileOptions::default()
    };
    let (none, diags) = compile_sources_with(&[("p.ipe", src)], &below);
    assert!(none.is_none());
    assert!(diags[0]
        .message()
        .contains(&format!("budget of {}", cost - 1)));
    let bytes = &compiled.bytes;
    assert!(Bundle::from_bytes_with_max_cost(bytes, cost).is_ok());
    let over = |r: Result<Bundle<'_>, BundleError>| match r {
        Err(BundleError::Verify(VerifyError::OverBudget {
            policy,
            cost: c,
            budget,
        })) => (policy, c, budget),
        other => panic!("expected OverBudget, got {:?}", other.map(|_| ())),
    };
    assert_eq!(
        over(Bundle::from_bytes_with_max_cost(bytes, cost - 1)),
        (0, u64::from(cost), cost - 1)
    );
    assert_eq!(
        over(Bundle::from_bytes(bytes)),
        (0, u64::from(cost), DEFAULT_MAX_COST)
    );
    // The host engine verifies against its own budget: ipe-host's
    // `issue11_engine_verifies_against_its_own_budget`.
}

/// 200,000 set elements (many repeated) and a 65,535-member enum tested with `in` over all
/// its members: quadratic deduplication took minutes here, linear takes milliseconds.
#[test]
fn issue11_long_sets_and_enums_check_in_linear_time() {
    let ints: Vec<String> = (0..200_000).map(|i| (i % 150_000).to_string()).collect();
    let src = format!(
        "policy P:\n  \"x\"\n  requires n in [{}]\n",
        ints.join(", ")
    );
    let d = compiles_and_agrees(&src, &json!({"n": 149_999}));
    assert_eq!(decision(&d), "allow");
    let d = compiles_and_agrees(&src, &json!({"n": 150_000}));
    assert_eq!(decision(&d), "deny");
    let members: Vec<String> = (0..65535).map(|i| format!("\"m{i}\"")).collect();
    let list = members.join(", ");
    let src = format!(
        "schema {{\n  level: enum [{list}, {list}]\n}}\npolicy P:\n  \"x\"\n  requires level in [{list}]\n"
    );
    let d = compiles_and_agrees(&src, &json!({"level": "m65534"}));
    assert_eq!(decision(&d), "allow");
}
