//! The `ipe` binary end to end: compile, eval on sources and on a bundle, inspect, check, and
//! clear failures (exit code 1, never a panic) for bad sources and corrupted bundles.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("ipe runs")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipe-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_compiled_bundle_decides_like_its_sources() {
    let out = tmp("seed.ipeb");
    let c = ipe(&["compile", "examples/seed", "-o", out.to_str().unwrap()]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(
        text(&c.stderr).contains("RequireApproval"),
        "per-policy report"
    );
    assert!(text(&c.stderr).contains("cost bound"));
    let input = "examples/seed/requests.jsonl";
    let from_bundle = ipe(&["eval", out.to_str().unwrap(), "--input", input]);
    let from_sources = ipe(&["eval", "examples/seed", "--input", input]);
    assert!(from_bundle.status.success() && from_sources.status.success());
    assert_eq!(text(&from_bundle.stdout), text(&from_sources.stdout));
    assert_eq!(
        text(&from_bundle.stdout).lines().count(),
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/seed/requests.jsonl"
        ))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
    );
    let listing = ipe(&["inspect", out.to_str().unwrap()]);
    assert!(listing.status.success());
    let listing = text(&listing.stdout);
    assert!(listing.contains("cmp.slot.const == slot"), "{listing}");
    assert!(listing.contains("policy 0 RequireApproval"));
}

#[test]
fn corrupted_and_truncated_bundles_fail_with_exit_code_1() {
    let good = tmp("good.ipeb");
    assert!(
        ipe(&["compile", "examples/seed", "-o", good.to_str().unwrap()])
            .status
            .success()
    );
    let bytes = std::fs::read(&good).unwrap();
    let truncated = tmp("truncated.ipeb");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut flipped = bytes.clone();
    flipped[40] ^= 0xff;
    let corrupted = tmp("corrupted.ipeb");
    std::fs::write(&corrupted, &flipped).unwrap();
    for (path, needle) in [(&truncated, "truncated"), (&corrupted, "checksum")] {
        for cmd in [
            vec![
                "eval",
                path.to_str().unwrap(),
                "--input",
                "examples/seed/requests.jsonl",
            ],
            vec!["inspect", path.to_str().unwrap()],
        ] {
            let o = ipe(&cmd);
            assert_eq!(o.status.code(), Some(1), "{cmd:?}: {}", text(&o.stderr));
            assert!(
                text(&o.stderr).contains(needle),
                "{cmd:?}: {}",
                text(&o.stderr)
            );
            assert!(o.stdout.is_empty());
        }
    }
}

#[test]
fn check_reports_a_typo_with_position_underline_and_suggestion() {
    let dir = tmp("typo");
    std::fs::create_dir_all(&dir).unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seed");
    std::fs::copy(format!("{root}/schema.ipe"), dir.join("schema.ipe")).unwrap();
    let policy = std::fs::read_to_string(format!("{root}/policy.ipe"))
        .unwrap()
        .replace("resource.risk_level >=", "resource.rsk_level >=");
    std::fs::write(dir.join("policy.ipe"), policy).unwrap();
    let o = ipe(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("unknown attribute `resource.rsk_level`"),
        "{err}"
    );
    assert!(err.contains("policy.ipe:10:9"), "{err}");
    assert!(err.contains("^^^^^^^^^^^^^^^^^^"), "{err}");
    assert!(err.contains("did you mean `resource.risk_level`?"), "{err}");
    assert!(ipe(&["check", "examples/seed"]).status.success());
}

#[test]
fn a_malformed_request_line_gets_an_error_object_and_the_run_goes_on() {
    let input = tmp("mixed.jsonl");
    std::fs::write(
        &input,
        "{\"resource\": {\"type\": \"Job\"}}\nnot json\n[1, 2]\n{\"resource\": {\"type\": \"Job\"}}\n",
    )
    .unwrap();
    let o = ipe(&["eval", "examples/seed", "--input", input.to_str().unwrap()]);
    assert!(o.status.success());
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("{\"decision\":\"allow\""), "{out}");
    assert!(lines[1].contains("malformed request on line 2"), "{out}");
    assert!(lines[2].contains("malformed request on line 3"), "{out}");
    assert!(lines[3].starts_with("{\"decision\":\"allow\""), "{out}");
}

