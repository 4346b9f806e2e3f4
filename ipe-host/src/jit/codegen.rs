//! Bytecode to Cranelift IR: one function per policy.
//!
//! Signature: `extern "C" fn(values: *const Value, out: *mut RawOut) -> u64` returning one of
//! the `RET_*` codes. Every operand-stack cell lives in four Cranelift variables per stack
//! depth: `val` (bool 0/1, int, enum rank or string symbol), `err` (an [`errcode`] code, `OK`
//! when the cell is not an error), and for strings the text pointer and length. Aggregate
//! bodies are inlined as loops; jumps become branches to the block at their target.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, AbiParam, BlockArg, InstBuilder, MemFlags, Signature};
use cranelift_frontend::{FunctionBuilder, Variable};
use ipe_nostd::bundle::{BodyKind, PolicyId};
use ipe_nostd::format::kind;
use ipe_nostd::isa::{CmpOp, Instr, Opcode, MAX_LEVELS, STACK_CELLS};
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::Bundle;

use super::errcode::{self, OK};
use super::helpers;
use super::layout::Layout;
use super::shapes::Shapes;
use super::JitError;

/// The trigger is false.
pub(crate) const RET_NOT_APPLICABLE: u64 = 0;
/// Every clause holds.
pub(crate) const RET_SATISFIED: u64 = 1;
/// Violated: `out.clause` (`u64::MAX` for `denies`), `out.note`/`out.has_note`.
pub(crate) const RET_VIOLATED: u64 = 2;
/// The trigger is an error `out.err`.
pub(crate) const RET_TRIGGER_ERROR: u64 = 3;
/// The requirement is an error `out.err`.
pub(crate) const RET_APPLIED_ERROR: u64 = 4;

/// What a compiled policy writes besides its return code.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawOut {
    pub err: u64,
    pub clause: u64,
    pub note: i64,
    pub has_note: u64,
}

/// Static type of a stack cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Bool,
    Int,
    Str,
    Enum,
}

/// The SSA values of one cell.
#[derive(Clone, Copy)]
struct Cell {
    ty: Ty,
    val: ir::Value,
    err: ir::Value,
    ptr: Option<ir::Value>,
    len: Option<ir::Value>,
}

const NOTE_HAS: u32 = (STACK_CELLS as u32) * 4;
const NOTE_VAL: u32 = NOTE_HAS + 1;
const CLAUSE_ERR: u32 = NOTE_HAS + 2;
const LOOP_BASE: u32 = NOTE_HAS + 3;
const VARS: u32 = LOOP_BASE + 3 * MAX_LEVELS as u32;

fn var(i: u32) -> Variable {
    Variable::from_u32(i)
}

fn args(v: &[ir::Value]) -> Vec<BlockArg> {
    v.iter().map(|&x| BlockArg::Value(x)).collect()
}

/// Sets a string cell's text is taken from when it is a constant.
fn const_text(sh: &Shapes, sym: u32) -> (i64, i64) {
    let t = sh.symbol(sym);
    (t.as_ptr() as i64, t.len() as i64)
}

/// Builds one policy function in `b`.
pub(crate) struct Gen<'f, 's> {
    b: FunctionBuilder<'f>,
    sh: &'s Shapes,
    lay: Layout,
    values: ir::Value,
    types: Vec<Ty>,
    elems: [Option<(u16, ir::Value)>; MAX_LEVELS],
    call_conv: cranelift_codegen::isa::CallConv,
}

type R<T> = Result<T, JitError>;

fn bad(what: &'static str) -> JitError {
    JitError::Unsupported(what)
}

impl<'f, 's> Gen<'f, 's> {
    pub(crate) fn new(mut b: FunctionBuilder<'f>, sh: &'s Shapes, lay: Layout) -> Self {
        let call_conv = b.func.signature.call_conv;
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let values = b.block_params(entry)[0];
        for i in 0..VARS {
            b.declare_var(var(i), I64);
        }
        Gen {
            b,
            sh,
            lay,
            values,
            types: Vec::new(),
            elems: [None; MAX_LEVELS],
            call_conv,
        }
    }

