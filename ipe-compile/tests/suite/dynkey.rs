//! Issue #13, session 9: dynamic keys on request maps (`labels[k]`): the instructions they
//! lower to and their exact cost (`docs/LANGUAGE.md`, "Dynamic keys on request maps").

use ipe_compile::compile_str;

const SCHEMA: &str = "schema {\n  k: string\n  labels: map of string max 3\n  required: list of string max 4\n  svc: map of max 2 { number: int, proto: string }\n}\n";

/// The cost bound and the listing of the only clause of the only policy of `clause`.
fn lowered(clause: &str) -> (u32, String) {
    let src = format!("{SCHEMA}policy P:\n  \"p\"\n  requires {clause}\n");
    let program = compile_str(&[("p.ipe", src)]).unwrap_or_else(|d| panic!("{d}"));
    let lowered = ipe_compile::lower::lower(&program).expect("lowers");
    let bundle = ipe_nostd::Bundle::from_bytes(&lowered.bytes).expect("verifies");
    let p = bundle.policy(0);
    let code = bundle.clause(p.first_clause).code;
    let mut listing = String::new();
    ipe_nostd::disasm::disassemble(&mut listing, &bundle, code, 0).expect("lists");
    (lowered.policies[0].cost, listing)
}

#[test]
fn issue13_a_dynamic_key_is_one_scan_of_the_map() {
    let (cost, listing) = lowered("labels[k] == \"prod\"");
    // load.slot, map.get (1 + max 3), load.const, cmp.
    assert_eq!(cost, 7, "{listing}");
    assert!(listing.contains("map.get slot"), "{listing}");
    assert!(listing.contains("(labels) field 1"), "{listing}");
}

#[test]
fn issue13_has_of_a_dynamic_key_inside_an_aggregate_costs_the_map_per_element() {
    let (cost, listing) = lowered("all(x in required where has labels[x])");
    // all: 1 + max 4 × (body + 1), the body load.field and map.has (1 + max 3).
    assert_eq!(cost, 1 + 4 * (1 + 4 + 1), "{listing}");
    assert!(listing.contains("map.has slot"), "{listing}");
}

#[test]
fn issue13_a_record_field_and_the_entry_alone() {
    let (_, listing) = lowered("svc[k].proto == \"tcp\" or has svc[k]");
    // Fields sorted by path: key (0), value.number (1), value.proto (2).
    assert!(listing.contains("(svc) field 2"), "{listing}");
    assert!(
        listing.contains("map.has slot") && listing.contains("(svc) field 0"),
        "{listing}"
    );
}

#[test]
fn issue13_a_default_after_a_dynamic_key_tests_the_entry() {
    let (cost, listing) = lowered("labels[k] ?? \"none\" == \"none\"");
    assert!(listing.contains("map.has slot"), "{listing}");
    assert!(listing.contains("map.get slot"), "{listing}");
    assert!(cost > 7, "{listing}");
}
