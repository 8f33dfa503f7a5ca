//! Completion: the keys valid at the cursor and the words a value allows
//! (from the schema, with their docs), the ids where a reference is expected,
//! and inside expressions the names and functions ([`super::expr`]).

use serde_json::Value;
use tombola_grammar::Span;

use super::cursor::{self, At, Cursor};
use super::hover::AwardFacts;
use super::index::{self, IdKind, Index};
use super::schema::{self, Schema};
use super::{Completion, CompletionKind, Seg, expr, nodes, section_tree, tree};
use crate::compile::ISSUE;

/// What may be typed at byte `offset` of a campaign file.
pub fn completion(source: &str, offset: usize) -> Vec<Completion> {
    let schema = Schema::new(schema::campaign());
    let cursor = cursor::at(source, offset);
    let span = word_span(source, &cursor);
    let root = tree(source, offset);
    if cursor.at == At::Value
        && schema
            .at(&cursor.path)
            .is_some_and(|s| schema.is_expression(s))
    {
        // A file broken elsewhere still declares its inputs.
        let declared = root
            .or_else(|| section_tree(source, "inputs"))
            .map(|root| expr::Declared::at(source, &root, &cursor.path))
            .unwrap_or_default();
        let called = source[span.end..].starts_with('(');
        return expr::complete(&cursor.value, &declared, span, called);
    }
    let mut found = from_schema(&cursor, schema, root.as_ref(), span);
    if let Some(root) = &root {
        found.extend(ids(source, root, &cursor, span));
    }
    found
}

/// What may be typed at byte `offset` of a file of the given schema (a
/// scenario file): its keys and words.
pub fn completion_in(source: &str, offset: usize, schema: &Value) -> Vec<Completion> {
    let cursor = cursor::at(source, offset);
    let span = word_span(source, &cursor);
    let root = tree(source, offset);
    from_schema(&cursor, Schema::new(schema), root.as_ref(), span)
}

/// The word a completion replaces: typed before the cursor, and the rest of
/// it after, so completing inside a word does not leave its tail behind.
fn word_span(source: &str, cursor: &Cursor) -> Span {
    let end = cursor.word_start + cursor.word.len();
    let rest = source[end..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-')))
        .unwrap_or(source.len() - end);
    Span::new(cursor.word_start, end + rest)
}

/// The keys the map at the cursor takes that it does not hold yet, or the
/// words its value allows.
fn from_schema(
    cursor: &Cursor,
    schema: Schema<'_>,
    root: Option<&crate::yaml::Node>,
    span: Span,
) -> Vec<Completion> {
    let Some(node) = schema.at(&cursor.path) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    match cursor.at {
        At::Key => {
            let present = root
                .map(|r| index::keys_at(r, &cursor.path))
                .unwrap_or_default();
            for (key, property) in schema.keys(node) {
                if present.contains(&key) && key != cursor.word {
                    continue;
                }
                found.push(Completion {
                    label: key.to_string(),
                    kind: CompletionKind::Key,
                    detail: None,
                    documentation: schema.description(property).map(String::from),
                    insert: format!("{key}: "),
                    span,
                });
            }
        }
        At::Value => {
            for (word, doc) in schema.words(node) {
                found.push(Completion {
                    insert: word.clone(),
                    label: word,
                    kind: CompletionKind::Value,
                    detail: None,
                    documentation: doc,
                    span,
                });
            }
        }
        At::Comment => {}
    }
    found.retain(|c| c.label.starts_with(&cursor.word));
    found
}

/// The ids a reference at the cursor may name.
fn ids(source: &str, root: &crate::yaml::Node, cursor: &Cursor, span: Span) -> Vec<Completion> {
    let mut as_key = cursor.path.clone();
    as_key.push(Seg::Key(cursor.word.clone()));
    let wanted = match cursor.at {
        At::Value => index::reference_at(&cursor.path).map(|k| (k, cursor.path.as_slice())),
        // A list item being typed (`- gp`), or the key of a rated sub-pool (`{ gp`).
        At::Key => index::reference_at(&cursor.path)
            .filter(|_| matches!(cursor.path.last(), Some(Seg::Index(_))))
            .map(|k| (k, cursor.path.as_slice()))
            .or_else(|| index::reference_at(&as_key).map(|k| (k, as_key.as_slice()))),
        At::Comment => None,
    };
    let Some((kind, path)) = wanted else {
        return Vec::new();
    };
    let index = Index::of(source, root, Schema::new(schema::campaign()));
    let scope = index::scope_of(kind, path);
    let awards = (kind == IdKind::Award).then(|| AwardFacts::of(source, root));
    let mut found: Vec<Completion> = index
        .defined(kind, scope.as_deref())
        .into_iter()
        .filter(|name| name.name.starts_with(&cursor.word))
        .map(|name| Completion {
            label: name.name.clone(),
            kind: completion_kind(kind),
            detail: detail(source, root, kind, &name.name),
            documentation: facts(awards.as_ref(), source, root, &name.name),
            insert: name.name.clone(),
            span,
        })
        .collect();
    if kind == IdKind::Node {
        found.push(Completion {
            label: ISSUE.to_string(),
            kind: CompletionKind::Node,
            detail: Some("issue the drawn award".into()),
            documentation: None,
            insert: ISSUE.to_string(),
            span,
        });
    }
    found.retain(|c| c.label.starts_with(&cursor.word));
    found
}

fn completion_kind(kind: IdKind) -> CompletionKind {
    match kind {
        IdKind::Award => CompletionKind::Award,
        IdKind::Tree => CompletionKind::Tree,
        IdKind::Node => CompletionKind::Node,
        IdKind::Sku => CompletionKind::Sku,
        IdKind::Event => CompletionKind::Event,
        IdKind::UserField | IdKind::EventField | IdKind::Rule | IdKind::Rebate => {
            CompletionKind::Field
        }
    }
}

/// An award's kind, beside it in the menu.
fn detail(source: &str, root: &crate::yaml::Node, kind: IdKind, id: &str) -> Option<String> {
    if kind != IdKind::Award {
        return None;
    }
    let at = [
        Seg::Key("awards".into()),
        Seg::Key(id.into()),
        Seg::Key("kind".into()),
    ];
    let node = nodes::node_at(root, &at)?;
    Some(nodes::scalar_text(source, node).0.to_string())
}

/// What the hover says of an award, shown with the selected item.
fn facts(
    facts: Option<&AwardFacts<'_>>,
    source: &str,
    root: &crate::yaml::Node,
    id: &str,
) -> Option<String> {
    let lines: Vec<String> = facts?
        .lines(source, root, id)
        .into_iter()
        .map(|line| format!("- {line}"))
        .collect();
    Some(lines.join("\n"))
}
