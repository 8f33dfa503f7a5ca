//! The trees' nodes: each node's kind (from its keys), its routes resolved to
//! nodes of its tree, its condition or fallback award; then the tree's shape
//! (no cycle, every node reachable), checked in [`super::graph`].

use std::collections::HashMap;
use std::fmt;

use tombola_grammar::{Scope, Span};

use super::expr::program;
use super::graph::TreeDraft;
use super::resolve::{self, Unknown};
use super::{Context, Findings, ISSUE, Want, awards, graph};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{AwardKind, ExprText, Id, LockPeriod, NodeBody, Sp, TreeNode};
use tombola_ir as ir;

/// What a node does, told by which of its keys it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeKind {
    Lock,
    Stock,
    Condition,
    Fallback,
}

impl NodeKind {
    /// The kind of a node with exactly one kind's key.
    fn of(b: &NodeBody) -> Option<Self> {
        let kinds = [
            (b.after.is_some(), NodeKind::Lock),
            (b.exhausted.is_some(), NodeKind::Stock),
            (b.condition.is_some(), NodeKind::Condition),
            (b.fallback.is_some(), NodeKind::Fallback),
        ];
        let mut present = kinds.iter().filter(|(p, _)| *p).map(|(_, k)| *k);
        match (present.next(), present.next()) {
            (Some(kind), None) => Some(kind),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            NodeKind::Lock => "lock",
            NodeKind::Stock => "stock",
            NodeKind::Condition => "condition",
            NodeKind::Fallback => "fallback",
        }
    }

    /// The keys a node of this kind takes.
    fn keys(self) -> &'static [&'static str] {
        match self {
            NodeKind::Lock => &["after", "per", "locked", "then"],
            NodeKind::Stock => &["exhausted", "then"],
            NodeKind::Condition => &["if", "else", "then"],
            NodeKind::Fallback => &["fallback", "amount"],
        }
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A node's outcomes, as messages name them.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Pass,
    Locked,
    Exhausted,
    False,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Locked => "locked",
            Outcome::Exhausted => "exhausted",
            Outcome::False => "false",
        }
    }

    /// The key that routes it.
    fn key(self) -> &'static str {
        match self {
            Outcome::Pass => "then",
            Outcome::False => "else",
            other => other.name(),
        }
    }
}

/// Drafts every tree of the file, in file order.
pub(super) fn check<'a>(cx: &Context<'a>, out: &mut Findings<'a>) -> Vec<TreeDraft> {
    cx.file
        .trees
        .iter()
        .map(|(id, nodes)| tree(cx, out, id, &nodes.value))
        .collect()
}

/// One tree being drafted: its nodes by id and their kinds.
struct Tree<'t> {
    id: &'t Id,
    nodes: &'t [Sp<TreeNode>],
    index: HashMap<&'t str, (usize, Span)>,
    kinds: Vec<Option<NodeKind>>,
}

/// A node standing in for one with errors, so indices stay those of the file.
fn placeholder(id: &Id) -> ir::Node {
    ir::Node {
        id: id.value.clone(),
        kind: ir::NodeKind::Stock {
            taken: ir::Target::Issue,
            exhausted: ir::Target::Issue,
        },
    }
}

fn tree<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    tree_id: &'a Id,
    nodes: &'a [Sp<TreeNode>],
) -> TreeDraft {
    let mut draft = TreeDraft {
        nodes: Vec::new(),
        spans: Vec::new(),
        valid: true,
    };
    let tree = Tree {
        id: tree_id,
        nodes,
        index: node_ids(out, nodes, &mut draft.valid),
        kinds: nodes
            .iter()
            .map(|n| NodeKind::of(&n.value.body.value))
            .collect(),
    };
    let scope = cx.draw_scope();
    let mut route_spans: Vec<Vec<Option<Span>>> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let id = &node.value.id;
        let (kind, spans) = match tree.kinds[i] {
            Some(kind) => tree.node(cx, out, i, kind, &scope),
            None => {
                no_kind(out, node);
                (None, Vec::new())
            }
        };
        route_spans.push(spans);
        match kind {
            Some(kind) => draft.nodes.push(ir::Node {
                id: id.value.clone(),
                kind,
            }),
            None => {
                draft.valid = false;
                draft.nodes.push(placeholder(id));
            }
        }
        draft.spans.push(id.span);
    }
    if draft.valid {
        draft.valid = graph::shape(out, tree_id, &draft, &route_spans);
    }
    draft
}

