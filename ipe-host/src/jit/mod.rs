//! The Cranelift JIT: native code for hot policies, compiled from their verified bytecode.
//!
//! [`compile_policies`] turns a batch of policies of one bundle into a [`JitSet`] that owns
//! one `JITModule`; [`JitSet::eval`] runs a compiled policy with exactly the interpreter's
//! results ([`ipe_nostd::vm::eval_policy_values`]), errors included. `tiering` is how [`crate::PolicyEngine`] promotes hot policies from the
//! interpreter to a baseline and then an optimized tier in the background
//! ([`crate::EngineOptions`]).
//!
//! # ABI
//! A compiled policy is `extern "C" fn(values: *const Value, out: *mut RawOut) -> u64`. It
//! reads the caller's slot slice in place: `ipe_nostd::Value` is `#[repr(C, u8)]`, and the tag
//! byte and payload offsets are measured at run time (`layout`). Rare operations (errors,
//! text comparisons, scalar lists, big sets and enums) call `extern "C"` helpers that get a
//! pointer to the set's own copy of the bundle metadata (`shapes`), so compiled code never
//! points into the bundle's bytes.

mod codegen;
mod errcode;
mod helpers;
mod layout;
mod reuse;
mod shapes;
pub(crate) mod tiering;

pub(crate) use codegen::RawOut;
pub(crate) use tiering::{Background, Slots, Table};

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{ExternalName, UserExternalName};
use cranelift_codegen::isa::{OwnedTargetIsa, TargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{ArenaMemoryProvider, BranchProtection, JITMemoryKind, JITMemoryProvider};
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::{Bundle, Outcome, PolicyError, Value, Violation};

use codegen::{
    RET_APPLIED_ERROR, RET_NOT_APPLICABLE, RET_SATISFIED, RET_TRIGGER_ERROR, RET_VIOLATED,
};
use layout::Layout;
use shapes::Shapes;

use crate::options::JitTier;

/// Why a batch could not be compiled (its policies stay interpreted).
#[derive(Debug)]
pub enum JitError {
    /// This build's `Value` layout is not the one the JIT reads.
    Layout,
    /// Cranelift could not target this machine.
    Isa(String),
    /// Code generation or linking failed.
    Codegen(String),
    /// A code block the JIT does not handle (never for a verified bundle).
    Unsupported(&'static str),
    /// The compilation was abandoned (its engine is being dropped).
    Cancelled,
}

impl core::fmt::Display for JitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            JitError::Layout => f.write_str("unexpected Value layout"),
            JitError::Isa(e) => write!(f, "no Cranelift target for this machine: {e}"),
            JitError::Codegen(e) => write!(f, "code generation failed: {e}"),
            JitError::Unsupported(w) => write!(f, "unsupported bytecode: {w}"),
            JitError::Cancelled => f.write_str("compilation cancelled"),
        }
    }
}

impl std::error::Error for JitError {}

/// The machine code of one compiled policy.
type RawFn = unsafe extern "C" fn(*const Value<'static>, *mut RawOut) -> u64;

/// Native code for a batch of policies of one bundle version, and the memory it lives in.
///
/// Function pointers handed out by `JitSet::entry` are valid only while the set is alive;
/// the set frees its code (the arena's `free_memory`) when dropped.
pub struct JitSet {
    /// The executable region holding the batch's code (none for an empty batch).
    memory: Option<ArenaMemoryProvider>,
    /// Code address of each policy of the batch, sorted by policy id (sized to the batch, not
    /// the bundle: issue #15).
    funcs: Vec<(PolicyId, usize)>,
    /// Bundle metadata the code and its helpers point into (kept alive with the code; only
    /// compiled code reads it, through a raw pointer). Shared by every batch of one version.
    _shapes: Arc<Shapes>,
    slot_count: usize,
    tier: JitTier,
    compile_time: Duration,
    compiled: usize,
}

// SAFETY: the code memory is immutable after the arena's `finalize` and the set exposes no
// interior mutability; compiled code only reads its arguments and the boxed `Shapes`.
unsafe impl Send for JitSet {}
// SAFETY: as for `Send`: shared use is read-only.
unsafe impl Sync for JitSet {}

impl core::fmt::Debug for JitSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("JitSet")
            .field("tier", &self.tier)
            .field("compiled", &self.compiled)
            .field("compile_time", &self.compile_time)
            .finish()
    }
}

