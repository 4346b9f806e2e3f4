//! Issue #18: `ipe serve` end to end: the binary started on 127.0.0.1 port 0, asked over
//! HTTP/1.1, and stopped with SIGTERM; its decisions are exactly `ipe eval`'s on every example.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An `ipe serve` process and the address it printed.
struct Serving {
    child: Child,
    addr: String,
    stderr: mpsc::Receiver<String>,
}

fn serve(args: &[String]) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipe serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let first = lines.next().expect("a line").expect("UTF-8");
    let addr = first
        .split("listening on http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    let (tx, stderr) = mpsc::channel();
    std::thread::spawn(move || {
        let rest: Vec<String> = lines.map_while(Result::ok).collect();
        let _ = tx.send(rest.join("\n"));
    });
    Serving {
        child,
        addr,
        stderr,
    }
}

impl Serving {
    /// Sends SIGTERM and returns whether it exited with status 0, and its standard error.
    fn stop(mut self) -> (bool, String) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let status = self.child.wait().expect("exits");
        (status.success(), self.stderr.recv().unwrap_or_default())
    }
}

/// One HTTP/1.1 request on its own connection: status and body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connects");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("sends");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("reads");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

/// The data and instance arguments of an example directory (as `examples/README.md` runs it).
fn example_args(name: &str) -> Vec<String> {
    let dir = format!("examples/{name}");
    let mut files: Vec<String> = std::fs::read_dir(root().join(&dir))
        .expect("example directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut args = vec![dir.clone()];
    for (suffix, flag) in [(".data.json", "--data"), (".instances.json", "--instances")] {
        for f in files.iter().filter(|f| f.ends_with(suffix)) {
            args.push(flag.to_owned());
            args.push(format!("{dir}/{f}"));
        }
    }
    args
}

fn eval(args: &[String], input: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .arg("eval")
        .args(args)
        .args(["--input", input])
        .current_dir(root())
        .output()
        .expect("ipe eval runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Every example's requests, one by one and as one batch, get exactly `ipe eval`'s lines
/// (with and without `--now`); SIGTERM then stops the server cleanly.
#[test]
fn issue18_serve_decides_every_example_as_ipe_eval_prints() {
    let cases: [(&str, &[&str]); 6] = [
        ("seed", &[]),
        ("policies", &[]),
        ("k8s-admission", &[]),
        ("k8s-admission", &["--now", "2026-12-01T10:00:00Z"]),
        ("api-gateway", &[]),
        ("firewall", &[]),
    ];
    for (name, extra) in cases {
        let mut args = example_args(name);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let input = format!("examples/{name}/requests.jsonl");
        let want = eval(&args, &input);
        let requests: Vec<String> = std::fs::read_to_string(root().join(&input))
            .expect("requests")
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(requests.len(), want.len());
        let server = serve(&args);
        let mut batch = Vec::new();
        for (request, line) in requests.iter().zip(&want) {
            assert!(!line.starts_with("{\"error\""), "{name}: {line}");
            let (status, body) = http(&server.addr, "POST", "/v1/decide", request);
            assert_eq!((status, &body), (200, line), "{name}: {request}");
            batch.push(request.as_str());
        }
        let (status, body) = http(
            &server.addr,
            "POST",
            "/v1/decide",
            &format!("[{}]", batch.join(",\n")),
        );
        assert_eq!(status, 200);
        assert_eq!(body, format!("[{}]", want.join(",")), "{name} batch");
        let (ok, stderr) = server.stop();
        assert!(ok, "{name}: {stderr}");
        assert!(stderr.ends_with("ipe serve: stopped"), "{stderr}");
    }
}

/// A compiled bundle is served as is; a bundle with `--data` is refused, and so is a source
/// with errors, before listening.
#[test]
fn issue18_serve_takes_a_bundle_and_refuses_what_it_cannot_serve() {
    let dir = std::env::temp_dir().join(format!("ipe-cli-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("seed.ipeb");
    let out = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(["compile", "examples/seed", "-o"])
        .arg(&bundle)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let server = serve(&[bundle.display().to_string()]);
    let (status, body) = http(&server.addr, "GET", "/v1/bundle", "");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["policies"], 1);
    assert_eq!(v["source"], bundle.display().to_string());
    let (status, body) = http(&server.addr, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(body.contains("\nipe_bundle_version 1\n"), "{body}");
    assert!(server.stop().0);

    let bad = dir.join("bad.ipe");
    std::fs::write(&bad, "policy Broken: requires").unwrap();
    for args in [
        vec![
            bundle.display().to_string(),
            "--data".to_owned(),
            "x.json".to_owned(),
        ],
        vec![bad.display().to_string()],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ipe"))
            .arg("serve")
            .args(&args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(root())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error"), "{stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
}

/// Issue #18: `ipe serve --trusted-key` serves a signed bundle, names its revision, keeps it when
/// the file is replaced by an older revision or an unsigned bundle (each refused and counted),
/// swaps to a newer signed revision, and refuses to start on an unsigned bundle or on sources.
#[test]
fn issue18_serve_with_a_trusted_key_serves_signed_bundles_only() {
    let dir = std::env::temp_dir().join(format!("ipe-cli-serve-trust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ipe = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ipe"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let seed = root().join("examples/seed").display().to_string();
    ipe(&["keygen", "-o", "k"]);
    for (file, rev) in [("r5.ipeb", "5"), ("r4.ipeb", "4"), ("r6.ipeb", "6")] {
        ipe(&[
            "compile",
            &seed,
            "-o",
            file,
            "--sign",
            "k",
            "--revision",
            rev,
        ]);
    }
    ipe(&["compile", &seed, "-o", "plain.ipeb"]);
    let live = dir.join("live.ipeb");
    std::fs::copy(dir.join("r5.ipeb"), &live).unwrap();
    let key = dir.join("k.pub").display().to_string();
    let server = serve(&[
        live.display().to_string(),
        "--trusted-key".to_owned(),
        key.clone(),
        "--watch-ms".to_owned(),
        "20".to_owned(),
    ]);
    let bundle = |addr: &str| -> serde_json::Value {
        let (status, body) = http(addr, "GET", "/v1/bundle", "");
        assert_eq!(status, 200);
        serde_json::from_str(&body).unwrap()
    };
    assert_eq!(bundle(&server.addr)["revision"], 5);
    let errors = |addr: &str| -> u64 {
        let (_, body) = http(addr, "GET", "/metrics", "");
        body.lines()
            .find_map(|l| l.strip_prefix("ipe_bundle_source_errors_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no source error counter in {body}"))
    };
    let wait_for = |what: &dyn Fn() -> bool| {
        for _ in 0..250 {
            if what() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    };
    // An older revision, then an unsigned bundle: each refused, revision 5 keeps serving.
    for (n, bad) in ["r4.ipeb", "plain.ipeb"].into_iter().enumerate() {
        let before = errors(&server.addr);
        let tmp = dir.join("next.ipeb");
        std::fs::copy(dir.join(bad), &tmp).unwrap();
        std::fs::rename(&tmp, &live).unwrap();
        assert!(
            wait_for(&|| errors(&server.addr) > before),
            "{bad} was not refused (case {n})"
        );
        assert_eq!(bundle(&server.addr)["revision"], 5, "{bad}");
    }
    // A newer signed revision is swapped in.
    let tmp = dir.join("next.ipeb");
    std::fs::copy(dir.join("r6.ipeb"), &tmp).unwrap();
    std::fs::rename(&tmp, &live).unwrap();
    assert!(wait_for(&|| bundle(&server.addr)["revision"] == 6));
    let (status, body) = http(
        &server.addr,
        "POST",
        "/v1/decide",
        r#"{"resource": {"type": "Pod"}}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(server.stop().0);

    // Refused before listening: an unsigned bundle, and sources.
    for first in [dir.join("plain.ipeb").display().to_string(), seed.clone()] {
        let out = Command::new(env!("CARGO_BIN_EXE_ipe"))
            .args([
                "serve",
                &first,
                "--trusted-key",
                &key,
                "--listen",
                "127.0.0.1:0",
            ])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{first}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error"), "{stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
}

/// README's "Decision service" commands: serve the seed with a decision log, decide its first
/// request, read the bundle and the metrics, stop; the log holds that decision.
#[test]
fn issue18_readme_decision_service_commands_work() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for command in [
        "ipe serve examples/seed --listen 127.0.0.1:8181 --decision-log decisions.log",
        "head -1 examples/seed/requests.jsonl | curl -s -XPOST 127.0.0.1:8181/v1/decide --data-binary @-",
        "curl -s 127.0.0.1:8181/v1/bundle",
        "curl -s 127.0.0.1:8181/metrics",
    ] {
        assert!(readme.contains(command), "README lost `{command}`");
    }
    let dir = std::env::temp_dir().join(format!("ipe-cli-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("decisions.log");
    let _ = std::fs::remove_file(&log);
    let server = serve(&[
        "examples/seed".to_owned(),
        "--decision-log".to_owned(),
        log.display().to_string(),
    ]);
    let requests = std::fs::read_to_string(root().join("examples/seed/requests.jsonl")).unwrap();
    let first = requests.lines().next().unwrap();
    let (status, body) = http(&server.addr, "POST", "/v1/decide", first);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        eval(
            &["examples/seed".to_owned()],
            "examples/seed/requests.jsonl"
        )[0]
    );
    let (status, bundle) = http(&server.addr, "GET", "/v1/bundle", "");
    assert_eq!(status, 200);
    let bundle: serde_json::Value = serde_json::from_str(&bundle).unwrap();
    let (status, metrics) = http(&server.addr, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("\nipe_decisions_total{decision=\"allow\"} 1\n"),
        "{metrics}"
    );
    let (ok, stderr) = server.stop();
    assert!(ok, "{stderr}");
    let text = std::fs::read_to_string(&log).expect("the decision log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(line["decision"], "allow");
    assert_eq!(line["bundle"]["digest"], bundle["digest"]);
}
