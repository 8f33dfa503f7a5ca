//! Every id of the file where it is defined and where it is named: awards,
//! trees and their nodes, SKUs, events, declared inputs (also as read by
//! expressions, `user.vip`, `event.amount`), rule and rebate ids. Built from
//! the YAML tree, by matching each scalar's path against the tables below,
//! which say where the campaign format defines and names each kind of id.

use tombola_grammar::Span;

use super::nodes::{node_at, scalar_text};
use super::schema::Schema;
use super::{Seg, expr};
use crate::compile::ISSUE;
use crate::yaml::{Kind, Node};

/// What an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    Award,
    Tree,
    /// A node of a tree: its scope is the tree.
    Node,
    Sku,
    Event,
    /// A declared user attribute, read as `user.<name>`.
    UserField,
    /// A declared attribute of an event (its scope), read as `event.<name>`.
    EventField,
    Rule,
    Rebate,
}

impl IdKind {
    /// How messages and hovers name the kind.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            IdKind::Award => "award",
            IdKind::Tree => "tree",
            IdKind::Node => "node",
            IdKind::Sku => "SKU",
            IdKind::Event => "event",
            IdKind::UserField => "user attribute",
            IdKind::EventField => "event attribute",
            IdKind::Rule => "rule",
            IdKind::Rebate => "rebate flow",
        }
    }
}

/// Whether a scalar is read as a map key or as a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Key,
    Value,
    Either,
}

/// Where ids are defined: a path pattern (`*` is any key or position).
const DEFINITIONS: &[(&str, Role, IdKind)] = &[
    ("awards/*", Role::Key, IdKind::Award),
    ("trees/*", Role::Key, IdKind::Tree),
    ("trees/*/*/*", Role::Key, IdKind::Node),
    ("skus/*", Role::Key, IdKind::Sku),
    ("inputs/events/*", Role::Key, IdKind::Event),
    ("inputs/user/*", Role::Key, IdKind::UserField),
    ("inputs/events/*/*", Role::Key, IdKind::EventField),
    ("before/*/id", Role::Value, IdKind::Rule),
    ("rebates/*/id", Role::Value, IdKind::Rebate),
];

/// Where ids are named.
pub(crate) const REFERENCES: &[(&str, IdKind)] = &[
    ("pool/*/award", IdKind::Award),
    ("pool/*/exhausted", IdKind::Award),
    ("pool/*/tree", IdKind::Tree),
    ("before/*/give", IdKind::Award),
    ("before/*/blacklist/give", IdKind::Award),
    ("before/*/draw/*", IdKind::Award),
    ("before/*/weight/tiers/*/*", IdKind::Award),
    ("trees/*/*/*/fallback", IdKind::Award),
    ("trees/*/*/*/locked", IdKind::Node),
    ("trees/*/*/*/exhausted", IdKind::Node),
    ("trees/*/*/*/else", IdKind::Node),
    ("trees/*/*/*/then", IdKind::Node),
    ("rebates/*/on", IdKind::Event),
    ("rebates/*/give/*/sku", IdKind::Sku),
    ("rebates/*/give/*/award", IdKind::Award),
];

/// Sub-pools that state their own rates name their awards by key (`{ gpt4: 50% }`).
const SUB_POOLS: [&str; 2] = ["before/*/draw/*", "before/*/weight/tiers/*/*"];

/// Whether `path` matches `pattern`.
pub(crate) fn matches(pattern: &str, path: &[Seg]) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    parts.len() == path.len()
        && parts
            .iter()
            .zip(path)
            .all(|(part, seg)| *part == "*" || seg.key() == Some(part))
}

/// The kind of id a value at `path` names, if any.
pub(crate) fn reference_at(path: &[Seg]) -> Option<IdKind> {
    REFERENCES
        .iter()
        .find(|(pattern, _)| matches(pattern, path))
        .map(|(_, kind)| *kind)
}

/// The scope of an id at `path`: the tree of a node, the event of an attribute.
pub(crate) fn scope_of(kind: IdKind, path: &[Seg]) -> Option<String> {
    let at = match kind {
        IdKind::Node => 1,
        IdKind::EventField => 2,
        _ => return None,
    };
    path.get(at).and_then(Seg::key).map(String::from)
}

/// One appearance of an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub(crate) kind: IdKind,
    pub(crate) scope: Option<String>,
    pub(crate) name: String,
    /// The name's own text, without quotes.
    pub(crate) span: Span,
    pub(crate) definition: bool,
    /// The scalar's path from the root.
    pub(crate) path: Vec<Seg>,
}

