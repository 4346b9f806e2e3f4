//! Why one request got its decision: the explanation `ipe explain` prints and the WebAssembly
//! package's `explain` returns. For every policy: whether the trigger
//! index made it a candidate (the indexed attribute, the policy's keys, the request's value),
//! the trigger's and each clause's value as a tree down to the leaves with the values read and
//! the aggregates' elements and witnesses, the first-match group steps and the final
//! combination. Computed from the reference evaluator's trace ([`ipe_compile::trace`]) and
//! checked against the host engine's decision for the same request.

use ipe_compile::eval::Truth;
use ipe_compile::hir::{Body, Expr, Program};
use ipe_compile::trace::{self, Node, PolicyTrace, Site};
use ipe_compile::Report;
use ipe_nostd::{Effect, PolicyId};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::fmt::Write as _;

/// What the trigger index says of one policy.
#[derive(Clone, Debug)]
pub struct IndexNote {
    /// Whether the index made it a candidate (the engine evaluates only candidates).
    pub candidate: bool,
    /// The indexed attribute and the keys the policy is filed under (`None`: unindexed).
    pub indexed_on: Option<(String, Vec<String>)>,
    /// The request's value of that attribute (JSON text, `missing` when absent).
    pub request_value: Option<String>,
}

impl IndexNote {
    /// The note in words.
    pub fn text(&self) -> String {
        match (&self.indexed_on, self.candidate) {
            (None, _) => "candidate: not indexed (evaluated for every request)".to_owned(),
            (Some((slot, keys)), c) => {
                let v = self.request_value.as_deref().unwrap_or("missing");
                let keys = keys.join(", ");
                if c {
                    if keys.split(", ").any(|k| k == v) {
                        format!("candidate: indexed on `{slot}` under {keys}; the request's {v} selects it")
                    } else if v == "missing" {
                        format!(
                            "candidate: indexed on `{slot}` under {keys}; the request lacks it, so \
                             the index cannot rule the policy out"
                        )
                    } else {
                        format!(
                            "candidate: indexed on `{slot}` under {keys}; the request's {v} cannot \
                             be read as a key of that type, so the index cannot rule the policy out"
                        )
                    }
                } else {
                    format!(
                        "not a candidate: indexed on `{slot}` under {keys}; the request has {v}"
                    )
                }
            }
        }
    }
}

/// How one policy ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyOutcome {
    /// Not evaluated: an earlier rule of its first-match group decided.
    NotEvaluated,
    /// Its trigger was false.
    NotApplicable,
    /// Applied and allowed (every clause true).
    Satisfied,
    /// Applied and violated: the reason.
    Violated(String),
    /// An error (trigger or clause): its text.
    Error(String),
}

/// The explanation of one request.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The final decision, combined from the policies' outcomes.
    pub decision: Effect,
    /// Policies that applied, in bundle order.
    pub matched: Vec<String>,
    /// Policies violated, in bundle order.
    pub violated: Vec<String>,
    /// Policies in error, in bundle order.
    pub errors: Vec<String>,
    /// The host engine's decision for the same request.
    pub engine: Report,
    /// Whether the engine's decision, matched, violated and errored policies equal the
    /// explanation's.
    pub agrees: bool,
    /// The explanation for tools.
    pub json: Value,
    /// The explanation for people.
    pub text: String,
}

fn truth_word(t: Truth) -> &'static str {
    match t {
        Truth::True => "true",
        Truth::False => "false",
        Truth::Error(_) => "error",
    }
}

fn truth_json(program: &Program, t: Truth) -> (Value, Option<String>) {
    match t {
        Truth::True => (json!(true), None),
        Truth::False => (json!(false), None),
        Truth::Error(e) => (
            json!("error"),
            Some(ipe_compile::eval::error_text(program, e)),
        ),
    }
}

