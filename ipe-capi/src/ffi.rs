//! The C entry points: pointer checks, then the safe code of the crate root.
//!
//! Every function here is `unsafe extern "C"`: its `# Safety` section states what the C caller
//! promises about the pointers it passes beyond their being non-null (null is always checked
//! and reported as `IPE_STATUS_NULL_ARGUMENT`, except where a pointer is documented as
//! optional). Each body runs inside [`guard`], so a panic never unwinds into C.

use std::ffi::c_char;
use std::path::PathBuf;

use crate::{
    decide_json, guard, last_error, utf8, Attr, Decided, Failure, IpeDecision, IpeEngine,
    IpeRequest, IpeStatus, IpeStr,
};

/// Borrows `len` bytes at `ptr` (checked for null and for a length a slice can have).
///
/// # Safety
/// When `ptr` is not null it points to `len` readable bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    if isize::try_from(len).is_err() {
        return Err(Failure::new(
            IpeStatus::Other,
            format!("`{what}` is longer than any buffer can be"),
        ));
    }
    // SAFETY: `ptr` is non-null and the caller promises `len` readable bytes there that do
    // not change while borrowed; `len` fits in `isize` (checked above).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows `len` bytes at `ptr` as UTF-8 text.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    // SAFETY: forwarded: the caller's promise for `ptr` and `len`.
    utf8(unsafe { bytes(ptr.cast(), len, what) }?, what)
}

/// Writes `value` through `out` unless it is null.
///
/// # Safety
/// When `out` is not null it is valid for a write of a `T` and aligned.
pub(crate) unsafe fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-null, and the caller promises a valid, aligned `T` slot.
        unsafe { out.write(value) };
    }
}

/// Borrows the engine behind a handle.
///
/// # Safety
/// When `engine` is not null it came from an `ipe_engine_open_*` call and was not freed.
pub(crate) unsafe fn engine_ref<'a>(engine: *const IpeEngine) -> Result<&'a IpeEngine, Failure> {
    // SAFETY: the caller promises a live handle when it is not null; `as_ref` checks null.
    unsafe { engine.as_ref() }.ok_or_else(|| Failure::null("engine"))
}

/// Borrows a request handle mutably.
///
/// # Safety
/// When `request` is not null it came from [`ipe_request_new`], was not freed, and no other
/// thread uses it during the call.
unsafe fn request_mut<'a>(request: *mut IpeRequest) -> Result<&'a mut IpeRequest, Failure> {
    // SAFETY: the caller promises a live, unshared handle when it is not null.
    unsafe { request.as_mut() }.ok_or_else(|| Failure::null("request"))
}

/// Hands a new engine to C through `out`.
///
/// # Safety
/// `out` is non-null (checked by the caller of this helper), valid for a write and aligned.
pub(crate) unsafe fn give<T>(out: *mut *mut T, value: T) {
    // SAFETY: the caller's promise for `out`; the box is turned back by the matching free.
    unsafe { out.write(Box::into_raw(Box::new(value))) };
}

/// Writes a decision back: the struct when `decision` is given, the JSON (NUL-terminated)
/// when `out` is given, and the JSON's needed size, the NUL included, when `needed` is given.
///
/// # Safety
/// `decision` and `needed`: as [`put`]; `out`, when not null, is valid for `out_cap` bytes of
/// writes.
unsafe fn write_decision(
    d: Decided,
    decision: *mut IpeDecision,
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
) -> Result<IpeStatus, Failure> {
    // SAFETY: the caller's promise for `decision`.
    unsafe { put(decision, d.decision) };
    let Some(json) = d.json else {
        return Ok(IpeStatus::Ok);
    };
    // SAFETY: the caller's promise for `out`, `out_cap` and `needed`.
    unsafe { write_text(&json, out, out_cap, needed, "decision JSON") }
}