    fn out(&mut self) -> ir::Value {
        let entry = self.b.func.layout.entry_block();
        match entry {
            Some(e) => self.b.func.dfg.block_params(e)[1],
            None => self.values,
        }
    }

    fn iconst(&mut self, v: i64) -> ir::Value {
        self.b.ins().iconst(I64, v)
    }

    fn ok(&mut self) -> ir::Value {
        self.iconst(OK as i64)
    }

    fn flags() -> MemFlags {
        MemFlags::trusted()
    }

    fn is_ok(&mut self, err: ir::Value) -> ir::Value {
        self.b.ins().icmp_imm(IntCC::Equal, err, OK as i64)
    }

    fn bool64(&mut self, c: ir::Value) -> ir::Value {
        self.b.ins().uextend(I64, c)
    }

    fn call(&mut self, f: usize, a: &[ir::Value]) -> ir::Value {
        let mut sig = Signature::new(self.call_conv);
        for _ in a {
            sig.params.push(AbiParam::new(I64));
        }
        sig.returns.push(AbiParam::new(I64));
        let sigref = self.b.import_signature(sig);
        let callee = self.iconst(f as i64);
        let inst = self.b.ins().call_indirect(sigref, callee, a);
        self.b.inst_results(inst)[0]
    }

    fn shapes_ptr(&mut self) -> ir::Value {
        let p: *const Shapes = self.sh;
        self.iconst(p as i64)
    }

    /// `if cond { slow() } else { fast }` with `slow` in a (cold) block.
    fn unless(
        &mut self,
        cond_fast: ir::Value,
        fast: ir::Value,
        cold: bool,
        slow: impl FnOnce(&mut Self) -> ir::Value,
    ) -> ir::Value {
        let slow_b = self.b.create_block();
        let join = self.b.create_block();
        let p = self.b.append_block_param(join, I64);
        self.b
            .ins()
            .brif(cond_fast, join, &args(&[fast]), slow_b, &[]);
        self.b.switch_to_block(slow_b);
        self.b.seal_block(slow_b);
        if cold {
            self.b.set_cold_block(slow_b);
        }
        let r = slow(self);
        self.b.ins().jump(join, &args(&[r]));
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        p
    }

    // ---- the operand stack ----

    fn push(&mut self, c: Cell) -> R<()> {
        let d = self.types.len() as u32;
        if d as usize >= STACK_CELLS {
            return Err(bad("stack overflow"));
        }
        self.b.def_var(var(d * 4), c.val);
        self.b.def_var(var(d * 4 + 1), c.err);
        if let (Some(p), Some(l)) = (c.ptr, c.len) {
            self.b.def_var(var(d * 4 + 2), p);
            self.b.def_var(var(d * 4 + 3), l);
        }
        self.types.push(c.ty);
        Ok(())
    }

    fn peek(&mut self) -> R<Cell> {
        let ty = *self.types.last().ok_or(bad("stack underflow"))?;
        let d = (self.types.len() - 1) as u32;
        let val = self.b.use_var(var(d * 4));
        let err = self.b.use_var(var(d * 4 + 1));
        let (ptr, len) = if ty == Ty::Str {
            (
                Some(self.b.use_var(var(d * 4 + 2))),
                Some(self.b.use_var(var(d * 4 + 3))),
            )
        } else {
            (None, None)
        };
        Ok(Cell {
            ty,
            val,
            err,
            ptr,
            len,
        })
    }

    fn pop(&mut self) -> R<Cell> {
        let c = self.peek()?;
        self.types.pop();
        Ok(c)
    }

    fn cell(&mut self, ty: Ty, val: ir::Value, err: ir::Value) -> Cell {
        Cell {
            ty,
            val,
            err,
            ptr: None,
            len: None,
        }
    }

    // ---- loads ----

    fn slot_addr(&mut self, s: u16) -> ir::Value {
        let off = i64::from(s) * i64::from(self.lay.size);
        self.b.ins().iadd_imm(self.values, off)
    }

