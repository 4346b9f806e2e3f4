//! Random well-typed IPE bundles and requests (proptest strategies), shared by every
//! differential test: ipe-compile's (interpreter against the reference evaluator) and
//! ipe-host's (JIT tiers against both).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

/// The schema every generated bundle is checked with (pass it as a second source file).
pub const SCHEMA: &str = r#"schema {
  a.s: string
  a["t.x/y"]: string
  b.i: int
  b["j:k \"q\""]: int
  c.flag: bool
  c.level: enum ["low", "mid", "high"]
  tags: list of string max 4
  tags2: list of string max 3 = []
  items: list of item max 4 {
    name: string, ["n/m"]: int, level: enum ["low", "mid", "high"], ok: bool
    subs: list of sub max 3 { k: int, tag: string, ts: list of string max 2 }
    labels: list of string max 3
    caps: list of string max 3 = []
    ports: list of port max 2 { hp: int } = []
  }
  labels: map of string max 3
  svc: map of max 3 { port: int, name: string, addr: ip } = {}
  d.n: int = 2
  d.e: enum ["low", "mid", "high"] = "mid"
  t.at: timestamp
  t.ttl: duration
  n.src: ip
  n.dst: ip = "10.0.0.1"
}
const k_strs = ["x", "xy", ""]
const k_ints = [-1, 2]
const k_rng = [-1, 2..4]
const k_levels = ["mid", "high"]
const k_map = {"a": ["x", "Y"], "b": []}
const k_lim = {"x": 1, "xy": 2, "": -1}
hierarchy k_tree = {"x": ["xy"], "xy": ["y"], "Y": ["y"], "": ["x"]}
"#;

/// Two attributes whose last key is quoted (issue 13: a key with `.`, `/`, `:`, `"` and a
/// space is one path segment).
const A_T: &str = r#"a["t.x/y"]"#;
const B_J: &str = r#"b["j:k \"q\""]"#;
/// An element field that is a quoted key.
const IT_N: &str = r#"it["n/m"]"#;

const STRS: &[&str] = &["x", "y", "xy", "", "Y"];
const LEVELS: &[&str] = &["low", "mid", "high"];

/// `like` pattern literals (issue #14), as source text over the alphabet of [`STRS`]:
/// wildcards, an escaped star, the empty pattern, a case difference.
const LIKE_PATTERNS: &[&str] = &[
    r#""*""#,
    r#""""#,
    r#""x*""#,
    r#""*y""#,
    r#""x*y*""#,
    r#""*x*""#,
    r#""\*""#,
    r#""Y*""#,
];

/// Timestamp literals (issue #14), as the text inside `timestamp(..)`: RFC 3339 and Cedar's
/// forms, around the request values' instants.
const TIMESTAMPS: &[&str] = &[
    r#""2026-12-01T10:00:00Z""#,
    r#""2026-12-01""#,
    r#""2026-12-01T11:00:00+0100""#,
    r#""2026-12-01T09:59:59.999Z""#,
];

/// Network lists for `in` over an `ip` attribute (issue #14), as source text.
const NETWORKS: &[&str] = &[
    r#""10.0.0.0/8""#,
    r#""10.0.0.0/8", "fe80::/10""#,
    r#""::/0""#,
    r#""0.0.0.0/0", "2001:db8::/32""#,
];