/// Copies `text` and a NUL into `out` when `out_cap` holds both; reports the needed size.
///
/// # Safety
/// `needed`: as [`put`]; `out` is non-null and valid for `out_cap` bytes of writes.
pub(crate) unsafe fn write_text(
    text: &str,
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
    what: &str,
) -> Result<IpeStatus, Failure> {
    let size = text.len() + 1;
    // SAFETY: the caller's promise for `needed`.
    unsafe { put(needed, size) };
    if out_cap < size {
        if out_cap > 0 {
            // SAFETY: `out` is valid for `out_cap` >= 1 bytes: an empty string.
            unsafe { out.write(0) };
        }
        return Err(Failure::new(
            IpeStatus::BufferTooSmall,
            format!("the {what} needs {size} bytes, the buffer has {out_cap}"),
        ));
    }
    // SAFETY: `out` holds `out_cap` >= `size` bytes, and a `&str` never overlaps a buffer C
    // owns (it was allocated by this call).
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), out.cast::<u8>(), text.len());
        out.add(text.len()).write(0);
    }
    Ok(IpeStatus::Ok)
}

/// Opens an engine over a copy of `len` bundle bytes, verified; version 1.
///
/// On success `*out` is a new engine to free with `ipe_engine_free`; on failure `*out` is
/// left unchanged.
///
/// # Safety
/// `bytes` points to `len` readable bytes; `out` is valid for a write of a pointer.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_open_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut IpeEngine,
) -> IpeStatus {
    guard("ipe_engine_open_bytes", || {
        // SAFETY: the caller's promise for `bytes` and `len`.
        let b = unsafe { self::bytes(bytes, len, "bytes") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let engine = IpeEngine::open_bytes(b)?;
        // SAFETY: `out` is non-null and the caller promises it is writable.
        unsafe { give(out, engine) };
        Ok(IpeStatus::Ok)
    })
}

/// The path of `path_len` bytes (UTF-8 on every platform; any bytes on Unix).
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn path_arg(path: *const c_char, path_len: usize) -> Result<PathBuf, Failure> {
    // SAFETY: the caller's promise for `path` and `path_len`.
    let raw = unsafe { bytes(path.cast(), path_len, "path") }?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(raw)))
    }
    #[cfg(not(unix))]
    {
        Ok(PathBuf::from(utf8(raw, "path")?))
    }
}

/// Opens an engine over a bundle file (`path_len` bytes, not NUL-terminated), read into
/// memory and verified; version 1. The file may change afterwards: `ipe_engine_reload` reads
/// it again.
///
/// # Safety
/// `path` points to `path_len` readable bytes; `out` is valid for a write of a pointer.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_open_file(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut IpeEngine,
) -> IpeStatus {
    guard("ipe_engine_open_file", || {
        // SAFETY: the caller's promise for `path` and `path_len`.
        let p = unsafe { path_arg(path, path_len) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let engine = IpeEngine::open_file(&p)?;
        // SAFETY: `out` is non-null and the caller promises it is writable.
        unsafe { give(out, engine) };
        Ok(IpeStatus::Ok)
    })
}

/// Opens an engine over a bundle file, memory-mapped when it is at least 4 MiB (smaller files
/// are read as by `ipe_engine_open_file`); `ipe_engine_reload` maps the path again.
///
/// # Safety
/// As `ipe_engine_open_file`, and: while the engine lives, the file must never be written,
/// truncated or extended in place (publish a new bundle by writing another file and renaming
/// it over `path`); otherwise the process may crash (`SIGBUS`) or read changed bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_open_file_mapped(
    path: *const c_char,
    path_len: usize,
    out: *mut *mut IpeEngine,
) -> IpeStatus {
    guard("ipe_engine_open_file_mapped", || {
        // SAFETY: the caller's promise for `path` and `path_len`.
        let p = unsafe { path_arg(path, path_len) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: the caller promises the host's update contract (never modify the file in
        // place while the engine lives), stated in this function's Safety section.
        let engine = unsafe { ipe_host::PolicyEngine::from_file_mapped(&p) }?;
        // SAFETY: `out` is non-null and the caller promises it is writable.
        unsafe { give(out, IpeEngine { engine }) };
        Ok(IpeStatus::Ok)
    })
}

/// Frees an engine. Null is ignored. Decisions running on other threads must have returned.
///
/// # Safety
/// `engine` is null or came from an `ipe_engine_open_*` call and is freed once.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_free(engine: *mut IpeEngine) {
    guard("ipe_engine_free", || {
        if !engine.is_null() {
            // SAFETY: the handle came from `Box::into_raw` in `give` and is freed once.
            drop(unsafe { Box::from_raw(engine) });
        }
        Ok(IpeStatus::Ok)
    });
}

