//! Reading request values (slots, element fields, lists) and constants into cells, with the
//! interpreter's errors on the slow paths.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, InstBuilder};
use ipe_nostd::format::kind;
use ipe_nostd::value::NO_SYMBOL;

use super::calls::Helper;
use super::{args, bad, const_text, Cell, Gen, Ty, R};
use crate::jit::errcode;
use crate::jit::shapes::{fast_list, fast_read};

impl Gen<'_, '_> {
    // ---- loads ----

    /// The byte offset of value `i` in a slice of `Value`s: slot `i` of the request, field
    /// `i` of an element.
    fn value_off(&self, i: u16) -> i64 {
        i64::from(i) * i64::from(self.lay.size)
    }

    pub(super) fn slot_addr(&mut self, s: u16) -> ir::Value {
        let off = self.value_off(s);
        self.add_k(self.values, off)
    }

    /// The rank of `sym` in enum `e`, or a value `>=` the member count.
    pub(super) fn rank(&mut self, e: u16, sym: ir::Value) -> ir::Value {
        let table = self.sh.rank_table(e);
        if !table.is_empty() {
            // Issue #15, session 14: one byte load from the enum's rank table (its last byte,
            // `NO_RANK`, for every symbol past it, `NO_SYMBOL` included).
            let (at, last) = (table.as_ptr() as i64, table.len() as i64 - 1);
            let last = self.iconst(last);
            let i = self.b.ins().umin(sym, last);
            let base = self.iconst(at);
            let p = self.b.ins().iadd(base, i);
            let f = Self::flags().with_readonly().with_can_move();
            return self.b.ins().uload8(I64, f, p, 0);
        }
        let members: Vec<u32> = self.sh.members(e).to_vec();
        if members.len() > 16 {
            let sh = self.shapes_ptr();
            let ev = self.iconst(i64::from(e));
            return self.call(Helper::EnumRank, &[sh, ev, sym]);
        }
        let mut r = self.iconst(members.len() as i64);
        for (i, &m) in members.iter().enumerate().rev() {
            if m == NO_SYMBOL {
                continue;
            }
            let hit = self.icmp_k(IntCC::Equal, sym, i64::from(m));
            let iv = self.iconst(i as i64);
            r = self.b.ins().select(hit, iv, r);
        }
        r
    }

    /// Reads the `Value` at `addr` as a scalar of kind `k` (enum `e`), errors at `at`.
    pub(super) fn read(&mut self, addr: ir::Value, k: u8, e: u16, at: u64) -> R<Cell> {
        self.read_at(addr, 0, k, e, at)
    }

