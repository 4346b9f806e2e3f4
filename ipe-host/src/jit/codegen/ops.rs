//! Instructions: the operators, aggregates as inline loops, and the translation of one code
//! block (`match` on [`Instr`]), jumps becoming branches to the block at their target.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, InstBuilder};
use cranelift_codegen::settings::OptLevel;
use ipe_nostd::format::kind;
use ipe_nostd::isa::{CmpOp, Instr, Opcode, MAX_LEVELS};
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::ErrKind;

use super::calls::Helper;
use super::{args, bad, var, Cell, Gen, Ty, LOOP_BASE, NOTE_HAS, NOTE_VAL, OUT_WITNESS, R};
use crate::jit::errcode::{self, OK};

impl Gen<'_, '_> {
    // ---- operators ----

    /// Whether string cells `a` and `b` are equal (`ne`: unequal) as 0 or 1, and whether
    /// the value is already the `ne` one (else the caller negates it).
    pub(super) fn str_eq(
        &mut self,
        a: Cell,
        b: Cell,
        err: ir::Value,
        ne: bool,
    ) -> R<(ir::Value, bool)> {
        let same = self.b.ins().icmp(IntCC::Equal, a.val, b.val);
        // Issue #15 (compile time): a constant operand has a symbol, so equal texts have equal
        // symbols and the text comparison below could never run: no code for it.
        if self.is_symbol_const(a.val) || self.is_symbol_const(b.val) {
            return Ok((self.bool64(same), false));
        }
        let (ap, al, bp, bl) = match (a.ptr, a.len, b.ptr, b.len) {
            (Some(ap), Some(al), Some(bp), Some(bl)) => (ap, al, bp, bl),
            _ => return Err(bad("string cell without text")),
        };
        if self.is_const_ok(err) {
            // Issue #15, session 14: two clean strings (a fast copy's): different symbols
            // are different texts, the same symbol other than `NO_SYMBOL` the same text,
            // and only two strings without a symbol compare their texts; as branches.
            let join = self.b.create_block();
            let res = self.b.append_block_param(join, I64);
            let same_b = self.b.create_block();
            let text_b = self.b.create_block();
            let differ = self.iconst(i64::from(ne));
            let equal = self.iconst(i64::from(!ne));
            self.b.ins().brif(same, same_b, &[], join, &args(&[differ]));
            self.b.switch_to_block(same_b);
            self.b.seal_block(same_b);
            let known = self.icmp_k(IntCC::NotEqual, a.val, i64::from(NO_SYMBOL));
            self.b.ins().brif(known, join, &args(&[equal]), text_b, &[]);
            self.b.switch_to_block(text_b);
            self.b.seal_block(text_b);
            let eq = self.text_eq(ap, al, bp, bl, ne);
            self.b.ins().jump(join, &args(&[eq]));
            self.b.switch_to_block(join);
            self.b.seal_block(join);
            return Ok((res, ne));
        }
        let none = self.icmp_k(IntCC::Equal, a.val, i64::from(NO_SYMBOL));
        let clean = self.is_ok(err);
        let need = self.b.ins().band(same, none);
        let need = self.b.ins().band(need, clean);
        let fast = self.bool64(same);
        let not_need = self.b.ins().bxor_imm_u(need, 1);
        // Two request texts without symbols (e.g. `a.department != requester.department`):
        // compared inline when short (issue #15), so not a cold path for the policies that
        // reach it.
        let eq = self.unless(not_need, fast, false, |g| g.text_eq(ap, al, bp, bl, false));
        Ok((eq, false))
    }

    pub(super) fn compare(&mut self, op: CmpOp, a: Cell, b: Cell) -> R<Cell> {
        let err = self.umin(a.err, b.err);
        let val = match a.ty {
            Ty::Int | Ty::Enum => {
                let cc = match op {
                    CmpOp::Eq => IntCC::Equal,
                    CmpOp::Ne => IntCC::NotEqual,
                    CmpOp::Lt => IntCC::SignedLessThan,
                    CmpOp::Le => IntCC::SignedLessThanOrEqual,
                    CmpOp::Gt => IntCC::SignedGreaterThan,
                    CmpOp::Ge => IntCC::SignedGreaterThanOrEqual,
                };
                let c = self.b.ins().icmp(cc, a.val, b.val);
                self.bool64(c)
            }
            Ty::Ip => {
                return Err(bad(
                    "`cmp` of addresses (the verifier allows `cmp.ip` only)",
                ))
            }
            // A symbol comparison (bools, or a string and a constant): `==` / `!=` in one
            // comparison (issue #15, compile time: no `xor` of the equality).
            Ty::Bool | Ty::Str
                if matches!(op, CmpOp::Ne | CmpOp::Lt)
                    && (a.ty == Ty::Bool
                        || self.is_symbol_const(a.val)
                        || self.is_symbol_const(b.val)) =>
            {
                let c = self.b.ins().icmp(IntCC::NotEqual, a.val, b.val);
                self.bool64(c)
            }
            Ty::Bool | Ty::Str => {
                let ne = matches!(op, CmpOp::Ne | CmpOp::Lt);
                let (eq, negated) = if a.ty == Ty::Str {
                    self.str_eq(a, b, err, ne)?
                } else {
                    let c = self.b.ins().icmp(IntCC::Equal, a.val, b.val);
                    (self.bool64(c), false)
                };
                // Unordered types: equal or "less" (the interpreter's reading).
                match op {
                    CmpOp::Ne | CmpOp::Lt if negated => eq,
                    CmpOp::Eq | CmpOp::Ge => eq,
                    CmpOp::Ne | CmpOp::Lt => self.b.ins().bxor_imm_u(eq, 1),
                    CmpOp::Le => self.iconst(1),
                    CmpOp::Gt => self.iconst(0),
                }
            }
        };
        Ok(self.cell(Ty::Bool, val, err))
    }

