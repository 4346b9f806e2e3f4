//! The bytecode interpreter.
//!
//! Evaluation uses a fixed operand stack of [`STACK_CELLS`] cells and recursion only for
//! aggregate bodies, at most [`MAX_LEVELS`] deep; nothing is allocated. The verifier has
//! already proved every code block well typed and bounded, so the interpreter never checks
//! types; its defensive fallbacks (a false cell) are unreachable for verified bundles.

use core::cmp::Ordering;
use core::ops::ControlFlow;

use crate::bundle::{Bundle, PolicyId, SlotId};
use crate::decision::{
    Accumulator, AttrError, Brief, BriefAccumulator, Decision, DecisionLists, ElementIndex,
    Outcome, PolicyError, Violation,
};
use crate::format::{body_kind, group, kind, Span};
use crate::isa::{CmpOp, Instr, Opcode, MAX_LEVELS, STACK_CELLS};
use crate::read::{self, Scalar};
use crate::value::{Context, Str, Value};
#[cfg(feature = "lookups")]
use crate::vocab::ErrKind;

pub use prepared::Prepared;

mod chain;
mod conj;
#[cfg(feature = "dynkey")]
mod dynkey;
#[cfg(feature = "unicode")]
mod fold;
#[cfg(feature = "ip")]
mod ipcmp;
mod nested;
mod plan;
mod prepared;
#[cfg(feature = "ranges")]
mod ranges;
#[cfg(feature = "segment")]
mod segment;
#[cfg(feature = "time")]
mod time;

/// One operand-stack cell: a value or the error that replaced it.
///
/// Sixteen bytes on 64-bit hosts (issues #13/#15, session 11: the 24-byte cell of session 10
/// cost +12-14 % instructions per decision): a request string or address is held by
/// reference to its value in the context or list (which outlive the evaluation), a bundle
/// string constant by its symbol id alone (its text is in the bundle's string table), and a
/// piece that `segment` cut from a request string and that is in no table as its source
/// string and byte range ([`Cell::as_str`] gives any of them as a [`Str`]).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell<'v> {
    Bool(bool),
    Int(i64),
    /// A request string (see [`Str`]), by reference.
    Str(&'v Str<'v>),
    /// A string of the bundle's string table, by symbol id (a constant, or a piece of one).
    Sym(u32),
    Enum(u16),
    Err(AttrError),
    /// An address (issue #13, session 10), by reference: an `ip` field read through a
    /// dynamic key, or an `ip` attribute or field it is compared with (`in.ip`, `cmp.ip`).
    #[cfg(all(feature = "dynkey", feature = "ip"))]
    Ip(&'v crate::ip::Ip),
    /// A `segment` piece outside the string table: bytes `start..start + len` of a request
    /// string's text, `len` split in its low 16 and high 8 bits (`vm/segment.rs`).
    #[cfg(feature = "segment")]
    Piece(&'v Str<'v>, u32, u16, u8),
}

const FALSE: Cell<'static> = Cell::Bool(false);

/// The string of symbol `sym` as a constant cell gives it (no text: the table has it).
#[inline(always)]
const fn sym_str(sym: u32) -> Str<'static> {
    Str { text: "", sym }
}

/// The value every missing slot, field or element reads as.
static MISSING: Value<'static> = Value::Missing;

impl<'v> Cell<'v> {
    /// The cell of scalar `s`, read from the value `v` (a string or address cell refers to
    /// `v`'s payload).
    #[inline(always)]
    fn of(v: &'v Value<'v>, s: Scalar<'v>) -> Self {
        match (s, v) {
            (Scalar::Int(i), _) => Cell::Int(i),
            (Scalar::Bool(b), _) => Cell::Bool(b),
            (Scalar::Enum(r), _) => Cell::Enum(r),
            (Scalar::Str(_), Value::Str(s)) => Cell::Str(s),
            // Issue #13, session 10: an address on the stack, for `in.ip` and `cmp.ip`.
            #[cfg(all(feature = "dynkey", feature = "ip"))]
            (Scalar::Ip(_), Value::Ip(a)) => Cell::Ip(a),
            // A string or address scalar is read only from a value of its kind; without the
            // dynkey and ip families no verified instruction loads an address onto the
            // stack: the ip instructions test it in place (`in.ip.slot`, `in.ip.field`).
            _ => FALSE,
        }
    }

    /// The string a cell holds, if it holds one (a constant's text is empty: the bundle's
    /// string table has it, as [`read::str_op`] and the other string kernels expect).
    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn as_str(&self) -> Option<Str<'v>> {
        match *self {
            Cell::Str(s) => Some(*s),
            Cell::Sym(sym) => Some(Str { text: "", sym }),
            #[cfg(feature = "segment")]
            Cell::Piece(s, start, lo, hi) => {
                let start = start as usize;
                let len = usize::from(lo) | usize::from(hi) << 16;
                s.text.get(start..start.wrapping_add(len)).map(|text| Str {
                    text,
                    sym: crate::value::NO_SYMBOL,
                })
            }
            _ => None,
        }
    }

    /// The scalar a cell holds (`None` for an error).
    #[inline(always)]
    fn scalar(&self) -> Option<Scalar<'v>> {
        match *self {
            Cell::Int(i) => Some(Scalar::Int(i)),
            Cell::Bool(b) => Some(Scalar::Bool(b)),
            Cell::Enum(r) => Some(Scalar::Enum(r)),
            Cell::Err(_) => None,
            #[cfg(all(feature = "dynkey", feature = "ip"))]
            Cell::Ip(a) => Some(Scalar::Ip(*a)),
            _ => self.as_str().map(Scalar::Str),
        }
    }
}

/// The cell of a condition (an aggregate element's, a clause's, a trigger's) as the code
/// around it reads it: a boolean, an error, or any other cell (which no verified condition
/// gives). One byte, so it stays in a register and is returned in one (issue #15, session 20:
/// the [`Cell`], built in memory a byte at a time and copied whole, stalled the load; a
/// `Truth` carrying the error was ten bytes, returned through memory). The error of a
/// [`Truth::Err`] is the machine's `fault`, set where the cell was read
/// ([`Machine::truth`]).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Truth {
    False = 0,
    True = 1,
    Err = 2,
    Other = 3,
}

impl Truth {
    /// [`Truth::True`] or [`Truth::False`].
    #[inline(always)]
    fn from(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    /// Whether this is the boolean `b`.
    #[inline(always)]
    fn is(self, b: bool) -> bool {
        self == Truth::from(b)
    }
}

/// Stack bytes one evaluation uses (the cells plus per-level loop state), for sizing budgets.
pub const STACK_BYTES: usize = STACK_CELLS * core::mem::size_of::<Cell<'static>>();

// Issues #13/#15 (session 11): a cell is 16 bytes on 64-bit hosts, every family included.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<Cell<'static>>() <= 16);

fn min_err(a: Option<AttrError>, b: AttrError) -> AttrError {
    match a {
        Some(a) if a <= b => a,
        _ => b,
    }
}

/// The up to 8 bytes of `code` from `pc` as a little-endian word, zero padded: the last eight
/// bytes of the section shifted down, or byte by byte when the section is shorter.
#[inline(always)]
fn tail_word(code: &[u8], pc: usize) -> u64 {
    match code.last_chunk::<8>() {
        // `pc` is past `len - 8` here (the caller's eight-byte read failed); a `pc` at or
        // past the end reads 0. Plain shifts, no checked arithmetic: this runs for the last
        // instructions of every bundle (issue #15).
        Some(last) => match pc.wrapping_sub(code.len() - 8) {
            skip @ 0..=7 => u64::from_le_bytes(*last) >> (skip * 8),
            _ => 0,
        },
        None => code
            .get(pc..)
            .unwrap_or(&[])
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

/// The key of a cell in sets and index buckets ([`read::key`]; `None` for an error).
#[inline(always)]
fn key(c: &Cell<'_>) -> Option<i64> {
    c.scalar().and_then(|s| read::key(&s))
}

/// An index bucket's slot and the cell read from it, for its candidates' triggers
/// ([`Reader::probe`], [`Machine::policy_head`]); `None` when no bucket was found by key. The
/// cell by reference (issue #15, session 20): copied into each candidate's call, it was
/// stored in pieces and read back whole, a load the processor could not forward.
type Head<'h, 'v> = Option<(SlotId, &'h Cell<'v>)>;

/// Reads attribute values of one request as typed cells: all that candidate selection needs,
/// without the operand stack.
#[derive(Clone, Copy)]
struct Reader<'e, 'a, 'v> {
    bundle: &'e Bundle<'a>,
    values: &'v [Value<'v>],
}

impl<'e, 'a, 'v> Reader<'e, 'a, 'v> {
    #[inline(always)]
    fn value(&self, slot: SlotId) -> &'v Value<'v> {
        self.values.get(usize::from(slot)).unwrap_or(&MISSING)
    }

    /// Reads a scalar of declared kind `k` (enum `e`), reporting errors as `at`.
    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn scalar(&self, v: &'v Value<'v>, k: u8, e: u16, at: (SlotId, Option<u16>)) -> Cell<'v> {
        match (k, v) {
            // The common cases of [`read::scalar_fast`], the string by reference.
            (kind::STR, Value::Str(s)) => Cell::Str(s),
            (kind::INT | kind::QUANTITY, Value::Int(i)) => Cell::Int(*i),
            _ => self.scalar_slow(v, k, e, at),
        }
    }

