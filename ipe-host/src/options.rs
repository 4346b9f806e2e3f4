//! How a [`PolicyEngine`](crate::PolicyEngine) runs policies: the interpreter, native code
//! compiled at load, or adaptive tiering.

use std::time::Duration;

/// How hard the JIT works on a policy: the JIT's one tier type, used by [`EngineOptions`],
/// by `jit::compile_bundle` (with the `jit` feature) and by adaptive tiering alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JitTier {
    /// Cranelift `opt_level=none`: fastest compilation.
    Baseline,
    /// Cranelift `opt_level=speed`.
    Optimized,
}

/// Which code runs the policies of every version an engine publishes.
///
/// Without the `jit` feature every mode runs the interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierMode {
    /// The bytecode interpreter only; nothing is ever compiled.
    Interpreter,
    /// Every policy compiled at this tier when a version is published (on the thread that
    /// loads or swaps, before readers can see it); a policy whose compilation fails stays
    /// interpreted.
    JitAll(JitTier),
    /// Interpreter first; the profiling counters promote a policy to
    /// [`JitTier::Baseline`] after [`EngineOptions::baseline_after`] evaluations and to
    /// [`JitTier::Optimized`] after [`EngineOptions::optimized_after`], compiled in batches on
    /// a background thread.
    Adaptive,
}

/// Options of a [`PolicyEngine`](crate::PolicyEngine)
/// ([`PolicyEngine::with_options`](crate::PolicyEngine::with_options)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineOptions {
    /// Which code runs the policies (default [`TierMode::Adaptive`]).
    pub tier: TierMode,
    /// Evaluations of a policy (summed over threads) after which adaptive mode compiles it at
    /// the baseline tier (default 100; 0 counts as 1).
    pub baseline_after: u64,
    /// Evaluations after which adaptive mode recompiles it optimized (default 10,000;
    /// `u64::MAX`: never).
    pub optimized_after: u64,
    /// How long the background compiler lets hot policies gather into one batch (default
    /// 1 ms).
    pub batch_window: Duration,
    /// The cost budget bundles are verified against: the most steps one policy may take
    /// (default [`ipe_nostd::verify::DEFAULT_MAX_COST`]).
    pub max_cost: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            tier: TierMode::Adaptive,
            baseline_after: 100,
            optimized_after: 10_000,
            batch_window: Duration::from_millis(1),
            max_cost: ipe_nostd::verify::DEFAULT_MAX_COST,
        }
    }
}

impl EngineOptions {
    /// The interpreter only.
    pub fn interpreter() -> EngineOptions {
        EngineOptions {
            tier: TierMode::Interpreter,
            ..EngineOptions::default()
        }
    }

    /// Every policy compiled at `tier` when a version is published.
    pub fn jit_all(tier: JitTier) -> EngineOptions {
        EngineOptions {
            tier: TierMode::JitAll(tier),
            ..EngineOptions::default()
        }
    }

    /// Adaptive tiering with these thresholds.
    pub fn adaptive(baseline_after: u64, optimized_after: u64) -> EngineOptions {
        EngineOptions {
            tier: TierMode::Adaptive,
            baseline_after,
            optimized_after,
            ..EngineOptions::default()
        }
    }
}

/// Which code runs one policy of a version right now: the interpreter or native code of a
/// [`JitTier`] (the one tier type; this adds the states a policy can be in besides one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CodeTier {
    /// The interpreter (not hot yet, or the `jit` feature is off).
    #[default]
    Interpreter = 0,
    /// Baseline native code.
    Baseline = 1,
    /// Optimized native code.
    Optimized = 2,
    /// Compilation failed; the policy stays interpreted.
    Failed = 3,
}

impl From<JitTier> for CodeTier {
    fn from(tier: JitTier) -> CodeTier {
        match tier {
            JitTier::Baseline => CodeTier::Baseline,
            JitTier::Optimized => CodeTier::Optimized,
        }
    }
}

/// Counters of one version's JIT (all zero without the `jit` feature or in interpreter mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Policies running baseline code.
    pub baseline: usize,
    /// Policies running optimized code.
    pub optimized: usize,
    /// Batches compiled (each one `JITModule`).
    pub batches: u64,
    /// Policies compiled (all tiers).
    pub compiled: u64,
    /// Policies whose native code was taken from an earlier version of the engine instead of
    /// compiled: their code and what it reads were unchanged (issue #15).
    pub reused: u64,
    /// Policies whose compilation failed (they stay interpreted).
    pub failures: u64,
    /// Wall time spent compiling, in microseconds.
    pub compile_micros: u64,
    /// Hot policies queued for the background compiler and not compiled yet.
    pub pending: u64,
}
