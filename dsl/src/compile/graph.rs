//! The trees as graphs: cycles and unreachable nodes, paths that issue an
//! award without a stock check, and building each [`ir::Tree`] once, where
//! its graph is validated (`Tree::try_new`).

use tombola_grammar::Span;

use super::Findings;
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{CampaignFile, Id};
use tombola_ir as ir;

/// A tree compiled from the file, with the spans its diagnostics need.
pub(super) struct TreeDraft {
    pub(super) nodes: Vec<ir::Node>,
    pub(super) spans: Vec<Span>,
    /// Whether the graph passed the structural checks (no cycle, all reachable).
    pub(super) valid: bool,
}

/// Reports cycles and unreachable nodes; whether the tree has neither.
pub(super) fn shape(
    out: &mut Findings<'_>,
    tree_id: &Id,
    draft: &TreeDraft,
    route_spans: &[Vec<Option<Span>>],
) -> bool {
    let n = draft.nodes.len();
    if n == 0 {
        return true;
    }
    let mut colour = vec![0u8; n];
    let mut path: Vec<usize> = Vec::new();
    let mut ok = true;
    // Depth-first, keeping the current path, so a cycle can be printed.
    fn visit(
        at: usize,
        draft: &TreeDraft,
        colour: &mut [u8],
        path: &mut Vec<usize>,
        cycles: &mut Vec<(usize, usize, usize)>,
    ) {
        colour[at] = 1;
        path.push(at);
        for (route, (_, target)) in draft.nodes[at].kind.routes().into_iter().enumerate() {
            if let ir::Target::Node(next) = target {
                let next = next as usize;
                match colour[next] {
                    0 => visit(next, draft, colour, path, cycles),
                    1 => cycles.push((at, route, next)),
                    _ => {}
                }
            }
        }
        path.pop();
        colour[at] = 2;
    }
    let mut cycles = Vec::new();
    visit(0, draft, &mut colour, &mut path, &mut cycles);
    for (from, route, to) in cycles {
        ok = false;
        let span = route_spans[from]
            .get(route)
            .copied()
            .flatten()
            .unwrap_or(draft.spans[from]);
        out.push(
            Diagnostic::new(Code::TreeCycle, span, format!("tree `{}` loops: `{}` routes back to `{}`", tree_id.value, draft.nodes[from].id, draft.nodes[to].id))
                .label("routes back")
                .with(draft.spans[to], "loop starts here")
                .help("routes must lead forward to an award; route this outcome to a fallback node or to `award`"),
        );
    }
    for (at, c) in colour.iter().enumerate() {
        if *c == 0 {
            ok = false;
            // An unreachable stock node is the dangerous case: the award is issued unchecked.
            let label = match draft.nodes[at].kind {
                ir::NodeKind::Stock { .. } => "unreachable: stock is never checked",
                _ => "unreachable",
            };
            out.push(
                Diagnostic::new(Code::UnreachableNode, draft.spans[at], format!("node `{}` of tree `{}` can never be reached", draft.nodes[at].id, tree_id.value))
                    .label(label)
                    .help("no route leads here: route an earlier node's outcome to it, or remove it (a fallback is only entered through a route)"),
            );
        }
    }
    ok
}

fn entry_of(nodes: &[ir::Node]) -> ir::Target {
    if nodes.is_empty() {
        ir::Target::Issue
    } else {
        ir::Target::Node(0)
    }
}

/// A path from the tree's entry to issuing the drawn award that passes no
/// stock node's `taken` outcome, as node ids; `None` if every issue is stock-checked.
pub(super) fn path_without_stock(draft: &TreeDraft) -> Option<Vec<String>> {
    fn walk(
        draft: &TreeDraft,
        target: ir::Target,
        path: &mut Vec<String>,
        seen: &mut [bool],
    ) -> bool {
        let ir::Target::Node(at) = target else {
            return true;
        };
        let at = at as usize;
        if seen[at] {
            return false;
        }
        seen[at] = true;
        path.push(draft.nodes[at].id.clone());
        let found = match &draft.nodes[at].kind {
            // Past a successful decrement the award is checked; only `exhausted` goes on unchecked.
            ir::NodeKind::Stock { exhausted, .. } => walk(draft, *exhausted, path, seen),
            ir::NodeKind::Fallback { .. } => false,
            other => other
                .routes()
                .into_iter()
                .any(|(_, t)| walk(draft, t, path, seen)),
        };
        if !found {
            path.pop();
        }
        found
    }
    let mut path = Vec::new();
    let mut seen = vec![false; draft.nodes.len()];
    walk(draft, entry_of(&draft.nodes), &mut path, &mut seen).then_some(path)
}

/// The IR trees: the file's, then `extra` (those with an inserted stock node,
/// by name). `None`
/// when a tree has errors (reported already) or fails the IR's own graph
/// check, which the checks above should make impossible and is reported as
/// an internal error.
pub(super) fn build(
    f: &CampaignFile,
    drafts: Vec<TreeDraft>,
    extra: Vec<(String, Vec<ir::Node>)>,
    out: &mut Findings<'_>,
) -> Option<Vec<ir::Tree>> {
    let mut trees = Vec::new();
    let file_trees = f.trees.iter().zip(drafts).map(|((id, _), draft)| {
        let nodes = draft.valid.then_some(draft.nodes);
        (id.value.clone(), nodes)
    });
    for (id, nodes) in file_trees.chain(extra.into_iter().map(|(id, n)| (id, Some(n)))) {
        let nodes = nodes?;
        let entry = entry_of(&nodes);
        match ir::Tree::try_new(id, nodes, entry) {
            Ok(tree) => trees.push(tree),
            Err(error) => {
                out.push(Diagnostic::new(
                    Code::TreeCycle,
                    f.campaign.span,
                    format!("internal: {error}"),
                ));
                return None;
            }
        }
    }
    Some(trees)
}
