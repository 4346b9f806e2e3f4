use std::sync::Arc;

use bumpalo::Bump;
use ipe_host::{ErrorKind, Field, PolicyEngine, RequestError};
use ipe_nostd::{BundleError, Effect};

use crate::common;

const FREEZE: &str = r#"
default allow
schema {
  kind: string
  size: int
  urgent: bool
  tags: list of string
  approvals: list of approver { role: string }
}
policy Freeze:
  "deploys are frozen"
  triggers when kind == "deploy"
  denies with reason "frozen"
policy Small:
  "jobs stay small"
  triggers when kind == "job"
  requires size <= 10
policy Urgent:
  "urgent changes need an approval"
  triggers when urgent == true
  requires approvals.count >= 1 where approver.role == "lead"
"#;

fn engine() -> PolicyEngine {
    PolicyEngine::from_bytes(common::bundle(FREEZE)).expect("loads")
}

#[test]
fn evaluates_json_and_reports_names() {
    let engine = engine();
    let set = engine.load();
    assert_eq!(set.version(), 1);
    assert_eq!(set.policy_count(), 3);
    let d = set.evaluate_json(r#"{"kind": "deploy"}"#).expect("object");
    let r = set.report(&d);
    assert_eq!(r.effect, Effect::Deny);
    assert_eq!(r.violations[0].policy, "Freeze");
    assert_eq!(r.violations[0].reason, "frozen");
    let d = set
        .evaluate_json(r#"{"kind": "job", "size": 3}"#)
        .expect("object");
    assert_eq!(set.report(&d).matched, ["Small"]);
    let d = set
        .evaluate_json(r#"{"kind": "other", "urgent": false}"#)
        .expect("object");
    assert_eq!(d.effect, Effect::Allow);
    assert!(d.matched().is_empty());
}

#[test]
fn index_visits_only_candidates() {
    let engine = engine();
    let set = engine.load();
    assert_eq!(set.indexed_policies(), 3, "on `kind` and on `urgent`");
    set.evaluate_json(r#"{"kind": "deploy", "urgent": false}"#)
        .expect("object");
    let stats = set.stats();
    let by_name = |n: &str| {
        stats
            .policies
            .iter()
            .find(|p| p.name == n)
            .expect("policy")
            .clone()
    };
    assert_eq!(by_name("Freeze").evaluations, 1);
    assert_eq!(
        by_name("Small").evaluations,
        0,
        "not a candidate for `deploy`"
    );
    assert_eq!(
        by_name("Urgent").evaluations,
        0,
        "`urgent == false` has no bucket"
    );
    // A missing indexed attribute may make every trigger of the group an error: all visited.
    set.evaluate_json(r#"{"urgent": false}"#).expect("object");
    assert_eq!(set.evaluations(1), 1);
}

#[test]
fn malformed_requests_are_errors_not_panics() {
    let engine = engine();
    for (text, not_object) in [
        ("", false),
        ("{", false),
        ("[1, 2]", true),
        ("\"deploy\"", true),
        ("null", true),
        ("{} {}", false),
        (r#"{"kind": "deploy""#, false),
    ] {
        let e = engine.evaluate_json(text).expect_err(text);
        match e.kind() {
            ErrorKind::Request(RequestError::NotAnObject) => assert!(not_object, "{text}"),
            ErrorKind::Request(RequestError::Json(_)) => assert!(!not_object, "{text}"),
            other => panic!("{text}: unexpected {other:?}"),
        }
    }
}

#[test]
fn issue12_a_non_object_root_and_a_repeated_key_are_flagged_by_both_readers() {
    let engine = engine();
    let set = engine.load();
    let not_object =
        |e: &ipe_host::Error| matches!(e.kind(), ErrorKind::Request(RequestError::NotAnObject));
    // Every JSON kind but an object, as the whole request.
    for text in [
        "1",
        "-1.5",
        "18446744073709551616",
        "true",
        "null",
        "\"ipe: request is not an object\"",
        "[]",
        "[{}]",
    ] {
        let e = set.evaluate_json(text).expect_err(text);
        assert!(not_object(&e), "{text}: {e}");
        let e = ipe_host::request::parse_value(text).expect_err(text);
        assert!(not_object(&e), "{text}: {e}");
        assert_eq!(e.to_string(), "malformed request: expected a JSON object");
    }
    // A repeated key anywhere (read or skipped, in a list, in a record) is flagged too.
    for text in [
        r#"{"a": 1, "a": 2}"#,
        r#"{"x": {"y": [{"z": 1, "z": 1}]}}"#,
        r#"{"kind": "deploy", "b": {"c": 1, "c": 1}}"#,
    ] {
        for e in [
            set.evaluate_json(text).expect_err(text),
            ipe_host::request::parse_value(text).expect_err(text),
        ] {
            assert!(
                matches!(e.kind(), ErrorKind::Request(RequestError::DuplicateKey(_))),
                "{text}: {e}"
            );
        }
    }
    // An object root followed by junk, or a broken object, is a JSON error instead.
    for text in ["{} 1", "{} []", "{\"a\": [1,", "{\"a\": 1 \"b\""] {
        let e = set.evaluate_json(text).expect_err(text);
        assert!(
            matches!(e.kind(), ErrorKind::Request(RequestError::Json(_))),
            "{text}: {e}"
        );
    }
}

#[test]
fn bad_bundles_are_format_errors() {
    let e = PolicyEngine::from_bytes(b"nope".to_vec()).expect_err("too short");
    assert!(matches!(
        e.kind(),
        ErrorKind::Format(BundleError::Truncated { .. })
    ));
    let mut bytes = common::bundle(FREEZE);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let e = PolicyEngine::from_bytes(bytes).expect_err("corrupt");
    assert!(matches!(
        e.kind(),
        ErrorKind::Format(BundleError::ChecksumMismatch { .. })
    ));
    let engine = engine();
    let e = engine.swap(vec![0; 64]).expect_err("garbage");
    assert!(matches!(e.kind(), ErrorKind::Format(_)));
    assert_eq!(engine.version(), 1, "a failed swap publishes nothing");
    let e = engine.reload().expect_err("no file");
    assert!(matches!(e.kind(), ErrorKind::NoSource));
    let e = PolicyEngine::from_file("/nonexistent/bundle.ipeb").expect_err("missing");
    assert!(matches!(e.kind(), ErrorKind::Io { .. }));
}

/// Issue #15: the host checks a bundle's CRC-32C with the `crc32c` crate (the CPU's CRC
/// instruction), the device with `ipe-nostd`'s table; each damaged bundle gets the same error
/// from both, and an intact one loads in both.
#[test]
fn issue15_the_host_refuses_exactly_what_the_device_refuses() {
    let good = common::bundle(FREEZE);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("intact", good.clone()),
        ("empty", Vec::new()),
        ("header only", good[..16.min(good.len())].to_vec()),
        ("one byte short", good[..good.len() - 1].to_vec()),
        ("one byte more", [good.as_slice(), &[0]].concat()),
    ];
    for at in [8, 12, 16, good.len() / 2, good.len() - 1] {
        let mut b = good.clone();
        b[at] ^= 0x5a;
        cases.push(("a flipped byte", b));
    }
    for (what, bytes) in cases {
        let device = ipe_nostd::Bundle::from_bytes(&bytes).map(|b| b.policy_count());
        let host = PolicyEngine::from_bytes(bytes.clone());
        match (device, host) {
            (Ok(n), Ok(engine)) => assert_eq!(engine.load().bundle().policy_count(), n, "{what}"),
            (Err(d), Err(h)) => {
                assert!(
                    matches!(h.kind(), ErrorKind::Format(e) if *e == d),
                    "{what}: device {d:?}, host {h}"
                );
            }
            (d, h) => panic!("{what}: device {d:?}, host {:?}", h.map(|_| ())),
        }
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ipe-host-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Publishes `bytes` at `path` the way the update contract requires: write, then rename.
fn publish(path: &std::path::Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

const OTHER: &str = r#"
default deny
policy Anything:
  "everything is checked"
  requires true
"#;

#[test]
fn from_file_copies_and_reload_reads_again() {
    let dir = temp_dir("copy");
    let path = dir.join("b.ipeb");
    publish(&path, &common::bundle(FREEZE));
    let engine = PolicyEngine::from_file(&path).expect("loads");
    assert!(!engine.load().is_mapped());
    // The copy does not depend on the file: overwriting it in place is harmless.
    std::fs::write(&path, b"garbage").expect("overwrite");
    let d = engine
        .evaluate_json(r#"{"kind":"deploy"}"#)
        .expect("object");
    assert_eq!(d.effect, Effect::Deny);
    assert!(engine.reload().is_err(), "a corrupt file is rejected");
    assert_eq!(engine.version(), 1);
    publish(&path, &common::bundle(OTHER));
    assert_eq!(engine.reload().expect("reloads"), 2);
    let set = engine.load();
    let d = set.evaluate_json(r#"{"kind":"deploy"}"#).expect("object");
    assert_eq!(set.report(&d).matched, ["Anything"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
#[expect(
    unsafe_code,
    reason = "exercises the mapping constructor under its contract"
)]
fn mapped_file_follows_the_rename_contract() {
    let dir = temp_dir("map");
    let path = dir.join("b.ipeb");
    // Small files are copied even by the mapping constructor.
    publish(&path, &common::bundle(FREEZE));
    // SAFETY: this test only replaces the file by rename (`publish`).
    let engine = unsafe { PolicyEngine::from_file_mapped(&path) }.expect("loads");
    assert!(!engine.load().is_mapped());
    // A bundle above the threshold is mapped.
    let mut big = String::from(FREEZE);
    let mut i = 0;
    let big_bytes = loop {
        for _ in 0..10_000 {
            big.push_str(&format!(
                "policy P{i}:\n  \"padding policy number {i} with a long intent to grow the bundle text\"\n  triggers when kind == \"k{i}\"\n  denies\n"
            ));
            i += 1;
        }
        let b = common::bundle(&big);
        if b.len() as u64 >= ipe_host::MAP_THRESHOLD {
            break b;
        }
    };
    publish(&path, &big_bytes);
    let v = engine.reload().expect("reloads");
    let old = engine.load_full();
    assert!(old.is_mapped());
    assert_eq!(old.version(), v);
    // Replace by rename while `old` still maps the previous inode: both stay valid.
    publish(&path, &common::bundle(OTHER));
    engine.reload().expect("reloads");
    let d = old.evaluate_json(r#"{"kind":"k7"}"#).expect("object");
    assert_eq!(old.report(&d).violations[0].policy, "P7");
    let d = engine.evaluate_json(r#"{"kind":"k7"}"#).expect("object");
    assert_eq!(d.effect, Effect::Allow);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn old_versions_are_freed_when_their_last_reader_is_done() {
    let engine = engine();
    let held = engine.load_full();
    let weak = Arc::downgrade(&held);
    assert_eq!(engine.swap(common::bundle(OTHER)).expect("swaps"), 2);
    assert!(weak.upgrade().is_some(), "a reader still holds version 1");
    assert_eq!(held.version(), 1);
    assert_eq!(engine.retired_versions(), 1);
    drop(held);
    // Freed off the reader: by the reclaimer thread or this explicit sweep (issue #15).
    engine.reclaim();
    assert!(weak.upgrade().is_none(), "version 1 is freed");
    assert_eq!(engine.retired_versions(), 0);
    assert_eq!(engine.version(), 2);
}

#[test]
fn typed_requests_match_json() {
    let engine = engine();
    let set = engine.load();
    let arena = Bump::new();
    let mut req = set.request(&arena);
    req.bool("urgent", true)
        .str("kind", "job")
        .int("size", 11)
        .strs("tags", ["a", "b"])
        .records("approvals", [[("role", Field::Str("dev"))]])
        .str("not.in.bundle", "ignored");
    let typed = set.report(&req.evaluate().expect("no attribute set twice"));
    let json = set
        .evaluate_json(
            r#"{"urgent": true, "kind": "job", "size": 11, "tags": ["a", "b"], "approvals": [{"role": "dev"}]}"#,
        )
        .expect("object");
    assert_eq!(typed, set.report(&json));
    assert_eq!(typed.violations.len(), 2);
    // Wrong kinds become the same attribute errors JSON would give.
    let mut req = set.request(&arena);
    req.str("kind", "job")
        .str("size", "big")
        .bool("urgent", false);
    let typed = set.report(&req.evaluate().expect("no attribute set twice"));
    let json = set
        .evaluate_json(r#"{"kind": "job", "size": "big", "urgent": false}"#)
        .expect("object");
    assert_eq!(typed, set.report(&json));
    assert_eq!(typed.errors.len(), 1);
}

#[test]
fn batches_count_lines_and_skip_blanks() {
    let engine = engine();
    let input =
        "{\"kind\":\"deploy\"}\n\n{\"kind\":\"job\",\"size\":1,\"urgent\":false}\nnot json\n[]\n";
    let mut lines = Vec::new();
    let s = engine
        .evaluate_lines(input.as_bytes(), |n, r| lines.push((n, r.is_ok())))
        .expect("reads");
    assert_eq!(lines, [(1, true), (3, true), (4, false), (5, false)]);
    assert_eq!((s.requests, s.allowed, s.denied, s.malformed), (2, 1, 1, 2));
    assert_eq!(s.version, 1);
}

#[test]
fn stats_count_outcomes_and_rank_policies() {
    let engine = engine();
    for _ in 0..3 {
        engine
            .evaluate_json(r#"{"kind":"deploy"}"#)
            .expect("object");
    }
    engine
        .evaluate_json(r#"{"kind":"job","size":50}"#)
        .expect("object");
    engine
        .evaluate_json(r#"{"kind":"job","size":"x"}"#)
        .expect("object");
    let stats = engine.stats();
    let freeze = &stats.policies[0];
    assert_eq!(
        (
            freeze.evaluations,
            freeze.applied,
            freeze.violated,
            freeze.errors
        ),
        (3, 3, 3, 0)
    );
    let small = &stats.policies[1];
    assert_eq!(
        (
            small.evaluations,
            small.applied,
            small.violated,
            small.errors
        ),
        (2, 2, 1, 1)
    );
    // The urgent attribute is missing in every request: Urgent's trigger is an error.
    let urgent = &stats.policies[2];
    assert_eq!((urgent.evaluations, urgent.errors), (5, 5));
    assert!(freeze.samples >= 1, "the first evaluation is timed");
    assert_eq!(stats.hottest(1)[0].name, "Urgent");
    let worst: Vec<&str> = stats
        .most_violating(3)
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(worst, ["Urgent", "Freeze", "Small"]);
    let table = stats.table(2);
    assert!(table.contains("hottest policies (version 1)"), "{table}");
    assert!(table.contains("Urgent"), "{table}");
}

#[test]
fn issue11_a_line_that_is_not_utf8_is_rejected_alone() {
    let engine = engine();
    let input: &[u8] = b"{\"kind\":\"deploy\"}\n{\"kind\":\"d\xffeploy\"}\n{\"kind\":\"deploy\"}\n";
    let mut lines = Vec::new();
    let s = engine
        .evaluate_lines(input, |n, r| {
            lines.push((n, r.err().map(ToString::to_string)));
        })
        .expect("reads");
    assert_eq!(
        lines,
        [
            (1, None),
            (
                2,
                Some("malformed request: invalid UTF-8 at column 11".to_owned())
            ),
            (3, None),
        ]
    );
    assert_eq!((s.requests, s.malformed), (2, 1));
}

/// Issue 11 (moved here from ipe-compile's `limits.rs` when the compiler stopped depending on
/// the host): the engine verifies a bundle against its own cost budget, not the default one.
#[test]
fn issue11_engine_verifies_against_its_own_budget() {
    // 67,240,449 steps by the cost model of docs/LANGUAGE.md (see ipe-compile's limits.rs).
    let src = "schema {
  a: list of x { v: int }
  b: list of y { v: int }
  c: list of z { v: int }
}
policy Three:
  \"three nested aggregates\"
  requires any(p in a where any(q in b where any(r in c where r.v == p.v)))
";
    let cost = 67_240_449;
    let options = ipe_compile::CompileOptions {
        max_cost: cost,
        ..ipe_compile::CompileOptions::default()
    };
    let (program, _) = ipe_compile::compile_sources_with(&[("p.ipe", src)], &options);
    let program = program.expect("checks with its exact budget");
    let bytes = ipe_compile::lower::lower_with_max_cost(&program, cost)
        .expect("lowers")
        .bytes;
    let opts = ipe_host::EngineOptions {
        max_cost: cost,
        ..ipe_host::EngineOptions::interpreter()
    };
    assert!(PolicyEngine::with_options(bytes.clone(), opts).is_ok());
    assert!(PolicyEngine::with_options(bytes, ipe_host::EngineOptions::interpreter()).is_err());
}

/// A typed request names a quoted key as the source writes it (canonical path text), and a
/// record field that is a quoted key as `["a.b"]`; the JSON readers see the same request.
#[test]
fn issue13_typed_requests_name_quoted_keys() {
    let bytes = common::bundle(
        r#"schema {
  metadata.labels["app.kubernetes.io/name"]: string
  ctx["say \"hi\""]: int
  items: list of { ["a.b"]: int, tags["x/y"]: string }
}
default allow
policy Web:
  "web"
  triggers when metadata.labels["app.kubernetes.io/name"] == "web" and ctx["say \"hi\""] > 1
  denies
policy Items:
  "items"
  triggers when any(c in items where c["a.b"] > 1 and c.tags["x/y"] == "z")
  denies
"#,
    );
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let set = engine.load();
    let arena = Bump::new();
    let mut path = String::new();
    ipe_nostd::path::write_path(&mut path, ["ctx", "say \"hi\""]).expect("writes");
    assert_eq!(path, r#"ctx["say \"hi\""]"#);
    let mut req = set.request(&arena);
    req.str(r#"metadata.labels["app.kubernetes.io/name"]"#, "web")
        .int(&path, 2)
        .records(
            "items",
            [[
                (r#"["a.b"]"#, Field::Int(2)),
                (r#"tags["x/y"]"#, Field::Str("z")),
            ]],
        );
    let typed = set.report(&req.evaluate().expect("no attribute set twice"));
    let json = set
        .evaluate_json(
            r#"{"metadata": {"labels": {"app.kubernetes.io/name": "web"}}, "ctx": {"say \"hi\"": 2}, "items": [{"a.b": 2, "tags": {"x/y": "z"}}]}"#,
        )
        .expect("object");
    assert_eq!(typed, set.report(&json));
    assert_eq!(typed.violations.len(), 2, "{typed:?}");
    // The nested spelling is another path: the dotted key is one key.
    let nested = set
        .evaluate_json(
            r#"{"metadata": {"labels": {"app": {"kubernetes": {"io/name": "web"}}}}, "ctx": {"say \"hi\"": 2}}"#,
        )
        .expect("object");
    let nested = set.report(&nested);
    assert_eq!(nested.errors.len(), 2, "{nested:?}");
    assert_eq!(
        nested.errors[0].error,
        r#"missing attribute `metadata.labels["app.kubernetes.io/name"]`"#
    );
}

/// A map set through the typed builder decides like the same JSON object: entries, a fixed
/// key read alone, a value of the wrong type (the whole map invalid), over max, and a key
/// given twice (malformed, like a repeated JSON key).
#[test]
fn issue13_typed_maps_match_json() {
    let bytes = common::bundle(
        r#"schema {
  labels: map of string max 2
  ports: map of int
}
default allow
policy Team:
  "team"
  triggers when "team" in labels and labels["app.kubernetes.io/name"] == "web"
  denies
policy Ports:
  "ports"
  triggers when any(k, p in ports where k == "ssh" and p == 22)
  denies
"#,
    );
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let set = engine.load();
    let arena = Bump::new();
    type Entries<'a> = Vec<(&'a str, Field<'a>)>;
    let cases: [(Entries, Entries, &str); 3] = [
        (
            vec![
                ("team", Field::Str("a")),
                ("app.kubernetes.io/name", Field::Str("web")),
            ],
            vec![("ssh", Field::Int(22))],
            r#"{"labels": {"team": "a", "app.kubernetes.io/name": "web"}, "ports": {"ssh": 22}}"#,
        ),
        (
            vec![
                ("team", Field::Str("a")),
                ("b", Field::Str("c")),
                ("d", Field::Str("e")),
            ],
            vec![("ssh", Field::Str("22")), ("http", Field::Int(80))],
            r#"{"labels": {"team": "a", "b": "c", "d": "e"}, "ports": {"ssh": "22", "http": 80}}"#,
        ),
        (
            vec![
                ("app.kubernetes.io/name", Field::Str("web")),
                ("x", Field::Int(1)),
            ],
            vec![],
            r#"{"labels": {"app.kubernetes.io/name": "web", "x": 1}, "ports": {}}"#,
        ),
    ];
    for (labels, ports, json) in cases {
        let mut req = set.request(&arena);
        req.map("labels", labels).map("ports", ports);
        let typed = set.report(&req.evaluate().expect("no key given twice"));
        let from_json = set.report(&set.evaluate_json(json).expect("object"));
        assert_eq!(typed, from_json, "{json}");
        let value = ipe_host::request::parse_value(json).expect("valid JSON");
        assert_eq!(
            ipe_host::evaluate_json(set.bundle(), &value).to_json(),
            from_json.to_json(),
            "{json}"
        );
    }
    let mut req = set.request(&arena);
    req.map("labels", [("a", Field::Str("x")), ("a", Field::Str("y"))]);
    assert!(req.evaluate().is_err(), "a key given twice is malformed");
}

/// Decision loops gate first-match groups only when the bundle has one (checked once per
/// decision): the flag is true exactly for a bundle with a group.
#[test]
fn issue13_has_groups_only_with_first_match_groups() {
    let plain = common::bundle(FREEZE);
    let plain = ipe_nostd::Bundle::from_bytes(&plain).expect("verifies");
    assert!(!plain.has_groups());
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/corpus/groups/firewall.ipe"),
    )
    .expect("corpus file");
    let grouped = common::bundle(&src);
    let grouped = ipe_nostd::Bundle::from_bytes(&grouped).expect("verifies");
    assert!(grouped.has_groups());
    // A request where the group's first rule decides and its second (also true) is left out,
    // on both host tiers and the interpreter.
    let json = r#"{"dir": "in", "proto": "tcp", "port": 22, "src": "10.0.1.5"}"#;
    for options in [
        ipe_host::EngineOptions::interpreter(),
        ipe_host::EngineOptions::jit_all(ipe_host::JitTier::Optimized),
    ] {
        let engine = PolicyEngine::with_options(common::bundle(&src), options).expect("loads");
        let d = engine.evaluate_json(json).expect("evaluates");
        let set = engine.load();
        let names: Vec<&str> = d
            .matched()
            .iter()
            .map(|&id| set.bundle().policy(id).name)
            .collect();
        assert_eq!(names, ["AllowSsh"]);
        assert_eq!(d.effect, Effect::Allow);
    }
}

/// A map of records set through the typed builder decides like the same JSON object, and
/// the `serde_json::Value` reader agrees: entries' fields, a fixed key's field read alone
/// (`svc["web"].port`), a field of the wrong type (an error of that field where read), over
/// max, a quoted field, and a key given twice (malformed).
#[test]
fn issue13_typed_map_records_match_json() {
    let bytes = common::bundle(
        r#"schema {
  svc: map of max 2 { port: int, tls.on: bool, ["a.b"]: string }
}
default allow
policy Web:
  "web on 443"
  triggers when svc["web"].port == 443 and has svc["web"].tls.on
  denies
policy High:
  "a high port with tls"
  triggers when any(k, v in svc where v.port > 1024 and v.tls.on)
  denies
policy Quoted:
  "a quoted field"
  triggers when count(e in svc where e.value["a.b"] == "x") >= 1
  denies
"#,
    );
    let engine = PolicyEngine::from_bytes(bytes).expect("loads");
    let set = engine.load();
    let arena = Bump::new();
    type Entry<'a> = (&'a str, Vec<(&'a str, Field<'a>)>);
    let cases: [(Vec<Entry>, &str); 4] = [
        (
            vec![
                (
                    "web",
                    vec![("port", Field::Int(443)), ("tls.on", Field::Bool(true))],
                ),
                (
                    "x",
                    vec![("port", Field::Int(8080)), ("tls.on", Field::Bool(true))],
                ),
            ],
            r#"{"svc": {"web": {"port": 443, "tls": {"on": true}}, "x": {"port": 8080, "tls": {"on": true}}}}"#,
        ),
        (
            vec![
                ("web", vec![("port", Field::Str("443"))]),
                (
                    "y",
                    vec![("port", Field::Int(9000)), ("[\"a.b\"]", Field::Str("x"))],
                ),
            ],
            r#"{"svc": {"web": {"port": "443"}, "y": {"port": 9000, "a.b": "x"}}}"#,
        ),
        (
            vec![("a", vec![]), ("b", vec![]), ("c", vec![])],
            r#"{"svc": {"a": {}, "b": {}, "c": {}}}"#,
        ),
        (
            vec![(
                "web",
                vec![("port", Field::Int(443)), ("tls.on", Field::Int(1))],
            )],
            r#"{"svc": {"web": {"port": 443, "tls": {"on": 1}}}}"#,
        ),
    ];
    for (entries, json) in cases {
        let mut req = set.request(&arena);
        req.map_records("svc", entries);
        let typed = set.report(&req.evaluate().expect("no key given twice"));
        let from_json = set.report(&set.evaluate_json(json).expect("object"));
        assert_eq!(typed, from_json, "{json}");
        let value = ipe_host::request::parse_value(json).expect("valid JSON");
        assert_eq!(
            ipe_host::evaluate_json(set.bundle(), &value).to_json(),
            from_json.to_json(),
            "{json}"
        );
    }
    let first = set.report(
        &set.evaluate_json(r#"{"svc": {"web": {"port": 443, "tls": {"on": true}}}}"#)
            .expect("object"),
    );
    assert_eq!(first.matched, vec!["Web".to_owned()], "Web applies");
    let mut req = set.request(&arena);
    req.map_records("svc", [("a", vec![("port", Field::Int(1))]), ("a", vec![])]);
    assert!(req.evaluate().is_err(), "a key given twice is malformed");
}

#[test]
#[cfg(unix)]
fn issue15_reload_refuses_fifos_and_devices() {
    let dir = temp_dir("fifo");
    let path = dir.join("b.ipeb");
    publish(&path, &common::bundle(FREEZE));
    let engine = PolicyEngine::from_file(&path).expect("loads");
    // A FIFO renamed over the path: refused without waiting for a writer.
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    std::fs::rename(&fifo, &path).expect("rename");
    let e = engine.reload().expect_err("a FIFO");
    assert!(
        matches!(e.kind(), ErrorKind::NotAFile { path: p } if *p == path),
        "{e}"
    );
    assert!(e.to_string().contains("not a regular file"), "{e}");
    // A device, through a symlink and directly: never read (`/dev/zero` would never end).
    std::fs::remove_file(&path).expect("remove");
    std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
    let e = engine.reload().expect_err("a device");
    assert!(matches!(e.kind(), ErrorKind::NotAFile { .. }), "{e}");
    let e = PolicyEngine::from_file("/dev/zero").expect_err("a device");
    assert!(matches!(e.kind(), ErrorKind::NotAFile { .. }), "{e}");
    let e = PolicyEngine::from_file(&dir).expect_err("a directory");
    assert!(matches!(e.kind(), ErrorKind::NotAFile { .. }), "{e}");
    assert_eq!(engine.version(), 1, "nothing was published");
    std::fs::remove_file(&path).expect("remove");
    publish(&path, &common::bundle(OTHER));
    assert_eq!(engine.reload().expect("a regular file again"), 2);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn issue15_reload_reads_only_the_announced_length() {
    let dir = temp_dir("cap");
    let path = dir.join("b.ipeb");
    let bytes = common::bundle(FREEZE);
    publish(&path, &bytes);
    let engine = PolicyEngine::from_file(&path).expect("loads");
    // The bundle followed by 64 GiB of (sparse) zeros: the reader stops one byte after the
    // announced length (reading it all would exhaust memory) and refuses the trailing byte.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("opens");
    file.set_len(bytes.len() as u64 + (64 << 30))
        .expect("sparse");
    drop(file);
    let e = engine.reload().expect_err("trailing bytes");
    assert!(matches!(e.kind(), ErrorKind::Format(_)), "{e}");
    // A signed envelope announcing more than the file holds is truncated, not over-read.
    std::fs::write(&path, b"IPES\x01\x00\x00\x00").expect("write");
    let e = engine.reload().expect_err("truncated");
    assert!(
        matches!(e.kind(), ErrorKind::Format(_) | ErrorKind::Signature(_)),
        "{e}"
    );
    assert_eq!(engine.version(), 1);
    // The exact bytes still load.
    publish(&path, &common::bundle(OTHER));
    assert_eq!(engine.reload().expect("reloads"), 2);
    std::fs::remove_dir_all(&dir).ok();
}
