//! The SQL stores, SQLite and PostgreSQL, over sqlx. Each statement is written
//! once with `$N` placeholders (SQLite reads them as `?N`) and read back into a
//! typed row by column name; the only differences between the two — connection
//! options, `BEGIN IMMEDIATE`, `GREATEST`, `SKIP LOCKED` — stay in this file and
//! the [`SqlTx::postgres`] checks. Each interface is implemented in the file of
//! its concern.

mod campaigns;
mod counts;
mod coupons;
mod draws;
mod keys;
mod ledger;
mod outbox;
mod rebates;
mod requests;
mod stock;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{FromRow, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::rows::StoredVersion;
use super::{StoreError, Stored};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// A SQL store: a pool on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub enum SqlStore {
    /// The pool, and a queue for this process's writers: SQLite admits one writer
    /// at a time, and waiting in line here is cheaper and fairer than SQLite's
    /// busy-retry loop. The database lock still guards against other processes.
    Sqlite(SqlitePool, Arc<Mutex<()>>),
    Postgres(PgPool),
}

/// A bound argument.
#[derive(Debug, Clone, Copy)]
enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    NullInt,
    NullText,
}

impl<'a> Arg<'a> {
    fn opt_int(value: Option<i64>) -> Arg<'a> {
        value.map_or(Arg::NullInt, Arg::Int)
    }

    fn opt_text(value: Option<&'a str>) -> Arg<'a> {
        value.map_or(Arg::NullText, Arg::Text)
    }
}

/// A row both databases can read by column name.
trait Read: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin {}

impl<T> Read for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A transaction on a SQL store.
#[derive(Debug)]
pub enum SqlTx {
    /// The transaction first, so it ends before the writer's place in line is released.
    Sqlite(Transaction<'static, Sqlite>, Option<OwnedMutexGuard<()>>),
    Postgres(Transaction<'static, Postgres>),
}

impl SqlStore {
    /// Connects and applies the migrations.
    pub async fn connect(url: &str) -> Stored<SqlStore> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            return Ok(SqlStore::Postgres(pool));
        }
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL in WAL mode: durable across process crashes; a power loss may lose
                // the last commits but never corrupts the file.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            return Ok(SqlStore::Sqlite(pool, Arc::default()));
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StoreError::Url(scheme.to_string()))
    }

    pub(crate) async fn begin(&self) -> Stored<SqlTx> {
        Ok(match self {
            // IMMEDIATE takes the write lock up front: SQLite allows one writer, and a
            // deferred transaction that upgrades later can fail instead of waiting.
            SqlStore::Sqlite(pool, writers) => {
                let turn = writers.clone().lock_owned().await;
                SqlTx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?, Some(turn))
            }
            SqlStore::Postgres(pool) => SqlTx::Postgres(pool.begin().await?),
        })
    }

    /// A transaction for reading only: on SQLite it neither waits in the writers'
    /// queue nor takes the write lock, so reads never stall draws.
    pub(crate) async fn read(&self) -> Stored<SqlTx> {
        Ok(match self {
            SqlStore::Sqlite(pool, _) => SqlTx::Sqlite(pool.begin().await?, None),
            SqlStore::Postgres(pool) => SqlTx::Postgres(pool.begin().await?),
        })
    }

    pub(crate) async fn current_versions(&self) -> Stored<Vec<StoredVersion>> {
        let mut tx = self.read().await?;
        let rows = tx
            .fetch_all(
                "SELECT v.campaign_id, v.version, v.source, v.sha256 FROM campaign_versions v \
                 JOIN campaigns c ON c.id = v.campaign_id AND c.current_version = v.version ORDER BY v.campaign_id",
                &[],
            )
            .await?;
        tx.commit().await?;
        Ok(rows)
    }
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match *arg {
                Arg::Int(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::NullInt => query.bind(None::<i64>),
                Arg::NullText => query.bind(None::<&str>),
            };
        }
        query
    }};
}

impl SqlTx {
    /// Whether this is PostgreSQL, for the few statements written per database.
    fn postgres(&self) -> bool {
        matches!(self, SqlTx::Postgres(_))
    }

    /// ` FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent servers each take
    /// other rows; nothing on SQLite, whose one writer makes a take exclusive.
    fn skip_locked(&self) -> &'static str {
        if self.postgres() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        }
    }

    /// Runs a statement; the rows it changed.
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<u64> {
        Ok(match self {
            SqlTx::Sqlite(tx, _) => {
                let sql = sql.replace('$', "?");
                bind_all!(sqlx::query(&sql), args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            SqlTx::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    async fn fetch_optional<T: Read>(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<Option<T>> {
        Ok(match self {
            SqlTx::Sqlite(tx, _) => {
                let sql = sql.replace('$', "?");
                bind_all!(sqlx::query_as::<_, T>(&sql), args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            SqlTx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        })
    }

    async fn fetch_all<T: Read>(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<Vec<T>> {
        Ok(match self {
            SqlTx::Sqlite(tx, _) => {
                let sql = sql.replace('$', "?");
                bind_all!(sqlx::query_as::<_, T>(&sql), args)
                    .fetch_all(&mut **tx)
                    .await?
            }
            SqlTx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **tx)
                    .await?
            }
        })
    }

    pub(crate) async fn commit(self) -> Stored<()> {
        match self {
            SqlTx::Sqlite(tx, _) => tx.commit().await?,
            SqlTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
