//! Workloads: each written once per engine (IPE, Cedar, Rego, hand-written Rust) with its requests and expected decisions.

use crate::{LIST_LEN, REGO_FILE_POLICIES, SEED_CEDAR_POSITIONS, SET_GROUP, SET_SIZES};
use serde_json::{json, Value as Json};

/// Which hand-written Rust decides a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The seed policy (`examples/seed/policy.ipe`).
    Seed,
    /// `n` generated policies, [`SET_GROUP`] of them apply to a request.
    Set(usize),
    /// One policy with sixteen clauses.
    Clauses16,
    /// `all` and `any` over [`LIST_LEN`] approvals.
    List50,
    /// A language v2 workload (issue #13), decided by [`NativeV2`](crate::NativeV2).
    V2(crate::V2),
    /// A language v2 part 2 family workload (issue #14), decided by
    /// [`NativeV3`](crate::NativeV3).
    V3(crate::V3),
    /// `src in` a constant of N networks (issue #14), decided by
    /// [`NativeCidr`](crate::NativeCidr) and every peer.
    Cidr(usize),
}

/// One request of a workload and the decision every engine must give.
#[derive(Clone, Debug)]
pub struct Case {
    /// `allow` or `deny`.
    pub name: &'static str,
    /// The request as IPE, Rego and serde see it.
    pub json: String,
    /// The same request as a Cedar context.
    pub cedar_json: String,
    /// The expected decision.
    pub allow: bool,
}

/// A workload written for every engine.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Row name in the benches (`seed`, `set/1000`, `clauses16`, `list50`).
    pub name: String,
    /// Which hand-written Rust decides it.
    pub kind: Kind,
    /// IPE source.
    pub ipe: String,
    /// Cedar policy set.
    pub cedar: String,
    /// Rego modules (package `ipe`, entry point `data.ipe.allow`; large sets are split in
    /// files of [`REGO_FILE_POLICIES`] policies, under regorus's 1 MiB file limit).
    pub rego: Vec<String>,
    /// Requests with their expected decisions.
    pub cases: Vec<Case>,
}

impl Workload {
    /// The case named `name`.
    pub fn case(&self, name: &str) -> &Case {
        self.cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{}: no case {name}", self.name))
    }
}

fn case(name: &'static str, json: Json, allow: bool, positions: usize) -> Case {
    Case {
        name,
        cedar_json: cedar_context(&json, positions).to_string(),
        json: json.to_string(),
        allow,
    }
}

/// Converts a request to a Cedar context: lists of records become records `{a0: .., ..}`
/// (padded to nothing: absent positions are tested with `has`), other values stay.
pub fn cedar_context(v: &Json, positions: usize) -> Json {
    match v {
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), cedar_context(v, positions)))
                .collect(),
        ),
        Json::Array(items) if items.iter().any(Json::is_object) => {
            assert!(
                items.len() <= positions,
                "a Cedar-encoded list holds at most {positions} records"
            );
            Json::Object(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("a{i}"), cedar_context(v, positions)))
                    .collect(),
            )
        }
        v => v.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Workloads.