/// The element index an aggregate node's value rests on: for `all`, its first false (else
/// error) element; for `any`, its first true (else error) element.
fn witness(node: &Node<'_>) -> Option<usize> {
    let Site::Expr(e) = node.site else {
        return None;
    };
    let want = match e {
        Expr::All(_) => Truth::False,
        Expr::Any(_) => Truth::True,
        _ => return None,
    };
    let elems = node.children.iter().filter_map(|c| match &c.site {
        Site::Element { index, .. } => Some((*index, c.truth)),
        Site::Expr(_) => None,
    });
    let mut first_err = None;
    for (i, t) in elems {
        if t == want {
            return Some(i);
        }
        if first_err.is_none() && matches!(t, Truth::Error(_)) {
            first_err = Some(i);
        }
    }
    first_err
}

fn reads_json(n: &Node<'_>) -> Vec<Value> {
    n.reads
        .iter()
        .map(|r| match &r.value {
            Ok(v) => json!({"path": r.path, "value": v}),
            Err(e) => json!({"path": r.path, "error": e}),
        })
        .collect()
}

fn node_json(program: &Program, n: &Node<'_>) -> Value {
    let (value, error) = truth_json(program, n.truth);
    let mut o = serde_json::Map::new();
    match &n.site {
        Site::Expr(e) => {
            o.insert("condition".into(), json!(trace::expr_text(program, e)));
        }
        Site::Element { index, value } => {
            o.insert("element".into(), json!(index));
            o.insert("item".into(), value.clone());
        }
    }
    o.insert("value".into(), value);
    if let Some(e) = error {
        o.insert("error".into(), json!(e));
    }
    if !n.reads.is_empty() {
        o.insert("reads".into(), json!(reads_json(n)));
    }
    if let Some(w) = witness(n) {
        o.insert("witness".into(), json!(w));
    }
    if !n.children.is_empty() {
        o.insert(
            "children".into(),
            json!(n
                .children
                .iter()
                .map(|c| node_json(program, c))
                .collect::<Vec<_>>()),
        );
    }
    Value::Object(o)
}

fn reads_text(n: &Node<'_>) -> String {
    if n.reads.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = n
        .reads
        .iter()
        .map(|r| match &r.value {
            Ok(v) => format!("{} = {}", r.path, sorted(v)),
            Err(e) => format!("{}: {e}", r.path),
        })
        .collect();
    format!("   [{}]", parts.join(", "))
}

fn node_text(program: &Program, n: &Node<'_>, label: &str, depth: usize, o: &mut String) {
    let pad = "  ".repeat(depth);
    let value = truth_word(n.truth);
    // An error is written once: on the read that met it, else after the condition.
    let err = match n.truth {
        Truth::Error(e) => {
            let t = ipe_compile::eval::error_text(program, e);
            if n.reads.iter().any(|r| r.value.as_ref().err() == Some(&t)) {
                String::new()
            } else {
                format!(" ({t})")
            }
        }
        _ => String::new(),
    };
    let what = match &n.site {
        Site::Expr(e) => trace::expr_text(program, e),
        Site::Element { index, value } => {
            format!("element {index}: {}", sorted(value))
        }
    };
    let w = witness(n)
        .map(|i| format!("   (witness: element {i})"))
        .unwrap_or_default();
    let _ = writeln!(o, "{pad}{label}{value:<5} {what}{err}{}{w}", reads_text(n));
    for c in &n.children {
        node_text(program, c, "", depth + 1, o);
    }
}

