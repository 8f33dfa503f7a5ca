//! Read-only views over a campaign and its store: statistics, a user's prize
//! list with lock states, weight-tier progress and draw history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tombola_ir::{AwardKind, Campaign, ChainKind, LockPeriod, NodeKind, WeightMode};

use crate::counts::UserCounts;
use crate::engine::{Engine, Failure};
use crate::evaluate::{DrawInput, Inputs};
use crate::period::Periods;
use crate::random::SeededRandom;
use crate::store::prelude::*;
use crate::store::{DayCount, HistoryQuery, StoreError, Tx};
use crate::{Context, Deployed};

/// A campaign's figures: per award, and draws per campaign-zone day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignStats {
    pub campaign: String,
    pub version: i64,
    pub draws: i64,
    pub awards: Vec<AwardStats>,
    pub days: Vec<DayStats>,
}

/// One award's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardStats {
    pub award: String,
    pub title: Option<String>,
    /// Draws that ended in this award.
    pub issued: i64,
    /// `None` for an award without stock.
    pub stock: Option<StockView>,
}

/// An award's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockView {
    pub declared: i64,
    pub remaining: i64,
    /// Units taken from the stock.
    pub issued: i64,
}

/// Draws on one campaign-zone day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayStats {
    /// `YYYY-MM-DD` in the campaign's zone.
    pub day: String,
    pub draws: i64,
    /// Draws per award that day.
    pub awards: BTreeMap<String, i64>,
}

/// A user's prize list: every award of the pool with its lock state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrizeList {
    pub campaign: String,
    pub user: String,
    pub made_today: i64,
    pub made_this_month: i64,
    pub made_in_total: i64,
    pub awards: Vec<Prize>,
}

/// One award of the pool, as this user sees it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prize {
    pub award: String,
    pub kind: AwardKind,
    pub title: Option<String>,
    /// The configured rate, exact.
    pub rate: Decimal,
    /// `available`, `locked` (a lock on its path is not open yet) or `sold_out`.
    pub state: PrizeState,
    /// Draws still to make before every lock on its path opens; 0 when open.
    pub draws_to_unlock: i64,
    pub locks: Vec<LockView>,
    /// Stock left, for a stocked award.
    pub remaining: Option<i64>,
    /// Condition nodes on its path: the award also depends on these.
    pub conditions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrizeState {
    Available,
    Locked,
    SoldOut,
}

/// A lock node on an award's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockView {
    /// `<tree>/<node>`.
    pub node: String,
    pub after: u32,
    pub per: LockPeriod,
    /// Draws the lock counts now.
    pub made: i64,
    pub open: bool,
}

/// A user's progress through a campaign's weight tiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierProgress {
    pub campaign: String,
    pub user: String,
    pub rules: Vec<WeightRuleView>,
}

/// One weight rule of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightRuleView {
    pub rule: String,
    /// The score expression, printed.
    pub score: String,
    pub mode: WeightMode,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierView {
    pub threshold: i64,
    /// The tier's awards with their shares of the tier, to 6 places.
    pub awards: BTreeMap<String, Decimal>,
}

/// A page of a user's draws, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub campaign: String,
    pub user: String,
    pub draws: Vec<HistoryEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub request_id: String,
    pub award: String,
    pub amount: Option<String>,
    pub version: i64,
    pub at: DateTime<Utc>,
}

/// The largest page of history one call returns.
pub const MAX_PAGE: u32 = 100;

/// A user's draw counts at `now`, in the campaign's zone.
pub(crate) async fn counts_at(
    tx: &mut Tx,
    campaign: &Campaign,
    user: &str,
    now: DateTime<Utc>,
) -> Result<UserCounts, StoreError> {
    tx.counts(&campaign.id, user, &Periods::at(campaign, now))
        .await
}

impl Engine {
    async fn deployed(&self, id: &str) -> Result<std::sync::Arc<Deployed>, Failure> {
        self.resolve(id).await
    }

