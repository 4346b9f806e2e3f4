//! The `ipe` command line: `ipe check` and `ipe eval`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// IPE policy compiler and evaluator.
#[derive(Debug, Parser)]
#[command(name = "ipe", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks a bundle: prints diagnostics, exits 1 when there are any.
    Check {
        /// `.ipe` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
    },
    /// Evaluates requests (a JSON object or JSON lines) and prints one decision per line.
    Eval {
        /// `.ipe` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The request file, or `-` for standard input.
        #[arg(long)]
        input: PathBuf,
        /// The evaluation engine.
        #[arg(long, value_enum, default_value_t = Engine::Interp)]
        engine: Engine,
        /// Also evaluates through ipe-host's `PolicyEngine` and prints the hottest and most
        /// violating policies to standard error (interpreter engine only).
        #[arg(long)]
        stats: bool,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
    },
    /// Compiles sources into a verified bytecode bundle and reports each policy's size and cost.
    Compile {
        /// `.ipe` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Where to write the bundle.
        #[arg(short, long)]
        output: PathBuf,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
    },
    /// Prints a bundle's header, tables and a disassembly of every policy.
    Inspect {
        /// The `.ipeb` bundle.
        bundle: PathBuf,
    },
}

/// Evaluation engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The reference evaluator over the checked program (sources only).
    Reference,
    /// The bytecode interpreter (`ipe-nostd`), over sources compiled on the fly or a bundle.
    Interp,
}

/// Splits request input into `(line number, request text)`: a whole-file JSON value when the
/// input parses as one, otherwise one request per non-blank line.
pub fn requests(input: &str) -> Vec<(usize, String)> {
    let trimmed = input.trim();
    if trimmed.starts_with('{')
        && serde_json::from_str::<serde_json::Value>(trimmed).is_ok()
        && !trimmed.contains("}\n")
    {
        return vec![(1, trimmed.to_owned())];
    }
    input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| (n + 1, l.to_owned()))
        .collect()
}

/// The output line for one request: `decide`'s decision JSON for a JSON object, or a
/// malformed-request error object.
pub fn eval_line(line: usize, text: &str, decide: impl Fn(&serde_json::Value) -> String) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v.is_object() => decide(&v),
        Ok(_) => malformed(line, "expected a JSON object"),
        Err(e) => malformed(line, &e.to_string()),
    }
}

fn malformed(line: usize, detail: &str) -> String {
    serde_json::json!({ "error": format!("malformed request on line {line}: {detail}") })
        .to_string()
}