/// What the index says of every policy of the bundle (by bundle position).
fn index_notes(engine: &ipe_host::PolicyEngine, request: &Value) -> Result<Vec<IndexNote>, String> {
    let set = engine.load();
    let b = set.bundle();
    let n = b.policy_count();
    let mut notes: Vec<IndexNote> = (0..n)
        .map(|_| IndexNote {
            candidate: false,
            indexed_on: None,
            request_value: None,
        })
        .collect();
    for g in 0..b.index_group_count() {
        let grp = b.index_group(g);
        let slot = b.slot_info(grp.slot);
        let rv = lookup(request, slot.path)
            .filter(|v| !v.is_null())
            .map_or_else(|| "missing".to_owned(), Value::to_string);
        for r in b.index_buckets(&grp) {
            let key = key_text(b, &slot, r.key());
            for i in r.first_policy()..r.first_policy().saturating_add(r.policy_count()) {
                let id = usize::from(b.index_policy(i));
                if let Some(note) = notes.get_mut(id) {
                    let e = note
                        .indexed_on
                        .get_or_insert_with(|| (slot.path.to_owned(), Vec::new()));
                    e.1.push(key.clone());
                    note.request_value = Some(rv.clone());
                }
            }
        }
    }
    let text = request.to_string();
    let arena = bumpalo::Bump::new();
    let values = set
        .parse_json(&text, &arena)
        .map_err(|e| ipe_host::decide::request_detail(&e))?;
    let mut candidates: HashSet<PolicyId> = HashSet::new();
    ipe_nostd::vm::for_each_candidate(b, values, |id| {
        candidates.insert(id);
    });
    for (i, note) in notes.iter_mut().enumerate() {
        note.candidate = PolicyId::try_from(i).is_ok_and(|id| candidates.contains(&id));
    }
    Ok(notes)
}

/// The outcome of a traced policy, and its reason or error text from the reference report.
fn outcome(program: &Program, pt: &PolicyTrace<'_>, report: &Report) -> PolicyOutcome {
    let p = &program.policies[pt.policy];
    match pt.applies {
        None => PolicyOutcome::NotEvaluated,
        Some(Truth::False) => PolicyOutcome::NotApplicable,
        Some(Truth::Error(e)) => PolicyOutcome::Error(ipe_compile::eval::error_text(program, e)),
        Some(Truth::True) => {
            let reason = || {
                report
                    .violations
                    .iter()
                    .find(|v| v.policy == p.name)
                    .map_or_else(String::new, |v| v.reason.clone())
            };
            match &p.body {
                Body::Denies { .. } => PolicyOutcome::Violated(reason()),
                Body::Requires { .. } => {
                    if pt.clauses.iter().any(|c| c.truth == Truth::False) {
                        PolicyOutcome::Violated(reason())
                    } else if let Some(e) = pt
                        .clauses
                        .iter()
                        .filter_map(|c| match c.truth {
                            Truth::Error(e) => Some(e),
                            _ => None,
                        })
                        .min()
                    {
                        PolicyOutcome::Error(ipe_compile::eval::error_text(program, e))
                    } else {
                        PolicyOutcome::Satisfied
                    }
                }
            }
        }
    }
}

fn effect_word(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    }
}

