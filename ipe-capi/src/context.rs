//! The data plane's fast path (issue #17): a per-thread context pinned to one bundle version,
//! filled by slot id (resolved once by path) with ints, borrowed strings, bools, addresses,
//! string lists and times, decided into a caller-owned [`IpeContextDecision`] (or, in brief,
//! an [`IpeBrief`]) with no heap allocation per decision once the context's arena and the
//! thread's decision buffers have grown.

use std::ffi::c_char;
use std::sync::Arc;

use bumpalo::Bump;
use ipe_host::request::slot::{slot_scalar, slot_strs, SlotScalar};
use ipe_host::{HostDecision, PolicySet};
use ipe_nostd::{ErrKind, Value, ValueKind};

use crate::ffi::{bytes, engine_ref, put, text, write_text};
use crate::{effect, guard, Failure, IpeEffect, IpeEngine, IpeStatus, IpeStr};

/// "None" for a slot id, a policy index or an attribute slot: the path is not read by the
/// bundle ([`ipe_context_slot`]), or the decision has no violation or error.
pub const IPE_NONE: u32 = 0xFFFF_FFFF;

/// Why the first policy in error failed (the attribute error of the decision's smallest
/// erring policy).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpeAttrError {
    /// No policy is in error.
    None = 0,
    /// The attribute is missing (never set, and no default).
    Missing = 1,
    /// The attribute was set with a value of the wrong type.
    WrongType = 2,
    /// A string that is not a member of the attribute's enum.
    NotInEnum = 3,
    /// A list longer than declared.
    TooLong = 4,
    /// Integer arithmetic over the attribute overflowed.
    Overflow = 5,
    /// Integer arithmetic over the attribute divided by zero.
    DivByZero = 6,
    /// A quantity that does not parse or is out of range.
    BadQuantity = 7,
    /// A timestamp that does not parse or is out of range.
    BadTimestamp = 8,
    /// A duration that does not parse or is out of range.
    BadDuration = 9,
    /// A string given for an `ip` attribute that is not an address.
    NotIp = 10,
    /// Any other attribute error (a map key without entry, a missing segment, a list element
    /// that is not a record; the report names it).
    Other = 11,
}

impl IpeAttrError {
    fn of(kind: ErrKind) -> IpeAttrError {
        match kind {
            ErrKind::Missing => IpeAttrError::Missing,
            ErrKind::WrongType { .. } => IpeAttrError::WrongType,
            ErrKind::NotInEnum => IpeAttrError::NotInEnum,
            ErrKind::TooLong => IpeAttrError::TooLong,
            ErrKind::Overflow => IpeAttrError::Overflow,
            ErrKind::DivByZero => IpeAttrError::DivByZero,
            ErrKind::BadQuantity => IpeAttrError::BadQuantity,
            ErrKind::BadTimestamp => IpeAttrError::BadTimestamp,
            ErrKind::BadDuration => IpeAttrError::BadDuration,
            ErrKind::NotIp => IpeAttrError::NotIp,
            _ => IpeAttrError::Other,
        }
    }
}

/// A context decision: the effect and counts of [`crate::IpeDecision`], plus the first
/// violated policy and the first error, as indexes (no text, no allocation).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpeContextDecision {
    /// Allow or deny.
    pub effect: IpeEffect,
    /// Policies whose trigger held.
    pub matched: u32,
    /// Violated policies.
    pub violations: u32,
    /// Policies in error (a missing or wrong-typed attribute they read).
    pub errors: u32,
    /// The smallest violated policy's index (as in `ipe_engine_policy_stats`), or `IPE_NONE`.
    pub first_violation: u32,
    /// The smallest erring policy's index, or `IPE_NONE`.
    pub first_error: u32,
    /// Why that policy erred (`IPE_ATTR_ERROR_NONE` without errors).
    pub error_kind: IpeAttrError,
    /// The slot id of the attribute it erred on (for a field of a list element, the list's
    /// slot), or `IPE_NONE`.
    pub error_slot: u32,
    /// The bundle version the context is pinned to (the one that decided).
    pub version: u64,
}

