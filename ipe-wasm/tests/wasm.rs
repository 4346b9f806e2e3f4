//! The WebAssembly package end to end: `ipe-wasm/build.sh` builds the packages (compiler +
//! engine, engine only; Node and web), then
//! - `node --test` runs the seed examples and every corpus request case through both Node
//!   packages against the CLI's own decisions (`ipe_cli::cli::Decider`, what `ipe eval` prints
//!   per request), and every compile-fail case through `check`;
//! - README's JavaScript snippet runs under Node;
//! - the playground is served on a localhost port and driven in headless Chromium
//!   (`tests/browser.py`, Selenium + chromedriver), writing a screenshot of each step.
//!
//! Each needs a tool (the `wasm32-unknown-unknown` target, the wasm-bindgen CLI, node,
//! chromium + chromedriver, Python's selenium): when `CI` is set, a missing tool fails the test
//! with what to install; otherwise the test says what it skipped and returns.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{json, Value};

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("root")
}

/// This test's scratch directory.
fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ipe-wasm");
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// Whether `cmd args` runs and exits 0.
fn runs(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `Ok` when every tool is there; else the missing ones. Fails the test under `CI`.
fn require(test: &str, tools: &[(&str, bool)]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(what, _)| *what)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{test}: missing {} (`.ci/run` installs them; see docs/wasm.md)",
        missing.join(", ")
    );
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("SKIPPED (CI is not set) {message}");
    false
}

/// Whether the rustup target and the wasm-bindgen CLI are installed (the build's tools).
fn build_tools() -> Vec<(&'static str, bool)> {
    let target = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"));
    let home = std::env::var("HOME").unwrap_or_default();
    let bindgen = std::env::var("WASM_BINDGEN").ok().map_or_else(
        || {
            Path::new(&home)
                .join(".cache/wasm-bindgen-cli/bin/wasm-bindgen")
                .is_file()
                || runs("wasm-bindgen", &["--version"])
        },
        |b| Path::new(&b).is_file(),
    );
    vec![
        (
            "the wasm32-unknown-unknown target (rustup target add)",
            target,
        ),
        (
            "the wasm-bindgen CLI (cargo install wasm-bindgen-cli)",
            bindgen,
        ),
    ]
}

/// The packages `build.sh` wrote (`node`, `node-engine`, `web`, `web-engine` under it), built
/// once per test run.
fn packages() -> &'static Path {
    static PKG: OnceLock<PathBuf> = OnceLock::new();
    PKG.get_or_init(|| {
        let out = scratch().join("pkg");
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("target directory")
            .to_owned();
        let run = Command::new("bash")
            .arg(root().join("ipe-wasm/build.sh"))
            .arg(&out)
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO", env!("CARGO"))
            .current_dir(root())
            .output()
            .expect("run ipe-wasm/build.sh");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "ipe-wasm/build.sh failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&run.stderr)
        );
        // The sizes, for docs/wasm.md and BENCHMARKS.md.
        eprint!("{stdout}");
        out
    })
}

/// Named texts as the JSON object `{name: text}` the package takes (`null` when empty).
fn named(files: &[(String, String)]) -> Value {
    if files.is_empty() {
        return Value::Null;
    }
    Value::Object(
        files
            .iter()
            .map(|(n, t)| (n.clone(), Value::String(t.clone())))
            .collect(),
    )
}

/// Files read from the repository, named by their path under it.
fn read(paths: &[PathBuf]) -> Vec<(String, String)> {
    paths
        .iter()
        .map(|p| {
            (
                p.strip_prefix(root()).unwrap_or(p).display().to_string(),
                std::fs::read_to_string(p).expect("read"),
            )
        })
        .collect()
}

