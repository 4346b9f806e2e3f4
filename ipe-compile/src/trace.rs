//! Evaluation traces of the reference evaluator ([`crate::eval::evaluate_traced`]): for each
//! policy of a decision, the tree of every condition evaluated (trigger and clauses, down to
//! the leaves and into aggregate elements) with its value and the values it read. `ipe
//! explain` prints them and `ipe test` measures clause coverage with them.

use crate::eval::Truth;
use crate::hir::{Aggregate, Body, Expr, Operand, Policy, Program, StrOp};
use serde_json::Value;

/// Where a trace node was evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum Site<'p> {
    /// A condition of the program.
    Expr(&'p Expr),
    /// One element of an aggregate's list: its filter is the node's one child.
    Element {
        /// The element's position in the list (0-based).
        index: usize,
        /// The element as the request holds it.
        value: Value,
    },
}

/// What the evaluator opens a node for (borrowed; the node keeps a copy).
#[derive(Clone, Copy, Debug)]
pub enum NodeKind<'p, 'v> {
    /// A condition.
    Expr(&'p Expr),
    /// An aggregate element.
    Element {
        /// Its position.
        index: usize,
        /// The element.
        value: &'v Value,
    },
}

/// One value read while evaluating a node (an attribute, an element field or a count).
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    /// The attribute's path (`resource.type`), element field (`approvals[].role`) or
    /// `count(<list>)`.
    pub path: String,
    /// The value read (JSON as the request holds it), or the error text reading it gives.
    pub value: Result<Value, String>,
}

/// One evaluated condition or aggregate element.
#[derive(Clone, Debug, PartialEq)]
pub struct Node<'p> {
    /// What was evaluated.
    pub site: Site<'p>,
    /// Its value.
    pub truth: Truth,
    /// The values its own operands read, in reading order.
    pub reads: Vec<Read>,
    /// The conditions and elements evaluated inside it, in evaluation order.
    pub children: Vec<Node<'p>>,
}

impl<'p> Node<'p> {
    /// Calls `f` on this node and every node below it, depth first.
    pub fn walk(&self, f: &mut impl FnMut(&Node<'p>)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

/// How one policy was evaluated for one request.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyTrace<'p> {
    /// Index into [`Program::policies`].
    pub policy: usize,
    /// The first-match group the policy is a rule of (index into [`Program::groups`]).
    pub group: Option<usize>,
    /// `None` when an earlier rule of its group decided, so it was not evaluated; else
    /// whether it applies (its trigger's value, true without a trigger).
    pub applies: Option<Truth>,
    /// The trigger's evaluation tree (`None` without a trigger or when not evaluated).
    pub trigger: Option<Node<'p>>,
    /// Each `requires` clause's tree, in order (empty unless the policy applies).
    pub clauses: Vec<Node<'p>>,
}

impl<'p> PolicyTrace<'p> {
    /// A rule not evaluated because an earlier rule of its group decided.
    pub(crate) fn skipped(policy: usize, group: Option<usize>) -> Self {
        PolicyTrace {
            policy,
            group,
            applies: None,
            trigger: None,
            clauses: Vec::new(),
        }
    }

    /// A policy whose trigger was evaluated to `applies`.
    pub(crate) fn evaluated(
        policy: usize,
        group: Option<usize>,
        applies: Truth,
        trigger: Option<Node<'p>>,
    ) -> Self {
        PolicyTrace {
            policy,
            group,
            applies: Some(applies),
            trigger,
            clauses: Vec::new(),
        }
    }
}

/// Builds trace trees as the evaluator enters and leaves nodes.
#[derive(Debug, Default)]
pub(crate) struct Builder<'p> {
    /// Whether evaluations are recorded now (off while a reason is rendered).
    pub(crate) on: bool,
    stack: Vec<Node<'p>>,
    /// Finished top-level trees.
    pub(crate) done: Vec<Node<'p>>,
}

impl<'p> Builder<'p> {
    /// Opens a node (when recording); true when one was opened.
    pub(crate) fn open(&mut self, kind: NodeKind<'p, '_>) -> bool {
        if !self.on {
            return false;
        }
        let site = match kind {
            NodeKind::Expr(e) => Site::Expr(e),
            NodeKind::Element { index, value } => Site::Element {
                index,
                value: value.clone(),
            },
        };
        self.stack.push(Node {
            site,
            truth: Truth::False,
            reads: Vec::new(),
            children: Vec::new(),
        });
        true
    }