/// Verifies a copy of `len` bundle bytes and publishes it as the engine's next version
/// (written to `*version` when `version` is not null). Decisions running meanwhile finish on
/// the version they started with; later ones see the new one. On failure the live version
/// is unchanged.
///
/// # Safety
/// `engine` is a live handle; `bytes` points to `len` readable bytes; `version` is null or
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_swap_bytes(
    engine: *const IpeEngine,
    bytes: *const u8,
    len: usize,
    version: *mut u64,
) -> IpeStatus {
    guard("ipe_engine_swap_bytes", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        // SAFETY: the caller's promise for `bytes` and `len`.
        let b = unsafe { self::bytes(bytes, len, "bytes") }?;
        let v = e.engine.swap(b.to_vec())?;
        // SAFETY: the caller's promise for `version`.
        unsafe { put(version, v) };
        Ok(IpeStatus::Ok)
    })
}

/// Reads the engine's bundle file again and publishes it as the next version (written to
/// `*version` when `version` is not null); `IPE_STATUS_NO_SOURCE` for an engine opened from
/// bytes.
///
/// # Safety
/// `engine` is a live handle; `version` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_reload(
    engine: *const IpeEngine,
    version: *mut u64,
) -> IpeStatus {
    guard("ipe_engine_reload", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        let v = e.engine.reload()?;
        // SAFETY: the caller's promise for `version`.
        unsafe { put(version, v) };
        Ok(IpeStatus::Ok)
    })
}

/// Writes the engine's live version number and its number of policies.
///
/// # Safety
/// `engine` is a live handle; `version` and `policies` are each null (not wanted) or valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_engine_info(
    engine: *const IpeEngine,
    version: *mut u64,
    policies: *mut usize,
) -> IpeStatus {
    guard("ipe_engine_info", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        let set = e.engine.load();
        // SAFETY: the caller's promise for `version` and `policies`.
        unsafe {
            put(version, set.version());
            put(policies, set.policy_count());
        }
        Ok(IpeStatus::Ok)
    })
}

/// Decides one JSON request (`json_len` bytes, not NUL-terminated) against the engine's live
/// version.
///
/// - `decision` (optional): filled with the effect and counts.
/// - `out` (optional): receives the decision JSON, NUL-terminated, exactly as `ipe eval`
///   prints it (`{"decision":..,"matched":[..],"violations":[..],"errors":[..]}`), when
///   `out_cap` bytes hold it and its NUL; otherwise `IPE_STATUS_BUFFER_TOO_SMALL` (the struct
///   is still filled, `out` holds an empty string when `out_cap` > 0). A null `out` skips
///   rendering.
/// - `needed` (optional): the size the JSON needs, its NUL included (written whenever the
///   JSON is rendered, so a caller can retry with a larger buffer).
///
/// A request that is not a JSON object, or repeats a key, is `IPE_STATUS_BAD_REQUEST`.
/// A missing or wrong-typed attribute is not a failure: it is part of the decision (its
/// policy is in `errors`).
///
/// # Safety
/// `engine` is a live handle; `json` points to `json_len` readable bytes; `decision` and
/// `needed` are null or valid for a write; `out` is null or valid for `out_cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_decide_json(
    engine: *const IpeEngine,
    json: *const c_char,
    json_len: usize,
    decision: *mut IpeDecision,
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
) -> IpeStatus {
    guard("ipe_decide_json", || {
        // SAFETY: the caller's promises, passed on unchanged.
        unsafe { decide_json_call(engine, json, json_len, None, decision, out, out_cap, needed) }
    })
}

