//! Bundles as OCI artifacts (issue #18, part 2): [`Registry::push`] and [`Registry::pull`]
//! against any OCI distribution registry (the `oci-client` crate), and [`OciSource`], a
//! [`BundleSource`] that follows a tag.
//!
//! An IPE artifact is one OCI image manifest with:
//! - config: media type [`CONFIG_MEDIA_TYPE`], a small JSON object (`{"bundle_digest":
//!   "sha256:...","bundle_size":N}`);
//! - layer 1: the bundle bytes exactly as `ipe compile` writes them, media type
//!   [`BUNDLE_MEDIA_TYPE`];
//! - layer 2 (optional): a detached signature file, media type [`SIGNATURE_MEDIA_TYPE`], carried
//!   unchanged to the service's [`BundleCheck`](crate::BundleCheck)s in
//!   [`Fetched::signature`].
//!
//! Every blob is checked against its descriptor's SHA-256 digest when pulled (a corrupted or
//! substituted blob is refused). Registries on `localhost`, `127.0.0.1` or `[::1]` are spoken
//! to over plain HTTP; every other over HTTPS unless [`Options::insecure`]. See `docs/oci.md`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use oci_client::Client;
/// An OCI reference (`REGISTRY/REPOSITORY:TAG` or `@sha256:...`), from `oci-client`.
pub use oci_client::Reference;

use crate::source::{BundleSource, Fetched, Poll, SourceError, SourceState};

/// The media type of the bundle layer.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.ipe.bundle.v1+postcard";
/// The media type of the optional detached signature layer.
pub const SIGNATURE_MEDIA_TYPE: &str = "application/vnd.ipe.bundle.signature.v1";
/// The media type of the artifact's config blob (JSON).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.ipe.bundle.config.v1+json";
/// The environment variable giving the registry user name (basic auth).
pub const USERNAME_ENV: &str = "IPE_REGISTRY_USERNAME";
/// The environment variable giving the registry password (basic auth).
pub const PASSWORD_ENV: &str = "IPE_REGISTRY_PASSWORD";

/// The longest a connection to a registry may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a registry may stay silent while answering.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest one push, pull or resolve may take in all (a stuck registry cannot hold the
/// service's watcher, or its shutdown, longer than this).
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The reference does not parse.
    #[error("`{text}` is not an OCI reference (REGISTRY/REPOSITORY:TAG or @sha256:...): {why}")]
    Reference {
        /// The text given.
        text: String,
        /// The parser's message.
        why: String,
    },
    /// The registry refused or could not be reached, or a blob did not match its digest.
    #[error("registry `{registry}`: {why}")]
    Registry {
        /// The registry host.
        registry: String,
        /// What went wrong (the client's message, causes included).
        why: String,
    },
    /// The artifact is not an IPE bundle artifact.
    #[error("`{reference}` is not an IPE bundle artifact: {why}")]
    NotABundle {
        /// The reference pulled.
        reference: String,
        /// What is wrong with it.
        why: String,
    },
    /// The local async runtime could not start.
    #[error("starting the registry client: {0}")]
    Runtime(#[from] std::io::Error),
}

/// How to reach a registry.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Plain HTTP for every registry (otherwise only for `localhost`, `127.0.0.1`, `[::1]`).
    pub insecure: bool,
    /// Basic auth user name (`None`: anonymous, unless the environment gives one).
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<String>,
}

impl Options {
    /// These options with the user name and password taken from [`USERNAME_ENV`] and
    /// [`PASSWORD_ENV`] when not given.
    pub fn with_env(mut self) -> Options {
        if self.username.is_none() {
            self.username = std::env::var(USERNAME_ENV).ok().filter(|s| !s.is_empty());
        }
        if self.password.is_none() {
            self.password = std::env::var(PASSWORD_ENV).ok();
        }
        self
    }

    fn auth(&self) -> RegistryAuth {
        match &self.username {
            Some(u) => RegistryAuth::Basic(u.clone(), self.password.clone().unwrap_or_default()),
            None => RegistryAuth::Anonymous,
        }
    }

