//! Draws the chain and the trees of a compiled campaign as Mermaid or
//! Graphviz dot, or gives them as data ([`data`]) for a program to lay out.

mod data;

use std::fmt::Write as _;

pub use data::{Graph, GraphEdge, GraphNode, GraphNodeKind, data};

use tombola_ir::{Campaign, ChainKind, NodeKind, RuleOutcome, Target};

/// A drawing language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

/// A graph as a list of shaped nodes and labelled edges, written out per format.
struct Sketch {
    nodes: Vec<(String, String, Shape)>,
    edges: Vec<(String, String, String)>,
    clusters: Vec<(String, String, Vec<String>)>,
}

#[derive(Clone, Copy)]
enum Shape {
    Start,
    Decision,
    Award,
    Table,
}

fn award_node(campaign: &Campaign, award: u32) -> (String, String) {
    let id = &campaign.awards[award as usize].id;
    (format!("award_{}", sanitize(id)), id.clone())
}

fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn sketch(campaign: &Campaign) -> Sketch {
    let mut s = Sketch {
        nodes: Vec::new(),
        edges: Vec::new(),
        clusters: Vec::new(),
    };
    let add_award = |s: &mut Sketch, award: u32| -> String {
        let (id, label) = award_node(campaign, award);
        if !s.nodes.iter().any(|(n, _, _)| *n == id) {
            s.nodes.push((id.clone(), label, Shape::Award));
        }
        id
    };
    s.nodes.push(("draw".into(), "draw".into(), Shape::Start));
    s.nodes.push(("pool".into(), "pool".into(), Shape::Table));
    let mut previous = "draw".to_string();
    let mut previous_label = String::new();
    for (i, rule) in campaign.chain.iter().enumerate() {
        let id = format!("rule_{i}");
        s.nodes.push((id.clone(), rule.id.clone(), Shape::Decision));
        s.edges
            .push((previous.clone(), id.clone(), previous_label.clone()));
        match &rule.kind {
            ChainKind::Blacklist { award, .. } => {
                let to = add_award(&mut s, *award);
                s.edges.push((id.clone(), to, "listed".into()));
            }
            ChainKind::Weight { tiers, mode, .. } => {
                for tier in tiers {
                    let table = format!("{id}_tier_{}", tier.threshold);
                    let word = match mode {
                        tombola_ir::WeightMode::AtLeast => "≥",
                        tombola_ir::WeightMode::Exactly => "=",
                    };
                    s.nodes.push((
                        table.clone(),
                        format!("tier {word} {}", tier.threshold),
                        Shape::Table,
                    ));
                    s.edges.push((
                        id.clone(),
                        table.clone(),
                        format!("score {word} {}", tier.threshold),
                    ));
                    for entry in &tier.table.entries {
                        s.edges
                            .push((table.clone(), format!("entry_{entry}"), String::new()));
                    }
                }
            }
            ChainKind::When { outcome, .. } => match outcome {
                RuleOutcome::Give(award) => {
                    let to = add_award(&mut s, *award);
                    s.edges.push((id.clone(), to, "true".into()));
                }
                RuleOutcome::Draw(table) => {
                    let sub = format!("{id}_draw");
                    s.nodes.push((sub.clone(), "sub-pool".into(), Shape::Table));
                    s.edges.push((id.clone(), sub.clone(), "true".into()));
                    for entry in &table.entries {
                        s.edges
                            .push((sub.clone(), format!("entry_{entry}"), String::new()));
                    }
                }
            },
        }
        previous = id;
        previous_label = "otherwise".into();
    }
    s.edges.push((previous, "pool".into(), previous_label));
    add_trees(&mut s, campaign);
    add_pool(&mut s, campaign);
    s
}

/// Each tree as a cluster of its nodes, ending in the drawn award.
fn add_trees(s: &mut Sketch, campaign: &Campaign) {
    for (ix, tree) in campaign.trees.iter().enumerate() {
        let prefix = format!("tree_{ix}");
        let mut members = Vec::new();
        let issue = format!("{prefix}_issue");
        for (n, node) in tree.nodes.iter().enumerate() {
            let id = format!("{prefix}_{n}");
            let (label, shape) = match &node.kind {
                NodeKind::Lock { after, .. } => {
                    (format!("{}: lock after {after}", node.id), Shape::Decision)
                }
                NodeKind::Stock { .. } => (format!("{}: stock", node.id), Shape::Decision),
                NodeKind::Condition { condition, .. } => (
                    format!("{}: if {}", node.id, condition.source()),
                    Shape::Decision,
                ),
                NodeKind::Fallback { award, .. } => (
                    format!("{}: give {}", node.id, campaign.awards[*award as usize].id),
                    Shape::Award,
                ),
            };
            s.nodes.push((id.clone(), label, shape));
            members.push(id.clone());
            for (outcome, target) in node.kind.routes() {
                let to = match target {
                    Target::Node(t) => format!("{prefix}_{t}"),
                    Target::Issue => issue.clone(),
                };
                s.edges.push((id.clone(), to, outcome.into()));
            }
        }
        s.nodes
            .push((issue.clone(), "drawn award".into(), Shape::Award));
        members.push(issue);
        s.clusters
            .push((prefix, format!("tree {}", tree.id), members));
    }
}