impl Drop for JitSet {
    fn drop(&mut self) {
        if let Some(mut m) = self.memory.take() {
            // SAFETY: the set is being dropped, so no `&self` borrow (and no call through
            // `eval`) is live; raw entry points are documented to die with the set and the
            // tiering state drops its published pointers together with its sets.
            unsafe { JITMemoryProvider::free_memory(&mut m) };
        }
    }
}

fn build_isa(tier: JitTier) -> Result<OwnedTargetIsa, String> {
    let mut fb = settings::builder();
    // Issue #15 (compile time): the baseline tier trades code quality for compile speed
    // with no optimization and the single-pass register allocator (more spills, a fraction
    // of the backtracking allocator's time); the optimized tier keeps both.
    let (opt, regalloc) = match tier {
        JitTier::Baseline => ("none", "single_pass"),
        JitTier::Optimized => ("speed", "backtracking"),
    };
    for (k, v) in [
        ("opt_level", opt),
        ("regalloc_algorithm", regalloc),
        ("use_colocated_libcalls", "false"),
        ("is_pic", "false"),
        // The IR verifier roughly doubles compile time; the generator is covered by the
        // differential tests instead.
        ("enable_verifier", "false"),
        // No unwinder ever walks compiled code (helpers are `extern "C"` and do not unwind,
        // and the module registers no frame tables): its unwind info was built for nothing.
        ("unwind_info", "false"),
    ] {
        fb.set(k, v).map_err(|e| e.to_string())?;
    }
    let ib = cranelift_native::builder().map_err(|e| e.to_string())?;
    ib.finish(settings::Flags::new(fb))
        .map_err(|e| e.to_string())
}

/// The target ISA of each tier, detected and configured once per process.
fn isa(tier: JitTier) -> Result<OwnedTargetIsa, JitError> {
    static ISAS: [OnceLock<Result<OwnedTargetIsa, String>>; 2] = [OnceLock::new(), OnceLock::new()];
    let i = usize::from(tier == JitTier::Optimized);
    ISAS.get(i)
        .ok_or(JitError::Isa(String::new()))?
        .get_or_init(|| build_isa(tier))
        .clone()
        .map_err(JitError::Isa)
}

/// Builds the per-process caches (both ISAs, the layout) ahead of the first compilation.
pub(crate) fn warm() {
    let _ = (isa(JitTier::Baseline), isa(JitTier::Optimized), layout());
}

/// The `Value` layout, probed once per process.
fn layout() -> Result<Layout, JitError> {
    static LAYOUT: OnceLock<Option<Layout>> = OnceLock::new();
    LAYOUT.get_or_init(Layout::probe).ok_or(JitError::Layout)
}

thread_local! {
    /// Each compiling thread's reusable Cranelift contexts (cleared between functions).
    static CONTEXTS: RefCell<(Context, FunctionBuilderContext)> =
        RefCell::new((Context::new(), FunctionBuilderContext::new()));
}

/// The bundle metadata compiled code points into, for [`compile_with`] (build it once per
/// bundle and share it between batches).
pub(crate) fn shapes(bundle: &Bundle<'_>) -> Arc<Shapes> {
    Arc::new(Shapes::of(bundle))
}

/// Compiles every policy of `bundle` at `tier`.
pub fn compile_bundle(bundle: &Bundle<'_>, tier: JitTier) -> Result<JitSet, JitError> {
    let ids: Vec<PolicyId> = (0..bundle.policy_count())
        .filter_map(|i| PolicyId::try_from(i).ok())
        .collect();
    compile_policies(bundle, &ids, tier)
}

/// Compiles the policies `ids` of `bundle` at `tier` into one module.
pub fn compile_policies(
    bundle: &Bundle<'_>,
    ids: &[PolicyId],
    tier: JitTier,
) -> Result<JitSet, JitError> {
    compile_with(bundle, &shapes(bundle), ids, tier, None)
}

