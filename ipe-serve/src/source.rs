//! Where the served bundle comes from: a [`BundleSource`] is polled by the watcher, and what
//! it yields goes through the service's [`BundleCheck`]s before it is published.
//!
//! Two sources ship here: [`FileSource`] (one compiled `.ipeb` file) and [`SourcesSource`]
//! (`.ipe` sources compiled on start and again when one of them changes). A registry source
//! (OCI) implements the same trait; signature checks plug in as a [`BundleCheck`].

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Bundle bytes a source produced, with what the source knows about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// The bundle bytes (not verified yet).
    pub bytes: Vec<u8>,
    /// The bundle's revision, when the source or the bundle carries one.
    pub revision: Option<u64>,
    /// A detached signature that came with the bundle (an OCI artifact's signature layer),
    /// for a [`BundleCheck`] to verify; `None` when the source has none.
    pub signature: Option<Vec<u8>>,
}

/// Why a source gave no bundle: its text is the message logged and counted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// What one poll of a source found.
#[derive(Debug)]
pub enum Poll {
    /// Nothing changed since the last poll.
    Unchanged,
    /// The source changed: the new bytes, or why they could not be produced.
    Changed(Result<Fetched, SourceError>),
}

/// A place bundles come from, polled by the watcher thread (each call may block: it runs off
/// the async runtime).
pub trait BundleSource: Send + 'static {
    /// A short description for `/v1/bundle` and log lines (a path, a reference).
    fn describe(&self) -> String;
    /// The current bundle (at start, or whenever the service wants it whole).
    fn fetch(&mut self) -> Result<Fetched, SourceError>;
    /// Whether the source changed since the last [`fetch`](Self::fetch) or `poll`, and if so
    /// its new bundle.
    fn poll(&mut self) -> Poll;
    /// Called after the bundle last returned was verified, checked and published (or was the
    /// live bundle already): a source may remember it as the last known good one.
    fn installed(&mut self, _fetched: &Fetched) {}
    /// The source's own state, shared with the service for `/v1/bundle` and `/metrics`
    /// (`None`: the source has none to report). Asked once, when the service starts.
    fn state(&self) -> Option<std::sync::Arc<SourceState>> {
        None
    }
}

/// What a remote source reports about itself: read by `/v1/bundle` and `/metrics` while the
/// source is being polled (so it is behind its own lock, never the source's).
#[derive(Debug, Default)]
pub struct SourceState {
    status: std::sync::Mutex<SourceStatus>,
}

/// One reading of a [`SourceState`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceStatus {
    /// The reference followed (e.g. `127.0.0.1:5000/policies/app:live`).
    pub reference: String,
    /// The manifest digest of the bundle published last (`sha256:...`).
    pub digest: Option<String>,
    /// Whether the published bundle came from the disk cache (the registry was unreachable).
    pub from_cache: bool,
    /// The last error (a failed poll, download or a refused bundle), until the next success.
    pub last_error: Option<String>,
    /// When the last error happened, ms since the Unix epoch.
    pub last_error_at_ms: Option<i64>,
    /// When the registry last answered a poll successfully, ms since the Unix epoch.
    pub last_success_at_ms: Option<i64>,
    /// Polls failed in a row (0 after a success); the backoff grows with it.
    pub consecutive_failures: u32,
}

impl SourceState {
    /// A copy of the current status.
    pub fn get(&self) -> SourceStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the status under its lock.
    pub fn update(&self, f: impl FnOnce(&mut SourceStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// A check every new bundle passes before it is published (e.g. a signature check), after the
/// engine's own verification.
pub trait BundleCheck: Send + Sync + 'static {
    /// `Ok` to accept the bytes; the error text is logged and counted.
    fn check(&self, fetched: &Fetched) -> Result<(), String>;
}

/// What identifies one version of a file without reading it: length, modification time and
/// (on Unix) inode, so an atomic rename is seen even within one clock tick.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
        inode,
    })
}

