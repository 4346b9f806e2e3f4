//! The HTTP surface: routes, the body limit, the per-request timeout and the decide handler.
//!
//! Decisions run inline on the async worker that received the request: one decision takes
//! nanoseconds to microseconds (its cost is bounded by the verifier), less than handing it to
//! another thread would. A batch body larger than [`INLINE_BATCH_BYTES`] may hold thousands of
//! requests (milliseconds), so it is decided on tokio's blocking pool instead, keeping the
//! workers free for other connections.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::value::RawValue;

use crate::declog::Record;
use crate::{Config, Live, Service, DIGEST_HEADER, REQUEST_ID_HEADER, VERSION_HEADER};

/// Batch bodies up to this size are decided inline on the async worker.
pub const INLINE_BATCH_BYTES: usize = 64 * 1024;

/// The service's routes with its limits.
pub fn router(service: Arc<Service>, config: &Config) -> Router {
    let timeout = config.timeout;
    Router::new()
        .route("/v1/decide", post(decide))
        .route("/v1/bundle", get(bundle))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&service),
            move |State(s): State<Arc<Service>>, req: Request, next: Next| async move {
                let response = match tokio::time::timeout(timeout, next.run(req)).await {
                    Ok(r) => r,
                    Err(_) => {
                        s.metrics.timeouts.fetch_add(1, Relaxed);
                        error(
                            StatusCode::REQUEST_TIMEOUT,
                            &format!("request timed out after {} ms", timeout.as_millis()),
                        )
                    }
                };
                s.metrics.count_response(response.status().as_u16());
                response
            },
        ))
        .with_state(service)
}

/// A JSON error response: `{"error": message}`.
fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn healthz() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        "{\"status\":\"ok\"}",
    )
        .into_response()
}

async fn bundle(State(s): State<Arc<Service>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        s.bundle_json(),
    )
        .into_response()
}

async fn metrics(State(s): State<Arc<Service>>) -> Response {
    let live = s.live();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        {
            let mut text = s.metrics.render(&live.info, &live.set);
            if let Some(status) = s.source_status() {
                crate::metrics::render_source(&mut text, &status);
            }
            text
        },
    )
        .into_response()
}

/// The request id: the client's `X-Request-Id` when it is short visible ASCII, else a new one.
fn request_id(s: &Service, headers: &HeaderMap) -> Arc<str> {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| Arc::from(s.next_request_id()), Arc::from)
}

async fn decide(
    State(s): State<Arc<Service>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let id = request_id(&s, &headers);
    let body = match body {
        Ok(b) => b,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "request body too large".to_owned()
            } else {
                rejection.body_text()
            };
            let mut r = error(status, &message);
            set_id(&mut r, &id);
            return r;
        }
    };
    // One version decides the whole body; its digest goes back with the answer.
    let live = s.live();
    let (status, text) = if looks_like_batch(&body) && body.len() > INLINE_BATCH_BYTES {
        let (s2, live2, id2) = (Arc::clone(&s), Arc::clone(&live), Arc::clone(&id));
        match tokio::task::spawn_blocking(move || decide_body(&s2, &live2, &body, &id2)).await {
            Ok(r) => r,
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"error": "the batch could not be decided"}).to_string(),
            ),
        }
    } else {
        decide_body(&s, &live, &body, &id)
    };
    let mut r = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&live.info.digest) {
        h.insert(DIGEST_HEADER, v);
    }
    h.insert(VERSION_HEADER, HeaderValue::from(live.info.version));
    set_id(&mut r, &id);
    r
}

fn set_id(r: &mut Response, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        r.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
}

fn looks_like_batch(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// The status and JSON text answering one body: a decision (or error object) for a single
/// request, an array of them for a batch.
fn decide_body(s: &Service, live: &Live, body: &[u8], id: &Arc<str>) -> (StatusCode, String) {
    let bad = |detail: &str| {
        s.metrics.malformed.fetch_add(1, Relaxed);
        (
            StatusCode::BAD_REQUEST,
            serde_json::json!({ "error": format!("malformed request: {detail}") }).to_string(),
        )
    };
    let Ok(text) = std::str::from_utf8(body) else {
        return bad("the body is not UTF-8");
    };
    if text.trim().is_empty() {
        return bad("the body is empty: send a JSON request object or an array of them");
    }
    if !looks_like_batch(body) {
        return match decide_one(s, live, text, id, None) {
            Ok(json) => (StatusCode::OK, json),
            Err(detail) => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({ "error": format!("malformed request: {detail}") }).to_string(),
            ),
        };
    }
    let elements: Vec<&RawValue> = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return bad(&e.to_string()),
    };
    let mut out = String::with_capacity(elements.len() * 128 + 2);
    out.push('[');
    for (i, e) in elements.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match decide_one(s, live, e.get(), id, Some(i)) {
            Ok(json) => out.push_str(&json),
            // The wording of `ipe eval` for an array element (1-based).
            Err(detail) => out.push_str(
                &serde_json::json!({
                    "error": format!("malformed request in array element {}: {detail}", i + 1)
                })
                .to_string(),
            ),
        }
    }
    out.push(']');
    (StatusCode::OK, out)
}

/// The decision JSON for one request's text, or why it is malformed; counts and logs it.
fn decide_one(
    s: &Service,
    live: &Live,
    text: &str,
    id: &Arc<str>,
    index: Option<usize>,
) -> Result<String, String> {
    let start = Instant::now();
    let report = match s.now {
        Some(now) => live.set.report_json_at(text, now),
        None => live.set.report_json(text),
    };
    let outcome = report.map_err(|e| match ipe_host::request::parse_value(text) {
        Err(first) => request_detail(&first),
        Ok(_) => request_detail(&e),
    });
    let json = outcome.as_ref().map(|r| r.to_json()).map_err(String::clone);
    let latency_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let m = &s.metrics;
    m.observe_latency(latency_ns);
    match &outcome {
        Ok(r) => {
            match r.effect {
                ipe_nostd::Effect::Allow => m.allow.fetch_add(1, Relaxed),
                ipe_nostd::Effect::Deny => m.deny.fetch_add(1, Relaxed),
            };
            if !r.errors.is_empty() {
                m.with_errors.fetch_add(1, Relaxed);
            }
        }
        Err(_) => {
            m.malformed.fetch_add(1, Relaxed);
        }
    }
    if s.log.sample() {
        s.log.push(Record {
            time_ms: crate::now_ms(),
            request_id: Arc::clone(id),
            index,
            bundle: Arc::clone(&live.info),
            outcome: outcome.clone(),
            latency_ns,
            request: s.log.include_request().then(|| text.to_owned()),
        });
    }
    json
}

/// A request error's detail, worded as `ipe eval` words it.
fn request_detail(e: &ipe_host::Error) -> String {
    use ipe_host::{ErrorKind, RequestError};
    match e.kind() {
        ErrorKind::Request(RequestError::Json(j) | RequestError::DuplicateKey(j)) => j.to_string(),
        ErrorKind::Request(RequestError::NotAnObject) => "expected a JSON object".to_owned(),
        _ => e.to_string(),
    }
}
