//! `extern "C"` helpers that compiled code calls for rare or complex operations: errors of
//! unexpected values, text comparisons, large enums and sets, and scalar lists.
//!
//! Every pointer argument comes from compiled code that got it from [`super::JitSet::eval`]:
//! `shapes` is the set's own [`Shapes`], `v` points to a `Value` inside the slot slice being
//! evaluated (or inside a list it holds), and text pointers come from a valid `&str` (a request
//! string or a constant owned by the set). None of these helpers can panic.

use ipe_nostd::format::kind;
use ipe_nostd::isa::StrOp;
use ipe_nostd::read::{self, Scalar};
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::{Str, Value};

use super::errcode::{self, FOUND, OK};
use super::shapes::Shapes;

/// Borrows the set's shapes.
fn shapes<'a>(p: *const Shapes) -> &'a Shapes {
    // SAFETY: compiled code passes the address of the `Shapes` boxed in the `JitSet` that owns
    // the code, which is alive for as long as the code can run.
    unsafe { &*p }
}

/// Reads the value compiled code points at.
fn value<'a>(v: *const Value<'a>) -> Value<'a> {
    // SAFETY: compiled code passes a pointer to a live, aligned `Value` of the slice given to
    // `JitSet::eval` (bounds are checked there: every slot exists) or of a list it holds.
    unsafe { *v }
}

/// Bytes of a string cell.
fn bytes<'a>(ptr: *const u8, len: u64) -> &'a [u8] {
    if ptr.is_null() {
        return &[];
    }
    // SAFETY: `ptr`/`len` were loaded from a `&str` (a request `Str` or a constant's text in
    // the set's `Shapes`) that outlives the call; compiled code calls only with error-free cells.
    unsafe { core::slice::from_raw_parts(ptr, len as usize) }
}

/// The string cell `(ptr, len, sym)` as a [`Str`].
fn string<'a>(ptr: *const u8, len: u64, sym: u64) -> Str<'a> {
    let b = bytes(ptr, len);
    // SAFETY: the bytes are a whole `&str` (see `bytes`), so they are valid UTF-8.
    let text = unsafe { core::str::from_utf8_unchecked(b) };
    Str {
        text,
        sym: u32::try_from(sym).unwrap_or(NO_SYMBOL),
    }
}

/// The error code of reading `*v` as a scalar of kind `k` (enum `e`) at location `at`.
pub(crate) extern "C" fn read_err(
    sh: *const Shapes,
    v: *const Value<'_>,
    k: u64,
    e: u64,
    at: u64,
) -> u64 {
    shapes(sh).read_err(value(v), k as u8, e as u16, at)
}

/// [`read_err`] with kind, enum and location packed in one word by
/// [`errcode::pack_read`](super::errcode::pack_read) (issue #15: fewer constants and argument
/// moves at every slot read's error path).
pub(crate) extern "C" fn read_err_at(sh: *const Shapes, v: *const Value<'_>, packed: u64) -> u64 {
    let (k, e, at) = super::errcode::unpack_read(packed);
    shapes(sh).read_err(value(v), k, e, at)
}

/// Error code `err` with a deferred read's [`PENDING`](super::errcode::PENDING) kind replaced
/// by the error of reading its slot in `values` (the slot's declared kind); any other code as
/// it is. Also stored at `dst` (the output's error field: issue #15, session 14, so the
/// compiled code keeps no value across the call and needs no callee-saved register for it).
pub(crate) extern "C" fn resolve_err(
    sh: *const Shapes,
    values: *const Value<'_>,
    err: u64,
    dst: *mut u64,
) -> u64 {
    let e = resolved(sh, values, err);
    // SAFETY: compiled code passes the address of the `err` field of the `RawOut` its caller
    // (`jit::run`) gave it, which is live and not otherwise borrowed during the call.
    unsafe { dst.write(e) };
    e
}