/// Code of each function is placed at a multiple of this (at least the target's own
/// function alignment).
const FUNC_ALIGN: usize = 16;

/// [`compile_policies`] with `shapes` built by [`shapes`] for this bundle.
///
/// Every function is compiled by Cranelift into one buffer (`Context::compile`, no
/// `JITModule`: compiled code calls helpers at constant addresses, so it needs no symbol or
/// declaration; its one relocation, a fast copy's call of its exact function, is written
/// here); then the batch's code is copied into one arena
/// (`cranelift_jit::ArenaMemoryProvider`) sized to it, which becomes one executable region
/// however other threads map memory meanwhile (issue #15: ~0.5 kernel mappings per policy
/// exhausted `vm.max_map_count`).
///
/// `cancel`, once set, abandons the batch before its next function ([`JitError::Cancelled`]).
pub(crate) fn compile_with(
    bundle: &Bundle<'_>,
    shapes: &Arc<Shapes>,
    ids: &[PolicyId],
    tier: JitTier,
    cancel: Option<&AtomicBool>,
) -> Result<JitSet, JitError> {
    let start = Instant::now();
    let lay = layout()?;
    let isa = isa(tier)?;
    let mut code = Vec::new();
    let (declared, links) = CONTEXTS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut c) => {
            let (ctx, fctx) = &mut *c;
            define(
                &*isa, ctx, fctx, bundle, shapes, lay, ids, cancel, &mut code,
            )
        }
        // Re-entered (never in practice): fresh contexts.
        Err(_) => define(
            &*isa,
            &mut Context::new(),
            &mut FunctionBuilderContext::new(),
            bundle,
            shapes,
            lay,
            ids,
            cancel,
            &mut code,
        ),
    })?;
    let (memory, base) = if code.is_empty() {
        (None, 0)
    } else {
        let mut arena = ArenaMemoryProvider::new_with_size(code.len()).map_err(|e| {
            JitError::Codegen(format!("reserving {} bytes for code: {e}", code.len()))
        })?;
        let at = JITMemoryProvider::allocate(
            &mut arena,
            code.len(),
            FUNC_ALIGN as u64,
            JITMemoryKind::Executable,
        )
        .map_err(|e| JitError::Codegen(e.to_string()));
        let at = match at {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: nothing of this arena was finalized or handed out.
                unsafe { JITMemoryProvider::free_memory(&mut arena) };
                return Err(e);
            }
        };
        // Each fast copy's calls of its exact function: absolute addresses in the arena.
        for &(offset, target) in &links {
            let address = (at as usize).wrapping_add(target) as u64;
            let Some(word) = code.get_mut(offset..offset.saturating_add(8)) else {
                // SAFETY: nothing of this arena was finalized or handed out.
                unsafe { JITMemoryProvider::free_memory(&mut arena) };
                return Err(JitError::Codegen("a call outside the code".into()));
            };
            word.copy_from_slice(&address.to_ne_bytes());
        }
        // SAFETY: `at` is a fresh writable allocation of `code.len()` bytes in the arena,
        // which does not overlap `code`.
        unsafe { core::ptr::copy_nonoverlapping(code.as_ptr(), at, code.len()) };
        if let Err(e) = JITMemoryProvider::finalize(&mut arena, branch_protection(&*isa)) {
            // SAFETY: as above: no code of this arena is reachable.
            unsafe { JITMemoryProvider::free_memory(&mut arena) };
            return Err(JitError::Codegen(e.to_string()));
        }
        (Some(arena), at as usize)
    };
    let mut funcs: Vec<(PolicyId, usize)> = declared
        .iter()
        .map(|&(id, offset)| (id, base.wrapping_add(offset)))
        .collect();
    funcs.sort_unstable_by_key(|&(id, _)| id);
    funcs.dedup_by_key(|&mut (id, _)| id);
    Ok(JitSet {
        memory,
        funcs,
        _shapes: Arc::clone(shapes),
        slot_count: bundle.slot_count(),
        tier,
        compile_time: start.elapsed(),
        compiled: declared.len(),
    })
}