    /// Closes the innermost open node with its value.
    pub(crate) fn close(&mut self, truth: Truth) {
        let Some(mut node) = self.stack.pop() else {
            return;
        };
        node.truth = truth;
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => self.done.push(node),
        }
    }

    /// Whether a node is open (reads are recorded into it).
    pub(crate) fn is_open(&self) -> bool {
        !self.stack.is_empty()
    }

    /// Records a read into the innermost open node.
    pub(crate) fn read(&mut self, path: String, value: Result<Value, String>) {
        if let Some(n) = self.stack.last_mut() {
            n.reads.push(Read { path, value });
        }
    }
}

/// What a coverage item of a policy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// The whole trigger.
    Trigger,
    /// One top-level `and` conjunct of the trigger (0-based).
    TriggerConjunct(usize),
    /// One `requires` clause (0-based).
    Clause(usize),
    /// The filter of an aggregate (evaluated once per element), numbered in reading order
    /// within the policy (0-based).
    AggregateFilter(usize),
}

/// One condition of a policy whose values a test suite's coverage counts.
#[derive(Clone, Debug)]
pub struct Item<'p> {
    /// What it is.
    pub kind: ItemKind,
    /// The condition.
    pub expr: &'p Expr,
    /// Whether it can be an error at all (it reads a request value other than through
    /// `has`); coverage asks for an error only then.
    pub can_error: bool,
}

/// The coverage items of a policy, in a fixed order: the trigger, its conjuncts (when it is
/// an `and`), the clauses, then every aggregate filter (trigger first, in reading order).
pub fn items(policy: &Policy) -> Vec<Item<'_>> {
    fn item(kind: ItemKind, expr: &Expr) -> Item<'_> {
        Item {
            kind,
            expr,
            can_error: can_error(expr),
        }
    }
    let mut out = Vec::new();
    let mut roots: Vec<&Expr> = Vec::new();
    if let Some(t) = &policy.trigger {
        out.push(item(ItemKind::Trigger, t));
        if let Expr::And(xs) = t {
            for (i, x) in xs.iter().enumerate() {
                out.push(item(ItemKind::TriggerConjunct(i), x));
            }
        }
        roots.push(t);
    }
    if let Body::Requires { clauses, .. } = &policy.body {
        for (i, c) in clauses.iter().enumerate() {
            out.push(item(ItemKind::Clause(i), &c.expr));
            roots.push(&c.expr);
        }
    }
    let mut filters = Vec::new();
    for r in roots {
        aggregate_filters(r, &mut filters);
    }
    for (i, f) in filters.into_iter().enumerate() {
        out.push(item(ItemKind::AggregateFilter(i), f));
    }
    out
}

/// Every aggregate filter inside `e`, outer before inner, in reading order.
pub fn aggregate_filters<'p>(e: &'p Expr, out: &mut Vec<&'p Expr>) {
    fn agg<'p>(a: &'p Aggregate, out: &mut Vec<&'p Expr>) {
        if let Some(f) = &a.filter {
            out.push(f);
            aggregate_filters(f, out);
        }
    }
    fn operand<'p>(o: &'p Operand, out: &mut Vec<&'p Expr>) {
        match o {
            Operand::Count(a) => agg(a, out),
            Operand::CountSum(aggs) => aggs.iter().for_each(|a| agg(a, out)),
            Operand::Arith(_, args) => args.iter().for_each(|a| operand(a, out)),
            Operand::Len(x) => operand(x, out),
            Operand::Segment(g) => operand(&g.x, out),
            Operand::Lookup(l) => operand(&l.key, out),
            Operand::MapGet(m) => operand(&m.key, out),
            Operand::Time(t) => t.operands().into_iter().for_each(|a| operand(a, out)),
            Operand::Slot(_) | Operand::Field { .. } | Operand::Lit(_) => {}
        }
    }
    match e {
        Expr::Const(_) => {}
        Expr::Truthy(o)
        | Expr::InSet { lhs: o, .. }
        | Expr::InList { lhs: o, .. }
        | Expr::InNested { lhs: o, .. }
        | Expr::InIp { lhs: o, .. }
        | Expr::InRanges { lhs: o, .. }
        | Expr::Has(o) => operand(o, out),
        Expr::Cmp { lhs, rhs, .. }
        | Expr::Str { lhs, rhs, .. }
        | Expr::Fold { lhs, rhs, .. }
        | Expr::InHierarchy { lhs, rhs, .. } => {
            operand(lhs, out);
            operand(rhs, out);
        }
        Expr::Not(x) => aggregate_filters(x, out),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| aggregate_filters(x, out)),
        Expr::Any(a) | Expr::All(a) => agg(a, out),
    }
}