/// `ipe_decide_json` at the request time `now_ms` (ms since the Unix epoch, as `ipe eval
/// --now`): it replaces any `now` the request carries, so a client cannot pick the clock its
/// request is judged by. A `now_ms` outside years 0000 to 9999 is `IPE_STATUS_BAD_REQUEST`.
///
/// # Safety
/// As `ipe_decide_json`.
#[no_mangle]
pub unsafe extern "C" fn ipe_decide_json_at(
    engine: *const IpeEngine,
    json: *const c_char,
    json_len: usize,
    now_ms: i64,
    decision: *mut IpeDecision,
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
) -> IpeStatus {
    guard("ipe_decide_json_at", || {
        if !ipe_nostd::time::timestamp_ok(now_ms) {
            return Err(Failure::new(
                IpeStatus::BadRequest,
                format!("`now_ms` {now_ms} is not a timestamp of years 0000 to 9999"),
            ));
        }
        // SAFETY: the caller's promises, passed on unchanged.
        unsafe {
            decide_json_call(
                engine,
                json,
                json_len,
                Some(now_ms),
                decision,
                out,
                out_cap,
                needed,
            )
        }
    })
}

/// The body of `ipe_decide_json` and `ipe_decide_json_at`.
///
/// # Safety
/// As `ipe_decide_json`.
#[expect(
    clippy::too_many_arguments,
    reason = "the C entry points' arguments, passed on"
)]
unsafe fn decide_json_call(
    engine: *const IpeEngine,
    json: *const c_char,
    json_len: usize,
    now_ms: Option<i64>,
    decision: *mut IpeDecision,
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
) -> Result<IpeStatus, Failure> {
    // SAFETY: the caller's promise for `engine`.
    let e = unsafe { engine_ref(engine) }?;
    // SAFETY: the caller's promise for `json` and `json_len`.
    let raw = unsafe { bytes(json.cast(), json_len, "json") }?;
    let text = std::str::from_utf8(raw).map_err(|err| {
        Failure::new(
            IpeStatus::BadRequest,
            format!(
                "malformed request: invalid UTF-8 at byte {}",
                err.valid_up_to()
            ),
        )
    })?;
    let d = decide_json(e, text, now_ms, !out.is_null())?;
    // SAFETY: the caller's promise for `decision`, `out`, `out_cap` and `needed`.
    unsafe { write_decision(d, decision, out, out_cap, needed) }
}

/// Creates an empty typed request (to free with `ipe_request_free`).
///
/// # Safety
/// `out` is valid for a write of a pointer.
#[no_mangle]
pub unsafe extern "C" fn ipe_request_new(out: *mut *mut IpeRequest) -> IpeStatus {
    guard("ipe_request_new", || {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: `out` is non-null and the caller promises it is writable.
        unsafe { give(out, IpeRequest { attrs: Vec::new() }) };
        Ok(IpeStatus::Ok)
    })
}

/// Frees a typed request. Null is ignored.
///
/// # Safety
/// `request` is null or came from `ipe_request_new` and is freed once.
#[no_mangle]
pub unsafe extern "C" fn ipe_request_free(request: *mut IpeRequest) {
    guard("ipe_request_free", || {
        if !request.is_null() {
            // SAFETY: the handle came from `Box::into_raw` in `give` and is freed once.
            drop(unsafe { Box::from_raw(request) });
        }
        Ok(IpeStatus::Ok)
    });
}

/// Removes every attribute of a typed request, to reuse it for the next one.
///
/// # Safety
/// `request` is a live handle no other thread uses during the call.
#[no_mangle]
pub unsafe extern "C" fn ipe_request_clear(request: *mut IpeRequest) -> IpeStatus {
    guard("ipe_request_clear", || {
        // SAFETY: the caller's promise for `request`.
        unsafe { request_mut(request) }?.attrs.clear();
        Ok(IpeStatus::Ok)
    })
}

