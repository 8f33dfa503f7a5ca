//! What the editor shows over a word: a key's doc (from the schema), a
//! function's signature and doc, a declared input's type, and for an id the
//! facts about what it names — an award's kind, rate, stock and trees.

use std::collections::HashMap;

use tombola_grammar::Span;

use super::index::{IdKind, Index, Name, keys_at, scalars};
use super::nodes::{node_at, scalar_text};
use super::schema::{self, Schema};
use super::{Hover, Seg, cursor, expr};
use crate::yaml::{Kind, Node};

/// The hover at byte `offset` of a campaign file.
pub fn hover(source: &str, offset: usize) -> Option<Hover> {
    let schema = Schema::new(schema::campaign());
    let Ok(root) = crate::yaml::parse(source) else {
        return key_doc_by_text(source, offset, schema);
    };
    hover_tree(source, offset, schema, &root)
}

/// The hover at byte `offset` of a file of the given schema (a scenario
/// file): the doc of the key there.
pub fn hover_in(source: &str, offset: usize, schema: &serde_json::Value) -> Option<Hover> {
    key_doc_by_text(source, offset, Schema::new(schema))
}

/// The hover in a file that parses: a name or function in an expression, the
/// facts about an id, the doc of a key or of a word.
fn hover_tree(source: &str, offset: usize, schema: Schema<'_>, root: &Node) -> Option<Hover> {
    let index = Index::of(source, root, schema);
    let scalar = scalars(root)
        .into_iter()
        .find(|s| s.node.span.start <= offset && offset <= s.node.span.end)?;
    if !scalar.key
        && schema
            .at(&scalar.path)
            .is_some_and(|s| schema.is_expression(s))
    {
        let (text, span) = scalar_text(source, scalar.node);
        let declared = expr::Declared::at(source, root, &scalar.path);
        let (inner, markdown) = expr::hover(text, offset.checked_sub(span.start)?, &declared)?;
        let span = Span::new(span.start + inner.start, span.start + inner.end);
        return Some(Hover { span, markdown });
    }
    if let Some(name) = index.at(offset) {
        let markdown = describe(source, root, &index, name);
        return Some(Hover {
            span: name.span,
            markdown,
        });
    }
    let doc = if scalar.key {
        key_doc(schema, &scalar.path)
    } else {
        word_doc(source, schema, &scalar.path, scalar.node)
    }?;
    Some(Hover {
        span: scalar.node.span,
        markdown: doc,
    })
}

/// A key's doc, as the schema gives it.
fn key_doc(schema: Schema<'_>, path: &[Seg]) -> Option<String> {
    let key = path.last()?.key()?;
    let doc = schema.description(schema.at(path)?)?;
    Some(format!("**`{key}`**\n\n{doc}"))
}

/// The doc of a word a key allows (`kind: credits`).
fn word_doc(source: &str, schema: Schema<'_>, path: &[Seg], node: &Node) -> Option<String> {
    let (text, _) = scalar_text(source, node);
    let words = schema.words(schema.at(path)?);
    let (word, doc) = words.iter().find(|(w, _)| w == text)?;
    Some(format!("**`{word}`**\n\n{}", doc.as_deref()?))
}

/// A key's doc when the file does not parse: read from the line, up to the
/// end of the word under the cursor.
fn key_doc_by_text(source: &str, offset: usize, schema: Schema<'_>) -> Option<Hover> {
    let rest = source.get(offset..)?;
    let end = offset
        + rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
    let at = cursor::at(source, end);
    if at.at != cursor::At::Key || at.word.is_empty() {
        return None;
    }
    let mut path = at.path;
    path.push(Seg::Key(at.word.clone()));
    Some(Hover {
        span: Span::new(at.word_start, end),
        markdown: key_doc(schema, &path)?,
    })
}

