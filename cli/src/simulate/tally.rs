//! What a simulation counts as it runs, pooled over its runs: the tally the
//! runs fill in and the report is built from, and each run's days.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use sha2::Digest;
use tombola_ir::Campaign;

use super::profile::Profile;

/// What the runs of a simulation counted, pooled over its runs unless a
/// field says otherwise.
#[derive(Debug)]
pub(crate) struct Tally {
    pub(crate) days: u32,
    pub(crate) draws: u64,
    /// Draws refused (caps, no draws left), by problem type.
    pub(crate) refused: BTreeMap<String, u64>,
    /// Awards issued, by the campaign's award index.
    pub(crate) issued: Vec<u64>,
    /// `issued` of each run on its own.
    pub(crate) issued_by_run: Vec<Vec<u64>>,
    /// Picks made from the pool's own table, by award index, for the chi-square.
    pub(crate) picked: Vec<u64>,
    pub(crate) fallbacks: u64,
    pub(crate) granted: Decimal,
    pub(crate) spent: Decimal,
    /// The awards' `cost`, summed over the draws.
    pub(crate) cost: Decimal,
    /// What moved the observed cost away from the rates' expectation, summed
    /// over the draws, by cause (`stock`, `locks`, `tiers`, …, and `chance`).
    pub(crate) cost_causes: BTreeMap<&'static str, Decimal>,
    /// By award index: draws whose pick landed on it and that a tree sent
    /// elsewhere, by the step that did (`tree:vip_only/vip → false`).
    pub(crate) routed_away: Vec<BTreeMap<String, u64>>,
    /// By chain rule: draws the rule took over.
    pub(crate) took_over: Vec<u64>,
    /// By segment: its draws, and awards issued by award index.
    pub(crate) segments: Vec<(u64, Vec<u64>)>,
    /// The earliest day (1-based) of any run on which an award's stock was gone.
    pub(crate) sold_out: BTreeMap<String, u32>,
    /// Stock left when the first day starts, by award: what the file declares
    /// (and, for a coupon, the codes on hand).
    pub(crate) declared_stock: BTreeMap<String, i64>,
    /// Each run's days, in run order.
    pub(crate) runs: Vec<Vec<DayReport>>,
    pub(crate) digest: sha2::Sha256,
}

impl Tally {
    pub(crate) fn new(campaign: &Campaign, profile: &Profile, days: u32) -> Self {
        let awards = campaign.awards.len();
        Tally {
            days,
            draws: 0,
            refused: BTreeMap::new(),
            issued: vec![0; awards],
            issued_by_run: Vec::new(),
            picked: vec![0; awards],
            fallbacks: 0,
            granted: Decimal::ZERO,
            spent: Decimal::ZERO,
            cost: Decimal::ZERO,
            cost_causes: BTreeMap::new(),
            routed_away: vec![BTreeMap::new(); awards],
            took_over: vec![0; campaign.chain.len()],
            segments: vec![(0, vec![0; awards]); profile.segments.len()],
            sold_out: BTreeMap::new(),
            declared_stock: BTreeMap::new(),
            runs: Vec::new(),
            digest: sha2::Sha256::new(),
        }
    }
}

/// One day of one run: what it issued, the stock left at its end, and its tiers.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct DayReport {
    pub(crate) day: u32,
    pub(crate) issued: BTreeMap<String, u64>,
    pub(crate) stock_left: BTreeMap<String, i64>,
    /// Users in each tier of each weight rule at the end of the day, in chain
    /// and threshold order.
    pub(crate) tiers: Vec<TierCount>,
}

/// How many users stand in one tier of a weight rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TierCount {
    pub(crate) rule: String,
    /// The tier's threshold; `None` for users below every tier.
    pub(crate) tier: Option<i64>,
    /// Users whose score cannot be read outside a draw (it reads an attribute
    /// the draw sends) are counted apart, under `unknown`.
    pub(crate) unknown: bool,
    pub(crate) users: u64,
}

impl TierCount {
    pub(crate) fn label(&self) -> String {
        match (self.unknown, self.tier) {
            (true, _) => format!("{}: score unknown", self.rule),
            (false, Some(tier)) => format!("{}: tier {tier}", self.rule),
            (false, None) => format!("{}: no tier", self.rule),
        }
    }
}
