//! The language analysis editors use — diagnostics, completion, hover, go to
//! definition, references, rename, document symbols and quick fixes — over a
//! source string and byte offsets, so the language server (`tombola lsp`) and
//! the console serve the same answers. Every function keeps working on a
//! half-typed document: what needs the YAML tree falls back to the text around
//! the cursor ([`cursor`]) when the file does not parse.

mod complete;
mod cursor;
mod expr;
mod hover;
mod index;
mod inputs;
mod navigate;
pub(crate) mod nodes;
mod schema;
mod symbols;

use serde::Serialize;
use tombola_grammar::Span;

use crate::diagnostic::Diagnostic;

pub use complete::{completion, completion_in};
pub use hover::{hover, hover_in};
pub use inputs::{DeclaredInput, draw_inputs};
pub use navigate::{definition, references, rename, rename_target};
pub use symbols::symbols;

/// One step of a path from the root of the file: a map key or a list position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    pub(crate) fn key(&self) -> Option<&str> {
        match self {
            Seg::Key(key) => Some(key),
            Seg::Index(_) => None,
        }
    }
}

/// Something to type at the cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    /// One line beside the label: a type, a signature, an award's kind.
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    /// The text written in place of [`Completion::span`].
    pub insert: String,
    /// What the completion replaces: the word typed so far.
    pub span: Span,
}

/// What a completion is, for the editor's icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CompletionKind {
    Key,
    /// One of the words a key allows (`credits`, `per_day`…).
    Value,
    Award,
    Tree,
    Node,
    Sku,
    Event,
    /// A field of `user.`, `user.draws.` or `event.`.
    Field,
    Function,
}

/// What the editor shows over `span`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hover {
    pub span: Span,
    pub markdown: String,
}

/// A named thing of the file, for the editor's outline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub detail: Option<String>,
    /// The whole definition.
    pub span: Span,
    /// The name in it.
    pub name_span: Span,
    pub children: Vec<Symbol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SymbolKind {
    Award,
    Tree,
    Node,
    Rule,
    Rebate,
    Sku,
    Event,
}

/// Every finding of `tombola check` on the text, the same codes, spans,
/// messages and help, and their fixes.
pub fn diagnostics(source: &str) -> Vec<Diagnostic> {
    crate::check_source(source).diagnostics
}

/// The findings whose span meets `range` and that carry a fix: the quick
/// fixes an editor offers there.
pub fn fixes(source: &str, range: Span) -> Vec<Diagnostic> {
    diagnostics(source)
        .into_iter()
        .filter(|d| d.fix.is_some())
        .filter(|d| d.span.start <= range.end && range.start <= d.span.end)
        .collect()
}

/// The YAML tree of the file; when it does not parse, the tree of the file
/// with the cursor's line emptied, which is what a half-typed line usually
/// breaks.
fn tree(source: &str, offset: usize) -> Option<crate::yaml::Node> {
    if let Ok(node) = crate::yaml::parse(source) {
        return Some(node);
    }
    let offset = offset.min(source.len());
    let start = source[..offset].rfind('\n').map_or(0, |at| at + 1);
    let end = source[offset..]
        .find('\n')
        .map_or(source.len(), |at| offset + at);
    let mut repaired = source[..start].to_string();
    repaired.push_str(&" ".repeat(source[start..end].len()));
    repaired.push_str(&source[end..]);
    crate::yaml::parse(&repaired).ok()
}

/// The YAML tree of `source` with every line outside its top-level `key:`
/// block blanked, byte for byte so the spans still point into `source`: what
/// a file broken somewhere else still says under that key.
fn section_tree(source: &str, key: &str) -> Option<crate::yaml::Node> {
    let mut kept = String::with_capacity(source.len());
    let mut inside = false;
    for line in source.split_inclusive('\n') {
        if line.starts_with(|c: char| !c.is_whitespace() && c != '#') {
            inside = line
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'));
        }
        if inside {
            kept.push_str(line);
        } else {
            kept.extend(line.bytes().map(|b| if b == b'\n' { '\n' } else { ' ' }));
        }
    }
    crate::yaml::parse(&kept).ok()
}

#[cfg(test)]
mod tests;