/// A context decision in brief ([`ipe_brief_context`]): allow or deny and, for a deny that a
/// policy made, that policy (no counts, no reasons).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpeBrief {
    /// Allow or deny: always the effect `ipe_decide_context` gives for the same values.
    pub effect: IpeEffect,
    /// The policy that denied, as an index (as in `ipe_engine_policy_stats`): the first, in
    /// evaluation order, that was violated or in error. `IPE_NONE` for an allow, and for the
    /// deny of a `default deny` bundle when no policy applied.
    pub denied_by: u32,
}

/// What a slot holds until the next decision.
#[derive(Clone, Copy)]
enum Held {
    /// Not set: missing (its declared default applies).
    Unset,
    /// A value that borrows nothing (int, bool, address, time, or an attribute error).
    Owned(Value<'static>),
    /// A borrowed string, read by the slot's kind when deciding.
    Str(*const u8, usize),
    /// Borrowed strings, read by the slot's element kind when deciding.
    Strs(*const IpeStr, usize),
}

/// A per-thread evaluation context (opaque): pinned to the bundle version current when it
/// was created or last refreshed, filled by slot id, decided by [`ipe_decide_context`] (or in
/// brief by [`ipe_brief_context`]). Not synchronized: one thread at a time.
pub struct IpeContext {
    set: Arc<PolicySet>,
    held: Vec<Held>,
    arena: Bump,
}

impl IpeContext {
    fn new(set: Arc<PolicySet>) -> IpeContext {
        let n = set.bundle().slot_count();
        IpeContext {
            set,
            held: vec![Held::Unset; n],
            arena: Bump::new(),
        }
    }

    fn clear(&mut self) {
        self.held.fill(Held::Unset);
    }

    /// Stores `value` for `slot`; `IPE_NONE` is ignored (a path the bundle does not read).
    fn hold(
        &mut self,
        slot: u32,
        value: impl FnOnce(&PolicySet, u16) -> Result<Held, Failure>,
    ) -> Result<(), Failure> {
        if slot == IPE_NONE {
            return Ok(());
        }
        let count = self.held.len();
        let id = u16::try_from(slot)
            .ok()
            .filter(|&s| usize::from(s) < count)
            .ok_or_else(|| {
                Failure::new(
                    IpeStatus::BadSlot,
                    format!(
                        "slot {slot} is not a slot of version {} ({count} slots)",
                        self.set.version()
                    ),
                )
            })?;
        let Some(h) = self.held.get_mut(usize::from(id)) else {
            return Ok(());
        };
        if !matches!(h, Held::Unset) {
            let path = self.set.bundle().slot_info(id).path;
            return Err(Failure::new(
                IpeStatus::BadRequest,
                format!("malformed request: attribute `{path}` (slot {slot}) set twice"),
            ));
        }
        *h = value(&self.set, id)?;
        Ok(())
    }

