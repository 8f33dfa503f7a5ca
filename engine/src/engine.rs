//! The engine: deploys campaigns into a store and runs draws and grants, each
//! in one database transaction, exactly once per request id.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use tombola_grammar::{Value, value_has_type};
use tombola_ir::{Allowance, AwardKind, Campaign, Loader};

use crate::counts::{Refusal, UserCounts};
use crate::evaluate::{AmountError, DrawError};
use crate::health::StoreHealth;
use crate::period::Periods;
use crate::store::prelude::*;
use crate::store::{CampaignState, Origin, Store, StoreError, StoredVersion, Tx};

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
    health: StoreHealth,
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
    /// `scope` is `user` or `event`.
    #[error(
        "the campaign's rules read the {scope} attribute `{name}`, but the call did not supply it"
    )]
    MissingAttribute { scope: &'static str, name: String },
    /// A fault of the campaign itself that `check` could not rule out (an
    /// amount with three decimals, a division by zero): the caller's valid input
    /// cannot fix it, so it is recorded under the request id, debiting nothing,
    /// and a retry of the request answers it again.
    #[error("campaign `{campaign}` version {version}: {detail}")]
    CampaignFault {
        campaign: String,
        version: i64,
        detail: String,
    },
    #[error("adding {amount} credits would take the balance beyond the limit of {max} credits", max = tombola_ir::MAX_CREDITS)]
    BalanceLimit { amount: Decimal },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Failure {
    /// A stable name for the failure, the slug of the API's problem type
    /// (`no-draws-left`): scenario files and logs match on it.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::UnknownCampaign(_) => "unknown-campaign",
            Failure::NotOpen(_) => "campaign-not-open",
            Failure::OutsideWindow(_) => "outside-window",
            Failure::NoDrawsLeft => "no-draws-left",
            Failure::DailyCap => "daily-cap-reached",
            Failure::MonthlyCap => "monthly-cap-reached",
            Failure::TotalCap => "total-cap-reached",
            Failure::SkuSoldOut(_) => "sku-sold-out",
            Failure::UnknownSku(_) => "unknown-sku",
            Failure::RequestConflict(_) => "request-id-reused",
            Failure::BadInput(_) | Failure::MissingAttribute { .. } => "invalid-input",
            Failure::NotForSale(_) => "sku-not-for-sale",
            Failure::InsufficientCredits { .. } => "insufficient-credits",
            Failure::UnknownEvent(_) => "unknown-event",
            Failure::CampaignFault { .. } => "campaign-fault",
            Failure::BalanceLimit { .. } => "balance-limit",
            Failure::Store(_) => "internal",
        }
    }
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

/// A deployed campaign, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSummary {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub state: CampaignState,
    /// Where the live version came from, and its file for the folder's.
    pub origin: Origin,
    pub path: Option<String>,
}

