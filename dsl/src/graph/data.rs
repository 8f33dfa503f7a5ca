//! The chain, the pool and the trees as data: nodes with a kind, a label and
//! the span of the file they come from, and labelled edges. A node's id is
//! the name a draw's step has there (`rule:<id>`, `draw:<award>`,
//! `tree:<tree>/<node>`, `issue:<award>`), so a draw's path can be found on
//! the graph; the nodes no step names (`start`, `pool`, a weight rule's
//! tiers, a rule's own table) are named under them.

use serde::Serialize;
use tombola_grammar::Span;
use tombola_ir::{Campaign, ChainKind, DrawTable, NodeKind, RuleOutcome, Target, WeightMode};

use crate::analysis::nodes::node_at;
use crate::analysis::{Seg, Symbol, SymbolKind, symbols};
use crate::yaml::{self, Kind};

/// A campaign's rule graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphNode {
    pub id: String,
    pub kind: GraphNodeKind,
    pub label: String,
    /// Where the file defines it; empty at 0 when it has no place of its own.
    pub span: Span,
}

/// What a node is, for how it is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum GraphNodeKind {
    /// Where every draw begins.
    Start,
    /// A rule of the chain before the draw.
    Rule,
    /// A weight rule's tier, or a rule's own table: a weighted pick.
    Table,
    /// The pool's weighted pick.
    Pool,
    /// The pick landing on a pool entry's award.
    Draw,
    Lock,
    Stock,
    Condition,
    Fallback,
    /// An award given.
    Issue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub label: Option<String>,
}

/// The rule graph of `campaign`, compiled from `source`, whose spans it reads.
pub fn data(campaign: &Campaign, source: &str) -> Graph {
    let mut graph = Builder {
        campaign,
        places: Places::of(source),
        graph: Graph {
            nodes: Vec::new(),
            edges: Vec::new(),
        },
    };
    graph.node("start".into(), GraphNodeKind::Start, "draw".into(), None);
    graph.chain();
    graph.pool();
    graph.trees();
    graph.issues();
    graph.graph
}

struct Builder<'c> {
    campaign: &'c Campaign,
    places: Places,
    graph: Graph,
}