    /// [`Self::scalar`] for every other case (enums, booleans, times and errors):
    /// [`read::scalar`].
    #[inline(never)]
    fn scalar_slow(&self, v: &'v Value<'v>, k: u8, e: u16, at: (SlotId, Option<u16>)) -> Cell<'v> {
        match read::scalar(self.bundle, *v, k, e) {
            Ok(s) => Cell::of(v, s),
            Err(kind) => Cell::Err(AttrError {
                slot: at.0,
                field: at.1,
                kind,
            }),
        }
    }

    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn load_slot(&self, s: SlotId) -> Cell<'v> {
        let r = self.bundle.slot_rec(s);
        let v = self.value(s);
        // Booleans and enum ranks inline too for slots (issue #15: the general read was ~140
        // instructions for a boolean); not for fields, whose aggregate loops got dearer.
        #[cfg(not(feature = "size"))]
        match (r.kind(), v) {
            (kind::BOOL, Value::Bool(b)) => return Cell::Bool(*b),
            (kind::ENUM, Value::Enum(x)) if read::rank_in_range(self.bundle, r.enum_id(), *x) => {
                return Cell::Enum(*x)
            }
            // An enum given as its member's text (the JSON readers' form), read inline too
            // (issue #15, session 12: `read::scalar` behind `scalar_slow` was ~125
            // instructions); a string that is no member takes the general read (its error).
            (kind::ENUM, Value::Str(s)) => {
                if let Some(x) = read::enum_rank(self.bundle, r.enum_id(), *s) {
                    return Cell::Enum(x);
                }
            }
            _ => {}
        }
        self.scalar(v, r.kind(), r.enum_id(), (s, None))
    }

    /// The `(first, count)` range of index group `g`'s policies that the request's value
    /// selects: its bucket, or the whole group when the value is missing or invalid (those
    /// triggers may be errors, which must not be skipped).
    fn candidates(&self, g: usize) -> Option<(u32, u32)> {
        let group = self.bundle.index_group(g);
        let cell = self.load_slot(group.slot);
        self.probe(&group, &cell).map(|(first, n, _)| (first, n))
    }

    /// [`Self::candidates`] of `group` for `cell`, the value its slot reads as, with the
    /// group's slot and that cell when a bucket was found for it (`None` for the whole group
    /// of a missing or invalid value), so each candidate's trigger need not read and test it
    /// again ([`Machine::policy_head`]). The caller keeps the cell (issue #15, session 20:
    /// returned inside the range's `Option`, it was copied in pieces and read back whole).
    #[inline(always)]
    fn probe<'h>(
        &self,
        group: &crate::bundle::IndexGroup,
        cell: &'h Cell<'v>,
    ) -> Option<(u32, u32, Head<'h, 'v>)> {
        match cell {
            Cell::Err(_) => Some((group.first_policy, group.policies, None)),
            c => key(c)
                .and_then(|k| self.bundle.index_bucket(group, k))
                .map(|(first, n)| (first, n, Some((group.slot, cell)))),
        }
    }
}

/// The operand stack: at most [`STACK_CELLS`] cells (the verifier proves every block stays
/// within it). A `heapless::Vec`, whose unused capacity is left uninitialised: a new machine
/// does not clear the whole stack (issue #15: that `memset` was 63 instructions per machine,
/// once per decision and once per candidate on the host's path).
type Stack<'v> = heapless::Vec<Cell<'v>, STACK_CELLS>;

/// Evaluation state for one policy over one context.
struct Machine<'e, 'a, 'v> {
    r: Reader<'e, 'a, 'v>,
    bundle: &'e Bundle<'a>,
    stack: Stack<'v>,
    /// At each aggregate level: the list slot, its first field record and the current
    /// element's field values.
    loops: [(SlotId, u16, &'v [Value<'v>]); MAX_LEVELS],
    note: core::cell::Cell<Option<i64>>,
    /// The error of the last cell read as [`Truth::Err`] ([`Self::truth`]).
    fault: core::cell::Cell<AttrError>,
    /// The index of the element at which the last outermost `all` turned false.
    witness: Option<ElementIndex>,
    /// The bundle's aggregate chains decoded at load, by body start, and its clause and
    /// trigger plans (`vm/prepared.rs`, `vm/plan.rs`; empty: each is decoded when met).
    prep: prepared::View<'e>,
}