    /// Per award, stock left and draws issued; draws per campaign-zone day.
    pub async fn stats(&self, id: &str) -> Result<CampaignStats, Failure> {
        let deployed = self.deployed(id).await?;
        let campaign = &deployed.campaign;
        let mut tx = self.store().read().await?;
        let counts = tx.draw_counts(id).await?;
        let stocks = tx.award_stocks(id).await?;
        drop(tx);
        let mut issued = BTreeMap::<&str, i64>::new();
        let mut days = Vec::<DayStats>::new();
        for DayCount {
            day,
            award,
            draws: n,
        } in &counts
        {
            *issued.entry(award).or_default() += n;
            match days.last_mut() {
                Some(last) if last.day == *day => {
                    last.draws += n;
                    last.awards.insert(award.clone(), *n);
                }
                _ => days.push(DayStats {
                    day: day.clone(),
                    draws: *n,
                    awards: BTreeMap::from([(award.clone(), *n)]),
                }),
            }
        }
        let awards = campaign
            .awards
            .iter()
            .map(|award| AwardStats {
                award: award.id.clone(),
                title: award.title.clone(),
                issued: issued.get(award.id.as_str()).copied().unwrap_or(0),
                stock: stocks
                    .iter()
                    .find(|s| s.award == award.id)
                    .map(|s| StockView {
                        declared: s.declared,
                        remaining: s.remaining,
                        issued: s.issued,
                    }),
            })
            .collect();
        Ok(CampaignStats {
            campaign: id.to_string(),
            version: deployed.version,
            draws: counts.iter().map(|c| c.draws).sum(),
            awards,
            days,
        })
    }

