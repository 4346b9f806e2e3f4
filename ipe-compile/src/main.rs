//! The `ipe` command.

use anyhow::Context;
use clap::Parser;
use ipe_compile::cli::{eval_line, requests, Cli, Command, Engine};
use ipe_compile::CompileError;
use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths } => match ipe_compile::compile_paths(&paths) {
            Ok(_) => Ok(ExitCode::SUCCESS),
            Err(CompileError::Diagnostics(d)) => {
                eprintln!("{d}");
                Ok(ExitCode::FAILURE)
            }
            Err(e) => Err(e.into()),
        },
        Command::Eval {
            paths,
            input,
            engine,
        } => {
            let program = match ipe_compile::compile_paths(&paths) {
                Ok(p) => p,
                Err(CompileError::Diagnostics(d)) => {
                    eprintln!("{d}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            };
            let text = if input.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading standard input")?;
                s
            } else {
                std::fs::read_to_string(&input)
                    .with_context(|| format!("reading `{}`", input.display()))?
            };
            let mut out = std::io::stdout().lock();
            for (line, req) in requests(&text) {
                let decision = match engine {
                    Engine::Reference => eval_line(&program, line, &req),
                };
                writeln!(out, "{decision}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
