//! The service's counters and their Prometheus text exposition (format 0.0.4), written here
//! (every family has `# HELP` and `# TYPE`, label values escaped); the tests parse it back.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use ipe_host::{CodeTier, PolicySet};

use crate::BundleInfo;

/// Upper bounds of the decision latency histogram, in nanoseconds (1 µs to 1 s).
pub const LATENCY_BUCKETS_NS: [u64; 15] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// Counters the service keeps itself (the per-policy ones come from the engine's stats at
/// scrape time).
#[derive(Debug, Default)]
pub struct Metrics {
    /// Decisions that allowed.
    pub allow: AtomicU64,
    /// Decisions that denied.
    pub deny: AtomicU64,
    /// Decisions with at least one policy in error.
    pub with_errors: AtomicU64,
    /// Requests (single or batch elements) that were not a JSON object.
    pub malformed: AtomicU64,
    /// Bundles published after the first.
    pub swaps: AtomicU64,
    /// Bundles refused (source, verification or check errors).
    pub source_errors: AtomicU64,
    /// Decision log lines queued.
    pub log_queued: AtomicU64,
    /// Decision log lines dropped because the queue was full.
    pub log_dropped: AtomicU64,
    /// Decisions left out of the log by sampling.
    pub log_sampled_out: AtomicU64,
    /// Decision log write errors.
    pub log_write_errors: AtomicU64,
    /// HTTP responses by status class (index 1 = 1xx … 5 = 5xx).
    pub responses: [AtomicU64; 6],
    /// Requests that ran over the per-request timeout.
    pub timeouts: AtomicU64,
    buckets: [AtomicU64; LATENCY_BUCKETS_NS.len() + 1],
    latency_sum_ns: AtomicU64,
}

