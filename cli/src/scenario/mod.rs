//! Scenario files (`*.test.yaml`), what `tombola test` runs: their format, and
//! each scenario run against the real engine on the in-memory store, with
//! assertions on awards, errors, what is left and balances, and coverage of
//! the chain rules, tree nodes and routes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tombola_engine::{
    DrawRequest, Engine, EventRequest, Failure, RebateResult, Seeds, SkuRequest, StepAt, StepTaken,
    UserCounts,
};
use tombola_grammar::Value;
use tombola_ir::{Allowance, Campaign};

pub(crate) mod names;

pub(crate) use names::typo_hint;

/// A scenario file: the campaign it tests and its scenarios.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    /// The campaign file, relative to this file.
    pub(crate) campaign: String,
    pub(crate) scenarios: Vec<Scenario>,
}

/// One scenario: a clock, a seed, users, and steps with expectations.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scenario {
    pub(crate) name: String,
    /// The clock when the scenario starts (RFC 3339).
    #[schemars(with = "String")]
    pub(crate) at: DateTime<Utc>,
    /// The seed the draws derive their randomness from.
    #[serde(default)]
    pub(crate) seed: u64,
    /// Stock left at the start, by award, in place of the file's (e.g. `grand_prize: 0`
    /// to see what a sold-out prize does).
    #[serde(default)]
    pub(crate) stock: BTreeMap<String, u64>,
    /// Coupon codes uploaded at the start, by coupon award.
    #[serde(default)]
    pub(crate) codes: BTreeMap<String, Vec<String>>,
    /// Users' starting credits and draws made, and the attributes their draws send.
    #[serde(default)]
    pub(crate) users: BTreeMap<String, UserSetup>,
    pub(crate) steps: Vec<Step>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserSetup {
    /// Draws made before the start, e.g. `{ total: 40, today: 2 }`.
    pub(crate) draws: Option<DrawsMade>,
    /// Credits the user holds at the start.
    #[schemars(with = "Option<String>")]
    pub(crate) credits: Option<Decimal>,
    /// Declared user attributes sent with each of this user's draws.
    #[serde(default)]
    pub(crate) attributes: serde_json::Map<String, serde_json::Value>,
}

/// Draws a user has made before the scenario starts, by the names the rules read
/// them under (`user.draws.total`, `.month`, `.today`, `.left`).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrawsMade {
    /// Draws made in all; at least `month` (the default).
    pub(crate) total: Option<u32>,
    /// Draws made this month in the campaign's zone; at least `today` (the default).
    pub(crate) month: Option<u32>,
    /// Draws made today in the campaign's zone; 0 unless given.
    #[serde(default)]
    pub(crate) today: u32,
    /// Draws left; more than the allowance leaves means draws granted beyond it.
    /// Without it, what the allowance leaves after `total` (after `today`, for
    /// a daily allowance).
    pub(crate) left: Option<u32>,
}

impl DrawsMade {
    /// The counts to import, given the campaign's allowance.
    fn counts(&self, allowance: Allowance) -> Result<UserCounts, String> {
        let today = i64::from(self.today);
        let month = self.month.map_or(today, i64::from);
        let total = self.total.map_or(month, i64::from);
        let made = UserCounts {
            total,
            month,
            today,
            ..UserCounts::default()
        };
        // The draws made past a campaign's allowance used grants; a daily
        // allowance's earlier days are not known, so none of theirs.
        let past_free = match allowance {
            Allowance::Campaign(free) => (total - i64::from(free)).max(0),
            Allowance::Daily { .. } => 0,
        };
        let free_left = made.free_left(allowance);
        let granted = match self.left {
            None => 0,
            Some(left) => {
                if i64::from(left) < free_left {
                    let after = match allowance {
                        Allowance::Campaign(_) => format!("{total} draws"),
                        Allowance::Daily { .. } => format!("{today} draws today"),
                    };
                    return Err(format!(
                        "`left: {left}` is fewer than the allowance of {allowance} leaves after {after} ({free_left}); draws left can only be raised by grants"
                    ));
                }
                i64::from(left) - free_left + past_free
            }
        };
        // The import counts a grant used for each draw past a campaign's allowance.
        Ok(UserCounts { granted, ..made })
    }
}

