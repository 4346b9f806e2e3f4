//! The fast path from C and C++: `examples/c/filter.c` (a packet filter deciding per flow by
//! slot, and in brief) built with `cc` and run plain, under AddressSanitizer + UBSan, and
//! under valgrind when it is installed; `include/ipe.hpp` through `examples/cpp/wrapper.cpp` built with
//! `g++ -std=c++17 -Wall -Werror`; `examples/c/bench.c` built `-O2` and run with a tiny N (its
//! timings are not checked).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The firewall example compiled to a bundle file in the scratch directory.
fn firewall_file(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ipe-capi");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let path = dir.join(name);
    std::fs::write(&path, support::bundle_dir("examples/firewall")).expect("write bundle");
    path
}

/// Compiles `source` (relative to the crate) with `compiler` and `flags` against the static
/// library into the executable `name`.
fn build(compiler: &str, source: &str, flags: &[&str], name: &str) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("ipe-capi")
        .join(name);
    std::fs::create_dir_all(exe.parent().expect("scratch")).expect("scratch directory");
    let out = Command::new(compiler)
        .args(flags)
        .arg("-o")
        .arg(&exe)
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join(source))
        .arg(support::lib_dir().join("libipe_capi.a"))
        .args(["-lpthread", "-ldl", "-lm"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{compiler}`: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {source} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

const C_FLAGS: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic"];
const SANITIZE: &[&str] = &[
    "-g",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
];

/// Runs `cmd` and returns its standard output lines; fails on a non-zero status.
fn run(mut cmd: Command) -> Vec<String> {
    let out = cmd
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .output()
        .expect("run the program");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// What filter.c must print for its first round (hand-derived from examples/firewall).
const FILTER_FLOWS: &[&str] = &[
    "flow 0: allow -",
    "flow 1: allow -",
    "flow 2: deny DefaultDrop",
    "flow 3: allow -",
    "flow 4: deny DropTelnet",
    "flow 5: allow -",
    "flow 6: deny MaxSize",
    "flow 7: deny RateLimit",
    "flow 8: deny DropBogusFlags",
    "flow 9: deny DropBogons",
    "flow 10: allow -",
    "flow 11: deny DropBogons",
    "flow 12: deny DefaultDrop",
    "flow 13: allow -",
];

fn check_filter(lines: &[String], rounds: usize) {
    assert_eq!(&lines[..FILTER_FLOWS.len()], FILTER_FLOWS, "{lines:#?}");
    let allowed = FILTER_FLOWS.iter().filter(|l| l.contains("allow")).count() * rounds;
    let total = FILTER_FLOWS.len() * rounds;
    assert_eq!(
        lines[FILTER_FLOWS.len()],
        format!(
            "decided {total} flows: {allowed} allowed, {} denied, 0 mismatches",
            total - allowed
        )
    );
    // RateLimit (no trigger) is a candidate for every flow, and once more per flow of the
    // first round's JSON cross-check; flow 7 violates it.
    let line = format!(
        "policy RateLimit: {} evaluations, {} violated",
        total + FILTER_FLOWS.len(),
        rounds + 1
    );
    assert!(lines.contains(&line), "{line}: {lines:#?}");
    // Every flow once more in brief (ipe_brief_context), checked against its full decision.
    assert_eq!(
        lines.last().map(String::as_str),
        Some(format!("briefed {} flows: 0 mismatches", FILTER_FLOWS.len()).as_str()),
        "{lines:#?}"
    );
}

#[test]
fn filter_decides_flows_by_slot_as_json_plain_and_sanitized() {
    let bundle = firewall_file("filter.ipeb");
    for (flags, name) in [
        (C_FLAGS.to_vec(), "filter-plain"),
        ([C_FLAGS, SANITIZE].concat(), "filter-sanitized"),
    ] {
        let exe = build("cc", "examples/c/filter.c", &flags, name);
        let mut cmd = Command::new(&exe);
        cmd.arg(&bundle).arg("3");
        check_filter(&run(cmd), 3);
    }
}

#[test]
fn filter_runs_clean_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        eprintln!("valgrind is not installed: skipped");
        return;
    }
    let bundle = firewall_file("filter-valgrind.ipeb");
    let exe = build(
        "cc",
        "examples/c/filter.c",
        &[C_FLAGS, &["-g"]].concat(),
        "filter-vg",
    );
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--quiet",
        "--error-exitcode=1",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite,indirect",
    ])
    .arg(&exe)
    .arg(&bundle)
    .arg("1");
    check_filter(&run(cmd), 1);
}

#[test]
fn cpp_wrapper_builds_with_werror_and_decides() {
    let bundle = firewall_file("wrapper.ipeb");
    for (flags, name) in [
        (
            vec!["-std=c++17", "-Wall", "-Wextra", "-Werror"],
            "wrapper-plain",
        ),
        (
            [&["-std=c++17", "-Wall", "-Wextra", "-Werror"][..], SANITIZE].concat(),
            "wrapper-sanitized",
        ),
    ] {
        let exe = build("g++", "examples/cpp/wrapper.cpp", &flags, name);
        let mut cmd = Command::new(&exe);
        cmd.arg(&bundle);
        let lines = run(cmd);
        assert_eq!(lines[0], "ssh from fd00:ad::17: allow", "{lines:#?}");
        let report = lines[1]
            .strip_prefix("telnet report: ")
            .expect("report line");
        assert_eq!(lines[2], "first violation: DropTelnet");
        assert_eq!(lines[3], "telnet in brief: deny DropTelnet");
        let json = lines[4].strip_prefix("json: ").expect("json line");
        let request = lines[5].strip_prefix("request: ").expect("request line");
        assert_eq!(report, json, "the context and the JSON decide alike");
        assert_eq!(request, json, "the request and the JSON decide alike");
        assert!(json.starts_with(r#"{"decision":"deny""#), "{json}");
        assert_eq!(lines[6], "policies: 11, version 1");
        assert!(
            lines[7].starts_with("error: IPE_STATUS_BAD_SLOT: slot 100000"),
            "{}",
            lines[7]
        );
        assert_eq!(lines[8], "status: IPE_STATUS_BAD_BUNDLE");
    }
}

#[test]
fn c_bench_builds_optimized_and_runs() {
    let bundle = firewall_file("bench.ipeb");
    let exe = build(
        "cc",
        "examples/c/bench.c",
        &[C_FLAGS, &["-O2"]].concat(),
        "bench",
    );
    let mut cmd = Command::new(&exe);
    cmd.arg(&bundle).arg("200");
    let lines = run(cmd);
    let paths: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(paths, ["json", "json+render", "request", "context"]);
    for l in &lines {
        // Every path decides the same flows: half of them (the telnet packets) denied.
        assert!(l.ends_with("(100 denied of 200)"), "{l}");
    }
}