    /// Decides the held values against the pinned version, then empties the context. The
    /// borrowed strings are read here (the caller promised they are still valid).
    ///
    /// # Safety
    /// As [`values`](Self::values).
    unsafe fn decide<R>(
        &mut self,
        then: impl FnOnce(&PolicySet, &HostDecision, &[Value<'_>]) -> R,
    ) -> Result<R, Failure> {
        // SAFETY: the caller's promise, passed on.
        unsafe {
            self.values(|set, values| {
                let d = set.evaluate_values(values);
                then(set, &d, values)
            })
        }
    }

    /// Hands the pinned version and the held values to `then`, which decides them as it
    /// needs, then empties the context (also when a borrowed string is not UTF-8: then
    /// nothing is decided). The borrowed strings are read here (the caller promised they are
    /// still valid).
    ///
    /// # Safety
    /// Every `Held::Str` and `Held::Strs` points to readable memory as the setters' callers
    /// promised (valid until this call returns).
    unsafe fn values<R>(
        &mut self,
        then: impl FnOnce(&PolicySet, &[Value<'_>]) -> R,
    ) -> Result<R, Failure> {
        self.arena.reset();
        let set = &*self.set;
        let bundle = set.bundle();
        let arena = &self.arena;
        let values = arena.alloc_slice_fill_copy(self.held.len(), Value::Missing);
        let mut bad = None;
        for (i, (h, v)) in self.held.iter().zip(values.iter_mut()).enumerate() {
            let Ok(slot) = u16::try_from(i) else { break };
            *v = match *h {
                Held::Unset => Value::Missing,
                Held::Owned(o) => o,
                Held::Str(ptr, len) => {
                    // SAFETY: the setter's caller promised `len` readable bytes at `ptr` until
                    // this decision returns.
                    match unsafe { borrowed(ptr, len) } {
                        Some(s) => slot_scalar(bundle, slot, SlotScalar::Str(s)),
                        None => {
                            bad = Some(slot);
                            Value::Missing
                        }
                    }
                }
                Held::Strs(items, count) => {
                    // SAFETY: as above, for `count` items and each item's bytes.
                    let list = unsafe { list(items, count) };
                    let mut ok = true;
                    let strs = list.iter().map_while(|item| {
                        // SAFETY: as above.
                        let s = unsafe { borrowed(item.ptr.cast(), item.len) };
                        ok &= s.is_some();
                        s
                    });
                    let v = slot_strs(bundle, slot, strs, arena);
                    if !ok {
                        bad = Some(slot);
                    }
                    v
                }
            };
        }
        self.held.fill(Held::Unset);
        if let Some(slot) = bad {
            return Err(Failure::new(
                IpeStatus::InvalidUtf8,
                format!(
                    "attribute `{}` (slot {slot}) is not UTF-8",
                    bundle.slot_info(slot).path
                ),
            ));
        }
        Ok(then(set, values))
    }
}

/// Borrows `len` bytes at `ptr` as UTF-8 (`None` when they are not UTF-8); null is empty.
///
/// # Safety
/// When `len` > 0, `ptr` points to `len` readable bytes that stay unchanged while borrowed.
unsafe fn borrowed<'a>(ptr: *const u8, len: usize) -> Option<&'a str> {
    if len == 0 || ptr.is_null() {
        return Some("");
    }
    // SAFETY: the caller's promise; `len` was checked to fit in `isize` by the setter.
    std::str::from_utf8(unsafe { std::slice::from_raw_parts(ptr, len) }).ok()
}

/// Borrows `count` items at `items` (empty when null or 0).
///
/// # Safety
/// When `count` > 0, `items` points to `count` readable `IpeStr`s.
unsafe fn list<'a>(items: *const IpeStr, count: usize) -> &'a [IpeStr] {
    if count == 0 || items.is_null() {
        return &[];
    }
    // SAFETY: the caller's promise; `count` was checked by the setter.
    unsafe { std::slice::from_raw_parts(items, count) }
}

fn first_error(d: &HostDecision) -> (u32, IpeAttrError, u32) {
    d.errors()
        .first()
        .map_or((IPE_NONE, IpeAttrError::None, IPE_NONE), |e| {
            (
                u32::from(e.policy),
                IpeAttrError::of(e.error.kind),
                u32::from(e.error.slot),
            )
        })
}

fn context_decision(set: &PolicySet, d: &HostDecision) -> IpeContextDecision {
    let (first_error, error_kind, error_slot) = first_error(d);
    IpeContextDecision {
        effect: effect(d.effect),
        matched: crate::count(d.matched().len()),
        violations: crate::count(d.violations().len()),
        errors: crate::count(d.errors().len()),
        first_violation: d
            .violations()
            .first()
            .map_or(IPE_NONE, |v| u32::from(v.policy)),
        first_error,
        error_kind,
        error_slot,
        version: set.version(),
    }
}

fn context_brief(set: &PolicySet, values: &[Value<'_>]) -> IpeBrief {
    let b = set.brief(values);
    IpeBrief {
        effect: effect(b.effect),
        denied_by: b.denied_by.map_or(IPE_NONE, u32::from),
    }
}

/// Borrows a context mutably.
///
/// # Safety
/// When `ctx` is not null it came from [`ipe_context_new`], was not freed, and no other thread
/// uses it during the call.
unsafe fn context_mut<'a>(ctx: *mut IpeContext) -> Result<&'a mut IpeContext, Failure> {
    // SAFETY: the caller promises a live, unshared handle when it is not null.
    unsafe { ctx.as_mut() }.ok_or_else(|| Failure::null("ctx"))
}

/// Creates a context pinned to the engine's live version (to free with `ipe_context_free`).
/// Give each deciding thread its own. The pinned version stays alive (and decides) until the
/// context is refreshed or freed, whatever swaps happen meanwhile.
///
/// # Safety
/// `engine` is a live handle; `out` is valid for a write of a pointer.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_new(
    engine: *const IpeEngine,
    out: *mut *mut IpeContext,
) -> IpeStatus {
    guard("ipe_context_new", || {
        // SAFETY: the caller's promise for `engine`.
        let e = unsafe { engine_ref(engine) }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        let ctx = IpeContext::new(e.engine.load_full());
        // SAFETY: `out` is non-null and the caller promises it is writable.
        unsafe { crate::ffi::give(out, ctx) };
        Ok(IpeStatus::Ok)
    })
}

/// Frees a context (and releases its pinned version). Null is ignored.
///
/// # Safety
/// `ctx` is null or came from `ipe_context_new` and is freed once.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_free(ctx: *mut IpeContext) {
    guard("ipe_context_free", || {
        if !ctx.is_null() {
            // SAFETY: the handle came from `Box::into_raw` in `give` and is freed once.
            drop(unsafe { Box::from_raw(ctx) });
        }
        Ok(IpeStatus::Ok)
    });
}

/// Re-pins the context to the engine's live version. `*layout_changed` (optional) is set to
/// whether the new version's slots differ from the old one's (paths, kinds or count): when
/// true, every slot id resolved before is void (resolve them again with `ipe_context_slot`);
/// when false they stay valid. Values set and not yet decided are dropped. Cheap when the
/// live version is the pinned one (nothing changes).
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call; `engine` is a live handle;
/// `layout_changed` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_refresh(
    ctx: *mut IpeContext,
    engine: *const IpeEngine,
    layout_changed: *mut bool,
) -> IpeStatus {
    guard("ipe_context_refresh", || {
        // SAFETY: the caller's promises for `ctx` and `engine`.
        let (c, e) = unsafe { (context_mut(ctx)?, engine_ref(engine)?) };
        let mut changed = false;
        // The same set, not merely the same version number: another engine's version 1 is
        // another set.
        let live = e.engine.load();
        if !std::ptr::eq::<PolicySet>(&*live, &*c.set) {
            drop(live);
            let set = e.engine.load_full();
            changed = !same_layout(&c.set, &set);
            *c = IpeContext::new(set);
        } else {
            c.clear();
        }
        // SAFETY: the caller's promise for `layout_changed`.
        unsafe { put(layout_changed, changed) };
        Ok(IpeStatus::Ok)
    })
}

/// Whether two versions have the same slots (path, kind, element kind), so slot ids carry over.
fn same_layout(a: &PolicySet, b: &PolicySet) -> bool {
    let (a, b) = (a.bundle(), b.bundle());
    a.slot_count() == b.slot_count()
        && (0..a.slot_count()).all(|i| {
            let Ok(s) = u16::try_from(i) else {
                return false;
            };
            let (x, y) = (a.slot_info(s), b.slot_info(s));
            x.path == y.path && x.kind == y.kind && x.elem == y.elem
        })
}

/// Writes the pinned version and its number of slots (each optional).
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call; `version` and `slots` are
/// each null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_info(
    ctx: *mut IpeContext,
    version: *mut u64,
    slots: *mut usize,
) -> IpeStatus {
    guard("ipe_context_info", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        // SAFETY: the caller's promises for `version` and `slots`.
        unsafe {
            put(version, c.set.version());
            put(slots, c.held.len());
        }
        Ok(IpeStatus::Ok)
    })
}

/// Resolves an attribute path (`path_len` UTF-8 bytes, named as the policy source writes it:
/// `packet.src`, `labels["app.kubernetes.io/name"]`) to its slot id in the pinned version,
/// written to `*slot`: `IPE_NONE` when the bundle does not read that path (setting `IPE_NONE`
/// is then ignored, like an extra JSON key). Resolve once; the ids hold until a refresh
/// reports a changed layout.
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call; `path` points to `path_len`
/// readable bytes; `slot` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_slot(
    ctx: *mut IpeContext,
    path: *const c_char,
    path_len: usize,
    slot: *mut u32,
) -> IpeStatus {
    guard("ipe_context_slot", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        // SAFETY: the caller's promise for `path` and `path_len`.
        let p = unsafe { text(path, path_len, "path") }?;
        if slot.is_null() {
            return Err(Failure::null("slot"));
        }
        let id = c.set.bundle().slot(p).map_or(IPE_NONE, u32::from);
        // SAFETY: non-null, and the caller promises it is writable.
        unsafe { put(slot, id) };
        Ok(IpeStatus::Ok)
    })
}

