//! The `ipe` command.

use anyhow::Context;
use clap::Parser;
use ipe_compile::cli::{eval_line, requests, Cli, Command, Engine};
use ipe_compile::{hir, CompileError};
use ipe_nostd::Bundle;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Compiles sources, printing diagnostics; `None` when they have errors.
fn program(paths: &[PathBuf], max_cost: u32) -> anyhow::Result<Option<hir::Program>> {
    match ipe_compile::compile_paths_with(paths, &ipe_compile::CompileOptions { max_cost }) {
        Ok(p) => Ok(Some(p)),
        Err(CompileError::Diagnostics(d)) => {
            eprintln!("{d}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn is_bundle(paths: &[PathBuf]) -> bool {
    matches!(paths, [p] if p.extension().is_some_and(|e| e == "ipeb"))
}

fn read_input(input: &Path) -> anyhow::Result<String> {
    if input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(input).with_context(|| format!("reading `{}`", input.display()))
    }
}

/// Reads and verifies a bundle file, printing the error when it is not valid.
fn load_bundle(path: &Path, max_cost: u32) -> anyhow::Result<Option<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    match Bundle::from_bytes_with_max_cost(&bytes, max_cost) {
        Ok(_) => Ok(Some(bytes)),
        Err(e) => {
            eprintln!("error: `{}` is not a valid bundle: {e}", path.display());
            Ok(None)
        }
    }
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths, max_cost } => Ok(match program(&paths, max_cost)? {
            Some(_) => ExitCode::SUCCESS,
            None => ExitCode::FAILURE,
        }),
        Command::Compile {
            paths,
            output,
            max_cost,
        } => {
            let Some(p) = program(&paths, max_cost)? else {
                return Ok(ExitCode::FAILURE);
            };
            let compiled = ipe_compile::lower::lower_with_max_cost(&p, max_cost)?;
            std::fs::write(&output, &compiled.bytes)
                .with_context(|| format!("writing `{}`", output.display()))?;
            eprintln!(
                "wrote `{}`: {} policies, {} bytes",
                output.display(),
                compiled.policies.len(),
                compiled.bytes.len()
            );
            for r in &compiled.policies {
                eprintln!(
                    "  {:<32} {:>6} bytes of bytecode, cost bound {:>8} steps{}",
                    r.name,
                    r.code_bytes,
                    r.cost,
                    r.indexed_on
                        .as_deref()
                        .map(|s| format!(", indexed on `{s}`"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect { bundle } => {
            // Inspecting shows any bundle the format accepts, whatever its cost.
            let Some(bytes) = load_bundle(&bundle, u32::MAX)? else {
                return Ok(ExitCode::FAILURE);
            };
            let b = Bundle::from_bytes_with_max_cost(&bytes, u32::MAX)?;
            print!("{}", ipe_compile::inspect::inspect(&bytes, &b));
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            paths,
            input,
            engine,
            stats,
            max_cost,
        } => {
            let text = read_input(&input)?;
            let mut out = std::io::stdout().lock();
            if engine == Engine::Reference {
                if stats {
                    eprintln!("error: `--stats` needs the interpreter engine");
                    return Ok(ExitCode::FAILURE);
                }
                if is_bundle(&paths) {
                    eprintln!("error: the reference engine evaluates sources, not bundles");
                    return Ok(ExitCode::FAILURE);
                }
                let Some(p) = program(&paths, max_cost)? else {
                    return Ok(ExitCode::FAILURE);
                };
                for (line, req) in requests(&text) {
                    let d = eval_line(line, &req, |v| ipe_compile::evaluate(&p, v).to_json());
                    writeln!(out, "{d}")?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            let bytes = if is_bundle(&paths) {
                load_bundle(&paths[0], max_cost)?
            } else {
                program(&paths, max_cost)?
                    .map(|p| ipe_compile::lower::lower_with_max_cost(&p, max_cost))
                    .transpose()?
                    .map(|c| c.bytes)
            };
            let Some(bytes) = bytes else {
                return Ok(ExitCode::FAILURE);
            };
            let bundle = Bundle::from_bytes_with_max_cost(&bytes, max_cost)?;
            let counted = stats
                .then(|| {
                    ipe_host::PolicyEngine::with_options(
                        bytes.clone(),
                        ipe_host::EngineOptions {
                            max_cost,
                            ..ipe_host::EngineOptions::interpreter()
                        },
                    )
                })
                .transpose()?;
            for (line, req) in requests(&text) {
                let d = eval_line(line, &req, |v| {
                    // With `--stats` the engine decides (and counts); a decision too long for
                    // its lists is rendered by the plain path.
                    if let Some(engine) = &counted {
                        let set = engine.load();
                        if let Ok(d) = set.evaluate_json(&v.to_string()) {
                            if !d.truncated {
                                return set.report(&d).to_json();
                            }
                        }
                    }
                    ipe_host::evaluate_json(&bundle, v).to_json()
                });
                writeln!(out, "{d}")?;
            }
            if let Some(engine) = counted {
                eprint!("{}", engine.stats().table(10));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
