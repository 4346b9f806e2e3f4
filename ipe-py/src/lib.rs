//! IPE's Python extension module, `ipe._ipe` (re-exported by the `ipe` package in `python/`).
//!
//! A thin layer over `ipe-compile` (sources to bundles, with the same diagnostics as
//! `ipe check`) and `ipe-host` (the engine `ipe eval` runs): no second engine and no second
//! copy of the semantics. Requests given as dicts are written to JSON text here and read by the
//! host's JSON reader, the one `ipe eval` uses, so a decision equals the CLI's for the same
//! request. Evaluation, loading and swapping run with the GIL released.

// PyO3's `#[pyclass]`, `#[pymethods]`, `#[pymodule]` and `create_exception!` expand to
// `unsafe` code of PyO3's own (its FFI glue); this crate writes none itself.
#![allow(unsafe_code, reason = "PyO3's macros expand to unsafe FFI glue")]

mod compile;
mod engine;
mod json;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(
    ipe,
    CompileError,
    PyValueError,
    "The sources do not compile. `str(e)` is the text `ipe check` prints; `e.diagnostics` \
     lists each diagnostic's fields."
);
create_exception!(
    ipe,
    BundleError,
    PyValueError,
    "A bundle is not valid (bad bytes, over the cost budget, or refused by the trust policy)."
);
create_exception!(
    ipe,
    RequestError,
    PyValueError,
    "A request is not a JSON object (or a dict that can be written as one); no decision."
);

/// The extension module.
#[pymodule]
fn _ipe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("CompileError", py.get_type::<CompileError>())?;
    m.add("BundleError", py.get_type::<BundleError>())?;
    m.add("RequestError", py.get_type::<RequestError>())?;
    m.add_class::<compile::Bundle>()?;
    m.add_class::<compile::Diagnostic>()?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::Decision>()?;
    m.add_function(wrap_pyfunction!(compile::compile, m)?)?;
    Ok(())
}
