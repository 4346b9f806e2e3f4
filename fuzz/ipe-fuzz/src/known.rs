//! Open findings the oracles step around so a campaign can look for new ones. Each entry names
//! its regression test in the ordinary test suite; delete the entry when that test passes.

use ipe_compile::hir::{Expr, Operand, Program, Scalar, SlotType};

/// A lowering the verifier refuses for a known reason: any of the entries below.
pub fn refused_lowering(program: &Program) -> bool {
    empty_non_string_set(program) || empty_enum(program) || fieldless_records(program)
}

/// `enum []` (the grammar allows an empty member list, the checker accepts it) lowers to an
/// enum record with 0 members, which `ipe-nostd/src/verify.rs` refuses (`n == 0` check on the
/// Enums section: `BadRecord { section: Enums }`). Regression test:
/// `ipe-compile/tests/suite/fuzz_findings.rs::empty_enum_lowers_to_a_verified_bundle`.
pub fn empty_enum(program: &Program) -> bool {
    let empty = |s: &Scalar| matches!(s, Scalar::Enum(m) if m.is_empty());
    program.slots.iter().any(|s| match &s.ty {
        SlotType::Scalar(t) | SlotType::List { elem: t, .. } => empty(t),
        SlotType::Records { fields, .. } => fields.iter().any(|f| empty(&f.ty)),
    })
}

/// A list of records none of whose fields is ever declared or read (`list of el { }`, or
/// without a schema `any(b in reviews where true)`) lowers to a records slot with 0 fields,
/// which `ipe-nostd/src/verify.rs` refuses (`nf > 0` check on the Slots section:
/// `BadRecord { section: Slots }`). Regression test:
/// `ipe-compile/tests/suite/fuzz_findings.rs::fieldless_records_lower_to_a_verified_bundle`.
pub fn fieldless_records(program: &Program) -> bool {
    program
        .slots
        .iter()
        .any(|s| matches!(&s.ty, SlotType::Records { fields, .. } if fields.is_empty()))
}

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

/// A request holding a `null` list element (of a list of records, or of a list of scalars):
/// the reference reports `got object` (`ipe-compile/src/eval.rs`: `json_kind(..)` is `None` for
/// `null`, mapped to `Object`), the interpreter `got null`. Regression test:
/// `ipe-compile/tests/suite/fuzz_findings.rs::null_list_element_error_agrees`.
pub fn null_list_element(program: &Program, request: &serde_json::Value) -> bool {
    program.slots.iter().any(|s| {
        !matches!(s.ty, ipe_compile::hir::SlotType::Scalar(_))
            && ipe_host::request::lookup(request, &s.path)
                .and_then(|v| v.as_array())
                .is_some_and(|items| items.iter().any(serde_json::Value::is_null))
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
