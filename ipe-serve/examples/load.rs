//! A load test of the decision service on localhost (issue #18): many keep-alive connections
//! send the seed example's requests while the bundle file is replaced every `--swap-ms`; every
//! answer is checked against what the bundle named by its digest header decides (a failed or
//! mixed-version answer is counted). Prints throughput and latency percentiles.
//!
//! ```text
//! cargo run --release -p ipe-serve --example load -- [--connections 64] [--seconds 10]
//!     [--swap-ms 1000] [--batch 1] [--server-threads 2] [--client-threads 2] [--log FILE]
//! ```
//! Not run by CI (timings); see BENCHMARKS.md.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use ipe_serve::{Config, FileSource, Server};

/// A policy that never applies to the seed requests: bundle B is the seed plus this, so it
/// has another digest and decides the same.
const EXTRA: &str = r#"
policy NeverApplies:
  "Only for a resource type no request has"
  triggers when resource.type == "NoSuchType"
  requires environment == "nowhere"
"#;

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn compile(extra: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed");
    let mut sources = vec![
        (
            "schema.ipe".to_owned(),
            std::fs::read_to_string(root.join("schema.ipe"))?,
        ),
        (
            "policy.ipe".to_owned(),
            std::fs::read_to_string(root.join("policy.ipe"))?,
        ),
    ];
    if let Some(e) = extra {
        sources.push(("extra.ipe".to_owned(), e.to_owned()));
    }
    let (program, diags) = ipe_compile::compile_sources(&sources);
    anyhow::ensure!(diags.is_empty(), "{diags:?}");
    let program = program.ok_or_else(|| anyhow::anyhow!("no program"))?;
    Ok(ipe_compile::lower::lower(&program)?.bytes)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let connections = arg(&args, "--connections", 64);
    let seconds = arg(&args, "--seconds", 10);
    let swap_ms = arg(&args, "--swap-ms", 1000);
    let batch = arg(&args, "--batch", 1).max(1) as usize;
    let server_threads = arg(&args, "--server-threads", 2) as usize;
    let client_threads = arg(&args, "--client-threads", 2) as usize;
    // `--log FILE`: decision logs to FILE (rotated at 64 MiB, one old file kept).
    let log = args
        .iter()
        .position(|a| a == "--log")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);

    let a = compile(None)?;
    let b = compile(Some(EXTRA))?;
    let requests: Vec<String> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed/requests.jsonl"),
    )?
    .lines()
    .map(str::to_owned)
    .collect();
    // What each bundle answers to each body the clients send.
    let mut want: HashMap<String, Vec<String>> = HashMap::new();
    let bodies: Vec<String> = (0..requests.len())
        .map(|i| {
            if batch == 1 {
                requests[i].clone()
            } else {
                let items: Vec<&str> = (0..batch)
                    .map(|k| requests[(i + k) % requests.len()].as_str())
                    .collect();
                format!("[{}]", items.join(","))
            }
        })
        .collect();
    for bytes in [&a, &b] {
        let engine = ipe_host::PolicyEngine::with_options(
            bytes.clone(),
            ipe_host::EngineOptions::interpreter(),
        )?;
        let set = engine.load();
        let decide = |r: &str| set.report_json(r).map(|d| d.to_json());
        let answers = (0..requests.len())
            .map(|i| {
                if batch == 1 {
                    decide(&requests[i])
                } else {
                    let items = (0..batch)
                        .map(|k| decide(&requests[(i + k) % requests.len()]))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(format!("[{}]", items.join(",")))
                }
            })
            .collect::<Result<Vec<_>, ipe_host::Error>>()?;
        want.insert(ipe_serve::digest(bytes), answers);
    }

    let dir = std::env::temp_dir().join(format!("ipe-serve-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("live.ipeb");
    let replace = |bytes: &[u8]| -> std::io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    };
    replace(&a)?;

    // The server on its own runtime, as `ipe serve` runs it.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_threads)
        .enable_all()
        .build()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (addr, service, served) = server_rt.block_on(async {
        let server = Server::bind(
            Config {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                watch_interval: Some(Duration::from_millis(50)),
                log: ipe_serve::LogConfig {
                    target: log.map_or(ipe_serve::LogTarget::Off, |path| {
                        ipe_serve::LogTarget::File {
                            path,
                            max_bytes: 64 << 20,
                            keep: 1,
                        }
                    }),
                    ..ipe_serve::LogConfig::default()
                },
                ..Config::default()
            },
            Box::new(FileSource::new(&path)),
            Vec::new(),
        )
        .await?;
        let addr = server.local_addr()?;
        let service = server.service();
        let served = tokio::spawn(server.run_until(async {
            let _ = stop_rx.await;
        }));
        anyhow::Ok((addr, service, served))
    })?;

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads)
        .enable_all()
        .build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let want = Arc::new(want);
    let bodies = Arc::new(bodies);
    let started = Instant::now();
    let latencies = client_rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..connections {
            let (stop, failed, want, bodies) = (
                Arc::clone(&stop),
                Arc::clone(&failed),
                Arc::clone(&want),
                Arc::clone(&bodies),
            );
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                let (mut send, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(conn);
                let mut lat = Vec::with_capacity(1 << 16);
                let mut i = c as usize;
                while !stop.load(Relaxed) {
                    let k = i % bodies.len();
                    i += 1;
                    let req = hyper::Request::post("/v1/decide")
                        .header("host", "localhost")
                        .body(Full::new(Bytes::from(bodies[k].clone())))?;
                    let t = Instant::now();
                    send.ready().await?;
                    let res = send.send_request(req).await?;
                    let digest = res
                        .headers()
                        .get(ipe_serve::DIGEST_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let ok = res.status() == 200;
                    let body = res.into_body().collect().await?.to_bytes();
                    lat.push(t.elapsed().as_nanos() as u64);
                    let right = digest
                        .and_then(|d| want.get(&d))
                        .is_some_and(|w| w[k].as_bytes() == body.as_ref());
                    if !ok || !right {
                        failed.fetch_add(1, Relaxed);
                    }
                }
                anyhow::Ok(lat)
            }));
        }
        // Swap A and B every `swap_ms` for the run.
        let mut swaps = 0u64;
        let end = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(swap_ms).min(end - Instant::now())).await;
            if Instant::now() < end {
                swaps += 1;
                let _ = replace(if swaps % 2 == 1 { &b } else { &a });
            }
        }
        stop.store(true, Relaxed);
        let mut all = Vec::new();
        for t in tasks {
            match t.await {
                Ok(Ok(l)) => all.extend(l),
                Ok(Err(e)) => eprintln!("client failed: {e:#}"),
                Err(e) => eprintln!("client panicked: {e}"),
            }
        }
        all
    });
    let elapsed = started.elapsed().as_secs_f64();
    let _ = stop_tx.send(());
    server_rt.block_on(served)??;

    let mut lat = latencies;
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |&n| n as f64 / 1000.0)
    };
    let n = lat.len() as f64;
    let m = service.metrics();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "connections {connections}, batch {batch}, {seconds} s, server threads {server_threads}, client threads {client_threads}"
    );
    println!(
        "requests {} ({} decisions), {:.0} requests/s, {:.0} decisions/s",
        lat.len(),
        lat.len() * batch,
        n / elapsed,
        n * batch as f64 / elapsed
    );
    println!(
        "latency µs: p50 {:.0}, p90 {:.0}, p99 {:.0}, max {:.0}",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        lat.last().map_or(0.0, |&n| n as f64 / 1000.0)
    );
    println!(
        "bundle swaps {} (served {}), failed or mixed-version answers {}",
        m.swaps.load(Relaxed),
        service.live().info.version,
        failed.load(Relaxed)
    );
    println!(
        "decision log lines queued {}, dropped {}",
        m.log_queued.load(Relaxed),
        m.log_dropped.load(Relaxed)
    );
    println!("load average after: {}", load.trim());
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(failed.load(Relaxed) == 0, "failed answers");
    Ok(())
}
