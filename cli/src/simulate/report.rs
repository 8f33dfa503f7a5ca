//! What a simulation reports, built once from its tally and then printed as
//! text, JSON or HTML: the figures pooled over the runs with p5/p95 bands
//! across them, the awards never issued and why, and the observed cost per
//! draw beside the rates' expectation with what made them differ.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use sha2::Digest;
use tombola_ir::{AwardKind, Campaign, ChainKind, RuleOutcome};

use super::profile::Profile;
use super::tally::{DayReport, Tally};

/// What the simulation gave.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) campaign: String,
    pub(crate) users: u32,
    pub(crate) days: u32,
    /// The first run's seed; run `k` (from 0) draws with `seed + k`.
    pub(crate) seed: u64,
    pub(crate) runs: u32,
    /// The profile file, or `None` for the flags' one segment.
    pub(crate) profile: Option<String>,
    /// Draws made, over all runs.
    pub(crate) draws: u64,
    /// Draws refused (caps, no draws left), by problem type.
    pub(crate) refused: BTreeMap<String, u64>,
    pub(crate) awards: Vec<AwardReport>,
    pub(crate) segments: Vec<SegmentReport>,
    /// Share of draws that ended in a tree's fallback.
    pub(crate) fallback_rate: f64,
    pub(crate) credits_granted: String,
    pub(crate) credits_spent: String,
    /// The awards' `cost` per draw, as the draws gave it (observed).
    pub(crate) cost_per_draw: String,
    /// The awards' `cost` per draw from the pool's rates alone (what `tombola
    /// diff` shows).
    pub(crate) expected_cost_per_draw: String,
    /// What moved the observed cost from the expected one, per draw, by
    /// cause; the parts add up to the difference (to rounding).
    pub(crate) cost_causes: Vec<CostCause>,
    /// Chi-square of the weighted picks made from the pool's own table against
    /// its rates, with its degrees of freedom.
    pub(crate) chi_square: f64,
    pub(crate) degrees_of_freedom: usize,
    /// Awards the simulation never issued, with the reason.
    pub(crate) warnings: Vec<Warning>,
    /// The first run, day by day: awards issued, stock left, users per tier.
    pub(crate) by_day: Vec<DayReport>,
    /// The same over every run, as the HTML report charts it.
    pub(crate) charts: Vec<Chart>,
    /// A digest of every draw's award, in order: equal runs give equal digests.
    pub(crate) digest: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AwardReport {
    pub(crate) award: String,
    /// Issued over all runs.
    pub(crate) issued: u64,
    /// Issued over draws, against the rate the pool configures.
    pub(crate) share: f64,
    pub(crate) rate: Option<String>,
    /// The first day (1-based) its stock was gone in any run, if it ran out.
    pub(crate) sold_out_on_day: Option<u32>,
    /// Issued in one run: mean, p5 and p95 across the runs (with more than one).
    pub(crate) per_run: Option<Band>,
}