/// The seed policy, verbatim from `examples/seed/policy.ipe`.
pub fn seed() -> Workload {
    let ipe = format!(
        "{}\n{}",
        include_str!("../../examples/seed/schema.ipe"),
        include_str!("../../examples/seed/policy.ipe")
    );
    let ok = |i: usize| {
        format!(
            "(context.approvals has a{i} && context.approvals.a{i}.role == \"senior-engineer\" \
             && context.approvals.a{i}.department != context.requester.department)"
        )
    };
    let mut pairs = Vec::new();
    for i in 0..SEED_CEDAR_POSITIONS {
        for j in i + 1..SEED_CEDAR_POSITIONS {
            pairs.push(format!("({} && {})", ok(i), ok(j)));
        }
    }
    let cedar = format!(
        "permit(principal, action, resource);\n\
         @id(\"RequireApproval\")\n\
         forbid(principal, action, resource)\n\
         when {{ context.resource.type == \"Deployment\" \
         && [\"production\", \"staging\"].contains(context.environment) \
         && [\"medium\", \"high\", \"critical\"].contains(context.resource.risk_level) }}\n\
         unless {{ {} }};\n",
        pairs.join("\n  || ")
    );
    let rego = r#"package ipe

default allow := false

allow if not deny

deny if {
	input.resource.type == "Deployment"
	input.environment in {"production", "staging"}
	input.resource.risk_level in {"medium", "high", "critical"}
	count([a |
		some a in input.approvals
		a.role == "senior-engineer"
		a.department != input.requester.department
	]) < 2
}
"#
    .to_string();
    let rego = vec![rego];
    let req = |approvals: Json| {
        json!({"resource": {"type": "Deployment", "risk_level": "high"},
               "environment": "production", "requester": {"department": "payments"},
               "approvals": approvals})
    };
    let cases = vec![
        case(
            "allow",
            req(
                json!([{"role": "senior-engineer", "department": "security"},
                       {"role": "senior-engineer", "department": "platform"}]),
            ),
            true,
            SEED_CEDAR_POSITIONS,
        ),
        case(
            "deny",
            req(
                json!([{"role": "senior-engineer", "department": "security"},
                       {"role": "senior-engineer", "department": "payments"},
                       {"role": "junior-engineer", "department": "platform"}]),
            ),
            false,
            SEED_CEDAR_POSITIONS,
        ),
    ];
    Workload {
        name: "seed".into(),
        kind: Kind::Seed,
        ipe,
        cedar,
        rego,
        cases,
    }
}

/// The group of the policy set whose policies apply to the requests (the middle one, so no
/// engine gets lucky by scanning from either end).
pub fn set_group(n: usize) -> usize {
    n.div_ceil(SET_GROUP) / 2
}

/// Limit on `resource.replicas` of generated policy `i`.
pub fn set_limit(i: usize) -> i64 {
    10 + (i % SET_GROUP) as i64
}

/// `n` generated guard-rail policies; policy `i` applies to resource type `T{i / 4}` in
/// production and requires `resource.replicas <= 10 + i % 4` and a department other than
/// `blocked-{i}`.
pub fn policy_set(n: usize) -> Workload {
    let mut ipe = String::from(
        "default allow\n\nschema {\n  resource.type: string\n  environment: string\n  \
         resource.replicas: int\n  requester.department: string\n}\n",
    );
    let mut cedar = String::from("permit(principal, action, resource);\n");
    let mut rego = vec![String::from(
        "package ipe\n\ndefault allow := false\n\nallow if not deny\n",
    )];
    for i in 0..n {
        let g = i / SET_GROUP;
        let limit = set_limit(i);
        ipe.push_str(&format!(
            "\npolicy P{i}:\n  \"Generated policy {i}\"\n  triggers when resource.type == \"T{g}\" \
             and environment == \"production\"\n  requires resource.replicas <= {limit} \
             and requester.department != \"blocked-{i}\"\n"
        ));
        cedar.push_str(&format!(
            "@id(\"P{i}\")\nforbid(principal, action, resource)\n  when {{ \
             context.resource.type == \"T{g}\" && context.environment == \"production\" }}\n  \
             unless {{ context.resource.replicas <= {limit} \
             && context.requester.department != \"blocked-{i}\" }};\n"
        ));
        if i > 0 && i % REGO_FILE_POLICIES == 0 {
            rego.push(String::from("package ipe\n"));
        }
        let file = rego.last_mut().expect("one file");
        file.push_str(&format!(
            "\ndeny if {{\n\tinput.resource.type == \"T{g}\"\n\tinput.environment == \"production\"\n\
             \tinput.resource.replicas > {limit}\n}}\n\
             \ndeny if {{\n\tinput.resource.type == \"T{g}\"\n\tinput.environment == \"production\"\n\
             \tinput.requester.department == \"blocked-{i}\"\n}}\n"
        ));
    }
    let g = set_group(n);
    let req = |replicas: i64| {
        json!({"resource": {"type": format!("T{g}"), "replicas": replicas},
               "environment": "production", "requester": {"department": "payments"}})
    };
    Workload {
        name: format!("set/{n}"),
        kind: Kind::Set(n),
        ipe,
        cedar,
        rego,
        cases: vec![
            case("allow", req(10), true, 0),
            case("deny", req(12), false, 0),
        ],
    }
}