/// Runs `ipe` with `stdin` as its standard input.
fn ipe_stdin(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ipe runs");
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("ipe ends");
    writer.join().expect("writer");
    out
}

/// What `ipe eval examples/seed` printed before it had one evaluation path, with its
/// reference engine: the same input reader, the reference evaluator over the checked program
/// and the value parser's wording of a malformed request.
fn reference_eval(input: &[u8], max_line_bytes: usize) -> String {
    use ipe_cli::cli::{blank, malformed, request_detail};
    use ipe_cli::input::{read_requests, Item};
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let program = ipe_compile::compile_paths(&[root.join("examples/seed")]).expect("seed compiles");
    let mut out = String::new();
    read_requests(
        input,
        max_line_bytes,
        |place, item| {
            let line = match item {
                Item::Request(text) => ipe_host::request::parse_value(text)
                    .map(|v| ipe_compile::evaluate(&program, &v).to_json())
                    .unwrap_or_else(|e| malformed(place, &request_detail(&e))),
                Item::Blank => blank(place),
                Item::Unreadable(why) => malformed(place, &why),
            };
            out.push_str(&line);
            out.push('\n');
            Ok(())
        },
        || Ok(()),
    )
    .expect("reads");
    out
}

/// `ipe eval` on the seed example, checked line for line against the reference evaluator.
fn eval_both(input: &[u8], extra: &[&str]) -> Vec<String> {
    let mut args = vec!["eval", "examples/seed", "--input", "-"];
    args.extend_from_slice(extra);
    let o = ipe_stdin(&args, input);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let max = match extra {
        ["--max-line-bytes", n] => n.parse().expect("a number"),
        _ => ipe_cli::input::DEFAULT_MAX_LINE_BYTES,
    };
    let out = text(&o.stdout);
    assert_eq!(
        out,
        reference_eval(input, max),
        "the reference engine prints the same lines"
    );
    out.lines().map(str::to_owned).collect()
}

const JOB: &str = r#"{"resource": {"type": "Job"}, "environment": "production"}"#;
const ALLOW: &str = r#"{"decision":"allow","matched":[],"violations":[],"errors":[]}"#;

#[test]
fn issue11_eval_reads_a_pretty_printed_object_as_one_request() {
    let pretty =
        "\n{\n  \"resource\": {\"type\": \"Job\"},\n  \"environment\": \"production\"\n}\n";
    assert_eq!(eval_both(pretty.as_bytes(), &[]), [ALLOW]);
}

#[test]
fn issue11_eval_is_one_to_one_with_blank_and_invalid_utf8_lines() {
    let mut input = format!("{JOB}\n\n").into_bytes();
    input.extend_from_slice(b"{\"resource\": {\"type\": \"J\xffob\"}}\n");
    input.extend_from_slice(format!("   \n{JOB}\r\n").as_bytes());
    let lines = eval_both(&input, &[]);
    assert_eq!(
        lines,
        [
            ALLOW,
            r#"{"error":"no request on line 2: blank line"}"#,
            r#"{"error":"malformed request on line 3: invalid UTF-8 at column 25"}"#,
            r#"{"error":"no request on line 4: blank line"}"#,
            ALLOW,
        ]
    );
}

#[test]
fn issue11_eval_reports_a_line_over_the_cap_and_goes_on() {
    let long = format!(
        r#"{{"environment": "production", "x": "{}"}}"#,
        "a".repeat(500)
    );
    let input = format!("{JOB}\n{long}\n{JOB}\n");
    let lines = eval_both(input.as_bytes(), &["--max-line-bytes", "100"]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0], ALLOW);
    assert!(
        lines[1].contains("malformed request on line 2: longer than 100 bytes"),
        "{lines:?}"
    );
    assert_eq!(lines[2], ALLOW);
}

#[test]
fn issue11_eval_streams_a_json_array_element_by_element() {
    let input = format!("[\n  {JOB},\n  [1],\n  {JOB}\n]\n");
    let lines = eval_both(input.as_bytes(), &[]);
    assert_eq!(
        lines,
        [
            ALLOW,
            r#"{"error":"malformed request in array element 2: expected a JSON object"}"#,
            ALLOW,
        ]
    );
}

