//! Language v2 workloads (issue #13): one per feature family, each written the v2 way, with
//! its requests and a hand-written Rust function deciding the same.
//!
//! They are [`Workload`]s without Cedar or Rego encodings (the peers are compared on the v1
//! workloads of [`all`](crate::all)): only IPE's engines and [`NativeV2`] run them.
//! `tests/v2.rs` and the benches' setup check every engine against the expected decisions (and,
//! for [`reasons`], the rendered reason text) before any timing.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::{Case, Kind, Workload};
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// Which v2 workload (and which hand-written Rust decides it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V2 {
    /// Optional values and schema defaults, Pod Security style.
    Optional,
    /// A constant list and membership in a compile-time hierarchy of a few hundred entities.
    Hierarchy,
    /// Quantifiers over lists of scalars and a set operator.
    Scalars,
    /// A map read at a quoted key and iterated with `any(k, v in ...)`.
    Maps,
    /// A first-match group of [`ACL_RULES`] ordered rules, a late rule deciding.
    FirstMatch,
    /// A reason with values on a failing `all` (the deny path renders it).
    Reasons,
    /// Defs, a list union and a template instance (expanded at compile time).
    Defs,
    /// [`V2::Defs`] written out by hand (the expansion), to show both cost the same.
    DefsWritten,
    /// Set operators against literal lists (`contains_any`, `contains_all`), which expand to
    /// `in` tests: the part of [`V2::Scalars`] that compiles on this base.
    SetOps,
}

/// The v2 workload names, in table order.
pub const V2_NAMES: [&str; 9] = [
    "v2/optional",
    "v2/hierarchy",
    "v2/scalars",
    "v2/set_ops",
    "v2/maps",
    "v2/first_match",
    "v2/reasons",
    "v2/defs",
    "v2/defs_written",
];

/// Rules in the first-match group.
pub const ACL_RULES: usize = 20;
/// Users in the hierarchy (each in one team).
pub const HIERARCHY_USERS: usize = 300;
/// Teams in the hierarchy (each in one department).
pub const HIERARCHY_TEAMS: usize = 30;
/// Departments in the hierarchy (each under `staff`).
pub const HIERARCHY_DEPTS: [&str; 5] = ["engineering", "finance", "sales", "legal", "support"];

/// The reason the `v2/reasons` deny request must render.
pub const REASONS_DENY_TEXT: &str =
    "container sidecar-9 uses image docker.io/library/busybox:1.36 from outside gcr.io/acme/";

fn case(name: &'static str, json: Json, allow: bool) -> Case {
    Case {
        name,
        json: json.to_string(),
        cedar_json: String::new(),
        allow,
    }
}

fn workload(name: &str, v2: V2, ipe: String, cases: Vec<Case>) -> Workload {
    Workload {
        name: name.into(),
        kind: Kind::V2(v2),
        ipe,
        cedar: String::new(),
        rego: Vec::new(),
        cases,
    }
}

/// Every v2 workload, in [`V2_NAMES`] order.
pub fn v2_all() -> Vec<Workload> {
    V2_NAMES.iter().filter_map(|n| v2_by_name(n)).collect()
}

/// The v2 workload named `name`, if there is one.
pub fn v2_by_name(name: &str) -> Option<Workload> {
    Some(match name {
        "v2/optional" => optional(),
        "v2/hierarchy" => hierarchy(),
        "v2/scalars" => scalars(),
        "v2/set_ops" => set_ops(),
        "v2/maps" => maps(),
        "v2/first_match" => first_match(),
        "v2/reasons" => reasons(),
        "v2/defs" => defs(false),
        "v2/defs_written" => defs(true),
        _ => return None,
    })
}

/// Pod Security style: host namespaces and privileged / escalating containers, every field
/// optional (schema defaults and `??`, no `has` guards). Both requests leave most fields out;
/// the denied one has its last container privileged.
pub fn optional() -> Workload {
    let ipe = r#"default allow

schema {
  spec.hostPID: bool = false
  spec.hostIPC: bool = false
  spec.hostNetwork: bool = false
  spec.containers: list of container max 16 {
    name: string
    securityContext.privileged: bool
    securityContext.allowPrivilegeEscalation: bool
    securityContext.runAsUser: int
  } = []
}

policy HostNamespaces:
  "Pods must not share the host's namespaces"
  triggers when spec.hostPID or spec.hostIPC or spec.hostNetwork
  denies with reason "host namespaces are not allowed"

policy Privileged:
  "No privileged or escalating containers"
  requires all(c in spec.containers where c.securityContext.privileged ?? false == false)
    and all(c in spec.containers where c.securityContext.allowPrivilegeEscalation ?? false == false)

policy NotRoot:
  "Containers do not run as root"
  requires all(c in spec.containers where c.securityContext.runAsUser ?? 1000 != 0)
"#
    .to_string();
    let req = |last_privileged: bool| {
        json!({"spec": {"hostNetwork": false, "containers": [
            {"name": "app"},
            {"name": "proxy", "securityContext": {"runAsUser": 1337}},
            {"name": "metrics", "securityContext": {"allowPrivilegeEscalation": false}},
            {"name": "debug", "securityContext": {"privileged": last_privileged}}
        ]}})
    };
    workload(
        "v2/optional",
        V2::Optional,
        ipe,
        vec![
            case("allow", req(false), true),
            case("deny", req(true), false),
        ],
    )
}