/// The facts about the id `name` names, in Markdown.
fn describe(source: &str, root: &Node, index: &Index, name: &Name) -> String {
    let title = format!("**{} `{}`**", name.kind.noun(), name.name);
    let lines = match name.kind {
        IdKind::Award => AwardFacts::of(source, root).lines(source, root, &name.name),
        IdKind::Tree => {
            let nodes: Vec<String> = index
                .defined(IdKind::Node, Some(&name.name))
                .iter()
                .map(|n| format!("`{}`", n.name))
                .collect();
            vec![format!("nodes: {}", nodes.join(" → "))]
        }
        IdKind::Node => {
            let scope = name.scope.clone().unwrap_or_default();
            let mut lines = vec![format!("in tree `{scope}`")];
            let definition = index.all(name).into_iter().find(|n| n.definition);
            let body = definition.and_then(|d| node_at(root, &d.path));
            lines.extend(
                body.and_then(super::symbols::node_kind)
                    .map(|k| format!("a {k} node")),
            );
            lines
        }
        IdKind::Sku => fields(
            source,
            root,
            &["skus", name.name.as_str()],
            &["draws", "stock", "price"],
        ),
        IdKind::Event => {
            let attributes = keys_at(root, &path(&["inputs", "events", name.name.as_str()]));
            vec![format!("attributes: {}", listed(&attributes))]
        }
        IdKind::UserField => fields(source, root, &["inputs", "user"], &[name.name.as_str()]),
        IdKind::EventField => {
            let event = name.scope.clone().unwrap_or_default();
            fields(
                source,
                root,
                &["inputs", "events", event.as_str()],
                &[name.name.as_str()],
            )
        }
        IdKind::Rule | IdKind::Rebate => Vec::new(),
    };
    let mut markdown = title;
    if !lines.is_empty() {
        markdown.push('\n');
    }
    for line in lines {
        markdown.push_str("\n- ");
        markdown.push_str(&line);
    }
    markdown
}

fn path(keys: &[&str]) -> Vec<Seg> {
    keys.iter().map(|k| Seg::Key(k.to_string())).collect()
}

fn listed(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `key: value` for each of `keys` the map at `at` has, as written.
fn fields(source: &str, root: &Node, at: &[&str], keys: &[&str]) -> Vec<String> {
    let base = path(at);
    keys.iter()
        .filter_map(|key| {
            let mut p = base.clone();
            p.push(Seg::Key(key.to_string()));
            let (text, _) = scalar_text(source, node_at(root, &p)?);
            Some(format!("{key}: `{text}`"))
        })
        .collect()
}

/// What the pool and the trees say of each award, gathered in one pass, so
/// completion can show the facts of every award it lists.
#[derive(Debug, Default)]
pub(crate) struct AwardFacts<'s> {
    /// Per award, each pool entry that draws it: its rate, stock and tree.
    pool: HashMap<&'s str, Vec<String>>,
    /// Per award, the trees that give it as a fallback.
    fallbacks: HashMap<&'s str, Vec<String>>,
}

impl<'s> AwardFacts<'s> {
    pub(crate) fn of(source: &'s str, root: &Node) -> Self {
        let mut facts = AwardFacts::default();
        if let Some(Kind::Seq(entries)) = node_at(root, &path(&["pool"])).map(|n| &n.kind) {
            for entry in entries {
                let Some(award) = node_at(entry, &path(&["award"])) else {
                    continue;
                };
                let fields = fields(source, entry, &[], &["rate", "stock", "tree", "exhausted"]);
                let line = format!("in the pool: {}", fields.join(", "));
                let award = scalar_text(source, award).0;
                facts.pool.entry(award).or_default().push(line);
            }
        }
        let trees = node_at(root, &path(&["trees"]));
        for scalar in trees.map(scalars).unwrap_or_default() {
            let tree = scalar.path.first().and_then(Seg::key);
            match tree {
                Some(tree)
                    if !scalar.key && super::index::matches("*/*/*/fallback", &scalar.path) =>
                {
                    let award = scalar_text(source, scalar.node).0;
                    facts
                        .fallbacks
                        .entry(award)
                        .or_default()
                        .push(tree.to_string());
                }
                _ => {}
            }
        }
        facts
    }

    /// An award's kind, amount and title, its pool entries, and the trees
    /// that give it as a fallback.
    pub(crate) fn lines(&self, source: &str, root: &Node, award: &str) -> Vec<String> {
        let mut lines = fields(
            source,
            root,
            &["awards", award],
            &["kind", "amount", "title"],
        );
        lines.extend(self.pool.get(award).into_iter().flatten().cloned());
        if let Some(trees) = self.fallbacks.get(award) {
            let trees: Vec<&str> = trees.iter().map(String::as_str).collect();
            lines.push(format!("the fallback of: {}", listed(&trees)));
        }
        lines
    }
}