    /// The rank of `sym` in enum `e`, or a value `>=` the member count.
    fn rank(&mut self, e: u16, sym: ir::Value) -> ir::Value {
        let members: Vec<u32> = self.sh.members(e).to_vec();
        if members.len() > 16 {
            let sh = self.shapes_ptr();
            let ev = self.iconst(i64::from(e));
            return self.call(helpers::enum_rank as *const () as usize, &[sh, ev, sym]);
        }
        let mut r = self.iconst(members.len() as i64);
        for (i, &m) in members.iter().enumerate().rev() {
            if m == NO_SYMBOL {
                continue;
            }
            let hit = self.b.ins().icmp_imm(IntCC::Equal, sym, i64::from(m));
            let iv = self.iconst(i as i64);
            r = self.b.ins().select(hit, iv, r);
        }
        r
    }

    /// Reads the `Value` at `addr` as a scalar of kind `k` (enum `e`), errors at `at`.
    fn read(&mut self, addr: ir::Value, k: u8, e: u16, at: u64) -> R<Cell> {
        let f = Self::flags();
        let l = self.lay;
        let tag = self.b.ins().uload8(I64, f, addr, 0);
        let (ty, val, ok, ptr, len) = match k {
            kind::INT => {
                let v = self.b.ins().load(I64, f, addr, l.off_int as i32);
                let ok = self
                    .b
                    .ins()
                    .icmp_imm(IntCC::Equal, tag, i64::from(l.tag_int));
                (Ty::Int, v, ok, None, None)
            }
            kind::BOOL => {
                let v = self.b.ins().uload8(I64, f, addr, l.off_bool as i32);
                let ok = self
                    .b
                    .ins()
                    .icmp_imm(IntCC::Equal, tag, i64::from(l.tag_bool));
                (Ty::Bool, v, ok, None, None)
            }
            kind::STR => {
                let v = self.b.ins().uload32(f, addr, l.off_sym as i32);
                let p = self.b.ins().load(I64, f, addr, l.off_text_ptr as i32);
                let n = self.b.ins().load(I64, f, addr, l.off_text_len as i32);
                let ok = self
                    .b
                    .ins()
                    .icmp_imm(IntCC::Equal, tag, i64::from(l.tag_str));
                (Ty::Str, v, ok, Some(p), Some(n))
            }
            kind::ENUM => {
                let r = self.b.ins().uload16(I64, f, addr, l.off_enum as i32);
                let sym = self.b.ins().uload32(f, addr, l.off_sym as i32);
                let rs = self.rank(e, sym);
                let is_e = self
                    .b
                    .ins()
                    .icmp_imm(IntCC::Equal, tag, i64::from(l.tag_enum));
                let is_s = self
                    .b
                    .ins()
                    .icmp_imm(IntCC::Equal, tag, i64::from(l.tag_str));
                let rank = self.b.ins().select(is_e, r, rs);
                let n = self.sh.members(e).len() as i64;
                let in_range = self.b.ins().icmp_imm(IntCC::UnsignedLessThan, rank, n);
                let either = self.b.ins().bor(is_e, is_s);
                let ok = self.b.ins().band(either, in_range);
                (Ty::Enum, rank, ok, None, None)
            }
            _ => return Err(bad("scalar kind")),
        };
        let okv = self.ok();
        let err = self.unless(ok, okv, true, |g| {
            let sh = g.shapes_ptr();
            let kv = g.iconst(i64::from(k));
            let ev = g.iconst(i64::from(e));
            let atv = g.iconst(at as i64);
            g.call(
                helpers::read_err as *const () as usize,
                &[sh, addr, kv, ev, atv],
            )
        });
        Ok(Cell {
            ty,
            val,
            err,
            ptr,
            len,
        })
    }

    fn load_slot(&mut self, s: u16) -> R<Cell> {
        let sh = self.sh.slot(s);
        let addr = self.slot_addr(s);
        self.read(addr, sh.kind, sh.enum_id, errcode::at(s, None))
    }

    fn elem(&self, level: u8) -> R<(u16, ir::Value)> {
        self.elems
            .get(usize::from(level))
            .copied()
            .flatten()
            .ok_or(bad("field outside an aggregate"))
    }

    fn field_addr(&mut self, level: u8, f: u16) -> R<(u16, ir::Value)> {
        let (slot, p) = self.elem(level)?;
        let off = i64::from(f) * i64::from(self.lay.size);
        Ok((slot, self.b.ins().iadd_imm(p, off)))
    }