impl Builder<'_> {
    fn node(&mut self, id: String, kind: GraphNodeKind, label: String, span: Option<Span>) {
        if self.graph.nodes.iter().all(|n| n.id != id) {
            let span = span.unwrap_or(Span::new(0, 0));
            (self.graph.nodes).push(GraphNode {
                id,
                kind,
                label,
                span,
            });
        }
    }

    fn edge(&mut self, from: &str, to: String, label: Option<String>) {
        let (from, to) = (from.to_string(), to);
        self.graph.edges.push(GraphEdge { from, to, label });
    }

    fn award(&self, award: u32) -> &str {
        &self.campaign.awards[award as usize].id
    }

    /// Edges from `from` to each entry `table` may land on.
    fn picks(&mut self, from: &str, table: &DrawTable) {
        for entry in &table.entries {
            let award = self.campaign.pool[*entry as usize].award;
            let to = format!("draw:{}", self.award(award));
            self.edge(from, to, None);
        }
    }

    /// The rules in order, each passing to the next, the last to the pool.
    fn chain(&mut self) {
        let mut previous = ("start".to_string(), None);
        for rule in &self.campaign.chain {
            let id = format!("rule:{}", rule.id);
            let (what, passes) = match &rule.kind {
                ChainKind::Blacklist { .. } => ("blacklist".to_string(), "not listed"),
                ChainKind::Weight { score, .. } => {
                    (format!("weight {}", score.source()), "no tier")
                }
                ChainKind::When { condition, .. } => {
                    (format!("when {}", condition.source()), "false")
                }
            };
            let span = self.places.rule(&rule.id);
            self.node(
                id.clone(),
                GraphNodeKind::Rule,
                format!("{}: {what}", rule.id),
                span,
            );
            self.edge(&previous.0, id.clone(), previous.1);
            match &rule.kind {
                ChainKind::Blacklist { award, .. } => {
                    let to = format!("issue:{}", self.award(*award));
                    self.edge(&id, to, Some("listed".into()));
                }
                ChainKind::Weight { tiers, mode, .. } => {
                    let word = match mode {
                        WeightMode::AtLeast => "≥",
                        WeightMode::Exactly => "=",
                    };
                    for tier in tiers {
                        let table = format!("{id}/tier/{}", tier.threshold);
                        let label = format!("tier {word} {}", tier.threshold);
                        self.node(table.clone(), GraphNodeKind::Table, label.clone(), span);
                        self.edge(
                            &id,
                            table.clone(),
                            Some(format!("score {word} {}", tier.threshold)),
                        );
                        self.picks(&table, &tier.table);
                    }
                }
                ChainKind::When { outcome, .. } => match outcome {
                    RuleOutcome::Give(award) => {
                        let to = format!("issue:{}", self.award(*award));
                        self.edge(&id, to, Some("true".into()));
                    }
                    RuleOutcome::Draw(table) => {
                        let own = format!("{id}/draw");
                        self.node(
                            own.clone(),
                            GraphNodeKind::Table,
                            "its own table".into(),
                            span,
                        );
                        self.edge(&id, own.clone(), Some("true".into()));
                        self.picks(&own, table);
                    }
                },
            }
            previous = (id, Some(passes.to_string()));
        }
        self.edge(&previous.0, "pool".into(), previous.1);
    }

    /// The pool's pick, each entry leading into its tree or to its award.
    fn pool(&mut self) {
        let span = self.places.pool;
        self.node("pool".into(), GraphNodeKind::Pool, "pool".into(), span);
        for (e, entry) in self.campaign.pool.iter().enumerate() {
            let award = self.award(entry.award).to_string();
            let id = format!("draw:{award}");
            let stock = entry
                .stock
                .map(|n| format!(", stock {n}"))
                .unwrap_or_default();
            let label = format!("{award} ({}{stock})", entry.rate.normalize());
            let span = self.places.entries.get(e).copied();
            self.node(id.clone(), GraphNodeKind::Draw, label, span);
            self.edge("pool", id.clone(), None);
            let to = match entry.tree {
                Some(tree) => {
                    let tree = &self.campaign.trees[tree as usize];
                    target(tree, tree.entry, &award)
                }
                None => format!("issue:{award}"),
            };
            self.edge(&id, to, None);
        }
    }

    /// Each tree's nodes and routes; a route to the end of the tree issues
    /// the award of every entry the tree runs for.
    fn trees(&mut self) {
        for (ix, tree) in self.campaign.trees.iter().enumerate() {
            let awards: Vec<String> = (self.campaign.pool.iter())
                .filter(|entry| entry.tree == Some(ix as u32))
                .map(|entry| self.award(entry.award).to_string())
                .collect();
            for node in &tree.nodes {
                let id = format!("tree:{}/{}", tree.id, node.id);
                let (kind, what) = match &node.kind {
                    NodeKind::Lock { after, .. } => {
                        (GraphNodeKind::Lock, format!("lock after {after}"))
                    }
                    NodeKind::Stock { .. } => (GraphNodeKind::Stock, "stock".to_string()),
                    NodeKind::Condition { condition, .. } => (
                        GraphNodeKind::Condition,
                        format!("if {}", condition.source()),
                    ),
                    NodeKind::Fallback { award, .. } => (
                        GraphNodeKind::Fallback,
                        format!("give {}", self.award(*award)),
                    ),
                };
                let span = self.places.node(&tree.id, &node.id);
                self.node(id.clone(), kind, format!("{}: {what}", node.id), span);
                if let NodeKind::Fallback { award, .. } = &node.kind {
                    let to = format!("issue:{}", self.award(*award));
                    self.edge(&id, to, None);
                }
                for (outcome, to) in node.kind.routes() {
                    for award in &awards {
                        let to = target(tree, to, award);
                        let known = (self.graph.edges.iter()).any(|e| {
                            e.from == id && e.to == to && e.label.as_deref() == Some(outcome)
                        });
                        if !known {
                            self.edge(&id, to, Some(outcome.into()));
                        }
                    }
                }
            }
        }
    }

    /// An issue node for every award, where the file defines it.
    fn issues(&mut self) {
        for award in &self.campaign.awards {
            let span = self.places.award(&award.id);
            let label = award.title.clone().unwrap_or_else(|| award.id.clone());
            self.node(
                format!("issue:{}", award.id),
                GraphNodeKind::Issue,
                label,
                span,
            );
        }
    }
}

/// The node a route of `tree` goes to, when the tree runs for `award`.
fn target(tree: &tombola_ir::Tree, target: Target, award: &str) -> String {
    match target {
        Target::Node(n) => format!("tree:{}/{}", tree.id, tree.nodes[n as usize].id),
        Target::Issue => format!("issue:{award}"),
    }
}

/// Where the file defines what the graph shows.
struct Places {
    outline: Vec<Symbol>,
    pool: Option<Span>,
    entries: Vec<Span>,
}

impl Places {
    fn of(source: &str) -> Places {
        let (pool, entries) = pool_spans(source);
        Places {
            outline: symbols(source),
            pool,
            entries,
        }
    }

