//! IPE as a WebAssembly package for browsers and Node (issue #17, part 3): the compiler
//! (`ipe-compile`) and the engine `ipe eval` decides with (`ipe-host`, interpreter only),
//! exported through wasm-bindgen. No second engine: `check` and `compile` are ipe-compile's,
//! `evaluate` is [`ipe_host::decide::decision_json`], the function `ipe eval` prints with, so
//! a decision is byte for byte the CLI's.
//!
//! The Rust functions ([`diagnostics`], [`compile_bundle`], [`Evaluator`]) are plain Rust (the
//! host tests call them natively); the `#[wasm_bindgen]` items wrap them for JavaScript. The
//! cargo feature `compiler` (default) brings `check` and `compile`; without it the build is
//! engine only (loads bundles and evaluates). See `docs/wasm.md`.

use wasm_bindgen::prelude::*;

#[cfg(feature = "compiler")]
mod compiler;
#[cfg(feature = "compiler")]
pub use compiler::{
    compile_bundle, diagnostics, explain_request, CompileFailure, Diagnostic, ExplainFormat,
    Position, Sources,
};

/// A loaded, verified bundle that decides requests: `ipe eval`'s engine (the host engine,
/// interpreter only, default cost budget).
#[derive(Debug)]
pub struct Evaluator(ipe_host::PolicyEngine);

impl Evaluator {
    /// Loads and verifies bundle bytes (a signed bundle's envelope is opened, its signature
    /// not checked, as `ipe eval` does for a bundle file).
    pub fn new(bundle: &[u8]) -> Result<Evaluator, String> {
        let inner = ipe_nostd::signed::open_unverified(bundle)
            .map_err(|e| format!("not a valid bundle: {e}"))?;
        ipe_host::PolicyEngine::with_options(inner.to_vec(), ipe_host::EngineOptions::interpreter())
            .map(Evaluator)
            .map_err(|e| format!("not a valid bundle: {e}"))
    }

    /// The decision JSON `ipe eval` prints for `request` (at `now_ms`, ms since the Unix
    /// epoch, when given, as `ipe eval --now`), or why the request is malformed.
    pub fn decide(&self, request: &str, now_ms: Option<i64>) -> Result<String, String> {
        ipe_host::decide::decision_json(&self.0.load(), request, now_ms)
            .map_err(|detail| format!("malformed request: {detail}"))
    }

    /// The bundle's policy names, in policy order.
    pub fn policies(&self) -> Vec<String> {
        let set = self.0.load();
        let bundle = set.bundle();
        (0..bundle.policy_count())
            .filter_map(|i| ipe_nostd::PolicyId::try_from(i).ok())
            .map(|id| bundle.policy(id).name.to_owned())
            .collect()
    }
}

// ---- JavaScript bindings ----

/// A JS `Error` with `message`.
fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// A serializable value as a plain JS value (through JSON).
#[cfg(feature = "compiler")]
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(value).map_err(|e| js_error(&e.to_string()))?;
    js_sys::JSON::parse(&text)
}

/// Reads a files argument: a string (one file named `default`) or an object mapping file
/// names to texts (several files, in the object's order); `undefined`/`null`: none.
#[cfg(feature = "compiler")]
fn read_files(
    value: &JsValue,
    what: &str,
    default: &str,
) -> Result<Vec<(String, String)>, JsValue> {
    if value.is_undefined() || value.is_null() {
        Ok(Vec::new())
    } else if let Some(text) = value.as_string() {
        Ok(vec![(default.to_owned(), text)])
    } else if value.is_object() {
        let mut files = Vec::new();
        for entry in js_sys::Object::entries(&js_sys::Object::from(value.clone())).iter() {
            let pair = js_sys::Array::from(&entry);
            let (Some(name), Some(text)) = (pair.get(0).as_string(), pair.get(1).as_string())
            else {
                return Err(js_error(&format!(
                    "{what}: every file's text must be a string"
                )));
            };
            files.push((name, text));
        }
        Ok(files)
    } else {
        Err(js_error(&format!(
            "{what}: expected a string or an object of file names to texts"
        )))
    }
}

/// The sources of `check` and `compile`.
#[cfg(feature = "compiler")]
fn read_sources(source: &JsValue, data: &JsValue, instances: &JsValue) -> Result<Sources, JsValue> {
    Ok(Sources {
        files: read_files(source, "source", "policy.ipe")?,
        data: read_files(data, "data", "data.json")?,
        instances: read_files(instances, "instances", "instances.json")?,
    })
}

