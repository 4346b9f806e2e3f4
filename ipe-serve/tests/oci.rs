//! Issue #18, part 2: bundles through a real OCI registry. Each test starts Debian's
//! `docker-registry` (the `distribution` server) on 127.0.0.1 with filesystem storage in a
//! temporary directory and stops it at the end. Without the binary the tests are skipped with a
//! message, unless `CI` is set (then they fail).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use ipe_serve::oci::{OciError, OciSource, Options, Registry, SourceOptions};
use ipe_serve::{BundleCheck, Config, Fetched, Server};
use tokio::sync::oneshot;

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

const SCHEMA: &str = r#"
schema {
  resource.type: string
  environment: string
}
"#;
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
const PROD: &str = r#"{"resource":{"type":"Deployment"},"environment":"production"}"#;

fn bundle(policy: &str) -> Vec<u8> {
    let (program, diags) =
        ipe_compile::compile_sources(&[("schema.ipe", SCHEMA), ("policy.ipe", policy)]);
    assert!(diags.is_empty(), "{diags:?}");
    ipe_compile::lower::lower(&program.expect("compiles"))
        .expect("lowers")
        .bytes
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipe-oci-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A `docker-registry` process on 127.0.0.1, its storage in a temporary directory.
struct TestRegistry {
    child: Option<Child>,
    config: PathBuf,
    storage: PathBuf,
    port: u16,
}

impl TestRegistry {
    /// Starts a registry, or `None` (with a message) when the binary is absent outside CI.
    fn start(name: &str) -> Option<TestRegistry> {
        if !Path::new(REGISTRY_BIN).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{REGISTRY_BIN} is missing and CI is set: install Debian's `docker-registry`"
            );
            eprintln!(
                "SKIPPED: {REGISTRY_BIN} is absent (apt-get install docker-registry); \
                 the OCI tests need a real registry"
            );
            return None;
        }
        let dir = temp_dir(name);
        let storage = dir.join("storage");
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
                storage.display()
            ),
        )
        .expect("config");
        let mut r = TestRegistry {
            child: None,
            config,
            storage,
            port,
        };
        r.up();
        Some(r)
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until `GET /v2/` answers 200.
    fn up(&mut self) {
        let child = Command::new(REGISTRY_BIN)
            .arg("serve")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut head = String::new();
                let _ = s.read_to_string(&mut head);
                if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "the registry did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the process (the storage stays).
    fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The file holding the blob with this digest.
    fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.storage
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.down();
    }
}

fn client() -> Registry {
    Registry::new(Options::default()).expect("client")
}

fn reference(r: &TestRegistry, rest: &str) -> ipe_serve::oci::Reference {
    ipe_serve::oci::parse_reference(&format!("{}/{rest}", r.host())).expect("reference")
}

// ---- the service, in-process ----

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn source(r: &TestRegistry, tag: &str, cache: &Path) -> Box<OciSource> {
    Box::new(
        OciSource::new(
            &format!("oci://{}/policies/app:{tag}", r.host()),
            SourceOptions {
                registry: Options::default(),
                interval: Duration::from_millis(50),
                max_backoff: Duration::from_millis(400),
                cache_dir: Some(cache.to_owned()),
            },
        )
        .expect("source"),
    )
}

fn config() -> Config {
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        watch_interval: Some(Duration::from_millis(20)),
        ..Config::default()
    }
}

fn start(
    rt: &tokio::runtime::Runtime,
    source: Box<OciSource>,
    checks: Vec<Box<dyn BundleCheck>>,
) -> Result<Running, ipe_serve::StartError> {
    rt.block_on(async {
        let server = Server::bind(config(), source, checks).await?;
        let addr = server.local_addr().expect("address");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        Ok(Running {
            addr,
            stop: Some(tx),
            task,
        })
    })
}