/// One segment of the profile: its users (in each run), and its draws and
/// awards over all runs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SegmentReport {
    pub(crate) segment: String,
    pub(crate) users: u32,
    pub(crate) draws: u64,
    /// Awards issued to it, by award; awards it never got are left out.
    pub(crate) issued: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CostCause {
    /// `stock`, `locks`, `coupon codes`, `tree conditions`, `tiers`,
    /// `when rules`, `blacklist`, or `chance` (the picks themselves).
    pub(crate) cause: String,
    pub(crate) per_draw: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WarningKind {
    /// Nothing in this population could win it (no codes, always routed
    /// away, its rule never true).
    CannotWin,
    /// It could have come up and did not: a rare award in a short run.
    NeverCameUp,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Warning {
    pub(crate) award: String,
    pub(crate) kind: WarningKind,
    pub(crate) reason: String,
}

/// A value across runs: its mean and its 5th and 95th percentiles (nearest
/// rank: with 20 runs, the lowest but one and the highest but one).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Band {
    pub(crate) p5: f64,
    pub(crate) mean: f64,
    pub(crate) p95: f64,
}

impl Band {
    pub(crate) fn of(values: &[f64]) -> Band {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |p: f64| {
            let ix = (p * sorted.len() as f64).ceil() as usize;
            sorted.get(ix.saturating_sub(1)).copied().unwrap_or(0.0)
        };
        let mean = sorted.iter().sum::<f64>() / sorted.len().max(1) as f64;
        Band {
            p5: rank(0.05),
            mean,
            p95: rank(0.95),
        }
    }
}

/// A chart of the HTML report: one line per series over the days.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Chart {
    pub(crate) title: String,
    /// What the y axis counts.
    pub(crate) unit: String,
    /// The day of the first point: 0 for stock (what the file declares), else 1.
    pub(crate) first_day: u32,
    pub(crate) series: Vec<Series>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Series {
    pub(crate) name: String,
    /// One point a day, across the runs.
    pub(crate) points: Vec<Band>,
}

fn decimal(d: Decimal) -> String {
    d.round_dp(4).normalize().to_string()
}

/// The report of a finished simulation.
pub(crate) fn build(
    campaign: &Campaign,
    profile: &Profile,
    path: Option<String>,
    tally: Tally,
) -> Report {
    let draws = tally.draws.max(1);
    let per_draw = |d: Decimal| decimal(d / Decimal::from(draws));
    let mut report = Report {
        campaign: campaign.id.clone(),
        users: profile.users,
        days: tally.days,
        seed: profile.seed,
        runs: profile.runs,
        profile: path,
        draws: tally.draws,
        awards: awards(campaign, profile, &tally),
        segments: segments(campaign, profile, &tally),
        fallback_rate: tally.fallbacks as f64 / draws as f64,
        credits_granted: tally.granted.normalize().to_string(),
        credits_spent: tally.spent.normalize().to_string(),
        cost_per_draw: per_draw(tally.cost),
        expected_cost_per_draw: decimal(tombola_dsl::diff::expectations(campaign).1),
        cost_causes: tally
            .cost_causes
            .iter()
            .filter(|(_, sum)| !sum.is_zero())
            .map(|(cause, sum)| CostCause {
                cause: cause.to_string(),
                per_draw: per_draw(*sum),
            })
            .collect(),
        warnings: warnings(campaign, profile, &tally),
        charts: charts(campaign, &tally),
        ..Report::default()
    };
    if let Some(chi) = chi_square(campaign, &tally.picked) {
        report.chi_square = chi;
        report.degrees_of_freedom = campaign.pool.len().saturating_sub(1);
    }
    report.digest = tally
        .digest
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    report.refused = tally.refused;
    report.by_day = tally.runs.into_iter().next().unwrap_or_default();
    report
}

fn awards(campaign: &Campaign, profile: &Profile, tally: &Tally) -> Vec<AwardReport> {
    let draws = tally.draws.max(1) as f64;
    campaign
        .awards
        .iter()
        .enumerate()
        .map(|(ix, award)| AwardReport {
            award: award.id.clone(),
            issued: tally.issued[ix],
            share: tally.issued[ix] as f64 / draws,
            rate: campaign
                .pool
                .iter()
                .find(|e| e.award as usize == ix)
                .map(|e| e.rate.normalize().to_string()),
            sold_out_on_day: tally.sold_out.get(&award.id).copied(),
            per_run: (profile.runs > 1).then(|| {
                let runs: Vec<f64> = tally
                    .issued_by_run
                    .iter()
                    .map(|run| run[ix] as f64)
                    .collect();
                Band::of(&runs)
            }),
        })
        .collect()
}

fn segments(campaign: &Campaign, profile: &Profile, tally: &Tally) -> Vec<SegmentReport> {
    profile
        .segments
        .iter()
        .zip(profile.sizes())
        .zip(&tally.segments)
        .map(|((plan, users), (draws, issued))| SegmentReport {
            segment: plan.name.clone(),
            users,
            draws: *draws,
            issued: issued
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(ix, n)| (campaign.awards[ix].id.clone(), *n))
                .collect(),
        })
        .collect()
}