    fn find<'s>(symbols: &'s [Symbol], kind: SymbolKind, name: &str) -> Option<&'s Symbol> {
        symbols.iter().find(|s| s.kind == kind && s.name == name)
    }

    fn rule(&self, id: &str) -> Option<Span> {
        Self::find(&self.outline, SymbolKind::Rule, id).map(|s| s.span)
    }

    fn award(&self, id: &str) -> Option<Span> {
        Self::find(&self.outline, SymbolKind::Award, id).map(|s| s.span)
    }

    fn node(&self, tree: &str, node: &str) -> Option<Span> {
        let tree = Self::find(&self.outline, SymbolKind::Tree, tree)?;
        Self::find(&tree.children, SymbolKind::Node, node).map(|s| s.span)
    }
}

/// The span of the `pool` section and of each of its entries, in order.
fn pool_spans(source: &str) -> (Option<Span>, Vec<Span>) {
    let Ok(root) = yaml::parse(source) else {
        return (None, Vec::new());
    };
    let Some(pool) = node_at(&root, &[Seg::Key("pool".into())]) else {
        return (None, Vec::new());
    };
    let entries = match &pool.kind {
        Kind::Seq(items) => items.iter().map(|item| item.span).collect(),
        _ => Vec::new(),
    };
    (Some(pool.span), entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "campaign: t\nname: T\nwindow: { from: 2026-01-01, zone: UTC }\nallowance: 3\nawards:\n  prize: { kind: none }\n  tin: { kind: none }\n  gift: { kind: none }\npool:\n  - { award: prize, rate: 10%, stock: 2, tree: t }\n  - { award: tin, rate: 90% }\ntrees:\n  t:\n    - s: { exhausted: luck }\n    - luck: { fallback: tin }\nbefore:\n  - id: vip\n    when: user.draws.total > 2\n    give: gift\n";

    fn graph() -> Graph {
        let report = crate::check_source(SOURCE);
        assert!(!report.has_errors(), "{:?}", report.diagnostics);
        data(&report.campaign.unwrap(), SOURCE)
    }

    fn node<'g>(graph: &'g Graph, id: &str) -> &'g GraphNode {
        let found = graph.nodes.iter().find(|n| n.id == id);
        found.unwrap_or_else(|| panic!("no node {id}: {graph:#?}"))
    }

    fn edges(graph: &Graph, from: &str) -> Vec<(String, Option<String>)> {
        (graph.edges.iter())
            .filter(|e| e.from == from)
            .map(|e| (e.to.clone(), e.label.clone()))
            .collect()
    }

    #[test]
    fn nodes_are_named_as_steps_and_point_into_the_file() {
        let graph = graph();
        let rule = node(&graph, "rule:vip");
        assert_eq!(rule.kind, GraphNodeKind::Rule);
        assert_eq!(rule.label, "vip: when user.draws.total > 2");
        assert!(SOURCE[rule.span.start..rule.span.end].starts_with("id: vip"));
        let draw = node(&graph, "draw:prize");
        assert_eq!(
            &SOURCE[draw.span.start..draw.span.end],
            "{ award: prize, rate: 10%, stock: 2, tree: t }"
        );
        let luck = node(&graph, "tree:t/luck");
        assert_eq!(luck.kind, GraphNodeKind::Fallback);
        assert!(SOURCE[luck.span.start..luck.span.end].starts_with("luck"));
        assert!(SOURCE[node(&graph, "issue:gift").span.start..].starts_with("gift"));
    }

    #[test]
    fn edges_follow_the_draw() {
        let graph = graph();
        let some = |to: &str, label: Option<&str>| (to.to_string(), label.map(str::to_string));
        assert_eq!(edges(&graph, "start"), [some("rule:vip", None)]);
        assert_eq!(
            edges(&graph, "rule:vip"),
            [
                some("issue:gift", Some("true")),
                some("pool", Some("false"))
            ]
        );
        assert_eq!(
            edges(&graph, "pool"),
            [some("draw:prize", None), some("draw:tin", None)]
        );
        assert_eq!(edges(&graph, "draw:prize"), [some("tree:t/s", None)]);
        assert_eq!(edges(&graph, "draw:tin"), [some("issue:tin", None)]);
        assert_eq!(
            edges(&graph, "tree:t/s"),
            [
                some("issue:prize", Some("taken")),
                some("tree:t/luck", Some("exhausted"))
            ]
        );
        assert_eq!(edges(&graph, "tree:t/luck"), [some("issue:tin", None)]);
        // Every edge joins two nodes.
        for edge in &graph.edges {
            node(&graph, &edge.from);
            node(&graph, &edge.to);
        }
    }
}
