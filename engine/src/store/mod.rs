//! The store: where campaigns, counters, stock, draws, credits and deliveries
//! live. Three implementations share one interface — SQLite (the default: a
//! file in WAL mode), PostgreSQL, and memory (for simulation and fast tests) —
//! and one behavioural test suite.
//!
//! Every decrement is a conditional update inside the draw's transaction, and
//! a unique key backs every idempotency rule; nothing is cached in process, so
//! two servers on one PostgreSQL cannot oversell.

mod memory;
mod sql;

use std::str::FromStr;

pub use memory::MemoryStore;
pub use sql::SqlStore;

/// Why the store failed. Domain refusals (caps, stock) are not errors here;
/// they are values the engine turns into typed draw errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Holds only the scheme: URLs carry passwords, which stay out of messages.
    #[error("unsupported database URL scheme `{0}`: use sqlite://PATH, postgres://… or memory:")]
    Url(String),
    #[error("the store holds an invalid value: {0}")]
    Corrupt(String),
}

/// A campaign's state in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignState {
    Draft,
    Open,
    Closed,
}

impl CampaignState {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Open => "open",
            CampaignState::Closed => "closed",
        }
    }
}

impl FromStr for CampaignState {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "draft" => CampaignState::Draft,
            "open" => CampaignState::Open,
            "closed" => CampaignState::Closed,
            other => return Err(StoreError::Corrupt(format!("campaign state `{other}`"))),
        })
    }
}

/// A campaign row: its state and current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignRow {
    pub state: CampaignState,
    pub version: i64,
}

/// A deployed version's source, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub campaign: String,
    pub version: i64,
    pub source: String,
    pub sha256: String,
}

/// What a request id already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First time: go ahead.
    New,
    /// Done before with the same body: the stored answer.
    Replay(String),
    /// Done before with a different body.
    Conflict,
}

/// The per-user limits a draw is debited against.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub allowance: i64,
    pub total: Option<i64>,
    pub per_day: Option<i64>,
    pub per_month: Option<i64>,
}

/// The user's counters after a successful debit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debited {
    /// Draws made including this one.
    pub made: i64,
    pub day_count: i64,
    pub month_count: i64,
    pub granted: i64,
}

/// Why a draw could not be debited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NoDrawsLeft,
    DailyCap,
    MonthlyCap,
    TotalCap,
}

/// A user's counters as they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub made: i64,
    pub granted: i64,
    pub day_key_matches: bool,
    pub day_count: i64,
    pub month_key_matches: bool,
    pub month_count: i64,
}

impl Counters {
    /// Which limit refuses one more draw, checked in the order users hit them.
    pub fn refusal(&self, limits: &Limits) -> Option<Refusal> {
        let today = if self.day_key_matches {
            self.day_count
        } else {
            0
        };
        let month = if self.month_key_matches {
            self.month_count
        } else {
            0
        };
        if limits.total.is_some_and(|cap| self.made >= cap) {
            Some(Refusal::TotalCap)
        } else if limits.per_month.is_some_and(|cap| month >= cap) {
            Some(Refusal::MonthlyCap)
        } else if limits.per_day.is_some_and(|cap| today >= cap) {
            Some(Refusal::DailyCap)
        } else if self.made >= limits.allowance + self.granted {
            Some(Refusal::NoDrawsLeft)
        } else {
            None
        }
    }
}

/// A user's counters as written by [`Tx::set_counters`].
#[derive(Debug, Clone, Copy)]
pub struct CounterValues<'a> {
    pub made: i64,
    pub granted: i64,
    pub day: &'a str,
    pub day_count: i64,
    pub month: &'a str,
    pub month_count: i64,
}

/// A completed draw, as recorded.
#[derive(Debug, Clone)]
pub struct DrawRecord<'a> {
    pub campaign: &'a str,
    pub request_id: &'a str,
    pub user: &'a str,
    pub version: i64,
    pub award: &'a str,
    pub amount: Option<String>,
    pub seed: i64,
    pub explanation: String,
    /// The campaign-zone day (`YYYY-MM-DD`), for per-day statistics.
    pub day: &'a str,
    pub at: i64,
}