    fn constant(&mut self, c: u16) -> R<Cell> {
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

    // ---- operators ----

    fn str_eq(&mut self, a: Cell, b: Cell, err: ir::Value) -> R<ir::Value> {
        let same = self.b.ins().icmp(IntCC::Equal, a.val, b.val);
        let none = self
            .b
            .ins()
            .icmp_imm(IntCC::Equal, a.val, i64::from(NO_SYMBOL));
        let clean = self.is_ok(err);
        let need = self.b.ins().band(same, none);
        let need = self.b.ins().band(need, clean);
        let fast = self.bool64(same);
        let not_need = self.b.ins().bxor_imm(need, 1);
        let (ap, al, bp, bl) = match (a.ptr, a.len, b.ptr, b.len) {
            (Some(ap), Some(al), Some(bp), Some(bl)) => (ap, al, bp, bl),
            _ => return Err(bad("string cell without text")),
        };
        Ok(self.unless(not_need, fast, true, |g| {
            g.call(helpers::text_eq as *const () as usize, &[ap, al, bp, bl])
        }))
    }

    fn compare(&mut self, op: CmpOp, a: Cell, b: Cell) -> R<Cell> {
        let err = self.b.ins().umin(a.err, b.err);
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
            Ty::Bool | Ty::Str => {
                let eq = if a.ty == Ty::Str {
                    self.str_eq(a, b, err)?
                } else {
                    let c = self.b.ins().icmp(IntCC::Equal, a.val, b.val);
                    self.bool64(c)
                };
                // Unordered types: equal or "less" (the interpreter's reading).
                match op {
                    CmpOp::Eq | CmpOp::Ge => eq,
                    CmpOp::Ne | CmpOp::Lt => self.b.ins().bxor_imm(eq, 1),
                    CmpOp::Le => self.iconst(1),
                    CmpOp::Gt => self.iconst(0),
                }
            }
        };
        Ok(self.cell(Ty::Bool, val, err))
    }

    fn in_set(&mut self, a: Cell, set: u16) -> Cell {
        let keys: Vec<i64> = self.sh.set(set).to_vec();
        let hit = if keys.len() > 8 {
            let sh = self.shapes_ptr();
            let sv = self.iconst(i64::from(set));
            self.call(
                helpers::set_contains as *const () as usize,
                &[sh, sv, a.val],
            )
        } else {
            let mut r = self.iconst(0);
            for k in keys {
                let h = self.b.ins().icmp_imm(IntCC::Equal, a.val, k);
                let h = self.bool64(h);
                r = self.b.ins().bor(r, h);
            }
            r
        };
        let val = if a.ty == Ty::Str {
            let known = self
                .b
                .ins()
                .icmp_imm(IntCC::NotEqual, a.val, i64::from(NO_SYMBOL));
            let known = self.bool64(known);
            self.b.ins().band(hit, known)
        } else {
            hit
        };
        self.cell(Ty::Bool, val, a.err)
    }

    /// Error code, element pointer and value count of list slot `s`.
    fn list(&mut self, s: u16) -> (ir::Value, ir::Value, ir::Value) {
        let f = Self::flags();
        let l = self.lay;
        let sh = self.sh.slot(s);
        let addr = self.slot_addr(s);
        let ptr = self.b.ins().load(I64, f, addr, l.off_list_ptr as i32);
        let len = self.b.ins().load(I64, f, addr, l.off_list_len as i32);
        let slow = |g: &mut Self| {
            let shp = g.shapes_ptr();
            let sv = g.iconst(i64::from(s));
            g.call(helpers::list_err as *const () as usize, &[shp, sv, addr])
        };
        let err = if sh.kind == kind::RECORDS {
            let tag = self.b.ins().uload8(I64, f, addr, 0);
            let is_r = self
                .b
                .ins()
                .icmp_imm(IntCC::Equal, tag, i64::from(l.tag_records));
            let stride = u64::from(sh.fields.max(1));
            let limit = (u64::from(sh.max_len) + 1) * stride;
            let short = self
                .b
                .ins()
                .icmp_imm(IntCC::UnsignedLessThan, len, limit as i64);
            let ok = self.b.ins().band(is_r, short);
            let okv = self.ok();
            self.unless(ok, okv, true, slow)
        } else {
            slow(self)
        };
        (err, ptr, len)
    }

