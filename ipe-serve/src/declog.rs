//! Decision logs: one JSON line per decision, written by a background thread through a bounded
//! queue. The decision path only tries to enqueue (never waits): a full queue drops the line
//! and counts it.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ipe_host::Report;
use serde_json::Value;

use crate::metrics::Metrics;
use crate::BundleInfo;

/// Where decision log lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// No decision log.
    Off,
    /// Standard output.
    Stdout,
    /// A file, rotated by size: when the next line would take it over `max_bytes`, `path` is
    /// renamed `path.1` (older ones shift to `path.2` … `path.<keep>`, the oldest dropped) and
    /// a new `path` is started. `keep = 0` keeps no old files.
    File {
        /// The live log file.
        path: PathBuf,
        /// Largest size of one file, in bytes.
        max_bytes: u64,
        /// How many rotated files are kept.
        keep: u32,
    },
}

/// Decision log options.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// Where lines go.
    pub target: LogTarget,
    /// The fraction of decisions logged, in `[0, 1]` (deterministic: exactly every
    /// `1/rate`-th decision on average, no randomness).
    pub sample_rate: f64,
    /// Whether each line carries the request itself.
    pub include_request: bool,
    /// Attribute paths (LANGUAGE.md's path text, e.g. `user.password` or
    /// `metadata.labels["app.kubernetes.io/name"]`) whose values are replaced by `"***"` in
    /// the logged request.
    pub mask: Vec<String>,
    /// The queue's capacity in lines.
    pub queue: usize,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            target: LogTarget::Off,
            sample_rate: 1.0,
            include_request: false,
            mask: Vec::new(),
            queue: 8192,
        }
    }
}

/// One decision (or request error) to log.
#[derive(Debug)]
pub struct Record {
    /// When the decision was made, ms since the Unix epoch.
    pub time_ms: i64,
    /// The HTTP request's id.
    pub request_id: Arc<str>,
    /// The element's index in a batch (`None` for a single request).
    pub index: Option<usize>,
    /// The bundle that decided.
    pub bundle: Arc<BundleInfo>,
    /// The decision, or the request error's message.
    pub outcome: Result<Report, String>,
    /// Nanoseconds to read, decide and render.
    pub latency_ns: u64,
    /// The request text, when the log includes requests.
    pub request: Option<String>,
}

/// The decision path's side of the log: sampling and the bounded queue.
#[derive(Debug)]
pub struct DecisionLog {
    sender: Option<SyncSender<Record>>,
    rate: f64,
    include_request: bool,
    seen: AtomicU64,
    metrics: Arc<Metrics>,
    closed: Arc<AtomicBool>,
}

/// The writer thread; [`LogWriter::finish`] waits for it to write every queued line.
#[derive(Debug)]
pub struct LogWriter(Option<JoinHandle<()>>);

