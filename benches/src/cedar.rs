//! Cedar's authorizer over a workload's policy set.

use crate::Workload;
use std::str::FromStr;

/// Cedar's authorizer over a workload's policy set, with no entities.
pub struct CedarEngine {
    /// The parsed policies.
    pub policies: cedar_policy::PolicySet,
    entities: cedar_policy::Entities,
    authorizer: cedar_policy::Authorizer,
    principal: cedar_policy::EntityUid,
    action: cedar_policy::EntityUid,
    resource: cedar_policy::EntityUid,
}

impl CedarEngine {
    /// Parses a workload's Cedar policies.
    pub fn new(w: &Workload) -> Self {
        let uid = |s: &str| cedar_policy::EntityUid::from_str(s).expect("uid");
        CedarEngine {
            policies: cedar_policy::PolicySet::from_str(&w.cedar)
                .unwrap_or_else(|e| panic!("{}: Cedar parses: {e:?}", w.name)),
            entities: cedar_policy::Entities::empty(),
            authorizer: cedar_policy::Authorizer::new(),
            principal: uid(r#"User::"requester""#),
            action: uid(r#"Action::"deploy""#),
            resource: uid(r#"Resource::"r""#),
        }
    }

    /// A prebuilt request from a Cedar context JSON.
    pub fn request(&self, cedar_json: &str) -> cedar_policy::Request {
        let ctx = cedar_policy::Context::from_json_str(cedar_json, None).expect("context");
        cedar_policy::Request::new(
            self.principal.clone(),
            self.action.clone(),
            self.resource.clone(),
            ctx,
            None,
        )
        .expect("request")
    }

    /// Authorizes a prebuilt request.
    #[inline]
    pub fn decide(&self, r: &cedar_policy::Request) -> bool {
        let resp = self
            .authorizer
            .is_authorized(r, &self.policies, &self.entities);
        resp.decision() == cedar_policy::Decision::Allow
    }

    /// The errors Cedar hit (the agreement test requires none).
    pub fn errors(&self, r: &cedar_policy::Request) -> Vec<String> {
        let resp = self
            .authorizer
            .is_authorized(r, &self.policies, &self.entities);
        resp.diagnostics().errors().map(|e| e.to_string()).collect()
    }

    /// End to end: context from JSON, request, authorize.
    pub fn decide_json(&self, cedar_json: &str) -> bool {
        self.decide(&self.request(cedar_json))
    }
}