    /// The value of lookup table (`set`, `konst`) under the string cell `a` (issue #13):
    /// `a`'s error, else the missing-key error at `at` when the table has no row for it,
    /// else the row's constant (the interpreter's `Machine::lookup`).
    pub(super) fn lookup(&mut self, a: Cell, at: u64, set: u16, konst: u16) -> R<Cell> {
        let sh = self.shapes_ptr();
        let sv = self.iconst(i64::from(set));
        let row = self.call(Helper::LookupRow, &[sh, sv, a.val]);
        let absent = self.icmp_k(IntCC::Equal, row, -1);
        let missing = self.iconst((at | errcode::kind_code(ErrKind::MissingKey)) as i64);
        let ok = self.ok();
        let row_err = self.b.ins().select(absent, missing, ok);
        let err = self.umin(a.err, row_err);
        let c = self.add_k(row, i64::from(konst));
        let part = |g: &mut Self, what: i64| {
            let sh = g.shapes_ptr();
            let w = g.iconst(what);
            g.call(Helper::ConstPart, &[sh, c, w])
        };
        let k = self
            .sh
            .consts
            .get(usize::from(konst))
            .map(|&(k, _)| k)
            .ok_or(bad("constant"))?;
        let val = part(self, 0);
        Ok(match k {
            kind::STR => {
                let ptr = part(self, 1);
                let len = part(self, 2);
                Cell {
                    ty: Ty::Str,
                    val,
                    err,
                    ptr: Some(ptr),
                    len: Some(len),
                }
            }
            kind::INT => self.cell(Ty::Int, val, err),
            kind::BOOL => self.cell(Ty::Bool, val, err),
            _ => return Err(bad("lookup of enum values")),
        })
    }

    pub(super) fn in_set(&mut self, a: Cell, set: u16) -> Cell {
        let keys: Vec<i64> = self.sh.set(set).to_vec();
        let hit = if keys.len() > 8 {
            let sh = self.shapes_ptr();
            let sv = self.iconst(i64::from(set));
            self.call(Helper::SetContains, &[sh, sv, a.val])
        } else {
            let mut r = self.iconst(0);
            for k in keys {
                let h = self.icmp_k(IntCC::Equal, a.val, k);
                let h = self.bool64(h);
                r = self.b.ins().bor(r, h);
            }
            r
        };
        // A string's `NO_SYMBOL` matches no key unless a key is that number.
        let val = if a.ty == Ty::Str && self.sh.set(set).contains(&i64::from(NO_SYMBOL)) {
            let known = self.icmp_k(IntCC::NotEqual, a.val, i64::from(NO_SYMBOL));
            let known = self.bool64(known);
            self.b.ins().band(hit, known)
        } else {
            hit
        };
        self.cell(Ty::Bool, val, a.err)
    }

    /// Error code, element pointer and value count of list slot `s`.
    pub(super) fn aggregate(&mut self, op: Opcode, s: u16, body: &[u8], level: usize) -> R<Cell> {
        let addr = self.slot_addr(s);
        self.aggregate_at(op, s, addr, body, level)
    }

    /// [`Self::aggregate`] over the value at `addr` read as list slot `s` declares.
    ///
    /// Issue #15, session 13: in a policy whose errors are only read errors, the loop is
    /// compiled twice (`fast.rs`): a fast copy without error values or helper calls, and a
    /// cold exact copy the fast one leaves for at its first failed read.
    pub(super) fn aggregate_at(
        &mut self,
        op: Opcode,
        s: u16,
        addr: ir::Value,
        body: &[u8],
        level: usize,
    ) -> R<Cell> {
        if !self.defer || self.exact || self.bail.is_some() || !super::fast::fast_body(body) {
            return self.aggregate_loop(op, s, addr, body, level);
        }
        self.fast_aggregate(op, s, addr, body, level)
    }