impl Metrics {
    /// Records one decision's latency.
    pub fn observe_latency(&self, nanos: u64) {
        let i = LATENCY_BUCKETS_NS
            .iter()
            .position(|&b| nanos <= b)
            .unwrap_or(LATENCY_BUCKETS_NS.len());
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Relaxed);
        }
        self.latency_sum_ns.fetch_add(nanos, Relaxed);
    }

    /// Counts one HTTP response with this status code.
    pub fn count_response(&self, status: u16) {
        if let Some(c) = self.responses.get(usize::from(status / 100)) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// The Prometheus text of these counters, the live bundle and its policies' stats.
    pub fn render(&self, info: &BundleInfo, set: &PolicySet) -> String {
        let mut out = String::with_capacity(4096);
        let o = &mut out;
        family(
            o,
            "ipe_decisions_total",
            "counter",
            "Decisions made, by outcome.",
        );
        sample(
            o,
            "ipe_decisions_total",
            &[("decision", "allow")],
            self.allow.load(Relaxed),
        );
        sample(
            o,
            "ipe_decisions_total",
            &[("decision", "deny")],
            self.deny.load(Relaxed),
        );
        counter(
            o,
            "ipe_decisions_with_errors_total",
            "Decisions with at least one policy in error.",
            self.with_errors.load(Relaxed),
        );
        counter(
            o,
            "ipe_requests_malformed_total",
            "Requests that got an error object instead of a decision (not a JSON object).",
            self.malformed.load(Relaxed),
        );
        family(
            o,
            "ipe_http_responses_total",
            "counter",
            "HTTP responses, by status class.",
        );
        for (class, c) in self.responses.iter().enumerate().skip(1) {
            let label = format!("{class}xx");
            sample(
                o,
                "ipe_http_responses_total",
                &[("code", &label)],
                c.load(Relaxed),
            );
        }
        counter(
            o,
            "ipe_http_timeouts_total",
            "Requests that ran over the per-request timeout.",
            self.timeouts.load(Relaxed),
        );

        // The latency histogram: cumulative buckets in seconds.
        let name = "ipe_decision_duration_seconds";
        family(
            o,
            name,
            "histogram",
            "Time to read, decide and render one request.",
        );
        let mut cumulative = 0u64;
        for (i, bound) in LATENCY_BUCKETS_NS.iter().enumerate() {
            cumulative += self.buckets.get(i).map_or(0, |b| b.load(Relaxed));
            let le = seconds(*bound);
            sample(o, &format!("{name}_bucket"), &[("le", &le)], cumulative);
        }
        cumulative += self
            .buckets
            .get(LATENCY_BUCKETS_NS.len())
            .map_or(0, |b| b.load(Relaxed));
        sample(o, &format!("{name}_bucket"), &[("le", "+Inf")], cumulative);
        let _ = writeln!(
            o,
            "{name}_sum {}",
            seconds(self.latency_sum_ns.load(Relaxed))
        );
        let _ = writeln!(o, "{name}_count {cumulative}");

        // The bundle.
        counter(
            o,
            "ipe_bundle_swaps_total",
            "Bundles published after the first.",
            self.swaps.load(Relaxed),
        );
        counter(
            o,
            "ipe_bundle_source_errors_total",
            "New bundles refused (unreadable, not compiling, failing verification or a check) \
             and failed registry polls; the previous bundle kept serving.",
            self.source_errors.load(Relaxed),
        );
        family(
            o,
            "ipe_bundle_info",
            "gauge",
            "The live bundle: its SHA-256 digest and revision.",
        );
        let revision = info.revision.map_or(String::new(), |r| r.to_string());
        sample(
            o,
            "ipe_bundle_info",
            &[("digest", &info.digest), ("revision", &revision)],
            1,
        );
        gauge(
            o,
            "ipe_bundle_version",
            "The live engine version (1, 2, …).",
            info.version,
        );
        gauge(
            o,
            "ipe_bundle_policies",
            "Policies in the live bundle.",
            info.policies as u64,
        );
        let _ = writeln!(
            o,
            "# HELP ipe_bundle_loaded_timestamp_seconds When the live bundle was published.\n\
             # TYPE ipe_bundle_loaded_timestamp_seconds gauge\n\
             ipe_bundle_loaded_timestamp_seconds {}",
            seconds_ms(info.loaded_at_ms)
        );

        // Per-policy counters of the live version (they restart at 0 with each new version).
        let stats = set.stats();
        let per_policy: [(&str, &str, PolicyCounter); 4] = [
            (
                "ipe_policy_evaluations_total",
                "Times a policy of the live version was evaluated.",
                |p| p.evaluations,
            ),
            (
                "ipe_policy_applied_total",
                "Times a policy's trigger held.",
                |p| p.applied,
            ),
            (
                "ipe_policy_violations_total",
                "Times a policy was violated.",
                |p| p.violated,
            ),
            (
                "ipe_policy_errors_total",
                "Times a policy ended in error.",
                |p| p.errors,
            ),
        ];
        for (name, help, get) in per_policy {
            family(o, name, "counter", help);
            for p in &stats.policies {
                sample(o, name, &[("policy", &p.name)], get(p));
            }
        }

        // JIT tiers.
        family(
            o,
            "ipe_policies_by_tier",
            "gauge",
            "Policies of the live version by the code that runs them.",
        );
        let tiers = [
            (CodeTier::Interpreter, "interpreter"),
            (CodeTier::Baseline, "baseline"),
            (CodeTier::Optimized, "optimized"),
            (CodeTier::Failed, "failed"),
        ];
        for (tier, label) in tiers {
            let n = stats.policies.iter().filter(|p| p.code == tier).count();
            sample(o, "ipe_policies_by_tier", &[("tier", label)], n as u64);
        }
        counter(
            o,
            "ipe_jit_compiled_total",
            "Policies of the live version compiled to native code.",
            stats.jit.compiled,
        );
        counter(
            o,
            "ipe_jit_reused_total",
            "Policies of the live version whose native code was taken from the version it replaced (unchanged code).",
            stats.jit.reused,
        );
        counter(
            o,
            "ipe_jit_failures_total",
            "Policies of the live version whose compilation failed.",
            stats.jit.failures,
        );

        // Decision logs.
        counter(
            o,
            "ipe_decision_log_queued_total",
            "Decision log lines queued for writing.",
            self.log_queued.load(Relaxed),
        );
        counter(
            o,
            "ipe_decision_log_dropped_total",
            "Decision log lines dropped because the queue was full.",
            self.log_dropped.load(Relaxed),
        );
        counter(
            o,
            "ipe_decision_log_sampled_out_total",
            "Decisions left out of the log by sampling.",
            self.log_sampled_out.load(Relaxed),
        );
        counter(
            o,
            "ipe_decision_log_write_errors_total",
            "Decision log lines that could not be written.",
            self.log_write_errors.load(Relaxed),
        );
        out
    }
}

