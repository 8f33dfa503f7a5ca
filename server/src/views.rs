//! The JSON of the reading views — statistics, a user's standing, prize list,
//! tiers, history and credits — and their OpenAPI schemas, built from the
//! engine's typed views: rates and shares become exact strings, kinds, modes
//! and periods their names, here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tombola_engine as engine;
use tombola_ir::{LockPeriod, WeightMode};

use crate::answers::exact;

/// A campaign's figures: per award, and draws per campaign-zone day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CampaignStats {
    pub campaign: String,
    pub version: i64,
    pub draws: i64,
    pub awards: Vec<AwardStats>,
    pub days: Vec<DayStats>,
}

/// One award's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AwardStats {
    pub award: String,
    pub title: Option<String>,
    /// Draws that ended in this award.
    pub issued: i64,
    /// `None` for an award without stock.
    pub stock: Option<StockView>,
}

/// An award's stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StockView {
    pub declared: i64,
    pub remaining: i64,
    /// Units taken from the stock.
    pub issued: i64,
}

/// Draws on one campaign-zone day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayStats {
    /// `YYYY-MM-DD` in the campaign's zone.
    pub day: String,
    pub draws: i64,
    /// Draws per award that day.
    pub awards: BTreeMap<String, i64>,
}

impl From<engine::CampaignStats> for CampaignStats {
    fn from(stats: engine::CampaignStats) -> Self {
        CampaignStats {
            campaign: stats.campaign,
            version: stats.version,
            draws: stats.draws,
            awards: stats
                .awards
                .into_iter()
                .map(|award| AwardStats {
                    award: award.award,
                    title: award.title,
                    issued: award.issued,
                    stock: award.stock.map(|stock| StockView {
                        declared: stock.declared,
                        remaining: stock.remaining,
                        issued: stock.issued,
                    }),
                })
                .collect(),
            days: stats
                .days
                .into_iter()
                .map(|day| DayStats {
                    day: day.day,
                    draws: day.draws,
                    awards: day.awards,
                })
                .collect(),
        }
    }
}

/// A user's prize list: every award of the pool with its lock state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PrizeList {
    pub campaign: String,
    pub user: String,
    pub made_today: i64,
    pub made_this_month: i64,
    pub made_in_total: i64,
    pub awards: Vec<Prize>,
}

/// One award of the pool, as this user sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Prize {
    pub award: String,
    pub kind: String,
    pub title: Option<String>,
    /// The configured rate, exact, as a decimal string.
    pub rate: String,
    /// `available`, `locked` (a lock on its path is not open yet) or `sold_out`.
    pub state: PrizeState,
    /// Draws still to make before every lock on its path opens; 0 when open.
    pub draws_to_unlock: i64,
    pub locks: Vec<LockView>,
    /// Stock left, for a stocked award.
    pub remaining: Option<i64>,
    /// Condition nodes on its path: the award also depends on these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrizeState {
    Available,
    Locked,
    SoldOut,
}

/// A lock node on an award's path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LockView {
    /// `<tree>/<node>`.
    pub node: String,
    pub after: u32,
    /// `day`, `month` or `total`.
    pub per: String,
    /// Draws the lock counts now.
    pub made: i64,
    pub open: bool,
}

/// A lock period's name: `day`, `month` or `total`.
pub(crate) fn period_name(per: LockPeriod) -> &'static str {
    match per {
        LockPeriod::Day => "day",
        LockPeriod::Month => "month",
        LockPeriod::Total => "total",
    }
}

impl From<engine::PrizeList> for PrizeList {
    fn from(list: engine::PrizeList) -> Self {
        PrizeList {
            campaign: list.campaign,
            user: list.user,
            made_today: list.made_today,
            made_this_month: list.made_this_month,
            made_in_total: list.made_in_total,
            awards: list.awards.into_iter().map(Prize::from).collect(),
        }
    }
}

impl From<engine::Prize> for Prize {
    fn from(prize: engine::Prize) -> Self {
        Prize {
            award: prize.award,
            kind: prize.kind.name().to_string(),
            title: prize.title,
            rate: exact(prize.rate),
            state: match prize.state {
                engine::PrizeState::Available => PrizeState::Available,
                engine::PrizeState::Locked => PrizeState::Locked,
                engine::PrizeState::SoldOut => PrizeState::SoldOut,
            },
            draws_to_unlock: prize.draws_to_unlock,
            locks: prize
                .locks
                .into_iter()
                .map(|lock| LockView {
                    node: lock.node,
                    after: lock.after,
                    per: period_name(lock.per).to_string(),
                    made: lock.made,
                    open: lock.open,
                })
                .collect(),
            remaining: prize.remaining,
            conditions: prize.conditions,
        }
    }
}

