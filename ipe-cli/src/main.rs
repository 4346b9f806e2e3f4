//! The `ipe` command.
//!
//! Output goes through locked, buffered writers whose errors are handled: a closed standard
//! output (`ipe inspect x | head -1`) ends the run quietly with status 0, any other write error
//! is one `error:` line; standard error is written best-effort (a closed one is ignored).
//! Errors are rendered here, so `RUST_BACKTRACE` never adds a backtrace to a user error.

use anyhow::Context;
use clap::Parser;
use ipe_cli::cli::{blank, malformed, Cli, Command, Decider};
use ipe_cli::input::{self, Item};
use ipe_compile::{hir, CompileError};
use ipe_nostd::Bundle;
use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Writes one line to standard error, ignoring failure (there is nowhere left to report it).
fn say(args: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{args}");
}

/// Compiles sources, printing diagnostics; `None` when they have errors.
fn program(
    paths: &[PathBuf],
    instances: &[PathBuf],
    max_cost: u32,
    data: &[PathBuf],
) -> anyhow::Result<Option<(hir::Program, ipe_compile::lower::Compiled)>> {
    let mut warn = |w: &str| say(format_args!("warning: {w}"));
    let instances = instances
        .iter()
        .map(|p| ipe_compile::compile::InstanceSource::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let data = data
        .iter()
        .map(|d| ipe_compile::DataFile::read(d))
        .collect::<Result<Vec<_>, _>>()?;
    let options = ipe_compile::CompileOptions {
        max_cost,
        data,
        instances,
    };
    match ipe_compile::compile_bundle_paths_with(paths, &options, &mut warn) {
        Ok(p) => Ok(Some(p)),
        Err(CompileError::Diagnostics(d)) => {
            say(format_args!("{d}"));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The one path of `paths` when it is a compiled bundle (by its magic bytes or extension).
fn bundle_path(paths: &[PathBuf]) -> Option<&Path> {
    match paths {
        [p] if ipe_compile::compile::is_bundle_file(p)
            || ipe_cli::sign::is_signed_file(p)
            || p.extension().is_some_and(|e| e == "ipeb") =>
        {
            Some(p)
        }
        _ => None,
    }
}

/// Reads and verifies a bundle file (a signed one's bundle, its signature unchecked),
/// printing the error when it is not valid.
fn load_bundle(path: &Path, max_cost: u32) -> anyhow::Result<Option<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    let inner = match ipe_nostd::signed::open_unverified(&bytes) {
        Ok(inner) => inner,
        Err(e) => {
            say(format_args!(
                "error: `{}` is not a valid bundle: {e}",
                path.display()
            ));
            return Ok(None);
        }
    };
    match Bundle::from_bytes_with_max_cost(inner, max_cost) {
        Ok(_) => Ok(Some(bytes)),
        Err(e) => {
            say(format_args!(
                "error: `{}` is not a valid bundle: {e}",
                path.display()
            ));
            Ok(None)
        }
    }
}

/// Whether `e` is (caused by) writing to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to standard output; usage errors to standard error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            say(format_args!("error: {e:#}"));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check {
            paths,
            instances,
            max_cost,
            data,
        } => Ok(match program(&paths, &instances, max_cost, &data)? {
            Some(_) => ExitCode::SUCCESS,
            None => ExitCode::FAILURE,
        }),
        Command::Compile {
            paths,
            output,
            instances,
            max_cost,
            data,
            sign,
        } => {
            let Some((_, compiled)) = program(&paths, &instances, max_cost, &data)? else {
                return Ok(ExitCode::FAILURE);
            };
            let bytes = match (&sign.sign, sign.revision) {
                (Some(key), Some(revision)) => ipe_cli::sign::seal(
                    &compiled.bytes,
                    key,
                    revision,
                    sign.not_before.unwrap_or(0),
                )?,
                _ => compiled.bytes.clone(),
            };
            std::fs::write(&output, &bytes)
                .with_context(|| format!("writing `{}`", output.display()))?;
            say(format_args!(
                "wrote `{}`: {} policies, {} bytes{}",
                output.display(),
                compiled.policies.len(),
                bytes.len(),
                sign.revision
                    .map(|r| format!(", signed, revision {r}"))
                    .unwrap_or_default()
            ));
            for r in &compiled.policies {
                say(format_args!(
                    "  {:<32} {:>6} bytes of bytecode, cost bound {:>8} steps{}",
                    r.name,
                    r.code_bytes,
                    r.cost,
                    r.indexed_on
                        .as_deref()
                        .map(|s| format!(", indexed on `{s}`"))
                        .unwrap_or_default()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fmt {
            paths,
            check,
            exclude,
        } => {
            let mut out = BufWriter::new(io::stdout().lock());
            let s = ipe_cli::fmt::run(&paths, &exclude, check, &mut out, &mut io::stderr())?;
            out.flush().context("writing standard output")?;
            Ok(if s.failed(check) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Inspect { bundle } => {
            // Inspecting shows any bundle the format accepts, whatever its cost.
            let Some(bytes) = load_bundle(&bundle, u32::MAX)? else {
                return Ok(ExitCode::FAILURE);
            };
            let inner =
                ipe_nostd::signed::open_unverified(&bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
            let b = Bundle::from_bytes_with_max_cost(inner, u32::MAX)?;
            let mut out = BufWriter::new(io::stdout().lock());
            if let Ok(env) = ipe_nostd::signed::Envelope::parse(&bytes) {
                writeln!(
                    out,
                    "signed envelope (signature not checked here: see `ipe verify`)\n  {}\n",
                    ipe_cli::sign::describe(&env, &b)
                )
                .context("writing standard output")?;
            }
            out.write_all(ipe_cli::inspect::inspect(inner, &b).as_bytes())
                .and_then(|()| out.flush())
                .context("writing standard output")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Analyze {
            paths,
            data,
            instances,
            against,
            format,
            list_bound,
            timeout_ms,
            max_cost,
        } => analyze(
            &paths, &data, &instances, &against, format, list_bound, timeout_ms, max_cost,
        ),
        Command::Eval {
            paths,
            input,
            max_line_bytes,
            fail_on_error,
            stats,
            instances,
            max_cost,
            data,
            now,
            trust,
        } => {
            let Some(decider) = decider(&paths, &instances, max_cost, &data, now, &trust)? else {
                return Ok(ExitCode::FAILURE);
            };
            let errors = eval(&decider, &input, max_line_bytes)?;
            if stats {
                say(format_args!("{}", decider.0.stats().table(10).trim_end()));
            }
            Ok(if fail_on_error && errors > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Serve(args) => ipe_cli::serve::run(*args),
        Command::Keygen(args) => ipe_cli::sign::keygen(&args).map(|()| ExitCode::SUCCESS),
        Command::Sign(args) => ipe_cli::sign::sign(&args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => Ok(match ipe_cli::sign::verify(&args)? {
            true => ExitCode::SUCCESS,
            false => ExitCode::FAILURE,
        }),
        Command::Test {
            paths,
            filter,
            format,
            engine,
            coverage,
            lcov,
            instances,
            max_cost,
            data,
        } => ipe_cli::test::command(&ipe_cli::test::TestArgs {
            paths,
            filter,
            format,
            engines: engine,
            coverage,
            lcov,
            instances,
            data,
            max_cost,
        }),
        Command::Explain {
            paths,
            request,
            now,
            format,
            instances,
            max_cost,
            data,
        } => ipe_cli::explain::run(
            &paths,
            &request,
            now.as_deref(),
            format,
            &instances,
            &data,
            max_cost,
        ),
        Command::Push(args) => ipe_cli::oci::push(args),
        Command::Pull(args) => ipe_cli::oci::pull(args),
        Command::ExplainError { code, numbers } => ipe_cli::explain_error::run(&code, &numbers),
    }
}

/// The engine `ipe eval` decides with; `None` after printing why there is none.
fn decider(
    paths: &[PathBuf],
    instances: &[PathBuf],
    max_cost: u32,
    data: &[PathBuf],
    now: Option<i64>,
    trust: &ipe_cli::sign::TrustArgs,
) -> anyhow::Result<Option<Decider>> {
    if !trust.trusted_key.is_empty() {
        if !data.is_empty() || !instances.is_empty() {
            anyhow::bail!(
                "`--data` and `--instances` apply to sources: `--trusted-key` takes one \
                 compiled, signed bundle"
            );
        }
        return ipe_cli::sign::trusted_decider(paths, max_cost, now, trust);
    }
    let bytes = match bundle_path(paths) {
        Some(p) if !data.is_empty() => anyhow::bail!(
            "`--data` applies to sources: the compiled bundle `{}` already holds its constants",
            p.display()
        ),
        Some(p) if !instances.is_empty() => anyhow::bail!(
            "`{}` is a compiled bundle: its instances were added when it was compiled, so \
             `--instances` applies to sources only",
            p.display()
        ),
        Some(p) => load_bundle(p, max_cost)?,
        None => program(paths, instances, max_cost, data)?.map(|(_, c)| c.bytes),
    };
    let Some(bytes) = bytes else {
        return Ok(None);
    };
    let engine = ipe_host::PolicyEngine::with_options(
        bytes,
        ipe_host::EngineOptions {
            max_cost,
            ..ipe_host::EngineOptions::interpreter()
        },
    )?;
    Ok(Some(Decider(engine, now)))
}

/// Streams the requests of `input` through `decider`, one output line per request; returns
/// how many requests got an error line.
fn eval(decider: &Decider, input: &Path, max_line_bytes: usize) -> anyhow::Result<u64> {
    let (reader, name): (Box<dyn Read>, String) = if input.as_os_str() == "-" {
        (Box::new(io::stdin().lock()), "standard input".to_owned())
    } else {
        let file =
            std::fs::File::open(input).with_context(|| format!("reading `{}`", input.display()))?;
        (Box::new(file), format!("`{}`", input.display()))
    };
    let reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, reader));
    let out = RefCell::new(BufWriter::with_capacity(1 << 16, io::stdout().lock()));
    // The first output failure, kept apart from input failures.
    let out_failed: RefCell<Option<io::Error>> = RefCell::new(None);
    let mut errors = 0u64;
    let keep = |r: io::Result<()>| {
        r.map_err(|e| {
            let marker = io::Error::other("standard output failed");
            *out_failed.borrow_mut() = Some(e);
            marker
        })
    };
    let read = input::read_requests(
        reader,
        max_line_bytes,
        |place, item| {
            let line = match item {
                Item::Request(text) => decider.decide(text).unwrap_or_else(|detail| {
                    errors += 1;
                    malformed(place, &detail)
                }),
                Item::Blank => blank(place),
                Item::Unreadable(why) => {
                    errors += 1;
                    malformed(place, &why)
                }
            };
            let mut out = out.borrow_mut();
            keep(
                out.write_all(line.as_bytes())
                    .and_then(|()| out.write_all(b"\n")),
            )
        },
        || keep(out.borrow_mut().flush()),
    );
    if let Some(e) = out_failed.borrow_mut().take() {
        return Err(e).context("writing standard output");
    }
    read.with_context(|| format!("reading {name}"))?;
    out.borrow_mut()
        .flush()
        .context("writing standard output")?;
    Ok(errors)
}

/// `ipe analyze`: compiles the bundle (and the old one with `--against`) and prints the
/// findings; exit status 1 when there is a finding or a compile error.
#[expect(
    clippy::too_many_arguments,
    reason = "one argument per command-line option"
)]
fn analyze(
    paths: &[PathBuf],
    data: &[PathBuf],
    instances: &[PathBuf],
    against: &[PathBuf],
    format: ipe_cli::analyze::Format,
    list_bound: u32,
    timeout_ms: u32,
    max_cost: u32,
) -> anyhow::Result<ExitCode> {
    let Some((new, _)) = program(paths, instances, max_cost, data)? else {
        return Ok(ExitCode::FAILURE);
    };
    let old = if against.is_empty() {
        None
    } else {
        match program(against, instances, max_cost, data)? {
            Some((p, _)) => Some(p),
            None => return Ok(ExitCode::FAILURE),
        }
    };
    let options = ipe_analyze::Options {
        list_bound,
        timeout_ms,
    };
    let (text, found) = ipe_cli::analyze::run(&new, old.as_ref(), format, &options);
    let mut out = BufWriter::new(io::stdout().lock());
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing standard output")?;
    Ok(if found {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