/// Explains the decision of `program` for `request` (with `now` already set, if any), checked
/// against `engine`, the host engine (interpreter) loaded with `program`'s bundle; the error is
/// the request's problem, as `ipe eval` words it after `malformed request: `.
pub fn explain(
    program: &Program,
    engine: &ipe_host::PolicyEngine,
    request: &Value,
) -> Result<Explanation, String> {
    let notes = index_notes(engine, request)?;
    let engine = engine
        .load()
        .report_json(&request.to_string())
        .map_err(|e| ipe_host::decide::request_detail(&e))?;
    let (report, traces) = ipe_compile::eval::evaluate_traced(program, request);
    let mut matched = Vec::new();
    let mut violated = Vec::new();
    let mut errors = Vec::new();
    let mut policies_json = Vec::new();
    let mut text = String::new();
    for pt in &traces {
        let p = &program.policies[pt.policy];
        let out = outcome(program, pt, &report);
        if pt.applies == Some(Truth::True) {
            matched.push(p.name.as_str().to_owned());
        }
        match &out {
            PolicyOutcome::Violated(_) => violated.push(p.name.as_str().to_owned()),
            PolicyOutcome::Error(_) => errors.push(p.name.as_str().to_owned()),
            _ => {}
        }
        let note = notes.get(pt.policy).cloned().unwrap_or(IndexNote {
            candidate: true,
            indexed_on: None,
            request_value: None,
        });
        let (outcome_word, detail) = match &out {
            PolicyOutcome::NotEvaluated => ("not evaluated", String::new()),
            PolicyOutcome::NotApplicable => ("not applicable", String::new()),
            PolicyOutcome::Satisfied => ("satisfied", String::new()),
            PolicyOutcome::Violated(r) => ("violated", r.clone()),
            PolicyOutcome::Error(e) => ("error", e.clone()),
        };
        let group = pt.group.and_then(|g| program.groups.get(g));
        // Text.
        let _ = writeln!(text, "\npolicy {}", p.name);
        if let Some(g) = group {
            let _ = writeln!(text, "  rule of first-match group {}", g.name);
        }
        let _ = writeln!(text, "  index: {}", note.text());
        match pt.applies {
            None => {
                let _ = writeln!(
                    text,
                    "  not evaluated: an earlier rule of its first-match group decided"
                );
            }
            Some(a) => match &pt.trigger {
                Some(t) => node_text(program, t, "trigger: ", 1, &mut text),
                None => {
                    let _ = writeln!(text, "  trigger: {} (none: always applies)", truth_word(a));
                }
            },
        }
        if let Body::Requires { clauses, .. } = &p.body {
            for (i, (node, c)) in pt.clauses.iter().zip(clauses).enumerate() {
                let _ = c;
                node_text(program, node, &format!("clause {}: ", i + 1), 1, &mut text);
            }
        }
        let _ = if detail.is_empty() {
            writeln!(text, "  outcome: {outcome_word}")
        } else {
            writeln!(text, "  outcome: {outcome_word}: {detail}")
        };
        // JSON.
        let mut pj = serde_json::Map::new();
        pj.insert("policy".into(), json!(p.name.as_str()));
        if let Some(g) = group {
            pj.insert("group".into(), json!(g.name));
        }
        pj.insert(
            "index".into(),
            json!({
                "candidate": note.candidate,
                "indexed_on": note.indexed_on.as_ref().map(|(s, _)| s),
                "keys": note.indexed_on.as_ref().map(|(_, k)| k),
                "request_value": note.request_value,
                "why": note.text(),
            }),
        );
        pj.insert(
            "applies".into(),
            pt.applies.map_or(Value::Null, |a| truth_json(program, a).0),
        );
        if let Some(t) = &pt.trigger {
            pj.insert("trigger".into(), node_json(program, t));
        }
        if !pt.clauses.is_empty() {
            pj.insert(
                "clauses".into(),
                json!(pt
                    .clauses
                    .iter()
                    .map(|c| node_json(program, c))
                    .collect::<Vec<_>>()),
            );
        }
        pj.insert("outcome".into(), json!(outcome_word));
        match &out {
            PolicyOutcome::Violated(r) => {
                pj.insert("reason".into(), json!(r));
            }
            PolicyOutcome::Error(e) => {
                pj.insert("error".into(), json!(e));
            }
            _ => {}
        }
        policies_json.push(Value::Object(pj));
    }
    // First-match groups: which rule decided each.
    let mut groups_json = Vec::new();
    let mut groups_text = String::new();
    for (gi, g) in program.groups.iter().enumerate() {
        let decider = traces
            .iter()
            .filter(|t| t.group == Some(gi))
            .find(|t| matches!(t.applies, Some(Truth::True | Truth::Error(_))))
            .map(|t| program.policies[t.policy].name.as_str().to_owned());
        let _ = match &decider {
            Some(d) => writeln!(
                groups_text,
                "  group {}: rule {d} decided (the rules after it were not evaluated)",
                g.name
            ),
            None => writeln!(groups_text, "  group {}: no rule applied", g.name),
        };
        groups_json.push(json!({"group": g.name, "decided_by": decider}));
    }
    let decision = if !violated.is_empty() || !errors.is_empty() {
        Effect::Deny
    } else if !matched.is_empty() {
        Effect::Allow
    } else {
        program.default
    };
    let combination = if !violated.is_empty() || !errors.is_empty() {
        format!(
            "deny: deny-overrides ({} violated, {} in error)",
            violated.len(),
            errors.len()
        )
    } else if !matched.is_empty() {
        format!(
            "allow: {} polic{} applied, none violated or in error",
            matched.len(),
            if matched.len() == 1 { "y" } else { "ies" }
        )
    } else {
        format!(
            "{}: no policy applied, so the bundle's default ({})",
            effect_word(program.default),
            effect_word(program.default)
        )
    };
    let names = |v: &[ipe_compile::ViolationReport]| -> Vec<String> {
        v.iter().map(|x| x.policy.clone()).collect()
    };
    let agrees = engine.effect == decision
        && engine.matched == matched
        && names(&engine.violations) == violated
        && engine
            .errors
            .iter()
            .map(|e| e.policy.clone())
            .collect::<Vec<_>>()
            == errors;
    let check = if agrees {
        "checked: the host engine (interpreter) decides the same".to_owned()
    } else {
        format!(
            "MISMATCH: the host engine (interpreter) decides differently: {}",
            engine.to_json()
        )
    };
    let mut out = String::new();
    let _ = writeln!(out, "decision: {combination}");
    let _ = writeln!(out, "{check}");
    let _ = writeln!(out, "matched: {}", list_or_none(&matched));
    let _ = writeln!(out, "violated: {}", list_or_none(&violated));
    let _ = writeln!(out, "errors: {}", list_or_none(&errors));
    if !groups_text.is_empty() {
        let _ = write!(out, "first-match groups:\n{groups_text}");
    }
    out.push_str(&text);
    let json = json!({
        "decision": effect_word(decision),
        "combination": combination,
        "default": effect_word(program.default),
        "matched": matched,
        "violated": violated,
        "errors": errors,
        "engine_agrees": agrees,
        "engine_decision": serde_json::to_value(&engine).unwrap_or(Value::Null),
        "groups": groups_json,
        "policies": policies_json,
    });
    Ok(Explanation {
        decision,
        matched,
        violated,
        errors,
        engine,
        agrees,
        json,
        text: out,
    })
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "(none)".to_owned()
    } else {
        v.join(", ")
    }
}

