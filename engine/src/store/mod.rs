//! The store: where campaigns, counters, stock, draws, credits and deliveries
//! live. Three implementations share one set of interfaces — SQLite (the
//! default: a file in WAL mode), PostgreSQL, and memory (for simulation and
//! fast tests) — and one behavioural test suite.
//!
//! Every decrement is a conditional update inside the draw's transaction, and
//! a unique key backs every idempotency rule; nothing is cached in process, so
//! two servers on one PostgreSQL cannot oversell.
//!
//! A transaction ([`Tx`]) offers one interface per concern ([`Campaigns`],
//! [`Counts`], [`Stock`], [`Coupons`], [`Requests`], [`Draws`], [`Rebates`],
//! [`Ledger`], [`Outbox`], [`Keys`]); bring them into scope with
//! `use tombola_engine::store::prelude::*`. A whole request — claim, run,
//! answer, commit — is handed to the store in one call ([`Store::once`]), so
//! each store decides where it runs.

mod interfaces;
mod memory;
mod rows;
mod sql;

pub use interfaces::{
    Campaigns, Counts, Coupons, Draws, Keys, Ledger, Outbox, Rebates, Requests, Stock,
};
pub use memory::MemoryStore;
pub(crate) use rows::left_after_redeclaring;
pub use rows::{
    ApiKeyRow, Attempt, AuditRecord, AuditRow, CampaignRow, CampaignState, Claim, CreditChange,
    DayCount, DebitAhead, DeliveryRow, DeliveryState, DrawRecord, EventQuery, EventRecord, Explain,
    HistoryQuery, HistoryRow, LedgerRow, NewDelivery, OrderRecord, Origin, OutboxSummary, Period,
    RebateClaim, RequestKey, Slice, StockRow, StoredVersion, VersionRow,
};
pub use sql::{Lost, SqlStore, SqliteWriters};

pub use crate::counts::{Limits, Refusal, UserCounts};

/// Every interface of a transaction, for calling their methods.
pub mod prelude {
    pub use super::interfaces::{
        Campaigns as _, Counts as _, Coupons as _, Draws as _, Keys as _, Ledger as _, Outbox as _,
        Rebates as _, Requests as _, Stock as _,
    };
}

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
    /// From the SQLite writer.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A write whose batch did not commit.
    #[error(transparent)]
    Lost(sql::Lost),
}

/// What kind of trouble a store error is, for the caller's answer: worth a
/// retry later, or a bug to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// The database is out of space (SQLite's SQLITE_FULL, PostgreSQL's
    /// disk_full): a retry after space is freed succeeds.
    Full,
    /// The database is unreachable, dropped the connection, or rolled the
    /// transaction back to break a deadlock: a retry succeeds once it answers.
    Unavailable,
}

impl StoreError {
    /// The trouble this error is, if a retry can cure it.
    pub fn trouble(&self) -> Option<Trouble> {
        let error = match self {
            StoreError::Database(error) => error,
            StoreError::Sqlite(error) => return sql::lite_trouble(error),
            StoreError::Lost(lost) => return lost.trouble,
            _ => return None,
        };
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => Some(Trouble::Unavailable),
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                    // Extended codes keep the primary one in the low byte: 13 is
                    // SQLITE_FULL; 5 and 6, BUSY and LOCKED, outlasted the busy timeout.
                    return match code.parse::<u32>().map(|n| n & 0xff) {
                        Ok(13) => Some(Trouble::Full),
                        Ok(5 | 6) => Some(Trouble::Unavailable),
                        _ => None,
                    };
                }
                match code.as_ref() {
                    "53100" => Some(Trouble::Full),
                    // Connection exceptions, the server shutting down or
                    // terminating the session, too many connections, a deadlock
                    // or a serialization failure: each a rolled-back transaction.
                    c if c.starts_with("08")
                        || c.starts_with("57P")
                        || c == "53300"
                        || c == "40P01"
                        || c == "40001" =>
                    {
                        Some(Trouble::Unavailable)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// What a store call answers.
pub type Stored<T> = Result<T, StoreError>;

/// The most a balance may hold, in hundredths: [`tombola_ir::MAX_CREDITS`].
/// Every amount is within it too, so a balance plus an amount never overflows.
pub const MAX_BALANCE_HUNDREDTHS: i64 = 100_000_000_000_000;

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

/// How a request handed to [`Store::once`] ended.
#[derive(Debug)]
pub enum Ran<T> {
    /// It ran and committed: its answer.
    Ran(T),
    /// Done before with the same body: the answer stored then.
    Replay(String),
    /// Done before with a different body.
    Conflict,
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

    /// Runs one request in one transaction: claims its id, replays or refuses
    /// a conflict, runs `work` (which answers with its result and that result's
    /// stored form), stores the answer and commits. A failure of `work` rolls
    /// everything back, the claim included. A concurrent duplicate waits on the
    /// claim, then replays.
    pub async fn once<T, E, F>(&self, key: RequestKey<'_>, work: F) -> Result<Ran<T>, E>
    where
        E: From<StoreError>,
        F: AsyncFnOnce(&mut Tx) -> Result<(T, String), E>,
    {
        use interfaces::Requests as _;
        let mut tx = self.begin().await?;
        let earlier = match tx.claim(&key).await? {
            Claim::Replay(stored) => Ran::Replay(stored),
            Claim::Conflict => Ran::Conflict,
            Claim::New => {
                let (answer, stored) = match work(&mut tx).await {
                    Ok(done) => done,
                    Err(failure) => {
                        tx.abandon().await?;
                        return Err(failure);
                    }
                };
                tx.answer(&key, &stored).await?;
                tx.commit().await?;
                return Ok(Ran::Ran(answer));
            }
        };
        // What the claim found may be a write of this same batch of SQLite
        // writes: it answers only once that is committed.
        tx.commit().await?;
        Ok(earlier)
    }

    /// Writes, commits and deletes a row of some pages: whether the store can
    /// grow again after it was full.
    pub async fn probe_write(&self) -> Result<(), StoreError> {
        match self {
            Store::Memory(_) => Ok(()),
            Store::Sql(store) => store.probe_write().await,
        }
    }

    /// Every campaign's current version, to recompile at start.
    pub async fn current_versions(&self) -> Result<Vec<StoredVersion>, StoreError> {
        match self {
            Store::Memory(store) => Ok(store.current_versions().await),
            Store::Sql(store) => store.current_versions().await,
        }
    }
}

/// A transaction on a store. Dropped without `commit` (or `abandon`), it rolls back.
#[derive(Debug)]
pub enum Tx {
    Memory(memory::MemoryTx),
    Sql(sql::SqlTx),
}

impl Tx {
    /// Rolls back. What the transaction read may be a batch's of SQLite writes
    /// not yet committed: on SQLite this waits for that batch, so a refusal
    /// decided on it is answered only once it holds (an error if it failed).
    pub async fn abandon(self) -> Result<(), StoreError> {
        match self {
            Tx::Memory(_) => Ok(()),
            Tx::Sql(tx) => tx.abandon().await,
        }
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
