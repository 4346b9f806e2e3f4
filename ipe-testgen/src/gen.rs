//! Random well-typed IPE bundles and requests (proptest strategies), shared by every
//! differential test: ipe-compile's (interpreter against the reference evaluator) and
//! ipe-host's (JIT tiers against both).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

/// The schema every generated bundle is checked with (pass it as a second source file).
pub const SCHEMA: &str = r#"schema {
  a.s: string
  a.t: string
  b.i: int
  b.j: int
  c.flag: bool
  c.level: enum ["low", "mid", "high"]
  tags: list of string max 4
  items: list of item max 4 {
    name: string, n: int, level: enum ["low", "mid", "high"], ok: bool
    subs: list of sub max 3 { k: int, tag: string }
    labels: list of string max 3
  }
}
"#;

const STRS: &[&str] = &["x", "y", "xy", "", "Y"];
const LEVELS: &[&str] = &["low", "mid", "high"];

fn lit_str() -> impl Strategy<Value = String> {
    proptest::sample::select(STRS).prop_map(|s| format!("{s:?}"))
}
fn lit_int() -> impl Strategy<Value = String> {
    (-2i64..3).prop_map(|i| i.to_string())
}
fn lit_level() -> impl Strategy<Value = String> {
    proptest::sample::select(LEVELS).prop_map(|s| format!("{s:?}"))
}
fn cmp_op() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&["==", "!=", "<", "<=", ">", ">="][..])
}
fn eq_op() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(&["==", "!="][..])
}

