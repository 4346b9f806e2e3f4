//! Bytecode to Cranelift IR: one function per policy.
//!
//! Signature: `extern "C" fn(values: *const Value, out: *mut RawOut) -> u64` returning one of
//! the `RET_*` codes. Every operand-stack cell lives in four Cranelift variables per stack
//! depth: `val` (bool 0/1, int, enum rank or string symbol), `err` (an [`errcode`] code, `OK`
//! when the cell is not an error), and for strings the text pointer and length. Aggregate
//! bodies are inlined as loops; jumps become branches to the block at their target.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, BlockArg, InstBuilder, MemFlagsData};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::settings::OptLevel;
use cranelift_frontend::{FunctionBuilder, Variable};
use ipe_nostd::bundle::{BodyKind, PolicyId};
use ipe_nostd::isa::{MAX_LEVELS, STACK_CELLS};
use ipe_nostd::value::NO_SYMBOL;
use ipe_nostd::Bundle;

use super::errcode::OK;
use super::layout::Layout;
use super::shapes::Shapes;
use super::JitError;
use calls::MAX_PARAMS;

mod calls;

pub(crate) use calls::int_signature;
mod defer;
mod dynkey;
mod fast;
mod fold;
mod ipcmp;
mod konst;
mod nested;
mod ops;
mod segment;
mod stack;
mod texteq;
mod time;
mod values;

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
/// The user function index a fast copy calls its exact function by (`Gen::exact_policy`).
pub(crate) const EXACT_FUNC: u32 = 0;

/// What a compiled policy writes besides its return code.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawOut {
    pub err: u64,
    pub clause: u64,
    pub note: i64,
    pub has_note: u64,
    /// One more than the witness element's index (0: none), stored only by the outermost
    /// `all` of a clause whose witness a reason template names, where it turns false.
    pub witness: u64,
}

/// Byte offsets of the [`RawOut`] fields compiled code stores.
const OUT_ERR: usize = core::mem::offset_of!(RawOut, err);
const OUT_CLAUSE: usize = core::mem::offset_of!(RawOut, clause);
const OUT_NOTE: usize = core::mem::offset_of!(RawOut, note);
const OUT_HAS_NOTE: usize = core::mem::offset_of!(RawOut, has_note);
const OUT_WITNESS: usize = core::mem::offset_of!(RawOut, witness);

/// Static type of a stack cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Bool,
    Int,
    Str,
    Enum,
    /// An address (issue #13, session 10): `val` is the address of the request `Value`
    /// holding it (read by the ip helpers), `err` its read error.
    Ip,
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
    /// The target (its calling convention and frontend settings).
    isa: &'s dyn TargetIsa,
    /// The helper call signature of each arity imported into this function so far.
    sigs: [Option<ir::SigRef>; MAX_PARAMS + 1],
    /// Whether the clause being compiled records its witness (its outermost `all` stores the
    /// index of the element that made it false; no code at all for other clauses).
    witness_clause: bool,
    /// Whether this policy's slot reads defer their errors (`defer.rs`).
    defer: bool,
    /// Whether the read being built is such a slot read.
    defer_read: bool,
    /// Whether the read being built is of a top-level slot (its loads may move).
    slot_read: bool,
    /// Inside an aggregate's fast loop (`fast.rs`): the block of the loop's exact copy, where
    /// a failed read goes.
    bail: Option<ir::Block>,
    /// Slot cells read once in the preheader of the enclosing fast loops (`fast.rs`).
    hoisted: Vec<(u16, Cell)>,
    /// Whether the read being built is such a preheader read (its loads stay there).
    hoisting: bool,
    /// Whether aggregates are being compiled in their exact form (the cold copy of a fast
    /// loop: errors as values, helper calls).
    exact: bool,
    /// Whether the string read being built is only compared by symbol (no text loads).
    sym_only: bool,
    /// The constant [`OK`], one value defined in the entry block (issue #15, session 13: the
    /// error cells of two paths that meet are then the same value, and the join needs no
    /// block parameter for them).
    okv: ir::Value,
    /// The `I64` constants defined so far in the block being built, and that block (issue
    /// #15, compile time: the baseline tier neither folds nor shares constants, and each
    /// one is an instruction lowered and a register allocated).
    consts: (Option<ir::Block>, Vec<(i64, ir::Value)>),
}

type R<T> = Result<T, JitError>;

fn bad(what: &'static str) -> JitError {
    JitError::Unsupported(what)
}