/// Sets an integer attribute by slot (seconds for a timestamp or duration, units for a
/// quantity, as in JSON). A slot set twice before a decision is `IPE_STATUS_BAD_REQUEST`
/// (the first value stays); a slot id outside the pinned version is `IPE_STATUS_BAD_SLOT`;
/// `IPE_NONE` is ignored. A value of the wrong kind for the slot is not a failure: it is the
/// attribute error the same JSON would give, in the decision.
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_set_int(
    ctx: *mut IpeContext,
    slot: u32,
    value: i64,
) -> IpeStatus {
    guard("ipe_context_set_int", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        c.hold(slot, |set, s| {
            Ok(Held::Owned(slot_scalar(
                set.bundle(),
                s,
                SlotScalar::Int(value),
            )))
        })?;
        Ok(IpeStatus::Ok)
    })
}

/// Sets a boolean attribute by slot (see `ipe_context_set_int`).
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_set_bool(
    ctx: *mut IpeContext,
    slot: u32,
    value: bool,
) -> IpeStatus {
    guard("ipe_context_set_bool", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        c.hold(slot, |set, s| {
            Ok(Held::Owned(slot_scalar(
                set.bundle(),
                s,
                SlotScalar::Bool(value),
            )))
        })?;
        Ok(IpeStatus::Ok)
    })
}