/// One action, with what it must give.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum Step {
    Draw(DrawStep),
    Grant(SkuStep),
    Exchange(SkuStep),
    Event(EventStep),
    /// Moves the clock forward: `30m`, `6h`, `1d`.
    Advance(String),
    /// Expected balances by user, exact.
    Credits(BTreeMap<String, String>),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrawStep {
    /// The user; with `times`, `{n}` in it becomes 0, 1, 2 … (one user per draw).
    pub(crate) user: String,
    /// Draws this many times; the expectation holds for each.
    pub(crate) times: Option<u32>,
    /// The weighted pick lands on this award wherever it is in the table drawn;
    /// without it the seed decides.
    pub(crate) lands_on: Option<String>,
    pub(crate) expect: Option<Expect>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SkuStep {
    pub(crate) user: String,
    pub(crate) sku: String,
    pub(crate) expect: Option<Expect>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventStep {
    pub(crate) user: String,
    pub(crate) event: String,
    #[serde(default)]
    pub(crate) attributes: serde_json::Map<String, serde_json::Value>,
    pub(crate) expect: Option<Expect>,
}

/// What a step must give; every field is optional.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    /// The award issued.
    pub(crate) award: Option<String>,
    /// The problem type the call fails with, e.g. `no-draws-left`.
    pub(crate) error: Option<String>,
    /// Draws left after the call.
    pub(crate) draws_left: Option<i64>,
    /// Explanation steps that must appear, as `at` or `at → outcome`,
    /// e.g. `tree:unlock_after_1/lock → locked`.
    #[serde(default)]
    pub(crate) passes: Vec<String>,
    /// Rebate flows by id and their outcome (`applied`, `condition_false`, `already_done`).
    #[serde(default)]
    pub(crate) rebates: BTreeMap<String, String>,
}

/// The JSON Schema of scenario files.
pub(crate) fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ScenarioFile)).unwrap_or_default()
}

/// A scenario's result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Outcome {
    pub(crate) file: String,
    pub(crate) scenario: String,
    pub(crate) line: usize,
    /// `None` when it passed.
    pub(crate) failure: Option<String>,
}

/// What the scenarios of one campaign exercised.
#[derive(Debug, Default)]
pub(crate) struct Coverage {
    pub(crate) universe: BTreeSet<String>,
    pub(crate) hit: BTreeSet<String>,
}

impl Coverage {
    /// Every chain rule, tree node and route of `campaign`.
    fn of(campaign: &Campaign) -> Coverage {
        let mut universe = BTreeSet::new();
        for rule in &campaign.chain {
            let at = format!("rule:{}", rule.id);
            for route in rule.kind.routes() {
                universe.insert(format!("{at} → {route}"));
            }
            universe.insert(at);
        }
        for tree in &campaign.trees {
            for node in &tree.nodes {
                let at = format!("tree:{}/{}", tree.id, node.id);
                for (route, _) in node.kind.routes() {
                    universe.insert(format!("{at} → {route}"));
                }
                universe.insert(at);
            }
        }
        Coverage {
            universe,
            hit: BTreeSet::new(),
        }
    }

    fn record(&mut self, steps: &[StepView]) {
        for step in steps {
            for key in [step.at.clone(), format!("{} → {}", step.at, step.outcome)] {
                if self.universe.contains(&key) {
                    self.hit.insert(key);
                }
            }
        }
    }

    pub(crate) fn missed(&self) -> Vec<&String> {
        self.universe.difference(&self.hit).collect()
    }

    pub(crate) fn percent(&self) -> f64 {
        if self.universe.is_empty() {
            100.0
        } else {
            100.0 * self.hit.len() as f64 / self.universe.len() as f64
        }
    }
}

