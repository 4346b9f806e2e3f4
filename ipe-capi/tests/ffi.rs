//! The C entry points called as C would call them: typed requests agree with JSON, hostile
//! input (bad bundles, bad JSON, null pointers, small buffers) returns a status and never
//! crashes, and swaps publish new versions while other threads decide.
#![expect(
    unsafe_code,
    reason = "calls the C ABI's unsafe entry points, as C does"
)]

mod support;

use std::ffi::{c_char, CStr};
use std::ptr::{null, null_mut};

use ipe_capi::*;

/// A schema with a string, an int, a bool and a list of strings; each policy reads one.
const TYPED: &str = r#"
default allow

schema {
  kind: string
  replicas: int
  privileged: bool
  tags: list of string
}

policy TooManyReplicas:
  "at most 5 replicas"
  triggers when kind == "Deployment"
  requires replicas <= 5

policy NoPrivileged:
  "no privileged pods"
  triggers when privileged
  denies

policy Tagged:
  "deployments carry the team tag"
  triggers when kind == "Deployment"
  requires any(t in tags where t == "team")
"#;

fn cstr(s: &str) -> (*const c_char, usize) {
    (s.as_ptr().cast(), s.len())
}

fn open(bytes: &[u8]) -> *mut IpeEngine {
    let mut e = null_mut();
    // SAFETY: `bytes` is a live slice and `e` a local out pointer.
    let s = unsafe { ipe_engine_open_bytes(bytes.as_ptr(), bytes.len(), &mut e) };
    assert_eq!(s, IpeStatus::Ok, "{}", last_error());
    e
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

/// Decides a JSON request with a large buffer: the status, the struct and the JSON.
fn decide(engine: *const IpeEngine, json: &str) -> (IpeStatus, IpeDecision, String) {
    let mut d = IpeDecision {
        effect: IpeEffect::Allow,
        matched: 99,
        violations: 99,
        errors: 99,
        version: 0,
    };
    let mut out = vec![0 as c_char; 4096];
    let (p, n) = cstr(json);
    // SAFETY: every pointer is live for the call; `out` holds its stated capacity.
    let s = unsafe {
        ipe_decide_json(
            engine,
            p,
            n,
            &mut d,
            out.as_mut_ptr(),
            out.len(),
            null_mut(),
        )
    };
    // SAFETY: NUL-terminated on success, empty (first byte NUL) on failure paths that write.
    let text = unsafe { CStr::from_ptr(out.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    (s, d, text)
}

fn decide_typed(
    engine: *const IpeEngine,
    req: *const IpeRequest,
) -> (IpeStatus, IpeDecision, String) {
    let mut d = IpeDecision {
        effect: IpeEffect::Allow,
        matched: 99,
        violations: 99,
        errors: 99,
        version: 0,
    };
    let mut out = vec![0 as c_char; 4096];
    // SAFETY: every pointer is live for the call; `out` holds its stated capacity.
    let s =
        unsafe { ipe_decide_request(engine, req, &mut d, out.as_mut_ptr(), out.len(), null_mut()) };
    // SAFETY: as in `decide`.
    let text = unsafe { CStr::from_ptr(out.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    (s, d, text)
}

#[test]
fn typed_requests_decide_as_the_same_json() {
    let engine = open(&support::bundle(TYPED));
    let mut req = null_mut();
    // SAFETY: `req` is a local out pointer.
    assert_eq!(unsafe { ipe_request_new(&mut req) }, IpeStatus::Ok);
    let tags = ["web", "team"];
    let items: Vec<IpeStr> = tags
        .iter()
        .map(|t| IpeStr {
            ptr: t.as_ptr().cast(),
            len: t.len(),
        })
        .collect();
    // SAFETY: every pointer and length describes a live string or slice.
    unsafe {
        let (p, n) = cstr("kind");
        let (v, m) = cstr("Deployment");
        assert_eq!(ipe_request_set_str(req, p, n, v, m), IpeStatus::Ok);
        let (p, n) = cstr("replicas");
        assert_eq!(ipe_request_set_int(req, p, n, 7), IpeStatus::Ok);
        let (p, n) = cstr("privileged");
        assert_eq!(ipe_request_set_bool(req, p, n, true), IpeStatus::Ok);
        let (p, n) = cstr("tags");
        assert_eq!(
            ipe_request_set_strs(req, p, n, items.as_ptr(), items.len()),
            IpeStatus::Ok
        );
    }
    let json = r#"{"kind":"Deployment","replicas":7,"privileged":true,"tags":["web","team"]}"#;
    let (s1, d1, j1) = decide_typed(engine, req);
    let (s2, d2, j2) = decide(engine, json);
    assert_eq!((s1, s2), (IpeStatus::Ok, IpeStatus::Ok));
    assert_eq!(j1, j2);
    assert_eq!(d1, d2);
    assert_eq!(
        (d1.effect, d1.matched, d1.violations, d1.errors, d1.version),
        (IpeEffect::Deny, 3, 2, 0, 1)
    );
    assert!(
        j1.contains("TooManyReplicas") && j1.contains("NoPrivileged"),
        "{j1}"
    );

    // Cleared and refilled: an empty list and a wrong-typed int (an error naming the path).
    // SAFETY: as above; an empty list may pass a null item pointer.
    unsafe {
        assert_eq!(ipe_request_clear(req), IpeStatus::Ok);
        let (p, n) = cstr("kind");
        let (v, m) = cstr("Deployment");
        assert_eq!(ipe_request_set_str(req, p, n, v, m), IpeStatus::Ok);
        let (p, n) = cstr("replicas");
        let (v, m) = cstr("three");
        assert_eq!(ipe_request_set_str(req, p, n, v, m), IpeStatus::Ok);
        let (p, n) = cstr("privileged");
        assert_eq!(ipe_request_set_bool(req, p, n, false), IpeStatus::Ok);
        let (p, n) = cstr("tags");
        assert_eq!(ipe_request_set_strs(req, p, n, null(), 0), IpeStatus::Ok);
    }
    let json = r#"{"kind":"Deployment","replicas":"three","privileged":false,"tags":[]}"#;
    let (s1, d1, j1) = decide_typed(engine, req);
    let (_, d2, j2) = decide(engine, json);
    assert_eq!(s1, IpeStatus::Ok);
    assert_eq!((j1.as_str(), d1), (j2.as_str(), d2));
    assert_eq!(
        (d1.effect, d1.violations, d1.errors),
        (IpeEffect::Deny, 1, 1)
    );
    assert!(j1.contains("replicas"), "{j1}");

    // The same path twice is a malformed request, as a repeated JSON key.
    // SAFETY: as above.
    unsafe {
        let (p, n) = cstr("kind");
        let (v, m) = cstr("Job");
        assert_eq!(ipe_request_set_str(req, p, n, v, m), IpeStatus::Ok);
    }
    let (s, _, _) = decide_typed(engine, req);
    assert_eq!(s, IpeStatus::BadRequest);
    assert!(
        last_error().contains("`kind` is set twice"),
        "{}",
        last_error()
    );
    // SAFETY: handles from the calls above, freed once.
    unsafe {
        ipe_request_free(req);
        ipe_engine_free(engine);
    }
}

#[test]
fn hostile_input_returns_a_status() {
    let seed = support::bundle_dir("examples/seed");
    let mut e = null_mut();
    // Malformed bundles: empty, garbage, truncated, one flipped byte.
    let mut flipped = seed.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    for bad in [
        &b""[..],
        b"not a bundle at all",
        &seed[..seed.len() / 2],
        &flipped,
    ] {
        let p = if bad.is_empty() {
            [0u8].as_ptr()
        } else {
            bad.as_ptr()
        };
        // SAFETY: `p` points to `bad.len()` readable bytes; `e` is a local out pointer.
        let s = unsafe { ipe_engine_open_bytes(p, bad.len(), &mut e) };
        assert_eq!(s, IpeStatus::BadBundle, "{}", last_error());
        assert!(e.is_null(), "no engine on failure");
        assert!(!last_error().is_empty());
    }
    // A missing file.
    let (p, n) = cstr("/nonexistent/seed.ipeb");
    // SAFETY: live string and out pointer.
    assert_eq!(unsafe { ipe_engine_open_file(p, n, &mut e) }, IpeStatus::Io);
    assert!(
        last_error().contains("/nonexistent/seed.ipeb"),
        "{}",
        last_error()
    );

    // Null pointers everywhere they are required.
    // SAFETY: null pointers are checked before any use; the rest are live.
    unsafe {
        assert_eq!(
            ipe_engine_open_bytes(null(), 4, &mut e),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_engine_open_bytes(seed.as_ptr(), seed.len(), null_mut()),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_engine_open_file(null(), 3, &mut e),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_engine_open_file_mapped(null(), 3, &mut e),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_engine_reload(null(), null_mut()),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_engine_swap_bytes(null(), seed.as_ptr(), seed.len(), null_mut()),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_engine_info(null(), null_mut(), null_mut()),
            IpeStatus::NullArgument
        );
        assert_eq!(ipe_request_new(null_mut()), IpeStatus::NullArgument);
        assert_eq!(ipe_request_clear(null_mut()), IpeStatus::NullArgument);
        assert_eq!(
            ipe_request_set_int(null_mut(), "a".as_ptr().cast(), 1, 1),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_decide_request(null(), null(), null_mut(), null_mut(), 0, null_mut()),
            IpeStatus::NullArgument
        );
        assert!(
            last_error().contains("`engine` is null"),
            "{}",
            last_error()
        );
        ipe_engine_free(null_mut());
        ipe_request_free(null_mut());
    }
    let engine = open(&seed);
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            ipe_decide_json(engine, null(), 2, null_mut(), null_mut(), 0, null_mut()),
            IpeStatus::NullArgument
        );
        assert!(last_error().contains("`json` is null"), "{}", last_error());
        let mut req = null_mut();
        assert_eq!(ipe_request_new(&mut req), IpeStatus::Ok);
        assert_eq!(
            ipe_request_set_str(req, null(), 1, "x".as_ptr().cast(), 1),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_request_set_str(req, "p".as_ptr().cast(), 1, null(), 1),
            IpeStatus::NullArgument
        );
        assert_eq!(
            ipe_request_set_strs(req, "p".as_ptr().cast(), 1, null(), 2),
            IpeStatus::NullArgument
        );
        let bad = [0xffu8, 0xfe];
        assert_eq!(
            ipe_request_set_str(req, bad.as_ptr().cast(), 2, "x".as_ptr().cast(), 1),
            IpeStatus::InvalidUtf8
        );
        assert_eq!(
            ipe_decide_request(engine, null(), null_mut(), null_mut(), 0, null_mut()),
            IpeStatus::NullArgument
        );
        ipe_request_free(req);
        // From bytes: nothing to reload.
        assert_eq!(ipe_engine_reload(engine, null_mut()), IpeStatus::NoSource);
        // A failed swap keeps the live version.
        let mut v = 0u64;
        assert_eq!(
            ipe_engine_swap_bytes(engine, b"junk".as_ptr(), 4, &mut v),
            IpeStatus::BadBundle
        );
        assert_eq!(v, 0);
        assert_eq!(ipe_engine_info(engine, &mut v, null_mut()), IpeStatus::Ok);
        assert_eq!(v, 1);
    }

    // Malformed JSON: every one a BadRequest with a message, never a decision.
    for bad in [
        "",
        "{",
        "[1,2]",
        "42",
        "null",
        r#"{"a":1,"a":2}"#,
        "{\"a\":\"\u{0}\"",
        "{}}",
    ] {
        let (s, _, _) = decide(engine, bad);
        assert_eq!(s, IpeStatus::BadRequest, "{bad:?}");
        assert!(
            last_error().starts_with("malformed request"),
            "{bad:?}: {}",
            last_error()
        );
    }
    let invalid = [b'{', b'"', 0xff, b'"', b':', b'1', b'}'];
    // SAFETY: `invalid` is a live array.
    let s = unsafe {
        ipe_decide_json(
            engine,
            invalid.as_ptr().cast(),
            invalid.len(),
            null_mut(),
            null_mut(),
            0,
            null_mut(),
        )
    };
    assert_eq!(s, IpeStatus::BadRequest);

    // Too-small buffers: the needed size is reported, the struct still filled, and a buffer of
    // exactly that size works.
    let req = &support::seed_requests()[1];
    let (p, n) = cstr(req);
    let (_, full_d, full) = decide(engine, req);
    for cap in [0usize, 1, 10, full.len()] {
        let mut out = vec![b'x' as c_char; cap.max(1)];
        let mut needed = 0usize;
        let mut d = IpeDecision {
            effect: IpeEffect::Allow,
            matched: 0,
            violations: 0,
            errors: 0,
            version: 0,
        };
        // SAFETY: `out` holds at least `cap` bytes.
        let s =
            unsafe { ipe_decide_json(engine, p, n, &mut d, out.as_mut_ptr(), cap, &mut needed) };
        assert_eq!(s, IpeStatus::BufferTooSmall, "cap {cap}");
        assert_eq!(needed, full.len() + 1);
        assert_eq!(d, full_d);
        if cap > 0 {
            assert_eq!(out[0], 0, "an empty string in a too-small buffer");
        }
        assert!(
            last_error().contains(&format!("needs {needed} bytes")),
            "{}",
            last_error()
        );
    }
    let mut out = vec![0 as c_char; full.len() + 1];
    let mut needed = 0;
    // SAFETY: `out` holds `full.len() + 1` bytes.
    let s = unsafe {
        ipe_decide_json(
            engine,
            p,
            n,
            null_mut(),
            out.as_mut_ptr(),
            out.len(),
            &mut needed,
        )
    };
    assert_eq!(s, IpeStatus::Ok);
    // SAFETY: NUL-terminated on success.
    assert_eq!(
        unsafe { CStr::from_ptr(out.as_ptr()) }
            .to_str()
            .expect("UTF-8"),
        full
    );

    // The message itself into a small buffer: BufferTooSmall, and the message survives.
    let _ = decide(engine, "{");
    let mut small = [0 as c_char; 4];
    let mut needed = 0;
    // SAFETY: `small` holds 4 bytes.
    let s = unsafe { ipe_last_error(small.as_mut_ptr(), small.len(), &mut needed) };
    assert_eq!(s, IpeStatus::BufferTooSmall);
    assert_eq!(needed, last_error().len() + 1);
    assert!(last_error().starts_with("malformed request"));
    // SAFETY: a static NUL-terminated name, for any number.
    unsafe {
        assert_eq!(
            CStr::from_ptr(ipe_status_name(4)).to_str(),
            Ok("IPE_STATUS_BAD_BUNDLE")
        );
        assert_eq!(
            CStr::from_ptr(ipe_status_name(-7)).to_str(),
            Ok("IPE_STATUS_UNKNOWN")
        );
        ipe_engine_free(engine);
    }
}

#[test]
fn swaps_publish_versions_while_threads_decide() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    // Reads an attribute the request has, so it is simply not applicable: allow.
    let allow_all = support::bundle(
        "default allow\nschema {\n  environment: string\n}\npolicy P:\n  \"p\"\n  \
         triggers when environment == \"never\"\n  denies\n",
    );
    let seed = support::bundle_dir("examples/seed");
    let engine = open(&seed);
    let request = support::seed_requests()[1].clone(); // denied by the seed
    struct Shared(*mut IpeEngine);
    // SAFETY: the engine handle is documented as shareable by any number of threads.
    unsafe impl Sync for Shared {}
    impl Shared {
        fn get(&self) -> *mut IpeEngine {
            self.0
        }
    }
    let shared = Shared(engine);
    let shared = &shared;
    let done = AtomicBool::new(false);
    let newest_seen = AtomicU64::new(0);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut seen = Vec::new();
                    while !done.load(Ordering::Acquire) {
                        let (st, d, _) = decide(shared.get(), &request);
                        assert_eq!(st, IpeStatus::Ok);
                        // Odd versions are the seed (deny), even ones allow everything.
                        let want = if d.version % 2 == 1 {
                            IpeEffect::Deny
                        } else {
                            IpeEffect::Allow
                        };
                        assert_eq!(d.effect, want, "version {}", d.version);
                        newest_seen.fetch_max(d.version, Ordering::AcqRel);
                        seen.push(d.version);
                    }
                    seen
                })
            })
            .collect();
        for i in 0..20 {
            let bytes = if i % 2 == 0 { &allow_all } else { &seed };
            let mut v = 0;
            // SAFETY: live handle and slice.
            let st =
                unsafe { ipe_engine_swap_bytes(shared.get(), bytes.as_ptr(), bytes.len(), &mut v) };
            assert_eq!(st, IpeStatus::Ok);
            assert_eq!(v, i + 2);
            // Some reader decides on this version before the next swap.
            while newest_seen.load(Ordering::Acquire) < v {
                std::thread::yield_now();
            }
        }
        done.store(true, Ordering::Release);
        for r in readers {
            let seen = r.join().expect("reader");
            assert!(
                seen.windows(2).all(|w| w[0] <= w[1]),
                "versions never go back"
            );
        }
    });
    let mut v = 0;
    // SAFETY: live handle.
    unsafe {
        assert_eq!(ipe_engine_info(engine, &mut v, null_mut()), IpeStatus::Ok);
        ipe_engine_free(engine);
    }
    assert_eq!(v, 21);
}

#[test]
fn reload_reads_the_file_again() {
    let path = support::seed_bundle_file("reload.ipeb");
    let p = path.to_str().expect("UTF-8 path");
    let (pp, n) = cstr(p);
    let mut e = null_mut();
    // SAFETY: live string and out pointer.
    assert_eq!(
        unsafe { ipe_engine_open_file_mapped(pp, n, &mut e) },
        IpeStatus::Ok
    );
    let mut v = 0;
    let mut policies = 0;
    // SAFETY: live handle and out pointers.
    unsafe {
        assert_eq!(ipe_engine_reload(e, &mut v), IpeStatus::Ok);
        assert_eq!(ipe_engine_info(e, &mut v, &mut policies), IpeStatus::Ok);
        ipe_engine_free(e);
    }
    assert_eq!((v, policies), (2, 1));
}