impl<'f, 's> Gen<'f, 's> {
    pub(crate) fn new(
        mut b: FunctionBuilder<'f>,
        isa: &'s dyn TargetIsa,
        sh: &'s Shapes,
        lay: Layout,
    ) -> Self {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let values = b.block_params(entry)[0];
        let okv = b.ins().iconst(I64, OK as i64);
        // Variables are numbered in declaration order, so `var(i)` is the i-th declared.
        for _ in 0..VARS {
            b.declare_var(I64);
        }
        Gen {
            b,
            sh,
            lay,
            values,
            types: Vec::new(),
            elems: [None; MAX_LEVELS],
            isa,
            sigs: [None; MAX_PARAMS + 1],
            witness_clause: false,
            defer: false,
            defer_read: false,
            slot_read: false,
            bail: None,
            hoisted: Vec::new(),
            hoisting: false,
            exact: false,
            sym_only: false,
            okv,
            consts: (None, Vec::new()),
        }
    }

    fn out(&mut self) -> ir::Value {
        let entry = self.b.func.layout.entry_block();
        match entry {
            Some(e) => self.b.func.dfg.block_params(e)[1],
            None => self.values,
        }
    }

    /// The constant `v`: the one already defined in the current block, if any (a value
    /// defined earlier in a block is available to everything after it in that block).
    fn iconst(&mut self, v: i64) -> ir::Value {
        if v == OK as i64 {
            return self.okv;
        }
        let here = self.b.current_block();
        if self.consts.0 != here {
            self.consts.0 = here;
            self.consts.1.clear();
        }
        if let Some(&(_, c)) = self.consts.1.iter().find(|&&(k, _)| k == v) {
            return c;
        }
        let c = self.b.ins().iconst(I64, v);
        self.consts.1.push((v, c));
        c
    }

    /// `v <cc> imm`: for a 64-bit `v`, with the block's shared constant (Cranelift's
    /// legalizer would expand `icmp_imm` into a constant of its own).
    fn icmp_k(&mut self, cc: IntCC, v: ir::Value, imm: i64) -> ir::Value {
        if self.b.func.dfg.value_type(v) == I64 {
            let k = self.iconst(imm);
            self.b.ins().icmp(cc, v, k)
        } else {
            self.b.ins().icmp_imm_s(cc, v, imm)
        }
    }

    /// `v + imm` for a 64-bit `v`, as [`icmp_k`](Self::icmp_k); `v` itself for 0.
    fn add_k(&mut self, v: ir::Value, imm: i64) -> ir::Value {
        if imm == 0 {
            return v;
        }
        if self.b.func.dfg.value_type(v) == I64 {
            let k = self.iconst(imm);
            self.b.ins().iadd(v, k)
        } else {
            self.b.ins().iadd_imm_s(v, imm)
        }
    }

    /// Whether `v` is a constant (`iconst`) other than [`NO_SYMBOL`]: the symbol of a
    /// bundle string.
    fn is_symbol_const(&self, v: ir::Value) -> bool {
        let dfg = &self.b.func.dfg;
        let Some(inst) = dfg.value_def(dfg.resolve_aliases(v)).inst() else {
            return false;
        };
        matches!(
            dfg.insts[inst],
            ir::InstructionData::UnaryImm { opcode: ir::Opcode::Iconst, imm }
                if imm.bits() != i64::from(NO_SYMBOL)
        )
    }

    fn ok(&mut self) -> ir::Value {
        self.okv
    }

    fn flags() -> MemFlagsData {
        MemFlagsData::trusted()
    }

    fn is_ok(&mut self, err: ir::Value) -> ir::Value {
        // A read's error cell `ok ? OK : code` (with `code` a constant error) is clean
        // exactly when `ok` holds (issue #15, compile time: no comparison of the select).
        let dfg = &self.b.func.dfg;
        if let Some(inst) = dfg.value_def(dfg.resolve_aliases(err)).inst() {
            if let ir::InstructionData::Ternary {
                opcode: ir::Opcode::Select,
                args: [c, x, y],
            } = dfg.insts[inst]
            {
                if x == self.okv && self.imm(y).is_some_and(|k| k != OK as i64) {
                    return c;
                }
            }
        }
        self.cmp_imm(IntCC::Equal, err, OK as i64)
    }