fn duration(text: &str) -> Result<chrono::Duration> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number
        .trim()
        .parse()
        .map_err(|_| anyhow!("`{text}` is not a duration like 30m, 6h or 1d"))?;
    Ok(match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => bail!("`{text}` is not a duration like 30m, 6h or 1d"),
    })
}

/// Converts JSON attributes to values by the declarations.
pub(crate) fn typed(
    declared: &[(String, tombola_grammar::Type)],
    given: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<(String, Value)>> {
    given
        .iter()
        .map(|(name, json)| {
            let ty = declared
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t)
                .ok_or_else(|| {
                    let names: Vec<String> =
                        declared.iter().map(|(n, _)| format!("`{n}`")).collect();
                    match names.is_empty() {
                        true => {
                            anyhow!("`{name}` is not a declared attribute; none are declared here")
                        }
                        false => anyhow!(
                            "`{name}` is not a declared attribute; the declared ones are {}",
                            names.join(", ")
                        ),
                    }
                })?;
            let value = tombola_server::json_value(json, ty)
                .ok_or_else(|| anyhow!("attribute `{name}` must be {ty}"))?;
            Ok((name.clone(), value))
        })
        .collect()
}

fn slug(failure: Failure) -> String {
    failure.code().to_string()
}

/// What a call gave, as far as expectations look: the award, the draws left,
/// the explanation steps, and rebate outcomes by flow.
type Answer = (
    Option<String>,
    Option<i64>,
    Vec<StepView>,
    BTreeMap<String, String>,
);

/// A rebate flow's outcome as scenario files name it.
fn rebate_result(result: RebateResult) -> &'static str {
    match result {
        RebateResult::Applied => "applied",
        RebateResult::ConditionFalse => "condition_false",
        RebateResult::AlreadyDone => "already_done",
    }
}

/// A step as scenario files and coverage name it: where (`rule:weight`,
/// `tree:unlock/stock`) and how it came out, a weight rule's tier by its
/// threshold (`tier 40`).
#[derive(Debug, Clone)]
pub(crate) struct StepView {
    at: String,
    outcome: String,
    /// The outcome's plain name (`tier`), which expectations may use too.
    bare: &'static str,
}

fn label(step: &StepTaken) -> StepView {
    let at = step.at.to_string();
    let bare = step.outcome.name();
    let outcome = match step.tier {
        Some(threshold) => format!("{bare} {threshold}"),
        None => bare.to_string(),
    };
    StepView { at, outcome, bare }
}

/// Compares one call's result with its expectation; `Err` says how it differs.
fn check(
    expect: Option<&Expect>,
    result: Result<Answer, Failure>,
) -> Result<Vec<StepView>, String> {
    let expect = expect.cloned().unwrap_or_default();
    let (award, left, steps, rebates) = match (result, &expect.error) {
        (Err(failure), Some(wanted)) => {
            let got = slug(failure);
            return if &got == wanted {
                Ok(Vec::new())
            } else {
                Err(format!("expected error `{wanted}`, got `{got}`"))
            };
        }
        (Err(failure), None) => {
            let text = failure.to_string();
            return Err(format!("failed with `{}`: {text}", slug(failure)));
        }
        (Ok(_), Some(wanted)) => {
            return Err(format!("expected error `{wanted}`, but the call succeeded"));
        }
        (Ok(answer), None) => answer,
    };
    if let Some(wanted) = &expect.award
        && award.as_ref() != Some(wanted)
    {
        return Err(format!(
            "expected award `{wanted}`, got `{}`",
            award.unwrap_or_default()
        ));
    }
    if let Some(wanted) = expect.draws_left
        && left != Some(wanted)
    {
        let got = left.map_or("no count of draws left".to_string(), |n| n.to_string());
        return Err(format!("expected {wanted} draws left, got {got}"));
    }
    for pass in &expect.passes {
        let found = steps.iter().any(|s| {
            pass == &s.at
                || pass == &format!("{} → {}", s.at, s.outcome)
                || pass == &format!("{} → {}", s.at, s.bare)
        });
        if !found {
            let path: Vec<String> = steps
                .iter()
                .map(|s| format!("{} → {}", s.at, s.outcome))
                .collect();
            return Err(format!(
                "expected the draw to pass `{pass}`; it went: {}",
                path.join(", ")
            ));
        }
    }
    for (rebate, wanted) in &expect.rebates {
        let got = rebates
            .get(rebate)
            .cloned()
            .unwrap_or_else(|| "not run".into());
        if &got != wanted {
            return Err(format!("expected rebate `{rebate}` {wanted}, got {got}"));
        }
    }
    Ok(steps)
}

