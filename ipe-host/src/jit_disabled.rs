//! The JIT as seen by the engine when the `jit` feature is off: the same crate-internal items
//! as `jit/` (wasmtime's enabled/disabled pattern), uninhabited, so a policy set never has
//! native code, every policy runs on the interpreter and the engine's JIT branches compile
//! away.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use ipe_nostd::{Bundle, Outcome, PolicyId, Value, Violation};

use crate::engine::PolicySet;
use crate::options::{CodeTier, EngineOptions, JitStats};
use crate::stats::Counters;

/// Slots checked for native code: never exist without the `jit` feature.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slots<'a, 'v>(Infallible, PhantomData<&'a [Value<'v>]>);

impl<'a, 'v> Slots<'a, 'v> {
    /// The slot values (unreachable: no `Slots` exists).
    pub(crate) fn values(self) -> &'a [Value<'v>] {
        match self.0 {}
    }
}

/// One version's native code: never exists without the `jit` feature.
#[derive(Debug)]
pub(crate) enum Table {}

impl Table {
    /// No table: every policy of the version is interpreted.
    pub(crate) fn new(
        _bundle: &Bundle<'_>,
        _counters: &Counters,
        _opts: &EngineOptions,
        _background: Option<&Arc<Background>>,
        _prev: Option<&Table>,
    ) -> Option<Table> {
        None
    }

    /// Unreachable (no table exists).
    pub(crate) fn set_version(&mut self, _version: u64) {
        match *self {}
    }

    /// Unreachable (no table exists).
    #[inline(always)]
    pub(crate) fn eval(
        &self,
        _bundle: &Bundle<'_>,
        _id: PolicyId,
        _values: &[Value<'_>],
    ) -> Outcome {
        match *self {}
    }

    /// Unreachable (no table exists).
    #[inline(always)]
    pub(crate) fn slots<'a, 'v>(&self, _values: &'a [Value<'v>]) -> Option<Slots<'a, 'v>> {
        match *self {}
    }

    /// Unreachable (no table exists).
    #[inline(always)]
    pub(crate) fn eval_slots(
        &self,
        _bundle: &Bundle<'_>,
        _id: PolicyId,
        slots: Slots<'_, '_>,
    ) -> Outcome {
        match slots.0 {}
    }

    /// Unreachable (no table exists).
    #[inline(always)]
    pub(crate) fn native(&self, _id: PolicyId) -> Option<NativeCode<'_>> {
        match *self {}
    }

    #[inline(always)]
    pub(crate) fn observe(&self, _id: PolicyId, _n: u64, _counters: &Counters) {
        match *self {}
    }

    /// Unreachable (no table exists).
    pub(crate) fn code_tier(&self, _id: PolicyId) -> CodeTier {
        match *self {}
    }

    /// Unreachable (no table exists).
    pub(crate) fn stats(&self) -> JitStats {
        match *self {}
    }

    /// Unreachable (no table exists).
    pub(crate) fn last_failure(&self) -> Option<String> {
        match *self {}
    }
}

/// An engine's background compiler: never exists without the `jit` feature.
/// Never built: no policy has native code.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NativeCode<'t>(Infallible, PhantomData<&'t Table>);

impl NativeCode<'_> {
    #[inline(always)]
    pub(crate) fn call(self, _slots: Slots<'_, '_>, _out: &mut RawOut) -> Ret {
        match self.0 {}
    }
}

/// The record native code would write.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawOut(());

/// A native return code: never made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ret {}

impl Ret {
    pub(crate) fn is_satisfied(self) -> bool {
        match self {}
    }

    pub(crate) fn is_not_applicable(self) -> bool {
        match self {}
    }

    pub(crate) fn violation(self, _id: PolicyId, _out: &RawOut) -> Option<Violation> {
        match self {}
    }

    pub(crate) fn outcome(self, _id: PolicyId, _out: &RawOut) -> Outcome {
        match self {}
    }
}

impl crate::stats::Counted for Ret {
    fn tally(&self) -> crate::stats::Tally {
        match *self {}
    }
}

#[derive(Debug)]
pub(crate) enum Background {}

impl Background {
    /// No compiler, whatever the options.
    pub(crate) fn for_options(_opts: &EngineOptions) -> Option<Arc<Background>> {
        None
    }

    /// Unreachable (no compiler exists).
    pub(crate) fn start(self: &Arc<Self>, _live: &Arc<ArcSwap<PolicySet>>) {
        match **self {}
    }

    /// Unreachable (no compiler exists).
    pub(crate) fn wait_idle(&self, _timeout: Duration) -> bool {
        match *self {}
    }

    /// Unreachable (no compiler exists).
    pub(crate) fn shutdown(&self) {
        match *self {}
    }
}