/// A draw in a user's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub request_id: String,
    pub award: String,
    pub amount: Option<String>,
    pub version: i64,
    pub at: i64,
}

/// An award's stock: declared, remaining, issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRow {
    pub award: String,
    pub declared: i64,
    pub remaining: i64,
    pub issued: i64,
}

/// A behaviour event as recorded, with its campaign-zone period keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord<'a> {
    pub campaign: &'a str,
    pub request_id: &'a str,
    pub user: &'a str,
    pub event: &'a str,
    pub day: &'a str,
    pub week: &'a str,
    pub month: &'a str,
    pub at: i64,
}

/// Which period key an event lookup compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
    Ever,
}

/// A ledger entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    pub delta: i64,
    pub reason: String,
    pub reference: String,
    pub at: i64,
}

/// An outbox task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: i64,
    pub campaign: String,
    pub request_id: String,
    pub user: String,
    pub award: String,
    /// `pending`, `sending` (leased until `next_at`), `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_at: i64,
    pub created_at: i64,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Delivered { at: i64 },
    Retry { next_at: i64, error: String },
    Dead { error: String },
}

/// An admin action, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// An API key as stored: its SHA-256, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub sha256: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// Opens a store from a URL: `sqlite://path` (created if missing),
/// `postgres://…`, or `memory:`. Migrations are applied.
pub async fn open(url: &str) -> Result<Store, StoreError> {
    if url == "memory:" || url == "memory" {
        return Ok(Store::Memory(MemoryStore::default()));
    }
    Ok(Store::Sql(SqlStore::connect(url).await?))
}

/// One of the three stores.
#[derive(Debug, Clone)]
pub enum Store {
    Memory(MemoryStore),
    Sql(SqlStore),
}

impl Store {
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Store::Memory(store) => Tx::Memory(store.begin().await),
            Store::Sql(store) => Tx::Sql(store.begin().await?),
        })
    }

    /// A transaction for reads only; it must not write. On SQLite it does not
    /// queue behind writers.
    pub async fn read(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Store::Memory(store) => Tx::Memory(store.begin().await),
            Store::Sql(store) => Tx::Sql(store.read().await?),
        })
    }

    /// Every campaign's current version, to recompile at start.
    pub async fn current_versions(&self) -> Result<Vec<StoredVersion>, StoreError> {
        match self {
            Store::Memory(store) => Ok(store.current_versions().await),
            Store::Sql(store) => store.current_versions().await,
        }
    }
}

/// A transaction on a store. Dropped without `commit`, it rolls back.
#[derive(Debug)]
pub enum Tx {
    Memory(memory::MemoryTx),
    Sql(sql::SqlTx),
}

macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Tx::Memory(tx) => Ok(tx.$method($($arg),*)),
            Tx::Sql(tx) => tx.$method($($arg),*).await,
        }
    };
}

impl Tx {
    pub async fn campaign(&mut self, id: &str) -> Result<Option<CampaignRow>, StoreError> {
        dispatch!(self.campaign(id))
    }

    pub async fn latest_version(&mut self, id: &str) -> Result<Option<StoredVersion>, StoreError> {
        dispatch!(self.latest_version(id))
    }