/// Why a `lands_on` did not land, when the draw picked by weight from tables
/// none of which held the award (the seed picked instead); a draw that made no
/// pick (a rule gave the award) or landed has nothing to say.
fn unlanded(award: &str, steps: &[StepTaken]) -> Option<String> {
    let mut picks = steps.iter().filter_map(|s| match &s.at {
        StepAt::Draw { award } => Some(award.as_str()),
        _ => None,
    });
    let picked = picks.clone().next().is_some();
    (picked && !picks.any(|p| p == award)).then(|| {
        format!("`lands_on: {award}` could not land: the table this draw picked from does not hold `{award}`")
    })
}

/// Runs one scenario on a fresh engine; `Err` says why it failed.
async fn run_one(
    campaign: &Campaign,
    source: &str,
    scenario: &Scenario,
    coverage: &mut Coverage,
) -> Result<(), String> {
    names::check(campaign, scenario)?;
    let run = Run::start(campaign, source, scenario).await?;
    let mut now = scenario.at;
    for (n, step) in scenario.steps.iter().enumerate() {
        let request_id = format!("step-{n}");
        run.step(step, &request_id, &mut now, coverage)
            .await
            .map_err(|e| format!("step {}: {e}", n + 1))?;
    }
    Ok(())
}

/// A scenario running on its own engine, with the campaign deployed.
struct Run<'a> {
    engine: Engine,
    campaign: &'a Campaign,
    scenario: &'a Scenario,
}

