//! The `ipe` command line: its arguments, and how `ipe eval` decides and words one request.

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
    /// Evaluates requests and prints one decision (or error object) per request: per input
    /// line for JSON lines, per element for a JSON array, one for a pretty-printed object.
    Eval {
        /// `.ipe` files or directories, or one compiled bundle.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The request file, or `-` for standard input.
        #[arg(long)]
        input: PathBuf,
        /// The largest request (line, array element or object) read, in bytes; a longer one is
        /// skipped and gets an error line.
        #[arg(long, default_value_t = crate::input::DEFAULT_MAX_LINE_BYTES)]
        max_line_bytes: usize,
        /// Exits with status 1 when any request got an error line instead of a decision
        /// (blank lines do not count).
        #[arg(long)]
        fail_on_error: bool,
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

/// What decides one request for `ipe eval`.
pub enum Decider {
    /// The reference evaluator over the checked program.
    Reference(crate::hir::Program),
    /// The host engine, interpreter only.
    Interp(ipe_host::PolicyEngine),
}

impl Decider {
    /// The decision JSON for one request's text, or why the request is malformed (the
    /// detail is the same whichever engine decides).
    pub fn decide(&self, text: &str) -> Result<String, String> {
        match self {
            Decider::Reference(p) => ipe_host::request::parse_value(text)
                .map(|v| crate::evaluate(p, &v).to_json())
                .map_err(|e| detail(&e)),
            Decider::Interp(engine) => {
                let set = engine.load();
                match set.evaluate_json(text) {
                    Ok(d) => Ok(set.report(&d).to_json()),
                    // The one-pass reader stops at the first problem it meets (e.g. a root
                    // that is not an object); the value parser's detail is what the reference
                    // engine reports, so both engines word a bad request alike.
                    Err(e) => Err(match ipe_host::request::parse_value(text) {
                        Err(first) => detail(&first),
                        Ok(_) => detail(&e),
                    }),
                }
            }
        }
    }
}

/// A request error's detail, without the `malformed request: ` prefix.
fn detail(e: &ipe_host::Error) -> String {
    use ipe_host::{ErrorKind, RequestError};
    match e.kind() {
        ErrorKind::Request(RequestError::Json(j) | RequestError::DuplicateKey(j)) => j.to_string(),
        ErrorKind::Request(RequestError::NotAnObject) => "expected a JSON object".to_owned(),
        _ => e.to_string(),
    }
}

/// The output line of a request that got no decision.
pub fn malformed(place: crate::input::Place, detail: &str) -> String {
    serde_json::json!({ "error": format!("malformed request {place}: {detail}") }).to_string()
}

/// The output line of a blank input line.
pub fn blank(place: crate::input::Place) -> String {
    serde_json::json!({ "error": format!("no request {place}: blank line") }).to_string()
}