/// Whether `e` can evaluate to an error: it reads a request value (an attribute, an element
/// field, a list) other than as the operand of `has`.
pub fn can_error(e: &Expr) -> bool {
    fn operand(o: &Operand) -> bool {
        match o {
            Operand::Lit(_) => false,
            Operand::Slot(_) | Operand::Field { .. } | Operand::Count(_) | Operand::CountSum(_) => {
                true
            }
            Operand::Arith(_, args) => args.iter().any(operand) || !args.is_empty(),
            Operand::Len(x) => operand(x),
            // A string without the piece is a no-segment error.
            Operand::Segment(_) => true,
            Operand::Lookup(_) => true,
            // Issue #13: the map, the key or the entry may be missing.
            Operand::MapGet(_) => true,
            Operand::Time(t) => t.operands().into_iter().any(operand),
        }
    }
    match e {
        Expr::Const(_) => false,
        Expr::Has(Operand::Lookup(l)) => operand(&l.key),
        // Issue #13: an invalid map or an error key is an error of `has m[k]`.
        Expr::Has(Operand::MapGet(_)) => true,
        Expr::Has(_) => false,
        Expr::Truthy(o)
        | Expr::InSet { lhs: o, .. }
        | Expr::InIp { lhs: o, .. }
        | Expr::InRanges { lhs: o, .. } => operand(o),
        Expr::InList { .. } | Expr::InNested { .. } | Expr::Any(_) | Expr::All(_) => true,
        Expr::Cmp { lhs, rhs, .. }
        | Expr::Str { lhs, rhs, .. }
        | Expr::Fold { lhs, rhs, .. }
        | Expr::InHierarchy { lhs, rhs, .. } => operand(lhs) || operand(rhs),
        Expr::Not(x) => can_error(x),
        Expr::And(xs) | Expr::Or(xs) => xs.iter().any(can_error),
    }
}

/// Renders a condition as source-like text for people: attribute paths, element fields as
/// `list[].field`, literals, operators; aggregates as `any(list[] where ...)`.
pub fn expr_text(program: &Program, e: &Expr) -> String {
    let mut s = String::new();
    write_expr(program, e, &mut s, false);
    s
}

fn slot_path(program: &Program, id: crate::hir::SlotId) -> &str {
    program
        .slots
        .get(usize::from(id))
        .map_or("?", |s| s.path.as_str())
}

fn lit_text(l: &crate::hir::Literal) -> String {
    match l {
        crate::hir::Literal::Str(s) => format!("{s:?}"),
        crate::hir::Literal::Int(n) => n.to_string(),
        crate::hir::Literal::Bool(b) => b.to_string(),
        crate::hir::Literal::Enum { name, .. } => format!("{name:?}"),
    }
}

