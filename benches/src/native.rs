//! Hand-written Rust: the floor every engine is measured against.

use std::collections::HashMap;

use crate::{set_limit, Kind, Workload, SET_GROUP};
use serde::Deserialize;

/// A request as hand-written Rust reads it (every workload's fields; absent ones default).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Request {
    /// `resource.*`.
    pub resource: Resource,
    /// `environment`.
    pub environment: String,
    /// `requester.*`.
    pub requester: Requester,
    /// `approvals`.
    pub approvals: Vec<Approval>,
}

/// `resource.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct Resource {
    #[serde(rename = "type")]
    pub kind: String,
    pub risk_level: String,
    pub replicas: i64,
    pub public: bool,
    pub region: String,
    pub image: String,
    pub team: String,
    pub cpu: i64,
    pub memory_gb: i64,
    pub owners: Vec<String>,
    pub namespace: String,
    pub tier: String,
    pub change_ticket: String,
}

/// `requester.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct Requester {
    pub department: String,
    pub name: String,
    pub mfa: bool,
}

/// One element of `approvals`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct Approval {
    pub role: String,
    pub department: String,
}

/// Hand-written Rust for a workload: the floor.
pub struct Native {
    kind: Kind,
    /// Policy sets: resource type → (replica limit, blocked department) per policy.
    rules: HashMap<String, Vec<(i64, String)>>,
}

impl Native {
    /// Builds the hand-written decider (for policy sets, the index of generated rules).
    pub fn new(w: &Workload) -> Self {
        assert!(
            !matches!(w.kind, Kind::V2(_) | Kind::V3(_) | Kind::Cidr(_)),
            "{}: v2 and v3 workloads are decided by NativeV2, NativeV3 and NativeCidr",
            w.name
        );
        let mut rules: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        if let Kind::Set(n) = w.kind {
            for i in 0..n {
                rules
                    .entry(format!("T{}", i / SET_GROUP))
                    .or_default()
                    .push((set_limit(i), format!("blocked-{i}")));
            }
        }
        Native {
            kind: w.kind,
            rules,
        }
    }

    /// Parses a request with serde.
    pub fn parse(json: &str) -> Request {
        serde_json::from_str(json).expect("request parses")
    }

    /// Decides a parsed request.
    #[inline]
    pub fn decide(&self, r: &Request) -> bool {
        match self.kind {
            Kind::Seed => {
                let applies = r.resource.kind == "Deployment"
                    && matches!(r.environment.as_str(), "production" | "staging")
                    && matches!(
                        r.resource.risk_level.as_str(),
                        "medium" | "high" | "critical"
                    );
                !applies
                    || r.approvals
                        .iter()
                        .filter(|a| {
                            a.role == "senior-engineer" && a.department != r.requester.department
                        })
                        .count()
                        >= 2
            }
            Kind::Set(_) => match self.rules.get(&r.resource.kind) {
                Some(rules) if r.environment == "production" => rules.iter().all(|(limit, b)| {
                    r.resource.replicas <= *limit && r.requester.department != *b
                }),
                _ => true,
            },
            Kind::Clauses16 => {
                let s = &r.resource;
                s.kind == "Deployment"
                    && matches!(r.environment.as_str(), "production" | "staging")
                    && s.replicas >= 2
                    && s.replicas <= 50
                    && matches!(s.risk_level.as_str(), "low" | "medium" | "high")
                    && !s.public
                    && matches!(
                        s.region.as_str(),
                        "eu-west-1" | "eu-central-1" | "us-east-1"
                    )
                    && r.requester.department != "contractors"
                    && s.image.starts_with("registry.internal/")
                    && s.team == "payments"
                    && s.cpu <= 16
                    && s.memory_gb <= 64
                    && s.owners.contains(&r.requester.name)
                    && s.namespace != "kube-system"
                    && matches!(s.tier.as_str(), "web" | "api" | "worker")
                    && r.requester.mfa
                    && s.change_ticket.starts_with("CHG-")
            }
            Kind::List50 => {
                r.resource.kind == "Deployment"
                    && r.approvals
                        .iter()
                        .all(|a| a.department != r.requester.department)
                    && r.approvals.iter().any(|a| a.role == "security-lead")
            }
            Kind::V2(_) | Kind::V3(_) | Kind::Cidr(_) => {
                unreachable!("Native::new refuses v2 and v3 workloads")
            }
        }
    }

    /// End to end: serde parse, then decide.
    pub fn decide_json(&self, json: &str) -> bool {
        self.decide(&Self::parse(json))
    }
}
