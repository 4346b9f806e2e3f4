//! `ipe.Engine` and `ipe.Decision`: the host engine `ipe eval` runs, shared by every Python
//! thread (lock-free reads, atomic swaps), evaluating with the GIL released.

use std::path::PathBuf;

use ipe_host::{EngineOptions, ErrorKind, JitTier, PolicyEngine, Report, RequestError as Bad};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::compile::Bundle;
use crate::{BundleError, RequestError};

/// Bundle bytes or a bundle file, as `Engine(...)` and `swap(...)` take them.
enum Source {
    Bytes(Vec<u8>),
    Path(PathBuf),
}

fn source(arg: &Bound<'_, PyAny>) -> PyResult<Source> {
    if let Ok(b) = arg.cast::<Bundle>() {
        return Ok(Source::Bytes(b.get().bytes.clone()));
    }
    if let Ok(b) = arg.cast::<PyBytes>() {
        return Ok(Source::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(p) = arg.extract::<PathBuf>() {
        return Ok(Source::Path(p));
    }
    Err(PyTypeError::new_err(
        "expected an ipe.Bundle, bundle bytes, or the path of a bundle file",
    ))
}

/// A host error as the Python exception it is.
fn host_err(e: &ipe_host::Error) -> PyErr {
    match e.kind() {
        ErrorKind::Io { .. } | ErrorKind::Read(_) => PyOSError::new_err(e.to_string()),
        ErrorKind::NoSource => {
            PyValueError::new_err("the engine was not loaded from a file: nothing to reload")
        }
        ErrorKind::Request(_) => RequestError::new_err(request_detail(e)),
        _ => BundleError::new_err(e.to_string()),
    }
}

/// A malformed request's detail, worded as `ipe eval` words it (without its `malformed
/// request line N: ` prefix).
fn request_detail(e: &ipe_host::Error) -> String {
    match e.kind() {
        ErrorKind::Request(Bad::Json(j) | Bad::DuplicateKey(j)) => j.to_string(),
        ErrorKind::Request(Bad::NotAnObject) => "expected a JSON object".to_owned(),
        _ => e.to_string(),
    }
}

/// One trusted key: 32 raw bytes, 64 hex digits, or the path of an `ipe keygen` public key
/// file (`<name>.pub`).
fn parse_key(arg: &Bound<'_, PyAny>) -> PyResult<[u8; 32]> {
    let mut key = [0u8; 32];
    if let Ok(b) = arg.cast::<PyBytes>() {
        let b = b.as_bytes();
        if b.len() != 32 {
            return Err(PyValueError::new_err(format!(
                "a trusted key is 32 bytes, not {}",
                b.len()
            )));
        }
        key.copy_from_slice(b);
        return Ok(key);
    }
    let text = match arg.cast::<PyString>() {
        Ok(s) if s.to_str()?.len() == 64 => s.to_str()?.to_owned(),
        _ => {
            let path: PathBuf = arg.extract().map_err(|_| {
                PyTypeError::new_err("a trusted key is bytes, hex text or a key file's path")
            })?;
            let text = std::fs::read_to_string(&path).map_err(|e| {
                PyOSError::new_err(format!("reading key file `{}`: {e}", path.display()))
            })?;
            let line = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .unwrap_or_default();
            match line.split_once(' ') {
                Some(("ipe-ed25519-public-key-v1", hex)) => hex.trim().to_owned(),
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "`{}` is not an IPE public key file: expected `ipe-ed25519-public-key-v1 <hex>`",
                        path.display()
                    )))
                }
            }
        }
    };
    hex::decode_to_slice(&text, &mut key)
        .map_err(|e| PyValueError::new_err(format!("a trusted key is 64 hex digits ({e})")))?;
    Ok(key)
}

/// `now=`: integer epoch seconds, RFC 3339 text, or an aware `datetime`; milliseconds.
fn now_ms(arg: &Bound<'_, PyAny>) -> PyResult<i64> {
    let bad = |text: &str| {
        PyValueError::new_err(format!(
            "`{text}` is not a timestamp: write RFC 3339 text such as `2026-12-01T10:00:00Z` or \
             integer epoch seconds (years 0000 to 9999)"
        ))
    };
    if arg.is_instance_of::<pyo3::types::PyInt>() {
        let secs: i64 = arg.extract()?;
        return secs
            .checked_mul(1000)
            .filter(|&ms| ipe_nostd::time::timestamp_ok(ms))
            .ok_or_else(|| bad(&secs.to_string()));
    }
    let text: String = if let Ok(s) = arg.cast::<PyString>() {
        s.to_str()?.to_owned()
    } else if arg.hasattr("isoformat")? && arg.hasattr("tzinfo")? {
        if arg.getattr("tzinfo")?.is_none() {
            return Err(PyValueError::new_err(
                "a naive datetime has no time zone: give one with tzinfo (e.g. timezone.utc)",
            ));
        }
        arg.call_method0("isoformat")?.extract()?
    } else {
        return Err(PyTypeError::new_err(
            "`now` is epoch seconds (int), RFC 3339 text (str) or an aware datetime",
        ));
    };
    ipe_nostd::time::parse_rfc3339(&text).ok_or_else(|| bad(&text))
}

