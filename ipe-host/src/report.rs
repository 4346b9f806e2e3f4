//! Decisions rendered with names, intents and reasons, and their JSON form.

use ipe_nostd::{Bundle, Decision as Ids, Effect, PolicyError, PolicyId, Violation};

use crate::HostDecision;
use serde::{Serialize, Serializer};

/// A decision with every id resolved to text.
///
/// Serializes as
/// `{"decision":"allow"|"deny","matched":[..],"violations":[{"policy","intent","reason"}],"errors":[{"policy","error"}]}`,
/// plus `"truncated":N` when a fixed-capacity decision left `N` entries out (never for the
/// host's own decisions, whose lists are complete).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Allow or deny.
    #[serde(rename = "decision", serialize_with = "effect_str")]
    pub effect: Effect,
    /// Names of the policies that applied, in policy order.
    pub matched: Vec<String>,
    /// Violated policies, in policy order.
    pub violations: Vec<ViolationReport>,
    /// Policies in error, in policy order.
    pub errors: Vec<ErrorReport>,
    /// Entries left out of the lists (0: complete; see `docs/LANGUAGE.md`).
    #[serde(skip_serializing_if = "is_zero")]
    pub truncated: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A violated policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViolationReport {
    /// Policy name.
    pub policy: String,
    /// Its intent.
    pub intent: String,
    /// Why it is violated.
    pub reason: String,
}

/// A policy in error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    /// Policy name.
    pub policy: String,
    /// The attribute error text.
    pub error: String,
}

fn effect_str<S: Serializer>(e: &Effect, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.as_str())
}

impl Report {
    /// Resolves a fixed-capacity decision's ids against its bundle.
    pub fn new<const M: usize>(bundle: &Bundle<'_>, d: &Ids<M>) -> Report {
        Report::resolve(
            bundle,
            d.effect,
            (&d.matched, &d.violations, &d.errors),
            d.truncated,
        )
    }

    /// Resolves a host decision's ids against its bundle.
    pub fn of_host(bundle: &Bundle<'_>, d: &HostDecision) -> Report {
        Report::resolve(bundle, d.effect, (&d.matched, &d.violations, &d.errors), 0)
    }

    fn resolve(
        bundle: &Bundle<'_>,
        effect: Effect,
        (matched, violations, errors): (&[PolicyId], &[Violation], &[PolicyError]),
        truncated: u32,
    ) -> Report {
        Report {
            effect,
            matched: matched
                .iter()
                .map(|&p| bundle.policy(p).name.to_owned())
                .collect(),
            violations: violations
                .iter()
                .map(|v| {
                    let p = bundle.policy(v.policy);
                    ViolationReport {
                        policy: p.name.to_owned(),
                        intent: p.intent.to_owned(),
                        reason: bundle.reason(*v).to_string(),
                    }
                })
                .collect(),
            errors: errors
                .iter()
                .map(|e| ErrorReport {
                    policy: bundle.policy(e.policy).name.to_owned(),
                    error: bundle.error_text(e.error).to_string(),
                })
                .collect(),
            truncated,
        }
    }

    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        // Serializing strings and vectors into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