/// The request and path of a setter: `path` (`path_len` UTF-8 bytes) named as the policy
/// source writes it (`resource.type`, `labels["app.kubernetes.io/name"]`).
///
/// # Safety
/// `request`: as [`request_mut`]; `path`: as [`bytes`].
unsafe fn target<'a>(
    request: *mut IpeRequest,
    path: *const c_char,
    path_len: usize,
) -> Result<(&'a mut IpeRequest, &'a str), Failure> {
    // SAFETY: the caller's promise for `request`.
    let r = unsafe { request_mut(request) }?;
    // SAFETY: the caller's promise for `path` and `path_len`.
    let p = unsafe { text(path, path_len, "path") }?;
    Ok((r, p))
}

/// Sets a string (or enum) attribute to `value_len` UTF-8 bytes. `path` (`path_len` UTF-8
/// bytes) names the attribute as the policy source writes it (`resource.type`,
/// `labels["app.kubernetes.io/name"]`). Paths the bundle does not read are ignored; a value
/// of the wrong kind is the attribute error the same JSON would give; setting one path twice
/// makes the request malformed (`IPE_STATUS_BAD_REQUEST` when decided).
///
/// # Safety
/// `request` is a live handle no other thread uses during the call; `path` and `value` point
/// to `path_len` and `value_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_request_set_str(
    request: *mut IpeRequest,
    path: *const c_char,
    path_len: usize,
    value: *const c_char,
    value_len: usize,
) -> IpeStatus {
    guard("ipe_request_set_str", || {
        // SAFETY: the caller's promises for `request`, `path` and `path_len`.
        let (r, p) = unsafe { target(request, path, path_len) }?;
        // SAFETY: the caller's promise for `value` and `value_len`.
        let v = unsafe { text(value, value_len, "value") }?;
        r.set(p, Attr::Str(v.to_owned()));
        Ok(IpeStatus::Ok)
    })
}

/// Sets an integer attribute (see `ipe_request_set_str` for paths and repeats).
///
/// # Safety
/// `request` is a live handle no other thread uses during the call; `path` points to
/// `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_request_set_int(
    request: *mut IpeRequest,
    path: *const c_char,
    path_len: usize,
    value: i64,
) -> IpeStatus {
    guard("ipe_request_set_int", || {
        // SAFETY: the caller's promises for `request`, `path` and `path_len`.
        let (r, p) = unsafe { target(request, path, path_len) }?;
        r.set(p, Attr::Int(value));
        Ok(IpeStatus::Ok)
    })
}

/// Sets a boolean attribute (see `ipe_request_set_str` for paths and repeats).
///
/// # Safety
/// `request` is a live handle no other thread uses during the call; `path` points to
/// `path_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_request_set_bool(
    request: *mut IpeRequest,
    path: *const c_char,
    path_len: usize,
    value: bool,
) -> IpeStatus {
    guard("ipe_request_set_bool", || {
        // SAFETY: the caller's promises for `request`, `path` and `path_len`.
        let (r, p) = unsafe { target(request, path, path_len) }?;
        r.set(p, Attr::Bool(value));
        Ok(IpeStatus::Ok)
    })
}

/// Sets a list-of-strings (or list-of-enums) attribute to `count` strings (`items` may be
/// null when `count` is 0; an item's `ptr` may be null when its `len` is 0). See
/// `ipe_request_set_str` for paths and repeats.
///
/// # Safety
/// `request` is a live handle no other thread uses during the call; `path` points to
/// `path_len` readable bytes; `items` points to `count` `IpeStr`s, each pointing to `len`
/// readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_request_set_strs(
    request: *mut IpeRequest,
    path: *const c_char,
    path_len: usize,
    items: *const IpeStr,
    count: usize,
) -> IpeStatus {
    guard("ipe_request_set_strs", || {
        // SAFETY: the caller's promises for `request`, `path` and `path_len`.
        let (r, p) = unsafe { target(request, path, path_len) }?;
        let list: &[IpeStr] = if count == 0 {
            &[]
        } else {
            if items.is_null() {
                return Err(Failure::null("items"));
            }
            if count > isize::MAX as usize / std::mem::size_of::<IpeStr>() {
                return Err(Failure::new(IpeStatus::Other, "`count` is too large"));
            }
            // SAFETY: non-null, and the caller promises `count` readable `IpeStr`s (the size
            // fits in `isize`, checked above).
            unsafe { std::slice::from_raw_parts(items, count) }
        };
        let mut values = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let s = if item.len == 0 {
                ""
            } else {
                // SAFETY: the caller promises `len` readable bytes at each item's `ptr`.
                unsafe { text(item.ptr, item.len, &format!("items[{i}]")) }?
            };
            values.push(s.to_owned());
        }
        r.set(p, Attr::Strs(values));
        Ok(IpeStatus::Ok)
    })
}

