//! The decision for one request, shared by every backend, and its JSON form.

use ipe_nostd::Effect;
use serde::{Serialize, Serializer};

/// The outcome of evaluating a bundle against one request.
///
/// Serializes as
/// `{"decision":"allow"|"deny","matched":[..],"violations":[{"policy","intent","reason"}],"errors":[{"policy","error"}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Allow or deny.
    #[serde(rename = "decision", serialize_with = "effect_str")]
    pub effect: Effect,
    /// Names of the policies that applied, in policy order.
    pub matched: Vec<String>,
    /// Violated policies, in policy order.
    pub violations: Vec<Violation>,
    /// Policies in error, in policy order.
    pub errors: Vec<PolicyError>,
}

/// A violated policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Policy name.
    pub policy: String,
    /// Its intent.
    pub intent: String,
    /// Why it is violated.
    pub reason: String,
}

/// A policy whose outcome is an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyError {
    /// Policy name.
    pub policy: String,
    /// The attribute error text.
    pub error: String,
}

fn effect_str<S: Serializer>(e: &Effect, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.as_str())
}

impl Decision {
    /// The decision as one line of JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and vectors to a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
