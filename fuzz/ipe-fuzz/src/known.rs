//! Open findings the oracles step around so a campaign can look for new ones. Each entry names
//! its regression test in the ordinary test suite; delete the entry when that test passes.
//!
//! Fixed (entries deleted, tests in `ipe-compile/tests/suite/fuzz_findings.rs` pass): empty
//! non-string set, `null` list element `got`, smallest scalar-list element error (reference vs
//! interpreter), `enum []`, records with no fields.

use ipe_nostd::{Bundle, SlotId, Value, ValueKind};

/// A list of scalars with two or more invalid elements: since 71af9b2 the interpreter reports
/// the smallest element error (`ipe-nostd/src/vm.rs`, list loading: `min_err`), the JIT still
/// the first invalid element's (`ipe-host/src/jit`). Regression test:
/// `ipe-host/tests/suite/fuzz_findings.rs::jit_scalar_list_error_is_the_smallest`.
pub fn jit_first_list_error(bundle: &Bundle<'_>, values: &[Value<'_>]) -> bool {
    (0..bundle.slot_count().min(values.len())).any(|s| {
        let Ok(slot) = SlotId::try_from(s) else { return false };
        let info = bundle.slot_info(slot);
        let (Some(k), Value::List(items)) = (info.elem, values[s]) else {
            return false;
        };
        let bad = |v: &Value<'_>| match (k, v) {
            (ValueKind::Str, Value::Str(_))
            | (ValueKind::Int, Value::Int(_))
            | (ValueKind::Bool, Value::Bool(_)) => false,
            (ValueKind::Enum, Value::Str(t)) => bundle.enum_rank(info.enum_id, *t).is_none(),
            (ValueKind::Enum, Value::Enum(_)) => false,
            _ => true,
        };
        items.iter().filter(|v| bad(v)).count() >= 2
    })
}
