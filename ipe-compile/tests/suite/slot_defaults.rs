//! Issue #13 (session 7): the tagged trailing section 3 (`slot_defaults`) of the bundle format,
//! the schema defaults default reasons show for a missing attribute: written only for scalar
//! attributes with a schema default, read by one binary search, and refused by the verifier
//! when unsorted, naming a list slot, with reserved bytes set or a bad text range.

use ipe_nostd::format::{Body, SlotDefaultFields, Span, SLOT_DEFAULT_LEN};
use ipe_nostd::verify::{Section, VerifyError};
use ipe_nostd::{Bundle, BundleError};

const SRC: &str = r#"
schema {
  limit: int = 10
  mode: string = "auto"
  name: string
  tags: list of string = []
}

policy P:
  "t"
  requires limit <= 5 and mode == "x" and name == "y" and "a" in tags
"#;

fn compile(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("d.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

/// The slot id of `path` in `b`.
fn slot(b: &Bundle<'_>, path: &str) -> u16 {
    b.slot(path).expect("declared")
}

fn with_defaults(bytes: &[u8], section: &[u8]) -> Vec<u8> {
    let body = Bundle::decode_unverified(bytes).expect("decodes");
    ipe_compile::lower::encode(&Body {
        slot_defaults: section,
        ..body
    })
}

#[test]
fn issue13_scalar_schema_defaults_are_written_and_found() {
    let bytes = compile(SRC);
    let b = Bundle::from_bytes(&bytes).expect("verifies");
    assert_eq!(b.slot_default(slot(&b, "limit")), Some("10"));
    assert_eq!(b.slot_default(slot(&b, "mode")), Some("auto"));
    assert_eq!(b.slot_default(slot(&b, "name")), None);
    // `= []` on a list is no scalar default.
    assert_eq!(b.slot_default(slot(&b, "tags")), None);
    let body = Bundle::decode_unverified(&bytes).unwrap();
    assert_eq!(body.slot_defaults.len(), 2 * SLOT_DEFAULT_LEN);
    assert_eq!(ipe_compile::lower::encode(&body), bytes);
}

#[test]
fn issue13_a_bundle_without_schema_defaults_has_no_section() {
    let bytes = compile("schema {\n  n: int\n}\npolicy P:\n  \"t\"\n  requires n <= 5\n");
    let body = Bundle::decode_unverified(&bytes).unwrap();
    assert!(body.slot_defaults.is_empty());
}

#[test]
fn issue13_the_verifier_refuses_bad_slot_default_records() {
    let bytes = compile(SRC);
    let b = Bundle::from_bytes(&bytes).unwrap();
    let (limit, mode, tags) = (slot(&b, "limit"), slot(&b, "mode"), slot(&b, "tags"));
    let body = Bundle::decode_unverified(&bytes).unwrap();
    let text = |i: usize| ipe_nostd::format::SlotDefaultRec::nth(body.slot_defaults, i).text();
    let rec = |slot: u16, text: Span| SlotDefaultFields { slot, text }.to_bytes();
    let refused = |section: Vec<u8>, index: u32| {
        assert_eq!(
            Bundle::from_bytes(&with_defaults(&bytes, &section)).unwrap_err(),
            BundleError::Verify(VerifyError::BadRecord {
                section: Section::SlotDefaults,
                index
            })
        );
    };
    // Descending slots.
    let mut s = rec(mode, text(1)).to_vec();
    s.extend_from_slice(&rec(limit, text(0)));
    refused(s, 1);
    // A repeated slot.
    let mut s = rec(limit, text(0)).to_vec();
    s.extend_from_slice(&rec(limit, text(0)));
    refused(s, 1);
    // A list slot.
    refused(rec(tags, text(0)).to_vec(), 0);
    // A slot out of range.
    refused(rec(999, text(0)).to_vec(), 0);
    // A text range past the text.
    refused(
        rec(
            limit,
            Span {
                off: u32::MAX - 1,
                len: 1,
            },
        )
        .to_vec(),
        0,
    );
    // Reserved bytes set.
    let mut s = rec(limit, text(0)).to_vec();
    s[2] = 1;
    refused(s, 0);
    // A partial record.
    let s = rec(limit, text(0))[..8].to_vec();
    assert_eq!(
        Bundle::from_bytes(&with_defaults(&bytes, &s)).unwrap_err(),
        BundleError::Verify(VerifyError::BadLength(Section::SlotDefaults))
    );
}