/// The nodes by id; a reserved or repeated id makes the tree invalid.
fn node_ids<'t>(
    out: &mut Findings<'_>,
    nodes: &'t [Sp<TreeNode>],
    valid: &mut bool,
) -> HashMap<&'t str, (usize, Span)> {
    let mut index: HashMap<&str, (usize, Span)> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let id = &node.value.id;
        if id.value == ISSUE {
            out.push(
                Diagnostic::new(
                    Code::ReservedName,
                    id.span,
                    format!("`{ISSUE}` names the drawn award in routes; a node cannot take it"),
                )
                .label("reserved")
                .help("rename the node"),
            );
            *valid = false;
        }
        if let Some((_, first)) = index.get(id.value.as_str()) {
            out.duplicate("node", id.span, *first, &id.value);
            *valid = false;
        } else {
            index.insert(id.value.as_str(), (i, id.span));
        }
    }
    index
}

fn no_kind(out: &mut Findings<'_>, node: &Sp<TreeNode>) {
    let TreeNode { id, body } = &node.value;
    let b = &body.value;
    let mut present = Vec::new();
    for (has, key) in [
        (b.after.is_some(), "`after` (lock)"),
        (b.exhausted.is_some(), "`exhausted` (stock)"),
        (b.condition.is_some(), "`if` (condition)"),
        (b.fallback.is_some(), "`fallback`"),
    ] {
        if has {
            present.push(key);
        }
    }
    let message = if present.is_empty() {
        format!("node `{}` does not say what it does", id.value)
    } else {
        format!(
            "node `{}` says two things: {}",
            id.value,
            present.join(" and ")
        )
    };
    out.push(
        Diagnostic::new(Code::NodeKind, id.span, message)
            .label("which kind?")
            .help("a node's kind comes from its keys, not its id: give it exactly one of `after: N` (lock), `exhausted: <route>` (stock), `if: <condition>` (condition) or `fallback: <award>`"),
    );
}

fn body_keys(b: &NodeBody) -> Vec<(&'static str, Span)> {
    [
        ("after", b.after.as_ref().map(|v| v.span)),
        ("per", b.per.as_ref().map(|v| v.span)),
        ("locked", b.locked.as_ref().map(|v| v.span)),
        ("exhausted", b.exhausted.as_ref().map(|v| v.span)),
        ("if", b.condition.as_ref().map(|v| v.span)),
        ("else", b.otherwise.as_ref().map(|v| v.span)),
        ("fallback", b.fallback.as_ref().map(|v| v.span)),
        ("amount", b.amount.as_ref().map(|v| v.span)),
        ("then", b.then.as_ref().map(|v| v.span)),
    ]
    .into_iter()
    .filter_map(|(key, span)| Some((key, span?)))
    .collect()
}

