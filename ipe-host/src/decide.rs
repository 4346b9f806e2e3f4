//! One JSON request's decision as the text `ipe eval` prints for it, shared by every surface
//! that must print exactly that (the CLI, the WebAssembly package).

use crate::{Error, ErrorKind, PolicySet, RequestError};

/// The decision JSON of one request's text against `set` (at the request time `now_ms`, ms
/// since the Unix epoch, when given: it replaces any `now` the request carries), or why the
/// request is malformed: the value parser's wording ([`request_detail`]), since the one-pass
/// reader stops at the first problem it meets (e.g. a root that is not an object).
pub fn decision_json(set: &PolicySet, text: &str, now_ms: Option<i64>) -> Result<String, String> {
    let report = match now_ms {
        Some(now) => set.report_json_at(text, now),
        None => set.report_json(text),
    };
    match report {
        Ok(r) => Ok(r.to_json()),
        Err(e) => Err(match crate::request::parse_value(text) {
            Err(first) => request_detail(&first),
            Ok(_) => request_detail(&e),
        }),
    }
}

/// A request error's detail, without the `malformed request: ` prefix.
pub fn request_detail(e: &Error) -> String {
    match e.kind() {
        ErrorKind::Request(RequestError::Json(j) | RequestError::DuplicateKey(j)) => j.to_string(),
        ErrorKind::Request(RequestError::NotAnObject) => "expected a JSON object".to_owned(),
        _ => e.to_string(),
    }
}