/// `(user, team)` pairs and `(team, department)` pairs of the hierarchy.
fn hierarchy_edges() -> Vec<(String, String)> {
    let mut edges = Vec::new();
    for u in 0..HIERARCHY_USERS {
        edges.push((format!("user-{u}"), format!("team-{}", u % HIERARCHY_TEAMS)));
    }
    for t in 0..HIERARCHY_TEAMS {
        let dept = HIERARCHY_DEPTS[t % HIERARCHY_DEPTS.len()];
        edges.push((format!("team-{t}"), dept.to_string()));
    }
    for d in HIERARCHY_DEPTS {
        edges.push((d.to_string(), "staff".to_string()));
    }
    edges
}

/// A constant list of actions and `principal.id in org "finance"` over a hierarchy of
/// [`HIERARCHY_USERS`] users, [`HIERARCHY_TEAMS`] teams and five departments (336 entities).
pub fn hierarchy() -> Workload {
    let mut parents: Vec<(String, Vec<String>)> = Vec::new();
    for (child, parent) in hierarchy_edges() {
        parents.push((child, vec![parent]));
    }
    let map = parents
        .iter()
        .map(|(c, ps)| {
            let ps = ps.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>();
            format!("\"{c}\": [{}]", ps.join(", "))
        })
        .collect::<Vec<_>>()
        .join(",\n  ");
    let ipe = format!(
        r#"default deny

schema {{
  principal.id: string
  action: string
  resource.kind: string
}}

const payroll_actions = ["read", "export", "approve"]

hierarchy org = {{
  {map}
}}

policy Payroll:
  "payroll is read, exported and approved by the finance department"
  triggers when resource.kind == "payroll"
  requires action in payroll_actions and principal.id in org "finance"
"#
    );
    // user-1 is in team-1, team-1 in finance; user-0 in team-0, team-0 in engineering.
    let req = |user: &str| json!({"principal": {"id": user}, "action": "export", "resource": {"kind": "payroll"}});
    workload(
        "v2/hierarchy",
        V2::Hierarchy,
        ipe,
        vec![
            case("allow", req("user-271"), true),
            case("deny", req("user-270"), false),
        ],
    )
}

/// Tags and ports quantified over (lists of scalars) and `contains_all` on the scopes.
pub fn scalars() -> Workload {
    let ipe = r#"default deny

schema {
  resource.tags: list of string max 32
  resource.ports: list of int max 32
  request.scopes: list of string max 16
}

policy Exposure:
  "only known tags, unprivileged or TLS ports, and both read and write scopes"
  requires all(t in resource.tags where t in ["env:prod", "env:staging", "team:payments", "team:search", "tier:web", "tier:api", "pci", "gdpr"])
    and all(p in resource.ports where p >= 1024 or p == 443)
    and request.scopes contains_all ["read", "write"]
"#
    .to_string();
    let req = |last_tag: &str| {
        json!({"resource": {"tags": ["env:prod", "team:payments", "tier:api", "pci", "gdpr",
                                     "team:search", "env:staging", last_tag],
                            "ports": [443, 8080, 8443, 9090, 10250, 30000]},
               "request": {"scopes": ["openid", "profile", "read", "write"]}})
    };
    workload(
        "v2/scalars",
        V2::Scalars,
        ipe,
        vec![
            case("allow", req("tier:web"), true),
            case("deny", req("debug"), false),
        ],
    )
}