/// Decides a typed request against the engine's live version: outputs as `ipe_decide_json`
/// (the same decision and JSON as the equivalent JSON request). The request is kept (decide
/// it again, or clear it).
///
/// # Safety
/// `engine` is a live handle; `request` is a live handle no other thread uses during the call;
/// `decision` and `needed` are null or valid for a write; `out` is null or valid for `out_cap`
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_decide_request(
    engine: *const IpeEngine,
    request: *const IpeRequest,
    decision: *mut IpeDecision,
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
) -> IpeStatus {
    guard("ipe_decide_request", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        // SAFETY: the caller promises a live handle that no other thread mutates.
        let r = unsafe { request.as_ref() }.ok_or_else(|| Failure::null("request"))?;
        let set = e.engine.load();
        let d = r.decide(&set, !out.is_null())?;
        // SAFETY: the caller's promise for `decision`, `out`, `out_cap` and `needed`.
        unsafe { write_decision(d, decision, out, out_cap, needed) }
    })
}

/// Copies this thread's last error message (empty before any failure), NUL-terminated, into
/// `out` when `out_cap` holds it; writes its needed size, the NUL included, to `needed` when
/// not null (also when `out` is null, which returns `IPE_STATUS_NULL_ARGUMENT`).
/// `IPE_STATUS_BUFFER_TOO_SMALL` leaves the message in place for a retry: this function's own
/// failures never replace the message.
///
/// # Safety
/// `out` is null or valid for `out_cap` bytes of writes; `needed` is null or valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn ipe_last_error(
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
) -> IpeStatus {
    let message = last_error();
    let status = guard("ipe_last_error", || {
        if out.is_null() {
            // SAFETY: the caller's promise for `needed`.
            unsafe { put(needed, message.len() + 1) };
            return Err(Failure::null("out"));
        }
        // SAFETY: the caller's promise for `out`, `out_cap` and `needed`.
        unsafe { write_text(&message, out, out_cap, needed, "message") }
    });
    if status != IpeStatus::Ok {
        // This call's own failure must not replace the message the caller asked for.
        crate::set_last_error(message);
    }
    status
}

/// The constant name of a status (`"IPE_STATUS_BAD_BUNDLE"`), NUL-terminated, static;
/// `"IPE_STATUS_UNKNOWN"` for a number that is not a status.
#[no_mangle]
pub extern "C" fn ipe_status_name(status: i32) -> *const c_char {
    let name: &'static std::ffi::CStr = match status {
        0 => c"IPE_STATUS_OK",
        1 => c"IPE_STATUS_NULL_ARGUMENT",
        2 => c"IPE_STATUS_INVALID_UTF8",
        3 => c"IPE_STATUS_IO",
        4 => c"IPE_STATUS_BAD_BUNDLE",
        5 => c"IPE_STATUS_BAD_REQUEST",
        6 => c"IPE_STATUS_BUFFER_TOO_SMALL",
        7 => c"IPE_STATUS_NO_SOURCE",
        8 => c"IPE_STATUS_PANIC",
        9 => c"IPE_STATUS_OTHER",
        10 => c"IPE_STATUS_UNTRUSTED",
        11 => c"IPE_STATUS_BAD_SLOT",
        _ => c"IPE_STATUS_UNKNOWN",
    };
    name.as_ptr()
}
