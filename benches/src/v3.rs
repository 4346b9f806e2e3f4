//! Language v2 part 2 workloads (issue #14): one per feature family (IP/CIDR, integer ranges,
//! `like`, `matches`, `lower`/`len`, arithmetic and quantities, time), each with a
//! hand-written Rust function deciding the same ([`NativeV3`]), and the CIDR allow-list at
//! scale (`cidr/N`: `src in` a constant of N mixed IPv4/IPv6 networks), which every engine runs
//! (IPE, hand-written Rust with `ipnet` and a binary search over merged ranges ([`NativeCidr`]),
//! Cedar's `ip` extension and regorus's `net.cidr_contains`).
//!
//! `tests/v3.rs` and the benches' set-up check every engine against the expected decisions
//! before any timing.

use std::net::IpAddr;
use std::str::FromStr;

use crate::{Case, Kind, Workload};
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// Which v3 family workload (and which hand-written Rust decides it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V3 {
    /// `ip` attributes tested against small CIDR lists.
    Ip,
    /// Integer ranges, alone and inside a list.
    Ranges,
    /// `like` glob patterns.
    Like,
    /// `matches`: regular expressions compiled to a DFA.
    Matches,
    /// `lower(x)` tests and `len(x)`.
    Strings,
    /// Checked integer arithmetic, a bit test and Kubernetes quantities.
    Arith,
    /// Timestamps, durations, `now`, `+`/`-` and `hour`/`weekday`.
    Time,
}

/// The v3 family workload names, in table order.
pub const V3_NAMES: [&str; 7] = [
    "v3/ip",
    "v3/ranges",
    "v3/like",
    "v3/matches",
    "v3/strings",
    "v3/arith",
    "v3/time",
];

/// Sizes of the CIDR allow-list (`cidr/N`).
pub const CIDR_SIZES: [usize; 3] = [100, 1_000, 10_000];

/// The regex of `v3/matches` (Gatekeeper's required-label example of issue #14).
pub const MATCHES_REGEX: &str = r"^[a-zA-Z]+\.agilebank\.demo$";

fn case(name: &'static str, json: Json, allow: bool) -> Case {
    Case {
        name,
        cedar_json: json.to_string(),
        json: json.to_string(),
        allow,
    }
}

fn workload(name: &str, v3: V3, ipe: &str, cases: Vec<Case>) -> Workload {
    Workload {
        name: name.into(),
        kind: Kind::V3(v3),
        ipe: ipe.to_string(),
        cedar: String::new(),
        rego: Vec::new(),
        cases,
    }
}

/// Every v3 family workload, in [`V3_NAMES`] order.
pub fn v3_all() -> Vec<Workload> {
    V3_NAMES.iter().filter_map(|n| v3_by_name(n)).collect()
}

/// The v3 workload named `name` (a family of [`V3_NAMES`] or `cidr/N`), if there is one.
pub fn v3_by_name(name: &str) -> Option<Workload> {
    if let Some(n) = name.strip_prefix("cidr/").and_then(|n| n.parse().ok()) {
        return Some(cidr(n));
    }
    Some(match name {
        "v3/ip" => ip(),
        "v3/ranges" => ranges(),
        "v3/like" => like(),
        "v3/matches" => matches(),
        "v3/strings" => strings(),
        "v3/arith" => arith(),
        "v3/time" => time_window(),
        _ => return None,
    })
}

/// Office and VPN sources (IPv4 and IPv6) towards the service network.
pub fn ip() -> Workload {
    let ipe = r#"default deny

schema {
  src: ip
  dst: ip
}

policy Inbound:
  "the service network takes traffic from the office and VPN networks only"
  triggers when dst in ["10.20.0.0/16", "2001:db8:20::/48"]
  requires src in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8", "2001:db8:100::/40"]
"#;
    let req = |src: &str| json!({"src": src, "dst": "2001:db8:20::15"});
    workload(
        "v3/ip",
        V3::Ip,
        ipe,
        vec![
            case("allow", req("2001:db8:1ff:7::2"), true),
            case("deny", req("2001:db8:200::9"), false),
        ],
    )
}