    /// The loop of [`Self::aggregate_at`].
    pub(super) fn aggregate_loop(
        &mut self,
        op: Opcode,
        s: u16,
        addr: ir::Value,
        body: &[u8],
        level: usize,
    ) -> R<Cell> {
        let sh = self.sh.slot(s);
        let stride = i64::from(if kind::is_records(sh.kind) {
            sh.fields.max(1)
        } else {
            1
        });
        let (lerr, ptr, len) = self.list_at(s, addr);
        let n = self.b.ins().udiv_imm_u(len, stride);
        if body.is_empty() {
            return Ok(self.cell(Ty::Int, n, lerr));
        }
        if level >= MAX_LEVELS {
            return Err(bad("aggregates nested too deep"));
        }
        let lv = LOOP_BASE + 3 * level as u32;
        let (v_elem, v_count, v_err) = (var(lv), var(lv + 1), var(lv + 2));
        let step = stride * i64::from(self.lay.size);
        let pre = self.b.create_block();
        let hdr = self.b.create_block();
        let body_b = self.b.create_block();
        let exit = self.b.create_block();
        let done = self.b.create_block();
        let rv = self.b.append_block_param(done, I64);
        let re = self.b.append_block_param(done, I64);
        let zero = self.iconst(0);
        let lok = self.is_ok(lerr);
        self.b.ins().brif(lok, pre, &[], done, &args(&[zero, lerr]));
        self.b.switch_to_block(pre);
        self.b.seal_block(pre);
        let hoisted = self.hoisted.len();
        self.hoist_slot_reads(body)?;
        let bytes = self.b.ins().imul_imm_s(n, step);
        let end = self.b.ins().iadd(ptr, bytes);
        self.b.def_var(v_elem, ptr);
        let z = self.iconst(0);
        self.b.def_var(v_count, z);
        let okv = self.ok();
        self.b.def_var(v_err, okv);
        self.b.ins().jump(hdr, &[]);
        self.b.switch_to_block(hdr);
        let e = self.b.use_var(v_elem);
        let more = self.b.ins().icmp(IntCC::NotEqual, e, end);
        self.b.ins().brif(more, body_b, &[], exit, &[]);
        self.b.switch_to_block(body_b);
        self.b.seal_block(body_b);
        let saved = self.elems.get(level).copied().flatten();
        if let Some(x) = self.elems.get_mut(level) {
            *x = Some((s, e));
        }
        // Issue #15, session 14: the body's deciding short-circuits go straight to the next
        // element (`adv`) or to where the aggregate stops (`stop_b`).
        let adv = self.b.create_block();
        let stop_b = (op != Opcode::Count).then(|| self.b.create_block());
        let (on_false, on_true) = match op {
            Opcode::Count => (Some(adv), None),
            Opcode::Any => (Some(adv), stop_b),
            _ => (stop_b, Some(adv)),
        };
        let ran = self.run_exits(body, level + 1, on_false, on_true);
        if let Some(x) = self.elems.get_mut(level) {
            *x = saved;
        }
        let (bv, be) = ran?;
        let clean = self.is_ok(be);
        match (op, stop_b) {
            // A clean body's value is a bool, 0 or 1: the count adds it (issue #15, session 14).
            (Opcode::Count, _) | (_, None) if self.flag_imm(clean) == Some(true) => {
                let c = self.b.use_var(v_count);
                let c = self.b.ins().iadd(c, bv);
                self.b.def_var(v_count, c);
            }
            (Opcode::Count, _) | (_, None) => {
                let t = self.cmp_imm(IntCC::NotEqual, bv, 0);
                let t = self.and_flag(t, clean);
                let t = self.bool64(t);
                let c = self.b.use_var(v_count);
                let c = self.b.ins().iadd(c, t);
                self.b.def_var(v_count, c);
            }
            (_, Some(stop_b)) => {
                let cc = if op == Opcode::Any {
                    IntCC::NotEqual
                } else {
                    IntCC::Equal
                };
                let t = self.cmp_imm(cc, bv, 0);
                let stop = self.and_flag(t, clean);
                let cont = self.b.create_block();
                self.b.ins().brif(stop, stop_b, &[], cont, &[]);
                self.b.switch_to_block(cont);
                self.b.seal_block(cont);
            }
        }
        let er = self.b.use_var(v_err);
        let er = self.umin(er, be);
        self.b.def_var(v_err, er);
        self.b.ins().jump(adv, &[]);
        self.b.switch_to_block(adv);
        self.b.seal_block(adv);
        let e2 = self.b.use_var(v_elem);
        let e2 = self.add_k(e2, step);
        self.b.def_var(v_elem, e2);
        self.b.ins().jump(hdr, &[]);
        self.b.seal_block(hdr);
        if let Some(stop_b) = stop_b {
            self.b.switch_to_block(stop_b);
            self.b.seal_block(stop_b);
            let res = self.iconst(i64::from(op == Opcode::Any));
            let okv = self.ok();
            if op == Opcode::All && level == 0 && self.witness_clause {
                // The witness: this element's index, stored (plus one) where the
                // outermost `all` of a witness clause stops.
                let off = self.b.ins().isub(e, ptr);
                let idx = self.b.ins().udiv_imm_u(off, step);
                let idx = self.add_k(idx, 1);
                self.store(idx, OUT_WITNESS);
            }
            self.b.ins().jump(done, &args(&[res, okv]));
        }
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let er = self.b.use_var(v_err);
        let val = match op {
            Opcode::Count => self.b.use_var(v_count),
            Opcode::Any => self.iconst(0),
            _ => self.iconst(1),
        };
        self.b.ins().jump(done, &args(&[val, er]));
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        self.hoisted.truncate(hoisted);
        let ty = if op == Opcode::Count {
            Ty::Int
        } else {
            Ty::Bool
        };
        Ok(self.cell(ty, rv, re))
    }