/// The branch protection the target's code was compiled for (BTI landing pads on aarch64
/// when the ISA uses them), as `JITModule` chooses it.
fn branch_protection(isa: &dyn TargetIsa) -> BranchProtection {
    let bti = isa
        .isa_flags()
        .iter()
        .find(|f| f.name == "use_bti")
        .is_some_and(|f| f.as_bool().unwrap_or(false));
    if cfg!(target_arch = "aarch64") && bti {
        BranchProtection::BTI
    } else {
        BranchProtection::None
    }
}

/// Compiles one function per policy of `ids` (two for a policy with a fast copy: the exact
/// copy first), appending its machine code to `code` at a multiple of [`FUNC_ALIGN`];
/// returns each policy's offset in `code`, and the fast copies' calls to link.
#[allow(
    clippy::too_many_arguments,
    reason = "the compilation state, passed down once"
)]
fn define(
    isa: &dyn TargetIsa,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    bundle: &Bundle<'_>,
    shapes: &Shapes,
    lay: Layout,
    ids: &[PolicyId],
    cancel: Option<&AtomicBool>,
    code: &mut Vec<u8>,
) -> Result<(Vec<(PolicyId, usize)>, Links), JitError> {
    let mut declared = Vec::with_capacity(ids.len());
    let mut links = Links::new();
    let mut ctrl = ControlPlane::default();
    let align = FUNC_ALIGN.max(isa.function_alignment().minimum as usize);
    let mut fast = Vec::new();
    for &id in ids {
        if cancel.is_some_and(|c| c.load(Ordering::Acquire)) {
            ctx.clear();
            return Err(JitError::Cancelled);
        }
        if usize::from(id) >= bundle.policy_count() {
            continue;
        }
        fast.clear();
        let (has_exact, calls) = function(isa, ctx, fctx, &mut ctrl, align, &mut fast, |b| {
            codegen::Gen::new(b, isa, shapes, lay).policy(bundle, id)
        })?;
        // A fast copy's calls of its exact function, placed before it.
        let exact_at = if has_exact {
            let exact_at = code.len().next_multiple_of(align);
            code.resize(exact_at, 0);
            let ((), none) = function(isa, ctx, fctx, &mut ctrl, align, code, |b| {
                codegen::Gen::new(b, isa, shapes, lay).exact_policy(bundle, id)
            })?;
            if !none.is_empty() {
                return Err(JitError::Codegen("an exact copy calls a function".into()));
            }
            Some(exact_at)
        } else {
            None
        };
        let at = code.len().next_multiple_of(align);
        code.resize(at, 0);
        code.extend_from_slice(&fast);
        for (offset, addend) in calls {
            let target = exact_at
                .and_then(|e| e.checked_add_signed(addend as isize))
                .ok_or_else(|| JitError::Codegen("a call with no exact copy".into()))?;
            links.push((at + offset as usize, target));
        }
        declared.push((id, at));
    }
    ctx.clear();
    Ok((declared, links))
}

/// The absolute addresses a batch's code needs written once it is placed: at each byte offset
/// of the code, the address of the code at another offset (a fast copy's call of its exact
/// function, issue #15 session 22).
type Links = Vec<(usize, usize)>;