/// Ports: a list with single ports and ranges, and a source port range.
pub fn ranges() -> Workload {
    let ipe = r#"default deny

schema {
  proto: string
  port: int
  sport: int
}

policy Services:
  "tcp to ssh, mail, web or the application ranges, from an unprivileged port"
  triggers when proto == "tcp"
  requires port in [22, 25, 80, 443, 8000..8100, 9000..9099] and sport in 1024..65535
"#;
    let req = |port: i64| json!({"proto": "tcp", "port": port, "sport": 51234});
    workload(
        "v3/ranges",
        V3::Ranges,
        ipe,
        vec![
            case("allow", req(9042), true),
            case("deny", req(9100), false),
        ],
    )
}

/// Cedar-style globs with `*` at the start and in the middle.
pub fn like() -> Workload {
    let ipe = r#"default deny

schema {
  request.host: string
  principal.arn: string
}

policy Hosts:
  "IAM users of any account, on example.com hosts"
  requires principal.arn like "arn:aws:iam::*:user/*" and request.host like "*.example.com"
"#;
    let req = |host: &str| {
        json!({"request": {"host": host},
               "principal": {"arn": "arn:aws:iam::123456789012:user/division/alice"}})
    };
    workload(
        "v3/like",
        V3::Like,
        ipe,
        vec![
            case("allow", req("api.eu-west-1.example.com"), true),
            case("deny", req("api.eu-west-1.example.co"), false),
        ],
    )
}

/// A label value matched by [`MATCHES_REGEX`].
pub fn matches() -> Workload {
    let ipe = format!(
        r#"default deny

schema {{
  metadata.name: string
}}

policy Name:
  "names are <app>.agilebank.demo"
  requires metadata.name matches "{MATCHES_REGEX}"
"#
    );
    let req = |name: &str| json!({"metadata": {"name": name}});
    workload(
        "v3/matches",
        V3::Matches,
        &ipe,
        vec![
            case("allow", req("payments.agilebank.demo"), true),
            case(
                "deny",
                req("payments.agilebank.demo.attacker.example"),
                false,
            ),
        ],
    )
}

/// Case-insensitive host and method tests and a length bound on a name.
pub fn strings() -> Workload {
    let ipe = r#"default deny

schema {
  request.host: string
  request.method: string
  user.name: string
}

policy Api:
  "reads and writes on example.com hosts by users with a 3 to 32 character name"
  requires lower(request.host) ends_with ".example.com"
    and lower(request.method) in ["get", "post"]
    and len(user.name) >= 3 and len(user.name) <= 32
"#;
    let req = |name: &str| {
        json!({"request": {"host": "API.Shop.Example.COM", "method": "Post"},
               "user": {"name": name}})
    };
    workload(
        "v3/strings",
        V3::Strings,
        ipe,
        vec![
            case("allow", req("Zoë Müller-Lüdenscheidt"), true),
            case(
                "deny",
                req("Zoë Müller-Lüdenscheidt von und zu Oberhausen"),
                false,
            ),
        ],
    )
}

/// A replica budget, per-container CPU and memory limits as Kubernetes quantities, and a TCP
/// flag bit test.
pub fn arith() -> Workload {
    let ipe = r#"default deny

schema {
  spec.replicas: int
  quota.used: int
  quota.limit: int
  tcp.flags: int
  spec.containers: list of container max 16 {
    name: string
    cpu: quantity
    memory: quantity
  }
}

policy Budget:
  "replicas within the quota, containers within 2 CPUs and 4Gi, SYN without ACK"
  requires spec.replicas * 2 + quota.used <= quota.limit
    and all(c in spec.containers where c.cpu <= quantity("2") and c.memory <= quantity("4Gi"))
    and tcp.flags & 0x12 == 0x02
"#;
    let req = |last_memory: &str| {
        json!({"spec": {"replicas": 6, "containers": [
                  {"name": "app", "cpu": "500m", "memory": "1Gi"},
                  {"name": "proxy", "cpu": "250m", "memory": "256Mi"},
                  {"name": "worker", "cpu": 2, "memory": last_memory}]},
               "quota": {"used": 20, "limit": 40},
               "tcp": {"flags": 2}})
    };
    workload(
        "v3/arith",
        V3::Arith,
        ipe,
        vec![
            case("allow", req("4Gi"), true),
            case("deny", req("4097Mi"), false),
        ],
    )
}