    /// [`read`](Self::read) of the value `off` bytes past `base`, the offset folded into
    /// each load (issue #15, compile time: no address computed for a slot or a field).
    pub(super) fn read_at(&mut self, base: ir::Value, off: i64, k: u8, e: u16, at: u64) -> R<Cell> {
        let Some(o) = i32::try_from(off)
            .ok()
            .filter(|o| o.unsigned_abs() < 1 << 24)
        else {
            let addr = self.add_k(base, off);
            return self.read_at(addr, 0, k, e, at);
        };
        if k == kind::IP {
            let addr = self.add_k(base, off);
            // Issue #13, session 10: an address cell (`map.get` of an `ip` field, or the
            // other side of `cmp.ip`): the `Value`'s address and its read error.
            let err = self.ip_err(addr, at);
            return Ok(self.cell(Ty::Ip, addr, err));
        }
        // A top-level slot is always in the caller's slice, which no code writes during the
        // call: its loads may be merged and hoisted (optimized tier; issue #15); not a fast
        // loop's preheader reads (issue #15, session 14: Cranelift placed those where they
        // are used, in the loop, reloading them per element).
        let f = if self.slot_read && !self.hoisting {
            Self::flags().with_readonly().with_can_move()
        } else {
            Self::flags()
        };
        let l = self.lay;
        let fast = fast_read(&l, k).ok_or(bad("scalar kind"))?;
        let tag = self.b.ins().uload8(I64, f, base, o);
        let (ty, val, ok, ptr, len) = match k {
            kind::INT | kind::QUANTITY => {
                let v = self.b.ins().load(I64, f, base, o + l.off_int as i32);
                let ok = self.icmp_k(IntCC::Equal, tag, i64::from(fast.tag));
                (Ty::Int, v, ok, None, None)
            }
            // Issue #14: an int within the kind's range ([`fast_read`]); anything else goes
            // to the helper, whose kernel names the error.
            kind::TIME | kind::DURATION => {
                let (lo, hi) = fast.range.ok_or(bad("time read"))?;
                let v = self.b.ins().load(I64, f, base, o + l.off_int as i32);
                let is_int = self.icmp_k(IntCC::Equal, tag, i64::from(fast.tag));
                let ge = self.icmp_k(IntCC::SignedGreaterThanOrEqual, v, lo);
                let le = self.icmp_k(IntCC::SignedLessThanOrEqual, v, hi);
                let in_range = self.b.ins().band(ge, le);
                let ok = self.b.ins().band(is_int, in_range);
                (Ty::Int, v, ok, None, None)
            }
            kind::BOOL => {
                let v = self.b.ins().uload8(I64, f, base, o + l.off_bool as i32);
                let ok = self.icmp_k(IntCC::Equal, tag, i64::from(fast.tag));
                (Ty::Bool, v, ok, None, None)
            }
            kind::STR => {
                let v = self.b.ins().uload32(f, base, o + l.off_sym as i32);
                // Issue #15: no text loads for a cell only compared with a constant (by
                // symbol); Cranelift lowers every load, used or not.
                let (p, n) = if self.sym_only {
                    (None, None)
                } else {
                    let p = self.b.ins().load(I64, f, base, o + l.off_text_ptr as i32);
                    let n = self.b.ins().load(I64, f, base, o + l.off_text_len as i32);
                    (Some(p), Some(n))
                };
                let ok = self.icmp_k(IntCC::Equal, tag, i64::from(fast.tag));
                (Ty::Str, v, ok, p, n)
            }
            kind::ENUM if self.bail.is_some() => {
                let by_symbol = fast.by_symbol.ok_or(bad("enum read"))?;
                let bail = self.bail.ok_or(bad("enum read"))?;
                let addr = self.add_k(base, off);
                return Ok(self.enum_fast(addr, tag, e, f, (fast.tag, by_symbol), bail));
            }
            kind::ENUM => {
                let r = self.b.ins().uload16(I64, f, base, o + l.off_enum as i32);
                let sym = self.b.ins().uload32(f, base, o + l.off_sym as i32);
                let rs = self.rank(e, sym);
                let is_e = self.icmp_k(IntCC::Equal, tag, i64::from(fast.tag));
                let by_symbol = fast.by_symbol.ok_or(bad("enum read"))?;
                let is_s = self.icmp_k(IntCC::Equal, tag, i64::from(by_symbol));
                let rank = self.b.ins().select(is_e, r, rs);
                let n = self.sh.members(e).len() as i64;
                let in_range = self.icmp_k(IntCC::UnsignedLessThan, rank, n);
                let either = self.b.ins().bor(is_e, is_s);
                let ok = self.b.ins().band(either, in_range);
                (Ty::Enum, rank, ok, None, None)
            }
            _ => return Err(bad("scalar kind")),
        };
        let okv = self.ok();
        if let Some(bail) = self.bail {
            // Issue #15, session 13: inside an aggregate's fast loop a failed read leaves
            // for the exact copy of the loop, so the cell has no error.
            self.bail_unless(ok, bail);
            return Ok(Cell {
                ty,
                val,
                err: okv,
                ptr,
                len,
            });
        }
        if self.defer_read {
            let pending = self.pending(at);
            let err = self.select(ok, okv, pending);
            return Ok(Cell {
                ty,
                val,
                err,
                ptr,
                len,
            });
        }
        let err = self.unless(ok, okv, true, |g| {
            let sh = g.shapes_ptr();
            let packed = g.iconst(errcode::pack_read(k, e, at) as i64);
            let addr = g.add_k(base, off);
            g.call(Helper::ReadErrAt, &[sh, addr, packed])
        });
        Ok(Cell {
            ty,
            val,
            err,
            ptr,
            len,
        })
    }

    /// The rank cell of the enum-`e` value at `addr` (tag `tag`) inside a fast copy (issue
    /// #15, session 14): a string (the host's form) ranked by the rank table, an enum by
    /// its rank, as branches; anything else and a rank out of range leave for the exact
    /// copy (block `bail`). `tags` are the enum's and the string's tags.
    fn enum_fast(
        &mut self,
        addr: ir::Value,
        tag: ir::Value,
        e: u16,
        f: ir::MemFlagsData,
        (tag_enum, tag_str): (u8, u8),
        bail: ir::Block,
    ) -> Cell {
        let l = self.lay;
        let s_b = self.b.create_block();
        let e_b = self.b.create_block();
        let join = self.b.create_block();
        let rank = self.b.append_block_param(join, I64);
        let is_s = self.icmp_k(IntCC::Equal, tag, i64::from(tag_str));
        self.b.ins().brif(is_s, s_b, &[], e_b, &[]);
        self.b.switch_to_block(s_b);
        self.b.seal_block(s_b);
        let sym = self.b.ins().uload32(f, addr, l.off_sym as i32);
        let rs = self.rank(e, sym);
        self.b.ins().jump(join, &args(&[rs]));
        self.b.switch_to_block(e_b);
        self.b.seal_block(e_b);
        let is_e = self.icmp_k(IntCC::Equal, tag, i64::from(tag_enum));
        self.bail_unless(is_e, bail);
        let r = self.b.ins().uload16(I64, f, addr, l.off_enum as i32);
        self.b.ins().jump(join, &args(&[r]));
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        let n = self.sh.members(e).len() as i64;
        let in_range = self.icmp_k(IntCC::UnsignedLessThan, rank, n);
        self.bail_unless(in_range, bail);
        let okv = self.ok();
        self.cell(Ty::Enum, rank, okv)
    }

