//! `ipe serve`: an HTTP decision service over the host engine (issue #18, part 3).
//!
//! - `POST /v1/decide`: one JSON request object, or a JSON array of them (answered in order),
//!   decided into the decision JSON of `docs/LANGUAGE.md`, exactly what `ipe eval` prints;
//!   every response names the bundle that decided it (`ipe-bundle-digest`).
//! - `GET /v1/bundle`, `GET /healthz`, `GET /metrics` (Prometheus text).
//! - The bundle comes from a [`BundleSource`] polled by a watcher: a changed bundle is
//!   verified, checked ([`BundleCheck`]) and swapped atomically; a bad one is refused, counted
//!   and logged, and the old one keeps serving.
//! - Decision logs ([`declog`]) through a bounded queue, never blocking a decision.
//!
//! The stack is axum over hyper on tokio. See `docs/serve.md`.

pub mod declog;
mod http;
pub mod metrics;
pub mod oci;
pub mod source;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use ipe_host::{EngineOptions, PolicyEngine, PolicySet};
use sha2::{Digest, Sha256};

pub use declog::{LogConfig, LogTarget};
pub use metrics::Metrics;
pub use source::{
    BundleCheck, BundleSource, Fetched, FileSource, Poll, SourceError, SourceState, SourceStatus,
    SourcesSource,
};

/// The response header naming the digest of the bundle that decided.
pub const DIGEST_HEADER: &str = "ipe-bundle-digest";
/// The response header carrying the engine version that decided.
pub const VERSION_HEADER: &str = "ipe-bundle-version";
/// The request and response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// How the service runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (port 0: any free port, see [`Server::local_addr`]).
    pub listen: SocketAddr,
    /// The request time `now` of every request, ms since the Unix epoch (as `ipe eval --now`);
    /// `None`: each request's own `now`.
    pub now: Option<i64>,
    /// The largest request body, in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// The longest one HTTP request may take, body reading included (longer: 408).
    pub timeout: Duration,
    /// How often the bundle source is polled (`None`: never, the bundle is fixed).
    pub watch_interval: Option<Duration>,
    /// The engine's options (cost budget, JIT tiering when built with the `jit` feature).
    pub engine: EngineOptions,
    /// Decision logs.
    pub log: LogConfig,
    /// Signed bundles only (issue #18, docs/signing.md): with a policy, the engine refuses at
    /// start, and on every later swap, a bundle that is unsigned, signed by an unknown key,
    /// tampered with, not yet valid or older than the highest revision accepted so far.
    pub trust: Option<ipe_host::TrustPolicy>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8181)),
            now: None,
            max_body_bytes: 1 << 20,
            timeout: Duration::from_secs(10),
            watch_interval: Some(Duration::from_secs(1)),
            engine: EngineOptions::default(),
            log: LogConfig::default(),
            trust: None,
        }
    }
}

/// What identifies the live bundle (`GET /v1/bundle`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleInfo {
    /// `sha256:` and the lowercase hex SHA-256 of the bundle bytes.
    pub digest: String,
    /// The bundle's revision, when its source gives one.
    pub revision: Option<u64>,
    /// The engine version (1 for the first bundle, then 2, 3, … per swap).
    pub version: u64,
    /// Policies in the bundle.
    pub policies: usize,
    /// When it was published, ms since the Unix epoch.
    pub loaded_at_ms: i64,
    /// Where it came from.
    pub source: String,
}

