//! Issue #13 optional values: `x ?? d`, schema defaults and `permits`, checked against their
//! definition in `docs/LANGUAGE.md` ("Optional values") rather than against the expansion the
//! checker uses: on every request, a policy reading `x ?? d` decides exactly as the same
//! policy reading `d` when `x` is missing, and reading `x` otherwise.

use ipe_compile::ast::{ExprKind, Item};
use ipe_testgen::backend::{Backend, Interp, Reference};
use serde_json::{json, Value};

/// Decisions of a one-file bundle on the reference evaluator and the interpreter (which must
/// agree).
fn decide(src: &str, request: &Value) -> String {
    let program = ipe_compile::compile_str(&[("t.ipe", src)])
        .unwrap_or_else(|e| panic!("compiles: {e}\n{src}"));
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let interp = Interp::new(&bytes).expect("verifies");
    let reference = Reference(&program).decide(request).expect("decides");
    assert_eq!(
        reference,
        interp.decide(request).expect("decides"),
        "{src}\n{request}"
    );
    reference
}

fn bundle(schema: &str, trigger: &str) -> String {
    format!("default allow\nschema {{\n{schema}\n}}\npolicy P:\n  \"p\"\n  triggers when {trigger}\n  denies\n")
}

/// Values of an attribute: missing (absent, null), valid, invalid.
fn states(valid: &[Value], invalid: &[Value]) -> Vec<Option<Value>> {
    let mut out = vec![None, Some(Value::Null)];
    out.extend(valid.iter().cloned().map(Some));
    out.extend(invalid.iter().cloned().map(Some));
    out
}

fn request(attrs: &[(&str, &Option<Value>)]) -> Value {
    let mut m = serde_json::Map::new();
    for (k, v) in attrs {
        if let Some(v) = v {
            m.insert((*k).to_owned(), v.clone());
        }
    }
    Value::Object(m)
}