impl LogWriter {
    /// Waits for the writer to drain the queue (call after [`DecisionLog::close`] or dropping
    /// the [`DecisionLog`], or it waits forever).
    pub fn finish(mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

impl DecisionLog {
    /// Starts the writer for `config` (none for [`LogTarget::Off`]).
    pub fn start(
        config: &LogConfig,
        metrics: Arc<Metrics>,
    ) -> io::Result<(DecisionLog, LogWriter)> {
        let closed = Arc::new(AtomicBool::new(false));
        let (sender, handle) = match &config.target {
            LogTarget::Off => (None, None),
            target => {
                let sink = Sink::open(target)?;
                let (tx, rx) = mpsc::sync_channel(config.queue.max(1));
                let mask = config.mask.clone();
                let m = Arc::clone(&metrics);
                let c = Arc::clone(&closed);
                let h = std::thread::Builder::new()
                    .name("ipe-decision-log".into())
                    .spawn(move || write_loop(rx, sink, &mask, &m, &c))?;
                (Some(tx), Some(h))
            }
        };
        Ok((
            DecisionLog {
                sender,
                rate: config.sample_rate.clamp(0.0, 1.0),
                include_request: config.include_request,
                seen: AtomicU64::new(0),
                metrics,
                closed,
            },
            LogWriter(handle),
        ))
    }

    /// Whether lines are written at all.
    pub fn enabled(&self) -> bool {
        self.sender.is_some()
    }

    /// Whether lines carry the request.
    pub fn include_request(&self) -> bool {
        self.include_request
    }

    /// Whether the next decision is sampled in (counts it either way).
    pub fn sample(&self) -> bool {
        if self.sender.is_none() {
            return false;
        }
        let n = self.seen.fetch_add(1, Relaxed) as f64;
        let keep = ((n + 1.0) * self.rate).floor() > (n * self.rate).floor();
        if !keep {
            self.metrics.log_sampled_out.fetch_add(1, Relaxed);
        }
        keep
    }

    /// Queues a record without waiting; a full queue drops it (counted).
    pub fn push(&self, record: Record) {
        let Some(tx) = &self.sender else { return };
        if self.closed.load(Relaxed) {
            self.metrics.log_dropped.fetch_add(1, Relaxed);
            return;
        }
        match tx.try_send(record) {
            Ok(()) => {
                self.metrics.log_queued.fetch_add(1, Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.metrics.log_dropped.fetch_add(1, Relaxed);
            }
        }
    }

    /// Closes the queue: the writer writes what is queued and stops; later lines are dropped.
    pub fn close(&self) {
        self.closed.store(true, Relaxed);
    }
}

fn write_loop(
    rx: Receiver<Record>,
    mut sink: Sink,
    mask: &[String],
    metrics: &Metrics,
    closed: &AtomicBool,
) {
    let mut line = String::new();
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(r) => r,
            Err(RecvTimeoutError::Timeout) if !closed.load(Relaxed) => continue,
            Err(_) => break,
        };
        let mut next = Some(first);
        while let Some(r) = next {
            line.clear();
            render(&r, mask, &mut line);
            line.push('\n');
            if sink.write_line(line.as_bytes()).is_err() {
                metrics.log_write_errors.fetch_add(1, Relaxed);
            }
            next = rx.try_recv().ok();
        }
        if sink.flush().is_err() {
            metrics.log_write_errors.fetch_add(1, Relaxed);
        }
    }
    let _ = sink.flush();
}

/// Writes one record as a JSON object (no newline) into `out`.
pub fn render(r: &Record, mask: &[String], out: &mut String) {
    let mut o = serde_json::Map::new();
    let mut time = String::new();
    let _ = ipe_nostd::time::write_rfc3339(&mut time, r.time_ms);
    o.insert("time".into(), Value::String(time));
    o.insert("request_id".into(), Value::String(r.request_id.to_string()));
    if let Some(i) = r.index {
        o.insert("batch_index".into(), Value::from(i));
    }
    o.insert(
        "bundle".into(),
        serde_json::json!({
            "digest": r.bundle.digest,
            "revision": r.bundle.revision,
            "version": r.bundle.version,
        }),
    );
    match &r.outcome {
        Ok(report) => {
            if let Ok(Value::Object(d)) = serde_json::to_value(report) {
                o.extend(d);
            }
        }
        Err(e) => {
            o.insert("error".into(), Value::String(e.clone()));
        }
    }
    o.insert("latency_ns".into(), Value::from(r.latency_ns));
    if let Some(text) = &r.request {
        let v = match serde_json::from_str::<Value>(text) {
            Ok(mut v) => {
                for p in mask {
                    mask_path(&mut v, p);
                }
                v
            }
            // A request that is not JSON is logged as its text.
            Err(_) => Value::String(text.clone()),
        };
        o.insert("request".into(), v);
    }
    out.push_str(&Value::Object(o).to_string());
}

/// Replaces the value at `path` (if present) with `"***"`.
pub fn mask_path(v: &mut Value, path: &str) {
    let mut cur = v;
    let segs: Vec<String> = ipe_nostd::path::segments(path)
        .map(|s| {
            let mut k = String::new();
            let _ = s.write_key(&mut k);
            k
        })
        .collect();
    let Some((last, init)) = segs.split_last() else {
        return;
    };
    for k in init {
        match cur.get_mut(k.as_str()) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(slot) = cur.as_object_mut().and_then(|m| m.get_mut(last.as_str())) {
        *slot = Value::String("***".into());
    }
}

/// Where the writer thread writes.
enum Sink {
    Stdout(BufWriter<io::Stdout>),
    File(Rotating),
}

impl Sink {
    fn open(target: &LogTarget) -> io::Result<Sink> {
        Ok(match target {
            LogTarget::File {
                path,
                max_bytes,
                keep,
            } => Sink::File(Rotating::open(path, *max_bytes, *keep)?),
            _ => Sink::Stdout(BufWriter::new(io::stdout())),
        })
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(line),
            Sink::File(f) => f.write_line(line),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(f) => f.file.flush(),
        }
    }
}

/// A log file rotated by size.
struct Rotating {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: BufWriter<File>,
    size: u64,
}

impl Rotating {
    fn open(path: &Path, max_bytes: u64, keep: u32) -> io::Result<Rotating> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Rotating {
            path: path.to_owned(),
            max_bytes: max_bytes.max(1),
            keep,
            file: BufWriter::new(file),
            size,
        })
    }

    fn rotated(&self, n: u32) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for n in (1..self.keep).rev() {
                let from = self.rotated(n);
                if from.exists() {
                    std::fs::rename(&from, self.rotated(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.rotated(1))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.file = BufWriter::new(file);
        self.size = 0;
        Ok(())
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_replaces_only_the_named_path() {
        let mut v = serde_json::json!({
            "user": {"password": "x", "name": "ann"},
            "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
        });
        mask_path(&mut v, "user.password");
        mask_path(&mut v, "metadata.labels[\"app.kubernetes.io/name\"]");
        mask_path(&mut v, "user.absent.deeper");
        assert_eq!(
            v,
            serde_json::json!({
                "user": {"password": "***", "name": "ann"},
                "metadata": {"labels": {"app.kubernetes.io/name": "***"}},
            })
        );
    }

    #[test]
    fn sampling_keeps_the_rate_exactly() {
        let metrics = Arc::new(Metrics::default());
        let dir = std::env::temp_dir().join(format!("ipe-serve-sample-{}", std::process::id()));
        let config = LogConfig {
            target: LogTarget::File {
                path: dir.with_extension("log"),
                max_bytes: 1 << 20,
                keep: 0,
            },
            sample_rate: 0.25,
            ..LogConfig::default()
        };
        let (log, writer) = DecisionLog::start(&config, Arc::clone(&metrics)).unwrap();
        let kept = (0..100).filter(|_| log.sample()).count();
        assert_eq!(kept, 25);
        assert_eq!(metrics.log_sampled_out.load(Relaxed), 75);
        log.close();
        writer.finish();
        let _ = std::fs::remove_file(dir.with_extension("log"));
    }
}
