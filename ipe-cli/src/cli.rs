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
        /// Requiring a signed bundle (issue #18).
        #[command(flatten)]
        trust: crate::sign::TrustArgs,
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
        /// Signing the bundle (issue #18).
        #[command(flatten)]
        sign: crate::sign::SignArgs,
    },
    /// Prints a bundle's header, tables and a disassembly of every policy.
    Inspect {
        /// The `.ipeb` bundle.
        bundle: PathBuf,
    },
    /// Serves decisions over HTTP (`POST /v1/decide`, `GET /v1/bundle`, `/healthz`,
    /// `/metrics`), swapping the bundle when its files change; see docs/serve.md.
    Serve(Box<crate::serve::ServeArgs>),
    /// Analyzes a bundle with an SMT solver: dead policies, always-true/false clauses,
    /// conflicts, shadowed and duplicate policies, what `default deny` never allows, and with
    /// `--against` requests whose decision changed; each with a witness request (see
    /// docs/analyze.md). Exits 1 when there is a finding (unknown answers do not count).
    Analyze {
        /// `.ipe` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A JSON data file whose top-level keys are constants of the bundle (repeatable).
        #[arg(long, value_name = "FILE")]
        data: Vec<PathBuf>,
        /// A JSON file of template instances (repeatable).
        #[arg(long, value_name = "FILE")]
        instances: Vec<PathBuf>,
        /// The old version of the bundle (files or directories, repeatable): report requests
        /// whose decision differs instead (a semantic diff; it gets the same `--data` and
        /// `--instances`).
        #[arg(long, value_name = "PATH")]
        against: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::analyze::Format::Text)]
        format: crate::analyze::Format,
        /// The most list elements the encoding unrolls; answers "never" about a list that may
        /// need more are unknown.
        #[arg(long, value_name = "N", default_value_t = 8)]
        list_bound: u32,
        /// The solver's time limit per query in ms (a timeout is an unknown answer).
        #[arg(long, value_name = "MS", default_value_t = 2000)]
        timeout_ms: u32,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
    },
    /// Writes a new Ed25519 signing key: a secret key file and a `.pub` public key file.
    Keygen(crate::sign::KeygenArgs),
    /// Signs a compiled bundle with a revision and an optional not-before time.
    Sign(crate::sign::SignCmd),
    /// Checks a signed bundle's signature, revision and not-before time as a device does.
    Verify(crate::sign::VerifyArgs),
    /// Rewrites `.ipe` sources in the canonical layout (see docs/fmt.md); a source that does not
    /// parse gets its diagnostics and is left unchanged.
    Fmt {
        /// `.ipe` files or directories (default `.`), or `-` to format standard input to
        /// standard output.
        paths: Vec<PathBuf>,
        /// Changes nothing: prints a unified diff of each file that would change and exits
        /// with status 1 when there is one.
        #[arg(long)]
        check: bool,
        /// Skips the `.ipe` files under this path (repeatable), such as sources that are meant
        /// not to parse.
        #[arg(long, value_name = "PATH")]
        exclude: Vec<PathBuf>,
    },
    /// Runs the test files beside the policies (`*.test.json`, see docs/testing.md): a line
    /// per case, a summary, a diff on failure (exit 1), and clause coverage on request.
    Test {
        /// `.ipe` files or directories (their `*.test.json` files are run), and test files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Runs only the cases whose name (`file::case`) contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// The report's format.
        #[arg(long, value_enum, default_value = "text")]
        format: crate::test::Format,
        /// The engines every case runs on; `all` fails a case when they disagree.
        #[arg(long, value_enum, default_value = "interp")]
        engine: crate::test::Engines,
        /// Clause coverage: a table (`text`, the default) after the summary, or `json` (then
        /// standard output is the coverage document and the case lines go to standard error;
        /// with `--format json` it is the document's `coverage` key).
        #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "text")]
        coverage: Option<crate::test::Format>,
        /// Writes the clause coverage as LCOV to FILE.
        #[arg(long, value_name = "FILE")]
        lcov: Option<PathBuf>,
        /// A JSON file of template instances (repeatable; see docs/LANGUAGE.md, "Reuse").
        #[arg(long, value_name = "FILE")]
        instances: Vec<PathBuf>,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
        /// A JSON data file whose top-level keys are constants of the bundle (repeatable).
        #[arg(long, value_name = "FILE")]
        data: Vec<PathBuf>,
    },
    /// Explains one request's decision: every policy's index candidacy, trigger and clauses
    /// as a tree with the values read, first-match steps and the final combination (see
    /// docs/explain.md); checked against the host engine's decision.
    Explain {
        /// `.ipe` files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The request: a file holding one JSON object, or `-` for standard input.
        #[arg(long)]
        request: PathBuf,
        /// The request time `now` (RFC 3339 text or integer epoch seconds), replacing any
        /// `now` the request carries.
        #[arg(long, value_name = "RFC3339|EPOCH")]
        now: Option<String>,
        /// Text for people or JSON for tools.
        #[arg(long, value_enum, default_value = "text")]
        format: crate::test::Format,
        /// A JSON file of template instances (repeatable; see docs/LANGUAGE.md, "Reuse").
        #[arg(long, value_name = "FILE")]
        instances: Vec<PathBuf>,
        /// The cost budget: the most steps one policy may take (see docs/LANGUAGE.md).
        #[arg(long, value_name = "STEPS", default_value_t = ipe_nostd::verify::DEFAULT_MAX_COST)]
        max_cost: u32,
        /// A JSON data file whose top-level keys are constants of the bundle (repeatable).
        #[arg(long, value_name = "FILE")]
        data: Vec<PathBuf>,
    },
    /// Pushes a compiled bundle to an OCI registry as an IPE artifact; see docs/oci.md.
    Push(crate::oci::PushArgs),
    /// Pulls a bundle artifact from an OCI registry (by tag or digest); see docs/oci.md.
    Pull(crate::oci::PullArgs),
    /// Names a load error from its stable code as a firmware logs it (`E201`), and with the
    /// logged numbers prints its text (issue #15; docs/bundle-format.md, "Load error codes").
    ExplainError {
        /// The code: `E201` or `201`.
        code: String,
        /// The error's numbers, as logged (`3 1 0 17 0 255` or `[3, 1, 0, 17, 0, 255]`).
        #[arg(allow_negative_numbers = true)]
        numbers: Vec<String>,
    },
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
        ipe_host::decide::decision_json(&self.0.load(), text, self.1)
    }
}

/// A request error's detail, without the `malformed request: ` prefix.
pub fn request_detail(e: &ipe_host::Error) -> String {
    ipe_host::decide::request_detail(e)
}

/// The output line of a request that got no decision.
pub fn malformed(place: crate::input::Place, detail: &str) -> String {
    serde_json::json!({ "error": format!("malformed request {place}: {detail}") }).to_string()
}

/// The output line of a blank input line.
pub fn blank(place: crate::input::Place) -> String {
    serde_json::json!({ "error": format!("no request {place}: blank line") }).to_string()
}
