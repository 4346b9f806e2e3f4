//! Issue #18, part 2: `ipe push`, `ipe pull` and `ipe serve --bundle oci://...` against a real
//! registry (Debian's `docker-registry`, started on 127.0.0.1 by the test and stopped after;
//! skipped with a message when it is absent and `CI` is not set).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipe-cli-oci-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A `docker-registry` on 127.0.0.1 with storage in a temporary directory, killed on drop.
struct TestRegistry {
    child: Child,
    host: String,
}

impl TestRegistry {
    fn start(name: &str) -> Option<TestRegistry> {
        if !Path::new(REGISTRY_BIN).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{REGISTRY_BIN} is missing and CI is set: install Debian's `docker-registry`"
            );
            eprintln!("SKIPPED: {REGISTRY_BIN} is absent (apt-get install docker-registry)");
            return None;
        }
        let dir = temp_dir(name);
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = dir.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: 127.0.0.1:{port}\n",
                dir.join("storage").display()
            ),
        )
        .expect("config");
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let r = TestRegistry {
            child,
            host: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut s) = TcpStream::connect(&r.host) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut head = String::new();
                let _ = s.read_to_string(&mut head);
                if head.contains(" 200 ") {
                    return Some(r);
                }
            }
            assert!(Instant::now() < deadline, "the registry did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("ipe runs")
}