/// A condition over top-level attributes, or over element `it` when `elem` is set.
fn leaf(elem: bool) -> BoxedStrategy<String> {
    let s_path = if elem {
        proptest::sample::select(&["it.name", "a.s", "a.t"][..]).boxed()
    } else {
        proptest::sample::select(&["a.s", "a.t"][..]).boxed()
    };
    let i_path = if elem {
        proptest::sample::select(&["it.n", "b.i", "b.j"][..]).boxed()
    } else {
        proptest::sample::select(&["b.i", "b.j"][..]).boxed()
    };
    let e_path = if elem {
        proptest::sample::select(&["it.level", "c.level"][..]).boxed()
    } else {
        Just("c.level").boxed()
    };
    let b_path = if elem {
        proptest::sample::select(&["it.ok", "c.flag"][..]).boxed()
    } else {
        Just("c.flag").boxed()
    };
    let mut options: Vec<BoxedStrategy<String>> = vec![
        (s_path.clone(), eq_op(), lit_str())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        (s_path.clone(), eq_op(), s_path.clone())
            .prop_map(|(p, o, q)| format!("{p} {o} {q}"))
            .boxed(),
        (i_path.clone(), cmp_op(), lit_int())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        (i_path.clone(), cmp_op(), i_path)
            .prop_map(|(p, o, q)| format!("{p} {o} {q}"))
            .boxed(),
        (e_path.clone(), cmp_op(), lit_level())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        (e_path, proptest::collection::vec(lit_level(), 1..3))
            .prop_map(|(p, ls)| format!("{p} in [{}]", ls.join(", ")))
            .boxed(),
        (s_path.clone(), proptest::collection::vec(lit_str(), 1..4))
            .prop_map(|(p, ls)| format!("{p} in [{}]", ls.join(", ")))
            .boxed(),
        b_path.clone().prop_map(str::to_owned).boxed(),
        (b_path, eq_op(), any::<bool>())
            .prop_map(|(p, o, b)| format!("{p} {o} {b}"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(&["starts_with", "ends_with", "contains"][..]),
            lit_str(),
        )
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        s_path.clone().prop_map(|p| format!("{p} in tags")).boxed(),
        proptest::sample::select(&["a.s", "b.i", "c.level", "tags", "items"][..])
            .prop_map(|p| format!("has {p}"))
            .boxed(),
        (cmp_op(), 0i64..4)
            .prop_map(|(o, n)| format!("tags.count {o} {n}"))
            .boxed(),
    ];
    if elem {
        options.push(
            proptest::sample::select(&["it.name", "it.n", "it.ok"][..])
                .prop_map(|p| format!("has {p}"))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

/// A flat n-ary `and` or `or` of 1 to 64 operands (issue #11: wide chains once failed to
/// verify).
fn wide(leaf: BoxedStrategy<String>) -> BoxedStrategy<String> {
    (
        proptest::sample::select(&[" and ", " or "][..]),
        proptest::collection::vec(leaf, 1..64),
    )
        .prop_map(|(op, ls)| format!("({})", ls.join(op)))
        .boxed()
}

/// Up to 9 alternating `and`/`or` nested to the right: `(a and (b or (c and d)))`, so that
/// several chains are open at once.
fn deep(leaf: BoxedStrategy<String>) -> BoxedStrategy<String> {
    proptest::collection::vec(leaf, 1..10)
        .prop_map(|ls| {
            let mut out = String::new();
            let mut close = 0;
            for (i, l) in ls.iter().enumerate() {
                out.push_str(l);
                if i + 1 < ls.len() {
                    out.push_str(if i % 2 == 0 { " and (" } else { " or (" });
                    close += 1;
                }
            }
            format!("({out}{})", ")".repeat(close))
        })
        .boxed()
}

fn cond(elem: bool, depth: u32) -> BoxedStrategy<String> {
    let leaf = leaf(elem);
    if depth == 0 {
        return leaf;
    }
    let inner = cond(elem, depth - 1);
    let mut options = vec![
        leaf.clone(),
        leaf.clone(),
        wide(leaf.clone()),
        deep(leaf),
        (inner.clone(), inner.clone())
            .prop_map(|(a, b)| format!("({a} and {b})"))
            .boxed(),
        (inner.clone(), inner.clone())
            .prop_map(|(a, b)| format!("({a} or {b})"))
            .boxed(),
        inner.clone().prop_map(|a| format!("not ({a})")).boxed(),
    ];
    if !elem {
        // Issue 13: quantifiers over the list of scalars `tags` (the element is `t`) and the
        // set operators, which expand into them.
        options.push(
            (proptest::sample::select(&["any", "all"][..]), tag_cond())
                .prop_map(|(q, f)| format!("{q}(t in tags where {f})"))
                .boxed(),
        );
        options.push(
            (tag_cond(), cmp_op(), 0i64..4)
                .prop_map(|(f, o, n)| format!("count(t in tags where {f}) {o} {n}"))
                .boxed(),
        );
        options.push(
            (
                proptest::sample::select(
                    &["contains_all", "contains_any", "intersects", "subset_of"][..],
                ),
                proptest::collection::vec(lit_str(), 0..3),
                any::<bool>(),
            )
                .prop_map(|(op, ls, path)| {
                    if path {
                        format!("tags {op} tags")
                    } else {
                        format!("tags {op} [{}]", ls.join(", "))
                    }
                })
                .boxed(),
        );
        let body = cond(true, depth - 1);
        options.push(
            (proptest::sample::select(&["any", "all"][..]), body.clone())
                .prop_map(|(q, f)| format!("{q}(it in items where {f})"))
                .boxed(),
        );
        options.push(
            (body, cmp_op(), 0i64..4)
                .prop_map(|(f, o, n)| format!("count(it in items where {f}) {o} {n}"))
                .boxed(),
        );
    } else {
        // Issue 13: nested lists of the element `it`: the list of records `it.subs` (element
        // `s`, whose filter may read `it` and top-level attributes) and the list of strings
        // `it.labels`.
        options.push(
            (proptest::sample::select(&["any", "all"][..]), sub_cond())
                .prop_map(|(q, f)| format!("{q}(s in it.subs where {f})"))
                .boxed(),
        );
        options.push(
            (sub_cond(), cmp_op(), 0i64..4)
                .prop_map(|(f, o, n)| format!("count(s in it.subs where {f}) {o} {n}"))
                .boxed(),
        );
        options.push(
            (
                proptest::sample::select(&["any", "all"][..]),
                eq_op(),
                lit_str(),
            )
                .prop_map(|(q, o, l)| format!("{q}(l in it.labels where l {o} {l})"))
                .boxed(),
        );
        options.push(
            prop_oneof![
                lit_str(),
                Just("a.s".to_owned()),
                Just("it.name".to_owned())
            ]
            .prop_map(|x| format!("{x} in it.labels"))
            .boxed(),
        );
        options.push(
            (
                proptest::sample::select(&["it.subs", "it.labels"][..]),
                cmp_op(),
                0i64..4,
            )
                .prop_map(|(p, o, n)| format!("{p}.count {o} {n}"))
                .boxed(),
        );
        options.push(
            proptest::sample::select(&["has it.subs", "has it.labels"][..])
                .prop_map(str::to_owned)
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

/// A condition over `t`, an element of `tags` (issue 13), with outer attributes and `in tags`.
fn tag_cond() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (eq_op(), lit_str()).prop_map(|(o, l)| format!("t {o} {l}")),
        proptest::sample::select(&["a.s", "a.t"][..]).prop_map(|p| format!("t == {p}")),
        proptest::collection::vec(lit_str(), 1..3)
            .prop_map(|ls| format!("t in [{}]", ls.join(", "))),
        Just("t in tags".to_owned()),
        (
            proptest::sample::select(&["starts_with", "ends_with", "contains"][..]),
            lit_str()
        )
            .prop_map(|(o, l)| format!("t {o} {l}")),
        Just("has t".to_owned()),
    ];
    prop_oneof![
        3 => leaf.clone(),
        1 => (leaf.clone(), leaf).prop_map(|(a, b)| format!("({a} or not {b})")),
    ]
    .boxed()
}

/// A condition over `s`, an element of the nested list `it.subs` (issue 13), with the outer
/// element `it` and top-level attributes.
fn sub_cond() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (cmp_op(), lit_int()).prop_map(|(o, l)| format!("s.k {o} {l}")),
        (cmp_op(), proptest::sample::select(&["it.n", "b.i"][..]))
            .prop_map(|(o, p)| format!("s.k {o} {p}")),
        (eq_op(), proptest::sample::select(&["it.name", "a.s"][..]))
            .prop_map(|(o, p)| format!("s.tag {o} {p}")),
        Just("s.tag in it.labels".to_owned()),
        Just("has s.k".to_owned()),
    ];
    prop_oneof![
        3 => leaf.clone(),
        1 => (leaf.clone(), leaf).prop_map(|(a, b)| format!("({a} and not {b})")),
    ]
    .boxed()
}

fn policy(i: usize) -> impl Strategy<Value = String> {
    (
        proptest::option::weighted(0.8, cond(false, 2)),
        any::<bool>(),
        proptest::collection::vec(cond(false, 2), 1..4),
    )
        .prop_map(move |(trigger, denies, clauses)| {
            let mut s = format!("policy P{i}:\n  \"random policy {i}\"\n");
            if let Some(t) = trigger {
                s.push_str(&format!("  triggers when {t}\n"));
            }
            if denies {
                s.push_str("  denies\n");
            } else {
                s.push_str(&format!("  requires {}\n", clauses.join("\n    and ")));
            }
            s
        })
}

/// The source of a random well-typed bundle of `policies` policies over [`SCHEMA`], with a
/// random (or no) default.
pub fn bundle(policies: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    (
        proptest::sample::select(&["", "default allow\n", "default deny\n"][..]),
        proptest::collection::vec(0usize..1, policies).prop_flat_map(|v| {
            let n = v.len();
            (0..n).map(policy).collect::<Vec<_>>()
        }),
    )
        .prop_map(|(d, ps)| format!("{d}{}", ps.join("\n")))
}

/// A JSON value for an attribute: usually well typed, sometimes missing or wrong.
fn attr(good: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        6 => good.prop_map(Some),
        1 => Just(None),
        1 => proptest::sample::select(vec![json!(null), json!(1.5), json!("zz"), json!([1]), json!({}), json!(true)]).prop_map(Some),
    ]
    .boxed()
}

fn s_val() -> BoxedStrategy<Value> {
    prop_oneof![
        proptest::sample::select(STRS).prop_map(|s| json!(s)),
        Just(json!("unknown"))
    ]
    .boxed()
}
fn i_val() -> BoxedStrategy<Value> {
    (-3i64..4).prop_map(|i| json!(i)).boxed()
}
fn e_val() -> BoxedStrategy<Value> {
    proptest::sample::select(vec!["low", "mid", "high", "HIGH"])
        .prop_map(|s| json!(s))
        .boxed()
}
fn b_val() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(|b| json!(b)).boxed()
}

/// An element of `tags`: a string, now and then an invalid element (issue 13: the whole list
/// is then invalid, under `in` and under quantifiers alike).
fn tag_val() -> BoxedStrategy<Value> {
    prop_oneof![
        16 => s_val(),
        1 => proptest::sample::select(vec![json!(null), json!(3), json!(true)]),
    ]
    .boxed()
}

/// An element of the nested list `items[].subs` (issue 13).
fn sub() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => (attr(i_val()), attr(s_val())).prop_map(|(k, tag)| {
            let mut m = Map::new();
            for (key, v) in [("k", k), ("tag", tag)] {
                if let Some(v) = v {
                    m.insert(key.into(), v);
                }
            }
            Value::Object(m)
        }),
        1 => Just(json!(7)),
    ]
    .boxed()
}

