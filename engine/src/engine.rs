//! The engine: deploys campaigns into a store and runs draws and grants, each
//! in one database transaction, exactly once per request id.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Datelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tombola_grammar::{Value, value_has_type};
use tombola_ir::{AwardKind, Campaign, LoadError, Loader, State};

use crate::evaluate::{Context, Counts, DrawError, DrawInput, Evaluation, Evaluator, StepKind};
use crate::random::SeededRandom;
use crate::store::{
    CampaignState, Claim, CounterValues, Limits, Refusal, Store, StoreError, StoredVersion, Tx,
};

/// A compiled campaign at a stored version.
#[derive(Debug)]
pub struct Deployed {
    pub version: i64,
    pub campaign: Campaign,
}

/// Where draws get their randomness: fixed (reproducible runs) or fresh per draw.
#[derive(Debug, Clone, Copy)]
pub enum Seeds {
    /// Each draw's seed is derived from this base and the request id.
    Fixed(u64),
    /// A fresh random seed per draw; it is stored with the draw for replay.
    Fresh,
}

/// The engine over one store.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Store,
    loader: Arc<dyn Loader>,
    deployed: Arc<RwLock<HashMap<String, Arc<Deployed>>>>,
    seeds: Seeds,
    /// Fault injection: hold each draw's transaction this long before its commit.
    commit_delay_ms: Arc<AtomicU64>,
}

/// A user's draws made (in all, this month and today, in the campaign's zone)
/// and the draws granted beyond the allowance; see [`Engine::import_draw_counts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrawCounts {
    pub total: i64,
    pub month: i64,
    pub today: i64,
    pub granted: i64,
}

impl DrawCounts {
    fn check(&self) -> Result<(), Failure> {
        let named = [
            ("total", self.total),
            ("month", self.month),
            ("today", self.today),
            ("granted", self.granted),
        ];
        if let Some((name, n)) = named.iter().find(|(_, n)| *n < 0) {
            return Err(Failure::BadInput(format!(
                "`{name}` is {n}; a count cannot be negative"
            )));
        }
        if self.today > self.month {
            return Err(Failure::BadInput(format!(
                "{} draws today but {} this month; today's draws are part of the month's",
                self.today, self.month
            )));
        }
        if self.month > self.total {
            return Err(Failure::BadInput(format!(
                "{} draws this month but {} in all; the month's draws are part of the total",
                self.month, self.total
            )));
        }
        Ok(())
    }
}

/// The campaign-zone day (`2026-11-25`) and month (`2026-11`) keys the counters
/// of a draw at `now` are kept under.
pub(crate) fn period_keys(campaign: &Campaign, now: DateTime<Utc>) -> (String, String) {
    let local = now.with_timezone(&campaign.window.zone);
    (
        local.format("%Y-%m-%d").to_string(),
        format!("{:04}-{:02}", local.year(), local.month()),
    )
}

/// Why a deploy was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeployError {
    /// The loader refused the source; its error says why (the compiler's diagnostics).
    #[error("the campaign does not compile: {0}")]
    Invalid(LoadError),
    #[error("the file says campaign `{found}`, not `{expected}`")]
    IdMismatch { expected: String, found: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a deploy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Deployment {
    pub campaign: String,
    pub version: i64,
    /// `false` when the content was unchanged and nothing was written.
    pub changed: bool,
}

/// Why a draw or grant failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    #[error("unknown campaign `{0}`")]
    UnknownCampaign(String),
    #[error("campaign `{0}` is not open")]
    NotOpen(String),
    #[error("campaign `{0}` is outside its window")]
    OutsideWindow(String),
    #[error("no draws left")]
    NoDrawsLeft,
    #[error("daily cap reached")]
    DailyCap,
    #[error("monthly cap reached")]
    MonthlyCap,
    #[error("total cap reached")]
    TotalCap,
    #[error("SKU `{0}` is sold out")]
    SkuSoldOut(String),
    #[error("unknown SKU `{0}`")]
    UnknownSku(String),
    #[error("request id `{0}` was used with a different body")]
    RequestConflict(String),
    #[error("invalid input: {0}")]
    BadInput(String),
    #[error("SKU `{0}` has no credit price")]
    NotForSale(String),
    #[error("{needed} credits needed, {balance} held")]
    InsufficientCredits { needed: Decimal, balance: Decimal },
    #[error("unknown event `{0}`")]
    UnknownEvent(String),
    #[error("the campaign's rules read the user attribute `{0}`, but the draw did not supply it")]
    MissingAttribute(String),
    #[error(transparent)]
    Draw(#[from] DrawError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NoDrawsLeft => Failure::NoDrawsLeft,
            Refusal::DailyCap => Failure::DailyCap,
            Refusal::MonthlyCap => Failure::MonthlyCap,
            Refusal::TotalCap => Failure::TotalCap,
        }
    }
}

