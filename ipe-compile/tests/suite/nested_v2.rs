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
