//! The simulation itself: for each run (a seed of its own), the profile's
//! users drawing, signing in and buying draws day by day on the real engine,
//! and the tally of what every draw gave and what routed it there.

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Duration, Utc};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use rust_decimal::Decimal;
use sha2::Digest;
use tombola_engine::store::{MemoryStore, Store};
use tombola_engine::{
    ActionTaken, DrawRequest, Engine, EventRequest, Failure, Seeds, SimulatedDraw, SkuRequest,
    StepAt, StepKind, StepOutcome,
};
use tombola_ir::{AwardKind, Campaign, ChainKind};

use super::profile::{Plan, Profile, assign, unit};
use super::tally::{DayReport, Tally, TierCount};

/// Days to simulate: the profile's, or the campaign's window (30 if it has no end).
fn days(campaign: &Campaign, profile: &Profile) -> u32 {
    profile.days.unwrap_or_else(|| {
        campaign.window.until.map_or(30, |until| {
            (until - campaign.window.from).num_days().clamp(1, 3650) as u32
        })
    })
}

/// A simulation told to stop before its end.
#[derive(Debug, thiserror::Error)]
#[error("the simulation was stopped")]
pub(crate) struct Stopped;

/// Runs the profile `profile.runs` times, with seeds `seed`, `seed + 1`, …;
/// fails with [`Stopped`] once `stop` says so, asked after every user's day.
pub(crate) async fn run(
    source: &str,
    campaign: &Campaign,
    profile: &Profile,
    progress: &indicatif::ProgressBar,
    stop: &dyn Fn() -> bool,
) -> Result<Tally> {
    let days = days(campaign, profile);
    let mut tally = Tally::new(campaign, profile, days);
    progress.set_length(u64::from(days) * u64::from(profile.users) * u64::from(profile.runs));
    for run in 0..profile.runs {
        let seed = profile.seed.wrapping_add(u64::from(run));
        let engine = open(campaign, profile, seed).await?;
        let mut simulation =
            Simulation::start(&engine, source, campaign, profile, seed, &mut tally).await?;
        let before = simulation.tally.issued.clone();
        let mut by_day = Vec::new();
        for day in 0..days {
            let now = simulation.start + Duration::days(i64::from(day));
            let mut today = DayReport {
                day: day + 1,
                ..DayReport::default()
            };
            for user in 0..profile.users {
                simulation.user_day(user, now, &mut today).await;
                progress.inc(1);
                if stop() {
                    return Err(Stopped.into());
                }
            }
            simulation.end_of_day(day, now, &mut today).await?;
            by_day.push(today);
        }
        let issued: Vec<u64> = simulation
            .tally
            .issued
            .iter()
            .zip(before)
            .map(|(after, before)| after - before)
            .collect();
        tally.issued_by_run.push(issued);
        tally.runs.push(by_day);
    }
    Ok(tally)
}

/// An engine on the profile's store, which must not hold the campaign yet.
async fn open(campaign: &Campaign, profile: &Profile, seed: u64) -> Result<Engine> {
    let store = match profile.store.as_str() {
        // A simulation reads no history, so its store keeps none.
        "memory:" | "memory" => Store::Memory(MemoryStore::for_simulation()),
        url => tombola_engine::store::open(url)
            .await
            .with_context(|| format!("cannot open {url}"))?,
    };
    let engine = Engine::open(
        store,
        Seeds::Fixed(seed),
        std::sync::Arc::new(tombola_dsl::Loader),
    )
    .await?;
    // Request ids run d1, d2, … in every run, and a simulation's are never
    // claimed: a store that already holds the campaign would collide with them.
    match engine.resolve(&campaign.id).await {
        Err(Failure::UnknownCampaign(_)) => Ok(engine),
        Ok(_) => bail!(
            "--store already holds campaign `{}`: a simulation starts from an empty store, so give it a new file",
            campaign.id
        ),
        Err(failure) => bail!("cannot read the --store: {failure}"),
    }
}

/// A run under way: its users' segments and behaviour stream, and the tally it adds to.
struct Simulation<'a> {
    engine: &'a Engine,
    campaign: &'a Campaign,
    profile: &'a Profile,
    /// Each user's segment, by user number.
    segment_of: Vec<usize>,
    start: DateTime<Utc>,
    signs_in: bool,
    has_weight_rules: bool,
    behaviour: ChaCha8Rng,
    /// The rates' expected cost of a draw, which `cost_causes` are measured from.
    expected_cost: Decimal,
    /// Requests made so far, which number their request ids.
    n: u64,
    tally: &'a mut Tally,
}