    /// Constant `c` as the right side of a comparison with a slot or a field: a string
    /// constant compares by its symbol alone (`str_eq`), so its text is not loaded (issue
    /// #15, compile time: two constants that were never used).
    fn constant_cmp(&mut self, c: u16) -> R<Cell> {
        match self.str_const_symbol(c) {
            Some(sym) => {
                let val = self.iconst(i64::from(sym));
                let ok = self.ok();
                Ok(self.cell(Ty::Str, val, ok))
            }
            None => self.constant(c),
        }
    }

    /// Whether constant `c` is a string (it has a symbol: a cell compared with it needs no
    /// text).
    fn is_str_const(&self, c: u16) -> bool {
        self.str_const_symbol(c).is_some()
    }

    /// The symbol of constant `c` if it is a string that has one.
    fn str_const_symbol(&self, c: u16) -> Option<u32> {
        match self.sh.consts.get(usize::from(c)) {
            Some(&(kind::STR, v)) if v as u32 != NO_SYMBOL => Some(v as u32),
            _ => None,
        }
    }

    /// Continues into the block of every jump that lands at `pc`.
    pub(super) fn land(&mut self, targets: &mut Vec<(usize, ir::Block)>, pc: usize) {
        if let Some(i) = targets.iter().position(|&(t, _)| t == pc) {
            let (_, blk) = targets.swap_remove(i);
            self.b.ins().jump(blk, &[]);
            self.b.switch_to_block(blk);
            self.b.seal_block(blk);
        }
    }

