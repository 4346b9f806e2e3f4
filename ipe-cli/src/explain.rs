//! `ipe explain`: why one request got its decision. The computation and its rendering are
//! [`ipe_explain`]'s (shared with the WebAssembly package); this module reads the arguments.

use crate::authoring::{Compiled, Engine};
pub use ipe_explain::{Explanation, IndexNote, PolicyOutcome};
use serde_json::Value;

/// Explains `compiled`'s decision for `request` (with `now` already set, if any), checked
/// against the host interpreter.
pub fn explain(
    compiled: &mut Compiled,
    request: &Value,
    max_cost: u32,
) -> anyhow::Result<Explanation> {
    compiled.host(Engine::Interp, max_cost)?;
    let (program, engine) = compiled.program_and_interp()?;
    ipe_explain::explain(program, engine, request).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `ipe explain` as a command: compiles the sources, reads the request, prints the
/// explanation; exits 1 when the request is not a JSON object or when the host engine's
/// decision differs from the explanation's (which the tests rule out).
pub fn run(
    paths: &[std::path::PathBuf],
    request: &std::path::Path,
    now: Option<&str>,
    format: crate::test::Format,
    instances: &[std::path::PathBuf],
    data: &[std::path::PathBuf],
    max_cost: u32,
) -> anyhow::Result<std::process::ExitCode> {
    use anyhow::Context;
    use std::io::{Read, Write};
    let sources = crate::authoring::Sources::read(paths.to_vec(), instances, data, max_cost)?;
    let mut warn = |w: &str| {
        let _ = writeln!(std::io::stderr().lock(), "warning: {w}");
    };
    let mut compiled = sources.compile_bundle(None, &mut warn)?;
    let text = if request.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        s
    } else {
        std::fs::read_to_string(request)
            .with_context(|| format!("reading `{}`", request.display()))?
    };
    let mut value: Value =
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("malformed request: {e}"))?;
    if !value.is_object() {
        anyhow::bail!("malformed request: expected a JSON object");
    }
    if let Some(now) = now {
        let v = now
            .parse::<i64>()
            .map_or_else(|_| Value::from(now), Value::from);
        crate::authoring::set_now(&mut value, &v).map_err(|e| anyhow::anyhow!("`--now`: {e}"))?;
    }
    let e = explain(&mut compiled, &value, max_cost)?;
    let body = match format {
        crate::test::Format::Text => e.text.clone(),
        crate::test::Format::Json => e.json_text(),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(body.as_bytes())
        .and_then(|()| out.flush())
        .context("writing standard output")?;
    Ok(if e.agrees {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    })
}
