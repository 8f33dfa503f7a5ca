//! The file's outline: awards, trees with their nodes, the rules before the
//! draw, SKUs, rebate flows and events, each with the span it covers. Rules
//! and flows without an id are named as the compiler names them
//! (`blacklist`, `weight`, `rule-N`, `<event>-N`).

use tombola_grammar::Span;

use super::nodes::{node_at, scalar_text};
use super::{Seg, Symbol, SymbolKind};
use crate::yaml::{Kind, Node};

/// The outline of a campaign file; empty while it does not parse.
pub fn symbols(source: &str) -> Vec<Symbol> {
    let Ok(root) = crate::yaml::parse(source) else {
        return Vec::new();
    };
    let Kind::Map(sections) = &root.kind else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (key, value) in sections {
        let section = scalar_text(source, key).0;
        match section {
            "awards" => found.extend(by_id(source, value, SymbolKind::Award, |body| {
                text_at(source, body, "kind")
            })),
            "trees" => found.extend(trees(source, value)),
            "skus" => found.extend(by_id(source, value, SymbolKind::Sku, |body| {
                text_at(source, body, "draws").map(|n| match n.as_str() {
                    "1" => "1 draw".to_string(),
                    _ => format!("{n} draws"),
                })
            })),
            "before" => found.extend(items(source, value, rule)),
            "rebates" => found.extend(items(source, value, rebate)),
            "inputs" => {
                if let Some(events) = node_at(value, &[Seg::Key("events".into())]) {
                    found.extend(by_id(source, events, SymbolKind::Event, |_| None));
                }
            }
            _ => {}
        }
    }
    found
}

fn text_at(source: &str, node: &Node, key: &str) -> Option<String> {
    let found = node_at(node, &[Seg::Key(key.into())])?;
    Some(scalar_text(source, found).0.to_string())
}

/// One symbol per entry of a map keyed by id.
fn by_id(
    source: &str,
    map: &Node,
    kind: SymbolKind,
    detail: impl Fn(&Node) -> Option<String>,
) -> Vec<Symbol> {
    let Kind::Map(entries) = &map.kind else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|(id, body)| Symbol {
            name: scalar_text(source, id).0.to_string(),
            kind,
            detail: detail(body),
            span: id.span.join(body.span),
            name_span: scalar_text(source, id).1,
            children: Vec::new(),
        })
        .collect()
}

/// Trees, each with its nodes as children, a node's detail its kind.
fn trees(source: &str, map: &Node) -> Vec<Symbol> {
    let mut trees = by_id(source, map, SymbolKind::Tree, |_| None);
    let Kind::Map(entries) = &map.kind else {
        return trees;
    };
    for (tree, (_, nodes)) in trees.iter_mut().zip(entries) {
        let Kind::Seq(nodes) = &nodes.kind else {
            continue;
        };
        for node in nodes {
            tree.children
                .extend(by_id(source, node, SymbolKind::Node, node_kind));
        }
    }
    trees
}

/// What a node does, named by the key it carries.
pub(crate) fn node_kind(body: &Node) -> Option<String> {
    let kinds = [
        ("after", "lock"),
        ("exhausted", "stock"),
        ("if", "condition"),
        ("fallback", "fallback"),
    ];
    kinds
        .iter()
        .find(|(key, _)| node_at(body, &[Seg::Key((*key).into())]).is_some())
        .map(|(_, kind)| kind.to_string())
}

/// How a list item is named in the outline.
struct Named {
    name: String,
    span: Span,
    kind: SymbolKind,
    detail: Option<String>,
}

/// One symbol per item of a list, named by `name(source, item, position)`.
fn items(source: &str, list: &Node, name: fn(&str, &Node, usize) -> Named) -> Vec<Symbol> {
    let Kind::Seq(items) = &list.kind else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(position, item)| {
            let named = name(source, item, position);
            Symbol {
                name: named.name,
                kind: named.kind,
                detail: named.detail,
                span: item.span,
                name_span: named.span,
                children: Vec::new(),
            }
        })
        .collect()
}

/// A rule's id as the compiler gives it: its own, or named for its kind.
fn rule(source: &str, item: &Node, position: usize) -> Named {
    let key_span = |key: &str| {
        let Kind::Map(entries) = &item.kind else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _)| k.is_key(key))
            .map(|(k, _)| k.span)
    };
    let kind = ["blacklist", "weight", "when"]
        .into_iter()
        .find(|k| key_span(k).is_some());
    if let Some(id) = node_at(item, &[Seg::Key("id".into())]) {
        let (text, span) = scalar_text(source, id);
        return Named {
            name: text.to_string(),
            span,
            kind: SymbolKind::Rule,
            detail: kind.map(String::from),
        };
    }
    let (name, span) = match kind {
        Some(k @ ("blacklist" | "weight")) => (k.to_string(), key_span(k)),
        Some(k) => (format!("rule-{}", position + 1), key_span(k)),
        None => (format!("rule-{}", position + 1), None),
    };
    Named {
        name,
        span: span.unwrap_or(item.span),
        kind: SymbolKind::Rule,
        detail: kind.map(String::from),
    }
}

/// A rebate flow's id: its own, or `<event>-N`.
fn rebate(source: &str, item: &Node, position: usize) -> Named {
    let on = node_at(item, &[Seg::Key("on".into())]).map(|n| scalar_text(source, n));
    let detail = on.map(|(event, _)| format!("on {event}"));
    if let Some(id) = node_at(item, &[Seg::Key("id".into())]) {
        let (text, span) = scalar_text(source, id);
        return Named {
            name: text.to_string(),
            span,
            kind: SymbolKind::Rebate,
            detail,
        };
    }
    let (name, span) = match on {
        Some((event, span)) => (format!("{event}-{}", position + 1), span),
        None => (format!("rebate-{}", position + 1), item.span),
    };
    Named {
        name,
        span,
        kind: SymbolKind::Rebate,
        detail,
    }
}