    /// Compiles one code block; returns the condition it leaves as `(val, err)`.
    ///
    /// Its short-circuit jumps that decide the whole block go straight to a block of the
    /// caller (issue #15, session 14): a `jump.if.false` whose target is
    /// followed only by `and`s to the end of the code leaves for `on_false` (the block's
    /// condition is then a clean false), a `jump.if.true` followed only by `or`s for
    /// `on_true`, instead of carrying the value to the end of the code and testing it again.
    pub(super) fn run_exits(
        &mut self,
        code: &[u8],
        level: usize,
        on_false: Option<ir::Block>,
        on_true: Option<ir::Block>,
    ) -> R<(ir::Value, ir::Value)> {
        let base = self.types.len();
        let mut targets: Vec<(usize, ir::Block)> = Vec::new();
        // The target of the chain whose jumps the baseline tier dropped (`straight_over`).
        let mut straight_to = None;
        let mut pc = 0usize;
        while pc < code.len() {
            self.land(&mut targets, pc);
            let (instr, next) = Instr::decode(code, pc).map_err(|_| bad("instruction"))?;
            pc = next;
            match instr {
                Instr::LoadSlot { slot } => {
                    let c = self.load_slot(slot.0)?;
                    self.push(c)?;
                }
                Instr::LoadField { level, field } => {
                    let c = self.load_field(level.0, field.0)?;
                    self.push(c)?;
                }
                Instr::LoadConst { konst } => {
                    let c = self.constant(konst.0)?;
                    self.push(c)?;
                }
                Instr::Cmp { op } => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    let c = self.compare(op, a, b)?;
                    self.push(c)?;
                }
                Instr::CmpSlotConst { op, slot, konst } => {
                    self.sym_only = self.is_str_const(konst.0);
                    let a = self.load_slot(slot.0);
                    self.sym_only = false;
                    let a = a?;
                    let b = self.constant_cmp(konst.0)?;
                    let c = self.compare(op, a, b)?;
                    self.push(c)?;
                }
                Instr::CmpFieldConst {
                    op, level, field, ..
                }
                | Instr::CmpFieldSlot {
                    op, level, field, ..
                } => {
                    if let Instr::CmpFieldConst { konst, .. } = instr {
                        self.sym_only = self.is_str_const(konst.0);
                    }
                    let a = self.load_field(level.0, field.0);
                    self.sym_only = false;
                    let a = a?;
                    let b = match instr {
                        Instr::CmpFieldConst { konst, .. } => self.constant_cmp(konst.0)?,
                        Instr::CmpFieldSlot { slot, .. } => self.load_slot(slot.0)?,
                        _ => return Err(bad("field comparison")),
                    };
                    let c = self.compare(op, a, b)?;
                    self.push(c)?;
                }
                Instr::StrOp { op } => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    let err = self.b.ins().umin(a.err, b.err);
                    let (ap, al, bp, bl) = match (a.ptr, a.len, b.ptr, b.len) {
                        (Some(ap), Some(al), Some(bp), Some(bl)) => (ap, al, bp, bl),
                        _ => return Err(bad("string operator on non-strings")),
                    };
                    let dirty = self.icmp_k(IntCC::NotEqual, err, OK as i64);
                    let zero = self.iconst(0);
                    let opv = i64::from(op as u8);
                    let val = self.unless(dirty, zero, false, |g| {
                        let sh = g.shapes_ptr();
                        let o = g.iconst(opv);
                        g.call(Helper::StrOp, &[sh, o, ap, al, a.val, bp, bl, b.val])
                    });
                    let c = self.cell(Ty::Bool, val, err);
                    self.push(c)?;
                }
                Instr::StrMatch { re } => {
                    let a = self.pop()?;
                    let (ap, al) = match (a.ptr, a.len) {
                        (Some(ap), Some(al)) => (ap, al),
                        _ => return Err(bad("regex match on a non-string")),
                    };
                    let dirty = self.icmp_k(IntCC::NotEqual, a.err, OK as i64);
                    let zero = self.iconst(0);
                    let val = self.unless(dirty, zero, false, |g| {
                        let sh = g.shapes_ptr();
                        let r = g.iconst(i64::from(re.0));
                        g.call(Helper::StrMatch, &[sh, r, ap, al, a.val])
                    });
                    let c = self.cell(Ty::Bool, val, a.err);
                    self.push(c)?;
                }
                Instr::InSet { set } => {
                    let a = self.pop()?;
                    let c = self.in_set(a, set.0);
                    self.push(c)?;
                }
                Instr::InSlotSet { slot, set } => {
                    // Set membership is by symbol: no text loads.
                    self.sym_only = true;
                    let a = self.load_slot(slot.0);
                    self.sym_only = false;
                    let a = a?;
                    let c = self.in_set(a, set.0);
                    self.push(c)?;
                }
                Instr::InIpSlot { slot, set } => {
                    let addr = self.slot_addr(slot.0);
                    let c = self.in_ip(addr, set.0, errcode::at(slot.0, None));
                    self.push(c)?;
                }
                Instr::InIpField {
                    level: l,
                    field,
                    set,
                } => {
                    let (slot, addr) = self.field_addr(l.0, field.0)?;
                    let c = self.in_ip(addr, set.0, errcode::at(slot, Some(field.0)));
                    self.push(c)?;
                }
                Instr::InPairSet { set } => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    let err = self.b.ins().umin(a.err, b.err);
                    let sh = self.shapes_ptr();
                    let sv = self.iconst(i64::from(set.0));
                    let val = self.call(Helper::PairContains, &[sh, sv, a.val, b.val]);
                    let c = self.cell(Ty::Bool, val, err);
                    self.push(c)?;
                }
                Instr::LookupSlot { slot, set, konst } => {
                    let a = self.load_slot(slot.0)?;
                    let c = self.lookup(a, errcode::at(slot.0, None), set.0, konst.0)?;
                    self.push(c)?;
                }
                Instr::LookupField {
                    level,
                    field,
                    set,
                    konst,
                } => {
                    let f = field.0;
                    let (slot, addr) = self.field_addr(level.0, f)?;
                    let (k, e) = self.sh.field(slot, f);
                    let at = errcode::at(slot, Some(f));
                    let a = self.read(addr, k, e, at)?;
                    let c = self.lookup(a, at, set.0, konst.0)?;
                    self.push(c)?;
                }
                Instr::MapGet { map, field } => {
                    let k = self.pop()?;
                    let c = self.map_get(k, map.0, field.0)?;
                    self.push(c)?;
                }
                Instr::MapHas { map, field } => {
                    let k = self.pop()?;
                    let c = self.map_has(k, map.0, field.0)?;
                    self.push(c)?;
                }
                Instr::InIp { set } => {
                    let a = self.pop()?;
                    let c = self.in_ip_cell(a, set.0)?;
                    self.push(c)?;
                }
                Instr::CmpIp { op } => {
                    let b = self.pop()?;
                    let a = self.pop()?;
                    let c = self.cmp_ip_cells(op, a, b)?;
                    self.push(c)?;
                }
                Instr::InList { list } => {
                    let a = self.pop()?;
                    let addr = self.slot_addr(list.0);
                    let c = self.in_list_at(a, list.0, addr);
                    self.push(c)?;
                }
                Instr::Has { slot } => {
                    let addr = self.slot_addr(slot.0);
                    let c = self.present(addr);
                    self.push(c)?;
                }
                Instr::HasField { level, field } => {
                    let (_, addr) = self.field_addr(level.0, field.0)?;
                    let c = self.present(addr);
                    self.push(c)?;
                }
                Instr::Not {} => {
                    let a = self.pop()?;
                    let v = self.b.ins().bxor_imm_u(a.val, 1);
                    let c = self.cell(Ty::Bool, v, a.err);
                    self.push(c)?;
                }
                Instr::And {} | Instr::Or {} => {
                    let or = matches!(instr, Instr::Or {});
                    let b = self.pop()?;
                    let a = self.pop()?;
                    // A clean `true` (`and`) or `false` (`or`) operand leaves the other one
                    // (whose value counts only when it is clean).
                    let neutral = i64::from(!or);
                    if self.is_const_ok(a.err) && self.imm(a.val) == Some(neutral) {
                        self.push(b)?;
                        continue;
                    }
                    if self.is_const_ok(b.err) && self.imm(b.val) == Some(neutral) {
                        self.push(a)?;
                        continue;
                    }
                    let cc = if or { IntCC::NotEqual } else { IntCC::Equal };
                    let absorbed = |g: &mut Self, c: Cell| {
                        let clean = g.is_ok(c.err);
                        let t = g.cmp_imm(cc, c.val, 0);
                        g.and_flag(clean, t)
                    };
                    let xa = absorbed(self, a);
                    let xb = absorbed(self, b);
                    let abs = self.or_flag(xa, xb);
                    let m = self.umin(a.err, b.err);
                    let err = if self.is_const_ok(m) {
                        m
                    } else {
                        let okv = self.ok();
                        self.select(abs, okv, m)
                    };
                    let abs = self.bool64(abs);
                    let val = if or {
                        abs
                    } else {
                        self.b.ins().bxor_imm_u(abs, 1)
                    };
                    let c = self.cell(Ty::Bool, val, err);
                    self.push(c)?;
                }
                Instr::JumpIfFalse { by } | Instr::JumpIfTrue { by } => {
                    let target = pc + usize::from(by.0);
                    let if_true = matches!(instr, Instr::JumpIfTrue { .. });
                    // Baseline tier (issue #15, compile time): no branch over operands that
                    // are a few loads and comparisons; the `and`/`or` that consumes the
                    // cell absorbs it as the jump would have. The later links of a chain
                    // found straight jump to the same target from inside it, over a suffix
                    // of it: not scanned again.
                    if self.isa.flags().opt_level() == OptLevel::None
                        && (straight_to == Some(target) || straight_over(code, pc, target, if_true))
                    {
                        straight_to = Some(target);
                        continue;
                    }
                    let a = self.peek()?;
                    let cc = if if_true {
                        IntCC::NotEqual
                    } else {
                        IntCC::Equal
                    };
                    let clean = self.is_ok(a.err);
                    let t = self.cmp_imm(cc, a.val, 0);
                    let jump = self.and_flag(clean, t);
                    let exit = if if_true { on_true } else { on_false };
                    let blk = match exit {
                        Some(x) if decides_block(code, target, if_true) => x,
                        _ => match targets.iter().find(|&&(t, _)| t == target) {
                            Some(&(_, b)) => b,
                            None => {
                                let b = self.b.create_block();
                                targets.push((target, b));
                                b
                            }
                        },
                    };
                    let next = self.b.create_block();
                    self.b.ins().brif(jump, blk, &[], next, &[]);
                    self.b.switch_to_block(next);
                    self.b.seal_block(next);
                    // Not taken with a clean cell: its value is known (the `and`/`or` that
                    // consumes it then folds away).
                    if self.is_const_ok(a.err) {
                        let d = (self.types.len() - 1) as u32;
                        let known = self.iconst(i64::from(!if_true));
                        self.b.def_var(var(d * 4), known);
                    }
                }
                Instr::Add {} => {
                    // Issue #13: a sum of counts (bounded by list lengths: no overflow).
                    let b = self.pop()?;
                    let a = self.pop()?;
                    let err = self.b.ins().umin(a.err, b.err);
                    let val = self.b.ins().iadd(a.val, b.val);
                    let c = self.cell(Ty::Int, val, err);
                    self.push(c)?;
                }
                Instr::Arith { op, at } => {
                    // Issue #14: checked arithmetic through helpers (the same
                    // `ArithOp::apply` as the interpreter), only when both operands are clean.
                    let b = if op.is_unary() {
                        None
                    } else {
                        Some(self.pop()?)
                    };
                    let a = self.pop()?;
                    let (bval, err) = match b {
                        Some(b) => (b.val, self.b.ins().umin(a.err, b.err)),
                        None => (self.iconst(0), a.err),
                    };
                    let dirty = self.icmp_k(IntCC::NotEqual, err, OK as i64);
                    let zero = self.iconst(0);
                    let opv = i64::from(op as u8);
                    let val = self.unless(dirty, zero, false, |g| {
                        let o = g.iconst(opv);
                        g.call(Helper::ArithVal, &[o, a.val, bval])
                    });
                    let atc = errcode::at(at.0, None) as i64;
                    let err = self.unless(dirty, err, false, |g| {
                        let o = g.iconst(opv);
                        let atv = g.iconst(atc);
                        g.call(Helper::ArithErr, &[o, a.val, bval, atv])
                    });
                    let c = self.cell(Ty::Int, val, err);
                    self.push(c)?;
                }
                Instr::SegSlot { .. }
                | Instr::SegField { .. }
                | Instr::HasSegSlot { .. }
                | Instr::HasSegField { .. } => self.seg_instr(instr)?,
                Instr::Seg { .. } | Instr::HasSeg { .. } => self.seg_stack(instr)?,
                Instr::CmpIpSlotSlot { .. }
                | Instr::CmpIpFieldSlot { .. }
                | Instr::CmpIpFieldField { .. } => self.cmp_ip(instr)?,
                Instr::StrFold { .. } | Instr::StrMatchFold { .. } | Instr::InRange { .. } => {
                    self.fold_instr(instr)?
                }
                Instr::StrLen {} => {
                    // Issue #14: the char count through a helper, only for a clean string.
                    let a = self.pop()?;
                    let (ap, al) = match (a.ptr, a.len) {
                        (Some(ap), Some(al)) => (ap, al),
                        _ => return Err(bad("`str.len` on a non-string")),
                    };
                    let dirty = self.icmp_k(IntCC::NotEqual, a.err, OK as i64);
                    let zero = self.iconst(0);
                    let val = self.unless(dirty, zero, false, |g| {
                        let sh = g.shapes_ptr();
                        g.call(Helper::StrLen, &[sh, ap, al, a.val])
                    });
                    let c = self.cell(Ty::Int, val, a.err);
                    self.push(c)?;
                }
                Instr::NoteCount {} => {
                    let a = self.peek()?;
                    let clean = self.is_ok(a.err);
                    let has = self.b.use_var(var(NOTE_HAS));
                    let one = self.iconst(1);
                    let has = self.select(clean, one, has);
                    self.b.def_var(var(NOTE_HAS), has);
                    let note = self.b.use_var(var(NOTE_VAL));
                    let note = self.select(clean, a.val, note);
                    self.b.def_var(var(NOTE_VAL), note);
                }
                Instr::Count { list, body }
                | Instr::Any { list, body }
                | Instr::All { list, body } => {
                    let n = usize::from(body.0);
                    let body = code.get(pc..pc + n).ok_or(bad("aggregate body"))?;
                    pc += n;
                    let c = self.aggregate(instr.opcode(), list.0, body, level)?;
                    self.push(c)?;
                }
                i @ (Instr::Sub {}
                | Instr::TimeHour {}
                | Instr::TimeWeekday {}
                | Instr::TimeOfDay {}) => self.time_instr(i)?,
                Instr::InField { level: l, field } => {
                    let a = self.pop()?;
                    let c = self.in_field(a, l.0, field.0)?;
                    self.push(c)?;
                }
                Instr::CountField {
                    level: l,
                    field,
                    body,
                }
                | Instr::AnyField {
                    level: l,
                    field,
                    body,
                }
                | Instr::AllField {
                    level: l,
                    field,
                    body,
                } => {
                    let n = usize::from(body.0);
                    let body = code.get(pc..pc + n).ok_or(bad("aggregate body"))?;
                    pc += n;
                    let op = match instr {
                        Instr::CountField { .. } => Opcode::Count,
                        Instr::AnyField { .. } => Opcode::Any,
                        _ => Opcode::All,
                    };
                    let (s, addr) = self.nested_list(l.0, field.0)?;
                    let c = self.aggregate_at(op, s, addr, body, level)?;
                    self.push(c)?;
                }
            }
        }
        self.land(&mut targets, code.len());
        if !targets.is_empty() {
            return Err(bad("jump target"));
        }
        let c = self.pop()?;
        if self.types.len() != base {
            return Err(bad("block leaves more than one cell"));
        }
        Ok((c.val, c.err))
    }
}

