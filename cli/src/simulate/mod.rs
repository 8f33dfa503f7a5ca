//! `tombola simulate`: Monte Carlo over a campaign with the real engine — N
//! users drawing, signing in and buying draws day by day under the real caps,
//! stock, locks, tiers and rebates — and a report of what it gave.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Duration, Utc};
use clap::ValueEnum;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::Digest;
use tombola_engine::store::{MemoryStore, Store};
use tombola_engine::{
    ActionTaken, DrawRequest, Engine, EventRequest, Failure, Seeds, SimulatedDraw, SkuRequest,
    StepKind, StepOutcome,
};
use tombola_grammar::{Type, Value};
use tombola_ir::AwardKind;
use tombola_ir::{Campaign, ChainKind};

use crate::files;

// How the simulated users behave: `tombola simulate`'s options, so the field
// docs are its help text. A plain comment, as clap would print a doc comment.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Profile {
    /// Simulated users.
    #[arg(long, default_value_t = 1000)]
    pub(crate) users: u32,
    /// Days to simulate; default: the campaign's window (30 if it has no end).
    #[arg(long)]
    pub(crate) days: Option<u32>,
    /// Draws each user tries per day.
    #[arg(long, default_value_t = 3)]
    pub(crate) draws_per_day: u32,
    /// The chance a user signs in on a day (if the campaign declares `sign_in`).
    #[arg(long, default_value_t = 0.5)]
    pub(crate) sign_in: f64,
    /// Credits each user starts with.
    #[arg(long, default_value = "0")]
    pub(crate) credits: Decimal,
    /// A SKU users buy with credits when they have no draws left.
    #[arg(long)]
    pub(crate) exchange: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// The store: `memory:` (default) or `sqlite://PATH`, to compare runs.
    #[arg(long, default_value = "memory:", hide = true)]
    pub(crate) store: String,
}

/// What the simulation gave.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Report {
    pub(crate) campaign: String,
    pub(crate) users: u32,
    pub(crate) days: u32,
    pub(crate) seed: u64,
    pub(crate) draws: u64,
    /// Draws refused (caps, no draws left), by problem type.
    pub(crate) refused: BTreeMap<String, u64>,
    pub(crate) awards: Vec<AwardReport>,
    /// Share of draws that ended in a tree's fallback.
    pub(crate) fallback_rate: f64,
    pub(crate) credits_granted: String,
    pub(crate) credits_spent: String,
    /// The awards' `cost` per draw, on average.
    pub(crate) cost_per_draw: String,
    /// Chi-square of the weighted picks made from the pool's own table against
    /// its rates, with its degrees of freedom.
    pub(crate) chi_square: f64,
    pub(crate) degrees_of_freedom: usize,
    /// Per day: awards issued, and stock left of each stocked award.
    pub(crate) by_day: Vec<DayReport>,
    /// A digest of every draw's award, in order: equal runs give equal digests.
    pub(crate) digest: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct AwardReport {
    pub(crate) award: String,
    pub(crate) issued: u64,
    /// Issued over draws, against the rate the pool configures.
    pub(crate) share: f64,
    pub(crate) rate: Option<String>,
    /// The first day (1-based) its stock was gone, if it ran out.
    pub(crate) sold_out_on_day: Option<u32>,
}

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
    fn label(&self) -> String {
        match (self.unknown, self.tier) {
            (true, _) => format!("{}: score unknown", self.rule),
            (false, Some(tier)) => format!("{}: tier {tier}", self.rule),
            (false, None) => format!("{}: no tier", self.rule),
        }
    }
}

/// A uniform number in [0, 1) from 53 random bits.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A value for a declared attribute the simulated users all send.
fn neutral(ty: &Type) -> Option<Value> {
    Some(match ty {
        Type::Bool => Value::Bool(false),
        Type::Int => Value::Int(0),
        Type::Decimal => Value::Decimal(Decimal::ZERO),
        Type::String => Value::Str("".into()),
        Type::List(_) => Value::List(Vec::new().into()),
        _ => return None,
    })
}