/// Set operators against literal lists over 8 tags and 4 scopes; the denied request's last
/// tag is `debug`.
pub fn set_ops() -> Workload {
    let ipe = r#"default deny

schema {
  resource.tags: list of string max 32
  request.scopes: list of string max 16
}

policy Exposure:
  "compliance-tagged, never debug or test, with both read and write scopes"
  requires resource.tags contains_any ["pci", "gdpr", "sox"]
    and not (resource.tags intersects ["debug", "test"])
    and request.scopes contains_all ["read", "write"]
"#
    .to_string();
    let req = |last_tag: &str| {
        json!({"resource": {"tags": ["env:prod", "team:payments", "tier:api", "pci", "gdpr",
                                     "team:search", "env:staging", last_tag]},
               "request": {"scopes": ["openid", "profile", "read", "write"]}})
    };
    workload(
        "v2/set_ops",
        V2::SetOps,
        ipe,
        vec![
            case("allow", req("tier:web"), true),
            case("deny", req("debug"), false),
        ],
    )
}

/// Kubernetes labels: the value at `app.kubernetes.io/name` names the workload, and no label
/// is a debug label or marked unsafe (`all(k, v in labels ...)` over 12 entries).
pub fn maps() -> Workload {
    let ipe = r#"default deny

schema {
  metadata.name: string
  metadata.labels: map of string max 64
}

policy Labels:
  "workloads name their app and carry no debug or unsafe label"
  requires metadata.labels["app.kubernetes.io/name"] == metadata.name
    and not any(k, v in metadata.labels where k starts_with "debug." or v == "unsafe")
"#
    .to_string();
    let req = |last_value: &str| {
        json!({"metadata": {"name": "checkout", "labels": {
            "app.kubernetes.io/name": "checkout",
            "app.kubernetes.io/instance": "checkout-prod",
            "app.kubernetes.io/version": "1.4.2",
            "app.kubernetes.io/component": "api",
            "app.kubernetes.io/part-of": "shop",
            "app.kubernetes.io/managed-by": "helm",
            "team": "payments",
            "cost-center": "cc-4711",
            "env": "production",
            "tier": "api",
            "region": "eu-west-1",
            "sandbox": last_value
        }}})
    };
    workload(
        "v2/maps",
        V2::Maps,
        ipe,
        vec![
            case("allow", req("no"), true),
            case("deny", req("unsafe"), false),
        ],
    )
}

/// Rule `i` of the ACL: (proto, port, source prefix, permits). The last two rules decide ssh:
/// from the admin net permitted, from elsewhere dropped.
pub fn acl_rule(i: usize) -> (&'static str, i64, &'static str, bool) {
    match i {
        _ if i == ACL_RULES - 2 => ("tcp", 22, "10.0.", true),
        _ if i == ACL_RULES - 1 => ("tcp", 22, "", false),
        _ => (
            if i % 3 == 2 { "udp" } else { "tcp" },
            1000 + i as i64,
            if i.is_multiple_of(2) { "" } else { "192.168." },
            i % 4 != 3,
        ),
    }
}

/// One first-match group of [`ACL_RULES`] rules over (proto, port, source); the requests are
/// ssh connections that only the last two rules match.
pub fn first_match() -> Workload {
    let mut ipe = String::from(
        "default deny\n\nschema {\n  proto: string\n  port: int\n  src: string\n}\n\n\
         group Input first-match: \"Inbound traffic\" {\n",
    );
    for i in 0..ACL_RULES {
        let (proto, port, prefix, permits) = acl_rule(i);
        let src = if prefix.is_empty() {
            String::new()
        } else {
            format!(" and src starts_with \"{prefix}\"")
        };
        let body = if permits { "permits" } else { "denies" };
        let _ = write!(
            ipe,
            "  policy Rule{i}:\n    \"rule {i}\"\n    triggers when proto == \"{proto}\" and port == {port}{src}\n    {body}\n\n"
        );
    }
    ipe.push_str("}\n");
    let req = |src: &str| json!({"proto": "tcp", "port": 22, "src": src});
    workload(
        "v2/first_match",
        V2::FirstMatch,
        ipe,
        vec![
            case("allow", req("10.0.3.7"), true),
            case("deny", req("203.0.113.9"), false),
        ],
    )
}

/// A registry rule over ten containers whose reason names the witness (the first container
/// from outside the registry): the deny request's tenth container.
pub fn reasons() -> Workload {
    let ipe = r#"default allow

schema {
  spec.containers: list of container max 32 {
    name: string
    image: string
  }
}

policy Registry:
  "images come from gcr.io/acme/"
  requires all(c in spec.containers where c.image starts_with "gcr.io/acme/")
  with reason "container {c.name} uses image {c.image} from outside gcr.io/acme/"
"#
    .to_string();
    let req = |last_image: &str| {
        let mut cs: Vec<Json> = (0..9)
            .map(|i| json!({"name": format!("app-{i}"), "image": format!("gcr.io/acme/app-{i}:1.{i}")}))
            .collect();
        cs.push(json!({"name": "sidecar-9", "image": last_image}));
        json!({"spec": {"containers": cs}})
    };
    workload(
        "v2/reasons",
        V2::Reasons,
        ipe,
        vec![
            case("allow", req("gcr.io/acme/sidecar:2.0"), true),
            case("deny", req("docker.io/library/busybox:1.36"), false),
        ],
    )
}

