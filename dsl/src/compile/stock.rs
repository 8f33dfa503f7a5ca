//! Stock rules for pool entries: an award that can run out (pool stock,
//! coupon codes) is only issued through a stock node. An entry with
//! `exhausted` has the compiler insert that node ([`StockInsert`]).

use tombola_grammar::Span;

use super::graph::TreeDraft;
use super::{Context, Findings, graph, resolve};
use crate::diagnostic::{Code, Diagnostic};
use crate::model::{CampaignFile, PoolEntry, Sp};
use tombola_ir as ir;

/// A stock node the compiler inserts before every issue of an entry's award,
/// routing "exhausted" to a fallback award. It becomes a tree of its own,
/// after the file's trees.
pub(super) struct StockInsert {
    /// The tree the entry names, whose nodes come first.
    pub(super) tree: Option<usize>,
    /// The drawn award's id, for the inserted tree's name.
    pub(super) award: String,
    /// The award given when the stock is exhausted.
    pub(super) fallback: u32,
}

impl StockInsert {
    /// The inserted tree's name: the entry's tree (if any) and the award.
    pub(super) fn name(&self, f: &CampaignFile) -> String {
        match self.tree {
            Some(t) => format!("{}+stock:{}", f.trees.0[t].0.value, self.award),
            None => format!("stock:{}", self.award),
        }
    }

    /// The tree's nodes with the stock node in front of every issue.
    pub(super) fn nodes(&self, drafts: &[TreeDraft]) -> Vec<ir::Node> {
        let mut nodes = self
            .tree
            .map(|t| drafts[t].nodes.clone())
            .unwrap_or_default();
        // With no tree of its own, `nodes` is empty: the inserted stock node is the entry.
        let stock_at = nodes.len() as u32;
        for node in &mut nodes {
            retarget(
                &mut node.kind,
                ir::Target::Issue,
                ir::Target::Node(stock_at),
            );
        }
        nodes.push(ir::Node {
            id: "stock".into(),
            kind: ir::NodeKind::Stock {
                taken: ir::Target::Issue,
                exhausted: ir::Target::Node(stock_at + 1),
            },
        });
        nodes.push(ir::Node {
            id: "exhausted".into(),
            kind: ir::NodeKind::Fallback {
                award: self.fallback,
                amount: None,
            },
        });
        nodes
    }
}

fn retarget(kind: &mut ir::NodeKind, from: ir::Target, to: ir::Target) {
    let swap = |t: &mut ir::Target| {
        if *t == from {
            *t = to;
        }
    };
    match kind {
        ir::NodeKind::Lock {
            unlocked, locked, ..
        } => {
            swap(unlocked);
            swap(locked);
        }
        ir::NodeKind::Stock { taken, exhausted } => {
            swap(taken);
            swap(exhausted);
        }
        ir::NodeKind::Condition {
            then, otherwise, ..
        } => {
            swap(then);
            swap(otherwise);
        }
        ir::NodeKind::Fallback { .. } => {}
    }
}

/// Stock rules for one pool entry; returns the tree index the entry runs
/// (an inserted tree when the compiler adds the stock node), or `None` on error.
pub(super) fn entry<'a>(
    cx: &Context<'a>,
    out: &mut Findings<'a>,
    entry: &'a Sp<PoolEntry>,
    tree: Option<usize>,
    drafts: &[TreeDraft],
    inserted: &mut Vec<StockInsert>,
) -> Option<Option<u32>> {
    let f = cx.file;
    let e = &entry.value;
    let draft = tree.map(|t| &drafts[t]);
    if draft.is_some_and(|d| !d.valid) {
        return None;
    }
    let has_stock_node = draft.is_some_and(|d| {
        d.nodes
            .iter()
            .any(|n| matches!(n.kind, ir::NodeKind::Stock { .. }))
    });
    let unchecked = match draft {
        Some(d) => graph::path_without_stock(d),
        None => Some(Vec::new()),
    };
    let coupon = cx.awards.is_coupon(&e.award.value);
    match (&e.stock, &e.exhausted) {
        (None, Some(exhausted)) if !coupon => {
            out.push(
                Diagnostic::new(
                    Code::ConflictingKeys,
                    exhausted.span,
                    "`exhausted` needs `stock`: an award without stock never runs out",
                )
                .label("no stock to exhaust")
                .help("add `stock: N`, or remove `exhausted`"),
            );
            None
        }
        (None, None) if coupon => checked_issue(
            out,
            e,
            e.award.span,
            "is a coupon (its codes can run out)",
            unchecked,
            tree,
        ),
        (None, None) => {
            if has_stock_node {
                let tree_id = &f.trees.0[tree.expect("has a tree")].0;
                out.push(
                    Diagnostic::new(Code::StockWithoutStock, e.award.span, format!("tree `{}` checks stock, but award `{}` has no stock here: it never runs out", tree_id.value, e.award.value))
                        .label("no stock")
                        .with(tree_id.span, "tree with a stock node")
                        .help("add `stock: N` to the pool entry, or use a tree without a stock node"),
                );
            }
            Some(tree.map(|t| t as u32))
        }
        (_, Some(exhausted)) if has_stock_node => {
            out.push(
                Diagnostic::new(Code::ConflictingKeys, exhausted.span, "the tree has its own stock node; `exhausted` is for entries whose tree has none")
                    .label("route the stock node instead")
                    .help("remove `exhausted` and route the tree's stock node"),
            );
            None
        }
        (_, Some(exhausted)) => {
            let fallback = resolve::unlimited_award(cx, out, exhausted, "`exhausted`")?;
            inserted.push(StockInsert {
                tree,
                award: e.award.value.clone(),
                fallback,
            });
            Some(Some((f.trees.len() + inserted.len() - 1) as u32))
        }
        (Some(stock), None) => checked_issue(out, e, stock.span, "has stock", unchecked, tree),
    }
}

/// A limited award must pass a stock node on every path that issues it.
fn checked_issue(
    out: &mut Findings<'_>,
    e: &PoolEntry,
    span: Span,
    why: &str,
    unchecked: Option<Vec<String>>,
    tree: Option<usize>,
) -> Option<Option<u32>> {
    let Some(path) = unchecked else {
        return Some(tree.map(|t| t as u32));
    };
    let via = if path.is_empty() {
        "directly".to_string()
    } else {
        let path: Vec<String> = path.iter().map(|id| format!("`{id}`")).collect();
        format!("via {}", path.join(" → "))
    };
    out.push(
        Diagnostic::new(Code::UncheckedStock, span, format!("award `{}` {why} but is issued {via} without a stock node", e.award.value))
            .label("stock never checked on that path")
            .help("add a node `- stock: { exhausted: <fallback node> }` to its tree, or add `exhausted: <award>` to this entry so the compiler inserts one"),
    );
    None
}