impl Running {
    fn stop(mut self, rt: &tokio::runtime::Runtime) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        rt.block_on(self.task).expect("joins").expect("serves");
    }

    fn call(&self, rt: &tokio::runtime::Runtime, method: &str, path: &str, body: &str) -> String {
        let addr = self.addr;
        rt.block_on(async move {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .expect("connects");
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            let req = hyper::Request::builder()
                .method(method)
                .uri(path)
                .header("host", "localhost")
                .body(Full::new(Bytes::from(body.to_owned())))
                .expect("request");
            let res = send.send_request(req).await.expect("response");
            assert_eq!(res.status(), 200);
            let body = res.into_body().collect().await.expect("body").to_bytes();
            String::from_utf8(body.to_vec()).expect("UTF-8")
        })
    }

    fn bundle(&self, rt: &tokio::runtime::Runtime) -> serde_json::Value {
        serde_json::from_str(&self.call(rt, "GET", "/v1/bundle", "")).expect("JSON")
    }

    fn decide(&self, rt: &tokio::runtime::Runtime) -> String {
        self.call(rt, "POST", "/v1/decide", PROD)
    }

    /// Waits until `/v1/bundle` satisfies `ok` (the watcher works in the background).
    fn wait_for(
        &self,
        rt: &tokio::runtime::Runtime,
        what: &str,
        ok: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let b = self.bundle(rt);
            if ok(&b) {
                return b;
            }
            assert!(Instant::now() < deadline, "never saw {what}: {b}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The decision JSON a host engine over `bytes` gives `PROD`.
fn expected(bytes: &[u8]) -> String {
    let engine = ipe_host::PolicyEngine::with_options(
        bytes.to_vec(),
        ipe_host::EngineOptions::interpreter(),
    )
    .expect("engine");
    engine.load().report_json(PROD).expect("decides").to_json()
}

fn metric(text: &str, name: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(name) && !l.starts_with('#'))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .rsplit(' ')
        .next()
        .expect("value")
        .to_owned()
}

#[test]
fn push_pull_pull_by_digest_and_a_moved_tag() {
    let Some(r) = TestRegistry::start("pushpull") else {
        return;
    };
    let c = client();
    let a = bundle(POLICY_A);
    let b = bundle(POLICY_B);
    let tag = reference(&r, "policies/app:v1");
    let digest_a = c.push(&tag, &a, Some(b"sig-a")).expect("pushes A");
    assert!(digest_a.starts_with("sha256:"), "{digest_a}");

    let pulled = c.pull(&tag).expect("pulls");
    assert_eq!(pulled.bundle, a);
    assert_eq!(pulled.signature.as_deref(), Some(&b"sig-a"[..]));
    assert_eq!(pulled.manifest_digest, digest_a);
    assert_eq!(c.resolve(&tag).expect("resolves"), digest_a);

    // The tag moves to B (no signature layer); A stays pullable by its digest.
    let digest_b = c.push(&tag, &b, None).expect("pushes B");
    assert_ne!(digest_a, digest_b);
    let now = c.pull(&tag).expect("pulls");
    assert_eq!((now.bundle, now.signature), (b.clone(), None));
    let pinned = reference(&r, &format!("policies/app@{digest_a}"));
    let old = c.pull(&pinned).expect("pulls by digest");
    assert_eq!(old.bundle, a);
    assert_eq!(old.manifest_digest, digest_a);

    // A digest nothing has is an error, not an empty bundle.
    let missing = reference(&r, &format!("policies/app@sha256:{}", "0".repeat(64)));
    assert!(matches!(c.pull(&missing), Err(OciError::Registry { .. })));
}

#[test]
fn a_corrupted_blob_is_refused_by_pull_and_by_the_service() {
    let Some(r) = TestRegistry::start("corrupt") else {
        return;
    };
    let c = client();
    let a = bundle(POLICY_A);
    let b = bundle(POLICY_B);
    let tag = reference(&r, "policies/app:live");
    c.push(&tag, &a, None).expect("pushes A");
    let rt = runtime();
    let cache = temp_dir("corrupt-cache");
    let s = start(&rt, source(&r, "live", &cache), Vec::new()).expect("starts");
    assert_eq!(s.decide(&rt), expected(&a));

    // B is pushed, then its blob is overwritten in the registry's storage (same length, one
    // byte changed): the registry serves it under B's digest.
    let digest_b = c.push(&tag, &b, None).expect("pushes B");
    let blob = r.blob_path(&ipe_serve::digest(&b));
    let mut bytes = std::fs::read(&blob).expect("blob");
    assert_eq!(bytes, b);
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&blob, &bytes).expect("corrupts");

    let err = c.pull(&tag).expect_err("a corrupted blob is refused");
    assert!(
        err.to_string().to_lowercase().contains("digest"),
        "the error names the digest: {err}"
    );
    // The service keeps A and reports why.
    let state = s.wait_for(&rt, "the refusal", |b| {
        b["source_state"]["last_error"]
            .as_str()
            .is_some_and(|e| e.to_lowercase().contains("digest"))
    });
    assert_eq!(state["digest"], ipe_serve::digest(&a));
    assert_ne!(state["source_state"]["digest"], digest_b.as_str());
    assert_eq!(s.decide(&rt), expected(&a));
    s.stop(&rt);
}