/// Whether the code from `pc` to `target` that a `jump.if.false` (`if_true`: `jump.if.true`)
/// at `pc` skips is a chain of operands, each a few loads and comparisons with no helper
/// call, loop or store, each followed by the `and` (`or`) that consumes the cell the jump
/// tested, and more jumps of the same kind to `target` between them: falling through then
/// leaves at `target` what the jump would have (a clean `false` absorbs every operand an
/// `and` combines it with, a clean `true` every operand of an `or`).
fn straight_over(code: &[u8], pc: usize, target: usize, if_true: bool) -> bool {
    // Cells above the tested one, and the farthest target of a jump inside an operand.
    let (mut depth, mut inner) = (0usize, 0usize);
    let mut at = pc;
    while at < target {
        let Ok((instr, next)) = Instr::decode(code, at) else {
            return false;
        };
        match instr {
            Instr::LoadConst { .. }
            | Instr::CmpSlotConst { .. }
            | Instr::CmpFieldConst { .. }
            | Instr::InSlotSet { .. } => depth += 1,
            Instr::InSet { .. } | Instr::Not {} if depth >= 1 => {}
            Instr::And {} | Instr::Or {} if depth >= 2 => depth -= 1,
            // The combination with the tested cell ends an operand.
            Instr::And {} | Instr::Or {}
                if depth == 1 && matches!(instr, Instr::Or {}) == if_true && inner <= at =>
            {
                depth = 0;
            }
            Instr::JumpIfFalse { by } | Instr::JumpIfTrue { by } => {
                let to = next + usize::from(by.0);
                let same = matches!(instr, Instr::JumpIfTrue { .. }) == if_true;
                if depth == 0 && same && to == target {
                    // The next link of the chain.
                } else if depth >= 1 && to > next {
                    inner = inner.max(to);
                } else {
                    return false;
                }
            }
            _ => return false,
        }
        at = next;
    }
    at == target && depth == 0
}