fn missing(v: &Option<Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

#[test]
fn issue13_coalesce_decides_as_the_default_when_missing_and_as_the_attribute_otherwise() {
    let schema =
        "x: int\nz: int\ny: int\ns: string\nt: string\nb: bool\nl: enum [\"lo\", \"mid\", \"hi\"]";
    // (condition with `??`, the same with the attribute, the same with the default,
    //  attribute, default attribute if a path)
    let forms: &[(&str, &str, &str, &str, Option<&str>)] = &[
        ("x ?? 3 > y", "x > y", "3 > y", "x", None),
        ("x ?? 3 <= 3", "x <= 3", "3 <= 3", "x", None),
        ("y < x ?? z", "y < x", "y < z", "x", Some("z")),
        ("x ?? 1 in [1, 5]", "x in [1, 5]", "1 in [1, 5]", "x", None),
        (
            "s ?? \"ab\" starts_with t",
            "s starts_with t",
            "\"ab\" starts_with t",
            "s",
            None,
        ),
        ("b ?? true", "b", "true", "b", None),
        ("not (b ?? false)", "not b", "not false", "b", None),
        ("l ?? \"mid\" >= \"mid\"", "l >= \"mid\"", "true", "l", None),
    ];
    let ints = states(&[json!(1), json!(3), json!(5)], &[json!("5"), json!(2.5)]);
    let strs = states(&[json!("abc"), json!("x")], &[json!(1)]);
    let bools = states(&[json!(true), json!(false)], &[json!("true")]);
    let levels = states(&[json!("lo"), json!("hi")], &[json!("top")]);
    for &(with, attr, default, x, z) in forms {
        let xs = match x {
            "s" => &strs,
            "b" => &bools,
            "l" => &levels,
            _ => &ints,
        };
        let none: &[Option<Value>] = &[None];
        let zs = if z.is_some() { &ints[..] } else { none };
        let ys = if with.contains('y') { &ints[..] } else { none };
        let ts = if with.ends_with(" t") {
            &strs[..]
        } else {
            none
        };
        for xv in xs {
            for yv in ys {
                for tv in ts {
                    for zv in zs {
                        let req = request(&[(x, xv), ("y", yv), ("t", tv), ("z", zv)]);
                        let expected = if missing(xv) {
                            decide(&bundle(schema, default), &req)
                        } else {
                            decide(&bundle(schema, attr), &req)
                        };
                        assert_eq!(
                            decide(&bundle(schema, with), &req),
                            expected,
                            "`{with}` on {req}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn issue13_coalesce_chain_tries_each_attribute_in_order() {
    let schema = "a: int\nb: int";
    let ints = states(&[json!(1), json!(7)], &[json!("7")]);
    for av in &ints {
        for bv in &ints {
            let req = request(&[("a", av), ("b", bv)]);
            let expected = if !missing(av) {
                "a > 5"
            } else if !missing(bv) {
                "b > 5"
            } else {
                "9 > 5"
            };
            assert_eq!(
                decide(&bundle(schema, "a ?? b ?? 9 > 5"), &req),
                decide(&bundle(schema, expected), &req),
                "{req}"
            );
        }
    }
}

#[test]
fn issue13_schema_default_reads_as_coalesce_and_has_still_reports_presence() {
    let ints = states(&[json!(1), json!(7)], &[json!("7")]);
    for xv in &ints {
        for yv in &ints {
            let req = request(&[("x", xv), ("y", yv)]);
            assert_eq!(
                decide(&bundle("x: int = 4\ny: int", "x > y"), &req),
                decide(&bundle("x: int\ny: int", "x ?? 4 > y"), &req),
                "{req}"
            );
            assert_eq!(
                decide(&bundle("x: int = 4\ny: int", "has x"), &req),
                decide(&bundle("x: int\ny: int", "has x"), &req),
                "{req}"
            );
        }
    }
}

#[test]
fn issue13_list_default_reads_a_missing_list_as_empty() {
    let schema = "tags: list of string = []\nrs: list of r max 2 { n: int } = []\ns: string";
    let lists = [
        None,
        Some(Value::Null),
        Some(json!([])),
        Some(json!(["a"])),
        Some(json!("a")),
        Some(json!([1])),
    ];
    let records = [
        None,
        Some(Value::Null),
        Some(json!([])),
        Some(json!([{"n": 1}])),
        Some(json!([{"n": 1}, {"n": 2}, {"n": 3}])),
        Some(json!({"n": 1})),
    ];
    let forms: &[(&str, &str)] = &[
        ("s in tags", "s in []"),
        ("tags.count == 0", "0 == 0"),
        ("any(r in rs where r.n > 0)", "false"),
        ("all(r in rs where r.n > 0)", "true"),
        ("count(r in rs where r.n > 0) < 1", "0 < 1"),
    ];
    for (with, empty) in forms {
        for l in &lists {
            for r in &records {
                for sv in [None, Some(json!("a")), Some(json!(1))] {
                    let req = request(&[("tags", l), ("rs", r), ("s", &sv)]);
                    let list_missing = if with.contains("tags") {
                        missing(l)
                    } else {
                        missing(r)
                    };
                    let plain = schema.replace(" = []", "");
                    let expected = if list_missing {
                        decide(&bundle(&plain, empty), &req)
                    } else {
                        decide(&bundle(&plain, with), &req)
                    };
                    assert_eq!(
                        decide(&bundle(schema, with), &req),
                        expected,
                        "`{with}` on {req}"
                    );
                }
            }
        }
    }
}

#[test]
fn issue13_permits_compiles_to_the_same_bundle_as_requires_true() {
    let src = |body: &str| {
        format!("schema {{\n  r: string\n}}\npolicy P:\n  \"p\"\n  triggers when r == \"a\"\n  {body}\n")
    };
    let bytes = |s: &str| {
        let program = ipe_compile::compile_str(&[("t.ipe", s)]).expect("compiles");
        ipe_compile::lower::lower(&program).expect("lowers").bytes
    };
    assert_eq!(bytes(&src("permits")), bytes(&src("requires true")));
    for r in [json!({"r": "a"}), json!({"r": "b"}), json!({})] {
        assert_eq!(
            decide(&src("permits with reason \"why\""), &r),
            decide(&src("requires true"), &r)
        );
    }
}

#[test]
fn issue13_coalesce_binds_tighter_than_comparisons_and_nests_to_the_right() {
    let (file, errors) = ipe_compile::parser::parse_file(
        "policy P:\n  \"p\"\n  triggers when a ?? b ?? 1 == c ?? 2\n  denies\n",
    );
    assert!(errors.is_empty(), "{errors:?}");
    let Some(Item::Policy(p)) = file.items.first() else {
        panic!("a policy")
    };
    let Some(t) = &p.trigger else {
        panic!("a trigger")
    };
    let ExprKind::Cmp { sides, .. } = &t.kind else {
        panic!("a comparison at the top: {t:?}")
    };
    let [lhs, rhs] = &**sides;
    let ExprKind::Coalesce {
        lhs: a, rhs: rest, ..
    } = &lhs.kind
    else {
        panic!("?? on the left: {lhs:?}")
    };
    assert!(matches!(&a.kind, ExprKind::Path(n) if n.text == "a"));
    assert!(matches!(&rest.kind, ExprKind::Coalesce { .. }), "{rest:?}");
    assert!(matches!(&rhs.kind, ExprKind::Coalesce { .. }), "{rhs:?}");
}
