//! `ipe.compile` and `ipe.Bundle`: sources to verified bundle bytes through `ipe-compile`,
//! with its diagnostics raised as `ipe.CompileError`.

use std::path::PathBuf;

use ipe_compile::{CompileError as Failure, CompileOptions, DataFile, InstanceSource};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use crate::{BundleError, CompileError};

/// A compiled, verified bundle: the bytes `ipe compile -o` writes.
#[pyclass(frozen, module = "ipe")]
pub struct Bundle {
    pub(crate) bytes: Vec<u8>,
    policies: Vec<String>,
}

impl Bundle {
    /// Verifies `bytes` (a bundle, or a signed envelope whose bundle is checked without its
    /// signature) and reads its policy names.
    pub(crate) fn verified(bytes: Vec<u8>, max_cost: u32) -> Result<Bundle, String> {
        let inner = ipe_nostd::signed::open_unverified(&bytes).map_err(|e| e.to_string())?;
        let bundle = ipe_nostd::Bundle::from_bytes_with_max_cost(inner, max_cost)
            .map_err(|e| e.to_string())?;
        let policies = (0..bundle.policy_count())
            .filter_map(|i| ipe_nostd::PolicyId::try_from(i).ok())
            .map(|id| bundle.policy(id).name.to_owned())
            .collect();
        Ok(Bundle { bytes, policies })
    }
}

#[pymethods]
impl Bundle {
    /// A bundle from the bytes of a compiled (or signed) bundle; raises `BundleError` when
    /// they are not a valid one.
    #[staticmethod]
    #[pyo3(signature = (data, *, max_cost = None))]
    fn from_bytes(data: Vec<u8>, max_cost: Option<u32>) -> PyResult<Bundle> {
        Bundle::verified(
            data,
            max_cost.unwrap_or(ipe_nostd::verify::DEFAULT_MAX_COST),
        )
        .map_err(|e| BundleError::new_err(format!("not a valid bundle: {e}")))
    }

    /// Reads a bundle file (`ipe compile -o` output).
    #[staticmethod]
    #[pyo3(signature = (path, *, max_cost = None))]
    fn open(path: PathBuf, max_cost: Option<u32>) -> PyResult<Bundle> {
        let bytes = std::fs::read(&path)
            .map_err(|e| PyOSError::new_err(format!("reading `{}`: {e}", path.display())))?;
        Bundle::verified(
            bytes,
            max_cost.unwrap_or(ipe_nostd::verify::DEFAULT_MAX_COST),
        )
        .map_err(|e| {
            BundleError::new_err(format!("`{}` is not a valid bundle: {e}", path.display()))
        })
    }

    /// The bundle bytes (what `ipe compile -o` writes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.bytes)
    }

    fn __bytes__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.to_bytes(py)
    }

    /// Writes the bundle to a file (`ipe eval` and `ipe inspect` read it).
    fn write(&self, path: PathBuf) -> PyResult<()> {
        std::fs::write(&path, &self.bytes)
            .map_err(|e| PyOSError::new_err(format!("writing `{}`: {e}", path.display())))
    }

    /// The policy names, in bundle order.
    #[getter]
    fn policies(&self) -> Vec<String> {
        self.policies.clone()
    }

    fn __len__(&self) -> usize {
        self.bytes.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<ipe.Bundle {} policies, {} bytes>",
            self.policies.len(),
            self.bytes.len()
        )
    }
}

/// One compile diagnostic: where (1-based line and column in characters; the end is
/// exclusive), what, and the help line.
#[pyclass(frozen, module = "ipe", get_all)]
#[derive(Clone)]
pub struct Diagnostic {
    message: String,
    help: Option<String>,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    /// The diagnostic as `ipe check` renders it (source line, caret, help).
    rendered: String,
}

impl Diagnostic {
    fn of(d: &ipe_compile::Diagnostic) -> Diagnostic {
        let (line, column) = d.line_col();
        let under = d.underlined();
        let (end_line, end_column) = match under.rsplit_once('\n') {
            Some((before, last)) => (
                line + before.matches('\n').count() + 1,
                last.chars().count() + 1,
            ),
            None => (line, column + under.chars().count()),
        };
        Diagnostic {
            message: d.message().to_owned(),
            help: d.help().map(str::to_owned),
            file: d.file().to_owned(),
            line,
            column,
            end_line,
            end_column,
            rendered: d.render(),
        }
    }
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        format!(
            "<ipe.Diagnostic {}:{}:{}: {}>",
            self.file, self.line, self.column, self.message
        )
    }

    fn __str__(&self) -> String {
        self.rendered.clone()
    }
}

/// Why a compilation failed, without the GIL's types (built off the GIL).
enum Failed {
    Diagnostics(String, Vec<Diagnostic>),
    Io(String),
    Other(String),
}

impl Failed {
    fn into_err(self, py: Python<'_>) -> PyErr {
        match self {
            Failed::Diagnostics(text, diags) => {
                let err = CompileError::new_err(text);
                let list = PyList::empty(py);
                for d in diags {
                    if let Ok(d) = Bound::new(py, d) {
                        let _ = list.append(d);
                    }
                }
                if let Err(e) = err.value(py).setattr("diagnostics", list) {
                    return e;
                }
                err
            }
            Failed::Io(text) => PyOSError::new_err(text),
            Failed::Other(text) => {
                let err = CompileError::new_err(text);
                if let Err(e) = err.value(py).setattr("diagnostics", PyList::empty(py)) {
                    return e;
                }
                err
            }
        }
    }
}