    fn client(&self, reference: &Reference) -> Client {
        let registry = reference.resolve_registry().to_owned();
        let protocol = if self.insecure {
            ClientProtocol::Http
        } else if is_loopback(&registry) {
            ClientProtocol::HttpsExcept(vec![registry])
        } else {
            ClientProtocol::Https
        };
        Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(CONNECT_TIMEOUT),
            read_timeout: Some(READ_TIMEOUT),
            user_agent: concat!("ipe/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        })
    }
}

/// Whether a registry host (with an optional port) is this machine.
fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    host == "localhost" || host == "::1" || host.starts_with("127.")
}

/// Parses `REGISTRY/REPOSITORY:TAG` or `REGISTRY/REPOSITORY@sha256:HEX` (an `oci://` prefix
/// is accepted and dropped).
pub fn parse_reference(text: &str) -> Result<Reference, OciError> {
    let bare = text.strip_prefix("oci://").unwrap_or(text);
    bare.parse::<Reference>().map_err(|e| OciError::Reference {
        text: text.to_owned(),
        why: e.to_string(),
    })
}

/// An error's message with its causes.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

fn registry_error(reference: &Reference, e: &dyn std::error::Error) -> OciError {
    OciError::Registry {
        registry: reference.resolve_registry().to_owned(),
        why: chain(e),
    }
}

/// A bundle artifact pulled from a registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// The manifest digest (`sha256:...`): what a digest-pinned reference names.
    pub manifest_digest: String,
    /// The bundle bytes (their digest checked against the manifest).
    pub bundle: Vec<u8>,
    /// The detached signature layer, when the artifact has one.
    pub signature: Option<Vec<u8>>,
}

/// A registry client for blocking callers (the CLI and [`OciSource`]): async `oci-client`
/// calls run on its own single-threaded runtime.
pub struct Registry {
    options: Options,
    runtime: Runtime,
}