/// Appends the families of a remote source's state (a registry source): what it follows and
/// its manifest digest, its last success and error times, and its failures in a row.
pub fn render_source(o: &mut String, status: &crate::SourceStatus) {
    family(
        o,
        "ipe_bundle_source_info",
        "gauge",
        "The reference the source follows and the manifest digest of the bundle published last.",
    );
    let digest = status.digest.clone().unwrap_or_default();
    sample(
        o,
        "ipe_bundle_source_info",
        &[
            ("reference", &status.reference),
            ("digest", &digest),
            (
                "from_cache",
                if status.from_cache { "true" } else { "false" },
            ),
        ],
        1,
    );
    gauge(
        o,
        "ipe_bundle_source_consecutive_failures",
        "Source polls failed in a row (0 after a success).",
        u64::from(status.consecutive_failures),
    );
    for (name, help, at) in [
        (
            "ipe_bundle_source_last_success_timestamp_seconds",
            "When the registry last answered a poll (0: never).",
            status.last_success_at_ms,
        ),
        (
            "ipe_bundle_source_last_error_timestamp_seconds",
            "When the source last failed or a bundle from it was refused (0: never).",
            status.last_error_at_ms,
        ),
    ] {
        family(o, name, "gauge", help);
        let _ = writeln!(o, "{name} {}", seconds_ms(at.unwrap_or(0)));
    }
}

/// Reads one counter of a policy's stats.
type PolicyCounter = fn(&ipe_host::PolicyStats) -> u64;

fn family(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(o, "# TYPE {name} {kind}");
}

fn counter(o: &mut String, name: &str, help: &str, v: u64) {
    family(o, name, "counter", help);
    let _ = writeln!(o, "{name} {v}");
}

fn gauge(o: &mut String, name: &str, help: &str, v: u64) {
    family(o, name, "gauge", help);
    let _ = writeln!(o, "{name} {v}");
}

fn sample(o: &mut String, name: &str, labels: &[(&str, &str)], v: u64) {
    o.push_str(name);
    o.push('{');
    for (i, (k, val)) in labels.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let _ = write!(o, "{k}=\"{}\"", escape_label(val));
    }
    let _ = writeln!(o, "}} {v}");
}

/// A label value with `\`, `"` and newlines escaped (the text format's rule).
pub fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Nanoseconds as decimal seconds (exact: nine fraction digits, trailing zeros removed).
fn seconds(nanos: u64) -> String {
    let s = format!("{}.{:09}", nanos / 1_000_000_000, nanos % 1_000_000_000);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn seconds_ms(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_decimals() {
        assert_eq!(seconds(1_000), "0.000001");
        assert_eq!(seconds(2_500_000), "0.0025");
        assert_eq!(seconds(1_000_000_000), "1");
        assert_eq!(seconds(0), "0");
        assert_eq!(seconds_ms(1_500), "1.500");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn latency_lands_in_the_first_bucket_that_holds_it() {
        let m = Metrics::default();
        m.observe_latency(1_000);
        m.observe_latency(1_001);
        m.observe_latency(5_000_000_000);
        assert_eq!(m.buckets[0].load(Relaxed), 1);
        assert_eq!(m.buckets[1].load(Relaxed), 1);
        assert_eq!(m.buckets[LATENCY_BUCKETS_NS.len()].load(Relaxed), 1);
    }
}