    /// The pool's awards as `user` sees them now: open, locked (and how many
    /// draws until they open) or sold out.
    pub async fn prize_list(
        &self,
        id: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<PrizeList, Failure> {
        let deployed = self.deployed(id).await?;
        let campaign = &deployed.campaign;
        let mut tx = self.store().read().await?;
        let made = counts_at(&mut tx, campaign, user, now).await?;
        let stocks = tx.award_stocks(id).await?;
        drop(tx);
        let awards = campaign
            .pool
            .iter()
            .map(|entry| {
                let award = &campaign.awards[entry.award as usize];
                let row = stocks
                    .iter()
                    .find(|s| s.award == award.id)
                    .map(|s| s.remaining);
                let remaining = match (entry.stock, award.kind) {
                    (Some(_), _) => row,
                    // A coupon's stock is its uploaded codes: with none uploaded
                    // none is left, which is what a draw finds.
                    (None, AwardKind::Coupon) => Some(row.unwrap_or(0)),
                    (None, _) => None,
                };
                let mut locks = Vec::new();
                let mut conditions = Vec::new();
                if let Some(tree) = entry.tree {
                    let tree = &campaign.trees[tree as usize];
                    for ix in tree.nodes_to_issue() {
                        let node = &tree.nodes[ix];
                        let name = format!("{}/{}", tree.id, node.id);
                        match &node.kind {
                            NodeKind::Lock { after, per, .. } => {
                                let count = match per {
                                    LockPeriod::Day => made.today,
                                    LockPeriod::Month => made.month,
                                    LockPeriod::Total => made.total,
                                };
                                locks.push(LockView {
                                    node: name,
                                    after: *after,
                                    per: *per,
                                    made: count,
                                    open: count >= i64::from(*after),
                                });
                            }
                            NodeKind::Condition { .. } => conditions.push(name),
                            NodeKind::Stock { .. } | NodeKind::Fallback { .. } => {}
                        }
                    }
                }
                let draws_to_unlock = locks
                    .iter()
                    .map(|l| (i64::from(l.after) - l.made).max(0))
                    .max()
                    .unwrap_or(0);
                let state = if remaining == Some(0) {
                    PrizeState::SoldOut
                } else if draws_to_unlock > 0 {
                    PrizeState::Locked
                } else {
                    PrizeState::Available
                };
                Prize {
                    award: award.id.clone(),
                    kind: award.kind,
                    title: award.title.clone(),
                    rate: entry.rate,
                    state,
                    draws_to_unlock,
                    locks,
                    remaining,
                    conditions,
                }
            })
            .collect();
        Ok(PrizeList {
            campaign: id.to_string(),
            user: user.to_string(),
            made_today: made.today,
            made_this_month: made.month,
            made_in_total: made.total,
            awards,
        })
    }

    /// The campaign's weight tiers and where `user` stands in each rule.
    pub async fn tier_progress(
        &self,
        id: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<TierProgress, Failure> {
        let deployed = self.deployed(id).await?;
        let campaign = &deployed.campaign;
        let mut tx = self.store().read().await?;
        let made = counts_at(&mut tx, campaign, user, now).await?;
        let credits = Decimal::new(tx.balance(user).await?, 2);
        drop(tx);
        // No declared attribute is known outside a draw: a score that reads one has no value here.
        let attributes = vec![None; campaign.inputs.user.len()];
        let input = DrawInput::new(campaign.allowance, user, made, false, credits, &attributes);
        let env = Inputs { input: &input };
        let mut random = SeededRandom::new(0);
        let mut cx = Context {
            now,
            random: &mut random,
            force: None,
        };
        let rules = campaign
            .chain
            .iter()
            .filter_map(|rule| {
                let ChainKind::Weight { score, mode, tiers } = &rule.kind else {
                    return None;
                };
                let value = score
                    .eval_decimal(&env, &mut cx)
                    .ok()
                    .and_then(|d| i64::try_from(d.floor()).ok());
                let current = value
                    .and_then(|v| tombola_ir::tier_for(*mode, tiers, v))
                    .map(|t| t.threshold);
                let next = value
                    .and_then(|v| tiers.iter().find(|t| t.threshold > v))
                    .map(|t| t.threshold);
                Some(WeightRuleView {
                    rule: rule.id.clone(),
                    score: score.source().to_string(),
                    mode: *mode,
                    value,
                    current,
                    to_next: next.zip(value).map(|(n, v)| n - v),
                    next,
                    tiers: tiers
                        .iter()
                        .map(|tier| TierView {
                            threshold: tier.threshold,
                            awards: campaign
                                .shares(&tier.table)
                                .into_iter()
                                .map(|(award, share)| (award, share.round_dp(6)))
                                .collect(),
                        })
                        .collect(),
                })
            })
            .collect();
        Ok(TierProgress {
            campaign: id.to_string(),
            user: user.to_string(),
            rules,
        })
    }

    /// A page of `user`'s draws, newest first; `cursor` is a previous page's `next_cursor`.
    pub async fn history(
        &self,
        id: &str,
        user: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<History, Failure> {
        self.deployed(id).await?;
        let limit = limit.clamp(1, MAX_PAGE);
        let before = cursor.map(parse_cursor).transpose()?;
        let mut tx = self.store().read().await?;
        // One more than asked tells whether there is a next page.
        let mut rows = tx
            .history(&HistoryQuery {
                campaign: id,
                user,
                before: before.as_ref().map(|(at, rid)| (*at, rid.as_str())),
                limit: i64::from(limit) + 1,
            })
            .await?;
        drop(tx);
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = more
            .then(|| rows.last().map(|r| encode_cursor(r.at, &r.request_id)))
            .flatten();
        Ok(History {
            campaign: id.to_string(),
            user: user.to_string(),
            draws: rows
                .into_iter()
                .map(|r| HistoryEntry {
                    request_id: r.request_id,
                    award: r.award,
                    amount: r.amount,
                    version: r.version,
                    at: DateTime::from_timestamp_micros(r.at).unwrap_or_default(),
                })
                .collect(),
            next_cursor,
        })
    }
}

/// A cursor is `<created_at micros>.<request id>` of the previous page's last
/// row, hex-encoded so any request id survives a query string.
fn encode_cursor(at: i64, request_id: &str) -> String {
    hex::encode(format!("{at}.{request_id}"))
}

/// The position a cursor names, if it is one this API could have given: a
/// timestamp no earlier than 1970 and a request id that is one.
fn parse_cursor(cursor: &str) -> Result<(i64, String), Failure> {
    let bad = || {
        Failure::BadInput(format!(
            "`cursor`: `{cursor}` is not a cursor this API gave"
        ))
    };
    let text = hex::decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(bad)?;
    let (at, request_id) = text.split_once('.').ok_or_else(bad)?;
    let canonical =
        at.bytes().all(|b| b.is_ascii_digit()) && !(at.len() > 1 && at.starts_with('0'));
    let at: i64 = at.parse().ok().filter(|_| canonical).ok_or_else(bad)?;
    crate::limits::check_identifier(request_id).map_err(|_| bad())?;
    Ok((at, request_id.to_string()))
}