impl<'e, 'a, 'v> Machine<'e, 'a, 'v> {
    #[inline(always)]
    fn new(bundle: &'e Bundle<'a>, values: &'v [Value<'v>]) -> Self {
        Machine {
            r: Reader { bundle, values },
            bundle,
            stack: Stack::new(),
            loops: [(0, 0, &[]); MAX_LEVELS],
            note: core::cell::Cell::new(None),
            fault: core::cell::Cell::new(AttrError {
                slot: 0,
                field: None,
                kind: crate::vocab::ErrKind::Missing,
            }),
            witness: None,
            prep: prepared::View::EMPTY,
        }
    }

    #[inline(always)]
    fn value(&self, slot: SlotId) -> &'v Value<'v> {
        self.r.value(slot)
    }

    /// The truth of cell `c`; an error is kept as the machine's `fault`.
    #[inline(always)]
    fn truth(&self, c: Cell<'v>) -> Truth {
        match c {
            Cell::Bool(b) => Truth::from(b),
            Cell::Err(e) => {
                self.fault.set(e);
                Truth::Err
            }
            _ => Truth::Other,
        }
    }

    /// The truth of a chain of two tests, `absorbing` its absorbing value, whose first test
    /// did not absorb (`e0`: its error if it was one) and whose second gave `b` (an error's in
    /// `fault`): the cell [`Self::chain_cell`] gives for them.
    #[inline(always)]
    fn combine(&self, e0: Option<AttrError>, b: Truth, absorbing: bool) -> Truth {
        if b.is(absorbing) {
            return b;
        }
        match (e0, b) {
            (Some(x), Truth::Err) => {
                self.fault.set(min_err(Some(x), self.fault.get()));
                Truth::Err
            }
            (Some(x), _) => {
                self.fault.set(x);
                Truth::Err
            }
            (None, Truth::Err) => Truth::Err,
            _ => Truth::from(!absorbing),
        }
    }

    #[inline(always)]
    fn scalar(&self, v: &'v Value<'v>, k: u8, e: u16, at: (SlotId, Option<u16>)) -> Cell<'v> {
        self.r.scalar(v, k, e, at)
    }

    #[inline(always)]
    fn load_slot(&self, s: SlotId) -> Cell<'v> {
        self.r.load_slot(s)
    }

    // Out of line in the `size` profile (issue #15: -652 B of thumbv7m flash for 16 B of
    // interpreter stack); `pop` too since session 10 (evaluation RAM has room under 4 KiB).
    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn push(&mut self, c: Cell<'v>) {
        // A full stack drops the cell: the verifier has proved no block fills it.
        let _ = self.stack.push(c);
    }

    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn pop(&mut self) -> Cell<'v> {
        self.stack.pop().unwrap_or(FALSE)
    }

    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn load_field(&self, level: u8, field: u16) -> Cell<'v> {
        let (slot, first, elem) =
            self.loops
                .get(usize::from(level))
                .copied()
                .unwrap_or((0, 0, &[]));
        let fr = self
            .bundle
            .field_rec(usize::from(first).wrapping_add(field.into()));
        let v = elem.get(usize::from(field)).unwrap_or(&MISSING);
        self.scalar(v, fr.kind(), fr.enum_id(), (slot, Some(field)))
    }

    #[inline(always)]
    fn constant(&self, c: u16) -> Cell<'v> {
        let r = self.bundle.const_rec(c);
        let v = r.value();
        match r.kind() {
            kind::STR => Cell::Sym(v as u32),
            kind::INT => Cell::Int(v),
            kind::BOOL => Cell::Bool(v != 0),
            _ => Cell::Enum(v as u16),
        }
    }

    /// The cell of string operator `op` (`starts_with` and the others) on cells `a` and `b`:
    /// the smaller error if either is one, else the test if both hold strings, else false.
    #[inline(always)]
    fn str_cells(&self, op: crate::isa::StrOp, a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
        match (a, b) {
            (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
            (a, b) => match (a.as_str(), b.as_str()) {
                (Some(x), Some(y)) => Cell::Bool(read::str_op(self.bundle, op, x, y)),
                _ => FALSE,
            },
        }
    }

    /// A list slot's elements and stride, or the error reading it ([`read::list`]).
    fn list(&self, s: SlotId) -> Result<(&'v [Value<'v>], usize), AttrError> {
        self.list_of(s, *self.value(s))
    }

    /// Whether the scalar `a` is an element of list slot `s` (`in.list`): the smaller error
    /// when both fail, else either one.
    #[inline(always)]
    #[cfg(feature = "size")]
    fn in_list(&self, a: Cell<'v>, s: SlotId) -> Cell<'v> {
        // The `size` profile (firmware): the list read every use shares, then a search
        // (`read::list_find`'s own loop is +396 B of thumbv7m flash).
        match (a, self.list(s)) {
            (Cell::Err(x), Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Err(x)) => Cell::Err(x),
            (a, Ok((vals, _))) => {
                let r = self.bundle.slot_rec(s);
                let (ek, e) = (r.elem_kind(), r.enum_id());
                Cell::Bool(
                    a.scalar()
                        .is_some_and(|a| read::list_contains(self.bundle, ek, e, vals, a)),
                )
            }
        }
    }

    /// As above, without `size`: one pass checks the list and searches it
    /// ([`read::list_find`], issue #15, session 15).
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn in_list(&self, a: Cell<'v>, s: SlotId) -> Cell<'v> {
        let found = read::list_find(
            self.bundle,
            self.bundle.list_decl(s),
            *self.value(s),
            a.scalar(),
        )
        .map_err(|kind| AttrError {
            slot: s,
            field: None,
            kind,
        });
        match (a, found) {
            (Cell::Err(x), Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Err(x)) => Cell::Err(x),
            (_, Ok(found)) => Cell::Bool(found),
        }
    }

    /// Value `v` read as list slot `s` declares ([`read::list`]); errors name `s`.
    #[inline(always)]
    fn list_of(&self, s: SlotId, v: Value<'v>) -> Result<(&'v [Value<'v>], usize), AttrError> {
        read::list(self.bundle, self.bundle.list_decl(s), v).map_err(|kind| AttrError {
            slot: s,
            field: None,
            kind,
        })
    }

    fn eq(a: &Cell<'v>, b: &Cell<'v>) -> bool {
        match (a, b) {
            (Cell::Str(x), Cell::Str(y)) => x == y,
            (Cell::Int(x), Cell::Int(y)) => x == y,
            (Cell::Bool(x), Cell::Bool(y)) => x == y,
            (Cell::Enum(x), Cell::Enum(y)) => x == y,
            _ => match (a.as_str(), b.as_str()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }

    fn compare(op: CmpOp, a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
        match (a, b) {
            (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
            _ => {
                let ord = match (&a, &b) {
                    (Cell::Int(x), Cell::Int(y)) => x.cmp(y),
                    (Cell::Enum(x), Cell::Enum(y)) => x.cmp(y),
                    _ if Self::eq(&a, &b) => Ordering::Equal,
                    _ => Ordering::Less,
                };
                Cell::Bool(op.test(ord))
            }
        }
    }

    /// The value of lookup table (`set`, `konst`) under key `a` (`lookup.slot`,
    /// `lookup.field`): `a`'s error, the row's constant, or a missing key at `at`.
    #[cfg(feature = "lookups")]
    fn lookup(&self, a: Cell<'v>, at: (SlotId, Option<u16>), set: u16, konst: u16) -> Cell<'v> {
        let row = match a {
            Cell::Err(e) => return Cell::Err(e),
            a => key(&a).and_then(|k| self.bundle.set_position(set, k)),
        };
        match row {
            Some(i) => self.constant(konst.saturating_add(i)),
            None => Cell::Err(AttrError {
                slot: at.0,
                field: at.1,
                kind: ErrKind::MissingKey,
            }),
        }
    }

    /// Without the `lookups` family the verifier refuses `lookup.*` (issue #15).
    #[cfg(not(feature = "lookups"))]
    #[inline(always)]
    fn lookup(&self, _: Cell<'v>, _: (SlotId, Option<u16>), _: u16, _: u16) -> Cell<'v> {
        FALSE
    }

    fn in_set(&self, a: Cell<'v>, set: u16) -> Cell<'v> {
        match a {
            Cell::Err(e) => Cell::Err(e),
            a => Cell::Bool(key(&a).is_some_and(|k| self.bundle.set_contains(set, k))),
        }
    }

    /// Whether address value `v` is in IP set `set` ([`read::ip_in_set`]); errors name `at`.
    #[cfg(feature = "ip")]
    fn in_ip(&self, v: Value<'v>, set: u16, at: (SlotId, Option<u16>)) -> Cell<'v> {
        match read::ip_in_set(self.bundle.ip_table(set), v) {
            Ok(b) => Cell::Bool(b),
            Err(kind) => Cell::Err(AttrError {
                slot: at.0,
                field: at.1,
                kind,
            }),
        }
    }

    /// The value of field `field` of the element bound at level `level`, with the location
    /// errors name.
    #[cfg(feature = "ip")]
    fn field_value(&self, level: u8, field: u16) -> (Value<'v>, (SlotId, Option<u16>)) {
        let (slot, _, elem) = self
            .loops
            .get(usize::from(level))
            .copied()
            .unwrap_or((0, 0, &[]));
        let v = elem
            .get(usize::from(field))
            .copied()
            .unwrap_or(Value::Missing);
        (v, (slot, Some(field)))
    }

    /// `a and b` (`absorbing` false) or `a or b` (`absorbing` true).
    #[inline(always)]
    fn logic(absorbing: bool, a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
        match (a, b) {
            (Cell::Bool(x), _) if x == absorbing => a,
            (_, Cell::Bool(y)) if y == absorbing => b,
            (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(_), _) => a,
            _ => b,
        }
    }

    /// Compares cell `a` with constant `c`: `compare(op, a, self.constant(c))` without
    /// building the constant's cell.
    #[inline(always)]
    fn cmp_const(&self, op: CmpOp, a: Cell<'v>, c: u16) -> Cell<'v> {
        let r = self.bundle.const_rec(c);
        Self::cmp_kv(op, a, r.kind(), r.value())
    }

    /// Compares cell `a` with the constant of kind `ck` and value `cv` (its record's fields).
    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn cmp_kv(op: CmpOp, a: Cell<'v>, ck: u8, cv: i64) -> Cell<'v> {
        let ord = match (a, ck) {
            (Cell::Err(e), _) => return Cell::Err(e),
            (Cell::Int(x), kind::INT) => x.cmp(&cv),
            (Cell::Enum(x), k) if !matches!(k, kind::STR | kind::INT | kind::BOOL) => {
                x.cmp(&(cv as u16))
            }
            (Cell::Str(s), kind::STR) if *s == sym_str(cv as u32) => Ordering::Equal,
            (Cell::Sym(s), kind::STR) if s == cv as u32 => Ordering::Equal,
            #[cfg(feature = "segment")]
            (Cell::Piece(..), kind::STR) if a.as_str() == Some(sym_str(cv as u32)) => {
                Ordering::Equal
            }
            (Cell::Bool(x), kind::BOOL) if x == (cv != 0) => Ordering::Equal,
            _ => Ordering::Less,
        };
        Cell::Bool(op.test(ord))
    }

    /// Runs one block at aggregate nesting `level`, returning the condition it leaves.
    ///
    /// The block is `code[start..end]` of the bundle's code section (`(start, end)` from
    /// [`Self::block`]); instructions are read eight bytes at a time, past the block's end
    /// when it is not the last, which is harmless: an instruction's operands are within it.
    fn run(&mut self, (start, end): (usize, usize), level: usize) -> Cell<'v> {
        let code = self.bundle.body.code;
        let base = self.stack.len();
        let mut pc = start;
        while pc < end {
            // The instruction (opcode and every operand) read at once, little-endian; zero
            // padded at the end of the code section.
            let word = match code.get(pc..).and_then(<[u8]>::first_chunk::<8>) {
                Some(a) => u64::from_le_bytes(*a),
                None => tail_word(code, pc),
            };
            // Decoded in registers: the match below is the one dispatch on the opcode byte.
            let Some(instr) = Instr::from_word(word) else {
                break;
            };
            let next = pc + instr.encoded_len();
            match instr {
                Instr::LoadSlot { slot } => {
                    let c = self.load_slot(slot.0);
                    self.push(c);
                }
                Instr::LoadField { level, field } => {
                    let c = self.load_field(level.0, field.0);
                    self.push(c);
                }
                Instr::LoadConst { konst } => {
                    // `load.const k; cmp op` (a count compared with a number, issue #15):
                    // one step, `cmp_const` on the cell below instead of pushing `k`.
                    // The next byte is tested first: no second full decode in this loop.
                    #[cfg(not(feature = "size"))]
                    if next < end && code.get(next) == Some(&(Opcode::Cmp as u8)) {
                        if let Some(op) = code.get(next + 1).and_then(|&o| CmpOp::from_byte(o)) {
                            let a = self.pop();
                            let c = self.cmp_const(op, a, konst.0);
                            self.push(c);
                            pc = next + 2;
                            continue;
                        }
                    }
                    let c = self.constant(konst.0);
                    self.push(c);
                }
                Instr::Cmp { op } => {
                    let b = self.pop();
                    let a = self.pop();
                    self.push(Self::compare(op, a, b));
                }
                Instr::CmpSlotConst { op, slot, konst } => {
                    let c = self.cmp_const(op, self.load_slot(slot.0), konst.0);
                    self.push(c);
                }
                Instr::CmpFieldConst {
                    op,
                    level,
                    field,
                    konst,
                } => {
                    let c = self.cmp_const(op, self.load_field(level.0, field.0), konst.0);
                    self.push(c);
                }
                Instr::CmpFieldSlot {
                    op,
                    level,
                    field,
                    slot,
                } => {
                    let a = self.load_field(level.0, field.0);
                    let c = Self::compare(op, a, self.load_slot(slot.0));
                    self.push(c);
                }
                Instr::StrOp { op } => {
                    let b = self.pop();
                    let a = self.pop();
                    let c = self.str_cells(op, a, b);
                    self.push(c);
                }
                Instr::StrMatch { re } => {
                    let c = match self.pop() {
                        Cell::Err(x) => Cell::Err(x),
                        a => match a.as_str() {
                            Some(s) => Cell::Bool(crate::regex::str_match(
                                self.bundle,
                                self.bundle.dfas(),
                                re.0,
                                s,
                            )),
                            None => FALSE,
                        },
                    };
                    self.push(c);
                }
                Instr::InSet { set } => {
                    let a = self.pop();
                    let c = self.in_set(a, set.0);
                    self.push(c);
                }
                Instr::InSlotSet { slot, set } => {
                    let c = self.in_set(self.load_slot(slot.0), set.0);
                    self.push(c);
                }
                #[cfg(feature = "ip")]
                Instr::InIpSlot { slot, set } => {
                    let c = self.in_ip(*self.value(slot.0), set.0, (slot.0, None));
                    self.push(c);
                }
                #[cfg(feature = "ip")]
                Instr::InIpField {
                    level: l,
                    field,
                    set,
                } => {
                    let (v, at) = self.field_value(l.0, field.0);
                    let c = self.in_ip(v, set.0, at);
                    self.push(c);
                }
                // Without the `ip` family the verifier refuses these (issue #14).
                #[cfg(not(feature = "ip"))]
                Instr::InIpSlot { .. } | Instr::InIpField { .. } => self.push(FALSE),
                Instr::InPairSet { set } => {
                    let b = self.pop();
                    let a = self.pop();
                    let c = match (a, b) {
                        (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
                        (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
                        (a, b) => match (a.as_str(), b.as_str()) {
                            (Some(x), Some(y)) => Cell::Bool(
                                read::pair_key(x.sym, y.sym)
                                    .is_some_and(|k| self.bundle.set_contains(set.0, k)),
                            ),
                            _ => FALSE,
                        },
                    };
                    self.push(c);
                }
                Instr::LookupSlot { slot, set, konst } => {
                    let c = self.lookup(self.load_slot(slot.0), (slot.0, None), set.0, konst.0);
                    self.push(c);
                }
                Instr::LookupField {
                    level,
                    field,
                    set,
                    konst,
                } => {
                    let list = self.loops.get(usize::from(level.0)).map_or(0, |l| l.0);
                    let key = self.load_field(level.0, field.0);
                    let c = self.lookup(key, (list, Some(field.0)), set.0, konst.0);
                    self.push(c);
                }
                #[cfg(feature = "segment")]
                Instr::SegSlot { slot, sep, index } => {
                    let c = self.seg(self.load_slot(slot.0), (slot.0, None), sep.0, index.0);
                    self.push(c);
                }
                #[cfg(feature = "segment")]
                Instr::SegField {
                    level,
                    field,
                    sep,
                    index,
                } => {
                    let list = self.loops.get(usize::from(level.0)).map_or(0, |l| l.0);
                    let a = self.load_field(level.0, field.0);
                    let c = self.seg(a, (list, Some(field.0)), sep.0, index.0);
                    self.push(c);
                }
                #[cfg(feature = "segment")]
                Instr::HasSegSlot { slot, sep, index } => {
                    let c =
                        self.has_seg(*self.value(slot.0), self.load_slot(slot.0), sep.0, index.0);
                    self.push(c);
                }
                #[cfg(feature = "segment")]
                Instr::HasSegField {
                    level,
                    field,
                    sep,
                    index,
                } => {
                    let v = self
                        .loops
                        .get(usize::from(level.0))
                        .and_then(|l| l.2.get(usize::from(field.0)))
                        .copied()
                        .unwrap_or(Value::Missing);
                    let a = self.load_field(level.0, field.0);
                    let c = self.has_seg(v, a, sep.0, index.0);
                    self.push(c);
                }
                // Without the `segment` family the verifier refuses these (issue #15).
                #[cfg(not(feature = "segment"))]
                Instr::SegSlot { .. }
                | Instr::SegField { .. }
                | Instr::HasSegSlot { .. }
                | Instr::HasSegField { .. }
                | Instr::Seg { .. }
                | Instr::HasSeg { .. } => self.push(FALSE),
                #[cfg(feature = "ip")]
                Instr::CmpIpSlotSlot { op, a, b } => {
                    let x = (*self.value(a.0), (a.0, None));
                    let y = (*self.value(b.0), (b.0, None));
                    self.push(Self::ip_compare(op, x, y));
                }
                #[cfg(feature = "ip")]
                Instr::CmpIpFieldSlot {
                    op,
                    level,
                    field,
                    slot,
                } => {
                    let x = self.ip_field(level.0, field.0);
                    let y = (*self.value(slot.0), (slot.0, None));
                    self.push(Self::ip_compare(op, x, y));
                }
                #[cfg(feature = "ip")]
                Instr::CmpIpFieldField { op, la, fa, lb, fb } => {
                    let x = self.ip_field(la.0, fa.0);
                    let y = self.ip_field(lb.0, fb.0);
                    self.push(Self::ip_compare(op, x, y));
                }
                // Without the `ip` family the verifier refuses these (issue #14).
                #[cfg(not(feature = "ip"))]
                Instr::CmpIpSlotSlot { .. }
                | Instr::CmpIpFieldSlot { .. }
                | Instr::CmpIpFieldField { .. } => self.push(FALSE),
                #[cfg(feature = "segment")]
                Instr::Seg {
                    sep,
                    index,
                    level,
                    at,
                } => {
                    let a = self.pop();
                    let at = self.seg_at(level.0, at.0);
                    let c = self.seg(a, at, sep.0, index.0);
                    self.push(c);
                }
                #[cfg(feature = "unicode")]
                Instr::StrFold { op } => {
                    let b = self.pop();
                    let a = self.pop();
                    let c = self.str_fold(op, a, b);
                    self.push(c);
                }
                #[cfg(feature = "unicode")]
                Instr::StrMatchFold { re } => {
                    let a = self.pop();
                    let c = self.str_match_fold(re.0, a);
                    self.push(c);
                }
                // Without the `unicode` family the verifier refuses these (issue #14).
                #[cfg(not(feature = "unicode"))]
                Instr::StrFold { .. } | Instr::StrMatchFold { .. } => {
                    let _ = self.pop();
                    self.push(FALSE);
                }
                #[cfg(feature = "ranges")]
                Instr::InRange { table } => {
                    let a = self.pop();
                    let c = self.in_range(table.0, a);
                    self.push(c);
                }
                #[cfg(feature = "segment")]
                Instr::HasSeg { sep, index } => {
                    let a = self.pop();
                    let c = self.has_seg_cell(a, sep.0, index.0);
                    self.push(c);
                }
                #[cfg(feature = "dynkey")]
                Instr::MapGet { map, field } => {
                    let k = self.pop();
                    let c = self.map_get(k, map.0, field.0);
                    self.push(c);
                }
                #[cfg(feature = "dynkey")]
                Instr::MapHas { map, field } => {
                    let k = self.pop();
                    let c = self.map_has(k, map.0, field.0);
                    self.push(c);
                }
                // Without their families the verifier refuses these (issue #15).
                #[cfg(not(feature = "dynkey"))]
                Instr::MapGet { .. }
                | Instr::MapHas { .. }
                | Instr::InIp { .. }
                | Instr::CmpIp { .. } => {
                    let _ = self.pop();
                    self.push(FALSE);
                }
                #[cfg(feature = "dynkey")]
                Instr::InIp { set } => {
                    let a = self.pop();
                    let c = self.in_ip_cell(a, set.0);
                    self.push(c);
                }
                #[cfg(feature = "dynkey")]
                Instr::CmpIp { op } => {
                    let b = self.pop();
                    let a = self.pop();
                    self.push(Self::cmp_ip_cells(op, a, b));
                }
                #[cfg(not(feature = "ranges"))]
                Instr::InRange { .. } => {
                    let _ = self.pop();
                    self.push(FALSE);
                }
                Instr::InList { list } => {
                    let a = self.pop();
                    let c = self.in_list(a, list.0);
                    self.push(c);
                }
                Instr::Has { slot } => {
                    let present = !matches!(self.value(slot.0), Value::Missing);
                    self.push(Cell::Bool(present));
                }
                Instr::HasField { level, field } => {
                    let (_, _, elem) =
                        self.loops
                            .get(usize::from(level.0))
                            .copied()
                            .unwrap_or((0, 0, &[]));
                    let present = elem
                        .get(usize::from(field.0))
                        .is_some_and(|v| !matches!(v, Value::Missing));
                    self.push(Cell::Bool(present));
                }
                Instr::Not {} => match self.stack.last_mut() {
                    Some(Cell::Bool(b)) => *b = !*b,
                    Some(_) => {}
                    // An empty stack: `pop` would have given false.
                    None => self.push(Cell::Bool(true)),
                },
                Instr::And {} => self.logic_top(false),
                Instr::Or {} => self.logic_top(true),
                Instr::JumpIfFalse { by } => {
                    if self.top_is(false) {
                        pc = next + usize::from(by.0);
                        continue;
                    }
                }
                Instr::JumpIfTrue { by } => {
                    if self.top_is(true) {
                        pc = next + usize::from(by.0);
                        continue;
                    }
                }
                Instr::Add {} => {
                    let b = self.pop();
                    let a = self.pop();
                    self.push(Self::add(a, b));
                }
                #[cfg(feature = "arith")]
                Instr::Arith { op, at } => {
                    let b = if op.is_unary() {
                        Cell::Int(0)
                    } else {
                        self.pop()
                    };
                    let a = self.pop();
                    self.push(Self::arith(op, at.0, a, b));
                }
                // Without the `arith` family the verifier refuses it (issue #14).
                #[cfg(not(feature = "arith"))]
                Instr::Arith { op, .. } => {
                    if !op.is_unary() {
                        self.pop();
                    }
                    self.pop();
                    self.push(FALSE);
                }
                #[cfg(feature = "time")]
                Instr::Sub {} => {
                    let b = self.pop();
                    let a = self.pop();
                    self.push(time::sub(a, b));
                }
                #[cfg(feature = "time")]
                Instr::TimeHour {} => {
                    let a = self.pop();
                    self.push(time::part(a, crate::time::hour));
                }
                #[cfg(feature = "time")]
                Instr::TimeWeekday {} => {
                    let a = self.pop();
                    self.push(time::part(a, crate::time::weekday));
                }
                #[cfg(feature = "time")]
                Instr::TimeOfDay {} => {
                    let a = self.pop();
                    self.push(time::part(a, crate::time::time_of_day));
                }
                // Without the `time` family the verifier refuses these (issue #14).
                #[cfg(not(feature = "time"))]
                Instr::Sub {} => {
                    self.pop();
                    self.pop();
                    self.push(FALSE);
                }
                #[cfg(not(feature = "time"))]
                Instr::TimeHour {} | Instr::TimeWeekday {} | Instr::TimeOfDay {} => {
                    self.pop();
                    self.push(FALSE);
                }
                Instr::StrLen {} => {
                    let c = match self.pop() {
                        Cell::Err(x) => Cell::Err(x),
                        a => match a.as_str() {
                            Some(s) => Cell::Int(read::char_len(self.bundle, s)),
                            None => FALSE,
                        },
                    };
                    self.push(c);
                }
                Instr::NoteCount {} => {
                    if let Some(Cell::Int(i)) = self.stack.last() {
                        self.note.set(Some(*i));
                    }
                }
                Instr::Count { list, body } => {
                    pc = self.aggregate_at(Opcode::Count, list.0, body.0, (next, end), level);
                    // `count ...; note.count` (a clause comparing a count, issue #15): the
                    // count is noted here, one dispatch less.
                    #[cfg(not(feature = "size"))]
                    if pc < end && code.get(pc) == Some(&(Opcode::NoteCount as u8)) {
                        if let Some(Cell::Int(i)) = self.stack.last() {
                            self.note.set(Some(*i));
                        }
                        pc += 1;
                    }
                    continue;
                }
                Instr::Any { list, body } => {
                    pc = self.aggregate_at(Opcode::Any, list.0, body.0, (next, end), level);
                    continue;
                }
                Instr::All { list, body } => {
                    pc = self.aggregate_at(Opcode::All, list.0, body.0, (next, end), level);
                    continue;
                }
                Instr::InField { level: l, field } => {
                    let a = self.pop();
                    let c = self.in_field(a, l.0, field.0);
                    self.push(c);
                }
                Instr::CountField {
                    level: l,
                    field,
                    body,
                } => {
                    let at = (l.0, field.0);
                    pc = self.nested_at(Opcode::Count, at, body.0, (next, end), level);
                    continue;
                }
                Instr::AnyField {
                    level: l,
                    field,
                    body,
                } => {
                    let at = (l.0, field.0);
                    pc = self.nested_at(Opcode::Any, at, body.0, (next, end), level);
                    continue;
                }
                Instr::AllField {
                    level: l,
                    field,
                    body,
                } => {
                    let at = (l.0, field.0);
                    pc = self.nested_at(Opcode::All, at, body.0, (next, end), level);
                    continue;
                }
            }
            pc = next;
        }
        let result = self.pop();
        self.stack.truncate(base);
        result
    }

    /// `add`: the sum of two int cells (the smaller error when both are errors).
    fn add(a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
        match (a, b) {
            (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
            (Cell::Int(x), Cell::Int(y)) => Cell::Int(x.saturating_add(y)),
            _ => FALSE,
        }
    }

    /// `arith op at`: checked arithmetic on two int cells (the smaller error when both are
    /// errors; an overflow or division by zero is an error at slot `at`).
    #[cfg(feature = "arith")]
    fn arith(op: crate::arith::ArithOp, at: SlotId, a: Cell<'v>, b: Cell<'v>) -> Cell<'v> {
        match (a, b) {
            (Cell::Err(x), Cell::Err(y)) => Cell::Err(x.min(y)),
            (Cell::Err(x), _) | (_, Cell::Err(x)) => Cell::Err(x),
            (Cell::Int(x), Cell::Int(y)) => match op.apply(x, y) {
                Ok(v) => Cell::Int(v),
                Err(k) => Cell::Err(AttrError {
                    slot: at,
                    field: None,
                    kind: crate::vocab::arith_kind(k),
                }),
            },
            _ => FALSE,
        }
    }

    /// `and` (`absorbing` false) or `or` (`absorbing` true) of the two top cells.
    #[cfg_attr(feature = "size", inline(never))]
    #[cfg_attr(not(feature = "size"), inline(always))]
    fn logic_top(&mut self, absorbing: bool) {
        let b = self.pop();
        match self.stack.last_mut() {
            Some(a) => *a = Self::logic(absorbing, *a, b),
            None => self.push(Self::logic(absorbing, FALSE, b)),
        }
    }

    /// Whether the top cell is the boolean `want` (a jump's condition).
    #[inline(always)]
    fn top_is(&self, want: bool) -> bool {
        matches!(self.stack.last(), Some(Cell::Bool(b)) if *b == want)
    }

    /// Runs aggregate `op` over list slot `s` with the `n`-byte body at `next` (within a
    /// block ending at `end`), pushes its cell and returns the offset after the body.
    #[inline(always)]
    fn aggregate_at(
        &mut self,
        op: Opcode,
        s: SlotId,
        n: u16,
        (next, end): (usize, usize),
        level: usize,
    ) -> usize {
        let n = usize::from(n);
        let body = if next + n <= end {
            (next, next + n)
        } else {
            (next, next)
        };
        let c = self.aggregate(op, s, body, level);
        self.push(c);
        next + n
    }

    /// The `(start, end)` code range of a block at `off`, `len` bytes long (empty when out
    /// of range, which a verified bundle never is).
    #[inline(always)]
    fn block(&self, span: Span) -> (usize, usize) {
        let (start, len) = (span.off as usize, span.len as usize);
        match start.checked_add(len) {
            Some(end) if end <= self.bundle.body.code.len() => (start, end),
            _ => (0, 0),
        }
    }

    fn aggregate(&mut self, op: Opcode, s: SlotId, body: (usize, usize), level: usize) -> Cell<'v> {
        match self.list(s) {
            Ok((vals, stride)) => self.aggregate_over(op, s, (vals, stride), body, level),
            Err(e) => Cell::Err(e),
        }
    }

    /// Runs aggregate `op` over the valid elements `vals` (with `stride`) of list slot `s`.
    ///
    /// Issue #15, session 14: one loop per aggregate kind (`OP`) and body form (one test, a
    /// chain of tests, any other body run by [`Self::run`]), chosen once per aggregate; a
    /// chain's tests read each element's fields from the element itself.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn aggregate_over(
        &mut self,
        op: Opcode,
        s: SlotId,
        (vals, stride): (&'v [Value<'v>], usize),
        body: (usize, usize),
        level: usize,
    ) -> Cell<'v> {
        const ANY: u8 = Opcode::Any as u8;
        const ALL: u8 = Opcode::All as u8;
        const COUNT: u8 = Opcode::Count as u8;
        if body.0 >= body.1 {
            return Cell::Int((vals.len() / stride) as i64);
        }
        let first_field = self.bundle.slot_rec(s).first_field();
        // A body that is a chain of simple tests (`vm/conj.rs`): the evaluation's prepared
        // chain, evaluated in the table, or decoded here once this level names its list; its
        // slot tests' cells in `bound`.
        let mut chain = conj::Conj::new();
        let mut bound: conj::Bound<'v> = [FALSE; conj::MAX_TESTS];
        let conj = match self.loops.get_mut(level) {
            Some(l) if !vals.is_empty() => {
                *l = (s, first_field, &[]);
                self.conj(body, s, level, &mut chain, &mut bound)
            }
            _ => None,
        };
        let at = (s, first_field, level);
        match op as u8 {
            ANY => self.aggregate_loop::<ANY>((vals, stride), body, at, conj, &bound),
            ALL => self.aggregate_loop::<ALL>((vals, stride), body, at, conj, &bound),
            _ => self.aggregate_loop::<COUNT>((vals, stride), body, at, conj, &bound),
        }
    }

    /// [`Self::aggregate_over`] for aggregate `OP` once its body's form is known: the chain
    /// `conj` (its slot tests' cells `bound`) or, without one, the body run per element.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn aggregate_loop<const OP: u8>(
        &mut self,
        vals: (&'v [Value<'v>], usize),
        body: (usize, usize),
        (s, first_field, level): (SlotId, u16, usize),
        conj: Option<&conj::Conj>,
        bound: &conj::Bound<'v>,
    ) -> Cell<'v> {
        match conj {
            Some(c) => self.fold_chain::<OP>(vals, level, c, bound),
            None => self.fold_elements::<OP>(vals, level, |m, e| {
                if let Some(l) = m.loops.get_mut(level) {
                    *l = (s, first_field, e);
                }
                let c = m.run(body, level + 1);
                m.truth(c)
            }),
        }
    }

    /// The cell of aggregate `OP` at `level` over the elements of `vals` (with `stride`),
    /// `truth` giving each element's condition: `any` stops at the first true, `all` at the
    /// first false (noting its index as the witness at level 0), `count` counts the true;
    /// otherwise the smallest error if an element's condition is one.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn fold_elements<const OP: u8>(
        &mut self,
        (vals, stride): (&'v [Value<'v>], usize),
        level: usize,
        mut truth: impl FnMut(&mut Self, &'v [Value<'v>]) -> Truth,
    ) -> Cell<'v> {
        const ANY: u8 = Opcode::Any as u8;
        const ALL: u8 = Opcode::All as u8;
        const COUNT: u8 = Opcode::Count as u8;
        if OP == COUNT {
            // `count_elements`' loop, whose closure here needs the machine mutably.
            let mut err: Option<AttrError> = None;
            let mut count: i64 = 0;
            for elem in read::Elements::new(vals, stride) {
                match truth(self, elem) {
                    Truth::True => count += 1,
                    Truth::Err => err = Some(min_err(err, self.fault.get())),
                    _ => {}
                }
            }
            return match err {
                Some(e) => Cell::Err(e),
                None => Cell::Int(count),
            };
        }
        let mut err: Option<AttrError> = None;
        for (i, elem) in read::Elements::new(vals, stride).enumerate() {
            // Tests, not a `match`: over `Truth`'s four values the match became a jump table,
            // an indirect jump per element (issue #15, session 20).
            let t = truth(self, elem);
            if OP == ANY && t.is(true) {
                return Cell::Bool(true);
            }
            if OP == ALL && t.is(false) {
                if level == 0 {
                    // The witness: this element's index (read only when a reason template
                    // names it).
                    self.witness = u16::try_from(i).ok().and_then(ElementIndex::new);
                }
                return Cell::Bool(false);
            }
            if t == Truth::Err {
                err = Some(min_err(err, self.fault.get()));
            }
        }
        match err {
            Some(e) => Cell::Err(e),
            None => Cell::Bool(OP == ALL),
        }
    }

    /// Runs aggregate `op` over the valid elements `vals` (with `stride`) of list slot `s`
    /// (the `size` profile: one loop for every aggregate, no specialised body).
    #[cfg(feature = "size")]
    #[inline(always)]
    fn aggregate_over(
        &mut self,
        op: Opcode,
        s: SlotId,
        (vals, stride): (&'v [Value<'v>], usize),
        body: (usize, usize),
        level: usize,
    ) -> Cell<'v> {
        if body.0 >= body.1 {
            return Cell::Int((vals.len() / stride) as i64);
        }
        let first_field = self.bundle.slot_rec(s).first_field();
        let mut err: Option<AttrError> = None;
        let mut count: i64 = 0;
        let mut elems = vals.chunks_exact(stride);
        while let Some(elem) = elems.next() {
            if let Some(l) = self.loops.get_mut(level) {
                *l = (s, first_field, elem);
            }
            let c = self.run(body, level + 1);
            match (op, c) {
                (Opcode::Any, Cell::Bool(true)) => return Cell::Bool(true),
                (Opcode::All, Cell::Bool(false)) => {
                    if level == 0 {
                        // The witness: elements seen so far, minus this one (no per-element
                        // work; read only when a reason template names it).
                        let seen = vals.len() / stride - elems.len();
                        self.witness = u16::try_from(seen.saturating_sub(1))
                            .ok()
                            .and_then(ElementIndex::new);
                    }
                    return Cell::Bool(false);
                }
                (Opcode::Count, Cell::Bool(true)) => count += 1,
                (_, Cell::Err(e)) => err = Some(min_err(err, e)),
                _ => {}
            }
        }
        match (err, op) {
            (Some(e), _) => Cell::Err(e),
            (None, Opcode::Count) => Cell::Int(count),
            (None, Opcode::All) => Cell::Bool(true),
            (None, _) => Cell::Bool(false),
        }
    }
}

