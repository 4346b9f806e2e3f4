//! Python values to JSON text: a request dict becomes the text `ipe eval` would read, so the
//! host's one JSON reader decides it.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Nesting deeper than this is refused before the reader sees it (the reader's own limit is
/// lower; this only bounds the recursion here).
const MAX_DEPTH: usize = 512;

/// Writes `value` (dicts with `str` keys, lists, tuples, `str`, `int`, `float`, `bool`,
/// `None`) as JSON text.
pub fn to_json(value: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out, 0)?;
    // Only JSON text (ASCII punctuation and serde_json-escaped strings) was written.
    String::from_utf8(out).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn write_str(s: &str, out: &mut Vec<u8>) -> PyResult<()> {
    serde_json::to_writer(out, s).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn write(value: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "the request nests deeper than {MAX_DEPTH} levels"
        )));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return write_str(s.to_str()?, out);
    }
    if let Ok(d) = value.cast::<PyDict>() {
        out.push(b'{');
        for (i, (k, v)) in d.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let Ok(k) = k.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!(
                    "request keys are str, not {}",
                    type_name(&k)
                )));
            };
            write_str(k.to_str()?, out)?;
            out.push(b':');
            write(&v, out, depth + 1)?;
        }
        out.push(b'}');
        return Ok(());
    }
    if value.is_none() {
        out.extend_from_slice(b"null");
        return Ok(());
    }
    // `bool` is a subclass of `int`: test it first.
    if let Ok(b) = value.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
        return Ok(());
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(n) = value.extract::<i64>() {
            out.extend_from_slice(n.to_string().as_bytes());
        } else {
            // Beyond i64: its decimal digits, as JSON spells it (the reader decides).
            out.extend_from_slice(value.str()?.to_str()?.as_bytes());
        }
        return Ok(());
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        let f = f.value();
        let Some(n) = serde_json::Number::from_f64(f) else {
            return Err(PyValueError::new_err(format!(
                "{f} is not a JSON number (no NaN or infinity in requests)"
            )));
        };
        out.extend_from_slice(n.to_string().as_bytes());
        return Ok(());
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        out.push(b'[');
        for (i, item) in value.try_iter()?.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write(&item?, out, depth + 1)?;
        }
        out.push(b']');
        return Ok(());
    }
    Err(PyTypeError::new_err(format!(
        "a request holds dict, list, tuple, str, int, float, bool and None values, not {}",
        type_name(value)
    )))
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}