/// A policy engine over one bundle at a time: evaluate requests from any number of threads
/// while another swaps the bundle.
#[pyclass(frozen, module = "ipe")]
pub struct Engine {
    engine: PolicyEngine,
    from_path: bool,
}

#[pymethods]
impl Engine {
    /// `Engine(bundle, *, jit=False, trusted_key=None)`: `bundle` is an `ipe.Bundle`, bundle
    /// bytes, or a bundle file's path (then `reload()` reads it again). `jit=True` compiles
    /// every policy to native code at load (Cranelift); otherwise the interpreter runs them,
    /// as `ipe eval` does. `trusted_key` (a key or a list of keys: 32 bytes, 64 hex digits or
    /// an `ipe keygen` public key file) requires bundles signed by one of them, on this load
    /// and every swap and reload.
    #[new]
    #[pyo3(signature = (bundle, *, jit = false, trusted_key = None, max_cost = None))]
    fn new(
        py: Python<'_>,
        bundle: &Bound<'_, PyAny>,
        jit: bool,
        trusted_key: Option<&Bound<'_, PyAny>>,
        max_cost: Option<u32>,
    ) -> PyResult<Engine> {
        let src = source(bundle)?;
        let keys = match trusted_key {
            None => None,
            Some(k) if k.is_none() => None,
            Some(k)
                if k.is_instance_of::<PyList>() || k.is_instance_of::<pyo3::types::PyTuple>() =>
            {
                Some(
                    k.try_iter()?
                        .map(|k| parse_key(&k?))
                        .collect::<PyResult<Vec<_>>>()?,
                )
            }
            Some(k) => Some(vec![parse_key(k)?]),
        };
        let mut options = if jit {
            EngineOptions::jit_all(JitTier::Optimized)
        } else {
            EngineOptions::interpreter()
        };
        if let Some(c) = max_cost {
            options.max_cost = c;
        }
        let from_path = matches!(src, Source::Path(_));
        let engine = py.detach(move || {
            let trust = keys.map(ipe_host::TrustPolicy::new);
            match (src, trust) {
                (Source::Bytes(b), None) => PolicyEngine::with_options(b, options),
                (Source::Bytes(b), Some(t)) => PolicyEngine::with_trust(b, options, t),
                (Source::Path(p), None) => PolicyEngine::from_file_with_options(p, options),
                (Source::Path(p), Some(t)) => PolicyEngine::from_file_with_trust(p, options, t),
            }
        });
        let engine = engine.map_err(|e| host_err(&e))?;
        Ok(Engine { engine, from_path })
    }