/// A runtime that may be dropped anywhere (an async context included): it is shut down in the
/// background instead of waited for.
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    /// Runs `f` to completion, or fails after [`OPERATION_TIMEOUT`].
    fn run<T>(
        &self,
        reference: &Reference,
        f: impl std::future::Future<Output = Result<T, OciError>>,
    ) -> Result<T, OciError> {
        let timed_out = || OciError::Registry {
            registry: reference.resolve_registry().to_owned(),
            why: format!("no answer within {} s", OPERATION_TIMEOUT.as_secs()),
        };
        match &self.0 {
            Some(rt) => rt
                .block_on(async { tokio::time::timeout(OPERATION_TIMEOUT, f).await })
                .unwrap_or_else(|_| Err(timed_out())),
            // The runtime lives until drop: an error rather than a panic all the same.
            None => Err(OciError::Registry {
                registry: reference.resolve_registry().to_owned(),
                why: "the client's runtime has shut down".to_owned(),
            }),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("insecure", &self.options.insecure)
            .field("username", &self.options.username)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A client with these options. Call it outside any async context.
    pub fn new(options: Options) -> Result<Registry, OciError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Registry {
            options,
            runtime: Runtime(Some(runtime)),
        })
    }

    /// Pushes `bundle` (and `signature` as a second layer) to `reference` (a tag); returns the
    /// manifest digest. The bytes are pushed as given: callers verify them first.
    pub fn push(
        &self,
        reference: &Reference,
        bundle: &[u8],
        signature: Option<&[u8]>,
    ) -> Result<String, OciError> {
        let client = self.options.client(reference);
        let auth = self.options.auth();
        let mut layers = vec![ImageLayer::new(
            bundle.to_vec(),
            BUNDLE_MEDIA_TYPE.to_owned(),
            None,
        )];
        if let Some(sig) = signature {
            layers.push(ImageLayer::new(
                sig.to_vec(),
                SIGNATURE_MEDIA_TYPE.to_owned(),
                None,
            ));
        }
        let config = serde_json::json!({
            "bundle_digest": crate::digest(bundle),
            "bundle_size": bundle.len(),
        })
        .to_string();
        let config = Config::new(config.into_bytes(), CONFIG_MEDIA_TYPE.to_owned(), None);
        self.runtime.run(reference, async {
            client
                .push(reference, &layers, config, &auth, None)
                .await
                .map_err(|e| registry_error(reference, &e))?;
            client
                .fetch_manifest_digest(reference, &auth)
                .await
                .map_err(|e| registry_error(reference, &e))
        })
    }

    /// The manifest digest `reference` names now (one `HEAD` request).
    pub fn resolve(&self, reference: &Reference) -> Result<String, OciError> {
        let client = self.options.client(reference);
        let auth = self.options.auth();
        self.runtime.run(reference, async {
            client
                .fetch_manifest_digest(reference, &auth)
                .await
                .map_err(|e| registry_error(reference, &e))
        })
    }

    /// Pulls the artifact `reference` names, every blob checked against its digest, and
    /// refuses an artifact that is not exactly one bundle layer and at most one signature
    /// layer of IPE's media types. A digest-pinned reference must match the manifest.
    pub fn pull(&self, reference: &Reference) -> Result<Artifact, OciError> {
        let client = self.options.client(reference);
        let auth = self.options.auth();
        let image = self.runtime.run(reference, async {
            client
                .pull(
                    reference,
                    &auth,
                    vec![BUNDLE_MEDIA_TYPE, SIGNATURE_MEDIA_TYPE],
                )
                .await
                .map_err(|e| registry_error(reference, &e))
        })?;
        let not_a_bundle = |why: String| OciError::NotABundle {
            reference: reference.whole(),
            why,
        };
        if image.config.media_type != CONFIG_MEDIA_TYPE {
            return Err(not_a_bundle(format!(
                "its config media type is `{}`, not `{CONFIG_MEDIA_TYPE}`",
                image.config.media_type
            )));
        }
        let manifest_digest = image
            .digest
            .ok_or_else(|| not_a_bundle("the registry gave no manifest digest".into()))?;
        if let Some(pinned) = reference.digest() {
            if pinned != manifest_digest {
                return Err(not_a_bundle(format!(
                    "its manifest digest is {manifest_digest}, not {pinned}"
                )));
            }
        }
        let mut bundle = None;
        let mut signature = None;
        for layer in image.layers {
            let slot = if layer.media_type == BUNDLE_MEDIA_TYPE {
                &mut bundle
            } else {
                &mut signature
            };
            if slot.replace(layer.data.to_vec()).is_some() {
                return Err(not_a_bundle(format!(
                    "more than one `{}` layer",
                    layer.media_type
                )));
            }
        }
        let bundle =
            bundle.ok_or_else(|| not_a_bundle(format!("no `{BUNDLE_MEDIA_TYPE}` layer")))?;
        Ok(Artifact {
            manifest_digest,
            bundle,
            signature,
        })
    }
}

/// How an [`OciSource`] polls.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    /// How to reach the registry.
    pub registry: Options,
    /// The time between two polls while the registry answers (each jittered by ±10%).
    pub interval: Duration,
    /// The longest wait after failures (the wait doubles per failure from `interval`, with
    /// random jitter, up to this).
    pub max_backoff: Duration,
    /// Where the last known good bundle is kept (`None`: no disk cache).
    pub cache_dir: Option<PathBuf>,
}

/// A [`BundleSource`] following an OCI reference (usually a tag).
///
/// Each due poll asks the registry for the manifest digest (`HEAD`); only when it differs
/// from the last one seen is the artifact downloaded (pinned to that digest). The bundle it
/// yields goes through the service's checks and the engine's verification; once published it
/// is written to the cache directory, and a later start with the registry unreachable starts
/// from it. Failed polls back off exponentially with jitter.
pub struct OciSource {
    text: String,
    reference: Reference,
    registry: Registry,
    options: SourceOptions,
    state: Arc<SourceState>,
    /// The manifest digest downloaded last (published or refused): not downloaded again.
    seen: Option<String>,
    /// The manifest digest of the bundle returned last, and whether it came from the cache.
    pending: Option<(String, bool)>,
    next_due: Instant,
    failures: u32,
    rng: u64,
}