/// The sixteen clauses, as (IPE, Cedar, Rego) text.
fn clauses16_text() -> [(&'static str, &'static str, &'static str); 16] {
    [
        (
            r#"environment in ["production", "staging"]"#,
            r#"["production", "staging"].contains(context.environment)"#,
            r#"input.environment in {"production", "staging"}"#,
        ),
        (
            "resource.replicas >= 2",
            "context.resource.replicas >= 2",
            "input.resource.replicas >= 2",
        ),
        (
            "resource.replicas <= 50",
            "context.resource.replicas <= 50",
            "input.resource.replicas <= 50",
        ),
        (
            r#"resource.risk_level <= "high""#,
            r#"["low", "medium", "high"].contains(context.resource.risk_level)"#,
            r#"input.resource.risk_level in {"low", "medium", "high"}"#,
        ),
        (
            "not resource.public",
            "!context.resource.public",
            "input.resource.public == false",
        ),
        (
            r#"resource.region in ["eu-west-1", "eu-central-1", "us-east-1"]"#,
            r#"["eu-west-1", "eu-central-1", "us-east-1"].contains(context.resource.region)"#,
            r#"input.resource.region in {"eu-west-1", "eu-central-1", "us-east-1"}"#,
        ),
        (
            r#"requester.department != "contractors""#,
            r#"context.requester.department != "contractors""#,
            r#"input.requester.department != "contractors""#,
        ),
        (
            r#"resource.image starts_with "registry.internal/""#,
            r#"context.resource.image like "registry.internal/*""#,
            r#"startswith(input.resource.image, "registry.internal/")"#,
        ),
        (
            r#"resource.team == "payments""#,
            r#"context.resource.team == "payments""#,
            r#"input.resource.team == "payments""#,
        ),
        (
            "resource.cpu <= 16",
            "context.resource.cpu <= 16",
            "input.resource.cpu <= 16",
        ),
        (
            "resource.memory_gb <= 64",
            "context.resource.memory_gb <= 64",
            "input.resource.memory_gb <= 64",
        ),
        (
            "requester.name in resource.owners",
            "context.resource.owners.contains(context.requester.name)",
            "input.requester.name in input.resource.owners",
        ),
        (
            r#"resource.namespace != "kube-system""#,
            r#"context.resource.namespace != "kube-system""#,
            r#"input.resource.namespace != "kube-system""#,
        ),
        (
            r#"resource.tier in ["web", "api", "worker"]"#,
            r#"["web", "api", "worker"].contains(context.resource.tier)"#,
            r#"input.resource.tier in {"web", "api", "worker"}"#,
        ),
        (
            "requester.mfa",
            "context.requester.mfa",
            "input.requester.mfa == true",
        ),
        (
            r#"resource.change_ticket starts_with "CHG-""#,
            r#"context.resource.change_ticket like "CHG-*""#,
            r#"startswith(input.resource.change_ticket, "CHG-")"#,
        ),
    ]
}

/// One default-deny policy with sixteen clauses; the denied request fails only the last.
pub fn clauses16() -> Workload {
    let cl = clauses16_text();
    let ipe = format!(
        r#"default deny

schema {{
  resource.type: string
  environment: string
  resource.replicas: int
  resource.risk_level: enum ["low", "medium", "high", "critical"]
  resource.public: bool
  resource.region: string
  requester.department: string
  resource.image: string
  resource.team: string
  resource.cpu: int
  resource.memory_gb: int
  resource.owners: list of string
  requester.name: string
  resource.namespace: string
  resource.tier: string
  requester.mfa: bool
  resource.change_ticket: string
}}

policy Sixteen:
  "Deployments meet sixteen production-readiness requirements"
  triggers when resource.type == "Deployment"
  requires {}
"#,
        cl.iter()
            .map(|c| c.0)
            .collect::<Vec<_>>()
            .join("\n    and ")
    );
    let cedar = format!(
        "@id(\"Sixteen\")\npermit(principal, action, resource)\n  when {{ \
         context.resource.type == \"Deployment\"\n    && {} }};\n",
        cl.iter().map(|c| c.1).collect::<Vec<_>>().join("\n    && ")
    );
    let rego = vec![format!(
        "package ipe\n\ndefault allow := false\n\nallow if {{\n\tinput.resource.type == \"Deployment\"\n\t{}\n}}\n",
        cl.iter().map(|c| c.2).collect::<Vec<_>>().join("\n\t")
    )];
    let req = |ticket: &str| {
        json!({"resource": {"type": "Deployment", "replicas": 3, "risk_level": "medium",
                            "public": false, "region": "eu-west-1",
                            "image": "registry.internal/payments/api:1.4.2", "team": "payments",
                            "cpu": 4, "memory_gb": 16, "owners": ["alice", "bob", "carol"],
                            "namespace": "payments", "tier": "api", "change_ticket": ticket},
               "environment": "production",
               "requester": {"department": "payments", "name": "carol", "mfa": true}})
    };
    Workload {
        name: "clauses16".into(),
        kind: Kind::Clauses16,
        ipe,
        cedar,
        rego,
        cases: vec![
            case("allow", req("CHG-4711"), true, 0),
            case("deny", req("INC-4711"), false, 0),
        ],
    }
}

/// A default-deny policy over [`LIST_LEN`] approvals: every approver from another department
/// than the requester's, and some approver a security lead (the last one, so both scan all).
pub fn list50() -> Workload {
    let ipe = r#"default deny

schema {
  resource.type: string
  requester.department: string
  approvals: list of approver max 64 {
    role: string
    department: string
  }
}

policy ListHeavy:
  "Every approver is independent of the requester and a security lead approved"
  triggers when resource.type == "Deployment"
  requires (approvals.all where approver.department != requester.department)
    and (approvals.any where approver.role == "security-lead")
"#
    .to_string();
    let all = (0..LIST_LEN)
        .map(|i| {
            format!(
                "(!(context.approvals has a{i}) || \
                 context.approvals.a{i}.department != context.requester.department)"
            )
        })
        .collect::<Vec<_>>()
        .join("\n    && ");
    let any = (0..LIST_LEN)
        .map(|i| {
            format!(
                "(context.approvals has a{i} && context.approvals.a{i}.role == \"security-lead\")"
            )
        })
        .collect::<Vec<_>>()
        .join("\n    || ");
    let cedar = format!(
        "@id(\"ListHeavy\")\npermit(principal, action, resource)\n  when {{ \
         context.resource.type == \"Deployment\"\n    && {all}\n    && ({any}) }};\n"
    );
    let rego = r#"package ipe

default allow := false

allow if {
	input.resource.type == "Deployment"
	every a in input.approvals {
		a.department != input.requester.department
	}
	some b in input.approvals
	b.role == "security-lead"
}
"#
    .to_string();
    let rego = vec![rego];
    let req = |last_dept: &str| {
        let mut approvals: Vec<Json> = (0..LIST_LEN - 1)
            .map(|i| json!({"role": "senior-engineer", "department": format!("team-{}", i % 7)}))
            .collect();
        approvals.push(json!({"role": "security-lead", "department": last_dept}));
        json!({"resource": {"type": "Deployment"}, "requester": {"department": "payments"},
               "approvals": approvals})
    };
    Workload {
        name: "list50".into(),
        kind: Kind::List50,
        ipe,
        cedar,
        rego,
        cases: vec![
            case("allow", req("security"), true, LIST_LEN),
            case("deny", req("payments"), false, LIST_LEN),
        ],
    }
}

/// Every workload, policy sets in increasing size.
pub fn all() -> Vec<Workload> {
    let mut w = vec![seed()];
    w.extend(SET_SIZES.iter().map(|&n| policy_set(n)));
    w.push(clauses16());
    w.push(list50());
    w
}

/// The workload named `name` (see [`Workload::name`]).
pub fn by_name(name: &str) -> Workload {
    match name {
        "seed" => seed(),
        "clauses16" => clauses16(),
        "list50" => list50(),
        s => match s.strip_prefix("set/").and_then(|n| n.parse().ok()) {
            Some(n) => policy_set(n),
            None => crate::v2_by_name(s)
                .or_else(|| crate::v3_by_name(s))
                .unwrap_or_else(|| panic!("no workload {name}")),
        },
    }
}