    fn aggregate(&mut self, op: Opcode, s: u16, body: &[u8], level: usize) -> R<Cell> {
        let sh = self.sh.slot(s);
        let stride = i64::from(if sh.kind == kind::RECORDS {
            sh.fields.max(1)
        } else {
            1
        });
        let (lerr, ptr, len) = self.list(s);
        let n = self.b.ins().udiv_imm(len, stride);
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
        let bytes = self.b.ins().imul_imm(n, step);
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
        let (bv, be) = self.run(body, level + 1)?;
        if let Some(x) = self.elems.get_mut(level) {
            *x = saved;
        }
        let clean = self.is_ok(be);
        match op {
            Opcode::Count => {
                let t = self.b.ins().icmp_imm(IntCC::NotEqual, bv, 0);
                let t = self.b.ins().band(t, clean);
                let t = self.bool64(t);
                let c = self.b.use_var(v_count);
                let c = self.b.ins().iadd(c, t);
                self.b.def_var(v_count, c);
            }
            _ => {
                let want_true = op == Opcode::Any;
                let cc = if want_true {
                    IntCC::NotEqual
                } else {
                    IntCC::Equal
                };
                let t = self.b.ins().icmp_imm(cc, bv, 0);
                let stop = self.b.ins().band(t, clean);
                let cont = self.b.create_block();
                let res = self.iconst(i64::from(want_true));
                let okv = self.ok();
                self.b.ins().brif(stop, done, &args(&[res, okv]), cont, &[]);
                self.b.switch_to_block(cont);
                self.b.seal_block(cont);
            }
        }
        let er = self.b.use_var(v_err);
        let er = self.b.ins().umin(er, be);
        self.b.def_var(v_err, er);
        let e2 = self.b.use_var(v_elem);
        let e2 = self.b.ins().iadd_imm(e2, step);
        self.b.def_var(v_elem, e2);
        self.b.ins().jump(hdr, &[]);
        self.b.seal_block(hdr);
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
        let ty = if op == Opcode::Count {
            Ty::Int
        } else {
            Ty::Bool
        };
        Ok(self.cell(ty, rv, re))
    }

    /// Continues into the block of every jump that lands at `pc`.
    fn land(&mut self, targets: &mut Vec<(usize, ir::Block)>, pc: usize) {
        if let Some(i) = targets.iter().position(|&(t, _)| t == pc) {
            let (_, blk) = targets.swap_remove(i);
            self.b.ins().jump(blk, &[]);
            self.b.switch_to_block(blk);
            self.b.seal_block(blk);
        }
    }