/// Whether a jump to `target` in `code` that leaves a clean `false` (`if_true`: `true`) on
/// the stack decides the whole block: only `and`s (`or`s) follow it to the end of the code,
/// each of which a clean `false` (`true`) operand absorbs.
fn decides_block(code: &[u8], target: usize, if_true: bool) -> bool {
    let mut pc = target;
    while pc < code.len() {
        match Instr::decode(code, pc) {
            Ok((Instr::And {}, next)) if !if_true => pc = next,
            Ok((Instr::Or {}, next)) if if_true => pc = next,
            _ => return false,
        }
    }
    pc == code.len()
}

#[cfg(test)]
mod tests {
    use super::straight_over;
    use ipe_nostd::isa::{BodyLen, CmpOp, Const, Instr, Offset, Slot};

    fn code(instrs: &[Instr]) -> Vec<u8> {
        instrs
            .iter()
            .flat_map(|i| i.encode().as_bytes().to_vec())
            .collect()
    }

    /// `cmp; jump <over the rest>; <rest>`: whether the baseline tier drops the jump.
    fn drops(rest: &[Instr], if_true: bool) -> bool {
        let rest = code(rest);
        let by = Offset(rest.len() as u16);
        let jump = if if_true {
            Instr::JumpIfTrue { by }
        } else {
            Instr::JumpIfFalse { by }
        };
        let head = code(&[cmp(0), jump]);
        let all = [head.as_slice(), &rest].concat();
        straight_over(&all, head.len(), all.len(), if_true)
    }