#[test]
fn issue11_eval_duplicate_keys_and_float_spelled_ints_agree_across_engines() {
    let input = concat!(
        r#"{"environment": "production", "environment": "staging"}"#,
        "\n",
        r#"{"approvals": [{"role": "a", "ro\u006ce": "b"}]}"#,
        "\n",
        r#"{"requester": {"department": 1.0}, "resource": {"type": "Deployment", "risk_level": "high"}, "environment": "production", "approvals": [{"role": "senior-engineer", "department": "x"}]}"#,
        "\n"
    );
    let lines = eval_both(input.as_bytes(), &[]);
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].starts_with(
            r#"{"error":"malformed request on line 1: duplicate key `environment` at line 1 column"#
        ),
        "{lines:?}"
    );
    assert!(lines[1].contains("duplicate key `role`"), "{lines:?}");
    assert!(lines[2].contains("expected string, got int"), "{lines:?}");
}

#[test]
fn issue11_eval_fail_on_error_sets_the_exit_status() {
    let input = format!("{JOB}\n\nnot json\n");
    let plain = ipe_stdin(&["eval", "examples/seed", "--input", "-"], input.as_bytes());
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    assert_eq!(text(&plain.stdout).lines().count(), 3);
    let strict = ipe_stdin(
        &["eval", "examples/seed", "--input", "-", "--fail-on-error"],
        input.as_bytes(),
    );
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(text(&strict.stdout), text(&plain.stdout));
    // Blank lines alone are not errors.
    let blank = ipe_stdin(
        &["eval", "examples/seed", "--input", "-", "--fail-on-error"],
        format!("{JOB}\n\n{JOB}\n").as_bytes(),
    );
    assert_eq!(blank.status.code(), Some(0));
}

#[test]
fn issue11_eval_prints_decisions_before_its_input_ends() {
    use std::io::{BufRead, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(["eval", "examples/seed", "--input", "-"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ipe runs");
    let mut input = child.stdin.take().expect("stdin");
    let mut output = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    writeln!(input, "{JOB}").expect("writes");
    input.flush().expect("flushes");
    // The first decision arrives while standard input is still open.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = output.read_line(&mut line);
        let _ = tx.send(line);
    });
    let first = rx.recv_timeout(std::time::Duration::from_secs(60));
    drop(input);
    let status = child.wait().expect("ends");
    assert_eq!(first.as_deref().map(str::trim_end), Ok(ALLOW));
    assert!(status.success());
}

#[test]
fn issue11_a_closed_pipe_ends_quietly_with_status_0() {
    use std::io::BufRead;
    let input = tmp("many.jsonl");
    std::fs::write(&input, format!("{JOB}\n").repeat(200_000)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(["eval", "examples/seed", "--input", input.to_str().unwrap()])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("RUST_BACKTRACE", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ipe runs");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("one line");
    drop(out);
    let o = child.wait_with_output().expect("ends");
    assert_eq!(line.trim_end(), ALLOW);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stderr), "");
}

#[test]
fn issue11_a_full_disk_is_one_error_line_not_a_panic() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let bundle = tmp("full.ipeb");
    assert!(
        ipe(&["compile", "examples/seed", "-o", bundle.to_str().unwrap()])
            .status
            .success()
    );
    for args in [
        vec!["inspect", bundle.to_str().unwrap()],
        vec![
            "eval",
            "examples/seed",
            "--input",
            "examples/seed/requests.jsonl",
        ],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_ipe"))
            .args(&args)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .env("RUST_BACKTRACE", "1")
            .stdout(std::fs::File::create("/dev/full").expect("/dev/full opens"))
            .output()
            .expect("ipe runs");
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(
            err, "error: writing standard output: No space left on device (os error 28)\n",
            "{args:?}"
        );
    }
}

#[test]
fn issue11_a_closed_stderr_does_not_panic() {
    let bundle = tmp("closed-stderr.ipeb");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec 2>&-; \"{}\" compile examples/seed -o \"{}\"",
            env!("CARGO_BIN_EXE_ipe"),
            bundle.display()
        ))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("sh runs");
    assert_eq!(o.status.code(), Some(0));
    assert!(bundle.exists());
}

