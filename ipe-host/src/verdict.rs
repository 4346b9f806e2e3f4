//! A decision as data (issue #15): the effect and the outcome of each policy that applied or
//! erred, written into a buffer the caller keeps, with the lists of a [`HostDecision`] (and
//! from them the report) built only when asked.

use ipe_nostd::{Accumulator, Effect, Outcome, PolicyId};

use crate::decision::HostDecision;

/// One request's decision as compact data: its effect and, in evaluation order, every
/// evaluated policy whose outcome is not "not applicable", each with its clause, count,
/// witness or error ([`Outcome`]).
///
/// Made by [`PolicySet::decide_into`](crate::PolicySet::decide_into), which clears it first:
/// reuse one per thread and a steady stream of decisions allocates nothing once its buffer has
/// grown to the longest decision. Nothing is sorted or copied into lists unless asked:
/// [`to_decision`](Self::to_decision) gives exactly the decision
/// [`PolicySet::evaluate_values`](crate::PolicySet::evaluate_values) gives for the same
/// values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    effect: Effect,
    default: Effect,
    outcomes: Vec<(PolicyId, Outcome)>,
}

impl Default for Verdict {
    fn default() -> Verdict {
        Verdict::new()
    }
}

impl Verdict {
    /// An empty verdict (effect `Allow` until a decision is written into it).
    pub const fn new() -> Verdict {
        Verdict {
            effect: Effect::Allow,
            default: Effect::Allow,
            outcomes: Vec::new(),
        }
    }

    /// Allow or deny.
    #[inline]
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// Each evaluated policy whose outcome is not [`Outcome::NotApplicable`], with that
    /// outcome, in evaluation order (the unindexed policies in ascending ids, then the
    /// candidates of each index group), not by policy id.
    #[inline]
    pub fn outcomes(&self) -> &[(PolicyId, Outcome)] {
        &self.outcomes
    }

    /// The complete decision, lists sorted by policy id: what
    /// [`PolicySet::evaluate_values`](crate::PolicySet::evaluate_values) returns.
    pub fn to_decision(&self) -> HostDecision {
        let mut d = HostDecision::new(self.default);
        let mut acc = Accumulator::new(self.default);
        for &(id, outcome) in &self.outcomes {
            acc.add(&mut d, id, outcome);
        }
        acc.finish(&mut d);
        d
    }

    /// Empties the verdict for a bundle whose default effect is `default`.
    #[inline]
    pub(crate) fn start(&mut self, default: Effect) {
        self.default = default;
        self.effect = default;
        self.outcomes.clear();
    }

    /// Sets the effect once every outcome is recorded.
    #[inline]
    pub(crate) fn finish(&mut self, effect: Effect) {
        self.effect = effect;
    }

    /// Records one policy's outcome (not-applicable ones are not kept).
    #[inline(always)]
    pub(crate) fn record(&mut self, id: PolicyId, outcome: Outcome) {
        if !matches!(outcome, Outcome::NotApplicable) {
            self.outcomes.push((id, outcome));
        }
    }
}