/// Generates one function with `generate` and appends its machine code to `out`; returns
/// what `generate` returned and, relative to the function, the offset and addend of each
/// absolute address of the exact function it calls (the only relocation it may have).
fn function<T>(
    isa: &dyn TargetIsa,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    ctrl: &mut ControlPlane,
    align: usize,
    out: &mut Vec<u8>,
    generate: impl FnOnce(FunctionBuilder<'_>) -> Result<T, JitError>,
) -> Result<(T, Vec<(u32, i64)>), JitError> {
    ctx.clear();
    ctx.func.signature = codegen::int_signature(isa, 2);
    let b = FunctionBuilder::new(&mut ctx.func, fctx);
    let generated = match generate(b) {
        Ok(t) => t,
        Err(e) => {
            // A builder abandoned mid-function leaves its context dirty: start afresh.
            *fctx = FunctionBuilderContext::new();
            ctx.clear();
            return Err(e);
        }
    };
    let compiled = match ctx.compile(isa, ctrl) {
        Ok(c) => c,
        Err(e) => {
            let e = JitError::Codegen(e.inner.to_string());
            ctx.clear();
            return Err(e);
        }
    };
    // Helpers are called at constant addresses and policies never call each other (a fast
    // copy calls only its own exact copy, an absolute address `compile_with` writes): code
    // that needs another relocation (or a constant pool alignment beyond a function's)
    // cannot be placed by a plain copy.
    let buf = &compiled.buffer;
    if buf.alignment as usize > align {
        ctx.clear();
        return Err(JitError::Codegen("compiled code needs alignment".into()));
    }
    let mut calls = Vec::new();
    let mut other = false;
    for r in buf.relocs() {
        match (&r.kind, &r.target) {
            (Reloc::Abs8, FinalizedRelocTarget::ExternalName(ExternalName::User(n))) => {
                calls.push((*n, r.offset, r.addend));
            }
            _ => other = true,
        }
    }
    out.extend_from_slice(compiled.code_buffer());
    let exact = UserExternalName::new(0, codegen::EXACT_FUNC);
    let named = ctx.func.params.user_named_funcs();
    if other || calls.iter().any(|&(n, _, _)| named.get(n) != Some(&exact)) {
        ctx.clear();
        return Err(JitError::Codegen("compiled code needs relocation".into()));
    }
    Ok((
        generated,
        calls.into_iter().map(|(_, o, a)| (o, a)).collect(),
    ))
}

impl JitSet {
    /// The tier the set was compiled at.
    pub fn tier(&self) -> JitTier {
        self.tier
    }

    /// Wall time [`compile_policies`] took for the whole batch.
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// Number of policies compiled.
    pub fn len(&self) -> usize {
        self.compiled
    }

    /// Whether no policy was compiled.
    pub fn is_empty(&self) -> bool {
        self.compiled == 0
    }

    /// Whether policy `id` is in this set.
    pub fn contains(&self, id: PolicyId) -> bool {
        self.entry(id).is_some()
    }

    /// The code address of policy `id` (valid only while `self` is alive).
    #[inline]
    pub(crate) fn entry(&self, id: PolicyId) -> Option<usize> {
        // Consecutive ids (a whole bundle, a batch of neighbours): the entry at `id - first`
        // is the one, without a search (issue #15).
        let first = self.funcs.first().map_or(0, |&(p, _)| p);
        if let Some(&(p, f)) = self.funcs.get(usize::from(id.wrapping_sub(first))) {
            if p == id {
                return Some(f);
            }
        }
        let i = self.funcs.binary_search_by_key(&id, |&(p, _)| p).ok()?;
        self.funcs.get(i).map(|&(_, f)| f)
    }

    /// Evaluates compiled policy `id` over `values` (the slot slice the interpreter would get);
    /// `None` if `id` is not in this set. The result equals
    /// `ipe_nostd::vm::eval_policy_values(bundle, id, values)`.
    #[inline]
    pub fn eval(&self, id: PolicyId, values: &[Value<'_>]) -> Option<Outcome> {
        let f = self.entry(id)?;
        Some(self.call(f, id, values))
    }

    /// Runs the code at `f` (an entry of this set) for policy `id`.
    #[inline]
    pub(crate) fn call(&self, f: usize, id: PolicyId, values: &[Value<'_>]) -> Outcome {
        if values.len() < self.slot_count {
            // Compiled code reads every slot in place: pad a short slice with missing values.
            let mut padded = values.to_vec();
            padded.resize(self.slot_count, Value::Missing);
            return run(f, id, &padded);
        }
        run(f, id, values)
    }
}

/// Calls compiled policy code at `f` and decodes its result.
#[inline]
pub(crate) fn run(f: usize, id: PolicyId, values: &[Value<'_>]) -> Outcome {
    let mut out = RawOut::default();
    call(f, values, &mut out).outcome(id, &out)
}

/// Calls compiled policy code at `f`, which writes its record into `out`: its return code,
/// not yet decoded.
#[inline(always)]
pub(crate) fn call(f: usize, values: &[Value<'_>], out: &mut RawOut) -> Ret {
    // SAFETY: `f` is the address of a function of signature `RawFn` finalized in a `JitSet`
    // that the caller keeps alive for this call (it is an entry of `&JitSet` or a pointer the
    // tiering state published while holding its set). `values` holds at least as many slots
    // as the bundle declares, which is all the code reads outside lists it validates first.
    Ret(unsafe {
        let func: RawFn = core::mem::transmute::<usize, RawFn>(f);
        func(values.as_ptr().cast::<Value<'static>>(), out)
    })
}

/// A compiled policy's `RET_*` return code (issue #15, session 18: the common outcomes are
/// counted and combined from it; its record is decoded only for a violation or an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ret(u64);

impl Ret {
    /// Whether the policy applied and every clause held.
    #[inline(always)]
    pub(crate) fn is_satisfied(self) -> bool {
        self.0 == RET_SATISFIED
    }

    /// Whether the trigger was cleanly false.
    #[inline(always)]
    pub(crate) fn is_not_applicable(self) -> bool {
        self.0 == RET_NOT_APPLICABLE
    }

    /// The violation, if the code returned one (issue #15, session 18: decoded inline, the
    /// common outcome of a denying candidate).
    #[inline(always)]
    pub(crate) fn violation(self, id: PolicyId, out: &RawOut) -> Option<Violation> {
        (self.0 == RET_VIOLATED).then(|| violation(id, out))
    }

    /// The interpreter's outcome for this result ([`ipe_nostd::vm::eval_policy_values`]), with
    /// the record the call wrote.
    #[inline(always)]
    pub(crate) fn outcome(self, id: PolicyId, out: &RawOut) -> Outcome {
        // Issue #15, session 12: the two outcomes of almost every call are decided inline; the
        // output record is read (by reference, not copied) only for the others.
        match self.0 {
            RET_NOT_APPLICABLE => Outcome::NotApplicable,
            RET_SATISFIED => Outcome::Satisfied,
            code => decode(code, id, out),
        }
    }
}

impl crate::stats::Counted for Ret {
    #[inline(always)]
    fn tally(&self) -> crate::stats::Tally {
        use crate::stats::Tally;
        match self.0 {
            RET_NOT_APPLICABLE => Tally::NotApplicable,
            RET_SATISFIED => Tally::Satisfied,
            RET_TRIGGER_ERROR => Tally::Error { applied: false },
            RET_APPLIED_ERROR => Tally::Error { applied: true },
            _ => Tally::Violated,
        }
    }
}

/// The outcome of return code `code` (a violation or an error) with what the code stored in
/// `out` (out of line: violations and errors are rarer and need the record).
#[inline(never)]
fn decode(code: u64, id: PolicyId, out: &RawOut) -> Outcome {
    let error = |applied| {
        let error = errcode::decode(out.err).unwrap_or(ipe_nostd::AttrError {
            slot: 0,
            field: None,
            kind: ipe_nostd::ErrKind::Missing,
        });
        Outcome::Error {
            error: PolicyError { policy: id, error },
            applied,
        }
    };
    match code {
        RET_NOT_APPLICABLE => Outcome::NotApplicable,
        RET_SATISFIED => Outcome::Satisfied,
        RET_TRIGGER_ERROR => error(false),
        RET_APPLIED_ERROR => error(true),
        _ => Outcome::Violated(violation(id, out)),
    }
}

/// The violation of policy `id` that compiled code returned [`RET_VIOLATED`] for, from the
/// record it wrote.
#[inline(always)]
fn violation(id: PolicyId, out: &RawOut) -> Violation {
    Violation {
        policy: id,
        clause: u16::try_from(out.clause).ok(),
        count: (out.has_note != 0).then_some(out.note),
        witness: u16::try_from(out.witness)
            .ok()
            .and_then(|w| w.checked_sub(1))
            .and_then(ipe_nostd::decision::ElementIndex::new),
    }
}
