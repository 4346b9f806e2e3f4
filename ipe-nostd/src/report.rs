//! Decisions rendered with names, intents and reasons, their JSON form, and the JSON number
//! rule every request reader shares (feature `alloc`).
//!
//! This is the one decision JSON shape: the host, the reference evaluator, the CLI and the
//! fuzz oracles all produce a [`Report`], so their outputs compare byte for byte.

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Serialize, Serializer};

use crate::{Bundle, Decision, Effect, JsonKind, PolicyError, PolicyId, Value, Violation};

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

/// A decision of policy ids that a [`Report`] resolves: the fixed-capacity [`Decision`] and
/// hosts' growable decisions.
pub trait DecisionIds {
    /// Allow or deny.
    fn effect(&self) -> Effect;
    /// Policies whose trigger held, ascending.
    fn matched(&self) -> &[PolicyId];
    /// Violated policies, ascending.
    fn violations(&self) -> &[Violation];
    /// Policies in error, ascending.
    fn errors(&self) -> &[PolicyError];
    /// Entries left out of the lists (0 for decisions whose lists are complete).
    fn truncated(&self) -> u32 {
        0
    }
}

impl<const M: usize> DecisionIds for Decision<M> {
    fn effect(&self) -> Effect {
        self.effect
    }
    fn matched(&self) -> &[PolicyId] {
        &self.matched
    }
    fn violations(&self) -> &[Violation] {
        &self.violations
    }
    fn errors(&self) -> &[PolicyError] {
        &self.errors
    }
    fn truncated(&self) -> u32 {
        self.truncated
    }
}

impl Report {
    /// Resolves a decision's ids against its bundle, without the request's values: reason
    /// template placeholders render as missing ([`Report::with_values`] fills them).
    pub fn new(bundle: &Bundle<'_>, d: &impl DecisionIds) -> Report {
        Report::with_values(bundle, d, &[])
    }

    /// Resolves a decision's ids against its bundle, rendering reasons with the slot values
    /// the decision was made from ([`crate::render::write_reason`]).
    pub fn with_values(bundle: &Bundle<'_>, d: &impl DecisionIds, values: &[Value<'_>]) -> Report {
        Report {
            effect: d.effect(),
            matched: d
                .matched()
                .iter()
                .map(|&p| bundle.policy(p).name.to_owned())
                .collect(),
            violations: d
                .violations()
                .iter()
                .map(|v| {
                    let p = bundle.policy(v.policy);
                    ViolationReport {
                        policy: p.name.to_owned(),
                        intent: p.intent.to_owned(),
                        reason: bundle.reason_with(values, *v).to_string(),
                    }
                })
                .collect(),
            errors: d
                .errors()
                .iter()
                .map(|e| ErrorReport {
                    policy: bundle.policy(e.policy).name.to_owned(),
                    error: bundle.error_text(e.error).to_string(),
                })
                .collect(),
            truncated: d.truncated(),
        }
    }

    /// Resolves a host decision (complete lists) against its bundle: the same as
    /// [`Report::new`], kept under the name host code has always used.
    pub fn of_host(bundle: &Bundle<'_>, d: &impl DecisionIds) -> Report {
        Report::new(bundle, d)
    }

    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        // Serializing strings and vectors into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The largest magnitude (exclusive) of an integer written with a fraction or an exponent:
/// below it every integral double is exactly the integer it spells (2^53).
const EXACT_FLOAT_INT: f64 = 9_007_199_254_740_992.0;

/// A JSON number written with a fraction or an exponent, as an int: `Some` when it is integral
/// and below 2^53 in magnitude (so `1.0`, `1e0`, `-0` and `0.5e1` are ints).
#[inline]
pub fn float_int(f: f64) -> Option<i64> {
    // Below 2^53 in magnitude (false for NaN), the conversion is exact exactly when `f` is
    // integral: the same test as `f.fract() == 0.0`, which `core` lacks.
    if f.abs() < EXACT_FLOAT_INT {
        let i = f as i64;
        (i as f64 == f).then_some(i)
    } else {
        None
    }
}

/// A JSON number as an int: any integer in `i64` range however it is spelled (see
/// [`float_int`] for numbers with a fraction or an exponent); `None` otherwise.
#[inline]
pub fn json_int(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        if n.is_u64() {
            None
        } else {
            n.as_f64().and_then(float_int)
        }
    })
}

/// The JSON kind of a value, with integer-valued numbers read as ints (see [`json_int`]).
pub fn json_kind(v: &serde_json::Value) -> JsonKind {
    use serde_json::Value as Json;
    match v {
        Json::String(_) => JsonKind::Str,
        Json::Number(n) if json_int(n).is_some() => JsonKind::Int,
        Json::Number(_) => JsonKind::Float,
        Json::Bool(_) => JsonKind::Bool,
        Json::Array(_) => JsonKind::List,
        Json::Object(_) => JsonKind::Object,
        Json::Null => JsonKind::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::float_int;

    /// The `core`-only integral test agrees with `f64::fract` on the edge values.
    #[test]
    fn issue12_float_int_matches_the_fract_rule() {
        let fract_rule =
            |f: f64| (f.fract() == 0.0 && f.abs() < super::EXACT_FLOAT_INT).then_some(f as i64);
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            1.5e1,
            9_007_199_254_740_991.0,
            -9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            -9_007_199_254_740_992.0,
            9_007_199_254_740_993.5,
            1e300,
            -1e300,
            f64::MIN_POSITIVE,
            f64::EPSILON,
            4_503_599_627_370_495.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        for f in edges {
            assert_eq!(float_int(f), fract_rule(f), "{f}");
        }
    }
}