#[test]
fn issue11_user_errors_print_no_backtrace() {
    let o = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(["eval", "examples/seed", "--input", "no-such-file.jsonl"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("ipe runs");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "error: reading `no-such-file.jsonl`: No such file or directory (os error 2)\n"
    );
}

/// A directory holding a copy of the seed bundle's sources.
fn seed_copy(name: &str) -> PathBuf {
    let dir = tmp(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seed");
    for f in ["schema.ipe", "policy.ipe"] {
        std::fs::copy(format!("{root}/{f}"), dir.join(f)).unwrap();
    }
    dir
}

#[test]
fn issue11_check_does_not_follow_symlink_loops() {
    let dir = seed_copy("loops");
    std::os::unix::fs::symlink("..", dir.join("up")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("self")).unwrap();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("../..", dir.join("sub/back")).unwrap();
    let o = ipe(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn issue11_check_skips_a_fifo_with_a_warning() {
    let dir = seed_copy("fifo");
    let fifo = dir.join("f.ipe");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let o = ipe(&["check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(&format!(
            "warning: skipping `{}`: not a regular file",
            fifo.display()
        )),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn issue11_check_warns_about_an_upper_case_extension() {
    let dir = seed_copy("case");
    std::fs::write(dir.join("B.IPE"), "policy B:\n  \"b\"\n  denies\n").unwrap();
    let o = ipe(&["check", dir.to_str().unwrap()]);
    assert!(
        text(&o.stderr).contains("B.IPE`: only `.ipe` files are sources"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn issue11_a_bundle_given_as_a_source_is_named_as_one() {
    let bundle = tmp("as-source.bin");
    assert!(
        ipe(&["compile", "examples/seed", "-o", bundle.to_str().unwrap()])
            .status
            .success()
    );
    let o = ipe(&["check", bundle.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("is a compiled bundle, not a source"),
        "{}",
        text(&o.stderr)
    );
    // Recognised by its magic, whatever its name: `eval` takes it as a bundle.
    let e = ipe(&[
        "eval",
        bundle.to_str().unwrap(),
        "--input",
        "examples/seed/requests.jsonl",
    ]);
    assert!(e.status.success(), "{}", text(&e.stderr));
}

#[test]
fn issue11_a_bom_or_latin1_source_is_a_located_diagnostic() {
    let dir = tmp("encodings");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bom = dir.join("bom.ipe");
    std::fs::write(&bom, b"\xEF\xBB\xBFdefault allow\n").unwrap();
    let o = ipe(&["check", bom.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("the file starts with a UTF-8 byte order mark"),
        "{err}"
    );
    assert!(err.contains("bom.ipe:1:1"), "{err}");
    let latin1 = dir.join("latin1.ipe");
    std::fs::write(&latin1, b"default allow\n# caf\xE9\n").unwrap();
    let o = ipe(&["check", latin1.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("line 2 is not valid UTF-8 (byte 0xE9)"),
        "{err}"
    );
    assert!(err.contains("latin1.ipe:2:6"), "{err}");
}

/// Issue #11: `--max-cost` sets the cost budget of `check`, `compile` and `eval` (sources
/// and bundles); over it, each refuses with the located diagnostic or the verifier's error.
#[test]
fn issue11_max_cost_flag_sets_the_budget_of_check_compile_and_eval() {
    let src = tmp("nested.ipe");
    std::fs::write(
        &src,
        "schema {\n  a: list of x { v: int }\n  b: list of y { v: int }\n  c: list of z { v: int }\n}\n\
         policy Three:\n  \"three nested aggregates\"\n  \
         requires any(p in a where any(q in b where any(r in c where r.v == p.v)))\n",
    )
    .unwrap();
    let src = src.to_str().unwrap();
    let c = ipe(&["check", src]);
    assert!(!c.status.success());
    let err = text(&c.stderr);
    assert!(
        err.contains(
            "policy `Three` may take up to 67240449 steps, over the cost budget of 1000000"
        ),
        "{err}"
    );
    assert!(err.contains("nested.ipe:6:8"), "{err}");
    assert!(err.contains("--max-cost"), "{err}");
    assert!(ipe(&["check", src, "--max-cost", "67240449"])
        .status
        .success());
    assert!(!ipe(&["check", src, "--max-cost", "67240448"])
        .status
        .success());
    let out = tmp("nested.ipeb");
    let out = out.to_str().unwrap();
    assert!(!ipe(&["compile", src, "-o", out]).status.success());
    let c = ipe(&["compile", src, "-o", out, "--max-cost", "70000000"]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(text(&c.stderr).contains("cost bound 67240449 steps"));
    let input = tmp("nested.json");
    std::fs::write(
        &input,
        r#"{"a": [{"v": 1}], "b": [{"v": 2}], "c": [{"v": 1}]}"#,
    )
    .unwrap();
    let input = input.to_str().unwrap();
    for target in [src, out] {
        let e = ipe(&["eval", target, "--input", input, "--max-cost", "70000000"]);
        assert!(e.status.success(), "{}", text(&e.stderr));
        assert!(
            text(&e.stdout).contains(r#""decision":"allow""#),
            "{}",
            text(&e.stdout)
        );
        let e = ipe(&["eval", target, "--input", input]);
        assert!(!e.status.success());
    }
    let e = ipe(&["eval", out, "--input", input]);
    assert!(
        text(&e.stderr).contains("may take up to 67240449 steps, over the budget of 1000000"),
        "{}",
        text(&e.stderr)
    );
}

#[test]
fn issue13_instances_option_on_check_compile_and_eval() {
    let src = tmp("templates.ipe");
    std::fs::write(
        &src,
        "default allow\npolicy template Limit(n: int, who: string):\n  \"{who} runs at most {n}\"\n  triggers when team == who\n  requires replicas <= n\n",
    )
    .unwrap();
    let inst = tmp("constraints.json");
    std::fs::write(
        &inst,
        r#"[{"name": "Web", "template": "Limit", "args": {"n": 2, "who": "web"}}]"#,
    )
    .unwrap();
    let req = tmp("requests.jsonl");
    std::fs::write(&req, "{\"team\": \"web\", \"replicas\": 3}\n").unwrap();
    let (s, i, r) = (
        src.to_str().unwrap(),
        inst.to_str().unwrap(),
        req.to_str().unwrap(),
    );
    let check = ipe(&["check", s, "--instances", i]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let out = ipe(&["eval", s, "--instances", i, "--input", r]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        r#"{"decision":"deny","matched":["Web"],"violations":[{"policy":"Web","intent":"web runs at most 2","reason":"requirement not met: replicas <= 2 (found replicas = 3)"}],"errors":[]}"#
    );
    // Without the instance file the template is no policy: the default decides.
    let out = ipe(&["eval", s, "--input", r]);
    assert_eq!(
        text(&out.stdout).trim(),
        r#"{"decision":"allow","matched":[],"violations":[],"errors":[]}"#
    );
    let bundle = tmp("templates.ipeb");
    let b = bundle.to_str().unwrap();
    let c = ipe(&["compile", s, "--instances", i, "-o", b]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(text(&c.stderr).contains("Web"), "{}", text(&c.stderr));
    let out = ipe(&["eval", b, "--input", r]);
    assert!(text(&out.stdout).contains("\"matched\":[\"Web\"]"));
    // A bad instance file: exit code 1 and a diagnostic naming the file and the instance.
    std::fs::write(
        &inst,
        r#"[{"name": "Web", "template": "Limit", "args": {"n": "2", "who": "web"}}]"#,
    )
    .unwrap();
    let check = ipe(&["check", s, "--instances", i]);
    assert_eq!(check.status.code(), Some(1));
    let err = text(&check.stderr);
    assert!(err.contains("constraints.json:1:"), "{err}");
    assert!(err.contains("instance `Web`"), "{err}");
    // Instances belong to sources, not to a compiled bundle.
    let out = ipe(&["eval", b, "--instances", i, "--input", r]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--instances"),
        "{}",
        text(&out.stderr)
    );
}

/// `ipe inspect` names a quoted key as written and shows a map as a map (issue 13).
#[test]
fn issue13_inspect_shows_quoted_paths_and_maps() {
    let src = tmp("maps.ipe");
    std::fs::write(
        &src,
        "schema {\n  labels: map of string max 8\n}\ndefault allow\n\npolicy Web:\n  \"web\"\n  \
         triggers when \"team\" in labels and labels[\"app.kubernetes.io/name\"] == \"web\"\n  denies\n",
    )
    .unwrap();
    let out = tmp("maps.ipeb");
    let c = ipe(&[
        "compile",
        src.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(c.status.success(), "{}", text(&c.stderr));
    let listing = ipe(&["inspect", out.to_str().unwrap()]);
    assert!(listing.status.success());
    let listing = text(&listing.stdout);
    assert!(
        listing.contains("labels: map of string (max 8)"),
        "{listing}"
    );
    assert!(
        listing.contains(r#"labels["app.kubernetes.io/name"]: string"#),
        "{listing}"
    );
}