#[test]
fn the_service_follows_a_tag_survives_the_registry_going_down_and_restarts_from_its_cache() {
    let Some(mut r) = TestRegistry::start("follow") else {
        return;
    };
    let c = client();
    let a = bundle(POLICY_A);
    let b = bundle(POLICY_B);
    let tag = reference(&r, "policies/app:live");
    let digest_a = c.push(&tag, &a, None).expect("pushes A");
    let rt = runtime();
    let cache = temp_dir("follow-cache");
    let s = start(&rt, source(&r, "live", &cache), Vec::new()).expect("starts");
    let info = s.bundle(&rt);
    assert_eq!(info["digest"], ipe_serve::digest(&a));
    assert_eq!(
        info["source"],
        format!("oci://{}/policies/app:live", r.host())
    );
    assert_eq!(info["source_state"]["digest"], digest_a.as_str());
    assert_eq!(info["source_state"]["from_cache"], false);
    assert_eq!(s.decide(&rt), expected(&a));
    // The published bundle is on disk.
    assert_eq!(std::fs::read(cache.join("bundle.ipeb")).expect("cached"), a);

    // The tag moves: the service picks up B.
    let digest_b = c.push(&tag, &b, None).expect("pushes B");
    let info = s.wait_for(&rt, "B", |i| i["digest"] == ipe_serve::digest(&b));
    assert_eq!(info["source_state"]["digest"], digest_b.as_str());
    assert_eq!(info["version"], 2);
    assert_eq!(s.decide(&rt), expected(&b));
    assert_eq!(std::fs::read(cache.join("bundle.ipeb")).expect("cached"), b);
    let metrics = s.call(&rt, "GET", "/metrics", "");
    assert!(
        metrics.contains(&format!("digest=\"{digest_b}\"")),
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "ipe_bundle_source_consecutive_failures"),
        "0"
    );
    assert_ne!(
        metric(&metrics, "ipe_bundle_source_last_success_timestamp_seconds"),
        "0.000"
    );

    // The registry goes down: polls fail, B keeps deciding.
    r.down();
    let info = s.wait_for(&rt, "failed polls", |i| {
        i["source_state"]["consecutive_failures"].as_u64() >= Some(2)
    });
    assert_eq!(info["digest"], ipe_serve::digest(&b));
    assert!(info["source_state"]["last_error"].is_string(), "{info}");
    assert_eq!(s.decide(&rt), expected(&b));
    let metrics = s.call(&rt, "GET", "/metrics", "");
    assert_ne!(
        metric(&metrics, "ipe_bundle_source_consecutive_failures"),
        "0"
    );
    s.stop(&rt);

    // A restart with the registry still down starts from the cache.
    let s = start(&rt, source(&r, "live", &cache), Vec::new()).expect("starts from the cache");
    let info = s.bundle(&rt);
    assert_eq!(info["digest"], ipe_serve::digest(&b));
    assert_eq!(info["source_state"]["digest"], digest_b.as_str());
    assert_eq!(info["source_state"]["from_cache"], true);
    assert_eq!(s.decide(&rt), expected(&b));

    // The registry comes back, still naming B: the cached bundle is current again.
    r.up();
    let info = s.wait_for(&rt, "the registry confirming B", |i| {
        i["source_state"]["from_cache"] == false
    });
    assert_eq!(info["source_state"]["consecutive_failures"], 0);
    assert_eq!(info["digest"], ipe_serve::digest(&b));
    assert_eq!(info["version"], 1, "no swap for the same bundle");

    // The tag moves to A again: picked up.
    let digest_a2 = c.push(&tag, &a, None).expect("pushes A again");
    assert_eq!(digest_a2, digest_a);
    let info = s.wait_for(&rt, "A again", |i| i["digest"] == ipe_serve::digest(&a));
    assert_eq!(info["source_state"]["from_cache"], false);
    assert_eq!(info["source_state"]["consecutive_failures"], 0);
    assert_eq!(s.decide(&rt), expected(&a));
    s.stop(&rt);

    // Without a registry and without a cache, the service does not start.
    r.down();
    let empty = temp_dir("follow-empty");
    assert!(start(&rt, source(&r, "live", &empty), Vec::new()).is_err());
}

