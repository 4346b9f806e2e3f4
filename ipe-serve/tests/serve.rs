//! `ipe-serve` end to end in-process: each test starts the service on 127.0.0.1 port 0, talks
//! HTTP/1.1 to it with a hyper client and stops it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use ipe_serve::{Config, FileSource, LogConfig, LogTarget, Server, SourcesSource};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

const SCHEMA: &str = r#"
schema {
  resource.type: string
  environment: string
  user.password: string
}
"#;

/// Bundle A denies production deployments; bundle B allows everything but names its own
/// policy, so every decision says which bundle made it.
const POLICY_A: &str = r#"
default allow
policy NoProdA:
  "No deployments to production (A)"
  triggers when resource.type == "Deployment"
  requires environment != "production"
"#;
const POLICY_B: &str = r#"
default allow
policy OnlyStagingB:
  "Deployments only to staging (B)"
  triggers when resource.type == "Deployment"
  requires environment == "staging"
"#;

fn bundle(policy: &str) -> Vec<u8> {
    let (program, diags) =
        ipe_compile::compile_sources(&[("schema.ipe", SCHEMA), ("policy.ipe", policy)]);
    assert!(diags.is_empty(), "{diags:?}");
    ipe_compile::lower::lower(&program.expect("compiles"))
        .expect("lowers")
        .bytes
}

/// A fresh directory under the target's temporary space.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipe-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes `bytes` to `path` atomically (a temporary file renamed over it).
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.await.expect("joins").expect("serves");
    }
}

async fn start(config: Config, source: Box<dyn ipe_serve::BundleSource>) -> Running {
    let config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..config
    };
    let server = Server::bind(config, source, Vec::new())
        .await
        .expect("starts");
    let addr = server.local_addr().expect("address");
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(server.run_until(async {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

async fn start_file(path: &Path, config: Config) -> Running {
    start(config, Box::new(FileSource::new(path))).await
}

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    send
}

async fn call(
    send: &mut SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).expect("request");
    send.ready().await.expect("ready");
    let res = send.send_request(req).await.expect("response");
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
    }
}

async fn get(addr: SocketAddr, path: &str) -> Answer {
    call(&mut connect(addr).await, "GET", path, &[], Bytes::new()).await
}

async fn post(addr: SocketAddr, body: &str) -> Answer {
    call(
        &mut connect(addr).await,
        "POST",
        "/v1/decide",
        &[("content-type", "application/json")],
        body.to_owned(),
    )
    .await
}

/// The decision JSON a host engine over `bytes` gives `request` (what `ipe eval` prints).
fn expected(bytes: &[u8], request: &str) -> String {
    let engine = ipe_host::PolicyEngine::with_options(
        bytes.to_vec(),
        ipe_host::EngineOptions::interpreter(),
    )
    .expect("engine");
    engine
        .load()
        .report_json(request)
        .expect("decides")
        .to_json()
}