impl<'a> Run<'a> {
    /// A fresh in-memory engine with the campaign deployed at the scenario's
    /// start and its set-up applied: stock, codes, users.
    async fn start(
        campaign: &'a Campaign,
        source: &str,
        scenario: &'a Scenario,
    ) -> Result<Run<'a>, String> {
        let store = tombola_engine::store::open("memory:")
            .await
            .map_err(|e| e.to_string())?;
        let engine = Engine::open(
            store,
            Seeds::Fixed(scenario.seed),
            std::sync::Arc::new(tombola_dsl::Loader),
        )
        .await
        .map_err(|e| e.to_string())?;
        engine
            .deploy(source, None, scenario.at)
            .await
            .map_err(|e| format!("the campaign does not deploy: {e}"))?;
        let run = Run {
            engine,
            campaign,
            scenario,
        };
        run.set_stock().await?;
        run.set_codes().await?;
        run.set_users(scenario.at).await?;
        Ok(run)
    }

    fn id(&self) -> &str {
        &self.campaign.id
    }

    /// A grant or exchange step as the engine's request.
    fn sku_request<'r>(&'r self, step: &'r SkuStep, request_id: &'r str) -> SkuRequest<'r> {
        SkuRequest {
            campaign: self.id(),
            user: &step.user,
            sku: &step.sku,
            request_id,
        }
    }

    async fn set_stock(&self) -> Result<(), String> {
        if self.scenario.stock.is_empty() {
            return Ok(());
        }
        for (award, left) in &self.scenario.stock {
            // Declaring less stock than the file moves what is left by the difference.
            self.engine
                .declare_award_stock(self.id(), award, i64::try_from(*left).unwrap_or(i64::MAX))
                .await
                .map_err(|e| format!("`stock`: {e}"))?;
        }
        Ok(())
    }

    async fn set_codes(&self) -> Result<(), String> {
        for (award, codes) in &self.scenario.codes {
            self.engine
                .upload_codes(self.id(), award, codes)
                .await
                .map_err(|e| format!("`codes`: {e}"))?;
        }
        Ok(())
    }

    /// The users' starting credits and the draws they have made.
    async fn set_users(&self, now: DateTime<Utc>) -> Result<(), String> {
        for (user, setup) in &self.scenario.users {
            if let Some(credits) = setup.credits {
                self.engine
                    .adjust_credits(user, credits, "scenario", &format!("setup/{user}"), now)
                    .await
                    .map_err(|e| format!("user `{user}`: {e}"))?;
            }
            if let Some(draws) = setup.draws {
                let counts = draws
                    .counts(self.campaign.allowance)
                    .map_err(|e| format!("user `{user}`: `draws`: {e}"))?;
                self.engine
                    .import_draw_counts(self.id(), user, counts, now)
                    .await
                    .map_err(|e| format!("user `{user}`: `draws`: {e}"))?;
            }
        }
        Ok(())
    }

    /// Runs one step at `now`, which `advance` moves on.
    async fn step(
        &self,
        step: &Step,
        request_id: &str,
        now: &mut DateTime<Utc>,
        coverage: &mut Coverage,
    ) -> Result<(), String> {
        match step {
            Step::Draw(draw) => self.draws(draw, request_id, *now, coverage).await,
            Step::Grant(grant) => {
                let result = self
                    .engine
                    .grant(&self.sku_request(grant, request_id), *now)
                    .await
                    .map(|_| (None, None, Vec::new(), BTreeMap::new()));
                check(grant.expect.as_ref(), result).map(drop)
            }
            Step::Exchange(exchange) => {
                let result = self
                    .engine
                    .exchange(&self.sku_request(exchange, request_id), *now)
                    .await
                    .map(|_| (None, None, Vec::new(), BTreeMap::new()));
                check(exchange.expect.as_ref(), result).map(drop)
            }
            Step::Event(event) => self.event(event, request_id, *now).await,
            Step::Advance(by) => {
                *now += duration(by).map_err(|e| e.to_string())?;
                Ok(())
            }
            Step::Credits(expected) => self.balances(expected).await,
        }
    }

    /// A draw step: `times` draws, each checked against the expectation.
    async fn draws(
        &self,
        draw: &DrawStep,
        request_id: &str,
        now: DateTime<Utc>,
        coverage: &mut Coverage,
    ) -> Result<(), String> {
        for i in 0..draw.times.unwrap_or(1) {
            let user = draw.user.replace("{n}", &i.to_string());
            let setup = self.scenario.users.get(&user).cloned().unwrap_or_default();
            let attributes =
                typed(&self.campaign.inputs.user, &setup.attributes).map_err(|e| e.to_string())?;
            let request_id = format!("{request_id}-{i}");
            let request = DrawRequest {
                campaign: self.id(),
                user: &user,
                request_id: &request_id,
                attributes: &attributes,
            };
            let result = self
                .engine
                .draw_landing_on(&request, now, draw.lands_on.as_deref())
                .await
                .map(|r| {
                    let hint = draw
                        .lands_on
                        .as_deref()
                        .and_then(|award| unlanded(award, &r.steps));
                    let steps = r.steps.iter().map(label).collect();
                    (
                        (Some(r.award.id), Some(r.left.draws), steps, BTreeMap::new()),
                        hint,
                    )
                });
            let (result, hint) = match result {
                Ok((answer, hint)) => (Ok(answer), hint),
                Err(failure) => (Err(failure), None),
            };
            let steps = check(draw.expect.as_ref(), result).map_err(|e| {
                let e = match &hint {
                    Some(hint) => format!("{e}; {hint}"),
                    None => e,
                };
                format!("draw {} for `{user}`: {e}", i + 1)
            })?;
            coverage.record(&steps);
        }
        Ok(())
    }

    async fn event(
        &self,
        event: &EventStep,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let declared = self
            .campaign
            .inputs
            .event(&event.event)
            .map(|e| e.attributes.clone())
            .unwrap_or_default();
        let attributes = typed(&declared, &event.attributes).map_err(|e| e.to_string())?;
        let request = EventRequest {
            campaign: self.id(),
            user: &event.user,
            event: &event.event,
            request_id,
            attributes: &attributes,
        };
        let result = self.engine.event(&request, now).await.map(|r| {
            let outcomes = r
                .rebates
                .into_iter()
                .map(|o| (o.rebate, rebate_result(o.outcome).to_string()))
                .collect();
            (None, None, Vec::new(), outcomes)
        });
        check(event.expect.as_ref(), result).map(drop)
    }

    /// A `credits` step: each user's balance, compared as numbers.
    async fn balances(&self, expected: &BTreeMap<String, String>) -> Result<(), String> {
        for (user, wanted) in expected {
            let got = self
                .engine
                .credits(user, 1)
                .await
                .map_err(|e| e.to_string())?
                .balance;
            let same = match (got.parse::<Decimal>(), wanted.parse::<Decimal>()) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            };
            if !same {
                return Err(format!(
                    "expected `{user}` to hold {wanted} credits, got {got}"
                ));
            }
        }
        Ok(())
    }
}