/// A stand-in for the signature check of issue #18 part 1 (built on another branch): it
/// accepts a bundle whose detached signature layer is `ok:` and the bundle's digest. The real
/// check replaces it at this same place (a `BundleCheck` reading `Fetched::signature`).
struct StubSignatureCheck;

impl BundleCheck for StubSignatureCheck {
    fn check(&self, fetched: &Fetched) -> Result<(), String> {
        let want = format!("ok:{}", ipe_serve::digest(&fetched.bytes));
        match &fetched.signature {
            None => Err("unsigned bundle".into()),
            Some(s) if *s == want.as_bytes() => Ok(()),
            Some(_) => Err("wrong signature".into()),
        }
    }
}

fn stub_signature(bytes: &[u8]) -> Vec<u8> {
    format!("ok:{}", ipe_serve::digest(bytes)).into_bytes()
}

#[test]
fn bundles_failing_verification_or_a_check_are_refused_before_any_swap() {
    let Some(r) = TestRegistry::start("refuse") else {
        return;
    };
    let c = client();
    let a = bundle(POLICY_A);
    let b = bundle(POLICY_B);
    let tag = reference(&r, "policies/app:live");
    let rt = runtime();

    // Unsigned at start: the service does not start.
    c.push(&tag, &a, None).expect("pushes A");
    let cache = temp_dir("refuse-cache");
    let err = start(
        &rt,
        source(&r, "live", &cache),
        vec![Box::new(StubSignatureCheck)],
    )
    .err()
    .expect("refused");
    assert!(err.to_string().contains("unsigned bundle"), "{err}");
    assert!(!cache.join("bundle.ipeb").exists());

    c.push(&tag, &a, Some(&stub_signature(&a)))
        .expect("pushes signed A");
    let s = start(
        &rt,
        source(&r, "live", &cache),
        vec![Box::new(StubSignatureCheck)],
    )
    .expect("starts");
    assert_eq!(s.decide(&rt), expected(&a));

    // B with a wrong signature: refused, A keeps serving, the cache keeps A.
    let wrong = c
        .push(&tag, &b, Some(&stub_signature(&a)))
        .expect("pushes B");
    let info = s.wait_for(&rt, "the wrong signature refused", |i| {
        i["source_state"]["last_error"] == "wrong signature"
    });
    assert_eq!(info["digest"], ipe_serve::digest(&a));
    assert_ne!(info["source_state"]["digest"], wrong.as_str());
    assert_eq!(s.decide(&rt), expected(&a));

    // Bytes that are not a bundle (signed): the engine's verification refuses them.
    let junk = b"IPEB but not really a bundle".to_vec();
    c.push(&tag, &junk, Some(&stub_signature(&junk)))
        .expect("pushes junk");
    let info = s.wait_for(&rt, "the junk refused", |i| {
        i["source_state"]["last_error"] != "wrong signature"
            && i["source_state"]["last_error"].is_string()
    });
    assert_eq!(info["digest"], ipe_serve::digest(&a));
    assert_eq!(s.decide(&rt), expected(&a));
    assert_eq!(std::fs::read(cache.join("bundle.ipeb")).expect("cached"), a);
    let metrics = s.call(&rt, "GET", "/metrics", "");
    assert!(
        metric(&metrics, "ipe_bundle_source_errors_total")
            .parse::<u64>()
            .expect("a count")
            >= 2
    );

    // B correctly signed: published.
    c.push(&tag, &b, Some(&stub_signature(&b)))
        .expect("pushes signed B");
    s.wait_for(&rt, "signed B", |i| i["digest"] == ipe_serve::digest(&b));
    assert_eq!(s.decide(&rt), expected(&b));
    s.stop(&rt);
}