impl Name {
    fn same(&self, other: &Name) -> bool {
        self.kind == other.kind && self.scope == other.scope && self.name == other.name
    }
}

/// A scalar of the YAML tree with its path.
#[derive(Debug)]
pub(crate) struct Scalar<'n> {
    pub(crate) path: Vec<Seg>,
    pub(crate) key: bool,
    pub(crate) node: &'n Node,
}

/// Every scalar under `node`, keys and values, in file order.
pub(crate) fn scalars(node: &Node) -> Vec<Scalar<'_>> {
    let mut found = Vec::new();
    walk(node, &mut Vec::new(), &mut found);
    found
}

fn walk<'n>(node: &'n Node, path: &mut Vec<Seg>, found: &mut Vec<Scalar<'n>>) {
    match &node.kind {
        Kind::Map(entries) => {
            for (key, value) in entries {
                let name = match &key.kind {
                    Kind::Str(name) => name.clone(),
                    Kind::Int(n) => n.to_string(),
                    _ => continue,
                };
                path.push(Seg::Key(name));
                found.push(Scalar {
                    path: path.clone(),
                    key: true,
                    node: key,
                });
                walk(value, path, found);
                path.pop();
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(item, path, found);
                path.pop();
            }
        }
        _ => found.push(Scalar {
            path: path.clone(),
            key: false,
            node,
        }),
    }
}

/// The ids of one file.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub(crate) names: Vec<Name>,
}

impl Index {
    pub(crate) fn of(source: &str, root: &Node, schema: Schema<'_>) -> Index {
        let mut names = Vec::new();
        for scalar in scalars(root) {
            let (text, span) = scalar_text(source, scalar.node);
            let mut push = |kind, definition, name: &str, span, scope| {
                names.push(Name {
                    kind,
                    scope,
                    name: name.to_string(),
                    span,
                    definition,
                    path: scalar.path.clone(),
                })
            };
            let role = if scalar.key { Role::Key } else { Role::Value };
            let defined = DEFINITIONS
                .iter()
                .find(|(p, r, _)| (*r == role || *r == Role::Either) && matches(p, &scalar.path));
            if let Some((_, _, kind)) = defined {
                push(*kind, true, text, span, scope_of(*kind, &scalar.path));
                continue;
            }
            if let Some(kind) = reference_at(&scalar.path) {
                let named_by_key = SUB_POOLS.iter().any(|p| matches(p, &scalar.path));
                if (scalar.key && !named_by_key) || (kind == IdKind::Node && text == ISSUE) {
                    continue;
                }
                push(kind, false, text, span, scope_of(kind, &scalar.path));
                continue;
            }
            let is_expression = schema
                .at(&scalar.path)
                .is_some_and(|s| schema.is_expression(s));
            // Only an expression whose text is the file's text (no escapes) maps back onto it.
            let in_place = matches!(&scalar.node.kind, Kind::Str(value) if value == text);
            if scalar.key || !is_expression || !in_place {
                continue;
            }
            let event = expr::event_of(source, root, &scalar.path);
            for read in expr::reads(text) {
                let (kind, scope) = match read.root {
                    "user" => (IdKind::UserField, None),
                    _ => (IdKind::EventField, event.clone()),
                };
                let at = Span::new(span.start + read.span.start, span.start + read.span.end);
                push(kind, false, read.field, at, scope);
            }
        }
        Index { names }
    }

    /// The appearance of an id at `offset` (its end included, where a cursor
    /// after the last letter stands).
    pub(crate) fn at(&self, offset: usize) -> Option<&Name> {
        self.names
            .iter()
            .find(|n| n.span.start <= offset && offset <= n.span.end)
    }

    /// The definitions of `kind` (in `scope`, for nodes and event attributes).
    pub(crate) fn defined(&self, kind: IdKind, scope: Option<&str>) -> Vec<&Name> {
        self.names
            .iter()
            .filter(|n| n.definition && n.kind == kind && n.scope.as_deref() == scope)
            .collect()
    }

    /// Every appearance of the id `name` names, definition first.
    pub(crate) fn all(&self, name: &Name) -> Vec<&Name> {
        let mut found: Vec<&Name> = self.names.iter().filter(|n| n.same(name)).collect();
        found.sort_by_key(|n| (!n.definition, n.span.start));
        found
    }
}

/// The keys of the map at `path`.
pub(crate) fn keys_at<'n>(root: &'n Node, path: &[Seg]) -> Vec<&'n str> {
    match node_at(root, path).map(|n| &n.kind) {
        Some(Kind::Map(entries)) => entries
            .iter()
            .filter_map(|(k, _)| match &k.kind {
                Kind::Str(name) => Some(name.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}