/// Defs (`privileged(c)`, `trusted(c)`), a list union and a template instance; `written`:
/// the same policies with every use expanded by hand.
pub fn defs(written: bool) -> Workload {
    let schema = r#"default allow

schema {
  spec.replicas: int
  spec.containers: list of container max 16 {
    name: string
    image: string
    securityContext.privileged: bool
  }
  spec.initContainers: list of init max 16 {
    name: string
    image: string
    securityContext.privileged: bool
  } = []
}
"#;
    let body = if written {
        r#"
policy ProdReplicas:
  "at most 50 replicas"
  requires spec.replicas <= 50

policy NoPrivileged:
  "no privileged containers"
  requires not (any(c in spec.containers where (c.securityContext.privileged ?? false))
    or any(c in spec.initContainers where (c.securityContext.privileged ?? false)))

policy Trusted:
  "images come from gcr.io/acme/"
  requires (all(c in spec.containers where (c.image starts_with "gcr.io/acme/"))
    and all(c in spec.initContainers where (c.image starts_with "gcr.io/acme/")))
"#
    } else {
        r#"
def privileged(c) = c.securityContext.privileged ?? false
def trusted(c) = c.image starts_with "gcr.io/acme/"
def containers = spec.containers, spec.initContainers

policy template MaxReplicas(limit: int):
  "at most {limit} replicas"
  requires spec.replicas <= limit

instance ProdReplicas = MaxReplicas(limit: 50)

policy NoPrivileged:
  "no privileged containers"
  requires not any(c in containers where privileged(c))

policy Trusted:
  "images come from gcr.io/acme/"
  requires all(c in containers where trusted(c))
"#
    };
    let req = |last_privileged: bool| {
        json!({"spec": {"replicas": 12,
        "initContainers": [{"name": "migrate", "image": "gcr.io/acme/migrate:3"}],
        "containers": [
            {"name": "app", "image": "gcr.io/acme/app:1.4"},
            {"name": "proxy", "image": "gcr.io/acme/envoy:1.30",
             "securityContext": {"privileged": false}},
            {"name": "metrics", "image": "gcr.io/acme/exporter:0.9"},
            {"name": "debug", "image": "gcr.io/acme/debug:1",
             "securityContext": {"privileged": last_privileged}}
        ]}})
    };
    let (name, v2) = if written {
        ("v2/defs_written", V2::DefsWritten)
    } else {
        ("v2/defs", V2::Defs)
    };
    workload(
        name,
        v2,
        format!("{schema}{body}"),
        vec![
            case("allow", req(false), true),
            case("deny", req(true), false),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Hand-written Rust.

/// A security context (every field optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct SecurityContext {
    pub privileged: Option<bool>,
    pub allow_privilege_escalation: Option<bool>,
    pub run_as_user: Option<i64>,
}

/// A container.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct Container {
    pub name: String,
    pub image: String,
    pub security_context: SecurityContext,
}

/// A pod spec.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct PodSpec {
    pub host_pid: Option<bool>,
    #[serde(rename = "hostIPC")]
    pub host_ipc: Option<bool>,
    pub host_network: Option<bool>,
    pub replicas: i64,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
}

/// A request as the v2 hand-written Rust reads it (every workload's fields; absent ones
/// default).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct V2Request {
    pub spec: PodSpec,
    pub principal: Principal,
    pub action: String,
    pub resource: V2Resource,
    pub request: Scopes,
    pub metadata: Metadata,
    pub proto: String,
    pub port: i64,
    pub src: String,
}

/// `principal.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct Principal {
    pub id: String,
}

/// `resource.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct V2Resource {
    pub kind: String,
    pub tags: Vec<String>,
    pub ports: Vec<i64>,
}

/// `request.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct Scopes {
    pub scopes: Vec<String>,
}

/// `metadata.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct Metadata {
    pub name: String,
    pub labels: HashMap<String, String>,
}