/// Sets a string attribute by slot to `len` bytes at `value`, **borrowed**: they are read by
/// the next decision and must stay valid and unchanged until it returns (nothing is copied).
/// The text is read as the slot's kind, as a JSON string would be (an enum member, an
/// address, RFC 3339, a duration, a quantity). Text that is not UTF-8 fails the decision with
/// `IPE_STATUS_INVALID_UTF8`. See `ipe_context_set_int` for repeats and slot ids.
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call; `value` points to `len`
/// readable bytes (it may be null when `len` is 0) that stay valid and unchanged until the
/// next `ipe_decide_context*`, `ipe_brief_context` or `ipe_context_clear`/`ipe_context_refresh`
/// on this context returns.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_set_str(
    ctx: *mut IpeContext,
    slot: u32,
    value: *const c_char,
    len: usize,
) -> IpeStatus {
    guard("ipe_context_set_str", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        if len > 0 {
            // Checks null and a length a slice can have (the bytes are read when deciding).
            // SAFETY: the caller's promise for `value` and `len`.
            unsafe { bytes(value.cast(), len, "value") }?;
        }
        c.hold(slot, |_, _| Ok(Held::Str(value.cast(), len)))?;
        Ok(IpeStatus::Ok)
    })
}

/// Sets a list-of-strings (or list-of-enums, list-of-addresses) attribute by slot to `count`
/// borrowed strings (`items` may be null when `count` is 0): the array and every item's bytes
/// must stay valid and unchanged until the next decision returns, as for
/// `ipe_context_set_str`.
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call; `items` points to `count`
/// readable `IpeStr`s, each pointing to `len` readable bytes, valid until the next decision on
/// this context returns.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_set_strs(
    ctx: *mut IpeContext,
    slot: u32,
    items: *const IpeStr,
    count: usize,
) -> IpeStatus {
    guard("ipe_context_set_strs", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        if count > 0 {
            if items.is_null() {
                return Err(Failure::null("items"));
            }
            if count > isize::MAX as usize / std::mem::size_of::<IpeStr>() {
                return Err(Failure::new(IpeStatus::Other, "`count` is too large"));
            }
            // SAFETY: the caller promises `count` readable items (size checked above).
            for (i, item) in unsafe { list(items, count) }.iter().enumerate() {
                if item.len > 0 {
                    // SAFETY: the caller's promise for each item.
                    unsafe { bytes(item.ptr.cast(), item.len, &format!("items[{i}]")) }?;
                }
            }
        }
        c.hold(slot, |_, _| Ok(Held::Strs(items, count)))?;
        Ok(IpeStatus::Ok)
    })
}

