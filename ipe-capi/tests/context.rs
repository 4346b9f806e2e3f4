//! The fast path called as C calls it: contexts filled by slot decide exactly as the same JSON
//! (the firewall example's requests, wrong kinds, missing attributes), allocate nothing per
//! decision (a counting global allocator), stay pinned across swaps until refreshed; decide in
//! brief as in full (`ipe_brief_context`); per-policy stats; trusted engines refusing unsigned
//! and older bundles.
#![expect(
    unsafe_code,
    reason = "calls the C ABI's unsafe entry points, as C does, and a counting `GlobalAlloc`"
)]

mod support;

use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

use ipe_capi::*;

/// The counting allocator, shared with ipe-host's tests.
#[path = "../../tests/support/counting.rs"]
mod counting;
use counting::allocations;

fn ok(status: IpeStatus) {
    assert_eq!(status, IpeStatus::Ok, "{}", last_error());
}

fn last_error() -> String {
    let mut buf = [0 as c_char; 1024];
    // SAFETY: `buf` holds 1024 bytes.
    let s = unsafe { ipe_last_error(buf.as_mut_ptr(), buf.len(), null_mut()) };
    assert_eq!(s, IpeStatus::Ok);
    // SAFETY: `ipe_last_error` wrote a NUL-terminated string into `buf`.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .expect("UTF-8")
        .to_owned()
}

fn open(bytes: &[u8]) -> *mut IpeEngine {
    let mut e = null_mut();
    // SAFETY: `bytes` is a live slice and `e` a local out pointer.
    ok(unsafe { ipe_engine_open_bytes(bytes.as_ptr(), bytes.len(), &mut e) });
    e
}

fn context(engine: *const IpeEngine) -> *mut IpeContext {
    let mut c = null_mut();
    // SAFETY: a live engine and a local out pointer.
    ok(unsafe { ipe_context_new(engine, &mut c) });
    c
}

fn slot(ctx: *mut IpeContext, path: &str) -> u32 {
    let mut s = 0;
    // SAFETY: a live context; `path` is live for the call.
    ok(unsafe { ipe_context_slot(ctx, path.as_ptr().cast(), path.len(), &mut s) });
    s
}

fn blank() -> IpeContextDecision {
    IpeContextDecision {
        effect: IpeEffect::Allow,
        matched: 99,
        violations: 99,
        errors: 99,
        first_violation: 99,
        first_error: 99,
        error_kind: IpeAttrError::Other,
        error_slot: 99,
        version: 99,
    }
}