/// The pool's entries, each leading into its tree.
fn add_pool(s: &mut Sketch, campaign: &Campaign) {
    for (e, entry) in campaign.pool.iter().enumerate() {
        let id = format!("entry_{e}");
        let (_, label) = award_node(campaign, entry.award);
        let stock = entry
            .stock
            .map(|n| format!(", stock {n}"))
            .unwrap_or_default();
        s.nodes.push((
            id.clone(),
            format!("{label} ({}{stock})", entry.rate.normalize()),
            Shape::Award,
        ));
        s.edges.push(("pool".into(), id.clone(), String::new()));
        if let Some(tree) = entry.tree {
            let target = match campaign.trees[tree as usize].entry {
                Target::Node(n) => format!("tree_{tree}_{n}"),
                Target::Issue => format!("tree_{tree}_issue"),
            };
            s.edges.push((id, target, String::new()));
        }
    }
}

fn quote(text: &str) -> String {
    text.replace('"', "'")
}

/// Draws `campaign` in `format`.
pub fn render(campaign: &Campaign, format: Format) -> String {
    let s = sketch(campaign);
    let mut out = String::new();
    let in_cluster = |id: &str| s.clusters.iter().any(|(_, _, m)| m.iter().any(|x| x == id));
    match format {
        Format::Mermaid => {
            out.push_str("flowchart TD\n");
            let node =
                |out: &mut String, (id, label, shape): &(String, String, Shape), indent: &str| {
                    let label = quote(label);
                    let _ = match shape {
                        Shape::Start => writeln!(out, "{indent}{id}([\"{label}\"])"),
                        Shape::Decision => writeln!(out, "{indent}{id}{{\"{label}\"}}"),
                        Shape::Award => writeln!(out, "{indent}{id}[\"{label}\"]"),
                        Shape::Table => writeln!(out, "{indent}{id}[(\"{label}\")]"),
                    };
                };
            for n in s.nodes.iter().filter(|n| !in_cluster(&n.0)) {
                node(&mut out, n, "    ");
            }
            for (id, label, members) in &s.clusters {
                let _ = writeln!(out, "    subgraph {id} [\"{}\"]", quote(label));
                for n in s.nodes.iter().filter(|n| members.contains(&n.0)) {
                    node(&mut out, n, "        ");
                }
                out.push_str("    end\n");
            }
            for (from, to, label) in &s.edges {
                if label.is_empty() {
                    let _ = writeln!(out, "    {from} --> {to}");
                } else {
                    let _ = writeln!(out, "    {from} -->|\"{}\"| {to}", quote(label));
                }
            }
        }
        Format::Dot => {
            let _ = writeln!(out, "digraph \"{}\" {{", quote(&campaign.id));
            out.push_str("    rankdir=TB;\n    node [fontname=\"Helvetica\"];\n");
            let node =
                |out: &mut String, (id, label, shape): &(String, String, Shape), indent: &str| {
                    let shape = match shape {
                        Shape::Start => "oval",
                        Shape::Decision => "diamond",
                        Shape::Award => "box",
                        Shape::Table => "cylinder",
                    };
                    let _ = writeln!(
                        out,
                        "{indent}{id} [label=\"{}\", shape={shape}];",
                        quote(label)
                    );
                };
            for n in s.nodes.iter().filter(|n| !in_cluster(&n.0)) {
                node(&mut out, n, "    ");
            }
            for (id, label, members) in &s.clusters {
                let _ = writeln!(
                    out,
                    "    subgraph cluster_{id} {{\n        label=\"{}\";",
                    quote(label)
                );
                for n in s.nodes.iter().filter(|n| members.contains(&n.0)) {
                    node(&mut out, n, "        ");
                }
                out.push_str("    }\n");
            }
            for (from, to, label) in &s.edges {
                if label.is_empty() {
                    let _ = writeln!(out, "    {from} -> {to};");
                } else {
                    let _ = writeln!(out, "    {from} -> {to} [label=\"{}\"];", quote(label));
                }
            }
            out.push_str("}\n");
        }
    }
    out
}