/// An operand as source-like text.
pub fn operand_text(program: &Program, o: &Operand) -> String {
    match o {
        Operand::Slot(id) => slot_path(program, *id).to_owned(),
        Operand::Field { list, field, .. } => {
            let slot = &program.slots[usize::from(*list)];
            let outer = format!("{}[]", slot.path);
            match slot.ty.record_fields() {
                Some(fields) => crate::hir::joined(&outer, &fields[usize::from(*field)].path),
                None => outer,
            }
        }
        Operand::Lit(l) => lit_text(l),
        Operand::Count(a) => agg_text(program, "count", a),
        Operand::CountSum(aggs) => {
            let parts: Vec<String> = aggs.iter().map(|a| agg_text(program, "count", a)).collect();
            parts.join(" + ")
        }
        Operand::Arith(op, args) => {
            let parts: Vec<String> = args.iter().map(|a| operand_text(program, a)).collect();
            match (op, parts.as_slice()) {
                (crate::hir::ArithOp::Neg, [x]) => format!("-{x}"),
                (
                    crate::hir::ArithOp::Min | crate::hir::ArithOp::Max | crate::hir::ArithOp::Abs,
                    _,
                ) => {
                    format!("{}({})", op.keyword(), parts.join(", "))
                }
                _ => format!("({})", parts.join(&format!(" {} ", op.keyword()))),
            }
        }
        Operand::Len(x) => format!("len({})", operand_text(program, x)),
        Operand::Segment(g) => format!(
            "segment({}, {:?}, {})",
            operand_text(program, &g.x),
            g.sep,
            g.index
        ),
        Operand::Lookup(l) => format!("<table>[{}]", operand_text(program, &l.key)),
        Operand::MapGet(m) => {
            let slot = &program.slots[usize::from(m.map)];
            let key = operand_text(program, &m.key);
            // `value` (a map of scalars) and `key` (the entry alone) add nothing; a record's
            // field `value.f` / `value["f"]` adds `.f` / `["f"]`.
            let rest = slot
                .ty
                .record_fields()
                .and_then(|f| f.get(usize::from(m.field)))
                .and_then(|f| f.path.strip_prefix("value"))
                .unwrap_or("");
            format!("{}[{key}]{rest}", slot.path)
        }
        Operand::Time(t) => match &**t {
            crate::hir::TimeOp::Arith { sub, lhs, rhs } => format!(
                "({} {} {})",
                operand_text(program, lhs),
                if *sub { "-" } else { "+" },
                operand_text(program, rhs)
            ),
            crate::hir::TimeOp::Part { part, arg } => {
                format!("{}({})", part.name(), operand_text(program, arg))
            }
        },
    }
}

fn agg_text(program: &Program, kind: &str, a: &Aggregate) -> String {
    let list = slot_path(program, a.list);
    match &a.filter {
        Some(f) => format!("{kind}({list}[] where {})", expr_text(program, f)),
        None => format!("{kind}({list}[])"),
    }
}