/// [`resolve_err`]'s code.
fn resolved(sh: *const Shapes, values: *const Value<'_>, err: u64) -> u64 {
    if err & 0xFF != super::errcode::PENDING || (err >> 8) & 0xFF_FFFF != 0 {
        return err;
    }
    let s = (err >> 32) as u16;
    let shapes = shapes(sh);
    let slot = shapes.slot(s);
    // SAFETY: compiled code passes its `values` argument, which holds at least the bundle's
    // slot count of values (`JitSet::call` pads a short slice), and a pending code names a
    // slot the function read, so `s` is in range.
    let v = unsafe { &*values.add(usize::from(s)) };
    shapes.read_err(*v, slot.kind, slot.enum_id, err & !0xFF)
}

/// The value of `a op b` (`ArithOp` byte `op`; 0 when it has none: [`arith_err`] then gives
/// the error). Issue #14.
pub(crate) extern "C" fn arith_val(op: u64, a: u64, b: u64) -> u64 {
    match ipe_nostd::isa::ArithOp::from_byte(op as u8) {
        Some(op) => op.apply(a as i64, b as i64).unwrap_or(0) as u64,
        None => 0,
    }
}

/// The error code of `a op b`: [`OK`] when it has a value, else the overflow or
/// division-by-zero code at location `at` (an [`errcode::at`](super::errcode::at) code).
pub(crate) extern "C" fn arith_err(op: u64, a: u64, b: u64, at: u64) -> u64 {
    match ipe_nostd::isa::ArithOp::from_byte(op as u8).map(|op| op.apply(a as i64, b as i64)) {
        Some(Ok(_)) => OK,
        Some(Err(e)) => at | super::errcode::kind_code(ipe_nostd::vocab::arith_kind(e)),
        None => at,
    }
}

/// A string operator on two string cells (symbols resolve empty texts, as the interpreter's).
pub(crate) extern "C" fn str_op(
    sh: *const Shapes,
    op: u64,
    a: *const u8,
    al: u64,
    asym: u64,
    b: *const u8,
    bl: u64,
    bsym: u64,
) -> u64 {
    let op = StrOp::from_byte(op as u8).unwrap_or(StrOp::Contains);
    let (x, y) = (string(a, al, asym), string(b, bl, bsym));
    u64::from(read::str_op(shapes(sh), op, x, y))
}

/// Whether the string cell `(a, al, asym)` matches regex `re` of the bundle (`str.match`,
/// issue #14; the interpreter's kernel [`ipe_nostd::regex::is_match`] over the set's copy of
/// the DFAs validated at load, issue #15).
pub(crate) extern "C" fn str_match(
    sh: *const Shapes,
    re: u64,
    a: *const u8,
    al: u64,
    asym: u64,
) -> u64 {
    let sh = shapes(sh);
    let x = string(a, al, asym);
    let dfa = usize::try_from(re).ok().and_then(|r| sh.regexes.get(r));
    u64::from(dfa.is_some_and(|d| ipe_nostd::regex::is_match(d, read::text(sh, &x))))
}

/// `lower(a) op lower(b)` on two string cells (`str.fold`, issue #14, session 9): the
/// interpreter's kernel [`read::str_fold`].
pub(crate) extern "C" fn str_fold(
    sh: *const Shapes,
    op: u64,
    a: *const u8,
    al: u64,
    asym: u64,
    b: *const u8,
    bl: u64,
    bsym: u64,
) -> u64 {
    let Some(op) = StrOp::from_byte(op as u8) else {
        return 0;
    };
    let (x, y) = (string(a, al, asym), string(b, bl, bsym));
    u64::from(read::str_fold(shapes(sh), op, x, y))
}

/// Whether `lower` of the string cell `(a, al, asym)` matches regex `re` of the bundle
/// (`str.match.fold`, issue #14, session 9; the interpreter's kernel
/// [`ipe_nostd::regex::is_match_folded`] over the set's copy of the DFAs).
pub(crate) extern "C" fn str_match_fold(
    sh: *const Shapes,
    re: u64,
    a: *const u8,
    al: u64,
    asym: u64,
) -> u64 {
    let sh = shapes(sh);
    let x = string(a, al, asym);
    let dfa = usize::try_from(re).ok().and_then(|r| sh.regexes.get(r));
    u64::from(dfa.is_some_and(|d| ipe_nostd::regex::is_match_folded(d, read::text(sh, &x))))
}