impl<'t> Tree<'t> {
    /// Node `i`'s IR kind (`None` on error), and the spans of its routes in
    /// [`ir::NodeKind::routes`] order.
    fn node<'a>(
        &self,
        cx: &Context<'a>,
        out: &mut Findings<'a>,
        i: usize,
        kind: NodeKind,
        scope: &Scope,
    ) -> (Option<ir::NodeKind>, Vec<Option<Span>>)
    where
        't: 'a,
    {
        let TreeNode { id, body } = &self.nodes[i].value;
        let b = &body.value;
        let mut keys_ok = true;
        // Keys that belong to another kind of node.
        for (key, span) in body_keys(b) {
            if !kind.keys().contains(&key) {
                out.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        span,
                        format!("`{key}` does not apply to a {kind} node"),
                    )
                    .label("not for this kind")
                    .help(format!("a {kind} node takes: {}", kind.keys().join(", "))),
                );
                keys_ok = false;
            }
        }
        let then = self.route(out, i, &b.then, Outcome::Pass);
        let then_span = b.then.as_ref().map(|t| t.span);
        let (kind, spans) = match kind {
            NodeKind::Lock => {
                let locked = self.route(out, i, &b.locked, Outcome::Locked);
                let kind = match (then, locked) {
                    (Some(unlocked), Some(locked)) => Some(ir::NodeKind::Lock {
                        after: b.after.as_ref().map_or(0, |a| a.value),
                        per: b.per.as_ref().map_or(LockPeriod::Total, |p| p.value).into(),
                        unlocked,
                        locked,
                    }),
                    _ => None,
                };
                (kind, vec![then_span, b.locked.as_ref().map(|t| t.span)])
            }
            NodeKind::Stock => {
                let exhausted = self.route(out, i, &b.exhausted, Outcome::Exhausted);
                let kind = match (then, exhausted) {
                    (Some(taken), Some(exhausted)) => {
                        Some(ir::NodeKind::Stock { taken, exhausted })
                    }
                    _ => None,
                };
                (kind, vec![then_span, b.exhausted.as_ref().map(|t| t.span)])
            }
            NodeKind::Condition => {
                let otherwise = self.route(out, i, &b.otherwise, Outcome::False);
                let condition = b.condition.as_ref().and_then(|c| {
                    let what = format!("the condition of node `{}`", id.value);
                    program(cx, out, c, scope, Want::Bool, &what)
                });
                let kind = match (then, otherwise, condition) {
                    (Some(then), Some(otherwise), Some(condition)) => {
                        Some(ir::NodeKind::Condition {
                            condition,
                            then,
                            otherwise,
                        })
                    }
                    _ => None,
                };
                (kind, vec![then_span, b.otherwise.as_ref().map(|t| t.span)])
            }
            NodeKind::Fallback => (fallback(cx, out, id, b, scope), Vec::new()),
        };
        (kind.filter(|_| keys_ok), spans)
    }

    /// Where `outcome` of node `at` goes. Only the passing outcome may be left
    /// out: it goes to the next node, unless that is a fallback.
    fn route(
        &self,
        out: &mut Findings<'_>,
        at: usize,
        route: &Option<Id>,
        outcome: Outcome,
    ) -> Option<ir::Target> {
        let id = &self.nodes[at].value.id;
        match route {
            Some(route) if route.value == ISSUE => Some(ir::Target::Issue),
            Some(route) => {
                let found = self.index.get(route.value.as_str()).map(|(i, _)| *i);
                let known = self
                    .nodes
                    .iter()
                    .map(|n| n.value.id.value.as_str())
                    .chain([ISSUE]);
                let unknown = Unknown::Node {
                    tree: &self.id.value,
                };
                // Routes never point into another section: no context suppresses them.
                match found {
                    Some(target) => Some(ir::Target::Node(target as u32)),
                    None => {
                        resolve::report_unknown(out, unknown, route, known);
                        None
                    }
                }
            }
            None if matches!(outcome, Outcome::Pass) => Some(match self.kinds.get(at + 1) {
                Some(Some(next)) if *next != NodeKind::Fallback => ir::Target::Node(at as u32 + 1),
                _ => ir::Target::Issue,
            }),
            None => {
                let name = outcome.name();
                out.push(
                    Diagnostic::new(Code::UnroutedOutcome, id.span, format!("outcome `{name}` of node `{}` is not routed: a draw ending there would get no award", id.value))
                        .label(format!("`{name}` goes nowhere"))
                        .help(format!("add `{}: <node>` (a fallback node, or `{ISSUE}` for the drawn award)", outcome.key())),
                );
                None
            }
        }
    }
}

/// A fallback node: its award must not run out; its amount, if any, must suit the award's kind.
fn fallback<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    id: &Id,
    b: &'a NodeBody,
    scope: &Scope,
) -> Option<ir::NodeKind> {
    let award_id = b.fallback.as_ref().expect("a fallback node has `fallback`");
    let award = resolve::unlimited_award(cx, out, award_id, &format!("fallback `{}`", id.value));
    let amount = match (&b.amount, award) {
        (Some(e), Some(award)) => fallback_amount(cx, out, id, e, award, scope),
        (None, Some(_)) => Some(None),
        _ => None,
    };
    Some(ir::NodeKind::Fallback {
        award: award?,
        amount: amount?,
    })
}

fn fallback_amount(
    cx: &Context<'_>,
    out: &mut Findings<'_>,
    id: &Id,
    e: &ExprText,
    award: u32,
    scope: &Scope,
) -> Option<Option<tombola_grammar::Program>> {
    let what = format!("the amount of fallback `{}`", id.value);
    match cx.awards.kind_at(award) {
        AwardKind::Credits => program(cx, out, e, scope, Want::Credits, &what).map(Some),
        AwardKind::Draws => program(cx, out, e, scope, Want::Int, &what).map(Some),
        other => {
            out.push(
                Diagnostic::new(
                    Code::AmountNotAllowed,
                    e.span,
                    format!(
                        "fallback `{}` gives a `{}` award, which has no amount",
                        id.value,
                        awards::kind_name(other)
                    ),
                )
                .label("not used")
                .help("only `credits` and `draws` awards take an amount"),
            );
            None
        }
    }
}
