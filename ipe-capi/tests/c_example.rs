//! `examples/c/decide.c`, compiled with the system `cc` against the static and the shared
//! library, decides the seed requests exactly as `ipe eval` does; `examples/c/hostile.c` feeds
//! the ABI bad input from C; both also run under AddressSanitizer (with leak detection) and
//! UBSan.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// How a C program is built.
#[derive(Clone, Copy)]
enum Link {
    /// Against `libipe_capi.a`.
    Static,
    /// Against `libipe_capi.so`.
    Shared,
    /// Against `libipe_capi.a`, the C code under AddressSanitizer and UBSan.
    Sanitized,
}

/// Compiles `examples/c/<program>.c` into an executable named `name` (one per test: tests
/// run in parallel).
fn build(program: &str, link: Link, name: &str) -> PathBuf {
    let shared = matches!(link, Link::Shared);
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = support::lib_dir();
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ipe-capi")
        .join(name);
    std::fs::create_dir_all(exe.parent().expect("scratch")).expect("scratch directory");
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".to_owned()));
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o"])
        .arg(&exe)
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join(format!("examples/c/{program}.c")));
    if let Link::Sanitized = link {
        cc.args([
            "-g",
            "-fno-omit-frame-pointer",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
        ]);
    }
    if shared {
        cc.arg("-L")
            .arg(&lib)
            .arg("-lipe_capi")
            .arg(format!("-Wl,-rpath,{}", lib.display()));
    } else {
        // The link flags README names for the static library.
        cc.arg(lib.join("libipe_capi.a"))
            .args(["-lpthread", "-ldl", "-lm"]);
    }
    let out = cc.output().expect("run cc");
    assert!(
        out.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Runs the example and returns its standard output lines.
fn run(exe: &Path, args: &[&std::ffi::OsStr]) -> Vec<String> {
    let out = Command::new(exe)
        .args(args)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .output()
        .expect("run the C program");
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        exe.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn c_example_decides_the_seed_requests_as_the_cli() {
    let bundle = support::seed_bundle_file("c-example.ipeb");
    let requests_path = support::root().join("examples/seed/requests.jsonl");
    let requests = support::seed_requests();
    let cli = support::cli_decisions(&requests);
    // The seed's expectations, as JSON values (their spacing differs from the CLI's).
    let expected: Vec<serde_json::Value> =
        std::fs::read_to_string(support::root().join("examples/seed/expected.jsonl"))
            .expect("expected decisions")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("expected JSON"))
            .collect();
    assert_eq!(expected.len(), requests.len());
    for (link, name) in [
        (Link::Static, "decide-static"),
        (Link::Shared, "decide-shared"),
        (Link::Sanitized, "decide-sanitized"),
    ] {
        let exe = build("decide", link, name);
        let got = run(&exe, &[bundle.as_os_str(), requests_path.as_os_str()]);
        assert_eq!(got, cli, "{name}");
        for (line, want) in got.iter().zip(&expected) {
            let v: serde_json::Value = serde_json::from_str(line).expect("decision JSON");
            assert_eq!(&v, want);
        }
    }
}

#[test]
fn c_typed_request_decides_as_the_same_json() {
    let bundle = support::seed_bundle_file("c-typed.ipeb");
    let exe = build("decide", Link::Sanitized, "decide-typed");
    let got = run(&exe, &[bundle.as_os_str(), "--typed".as_ref()]);
    let json = r#"{"resource":{"type":"Deployment","risk_level":"high"},"environment":"production","requester":{"department":"payments"}}"#;
    let cli = support::cli_decisions(&[json.to_owned()]);
    assert_eq!(got, cli);
    // No approvals given: the policy reads a missing attribute and fails closed.
    assert!(cli[0].contains(r#""decision":"deny""#), "{}", cli[0]);
    assert!(cli[0].contains("approvals"), "{}", cli[0]);
}

#[test]
fn c_hostile_input_never_crashes() {
    let bundle = support::seed_bundle_file("c-hostile.ipeb");
    for (link, name) in [
        (Link::Static, "hostile-static"),
        (Link::Sanitized, "hostile-sanitized"),
    ] {
        let exe = build("hostile", link, name);
        let out = run(&exe, &[bundle.as_os_str()]);
        let last = out.last().map(String::as_str).unwrap_or_default();
        assert!(
            last.starts_with("hostile: ") && last.ends_with(" checks ok, 0 failed"),
            "{name}: {last}"
        );
    }
}