impl std::fmt::Debug for OciSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciSource")
            .field("reference", &self.text)
            .field("seen", &self.seen)
            .finish_non_exhaustive()
    }
}

/// The files of the disk cache.
const CACHE_BUNDLE: &str = "bundle.ipeb";
const CACHE_SIGNATURE: &str = "bundle.sig";
const CACHE_META: &str = "bundle.json";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Writes `bytes` to `path` atomically (a temporary file renamed over it).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

impl OciSource {
    /// A source following `reference` (`REGISTRY/REPOSITORY:TAG`, `oci://` accepted).
    pub fn new(reference: &str, options: SourceOptions) -> Result<OciSource, OciError> {
        let parsed = parse_reference(reference)?;
        let text = parsed.whole();
        let registry = Registry::new(options.registry.clone())?;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() as u64)
            ^ (u64::from(std::process::id()) << 32)
            | 1;
        let state = Arc::new(SourceState::default());
        state.update(|s| s.reference = text.clone());
        Ok(OciSource {
            text,
            reference: parsed,
            registry,
            options,
            state,
            seen: None,
            pending: None,
            next_due: Instant::now(),
            failures: 0,
            rng: seed,
        })
    }

    /// A random number in `0..1` (xorshift; jitter only).
    fn random(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    fn succeeded(&mut self) {
        self.failures = 0;
        let jitter = 0.9 + 0.2 * self.random();
        self.next_due = Instant::now() + self.options.interval.mul_f64(jitter);
        self.state.update(|s| {
            s.last_success_at_ms = Some(now_ms());
            s.consecutive_failures = 0;
        });
    }

    fn failed(&mut self, why: &str) {
        self.failures = self.failures.saturating_add(1);
        let doubled = self
            .options
            .interval
            .saturating_mul(1u32 << self.failures.min(16));
        let cap = doubled.min(self.options.max_backoff.max(self.options.interval));
        // "Equal jitter": half the wait fixed, half random.
        let wait = cap.mul_f64(0.5 + 0.5 * self.random());
        self.next_due = Instant::now() + wait;
        let failures = self.failures;
        self.state.update(|s| {
            s.last_error = Some(why.to_owned());
            s.last_error_at_ms = Some(now_ms());
            s.consecutive_failures = failures;
        });
    }

    /// Downloads the artifact at `reference` and remembers its digest as seen.
    fn download(&mut self, reference: &Reference) -> Result<Fetched, SourceError> {
        match self.registry.pull(reference) {
            Ok(a) => {
                self.succeeded();
                self.seen = Some(a.manifest_digest.clone());
                self.pending = Some((a.manifest_digest, false));
                Ok(Fetched {
                    bytes: a.bundle,
                    revision: None,
                    signature: a.signature,
                })
            }
            Err(e) => {
                let why = e.to_string();
                self.failed(&why);
                Err(SourceError(why))
            }
        }
    }

    /// The cached bundle, when the cache holds one for this reference.
    fn cached(&self) -> Option<(String, Fetched)> {
        let dir = self.options.cache_dir.as_ref()?;
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(CACHE_META)).ok()?).ok()?;
        if meta.get("reference")?.as_str()? != self.text {
            return None;
        }
        let digest = meta.get("manifest_digest")?.as_str()?.to_owned();
        let bytes = std::fs::read(dir.join(CACHE_BUNDLE)).ok()?;
        if meta.get("bundle_digest")?.as_str()? != crate::digest(&bytes) {
            return None;
        }
        let signature = std::fs::read(dir.join(CACHE_SIGNATURE)).ok();
        Some((
            digest,
            Fetched {
                bytes,
                revision: None,
                signature,
            },
        ))
    }

    fn write_cache(&self, dir: &Path, digest: &str, fetched: &Fetched) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        write_atomic(&dir.join(CACHE_BUNDLE), &fetched.bytes)?;
        match &fetched.signature {
            Some(sig) => write_atomic(&dir.join(CACHE_SIGNATURE), sig)?,
            None => match std::fs::remove_file(dir.join(CACHE_SIGNATURE)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            },
        }
        let meta = serde_json::json!({
            "reference": self.text,
            "manifest_digest": digest,
            "bundle_digest": crate::digest(&fetched.bytes),
        });
        write_atomic(&dir.join(CACHE_META), meta.to_string().as_bytes())
    }
}