/// `check(source, data?, instances?)`: the diagnostics of compiling `source` with the data
/// and instance files (each a string, or an object of file names to texts, as `ipe check
/// FILES --data D --instances I`), each `{severity, message, help, file, start, end,
/// rendered}` with `start`/`end` as `{line, column, offset, utf16}`; an empty array when it
/// compiles.
#[cfg(feature = "compiler")]
#[wasm_bindgen]
pub fn check(source: JsValue, data: JsValue, instances: JsValue) -> Result<JsValue, JsValue> {
    to_js(&diagnostics(&read_sources(&source, &data, &instances)?))
}

/// `compile(source, data?, instances?)`: the bundle bytes (`Uint8Array`), as `ipe compile`
/// writes them; throws an `Error` whose message is the rendered diagnostics and whose
/// `diagnostics` property is `check`'s array.
#[cfg(feature = "compiler")]
#[wasm_bindgen]
pub fn compile(source: JsValue, data: JsValue, instances: JsValue) -> Result<Vec<u8>, JsValue> {
    match compile_bundle(&read_sources(&source, &data, &instances)?) {
        Ok(bytes) => Ok(bytes),
        Err(CompileFailure::Lower(e)) => Err(js_error(&e)),
        Err(CompileFailure::Diagnostics(d)) => {
            let text: Vec<String> = d.iter().map(|d| d.rendered.clone()).collect();
            let error = js_error(&text.join("\n"));
            js_sys::Reflect::set(&error, &JsValue::from_str("diagnostics"), &to_js(&d)?)?;
            Err(error)
        }
    }
}

/// The request time argument in ms, as an integer.
fn now_arg(now_ms: Option<f64>) -> Result<Option<i64>, JsValue> {
    match now_ms {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms.fract() == 0.0 && ms.abs() < 9.0e15 =>
        {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "a whole number below 2^53 in magnitude, checked above"
            )]
            Ok(Some(ms as i64))
        }
        Some(_) => Err(js_error(
            "nowMs: expected whole milliseconds since the Unix epoch",
        )),
    }
}

/// A loaded bundle, for many evaluations (`new Engine(bundle)`).
#[wasm_bindgen(js_name = Engine)]
pub struct JsEngine(Evaluator);

#[wasm_bindgen(js_class = Engine)]
impl JsEngine {
    /// Loads and verifies bundle bytes; throws when they are not a valid bundle.
    #[wasm_bindgen(constructor)]
    pub fn new(bundle: &[u8]) -> Result<JsEngine, JsValue> {
        Evaluator::new(bundle)
            .map(JsEngine)
            .map_err(|e| js_error(&e))
    }

    /// The decision JSON text `ipe eval` prints for the request text (`nowMs`: the request
    /// time, as `ipe eval --now`); throws on a malformed request.
    pub fn evaluate(&self, request: &str, now_ms: Option<f64>) -> Result<String, JsValue> {
        self.0
            .decide(request, now_arg(now_ms)?)
            .map_err(|e| js_error(&e))
    }

    /// The bundle's policy names, in policy order.
    pub fn policies(&self) -> Vec<String> {
        self.0.policies()
    }
}

/// `evaluate(bundle, request, nowMs?)`: loads the bundle and decides one request (see
/// `Engine` for many).
#[wasm_bindgen]
pub fn evaluate(bundle: &[u8], request: &str, now_ms: Option<f64>) -> Result<String, JsValue> {
    JsEngine::new(bundle)?.evaluate(request, now_ms)
}

/// `explain(source, request, nowMs?, format?, data?, instances?)`: what `ipe explain` prints
/// for the request text against `source` (a string, or an object of file names to texts;
/// explaining needs the sources, since a bundle carries no source program), `format` `"text"`
/// (default) or `"json"`, with the data and instance files as `check` takes them; throws with the diagnostics, `malformed request: ...`, or a mismatch with the
/// host engine.
#[cfg(feature = "compiler")]
#[wasm_bindgen]
pub fn explain(
    source: JsValue,
    request: &str,
    now_ms: Option<f64>,
    format: Option<String>,
    data: JsValue,
    instances: JsValue,
) -> Result<String, JsValue> {
    if source.is_instance_of::<js_sys::Uint8Array>() {
        return Err(js_error(
            "explain: pass the sources, not a bundle: a bundle carries no source program to trace",
        ));
    }
    let format = match format.as_deref() {
        None | Some("text") => ExplainFormat::Text,
        Some("json") => ExplainFormat::Json,
        Some(other) => {
            return Err(js_error(&format!(
                "format: expected \"text\" or \"json\", not {other:?}"
            )))
        }
    };
    let sources = read_sources(&source, &data, &instances)?;
    explain_request(&sources, request, now_arg(now_ms)?, format).map_err(|e| js_error(&e))
}

/// Whether this build has the compiler (`check`, `compile`); `false` in the engine-only build.
#[wasm_bindgen(js_name = hasCompiler)]
pub fn has_compiler() -> bool {
    cfg!(feature = "compiler")
}