/// Chi-square of the picks made from the pool's own table against its rates;
/// `None` when there was no such pick.
fn chi_square(campaign: &Campaign, picked: &[u64]) -> Option<f64> {
    let total: u64 = picked.iter().sum();
    if total == 0 {
        return None;
    }
    let mut chi = 0.0;
    for entry in &campaign.pool {
        let rate: f64 = entry.rate.to_string().parse().unwrap_or(0.0);
        let expected = rate * total as f64;
        if expected > 0.0 {
            let seen = picked[entry.award as usize] as f64;
            chi += (seen - expected).powi(2) / expected;
        }
    }
    Some(chi)
}

/// Every award no run issued, with what kept it away.
fn warnings(campaign: &Campaign, profile: &Profile, tally: &Tally) -> Vec<Warning> {
    campaign
        .awards
        .iter()
        .enumerate()
        .filter(|(ix, _)| tally.issued[*ix] == 0)
        .map(|(ix, award)| {
            let (kind, reason) = never_issued(campaign, profile, tally, ix);
            Warning {
                award: award.id.clone(),
                kind,
                reason,
            }
        })
        .collect()
}

fn never_issued(
    campaign: &Campaign,
    profile: &Profile,
    tally: &Tally,
    ix: usize,
) -> (WarningKind, String) {
    let award = &campaign.awards[ix];
    let coded = profile
        .codes
        .iter()
        .any(|c| c.award == award.id && c.count > 0);
    if award.kind == AwardKind::Coupon && !coded {
        let reason = format!(
            "a coupon is issued with one of its codes, and the simulation had none: give the profile `codes: {{ {}: N }}`",
            award.id
        );
        return (WarningKind::CannotWin, reason);
    }
    let routed = &tally.routed_away[ix];
    if !routed.is_empty() {
        let total: u64 = routed.values().sum();
        let by: Vec<String> = routed.iter().map(|(at, n)| format!("{at} {n}×")).collect();
        let drawn = if total == 1 {
            "once".to_string()
        } else {
            format!("{total} times")
        };
        let reason = format!(
            "drawn {drawn}, and every time a tree sent it elsewhere: {}",
            by.join(", ")
        );
        return (WarningKind::CannotWin, reason);
    }
    by_rules_or_chance(campaign, tally, ix)
}

/// Why an award with codes that no tree turned away was never issued: the
/// rules that alone give it never applied, or its rate never came up.
fn by_rules_or_chance(campaign: &Campaign, tally: &Tally, ix: usize) -> (WarningKind, String) {
    let rules = rules_giving(campaign, ix);
    let in_pool = campaign.pool.iter().find(|e| e.award as usize == ix);
    if let (None, false) = (in_pool, rules.is_empty()) {
        let never: Vec<String> = rules
            .iter()
            .filter(|&&rule| tally.took_over[rule] == 0)
            .map(|&rule| rule_text(campaign, rule))
            .collect();
        if never.len() == rules.len() {
            let reason = format!(
                "only {} can give it, and no simulated user's draw made it apply: give a segment the attributes it reads",
                never.join(" or ")
            );
            return (WarningKind::CannotWin, reason);
        }
    }
    match in_pool {
        Some(entry) => {
            let rate: f64 = entry.rate.to_string().parse().unwrap_or(0.0);
            let reason = format!(
                "its rate of {}% makes about {:.1} in {} draws; none came up: simulate more users, days or runs",
                (entry.rate * Decimal::ONE_HUNDRED).normalize(),
                rate * tally.draws as f64,
                tally.draws
            );
            (WarningKind::NeverCameUp, reason)
        }
        None if rules.is_empty() => (
            WarningKind::CannotWin,
            "it is in no pool and no rule gives it: only a tree's fallback can, and no draw reached one".into(),
        ),
        None => (WarningKind::NeverCameUp, "the rules that can give it applied, and never drew it".into()),
    }
}