/// A user's progress through a campaign's weight tiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TierProgress {
    pub campaign: String,
    pub user: String,
    pub rules: Vec<WeightRuleView>,
}

/// One weight rule of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WeightRuleView {
    pub rule: String,
    /// The score expression, printed.
    pub score: String,
    /// `at_least` or `exactly`.
    pub mode: String,
    /// The user's score now; `None` when the expression reads an input only a
    /// draw supplies (a declared user attribute).
    pub value: Option<i64>,
    /// The threshold of the tier that applies now, if any.
    pub current: Option<i64>,
    /// The next threshold above the score, and how far it is.
    pub next: Option<i64>,
    pub to_next: Option<i64>,
    pub tiers: Vec<TierView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TierView {
    pub threshold: i64,
    /// The tier's awards with their shares of the tier, exact decimals.
    pub awards: BTreeMap<String, String>,
}

impl From<engine::TierProgress> for TierProgress {
    fn from(progress: engine::TierProgress) -> Self {
        TierProgress {
            campaign: progress.campaign,
            user: progress.user,
            rules: progress
                .rules
                .into_iter()
                .map(|rule| WeightRuleView {
                    rule: rule.rule,
                    score: rule.score,
                    mode: match rule.mode {
                        WeightMode::AtLeast => "at_least",
                        WeightMode::Exactly => "exactly",
                    }
                    .to_string(),
                    value: rule.value,
                    current: rule.current,
                    next: rule.next,
                    to_next: rule.to_next,
                    tiers: rule
                        .tiers
                        .into_iter()
                        .map(|tier| TierView {
                            threshold: tier.threshold,
                            awards: tier
                                .awards
                                .into_iter()
                                .map(|(award, share)| (award, exact(share)))
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A page of a user's draws, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct History {
    pub campaign: String,
    pub user: String,
    pub draws: Vec<HistoryEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub request_id: String,
    pub award: String,
    pub amount: Option<String>,
    pub version: i64,
    pub at: DateTime<Utc>,
}

impl From<engine::History> for History {
    fn from(history: engine::History) -> Self {
        History {
            campaign: history.campaign,
            user: history.user,
            draws: history
                .draws
                .into_iter()
                .map(|entry| HistoryEntry {
                    request_id: entry.request_id,
                    award: entry.award,
                    amount: entry.amount,
                    version: entry.version,
                    at: entry.at,
                })
                .collect(),
            next_cursor: history.next_cursor,
        }
    }
}

/// A user's standing in a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserStatus {
    pub campaign: String,
    pub user: String,
    pub draws_made: i64,
    pub draws_left: i64,
    pub made_today: i64,
    pub made_this_month: i64,
    /// Room under each cap; `None` where the campaign has no such cap.
    pub left_today: Option<i64>,
    pub left_this_month: Option<i64>,
    pub left_in_total: Option<i64>,
}

impl From<engine::UserStatus> for UserStatus {
    fn from(status: engine::UserStatus) -> Self {
        UserStatus {
            campaign: status.campaign,
            user: status.user,
            draws_made: status.draws_made,
            draws_left: status.draws_left,
            made_today: status.made_today,
            made_this_month: status.made_this_month,
            left_today: status.left_today,
            left_this_month: status.left_this_month,
            left_in_total: status.left_in_total,
        }
    }
}

/// A user's credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Credits {
    pub user: String,
    pub balance: String,
    /// The latest entries, newest first.
    pub entries: Vec<LedgerEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LedgerEntry {
    /// Signed, exact: `"12.5"`, `"-20"`.
    pub delta: String,
    /// `award`, `rebate`, `exchange` or `adjustment: <why>`.
    pub reason: String,
    /// `<campaign>/<request id>` or the adjustment's request id.
    pub reference: String,
    pub at: DateTime<Utc>,
}

impl From<engine::Credits> for Credits {
    fn from(credits: engine::Credits) -> Self {
        Credits {
            user: credits.user,
            balance: credits.balance,
            entries: credits
                .entries
                .into_iter()
                .map(|entry| LedgerEntry {
                    delta: entry.delta,
                    reason: entry.reason,
                    reference: entry.reference,
                    at: entry.at,
                })
                .collect(),
        }
    }
}
