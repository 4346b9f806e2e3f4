//! Bundle bytes: an owned buffer, or a private read-only mapping of a large bundle file.
//!
//! This is the only module of the crate (with the JIT's) that uses `unsafe`.
//!
//! # Update contract
//!
//! [`PolicyEngine::from_file`] always copies the file into an owned buffer: the engine never
//! depends on the file again, so the file may be rewritten, truncated or deleted at any time.
//! The copy costs one `read` of the file; verification reads every byte (checksum) anyway.
//!
//! [`PolicyEngine::from_file_mapped`] copies files below [`MAP_THRESHOLD`] too and maps larger
//! ones (`MAP_PRIVATE`, read-only), so a set of many megabytes is paged in on demand and shared
//! with the page cache. A mapping is only sound while the file's bytes never change: a file
//! truncated under a live mapping raises `SIGBUS` on the next access, and a file rewritten in
//! place can change verified bytes (and `&str`s) under a reader. Hence the rule, which the
//! caller of the `unsafe` constructor promises for the engine's whole life (its reloads too):
//! **publish a new bundle by writing a new file and renaming it over the old path; never
//! write to, truncate or extend the file in place.** A rename leaves the old inode (and any
//! mapping of it) intact until the last version using it is dropped.
#![expect(
    unsafe_code,
    reason = "file mappings: the one place the host crate needs unsafe (see the update contract)"
)]

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use crate::engine::PolicyEngine;
use crate::error::{Error, ErrorKind};

/// Files at least this large are mapped by [`PolicyEngine::from_file_mapped`]; smaller ones
/// are copied, which is cheaper than a mapping's page faults and removes the update contract.
pub const MAP_THRESHOLD: u64 = 4 << 20;

/// The bytes of a loaded bundle.
pub(crate) enum BundleBytes {
    /// An owned copy.
    Owned(Box<[u8]>),
    /// A private read-only mapping of a file that is never modified in place.
    Mapped(memmap2::Mmap),
}

impl BundleBytes {
    /// Whether the bytes are a file mapping.
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self, BundleBytes::Mapped(_))
    }
}

impl Deref for BundleBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            BundleBytes::Owned(b) => b,
            BundleBytes::Mapped(m) => m,
        }
    }
}

impl std::fmt::Debug for BundleBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.is_mapped() { "mapped" } else { "owned" };
        write!(f, "BundleBytes({kind}, {} bytes)", self.len())
    }
}

/// Proof that the caller accepted the update contract of the module docs; only the `unsafe`
/// constructor below creates one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MapPermit(());

/// Where an engine's bundle comes from, for [`PolicyEngine::reload`].
#[derive(Clone, Debug)]
pub(crate) struct FileSource {
    pub(crate) path: PathBuf,
    /// `Some` when large files may be mapped.
    pub(crate) map: Option<MapPermit>,
}

impl FileSource {
    /// Reads the file: a copy, or a mapping when permitted and the file is large.
    ///
    /// Only a regular file is read (a FIFO, device, directory or socket at the path is
    /// [`ErrorKind::NotAFile`], checked on the opened file, which is opened without blocking),
    /// and a copy reads at most the length its header announces plus one byte (so trailing
    /// bytes are still refused), never the rest of a file that keeps growing.
    pub(crate) fn read(&self) -> Result<BundleBytes, Error> {
        let path = &self.path;
        let mut file = open_regular(path)?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if self.map.is_some() && len >= MAP_THRESHOLD {
            // SAFETY: a `MapPermit` exists only when the caller of `from_file_mapped` promised
            // that this path is replaced by rename and never modified in place while the engine
            // lives, so the mapped bytes stay unchanged for as long as the mapping is used.
            let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(&file) }
                .map_err(|e| Error::io(path, e))?;
            return Ok(BundleBytes::Mapped(map));
        }
        let mut head = [0u8; ipe_nostd::signed::HEADER_LEN];
        let got = read_full(&mut file, &mut head).map_err(|e| Error::io(path, e))?;
        let head = head.get(..got).unwrap_or_default();
        let limit = announced_len(head).map_or(head.len() as u64, |n| n.saturating_add(1));
        let cap = usize::try_from(limit.min(len.max(head.len() as u64))).unwrap_or(0);
        let mut buf = Vec::with_capacity(cap);
        buf.extend_from_slice(head);
        let rest = limit.saturating_sub(head.len() as u64);
        (&mut file)
            .take(rest)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(path, e))?;
        Ok(BundleBytes::Owned(buf.into_boxed_slice()))
    }
}

