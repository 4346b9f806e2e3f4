//! Issue 13, lists: quantifiers over lists of scalars read the element through the list's
//! self field, set operators expand into them; the bundle bytes of sources that use neither
//! are unchanged, and the verifier checks the self field.

use ipe_compile::lower::encode;
use ipe_nostd::format::{Body, FieldRec, SlotRec};
use ipe_nostd::verify::{Block, CodeError, Section, VerifyError};
use ipe_nostd::{Bundle, BundleError};

const SCHEMA: &str = "schema {\n  tags: list of string max 8\n  allowed: list of string max 4\n  \
                      n: int\n}\n";

fn compile(policy: &str) -> Vec<u8> {
    let src = format!("{SCHEMA}\npolicy P:\n  \"t\"\n  {policy}\n");
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

fn slot<'a>(body: &Body<'a>, i: usize) -> SlotRec<'a> {
    SlotRec::nth(body.slots, i)
}

/// The slot id of `path` (slots are the attributes the policies read, sorted by path).
fn id(bytes: &[u8], path: &str) -> usize {
    usize::from(
        Bundle::from_bytes(bytes)
            .unwrap()
            .slot(path)
            .expect("a slot"),
    )
}

#[test]
fn issue13_only_iterated_lists_of_scalars_get_a_self_field() {
    // `in` and `.count` read no element: no field record, as in language v1.
    let v1 = compile("triggers when n in [1] and \"a\" in tags and tags.count > 1\n  denies");
    let body = Bundle::decode_unverified(&v1).unwrap();
    assert!(body.fields.is_empty());
    assert_eq!(slot(&body, id(&v1, "tags")).field_count(), 0);
    // An aggregate binding the elements of `tags` gives it one field record: the empty path,
    // the element kind; `allowed`, only scanned by `in`, gets none.
    let q = compile("triggers when all(t in tags where t in allowed)\n  denies");
    let body = Bundle::decode_unverified(&q).unwrap();
    let tags = slot(&body, id(&q, "tags"));
    assert_eq!((tags.first_field(), tags.field_count()), (0, 1));
    assert_eq!(slot(&body, id(&q, "allowed")).field_count(), 0);
    let f = FieldRec::nth(body.fields, 0);
    assert_eq!(f.kind(), tags.elem_kind());
    assert_eq!(f.enum_id(), tags.enum_id());
    assert_eq!(f.path().len, 0);
}

#[test]
fn issue13_cost_bound_of_a_scalar_quantifier_multiplies_the_lists() {
    // all(t in tags where t in allowed): `all` 1 + max(tags) 8 × (load.field 1 + in.list 1 +
    // max(allowed) 4 + 1).
    let bytes = compile("triggers when all(t in tags where t in allowed)\n  denies");
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(bundle.policy_rec(0).cost_bound(), 1 + 8 * (1 + 1 + 4 + 1));
    // `tags subset_of allowed` is that aggregate: the same bound.
    let bytes = compile("triggers when tags subset_of allowed\n  denies");
    let bundle = Bundle::from_bytes(&bytes).unwrap();
    assert_eq!(bundle.policy_rec(0).cost_bound(), 1 + 8 * (1 + 1 + 4 + 1));
}

/// The bundle of `any(t in tags where t == "a")` (one slot, `tags`: id 0), patched.
fn reject(patch: impl FnOnce(&Body<'_>) -> Vec<u8>) -> BundleError {
    let bytes = compile("triggers when any(t in tags where t == \"a\")\n  denies");
    assert_eq!(id(&bytes, "tags"), TAGS);
    let body = Bundle::decode_unverified(&bytes).unwrap();
    Bundle::from_bytes(&patch(&body)).unwrap_err()
}

const TAGS: usize = 0;

#[test]
fn issue13_a_self_field_of_another_kind_is_refused() {
    let e = reject(|b| {
        let mut f = b.fields.to_vec();
        let mut r = FieldRec::nth(&f, 0).fields();
        r.kind = ipe_nostd::format::kind::INT;
        r.put(&mut f, 0).unwrap();
        encode(&Body { fields: &f, ..*b })
    });
    assert!(
        matches!(e, BundleError::Verify(VerifyError::BadRecord { section: Section::Slots, index } ) if index == TAGS as u32),
        "{e:?}"
    );
}

#[test]
fn issue13_a_self_field_with_a_path_is_refused() {
    let e = reject(|b| {
        let mut f = b.fields.to_vec();
        let mut r = FieldRec::nth(&f, 0).fields();
        r.path.len = 1;
        r.put(&mut f, 0).unwrap();
        encode(&Body { fields: &f, ..*b })
    });
    assert!(
        matches!(
            e,
            BundleError::Verify(VerifyError::BadRecord {
                section: Section::Slots,
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn issue13_an_aggregate_body_over_a_list_of_scalars_without_its_self_field_is_refused() {
    let e = reject(|b| {
        let mut s = b.slots.to_vec();
        let mut r = SlotRec::nth(&s, TAGS).fields();
        r.field_count = 0;
        r.put(&mut s, TAGS).unwrap();
        encode(&Body { slots: &s, ..*b })
    });
    assert!(
        matches!(
            e,
            BundleError::Verify(VerifyError::Code {
                policy: 0,
                block: Block::Trigger,
                pc: 0,
                error: CodeError::TypeMismatch
            })
        ),
        "{e:?}"
    );
}