    /// Compiles one code block; returns the condition it leaves as `(val, err)`.
    fn run(&mut self, code: &[u8], level: usize) -> R<(ir::Value, ir::Value)> {
        let base = self.types.len();
        let mut targets: Vec<(usize, ir::Block)> = Vec::new();
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
                    let f = field.0;
                    let (slot, addr) = self.field_addr(level.0, f)?;
                    let (k, e) = self.sh.field(slot, f);
                    let c = self.read(addr, k, e, errcode::at(slot, Some(f)))?;
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
                    let a = self.load_slot(slot.0)?;
                    let b = self.constant(konst.0)?;
                    let c = self.compare(op, a, b)?;
                    self.push(c)?;
                }
                Instr::CmpFieldConst {
                    op, level, field, ..
                }
                | Instr::CmpFieldSlot {
                    op, level, field, ..
                } => {
                    let f = field.0;
                    let (slot, addr) = self.field_addr(level.0, f)?;
                    let (k, e) = self.sh.field(slot, f);
                    let a = self.read(addr, k, e, errcode::at(slot, Some(f)))?;
                    let b = match instr {
                        Instr::CmpFieldConst { konst, .. } => self.constant(konst.0)?,
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
                    let dirty = self.b.ins().icmp_imm(IntCC::NotEqual, err, OK as i64);
                    let zero = self.iconst(0);
                    let opv = i64::from(op as u8);
                    let val = self.unless(dirty, zero, false, |g| {
                        let sh = g.shapes_ptr();
                        let o = g.iconst(opv);
                        g.call(
                            helpers::str_op as *const () as usize,
                            &[sh, o, ap, al, a.val, bp, bl, b.val],
                        )
                    });
                    let c = self.cell(Ty::Bool, val, err);
                    self.push(c)?;
                }
                Instr::InSet { set } => {
                    let a = self.pop()?;
                    let c = self.in_set(a, set.0);
                    self.push(c)?;
                }
                Instr::InSlotSet { slot, set } => {
                    let a = self.load_slot(slot.0)?;
                    let c = self.in_set(a, set.0);
                    self.push(c)?;
                }
                Instr::InList { list } => {
                    let a = self.pop()?;
                    let s = list.0;
                    let addr = self.slot_addr(s);
                    let sh = self.shapes_ptr();
                    let sv = self.iconst(i64::from(s));
                    let lerr = self.call(helpers::list_err as *const () as usize, &[sh, sv, addr]);
                    let err = self.b.ins().umin(a.err, lerr);
                    let dirty = self.b.ins().icmp_imm(IntCC::NotEqual, err, OK as i64);
                    let zero = self.iconst(0);
                    let (p, l) = match (a.ptr, a.len) {
                        (Some(p), Some(l)) => (p, l),
                        _ => (zero, zero),
                    };
                    let val = self.unless(dirty, zero, false, |g| {
                        g.call(
                            helpers::in_list as *const () as usize,
                            &[sh, sv, addr, a.val, p, l],
                        )
                    });
                    let c = self.cell(Ty::Bool, val, err);
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
                    let v = self.b.ins().bxor_imm(a.val, 1);
                    let c = self.cell(Ty::Bool, v, a.err);
                    self.push(c)?;
                }
                Instr::And {} | Instr::Or {} => {
                    let or = matches!(instr, Instr::Or {});
                    let b = self.pop()?;
                    let a = self.pop()?;
                    let cc = if or { IntCC::NotEqual } else { IntCC::Equal };
                    let absorbed = |g: &mut Self, c: Cell| {
                        let clean = g.is_ok(c.err);
                        let t = g.b.ins().icmp_imm(cc, c.val, 0);
                        g.b.ins().band(clean, t)
                    };
                    let xa = absorbed(self, a);
                    let xb = absorbed(self, b);
                    let abs = self.b.ins().bor(xa, xb);
                    let m = self.b.ins().umin(a.err, b.err);
                    let okv = self.ok();
                    let err = self.b.ins().select(abs, okv, m);
                    let abs = self.bool64(abs);
                    let val = if or {
                        abs
                    } else {
                        self.b.ins().bxor_imm(abs, 1)
                    };
                    let c = self.cell(Ty::Bool, val, err);
                    self.push(c)?;
                }
                Instr::JumpIfFalse { by } | Instr::JumpIfTrue { by } => {
                    let a = self.peek()?;
                    let target = pc + usize::from(by.0);
                    let cc = if matches!(instr, Instr::JumpIfTrue { .. }) {
                        IntCC::NotEqual
                    } else {
                        IntCC::Equal
                    };
                    let clean = self.is_ok(a.err);
                    let t = self.b.ins().icmp_imm(cc, a.val, 0);
                    let jump = self.b.ins().band(clean, t);
                    let blk = match targets.iter().find(|&&(t, _)| t == target) {
                        Some(&(_, b)) => b,
                        None => {
                            let b = self.b.create_block();
                            targets.push((target, b));
                            b
                        }
                    };
                    let next = self.b.create_block();
                    self.b.ins().brif(jump, blk, &[], next, &[]);
                    self.b.switch_to_block(next);
                    self.b.seal_block(next);
                }
                Instr::NoteCount {} => {
                    let a = self.peek()?;
                    let clean = self.is_ok(a.err);
                    let has = self.b.use_var(var(NOTE_HAS));
                    let one = self.iconst(1);
                    let has = self.b.ins().select(clean, one, has);
                    self.b.def_var(var(NOTE_HAS), has);
                    let note = self.b.use_var(var(NOTE_VAL));
                    let note = self.b.ins().select(clean, a.val, note);
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

    fn present(&mut self, addr: ir::Value) -> Cell {
        let tag = self.b.ins().uload8(I64, Self::flags(), addr, 0);
        let t = self
            .b
            .ins()
            .icmp_imm(IntCC::NotEqual, tag, i64::from(self.lay.tag_missing));
        let v = self.bool64(t);
        let ok = self.ok();
        self.cell(Ty::Bool, v, ok)
    }

    fn ret(&mut self, code: u64) {
        let v = self.iconst(code as i64);
        self.b.ins().return_(&[v]);
    }

    /// Returns `code` with error `e` stored in the output when `e` is an error; otherwise
    /// continues in a fresh block.
    fn return_if_error(&mut self, e: ir::Value, code: u64) {
        let err_b = self.b.create_block();
        let cont = self.b.create_block();
        let dirty = self.b.ins().icmp_imm(IntCC::NotEqual, e, OK as i64);
        self.b.ins().brif(dirty, err_b, &[], cont, &[]);
        self.b.switch_to_block(err_b);
        self.b.seal_block(err_b);
        self.store(e, 0);
        self.ret(code);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Stores `v` at `out + off`.
    fn store(&mut self, v: ir::Value, off: i32) {
        let out = self.out();
        self.b.ins().store(Self::flags(), v, out, off);
    }

    /// Compiles policy `id`: trigger, clauses and outcome.
    pub(crate) fn policy(mut self, bundle: &Bundle<'_>, id: PolicyId) -> R<()> {
        let p = bundle.policy(id);
        let zero = self.iconst(0);
        self.b.def_var(var(NOTE_HAS), zero);
        self.b.def_var(var(NOTE_VAL), zero);
        if !p.trigger.is_empty() {
            let (v, e) = self.run(p.trigger, 0)?;
            self.return_if_error(e, RET_TRIGGER_ERROR);
            let na = self.b.create_block();
            let yes = self.b.create_block();
            self.b.ins().brif(v, yes, &[], na, &[]);
            self.b.switch_to_block(na);
            self.b.seal_block(na);
            self.ret(RET_NOT_APPLICABLE);
            self.b.switch_to_block(yes);
            self.b.seal_block(yes);
        }
        if p.kind == BodyKind::Denies {
            let m = self.iconst(-1);
            self.store(m, 8);
            self.ret(RET_VIOLATED);
            self.b.finalize();
            return Ok(());
        }
        let okv = self.ok();
        self.b.def_var(var(CLAUSE_ERR), okv);
        for c in 0..p.clauses {
            let clause = bundle.clause(p.first_clause.saturating_add(c.into()));
            let zero = self.iconst(0);
            self.b.def_var(var(NOTE_HAS), zero);
            let (v, e) = self.run(clause.code, 0)?;
            let clean = self.is_ok(e);
            let f = self.b.ins().icmp_imm(IntCC::Equal, v, 0);
            let viol = self.b.ins().band(clean, f);
            let vb = self.b.create_block();
            let next = self.b.create_block();
            self.b.ins().brif(viol, vb, &[], next, &[]);
            self.b.switch_to_block(vb);
            self.b.seal_block(vb);
            let cv = self.iconst(i64::from(c));
            self.store(cv, 8);
            if clause.reports_count {
                let has = self.b.use_var(var(NOTE_HAS));
                let note = self.b.use_var(var(NOTE_VAL));
                self.store(note, 16);
                self.store(has, 24);
            } else {
                let z = self.iconst(0);
                self.store(z, 24);
            }
            self.ret(RET_VIOLATED);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
            let er = self.b.use_var(var(CLAUSE_ERR));
            let er = self.b.ins().umin(er, e);
            self.b.def_var(var(CLAUSE_ERR), er);
        }
        let e = self.b.use_var(var(CLAUSE_ERR));
        self.return_if_error(e, RET_APPLIED_ERROR);
        self.ret(RET_SATISFIED);
        self.b.finalize();
        Ok(())
    }
}