/// The 0-based line of `text` that names the scenario `name`, if one does.
pub(crate) fn name_line(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.contains("name:") && l.contains(name))
}

/// A scenario file, loaded with its campaign.
pub(crate) struct Suite {
    pub(crate) path: PathBuf,
    text: String,
    file: ScenarioFile,
    campaign: Campaign,
    source: String,
}

pub(crate) fn load(path: &Path) -> Result<Suite> {
    let (text, file): (String, ScenarioFile) = crate::files::decoded(path)?;
    let campaign_path = path.parent().unwrap_or(Path::new(".")).join(&file.campaign);
    let source = crate::files::read_text(&campaign_path)
        .with_context(|| format!("{}: the campaign it names", path.display()))?;
    let report = tombola_dsl::check_source(&source);
    let campaign = report
        .campaign
        .filter(|_| !report.diagnostics.iter().any(|d| d.is_error()))
        .ok_or_else(|| {
            anyhow!(
                "{}: campaign {} has errors: run `tombola check`",
                path.display(),
                campaign_path.display()
            )
        })?;
    Ok(Suite {
        path: path.to_path_buf(),
        text,
        file,
        campaign,
        source,
    })
}

impl Suite {
    /// The 1-based line of the scenario named `name`.
    fn line_of(&self, name: &str) -> usize {
        name_line(&self.text, name).map_or(1, |i| i + 1)
    }

    /// Runs every scenario, in parallel.
    pub(crate) async fn run(&self) -> (Vec<Outcome>, Coverage) {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, scenario) in self.file.scenarios.iter().enumerate() {
            let (campaign, source, scenario) =
                (self.campaign.clone(), self.source.clone(), scenario.clone());
            tasks.spawn(async move {
                let mut coverage = Coverage::of(&campaign);
                let result = run_one(&campaign, &source, &scenario, &mut coverage).await;
                (index, result, coverage.hit)
            });
        }
        let mut coverage = Coverage::of(&self.campaign);
        let mut results = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (index, result, hit) = match done {
                Ok(done) => done,
                Err(panic) => (
                    usize::MAX,
                    Err(format!("the scenario panicked: {panic}")),
                    BTreeSet::new(),
                ),
            };
            coverage.hit.extend(hit);
            results.push((index, result));
        }
        results.sort_by_key(|(i, _)| *i);
        let outcomes = results
            .into_iter()
            .map(|(index, result)| {
                let name = self
                    .file
                    .scenarios
                    .get(index)
                    .map_or_else(|| "?".to_string(), |s| s.name.clone());
                Outcome {
                    file: self.path.display().to_string(),
                    line: self.line_of(&name),
                    scenario: name,
                    failure: result.err(),
                }
            })
            .collect();
        (outcomes, coverage)
    }

    pub(crate) fn campaign_id(&self) -> &str {
        &self.campaign.id
    }
}