impl BundleSource for OciSource {
    fn describe(&self) -> String {
        format!("oci://{}", self.text)
    }

    fn fetch(&mut self) -> Result<Fetched, SourceError> {
        let reference = self.reference.clone();
        match self.download(&reference) {
            Ok(f) => Ok(f),
            Err(e) => match self.cached() {
                Some((digest, fetched)) => {
                    eprintln!(
                        "ipe serve: `{}` is unreachable ({e}); starting from the cached bundle {digest}",
                        self.text
                    );
                    self.seen = Some(digest.clone());
                    self.pending = Some((digest, true));
                    Ok(fetched)
                }
                None => Err(e),
            },
        }
    }

    fn poll(&mut self) -> Poll {
        if Instant::now() < self.next_due {
            return Poll::Unchanged;
        }
        let digest = match self.registry.resolve(&self.reference) {
            Ok(d) => d,
            Err(e) => {
                let why = e.to_string();
                self.failed(&why);
                return Poll::Changed(Err(SourceError(why)));
            }
        };
        if self.seen.as_deref() == Some(digest.as_str()) {
            self.succeeded();
            // The registry names the bundle started from the cache: it is current again.
            self.state.update(|s| {
                if s.digest.as_deref() == Some(digest.as_str()) {
                    s.from_cache = false;
                }
            });
            return Poll::Unchanged;
        }
        let pinned = Reference::with_digest(
            self.reference.registry().to_owned(),
            self.reference.repository().to_owned(),
            digest,
        );
        Poll::Changed(self.download(&pinned))
    }

    fn installed(&mut self, fetched: &Fetched) {
        let Some((digest, from_cache)) = self.pending.take() else {
            return;
        };
        self.state.update(|s| {
            s.digest = Some(digest.clone());
            s.from_cache = from_cache;
        });
        if from_cache {
            return;
        }
        if let Some(dir) = self.options.cache_dir.clone() {
            if let Err(e) = self.write_cache(&dir, &digest, fetched) {
                let why = format!("writing the bundle cache in `{}`: {e}", dir.display());
                eprintln!("ipe serve: {why}");
                self.state.update(|s| {
                    s.last_error = Some(why);
                    s.last_error_at_ms = Some(now_ms());
                });
            }
        }
    }

    fn state(&self) -> Option<Arc<SourceState>> {
        Some(Arc::clone(&self.state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_are_recognized() {
        assert!(is_loopback("localhost:5000"));
        assert!(is_loopback("127.0.0.1:5000"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("[::1]:5000"));
        assert!(!is_loopback("ghcr.io"));
        assert!(!is_loopback("registry.example.com:5000"));
        assert!(!is_loopback("localhost.example.com"));
    }

    #[test]
    fn references_parse_with_or_without_the_scheme() {
        let r = parse_reference("oci://127.0.0.1:5000/policies/app:live").expect("parses");
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "policies/app");
        assert_eq!(r.tag(), Some("live"));
        let pinned = format!("127.0.0.1:5000/p@sha256:{}", "a".repeat(64));
        assert!(parse_reference(&pinned)
            .expect("parses")
            .digest()
            .is_some_and(|d| d.starts_with("sha256:")));
        assert!(matches!(
            parse_reference("127.0.0.1:5000/UPPER:tag"),
            Err(OciError::Reference { .. })
        ));
    }
}
