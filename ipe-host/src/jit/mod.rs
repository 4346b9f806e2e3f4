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

pub(crate) use tiering::{Background, Table};

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::AbiParam;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{ArenaMemoryProvider, JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use ipe_nostd::bundle::PolicyId;
use ipe_nostd::{Bundle, Outcome, PolicyError, Value, Violation};

use codegen::{RawOut, RET_APPLIED_ERROR, RET_NOT_APPLICABLE, RET_SATISFIED, RET_TRIGGER_ERROR};
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
/// the set frees its code (`JITModule::free_memory`) when dropped.
pub struct JitSet {
    module: Option<JITModule>,
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

// SAFETY: the module's memory is immutable after `finalize_definitions` and the set exposes no
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
        if let Some(m) = self.module.take() {
            // SAFETY: the set is being dropped, so no `&self` borrow (and no call through
            // `eval`) is live; raw entry points are documented to die with the set and the
            // tiering state drops its published pointers together with its sets.
            unsafe { m.free_memory() };
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

/// Address space reserved for one module's code: a base plus a share per policy. Only the
/// pages written are made accessible; the rest stays an inaccessible reservation.
const ARENA_BASE: usize = 256 << 10;
/// Reserved per policy of a batch (a policy's code is typically a few hundred bytes to a few
/// KiB; a batch that needs more is retried with a larger reservation).
const ARENA_PER_POLICY: usize = 16 << 10;
/// The largest reservation tried for one batch before it is split policy by policy.
const ARENA_MAX: usize = 1 << 34;

/// [`compile_policies`] with `shapes` built by [`shapes`] for this bundle.
///
/// A batch's code lives in one arena (`cranelift_jit::ArenaMemoryProvider`): one contiguous
/// reservation whose written pages become one executable region, however other threads map
/// memory meanwhile, instead of one mapping per allocation that only merges with its
/// neighbours by luck (issue #15: ~0.5 kernel mappings per policy exhausted
/// `vm.max_map_count`).
///
/// `cancel`, once set, abandons the batch before its next function ([`JitError::Cancelled`]).
pub(crate) fn compile_with(
    bundle: &Bundle<'_>,
    shapes: &Arc<Shapes>,
    ids: &[PolicyId],
    tier: JitTier,
    cancel: Option<&AtomicBool>,
) -> Result<JitSet, JitError> {
    let mut reserve = ids
        .len()
        .saturating_mul(ARENA_PER_POLICY)
        .saturating_add(ARENA_BASE);
    loop {
        match compile_in(bundle, shapes, ids, tier, reserve, cancel) {
            Err(JitError::Codegen(e)) if e.contains("exhausted") && reserve < ARENA_MAX => {
                reserve = reserve.saturating_mul(4).min(ARENA_MAX);
            }
            r => return r,
        }
    }
}

/// One attempt of [`compile_with`] in an arena of `reserve` bytes.
fn compile_in(
    bundle: &Bundle<'_>,
    shapes: &Arc<Shapes>,
    ids: &[PolicyId],
    tier: JitTier,
    reserve: usize,
    cancel: Option<&AtomicBool>,
) -> Result<JitSet, JitError> {
    let start = Instant::now();
    let lay = layout()?;
    let mut builder = JITBuilder::with_isa(isa(tier)?, default_libcall_names());
    let arena = ArenaMemoryProvider::new_with_size(reserve)
        .map_err(|e| JitError::Codegen(format!("reserving {reserve} bytes for code: {e}")))?;
    builder.memory_provider(Box::new(arena));
    codegen::register_helpers(&mut builder);
    let mut module = JITModule::new(builder);
    // Declaring imports allocates no code: nothing to free on failure.
    let helpers = codegen::declare_helpers(&mut module)?;
    let declared = CONTEXTS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut c) => {
            let (ctx, fctx) = &mut *c;
            define(
                &mut module,
                &helpers,
                ctx,
                fctx,
                bundle,
                shapes,
                lay,
                ids,
                cancel,
            )
        }
        // Re-entered (never in practice): fresh contexts.
        Err(_) => define(
            &mut module,
            &helpers,
            &mut Context::new(),
            &mut FunctionBuilderContext::new(),
            bundle,
            shapes,
            lay,
            ids,
            cancel,
        ),
    });
    let declared = match declared {
        Ok(d) => d,
        Err(e) => {
            // SAFETY: nothing of this module was finalized or handed out.
            unsafe { module.free_memory() };
            return Err(e);
        }
    };
    if let Err(e) = module.finalize_definitions() {
        // SAFETY: as above: no code of this module is reachable.
        unsafe { module.free_memory() };
        return Err(JitError::Codegen(e.to_string()));
    }
    let mut funcs: Vec<(PolicyId, usize)> = declared
        .iter()
        .map(|&(id, fid)| (id, module.get_finalized_function(fid) as usize))
        .collect();
    funcs.sort_unstable_by_key(|&(id, _)| id);
    funcs.dedup_by_key(|&mut (id, _)| id);
    Ok(JitSet {
        module: Some(module),
        funcs,
        _shapes: Arc::clone(shapes),
        slot_count: bundle.slot_count(),
        tier,
        compile_time: start.elapsed(),
        compiled: declared.len(),
    })
}