/// One bundle's entry of the cases file: its files, the CLI's bundle bytes, its requests and
/// what `ipe eval` prints for each (an `{"error"}` object for a malformed one), and what `ipe
/// explain` prints (text and JSON) for its first `explained` requests (the examples' also at
/// two `--now` times).
fn bundle_case(
    id: &str,
    sources: ipe_wasm::Sources,
    requests: Vec<String>,
    explained: usize,
) -> Value {
    let options = sources.compile_options();
    let program = ipe_compile::compile_str_with(&sources.files, &options)
        .unwrap_or_else(|d| panic!("{id} compiles:\n{d}"));
    let bytes = ipe_compile::lower::lower_with_max_cost(&program, options.max_cost)
        .expect("lowers")
        .bytes;
    let explains = explains(
        id,
        &sources,
        program,
        &requests,
        explained,
        options.max_cost,
    );
    // The package's own Rust side compiles to the same bytes.
    let ours =
        ipe_wasm::compile_bundle(&sources).unwrap_or_else(|_| panic!("{id}: ipe-wasm compiles it"));
    assert_eq!(ours, bytes, "{id}: the same bundle bytes");
    let engine =
        ipe_host::PolicyEngine::with_options(bytes.clone(), ipe_host::EngineOptions::interpreter())
            .expect("bundle loads");
    let decider = ipe_cli::cli::Decider(engine, None);
    let ours = ipe_wasm::Evaluator::new(&bytes).expect("ipe-wasm loads it");
    let expected: Vec<Value> = requests
        .iter()
        .map(|r| {
            let want = match decider.decide(r) {
                Ok(line) => Value::String(line),
                Err(detail) => json!({ "error": format!("malformed request: {detail}") }),
            };
            // The package's Rust side, natively: the same text.
            let got = match ours.decide(r, None) {
                Ok(line) => Value::String(line),
                Err(e) => json!({ "error": e }),
            };
            assert_eq!(got, want, "{id}: {r}");
            want
        })
        .collect();
    json!({
        "id": id,
        "files": named(&sources.files),
        "data": named(&sources.data),
        "instances": named(&sources.instances),
        "bundle": bytes,
        "requests": requests,
        "expected": expected,
        "explains": explains,
    })
}

/// What `ipe explain` prints (computed by ipe-cli's own code, natively) for the first `count`
/// requests that are JSON objects, plus, for the examples, the first at two request times
/// (whole seconds and with milliseconds); each checked against the package's Rust side.
fn explains(
    id: &str,
    sources: &ipe_wasm::Sources,
    program: ipe_compile::hir::Program,
    requests: &[String],
    count: usize,
    max_cost: u32,
) -> Vec<Value> {
    let mut compiled = ipe_cli::authoring::Compiled::new(program, max_cost).expect("lowers");
    let objects = requests
        .iter()
        .filter(|r| serde_json::from_str::<Value>(r).is_ok_and(|v| v.is_object()))
        .take(count);
    let mut runs: Vec<(&String, Option<i64>)> = objects.map(|r| (r, None)).collect();
    if id.starts_with("examples/") {
        if let Some(&(first, _)) = runs.first() {
            runs.push((first, Some(1_767_225_600_000)));
            runs.push((first, Some(1_767_225_600_123)));
        }
    }
    runs.into_iter()
        .map(|(r, now_ms)| {
            let mut value: Value = serde_json::from_str(r).expect("a JSON object");
            if let Some(ms) = now_ms {
                // `ipe explain --now` with integer seconds, else RFC 3339 text.
                let now = if ms % 1000 == 0 {
                    Value::from(ms / 1000)
                } else {
                    let mut t = String::new();
                    ipe_nostd::time::write_rfc3339(&mut t, ms).expect("write");
                    Value::from(t)
                };
                ipe_cli::authoring::set_now(&mut value, &now).expect("now");
            }
            let e = ipe_cli::explain::explain(&mut compiled, &value, max_cost)
                .unwrap_or_else(|err| panic!("{id}: {r}: {err:#}"));
            assert!(
                e.agrees,
                "{id}: {r}: the explanation agrees with the engine"
            );
            let (text, json) = (e.text.clone(), e.json_text());
            for (format, want) in [
                (ipe_wasm::ExplainFormat::Text, &text),
                (ipe_wasm::ExplainFormat::Json, &json),
            ] {
                assert_eq!(
                    ipe_wasm::explain_request(sources, r, now_ms, format).as_ref(),
                    Ok(want),
                    "{id}: {r} at {now_ms:?}: ipe-wasm's explanation ({format:?})"
                );
            }
            json!({ "request": r, "now_ms": now_ms, "text": text, "json": json })
        })
        .collect()
}