    /// `in.ip.slot` / `in.ip.field` (issue #14): whether the address `Value` at `addr` is in IP
    /// set `set`, errors at `at`; both by helper calls to the interpreter's kernels (the
    /// error through [`Helper::ReadErr`], the search through [`Helper::IpInSet`]).
    pub(super) fn in_ip(&mut self, addr: ir::Value, set: u16, at: u64) -> Cell {
        let sh = self.shapes_ptr();
        let kv = self.iconst(i64::from(kind::IP));
        let ev = self.iconst(0);
        let atv = self.iconst(at as i64);
        let err = self.call(Helper::ReadErr, &[sh, addr, kv, ev, atv]);
        let sv = self.iconst(i64::from(set));
        let val = self.call(Helper::IpInSet, &[sh, sv, addr]);
        self.cell(Ty::Bool, val, err)
    }

    pub(super) fn load_slot(&mut self, s: u16) -> R<Cell> {
        if self.bail.is_some() {
            if let Some(&(_, c)) = self.hoisted.iter().find(|&&(h, _)| h == s) {
                return Ok(c);
            }
        }
        let sh = self.sh.slot(s);
        let off = self.value_off(s);
        let defer = self.defer && super::defer::deferrable(sh.kind);
        self.defer_read = defer;
        self.slot_read = true;
        let values = self.values;
        let c = self.read_at(values, off, sh.kind, sh.enum_id, errcode::at(s, None));
        self.defer_read = false;
        self.slot_read = false;
        c
    }

    /// Reads field `f` of the element bound at `level` as a scalar.
    pub(super) fn load_field(&mut self, level: u8, f: u16) -> R<Cell> {
        let (slot, p) = self.elem(level)?;
        let off = self.value_off(f);
        let (k, e) = self.sh.field(slot, f);
        self.read_at(p, off, k, e, errcode::at(slot, Some(f)))
    }

    pub(super) fn elem(&self, level: u8) -> R<(u16, ir::Value)> {
        self.elems
            .get(usize::from(level))
            .copied()
            .flatten()
            .ok_or(bad("field outside an aggregate"))
    }

    pub(super) fn field_addr(&mut self, level: u8, f: u16) -> R<(u16, ir::Value)> {
        let (slot, p) = self.elem(level)?;
        let off = self.value_off(f);
        Ok((slot, self.add_k(p, off)))
    }

    pub(super) fn constant(&mut self, c: u16) -> R<Cell> {
        let (k, v) = *self.sh.consts.get(usize::from(c)).ok_or(bad("constant"))?;
        let ok = self.ok();
        Ok(match k {
            kind::STR => {
                let (p, l) = const_text(self.sh, v as u32);
                let val = self.iconst(i64::from(v as u32));
                let ptr = self.iconst(p);
                let len = self.iconst(l);
                Cell {
                    ty: Ty::Str,
                    val,
                    err: ok,
                    ptr: Some(ptr),
                    len: Some(len),
                }
            }
            kind::INT => {
                let val = self.iconst(v);
                self.cell(Ty::Int, val, ok)
            }
            kind::BOOL => {
                let val = self.iconst(i64::from(v != 0));
                self.cell(Ty::Bool, val, ok)
            }
            _ => {
                let val = self.iconst(i64::from(v as u16));
                self.cell(Ty::Enum, val, ok)
            }
        })
    }

    /// Error code, element pointer and value count of the value at `addr` read as list slot
    /// `s` declares (a top-level list's value is its slot's, a nested list's a field of an
    /// element).
    #[inline(always)]
    pub(super) fn list_at(&mut self, s: u16, addr: ir::Value) -> (ir::Value, ir::Value, ir::Value) {
        let f = Self::flags();
        let l = self.lay;
        let sh = self.sh.slot(s);
        let ptr = self.b.ins().load(I64, f, addr, l.off_list_ptr as i32);
        let len = self.b.ins().load(I64, f, addr, l.off_list_len as i32);
        let slow = |g: &mut Self| {
            let shp = g.shapes_ptr();
            let sv = g.iconst(i64::from(s));
            g.call(Helper::ListErr, &[shp, sv, addr])
        };
        let err = if let Some(fast) = fast_list(&l, sh) {
            let tag = self.b.ins().uload8(I64, f, addr, 0);
            let is_r = self.icmp_k(IntCC::Equal, tag, i64::from(fast.tag));
            let short = self.icmp_k(IntCC::UnsignedLessThan, len, fast.limit as i64);
            let okv = self.ok();
            if let Some(bail) = self.bail {
                // Two branches, not a flag made of two (issue #15, session 14).
                self.bail_unless(is_r, bail);
                self.bail_unless(short, bail);
                return (okv, ptr, len);
            }
            let ok = self.b.ins().band(is_r, short);
            self.unless(ok, okv, true, slow)
        } else {
            slow(self)
        };
        (err, ptr, len)
    }

    pub(super) fn present(&mut self, addr: ir::Value) -> Cell {
        let tag = self.b.ins().uload8(I64, Self::flags(), addr, 0);
        let t = self.icmp_k(IntCC::NotEqual, tag, i64::from(self.lay.tag_missing));
        let v = self.bool64(t);
        let ok = self.ok();
        self.cell(Ty::Bool, v, ok)
    }
}