    fn bool64(&mut self, c: ir::Value) -> ir::Value {
        match self.flag_imm(c) {
            Some(v) => self.iconst(i64::from(v)),
            None => self.b.ins().uextend(I64, c),
        }
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
        match self.flag_imm(cond_fast) {
            Some(true) => return fast,
            Some(false) => return slow(self),
            None => {}
        }
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

    fn ret(&mut self, code: u64) {
        let v = self.iconst(code as i64);
        self.b.ins().return_(&[v]);
    }

    /// Returns `code` with error `e` stored (its kind resolved: `defer.rs`) when `e` is an
    /// error, from a cold block; otherwise continues in a fresh block.
    fn error_exit(&mut self, e: ir::Value, code: u64) {
        let err_b = self.b.create_block();
        let cont = self.b.create_block();
        let clean = self.is_ok(e);
        self.b.ins().brif(clean, cont, &[], err_b, &[]);
        self.b.switch_to_block(err_b);
        self.b.seal_block(err_b);
        self.b.set_cold_block(err_b);
        self.store_err(e);
        self.ret(code);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// Stores `v` in the field of [`RawOut`] at byte offset `off` (an `OUT_*` constant).
    fn store(&mut self, v: ir::Value, off: usize) {
        let out = self.out();
        self.b.ins().store(Self::flags(), v, out, off as i32);
    }

    /// Compiles policy `id`: trigger, clauses and outcome. Returns whether the code is a
    /// fast copy that calls, for a request it does not read, the function
    /// [`exact_policy`](Self::exact_policy) compiles (user function [`EXACT_FUNC`]).
    ///
    /// Issue #15, session 13: at the optimized tier, a policy whose only errors are read
    /// errors is compiled twice (`fast.rs`): a fast copy whose reads leave for the exact
    /// copy when a value is not one the native path reads, so the fast copy has no error
    /// cells at all. Session 22: the exact copy is a function of its own. In the same
    /// function, its helper calls kept every value it shares with the fast copy (the
    /// arguments, the loop state) in callee-saved registers or on the stack in the fast
    /// copy too: a seed decision ran 20 instructions of saves, spills and reloads.
    pub(crate) fn policy(mut self, bundle: &Bundle<'_>, id: PolicyId) -> R<bool> {
        self.defer = defer::defers(bundle, id);
        if self.defer && self.isa.flags().opt_level() != OptLevel::None {
            let exact = self.b.create_block();
            self.bail = Some(exact);
            let fast = self.body(bundle, id);
            self.bail = None;
            fast?;
            self.b.switch_to_block(exact);
            self.b.seal_block(exact);
            self.b.set_cold_block(exact);
            // A call of the exact function, whose address `jit::define` writes into this
            // code when it places both (an absolute relocation, the only one it applies).
            let signature = self.int_sig(2);
            let name = self
                .b
                .func
                .declare_imported_user_function(ir::UserExternalName::new(0, EXACT_FUNC));
            let f = self.b.import_function(ir::ExtFuncData {
                name: ir::ExternalName::user(name),
                signature,
                colocated: false,
                patchable: false,
            });
            let (values, out) = (self.values, self.out());
            let call = self.b.ins().call(f, &[values, out]);
            let ret = self.b.inst_results(call)[0];
            self.b.ins().return_(&[ret]);
            self.b.finalize(self.isa.frontend_config());
            return Ok(true);
        }
        self.body(bundle, id)?;
        self.b.finalize(self.isa.frontend_config());
        Ok(false)
    }

    /// Compiles the exact copy of policy `id`, for the requests its fast copy
    /// ([`policy`](Self::policy) returned true) does not read.
    pub(crate) fn exact_policy(mut self, bundle: &Bundle<'_>, id: PolicyId) -> R<()> {
        self.defer = defer::defers(bundle, id);
        // The exact copy runs only for a request with a failed read: its aggregates need no
        // fast copy of their own.
        self.exact = true;
        self.body(bundle, id)?;
        self.b.finalize(self.isa.frontend_config());
        Ok(())
    }

    /// The code of policy `id` from the current block: trigger, clauses and returns.
    fn body(&mut self, bundle: &Bundle<'_>, id: PolicyId) -> R<()> {
        let p = bundle.policy(id);
        let zero = self.iconst(0);
        self.b.def_var(var(NOTE_HAS), zero);
        self.b.def_var(var(NOTE_VAL), zero);
        if !p.trigger.is_empty() {
            // Issue #15, session 14: a short-circuit that makes the trigger a clean false
            // returns from where it is decided.
            let na = self.b.create_block();
            let (v, e) = self.run_exits(p.trigger, 0, Some(na), None)?;
            self.trigger_exit(v, e, na);
        }
        if p.kind == BodyKind::Denies {
            let m = self.iconst(-1);
            self.store(m, OUT_CLAUSE);
            self.ret(RET_VIOLATED);
            return Ok(());
        }
        let okv = self.ok();
        self.b.def_var(var(CLAUSE_ERR), okv);
        for c in 0..p.clauses {
            let clause = bundle.clause(p.first_clause.saturating_add(c.into()));
            if clause.reports_count {
                let zero = self.iconst(0);
                self.b.def_var(var(NOTE_HAS), zero);
            }
            self.witness_clause = clause.witness;
            // A short-circuit that makes the clause a clean false goes to its violation.
            let vb = self.b.create_block();
            let ran = self.run_exits(clause.code, 0, Some(vb), None);
            self.witness_clause = false;
            let (v, e) = ran?;
            let clean = self.is_ok(e);
            let f = self.cmp_imm(IntCC::Equal, v, 0);
            let viol = self.and_flag(clean, f);
            let next = self.b.create_block();
            self.b.ins().brif(viol, vb, &[], next, &[]);
            self.b.switch_to_block(vb);
            self.b.seal_block(vb);
            let cv = self.iconst(i64::from(c));
            self.store(cv, OUT_CLAUSE);
            if clause.reports_count {
                let has = self.b.use_var(var(NOTE_HAS));
                let note = self.b.use_var(var(NOTE_VAL));
                self.store(note, OUT_NOTE);
                self.store(has, OUT_HAS_NOTE);
            } else {
                let z = self.iconst(0);
                self.store(z, OUT_HAS_NOTE);
            }
            self.ret(RET_VIOLATED);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
            let er = self.b.use_var(var(CLAUSE_ERR));
            let er = self.umin(er, e);
            self.b.def_var(var(CLAUSE_ERR), er);
        }
        let e = self.b.use_var(var(CLAUSE_ERR));
        self.return_error_or(e, RET_APPLIED_ERROR, RET_SATISFIED);
        Ok(())
    }

    /// Leaves the function unless trigger `(v, e)` is clean and true: with
    /// [`RET_TRIGGER_ERROR`] (the error stored) or [`RET_NOT_APPLICABLE`] (from block `na`,
    /// which the trigger's deciding short-circuits jump to as well). One branch to one return
    /// block (issue #15, compile time: was two branches and four blocks); the error is stored
    /// whatever it is (the caller reads it only with an error code).
    fn trigger_exit(&mut self, v: ir::Value, e: ir::Value, na: ir::Block) {
        let yes = self.b.create_block();
        if self.is_const_ok(e) {
            self.b.ins().brif(v, yes, &[], na, &[]);
        } else if self.defer {
            // The error's kind is resolved by a helper call, only on the error path.
            self.error_exit(e, RET_TRIGGER_ERROR);
            self.b.ins().brif(v, yes, &[], na, &[]);
        } else {
            let exit = self.b.create_block();
            let code = self.b.append_block_param(exit, I64);
            self.store(e, OUT_ERR);
            let clean = self.is_ok(e);
            let t = self.cmp_imm(IntCC::NotEqual, v, 0);
            let go = self.and_flag(clean, t);
            let na_code = self.iconst(RET_NOT_APPLICABLE as i64);
            let te = self.iconst(RET_TRIGGER_ERROR as i64);
            let code_v = self.select(clean, na_code, te);
            self.b.ins().brif(go, yes, &[], exit, &args(&[code_v]));
            self.b.switch_to_block(exit);
            self.b.seal_block(exit);
            self.b.ins().return_(&[code]);
        }
        self.b.switch_to_block(na);
        self.b.seal_block(na);
        self.ret(RET_NOT_APPLICABLE);
        self.b.switch_to_block(yes);
        self.b.seal_block(yes);
    }

    /// Returns `code` with error `e` stored when `e` is an error, else `otherwise`: no branch
    /// (the error is stored whatever it is; the caller reads it only with an error code).
    fn return_error_or(&mut self, e: ir::Value, code: u64, otherwise: u64) {
        if self.is_const_ok(e) {
            self.ret(otherwise);
            return;
        }
        if self.defer {
            self.error_exit(e, code);
            self.ret(otherwise);
            return;
        }
        self.store(e, OUT_ERR);
        let clean = self.is_ok(e);
        let ok = self.iconst(otherwise as i64);
        let bad = self.iconst(code as i64);
        let r = self.select(clean, ok, bad);
        self.b.ins().return_(&[r]);
    }
}
