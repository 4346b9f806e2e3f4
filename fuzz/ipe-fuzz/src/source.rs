//! `source`: arbitrary text through the whole front end and back end.
//!
//! Property: `compile_sources` never panics; when it returns a program, `lower` succeeds (or
//! reports a format size limit), `Bundle::from_bytes` accepts the bytes,
//! `encode(decode(b)) == b`, and the reference evaluator and the interpreter agree on a few
//! fixed requests. A NUL byte splits the input into several files of one bundle.

use ipe_nostd::Bundle;

/// The oracle.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let names = ["a.ipe", "b.ipe", "c.ipe", "d.ipe"];
    let sources: Vec<(&str, &str)> = text
        .split('\0')
        .take(names.len())
        .enumerate()
        .map(|(i, t)| (names[i], t))
        .collect();
    let Some((program, bytes)) = crate::build(&sources) else {
        return;
    };
    let bundle =
        Bundle::from_bytes_with_max_cost(&bytes, crate::MAX_COST).expect("checked by build");
    let sets = crate::jits(&bundle);
    for request in fixed_requests(&program) {
        crate::assert_agree(&program, &bundle, &sets, &request, &text);
    }
}

/// An empty request, and one giving every attribute a value of its declared type (so the
/// policies do more than report missing attributes).
fn fixed_requests(program: &ipe_compile::hir::Program) -> Vec<serde_json::Value> {
    use ipe_compile::hir::{Scalar, SlotType};
    use serde_json::{json, Value};
    fn scalar(s: &Scalar, i: usize) -> Value {
        match s {
            Scalar::Str => json!(["a", "", "x"][i % 3]),
            Scalar::Int => json!(i as i64 - 1),
            // Issue #14: a quantity as a number or text, a timestamp, a duration, an address.
            Scalar::Quantity => [json!(i), json!("200m"), json!("1Gi")][i % 3].clone(),
            Scalar::Time => [json!("2026-12-01T10:00:00Z"), json!(i as i64)][i % 2].clone(),
            Scalar::Duration => [json!("1h30m"), json!(i as i64)][i % 2].clone(),
            Scalar::Ip => json!(["10.0.0.1", "fe80::1", "::ffff:192.168.1.1"][i % 3]),
            Scalar::Bool => json!(i % 2 == 0),
            Scalar::Enum(m) => m.get(i % m.len().max(1)).map_or(json!("?"), |s| json!(s)),
        }
    }
    let mut full = Value::Object(Default::default());
    for (i, slot) in program.slots.iter().enumerate() {
        let v = match &slot.ty {
            SlotType::Scalar(s) => scalar(s, i),
            SlotType::List { elem, .. } => json!([scalar(elem, i), scalar(elem, i + 1)]),
            SlotType::Map { fields, .. } => {
                let value = fields.get(1).map_or(json!("a"), |f| scalar(&f.ty, i));
                json!({"a.b": value, "": value})
            }
            SlotType::Records { fields, .. } => {
                let mut el = Value::Object(Default::default());
                for (j, f) in fields.iter().enumerate() {
                    crate::gen::insert_path(&mut el, &f.path, scalar(&f.ty, i + j));
                }
                json!([el.clone(), el])
            }
        };
        crate::gen::insert_path(&mut full, &slot.path, v);
    }
    vec![json!({}), full]
}