/// Opens `path` for reading if it is a regular file (following symlinks). On Unix the file is
/// opened with `O_NONBLOCK`, so a FIFO without a writer is refused rather than waited for.
fn open_regular(path: &Path) -> Result<File, Error> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.file_type().is_file() {
        return Err(ErrorKind::NotAFile {
            path: path.to_owned(),
        }
        .into());
    }
    Ok(file)
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = buf.get_mut(n..).filter(|r| !r.is_empty()) {
        match file.read(rest) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The whole length a bundle (`IPEB`: header + body length) or a signed envelope (`IPES`:
/// envelope header + bundle length + signature) announces in its first bytes; `None` for
/// anything else (the verifier then refuses the bytes read so far).
fn announced_len(head: &[u8]) -> Option<u64> {
    let u32_at = |at: usize| -> Option<u64> {
        let b: [u8; 4] = head.get(at..at + 4)?.try_into().ok()?;
        Some(u64::from(u32::from_le_bytes(b)))
    };
    let magic = head.get(..4)?;
    if magic == ipe_nostd::format::MAGIC {
        let header = ipe_nostd::format::HEADER_LEN as u64;
        return Some(header + u32_at(8)?);
    }
    if magic == ipe_nostd::signed::MAGIC {
        let header = ipe_nostd::signed::HEADER_LEN as u64;
        let sig = ipe_nostd::signed::SIGNATURE_LEN as u64;
        return Some(header + u32_at(32)? + sig);
    }
    None
}

impl PolicyEngine {
    /// Loads a bundle file, mapping it instead of copying it when it is at least
    /// [`MAP_THRESHOLD`] bytes, and verifies it.
    ///
    /// [`reload`](PolicyEngine::reload) reads the same path the same way.
    ///
    /// # Safety
    ///
    /// For as long as the engine (or any [`PolicySet`](crate::PolicySet) it published) lives,
    /// the file at `path` must never be written, truncated or extended in place: a new bundle
    /// is published by writing another file and renaming it over `path`. Violating this may
    /// crash the process (`SIGBUS`) or change verified bytes under a reader.
    pub unsafe fn from_file_mapped(path: impl AsRef<Path>) -> Result<PolicyEngine, Error> {
        // SAFETY: the caller keeps the update contract, which is all the variant needs.
        unsafe {
            PolicyEngine::from_file_mapped_with_options(path, crate::EngineOptions::default())
        }
    }

    /// [`from_file_mapped`](PolicyEngine::from_file_mapped) with explicit options (tier mode,
    /// thresholds, cost budget), as [`from_file_with_options`](PolicyEngine::from_file_with_options)
    /// for copied files.
    ///
    /// # Safety
    ///
    /// The update contract of [`from_file_mapped`](PolicyEngine::from_file_mapped).
    pub unsafe fn from_file_mapped_with_options(
        path: impl AsRef<Path>,
        options: crate::EngineOptions,
    ) -> Result<PolicyEngine, Error> {
        PolicyEngine::from_source(
            FileSource {
                path: path.as_ref().to_owned(),
                map: Some(MapPermit(())),
            },
            options,
        )
    }

    /// [`from_file_mapped`](PolicyEngine::from_file_mapped) requiring signed bundles as
    /// [`with_trust`](PolicyEngine::with_trust) does (issue #18), on this load and every
    /// reload.
    ///
    /// # Safety
    ///
    /// The update contract of [`from_file_mapped`](PolicyEngine::from_file_mapped).
    pub unsafe fn from_file_mapped_with_trust(
        path: impl AsRef<Path>,
        options: crate::EngineOptions,
        trust: crate::TrustPolicy,
    ) -> Result<PolicyEngine, Error> {
        PolicyEngine::from_source_with(
            FileSource {
                path: path.as_ref().to_owned(),
                map: Some(MapPermit(())),
            },
            options,
            Some(crate::trust::Gate::new(trust)),
        )
    }
}
