//! The `ipe` command line: its arguments, and how `ipe eval` decides and words one request.

use clap::{Parser, Subcommand};
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
        /// A JSON file of template instances (repeatable; see docs/LANGUAGE.md, "Reuse").
        #[arg(long, value_name = "FILE")]
        instances: Vec<PathBuf>,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
        /// A JSON data file whose top-level keys are constants of the bundle (repeatable; see
        /// docs/LANGUAGE.md, "Constants, data files and hierarchies").
        #[arg(long, value_name = "FILE")]
        data: Vec<PathBuf>,
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
        /// The request time `now` of every request (issue #14): RFC 3339 text
        /// (`2026-12-01T10:00:00Z`) or integer epoch seconds; it replaces any `now` a request
        /// carries. Without it, a request's own `now` is used, and a policy that reads `now`
        /// when there is none gets an error naming `now`.
        #[arg(long, value_name = "RFC3339|EPOCH", value_parser = parse_now)]
        now: Option<i64>,
        /// Also prints the hottest and most violating policies to standard error (the host
        /// engine that decides counts every evaluation).
        #[arg(long)]
        stats: bool,
        /// A JSON file of template instances (repeatable; see docs/LANGUAGE.md, "Reuse").
        #[arg(long, value_name = "FILE")]
        instances: Vec<PathBuf>,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
        /// A JSON data file whose top-level keys are constants of the bundle (repeatable; see
        /// docs/LANGUAGE.md, "Constants, data files and hierarchies").
        #[arg(long, value_name = "FILE")]
        data: Vec<PathBuf>,
    },
    /// Compiles sources into a verified bytecode bundle and reports each policy's size and cost.
    Compile {
        /// `.ipe` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Where to write the bundle.
        #[arg(short, long)]
        output: PathBuf,
        /// A JSON file of template instances (repeatable; see docs/LANGUAGE.md, "Reuse").
        #[arg(long, value_name = "FILE")]
        instances: Vec<PathBuf>,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
        /// A JSON data file whose top-level keys are constants of the bundle (repeatable; see
        /// docs/LANGUAGE.md, "Constants, data files and hierarchies").
        #[arg(long, value_name = "FILE")]
        data: Vec<PathBuf>,
    },
    /// Prints a bundle's header, tables and a disassembly of every policy.
    Inspect {
        /// The `.ipeb` bundle.
        bundle: PathBuf,
    },
    /// Serves decisions over HTTP (`POST /v1/decide`, `GET /v1/bundle`, `/healthz`,
    /// `/metrics`), swapping the bundle when its files change; see docs/serve.md.
    Serve(Box<crate::serve::ServeArgs>),
    /// Pushes a compiled bundle to an OCI registry as an IPE artifact; see docs/oci.md.
    Push(crate::oci::PushArgs),
    /// Pulls a bundle artifact from an OCI registry (by tag or digest); see docs/oci.md.
    Pull(crate::oci::PullArgs),
}

/// `--now`: RFC 3339 text or integer epoch seconds, as ms since the Unix epoch.
pub fn parse_now(text: &str) -> Result<i64, String> {
    let ms = match text.parse::<i64>() {
        Ok(secs) => secs
            .checked_mul(1000)
            .filter(|&ms| ipe_nostd::time::timestamp_ok(ms)),
        Err(_) => ipe_nostd::time::parse_rfc3339(text),
    };
    ms.ok_or_else(|| {
        format!(
            "`{text}` is not a timestamp: write RFC 3339 text such as `2026-12-01T10:00:00Z` or \
             integer epoch seconds (years 0000 to 9999)"
        )
    })
}

/// What decides one request for `ipe eval`: the host engine, interpreter only, over sources
/// compiled on the fly or a bundle (the one evaluation path of the command), and the request
/// time `--now` gives (ms since the Unix epoch), if any.
pub struct Decider(pub ipe_host::PolicyEngine, pub Option<i64>);

impl Decider {
    /// The decision JSON for one request's text, or why the request is malformed (the
    /// detail is the value parser's wording, see [`request_detail`]).
    pub fn decide(&self, text: &str) -> Result<String, String> {
        let set = self.0.load();
        let report = match self.1 {
            Some(now) => set.report_json_at(text, now),
            None => set.report_json(text),
        };
        match report {
            Ok(r) => Ok(r.to_json()),
            // The one-pass reader stops at the first problem it meets (e.g. a root that is
            // not an object); the value parser's detail is what `ipe eval` has always printed.
            Err(e) => Err(match ipe_host::request::parse_value(text) {
                Err(first) => request_detail(&first),
                Ok(_) => request_detail(&e),
            }),
        }
    }
}

/// A request error's detail, without the `malformed request: ` prefix.
pub fn request_detail(e: &ipe_host::Error) -> String {
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