/// Hand-written Rust for a v2 workload: the floor.
pub struct NativeV2 {
    v2: V2,
    /// `v2/hierarchy`: every entity under `finance`, closed transitively at set-up (as the
    /// compiler does).
    finance: HashSet<String>,
}

impl NativeV2 {
    /// Builds the hand-written decider of a v2 workload.
    pub fn new(w: &Workload) -> Self {
        let Kind::V2(v2) = w.kind else {
            panic!("{} is not a v2 workload", w.name)
        };
        let mut finance = HashSet::new();
        if v2 == V2::Hierarchy {
            let edges = hierarchy_edges();
            finance.insert("finance".to_string());
            // Fixpoint: a child of a member is a member.
            loop {
                let before = finance.len();
                for (c, p) in &edges {
                    if finance.contains(p) {
                        finance.insert(c.clone());
                    }
                }
                if finance.len() == before {
                    break;
                }
            }
        }
        NativeV2 { v2, finance }
    }

    /// Parses a request with serde.
    pub fn parse(json: &str) -> V2Request {
        serde_json::from_str(json).expect("request parses")
    }

    /// Decides a parsed request.
    #[inline]
    pub fn decide(&self, r: &V2Request) -> bool {
        match self.v2 {
            V2::Optional => {
                let s = &r.spec;
                let host = s.host_pid.unwrap_or(false)
                    || s.host_ipc.unwrap_or(false)
                    || s.host_network.unwrap_or(false);
                let c = &s.containers;
                !host
                    && c.iter()
                        .all(|c| !c.security_context.privileged.unwrap_or(false))
                    && c.iter().all(|c| {
                        !c.security_context
                            .allow_privilege_escalation
                            .unwrap_or(false)
                    })
                    && c.iter()
                        .all(|c| c.security_context.run_as_user.unwrap_or(1000) != 0)
            }
            V2::Hierarchy => {
                r.resource.kind != "payroll"
                    || (matches!(r.action.as_str(), "read" | "export" | "approve")
                        && self.finance.contains(&r.principal.id))
            }
            V2::Scalars => {
                r.resource.tags.iter().all(|t| {
                    matches!(
                        t.as_str(),
                        "env:prod"
                            | "env:staging"
                            | "team:payments"
                            | "team:search"
                            | "tier:web"
                            | "tier:api"
                            | "pci"
                            | "gdpr"
                    )
                }) && r.resource.ports.iter().all(|&p| p >= 1024 || p == 443)
                    && ["read", "write"]
                        .iter()
                        .all(|s| r.request.scopes.iter().any(|x| x == s))
            }
            V2::SetOps => {
                let tags = &r.resource.tags;
                let has = |v: &str| tags.iter().any(|t| t == v);
                (has("pci") || has("gdpr") || has("sox"))
                    && !(has("debug") || has("test"))
                    && ["read", "write"]
                        .iter()
                        .all(|s| r.request.scopes.iter().any(|x| x == s))
            }
            V2::Maps => {
                let l = &r.metadata.labels;
                l.get("app.kubernetes.io/name") == Some(&r.metadata.name)
                    && !l
                        .iter()
                        .any(|(k, v)| k.starts_with("debug.") || v == "unsafe")
            }
            V2::FirstMatch => {
                for i in 0..ACL_RULES {
                    let (proto, port, prefix, permits) = acl_rule(i);
                    if r.proto == proto && r.port == port && r.src.starts_with(prefix) {
                        return permits;
                    }
                }
                false
            }
            V2::Reasons => r
                .spec
                .containers
                .iter()
                .all(|c| c.image.starts_with("gcr.io/acme/")),
            V2::Defs | V2::DefsWritten => {
                let s = &r.spec;
                let all = || s.containers.iter().chain(&s.init_containers);
                s.replicas <= 50
                    && !all().any(|c| c.security_context.privileged.unwrap_or(false))
                    && all().all(|c| c.image.starts_with("gcr.io/acme/"))
            }
        }
    }

    /// `v2/reasons`: decides and, on deny, renders the reason into `out` (cleared first).
    #[inline]
    pub fn decide_render(&self, r: &V2Request, out: &mut String) -> bool {
        out.clear();
        match r
            .spec
            .containers
            .iter()
            .find(|c| !c.image.starts_with("gcr.io/acme/"))
        {
            None => true,
            Some(c) => {
                let _ = write!(
                    out,
                    "container {} uses image {} from outside gcr.io/acme/",
                    c.name, c.image
                );
                false
            }
        }
    }

    /// End to end: serde parse, then decide.
    pub fn decide_json(&self, json: &str) -> bool {
        self.decide(&Self::parse(json))
    }
}
