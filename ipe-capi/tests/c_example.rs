//! `examples/c/decide.c`, compiled with the system `cc` against the static and the shared
//! library, decides the seed requests exactly as `ipe eval` does.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Compiles the example, linked against the static library (`shared` false) or the shared
/// one, into an executable named `name` (one per test: tests run in parallel).
fn build(shared: bool, name: &str) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = support::lib_dir();
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ipe-capi")
        .join(format!(
            "{name}-{}",
            if shared { "shared" } else { "static" }
        ));
    std::fs::create_dir_all(exe.parent().expect("scratch")).expect("scratch directory");
    let mut cc = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".to_owned()));
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o"])
        .arg(&exe)
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("examples/c/decide.c"));
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
    let out = Command::new(exe).args(args).output().expect("run decide");
    assert!(
        out.status.success(),
        "decide failed ({}):\n{}",
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
    for shared in [false, true] {
        let exe = build(shared, "decide-seed");
        let got = run(&exe, &[bundle.as_os_str(), requests_path.as_os_str()]);
        assert_eq!(got, cli, "shared library: {shared}");
        for (line, want) in got.iter().zip(&expected) {
            let v: serde_json::Value = serde_json::from_str(line).expect("decision JSON");
            assert_eq!(&v, want);
        }
    }
}

#[test]
fn c_typed_request_decides_as_the_same_json() {
    let bundle = support::seed_bundle_file("c-typed.ipeb");
    let exe = build(false, "decide-typed");
    let got = run(&exe, &[bundle.as_os_str(), "--typed".as_ref()]);
    let json = r#"{"resource":{"type":"Deployment","risk_level":"high"},"environment":"production","requester":{"department":"payments"}}"#;
    let cli = support::cli_decisions(&[json.to_owned()]);
    assert_eq!(got, cli);
    // No approvals given: the policy reads a missing attribute and fails closed.
    assert!(cli[0].contains(r#""decision":"deny""#), "{}", cli[0]);
    assert!(cli[0].contains("approvals"), "{}", cli[0]);
}