fn ok(args: &[&str]) -> String {
    let out = ipe(args);
    assert!(
        out.status.success(),
        "ipe {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn compile(example: &str, out: &Path) -> Vec<u8> {
    ok(&[
        "compile",
        &format!("examples/{example}"),
        "-o",
        &out.display().to_string(),
    ]);
    std::fs::read(out).expect("bundle")
}

#[test]
fn push_then_pull_by_tag_and_by_digest_with_a_signature_layer() {
    let Some(r) = TestRegistry::start("pushpull") else {
        return;
    };
    let dir = temp_dir("pushpull-files");
    let bundle = compile("seed", &dir.join("seed.ipeb"));
    let sig = dir.join("seed.sig");
    std::fs::write(&sig, b"detached signature bytes").unwrap();
    let tag = format!("{}/policies/seed:v1", r.host);
    let printed = ok(&[
        "push",
        &dir.join("seed.ipeb").display().to_string(),
        &tag,
        "--signature",
        &sig.display().to_string(),
    ]);
    let pinned = printed.trim();
    assert!(
        pinned.starts_with(&format!("{}/policies/seed@sha256:", r.host)),
        "{printed}"
    );

    let out = dir.join("pulled.ipeb");
    let out_sig = dir.join("pulled.sig");
    ok(&[
        "pull",
        &tag,
        "-o",
        &out.display().to_string(),
        "--signature",
        &out_sig.display().to_string(),
    ]);
    assert_eq!(std::fs::read(&out).unwrap(), bundle);
    assert_eq!(
        std::fs::read(&out_sig).unwrap(),
        b"detached signature bytes"
    );
    let by_digest = dir.join("by-digest.ipeb");
    ok(&["pull", pinned, "-o", &by_digest.display().to_string()]);
    assert_eq!(std::fs::read(&by_digest).unwrap(), bundle);
    // The pulled bundle decides as the original does.
    assert_eq!(
        ok(&[
            "eval",
            &out.display().to_string(),
            "--input",
            "examples/seed/requests.jsonl"
        ]),
        ok(&[
            "eval",
            "examples/seed",
            "--input",
            "examples/seed/requests.jsonl"
        ])
    );

    // A file that is not a bundle is not pushed.
    let junk = dir.join("junk.ipeb");
    std::fs::write(&junk, b"not a bundle").unwrap();
    let junk_tag = format!("{}/policies/junk:v1", r.host);
    let out = ipe(&["push", &junk.display().to_string(), &junk_tag]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid bundle"));
    let out = ipe(&[
        "pull",
        &junk_tag,
        "-o",
        &dir.join("x").display().to_string(),
    ]);
    assert!(!out.status.success(), "nothing was pushed");
    // No signature layer to write: an error.
    let plain = format!("{}/policies/seed:plain", r.host);
    ok(&["push", &dir.join("seed.ipeb").display().to_string(), &plain]);
    let out = ipe(&[
        "pull",
        &plain,
        "-o",
        &dir.join("p.ipeb").display().to_string(),
        "--signature",
        &dir.join("p.sig").display().to_string(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signature layer"));
}

/// One HTTP/1.1 request on its own connection: the body of a 200 answer.
fn http(addr: &str, method: &str, path: &str, body: &str) -> String {
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
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

/// Starts `ipe <words>` (a `serve` command) on 127.0.0.1 port 0, polling every 50 ms: the
/// process and the address it printed.
fn serve_following(mut words: Vec<String>) -> (Child, String) {
    words.extend(["--listen", "127.0.0.1:0", "--watch-ms", "50"].map(String::from));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipe"))
        .args(&words)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ipe serve starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().expect("a line").expect("UTF-8");
    std::thread::spawn(move || lines.for_each(drop));
    let addr = first
        .split("listening on http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    (child, addr)
}

/// README's "Distributing bundles" commands, with the registry the test started in place of
/// `localhost:5000`: compile, push, pull, serve following the tag (which then moves).
#[test]
fn issue18_readme_distributing_bundles_commands_work() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands = [
        "ipe compile examples/seed -o seed.ipeb",
        "ipe push seed.ipeb localhost:5000/policies/seed:live",
        "ipe pull localhost:5000/policies/seed:live -o pulled.ipeb",
        "ipe serve --bundle oci://localhost:5000/policies/seed:live --cache-dir ipe-cache",
    ];
    for command in commands {
        assert!(readme.contains(command), "README lost `{command}`");
    }
    let Some(r) = TestRegistry::start("readme") else {
        return;
    };
    let dir = temp_dir("readme-files");
    let run = |command: &str| {
        let command = command.replace("localhost:5000", &r.host);
        let words: Vec<String> = command
            .split_whitespace()
            .skip(1)
            .map(|w| match w {
                "seed.ipeb" | "pulled.ipeb" | "ipe-cache" => dir.join(w).display().to_string(),
                _ => w.to_owned(),
            })
            .collect();
        words
    };
    let words = run(commands[0]);
    ok(&words.iter().map(String::as_str).collect::<Vec<_>>());
    let words = run(commands[1]);
    ok(&words.iter().map(String::as_str).collect::<Vec<_>>());
    let words = run(commands[2]);
    ok(&words.iter().map(String::as_str).collect::<Vec<_>>());
    let seed = std::fs::read(dir.join("seed.ipeb")).unwrap();
    assert_eq!(std::fs::read(dir.join("pulled.ipeb")).unwrap(), seed);

    let (mut child, addr) = serve_following(run(commands[3]));
    let requests = std::fs::read_to_string(root().join("examples/seed/requests.jsonl")).unwrap();
    let first_request = requests.lines().next().unwrap();
    let evaluated = ok(&[
        "eval",
        "examples/seed",
        "--input",
        "examples/seed/requests.jsonl",
    ]);
    assert_eq!(
        http(&addr, "POST", "/v1/decide", first_request),
        evaluated.lines().next().unwrap()
    );
    let bundle: serde_json::Value =
        serde_json::from_str(&http(&addr, "GET", "/v1/bundle", "")).unwrap();
    assert_eq!(
        bundle["source"],
        format!("oci://{}/policies/seed:live", r.host)
    );
    assert!(bundle["source_state"]["digest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));
    assert_eq!(
        std::fs::read(dir.join("ipe-cache/bundle.ipeb")).unwrap(),
        seed
    );

    // The tag moves to another bundle: the server follows.
    let other = dir.join("firewall.ipeb");
    let other_bytes = compile("firewall", &other);
    ok(&[
        "push",
        &other.display().to_string(),
        &format!("{}/policies/seed:live", r.host),
    ]);
    let want = ipe_serve::digest(&other_bytes);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let b: serde_json::Value =
            serde_json::from_str(&http(&addr, "GET", "/v1/bundle", "")).unwrap();
        if b["digest"] == want.as_str() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tag move was not followed: {b}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
}

/// README's "The fleet path" commands (issue #18): a key, a signed bundle pushed to the registry
/// the test started (in place of `localhost:5000`), served from the tag with `--trusted-key`.
/// Then an unsigned bundle pushed to the tag is refused (the signed revision keeps serving) and
/// a newer signed revision is followed.
#[test]
fn issue18_readme_fleet_path_commands_work() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands = [
        "ipe keygen -o fleet",
        "ipe compile examples/seed -o seed.ipeb --sign fleet --revision 1",
        "ipe push seed.ipeb localhost:5000/policies/seed:fleet",
        "ipe serve --bundle oci://localhost:5000/policies/seed:fleet --trusted-key fleet.pub --cache-dir ipe-cache",
    ];
    for command in commands {
        assert!(readme.contains(command), "README lost `{command}`");
    }
    let Some(r) = TestRegistry::start("fleet") else {
        return;
    };
    let dir = temp_dir("fleet-files");
    let words = |command: &str| -> Vec<String> {
        command
            .replace("localhost:5000", &r.host)
            .split_whitespace()
            .skip(1)
            .map(|w| match w {
                "fleet" | "fleet.pub" | "seed.ipeb" | "ipe-cache" => {
                    dir.join(w).display().to_string()
                }
                _ => w.to_owned(),
            })
            .collect()
    };
    for command in &commands[..3] {
        let w = words(command);
        ok(&w.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let (mut child, addr) = serve_following(words(commands[3]));
    let bundle = || -> serde_json::Value {
        serde_json::from_str(&http(&addr, "GET", "/v1/bundle", "")).unwrap()
    };
    assert_eq!(bundle()["revision"], 1, "{}", bundle());
    let requests = std::fs::read_to_string(root().join("examples/seed/requests.jsonl")).unwrap();
    let evaluated = ok(&[
        "eval",
        "examples/seed",
        "--input",
        "examples/seed/requests.jsonl",
    ]);
    assert_eq!(
        http(
            &addr,
            "POST",
            "/v1/decide",
            requests.lines().next().unwrap()
        ),
        evaluated.lines().next().unwrap()
    );
    let tag = format!("{}/policies/seed:fleet", r.host);
    let errors = || -> u64 {
        http(&addr, "GET", "/metrics", "")
            .lines()
            .find_map(|l| l.strip_prefix("ipe_bundle_source_errors_total "))
            .and_then(|v| v.trim().parse().ok())
            .expect("the source error counter")
    };
    let wait = |what: &dyn Fn() -> bool, why: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !what() {
            assert!(Instant::now() < deadline, "{why}: {}", bundle());
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // An unsigned bundle on the tag: refused, revision 1 keeps serving.
    let before = errors();
    let plain = dir.join("plain.ipeb");
    compile("firewall", &plain);
    ok(&["push", &plain.display().to_string(), &tag]);
    wait(&|| errors() > before, "the unsigned bundle was not refused");
    assert_eq!(bundle()["revision"], 1);
    // A newer signed revision: followed.
    let next = dir.join("next.ipeb");
    let key = dir.join("fleet").display().to_string();
    ok(&[
        "compile",
        "examples/firewall",
        "-o",
        &next.display().to_string(),
        "--sign",
        &key,
        "--revision",
        "2",
    ]);
    ok(&["push", &next.display().to_string(), &tag]);
    wait(&|| bundle()["revision"] == 2, "revision 2 was not followed");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
}