/// The cases file the Node suite reads: every example with its `requests.jsonl` (plus a few
/// malformed requests on the seed), every corpus file with request cases, and every
/// compile-fail corpus file.
fn cases_json() -> PathBuf {
    let mut bundles = Vec::new();
    for name in [
        "seed",
        "policies",
        "k8s-admission",
        "firewall",
        "api-gateway",
    ] {
        let dir = root().join("examples").join(name);
        let mut requests: Vec<String> = std::fs::read_to_string(dir.join("requests.jsonl"))
            .expect("requests")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        if name == "seed" {
            requests.extend(["[1]", "{", r#"{"a": 1, "a": 2}"#, "7"].map(str::to_owned));
        }
        let (data, instances) = if name == "api-gateway" {
            (
                read(&[dir.join("roles.data.json")]),
                read(&[dir.join("tenants.instances.json")]),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let sources = ipe_wasm::Sources {
            // The order `ipe` reads a directory in.
            files: read(&ipe_compile::bundle_files(&[dir]).expect("example files")),
            data,
            instances,
        };
        bundles.push(bundle_case(
            &format!("examples/{name}"),
            sources,
            requests,
            usize::MAX,
        ));
    }
    let corpus = ipe_testgen::corpus::load(&ipe_testgen::corpus::default_root()).expect("corpus");
    let mut fails = Vec::new();
    let mut request_cases = 0;
    for f in &corpus {
        let sources = ipe_wasm::Sources {
            files: vec![(format!("{}.ipe", f.id), f.source.clone())],
            data: f
                .data
                .iter()
                .map(|d| (d.name.clone(), d.text.clone()))
                .collect(),
            instances: f
                .instances
                .iter()
                .map(|d| (d.name.clone(), d.text.clone()))
                .collect(),
        };
        match &f.expect {
            ipe_testgen::corpus::FileExpect::Cases(cases) => {
                request_cases += cases.len();
                bundles.push(bundle_case(
                    &format!("tests/corpus/{}", f.id),
                    sources,
                    cases.iter().map(|c| c.request.to_string()).collect(),
                    1,
                ));
            }
            ipe_testgen::corpus::FileExpect::Fail(e) => fails.push(json!({
                "id": format!("tests/corpus/{}", f.id),
                "files": named(&sources.files),
                "data": named(&sources.data),
                "instances": named(&sources.instances),
                "error": e.error,
                "underline": e.underline,
                "help": e.help,
            })),
        }
    }
    // The corpus is all there (its README counts the cases).
    assert!(request_cases > 1500, "{request_cases} corpus request cases");
    assert!(fails.len() > 250, "{} compile-fail cases", fails.len());
    let path = scratch().join("cases.json");
    std::fs::write(
        &path,
        serde_json::to_string(&json!({ "bundles": bundles, "fails": fails })).expect("json"),
    )
    .expect("write cases");
    path
}

#[test]
fn node_suite_agrees_with_the_cli_on_examples_and_corpus() {
    let mut tools = build_tools();
    tools.push(("node (Node.js 18+)", runs("node", &["--version"])));
    if !require("node suite", &tools) {
        return;
    }
    let cases = cases_json();
    let pkg = packages();
    let out = Command::new("node")
        .arg("--test")
        .arg(root().join("ipe-wasm/tests/node/ipe.test.mjs"))
        .env("IPE_WASM_NODE", pkg.join("node/ipe_wasm.js"))
        .env("IPE_WASM_NODE_ENGINE", pkg.join("node-engine/ipe_wasm.js"))
        .env("IPE_WASM_CASES", &cases)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // TAP's closing counts: every test ran and passed (one per bundle and per compile-fail
    // case, plus the fixed ones).
    let count = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .unwrap_or_else(|| panic!("node printed `{key}`:\n{stdout}"))
    };
    eprintln!(
        "node --test: {} tests, {} passed",
        count("# tests "),
        count("# pass ")
    );
    assert!(count("# tests ") > 400, "{stdout}");
    assert_eq!(count("# pass "), count("# tests "));
}

/// README's JavaScript block in "In the browser and Node (WebAssembly)".
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let section = readme
        .split("### In the browser and Node (WebAssembly)")
        .nth(1)
        .expect("README has the section");
    let section = section.split("\n#").next().expect("section text");
    let start = section.find("```js\n").expect("a js block");
    let body = &section[start + 6..];
    body[..body.find("```").expect("closing fence")].to_owned()
}

#[test]
fn readme_js_snippet_runs_under_node_and_prints_the_cli_decision() {
    let mut tools = build_tools();
    tools.push(("node (Node.js 18+)", runs("node", &["--version"])));
    if !require("README snippet", &tools) {
        return;
    }
    let pkg = packages();
    let dir = scratch().join("readme");
    std::fs::create_dir_all(dir.join("node_modules")).expect("dir");
    // `require("ipe-wasm")` as from an installed package.
    let link = dir.join("node_modules/ipe-wasm");
    let _ = std::fs::remove_dir_all(&link);
    copy_dir(&pkg.join("node"), &link);
    std::fs::write(
        link.join("package.json"),
        r#"{"name": "ipe-wasm", "main": "ipe_wasm.js"}"#,
    )
    .expect("package.json");
    let seed = root().join("examples/seed");
    std::fs::create_dir_all(dir.join("examples")).expect("dir");
    copy_dir(&seed, &dir.join("examples/seed"));
    std::fs::write(dir.join("snippet.js"), readme_snippet()).expect("write");
    let out = Command::new("node")
        .arg("snippet.js")
        .current_dir(&dir)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "the snippet failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It prints the decision of the seed's first request, as `ipe eval` does.
    let first = std::fs::read_to_string(seed.join("requests.jsonl"))
        .expect("requests")
        .lines()
        .next()
        .expect("a request")
        .to_owned();
    let program = ipe_compile::compile_paths(&[seed]).expect("seed compiles");
    let bytes = ipe_compile::lower::lower(&program).expect("lowers").bytes;
    let engine =
        ipe_host::PolicyEngine::with_options(bytes, ipe_host::EngineOptions::interpreter())
            .expect("loads");
    let want = ipe_cli::cli::Decider(engine, None)
        .decide(&first)
        .expect("decision");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), want);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

/// A static file server for the playground on 127.0.0.1 (port 0), serving `/playground/*`
/// from the repository (with `/playground/pkg/*` from the built web package) and
/// `/examples/*`; it stops when dropped.
struct Server {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(pkg: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let root = root();
        let thread = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, &root, &pkg),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(_) => break,
                }
            }
        });
        Server {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers one HTTP/1.0-style GET (one request per connection).
fn serve(stream: TcpStream, root: &Path, pkg: &Path) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    // Drain the headers.
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) if h == "\r\n" || h == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let file = if path.contains("..") {
        None
    } else if let Some(rest) = path.strip_prefix("/playground/pkg/") {
        Some(pkg.join(rest))
    } else if path == "/playground/" {
        Some(root.join("playground/index.html"))
    } else if path.starts_with("/playground/") || path.starts_with("/examples/") {
        Some(root.join(path.trim_start_matches('/')))
    } else {
        None
    };
    let mut stream = stream;
    let mut body = Vec::new();
    let found = file.is_some_and(|f| {
        std::fs::File::open(&f)
            .and_then(|mut h| h.read_to_end(&mut body))
            .is_ok()
            && {
                let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
                let kind = match ext {
                    "html" => "text/html; charset=utf-8",
                    "js" | "mjs" => "text/javascript; charset=utf-8",
                    "css" => "text/css; charset=utf-8",
                    "wasm" => "application/wasm",
                    "json" | "jsonl" => "application/json",
                    _ => "text/plain; charset=utf-8",
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                true
            }
    });
    if found {
        let _ = stream.write_all(&body);
    } else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}