/// A draw request.
#[derive(Debug, Clone)]
pub struct DrawRequest<'a> {
    pub campaign: &'a str,
    pub user: &'a str,
    pub request_id: &'a str,
    /// Declared user attributes by name.
    pub attributes: &'a [(String, Value)],
}

/// The award of a draw, as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AwardView {
    pub id: String,
    pub kind: String,
    pub title: Option<String>,
    pub amount: Option<String>,
    /// A coupon's code, issued to this draw alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One explanation step, named for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepView {
    /// `rule:<id>`, `draw:<award>`, `tree:<tree>/<node>` or `issue:<award>`.
    pub at: String,
    pub outcome: String,
    /// The number the step compared: a weight score, the draws a lock counted.
    pub read: Option<i64>,
    /// The inputs a rule's or node's expression read, by name, with their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Vec<String>>, example = json!([["user.draws.total", "3"]]))]
    pub inputs: Vec<(String, String)>,
}

/// What is left after a draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Left {
    pub draws: i64,
    pub today: Option<i64>,
    pub month: Option<i64>,
    pub total: Option<i64>,
}

/// The answer to a draw; stored, so a replay returns it unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DrawResponse {
    pub campaign: String,
    pub version: i64,
    pub request_id: String,
    pub user: String,
    pub award: AwardView,
    pub steps: Vec<StepView>,
    pub left: Left,
    pub seed: u64,
}

/// A deployed campaign, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CampaignSummary {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub state: CampaignState,
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

/// The answer to a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GrantResponse {
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub sku: String,
    pub draws: i64,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Credits in hundredths, exactly.
pub(crate) fn hundredths(amount: Decimal) -> Result<i64, Failure> {
    let scaled = amount
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or_else(|| Failure::BadInput(format!("{amount} credits is out of range")))?
        .normalize();
    if scaled.scale() > 0 {
        return Err(Failure::BadInput(format!(
            "{amount} credits has more than 2 fractional digits"
        )));
    }
    i64::try_from(scaled)
        .map_err(|_| Failure::BadInput(format!("{amount} credits is out of range")))
}

impl Engine {
    /// Opens the engine on `store`, compiling every campaign's current version
    /// with `loader` (the store keeps sources, not compiled campaigns).
    pub async fn open(
        store: Store,
        seeds: Seeds,
        loader: Arc<dyn Loader>,
    ) -> Result<Engine, StoreError> {
        let engine = Engine {
            store,
            loader,
            deployed: Arc::default(),
            seeds,
            commit_delay_ms: Arc::default(),
        };
        for stored in engine.store.current_versions().await? {
            let campaign = engine.load_stored(&stored)?;
            engine.install(stored.campaign, stored.version, campaign);
        }
        Ok(engine)
    }

    /// A stored version compiled again; one that no longer compiles is corrupt.
    fn load_stored(&self, stored: &StoredVersion) -> Result<Campaign, StoreError> {
        self.loader.load(&stored.source).map_err(|why| {
            StoreError::Corrupt(format!(
                "stored campaign `{}` version {} no longer compiles: {why}",
                stored.campaign, stored.version
            ))
        })
    }

