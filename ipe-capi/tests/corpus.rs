//! Issue #17: decisions through the C ABI equal the CLI's on the whole corpus. Every corpus
//! file with request cases (`tests/corpus/**/*.cases.json`, compiled with its data and
//! instance files by the corpus runner's loader) is opened with `ipe_engine_open_bytes`, and
//! every request is decided with `ipe_decide_json` (and, when it carries a `now`, with
//! `ipe_decide_json_at` at that time): the rendered text equals what `ipe eval` prints for it
//! (`ipe_cli::cli::Decider`), and the decision struct agrees with that text.
#![expect(
    unsafe_code,
    reason = "calls the C ABI's unsafe entry points, as C does"
)]

use std::ffi::{c_char, CStr};
use std::ptr::null_mut;

use ipe_capi::*;
use serde_json::Value;

/// Opens an engine over `bytes` through the C entry point.
fn open(id: &str, bytes: &[u8]) -> *mut IpeEngine {
    let mut e = null_mut();
    // SAFETY: `bytes` is a live slice and `e` a local out pointer.
    let s = unsafe { ipe_engine_open_bytes(bytes.as_ptr(), bytes.len(), &mut e) };
    assert_eq!(s, IpeStatus::Ok, "{id}: ipe_engine_open_bytes");
    assert!(!e.is_null());
    e
}

/// Decides `request` through `ipe_decide_json` (or `ipe_decide_json_at` with `now_ms`),
/// starting with a small buffer and retrying with the size the call says it needs. `Err` is
/// the status of a request that got no decision.
fn decide(
    engine: *const IpeEngine,
    request: &str,
    now_ms: Option<i64>,
) -> Result<(IpeDecision, String), IpeStatus> {
    let mut cap = 16;
    let mut retried = false;
    loop {
        let mut buf = vec![0 as c_char; cap];
        let mut needed = 0usize;
        let mut d = IpeDecision {
            effect: IpeEffect::Allow,
            matched: u32::MAX,
            violations: u32::MAX,
            errors: u32::MAX,
            version: 0,
        };
        let (json, len) = (request.as_ptr().cast::<c_char>(), request.len());
        // SAFETY: `engine` is live, `json` points to `len` bytes, `d` and `needed` are locals
        // and `buf` holds `cap` bytes.
        let status = unsafe {
            match now_ms {
                None => ipe_decide_json(
                    engine,
                    json,
                    len,
                    &mut d,
                    buf.as_mut_ptr(),
                    cap,
                    &mut needed,
                ),
                Some(now) => ipe_decide_json_at(
                    engine,
                    json,
                    len,
                    now,
                    &mut d,
                    buf.as_mut_ptr(),
                    cap,
                    &mut needed,
                ),
            }
        };
        match status {
            IpeStatus::Ok => {
                // SAFETY: on success the call wrote a NUL-terminated string into `buf`.
                let text = unsafe { CStr::from_ptr(buf.as_ptr()) };
                let text = text.to_str().expect("UTF-8 decision").to_owned();
                assert_eq!(
                    needed,
                    text.len() + 1,
                    "`needed` counts the text and its NUL"
                );
                return Ok((d, text));
            }
            IpeStatus::BufferTooSmall => {
                assert!(!retried, "the size `needed` said ({cap}) was not enough");
                assert!(needed > cap, "`needed` {needed} with a buffer of {cap}");
                cap = needed;
                retried = true;
            }
            other => return Err(other),
        }
    }
}

/// Asserts the C ABI's decision for `request` equals the CLI's (`want`, what `ipe eval`
/// prints or why the request is malformed).
fn agree(
    what: &str,
    engine: *const IpeEngine,
    request: &str,
    now_ms: Option<i64>,
    want: Result<String, String>,
) {
    match (decide(engine, request, now_ms), want) {
        (Ok((d, text)), Ok(want)) => {
            assert_eq!(text, want, "{what}: decision text");
            let v: Value = serde_json::from_str(&want).expect("the CLI prints JSON");
            let effect = match v["decision"].as_str() {
                Some("allow") => IpeEffect::Allow,
                Some("deny") => IpeEffect::Deny,
                other => panic!("{what}: decision {other:?}"),
            };
            let n = |key: &str| v[key].as_array().map(|a| u32::try_from(a.len()).ok());
            assert_eq!(d.effect, effect, "{what}: decision code");
            assert_eq!(Some(Some(d.matched)), n("matched"), "{what}: matched");
            assert_eq!(
                Some(Some(d.violations)),
                n("violations"),
                "{what}: violations"
            );
            assert_eq!(Some(Some(d.errors)), n("errors"), "{what}: errors");
            assert_eq!(d.version, 1, "{what}: version");
        }
        (Err(status), Err(detail)) => {
            assert_eq!(
                status,
                IpeStatus::BadRequest,
                "{what}: malformed ({detail})"
            );
        }
        (got, want) => panic!("{what}: the C ABI gave {got:?}, the CLI {want:?}"),
    }
}

