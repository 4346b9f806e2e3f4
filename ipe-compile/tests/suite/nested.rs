//! Issue 13, nested lists: each nested list is a slot of its own (`containers[].ports`) named
//! by a list field record of its parent; aggregates and `in` over them lower to the `*.field`
//! instructions with an exact cost bound that multiplies; the verifier checks the link.

use ipe_compile::lower::encode;
use ipe_nostd::format::{kind, Body, FieldRec, SlotRec};
use ipe_nostd::verify::{Section, VerifyError};
use ipe_nostd::{Bundle, BundleError};

const SCHEMA: &str = "schema {\n  containers: list of c max 8 {\n    name: string\n    \
                      ports: list of p max 16 { hostPort: int }\n    \
                      capabilities.add: list of string max 16\n  }\n}\n";

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

const HIGH_PORT: &str = "any(c in containers where any(p in c.ports where p.hostPort > 9000))";

#[test]
fn issue13_nested_lists_are_slots_named_by_list_field_records() {
    let bytes = compile(HIGH_PORT);
    let b = Bundle::from_bytes(&bytes).expect("verifies");
    // Every nested list of a used list is declared, used or not (its parent names it).
    let (parent, ports, caps) = (
        b.slot("containers").expect("a slot"),
        b.slot("containers[].ports").expect("a slot"),
        b.slot("containers[].capabilities.add").expect("a slot"),
    );
    assert!(parent < caps && caps < ports);
    assert!(b.is_nested_slot(ports) && !b.is_nested_slot(parent));
    let body = Bundle::decode_unverified(&bytes).unwrap();
    let first = usize::from(SlotRec::nth(body.slots, usize::from(parent)).first_field());
    // Fields sorted by path: capabilities.add, name, ports.
    let field = |i: usize| FieldRec::nth(body.fields, first + i);
    assert_eq!((field(0).kind(), field(0).enum_id()), (kind::LIST, caps));
    assert_eq!(field(1).kind(), kind::STR);
    assert_eq!(
        (field(2).kind(), field(2).enum_id()),
        (kind::RECORDS, ports)
    );
    assert_eq!(b.nested_slot(parent, 2), Some(ports));
    assert_eq!(b.nested_slot(parent, 1), None);
    let ports_rec = SlotRec::nth(body.slots, usize::from(ports));
    assert_eq!((ports_rec.kind(), ports_rec.max_len()), (kind::RECORDS, 16));
}

#[test]
fn issue13_nested_aggregates_lower_to_field_instructions_with_a_multiplied_cost() {
    let bytes = compile(HIGH_PORT);
    assert!(
        listing(&bytes).contains("any.field level 0 field 2"),
        "{}",
        listing(&bytes)
    );
    // any: 1 + 8 × (body + 1); body: any.field 1 + 16 × (cmp.field.const 1 + 1).
    let b = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(b.policy_rec(0).cost_bound(), 1 + 8 * (1 + 16 * (1 + 1) + 1));
    let bytes =
        compile("all(c in containers where all(a in c.capabilities.add where a in [\"CHOWN\"]))");
    assert!(listing(&bytes).contains("all.field level 0 field 0"));
    let bytes = compile("count(c in containers where \"NET_ADMIN\" in c.capabilities.add) >= 1");
    assert!(listing(&bytes).contains("in.field level 0 field 0"));
    let bytes = compile("any(c in containers where c.ports.count >= 2 and has c.ports)");
    let l = listing(&bytes);
    assert!(l.contains("count.field level 0 field 2 body 0"), "{l}");
    assert!(l.contains("has.field level 0 field 2"), "{l}");
}

#[test]
fn issue13_sources_without_nested_lists_keep_scalar_field_records() {
    let src = "schema {\n  items: list of it { name: string }\n}\npolicy P:\n  \"t\"\n  \
               triggers when any(i in items where i.name == \"a\")\n  denies\n";
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let body = Bundle::decode_unverified(&bytes).unwrap();
    assert_eq!(SlotRec::count(body.slots), 1);
    assert_eq!(FieldRec::nth(body.fields, 0).kind(), kind::STR);
}

#[test]
fn issue13_a_list_field_naming_an_earlier_slot_is_refused() {
    let bytes = compile(HIGH_PORT);
    let b = Bundle::from_bytes(&bytes).unwrap();
    let parent = usize::from(b.slot("containers").unwrap());
    let body = Bundle::decode_unverified(&bytes).unwrap();
    let first = usize::from(SlotRec::nth(body.slots, parent).first_field());
    // `ports` (a list of records) pointed at `containers` itself: a cycle.
    let mut f = body.fields.to_vec();
    let mut r = FieldRec::nth(&f, first + 2).fields();
    r.enum_id = parent as u16;
    r.put(&mut f, first + 2).unwrap();
    let e = Bundle::from_bytes(&encode(&Body { fields: &f, ..body })).unwrap_err();
    assert!(
        matches!(e, BundleError::Verify(VerifyError::BadRecord { section: Section::Slots, index }) if index as usize == parent),
        "{e:?}"
    );
    // `ports` pointed at the list of strings: a kind mismatch.
    let caps = b.slot("containers[].capabilities.add").unwrap();
    let mut f = body.fields.to_vec();
    let mut r = FieldRec::nth(&f, first + 2).fields();
    r.enum_id = caps;
    r.put(&mut f, first + 2).unwrap();
    let e = Bundle::from_bytes(&encode(&Body { fields: &f, ..body })).unwrap_err();
    assert!(
        matches!(
            e,
            BundleError::Verify(VerifyError::BadRecord {
                section: Section::Fields,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn issue13_a_nested_list_and_a_field_of_one_name_are_reported_at_the_later_one() {
    for (src, col) in [
        ("  cs: list of c { ports: list of int, ports: int }", 39),
        ("  cs: list of c { ports: int, ports: list of int }", 31),
    ] {
        let src = format!("schema {{\n{src}\n}}\npolicy P: \"t\" requires cs.count > 1\n");
        let (_, diags) = ipe_compile::compile_sources(&[("a.ipe", src.as_str())]);
        assert_eq!(
            diags[0].message(),
            "attribute `cs[].ports` is declared twice in the schema"
        );
        assert_eq!(diags[0].line_col(), (2, col), "{src}");
    }
}
