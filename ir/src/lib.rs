//! The compiled campaign the engine runs — resolved ids, compiled expressions,
//! exact draw tables — and the only contract between the compiler (`tombola-dsl`)
//! and the engine. No document types; validated once, when built.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use tombola_grammar::{Program, Slot, Type};

pub mod draw_table;

pub use crate::draw_table::{DrawTable, TableError};

/// The most credits one amount or one balance may hold, either sign:
/// 1,000,000,000,000.00. Amounts are exact to hundredths, so every balance
/// within it fits a 64-bit integer of hundredths with room to add one more.
pub const MAX_CREDITS: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);

/// The most draws one award or rebate may grant at once.
pub const MAX_DRAWS_GRANTED: i64 = 1_000_000;

/// What an award gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardKind {
    /// Credit points into the user's ledger, applied in the draw's transaction.
    Credits,
    /// Extra draws, applied in the draw's transaction.
    Draws,
    /// A physical or digital item, delivered by webhook.
    Item,
    /// A coupon code from an uploaded pool, delivered by webhook.
    Coupon,
    /// Explicitly nothing.
    None,
}

impl AwardKind {
    /// The kind's name as files and answers spell it.
    pub fn name(self) -> &'static str {
        match self {
            AwardKind::Credits => "credits",
            AwardKind::Draws => "draws",
            AwardKind::Item => "item",
            AwardKind::Coupon => "coupon",
            AwardKind::None => "none",
        }
    }
}

/// How a weight rule matches its score to a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMode {
    /// The highest threshold at or below the score.
    AtLeast,
    /// Only a threshold equal to the score: fires once.
    Exactly,
}

/// Which completed draws a lock counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockPeriod {
    Total,
    Day,
    Month,
}

/// How often a rebate may pay one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Once {
    PerDay,
    PerWeek,
    PerMonth,
    Ever,
}

impl Once {
    /// The name files and answers use (`per_day`).
    pub fn name(self) -> &'static str {
        match self {
            Once::PerDay => "per_day",
            Once::PerWeek => "per_week",
            Once::PerMonth => "per_month",
            Once::Ever => "ever",
        }
    }
}

/// Index of an award in [`Campaign::awards`].
pub type AwardIx = u32;
/// Index of an entry in [`Campaign::pool`].
pub type EntryIx = u32;
/// Index of a tree in [`Campaign::trees`].
pub type TreeIx = u32;
/// Index of a SKU in [`Campaign::skus`].
pub type SkuIx = u32;

/// A compiled campaign.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub initial_state: State,
    pub window: Window,
    pub allowance: Allowance,
    pub quota: Quota,
    pub inputs: Inputs,
    pub delivery: Option<Delivery>,
    pub awards: Vec<Award>,
    pub pool: Vec<PoolEntry>,
    /// The whole pool's draw table.
    pub table: DrawTable,
    pub chain: Vec<ChainRule>,
    pub trees: Vec<Tree>,
    pub skus: Vec<Sku>,
    pub rebates: Vec<Rebate>,
}