/// The time a request carries in `now` (RFC 3339 text or epoch seconds, as `ipe eval --now`
/// reads it), when it is a timestamp.
fn own_now(request: &Value) -> Option<i64> {
    let text = match request.get("now")? {
        Value::String(s) => s.clone(),
        n @ Value::Number(_) => n.to_string(),
        _ => return None,
    };
    ipe_cli::cli::parse_now(&text).ok()
}

#[test]
fn every_corpus_request_decides_as_the_cli() {
    let files = ipe_testgen::corpus::compiled(&ipe_testgen::corpus::default_root())
        .unwrap_or_else(|e| panic!("{e}"));
    let (mut decided, mut at) = (0usize, 0usize);
    for file in &files {
        let cli = ipe_cli::cli::Decider(
            ipe_host::PolicyEngine::with_options(
                file.bytes.clone(),
                ipe_host::EngineOptions::interpreter(),
            )
            .expect("the CLI loads the bundle"),
            None,
        );
        let engine = open(&file.id, &file.bytes);
        for case in &file.cases {
            let request = case.request.to_string();
            let what = format!("{}: {}", file.id, case.name);
            agree(&what, engine, &request, None, cli.decide(&request));
            decided += 1;
            if let Some(now) = own_now(&case.request) {
                let want = ipe_host::decide::decision_json(&cli.0.load(), &request, Some(now));
                agree(
                    &format!("{what} (at {now})"),
                    engine,
                    &request,
                    Some(now),
                    want,
                );
                at += 1;
            }
        }
        // SAFETY: `engine` came from `ipe_engine_open_bytes` and is freed once.
        unsafe { ipe_engine_free(engine) };
    }
    let total: usize = files.iter().map(|f| f.cases.len()).sum();
    assert_eq!(decided, total, "every case ran");
    // The corpus is all there (its README counts the cases), and its time cases carry `now`.
    assert!(files.len() > 100, "{} corpus files with cases", files.len());
    assert!(decided > 1500, "{decided} corpus request cases");
    assert!(at > 20, "{at} corpus requests carrying `now`");
    eprintln!(
        "{decided} request cases of {} files through ipe_decide_json, {at} with their `now` \
         through ipe_decide_json_at",
        files.len()
    );
}

#[test]
fn decide_json_at_replaces_the_request_now_and_refuses_a_bad_time() {
    let file = ipe_testgen::corpus::compiled_file("time/timestamps");
    let engine = open(&file.id, &file.bytes);
    let cli = ipe_host::PolicyEngine::with_options(
        file.bytes.clone(),
        ipe_host::EngineOptions::interpreter(),
    )
    .expect("the CLI loads the bundle");
    let later = ipe_cli::cli::parse_now("2030-01-01T00:00:00Z").expect("a time");
    let mut differs = 0;
    for case in &file.cases {
        let request = case.request.to_string();
        let want = ipe_host::decide::decision_json(&cli.load(), &request, Some(later));
        let what = format!("{}: {} (at 2030)", file.id, case.name);
        agree(&what, engine, &request, Some(later), want.clone());
        if want != ipe_host::decide::decision_json(&cli.load(), &request, None) {
            differs += 1;
        }
    }
    // The time given wins over the request's own `now` (some decisions change).
    assert!(differs > 0, "no decision changed with the time");
    for bad in [i64::MIN, i64::MAX] {
        assert_eq!(
            decide(engine, "{}", Some(bad)).map(|(_, t)| t),
            Err(IpeStatus::BadRequest),
            "now_ms {bad}"
        );
    }
    // SAFETY: `engine` came from `ipe_engine_open_bytes` and is freed once.
    unsafe { ipe_engine_free(engine) };
}