    /// Fault injection for tests of timeouts, disconnects and shutdown: every
    /// draw holds its transaction open for `delay` before committing.
    pub fn inject_commit_delay(&self, delay: std::time::Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.commit_delay_ms.store(ms, Ordering::Relaxed);
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn install(&self, id: String, version: i64, campaign: Campaign) {
        let mut deployed = self
            .deployed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        deployed.insert(id, Arc::new(Deployed { version, campaign }));
    }

    /// The deployed campaign `id`, if any.
    pub fn campaign(&self, id: &str) -> Option<Arc<Deployed>> {
        self.deployed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(id)
            .cloned()
    }

    /// Checks and deploys `source` as a new version; unchanged content is a no-op.
    pub async fn deploy(
        &self,
        source: &str,
        expected_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Deployment, DeployError> {
        let campaign = self.loader.load(source).map_err(DeployError::Invalid)?;
        if let Some(expected) = expected_id.filter(|e| *e != campaign.id) {
            return Err(DeployError::IdMismatch {
                expected: expected.to_string(),
                found: campaign.id.clone(),
            });
        }
        let sha256 = sha256_hex(source.as_bytes());
        let mut tx = self.store.begin().await?;
        let latest = tx.latest_version(&campaign.id).await?;
        if let Some(latest) = latest.as_ref().filter(|l| l.sha256 == sha256) {
            let version = latest.version;
            drop(tx);
            if self
                .campaign(&campaign.id)
                .is_none_or(|d| d.version != version)
            {
                self.install(campaign.id.clone(), version, campaign.clone());
            }
            return Ok(Deployment {
                campaign: campaign.id,
                version,
                changed: false,
            });
        }
        let version = latest.map_or(1, |l| l.version + 1);
        let state = match campaign.initial_state {
            State::Draft => CampaignState::Draft,
            State::Open => CampaignState::Open,
            State::Closed => CampaignState::Closed,
        };
        let stored = StoredVersion {
            campaign: campaign.id.clone(),
            version,
            source: source.to_string(),
            sha256,
        };
        tx.add_version(&stored, state, micros(now)).await?;
        for entry in &campaign.pool {
            if let Some(stock) = entry.stock {
                let award = &campaign.awards[entry.award as usize].id;
                tx.declare_award_stock(
                    &campaign.id,
                    award,
                    i64::try_from(stock).unwrap_or(i64::MAX),
                )
                .await?;
            }
        }
        for sku in &campaign.skus {
            if let Some(stock) = sku.stock {
                tx.declare_sku_stock(
                    &campaign.id,
                    &sku.id,
                    i64::try_from(stock).unwrap_or(i64::MAX),
                )
                .await?;
            }
        }
        tx.commit().await?;
        let id = campaign.id.clone();
        self.install(id.clone(), version, campaign);
        Ok(Deployment {
            campaign: id,
            version,
            changed: true,
        })
    }

    /// Opens or closes a campaign.
    pub async fn set_state(&self, id: &str, state: CampaignState) -> Result<(), Failure> {
        let mut tx = self.store.begin().await?;
        if !tx.set_state(id, state).await? {
            return Err(Failure::UnknownCampaign(id.to_string()));
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) fn seed_for(&self, campaign: &str, request_id: &str) -> u64 {
        match self.seeds {
            Seeds::Fixed(base) => {
                let digest = Sha256::digest(format!("{base}/{campaign}/{request_id}").as_bytes());
                u64::from_le_bytes(digest[..8].try_into().expect("a digest has 32 bytes"))
            }
            Seeds::Fresh => RandomState::new().hash_one((campaign, request_id)),
        }
    }

    /// Checks the campaign is open and inside its window; returns it with its store row.
    /// Campaign `id` at the version `tx` sees, recompiled from the store when this
    /// process holds another version (or none: another server deployed it).
    async fn at_version(
        &self,
        tx: &mut Tx,
        id: &str,
        version: i64,
    ) -> Result<Arc<Deployed>, Failure> {
        if let Some(deployed) = self.campaign(id).filter(|d| d.version == version) {
            return Ok(deployed);
        }
        let stored = tx
            .latest_version(id)
            .await?
            .filter(|v| v.version == version)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("campaign `{id}` has no version {version}"))
            })?;
        let campaign = self.load_stored(&stored)?;
        self.install(id.to_string(), version, campaign);
        self.campaign(id)
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))
    }

    /// Campaign `id` as the store holds it now, whichever server deployed it.
    pub async fn resolve(&self, id: &str) -> Result<Arc<Deployed>, Failure> {
        let mut tx = self.store.read().await?;
        let row = tx
            .campaign(id)
            .await?
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))?;
        self.at_version(&mut tx, id, row.version).await
    }

    pub(crate) async fn open_campaign(
        &self,
        tx: &mut Tx,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Arc<Deployed>, Failure> {
        let row = tx
            .campaign(id)
            .await?
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))?;
        // The store decides the version: another server may have deployed a newer
        // one, and running a stale copy could issue stock it no longer declares.
        let deployed = self.at_version(tx, id, row.version).await?;
        if row.state != CampaignState::Open {
            return Err(Failure::NotOpen(id.to_string()));
        }
        if !deployed.campaign.window.contains(now) {
            return Err(Failure::OutsideWindow(id.to_string()));
        }
        Ok(deployed)
    }

    /// Runs one draw in one transaction. A replay of a request id returns the
    /// first answer and changes nothing.
    pub async fn draw(
        &self,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<DrawResponse, Failure> {
        self.draw_landing_on(request, now, None).await
    }

    /// A draw whose weighted pick lands on `award` wherever that award is in the
    /// table being drawn (the chain and the tree still run): scenario tests use
    /// it to reach every route. The HTTP API never sets it.
    pub async fn draw_landing_on(
        &self,
        request: &DrawRequest<'_>,
        now: DateTime<Utc>,
        award: Option<&str>,
    ) -> Result<DrawResponse, Failure> {
        // A canonical body: attributes sorted by name, so a retry that lists them in
        // another order is the same request.
        let mut attributes: Vec<(&str, String)> = request
            .attributes
            .iter()
            .map(|(k, v)| (k.as_str(), format!("{v:?}")))
            .collect();
        attributes.sort_unstable();
        let body = serde_json::json!({ "user": request.user, "attributes": attributes });
        let body_hash = sha256_hex(body.to_string().as_bytes());
        let scope = format!("draw/{}", request.campaign);
        let mut tx = self.store.begin().await?;
        match tx.claim(&scope, request.request_id, &body_hash).await? {
            Claim::Replay(response) => {
                return serde_json::from_str(&response)
                    .map_err(|e| Failure::Store(StoreError::Corrupt(e.to_string())));
            }
            Claim::Conflict => {
                return Err(Failure::RequestConflict(request.request_id.to_string()));
            }
            Claim::New => {}
        }
        let deployed = self.open_campaign(&mut tx, request.campaign, now).await?;
        let campaign = &deployed.campaign;
        let attributes = self.attributes(campaign, request.attributes)?;
        let (day, month) = period_keys(campaign, now);
        let limits = Limits {
            allowance: i64::from(campaign.allowance),
            total: campaign.quota.total.map(i64::from),
            per_day: campaign.quota.per_day.map(i64::from),
            per_month: campaign.quota.per_month.map(i64::from),
        };
        let debited = tx
            .debit_draw(&campaign.id, request.user, &limits, &day, &month)
            .await?
            .map_err(Failure::from)?;
        let credits = Decimal::new(tx.balance(request.user).await?, 2);
        let draws_left = limits.allowance + debited.granted - debited.made;
        let input = DrawInput {
            user: request.user,
            // The counts before this draw: the row was just incremented for it.
            counts: Counts {
                today: (debited.day_count - 1).max(0) as u32,
                month: (debited.month_count - 1).max(0) as u32,
                total: (debited.made - 1).max(0) as u32,
            },
            draws_left: draws_left.max(0) as u32,
            credits,
            attributes: &attributes,
        };
        let force = match award {
            None => None,
            Some(id) => Some(
                campaign
                    .pool
                    .iter()
                    .position(|e| campaign.awards[e.award as usize].id == id)
                    .ok_or_else(|| Failure::BadInput(format!("`{id}` is not in the pool")))?
                    as u32,
            ),
        };
        let seed = self.seed_for(&campaign.id, request.request_id);
        let mut random = SeededRandom::new(seed);
        let mut cx = Context {
            now,
            random: &mut random,
            force,
        };
        let mut evaluator = Evaluator::new(campaign, &input);
        let mut state = evaluator
            .run(&mut cx)
            .map_err(|e| draw_failure(campaign, e))?;
        let mut taken_for: Option<u32> = None;
        let draw = loop {
            match state {
                Evaluation::NeedStock(entry) => {
                    let award = &campaign.awards[campaign.pool[entry as usize].award as usize].id;
                    let taken = tx.take_award_stock(&campaign.id, award).await?;
                    if taken {
                        taken_for = Some(campaign.pool[entry as usize].award);
                    }
                    state = evaluator
                        .resume(taken, &mut cx)
                        .map_err(|e| draw_failure(campaign, e))?;
                }
                Evaluation::Done(draw) => break draw,
            }
        };
        // Stock only moves for the award that is issued: a unit taken before a
        // later node chose a fallback goes back, in this same transaction.
        if let Some(award) = taken_for.filter(|a| *a != draw.issued.award) {
            tx.return_award_stock(&campaign.id, &campaign.awards[award as usize].id)
                .await?;
        }
        let award = &campaign.awards[draw.issued.award as usize];
        let reference = format!("{}/{}", campaign.id, request.request_id);
        let at = micros(now);
        match award.kind {
            AwardKind::Credits => {
                let amount = draw.issued.amount.unwrap_or_default();
                if !tx
                    .add_credits(request.user, hundredths(amount)?, "award", &reference, at)
                    .await?
                {
                    return Err(Failure::BadInput(
                        "a credit award would make the balance negative".into(),
                    ));
                }
            }
            AwardKind::Draws => {
                let draws = draw.issued.amount.unwrap_or_default();
                let draws = i64::try_from(draws).map_err(|_| {
                    Failure::BadInput(format!("{draws} draws is not a whole number"))
                })?;
                tx.grant_draws(&campaign.id, request.user, draws).await?;
            }
            AwardKind::Item | AwardKind::Coupon => {
                tx.enqueue_delivery(
                    &campaign.id,
                    request.request_id,
                    request.user,
                    &award.id,
                    at,
                )
                .await?;
            }
            AwardKind::None => {}
        }
        // A coupon's unit of stock was taken above; its code is taken with it.
        let code = if award.kind == AwardKind::Coupon {
            tx.take_coupon_code(&campaign.id, &award.id, request.request_id, at)
                .await?
        } else {
            None
        };
        let granted_now = if award.kind == AwardKind::Draws {
            i64::try_from(draw.issued.amount.unwrap_or_default()).unwrap_or(0)
        } else {
            0
        };
        let response = DrawResponse {
            campaign: campaign.id.clone(),
            version: deployed.version,
            request_id: request.request_id.to_string(),
            user: request.user.to_string(),
            award: AwardView {
                id: award.id.clone(),
                kind: award.kind.name().to_string(),
                title: award.title.clone(),
                amount: draw.issued.amount.map(|a| a.normalize().to_string()),
                code,
            },
            steps: draw
                .explanation
                .steps
                .iter()
                .map(|s| step_view(campaign, s, &input))
                .collect(),
            left: Left {
                draws: draws_left + granted_now,
                today: limits.per_day.map(|cap| cap - debited.day_count),
                month: limits.per_month.map(|cap| cap - debited.month_count),
                total: limits.total.map(|cap| cap - debited.made),
            },
            seed,
        };
        let json = serde_json::to_string(&response)
            .map_err(|e| Failure::Store(StoreError::Corrupt(e.to_string())))?;
        tx.record_draw(&crate::store::DrawRecord {
            campaign: &campaign.id,
            request_id: request.request_id,
            user: request.user,
            version: deployed.version,
            award: &award.id,
            amount: response.award.amount.clone(),
            seed: seed as i64,
            explanation: serde_json::to_string(&response.steps).unwrap_or_default(),
            day: &day,
            at,
        })
        .await?;
        tx.answer(&scope, request.request_id, &body_hash, &json, at)
            .await?;
        let delay = self.commit_delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        tx.commit().await?;
        Ok(response)
    }

    /// Adds codes to a coupon award's pool; each is issued once, and the award's
    /// stock is the codes not yet issued. Returns (added, stock left).
    pub async fn upload_codes(
        &self,
        campaign_id: &str,
        award_id: &str,
        codes: &[String],
    ) -> Result<(u64, i64), Failure> {
        let deployed = self.resolve(campaign_id).await?;
        let campaign = &deployed.campaign;
        let Some(ix) = campaign.awards.iter().position(|a| a.id == award_id) else {
            return Err(Failure::BadInput(format!(
                "`{award_id}` is not an award of `{campaign_id}`"
            )));
        };
        if campaign.awards[ix].kind != AwardKind::Coupon {
            return Err(Failure::BadInput(format!(
                "`{award_id}` is not a coupon award"
            )));
        }
        if campaign
            .pool
            .iter()
            .any(|e| e.award as usize == ix && e.stock.is_some())
        {
            return Err(Failure::BadInput(format!(
                "`{award_id}` declares `stock:` in the pool; a coupon's stock is its codes: remove it"
            )));
        }
        let mut tx = self.store.begin().await?;
        let added = tx.add_coupon_codes(campaign_id, award_id, codes).await?;
        let left = tx
            .award_stock(campaign_id, award_id)
            .await?
            .map_or(0, |(remaining, _)| remaining);
        tx.commit().await?;
        Ok((added, left))
    }

    /// Sets a user's draw counts outright, as they stand at `now`: for bringing
    /// users over from another system, and for scenarios that start mid-campaign.
    /// Counts that cannot all be true at once (more today than this month) are refused.
    pub async fn import_draw_counts(
        &self,
        campaign_id: &str,
        user: &str,
        counts: DrawCounts,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let deployed = self.resolve(campaign_id).await?;
        counts.check()?;
        let (day, month) = period_keys(&deployed.campaign, now);
        let mut tx = self.store.begin().await?;
        tx.set_counters(
            campaign_id,
            user,
            &CounterValues {
                made: counts.total,
                granted: counts.granted,
                day: &day,
                day_count: counts.today,
                month: &month,
                month_count: counts.month,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The coupon code issued to a request, for its delivery.
    pub async fn issued_code(
        &self,
        campaign: &str,
        request_id: &str,
    ) -> Result<Option<String>, Failure> {
        let mut tx = self.store.read().await?;
        Ok(tx.issued_code(campaign, request_id).await?)
    }

    /// Every deployed campaign: id, version, state.
    pub async fn campaigns(&self) -> Result<Vec<CampaignSummary>, Failure> {
        let mut ids: Vec<String> = self
            .deployed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        ids.sort();
        let mut tx = self.store.read().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(row) = tx.campaign(&id).await? {
                let name = self
                    .campaign(&id)
                    .map(|d| d.campaign.name.clone())
                    .unwrap_or_default();
                out.push(CampaignSummary {
                    id,
                    name,
                    version: row.version,
                    state: row.state,
                });
            }
        }
        Ok(out)
    }

    /// One campaign: its summary and the source of its current version.
    pub async fn campaign_detail(&self, id: &str) -> Result<(CampaignSummary, String), Failure> {
        let mut tx = self.store.read().await?;
        let row = tx
            .campaign(id)
            .await?
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))?;
        let stored = tx
            .latest_version(id)
            .await?
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))?;
        let name = self
            .campaign(id)
            .map(|d| d.campaign.name.clone())
            .unwrap_or_default();
        Ok((
            CampaignSummary {
                id: id.to_string(),
                name,
                version: row.version,
                state: row.state,
            },
            stored.source,
        ))
    }

    /// A user's standing in a campaign: draws made and left, and room under each cap.
    pub async fn user_status(
        &self,
        id: &str,
        user: &str,
        now: DateTime<Utc>,
    ) -> Result<UserStatus, Failure> {
        let deployed = self.resolve(id).await?;
        let campaign = &deployed.campaign;
        let (day, month) = period_keys(campaign, now);
        let mut tx = self.store.read().await?;
        let c = tx.counters(id, user, &day, &month).await?;
        let today = if c.day_key_matches { c.day_count } else { 0 };
        let this_month = if c.month_key_matches {
            c.month_count
        } else {
            0
        };
        let quota = &campaign.quota;
        Ok(UserStatus {
            campaign: id.to_string(),
            user: user.to_string(),
            draws_made: c.made,
            draws_left: (i64::from(campaign.allowance) + c.granted - c.made).max(0),
            made_today: today,
            made_this_month: this_month,
            left_today: quota.per_day.map(|cap| (i64::from(cap) - today).max(0)),
            left_this_month: quota
                .per_month
                .map(|cap| (i64::from(cap) - this_month).max(0)),
            left_in_total: quota.total.map(|cap| (i64::from(cap) - c.made).max(0)),
        })
    }

    /// The stored answer of a draw that succeeded, by request id.
    pub async fn stored_draw(
        &self,
        campaign: &str,
        request_id: &str,
    ) -> Result<Option<DrawResponse>, Failure> {
        self.resolve(campaign).await?;
        let mut tx = self.store.read().await?;
        let answer = tx
            .stored_answer(&format!("draw/{campaign}"), request_id)
            .await?;
        drop(tx);
        answer
            .map(|json| {
                serde_json::from_str(&json)
                    .map_err(|e| Failure::Store(StoreError::Corrupt(e.to_string())))
            })
            .transpose()
    }

    /// Grants one unit of a SKU: an order, the SKU's stock decremented, the draws added.
    pub async fn grant(
        &self,
        campaign_id: &str,
        user: &str,
        sku_id: &str,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Result<GrantResponse, Failure> {
        let body_hash = sha256_hex(format!("{user}\n{sku_id}").as_bytes());
        let scope = format!("grant/{campaign_id}");
        let mut tx = self.store.begin().await?;
        match tx.claim(&scope, request_id, &body_hash).await? {
            Claim::Replay(response) => {
                return serde_json::from_str(&response)
                    .map_err(|e| Failure::Store(StoreError::Corrupt(e.to_string())));
            }
            Claim::Conflict => return Err(Failure::RequestConflict(request_id.to_string())),
            Claim::New => {}
        }
        // Grants follow the campaign's state and window, like draws. They are
        // unpriced (an operator's or a rebate's grant); buying with credits is an exchange.
        let deployed = self.open_campaign(&mut tx, campaign_id, now).await?;
        let sku = deployed
            .campaign
            .skus
            .iter()
            .find(|s| s.id == sku_id)
            .ok_or_else(|| Failure::UnknownSku(sku_id.to_string()))?;
        if sku.stock.is_some() && !tx.take_sku_stock(campaign_id, sku_id).await? {
            return Err(Failure::SkuSoldOut(sku_id.to_string()));
        }
        let draws = i64::from(sku.draws);
        tx.grant_draws(campaign_id, user, draws).await?;
        let at = micros(now);
        tx.record_order(campaign_id, request_id, user, sku_id, draws, at)
            .await?;
        let response = GrantResponse {
            campaign: campaign_id.to_string(),
            request_id: request_id.to_string(),
            user: user.to_string(),
            sku: sku_id.to_string(),
            draws,
        };
        let json = serde_json::to_string(&response)
            .map_err(|e| Failure::Store(StoreError::Corrupt(e.to_string())))?;
        tx.answer(&scope, request_id, &body_hash, &json, at).await?;
        tx.commit().await?;
        Ok(response)
    }

    /// Declared attributes in declaration order, checked against their types.
    fn attributes(
        &self,
        campaign: &Campaign,
        given: &[(String, Value)],
    ) -> Result<Vec<Option<Value>>, Failure> {
        let declared = &campaign.inputs.user;
        let mut out = vec![None; declared.len()];
        for (name, value) in given {
            let Some(index) = declared.iter().position(|(n, _)| n == name) else {
                return Err(Failure::BadInput(format!(
                    "`{name}` is not a declared user attribute"
                )));
            };
            if !value_has_type(value, &declared[index].1) {
                return Err(Failure::BadInput(format!(
                    "`{name}` must be {}",
                    declared[index].1
                )));
            }
            out[index] = Some(value.clone());
        }
        Ok(out)
    }
}