/// `segment` separators (issue #14), as source text: letters of [`STRS`], two of them, one
/// that never occurs.
const SEPARATORS: &[&str] = &[r#""x""#, r#""y""#, r#""xy""#, r#""/""#];

/// `matches` regex literals (issue #14), as source text: anchored, unanchored, empty.
const REGEXES: &[&str] = &[
    r#""""#,
    r#""^x""#,
    r#""y$""#,
    r#""x|Y""#,
    r#""^(x|xy)*$""#,
    r#""^[a-z]+$""#,
    r#""(?i)^y""#,
];

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
        proptest::sample::select(&["it.name", "a.s", A_T][..]).boxed()
    } else {
        proptest::sample::select(&["a.s", A_T][..]).boxed()
    };
    let i_path = if elem {
        proptest::sample::select(&[IT_N, "b.i", B_J][..]).boxed()
    } else {
        proptest::sample::select(&["b.i", B_J][..]).boxed()
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
        (i_path.clone(), cmp_op(), i_path.clone())
            .prop_map(|(p, o, q)| format!("{p} {o} {q}"))
            .boxed(),
        (e_path.clone(), cmp_op(), lit_level())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        e_path
            .clone()
            .prop_map(|p| format!("{p} in k_levels"))
            .boxed(),
        // Issue #14: an inclusive integer range, alone or after literals.
        (
            i_path.clone(),
            -3i64..3,
            0i64..3,
            proptest::collection::vec(lit_int(), 0..3),
        )
            .prop_map(|(p, lo, w, ls)| match ls.is_empty() {
                true => format!("{p} in {lo}..{}", lo + w),
                false => format!("{p} in [{}, {lo}..{}]", ls.join(", "), lo + w),
            })
            .boxed(),
        // Issue #14 (session 9): two ranges that may overlap or touch (one merged table).
        (
            i_path.clone(),
            -3i64..3,
            0i64..3,
            -3i64..3,
            0i64..3,
            lit_int(),
        )
            .prop_map(|(p, a, w, b, x, v)| format!("{p} in [{a}..{}, {v}, {b}..{}]", a + w, b + x))
            .boxed(),
        (e_path.clone(), proptest::collection::vec(lit_level(), 1..3))
            .prop_map(|(p, ls)| format!("{p} in [{}]", ls.join(", ")))
            .boxed(),
        (s_path.clone(), proptest::collection::vec(lit_str(), 1..4))
            .prop_map(|(p, ls)| format!("{p} in [{}]", ls.join(", ")))
            .boxed(),
        b_path.clone().prop_map(str::to_owned).boxed(),
        (b_path.clone(), eq_op(), any::<bool>())
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
        // Issue #14: globs and regexes over the request strings' alphabet.
        (s_path.clone(), proptest::sample::select(LIKE_PATTERNS))
            .prop_map(|(p, l)| format!("{p} like {l}"))
            .boxed(),
        (s_path.clone(), proptest::sample::select(REGEXES))
            .prop_map(|(p, r)| format!("{p} matches {r}"))
            .boxed(),
        // Issue #14 (session 9): `lower(x)` against another string (folded or as it is), and
        // inside `like` and `matches` (lower-case patterns; `[A-Z]` is a class).
        (
            s_path.clone(),
            proptest::sample::select(&["==", "!=", "starts_with", "ends_with", "contains"][..]),
            s_path.clone(),
            any::<bool>(),
        )
            .prop_map(|(p, o, q, both)| match both {
                true => format!("lower({p}) {o} lower({q})"),
                false => format!("lower({p}) {o} {q}"),
            })
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(
                &[
                    r#""*""#,
                    r#""x*""#,
                    r#""*y""#,
                    r#""x*y*""#,
                    r#""\*""#,
                    r#""""#,
                ][..],
            ),
        )
            .prop_map(|(p, l)| format!("lower({p}) like {l}"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(
                &[
                    r#""^x""#,
                    r#""y$""#,
                    r#""^(x|xy)*$""#,
                    r#""^[a-z]+$""#,
                    r#""^[A-Z]""#,
                ][..],
            ),
        )
            .prop_map(|(p, r)| format!("lower({p}) matches {r}"))
            .boxed(),
        // Issue #14: `segment(x, sep, i)` over the request strings' alphabet (separators that
        // occur in it, pieces from both ends, out of range: an error or the `??` default).
        (
            s_path.clone(),
            proptest::sample::select(SEPARATORS),
            -3i64..3,
            proptest::sample::select(&["==", "!=", "starts_with", "ends_with"][..]),
            lit_str(),
        )
            .prop_map(|(p, sep, i, o, l)| format!("segment({p}, {sep}, {i}) {o} {l}"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(SEPARATORS),
            -3i64..3,
            lit_str(),
            lit_str(),
        )
            .prop_map(|(p, sep, i, d, l)| format!("segment({p}, {sep}, {i}) ?? {d} == {l}"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(SEPARATORS),
            -3i64..3,
            cmp_op(),
            0i64..3,
        )
            .prop_map(|(p, sep, i, o, n)| format!("len(segment({p}, {sep}, {i})) {o} {n}"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(SEPARATORS),
            -3i64..3,
            proptest::sample::select(&[r#""x""#, r#""y""#, r#""""#][..]),
        )
            .prop_map(|(p, sep, i, l)| format!("lower(segment({p}, {sep}, {i})) == {l}"))
            .boxed(),
        // Issue #14 (session 8): `segment` over any string: a piece of a piece (with `??`
        // outside), `x ?? "d"` inside, a map's fixed key.
        (
            s_path.clone(),
            proptest::sample::select(SEPARATORS),
            -2i64..2,
            proptest::sample::select(SEPARATORS),
            -2i64..2,
            lit_str(),
            proptest::option::of(lit_str()),
        )
            .prop_map(|(p, s1, i, s2, j, l, d)| match d {
                None => format!("segment(segment({p}, {s1}, {i}), {s2}, {j}) == {l}"),
                Some(d) => format!("segment(segment({p}, {s1}, {i}), {s2}, {j}) ?? {d} == {l}"),
            })
            .boxed(),
        (
            s_path.clone(),
            lit_str(),
            proptest::sample::select(SEPARATORS),
            -2i64..2,
            lit_str(),
        )
            .prop_map(|(p, d, sep, i, l)| format!("segment({p} ?? {d}, {sep}, {i}) == {l}"))
            .boxed(),
        (proptest::sample::select(SEPARATORS), -2i64..2, lit_str())
            .prop_map(|(sep, i, l)| format!("segment(labels[\"x\"], {sep}, {i}) != {l}"))
            .boxed(),
        proptest::sample::select(&["a.s", "b.i", "c.level", "tags", "items"][..])
            .prop_map(|p| format!("has {p}"))
            .boxed(),
        (cmp_op(), 0i64..4)
            .prop_map(|(o, n)| format!("tags.count {o} {n}"))
            .boxed(),
        // Issue #13: constants, map lists, hierarchies, quantifiers over constants and set
        // operators (all expanded at compile time).
        (
            s_path.clone(),
            proptest::sample::select(
                &[
                    "k_strs",
                    "k_map[\"a\"]",
                    "k_map[\"b\"]",
                    "k_tree \"y\"",
                    "k_tree \"xy\"",
                ][..],
            ),
        )
            .prop_map(|(p, c)| format!("{p} in {c}"))
            .boxed(),
        // Issue #13: lookups by a request value (a missing key is an error unless `??`).
        (s_path.clone(), cmp_op(), -1i64..3, any::<bool>())
            .prop_map(|(p, o, n, or)| {
                if or {
                    format!("k_lim[{p}] ?? 0 {o} {n}")
                } else {
                    format!("k_lim[{p}] {o} {n}")
                }
            })
            .boxed(),
        // Issue #13: hierarchy membership and map lists under a request value (a pair set).
        (s_path.clone(), s_path.clone(), any::<bool>())
            .prop_map(|(p, q, tree)| {
                if tree {
                    format!("{p} in k_tree {q}")
                } else {
                    format!("{p} in k_map[{q}]")
                }
            })
            .boxed(),
        (i_path.clone(), cmp_op())
            .prop_map(|(p, o)| format!("({p} in k_ints or {p} {o} k_strs.count)"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(&["any", "all"][..]),
            proptest::sample::select(&["starts_with", "ends_with", "contains", "=="][..]),
        )
            .prop_map(|(p, q, o)| format!("{q}(k in k_strs where {p} {o} k)"))
            .boxed(),
        (
            proptest::sample::select(&["contains_all", "contains_any", "intersects"][..]),
            proptest::collection::vec(lit_str(), 0..3),
        )
            .prop_map(|(o, ls)| format!("tags {o} [{}]", ls.join(", ")))
            .boxed(),
        proptest::sample::select(&["contains_all", "contains_any", "intersects"][..])
            .prop_map(|o| format!("tags {o} k_strs"))
            .boxed(),
        // Maps (issue 13).
        lit_str().prop_map(|l| format!("{l} in labels")).boxed(),
        s_path
            .clone()
            .prop_map(|p| format!("{p} in labels"))
            .boxed(),
        (cmp_op(), 0i64..4)
            .prop_map(|(o, n)| format!("labels.count {o} {n}"))
            .boxed(),
        (
            proptest::sample::select(&["any", "all"][..]),
            proptest::sample::select(&["starts_with", "ends_with", "contains", "=="][..]),
            lit_str(),
            eq_op(),
            s_path.clone(),
        )
            .prop_map(|(q, o, l, e, p)| {
                format!("{q}(k, v in labels where k {o} {l} and v {e} {p})")
            })
            .boxed(),
        (lit_str(), cmp_op(), 0i64..3)
            .prop_map(|(l, o, n)| format!("count(k, v in labels where v == {l}) {o} {n}"))
            .boxed(),
        (eq_op(), lit_str())
            .prop_map(|(o, l)| format!("labels[\"a.b\"] {o} {l}"))
            .boxed(),
        Just("has labels[\"a.b\"]".to_owned()).boxed(),
        // Issue #13 (session 6): a map of records declared `= {}`, scalar schema defaults.
        (
            proptest::sample::select(&["any", "all"][..]),
            cmp_op(),
            lit_int(),
            eq_op(),
            s_path.clone(),
        )
            .prop_map(|(q, o, l, e, p)| {
                format!("{q}(k, v in svc where v.port {o} {l} or v.name {e} {p})")
            })
            .boxed(),
        (lit_str(), cmp_op(), 0i64..3)
            .prop_map(|(l, o, n)| format!("count(e in svc where e.value.name == {l}) {o} {n}"))
            .boxed(),
        (cmp_op(), lit_int())
            .prop_map(|(o, l)| format!("svc[\"x\"].port {o} {l}"))
            .boxed(),
        lit_str().prop_map(|l| format!("{l} in svc")).boxed(),
        (cmp_op(), 0i64..4)
            .prop_map(|(o, n)| format!("svc.count {o} {n}"))
            .boxed(),
        Just("has svc[\"y\"].name".to_owned()).boxed(),
        // Issue #13 (session 9): dynamic keys on request maps: the key from a string path, a
        // bound element of `tags`, a bound key of `labels`; values compared, `has`, `??`.
        (s_path.clone(), eq_op(), lit_str())
            .prop_map(|(p, o, l)| format!("labels[{p}] {o} {l}"))
            .boxed(),
        s_path
            .clone()
            .prop_map(|p| format!("has labels[{p}]"))
            .boxed(),
        (s_path.clone(), lit_str(), eq_op(), lit_str())
            .prop_map(|(p, d, o, l)| format!("labels[{p}] ?? {d} {o} {l}"))
            .boxed(),
        (s_path.clone(), cmp_op(), lit_int())
            .prop_map(|(p, o, l)| format!("svc[{p}].port {o} {l}"))
            .boxed(),
        (
            s_path.clone(),
            proptest::sample::select(&["", ".name", ".addr"][..]),
        )
            .prop_map(|(p, f)| format!("has svc[{p}]{f}"))
            .boxed(),
        // Issue #13 (session 11): `ip` fields read through a dynamic key: `in` a network
        // list (`in.ip`), compared with an `ip` attribute (`cmp.ip`) or a literal, after `??`.
        (s_path.clone(), proptest::sample::select(NETWORKS))
            .prop_map(|(p, n)| format!("svc[{p}].addr in [{n}]"))
            .boxed(),
        (
            s_path.clone(),
            cmp_op(),
            proptest::sample::select(&["n.src", "n.dst", r#""10.0.0.1""#, r#""fe80::1""#][..]),
        )
            .prop_map(|(p, o, r)| format!("svc[{p}].addr {o} {r}"))
            .boxed(),
        (s_path.clone(), cmp_op())
            .prop_map(|(p, o)| format!("svc[{p}].addr ?? \"10.0.0.1\" {o} n.src"))
            .boxed(),
        (proptest::sample::select(&["any", "all"][..]), eq_op())
            .prop_map(|(q, o)| format!("{q}(t in tags where labels[t] {o} t)"))
            .boxed(),
        proptest::sample::select(&["any", "all"][..])
            .prop_map(|q| format!("{q}(k, v in labels where has svc[k] or svc[k].name ?? v == v)"))
            .boxed(),
        (cmp_op(), i_path.clone())
            .prop_map(|(o, p)| format!("d.n {o} {p}"))
            .boxed(),
        (cmp_op(), lit_level())
            .prop_map(|(o, l)| format!("d.e {o} {l}"))
            .boxed(),
    ];
    // Integer arithmetic (issue #14): every operator over paths and literals (division by a
    // zero value and `??` operands included), compared with a literal.
    let arith_op = proptest::sample::select(&["+", "-", "*", "/", "%", "&"][..]);
    let i_operand = prop_oneof![
        i_path.clone().prop_map(str::to_owned),
        lit_int(),
        i_path.clone().prop_map(|p| format!("({p} ?? 1)")),
    ]
    .boxed();
    options.extend([
        (
            i_path.clone(),
            arith_op,
            i_operand.clone(),
            cmp_op(),
            lit_int(),
        )
            .prop_map(|(p, a, q, o, l)| format!("{p} {a} {q} {o} {l}"))
            .boxed(),
        (
            proptest::sample::select(&["min", "max"][..]),
            i_path.clone(),
            i_operand.clone(),
            cmp_op(),
            lit_int(),
        )
            .prop_map(|(f, p, q, o, l)| format!("{f}({p}, {q}) {o} {l}"))
            .boxed(),
        (i_path.clone(), i_operand, cmp_op(), i_path.clone())
            .prop_map(|(p, q, o, r)| format!("abs(-{p} * {q}) {o} {r} % 2"))
            .boxed(),
    ]);
    // Optional values (issue #13): `??` with a literal or a path default, chains, as a
    // condition and under every operator kind.
    options.extend([
        (i_path.clone(), lit_int(), cmp_op(), lit_int())
            .prop_map(|(p, d, o, l)| format!("{p} ?? {d} {o} {l}"))
            .boxed(),
        (i_path.clone(), i_path.clone(), cmp_op(), i_path.clone())
            .prop_map(|(p, d, o, q)| format!("{p} ?? {d} {o} {q}"))
            .boxed(),
        (s_path.clone(), s_path.clone(), lit_str(), lit_str())
            .prop_map(|(p, q, d, l)| format!("{p} ?? {q} ?? {d} starts_with {l}"))
            .boxed(),
        (
            s_path.clone(),
            lit_str(),
            proptest::collection::vec(lit_str(), 1..3),
        )
            .prop_map(|(p, d, ls)| format!("{p} ?? {d} in [{}]", ls.join(", ")))
            .boxed(),
        (e_path.clone(), lit_level(), cmp_op(), lit_level())
            .prop_map(|(p, d, o, l)| format!("{p} ?? {d} {o} {l}"))
            .boxed(),
        (b_path.clone(), any::<bool>())
            .prop_map(|(p, d)| format!("{p} ?? {d}"))
            .boxed(),
    ]);
    // Issue #14: the time and ip families (top-level attributes, usable in a filter too).
    options.extend([
        (cmp_op(), proptest::sample::select(TIMESTAMPS))
            .prop_map(|(o, t)| format!("t.at {o} timestamp({t})"))
            .boxed(),
        (
            proptest::sample::select(&["1h", "-90s", "0ms"][..]),
            cmp_op(),
            proptest::sample::select(TIMESTAMPS),
        )
            .prop_map(|(d, o, t)| format!("t.at + {d} {o} timestamp({t})"))
            .boxed(),
        (
            cmp_op(),
            proptest::sample::select(&["1h", "90s", "-1m"][..]),
        )
            .prop_map(|(o, d)| format!("t.ttl {o} {d}"))
            .boxed(),
        (
            proptest::sample::select(&["hour", "weekday"][..]),
            cmp_op(),
            0i64..24,
        )
            .prop_map(|(f, o, n)| format!("{f}(t.at) {o} {n}"))
            .boxed(),
        proptest::sample::select(NETWORKS)
            .prop_map(|n| format!("n.src in [{n}]"))
            .boxed(),
        (
            eq_op(),
            proptest::sample::select(&[r#""10.0.0.1""#, r#""fe80::1""#][..]),
        )
            .prop_map(|(o, a)| format!("n.src {o} {a}"))
            .boxed(),
        // `n.src.is_v4` is the path spelling of `is_v4(n.src)`; a range of addresses
        // (session 8).
        proptest::sample::select(
            &[
                "is_v4(n.src)",
                "n.src.is_v4",
                r#"n.src in "10.0.0.1".."fe80::1""#,
            ][..],
        )
        .prop_map(str::to_owned)
        .boxed(),
        // Issue #14 (session 7): ip ordering against a literal, ranges in a constant, and a
        // schema default (`d.n: int = 2`) inside arithmetic.
        (
            cmp_op(),
            proptest::sample::select(&[r#""10.0.0.1""#, r#""fe80::1""#, r#""::1""#][..]),
        )
            .prop_map(|(o, a)| format!("n.src {o} {a}"))
            .boxed(),
        proptest::sample::select(&["b.i", "d.n"][..])
            .prop_map(|p| format!("{p} in k_rng"))
            .boxed(),
        // Issue #14 (session 8): two addresses compared (`n.dst` has a schema default), with
        // a `??` default on either side.
        cmp_op().prop_map(|o| format!("n.src {o} n.dst")).boxed(),
        (
            cmp_op(),
            proptest::sample::select(&[r#""10.0.0.1""#, r#""::ffff:10.0.0.2""#, r#""::1""#][..]),
            any::<bool>(),
        )
            .prop_map(|(o, a, left)| match left {
                true => format!("n.src ?? {a} {o} n.dst"),
                false => format!("n.dst {o} n.src ?? {a}"),
            })
            .boxed(),
        // Issue #13 (sessions 7 and 8): positions on request lists (in and out of range,
        // with `??` and `has`), on records' fields, on list constants; list equality against
        // a literal list and against a list constant (either side).
        (-5i32..5, eq_op(), lit_str(), any::<bool>())
            .prop_map(|(i, o, l, or)| {
                if or {
                    format!("(tags[{i}] ?? \"x\") {o} {l}")
                } else {
                    format!("tags[{i}] {o} {l}")
                }
            })
            .boxed(),
        (-5i32..5).prop_map(|i| format!("has tags[{i}]")).boxed(),
        (-5i32..5, s_path.clone(), cmp_op(), -1i64..3)
            .prop_map(|(i, p, o, n)| {
                format!("(items[{i}].name == {p} or items[{i}][\"n/m\"] {o} {n})")
            })
            .boxed(),
        (s_path.clone(), -3i32..3, i_path.clone(), -2i32..2)
            .prop_map(|(p, i, q, j)| format!("({p} == k_strs[{i}] or {q} < k_ints[{j}])"))
            .boxed(),
        // Issue #13 (session 9): positions on a map constant's list (folded).
        (s_path.clone(), -2i32..2)
            .prop_map(|(p, i)| format!("{p} == k_map[\"a\"][{i}]"))
            .boxed(),
        (
            eq_op(),
            proptest::collection::vec(
                prop_oneof![lit_str(), s_path.clone().prop_map(|p| p.to_owned())],
                0..4,
            ),
        )
            .prop_map(|(o, ls)| format!("tags {o} [{}]", ls.join(", ")))
            .boxed(),
        (eq_op(), any::<bool>())
            .prop_map(|(o, left)| {
                if left {
                    format!("k_strs {o} tags")
                } else {
                    format!("tags {o} k_strs")
                }
            })
            .boxed(),
        // Issue #13 (session 8): list equality between two request lists (`tags2` is
        // declared `= []` and has a smaller `max`).
        (eq_op(), any::<bool>())
            .prop_map(|(o, left)| {
                if left {
                    format!("tags2 {o} tags")
                } else {
                    format!("tags {o} tags2")
                }
            })
            .boxed(),
        (
            proptest::sample::select(&["&", "+", "*", "/"][..]),
            cmp_op(),
            0i64..4,
        )
            .prop_map(|(a, o, n)| format!("d.n {a} {n} {o} 2"))
            .boxed(),
    ]);
    if elem {
        options.push(
            proptest::sample::select(&["it.name", IT_N, "it.ok", "it.caps", "it.ports"][..])
                .prop_map(|p| format!("has {p}"))
                .boxed(),
        );
        // Issue #13 (session 6): nested lists declared `= []`.
        options.extend([
            s_path
                .clone()
                .prop_map(|p| format!("{p} in it.caps"))
                .boxed(),
            (cmp_op(), 0i64..3)
                .prop_map(|(o, n)| format!("it.caps.count {o} {n}"))
                .boxed(),
            (
                proptest::sample::select(&["contains_any", "intersects", "contains_all"][..]),
                proptest::collection::vec(lit_str(), 0..3),
            )
                .prop_map(|(o, ls)| format!("it.caps {o} [{}]", ls.join(", ")))
                .boxed(),
            (
                proptest::sample::select(&["any", "all"][..]),
                cmp_op(),
                i_path.clone(),
            )
                .prop_map(|(q, o, p)| format!("{q}(pt in it.ports where pt.hp {o} {p})"))
                .boxed(),
            (cmp_op(), 0i64..3)
                .prop_map(|(o, n)| format!("count(pt in it.ports where pt.hp > 0) {o} {n}"))
                .boxed(),
        ]);
        // Issue #13 (session 9): positions on the element's list fields (in and out of
        // range, with `??` and `has`; `it.caps` is declared `= []`), on its lists of records'
        // fields, and list equality of the element's lists against a literal, each other, a
        // request list and a list constant (either side).
        options.extend([
            (
                proptest::sample::select(&["it.labels", "it.caps"][..]),
                -4i32..4,
                eq_op(),
                lit_str(),
                0u8..3,
            )
                .prop_map(|(l, i, o, s, form)| match form {
                    0 => format!("{l}[{i}] {o} {s}"),
                    1 => format!("({l}[{i}] ?? \"x\") {o} {s}"),
                    _ => format!("has {l}[{i}]"),
                })
                .boxed(),
            (
                proptest::sample::select(&["it.subs[{}].k", "it.ports[{}].hp"][..]),
                -3i32..3,
                cmp_op(),
                -1i64..3,
            )
                .prop_map(|(f, i, o, n)| format!("{} {o} {n}", f.replace("{}", &i.to_string())))
                .boxed(),
            (eq_op(), proptest::collection::vec(lit_str(), 0..3))
                .prop_map(|(o, ls)| format!("it.labels {o} [{}]", ls.join(", ")))
                .boxed(),
            (
                eq_op(),
                proptest::sample::select(&["it.caps", "tags", "tags2", "k_strs"][..]),
                any::<bool>(),
            )
                .prop_map(|(o, other, left)| match left {
                    true => format!("{other} {o} it.labels"),
                    false => format!("it.labels {o} {other}"),
                })
                .boxed(),
        ]);
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

/// Up to [`DEEP_LEAVES`] alternating `and`/`or` nested to the right: `(a and (b or (c and
/// d)))`, so that several chains are open at once.
fn deep(leaf: BoxedStrategy<String>) -> BoxedStrategy<String> {
    proptest::collection::vec(leaf, 1..=DEEP_LEAVES)
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

/// The most leaves of one `deep` chain. Each leaf after the first opens two nesting levels
/// (a parenthesis and an operator) and the checker refuses more than
/// `ipe_compile::MAX_DEPTH` (32) levels: the chain (up to 12 levels) sits under at most a
/// `not (..)` and an aggregate of `cond` (3), a def's inlining (1) and a leaf whose
/// expansion (`??`, list equality of an element's list field, nested aggregates) nests up to
/// about 10 more. With 9 leaves (16 levels) the worst case could pass 32 (issue #13, session 11:
/// `random_policies` once failed with "nested more than 32 levels").
pub const DEEP_LEAVES: usize = 7;

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
        // Issue 13: `count` over several lists (a run-time sum), of records and of scalars.
        options.push(
            (body.clone(), cmp_op(), 0i64..6)
                .prop_map(|(f, o, n)| format!("count(it in items, items where {f}) {o} {n}"))
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
        // Issue 13: seed forms over the nested list `it.subs` (its element is `sub`).
        options.push(
            (
                proptest::sample::select(&["any", "all", "count"][..]),
                cmp_op(),
                0i64..4,
                sub_cond(),
            )
                .prop_map(|(q, o, n, f)| {
                    let f = f
                        .replace("s.k", "sub.k")
                        .replace("s.tag", "sub.tag")
                        .replace("s.ts", "sub.ts");
                    match q {
                        "count" => format!("(it.subs.count {o} {n} where {f})"),
                        q => format!("(it.subs.{q} where {f})"),
                    }
                })
                .boxed(),
        );
        // Issue 13: set operators over the nested list `it.labels`, against literals, the
        // top-level list `tags` (either side) and itself.
        options.push(
            (
                proptest::sample::select(
                    &["contains_all", "contains_any", "intersects", "subset_of"][..],
                ),
                proptest::collection::vec(lit_str(), 0..3),
                0u8..4,
            )
                .prop_map(|(op, ls, rhs)| match rhs {
                    0 => format!("it.labels {op} tags"),
                    1 => format!("tags {op} it.labels"),
                    2 => format!("it.labels {op} it.labels"),
                    _ => format!("it.labels {op} [{}]", ls.join(", ")),
                })
                .boxed(),
        );
        // Issue 13: `count`, `any` and `all` over a top-level and a nested list at once.
        options.push(
            (tag_cond(), cmp_op(), 0i64..6)
                .prop_map(|(f, o, n)| format!("count(t in tags, it.labels where {f}) {o} {n}"))
                .boxed(),
        );
        options.push(
            (proptest::sample::select(&["any", "all"][..]), tag_cond())
                .prop_map(|(q, f)| format!("{q}(t in it.labels, tags where {f})"))
                .boxed(),
        );
    }
    proptest::strategy::Union::new(options).boxed()
}

/// A condition over `t`, an element of `tags` (issue 13), with outer attributes and `in tags`.
fn tag_cond() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (eq_op(), lit_str()).prop_map(|(o, l)| format!("t {o} {l}")),
        proptest::sample::select(&["a.s", A_T][..]).prop_map(|p| format!("t == {p}")),
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

/// Pieces of a reason template (issue 13): literal text, escaped braces, top-level
/// attributes and fields of the witness element `w` (when the policy has a `w` clause).
const REASON_PIECES: &[&str] = &[
    "text ",
    "{{",
    "}}",
    "{a.s}",
    "{b.i}",
    "{c.flag}",
    "{c.level}",
    "{d.n}",
    "{d.e}",
    "{svc[\"x\"].port}",
    "{labels[\"a.b\"]}",
    "{w.name}",
    "{w.level}",
    "{w.ok}",
    "{#found}",
];

/// A condition over `s`, an element of the nested list `it.subs` (issue 13), with the outer
/// element `it` and top-level attributes.
fn sub_cond() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (cmp_op(), lit_int()).prop_map(|(o, l)| format!("s.k {o} {l}")),
        (cmp_op(), proptest::sample::select(&[IT_N, "b.i"][..]))
            .prop_map(|(o, p)| format!("s.k {o} {p}")),
        (eq_op(), proptest::sample::select(&["it.name", "a.s"][..]))
            .prop_map(|(o, p)| format!("s.tag {o} {p}")),
        Just("s.tag in it.labels".to_owned()),
        Just("has s.k".to_owned()),
        // Issue #13, session 10: positions on the nested element's list field `s.ts`.
        (
            proptest::sample::select(&["s.ts[0]", "s.ts[1]", "s.ts[-1]", "s.ts[2]"][..]),
            eq_op(),
            proptest::sample::select(&["it.name", "a.s", "s.tag", "\"x\""][..]),
        )
            .prop_map(|(t, o, p)| format!("{t} {o} {p}")),
        (
            proptest::sample::select(&["s.ts[0]", "s.ts[-1]", "s.ts[1]"][..]),
            eq_op(),
        )
            .prop_map(|(t, o)| format!("({t} ?? \"\") {o} \"x\"")),
        proptest::sample::select(&["has s.ts[0]", "has s.ts[-2]"][..]).prop_map(str::to_owned),
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
        proptest::bool::weighted(0.25),
        proptest::option::weighted(
            0.3,
            (
                cond(true, 1),
                proptest::collection::vec(proptest::sample::select(REASON_PIECES), 1..5),
            ),
        ),
    )
        .prop_map(move |(trigger, denies, mut clauses, via_def, template)| {
            let mut s = format!("policy P{i}:\n  \"random policy {i}\"\n");
            if let Some(t) = trigger {
                if via_def {
                    // Issue #13: the trigger through a def (inlined: it decides the same).
                    s.insert_str(0, &format!("def when_{i} = {t}\n"));
                    s.push_str(&format!("  triggers when when_{i}\n"));
                } else {
                    s.push_str(&format!("  triggers when {t}\n"));
                }
            }
            // A template names the witness of an `all(w in items ...)` clause (its filter
            // written over `it`, renamed), and top-level attributes.
            let reason = template.map(|(filter, pieces)| {
                let filter = filter
                    .replace("it.", "w.")
                    .replace("it[", "w[")
                    .replace("(it in", "(w in");
                clauses.push(format!("all(w in items where {filter})"));
                let text: String = pieces
                    .iter()
                    .filter(|p| !denies || !(p.starts_with("{w.") || **p == "{#found}"))
                    .copied()
                    .collect();
                format!(" with reason {text:?}")
            });
            let reason = reason.unwrap_or_default();
            if denies {
                s.push_str(&format!("  denies{reason}\n"));
            } else {
                s.push_str(&format!(
                    "  requires {}{reason}\n",
                    clauses.join("\n    and ")
                ));
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
            (
                (0..n).map(policy).collect::<Vec<_>>(),
                proptest::collection::vec(0u8..4, n),
            )
        }),
    )
        .prop_map(|(d, (ps, marks))| format!("{d}{}", grouped(&ps, &marks)))
}

/// The policies, some of them in first-match groups (issue #13): a mark of 1 opens a group at
/// that policy, 2 and 3 keep the next policy in the open group, 0 closes it.
/// Defs a policy's text starts with go before every group (a group holds only policies).
fn grouped(ps: &[String], marks: &[u8]) -> String {
    let mut defs = String::new();
    let ps: Vec<String> = ps
        .iter()
        .map(|p| {
            let mut rest = p.as_str();
            while rest.starts_with("def ") {
                let end = rest.find('\n').map_or(rest.len(), |e| e + 1);
                defs.push_str(&rest[..end]);
                rest = &rest[end..];
            }
            rest.to_owned()
        })
        .collect();
    let mut out = defs;
    let mut open = false;
    for (i, (p, m)) in ps.iter().zip(marks).enumerate() {
        let join = open && *m >= 2;
        if open && !join {
            out.push_str("}\n");
            open = false;
        }
        if !open && *m == 1 {
            out.push_str(&format!("group G{i} first-match {{\n"));
            open = true;
        }
        out.push_str(p);
        out.push('\n');
    }
    if open {
        out.push_str("}\n");
    }
    out
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
/// A timestamp (issue #14): RFC 3339 and Cedar's text forms, epoch seconds, malformed text.
fn t_val() -> BoxedStrategy<Value> {
    proptest::sample::select(vec![
        json!("2026-12-01T10:00:00Z"),
        json!("2026-12-01T10:00:00.001Z"),
        json!("2026-12-01T09:00:00-0100"),
        json!("2026-12-01"),
        json!("2026-11-30T23:59:59+00:00"),
        json!(1796119200),
        json!("2026-12-01T25:00:00Z"),
    ])
    .boxed()
}
/// A duration (issue #14): text, seconds, malformed text.
fn d_val() -> BoxedStrategy<Value> {
    proptest::sample::select(vec![json!("1h"), json!("90s"), json!(-60), json!("1x")]).boxed()
}
/// An address (issue #14): IPv4, IPv4-mapped, IPv6 in either case, malformed text.
fn ip_val() -> BoxedStrategy<Value> {
    proptest::sample::select(vec![
        json!("10.0.0.1"),
        json!("192.168.1.1"),
        json!("::ffff:10.0.0.1"),
        json!("FE80::1"),
        json!("2001:db8::7"),
        json!("10.0.0.300"),
    ])
    .boxed()
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

/// An element of the nested list `items[].ports` (issue #13, declared `= []`).
fn port() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => attr(i_val()).prop_map(|hp| match hp {
            Some(v) => json!({ "hp": v }),
            None => json!({}),
        }),
        1 => Just(json!("p")),
    ]
    .boxed()
}

/// A JSON object for the map of records `svc` (issue 13, declared `= {}`): values mostly
/// records, sometimes `null`, not an object, or with fields missing or of the wrong type.
fn svc() -> BoxedStrategy<Value> {
    proptest::collection::btree_map(
        proptest::sample::select(vec!["x", "y", "xy", ""]).prop_map(str::to_owned),
        prop_oneof![
            8 => (attr(i_val()), attr(s_val()), attr(ip_val())).prop_map(|(p, n, a)| {
                let mut m = Map::new();
                for (k, v) in [("port", p), ("name", n), ("addr", a)] {
                    if let Some(v) = v {
                        m.insert(k.into(), v);
                    }
                }
                Value::Object(m)
            }),
            1 => Just(json!(null)),
            1 => Just(json!(3)),
        ],
        0..5,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
    .boxed()
}

/// An element of the nested list `items[].subs` (issue 13).
fn sub() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => (
            attr(i_val()),
            attr(s_val()),
            attr(
                proptest::collection::vec(tag_val(), 0..4)
                    .prop_map(Value::Array)
                    .boxed(),
            ),
        )
            .prop_map(|(k, tag, ts)| {
            let mut m = Map::new();
            for (key, v) in [("k", k), ("tag", tag), ("ts", ts)] {
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
    let caps = attr(
        proptest::collection::vec(tag_val(), 0..5)
            .prop_map(Value::Array)
            .boxed(),
    );
    let ports = attr(
        proptest::collection::vec(port(), 0..4)
            .prop_map(Value::Array)
            .boxed(),
    );
    prop_oneof![
        8 => (attr(s_val()), attr(i_val()), attr(e_val()), attr(b_val()), subs, labels, (caps, ports)).prop_map(|(a, b, c, d, e, f, (g, h))| {
            let mut m = Map::new();
            for (k, v) in [("name", a), ("n/m", b), ("level", c), ("ok", d), ("subs", e), ("labels", f), ("caps", g), ("ports", h)] {
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

/// A JSON object for the map `labels`: keys with dots and without, values mostly strings,
/// sometimes `null` (an absent key) or of the wrong type; up to one entry over its max.
fn labels() -> BoxedStrategy<Value> {
    proptest::collection::btree_map(
        proptest::sample::select(vec!["x", "y", "xy", "a.b", "", "Y"]).prop_map(str::to_owned),
        prop_oneof![8 => s_val(), 1 => Just(json!(null)), 1 => Just(json!(1))],
        0..5,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
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
        attr(labels()),
        (attr(svc()), attr(i_val()), attr(e_val())),
        (attr(t_val()), attr(d_val()), attr(ip_val()), attr(ip_val())),
        // `tags2` (issue #13, session 8: `tags == tags2`): now and then a copy of `tags`.
        (
            attr(
                proptest::collection::vec(tag_val(), 0..5)
                    .prop_map(Value::Array)
                    .boxed(),
            ),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (s, t, i, j),
                (flag, level),
                tags,
                items,
                labels,
                (svc, dn, de),
                (at, ttl, src, dst),
                (tags2, copy),
            )| {
                let tags2 = if copy { tags.clone() } else { tags2 };
                let mut root = Map::new();
                let mut put = |path: &str, v: Option<Value>| {
                    let Some(v) = v else { return };
                    let mut parts = ipe_nostd::path::segments(path).map(|seg| {
                        let mut key = String::new();
                        let _ = seg.write_key(&mut key);
                        key
                    });
                    let first = parts.next().unwrap_or_default();
                    match parts.next() {
                        None => {
                            root.insert(first, v);
                        }
                        Some(second) => {
                            let obj = root.entry(first).or_insert_with(|| json!({}));
                            if let Some(o) = obj.as_object_mut() {
                                o.insert(second, v);
                            }
                        }
                    }
                };
                put("a.s", s);
                put(A_T, t);
                put("b.i", i);
                put(B_J, j);
                put("c.flag", flag);
                put("c.level", level);
                put("tags", tags);
                put("tags2", tags2);
                put("items", items);
                put("labels", labels);
                put("svc", svc);
                put("d.n", dn);
                put("d.e", de);
                put("t.at", at);
                put("t.ttl", ttl);
                put("n.src", src);
                put("n.dst", dst);
                Value::Object(root)
            },
        )
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