    fn cmp(s: u16) -> Instr {
        Instr::CmpSlotConst {
            op: CmpOp::Eq,
            slot: Slot(s),
            konst: Const(0),
        }
    }

    #[test]
    fn issue15_only_an_absorbing_chain_of_plain_operands_loses_its_jump() {
        // The compiler's chains: `a and b`, `a and b and c`, `a or b`.
        assert!(drops(&[cmp(1), Instr::And {}], false));
        let tail = code(&[cmp(2), Instr::And {}]);
        let next = Instr::JumpIfFalse {
            by: Offset(tail.len() as u16),
        };
        assert!(drops(
            &[cmp(1), Instr::And {}, next, cmp(2), Instr::And {}],
            false
        ));
        assert!(drops(&[cmp(1), Instr::Or {}], true));
        // The combination does not absorb what the jump carries: the branch stays.
        assert!(!drops(&[cmp(1), Instr::Or {}], false));
        assert!(!drops(&[cmp(1), Instr::And {}], true));
        // An operand with a loop, or that leaves two cells, or no combination at all.
        let any = Instr::Any {
            list: Slot(3),
            body: BodyLen(code(&[cmp(1)]).len() as u16),
        };
        assert!(!drops(&[any, cmp(1), Instr::And {}], false));
        assert!(!drops(&[cmp(1), cmp(2), Instr::And {}], false));
        assert!(!drops(&[cmp(1)], false));
    }
}