impl<'a> Simulation<'a> {
    /// Deploys the campaign, hands out the starting credits and coupon codes,
    /// and reads the stock the first day starts with.
    async fn start(
        engine: &'a Engine,
        source: &str,
        campaign: &'a Campaign,
        profile: &'a Profile,
        seed: u64,
        tally: &'a mut Tally,
    ) -> Result<Simulation<'a>> {
        let start = campaign.window.from + Duration::hours(12);
        engine
            .deploy(source, None, start)
            .await
            .map_err(|e| anyhow!("the campaign does not deploy: {e}"))?;
        // A file still in draft (as a new one is) is simulated as it will run: open.
        engine
            .set_state(&campaign.id, tombola_engine::store::CampaignState::Open)
            .await?;
        let segment_of = assign(profile, seed);
        for (user, &segment) in segment_of.iter().enumerate() {
            let credits = profile.segments[segment].credits;
            if credits > Decimal::ZERO {
                let (id, request) = (format!("u{user}"), format!("start/{user}"));
                engine
                    .adjust_credits(&id, credits, "simulation", &request, start)
                    .await?;
            }
        }
        for codes in &profile.codes {
            let made: Vec<String> = (0..codes.count)
                .map(|i| format!("SIM-{}-{i}", codes.award))
                .collect();
            engine
                .upload_codes(&campaign.id, &codes.award, &made)
                .await
                .map_err(|e| anyhow!("{}: codes: {e}", codes.at))?;
        }
        for award in engine.stats(&campaign.id).await?.awards {
            if let Some(stock) = award.stock {
                tally.declared_stock.insert(award.award, stock.remaining);
            }
        }
        Ok(Simulation {
            engine,
            campaign,
            profile,
            segment_of,
            start,
            signs_in: campaign.inputs.event("sign_in").is_some(),
            has_weight_rules: campaign
                .chain
                .iter()
                .any(|r| matches!(r.kind, ChainKind::Weight { .. })),
            behaviour: ChaCha8Rng::seed_from_u64(seed),
            expected_cost: tombola_dsl::diff::expectations(campaign).1,
            n: 0,
            tally,
        })
    }

    fn plan(&self, user: u32) -> &'a Plan {
        &self.profile.segments[self.segment_of[user as usize]]
    }

    /// One user's day: maybe a sign-in, then draws until the first refusal.
    async fn user_day(&mut self, user: u32, now: DateTime<Utc>, today: &mut DayReport) {
        let plan = self.plan(user);
        let id = format!("u{user}");
        if self.signs_in && unit(&mut self.behaviour) < plan.sign_in {
            self.sign_in(&id, now).await;
        }
        for _ in 0..plan.draws_per_day.sample(&mut self.behaviour) {
            if !self.draw(user, &id, now, today).await {
                break;
            }
        }
    }

    async fn sign_in(&mut self, user: &str, now: DateTime<Utc>) {
        self.n += 1;
        let request = EventRequest {
            campaign: &self.campaign.id,
            user,
            event: "sign_in",
            request_id: &format!("e{}", self.n),
            attributes: &[],
        };
        // A refused event is part of the simulation, not a failure of it.
        if let Ok(answer) = self.engine.simulate_event(&request, now).await {
            for action in answer.rebates.iter().flat_map(|r| &r.actions) {
                if let ActionTaken::Credits { amount } = action {
                    self.tally.granted += amount;
                }
            }
        }
    }

    /// One draw, buying the segment's exchange SKU first when the user has no
    /// draws left; `false` when it was refused, which ends the user's day.
    async fn draw(
        &mut self,
        user: u32,
        id: &str,
        now: DateTime<Utc>,
        today: &mut DayReport,
    ) -> bool {
        let plan = self.plan(user);
        let campaign = self.campaign.id.as_str();
        self.n += 1;
        let request_id = format!("d{}", self.n);
        let request = DrawRequest {
            campaign,
            user: id,
            request_id: &request_id,
            attributes: &plan.attributes,
        };
        let mut answer = self.engine.simulate_draw(&request, now).await;
        if let (Err(Failure::NoDrawsLeft), Some(sku)) = (&answer, &plan.exchange) {
            self.n += 1;
            let exchange = SkuRequest {
                campaign,
                user: id,
                sku,
                request_id: &format!("x{}", self.n),
            };
            if let Ok(bought) = self.engine.simulate_exchange(&exchange, now).await {
                self.tally.spent += bought.price;
                answer = self.engine.simulate_draw(&request, now).await;
            }
        }
        match answer {
            Ok(answer) => {
                self.record(&answer, self.segment_of[user as usize], today);
                true
            }
            Err(failure) => {
                *self
                    .tally
                    .refused
                    .entry(failure.code().to_string())
                    .or_default() += 1;
                false
            }
        }
    }

    fn record(&mut self, answer: &SimulatedDraw, segment: usize, today: &mut DayReport) {
        let award = &self.campaign.awards[answer.award as usize];
        let tally = &mut *self.tally;
        tally.draws += 1;
        tally.digest.update(award.id.as_bytes());
        tally.digest.update(b"\n");
        tally.issued[answer.award as usize] += 1;
        tally.segments[segment].0 += 1;
        tally.segments[segment].1[answer.award as usize] += 1;
        // Looked up by reference first: the id is cloned once a day, not a draw.
        if let Some(n) = today.issued.get_mut(&award.id) {
            *n += 1;
        } else {
            today.issued.insert(award.id.clone(), 1);
        }
        tally.cost += award.cost.unwrap_or_default();
        if award.kind == AwardKind::Credits {
            tally.granted += answer.amount.unwrap_or_default();
        }
        if answer
            .steps
            .iter()
            .any(|s| s.outcome == StepOutcome::Fallback)
        {
            tally.fallbacks += 1;
        }
        // A pick from the pool's own table: no chain rule changed the odds.
        let unconstrained = answer.steps.iter().all(|s| {
            !matches!(s.kind, StepKind::Rule { .. })
                || matches!(
                    s.outcome,
                    StepOutcome::NotListed | StepOutcome::NoTier | StepOutcome::False
                )
        });
        if unconstrained && let Some(pick) = pick(self.campaign, answer) {
            tally.picked[pick as usize] += 1;
        }
        self.attribute(answer);
    }

    /// Adds what this draw did to the gap between the observed cost and the
    /// rates' expectation, to the cause that made it: a chain rule that took
    /// over, a tree step that sent the pick elsewhere, or the pick itself.
    /// Summed over the draws, the causes add up to the whole gap.
    fn attribute(&mut self, answer: &SimulatedDraw) {
        let campaign = self.campaign;
        let cost = |award: u32| campaign.awards[award as usize].cost.unwrap_or_default();
        let issued = cost(answer.award);
        let rule = answer.steps.iter().find_map(|s| match (s.kind, s.outcome) {
            (
                StepKind::Rule { rule },
                StepOutcome::Listed | StepOutcome::Tier { .. } | StepOutcome::True,
            ) => Some(rule as usize),
            _ => None,
        });
        if let Some(rule) = rule {
            self.tally.took_over[rule] += 1;
            let cause = match campaign.chain[rule].kind {
                ChainKind::Weight { .. } => "tiers",
                ChainKind::Blacklist { .. } => "blacklist",
                _ => "when rules",
            };
            *self.tally.cost_causes.entry(cause).or_default() += issued - self.expected_cost;
            return;
        }
        let Some(pick) = pick(campaign, answer) else {
            return;
        };
        *self.tally.cost_causes.entry("chance").or_default() += cost(pick) - self.expected_cost;
        if pick == answer.award {
            return;
        }
        self.routed_away(answer, pick, issued - cost(pick));
    }

    /// A pick a tree sent elsewhere: the step that did, and the cost it moved (`gap`).
    fn routed_away(&mut self, answer: &SimulatedDraw, pick: u32, gap: Decimal) {
        let campaign = self.campaign;
        let router = answer.steps.iter().find_map(|s| match (s.kind, s.outcome) {
            (
                StepKind::Node { tree, node },
                StepOutcome::Locked | StepOutcome::Exhausted | StepOutcome::False,
            ) => Some((tree, node, s.outcome)),
            _ => None,
        });
        let Some((tree, node, outcome)) = router else {
            return;
        };
        let cause = match outcome {
            StepOutcome::Locked => "locks",
            StepOutcome::Exhausted if campaign.awards[pick as usize].kind == AwardKind::Coupon => {
                "coupon codes"
            }
            StepOutcome::Exhausted => "stock",
            _ => "tree conditions",
        };
        *self.tally.cost_causes.entry(cause).or_default() += gap;
        let tree = &campaign.trees[tree as usize];
        let at = StepAt::Node {
            tree: tree.id.clone(),
            node: tree.nodes[node as usize].id.clone(),
        };
        let outcome = match outcome {
            StepOutcome::Locked => "locked",
            StepOutcome::Exhausted => "exhausted",
            _ => "false",
        };
        *self.tally.routed_away[pick as usize]
            .entry(format!("{at} → {outcome}"))
            .or_default() += 1;
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
        for award in self.engine.stats(&self.campaign.id).await?.awards {
            if let Some(stock) = &award.stock {
                today
                    .stock_left
                    .insert(award.award.clone(), stock.remaining);
                if stock.remaining == 0 {
                    // Runs go in order, so the first run to sell out on the earliest day keeps it.
                    let first = self.tally.sold_out.entry(award.award).or_insert(day + 1);
                    *first = (*first).min(day + 1);
                }
            }
        }
        Ok(())
    }
}

/// The award the weighted pick landed on, if the draw made one.
fn pick(campaign: &Campaign, answer: &SimulatedDraw) -> Option<u32> {
    answer.steps.iter().find_map(|s| match s.kind {
        StepKind::Draw { entry } => Some(campaign.pool[entry as usize].award),
        _ => None,
    })
}

/// Where every user stands in the weight rules' tiers at `now`, read through
/// the same view the API's tier endpoint serves.
async fn tier_counts(
    engine: &Engine,
    campaign: &Campaign,
    users: u32,
    now: DateTime<Utc>,
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