/// The held value of an address for `slot`; a slot that is not `ip` is a typed misuse.
fn ip_value(set: &PolicySet, slot: u16, ip: ipe_nostd::ip::Ip) -> Result<Held, Failure> {
    let info = set.bundle().slot_info(slot);
    match info.kind {
        ValueKind::Ip => Ok(Held::Owned(Value::Ip(ip))),
        k => Err(misuse(info.path, k, "an address")),
    }
}

/// A setter given a value its slot's type can never take from it (an address for a
/// string): `IPE_STATUS_BAD_REQUEST`, the slot stays unset (missing, so its policies fail
/// closed).
fn misuse(path: &str, kind: ValueKind, given: &str) -> Failure {
    Failure::new(
        IpeStatus::BadRequest,
        format!(
            "attribute `{path}` is declared {}, it cannot be set to {given}",
            kind.as_str()
        ),
    )
}

/// Sets an `ip` attribute by slot to an IPv4 address given as a `u32` in host byte order
/// (`192.168.0.1` is `0xC0A80001`), read as its IPv4-mapped IPv6 address as the language
/// does. See `ipe_context_set_int` for repeats and slot ids; a slot that is not `ip` is
/// `IPE_STATUS_BAD_REQUEST` (the slot stays unset).
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_set_ipv4(
    ctx: *mut IpeContext,
    slot: u32,
    addr: u32,
) -> IpeStatus {
    guard("ipe_context_set_ipv4", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        let ip = ipe_nostd::ip::from_v4(std::net::Ipv4Addr::from(addr));
        c.hold(slot, |set, s| ip_value(set, s, ip))?;
        Ok(IpeStatus::Ok)
    })
}

/// Sets an `ip` attribute by slot to the IPv6 address in the 16 bytes at `addr` (network
/// order, as in `struct in6_addr`; copied). See `ipe_context_set_ipv4`.
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call; `addr` points to 16 readable
/// bytes.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_set_ipv6(
    ctx: *mut IpeContext,
    slot: u32,
    addr: *const u8,
) -> IpeStatus {
    guard("ipe_context_set_ipv6", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        // SAFETY: the caller promises 16 readable bytes at `addr`.
        let b = unsafe { bytes(addr, 16, "addr") }?;
        let mut raw = [0u8; 16];
        raw.copy_from_slice(b);
        let ip = ipe_nostd::ip::from_bytes(raw);
        c.hold(slot, |set, s| ip_value(set, s, ip))?;
        Ok(IpeStatus::Ok)
    })
}

/// Sets a `timestamp` attribute by slot to `ms` milliseconds since the Unix epoch (or a
/// `duration` attribute to `ms` milliseconds), the engine's own unit; a value outside the
/// type's range is that attribute's error; a slot of another type is
/// `IPE_STATUS_BAD_REQUEST` (the slot stays unset). The request time `now` is the slot of the path `now`. See
/// `ipe_context_set_int` for repeats and slot ids.
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_set_time_ms(
    ctx: *mut IpeContext,
    slot: u32,
    ms: i64,
) -> IpeStatus {
    guard("ipe_context_set_time_ms", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        c.hold(slot, |set, s| {
            use ipe_nostd::time::{duration_ok, timestamp_ok};
            let info = set.bundle().slot_info(s);
            Ok(Held::Owned(match info.kind {
                ValueKind::Time if timestamp_ok(ms) => Value::Int(ms),
                ValueKind::Time => Value::Invalid(ErrKind::BadTimestamp),
                ValueKind::Duration if duration_ok(ms) => Value::Int(ms),
                ValueKind::Duration => Value::Invalid(ErrKind::BadDuration),
                k => return Err(misuse(info.path, k, "milliseconds")),
            }))
        })?;
        Ok(IpeStatus::Ok)
    })
}

/// Unsets every slot (dropping borrowed strings), as after a decision.
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call.
#[no_mangle]
pub unsafe extern "C" fn ipe_context_clear(ctx: *mut IpeContext) -> IpeStatus {
    guard("ipe_context_clear", || {
        // SAFETY: the caller's promise for `ctx`.
        unsafe { context_mut(ctx) }?.clear();
        Ok(IpeStatus::Ok)
    })
}