impl Campaign {
    /// The locks on the paths from pool entry `entry`'s tree to its award
    /// (for reviews: "unlocks after 3 draws, was 2").
    pub fn gates(&self, entry: usize) -> Vec<Gate> {
        let Some(tree) = self.pool.get(entry).and_then(|e| e.tree) else {
            return Vec::new();
        };
        let tree = &self.trees[tree as usize];
        tree.nodes_to_issue()
            .into_iter()
            .filter_map(|ix| match &tree.nodes[ix].kind {
                NodeKind::Lock { after, per, .. } => Some(Gate {
                    node: format!("{}/{}", tree.id, tree.nodes[ix].id),
                    after: *after,
                    per: match per {
                        LockPeriod::Day => "day",
                        LockPeriod::Month => "month",
                        LockPeriod::Total => "total",
                    }
                    .to_string(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Whether a draw of this campaign reads `slot`: the chain's programs, the
    /// trees' and every award amount (rebates run on events, not draws). The
    /// store reads what a draw reads and nothing else.
    pub fn draw_reads(&self, slot: Slot) -> bool {
        let chain = self.chain.iter().flat_map(|rule| match &rule.kind {
            ChainKind::Blacklist { condition, .. } => condition.iter().collect::<Vec<_>>(),
            ChainKind::Weight { score, .. } => vec![score],
            ChainKind::When { condition, .. } => vec![condition],
        });
        let nodes = self
            .trees
            .iter()
            .flat_map(|tree| &tree.nodes)
            .filter_map(|node| match &node.kind {
                NodeKind::Condition { condition, .. } => Some(condition),
                NodeKind::Fallback { amount, .. } => amount.as_ref(),
                NodeKind::Lock { .. } | NodeKind::Stock { .. } => None,
            });
        let amounts = self.awards.iter().filter_map(|award| award.amount.as_ref());
        chain
            .chain(nodes)
            .chain(amounts)
            .any(|program| program.reads().contains(&slot))
    }

    /// Each award's share of `table` (the pool's or a tier's), exact: its
    /// weight over the table's total.
    pub fn shares(&self, table: &DrawTable) -> BTreeMap<String, Decimal> {
        let total = Decimal::from(table.total);
        table
            .entries
            .iter()
            .zip(&table.weights)
            .map(|(&entry, &weight)| {
                let award = &self.awards[self.pool[entry as usize].award as usize];
                (award.id.clone(), Decimal::from(weight) / total)
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Draft,
    Open,
    Closed,
}

/// `[from, until)` in UTC; days and months are counted in `zone`.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub from: DateTime<Utc>,
    /// Exclusive end; `None` stays open.
    pub until: Option<DateTime<Utc>>,
    #[serde(serialize_with = "zone_name")]
    pub zone: Tz,
}

fn zone_name<S: serde::Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(zone.name())
}

impl Window {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        at >= self.from && self.until.is_none_or(|until| at < until)
    }
}

/// The free draws every user holds; draws granted (SKUs, rebates, awards)
/// come on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Allowance {
    /// Free draws for the whole campaign.
    Campaign(u32),
    /// Free draws each day in the campaign's zone, not carried over, used
    /// before granted draws.
    Daily { per_day: u32 },
}

impl std::fmt::Display for Allowance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Allowance::Campaign(free) => write!(f, "{free} draws for the whole campaign"),
            Allowance::Daily { per_day } => write!(f, "{per_day} draws a day"),
        }
    }
}

impl Default for Allowance {
    fn default() -> Self {
        Allowance::Campaign(0)
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Quota {
    pub total: Option<u32>,
    pub per_day: Option<u32>,
    pub per_month: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inputs {
    pub user: Vec<(String, Type)>,
    pub events: Vec<EventDecl>,
}

impl Inputs {
    /// The declared event named `name`.
    pub fn event(&self, name: &str) -> Option<&EventDecl> {
        self.events.iter().find(|e| e.name == name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EventDecl {
    pub name: String,
    pub attributes: Vec<(String, Type)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub webhook: String,
    pub secret_env: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Award {
    pub id: String,
    pub kind: AwardKind,
    /// Credits (decimal) or draws (int) given; `None` for other kinds.
    pub amount: Option<Program>,
    pub title: Option<String>,
    pub cost: Option<Decimal>,
}

impl AwardKind {
    /// Delivered by webhook rather than applied inside the draw's transaction.
    pub fn is_external(self) -> bool {
        matches!(self, AwardKind::Item | AwardKind::Coupon)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PoolEntry {
    pub award: AwardIx,
    pub rate: Decimal,
    pub stock: Option<u64>,
    /// The tree run after this entry is drawn; `None` issues the award directly.
    pub tree: Option<TreeIx>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainRule {
    pub id: String,
    pub kind: ChainKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainKind {
    Blacklist {
        users: BTreeSet<String>,
        condition: Option<Program>,
        award: AwardIx,
    },
    Weight {
        score: Program,
        mode: WeightMode,
        /// In increasing threshold order.
        tiers: Vec<Tier>,
    },
    When {
        condition: Program,
        outcome: RuleOutcome,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Tier {
    pub threshold: i64,
    pub table: DrawTable,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    Give(AwardIx),
    Draw(DrawTable),
}

/// Where an outcome goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Node(u32),
    /// Issue the drawn award.
    Issue,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    pub id: String,
    pub nodes: Vec<Node>,
    pub entry: Target,
}

#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Lock {
        after: u32,
        per: LockPeriod,
        unlocked: Target,
        locked: Target,
    },
    Stock {
        taken: Target,
        exhausted: Target,
    },
    Condition {
        condition: Program,
        then: Target,
        otherwise: Target,
    },
    Fallback {
        award: AwardIx,
        amount: Option<Program>,
    },
}

/// The tier a weight rule picks for `score`: `at_least`, the last tier at or
/// below it (tiers are in increasing order); `exactly`, the tier equal to it.
pub fn tier_for(mode: WeightMode, tiers: &[Tier], score: i64) -> Option<&Tier> {
    match mode {
        WeightMode::AtLeast => tiers.iter().rev().find(|t| t.threshold <= score),
        WeightMode::Exactly => tiers.iter().find(|t| t.threshold == score),
    }
}

impl ChainKind {
    /// The ways out of the rule, as its explanation steps name them, a weight
    /// rule's tiers by threshold (`tier 40`). A weight rule's `no_tier` is left
    /// out when an `at_least` tier starts at 0 or below: scores (draw counts,
    /// mostly) are rarely negative, and coverage should not wait on a way out
    /// no draw takes.
    pub fn routes(&self) -> Vec<String> {
        match self {
            ChainKind::Blacklist { .. } => vec!["listed".into(), "not_listed".into()],
            ChainKind::Weight { mode, tiers, .. } => {
                let mut routes: Vec<String> = tiers
                    .iter()
                    .map(|t| format!("tier {}", t.threshold))
                    .collect();
                let covers_all =
                    *mode == WeightMode::AtLeast && tiers.first().is_some_and(|t| t.threshold <= 0);
                if !covers_all {
                    routes.push("no_tier".into());
                }
                routes
            }
            ChainKind::When { .. } => vec!["true".into(), "false".into()],
        }
    }
}

impl NodeKind {
    /// Outcome names and targets, in a fixed order.
    pub fn routes(&self) -> Vec<(&'static str, Target)> {
        match self {
            NodeKind::Lock {
                unlocked, locked, ..
            } => vec![("unlocked", *unlocked), ("locked", *locked)],
            NodeKind::Stock { taken, exhausted } => {
                vec![("taken", *taken), ("exhausted", *exhausted)]
            }
            NodeKind::Condition {
                then, otherwise, ..
            } => vec![("true", *then), ("false", *otherwise)],
            NodeKind::Fallback { .. } => Vec::new(),
        }
    }
}

/// Why a graph is not runnable. The checks report these first, with spans;
/// this is the compiler's own guarantee to the engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    #[error("tree `{tree}`: a route points past the last node")]
    DanglingRoute { tree: String },
    #[error("tree `{tree}`: the routes form a cycle through `{node}`")]
    Cycle { tree: String, node: String },
    #[error("tree `{tree}`: node `{node}` is unreachable")]
    Unreachable { tree: String, node: String },
}

impl Tree {
    /// The nodes on the paths from a tree's entry to issuing the drawn award: a
    /// lock's `locked` route and a stock's `exhausted` route lead elsewhere, so
    /// only `unlocked` and `taken` are followed through them. Linear in the tree:
    /// whether a node reaches the issue is worked out once per node.
    pub fn nodes_to_issue(&self) -> Vec<usize> {
        let tree = self;
        fn onward(tree: &Tree, ix: usize) -> Vec<Target> {
            match &tree.nodes[ix].kind {
                NodeKind::Lock { unlocked, .. } => vec![*unlocked],
                NodeKind::Stock { taken, .. } => vec![*taken],
                NodeKind::Condition {
                    then, otherwise, ..
                } => vec![*then, *otherwise],
                NodeKind::Fallback { .. } => Vec::new(),
            }
        }
        fn reaches(tree: &Tree, target: Target, memo: &mut [Option<bool>]) -> bool {
            let Target::Node(ix) = target else {
                return true;
            };
            let ix = ix as usize;
            if let Some(known) = memo[ix] {
                return known;
            }
            // Trees are acyclic (checked when compiled), so this terminates.
            let found = onward(tree, ix)
                .into_iter()
                .any(|next| reaches(tree, next, memo));
            memo[ix] = Some(found);
            found
        }
        let mut memo = vec![None; tree.nodes.len()];
        let mut found = Vec::new();
        let mut seen = vec![false; tree.nodes.len()];
        let mut stack = vec![tree.entry];
        while let Some(target) = stack.pop() {
            let Target::Node(ix) = target else { continue };
            let ix = ix as usize;
            if seen[ix] || !reaches(tree, target, &mut memo) {
                continue;
            }
            seen[ix] = true;
            found.push(ix);
            stack.extend(onward(tree, ix));
        }
        found.sort_unstable();
        found
    }

    /// Builds a tree, checking that every route lands on a node, that no route
    /// loops and that every node is reachable — so every path ends in an award.
    pub fn try_new(id: String, nodes: Vec<Node>, entry: Target) -> Result<Tree, GraphError> {
        let tree = Tree { id, nodes, entry };
        let n = tree.nodes.len();
        let dangling = |t: Target| matches!(t, Target::Node(i) if i as usize >= n);
        if dangling(entry)
            || tree
                .nodes
                .iter()
                .any(|node| node.kind.routes().iter().any(|(_, t)| dangling(*t)))
        {
            return Err(GraphError::DanglingRoute { tree: tree.id });
        }
        // Depth-first colouring: 1 = on the current path, 2 = done.
        let mut colour = vec![0u8; n];
        fn visit(tree: &Tree, at: usize, colour: &mut [u8]) -> Result<(), GraphError> {
            colour[at] = 1;
            for (_, target) in tree.nodes[at].kind.routes() {
                if let Target::Node(next) = target {
                    match colour[next as usize] {
                        1 => {
                            return Err(GraphError::Cycle {
                                tree: tree.id.clone(),
                                node: tree.nodes[next as usize].id.clone(),
                            });
                        }
                        0 => visit(tree, next as usize, colour)?,
                        _ => {}
                    }
                }
            }
            colour[at] = 2;
            Ok(())
        }
        if let Target::Node(start) = entry {
            visit(&tree, start as usize, &mut colour)?;
        }
        if let Some(at) = colour.iter().position(|c| *c == 0) {
            return Err(GraphError::Unreachable {
                tree: tree.id.clone(),
                node: tree.nodes[at].id.clone(),
            });
        }
        Ok(tree)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Sku {
    pub id: String,
    pub draws: u32,
    pub stock: Option<u64>,
    pub price: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rebate {
    pub id: String,
    /// Index into [`Inputs::events`].
    pub event: u32,
    pub condition: Option<Program>,
    pub once: Option<Once>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Sku(SkuIx),
    Credits(Program),
    Award(AwardIx),
}

/// Why a source did not load; the loader's own error (the compiler's
/// diagnostics, say), which its caller may downcast.
pub type LoadError = Box<dyn std::error::Error + Send + Sync>;

/// Turns a campaign's source into its IR. The store keeps each version's source,
/// never the compiler's output, so the engine is handed the compiler as a
/// loader (as zen's `DecisionLoader`) and never parses a file itself.
pub trait Loader: Send + Sync + std::fmt::Debug {
    /// The campaign compiled from `source`, or why it does not compile.
    fn load(&self, source: &str) -> Result<Campaign, LoadError>;
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn max_credits_is_a_trillion() {
        assert_eq!(MAX_CREDITS, Decimal::from(1_000_000_000_000_i64));
    }
}

/// A lock on the way to a pool entry's award: its node, and the draws it wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gate {
    pub node: String,
    pub after: u32,
    /// `day`, `month` or `total`.
    pub per: String,
}