impl Explanation {
    /// The JSON body `ipe explain --format json` prints: the explanation pretty-printed with
    /// sorted keys, and a final newline.
    pub fn json_text(&self) -> String {
        let body = serde_json::to_string_pretty(&sorted(&self.json)).unwrap_or_default();
        format!("{body}\n")
    }
}

/// The value at `path` (path text, [`ipe_nostd::path`]) in `root`; `None` when a step is
/// absent or not an object (a `null` value is returned as is).
pub fn lookup<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    let mut v = root;
    for seg in ipe_nostd::path::segments(path) {
        let mut key = String::new();
        let _ = seg.write_key(&mut key);
        v = v.as_object()?.get(&key)?;
    }
    Some(v)
}

/// `v` with every object's keys in sorted order, so output is the same whether or not
/// `serde_json` keeps insertion order (its `preserve_order` feature, which another crate of a
/// build may turn on).
pub fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// An index key as source text for its slot's type: a quoted string or member, an integer, or
/// a boolean.
pub fn key_text(
    b: &ipe_nostd::Bundle<'_>,
    slot: &ipe_nostd::bundle::SlotInfo<'_>,
    key: i64,
) -> String {
    match slot.kind {
        ipe_nostd::ValueKind::Str => match u32::try_from(key) {
            Ok(sym) => format!("{:?}", b.symbol(sym)),
            Err(_) => key.to_string(),
        },
        ipe_nostd::ValueKind::Enum => usize::try_from(key)
            .ok()
            .and_then(|r| b.enum_members(slot.enum_id).nth(r))
            .map_or_else(|| key.to_string(), |m| format!("{m:?}")),
        ipe_nostd::ValueKind::Bool => (key != 0).to_string(),
        // Issue #14: as the literal a source writes.
        ipe_nostd::ValueKind::Time => {
            let mut s = String::from("timestamp(\"");
            let _ = ipe_nostd::time::write_rfc3339(&mut s, key);
            s.push_str("\")");
            s
        }
        ipe_nostd::ValueKind::Duration => {
            let mut s = String::new();
            let _ = ipe_nostd::time::write_duration(&mut s, key);
            s
        }
        _ => key.to_string(),
    }
}