/// Evaluates one policy against a context.
///
/// Hosts with their own candidate index call this per candidate; [`evaluate`] does the rest.
pub fn eval_policy<const N: usize>(
    bundle: &Bundle<'_>,
    id: PolicyId,
    ctx: &Context<'_, N>,
) -> Outcome {
    eval_policy_values(bundle, id, ctx.values())
}

/// [`eval_policy`] over a plain slice of slot values.
pub fn eval_policy_values(bundle: &Bundle<'_>, id: PolicyId, values: &[Value<'_>]) -> Outcome {
    Machine::new(bundle, values).policy(id)
}

/// [`eval_policy_values`] for a candidate a host found through the trigger-index bucket of
/// slot `slot` (the bucket of that slot's key): the same outcome, with the trigger's head on
/// `slot` tested on the value already read instead of through the dispatch loop (issue #15;
/// as [`evaluate`] does for its own candidates).
pub fn eval_policy_indexed(
    bundle: &Bundle<'_>,
    id: PolicyId,
    values: &[Value<'_>],
    slot: SlotId,
) -> Outcome {
    eval_indexed_with(bundle, prepared::View::EMPTY, id, values, slot)
}

/// [`eval_policy_indexed`] with the bundle's aggregate chains decoded once ([`Prepared`],
/// filled from this bundle): the same outcome (issue #15, session 13).
pub fn eval_policy_indexed_prepared<const N: usize>(
    bundle: &Bundle<'_>,
    prepared: &Prepared<N>,
    id: PolicyId,
    values: &[Value<'_>],
    slot: SlotId,
) -> Outcome {
    eval_indexed_with(bundle, prepared.view_for(bundle), id, values, slot)
}

/// [`eval_policy_values`] with the bundle's aggregate chains decoded once ([`Prepared`]).
pub fn eval_policy_values_prepared<const N: usize>(
    bundle: &Bundle<'_>,
    prepared: &Prepared<N>,
    id: PolicyId,
    values: &[Value<'_>],
) -> Outcome {
    let mut m = Machine::new(bundle, values);
    m.prep = prepared.view_for(bundle);
    m.policy(id)
}

/// [`eval_policy_indexed`] with the prepared chains and plans `prep`.
#[inline(always)]
fn eval_indexed_with(
    bundle: &Bundle<'_>,
    prep: prepared::View<'_>,
    id: PolicyId,
    values: &[Value<'_>],
    slot: SlotId,
) -> Outcome {
    let mut m = Machine::new(bundle, values);
    m.prep = prep;
    let cell = m.load_slot(slot);
    let head = match cell {
        Cell::Err(_) => None,
        _ => Some((slot, &cell)),
    };
    m.policy_head(id, head)
}

impl<'v> Machine<'_, '_, 'v> {
    /// One policy's outcome; the machine's stack is empty before and after.
    #[inline(always)]
    fn policy(&mut self, id: PolicyId) -> Outcome {
        self.policy_head(id, None)
    }

    /// The code left of trigger `(start, end)` once its head (the index conjunct, as
    /// `docs/bundle-format.md` "The trigger index" describes it) is known to be true for
    /// `cell`, the value of slot `slot` already read: `Some(None)` when the head is the
    /// whole trigger, `Some(Some(rest))` when the head and its `jump.false` are followed by
    /// `rest`, which then runs from the stack `[true]` exactly as it would after them; `None`
    /// when the trigger does not start so or the head is not true for `cell` (the whole
    /// trigger runs). Issue #15: a candidate found through its bucket skips two dispatches
    /// and a slot read.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn after_head(
        &self,
        (start, end): (usize, usize),
        (slot, cell): (SlotId, &Cell<'v>),
    ) -> Option<Option<(usize, usize)>> {
        let cell = *cell;
        // The head and the jump read from their bytes at fixed offsets (issue #15, session 13).
        const CMP: u8 = Opcode::CmpSlotConst as u8;
        const SET: u8 = Opcode::InSlotSet as u8;
        const JUMP_FALSE: u8 = Opcode::JumpIfFalse as u8;
        let code = self.bundle.body.code.get(start..end)?;
        let (c, rest) = match *code {
            [CMP, op, s0, s1, k0, k1, ref rest @ ..] if u16::from_le_bytes([s0, s1]) == slot => (
                self.cmp_const(CmpOp::from_byte(op)?, cell, u16::from_le_bytes([k0, k1])),
                rest,
            ),
            [SET, s0, s1, t0, t1, ref rest @ ..] if u16::from_le_bytes([s0, s1]) == slot => {
                (self.in_set(cell, u16::from_le_bytes([t0, t1])), rest)
            }
            _ => return None,
        };
        if !matches!(c, Cell::Bool(true)) {
            return None;
        }
        match *rest {
            [] => Some(None),
            [JUMP_FALSE, _, _, ..] => Some(Some((
                end.saturating_sub(rest.len()).saturating_add(3),
                end,
            ))),
            _ => None,
        }
    }

    /// The truth of [`Self::run`] of a clause's block; a block that is one
    /// `cmp.slot.const` or `in.slot.set` (most clauses) is evaluated directly, without the
    /// dispatch loop and the operand stack (issue #15; found by its length and opcode byte).
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn run_block(&mut self, (start, end): (usize, usize)) -> Truth {
        const CMP: usize = 1 + Opcode::CmpSlotConst.operand_len();
        const SET: usize = 1 + Opcode::InSlotSet.operand_len();
        let code = self.bundle.body.code;
        let one = match (end.wrapping_sub(start), code.get(start)) {
            (CMP, Some(&b)) => b == Opcode::CmpSlotConst as u8,
            (SET, Some(&b)) => b == Opcode::InSlotSet as u8,
            _ => false,
        };
        if one {
            match self.instr_at(start, end) {
                Some((Instr::CmpSlotConst { op, slot, konst }, _)) => {
                    return self.truth(self.cmp_const(op, self.load_slot(slot.0), konst.0));
                }
                Some((Instr::InSlotSet { slot, set }, _)) => {
                    return self.truth(self.in_set(self.load_slot(slot.0), set.0));
                }
                _ => {}
            }
        }
        // Other common shapes without the dispatch loop (`vm/chain.rs`, issue #15, session 12).
        if let Some(t) = self.clause_fast((start, end)) {
            return t;
        }
        let c = self.run((start, end), 0);
        self.truth(c)
    }

    /// [`Self::run`] of a clause's block (no fast path with the `size` feature).
    #[cfg(feature = "size")]
    #[inline(always)]
    fn run_block(&mut self, block: (usize, usize)) -> Truth {
        let c = self.run(block, 0);
        self.truth(c)
    }

    /// The truth of clause `i`'s cell (absolute index): by its plan if the evaluation's table
    /// holds one (`vm/plan.rs`), else its block run (a [`Truth`]: issue #15, session 20).
    /// Issue #15, session 16: one slot test (most clauses) is tested without the plan's
    /// `Option` (clauses16 2,206 → 2,031 instructions per decision). `OUT_OF_LINE` (the loop
    /// of a planned policy, whose clauses are mostly planned): a count calls its plan
    /// directly and a clause without a plan runs out of line ([`Self::clause_from_code`]);
    /// otherwise both stay as the loop of a policy found from its code had them (session 17:
    /// set/1000 +109 → +105 instructions).
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn clause_truth<const OUT_OF_LINE: bool>(&mut self, i: u32) -> Truth {
        let prep = self.prep;
        match prep.clauses.get(i as usize) {
            Some(plan::Plan::One(t)) => return self.truth(self.slot_test(t)),
            // A count (the seed's clause) calls its plan from here, not from the plan
            // dispatch `run_plan` (issue #15, session 17: that dispatch was a call of its own).
            Some(&plan::Plan::Count {
                list,
                chain,
                op,
                konst,
                decl,
            }) if OUT_OF_LINE => {
                if let Some(e) = prep.chains.get(usize::from(chain)) {
                    return self.truth(self.count_plan((list, decl), &e.conj, op, konst));
                }
            }
            // Each arm returns its truth (issue #15, session 20: one `Option` for all of
            // them was built in memory and read back whole).
            Some(p) => {
                if let Some(truth) = self.run_plan(p) {
                    return truth;
                }
            }
            None => {}
        }
        if OUT_OF_LINE {
            self.clause_from_code(i)
        } else {
            self.clause_block(i)
        }
    }

    /// The truth of clause `i` from its code: its block run ([`Self::run_block`]).
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn clause_block(&mut self, i: u32) -> Truth {
        let code = self.block(self.bundle.clause_rec(i).code());
        self.run_block(code)
    }

    /// [`Self::clause_block`] out of line (issue #15, session 17): inlined into a planned
    /// policy's clause loop, its shapes' code made the loop spill registers for planned
    /// clauses too.
    #[cfg(not(feature = "size"))]
    #[inline(never)]
    fn clause_from_code(&mut self, i: u32) -> Truth {
        self.clause_block(i)
    }

    /// The truth of a trigger rest `rest` (after its index head and `jump.false`, run from the
    /// stack `[true]`): by its plan `p` if it has one (`vm/plan.rs`; one slot test without the
    /// plan's `Option`, as [`Self::clause_truth`]), else as a chain of slot tests
    /// (`vm/chain.rs`), else run.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn rest_truth(&mut self, p: &plan::Plan, rest: (usize, usize)) -> Truth {
        match p {
            plan::Plan::One(t) => return self.truth(self.slot_test(t)),
            p => {
                if let Some(c) = self.run_plan(p) {
                    return c;
                }
            }
        }
        if let Some(c) = self.rest_chain(rest) {
            return self.truth(c);
        }
        self.push(Cell::Bool(true));
        let c = self.run(rest, 0);
        self.stack.clear();
        self.truth(c)
    }

    /// The truth of policy `id`'s trigger `trigger` (not empty) found from its code: given the
    /// index slot and the cell the probe read from it for a candidate found through its bucket
    /// (`head`), the head and the rest ([`Self::after_head`]), else the whole trigger run.
    #[cfg(not(feature = "size"))]
    #[inline(always)]
    fn trigger_truth(&mut self, trigger: (usize, usize), head: Head<'_, 'v>) -> Truth {
        match head.and_then(|h| self.after_head(trigger, h)) {
            Some(None) => Truth::True,
            Some(Some(rest)) => self.rest_truth(&plan::Plan::None, rest),
            None => {
                let c = self.run(trigger, 0);
                self.truth(c)
            }
        }
    }

    /// The firmware runs the whole trigger (`size`: no head is skipped, less code).
    #[cfg(feature = "size")]
    #[inline(always)]
    fn trigger_truth(&mut self, trigger: (usize, usize), _: Head<'_, 'v>) -> Truth {
        let c = self.run(trigger, 0);
        self.truth(c)
    }

    /// [`Self::policy`], given for a candidate found through an index bucket the bucket's
    /// slot and the cell read from it ([`Reader::probe`]); the outcome is the same. A
    /// candidate whose [`plan::Trigger`] the table holds takes [`Self::policy_planned`].
    #[inline(always)]
    fn policy_head(&mut self, id: PolicyId, head: Head<'_, 'v>) -> Outcome {
        #[cfg(not(feature = "size"))]
        if let Some((slot, cell)) = head {
            let prep = self.prep;
            if let Some(Some(t)) = prep.triggers.get(usize::from(id)) {
                if t.slot == slot {
                    return self.policy_planned(id, t, cell);
                }
            }
        }
        self.policy_code(id, head)
    }

    /// [`Self::policy_head`] of a candidate found through its bucket whose trigger's head and
    /// rest the table holds (`t`): the head tested on the probe's `cell` and the rest by its
    /// plan, nothing read from the trigger's bytes (issue #15, session 17). Its own function
    /// beside [`Self::policy_code`]: both trigger paths in one function made every clause
    /// loop dearer (clauses16 +67 instructions), and one of them out of line cost each of the
    /// other's candidates a call (set/1000 +124).
    #[cfg(not(feature = "size"))]
    #[inline(never)]
    fn policy_planned(&mut self, id: PolicyId, t: &plan::Trigger, cell: &Cell<'v>) -> Outcome {
        let p = self.bundle.policy_rec(id);
        let c = match (self.head_holds(&t.head, cell), t.rest) {
            (false, _) => {
                let trigger = self.block(p.trigger());
                let c = self.run(trigger, 0);
                self.truth(c)
            }
            (true, None) => Truth::True,
            (true, Some((start, end))) => self.rest_truth(&t.plan, (start as usize, end as usize)),
        };
        match c {
            Truth::True => self.requirement::<true>(id, p),
            Truth::Err => self.trigger_error(id),
            _ => Outcome::NotApplicable,
        }
    }

    /// Policy `id`'s outcome when its trigger was the error `fault` holds.
    #[inline(always)]
    fn trigger_error(&self, id: PolicyId) -> Outcome {
        Outcome::Error {
            error: PolicyError {
                policy: id,
                error: self.fault.get(),
            },
            applied: false,
        }
    }

    /// [`Self::policy_head`] with the trigger found from its code ([`Self::trigger_truth`]).
    #[cfg_attr(not(feature = "size"), inline(never))]
    fn policy_code(&mut self, id: PolicyId, head: Head<'_, 'v>) -> Outcome {
        let p = self.bundle.policy_rec(id);
        let trigger = self.block(p.trigger());
        if trigger.0 < trigger.1 {
            match self.trigger_truth(trigger, head) {
                Truth::True => {}
                Truth::Err => return self.trigger_error(id),
                _ => return Outcome::NotApplicable,
            }
        }
        self.requirement::<false>(id, p)
    }

    /// The outcome of policy `id` (record `p`) once its trigger held: denied, or its clauses
    /// tested in order (the first false one violates it). `PLANNED`: the loop of
    /// [`Self::policy_planned`] ([`Self::clause_truth`]'s `OUT_OF_LINE`).
    #[inline(always)]
    fn requirement<const PLANNED: bool>(
        &mut self,
        id: PolicyId,
        p: crate::format::PolicyRec<'_>,
    ) -> Outcome {
        let bundle = self.bundle;
        if p.body_kind() == body_kind::DENIES {
            return Outcome::Violated(Violation {
                policy: id,
                clause: None,
                count: None,
                witness: None,
            });
        }
        let mut err: Option<AttrError> = None;
        let first_clause = p.first_clause();
        for c in 0..p.clause_count() {
            let i = first_clause.saturating_add(c.into());
            self.note.set(None);
            // A clause planned at load runs its plan (issue #15, session 14: no record read,
            // no shape found from the bytes).
            #[cfg(not(feature = "size"))]
            let truth = self.clause_truth::<PLANNED>(i);
            // The firmware's loop as before (one record read per clause).
            #[cfg(feature = "size")]
            let clause = bundle.clause_rec(i);
            #[cfg(feature = "size")]
            let truth = self.run_block(self.block(clause.code()));
            match truth {
                Truth::True => {}
                Truth::Err => err = Some(min_err(err, self.fault.get())),
                _ => {
                    #[cfg(not(feature = "size"))]
                    let clause = bundle.clause_rec(i);
                    return Outcome::Violated(Violation {
                        policy: id,
                        clause: Some(c),
                        count: if clause.reports_count() != 0 {
                            self.note.get()
                        } else {
                            None
                        },
                        witness: if clause.witness() != 0 {
                            self.witness
                        } else {
                            None
                        },
                    });
                }
            }
        }
        match err {
            Some(error) => Outcome::Error {
                error: PolicyError { policy: id, error },
                applied: true,
            },
            None => Outcome::Satisfied,
        }
    }
}

/// Evaluates every candidate policy of `bundle` (found through its trigger index) against
/// `ctx` and combines the outcomes.
///
/// # Examples
/// ```
/// # fn demo(bundle: &ipe_nostd::Bundle<'_>, ctx: &ipe_nostd::Context<'_, 16>) {
/// let decision: ipe_nostd::Decision<8> = ipe_nostd::evaluate(bundle, ctx);
/// if decision.effect == ipe_nostd::Effect::Deny {
///     for v in &decision.violations {
///         println!("{}: {}", bundle.policy(v.policy).name, bundle.reason(*v));
///     }
/// }
/// # }
/// ```
pub fn evaluate<const N: usize, const M: usize>(
    bundle: &Bundle<'_>,
    ctx: &Context<'_, N>,
) -> Decision<M> {
    // The decision is filled in place (it is the return value), not moved out of a builder.
    let mut d = Decision::<M>::new(bundle.default_effect());
    evaluate_into(bundle, ctx.values(), &mut d);
    d
}

/// [`evaluate`] over a plain slice of slot values into any [`DecisionLists`] (empty): for
/// hosts whose lists grow, so a decision is never cut.
#[inline(never)]
pub fn evaluate_into<D: DecisionLists>(bundle: &Bundle<'_>, values: &[Value<'_>], d: &mut D) {
    evaluate_with(bundle, prepared::View::EMPTY, values, d);
}

/// [`evaluate_into`] with the bundle's aggregate chains decoded once ([`Prepared`], filled
/// from this bundle): the same decision in fewer instructions (issue #15, session 13).
#[inline(never)]
pub fn evaluate_prepared_into<D: DecisionLists, const N: usize>(
    bundle: &Bundle<'_>,
    prepared: &Prepared<N>,
    values: &[Value<'_>],
    d: &mut D,
) {
    evaluate_with(bundle, prepared.view_for(bundle), values, d);
}

/// The decision in brief ([`Brief`]): the effect [`evaluate_into`] gives and, for a deny, the
/// policy that made it. Evaluation stops at the first policy violated or in error (deny
/// overrides, so the rest cannot change the effect) and no reason is kept: for a data path
/// that wants the answer first and the explanation only for some requests.
pub fn brief(bundle: &Bundle<'_>, values: &[Value<'_>]) -> Brief {
    brief_with(bundle, prepared::View::EMPTY, values)
}

/// [`brief`] with the bundle's aggregate chains decoded once ([`Prepared`], filled from this
/// bundle).
pub fn brief_prepared<const N: usize>(
    bundle: &Bundle<'_>,
    prepared: &Prepared<N>,
    values: &[Value<'_>],
) -> Brief {
    brief_with(bundle, prepared.view_for(bundle), values)
}

/// [`brief`] with the prepared chains and plans `prep`.
fn brief_with(bundle: &Bundle<'_>, prep: prepared::View<'_>, values: &[Value<'_>]) -> Brief {
    walk(
        bundle,
        prep,
        values,
        BriefAccumulator::new(bundle.default_effect()),
    )
    .finish()
}

/// [`evaluate`] with a [`Prepared`] table ([`evaluate_prepared_into`]).
pub fn evaluate_prepared<const N: usize, const M: usize, const P: usize>(
    bundle: &Bundle<'_>,
    prepared: &Prepared<P>,
    ctx: &Context<'_, N>,
) -> Decision<M> {
    let mut d = Decision::<M>::new(bundle.default_effect());
    evaluate_prepared_into(bundle, prepared, ctx.values(), &mut d);
    d
}

/// [`evaluate_into`] with the prepared chains and plans `prep`.
#[inline(always)]
fn evaluate_with<D: DecisionLists>(
    bundle: &Bundle<'_>,
    prep: prepared::View<'_>,
    values: &[Value<'_>],
    d: &mut D,
) {
    let lists = Lists {
        acc: Accumulator::new(bundle.default_effect()),
        d,
    };
    let Lists { acc, d } = walk(bundle, prep, values, lists);
    acc.finish(d);
}

/// Where [`walk`] puts each evaluated policy's outcome.
trait Sink {
    /// Whether the sink can be [`settled`](Self::settled) before the last policy. One that
    /// cannot keeps [`run_unindexed`]'s loop (the firmware's, which a stop would make
    /// longer).
    const STOPS: bool;

    /// Takes policy `id`'s outcome, in evaluation order.
    fn take(&mut self, id: PolicyId, outcome: Outcome);

    /// Whether no later outcome can change the result: the walk stops.
    fn settled(&self) -> bool;
}

/// [`evaluate_with`]'s sink: the complete decision's lists.
struct Lists<'d, D> {
    acc: Accumulator,
    d: &'d mut D,
}

impl<D: DecisionLists> Sink for Lists<'_, D> {
    const STOPS: bool = false;

    #[inline(always)]
    fn take(&mut self, id: PolicyId, outcome: Outcome) {
        self.acc.add(self.d, id, outcome);
    }

    #[inline(always)]
    fn settled(&self) -> bool {
        false
    }
}

impl Sink for BriefAccumulator {
    const STOPS: bool = true;

    #[inline(always)]
    fn take(&mut self, id: PolicyId, outcome: Outcome) {
        self.add(id, &outcome);
    }

    #[inline(always)]
    fn settled(&self) -> bool {
        BriefAccumulator::settled(self)
    }
}

/// Evaluates every policy a decision evaluates for these values, in order (the unindexed
/// policies through the first-match gate, then each index group's candidates), giving each
/// outcome to `sink` until it is settled.
#[inline(always)]
fn walk<S: Sink>(
    bundle: &Bundle<'_>,
    prep: prepared::View<'_>,
    values: &[Value<'_>],
    mut sink: S,
) -> S {
    let mut m = Machine::new(bundle, values);
    m.prep = prep;
    if S::STOPS {
        let stopped = try_run_unindexed(bundle, bundle.unindexed(), |id| {
            let outcome = m.policy(id);
            sink.take(id, outcome);
            if sink.settled() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(outcome)
            }
        });
        if stopped.is_break() {
            return sink;
        }
    } else {
        run_unindexed(bundle, bundle.unindexed(), |id| {
            let outcome = m.policy(id);
            sink.take(id, outcome);
            outcome
        });
    }
    // Rules of first-match groups are never indexed (the verifier checks it).
    for g in 0..bundle.index_group_count() {
        let group = bundle.index_group(g);
        let cell = m.r.load_slot(group.slot);
        if let Some((first, n, head)) = m.r.probe(&group, &cell) {
            for i in first..first.saturating_add(n) {
                let id = bundle.index_policy(i);
                sink.take(id, m.policy_head(id, head));
                if S::STOPS && sink.settled() {
                    return sink;
                }
            }
        }
    }
    sink
}

/// First-match groups (format version 2) in an evaluation loop.
///
/// A loop asks [`admit`](Self::admit) before evaluating a policy and gives its outcome to
/// [`settle`](Self::settle). The rules of a group are consecutive policies, never in the
/// trigger index (the verifier checks both), so every loop meets them in order among the
/// unindexed policies, which come in ascending id order. The first rule of a group whose
/// trigger is true or an error decides for the group: the later rules of that group are not
/// admitted (neither evaluated nor listed). Ordinary policies are always admitted.
#[derive(Clone, Copy, Debug, Default)]
pub struct FirstMatch {
    decided: bool,
}

impl FirstMatch {
    /// The state before the first policy.
    pub const fn new() -> Self {
        FirstMatch { decided: false }
    }

    /// Whether policy `id` is evaluated: false for a rule after its group's deciding rule.
    #[inline(always)]
    pub fn admit(&mut self, bundle: &Bundle<'_>, id: PolicyId) -> bool {
        match bundle.policy_rec(id).group() {
            group::NONE => true,
            group::FIRST => {
                self.decided = false;
                true
            }
            _ => !self.decided,
        }
    }

    /// Records the outcome of the policy just admitted: anything but not applicable decides
    /// its group (a trigger error too: the group fails closed).
    #[inline(always)]
    pub fn settle(&mut self, outcome: &Outcome) {
        if !matches!(outcome, Outcome::NotApplicable) {
            self.decided = true;
        }
    }
}

/// Calls `run` for each policy of `ids` (the unindexed policies, in ascending ids) that the
/// first-match groups admit (see [`FirstMatch`]); `run` evaluates the policy and returns its
/// outcome. A bundle without groups runs every policy of `ids`, checking
/// [`Bundle::has_groups`] once per call rather than the group gate once per policy.
#[inline(always)]
pub fn run_unindexed(
    bundle: &Bundle<'_>,
    ids: impl Iterator<Item = PolicyId>,
    mut run: impl FnMut(PolicyId) -> Outcome,
) {
    if bundle.has_groups() {
        let mut groups = FirstMatch::new();
        for id in ids {
            if groups.admit(bundle, id) {
                let outcome = run(id);
                groups.settle(&outcome);
            }
        }
    } else {
        for id in ids {
            run(id);
        }
    }
}

/// [`run_unindexed`] for a caller that may have its answer before the last policy (a deny
/// is final): it stops at the first policy for which `run` breaks, and returns that break.
/// (`run_unindexed` is not written as a call of this one: that cost the firmware 16 bytes
/// of flash.)
#[inline(always)]
pub fn try_run_unindexed<B>(
    bundle: &Bundle<'_>,
    ids: impl Iterator<Item = PolicyId>,
    mut run: impl FnMut(PolicyId) -> ControlFlow<B, Outcome>,
) -> ControlFlow<B> {
    if bundle.has_groups() {
        let mut groups = FirstMatch::new();
        for id in ids {
            if groups.admit(bundle, id) {
                let outcome = run(id)?;
                groups.settle(&outcome);
            }
        }
    } else {
        for id in ids {
            run(id)?;
        }
    }
    ControlFlow::Continue(())
}

/// Calls `run` for every policy a decision evaluates for these values, in the order of
/// [`for_each_candidate`], first-match groups honoured ([`run_unindexed`]; their rules are
/// never indexed, so the index candidates run ungated); `run` evaluates the policy and returns
/// its outcome.
#[inline(always)]
pub fn for_each_admitted(
    bundle: &Bundle<'_>,
    values: &[Value<'_>],
    mut run: impl FnMut(PolicyId) -> Outcome,
) {
    run_unindexed(bundle, bundle.unindexed(), &mut run);
    let r = Reader { bundle, values };
    for g in 0..bundle.index_group_count() {
        if let Some((first, n)) = r.candidates(g) {
            for i in first..first.saturating_add(n) {
                run(bundle.index_policy(i));
            }
        }
    }
}

/// Calls `f` once for every policy the trigger index cannot rule out for these values: the
/// unindexed policies first, in ascending ids (so a loop with a [`FirstMatch`] meets the rules
/// of each first-match group in order), then the candidates of each index group.
pub fn for_each_candidate(bundle: &Bundle<'_>, values: &[Value<'_>], mut f: impl FnMut(PolicyId)) {
    for id in bundle.unindexed() {
        f(id);
    }
    let r = Reader { bundle, values };
    for g in 0..bundle.index_group_count() {
        if let Some((first, n)) = r.candidates(g) {
            for i in first..first.saturating_add(n) {
                f(bundle.index_policy(i));
            }
        }
    }
}