fn write_expr(program: &Program, e: &Expr, s: &mut String, nested: bool) {
    let o = |x: &Operand| operand_text(program, x);
    match e {
        Expr::Const(b) => s.push_str(&b.to_string()),
        Expr::Truthy(x) => s.push_str(&o(x)),
        Expr::Cmp { op, lhs, rhs, .. } => {
            s.push_str(&format!("{} {} {}", o(lhs), op.symbol(), o(rhs)));
        }
        Expr::InSet { lhs, set } => {
            let items: Vec<String> = set.iter().map(lit_text).collect();
            s.push_str(&format!("{} in [{}]", o(lhs), items.join(", ")));
        }
        Expr::InList { lhs, list } => {
            s.push_str(&format!("{} in {}", o(lhs), slot_path(program, *list)));
        }
        Expr::InNested { lhs, list, .. } => {
            s.push_str(&format!("{} in {}", o(lhs), slot_path(program, *list)));
        }
        Expr::Str { op, lhs, rhs } => {
            s.push_str(&format!("{} {} {}", o(lhs), op.keyword(), o(rhs)));
        }
        Expr::Has(x) => s.push_str(&format!("has {}", o(x))),
        Expr::Not(x) => {
            s.push_str("not ");
            write_expr(program, x, s, true);
        }
        Expr::And(xs) | Expr::Or(xs) => {
            let word = if matches!(e, Expr::And(_)) {
                " and "
            } else {
                " or "
            };
            if nested {
                s.push('(');
            }
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    s.push_str(word);
                }
                write_expr(program, x, s, true);
            }
            if nested {
                s.push(')');
            }
        }
        Expr::Any(a) => s.push_str(&agg_text(program, "any", a)),
        Expr::All(a) => s.push_str(&agg_text(program, "all", a)),
        Expr::InHierarchy { lhs, rhs, .. } => {
            s.push_str(&format!("{} in <hierarchy> {}", o(lhs), o(rhs)));
        }
        Expr::InIp { lhs, ranges } => {
            s.push_str(&format!("{} in <{} ip ranges>", o(lhs), ranges.len()));
        }
        Expr::Fold { op, lhs, rhs } => {
            let word = match op {
                StrOp::LowerEq => "==",
                StrOp::LowerStartsWith => "starts_with",
                StrOp::LowerEndsWith => "ends_with",
                StrOp::LowerContains => "contains",
                op => op.keyword(),
            };
            if matches!(op, StrOp::Like | StrOp::Matches) {
                s.push_str(&format!("lower({}) {word} {}", o(lhs), o(rhs)));
            } else {
                s.push_str(&format!("lower({}) {word} lower({})", o(lhs), o(rhs)));
            }
        }
        Expr::InRanges { lhs, ranges } => {
            let items: Vec<String> = ranges
                .iter()
                .map(|&(lo, hi)| {
                    if lo == hi {
                        lo.to_string()
                    } else {
                        format!("{lo}..{hi}")
                    }
                })
                .collect();
            s.push_str(&format!("{} in [{}]", o(lhs), items.join(", ")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{can_error, expr_text, items, ItemKind, Site};
    use crate::eval::{evaluate, evaluate_traced, Truth};
    use serde_json::json;

    const SEED: &str =
        "schema {\n  resource.type: string\n  n: int\n  approvals: list of a {\n    \
                        role: string\n  }\n}\ndefault allow\n\npolicy P:\n  \"p\"\n  triggers when \
                        resource.type == \"D\" and has n\n  requires\n    n > 1 and \
                        any(a in approvals where a.role == \"x\")\n";

    fn program() -> crate::hir::Program {
        crate::compile_str(&[("t.ipe", SEED)]).expect("compiles")
    }

    #[test]
    fn issue16_items_list_trigger_conjuncts_clauses_and_filters() {
        let p = program();
        let it = items(&p.policies[0]);
        let kinds: Vec<ItemKind> = it.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [
                ItemKind::Trigger,
                ItemKind::TriggerConjunct(0),
                ItemKind::TriggerConjunct(1),
                ItemKind::Clause(0),
                ItemKind::Clause(1),
                ItemKind::AggregateFilter(0),
            ]
        );
        // `has n` cannot be an error; the comparison and the aggregate can.
        assert!(can_error(it[1].expr));
        assert!(!can_error(it[2].expr));
        assert!(can_error(it[4].expr));
        assert_eq!(expr_text(&p, it[1].expr), "resource.type == \"D\"");
        assert_eq!(
            expr_text(&p, it[4].expr),
            "any(approvals[] where approvals[].role == \"x\")"
        );
    }

    #[test]
    fn issue16_a_trace_records_values_reads_and_elements() {
        let p = program();
        let req = json!({"resource": {"type": "D"}, "n": 2,
                         "approvals": [{"role": "y"}, {"role": "x"}]});
        let (report, traces) = evaluate_traced(&p, &req);
        assert_eq!(report, evaluate(&p, &req));
        let t = &traces[0];
        assert_eq!(t.applies, Some(Truth::True));
        let trigger = t.trigger.as_ref().expect("a trigger tree");
        assert_eq!(trigger.children.len(), 2);
        assert_eq!(trigger.children[0].reads[0].path, "resource.type");
        assert_eq!(trigger.children[0].reads[0].value, Ok(json!("D")));
        assert_eq!(t.clauses.len(), 2);
        let any = &t.clauses[1];
        assert_eq!(any.truth, Truth::True);
        // One node per element, each holding the element and its filter's value.
        let elems: Vec<(usize, Truth)> = any
            .children
            .iter()
            .filter_map(|c| match &c.site {
                Site::Element { index, .. } => Some((*index, c.truth)),
                Site::Expr(_) => None,
            })
            .collect();
        assert_eq!(elems, [(0, Truth::False), (1, Truth::True)]);
        // A missing attribute: the read records the error text.
        let (_, traces) = evaluate_traced(&p, &json!({"n": 2}));
        let leaf = &traces[0].trigger.as_ref().expect("tree").children[0];
        assert!(matches!(leaf.truth, Truth::Error(_)));
        assert_eq!(
            leaf.reads[0].value,
            Err("missing attribute `resource.type`".to_owned())
        );
    }
}
