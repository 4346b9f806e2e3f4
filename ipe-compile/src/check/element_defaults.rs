//! Defaults on the fields of list elements (issue #13): `ports: list of p { .. } = []` on a
//! nested list, so that an element without the field reads it as the empty list (expanded
//! like a top-level list's `= []`, see `optional.rs`). Any other default on a field is a
//! located error: scalar fields take `??` where they are read, maps hold no lists.

use super::nested::nested_path;
use super::optional::Default;
use crate::ast::{SchemaDefault, TypeExpr};
use crate::diag::Problem;
use crate::hir::SlotType;
use std::collections::{BTreeMap, HashMap};

/// Checks the field defaults declared in `ty` (the type of attribute `path`, in file `file`)
/// and its nested lists, recording each valid one in `out` by the nested list's slot path.
pub(super) fn check(
    file: usize,
    path: &str,
    ty: &TypeExpr,
    types: &BTreeMap<String, SlotType>,
    problems: &mut Vec<Problem>,
    out: &mut HashMap<String, Default>,
) {
    let (map, ty) = match ty {
        TypeExpr::MapRecords(inner) => (true, &**inner),
        t => (false, t),
    };
    let TypeExpr::Records {
        fields,
        lists,
        defaults,
        ..
    } = ty
    else {
        return;
    };
    for (name, d, span) in defaults {
        let elem = if map {
            format!("{path}[].value")
        } else {
            format!("{path}[]")
        };
        let shown = crate::hir::joined(&elem, &name.text);
        let mut error = |message: String, help: String| {
            problems.push(Problem {
                file,
                span: span.clone(),
                message,
                help: Some(help),
            });
        };
        if fields.iter().any(|(n, _)| n.text == name.text) {
            let what = if map {
                "a map's value"
            } else {
                "a list element"
            };
            error(
                format!("a scalar field of {what} has no schema default (`{shown}`)"),
                format!(
                    "read it with `??` where it is used, e.g. `x.{} ?? <default>`; only a list field takes `= []`",
                    name.text
                ),
            );
            continue;
        }
        if map || !lists.iter().any(|(n, _)| n.text == name.text) {
            // A map value's list was reported by the map's own check.
            continue;
        }
        let np = nested_path(path, &name.text);
        match (types.get(&np), d) {
            (Some(SlotType::List { .. } | SlotType::Records { .. }), SchemaDefault::EmptyList) => {
                out.insert(np, Default::NestedEmptyList);
            }
            (Some(t), SchemaDefault::EmptyMap) => error(
                format!(
                    "mismatched default of `{shown}`: expected {}, found the empty map `{{}}`",
                    super::schema::type_word(t)
                ),
                "`= {}` is for maps; a list's default is `= []`".to_owned(),
            ),
            (Some(_), SchemaDefault::Lit(_)) => error(
                format!("mismatched default of `{shown}`: expected `[]`, found a literal"),
                "a list's only default is the empty list `= []`".to_owned(),
            ),
            _ => {}
        }
    }
    for (name, t) in lists {
        check(
            file,
            &nested_path(path, &name.text),
            t,
            types,
            problems,
            out,
        );
    }
}
