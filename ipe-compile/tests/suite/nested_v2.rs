//! Issue 13, the several-list and nested-list gaps: `count` over several lists is summed at
//! run time by `add` with an exact cost bound; the other items expand into existing
//! instructions.

use ipe_nostd::Bundle;

const SCHEMA: &str =
    "schema {\n  a: list of x max 4 { p: bool }\n  b: list of x max 3 { p: bool }\n}\n";

fn compile(trigger: &str) -> Vec<u8> {
    let src = format!("{SCHEMA}\npolicy P:\n  \"t\"\n  triggers when {trigger}\n  denies\n");
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

fn listing(bytes: &[u8]) -> String {
    let b = Bundle::from_bytes(bytes).expect("verifies");
    let mut s = String::new();
    ipe_nostd::disasm::disassemble(&mut s, &b, b.policy(0).trigger, 0).expect("lists");
    s
}

fn cost(bytes: &[u8]) -> u64 {
    Bundle::from_bytes(bytes)
        .expect("verifies")
        .policy_rec(0)
        .cost_bound()
        .into()
}

#[test]
fn issue13_count_over_several_lists_is_a_run_time_sum_with_an_exact_cost() {
    let both = compile("count(x in a, b where x.p) >= 2");
    let l = listing(&both);
    assert_eq!(l.matches("add").count(), 1, "{l}");
    assert!(
        l.find("count slot 0").unwrap() < l.find("count slot 1").unwrap(),
        "{l}"
    );
    // Per list: 1 + max × (filter + 1); one `add`; the comparison with the constant.
    let per = |max: u64| 1 + max * (1 + 1);
    let cmp = cost(&compile("count(x in a where x.p) >= 2")) - per(4);
    assert_eq!(cost(&both), per(4) + per(3) + 1 + cmp);
    // Three lists (one twice): two `add`s.
    let three = compile("count(x in a, b, a) >= 2");
    assert_eq!(listing(&three).matches("add").count(), 2);
    assert_eq!(cost(&three), 3 + 2 + cmp);
    // One list: no `add` (language v1 bytes unchanged).
    assert!(!listing(&compile("count(x in a) >= 2")).contains("add"));
}

const NESTED: &str = "schema {\n  limit: int\n  containers: list of c max 8 {\n    \
                      ports: list of p max 16 { hostPort: int }\n    \
                      capabilities.add: list of string max 16\n    \
                      capabilities.drop: list of string max 16\n  }\n  \
                      forbidden: list of string max 4\n}\n";

fn nested(trigger: &str) -> Vec<u8> {
    let src = format!("{NESTED}\npolicy P:\n  \"t\"\n  triggers when {trigger}\n  denies\n");
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

#[test]
fn issue13_nested_seed_forms_are_the_explicit_aggregates() {
    for (seed, explicit) in [
        (
            "any(c in containers where c.ports.any where p.hostPort > 9000)",
            "any(c in containers where any(p in c.ports where p.hostPort > 9000))",
        ),
        (
            "all(c in containers where c.ports.all where p.hostPort < limit)",
            "all(c in containers where all(p in c.ports where p.hostPort < limit))",
        ),
        (
            "any(c in containers where c.ports.count >= 2 where p.hostPort > 80)",
            "any(c in containers where count(p in c.ports where p.hostPort > 80) >= 2)",
        ),
        (
            "containers.any where (c.ports.any where p.hostPort == 80)",
            "any(c in containers where any(p in c.ports where p.hostPort == 80))",
        ),
    ] {
        assert_eq!(nested(seed), nested(explicit), "{seed}");
    }
    // Without `where`, `c.ports.count` is still the length.
    assert_eq!(
        nested("any(c in containers where c.ports.count >= 2)"),
        nested("any(c in containers where count(p in c.ports) >= 2)")
    );
}

#[test]
fn issue13_set_operators_over_nested_lists_are_their_quantifiers() {
    for (op, explicit) in [
        (
            "c.capabilities.add subset_of [\"A\", \"B\"]",
            "all(x in c.capabilities.add where x in [\"A\", \"B\"])",
        ),
        (
            "c.capabilities.drop contains_all c.capabilities.add",
            "all(x in c.capabilities.add where x in c.capabilities.drop)",
        ),
        (
            "c.capabilities.add intersects forbidden",
            "any(x in c.capabilities.add where x in forbidden)",
        ),
        (
            "forbidden subset_of c.capabilities.drop",
            "all(x in forbidden where x in c.capabilities.drop)",
        ),
        (
            "c.capabilities.add contains_any [\"A\", \"B\"]",
            "\"A\" in c.capabilities.add or \"B\" in c.capabilities.add",
        ),
    ] {
        assert_eq!(
            nested(&format!("any(c in containers where {op})")),
            nested(&format!("any(c in containers where {explicit})")),
            "{op}"
        );
    }
    // The cost is the expansion's: `any` 1 + 8 × (body + 1), the body `all.field`
    // 1 + 16 × (filter + 1), the filter `load.field` 1 and `in.field` 1 + 16.
    let b =
        nested("any(c in containers where c.capabilities.drop contains_all c.capabilities.add)");
    let bundle = Bundle::from_bytes(&b).expect("verifies");
    assert_eq!(
        u64::from(bundle.policy_rec(0).cost_bound()),
        1 + 8 * (1 + 16 * (1 + 1 + 16 + 1) + 1)
    );
}

#[test]
fn issue13_nested_lists_without_a_schema_infer_what_a_schema_declares() {
    let policies = "policy P:\n  \"t\"\n  triggers when any(c in containers where \
                    any(p in c.ports where p.hostPort > 9000) or \"X\" in c.caps)\n  denies\n";
    let declared = "schema {\n  containers: list of max 256 {\n    \
                    ports: list of max 256 { hostPort: int }\n    \
                    caps: list of string max 256\n  }\n}\n";
    let compile = |src: String| {
        let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
        ipe_compile::lower::lower(&program).expect("lowers").bytes
    };
    assert_eq!(
        compile(policies.to_owned()),
        compile(format!("{declared}\n{policies}"))
    );
    // `c.ports.count` is the nested list's length when `c.ports` is a list in the bundle.
    let counted = policies.replace(" or \"X\"", " or c.ports.count >= 2 or \"X\"");
    assert_eq!(
        compile(counted.clone()),
        compile(format!("{declared}\n{counted}"))
    );
}

/// An element's nested list after `in` (`v.role in v.subs`) is not a misspelled map constant
/// when the bundle declares constants (found by the fuzz generator: the constants pass took
/// the bound name `v` for an unknown constant once any constant existed).
#[test]
fn issue13_element_nested_list_after_in_with_constants_declared() {
    let src = "schema {\n  l: list of e { role: string, subs: list of string }\n}\nhierarchy k0 = {\"a\": [\"b\"], \"b\": []}\nconst k1 = [\"a\"]\npolicy P:\n  \"p\"\n  requires all(v in l, l where v.role in v.subs)\n";
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    let r = ipe_compile::evaluate(
        &program,
        &serde_json::json!({"l": [{"role": "a", "subs": ["b"]}]}),
    );
    assert_eq!(r.violations.len(), 1);
    let r = ipe_compile::evaluate(
        &program,
        &serde_json::json!({"l": [{"role": "a", "subs": ["a"]}]}),
    );
    assert!(r.violations.is_empty() && r.errors.is_empty());
}