fn slug(failure: Failure) -> String {
    failure.code().to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SimulateFormat {
    Human,
    Json,
}

/// The `tombola simulate` command: simulates `file` (which must check clean)
/// and prints the report, and writes it as HTML to `html_path` if given.
pub(crate) fn command(
    file: &Path,
    profile: &Profile,
    format: SimulateFormat,
    html_path: Option<&Path>,
) -> Result<ExitCode> {
    let Some((source, campaign)) = files::compiled(file)? else {
        return Ok(ExitCode::from(1));
    };
    if !(0.0..=1.0).contains(&profile.sign_in) {
        bail!("--sign-in is a probability between 0 and 1");
    }
    if profile.users == 0 {
        bail!("--users: a simulation needs at least 1 user");
    }
    if profile.days == Some(0) {
        bail!("--days: a simulation needs at least 1 day");
    }
    if profile.credits < Decimal::ZERO {
        bail!(
            "--credits {}: users cannot start with a negative balance",
            profile.credits
        );
    }
    if let Some(sku) = &profile.exchange {
        match campaign.skus.iter().find(|s| &s.id == sku) {
            None => {
                let declared: Vec<&str> = campaign.skus.iter().map(|s| s.id.as_str()).collect();
                bail!(
                    "--exchange {sku}: the campaign declares no such SKU (it declares: {})",
                    if declared.is_empty() {
                        "none".to_string()
                    } else {
                        declared.join(", ")
                    }
                );
            }
            Some(found) if found.price.is_none() => {
                bail!("--exchange {sku}: the SKU has no credit `price`, so it cannot be bought");
            }
            Some(_) => {}
        }
    }
    let bar = progress();
    // One thread: the run is one sequence of draws, and worker threads would
    // only wait beside it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(run(&source, &campaign, profile, &bar))?;
    bar.finish_and_clear();
    match format {
        SimulateFormat::Human => print!("{}", human(&result)),
        SimulateFormat::Json => println!("{}", serde_json::to_string_pretty(&result)?),
    }
    if let Some(path) = html_path {
        std::fs::write(path, html(&result))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn run(
    source: &str,
    campaign: &Campaign,
    profile: &Profile,
    progress: &indicatif::ProgressBar,
) -> Result<Report> {
    let store = match profile.store.as_str() {
        // A simulation reads no history, so its store keeps none.
        "memory:" | "memory" => Store::Memory(MemoryStore::for_simulation()),
        url => tombola_engine::store::open(url)
            .await
            .with_context(|| format!("cannot open {url}"))?,
    };
    let engine = Engine::open(
        store,
        Seeds::Fixed(profile.seed),
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await?;
    // Request ids run d1, d2, … in every run, and a simulation's are never
    // claimed: a store that already holds the campaign would collide with them.
    match engine.resolve(&campaign.id).await {
        Err(Failure::UnknownCampaign(_)) => {}
        Ok(_) => bail!(
            "--store already holds campaign `{}`: a simulation starts from an empty store, so give it a new file",
            campaign.id
        ),
        Err(failure) => bail!("cannot read the --store: {failure}"),
    }
    let start = campaign.window.from + Duration::hours(12);
    let days = profile.days.unwrap_or_else(|| {
        campaign.window.until.map_or(30, |until| {
            (until - campaign.window.from).num_days().clamp(1, 3650) as u32
        })
    });
    engine
        .deploy(source, None, start)
        .await
        .map_err(|e| anyhow!("the campaign does not deploy: {e}"))?;
    if profile.credits > Decimal::ZERO {
        for user in 0..profile.users {
            engine
                .adjust_credits(
                    &format!("u{user}"),
                    profile.credits,
                    "simulation",
                    &format!("start/{user}"),
                    start,
                )
                .await?;
        }
    }
    progress.set_length(u64::from(days) * u64::from(profile.users));
    let mut simulation = Simulation::new(&engine, campaign, profile, days);
    for day in 0..days {
        let now = start + Duration::days(i64::from(day));
        let mut today = DayReport {
            day: day + 1,
            ..DayReport::default()
        };
        for user in 0..profile.users {
            simulation
                .user_day(&format!("u{user}"), now, &mut today)
                .await;
            progress.inc(1);
        }
        simulation.end_of_day(day, now, &mut today).await?;
        simulation.report.by_day.push(today);
    }
    Ok(simulation.finish())
}

/// A simulation under way: the users' fixed behaviour and what the draws gave so far.
struct Simulation<'a> {
    engine: &'a Engine,
    campaign: &'a Campaign,
    profile: &'a Profile,
    /// The attributes every simulated user sends.
    attributes: Vec<(String, Value)>,
    signs_in: bool,
    has_weight_rules: bool,
    behaviour: ChaCha8Rng,
    /// Requests made so far, which number their request ids.
    n: u64,
    report: Report,
    /// Awards issued, by the campaign's award index.
    issued: Vec<u64>,
    /// Picks made from the pool's own table, by award index, for the chi-square.
    picked: Vec<u64>,
    fallbacks: u64,
    granted: Decimal,
    spent: Decimal,
    cost: Decimal,
    digest: sha2::Sha256,
    sold_out: BTreeMap<String, u32>,
}

impl<'a> Simulation<'a> {
    fn new(engine: &'a Engine, campaign: &'a Campaign, profile: &'a Profile, days: u32) -> Self {
        Simulation {
            engine,
            campaign,
            profile,
            attributes: campaign
                .inputs
                .user
                .iter()
                .filter_map(|(name, ty)| Some((name.clone(), neutral(ty)?)))
                .collect(),
            signs_in: campaign.inputs.event("sign_in").is_some(),
            has_weight_rules: campaign
                .chain
                .iter()
                .any(|r| matches!(r.kind, ChainKind::Weight { .. })),
            behaviour: ChaCha8Rng::seed_from_u64(profile.seed),
            n: 0,
            report: Report {
                campaign: campaign.id.clone(),
                users: profile.users,
                days,
                seed: profile.seed,
                ..Report::default()
            },
            issued: vec![0; campaign.awards.len()],
            picked: vec![0; campaign.awards.len()],
            fallbacks: 0,
            granted: Decimal::ZERO,
            spent: Decimal::ZERO,
            cost: Decimal::ZERO,
            digest: sha2::Sha256::new(),
            sold_out: BTreeMap::new(),
        }
    }

    /// One user's day: maybe a sign-in, then draws until the first refusal.
    async fn user_day(&mut self, user: &str, now: DateTime<Utc>, today: &mut DayReport) {
        if self.signs_in && unit(&mut self.behaviour) < self.profile.sign_in {
            self.sign_in(user, now).await;
        }
        for _ in 0..self.profile.draws_per_day {
            if !self.draw(user, now, today).await {
                break;
            }
        }
    }

    async fn sign_in(&mut self, user: &str, now: DateTime<Utc>) {
        self.n += 1;
        let answer = self
            .engine
            .simulate_event(
                &EventRequest {
                    campaign: &self.campaign.id,
                    user,
                    event: "sign_in",
                    request_id: &format!("e{}", self.n),
                    attributes: &[],
                },
                now,
            )
            .await;
        // A refused event is part of the simulation, not a failure of it.
        if let Ok(answer) = answer {
            for action in answer.rebates.iter().flat_map(|r| &r.actions) {
                if let ActionTaken::Credits { amount } = action {
                    self.granted += amount;
                }
            }
        }
    }

    /// One draw, buying the `--exchange` SKU first when the user has no draws
    /// left; `false` when it was refused, which ends the user's day.
    async fn draw(&mut self, user: &str, now: DateTime<Utc>, today: &mut DayReport) -> bool {
        let id = self.campaign.id.as_str();
        self.n += 1;
        let request_id = format!("d{}", self.n);
        let request = DrawRequest {
            campaign: id,
            user,
            request_id: &request_id,
            attributes: &self.attributes,
        };
        let mut answer = self.engine.simulate_draw(&request, now).await;
        if let (Err(Failure::NoDrawsLeft), Some(sku)) = (&answer, &self.profile.exchange) {
            self.n += 1;
            let exchange = SkuRequest {
                campaign: id,
                user,
                sku,
                request_id: &format!("x{}", self.n),
            };
            if let Ok(bought) = self.engine.simulate_exchange(&exchange, now).await {
                self.spent += bought.price;
                answer = self.engine.simulate_draw(&request, now).await;
            }
        }
        match answer {
            Ok(answer) => {
                self.record(&answer, today);
                true
            }
            Err(failure) => {
                *self.report.refused.entry(slug(failure)).or_default() += 1;
                false
            }
        }
    }

    fn record(&mut self, answer: &SimulatedDraw, today: &mut DayReport) {
        let campaign = self.campaign;
        self.report.draws += 1;
        let award = &campaign.awards[answer.award as usize];
        self.digest.update(award.id.as_bytes());
        self.digest.update(b"\n");
        self.issued[answer.award as usize] += 1;
        // Looked up by reference first: the id is cloned once a day, not a draw.
        if let Some(n) = today.issued.get_mut(&award.id) {
            *n += 1;
        } else {
            today.issued.insert(award.id.clone(), 1);
        }
        self.cost += award.cost.unwrap_or_default();
        if award.kind == AwardKind::Credits {
            self.granted += answer.amount.unwrap_or_default();
        }
        if answer
            .steps
            .iter()
            .any(|s| s.outcome == StepOutcome::Fallback)
        {
            self.fallbacks += 1;
        }
        // A pick from the pool's own table: no chain rule changed the odds.
        let unconstrained = answer.steps.iter().all(|s| {
            !matches!(s.kind, StepKind::Rule { .. })
                || matches!(
                    s.outcome,
                    StepOutcome::NotListed | StepOutcome::NoTier | StepOutcome::False
                )
        });
        let pick = answer.steps.iter().find_map(|s| match s.kind {
            StepKind::Draw { entry } => Some(campaign.pool[entry as usize].award),
            _ => None,
        });
        if unconstrained && let Some(pick) = pick {
            self.picked[pick as usize] += 1;
        }
    }

    /// The day's tiers and stock left, and the awards that ran out on it.
    async fn end_of_day(
        &mut self,
        day: u32,
        now: DateTime<Utc>,
        today: &mut DayReport,
    ) -> Result<()> {
        if self.has_weight_rules {
            today.tiers = tier_counts(self.engine, self.campaign, self.profile.users, now).await?;
        }
        let stats = self.engine.stats(&self.campaign.id).await?;
        for award in &stats.awards {
            if let Some(stock) = &award.stock {
                today
                    .stock_left
                    .insert(award.award.clone(), stock.remaining);
                if stock.remaining == 0 {
                    self.sold_out.entry(award.award.clone()).or_insert(day + 1);
                }
            }
        }
        Ok(())
    }

    /// The report, with the totals turned into shares and rates.
    fn finish(self) -> Report {
        let Simulation {
            campaign,
            mut report,
            issued,
            picked,
            fallbacks,
            granted,
            spent,
            cost,
            digest,
            sold_out,
            ..
        } = self;
        let draws = report.draws.max(1) as f64;
        report.awards = campaign
            .awards
            .iter()
            .zip(issued)
            .map(|(award, count)| AwardReport {
                award: award.id.clone(),
                issued: count,
                share: count as f64 / draws,
                rate: campaign
                    .pool
                    .iter()
                    .find(|e| campaign.awards[e.award as usize].id == award.id)
                    .map(|e| e.rate.normalize().to_string()),
                sold_out_on_day: sold_out.get(&award.id).copied(),
            })
            .collect();
        report.fallback_rate = fallbacks as f64 / draws;
        report.credits_granted = granted.normalize().to_string();
        report.credits_spent = spent.normalize().to_string();
        report.cost_per_draw = (cost / Decimal::from(report.draws.max(1)))
            .round_dp(4)
            .normalize()
            .to_string();
        if let Some(chi) = chi_square(campaign, &picked) {
            report.chi_square = chi;
            report.degrees_of_freedom = campaign.pool.len().saturating_sub(1);
        }
        report.digest = digest
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        report
    }
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

/// Where every user stands in the weight rules' tiers at `now`, read through
/// the same view the API's tier endpoint serves.
async fn tier_counts(
    engine: &Engine,
    campaign: &Campaign,
    users: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<TierCount>> {
    let mut counts: Vec<TierCount> = Vec::new();
    for user in 0..users {
        let standing = engine
            .tier_progress(&campaign.id, &format!("u{user}"), now)
            .await?;
        for rule in standing.rules {
            let (tier, unknown) = match rule.value {
                Some(_) => (rule.current, false),
                None => (None, true),
            };
            match counts
                .iter_mut()
                .find(|c| c.rule == rule.rule && c.tier == tier && c.unknown == unknown)
            {
                Some(count) => count.users += 1,
                None => counts.push(TierCount {
                    rule: rule.rule,
                    tier,
                    unknown,
                    users: 1,
                }),
            }
        }
    }
    // Chain order, and within a rule: no tier, the tiers upwards, unknown last.
    counts.sort_by_key(|c| {
        (
            campaign.chain.iter().position(|r| r.id == c.rule),
            c.unknown,
            c.tier.is_some(),
            c.tier,
        )
    });
    Ok(counts)
}

/// The report as text.
pub(crate) fn human(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} users over {} days, seed {}: {} draws",
        report.campaign, report.users, report.days, report.seed, report.draws
    );
    for (why, count) in &report.refused {
        let _ = writeln!(out, "  refused: {count} × {why}");
    }
    let _ = writeln!(
        out,
        "  {:<20} {:>10} {:>9} {:>9}  sold out",
        "award", "issued", "share", "rate"
    );
    for a in &report.awards {
        let _ = writeln!(
            out,
            "  {:<20} {:>10} {:>8.3}% {:>9}  {}",
            a.award,
            a.issued,
            a.share * 100.0,
            a.rate.as_deref().map_or("-".to_string(), |r| format!(
                "{:.3}%",
                r.parse::<f64>().unwrap_or(0.0) * 100.0
            )),
            a.sold_out_on_day
                .map_or("-".to_string(), |d| format!("day {d}"))
        );
    }
    let _ = writeln!(out, "  fallback rate: {:.2}%", report.fallback_rate * 100.0);
    let _ = writeln!(
        out,
        "  credits granted: {}, spent: {}",
        report.credits_granted, report.credits_spent
    );
    let _ = writeln!(out, "  expected cost per draw: {}", report.cost_per_draw);
    let _ = writeln!(
        out,
        "  chi-square of the unconstrained pool picks: {:.2} ({} degrees of freedom)",
        report.chi_square, report.degrees_of_freedom
    );
    if let Some(last) = report.by_day.last().filter(|d| !d.tiers.is_empty()) {
        let standing: Vec<String> = last
            .tiers
            .iter()
            .map(|t| format!("{} {}", t.label(), t.users))
            .collect();
        let _ = writeln!(
            out,
            "  users per tier on day {}: {}",
            last.day,
            standing.join(", ")
        );
    }
    let _ = writeln!(out, "  digest: {}", report.digest);
    out
}

/// A self-contained HTML page: the figures, awards issued per day, stock
/// burn-down and users per tier.
pub(crate) fn html(report: &Report) -> String {
    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    /// One inline SVG line chart: a polyline per series over the days.
    fn chart(title: &str, series: &[(String, Vec<f64>)]) -> String {
        let (width, height) = (720.0, 240.0);
        let last_day = series.iter().map(|(_, v)| v.len()).max().unwrap_or(1);
        // Two points at least, so one day still spans the width.
        let days = last_day.max(2);
        let top = series
            .iter()
            .flat_map(|(_, v)| v)
            .fold(1.0f64, |a, &b| a.max(b));
        let colours = [
            "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf",
        ];
        let mut svg = format!(
            "<h2>{}</h2><svg viewBox=\"0 0 {width} {}\" width=\"{width}\" role=\"img\"><rect width=\"{width}\" height=\"{height}\" fill=\"#fafafa\"/>",
            escape(title),
            height + 20.0 * (series.len() as f64 / 4.0).ceil() + 10.0
        );
        for (i, (name, values)) in series.iter().enumerate() {
            let colour = colours[i % colours.len()];
            let points: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(d, v)| {
                    format!(
                        "{:.1},{:.1}",
                        d as f64 * width / (days - 1) as f64,
                        height - v / top * (height - 10.0)
                    )
                })
                .collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\" fill=\"{colour}\" font-size=\"12\">{}</text>",
                points.join(" "),
                (i % 4) as f64 * 180.0,
                height + 18.0 + 20.0 * (i / 4) as f64,
                escape(name)
            );
        }
        // The scale: the top of the chart is the largest value; the x axis runs over the days.
        let _ = write!(
            svg,
            "<text x=\"4\" y=\"12\" fill=\"#555\" font-size=\"11\">{top}</text>\
             <text x=\"4\" y=\"{}\" fill=\"#555\" font-size=\"11\">day 1</text>\
             <text x=\"{}\" y=\"{}\" fill=\"#555\" font-size=\"11\" text-anchor=\"end\">day {last_day}</text>",
            height - 4.0,
            width - 4.0,
            height - 4.0
        );
        svg.push_str("</svg>");
        svg
    }
    /// Appends `value` to the series called `name`, creating it in first-seen order.
    fn push(series: &mut Vec<(String, Vec<f64>)>, name: String, day: usize, value: f64) {
        let ix = match series.iter().position(|(n, _)| *n == name) {
            Some(ix) => ix,
            None => {
                series.push((name, Vec::new()));
                series.len() - 1
            }
        };
        let values = &mut series[ix].1;
        // A series first seen on a later day held nothing before it.
        values.resize(day, 0.0);
        values.push(value);
    }
    let mut issued = Vec::new();
    let mut stock = Vec::new();
    let mut tiers = Vec::new();
    for (d, day) in report.by_day.iter().enumerate() {
        for award in &report.awards {
            let count = day.issued.get(&award.award).copied().unwrap_or(0);
            push(&mut issued, award.award.clone(), d, count as f64);
        }
        for (award, left) in &day.stock_left {
            push(&mut stock, award.clone(), d, *left as f64);
        }
        for count in &day.tiers {
            push(&mut tiers, count.label(), d, count.users as f64);
        }
    }
    // A tier that emptied stays on the chart at zero rather than ending mid-air.
    for (_, values) in &mut tiers {
        values.resize(report.by_day.len(), 0.0);
    }
    let tiers = if tiers.is_empty() {
        "<h2>Users per tier</h2><p>The campaign has no weight rule: no tiers to chart.</p>"
            .to_string()
    } else {
        chart("Users per tier (end of each day)", &tiers)
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Simulation of {name}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:60em}}pre{{background:#f4f4f4;padding:1em}}</style>\
         </head><body><h1>Simulation of {name}</h1><pre>{text}</pre>{issued}{stock}{tiers}</body></html>\n",
        name = escape(&report.campaign),
        text = escape(&human(report)),
        issued = chart("Awards issued per day", &issued),
        stock = chart("Stock left (burn-down)", &stock),
    )
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub(crate) fn progress() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} user-days {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}