/// Declares and defines one function per policy of `ids` in `module`.
#[allow(
    clippy::too_many_arguments,
    reason = "the compilation state, passed down once"
)]
fn define(
    module: &mut JITModule,
    helpers: &codegen::HelperFuncs,
    ctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    bundle: &Bundle<'_>,
    shapes: &Shapes,
    lay: Layout,
    ids: &[PolicyId],
    cancel: Option<&AtomicBool>,
) -> Result<Vec<(PolicyId, FuncId)>, JitError> {
    let mut declared = Vec::with_capacity(ids.len());
    let cg = |e: &dyn core::fmt::Display| JitError::Codegen(e.to_string());
    let mut name = String::new();
    for &id in ids {
        if cancel.is_some_and(|c| c.load(Ordering::Acquire)) {
            module.clear_context(ctx);
            return Err(JitError::Cancelled);
        }
        if usize::from(id) >= bundle.policy_count() {
            continue;
        }
        module.clear_context(ctx);
        ctx.func.signature.params.push(AbiParam::new(I64));
        ctx.func.signature.params.push(AbiParam::new(I64));
        ctx.func.signature.returns.push(AbiParam::new(I64));
        name.clear();
        let _ = write!(name, "p{id}");
        let fid = module
            .declare_function(&name, Linkage::Local, &ctx.func.signature)
            .map_err(|e| cg(&e))?;
        let b = FunctionBuilder::new(&mut ctx.func, fctx);
        let generated = codegen::Gen::new(b, module, helpers, shapes, lay).policy(bundle, id);
        if let Err(e) = generated {
            // A builder abandoned mid-function leaves its context dirty: start afresh.
            *fctx = FunctionBuilderContext::new();
            module.clear_context(ctx);
            return Err(e);
        }
        if let Err(e) = module.define_function(fid, ctx) {
            module.clear_context(ctx);
            return Err(JitError::Codegen(e.to_string()));
        }
        declared.push((id, fid));
    }
    module.clear_context(ctx);
    Ok(declared)
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
    // SAFETY: `f` is the address of a function of signature `RawFn` finalized in a `JitSet`
    // that the caller keeps alive for this call (it is an entry of `&JitSet` or a pointer the
    // tiering state published while holding its set). `values` holds at least as many slots
    // as the bundle declares, which is all the code reads outside lists it validates first.
    let code = unsafe {
        let func: RawFn = core::mem::transmute::<usize, RawFn>(f);
        func(values.as_ptr().cast::<Value<'static>>(), &mut out)
    };
    decode(code, id, out)
}

fn decode(code: u64, id: PolicyId, out: RawOut) -> Outcome {
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
        _ => Outcome::Violated(Violation {
            policy: id,
            clause: u16::try_from(out.clause).ok(),
            count: (out.has_note != 0).then_some(out.note),
            witness: u16::try_from(out.witness)
                .ok()
                .and_then(|w| w.checked_sub(1))
                .and_then(ipe_nostd::decision::ElementIndex::new),
        }),
    }
}