/// A token expiry, freshness and business hours window, with the request time in the request.
pub fn time_window() -> Workload {
    let ipe = r#"default deny

schema {
  token.exp: timestamp
  token.iat: timestamp
}

policy Token:
  "an unexpired token issued in the last 12 hours, used Monday to Friday 08:00-17:59 (UTC+1)"
  requires token.exp > now
    and token.iat + 12h >= now
    and hour(now, "+01:00") in 8..17
    and weekday(now, "+01:00") in 1..5
"#;
    let req = |now: &str| {
        json!({"now": now,
               "token": {"iat": "2026-12-01T06:30:00Z", "exp": "2026-12-01T18:30:00+01:00"}})
    };
    workload(
        "v3/time",
        V3::Time,
        ipe,
        vec![
            // Tuesday 1 December 2026, 11:00 at UTC+1.
            case("allow", req("2026-12-01T10:00:00Z"), true),
            // 18:00 at UTC+1: after hours.
            case("deny", req("2026-12-01T17:00:00Z"), false),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// The CIDR allow-list at scale.

/// A deterministic xorshift64* generator (the networks and requests are the same every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One generated network: its text and its first and last address as 128-bit values
/// (IPv4 as IPv4-mapped IPv6, as IPE reads it).
#[derive(Clone, Debug)]
pub struct Net {
    /// `a.b.c.d/p` or `x:..:y/p`.
    pub text: String,
    /// First address.
    pub first: u128,
    /// Last address.
    pub last: u128,
}

const MAPPED: u128 = 0xffff_0000_0000;

fn v4_net(addr: u32, prefix: u32) -> Net {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    let first = addr & mask;
    let last = first | !mask;
    Net {
        text: format!("{}/{prefix}", std::net::Ipv4Addr::from(first)),
        first: MAPPED | u128::from(first),
        last: MAPPED | u128::from(last),
    }
}

fn v6_net(addr: u128, prefix: u32) -> Net {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    let first = addr & mask;
    Net {
        text: format!("{}/{prefix}", std::net::Ipv6Addr::from(first)),
        first,
        last: first | !mask,
    }
}

/// `n` networks, about 60% IPv4 (prefixes /16 to /32) and 40% IPv6 in `2000::/3` (prefixes
/// /32 to /64), generated deterministically; overlaps are possible (the engines merge or scan).
pub fn cidr_networks(n: usize) -> Vec<Net> {
    let mut rng = Rng(0x1b4e_5f0d_2c37_a991 ^ n as u64);
    (0..n)
        .map(|_| {
            if rng.below(10) < 6 {
                v4_net(rng.next() as u32, 16 + rng.below(17) as u32)
            } else {
                let a = (u128::from(rng.next()) << 64) | u128::from(rng.next());
                let a = (a & (u128::MAX >> 3)) | (1u128 << 125);
                v6_net(a, 32 + rng.below(33) as u32)
            }
        })
        .collect()
}

fn addr_text(a: u128) -> String {
    if a >> 32 == MAPPED >> 32 {
        std::net::Ipv4Addr::from(a as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(a).to_string()
    }
}

/// The requests of `cidr/N`: an IPv4 and an IPv6 address inside a network of the list (the
/// middle ones of each family) and one of each outside every network (checked by a linear
/// scan, independently of every engine).
pub fn cidr_requests(nets: &[Net]) -> Vec<(&'static str, String, bool)> {
    let v4 = |n: &Net| n.first >> 32 == MAPPED >> 32;
    let inside = |a: u128| nets.iter().any(|n| n.first <= a && a <= n.last);
    let pick = |want_v4: bool| {
        let fam: Vec<&Net> = nets.iter().filter(|n| v4(n) == want_v4).collect();
        let n = fam[fam.len() / 2];
        // The middle of the network.
        n.first + (n.last - n.first) / 2
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut miss = |want_v4: bool| loop {
        let a = if want_v4 {
            MAPPED | u128::from(rng.next() as u32)
        } else {
            let a = (u128::from(rng.next()) << 64) | u128::from(rng.next());
            (a & (u128::MAX >> 3)) | (1u128 << 125)
        };
        if !inside(a) {
            return a;
        }
    };
    let (m4, m6) = (miss(true), miss(false));
    vec![
        ("v4_hit", addr_text(pick(true)), true),
        ("v4_miss", addr_text(m4), false),
        ("v6_hit", addr_text(pick(false)), true),
        ("v6_miss", addr_text(m6), false),
    ]
}

/// `cidr/N`: `src in` a constant of [`cidr_networks`]`(n)`, written for every engine.
/// - IPE: `const allowed = [...]`, `triggers when src in allowed permits` (default deny).
/// - Cedar: one `permit ... when { ip(context.src).isInRange(ip("net")) }` per network (a
///   10,000-term `||` in one policy would nest 10,000 deep in Cedar's evaluator).
/// - Rego: `allow if { some n in allowed; net.cidr_contains(n, input.src) }`.
pub fn cidr(n: usize) -> Workload {
    let nets = cidr_networks(n);
    let list = nets
        .iter()
        .map(|n| format!("\"{}\"", n.text))
        .collect::<Vec<_>>()
        .join(",\n  ");
    let ipe = format!(
        "default deny\n\nschema {{\n  src: ip\n}}\n\nconst allowed = [\n  {list}\n]\n\n\
         policy AllowList:\n  \"sources on the allow-list\"\n  triggers when src in allowed\n  permits\n"
    );
    let mut cedar = String::new();
    for (i, net) in nets.iter().enumerate() {
        cedar.push_str(&format!(
            "@id(\"N{i}\")\npermit(principal, action, resource)\n  when {{ ip(context.src).isInRange(ip(\"{}\")) }};\n",
            net.text
        ));
    }
    let rego = format!(
        "package ipe\n\ndefault allow := false\n\nallowed := [\n  {list}\n]\n\n\
         allow if {{\n\tsome n in allowed\n\tnet.cidr_contains(n, input.src)\n}}\n"
    );
    let cases = cidr_requests(&nets)
        .into_iter()
        .map(|(name, src, allow)| case(name, json!({ "src": src }), allow))
        .collect();
    Workload {
        name: format!("cidr/{n}"),
        kind: Kind::Cidr(n),
        ipe,
        cedar,
        rego: vec![rego],
        cases,
    }
}

/// Hand-written Rust for `cidr/N`: the networks parsed with `ipnet`, IPv4 mapped into IPv6
/// (as IPE does), sorted and merged into disjoint ranges, and a binary search per request.
pub struct NativeCidr {
    ranges: Vec<(u128, u128)>,
}

/// An address as one 128-bit value, IPv4 as IPv4-mapped IPv6.
#[inline]
pub fn ip_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => MAPPED | u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl NativeCidr {
    /// Parses a `cidr/N` workload's networks (regenerated from its size) with `ipnet`.
    pub fn new(w: &Workload) -> Self {
        let Kind::Cidr(n) = w.kind else {
            panic!("{} is not a cidr workload", w.name)
        };
        let mut ranges: Vec<(u128, u128)> = cidr_networks(n)
            .iter()
            .map(|net| {
                let net = ipnet::IpNet::from_str(&net.text).expect("network parses");
                (
                    ip_u128(net.network()),
                    ip_u128(match net {
                        ipnet::IpNet::V4(n) => IpAddr::V4(n.broadcast()),
                        ipnet::IpNet::V6(n) => IpAddr::V6(n.broadcast()),
                    }),
                )
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            match merged.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        NativeCidr { ranges: merged }
    }

    /// Merged ranges (for the report).
    pub fn ranges(&self) -> usize {
        self.ranges.len()
    }

    /// Parses a request's `src`.
    pub fn parse(json: &str) -> IpAddr {
        #[derive(Deserialize)]
        struct Req {
            src: IpAddr,
        }
        serde_json::from_str::<Req>(json)
            .expect("request parses")
            .src
    }

    /// Whether `src` is in a network of the list.
    #[inline]
    pub fn decide(&self, src: &IpAddr) -> bool {
        let a = ip_u128(*src);
        let i = self.ranges.partition_point(|r| r.1 < a);
        self.ranges.get(i).is_some_and(|r| r.0 <= a)
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-written Rust for the family workloads.

/// A request as the v3 hand-written Rust reads it (every family's fields; absent ones default).
/// Addresses, quantities and timestamps are parsed when the request is (as IPE's readers do).
#[derive(Clone, Debug, Default)]
#[allow(missing_docs, reason = "fields mirror the request paths")]
pub struct V3Request {
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub proto: String,
    pub port: i64,
    pub sport: i64,
    pub host: String,
    pub method: String,
    pub arn: String,
    pub name: String,
    pub user_name: String,
    pub replicas: i64,
    pub used: i64,
    pub limit: i64,
    pub flags: i64,
    /// (cpu, memory) in milli-units per container.
    pub containers: Vec<(i64, i64)>,
    /// Milliseconds since the epoch.
    pub now: i64,
    pub exp: i64,
    pub iat: i64,
}

fn rfc3339_ms(s: &str) -> i64 {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 timestamp");
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

fn quantity(v: &Json) -> i64 {
    match v {
        Json::String(s) => ipe_nostd::quantity::parse_milli(s).expect("quantity"),
        v => v.as_i64().expect("int quantity") * 1000,
    }
}

/// Hand-written Rust for a v3 family workload: the floor.
pub struct NativeV3 {
    v3: V3,
    src_nets: Vec<ipnet::IpNet>,
    dst_nets: Vec<ipnet::IpNet>,
    regex: Option<regex::Regex>,
    /// The `like` patterns split at their stars once, at set-up.
    arn_like: Vec<&'static str>,
    host_like: Vec<&'static str>,
}

/// `lower(a) == b` without allocating (each char lowered on its own, as IPE folds).
#[inline]
fn lower_eq(a: &str, b: &str) -> bool {
    a.chars().flat_map(char::to_lowercase).eq(b.chars())
}

/// `lower(a) ends_with b` without allocating.
#[inline]
fn lower_ends_with(a: &str, b: &str) -> bool {
    let mut lowered = a.chars().rev().flat_map(|c| c.to_lowercase().rev());
    b.chars().rev().all(|c| lowered.next() == Some(c))
}

/// Cedar's `like` over a pattern split at its stars (no `\*` in these patterns): the first
/// piece a prefix, the last a suffix, each middle piece at its leftmost place after the
/// previous one.
fn like_match(s: &str, pieces: &[&str]) -> bool {
    let Some((first, rest)) = pieces.split_first() else {
        return s.is_empty();
    };
    let Some(mut s) = s.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return s.is_empty();
    };
    for p in middle {
        match s.find(p) {
            Some(i) => s = &s[i + p.len()..],
            None => return false,
        }
    }
    s.ends_with(last)
}

impl NativeV3 {
    /// Builds the hand-written decider of a v3 family workload.
    pub fn new(w: &Workload) -> Self {
        let Kind::V3(v3) = w.kind else {
            panic!("{} is not a v3 workload", w.name)
        };
        let nets = |l: &[&str]| l.iter().map(|n| n.parse().expect("net")).collect();
        NativeV3 {
            v3,
            src_nets: nets(&[
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "fd00::/8",
                "2001:db8:100::/40",
            ]),
            dst_nets: nets(&["10.20.0.0/16", "2001:db8:20::/48"]),
            regex: (v3 == V3::Matches).then(|| regex::Regex::new(MATCHES_REGEX).expect("regex")),
            arn_like: "arn:aws:iam::*:user/*".split('*').collect(),
            host_like: "*.example.com".split('*').collect(),
        }
    }

    /// Parses a request (serde_json, then addresses, quantities and timestamps).
    pub fn parse(json: &str) -> V3Request {
        let v: Json = serde_json::from_str(json).expect("request parses");
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string()
        };
        let i = |p: &str| v.pointer(p).and_then(Json::as_i64).unwrap_or(0);
        let ip = |p: &str| {
            v.pointer(p)
                .and_then(Json::as_str)
                .map(|a| a.parse().expect("ip"))
        };
        let t = |p: &str| v.pointer(p).and_then(Json::as_str).map_or(0, rfc3339_ms);
        let containers = v
            .pointer("/spec/containers")
            .and_then(Json::as_array)
            .map(|cs| {
                cs.iter()
                    .map(|c| (quantity(&c["cpu"]), quantity(&c["memory"])))
                    .collect()
            })
            .unwrap_or_default();
        V3Request {
            src: ip("/src"),
            dst: ip("/dst"),
            proto: s("/proto"),
            port: i("/port"),
            sport: i("/sport"),
            host: s("/request/host"),
            method: s("/request/method"),
            arn: s("/principal/arn"),
            name: s("/metadata/name"),
            user_name: s("/user/name"),
            replicas: i("/spec/replicas"),
            used: i("/quota/used"),
            limit: i("/quota/limit"),
            flags: i("/tcp/flags"),
            containers,
            now: t("/now"),
            exp: t("/token/exp"),
            iat: t("/token/iat"),
        }
    }

    /// Decides a parsed request.
    #[inline]
    pub fn decide(&self, r: &V3Request) -> bool {
        match self.v3 {
            V3::Ip => {
                let (Some(src), Some(dst)) = (r.src, r.dst) else {
                    return false;
                };
                self.dst_nets.iter().any(|n| n.contains(&dst))
                    && self.src_nets.iter().any(|n| n.contains(&src))
            }
            V3::Ranges => {
                r.proto == "tcp"
                    && matches!(r.port, 22 | 25 | 80 | 443 | 8000..=8100 | 9000..=9099)
                    && (1024..=65535).contains(&r.sport)
            }
            V3::Like => like_match(&r.arn, &self.arn_like) && like_match(&r.host, &self.host_like),
            V3::Matches => self.regex.as_ref().is_some_and(|re| re.is_match(&r.name)),
            V3::Strings => {
                let n = r.user_name.chars().count();
                lower_ends_with(&r.host, ".example.com")
                    && (lower_eq(&r.method, "get") || lower_eq(&r.method, "post"))
                    && (3..=32).contains(&n)
            }
            V3::Arith => {
                let budget = r
                    .replicas
                    .checked_mul(2)
                    .and_then(|x| x.checked_add(r.used));
                budget.is_some_and(|b| b <= r.limit)
                    && r.containers
                        .iter()
                        .all(|&(cpu, mem)| cpu <= 2_000 && mem <= 4 * 1024 * 1024 * 1024 * 1000)
                    && r.flags & 0x12 == 0x02
            }
            V3::Time => {
                const HOUR: i64 = 3_600_000;
                const DAY: i64 = 24 * HOUR;
                let local = r.now + HOUR;
                let hour = local.div_euclid(HOUR).rem_euclid(24);
                // 1970-01-01 was a Thursday (ISO 4).
                let weekday = (local.div_euclid(DAY) + 3).rem_euclid(7) + 1;
                r.exp > r.now
                    && r.iat + 12 * HOUR >= r.now
                    && (8..=17).contains(&hour)
                    && (1..=5).contains(&weekday)
            }
        }
    }

    /// End to end: parse, then decide.
    pub fn decide_json(&self, json: &str) -> bool {
        self.decide(&Self::parse(json))
    }
}