const PROD: &str = r#"{"resource":{"type":"Deployment"},"environment":"production"}"#;
const STAGING: &str = r#"{"resource":{"type":"Deployment"},"environment":"staging"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decides_single_and_batch_requests_in_order_with_the_bundle_digest() {
    let dir = temp_dir("decide");
    let a = bundle(POLICY_A);
    let path = dir.join("a.ipeb");
    std::fs::write(&path, &a).unwrap();
    let s = start_file(&path, Config::default()).await;

    let one = post(s.addr, PROD).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body, expected(&a, PROD));
    assert!(one.body.contains("\"decision\":\"deny\""), "{}", one.body);
    assert_eq!(one.headers["ipe-bundle-digest"], ipe_serve::digest(&a));
    assert_eq!(one.headers["ipe-bundle-version"], "1");
    assert!(!one.headers["x-request-id"].is_empty());

    let batch = post(s.addr, &format!("[{PROD}, {STAGING}, 7, {PROD}]")).await;
    assert_eq!(batch.status, 200);
    let want = format!(
        "[{},{},{},{}]",
        expected(&a, PROD),
        expected(&a, STAGING),
        r#"{"error":"malformed request in array element 3: expected a JSON object"}"#,
        expected(&a, PROD)
    );
    assert_eq!(batch.body, want);
    assert_eq!(post(s.addr, "[]").await.body, "[]");

    // A client's request id comes back.
    let mut c = connect(s.addr).await;
    let r = call(
        &mut c,
        "POST",
        "/v1/decide",
        &[("x-request-id", "req-42")],
        PROD,
    )
    .await;
    assert_eq!(r.headers["x-request-id"], "req-42");

    let b = get(s.addr, "/v1/bundle").await;
    let v: serde_json::Value = serde_json::from_str(&b.body).unwrap();
    assert_eq!(v["digest"], ipe_serve::digest(&a));
    assert_eq!(v["policies"], 1);
    assert_eq!(v["version"], 1);
    assert!(v["revision"].is_null());
    assert!(ipe_nostd::time::parse_rfc3339(v["loaded_at"].as_str().unwrap()).is_some());

    let h = get(s.addr, "/healthz").await;
    assert_eq!((h.status, h.body.as_str()), (200, "{\"status\":\"ok\"}"));
    assert_eq!(get(s.addr, "/nope").await.status, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_oversized_and_malformed_bodies_with_an_error_json() {
    let dir = temp_dir("limits");
    let path = dir.join("a.ipeb");
    std::fs::write(&path, bundle(POLICY_A)).unwrap();
    let s = start_file(
        &path,
        Config {
            max_body_bytes: 1024,
            ..Config::default()
        },
    )
    .await;

    let big = format!("[{}]", [PROD; 64].join(","));
    assert!(big.len() > 1024);
    let r = post(s.addr, &big).await;
    assert_eq!(r.status, 413);
    let e: serde_json::Value = serde_json::from_str(&r.body).expect("error JSON");
    assert!(
        e["error"].as_str().unwrap().contains("too large"),
        "{}",
        r.body
    );

    for (body, needle) in [
        ("{\"resource\":", "EOF while parsing"),
        ("[{\"a\":1},", "EOF while parsing"),
        ("", "empty"),
        ("42", "expected a JSON object"),
        ("{\"a\":1,\"a\":2}", "duplicate"),
    ] {
        let r = post(s.addr, body).await;
        assert_eq!(r.status, 400, "{body}");
        let e: serde_json::Value = serde_json::from_str(&r.body).expect("error JSON");
        let msg = e["error"].as_str().expect("error text");
        assert!(msg.starts_with("malformed request: "), "{msg}");
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    // Not UTF-8.
    let mut c = connect(s.addr).await;
    let r = call(&mut c, "POST", "/v1/decide", &[], vec![0xff_u8, 0xfe]).await;
    assert_eq!(r.status, 400);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_as_prometheus_text_and_count_decisions() {
    let dir = temp_dir("metrics");
    let path = dir.join("a.ipeb");
    let a = bundle(POLICY_A);
    std::fs::write(&path, &a).unwrap();
    let s = start_file(&path, Config::default()).await;
    post(s.addr, PROD).await;
    post(s.addr, PROD).await;
    post(s.addr, &format!("[{STAGING}, \"x\"]")).await;
    post(s.addr, "{").await;

    let m = get(s.addr, "/metrics").await;
    assert_eq!(m.status, 200);
    assert!(m.headers["content-type"].starts_with("text/plain; version=0.0.4"));
    let lines = m.body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("parses");
    let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .unwrap_or_else(|| panic!("no sample {name} {label:?}\n{}", m.body));
        match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref h) => {
                h.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            prometheus_parse::Value::Summary(_) => panic!("no summaries"),
        }
    };
    assert_eq!(
        value("ipe_decisions_total", Some(("decision", "deny"))),
        2.0
    );
    assert_eq!(
        value("ipe_decisions_total", Some(("decision", "allow"))),
        1.0
    );
    // "x" in the batch and the broken body.
    assert_eq!(value("ipe_requests_malformed_total", None), 2.0);
    assert_eq!(
        value("ipe_policy_evaluations_total", Some(("policy", "NoProdA"))),
        3.0
    );
    assert_eq!(
        value("ipe_policy_violations_total", Some(("policy", "NoProdA"))),
        2.0
    );
    assert_eq!(
        value("ipe_policies_by_tier", Some(("tier", "interpreter"))),
        1.0
    );
    assert_eq!(value("ipe_bundle_swaps_total", None), 0.0);
    assert_eq!(value("ipe_bundle_policies", None), 1.0);
    assert_eq!(
        value("ipe_bundle_info", Some(("digest", &ipe_serve::digest(&a)))),
        1.0
    );
    // Every request and batch element was timed, malformed ones too.
    assert_eq!(value("ipe_decision_duration_seconds", None), 5.0);
    assert_eq!(
        value("ipe_http_responses_total", Some(("code", "4xx"))),
        1.0
    );
    // The histogram's buckets are cumulative and end at +Inf = _count.
    let hist = scrape
        .samples
        .iter()
        .find(|s| s.metric == "ipe_decision_duration_seconds")
        .unwrap();
    let prometheus_parse::Value::Histogram(ref buckets) = hist.value else {
        panic!("histogram")
    };
    assert!(buckets.windows(2).all(|w| w[0].count <= w[1].count));
    assert!(m.body.contains("ipe_decision_duration_seconds_count 5\n"));
    s.stop().await;
}

/// Clients hammer the service while the bundle file flips between A and B (and once to a
/// corrupt file): every answer is a 200 whose body is exactly what the bundle named by its
/// digest header decides.
/// Issue #15: a JIT-all service swapping in a bundle whose policy code is unchanged (only its
/// intent text differs) takes the live version's native code; `/metrics` says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_native_code_reused_across_a_swap() {
    let dir = temp_dir("reuse");
    let path = dir.join("live.ipeb");
    let a = bundle(POLICY_A);
    let a2 = bundle(&POLICY_A.replace("(A)", "(A, reworded)"));
    assert_ne!(a, a2);
    replace(&path, &a);
    let s = start_file(
        &path,
        Config {
            watch_interval: Some(Duration::from_millis(5)),
            engine: ipe_host::EngineOptions::jit_all(ipe_host::JitTier::Baseline),
            ..Config::default()
        },
    )
    .await;
    let metric = |body: &str, name: &str| -> Option<String> {
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ').map(str::to_owned))
    };
    let m = get(s.addr, "/metrics").await.body;
    assert_eq!(
        metric(&m, "ipe_jit_compiled_total").as_deref(),
        Some("1"),
        "{m}"
    );
    assert_eq!(
        metric(&m, "ipe_jit_reused_total").as_deref(),
        Some("0"),
        "{m}"
    );
    replace(&path, &a2);
    let digest = ipe_serve::digest(&a2);
    while !get(s.addr, "/v1/bundle").await.body.contains(&digest) {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let m = get(s.addr, "/metrics").await.body;
    assert_eq!(
        metric(&m, "ipe_jit_compiled_total").as_deref(),
        Some("0"),
        "{m}"
    );
    assert_eq!(
        metric(&m, "ipe_jit_reused_total").as_deref(),
        Some("1"),
        "{m}"
    );
    assert_eq!(post(s.addr, PROD).await.body, expected(&a2, PROD));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_swaps_under_load_give_no_failed_or_mixed_answers() {
    let dir = temp_dir("swap");
    let path = dir.join("live.ipeb");
    let (a, b) = (bundle(POLICY_A), bundle(POLICY_B));
    replace(&path, &a);
    let s = start_file(
        &path,
        Config {
            watch_interval: Some(Duration::from_millis(5)),
            ..Config::default()
        },
    )
    .await;
    let requests = [PROD, STAGING];
    let mut want: HashMap<String, Vec<String>> = HashMap::new();
    for bytes in [&a, &b] {
        want.insert(
            ipe_serve::digest(bytes),
            requests.iter().map(|r| expected(bytes, r)).collect(),
        );
    }
    // The two bundles decide the production request differently.
    assert_ne!(expected(&a, PROD), expected(&b, PROD));
    let want = Arc::new(want);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (addr, want, stop) = (s.addr, Arc::clone(&want), Arc::clone(&stop));
        clients.push(tokio::spawn(async move {
            let mut conn = connect(addr).await;
            let mut seen = std::collections::HashSet::new();
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || n == 0 {
                let batch = (n + c).is_multiple_of(3);
                let i = (n % 2) as usize;
                let body = if batch {
                    format!("[{},{}]", requests[0], requests[1])
                } else {
                    requests[i].to_owned()
                };
                let r = call(&mut conn, "POST", "/v1/decide", &[], body).await;
                assert_eq!(r.status, 200, "{}", r.body);
                let digest = &r.headers["ipe-bundle-digest"];
                let w = want.get(digest).expect("a known bundle");
                let expected = if batch {
                    format!("[{},{}]", w[0], w[1])
                } else {
                    w[i].clone()
                };
                assert_eq!(r.body, expected, "answer of {digest}");
                seen.insert(digest.clone());
                n += 1;
            }
            (n, seen)
        }));
    }
    // Flip the file, waiting each time until the service serves the new bundle.
    let addr = s.addr;
    let wait_for = |digest: String| async move {
        loop {
            let b = get(addr, "/v1/bundle").await;
            if b.body.contains(&digest) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    };
    for round in 0..6 {
        let next = if round % 2 == 0 { &b } else { &a };
        if round == 3 {
            // A corrupt bundle is refused; the old one keeps serving.
            replace(&path, b"IPEB this is not a bundle");
            let errors = loop {
                let m = get(addr, "/metrics").await.body;
                if !m.contains("ipe_bundle_source_errors_total 0\n") {
                    break m;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            assert!(errors.contains("ipe_bundle_source_errors_total 1\n"));
        }
        replace(&path, next);
        wait_for(ipe_serve::digest(next)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    let mut seen_all = std::collections::HashSet::new();
    for c in clients {
        let (n, seen) = c.await.expect("client passed");
        total += n;
        seen_all.extend(seen);
    }
    assert!(total > 0);
    // Both versions answered during the run.
    assert_eq!(seen_all.len(), 2);
    let m = get(s.addr, "/metrics").await.body;
    assert!(m.contains("ipe_bundle_swaps_total 6\n"), "{m}");
    assert!(m.contains("ipe_bundle_version 7\n"), "{m}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_are_compiled_and_recompiled_when_they_change() {
    let dir = temp_dir("sources");
    std::fs::write(dir.join("schema.ipe"), SCHEMA).unwrap();
    std::fs::write(dir.join("policy.ipe"), POLICY_A).unwrap();
    let s = start(
        Config {
            watch_interval: Some(Duration::from_millis(5)),
            ..Config::default()
        },
        Box::new(SourcesSource::new(
            vec![dir.clone()],
            Vec::new(),
            Vec::new(),
            ipe_nostd::verify::DEFAULT_MAX_COST,
        )),
    )
    .await;
    assert_eq!(
        post(s.addr, PROD).await.body,
        expected(&bundle(POLICY_A), PROD)
    );
    // A source with an error is refused: A keeps serving.
    replace(&dir.join("policy.ipe"), b"policy Broken: requires");
    loop {
        let m = get(s.addr, "/metrics").await.body;
        if m.contains("ipe_bundle_source_errors_total 1\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(
        post(s.addr, PROD).await.body,
        expected(&bundle(POLICY_A), PROD)
    );
    replace(&dir.join("policy.ipe"), POLICY_B.as_bytes());
    let digest_b = ipe_serve::digest(&bundle(POLICY_B));
    loop {
        if get(s.addr, "/v1/bundle").await.body.contains(&digest_b) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(
        post(s.addr, PROD).await.body,
        expected(&bundle(POLICY_B), PROD)
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decision_logs_are_json_lines_masked_and_rotated_by_size() {
    let dir = temp_dir("log");
    let path = dir.join("a.ipeb");
    let a = bundle(POLICY_A);
    std::fs::write(&path, &a).unwrap();
    let log = dir.join("decisions.log");
    let max_bytes = 900;
    let s = start_file(
        &path,
        Config {
            log: LogConfig {
                target: LogTarget::File {
                    path: log.clone(),
                    max_bytes,
                    keep: 2,
                },
                include_request: true,
                mask: vec!["user.password".to_owned()],
                ..LogConfig::default()
            },
            ..Config::default()
        },
    )
    .await;
    let request = r#"{"resource":{"type":"Deployment"},"environment":"production","user":{"password":"hunter2"}}"#;
    let mut c = connect(s.addr).await;
    for i in 0..12 {
        let id = format!("req-{i}");
        let r = call(
            &mut c,
            "POST",
            "/v1/decide",
            &[("x-request-id", &id)],
            request,
        )
        .await;
        assert_eq!(r.status, 200);
    }
    // Stopping drains the queue.
    s.stop().await;
    let rotated = |n: u32| PathBuf::from(format!("{}.{n}", log.display()));
    assert!(!rotated(3).exists(), "only two rotated files are kept");
    let mut lines = Vec::new();
    for p in [rotated(2), rotated(1), log.clone()] {
        let text = std::fs::read_to_string(&p).expect("log file");
        assert!(
            text.len() as u64 <= max_bytes,
            "{} is over the size",
            p.display()
        );
        lines.extend(text.lines().map(str::to_owned));
    }
    // The newest lines are kept, in order; older ones were rotated away.
    assert!(lines.len() >= 3 && lines.len() < 12, "{}", lines.len());
    let first = 12 - lines.len();
    for (k, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert_eq!(v["request_id"], format!("req-{}", first + k));
        assert_eq!(v["bundle"]["digest"], ipe_serve::digest(&a));
        assert_eq!(v["bundle"]["version"], 1);
        assert_eq!(v["decision"], "deny");
        assert_eq!(v["matched"], serde_json::json!(["NoProdA"]));
        assert_eq!(v["violations"][0]["policy"], "NoProdA");
        assert_eq!(v["errors"], serde_json::json!([]));
        assert!(v["latency_ns"].as_u64().is_some());
        assert!(ipe_nostd::time::parse_rfc3339(v["time"].as_str().unwrap()).is_some());
        assert_eq!(v["request"]["user"]["password"], "***");
        assert_eq!(v["request"]["environment"], "production");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampled_out_decisions_are_counted_not_logged() {
    let dir = temp_dir("sample");
    let path = dir.join("a.ipeb");
    std::fs::write(&path, bundle(POLICY_A)).unwrap();
    let log = dir.join("decisions.log");
    let s = start_file(
        &path,
        Config {
            log: LogConfig {
                target: LogTarget::File {
                    path: log.clone(),
                    max_bytes: 1 << 20,
                    keep: 1,
                },
                sample_rate: 0.5,
                ..LogConfig::default()
            },
            ..Config::default()
        },
    )
    .await;
    post(s.addr, &format!("[{}]", [PROD; 10].join(","))).await;
    let m = get(s.addr, "/metrics").await.body;
    assert!(m.contains("ipe_decision_log_sampled_out_total 5\n"), "{m}");
    assert!(m.contains("ipe_decision_log_queued_total 5\n"), "{m}");
    s.stop().await;
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert!(text.lines().all(|l| !l.contains("\"request\"")));
}

/// A request whose body does not arrive within the timeout gets 408 and is counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_time_out_with_408() {
    let dir = temp_dir("timeout");
    let path = dir.join("a.ipeb");
    std::fs::write(&path, bundle(POLICY_A)).unwrap();
    let s = start_file(
        &path,
        Config {
            timeout: Duration::from_millis(500),
            ..Config::default()
        },
    )
    .await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(b"POST /v1/decide HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let n = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("{\"error\":\"request timed out after 500 ms\"}"),
        "{answer}"
    );
    let m = get(s.addr, "/metrics").await.body;
    assert!(m.contains("ipe_http_timeouts_total 1\n"), "{m}");
    s.stop().await;
}

/// A request whose body is still arriving when shutdown starts is answered; then the server
/// stops and refuses new connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_in_flight_requests() {
    let dir = temp_dir("shutdown");
    let path = dir.join("a.ipeb");
    let a = bundle(POLICY_A);
    std::fs::write(&path, &a).unwrap();
    let s = start_file(&path, Config::default()).await;
    let addr = s.addr;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/decide HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
        PROD.len()
    );
    // A first, complete request on the connection: it has been accepted and is served.
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(PROD.as_bytes()).await.unwrap();
    let mut first_answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&first_answer).ends_with(&expected(&a, PROD)) {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the first answer");
        first_answer.extend_from_slice(&buf[..n]);
    }
    // The second request is in flight (its body half sent) when shutdown starts.
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = PROD.split_at(10);
    stream.write_all(first.as_bytes()).await.unwrap();
    // Make sure the server is reading this request before shutdown starts.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(s.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(&expected(&a, PROD)), "{answer}");
    stopping.await.expect("stopped");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