    /// Decides one request: a dict (written as JSON) or JSON text. `now` (epoch seconds, RFC
    /// 3339 text or an aware datetime) replaces the request's own `now`, as `ipe eval --now`.
    /// Raises `RequestError` when the request is not a JSON object.
    #[pyo3(signature = (request, *, now = None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        now: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        let now = match now {
            Some(n) if !n.is_none() => Some(now_ms(n)?),
            _ => None,
        };
        let engine = &self.engine;
        let decide = |text: &str| {
            let set = engine.load();
            match now {
                Some(now) => set.report_json_at(text, now),
                None => set.report_json(text),
            }
            // The one-pass reader stops at the first problem it meets; the value parser's
            // detail is what `ipe eval` prints.
            .map_err(|e| match ipe_host::request::parse_value(text) {
                Err(first) => request_detail(&first),
                Ok(_) => request_detail(&e),
            })
        };
        let result = if let Ok(s) = request.cast::<PyString>() {
            let text = s.to_str()?;
            py.detach(|| decide(text))
        } else if let Ok(b) = request.cast::<PyBytes>() {
            let bytes = b.as_bytes();
            let text = std::str::from_utf8(bytes)
                .map_err(|e| RequestError::new_err(format!("the request is not UTF-8: {e}")))?;
            py.detach(|| decide(text))
        } else if request.is_instance_of::<PyDict>() {
            let text = crate::json::to_json(request)?;
            py.detach(|| decide(&text))
        } else {
            return Err(PyTypeError::new_err(
                "a request is a dict or JSON text (str or bytes)",
            ));
        };
        result
            .map(|report| Decision { report })
            .map_err(RequestError::new_err)
    }

    /// Verifies a new bundle (an `ipe.Bundle`, bytes or a file path) and publishes it
    /// atomically; returns the new version. Evaluations in flight finish on the old one. A
    /// refused bundle raises `BundleError` and leaves the live one in place.
    fn swap(&self, py: Python<'_>, bundle: &Bound<'_, PyAny>) -> PyResult<u64> {
        let bytes = match source(bundle)? {
            Source::Bytes(b) => b,
            Source::Path(p) => std::fs::read(&p)
                .map_err(|e| PyOSError::new_err(format!("reading `{}`: {e}", p.display())))?,
        };
        py.detach(|| self.engine.swap(bytes))
            .map_err(|e| host_err(&e))
    }

    /// Reads the engine's bundle file again and publishes it (an engine made from a path
    /// only); returns the new version.
    fn reload(&self, py: Python<'_>) -> PyResult<u64> {
        if !self.from_path {
            return Err(PyValueError::new_err(
                "the engine was not loaded from a file: nothing to reload",
            ));
        }
        py.detach(|| self.engine.reload()).map_err(|e| host_err(&e))
    }

    /// The live version: 1 at load, one more at each swap or reload.
    #[getter]
    fn version(&self) -> u64 {
        self.engine.version()
    }

    /// The live bundle's policy names, in bundle order.
    #[getter]
    fn policies(&self) -> Vec<String> {
        let set = self.engine.load();
        let bundle = set.bundle();
        (0..bundle.policy_count())
            .filter_map(|i| ipe_nostd::PolicyId::try_from(i).ok())
            .map(|id| bundle.policy(id).name.to_owned())
            .collect()
    }

    /// The live version's counters: `{"version", "policies": [{"name", "evaluations",
    /// "applied", "violated", "errors", "mean_nanos", "code"}], "jit": {...}}`, as `ipe eval
    /// --stats` reads them.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = self.engine.stats();
        let out = PyDict::new(py);
        out.set_item("version", stats.version)?;
        let policies = PyList::empty(py);
        for p in &stats.policies {
            let d = PyDict::new(py);
            d.set_item("name", &p.name)?;
            d.set_item("evaluations", p.evaluations)?;
            d.set_item("applied", p.applied)?;
            d.set_item("violated", p.violated)?;
            d.set_item("errors", p.errors)?;
            d.set_item("mean_nanos", p.mean_nanos())?;
            d.set_item("code", format!("{:?}", p.code).to_lowercase())?;
            policies.append(d)?;
        }
        out.set_item("policies", policies)?;
        let jit = PyDict::new(py);
        jit.set_item("baseline", stats.jit.baseline)?;
        jit.set_item("optimized", stats.jit.optimized)?;
        jit.set_item("batches", stats.jit.batches)?;
        jit.set_item("compiled", stats.jit.compiled)?;
        jit.set_item("reused", stats.jit.reused)?;
        jit.set_item("failures", stats.jit.failures)?;
        jit.set_item("compile_micros", stats.jit.compile_micros)?;
        out.set_item("jit", jit)?;
        Ok(out)
    }

    fn __repr__(&self) -> String {
        let set = self.engine.load();
        format!(
            "<ipe.Engine version {}, {} policies>",
            set.version(),
            set.policy_count()
        )
    }
}

/// A decision: `decision` ("allow" or "deny"), the `matched` policies, the `violations` and
/// the `errors`, as `ipe eval` prints them (`to_dict()` is that JSON object).
#[pyclass(frozen, module = "ipe")]
pub struct Decision {
    report: Report,
}

#[pymethods]
impl Decision {
    /// "allow" or "deny".
    #[getter]
    fn decision(&self) -> &'static str {
        self.report.effect.as_str()
    }

    /// Whether the decision is "allow".
    #[getter]
    fn allowed(&self) -> bool {
        self.report.effect.as_str() == "allow"
    }

    /// The policies that applied, in policy order.
    #[getter]
    fn matched(&self) -> Vec<String> {
        self.report.matched.clone()
    }

    /// `[{"policy", "intent", "reason"}]`, in policy order.
    #[getter]
    fn violations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for v in &self.report.violations {
            let d = PyDict::new(py);
            d.set_item("policy", &v.policy)?;
            d.set_item("intent", &v.intent)?;
            d.set_item("reason", &v.reason)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// `[{"policy", "error"}]`, in policy order: policies that could not be decided (a
    /// missing or wrong-typed attribute, named by its path).
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for e in &self.report.errors {
            let d = PyDict::new(py);
            d.set_item("policy", &e.policy)?;
            d.set_item("error", &e.error)?;
            list.append(d)?;
        }
        Ok(list)
    }

    /// The decision JSON `ipe eval` prints, parsed: `{"decision", "matched", "violations",
    /// "errors"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("decision", self.decision())?;
        d.set_item("matched", self.matched())?;
        d.set_item("violations", self.violations(py)?)?;
        d.set_item("errors", self.errors(py)?)?;
        if self.report.truncated != 0 {
            d.set_item("truncated", self.report.truncated)?;
        }
        Ok(d)
    }

    /// The decision JSON line `ipe eval` prints.
    fn to_json(&self) -> String {
        self.report.to_json()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Decision>()
            .is_ok_and(|o| o.get().report == self.report)
    }

    fn __repr__(&self) -> String {
        format!(
            "<ipe.Decision {} matched={:?} violations={} errors={}>",
            self.decision(),
            self.report.matched,
            self.report.violations.len(),
            self.report.errors.len()
        )
    }
}