/// A draw error, with a missing declared attribute named for the caller.
fn draw_failure(campaign: &Campaign, error: DrawError) -> Failure {
    use tombola_grammar::{EvalError, Slot};
    match error {
        DrawError::Expression(EvalError::MissingInput(Slot::UserAttribute(i))) => {
            let name = campaign
                .inputs
                .user
                .get(usize::from(i))
                .map_or_else(|| format!("#{i}"), |(n, _)| n.clone());
            Failure::MissingAttribute(name)
        }
        other => Failure::Draw(other),
    }
}

/// What a program read, by name and value, for the explanation.
fn inputs_read(
    campaign: &Campaign,
    program: Option<&tombola_grammar::Program>,
    input: &DrawInput<'_>,
) -> Vec<(String, String)> {
    use tombola_grammar::{Env, Slot};
    let Some(program) = program else {
        return Vec::new();
    };
    let env = crate::evaluate::Inputs { input };
    program
        .reads()
        .iter()
        .map(|slot| {
            let name = match slot {
                Slot::UserId => "user.id".to_string(),
                Slot::UserCredits => "user.credits".to_string(),
                Slot::DrawsToday => "user.draws.today".to_string(),
                Slot::DrawsMonth => "user.draws.month".to_string(),
                Slot::DrawsTotal => "user.draws.total".to_string(),
                Slot::DrawsLeft => "user.draws.left".to_string(),
                Slot::UserAttribute(i) => {
                    format!("user.{}", campaign.inputs.user[usize::from(*i)].0)
                }
                Slot::EventAttribute(i) => format!("event.#{i}"),
            };
            let value = env
                .load(*slot)
                .map_or_else(|| "missing".to_string(), |v| show(v));
            (name, value)
        })
        .collect()
}

