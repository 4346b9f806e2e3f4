//! Issue #13 (session 6): reason part byte 9. A slot part flagged with a default renders its
//! text when the slot is missing; witness field parts flagged "continued" name the witness of
//! whichever clause of an `all` over several lists failed. The verifier accepts the flag only
//! where it means something.

use crate::reason_parts::{rejected, with_part_byte};
use ipe_nostd::format::{ReasonPartRec, REASON_PART_LEN};
use ipe_nostd::verify::Section;
use ipe_nostd::{Bundle, Context, Decision, Str, Value};

const SRC: &str = r#"schema {
  spec.containers: list of c max 4 { name: string, image: string } = []
  spec.initContainers: list of c max 4 { name: string, image: string } = []
  spec.tier: enum ["dev", "prod"] = "dev"
}

policy Registry:
  "images come from gcr.io"
  requires all(c in spec.containers, spec.initContainers where c.image starts_with "gcr.io/")
  with reason "{spec.tier}: container {c.name}"
"#;

fn bytes() -> Vec<u8> {
    crate::reason_parts::bytes(SRC)
}

#[test]
fn issue13_default_and_continued_flags_are_written_rendered_and_verified() {
    let bytes = bytes();
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let body = Bundle::decode_unverified(&bytes).expect("decodes");
    let kinds: Vec<(u8, u8)> = (0..body.reason_parts.len() / REASON_PART_LEN)
        .map(|i| {
            let p = ReasonPartRec::nth(body.reason_parts, i);
            (p.kind(), p.default())
        })
        .collect();
    // slot (with its default), text, then one field part per list, the first continued.
    assert_eq!(kinds, [(1, 1), (0, 0), (2, 1), (2, 0)]);
    assert_eq!(bundle.policy(0).clauses, 2);

    // The second list's witness, and the default of the missing tier.
    let slot = |p: &str| {
        (0..bundle.slot_count())
            .find_map(|s| {
                let id = u16::try_from(s).ok()?;
                (bundle.slot_info(id).path == p).then_some(id)
            })
            .expect("slot")
    };
    let (containers, inits) = (slot("spec.containers"), slot("spec.initContainers"));
    let s = |t: &'static str| {
        Value::Str(Str {
            text: t,
            sym: bundle.intern(t).sym,
        })
    };
    // Fields sorted by path: image, name.
    let ok = [s("gcr.io/a"), s("a")];
    let bad = [s("quay.io/i"), s("i")];
    let bad_c = [s("quay.io/c"), s("c")];
    let mut ctx = Context::<4>::new();
    ctx.set(containers, Value::Records(&ok));
    ctx.set(inits, Value::Records(&bad));
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    let v = d.violations[0];
    assert_eq!(v.clause, Some(1));
    assert_eq!(
        bundle.reason_with(ctx.values(), v).to_string(),
        "dev: container i"
    );
    // The first list's witness when both fail.
    ctx.set(containers, Value::Records(&bad_c));
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    let v = d.violations[0];
    assert_eq!(v.clause, Some(0));
    assert_eq!(
        bundle.reason_with(ctx.values(), v).to_string(),
        "dev: container c"
    );

    // A default flag on a text part, a flag of 2, a continued field part that ends the
    // template, and a slot part flagged without its text are rejected.
    assert_eq!(
        rejected(&with_part_byte(&bytes, 1, 9, 1)),
        Some((Section::ReasonParts, 1))
    );
    assert_eq!(
        rejected(&with_part_byte(&bytes, 0, 9, 2)),
        Some((Section::ReasonParts, 0))
    );
    assert_eq!(
        rejected(&with_part_byte(&bytes, 3, 9, 1)),
        Some((Section::ReasonParts, 3))
    );
    assert_eq!(
        rejected(&with_part_byte(&bytes, 2, 9, 2)),
        Some((Section::ReasonParts, 2))
    );
    // Unflagged, the slot part must have no text.
    assert_eq!(
        rejected(&with_part_byte(&bytes, 0, 9, 0)),
        Some((Section::ReasonParts, 0))
    );
}
