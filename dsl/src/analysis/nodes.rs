//! Small reads of the YAML tree the analysis shares: the node at a path and
//! a scalar's text as written.

use tombola_grammar::Span;

use super::Seg;
use crate::yaml::{Kind, Node};

/// The text of a scalar without its quotes, and where that text is.
pub(crate) fn scalar_text<'s>(source: &'s str, node: &Node) -> (&'s str, Span) {
    let raw = source.get(node.span.start..node.span.end).unwrap_or("");
    let quoted = raw.len() >= 2
        && (raw.starts_with('"') && raw.ends_with('"')
            || raw.starts_with('\'') && raw.ends_with('\''));
    if quoted {
        let span = Span::new(node.span.start + 1, node.span.end - 1);
        (&raw[1..raw.len() - 1], span)
    } else {
        (raw, node.span)
    }
}

/// The node at `path`, if the tree has one there.
pub(crate) fn node_at<'n>(root: &'n Node, path: &[Seg]) -> Option<&'n Node> {
    path.iter()
        .try_fold(root, |node, seg| match (&node.kind, seg) {
            (Kind::Map(entries), Seg::Key(key)) => entries
                .iter()
                .find(|(k, _)| k.is_key(key))
                .map(|(_, value)| value),
            (Kind::Seq(items), Seg::Index(i)) => items.get(*i),
            _ => None,
        })
}