/// Whether the int `v` is in integer range table `table` (`in.range`, issue #14, session 9):
/// [`ipe_nostd::ranges::contains`], one binary search.
pub(crate) extern "C" fn in_range(sh: *const Shapes, table: u64, v: u64) -> u64 {
    let t = ipe_nostd::ranges::table(&shapes(sh).int_ranges, table as u16).unwrap_or(&[]);
    u64::from(ipe_nostd::ranges::contains(t, v as i64))
}

/// `len(s)` of a string cell: its number of chars (symbols resolve empty texts, as the
/// interpreter's). Issue #14.
pub(crate) extern "C" fn str_len(sh: *const Shapes, a: *const u8, al: u64, asym: u64) -> u64 {
    read::char_len(shapes(sh), string(a, al, asym)) as u64
}

/// The rank of symbol `sym` in enum `e`, or `u64::MAX`.
pub(crate) extern "C" fn enum_rank(sh: *const Shapes, e: u64, sym: u64) -> u64 {
    let sym = u32::try_from(sym).unwrap_or(NO_SYMBOL);
    shapes(sh)
        .enum_rank(e as u16, sym)
        .map_or(u64::MAX, u64::from)
}

/// Whether constant set `set` holds `key`.
pub(crate) extern "C" fn set_contains(sh: *const Shapes, set: u64, key: i64) -> u64 {
    u64::from(shapes(sh).set(set as u16).binary_search(&key).is_ok())
}

/// Whether pair set `set` holds the pair of symbols (`a`, `b`) (`in.pair.set`; the key is
/// [`read::pair_key`], the interpreter's kernel).
pub(crate) extern "C" fn pair_contains(sh: *const Shapes, set: u64, a: u64, b: u64) -> u64 {
    let key = read::pair_key(a as u32, b as u32);
    u64::from(key.is_some_and(|k| shapes(sh).set(set as u16).binary_search(&k).is_ok()))
}

/// The row of `key` (a string's symbol) in lookup table set `set` (`lookup.slot`,
/// `lookup.field`, issue #13), or `u64::MAX` when the table has no such key (the
/// interpreter's [`ipe_nostd::Bundle::set_position`]).
pub(crate) extern "C" fn lookup_row(sh: *const Shapes, set: u64, key: u64) -> u64 {
    if key == u64::from(NO_SYMBOL) {
        return u64::MAX;
    }
    shapes(sh)
        .set(set as u16)
        .binary_search(&(key as i64))
        .map_or(u64::MAX, |i| i as u64)
}

/// Part `what` of constant `c` (a lookup table's row): 0 its value (a string's symbol, an
/// int, 0/1), 1 a string's text pointer, 2 its length; 0 for a constant out of range.
pub(crate) extern "C" fn const_part(sh: *const Shapes, c: u64, what: u64) -> u64 {
    let sh = shapes(sh);
    let Some(&(k, v)) = usize::try_from(c).ok().and_then(|c| sh.consts.get(c)) else {
        return 0;
    };
    match (what, k) {
        (0, kind::BOOL) => u64::from(v != 0),
        (0, kind::STR) => u64::from(v as u32),
        (0, _) => v as u64,
        (1, kind::STR) => sh.symbol(v as u32).as_ptr() as u64,
        (2, kind::STR) => sh.symbol(v as u32).len() as u64,
        _ => 0,
    }
}

/// Whether the address `*v` is in IP set `set` (`in.ip.slot`, `in.ip.field`; issue #14):
/// [`read::ip_in_set`], the interpreter's kernel; 0 when `*v` is no address (compiled code
/// takes the error from [`read_err`]).
pub(crate) extern "C" fn ip_in_set(sh: *const Shapes, set: u64, v: *const Value<'_>) -> u64 {
    let table = shapes(sh).ip_table(set as u16);
    u64::from(read::ip_in_set(table, value(v)).unwrap_or(false))
}

/// Whether the addresses `*a` and `*b` compare by `op` (a [`CmpOp`](ipe_nostd::isa::CmpOp)
/// byte; `cmp.ip.*`, issue #14): [`read::ip_value`] and [`ip::cmp`](ipe_nostd::ip::cmp), the
/// interpreter's kernels; 0 when either is no address (compiled code takes the errors from
/// [`read_err`]).
pub(crate) extern "C" fn ip_cmp(op: u64, a: *const Value<'_>, b: *const Value<'_>) -> u64 {
    let Some(op) = ipe_nostd::isa::CmpOp::from_byte(op as u8) else {
        return 0;
    };
    match (read::ip_value(value(a)), read::ip_value(value(b))) {
        (Ok(x), Ok(y)) => u64::from(op.test(ipe_nostd::ip::cmp(&x, &y))),
        _ => 0,
    }
}

