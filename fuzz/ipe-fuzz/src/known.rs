//! Open findings the oracles step around so a campaign can look for new ones. Each entry names
//! its regression test in the ordinary test suite; delete the entry when that test passes.

use ipe_compile::hir::{Expr, Operand, Program};

/// `x in []` with an int or enum `x` lowers to a string set, which the verifier refuses
/// (`LowerError::Verify(.. TypeMismatch)`). Regression test:
/// `ipe-compile/tests/suite/fuzz_findings.rs::empty_int_set_lowers_to_a_verified_bundle`.
pub fn empty_non_string_set(program: &Program) -> bool {
    fn operand(o: &Operand) -> bool {
        match o {
            Operand::Count(a) => a.filter.as_deref().is_some_and(expr),
            _ => false,
        }
    }
    fn expr(e: &Expr) -> bool {
        match e {
            Expr::InSet { set, .. } if set.is_empty() => true,
            Expr::InSet { lhs, .. } | Expr::Has(lhs) | Expr::Truthy(lhs) => operand(lhs),
            Expr::InList { lhs, .. } => operand(lhs),
            Expr::Cmp { lhs, rhs, .. } | Expr::Str { lhs, rhs, .. } => operand(lhs) || operand(rhs),
            Expr::Not(e) => expr(e),
            Expr::And(es) | Expr::Or(es) => es.iter().any(expr),
            Expr::Any(a) | Expr::All(a) => a.filter.as_deref().is_some_and(expr),
            Expr::Const(_) => false,
        }
    }
    program.policies.iter().any(|p| {
        p.trigger.as_ref().is_some_and(expr)
            || matches!(&p.body, ipe_compile::hir::Body::Requires { clauses, .. }
                if clauses.iter().any(|c| expr(&c.expr)))
    })
}

/// A request holding a list-of-records element that is not an object: (1) the reference
/// evaluator's `has v.field` is false for it while the interpreter's is true (fix in progress
/// in `ipe-compile/src/eval.rs`, corpus `presence/element_not_object`), and (2) for a `null`
/// element (of a list of records, or of a list of scalars) the reference reports `got object`
/// (`json_kind(null)` is `None`, mapped to `Object`), the interpreter `got null`. Regression test:
/// `ipe-compile/tests/suite/fuzz_findings.rs::null_record_element_error_agrees`.
pub fn non_object_element(program: &Program, request: &serde_json::Value) -> bool {
    program.slots.iter().any(|s| {
        let records = matches!(s.ty, ipe_compile::hir::SlotType::Records { .. });
        ipe_host::request::lookup(request, &s.path)
            .and_then(|v| v.as_array())
            .is_some_and(|items| items.iter().any(|i| i.is_null() || (records && !i.is_object())))
    })
}

/// A list of scalars with two or more elements of the wrong type: the reference reports the
/// smallest error (`ipe-compile/src/eval.rs`, `list`: `.min()`), the interpreter the first
/// element's (`ipe-nostd/src/vm.rs`, `load_list`: returns on the first invalid element).
/// Regression test: `ipe-compile/tests/suite/fuzz_findings.rs::scalar_list_error_is_the_smallest`.
pub fn several_bad_scalar_elements(program: &Program, request: &serde_json::Value) -> bool {
    use ipe_compile::hir::{Scalar, SlotType};
    program.slots.iter().any(|s| {
        let SlotType::List { elem, .. } = &s.ty else {
            return false;
        };
        let ok = |v: &serde_json::Value| match elem {
            Scalar::Str => v.is_string(),
            Scalar::Enum(m) => v.as_str().is_some_and(|s| m.iter().any(|x| x == s)),
            Scalar::Int => v.is_i64(),
            Scalar::Bool => v.is_boolean(),
        };
        ipe_host::request::lookup(request, &s.path)
            .and_then(|v| v.as_array())
            .is_some_and(|items| items.iter().filter(|i| !ok(i)).count() >= 2)
    })
}