/// Decides the context's values against its pinned version into `*decision`, then unsets
/// every slot (the next request starts empty; borrowed strings are no longer read). Allocates
/// nothing on the heap once the context and the thread have decided a request as large.
/// Unset slots are missing attributes (their defaults apply, else their policies fail
/// closed). `IPE_STATUS_INVALID_UTF8` when a borrowed string is not UTF-8 (nothing decided).
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call, whose borrowed strings are
/// still valid; `decision` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_decide_context(
    ctx: *mut IpeContext,
    decision: *mut IpeContextDecision,
) -> IpeStatus {
    // SAFETY: the caller's promises, passed on.
    unsafe {
        decide_into(
            "ipe_decide_context",
            ctx,
            decision,
            "decision",
            |set, values| context_decision(set, &set.evaluate_values(values)),
        )
    }
}

/// The body of `ipe_decide_context` and `ipe_brief_context` (C function `name`): `decide` the
/// context's values into `*out` (the argument named `what`), the context emptied whatever
/// happens.
///
/// # Safety
/// As those functions: `ctx` is a live context no other thread uses during the call, whose
/// borrowed strings are still valid; `out` is valid for a write.
unsafe fn decide_into<T>(
    name: &str,
    ctx: *mut IpeContext,
    out: *mut T,
    what: &'static str,
    decide: impl FnOnce(&PolicySet, &[Value<'_>]) -> T,
) -> IpeStatus {
    guard(name, || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        if out.is_null() {
            c.clear();
            return Err(Failure::null(what));
        }
        // SAFETY: the caller promises the borrowed strings are still valid.
        let got = unsafe { c.values(decide) }?;
        // SAFETY: non-null, and the caller promises it is writable.
        unsafe { put(out, got) };
        Ok(IpeStatus::Ok)
    })
}

/// Decides the context's values in brief into `*brief`: the effect `ipe_decide_context` would
/// give and, for a deny, the policy that denied; then unsets every slot, as
/// `ipe_decide_context` does. Stops at the first policy violated or in error (the rest cannot
/// change the effect): for a data path that wants the answer first, and the full decision
/// (`ipe_decide_context_report`, on the same values set again) only for some requests.
/// Policies after the deciding one are not evaluated, so `ipe_engine_policy_stats` does not
/// count them. `IPE_STATUS_INVALID_UTF8` when a borrowed string is not UTF-8 (nothing
/// decided).
///
/// # Safety
/// `ctx` is a live context no other thread uses during the call, whose borrowed strings are
/// still valid; `brief` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_brief_context(
    ctx: *mut IpeContext,
    brief: *mut IpeBrief,
) -> IpeStatus {
    // SAFETY: the caller's promises, passed on.
    unsafe { decide_into("ipe_brief_context", ctx, brief, "brief", context_brief) }
}

/// `ipe_decide_context`, also rendering the decision JSON (as `ipe eval` prints it, reasons
/// filled from the context's values) into `out` as `ipe_decide_json` does (`needed`
/// optional; `IPE_STATUS_BUFFER_TOO_SMALL` still fills `*decision`). Rendering allocates.
///
/// # Safety
/// As `ipe_decide_context`; `out` is valid for `out_cap` bytes of writes; `needed` is null or
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn ipe_decide_context_report(
    ctx: *mut IpeContext,
    decision: *mut IpeContextDecision,
    out: *mut c_char,
    out_cap: usize,
    needed: *mut usize,
) -> IpeStatus {
    guard("ipe_decide_context_report", || {
        // SAFETY: the caller's promise for `ctx`.
        let c = unsafe { context_mut(ctx) }?;
        if decision.is_null() || out.is_null() {
            c.clear();
            return Err(Failure::null(if out.is_null() {
                "out"
            } else {
                "decision"
            }));
        }
        // SAFETY: the caller promises the borrowed strings are still valid.
        let (got, json) = unsafe {
            c.decide(|set, d, values| {
                (
                    context_decision(set, d),
                    set.report_values(d, values).to_json(),
                )
            })
        }?;
        // SAFETY: non-null, and the caller promises it is writable.
        unsafe { put(decision, got) };
        // SAFETY: the caller's promises for `out`, `out_cap` and `needed`.
        unsafe { write_text(&json, out, out_cap, needed, "decision JSON") }
    })
}