/// The error code of list slot `s` holding `*v`, or [`OK`].
pub(crate) extern "C" fn list_err(sh: *const Shapes, s: u64, v: *const Value<'_>) -> u64 {
    match shapes(sh).list(s as u16, value(v)) {
        Ok(_) => OK,
        Err(e) => e,
    }
}

/// Whether list slot `s` holding `*v` holds the cell `(key, ptr, len)` (for strings `key` is
/// the symbol and `ptr`/`len` the text): [`FOUND`], [`OK`] (a valid list without it) or the
/// list's error code, from one pass over the elements ([`read::list_find`]; issue #15, session
/// 15: the list was checked by `list_err` and then searched, a second pass per `in`).
///
/// Compiled code passes a null `ptr` for an operand in error (whose result it ignores).
pub(crate) extern "C" fn in_list(
    sh: *const Shapes,
    s: u64,
    v: *const Value<'_>,
    key: i64,
    ptr: *const u8,
    len: u64,
) -> u64 {
    let sh = shapes(sh);
    let s = s as u16;
    let decl = sh.list_decl(s);
    let needle = match decl.elem {
        kind::STR => Scalar::Str(string(ptr, len, key as u64)),
        kind::INT | kind::QUANTITY => Scalar::Int(key),
        kind::BOOL => Scalar::Bool(key != 0),
        _ => Scalar::Enum(key as u16),
    };
    match read::list_find(sh, decl, value(v), Some(needle)) {
        Ok(true) => FOUND,
        Ok(false) => OK,
        Err(kind) => errcode::at(s, None) | errcode::kind_code(kind),
    }
}

/// `segment(x, sep, i)` (issue #14) of the string cell `(a, al)` (its own text, as the
/// interpreter reads it) on the separator symbol `sep`, piece `idx` (an `i64`): writes the
/// piece's pointer, length and symbol (looked up in the string table, as a request string's)
/// to `out[0..3]` and returns 1, or writes zeros and returns 0 when there is no such piece.
pub(crate) extern "C" fn str_seg(
    sh: *const Shapes,
    a: *const u8,
    al: u64,
    sep: u64,
    idx: u64,
    out: *mut u64,
) -> u64 {
    let sh = shapes(sh);
    let text = string(a, al, u64::from(NO_SYMBOL)).text;
    let sep = sh.symbol(u32::try_from(sep).unwrap_or(NO_SYMBOL));
    let (r, words) = match ipe_nostd::segment::segment(text, sep, idx as i64) {
        Some(piece) => (
            1,
            [
                piece.as_ptr() as u64,
                piece.len() as u64,
                u64::from(sh.intern(piece)),
            ],
        ),
        None => (0, [0, 0, u64::from(NO_SYMBOL)]),
    };
    // SAFETY: compiled code passes the address of a 24-byte, 8-aligned stack slot of its own
    // frame, live for the call.
    unsafe { core::ptr::copy_nonoverlapping(words.as_ptr(), out, 3) };
    r
}

/// The index of the entry of the map held by `*v` (a map slot's value, entries of `stride`
/// values) whose key is the string cell `(kp, kl, ks)`, or `u64::MAX` when there is none or
/// `*v` holds no entries (`map.get`, `map.has`, issue #13: the interpreter's kernel
/// [`ipe_nostd::dynkey::find`]). Compiled code calls it only with an error-free key cell.
pub(crate) extern "C" fn map_find(
    v: *const Value<'_>,
    stride: u64,
    kp: *const u8,
    kl: u64,
    ks: u64,
) -> u64 {
    let Value::Records(vals) = value(v) else {
        return u64::MAX;
    };
    let stride = usize::try_from(stride).unwrap_or(1);
    ipe_nostd::dynkey::find(vals, stride, string(kp, kl, ks)).map_or(u64::MAX, |i| i as u64)
}
