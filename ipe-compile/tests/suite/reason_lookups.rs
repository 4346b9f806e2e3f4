//! Issue #13 (session 11): reason part kinds 6 (`{limits[c.name]}`: a request map's entry
//! under a witness element's string field) and 7 (`{owners[doc]}`: a map constant's lookup
//! table under a string slot). Written with their operands, rendered from the request's values
//! by the device renderer, and verified (a changed byte is refused).

use crate::reason_parts::{rejected, with_part_byte};
use ipe_nostd::format::{ReasonPartRec, REASON_PART_LEN};
use ipe_nostd::verify::Section;
use ipe_nostd::{Bundle, Context, Decision, Str, Value};

const WITNESS: &str = r#"schema {
  limits: map of int max 4
  items: list of c max 4 { name: string, n: int }
}

policy P:
  "every n is small"
  requires all(c in items where c.n < 5)
  with reason "{limits[c.name]}"
"#;

const TABLE: &str = r#"schema {
  k: string
  n: int
}

const owners = {"a": "ann", "b": "bob"}

policy P:
  "n is small"
  requires n < 5
  with reason "{owners[k]}"
"#;

/// (kind, clause, operand, entry, text offset) of each reason part.
fn parts(bytes: &[u8]) -> Vec<(u8, u16, u16, u16, u32)> {
    let body = Bundle::decode_unverified(bytes).expect("decodes");
    (0..body.reason_parts.len() / REASON_PART_LEN)
        .map(|i| {
            let p = ReasonPartRec::nth(body.reason_parts, i);
            (p.kind(), p.clause(), p.operand(), p.entry(), p.text().off)
        })
        .collect()
}

#[test]
fn issue13_witness_entry_parts_are_written_rendered_and_verified() {
    let bytes = crate::reason_parts::bytes(WITNESS);
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let (limits, items) = (
        bundle.slot("limits").expect("slot"),
        bundle.slot("items").expect("slot"),
    );
    // Clause 0's witness, map `limits`, the value (entry field 1), key field 1 (`name`;
    // fields are sorted by path: `n`, `name`).
    assert_eq!(parts(&bytes), [(6, 0, limits, 1, 1)]);

    let s = |t: &'static str| {
        Value::Str(Str {
            text: t,
            sym: bundle.intern(t).sym,
        })
    };
    let elems = [Value::Int(1), s("a"), Value::Int(9), s("b")];
    let entries = [s("a"), Value::Int(10), s("b"), Value::Int(20)];
    let mut ctx = Context::<8>::new();
    ctx.set(items, Value::Records(&elems));
    ctx.set(limits, Value::Records(&entries));
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    let v = d.violations[0];
    // The witness is the second element, `b`.
    assert_eq!(bundle.reason_with(ctx.values(), v).to_string(), "20");
    let other = [s("a"), Value::Int(10)];
    ctx.set(limits, Value::Records(&other));
    assert_eq!(bundle.reason_with(ctx.values(), v).to_string(), "<missing>");
    ctx.set(limits, Value::Missing);
    assert_eq!(bundle.reason_with(ctx.values(), v).to_string(), "<missing>");

    // A key field past the element's fields, a key field that is no string (`n`), a map slot
    // that is no map, entry field 0 and a clause past the policy's are refused.
    let items_byte = u8::try_from(items).expect("small slot id");
    for (at, value) in [(0, 9), (0, 0), (12, items_byte), (14, 0), (10, 1)] {
        assert_eq!(
            rejected(&with_part_byte(&bytes, 0, at, value)),
            Some((Section::ReasonParts, 0)),
            "byte {at} = {value}"
        );
    }
}

#[test]
fn issue13_const_entry_parts_are_written_rendered_and_verified() {
    let bytes = crate::reason_parts::bytes(TABLE);
    let bundle = Bundle::from_bytes(&bytes).expect("verifies");
    let (k, n) = (
        bundle.slot("k").expect("slot"),
        bundle.slot("n").expect("slot"),
    );
    let p = parts(&bytes);
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].0, p[0].1, p[0].4), (7, k, 0));

    let s = |t: &'static str| {
        Value::Str(Str {
            text: t,
            sym: bundle.intern(t).sym,
        })
    };
    let mut ctx = Context::<8>::new();
    ctx.set(n, Value::Int(9));
    ctx.set(k, s("b"));
    let d: Decision<2> = ipe_nostd::evaluate(&bundle, &ctx);
    let v = d.violations[0];
    assert_eq!(bundle.reason_with(ctx.values(), v).to_string(), "bob");
    ctx.set(k, s("c"));
    assert_eq!(bundle.reason_with(ctx.values(), v).to_string(), "<missing>");
    ctx.set(k, Value::Int(1));
    assert_eq!(bundle.reason_with(ctx.values(), v).to_string(), "<invalid>");

    // A key slot that is no string (`n`), a set past the bundle's, a first constant past
    // the table's, a default flag and text on the part are refused.
    let n_byte = u8::try_from(n).expect("small slot id");
    for (at, value) in [(10, n_byte), (12, 9), (14, 9), (9, 1), (4, 1)] {
        assert_eq!(
            rejected(&with_part_byte(&bytes, 0, at, value)),
            Some((Section::ReasonParts, 0)),
            "byte {at} = {value}"
        );
    }
}
