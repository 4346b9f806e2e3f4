//! Decisions rendered with names, intents and reasons, and their JSON form: `ipe-nostd`'s
//! [`report`](ipe_nostd::report) (feature `alloc`), re-exported so host code keeps its paths.

pub use ipe_nostd::report::{DecisionIds, ErrorReport, Report, ViolationReport};

use crate::HostDecision;
use ipe_nostd::{Effect, PolicyError, PolicyId, Violation};

impl DecisionIds for HostDecision {
    fn effect(&self) -> Effect {
        self.effect
    }
    fn matched(&self) -> &[PolicyId] {
        HostDecision::matched(self)
    }
    fn violations(&self) -> &[Violation] {
        HostDecision::violations(self)
    }
    fn errors(&self) -> &[PolicyError] {
        HostDecision::errors(self)
    }
}