impl BundleInfo {
    /// The JSON of `GET /v1/bundle`.
    pub fn to_json(&self) -> String {
        let mut loaded_at = String::new();
        let _ = ipe_nostd::time::write_rfc3339(&mut loaded_at, self.loaded_at_ms);
        serde_json::json!({
            "digest": self.digest,
            "revision": self.revision,
            "version": self.version,
            "policies": self.policies,
            "loaded_at": loaded_at,
            "source": self.source,
        })
        .to_string()
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One published version as the service sees it: the engine's set and its identity, swapped
/// together so a response always names the bundle that decided it.
#[derive(Debug)]
pub struct Live {
    /// The policy set.
    pub set: Arc<PolicySet>,
    /// Its identity.
    pub info: Arc<BundleInfo>,
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The first bundle could not be read or compiled.
    #[error("{0}")]
    Source(#[from] SourceError),
    /// The first bundle failed verification or a check.
    #[error("the bundle from `{from}` was refused: {reason}")]
    Refused {
        /// The source's description.
        from: String,
        /// Why.
        reason: String,
    },
    /// Binding the address or starting the log writer failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The state every request shares.
pub struct Service {
    engine: PolicyEngine,
    live: ArcSwap<Live>,
    metrics: Arc<Metrics>,
    log: declog::DecisionLog,
    checks: Vec<Box<dyn BundleCheck>>,
    now: Option<i64>,
    source: String,
    source_state: Option<Arc<SourceState>>,
    /// Serializes publications so the engine's version and `live` move together.
    writer: Mutex<()>,
    id_prefix: u32,
    ids: AtomicU64,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("live", &self.live.load().info)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Service {
    /// The live version.
    pub fn live(&self) -> Arc<Live> {
        self.live.load_full()
    }

    /// The service's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The source's own state (a registry source's digest, last error, last success).
    pub fn source_status(&self) -> Option<SourceStatus> {
        self.source_state.as_ref().map(|s| s.get())
    }

    /// The JSON of `GET /v1/bundle`: the live bundle's identity, and `source_state` when the
    /// source reports one.
    pub fn bundle_json(&self) -> String {
        let info = self.live.load().info.to_json();
        match self.source_status() {
            None => info,
            Some(status) => {
                let mut v: serde_json::Value =
                    serde_json::from_str(&info).unwrap_or(serde_json::Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert(
                        "source_state".into(),
                        serde_json::to_value(status).unwrap_or(serde_json::Value::Null),
                    );
                }
                v.to_string()
            }
        }
    }

    /// Checks and verifies `fetched` and publishes it unless it is the live bundle already;
    /// returns the identity it published (`None`: the same bundle is live already), or why it
    /// was refused (counted).
    pub fn install(&self, fetched: Fetched) -> Result<Option<Arc<BundleInfo>>, String> {
        let _guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let digest = digest(&fetched.bytes);
        let current = self.live.load_full();
        if current.info.digest == digest
            && (fetched.revision.is_none() || current.info.revision == fetched.revision)
        {
            return Ok(None);
        }
        let refused = |why: String| {
            self.metrics.source_errors.fetch_add(1, Relaxed);
            Err(why)
        };
        for c in &self.checks {
            if let Err(why) = c.check(&fetched) {
                return refused(why);
            }
        }
        let version = match self.engine.swap(fetched.bytes) {
            Ok(v) => v,
            Err(e) => return refused(e.to_string()),
        };
        // Publications are serialized by `writer`, so the engine's live set is `version`.
        let set = self.engine.load_full();
        debug_assert_eq!(set.version(), version);
        let info = Arc::new(BundleInfo {
            digest,
            revision: revision(fetched.revision, &set),
            version: set.version(),
            policies: set.policy_count(),
            loaded_at_ms: now_ms(),
            source: self.source.clone(),
        });
        self.live.store(Arc::new(Live {
            set,
            info: Arc::clone(&info),
        }));
        self.metrics.swaps.fetch_add(1, Relaxed);
        Ok(Some(info))
    }

    /// Records a refused update in the source's state (when it reports one).
    fn note_refusal(&self, why: &str) {
        if let Some(state) = &self.source_state {
            state.update(|s| {
                s.last_error = Some(why.to_owned());
                s.last_error_at_ms = Some(now_ms());
            });
        }
    }

    /// A request id for a request that brought none.
    fn next_request_id(&self) -> String {
        let n = self.ids.fetch_add(1, Relaxed);
        format!("{:08x}-{n:012x}", self.id_prefix)
    }
}

/// A bound, not yet running service; [`Server::run_until`] serves until a signal.
pub struct Server {
    listener: tokio::net::TcpListener,
    service: Arc<Service>,
    source: Arc<Mutex<Box<dyn BundleSource>>>,
    config: Config,
    writer: declog::LogWriter,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads the first bundle from `source` (refusing to start without a valid one), starts
    /// the decision log writer and binds `config.listen`.
    pub async fn bind(
        config: Config,
        mut source: Box<dyn BundleSource>,
        checks: Vec<Box<dyn BundleCheck>>,
    ) -> Result<Server, StartError> {
        let (fetched, source) = tokio::task::spawn_blocking(move || (source.fetch(), source))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let fetched = fetched?;
        let description = source.describe();
        let refused = |reason: String| StartError::Refused {
            from: description.clone(),
            reason,
        };
        for c in &checks {
            c.check(&fetched).map_err(refused)?;
        }
        let digest = digest(&fetched.bytes);
        let engine = match config.trust.clone() {
            Some(trust) => PolicyEngine::with_trust(fetched.bytes.clone(), config.engine, trust),
            None => PolicyEngine::with_options(fetched.bytes.clone(), config.engine),
        }
        .map_err(|e| refused(e.to_string()))?;
        let mut source = source;
        source.installed(&fetched);
        let source_state = source.state();
        let set = engine.load_full();
        let info = Arc::new(BundleInfo {
            digest,
            revision: revision(fetched.revision, &set),
            version: set.version(),
            policies: set.policy_count(),
            loaded_at_ms: now_ms(),
            source: description.clone(),
        });
        let metrics = Arc::new(Metrics::default());
        let (log, writer) = declog::DecisionLog::start(&config.log, Arc::clone(&metrics))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ std::process::id().rotate_left(16);
        let service = Arc::new(Service {
            engine,
            live: ArcSwap::from_pointee(Live { set, info }),
            metrics,
            log,
            checks,
            now: config.now,
            source: description,
            source_state,
            writer: Mutex::new(()),
            id_prefix: seed,
            ids: AtomicU64::new(0),
        });
        Ok(Server {
            listener,
            service,
            source: Arc::new(Mutex::new(source)),
            config,
            writer,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The shared state (for embedding and tests).
    pub fn service(&self) -> Arc<Service> {
        Arc::clone(&self.service)
    }

    /// Serves until `shutdown` completes, then stops accepting, lets in-flight requests
    /// finish, stops the watcher and writes every queued decision log line.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Server {
            listener,
            service,
            source,
            config,
            writer,
        } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let watcher = config
            .watch_interval
            .map(|every| tokio::spawn(watch(Arc::clone(&service), source, every, stop_rx)));
        let app = http::router(Arc::clone(&service), &config);
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop_tx.send(true);
        if let Some(w) = watcher {
            let _ = w.await;
        }
        // Every request has been answered: the writer writes what is queued and stops.
        service.log.close();
        let _ = tokio::task::spawn_blocking(move || writer.finish()).await;
        served
    }
}

/// Polls `source` every `every` and installs what changed, until `stop`.
async fn watch(
    service: Arc<Service>,
    source: Arc<Mutex<Box<dyn BundleSource>>>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let service = Arc::clone(&service);
        let source = Arc::clone(&source);
        // Reading and compiling may block: off the async workers.
        let _ = tokio::task::spawn_blocking(move || {
            let mut source = source.lock().unwrap_or_else(|e| e.into_inner());
            match source.poll() {
                Poll::Unchanged => {}
                Poll::Changed(Err(e)) => {
                    service.metrics.source_errors.fetch_add(1, Relaxed);
                    service.note_refusal(&e.0);
                    eprintln!(
                        "ipe serve: refused the new bundle from `{}`: {e}; still serving {}",
                        source.describe(),
                        service.live.load().info.digest
                    );
                }
                Poll::Changed(Ok(fetched)) => match service.install(fetched.clone()) {
                    Ok(None) => source.installed(&fetched),
                    Ok(Some(info)) => {
                        source.installed(&fetched);
                        eprintln!(
                            "ipe serve: serving {} (version {}, {} policies) from `{}`",
                            info.digest,
                            info.version,
                            info.policies,
                            source.describe()
                        );
                    }
                    Err(why) => {
                        service.note_refusal(&why);
                        eprintln!(
                            "ipe serve: refused the new bundle from `{}`: {why}; still serving {}",
                            source.describe(),
                            service.live.load().info.digest
                        );
                    }
                },
            }
        })
        .await;
    }
}

/// The revision of a published bundle: the source's, else a signed bundle's envelope's
/// (checked when the engine trusts keys).
fn revision(from_source: Option<u64>, set: &ipe_host::PolicySet) -> Option<u64> {
    from_source.or_else(|| set.signature().map(|s| s.revision))
}
