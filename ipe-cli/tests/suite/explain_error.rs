//! Issue #15: `ipe explain-error` turns a load error's stable code (and its numbers), as a
//! firmware logs them, back into the error's name and text.

use std::path::PathBuf;
use std::process::{Command, Output};

use ipe_cli::explain_error::explain;
use ipe_nostd::errcode::CODES;
use ipe_nostd::{Bundle, BundleError};

fn ipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .output()
        .expect("ipe runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn strings(v: &[u64]) -> Vec<String> {
    v.iter().map(u64::to_string).collect()
}

#[test]
fn a_logged_code_and_numbers_give_the_name_and_the_display_text() {
    let o = ipe(&["explain-error", "E201", "3", "1", "0", "17", "0", "255"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "E201: VerifyError::Code(CodeError::BadOpcode)\n\
         numbers: policy, block (0: the trigger; 1, n: clause n), pc, error (code - 201), byte\n\
         text: bundle failed verification: clause 0 of policy 3, byte 17: unknown opcode 0xff\n"
    );
    // The list as defmt prints it, and a code without its `E`.
    let o = ipe(&[
        "explain-error",
        "201",
        "[3,",
        "1,",
        "0,",
        "17,",
        "0,",
        "255]",
    ]);
    assert!(text(&o.stdout).ends_with("clause 0 of policy 3, byte 17: unknown opcode 0xff\n"));
}

#[test]
fn a_code_alone_names_the_error_and_its_numbers() {
    let o = ipe(&["explain-error", "E6"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.starts_with("E6: BundleError::ChecksumMismatch\nnumbers: expected, found\n"),
        "{out}"
    );
    assert!(out.contains("text (every number 0; give the logged numbers for the real text): bundle checksum mismatch"), "{out}");
    // A variant without numbers has its real text.
    let o = ipe(&["explain-error", "e2"]);
    assert_eq!(
        text(&o.stdout),
        "E2: BundleError::BadMagic\ntext: not an IPE bundle (bad magic)\n"
    );
}

#[test]
fn unknown_codes_and_wrong_numbers_are_refused() {
    for args in [
        &["explain-error", "E9"][..],
        &["explain-error", "E107"],
        &["explain-error", "E300"],
        &["explain-error", "banana"],
        &["explain-error", "E6", "1"],
        &["explain-error", "E6", "1", "2", "3"],
        &["explain-error", "E101", "20"],
        &["explain-error", "E3", "x"],
    ] {
        let o = ipe(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o.stdout));
        assert!(
            text(&o.stderr).starts_with("error: "),
            "{args:?}: {}",
            text(&o.stderr)
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    assert!(text(&ipe(&["explain-error", "E9"]).stderr).contains("not a load error code"));
    assert!(text(&ipe(&["explain-error", "E6", "1"]).stderr).contains("are not the numbers of E6"));
}

#[test]
fn every_code_is_explained_and_negative_numbers_are_twos_complement() {
    for info in CODES {
        let out = explain(&format!("E{}", info.code), &[]).unwrap();
        assert!(
            out.starts_with(&format!("E{}: {}\n", info.code, info.name)),
            "{out}"
        );
        assert!(out.contains("text"), "{out}");
    }
    let out = explain("E106", &["6".into(), "-2".into()]).unwrap();
    assert!(
        out.ends_with(
            "policy 6 is filed under index keys that differ from its trigger's at key -2\n"
        ),
        "{out}"
    );
}

/// A real refusal: the code and numbers of the error the loader gives are explained with the
/// loader's own text.
#[test]
fn a_refused_bundle_round_trips_through_its_code() {
    let dir = std::env::temp_dir().join(format!("ipe-explain-error-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("seed.ipeb");
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seed"));
    let o = ipe(&[
        "compile",
        root.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let good = std::fs::read(&out).unwrap();
    let mut flipped = good.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let cut = &good[..good.len() - 1];
    for (bytes, code) in [(&flipped[..], 6), (cut, 1)] {
        let e: BundleError = Bundle::from_bytes(bytes).expect_err("refused");
        assert_eq!(e.code(), code);
        let numbers = strings(e.args().as_slice());
        let mut args = vec!["explain-error".to_string(), format!("E{code}")];
        args.extend(numbers);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = ipe(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            text(&o.stdout).ends_with(&format!("text: {e}\n")),
            "{}",
            text(&o.stdout)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