    /// Records a new version (creating the campaign with `state` on its first deploy).
    pub async fn add_version(
        &mut self,
        version: &StoredVersion,
        state: CampaignState,
        at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.add_version(version, state, at))
    }

    pub async fn set_state(&mut self, id: &str, state: CampaignState) -> Result<bool, StoreError> {
        dispatch!(self.set_state(id, state))
    }

    /// Declares stock for an award: new rows start full; existing rows change
    /// what is left by the change in declared stock, never below zero.
    pub async fn declare_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
        declared: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.declare_award_stock(campaign, award, declared))
    }

    pub async fn declare_sku_stock(
        &mut self,
        campaign: &str,
        sku: &str,
        declared: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.declare_sku_stock(campaign, sku, declared))
    }

    /// Claims a request id for this body, or says what it already holds. A
    /// request stored under `first_hash` (the first release's hash of the same
    /// body) is the same request.
    pub async fn claim(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        first_hash: &str,
    ) -> Result<Claim, StoreError> {
        dispatch!(self.claim(scope, request_id, body_hash, first_hash))
    }

    /// The stored answer of a request that succeeded, if any.
    pub async fn stored_answer(
        &mut self,
        scope: &str,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        dispatch!(self.stored_answer(scope, request_id))
    }

    /// Stores the answer of a claimed request.
    pub async fn answer(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        response: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.answer(scope, request_id, body_hash, response, at))
    }

    /// Debits one draw against the entitlement and every cap, atomically.
    pub async fn debit_draw(
        &mut self,
        campaign: &str,
        user: &str,
        limits: &Limits,
        day: &str,
        month: &str,
    ) -> Result<Result<Debited, Refusal>, StoreError> {
        dispatch!(self.debit_draw(campaign, user, limits, day, month))
    }

    pub async fn counters(
        &mut self,
        campaign: &str,
        user: &str,
        day: &str,
        month: &str,
    ) -> Result<Counters, StoreError> {
        dispatch!(self.counters(campaign, user, day, month))
    }

    /// Sets a user's counters outright (creating them): `made` draws in all,
    /// `day_count` of them on `day` and `month_count` in `month`.
    pub async fn set_counters(
        &mut self,
        campaign: &str,
        user: &str,
        counts: &CounterValues<'_>,
    ) -> Result<(), StoreError> {
        dispatch!(self.set_counters(campaign, user, counts))
    }

    /// Takes one unit of an award's stock; `false` when none is left.
    pub async fn take_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self.take_award_stock(campaign, award))
    }

    /// Puts back a unit taken in this transaction for an award that was not issued after all.
    pub async fn return_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.return_award_stock(campaign, award))
    }

    pub async fn award_stock(
        &mut self,
        campaign: &str,
        award: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        dispatch!(self.award_stock(campaign, award))
    }

    pub async fn take_sku_stock(&mut self, campaign: &str, sku: &str) -> Result<bool, StoreError> {
        dispatch!(self.take_sku_stock(campaign, sku))
    }

    pub async fn grant_draws(
        &mut self,
        campaign: &str,
        user: &str,
        draws: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.grant_draws(campaign, user, draws))
    }

    /// Adds `delta` hundredths of a credit to the user's account (creating it)
    /// and writes the ledger entry; `false` if it would go negative.
    pub async fn add_credits(
        &mut self,
        user: &str,
        delta: i64,
        reason: &str,
        reference: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        dispatch!(self.add_credits(user, delta, reason, reference, at))
    }

    /// The balance in hundredths; 0 for a user with no account.
    pub async fn balance(&mut self, user: &str) -> Result<i64, StoreError> {
        dispatch!(self.balance(user))
    }

    pub async fn enqueue_delivery(
        &mut self,
        campaign: &str,
        request_id: &str,
        user: &str,
        award: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.enqueue_delivery(campaign, request_id, user, award, at))
    }

    pub async fn record_draw(&mut self, record: &DrawRecord<'_>) -> Result<(), StoreError> {
        dispatch!(self.record_draw(record))
    }

    pub async fn record_order(
        &mut self,
        campaign: &str,
        request_id: &str,
        user: &str,
        sku: &str,
        draws: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.record_order(campaign, request_id, user, sku, draws, at))
    }

    /// A user's draws in a campaign, newest first, strictly before `before`
    /// (a `(created_at, request_id)` cursor), at most `limit`.
    pub async fn history(
        &mut self,
        campaign: &str,
        user: &str,
        before: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        dispatch!(self.history(campaign, user, before, limit))
    }

    /// Draws of a campaign by campaign-zone day and award: `(day, award, count)`, by day.
    pub async fn draw_counts(
        &mut self,
        campaign: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        dispatch!(self.draw_counts(campaign))
    }

    /// Every stocked award of a campaign.
    pub async fn award_stocks(&mut self, campaign: &str) -> Result<Vec<StockRow>, StoreError> {
        dispatch!(self.award_stocks(campaign))
    }

    pub async fn insert_api_key(&mut self, key: &ApiKeyRow) -> Result<(), StoreError> {
        dispatch!(self.insert_api_key(key))
    }

    /// Every API key, oldest first, revoked ones included.
    pub async fn api_keys(&mut self) -> Result<Vec<ApiKeyRow>, StoreError> {
        dispatch!(self.api_keys())
    }

    pub async fn api_key_by_hash(&mut self, sha256: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        dispatch!(self.api_key_by_hash(sha256))
    }

    /// Marks a key revoked; false if there is no such key.
    pub async fn revoke_api_key(&mut self, id: &str, at: i64) -> Result<bool, StoreError> {
        dispatch!(self.revoke_api_key(id, at))
    }

    pub async fn record_event(&mut self, event: &EventRecord<'_>) -> Result<(), StoreError> {
        dispatch!(self.record_event(event))
    }

    /// Whether `user` did `event` in the period whose key is `key` (`Ever` ignores it).
    pub async fn event_done(
        &mut self,
        campaign: &str,
        user: &str,
        event: &str,
        period: Period,
        key: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self.event_done(campaign, user, event, period, key))
    }

    /// Claims a rebate for a user and period; false if it was already claimed.
    pub async fn claim_rebate(
        &mut self,
        campaign: &str,
        rebate: &str,
        user: &str,
        period_key: &str,
        request_id: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        dispatch!(self.claim_rebate(campaign, rebate, user, period_key, request_id, at))
    }

    /// A user's latest ledger entries, newest first.
    pub async fn ledger(&mut self, user: &str, limit: i64) -> Result<Vec<LedgerRow>, StoreError> {
        dispatch!(self.ledger(user, limit))
    }

    /// Leases up to `limit` due tasks (pending, or sending with an expired lease)
    /// until `lease_until`. On PostgreSQL, rows another server is leasing are skipped.
    pub async fn lease_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        dispatch!(self.lease_deliveries(now, lease_until, limit))
    }

    /// Records how an attempt on a leased task ended; false if the task was not leased.
    pub async fn finish_delivery(
        &mut self,
        id: i64,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        dispatch!(self.finish_delivery(id, attempt))
    }

    /// Tasks, newest first, in `state` if given.
    pub async fn deliveries(
        &mut self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        dispatch!(self.deliveries(state, limit))
    }

    /// Puts a dead task back in line with a fresh budget of attempts; false if
    /// there is no dead task `id`.
    pub async fn retry_delivery(&mut self, id: i64, now: i64) -> Result<bool, StoreError> {
        dispatch!(self.retry_delivery(id, now))
    }

    /// Tasks per state, and the creation time of the oldest undelivered one.
    pub async fn delivery_summary(
        &mut self,
    ) -> Result<(Vec<(String, i64)>, Option<i64>), StoreError> {
        dispatch!(self.delivery_summary())
    }

    /// Deletes idempotency records and delivered tasks older than `before`: (records, tasks).
    pub async fn purge(&mut self, before: i64) -> Result<(u64, u64), StoreError> {
        dispatch!(self.purge(before))
    }

    pub async fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self.audit(at, actor, action, target, detail))
    }

    /// Admin actions, newest first, with ids below `before` if given.
    pub async fn audit_log(
        &mut self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        dispatch!(self.audit_log(before, limit))
    }

    /// Adds coupon codes to a coupon award's pool (codes already there are
    /// skipped) and raises its stock by as many; the number added.
    pub async fn add_coupon_codes(
        &mut self,
        campaign: &str,
        award: &str,
        codes: &[String],
    ) -> Result<u64, StoreError> {
        dispatch!(self.add_coupon_codes(campaign, award, codes))
    }

    /// Issues an unissued code of the pool to `request_id`.
    pub async fn take_coupon_code(
        &mut self,
        campaign: &str,
        award: &str,
        request_id: &str,
        at: i64,
    ) -> Result<Option<String>, StoreError> {
        dispatch!(self.take_coupon_code(campaign, award, request_id, at))
    }

    /// The code issued to `request_id`, if any.
    pub async fn issued_code(
        &mut self,
        campaign: &str,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        dispatch!(self.issued_code(campaign, request_id))
    }

    /// Counts for tests and operators: (draws, ledger entries, delivery tasks, orders) of a campaign.
    pub async fn tallies(&mut self, campaign: &str) -> Result<(i64, i64, i64, i64), StoreError> {
        dispatch!(self.tallies(campaign))
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Memory(tx) => {
                tx.commit();
                Ok(())
            }
            Tx::Sql(tx) => tx.commit().await,
        }
    }
}