/// The chain rules that can give award `ix`: fixed awards and the tables they draw.
fn rules_giving(campaign: &Campaign, ix: usize) -> Vec<usize> {
    let in_table = |entries: &[u32]| {
        entries
            .iter()
            .any(|&e| campaign.pool[e as usize].award as usize == ix)
    };
    campaign
        .chain
        .iter()
        .enumerate()
        .filter(|(_, rule)| match &rule.kind {
            ChainKind::Blacklist { award, .. } => *award as usize == ix,
            ChainKind::Weight { tiers, .. } => tiers.iter().any(|t| in_table(&t.table.entries)),
            ChainKind::When {
                outcome: RuleOutcome::Give(award),
                ..
            } => *award as usize == ix,
            ChainKind::When {
                outcome: RuleOutcome::Draw(table),
                ..
            } => in_table(&table.entries),
        })
        .map(|(rule, _)| rule)
        .collect()
}

/// A rule as the warnings name it: `` rule `vip-boost` (`user.vip`) ``.
fn rule_text(campaign: &Campaign, rule: usize) -> String {
    let rule = &campaign.chain[rule];
    match &rule.kind {
        ChainKind::When { condition, .. } => {
            format!("rule `{}` (`{}`)", rule.id, condition.source())
        }
        ChainKind::Weight { tiers, .. } => {
            let lowest = tiers.first().map_or(0, |t| t.threshold);
            format!("rule `{}` (a tier from a score of {lowest})", rule.id)
        }
        ChainKind::Blacklist { .. } => format!("rule `{}` (the blacklist)", rule.id),
    }
}

/// The HTML report's charts, each point a band across the runs.
fn charts(campaign: &Campaign, tally: &Tally) -> Vec<Chart> {
    let chart = |title: &str, unit: &str, first_day, series| Chart {
        title: title.into(),
        unit: unit.into(),
        first_day,
        series,
    };
    vec![
        chart(
            "Awards issued per day",
            "awards",
            1,
            issued_series(campaign, tally),
        ),
        chart(
            "Stock left (burn-down)",
            "units left",
            0,
            stock_series(tally),
        ),
        chart(
            "Users per tier (end of each day)",
            "users",
            1,
            tier_series(tally),
        ),
    ]
}

/// One series: `value` of each day of every run, as a band a day.
fn series(tally: &Tally, name: String, value: &dyn Fn(&DayReport) -> f64) -> Series {
    let points = (0..tally.days as usize)
        .map(|day| {
            let values: Vec<f64> = tally
                .runs
                .iter()
                .filter_map(|run| run.get(day))
                .map(value)
                .collect();
            Band::of(&values)
        })
        .collect();
    Series { name, points }
}

fn issued_series(campaign: &Campaign, tally: &Tally) -> Vec<Series> {
    campaign
        .awards
        .iter()
        .map(|award| {
            let issued = |r: &DayReport| r.issued.get(&award.id).copied().unwrap_or(0) as f64;
            series(tally, award.id.clone(), &issued)
        })
        .collect()
}

/// Day 0 is the stock the file declares, before anything is drawn.
fn stock_series(tally: &Tally) -> Vec<Series> {
    tally
        .declared_stock
        .iter()
        .map(|(award, &declared)| {
            let left = |r: &DayReport| r.stock_left.get(award).copied().unwrap_or(0) as f64;
            let mut line = series(tally, award.clone(), &left);
            line.points.insert(0, Band::of(&[declared as f64]));
            line
        })
        .collect()
}

/// A tier that emptied stays on the chart at zero rather than ending mid-air.
fn tier_series(tally: &Tally) -> Vec<Series> {
    let mut labels: Vec<String> = Vec::new();
    for count in tally.runs.iter().flatten().flat_map(|d| &d.tiers) {
        if !labels.contains(&count.label()) {
            labels.push(count.label());
        }
    }
    labels
        .iter()
        .map(|label| {
            let users = |r: &DayReport| {
                let tier = r.tiers.iter().find(|t| &t.label() == label);
                tier.map_or(0.0, |t| t.users as f64)
            };
            series(tally, label.clone(), &users)
        })
        .collect()
}
