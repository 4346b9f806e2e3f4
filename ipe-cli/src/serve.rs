//! `ipe serve`: the decision service of `ipe-serve` behind the command line (issue #18).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use ipe_serve::{BundleSource, Config, FileSource, LogConfig, LogTarget, Server, SourcesSource};

/// `ipe serve`'s arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// `.ipe` files or directories (compiled at start and again when they change), or one
    /// compiled bundle (`.ipeb`, read again when it changes).
    #[arg(required_unless_present = "bundle", conflicts_with = "bundle")]
    pub paths: Vec<PathBuf>,
    /// The bundle from an OCI registry: `oci://REGISTRY/REPOSITORY:TAG` (followed: polled
    /// every `--watch-ms` and swapped when the tag moves) or `oci://...@sha256:HEX`.
    #[arg(long, value_name = "oci://REF")]
    pub bundle: Option<String>,
    /// Where the last published registry bundle is kept; a start with the registry
    /// unreachable starts from it.
    #[arg(long, value_name = "DIR", requires = "bundle")]
    pub cache_dir: Option<PathBuf>,
    /// The longest wait between registry polls after failures, in ms (the wait doubles per
    /// failure from `--watch-ms`, with random jitter).
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    pub max_backoff_ms: u64,
    /// How to reach the registry.
    #[command(flatten)]
    pub registry: crate::oci::RegistryArgs,
    /// Signed bundles only (`--trusted-key PUB`, repeatable, and `--min-revision N`): the first
    /// bundle and every later one must be signed by a trusted key and not older than the
    /// highest revision served so far (docs/signing.md).
    #[command(flatten)]
    pub trust: crate::sign::TrustArgs,
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8181")]
    pub listen: SocketAddr,
    /// The request time `now` of every request, as `ipe eval --now`: RFC 3339 text or integer
    /// epoch seconds; it replaces any `now` a request carries.
    #[arg(long, value_name = "RFC3339|EPOCH", value_parser = crate::cli::parse_now)]
    pub now: Option<i64>,
    /// The largest request body in bytes; a larger one gets 413.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// The longest one HTTP request may take (body reading included), in ms; longer gets 408.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// How often the bundle's files (or its registry tag) are checked for changes, in ms (0:
    /// never).
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    pub watch_ms: u64,
    /// Writes one JSON line per decision to this file, or to standard output for `-`.
    #[arg(long, value_name = "FILE|-")]
    pub decision_log: Option<PathBuf>,
    /// The size at which the decision log file is rotated, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 100 << 20)]
    pub decision_log_max_bytes: u64,
    /// How many rotated decision log files are kept (`FILE.1` newest).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub decision_log_keep: u32,
    /// The fraction of decisions logged, from 0 to 1.
    #[arg(long, value_name = "RATE", default_value_t = 1.0, value_parser = parse_rate)]
    pub decision_log_sample: f64,
    /// Also logs each request itself.
    #[arg(long)]
    pub decision_log_request: bool,
    /// An attribute path whose value is logged as `"***"` (repeatable; e.g. `user.password`).
    #[arg(long, value_name = "PATH")]
    pub decision_log_mask: Vec<String>,
    /// The decision log queue's capacity in lines; a line that finds it full is dropped and
    /// counted (`ipe_decision_log_dropped_total`).
    #[arg(long, value_name = "LINES", default_value_t = 8192)]
    pub decision_log_queue: usize,
    /// A JSON file of template instances (repeatable; sources only).
    #[arg(long, value_name = "FILE")]
    pub instances: Vec<PathBuf>,
    /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
    #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
    pub max_cost: u32,
    /// A JSON data file whose top-level keys are constants of the bundle (repeatable; sources
    /// only).
    #[arg(long, value_name = "FILE")]
    pub data: Vec<PathBuf>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!(
            "`{text}` is not a rate: write a number from 0 to 1"
        )),
    }
}

/// Runs the service until SIGTERM or ctrl-c; in-flight requests finish first.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let bundle = match args.paths.as_slice() {
        [p] if ipe_compile::compile::is_bundle_file(p)
            || p.extension().is_some_and(|e| e == "ipeb") =>
        {
            Some(p.clone())
        }
        _ => None,
    };
    let mut watch_interval = (args.watch_ms > 0).then(|| Duration::from_millis(args.watch_ms));
    let source: Box<dyn BundleSource> = match (&args.bundle, bundle) {
        (Some(r), _) => {
            if r.strip_prefix("oci://").is_none() {
                anyhow::bail!(
                    "`--bundle {r}`: write an OCI reference as oci://REGISTRY/REPO:TAG (a bundle file goes in PATHS)"
                );
            }
            if !args.data.is_empty() || !args.instances.is_empty() {
                anyhow::bail!(
                    "`--data` and `--instances` apply to sources only, not to `--bundle`"
                );
            }
            // The watcher ticks often; the source itself polls the registry every
            // `--watch-ms` (jittered) and backs off after failures.
            watch_interval = watch_interval.map(|every| every.min(Duration::from_millis(100)));
            Box::new(ipe_serve::oci::OciSource::new(
                r,
                ipe_serve::oci::SourceOptions {
                    registry: args.registry.options(),
                    interval: Duration::from_millis(args.watch_ms.max(1)),
                    max_backoff: Duration::from_millis(args.max_backoff_ms),
                    cache_dir: args.cache_dir.clone(),
                },
            )?)
        }
        (None, Some(p)) if !args.data.is_empty() || !args.instances.is_empty() => anyhow::bail!(
            "`{}` is a compiled bundle: `--data` and `--instances` apply to sources only",
            p.display()
        ),
        (None, Some(p)) => Box::new(FileSource::new(p)),
        (None, None) if !args.trust.trusted_key.is_empty() => anyhow::bail!(
            "`--trusted-key` serves signed bundles only: give a signed `.ipeb` file or `--bundle oci://...`, not sources"
        ),
        (None, None) => Box::new(SourcesSource::new(
            args.paths.clone(),
            args.instances.clone(),
            args.data.clone(),
            args.max_cost,
        )),
    };
    let target = match &args.decision_log {
        None => LogTarget::Off,
        Some(p) if p.as_os_str() == "-" => LogTarget::Stdout,
        Some(p) => LogTarget::File {
            path: p.clone(),
            max_bytes: args.decision_log_max_bytes,
            keep: args.decision_log_keep,
        },
    };
    let trust = if args.trust.trusted_key.is_empty() {
        None
    } else {
        Some(ipe_host::TrustPolicy {
            keys: crate::sign::trusted_keys(&args.trust.trusted_key)?,
            min_revision: args.trust.min_revision,
            now: None,
        })
    };
    let config = Config {
        listen: args.listen,
        now: args.now,
        max_body_bytes: args.max_body_bytes,
        timeout: Duration::from_millis(args.timeout_ms),
        watch_interval,
        engine: ipe_host::EngineOptions {
            max_cost: args.max_cost,
            ..ipe_host::EngineOptions::default()
        },
        log: LogConfig {
            target,
            sample_rate: args.decision_log_sample,
            include_request: args.decision_log_request,
            mask: args.decision_log_mask.clone(),
            queue: args.decision_log_queue,
        },
        trust,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let server = match Server::bind(config, source, Vec::new()).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let info = server.service().live().info.clone();
        eprintln!(
            "ipe serve: listening on http://{} (bundle {}, {} policies, from `{}`)",
            server.local_addr()?,
            info.digest,
            info.policies,
            info.source
        );
        server.run_until(shutdown_signal()).await?;
        eprintln!("ipe serve: stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Completes on ctrl-c, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
