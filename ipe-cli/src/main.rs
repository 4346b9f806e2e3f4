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
) -> anyhow::Result<Option<hir::Program>> {
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
    match ipe_compile::compile_paths_with(paths, &options, &mut warn) {
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
            || p.extension().is_some_and(|e| e == "ipeb") =>
        {
            Some(p)
        }
        _ => None,
    }
}

/// Reads and verifies a bundle file, printing the error when it is not valid.
fn load_bundle(path: &Path, max_cost: u32) -> anyhow::Result<Option<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    match Bundle::from_bytes_with_max_cost(&bytes, max_cost) {
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
        } => {
            let Some(p) = program(&paths, &instances, max_cost, &data)? else {
                return Ok(ExitCode::FAILURE);
            };
            let compiled = ipe_compile::lower::lower_with_max_cost(&p, max_cost)?;
            std::fs::write(&output, &compiled.bytes)
                .with_context(|| format!("writing `{}`", output.display()))?;
            say(format_args!(
                "wrote `{}`: {} policies, {} bytes",
                output.display(),
                compiled.policies.len(),
                compiled.bytes.len()
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
        Command::Inspect { bundle } => {
            // Inspecting shows any bundle the format accepts, whatever its cost.
            let Some(bytes) = load_bundle(&bundle, u32::MAX)? else {
                return Ok(ExitCode::FAILURE);
            };
            let b = Bundle::from_bytes_with_max_cost(&bytes, u32::MAX)?;
            let mut out = BufWriter::new(io::stdout().lock());
            out.write_all(ipe_cli::inspect::inspect(&bytes, &b).as_bytes())
                .and_then(|()| out.flush())
                .context("writing standard output")?;
            Ok(ExitCode::SUCCESS)
        }
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
        } => {
            let Some(decider) = decider(&paths, &instances, max_cost, &data, now)? else {
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
        Command::Push(args) => ipe_cli::oci::push(args),
        Command::Pull(args) => ipe_cli::oci::pull(args),
    }
}

/// The engine `ipe eval` decides with; `None` after printing why there is none.
fn decider(
    paths: &[PathBuf],
    instances: &[PathBuf],
    max_cost: u32,
    data: &[PathBuf],
    now: Option<i64>,
) -> anyhow::Result<Option<Decider>> {
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
        None => program(paths, instances, max_cost, data)?
            .map(|p| ipe_compile::lower::lower_with_max_cost(&p, max_cost))
            .transpose()?
            .map(|c| c.bytes),
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