/// Decides the context with the report: the struct and the JSON.
fn decide_report(ctx: *mut IpeContext) -> (IpeContextDecision, String) {
    let mut d = blank();
    let mut out = vec![0 as c_char; 8192];
    // SAFETY: a live context; `out` holds its stated capacity.
    ok(unsafe { ipe_decide_context_report(ctx, &mut d, out.as_mut_ptr(), out.len(), null_mut()) });
    // SAFETY: the call wrote a NUL-terminated string.
    let json = unsafe { CStr::from_ptr(out.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned();
    (d, json)
}

/// The decision JSON `ipe_decide_json` gives for `json`, and its struct.
fn decide_json(engine: *const IpeEngine, json: &str) -> (IpeDecision, String) {
    let mut d = IpeDecision {
        effect: IpeEffect::Allow,
        matched: 0,
        violations: 0,
        errors: 0,
        version: 0,
    };
    let mut out = vec![0 as c_char; 8192];
    // SAFETY: every pointer is live for the call; `out` holds its stated capacity.
    ok(unsafe {
        ipe_decide_json(
            engine,
            json.as_ptr().cast(),
            json.len(),
            &mut d,
            out.as_mut_ptr(),
            out.len(),
            null_mut(),
        )
    });
    // SAFETY: the call wrote a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(out.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned();
    (d, text)
}

/// Decides the context in brief.
fn brief(ctx: *mut IpeContext) -> IpeBrief {
    let mut b = IpeBrief {
        effect: IpeEffect::Allow,
        denied_by: 99,
    };
    // SAFETY: a live context and a local brief.
    ok(unsafe { ipe_brief_context(ctx, &mut b) });
    b
}

/// Stats for a call to fill.
fn blank_stats() -> IpePolicyStats {
    IpePolicyStats {
        evaluations: 0,
        applied: 0,
        violated: 0,
        errors: 0,
        mean_nanos: 0.0,
        tier: IpeCodeTier::Failed,
        version: 0,
    }
}

/// Policy `index`'s name in the engine's live version.
fn policy_name(engine: *const IpeEngine, index: u32) -> String {
    let mut stats = blank_stats();
    let mut name = [0 as c_char; 128];
    // SAFETY: a live engine; local buffers of their stated sizes.
    ok(unsafe {
        ipe_engine_policy_stats(
            engine,
            index as usize,
            &mut stats,
            name.as_mut_ptr(),
            name.len(),
            null_mut(),
        )
    });
    // SAFETY: the call wrote a NUL-terminated string.
    unsafe { CStr::from_ptr(name.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned()
}

/// Checks a brief against the full decision of the same values (`d`, and its report `json`):
/// the same effect; `denied_by` is `IPE_NONE` exactly when no policy was violated or in
/// error, else one of those (the one, when there is one).
fn check_brief(engine: *const IpeEngine, b: IpeBrief, d: &IpeContextDecision, json: &str) {
    assert_eq!(b.effect, d.effect, "{json}");
    let report: serde_json::Value = serde_json::from_str(json).unwrap();
    let denying: Vec<&str> = ["violations", "errors"]
        .iter()
        .flat_map(|k| report[*k].as_array().expect("a list"))
        .map(|p| p["policy"].as_str().expect("a policy name"))
        .collect();
    assert_eq!(denying.len(), (d.violations + d.errors) as usize, "{json}");
    match denying[..] {
        [] => assert_eq!(b.denied_by, IPE_NONE, "{json}"),
        [_] => {
            let one = if d.violations == 1 {
                d.first_violation
            } else {
                d.first_error
            };
            assert_eq!(b.denied_by, one, "{json}");
        }
        _ => {
            assert_ne!(b.denied_by, IPE_NONE, "{json}");
            let name = policy_name(engine, b.denied_by);
            assert!(denying.contains(&name.as_str()), "{name}: {json}");
        }
    }
}

/// The firewall's slots, resolved once.
struct Firewall {
    iface: u32,
    proto: u32,
    src: u32,
    dst_port: u32,
    size: u32,
    tcp_flags: u32,
    established: u32,
    rate: u32,
}

impl Firewall {
    fn resolve(ctx: *mut IpeContext) -> Firewall {
        Firewall {
            iface: slot(ctx, "packet.iface"),
            proto: slot(ctx, "packet.proto"),
            src: slot(ctx, "packet.src"),
            dst_port: slot(ctx, "packet.dst_port"),
            size: slot(ctx, "packet.size"),
            tcp_flags: slot(ctx, "packet.tcp_flags"),
            established: slot(ctx, "packet.established"),
            rate: slot(ctx, "flow.rate_pps"),
        }
    }

    /// Sets every attribute a JSON request of the firewall example carries, by its JSON type
    /// (so wrong-typed values reach the setters too); false when a value has no setter (a
    /// float).
    fn fill(&self, ctx: *mut IpeContext, req: &serde_json::Value) -> bool {
        let p = &req["packet"];
        let attrs = [
            (self.iface, &p["iface"]),
            (self.proto, &p["proto"]),
            (self.src, &p["src"]),
            (self.dst_port, &p["dst_port"]),
            (self.size, &p["size"]),
            (self.tcp_flags, &p["tcp_flags"]),
            (self.established, &p["established"]),
            (self.rate, &req["flow"]["rate_pps"]),
        ];
        let mut ok_all = true;
        for (slot, v) in attrs {
            // SAFETY: a live context; the strings live in `req` until the decision.
            unsafe {
                match v {
                    serde_json::Value::Null => {}
                    serde_json::Value::Bool(b) => ok(ipe_context_set_bool(ctx, slot, *b)),
                    serde_json::Value::String(s) => match (slot == self.src, s.parse()) {
                        (true, Ok(std::net::IpAddr::V4(a))) => {
                            ok(ipe_context_set_ipv4(ctx, slot, a.into()));
                        }
                        (true, Ok(std::net::IpAddr::V6(a))) => {
                            ok(ipe_context_set_ipv6(ctx, slot, a.octets().as_ptr()));
                        }
                        _ => ok(ipe_context_set_str(ctx, slot, s.as_ptr().cast(), s.len())),
                    },
                    v => match v.as_i64() {
                        Some(i) => ok(ipe_context_set_int(ctx, slot, i)),
                        None => ok_all = false,
                    },
                }
            }
        }
        ok_all
    }
}

fn firewall() -> Vec<u8> {
    support::bundle_dir("examples/firewall")
}

fn firewall_requests() -> Vec<String> {
    std::fs::read_to_string(support::root().join("examples/firewall/requests.jsonl"))
        .expect("firewall requests")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn context_decides_the_firewall_requests_as_their_json() {
    let engine = open(&firewall());
    let ctx = context(engine);
    let fw = Firewall::resolve(ctx);
    let requests = firewall_requests();
    assert!(requests.len() >= 8);
    let (mut denies, mut compared) = (0, 0);
    for r in &requests {
        let req: serde_json::Value = serde_json::from_str(r).unwrap();
        if !fw.fill(ctx, &req) {
            // SAFETY: a live context.
            ok(unsafe { ipe_context_clear(ctx) });
            continue;
        }
        compared += 1;
        let (d, json) = decide_report(ctx);
        let (want, want_json) = decide_json(engine, r);
        assert_eq!(json, want_json, "{r}");
        assert_eq!(
            (d.effect, d.matched, d.violations, d.errors, d.version),
            (
                want.effect,
                want.matched,
                want.violations,
                want.errors,
                want.version
            ),
            "{r}"
        );
        // The fast decision (no report) agrees with the report's.
        assert!(fw.fill(ctx, &req));
        let mut fast = blank();
        // SAFETY: a live context and a local decision.
        ok(unsafe { ipe_decide_context(ctx, &mut fast) });
        assert_eq!(fast, d, "{r}");
        // The brief agrees with both.
        assert!(fw.fill(ctx, &req));
        check_brief(engine, brief(ctx), &d, &json);
        assert_eq!(d.violations == 0, d.first_violation == IPE_NONE);
        assert_eq!(d.errors == 0, d.error_kind == IpeAttrError::None);
        denies += usize::from(d.effect == IpeEffect::Deny);
    }
    assert!(denies > 0 && denies < compared, "{denies}");
    assert_eq!(
        compared,
        requests.len() - 1,
        "only the float request is skipped"
    );
    // SAFETY: handles from this test, freed once.
    unsafe {
        ipe_context_free(ctx);
        ipe_engine_free(engine);
    }
}

/// Policies that deny by violation (one or two) and by error, with `default {default}`.
fn briefs(default: &str) -> Vec<u8> {
    support::bundle(&format!(
        r#"
default {default}

schema {{
  role: enum ["guest", "user", "admin"]
  action: string
  size: int
}}

policy AdminDeletes:
  "only admins delete"
  triggers when action == "delete"
  requires role == "admin"

policy SmallWrites:
  "writes are small"
  triggers when action == "write"
  requires size <= 100

policy NoGuestWrites:
  "guests do not write"
  triggers when action == "write"
  requires role != "guest"
"#
    ))
}

/// A request of [`briefs`] (role, action, size; unset when `None`) and its full decision under
/// `default allow` (effect, violations, errors).
type BriefCase = (
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
    IpeEffect,
    u32,
    u32,
);

#[test]
fn brief_gives_the_effect_and_a_denying_policy_of_the_full_decision() {
    let cases: &[BriefCase] = &[
        // Nothing applies: the default.
        (Some("user"), Some("read"), None, IpeEffect::Allow, 0, 0),
        (None, Some("read"), Some(5), IpeEffect::Allow, 0, 0),
        // Allowed by the policies that apply.
        (Some("admin"), Some("delete"), None, IpeEffect::Allow, 0, 0),
        (Some("user"), Some("write"), Some(5), IpeEffect::Allow, 0, 0),
        // One violation.
        (Some("user"), Some("delete"), None, IpeEffect::Deny, 1, 0),
        (
            Some("user"),
            Some("write"),
            Some(500),
            IpeEffect::Deny,
            1,
            0,
        ),
        // Two violations.
        (
            Some("guest"),
            Some("write"),
            Some(500),
            IpeEffect::Deny,
            2,
            0,
        ),
        // A missing attribute: an error (with or without a violation).
        (Some("user"), Some("write"), None, IpeEffect::Deny, 0, 1),
        (Some("guest"), Some("write"), None, IpeEffect::Deny, 1, 1),
        (None, Some("delete"), None, IpeEffect::Deny, 0, 1),
        (Some("admin"), None, Some(5), IpeEffect::Deny, 0, 3),
    ];
    for default in ["allow", "deny"] {
        let engine = open(&briefs(default));
        let ctx = context(engine);
        let (role, action, size) = (slot(ctx, "role"), slot(ctx, "action"), slot(ctx, "size"));
        let fill = |case: &BriefCase| {
            // SAFETY: a live context; the strings are 'static.
            unsafe {
                for (s, v) in [(role, case.0), (action, case.1)] {
                    if let Some(v) = v {
                        ok(ipe_context_set_str(ctx, s, v.as_ptr().cast(), v.len()));
                    }
                }
                if let Some(n) = case.2 {
                    ok(ipe_context_set_int(ctx, size, n));
                }
            }
        };
        for case in cases {
            let &(_, _, _, allow_effect, violations, errors) = case;
            fill(case);
            let (d, json) = decide_report(ctx);
            let nothing_applies = d.matched == 0 && violations + errors == 0;
            let effect = if default == "deny" && nothing_applies {
                IpeEffect::Deny
            } else {
                allow_effect
            };
            assert_eq!(
                (d.effect, d.violations, d.errors),
                (effect, violations, errors),
                "default {default}: {json}"
            );
            fill(case);
            let mut fast = blank();
            // SAFETY: a live context and a local decision.
            ok(unsafe { ipe_decide_context(ctx, &mut fast) });
            assert_eq!(fast, d, "{json}");
            fill(case);
            let b = brief(ctx);
            check_brief(engine, b, &d, &json);
            if default == "deny" && nothing_applies {
                assert_eq!((b.effect, b.denied_by), (IpeEffect::Deny, IPE_NONE));
            }
        }
        // SAFETY: handles from this test, freed once.
        unsafe {
            ipe_context_free(ctx);
            ipe_engine_free(engine);
        }
    }
}

#[test]
fn brief_fails_as_the_full_decision_and_empties_the_context() {
    let engine = open(&briefs("allow"));
    let ctx = context(engine);
    let role = slot(ctx, "role");
    let mut b = IpeBrief {
        effect: IpeEffect::Deny,
        denied_by: 99,
    };
    // SAFETY: a live context; every pointer is live for its call.
    unsafe {
        assert_eq!(
            ipe_brief_context(null_mut(), &mut b),
            IpeStatus::NullArgument
        );
        assert!(last_error().contains("ctx"), "{}", last_error());
        ok(ipe_context_set_str(ctx, role, "guest".as_ptr().cast(), 5));
        assert_eq!(ipe_brief_context(ctx, null_mut()), IpeStatus::NullArgument);
        assert!(last_error().contains("brief"), "{}", last_error());
        // The failed call emptied the context: the slot can be set again.
        ok(ipe_context_set_str(ctx, role, "user".as_ptr().cast(), 4));
        ok(ipe_context_clear(ctx));
        let bad = [0xffu8, 0xfe];
        ok(ipe_context_set_str(ctx, role, bad.as_ptr().cast(), 2));
        assert_eq!(ipe_brief_context(ctx, &mut b), IpeStatus::InvalidUtf8);
        assert!(last_error().contains("`role`"), "{}", last_error());
        assert_eq!(
            (b.effect, b.denied_by),
            (IpeEffect::Deny, 99),
            "not written"
        );
        // Emptied too: `action` is missing, so every policy is in error; `role` can be set.
        ok(ipe_context_set_str(ctx, role, "admin".as_ptr().cast(), 5));
        ok(ipe_brief_context(ctx, &mut b));
        assert_eq!(b.effect, IpeEffect::Deny);
        assert!(b.denied_by < 3, "{}", b.denied_by);
        ipe_context_free(ctx);
        ipe_engine_free(engine);
    }
}

/// A schema with every kind the setters read.
const KINDS: &str = r#"
default allow

schema {
  name: string
  level: enum ["low", "high"]
  count: int
  on: bool
  tags: list of string
  addr: ip
  at: timestamp
  ttl: duration
}

policy Named:
  "the name is admin"
  triggers when name == "admin"
  denies with reason "name {name}"

policy Level:
  "low level"
  requires level == "low"

policy Count:
  "at most 3"
  requires count <= 3

policy On:
  "on is set"
  requires on

policy Tagged:
  "tagged team"
  requires any(t in tags where t == "team")

policy Local:
  "from 10/8"
  requires addr in ["10.0.0.0/8"]

policy Recent:
  "after 2020"
  requires at >= timestamp("2020-01-01T00:00:00Z")

policy Short:
  "under an hour"
  requires ttl < duration("1h")
"#;

/// Setter calls and the JSON request they stand for.
type Case<'a> = (Box<dyn Fn() + 'a>, &'static str);

#[test]
fn setters_read_every_kind_as_json_does() {
    let engine = open(&support::bundle(KINDS));
    let ctx = context(engine);
    let s = |p: &str| slot(ctx, p);
    let (name, level, count, on, tags, addr, at, ttl) = (
        s("name"),
        s("level"),
        s("count"),
        s("on"),
        s("tags"),
        s("addr"),
        s("at"),
        s("ttl"),
    );
    assert_eq!(s("no.such.path"), IPE_NONE);
    let items = [
        IpeStr {
            ptr: "x".as_ptr().cast(),
            len: 1,
        },
        IpeStr {
            ptr: "team".as_ptr().cast(),
            len: 4,
        },
    ];
    let v6: [u8; 16] = "::1".parse::<std::net::Ipv6Addr>().unwrap().octets();
    let cases: Vec<Case<'_>> = vec![
        (Box::new(|| {}), r#"{}"#),
        // SAFETY (every closure): a live context; the borrowed strings are 'static.
        (
            Box::new(|| unsafe {
                ok(ipe_context_set_str(ctx, name, "admin".as_ptr().cast(), 5));
                ok(ipe_context_set_str(ctx, level, "low".as_ptr().cast(), 3));
                ok(ipe_context_set_int(ctx, count, 3));
                ok(ipe_context_set_bool(ctx, on, true));
                ok(ipe_context_set_strs(ctx, tags, items.as_ptr(), 2));
                ok(ipe_context_set_ipv4(ctx, addr, 0x0A00_0001));
                ok(ipe_context_set_time_ms(ctx, at, 1_600_000_000_000));
                ok(ipe_context_set_time_ms(ctx, ttl, 60_000));
                ok(ipe_context_set_int(ctx, IPE_NONE, 1));
            }),
            r#"{"name":"admin","level":"low","count":3,"on":true,"tags":["x","team"],"addr":"10.0.0.1","at":"2020-09-13T12:26:40Z","ttl":"1m"}"#,
        ),
        (
            Box::new(|| unsafe {
                ok(ipe_context_set_str(ctx, level, "medium".as_ptr().cast(), 6));
                ok(ipe_context_set_str(ctx, count, "3".as_ptr().cast(), 1));
                ok(ipe_context_set_int(ctx, on, 1));
                ok(ipe_context_set_strs(ctx, tags, null(), 0));
                ok(ipe_context_set_ipv6(ctx, addr, v6.as_ptr()));
                ok(ipe_context_set_int(ctx, at, 1_500_000_000));
                ok(ipe_context_set_str(ctx, ttl, "2h".as_ptr().cast(), 2));
            }),
            r#"{"level":"medium","count":"3","on":1,"tags":[],"addr":"::1","at":1500000000,"ttl":"2h"}"#,
        ),
        (
            Box::new(|| unsafe {
                // Misuse: the slots stay unset (missing).
                assert_eq!(ipe_context_set_ipv4(ctx, name, 1), IpeStatus::BadRequest);
                assert_eq!(
                    ipe_context_set_time_ms(ctx, count, 5),
                    IpeStatus::BadRequest
                );
                ok(ipe_context_set_bool(ctx, tags, true));
                ok(ipe_context_set_str(ctx, addr, "nope".as_ptr().cast(), 4));
                ok(ipe_context_set_str(ctx, at, "yesterday".as_ptr().cast(), 9));
                ok(ipe_context_set_time_ms(ctx, ttl, i64::MAX));
            }),
            r#"{"tags":true,"addr":"nope","at":"yesterday","ttl":9223372036854775807}"#,
        ),
    ];
    for (fill, json) in &cases {
        fill();
        let (d, got) = decide_report(ctx);
        let (want, want_json) = decide_json(engine, json);
        assert_eq!(got, want_json, "{json}");
        assert_eq!(
            (d.effect, d.matched, d.violations, d.errors),
            (want.effect, want.matched, want.violations, want.errors),
            "{json}: {got}"
        );
    }
    // The first error names its policy, kind and slot: with nothing set, `Named` (policy 0)
    // reads the missing `name`.
    let mut d = blank();
    // SAFETY: a live context and a local decision.
    ok(unsafe { ipe_decide_context(ctx, &mut d) });
    assert_eq!(
        (d.first_error, d.error_kind, d.error_slot),
        (0, IpeAttrError::Missing, name)
    );
    // A string for an int: a wrong-type error on `count`'s slot (policy 2).
    // SAFETY: as above.
    unsafe {
        ok(ipe_context_set_str(ctx, name, "bob".as_ptr().cast(), 3));
        ok(ipe_context_set_str(ctx, level, "low".as_ptr().cast(), 3));
        ok(ipe_context_set_str(ctx, count, "3".as_ptr().cast(), 1));
        ok(ipe_decide_context(ctx, &mut d));
    }
    assert_eq!(
        (d.first_error, d.error_kind, d.error_slot),
        (2, IpeAttrError::WrongType, count)
    );
    assert_eq!(d.effect, IpeEffect::Deny);
    // SAFETY: handles from this test, freed once.
    unsafe {
        ipe_context_free(ctx);
        ipe_engine_free(engine);
    }
}

#[test]
fn bad_slots_repeats_and_bad_text_are_typed_failures() {
    let engine = open(&support::bundle(KINDS));
    let ctx = context(engine);
    let name = slot(ctx, "name");
    let mut slots = 0usize;
    // SAFETY: a live context; every pointer is live for its call.
    unsafe {
        ok(ipe_context_info(ctx, null_mut(), &mut slots));
        assert_eq!(
            ipe_context_set_int(ctx, slots as u32, 1),
            IpeStatus::BadSlot
        );
        assert!(last_error().contains("not a slot"), "{}", last_error());
        assert_eq!(ipe_context_set_int(ctx, 70_000, 1), IpeStatus::BadSlot);
        ok(ipe_context_set_str(ctx, name, "a".as_ptr().cast(), 1));
        assert_eq!(
            ipe_context_set_str(ctx, name, "b".as_ptr().cast(), 1),
            IpeStatus::BadRequest
        );
        assert!(last_error().contains("`name`"), "{}", last_error());
        ok(ipe_context_clear(ctx));
        let bad = [0xffu8, 0xfe];
        ok(ipe_context_set_str(ctx, name, bad.as_ptr().cast(), 2));
        let mut d = blank();
        assert_eq!(ipe_decide_context(ctx, &mut d), IpeStatus::InvalidUtf8);
        assert!(last_error().contains("`name`"), "{}", last_error());
        // The failed decision emptied the context: the next one reads `name` as missing.
        ok(ipe_decide_context(ctx, &mut d));
        assert_eq!(d.error_kind, IpeAttrError::Missing);
        assert_eq!(
            ipe_context_set_str(ctx, name, null(), 3),
            IpeStatus::NullArgument
        );
        assert_eq!(ipe_decide_context(ctx, null_mut()), IpeStatus::NullArgument);
        assert_eq!(
            ipe_decide_context(null_mut(), &mut d),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_context_slot(ctx, "name".as_ptr().cast(), 4, null_mut()),
            IpeStatus::NullArgument
        );
        let mut small = [0 as c_char; 4];
        let mut needed = 0;
        ok(ipe_context_set_str(ctx, name, "admin".as_ptr().cast(), 5));
        assert_eq!(
            ipe_decide_context_report(ctx, &mut d, small.as_mut_ptr(), small.len(), &mut needed),
            IpeStatus::BufferTooSmall
        );
        assert!(needed > 20);
        assert_eq!(d.effect, IpeEffect::Deny);
        ipe_context_free(ctx);
        ipe_context_free(null_mut());
        ipe_engine_free(engine);
    }
}

#[test]
fn deciding_a_context_allocates_nothing_in_steady_state() {
    let engine = open(&firewall());
    let ctx = context(engine);
    let fw = Firewall::resolve(ctx);
    let (wan, tcp) = ("wan", "tcp");
    let fill = |port: i64, established: bool| {
        // SAFETY: a live context; the strings are 'static.
        unsafe {
            ok(ipe_context_set_str(
                ctx,
                fw.iface,
                wan.as_ptr().cast(),
                wan.len(),
            ));
            ok(ipe_context_set_str(
                ctx,
                fw.proto,
                tcp.as_ptr().cast(),
                tcp.len(),
            ));
            ok(ipe_context_set_ipv4(ctx, fw.src, 0xCB00_7109));
            ok(ipe_context_set_int(ctx, fw.dst_port, port));
            ok(ipe_context_set_int(ctx, fw.size, 600));
            ok(ipe_context_set_bool(ctx, fw.established, established));
            ok(ipe_context_set_int(ctx, fw.rate, 50));
        }
    };
    let run = |port: i64, established: bool| -> IpeContextDecision {
        fill(port, established);
        let mut d = blank();
        // SAFETY: a live context and a local decision.
        ok(unsafe { ipe_decide_context(ctx, &mut d) });
        d
    };
    // Warm up: the context's arena, the thread's decision buffers and stats shard.
    for port in [22, 443, 23] {
        run(port, false);
        fill(port, false);
        brief(ctx);
    }
    let mut denies = 0;
    let n = allocations(|| {
        for i in 0..300 {
            let d = run([22, 443, 23][i % 3], i % 5 == 0);
            denies += usize::from(d.effect == IpeEffect::Deny);
        }
    });
    assert_eq!(n, 0, "allocations in 300 context decisions");
    assert!(denies > 0 && denies < 300, "{denies}");
    // In brief too, with the full decision's effect.
    let (mut agree, mut denied) = (0, 0);
    let n = allocations(|| {
        for i in 0..300 {
            let (port, established) = ([22, 443, 23][i % 3], i % 5 == 0);
            let d = run(port, established);
            fill(port, established);
            let b = brief(ctx);
            agree += usize::from(b.effect == d.effect);
            denied += usize::from(b.denied_by != IPE_NONE);
        }
    });
    assert_eq!(n, 0, "allocations in 300 briefs");
    assert_eq!(agree, 300, "the brief's effect is the decision's");
    assert!(denied > 0 && denied < 300, "{denied}");
    // SAFETY: handles from this test, freed once.
    unsafe {
        ipe_context_free(ctx);
        ipe_engine_free(engine);
    }
}

fn plain(default: &str, extra_attr: bool) -> Vec<u8> {
    let (attr, policy) = if extra_attr {
        (
            "\n  other: int = 0",
            "\npolicy Q:\n  \"q\"\n  requires other <= 1\n",
        )
    } else {
        ("", "")
    };
    support::bundle(&format!(
        "default {default}\nschema {{\n  env: string{attr}\n}}\n\npolicy P:\n  \"p\"\n  triggers when env == \"prod\"\n  denies\n{policy}"
    ))
}

#[test]
fn contexts_stay_pinned_until_refreshed_and_report_layout_changes() {
    let engine = open(&plain("allow", false));
    let ctx = context(engine);
    let env = slot(ctx, "env");
    let decide = |value: &str| {
        let mut d = blank();
        // SAFETY: a live context; `value` lives for the call.
        unsafe {
            ok(ipe_context_set_str(
                ctx,
                env,
                value.as_ptr().cast(),
                value.len(),
            ));
            ok(ipe_decide_context(ctx, &mut d));
        }
        d
    };
    assert_eq!(
        (decide("dev").effect, decide("dev").version),
        (IpeEffect::Allow, 1)
    );
    let mut changed = true;
    let deny = plain("deny", false);
    // SAFETY: live handles; `deny` lives for the call.
    unsafe {
        ok(ipe_engine_swap_bytes(
            engine,
            deny.as_ptr(),
            deny.len(),
            null_mut(),
        ));
    }
    // Pinned: still version 1.
    assert_eq!(
        (decide("dev").effect, decide("dev").version),
        (IpeEffect::Allow, 1)
    );
    // SAFETY: live handles and a local flag.
    unsafe { ok(ipe_context_refresh(ctx, engine, &mut changed)) };
    assert!(!changed, "the same slots");
    assert_eq!(
        (decide("dev").effect, decide("dev").version),
        (IpeEffect::Deny, 2)
    );
    // Refreshing at the live version changes nothing.
    changed = true;
    // SAFETY: as above.
    unsafe { ok(ipe_context_refresh(ctx, engine, &mut changed)) };
    assert!(!changed);
    // A version with another attribute: the layout changed, slot ids must be resolved again.
    let wider = plain("allow", true);
    // SAFETY: as above.
    unsafe {
        ok(ipe_engine_swap_bytes(
            engine,
            wider.as_ptr(),
            wider.len(),
            null_mut(),
        ));
        ok(ipe_context_refresh(ctx, engine, &mut changed));
    }
    assert!(changed);
    let env = slot(ctx, "env");
    let mut d = blank();
    // SAFETY: as above.
    unsafe {
        ok(ipe_context_set_str(ctx, env, "prod".as_ptr().cast(), 4));
        ok(ipe_decide_context(ctx, &mut d));
    }
    assert_eq!(
        (d.effect, d.version, d.first_violation),
        (IpeEffect::Deny, 3, 0)
    );
    // SAFETY: handles from this test, freed once (the context after the engine: it holds
    // its own reference to its version).
    unsafe {
        ipe_engine_free(engine);
        ipe_context_free(ctx);
    }
}

#[test]
fn policy_stats_count_evaluations_by_index() {
    let engine = open(&support::bundle(KINDS));
    let mut count = 0usize;
    // SAFETY: a live engine and a local out value.
    ok(unsafe { ipe_engine_policy_count(engine, &mut count) });
    assert_eq!(count, 8);
    for _ in 0..5 {
        decide_json(engine, r#"{"name":"admin","count":9}"#);
    }
    let mut stats = blank_stats();
    let mut name = [0 as c_char; 64];
    let mut needed = 0;
    // SAFETY: live handle, local buffers of their stated sizes.
    unsafe {
        ok(ipe_engine_policy_stats(
            engine,
            0,
            &mut stats,
            name.as_mut_ptr(),
            name.len(),
            &mut needed,
        ));
        assert_eq!(CStr::from_ptr(name.as_ptr()).to_str().unwrap(), "Named");
        assert_eq!(needed, 6);
        assert_eq!(
            (stats.evaluations, stats.applied, stats.violated),
            (5, 5, 5)
        );
        assert_eq!((stats.tier, stats.version), (IpeCodeTier::Interpreter, 1));
        assert!(stats.mean_nanos >= 0.0, "the first evaluation is timed");
        ok(ipe_engine_policy_stats(
            engine,
            2,
            &mut stats,
            null_mut(),
            0,
            &mut needed,
        ));
        assert_eq!(needed, "Count".len() + 1);
        assert_eq!((stats.evaluations, stats.violated, stats.errors), (5, 5, 0));
        assert_eq!(
            ipe_engine_policy_stats(engine, 8, &mut stats, null_mut(), 0, null_mut()),
            IpeStatus::BadSlot
        );
        assert_eq!(
            ipe_engine_policy_stats(engine, 0, &mut stats, name.as_mut_ptr(), 3, &mut needed),
            IpeStatus::BufferTooSmall
        );
        ipe_engine_free(engine);
    }
}

const KEY: [u8; 32] = [7; 32];
const OTHER: [u8; 32] = [9; 32];

fn sign(bytes: &[u8], revision: u64, seed: &[u8; 32]) -> Vec<u8> {
    use ipe_nostd::signed;
    let mut out = vec![0; bytes.len() + signed::HEADER_LEN + signed::SIGNATURE_LEN];
    let n = signed::seal(bytes, revision, 0, seed, &mut out).unwrap();
    out.truncate(n);
    out
}

#[test]
fn trusted_engines_refuse_unsigned_unknown_and_older_bundles() {
    let public = ipe_nostd::signed::public_key(&KEY);
    let open_trusted = |bytes: &[u8], min: u64| {
        let mut e = null_mut();
        // SAFETY: live slices and a local out pointer.
        let s = unsafe {
            ipe_engine_open_bytes_trusted(
                bytes.as_ptr(),
                bytes.len(),
                public.as_ptr(),
                1,
                min,
                &mut e,
            )
        };
        (s, e)
    };
    let allow = plain("allow", false);
    let (s, _) = open_trusted(&allow, 0);
    assert_eq!(s, IpeStatus::Untrusted);
    assert!(
        last_error().contains("unsigned") || last_error().contains("signed"),
        "{}",
        last_error()
    );
    let (s, _) = open_trusted(&sign(&allow, 5, &OTHER), 0);
    assert_eq!(s, IpeStatus::Untrusted, "{}", last_error());
    let (s, _) = open_trusted(&sign(&allow, 5, &KEY), 6);
    assert_eq!(s, IpeStatus::Untrusted, "{}", last_error());
    let (s, e) = open_trusted(&sign(&allow, 5, &KEY), 5);
    ok(s);
    let (mut signed, mut revision) = (false, 0);
    // SAFETY: a live engine and local out values.
    unsafe { ok(ipe_engine_signature(e, &mut signed, &mut revision)) };
    assert_eq!((signed, revision), (true, 5));
    let deny = plain("deny", false);
    let swap = |bytes: &[u8]| {
        // SAFETY: a live engine and a live slice.
        unsafe { ipe_engine_swap_bytes(e, bytes.as_ptr(), bytes.len(), null_mut()) }
    };
    assert_eq!(swap(&deny), IpeStatus::Untrusted);
    assert_eq!(swap(&sign(&deny, 4, &KEY)), IpeStatus::Untrusted);
    assert!(last_error().contains('4'), "{}", last_error());
    assert_eq!(
        decide_json(e, r#"{"env":"dev"}"#).0.effect,
        IpeEffect::Allow,
        "refused swaps change nothing"
    );
    ok(swap(&sign(&deny, 6, &KEY)));
    assert_eq!(decide_json(e, r#"{"env":"dev"}"#).0.effect, IpeEffect::Deny);
    // No key at all is refused; an untrusted engine reports no signature.
    let mut e2 = null_mut();
    // SAFETY: live slices and a local out pointer.
    unsafe {
        assert_eq!(
            ipe_engine_open_bytes_trusted(allow.as_ptr(), allow.len(), null(), 0, 0, &mut e2),
            IpeStatus::Untrusted
        );
        let plain_engine = open(&allow);
        ok(ipe_engine_signature(
            plain_engine,
            &mut signed,
            &mut revision,
        ));
        assert_eq!((signed, revision), (false, 0));
        ipe_engine_free(plain_engine);
        ipe_engine_free(e);
    }
    // A trusted file engine reloads under the same checks.
    let path = support::seed_bundle_file("trusted.ipeb");
    std::fs::write(&path, sign(&allow, 3, &KEY)).unwrap();
    let p = path.to_str().unwrap();
    let mut fe = null_mut();
    // SAFETY: live slices and a local out pointer.
    unsafe {
        ok(ipe_engine_open_file_trusted(
            p.as_ptr().cast(),
            p.len(),
            public.as_ptr(),
            1,
            0,
            &mut fe,
        ));
        std::fs::write(&path, &deny).unwrap();
        assert_eq!(ipe_engine_reload(fe, null_mut()), IpeStatus::Untrusted);
        std::fs::write(&path, sign(&deny, 3, &KEY)).unwrap();
        ok(ipe_engine_reload(fe, null_mut()));
        ipe_engine_free(fe);
    }
}

/// The engine handle as an address, to share it with threads (the ABI allows any number of
/// threads to use one engine).
#[derive(Clone, Copy)]
struct Shared(usize);

#[test]
fn threads_decide_on_their_own_contexts_while_the_engine_swaps() {
    let (allow, deny) = (plain("allow", false), plain("deny", false));
    let engine = open(&allow);
    let shared = Shared(engine as usize);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let engine = shared.0 as *const IpeEngine;
                let ctx = context(engine);
                let env = slot(ctx, "env");
                let (mut decided, mut versions) = (0u64, std::collections::BTreeSet::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) || decided < 100 {
                    let mut d = blank();
                    let mut changed = true;
                    // SAFETY: a live engine (freed after the threads joined) and this thread's
                    // own context; "dev" is 'static.
                    unsafe {
                        ok(ipe_context_refresh(ctx, engine, &mut changed));
                        ok(ipe_context_set_str(ctx, env, "dev".as_ptr().cast(), 3));
                        ok(ipe_decide_context(ctx, &mut d));
                    }
                    assert!(!changed, "every version has the same slots");
                    // Odd versions are `allow` bundles, even ones `deny`.
                    let want = if d.version % 2 == 1 {
                        IpeEffect::Allow
                    } else {
                        IpeEffect::Deny
                    };
                    assert_eq!(d.effect, want, "version {}", d.version);
                    versions.insert(d.version);
                    decided += 1;
                }
                // SAFETY: this thread's context, freed once.
                unsafe { ipe_context_free(ctx) };
                versions.len()
            })
        })
        .collect();
    for i in 0..40 {
        let bytes = if i % 2 == 0 { &deny } else { &allow };
        // SAFETY: a live engine and a live slice.
        ok(unsafe { ipe_engine_swap_bytes(engine, bytes.as_ptr(), bytes.len(), null_mut()) });
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        assert!(w.join().expect("no panic") >= 1);
    }
    // SAFETY: every thread has joined; freed once.
    unsafe { ipe_engine_free(engine) };
}

#[test]
fn refreshing_from_another_engine_at_the_same_version_repins() {
    let (a, b) = (open(&plain("allow", false)), open(&plain("deny", false)));
    let ctx = context(a);
    let env = slot(ctx, "env");
    let mut changed = true;
    let mut d = blank();
    // SAFETY: live handles; "dev" is 'static.
    unsafe {
        ok(ipe_context_refresh(ctx, b, &mut changed));
        ok(ipe_context_set_str(ctx, env, "dev".as_ptr().cast(), 3));
        ok(ipe_decide_context(ctx, &mut d));
    }
    assert!(!changed, "the same slots");
    assert_eq!(
        (d.effect, d.version),
        (IpeEffect::Deny, 1),
        "b's version 1 decided"
    );
    // SAFETY: handles from this test, freed once.
    unsafe {
        ipe_context_free(ctx);
        ipe_engine_free(a);
        ipe_engine_free(b);
    }
}