/// A compiled bundle file (`.ipeb`), re-read when its length, modification time or inode
/// changes. Replace it atomically (write a temporary file, then rename it over the old one);
/// a half-written file is refused by verification and read again at the next change.
#[derive(Debug)]
pub struct FileSource {
    path: PathBuf,
    last: Option<Stamp>,
}

impl FileSource {
    /// A source reading `path`.
    pub fn new(path: impl Into<PathBuf>) -> FileSource {
        FileSource {
            path: path.into(),
            last: None,
        }
    }
}

impl BundleSource for FileSource {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn fetch(&mut self) -> Result<Fetched, SourceError> {
        self.last = stamp(&self.path);
        let bytes = std::fs::read(&self.path)
            .map_err(|e| SourceError(format!("reading `{}`: {e}", self.path.display())))?;
        Ok(Fetched {
            bytes,
            revision: None,
            signature: None,
        })
    }

    fn poll(&mut self) -> Poll {
        let now = stamp(&self.path);
        if now == self.last {
            return Poll::Unchanged;
        }
        Poll::Changed(self.fetch())
    }
}

/// `.ipe` sources (files or directories), with their instance and data files, compiled into a
/// bundle at start and again when any of those files changes (added, removed or modified).
#[derive(Debug)]
pub struct SourcesSource {
    paths: Vec<PathBuf>,
    instances: Vec<PathBuf>,
    data: Vec<PathBuf>,
    max_cost: u32,
    last: Option<Vec<(PathBuf, Option<Stamp>)>>,
}

impl SourcesSource {
    /// Sources at `paths` compiled with these instance and data files and cost budget (as
    /// `ipe compile` does).
    pub fn new(
        paths: Vec<PathBuf>,
        instances: Vec<PathBuf>,
        data: Vec<PathBuf>,
        max_cost: u32,
    ) -> SourcesSource {
        SourcesSource {
            paths,
            instances,
            data,
            max_cost,
            last: None,
        }
    }

    /// Every file the bundle is built from, with its stamp, in a stable order.
    fn stamps(&self) -> Vec<(PathBuf, Option<Stamp>)> {
        let mut files = Vec::new();
        for p in &self.paths {
            if p.is_dir() {
                for e in walkdir::WalkDir::new(p)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_map(Result::ok)
                {
                    if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "ipe") {
                        files.push(e.path().to_owned());
                    }
                }
            } else {
                files.push(p.clone());
            }
        }
        files.extend(self.instances.iter().cloned());
        files.extend(self.data.iter().cloned());
        files
            .into_iter()
            .map(|f| {
                let s = stamp(&f);
                (f, s)
            })
            .collect()
    }

    fn compile(&self) -> Result<Fetched, SourceError> {
        let err = |e: ipe_compile::CompileError| SourceError(e.to_string());
        let instances = self
            .instances
            .iter()
            .map(|p| ipe_compile::compile::InstanceSource::read(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let data = self
            .data
            .iter()
            .map(|d| ipe_compile::DataFile::read(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(err)?;
        let options = ipe_compile::CompileOptions {
            max_cost: self.max_cost,
            data,
            instances,
        };
        let (_, compiled) =
            ipe_compile::compile_bundle_paths_with(&self.paths, &options, &mut |_| {})
                .map_err(err)?;
        Ok(Fetched {
            bytes: compiled.bytes,
            revision: None,
            signature: None,
        })
    }
}

impl BundleSource for SourcesSource {
    fn describe(&self) -> String {
        let names: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        names.join(" ")
    }

    fn fetch(&mut self) -> Result<Fetched, SourceError> {
        self.last = Some(self.stamps());
        self.compile()
    }

    fn poll(&mut self) -> Poll {
        let now = self.stamps();
        if self.last.as_ref() == Some(&now) {
            return Poll::Unchanged;
        }
        self.last = Some(now);
        Poll::Changed(self.compile())
    }
}