fn show(value: tombola_grammar::Val<'_>) -> String {
    use tombola_grammar::Val;
    match value {
        Val::Int(v) => v.to_string(),
        Val::Decimal(v) => v.normalize().to_string(),
        Val::Bool(v) => v.to_string(),
        Val::Str(v) => v.to_string(),
        Val::Date(v) => v.to_string(),
        Val::DateTime(v) => v.to_rfc3339(),
        Val::Duration(v) => format!("{v}s"),
        Val::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| show(i.as_val()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn step_view(campaign: &Campaign, step: &crate::evaluate::Step, input: &DrawInput<'_>) -> StepView {
    use tombola_ir::{ChainKind, NodeKind};
    let program = match step.kind {
        StepKind::Rule { rule } => match &campaign.chain[rule as usize].kind {
            ChainKind::Blacklist { condition, .. } => condition.as_ref(),
            ChainKind::Weight { score, .. } => Some(score),
            ChainKind::When { condition, .. } => Some(condition),
        },
        StepKind::Node { tree, node } => {
            match &campaign.trees[tree as usize].nodes[node as usize].kind {
                NodeKind::Condition { condition, .. } => Some(condition),
                _ => None,
            }
        }
        _ => None,
    };
    let inputs = inputs_read(campaign, program, input);
    let at = match step.kind {
        StepKind::Rule { rule } => format!("rule:{}", campaign.chain[rule as usize].id),
        StepKind::Draw { entry } => format!(
            "draw:{}",
            campaign.awards[campaign.pool[entry as usize].award as usize].id
        ),
        StepKind::Node { tree, node } => {
            let tree = &campaign.trees[tree as usize];
            format!("tree:{}/{}", tree.id, tree.nodes[node as usize].id)
        }
        StepKind::Issue { award } => format!("issue:{}", campaign.awards[award as usize].id),
    };
    let outcome = serde_json::to_value(step.outcome)
        .ok()
        .and_then(|v| match v {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Object(map) => map.keys().next().cloned(),
            _ => None,
        })
        .unwrap_or_default();
    StepView {
        at,
        outcome,
        read: step.read,
        inputs,
    }
}
