//! The host's decision: complete lists whose buffers are reused per thread, so a steady
//! stream of decisions allocates nothing.

use std::cell::RefCell;

use ipe_nostd::{DecisionLists, Effect, PolicyError, PolicyId, Violation};

/// A decision with every matched, violated and erring policy (no capacity, nothing cut):
/// policy ids into the [`PolicySet`](crate::PolicySet) that made it. Render it with
/// [`PolicySet::report`](crate::PolicySet::report).
///
/// Its lists come from a per-thread pool and go back to it when the decision is dropped, so
/// they keep the capacity earlier decisions needed.
#[derive(Debug, PartialEq, Eq)]
pub struct HostDecision {
    /// Allow or deny.
    pub effect: Effect,
    /// Policies whose trigger held, ascending.
    pub matched: Vec<PolicyId>,
    /// Violated policies, ascending.
    pub violations: Vec<Violation>,
    /// Policies in error, ascending.
    pub errors: Vec<PolicyError>,
}

/// Spare list buffers of dropped decisions.
type Spare = (Vec<PolicyId>, Vec<Violation>, Vec<PolicyError>);

/// Spare buffers kept per thread (more live decisions than this just allocate).
const SPARES: usize = 8;

thread_local! {
    static POOL: RefCell<Vec<Spare>> = const { RefCell::new(Vec::new()) };
}

impl HostDecision {
    /// An empty decision with the given effect, reusing this thread's spare buffers.
    pub fn new(effect: Effect) -> HostDecision {
        let (matched, violations, errors) = POOL
            .try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
            .ok()
            .flatten()
            .unwrap_or_default();
        HostDecision {
            effect,
            matched,
            violations,
            errors,
        }
    }
}

impl Clone for HostDecision {
    fn clone(&self) -> HostDecision {
        let mut d = HostDecision::new(self.effect);
        d.matched.extend_from_slice(&self.matched);
        d.violations.extend_from_slice(&self.violations);
        d.errors.extend_from_slice(&self.errors);
        d
    }
}

impl Drop for HostDecision {
    fn drop(&mut self) {
        let mut spare = (
            std::mem::take(&mut self.matched),
            std::mem::take(&mut self.violations),
            std::mem::take(&mut self.errors),
        );
        spare.0.clear();
        spare.1.clear();
        spare.2.clear();
        // During thread teardown the pool may be gone: the buffers are then simply freed.
        let _ = POOL.try_with(|p| {
            if let Ok(mut p) = p.try_borrow_mut() {
                if p.len() < SPARES {
                    p.push(spare);
                }
            }
        });
    }
}

impl DecisionLists for HostDecision {
    fn set_effect(&mut self, effect: Effect) {
        self.effect = effect;
    }
    #[inline]
    fn push_matched(&mut self, policy: PolicyId) {
        self.matched.push(policy);
    }
    #[inline]
    fn push_violation(&mut self, violation: Violation) {
        self.violations.push(violation);
    }
    #[inline]
    fn push_error(&mut self, error: PolicyError) {
        self.errors.push(error);
    }
    fn sort(&mut self) {
        // Issue #15, session 12: most decisions have at most one entry per list, which is
        // sorted already (no call into the sort).
        if self.matched.len() > 1 {
            self.matched.sort_unstable();
        }
        if self.violations.len() > 1 {
            self.violations.sort_unstable_by_key(|v| v.policy);
        }
        if self.errors.len() > 1 {
            self.errors.sort_unstable_by_key(|e| e.policy);
        }
    }
}