fn item() -> BoxedStrategy<Value> {
    let subs = attr(
        proptest::collection::vec(sub(), 0..5)
            .prop_map(Value::Array)
            .boxed(),
    );
    let labels = attr(
        proptest::collection::vec(tag_val(), 0..5)
            .prop_map(Value::Array)
            .boxed(),
    );
    prop_oneof![
        8 => (attr(s_val()), attr(i_val()), attr(e_val()), attr(b_val()), subs, labels).prop_map(|(a, b, c, d, e, f)| {
            let mut m = Map::new();
            for (k, v) in [("name", a), ("n", b), ("level", c), ("ok", d), ("subs", e), ("labels", f)] {
                if let Some(v) = v {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        }),
        1 => Just(json!("not an object")),
    ]
    .boxed()
}

/// A random JSON request for [`SCHEMA`]: mostly well typed, with missing, `null`, wrong-typed,
/// out-of-enum, non-object and too-long values mixed in.
pub fn request() -> impl Strategy<Value = Value> {
    (
        (attr(s_val()), attr(s_val()), attr(i_val()), attr(i_val())),
        (attr(b_val()), attr(e_val())),
        attr(
            proptest::collection::vec(tag_val(), 0..6)
                .prop_map(Value::Array)
                .boxed(),
        ),
        attr(
            proptest::collection::vec(item(), 0..6)
                .prop_map(Value::Array)
                .boxed(),
        ),
    )
        .prop_map(|((s, t, i, j), (flag, level), tags, items)| {
            let mut root = Map::new();
            let mut put = |path: &str, v: Option<Value>| {
                let Some(v) = v else { return };
                let mut parts = path.split('.');
                let first = parts.next().unwrap_or_default().to_owned();
                match parts.next() {
                    None => {
                        root.insert(first, v);
                    }
                    Some(second) => {
                        let obj = root.entry(first).or_insert_with(|| json!({}));
                        if let Some(o) = obj.as_object_mut() {
                            o.insert(second.to_owned(), v);
                        }
                    }
                }
            };
            put("a.s", s);
            put("a.t", t);
            put("b.i", i);
            put("b.j", j);
            put("c.flag", flag);
            put("c.level", level);
            put("tags", tags);
            put("items", items);
            Value::Object(root)
        })
}

/// A proptest runner for `cases` cases (or the count in environment variable `env`), without
/// failure persistence files.
pub fn runner(env: &str, cases: u32) -> TestRunner {
    let cases = std::env::var(env)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}