/// A data or instance argument: paths (read off the GIL) or in-memory JSON texts.
enum JsonSource {
    Path(PathBuf),
    Text(String, String),
}

/// Reads `data=` / `instances=`: a path, a dict (or list, for instances) of JSON values, or a
/// list/tuple of those.
fn json_sources(arg: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<JsonSource>> {
    let Some(arg) = arg else {
        return Ok(Vec::new());
    };
    if arg.is_none() {
        return Ok(Vec::new());
    }
    let one = |item: &Bound<'_, PyAny>, n: usize| -> PyResult<JsonSource> {
        if item.is_instance_of::<PyDict>()
            || (what == "instances" && item.is_instance_of::<PyList>())
        {
            let text = crate::json::to_json(item)?;
            return Ok(JsonSource::Text(format!("<{what} {n}>"), text));
        }
        match item.extract::<PathBuf>() {
            Ok(p) => Ok(JsonSource::Path(p)),
            Err(_) => Err(PyTypeError::new_err(format!(
                "`{what}` takes paths or dicts (or a list of them), not {}",
                item.get_type()
                    .name()
                    .map_or_else(|_| "?".to_owned(), |n| n.to_string())
            ))),
        }
    };
    if arg.is_instance_of::<PyTuple>()
        || (arg.is_instance_of::<PyList>() && !(what == "instances" && is_instance_list(arg)))
    {
        return arg
            .try_iter()?
            .enumerate()
            .map(|(n, item)| one(&item?, n + 1))
            .collect();
    }
    Ok(vec![one(arg, 1)?])
}

/// Whether a list given as `instances=` is itself one instance document (a list of objects),
/// not a list of files.
fn is_instance_list(arg: &Bound<'_, PyAny>) -> bool {
    arg.try_iter().is_ok_and(|mut it| {
        it.next()
            .is_some_and(|first| first.is_ok_and(|f| f.is_instance_of::<PyDict>()))
    })
}

/// Compiles IPE sources into a verified [`Bundle`].
///
/// Give either `source` (the text of one `.ipe` file) or `paths` (files, or directories
/// contributing their `.ipe` files, as `ipe compile` takes them). `data`: data files whose
/// top-level keys are constants (`--data`): paths, dicts, or a list of them. `instances`:
/// template instance files (`--instances`): paths or JSON values. Raises `CompileError` with
/// the text `ipe check` prints and the structured `diagnostics`.
#[pyfunction]
#[pyo3(signature = (source = None, paths = None, data = None, *, instances = None, max_cost = None, name = None))]
pub fn compile(
    py: Python<'_>,
    source: Option<&Bound<'_, PyString>>,
    paths: Option<Vec<PathBuf>>,
    data: Option<&Bound<'_, PyAny>>,
    instances: Option<&Bound<'_, PyAny>>,
    max_cost: Option<u32>,
    name: Option<String>,
) -> PyResult<Bundle> {
    let source = source.map(|s| s.to_str().map(str::to_owned)).transpose()?;
    if source.is_some() == paths.is_some() {
        return Err(PyValueError::new_err(
            "give `source` (policy text) or `paths` (files and directories), not both or neither",
        ));
    }
    let data = json_sources(data, "data")?;
    let instances = json_sources(instances, "instances")?;
    let max_cost = max_cost.unwrap_or(ipe_nostd::verify::DEFAULT_MAX_COST);
    let name = name.unwrap_or_else(|| "<source>".to_owned());
    let result = py.detach(move || -> Result<Bundle, Failed> {
        let read = |s: JsonSource| -> Result<(String, String), Failed> {
            match s {
                JsonSource::Text(n, t) => Ok((n, t)),
                JsonSource::Path(p) => std::fs::read_to_string(&p)
                    .map(|t| (p.display().to_string(), t))
                    .map_err(|e| Failed::Io(format!("cannot read `{}`: {e}", p.display()))),
            }
        };
        let options = CompileOptions {
            max_cost,
            data: data
                .into_iter()
                .map(|s| read(s).map(|(name, text)| DataFile { name, text }))
                .collect::<Result<_, _>>()?,
            instances: instances
                .into_iter()
                .map(|s| read(s).map(|(name, text)| InstanceSource { name, text }))
                .collect::<Result<_, _>>()?,
        };
        let compiled = match (source, paths) {
            (Some(text), _) => ipe_compile::compile_bundle_str_with(&[(name, text)], &options)
                .map_err(Failure::Diagnostics),
            (None, paths) => ipe_compile::compile_bundle_paths_with(
                &paths.unwrap_or_default(),
                &options,
                &mut |_| {},
            ),
        };
        let (_, compiled) = compiled.map_err(|e| match e {
            Failure::Diagnostics(d) => {
                Failed::Diagnostics(d.to_string(), d.0.iter().map(Diagnostic::of).collect())
            }
            Failure::Io { .. } => Failed::Io(e.to_string()),
            other => Failed::Other(other.to_string()),
        })?;
        Bundle::verified(compiled.bytes, max_cost).map_err(Failed::Other)
    });
    result.map_err(|f| f.into_err(py))
}