#[test]
fn playground_in_headless_chromium() {
    let mut tools = build_tools();
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    tools.push(("chromium (apt)", runs("chromium", &["--version"])));
    tools.push((
        "chromedriver (apt chromium-driver)",
        runs("chromedriver", &["--version"]),
    ));
    tools.push((
        "Python's selenium (pip)",
        runs(&python, &["-c", "import selenium"]),
    ));
    if !require("playground browser test", &tools) {
        return;
    }
    let pkg = packages().join("web");
    let server = Server::start(pkg);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target")
        .join("playground-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots dir");
    let profile = scratch().join("chromium-profile");
    let _ = std::fs::remove_dir_all(&profile);
    let out = Command::new(&python)
        .arg(root().join("ipe-wasm/tests/browser.py"))
        .env(
            "IPE_PLAYGROUND_URL",
            format!("http://127.0.0.1:{}/playground/", server.port),
        )
        .env("IPE_SCREENSHOTS", &shots)
        .env("IPE_CHROMIUM_PROFILE", &profile)
        .output()
        .expect("run the browser test");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}screenshots in {}", shots.display());
    for step in ["1-loaded", "2-typo", "3-fixed", "4-decision"] {
        assert!(
            shots.join(format!("{step}.png")).is_file(),
            "screenshot {step}.png"
        );
    }
}
