//! Issue #14 `like` and `matches`: the regex table (trailing section 2) in the bundle format,
//! what the loader refuses, a bundle at an odd address, and pathological regexes.

use ipe_nostd::{Bundle, BundleError};
use ipe_testgen::backend::{Backend, Interp, Reference};
use serde_json::json;

fn bytes(src: &str) -> Vec<u8> {
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    ipe_compile::lower::lower(&program).expect("lowers").bytes
}

const BANK: &str = r#"default allow
schema {
  host: string
}
policy Bank:
  "bank host"
  triggers when host matches "^[a-zA-Z]+\.agilebank\.demo$"
  denies
"#;

fn denied(b: &dyn Backend, host: &str) -> bool {
    let out = b.decide(&json!({ "host": host })).expect("decides");
    out.contains("\"decision\":\"deny\"")
}

/// `bytes` with its body's regex table replaced by `table` (re-encoded, fresh checksum).
fn with_regexes(bytes: &[u8], table: &[u8]) -> Vec<u8> {
    let mut body = Bundle::decode_unverified(bytes).expect("decodes");
    body.regexes = table;
    ipe_compile::lower::encode(&body)
}

#[test]
fn issue14_a_bundle_without_patterns_has_no_trailing_section_and_one_with_a_regex_has_tag_2() {
    let plain = bytes("schema {\n  host: string\n}\npolicy P:\n  \"p\"\n  triggers when host like \"*.x\"\n  denies\n");
    let body = Bundle::decode_unverified(&plain).unwrap();
    assert!(body.regexes.is_empty() && body.reason_parts.is_empty());
    let bank = bytes(BANK);
    let body = Bundle::decode_unverified(&bank).unwrap();
    let entries: Vec<_> = ipe_nostd::regex::entries(body.regexes)
        .map(Result::unwrap)
        .collect();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].text, r"^[a-zA-Z]+\.agilebank\.demo$");
    // The trailing area: an empty reason-parts byte string, tag 2, the table's byte string.
    let table = body.regexes.len();
    let tail = &bank[bank.len() - table - varint_len(table) - 2..];
    assert_eq!(tail[0], 0, "empty reason parts");
    assert_eq!(tail[1], ipe_nostd::regex::REGEX_SECTION);
    // The size of a typical pattern's DFA, for BENCHMARKS.md.
    println!(
        "DFA of {:?}: {} bytes",
        entries[0].text,
        entries[0].dfa.len()
    );
}

fn varint_len(n: usize) -> usize {
    (usize::BITS - (n | 1).leading_zeros()).div_ceil(7) as usize
}

#[test]
fn issue14_a_bundle_at_an_odd_address_loads_and_matches_in_place() {
    let bank = bytes(BANK);
    for shift in 0..8 {
        let mut buf = vec![0u8; shift];
        buf.extend_from_slice(&bank);
        let at = &buf[shift..];
        let interp = Interp::new(at).expect("verifies at any alignment");
        assert!(denied(&interp, "www.agilebank.demo"), "shift {shift}");
        assert!(!denied(&interp, "www.agilebank.demo.x"), "shift {shift}");
    }
}

#[test]
fn issue14_a_tampered_regex_table_is_a_typed_error_never_a_panic() {
    let bank = bytes(BANK);
    let body = Bundle::decode_unverified(&bank).unwrap();
    let table = body.regexes.to_vec();
    let e = ipe_nostd::regex::nth(&table, 0).unwrap();
    let dfa_at = table.len() - e.dfa.len();
    let mut rejected = 0;
    for i in dfa_at..table.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut t = table.clone();
            t[i] ^= flip;
            let tampered = with_regexes(&bank, &t);
            match Bundle::from_bytes(&tampered) {
                Err(BundleError::BadRegex(0)) => rejected += 1,
                Err(other) => panic!("byte {i}: unexpected error {other:?}"),
                // A change the DFA's validation cannot see (e.g. in a transition's target
                // within range) still evaluates without panicking.
                Ok(b) => {
                    let _ = denied(&Interp(b), "www.agilebank.demo");
                }
            }
        }
    }
    assert!(rejected > 0);
    // A truncated DFA, and a table whose entry is cut short.
    let short = with_regexes(&bank, &table[..table.len() - 1]);
    assert!(Bundle::from_bytes(&short).is_err());
    // A regex operand past the table.
    assert_eq!(
        Bundle::from_bytes(&with_regexes(&bank, &[1, b'x', 1, 0])).err(),
        Some(BundleError::BadRegex(0))
    );
}

#[test]
fn issue14_the_trailing_area_refuses_unknown_repeated_and_empty_sections() {
    let bank = bytes(BANK);
    let body = Bundle::decode_unverified(&bank).unwrap();
    let table = body.regexes.to_vec();
    let header = ipe_nostd::format::HEADER_LEN;
    let rebuild = |tail: &[u8]| {
        let mut b = bank.clone();
        let keep = bank.len() - table.len() - varint_len(table.len()) - 1;
        b.truncate(keep);
        b.extend_from_slice(tail);
        let body_len = (b.len() - header) as u32;
        b[8..12].copy_from_slice(&body_len.to_le_bytes());
        let crc = ipe_nostd::format::CRC.checksum(&b[header..]);
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b
    };
    let section = |tag: u8| {
        let mut s = vec![tag];
        s.extend(postcard::to_allocvec(table.as_slice()).unwrap());
        s
    };
    // Sanity: rebuilding with the same section gives the same bundle.
    assert_eq!(rebuild(&section(2)), bank);
    for (what, tail) in [
        ("unknown tag", section(9)),
        ("repeated tag", [section(2), section(2)].concat()),
        ("empty section", vec![2, 0]),
    ] {
        assert_eq!(
            Bundle::from_bytes(&rebuild(&tail)).err(),
            Some(BundleError::MalformedBody),
            "{what}"
        );
    }
    // Nothing after the empty reason parts: not canonical.
    assert_eq!(
        Bundle::from_bytes(&rebuild(&[])).err(),
        Some(BundleError::MalformedBody)
    );
}

#[test]
fn issue14_pathological_regexes_run_in_one_pass_on_the_interpreter() {
    let src = r#"default allow
schema {
  s: string
}
policy Alt:
  "alt"
  triggers when s matches "^(a|aa)*b$"
  denies
policy Star:
  "star"
  triggers when s matches "(a*)*b"
  denies
policy Glob:
  "glob"
  triggers when s like "*a*a*a*a*a*b"
  denies
"#;
    let program = ipe_compile::compile_str(&[("t.ipe", src)]).expect("compiles");
    let bytes = ipe_compile::lower::lower(&program).unwrap().bytes;
    let interp = Interp::new(&bytes).unwrap();
    let many = "a".repeat(100_000);
    let out = interp.decide(&json!({ "s": many })).unwrap();
    assert!(out.contains("\"decision\":\"allow\""), "{out}");
    let with_b = format!("{many}b");
    let out = interp.decide(&json!({ "s": with_b })).unwrap();
    for p in ["Alt", "Star", "Glob"] {
        assert!(out.contains(&format!("\"{p}\"")), "{p}: {out}");
    }
    // The reference agrees on the short form.
    let r = Reference(&program);
    assert!(r
        .decide(&json!({ "s": "aaab" }))
        .unwrap()
        .contains("\"Alt\""));
}