/// A user's standing in a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The SHA-256 of `bytes`, lowercase hex. Every request hashes its body, so
/// this is on the draw's path: `hex` writes the digits without a `format!` per byte.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Credits a caller gave, in hundredths, exactly: at most 2 fractional digits
/// and within [`tombola_ir::MAX_CREDITS`] either way, or `invalid-input`.
pub(crate) fn hundredths(amount: Decimal) -> Result<i64, Failure> {
    if amount.abs() > tombola_ir::MAX_CREDITS {
        return Err(Failure::BadInput(format!(
            "{amount} credits is beyond the limit of {} credits either way",
            tombola_ir::MAX_CREDITS
        )));
    }
    let scaled = (amount * Decimal::ONE_HUNDRED).normalize();
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
            health: StoreHealth::default(),
        };
        for stored in engine.store.current_versions().await? {
            let campaign = engine.load_stored(&stored)?;
            engine.install(stored.campaign, stored.version, campaign);
        }
        engine.settle_counts().await?;
        Ok(engine)
    }

    /// Settles, once, the granted draws used of the campaigns that had users
    /// before the store kept them for a campaign-wide allowance (migration
    /// 0008): every draw past the allowance used a grant. A campaign with a
    /// daily allowance in any version keeps what was counted, as its rows
    /// cannot tell which draws were free any more.
    async fn settle_counts(&self) -> Result<(), StoreError> {
        let mut tx = self.store.begin().await?;
        for id in tx.counts_to_settle().await? {
            let current = tx.latest_version(&id).await?.map_or(0, |v| v.version);
            let mut free = None;
            for version in 1..=current {
                let Some(stored) = tx.version(&id, version).await? else {
                    continue;
                };
                // A version that no longer compiles says nothing of its
                // allowance; what was counted stands, so no user loses a grant.
                match self.loader.load(&stored.source).map(|c| c.allowance) {
                    Ok(Allowance::Campaign(n)) => free = Some(i64::from(n)),
                    Ok(Allowance::Daily { .. }) | Err(_) => {
                        free = None;
                        break;
                    }
                }
            }
            tx.settle_counts(&id, free).await?;
        }
        tx.commit().await
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
    /// mutating call holds its transaction open for `delay` before committing.
    pub fn inject_commit_delay(&self, delay: std::time::Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.commit_delay_ms.store(ms, Ordering::Relaxed);
    }

    /// The injected delay before a commit, if any.
    pub(crate) async fn hold_before_commit(&self) {
        let delay = self.commit_delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
    }

    /// Notes what a request's run of the store found, for readiness.
    pub(crate) fn note<T>(&self, result: &Result<T, Failure>) {
        self.health.record(match result {
            Err(Failure::Store(error)) => Err(error),
            _ => Ok(()),
        });
    }

    /// Whether the store answers: a read transaction opens and ends. While the
    /// last request found it in trouble (full, or failing), it must also take
    /// a write of some pages again, so readiness comes back when writes do:
    /// reads alone may work on a file that refuses every write.
    pub async fn ready(&self) -> Result<(), StoreError> {
        let result = match self.health.get() {
            Some(_) => self.store().probe_write().await,
            None => self.store().read().await.map(drop),
        };
        self.health.record(result.as_ref().map(|_| ()));
        result
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The store under the engine, for tests that set up or inspect what the
    /// engine offers no call for. Only with the `test-support` feature.
    #[cfg(feature = "test-support")]
    pub fn store_for_tests(&self) -> &Store {
        &self.store
    }

    /// The compiler the engine was handed.
    pub(crate) fn loader(&self) -> &Arc<dyn Loader> {
        &self.loader
    }

    pub(crate) fn install(&self, id: String, version: i64, campaign: Campaign) {
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
                // `{base}/{campaign}/{request_id}`, hashed in parts: no text is
                // built for it on a draw.
                let mut digits = [0u8; 20];
                let mut rest = &mut digits[..];
                let _ = std::io::Write::write_fmt(&mut rest, format_args!("{base}"));
                let written = 20 - rest.len();
                let digest = Sha256::new()
                    .chain_update(&digits[..written])
                    .chain_update(b"/")
                    .chain_update(campaign)
                    .chain_update(b"/")
                    .chain_update(request_id)
                    .finalize();
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
        // The version asked for, not the latest: on PostgreSQL each statement sees
        // the commits made before it, so another server's deploy can land between
        // reading the campaign's row and this.
        let stored = tx.version(id, version).await?.ok_or_else(|| {
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
        let (deployed, open) = self.campaign_at(tx, id, now).await?;
        open.map(|()| deployed)
    }

    /// The campaign's version as the store holds it, and whether it takes
    /// draws at `now`: open, and inside its window.
    pub(crate) async fn campaign_at(
        &self,
        tx: &mut Tx,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(Arc<Deployed>, Result<(), Failure>), Failure> {
        let row = tx
            .campaign(id)
            .await?
            .ok_or_else(|| Failure::UnknownCampaign(id.to_string()))?;
        // The store decides the version: another server may have deployed a newer
        // one, and running a stale copy could issue stock it no longer declares.
        let deployed = self.at_version(tx, id, row.version).await?;
        let open = takes_draws(row.state, &deployed.campaign, now);
        Ok((deployed, open))
    }

    /// Declares an award's stock outright, as deploying a file that declares
    /// `declared` would: what is left moves by the change, never below zero.
    /// Scenarios use it to start with part of a prize gone.
    pub async fn declare_award_stock(
        &self,
        campaign_id: &str,
        award_id: &str,
        declared: i64,
    ) -> Result<(), Failure> {
        let deployed = self.resolve(campaign_id).await?;
        if !deployed.campaign.awards.iter().any(|a| a.id == award_id) {
            return Err(Failure::BadInput(format!(
                "`{award_id}` is not an award of `{campaign_id}`"
            )));
        }
        let mut tx = self.store.begin().await?;
        tx.declare_award_stock(campaign_id, award_id, declared)
            .await?;
        tx.commit().await?;
        Ok(())
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
            .map_or(0, |s| s.remaining);
        tx.commit().await?;
        Ok((added, left))
    }

    /// Sets a user's draw counts outright, as they stand at `now`: for bringing
    /// users over from another system, and for scenarios that start mid-campaign.
    /// Under a campaign-wide allowance every draw past it used a grant
    /// ([`UserCounts::settled`]).
    /// Counts that cannot all be true at once (more today than this month) are refused.
    pub async fn import_draw_counts(
        &self,
        campaign_id: &str,
        user: &str,
        counts: UserCounts,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let deployed = self.resolve(campaign_id).await?;
        let counts = counts.settled(deployed.campaign.allowance);
        counts.check().map_err(Failure::BadInput)?;
        let periods = Periods::at(&deployed.campaign, now);
        let mut tx = self.store.begin().await?;
        tx.set_counts(campaign_id, user, &periods, &counts).await?;
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
                // The listing, not the versions' sources.
                let live = tx
                    .versions(&id)
                    .await?
                    .into_iter()
                    .find(|v| v.version == row.version);
                out.push(CampaignSummary {
                    id,
                    name,
                    version: row.version,
                    state: row.state,
                    origin: live.as_ref().map_or(Origin::Api, |v| v.origin),
                    path: live.and_then(|v| v.path),
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
        // The row's version, so the summary and the source agree.
        let stored = tx
            .version(id, row.version)
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
                origin: stored.origin,
                path: stored.path,
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
        let mut tx = self.store.read().await?;
        let c = tx.counts(id, user, &Periods::at(campaign, now)).await?;
        drop(tx);
        let (today, this_month) = (c.today, c.month);
        let quota = &campaign.quota;
        Ok(UserStatus {
            campaign: id.to_string(),
            user: user.to_string(),
            draws_made: c.total,
            draws_left: c.draws_left(campaign.allowance),
            made_today: today,
            made_this_month: this_month,
            left_today: quota.per_day.map(|cap| (i64::from(cap) - today).max(0)),
            left_this_month: quota
                .per_month
                .map(|cap| (i64::from(cap) - this_month).max(0)),
            left_in_total: quota.total.map(|cap| (i64::from(cap) - c.total).max(0)),
        })
    }

    /// Declared attributes in declaration order, checked against their types.
    pub(crate) fn attributes(
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

/// The state the file gives a campaign on its first deploy.
pub(crate) fn file_state(campaign: &Campaign) -> CampaignState {
    match campaign.initial_state {
        tombola_ir::State::Draft => CampaignState::Draft,
        tombola_ir::State::Open => CampaignState::Open,
        tombola_ir::State::Closed => CampaignState::Closed,
    }
}

/// Whether `campaign`, in `state`, takes draws at `now`: open, and inside its window.
pub(crate) fn takes_draws(
    state: CampaignState,
    campaign: &Campaign,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    if state != CampaignState::Open {
        Err(Failure::NotOpen(campaign.id.clone()))
    } else if !campaign.window.contains(now) {
        Err(Failure::OutsideWindow(campaign.id.clone()))
    } else {
        Ok(())
    }
}

/// A draw error as the caller is told it: a missing declared attribute is the
/// caller's to supply; anything else is the campaign's fault.
pub(crate) fn draw_failure(deployed: &Deployed, error: DrawError) -> Failure {
    use tombola_grammar::{EvalError, Slot};
    let campaign = &deployed.campaign;
    match error {
        DrawError::Expression(EvalError::MissingInput(Slot::UserAttribute(i))) => {
            let name = campaign
                .inputs
                .user
                .get(usize::from(i))
                .map_or_else(|| format!("#{i}"), |(n, _)| n.clone());
            Failure::MissingAttribute {
                scope: "user",
                name,
            }
        }
        // An amount past the credit limit comes of the caller's input (the
        // check refuses those a campaign alone can reach): the user's limit.
        DrawError::Amount {
            error: AmountError::CreditRange(amount),
            ..
        } => Failure::BalanceLimit { amount },
        other => deployed.fault(other),
    }
}

impl Deployed {
    /// `why` as a fault of this version of the campaign.
    pub(crate) fn fault(&self, why: impl std::fmt::Display) -> Failure {
        Failure::CampaignFault {
            campaign: self.campaign.id.clone(),
            version: self.version,
            detail: why.to_string(),
        }
    }
}
