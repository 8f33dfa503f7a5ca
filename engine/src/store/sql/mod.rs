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
mod lite;
mod outbox;
mod pg;
mod rebates;
mod requests;
mod stock;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, FromRow, Transaction};

use super::rows::StoredVersion;
use super::{StoreError, Stored};
pub(crate) use lite::lite_trouble;
use lite::{FromLite, LiteTx};
pub use lite::{Lost, SqliteWriters};
use pg::PgTx;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a PostgreSQL connection may sit idle and still be handed out unchecked.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// A SQL store: a pool on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub enum SqlStore {
    /// The pool for reads, and this process's one writer.
    Sqlite(SqlitePool, Arc<SqliteWriters>),
    /// The pool, and how many round trips its transactions have made.
    Postgres(PgPool, Arc<AtomicU64>),
}

/// Gives a released connection back to the pool only if it is out of any
/// transaction. SQLite rolls a transaction back by itself when a write fails
/// for want of space; sqlx's own rollback then fails and leaves the
/// connection counted inside a transaction, where every later `BEGIN` fails.
/// Such a connection is closed instead (the pool opens a fresh one), so the
/// store recovers by itself once space returns.
async fn out_of_transaction<C: Connection>(conn: &mut C) -> Result<bool, sqlx::Error> {
    if conn.is_in_transaction() {
        // The rollback of a dropped transaction is queued before this ping, so
        // after it the count is what the database says.
        let _ = conn.ping().await;
    }
    Ok(!conn.is_in_transaction())
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
trait Read:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + FromLite + Send + Unpin
{
}

impl<T> Read for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + FromLite + Send + Unpin
{
}

/// A transaction on a SQL store.
#[derive(Debug)]
pub enum SqlTx {
    /// A read on SQLite, from the pool.
    Sqlite(Transaction<'static, Sqlite>),
    /// A write on SQLite, on the writer.
    Lite(LiteTx),
    /// Boxed: it carries what its claim read ahead.
    Postgres(Box<PgTx>),
}

impl SqlStore {
    /// Connects and applies the migrations.
    pub async fn connect(url: &str) -> Stored<SqlStore> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(32)
                .acquire_timeout(Duration::from_secs(30))
                // sqlx pings every connection it hands out, a round trip per
                // transaction; only one idle long enough to have been dropped
                // by the server or the network is worth the ping.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for > IDLE_BEFORE_PING {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                })
                .after_release(|conn, _| Box::pin(out_of_transaction(conn)))
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            return Ok(SqlStore::Postgres(pool, Arc::default()));
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
            let path = options.get_filename().to_owned();
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .after_release(|conn, _| Box::pin(out_of_transaction(conn)))
                .connect_with(options)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            return Ok(SqlStore::Sqlite(pool, SqliteWriters::open(&path)?));
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StoreError::Url(scheme.to_string()))
    }

    pub(crate) async fn begin(&self) -> Stored<SqlTx> {
        Ok(match self {
            SqlStore::Sqlite(_, writers) => SqlTx::Lite(writers.begin().await?),
            SqlStore::Postgres(pool, trips) => {
                SqlTx::Postgres(Box::new(PgTx::new(pool.begin().await?, trips.clone())))
            }
        })
    }

    /// A transaction for reading only: on SQLite it neither waits in the writers'
    /// queue nor takes the write lock, so reads never stall draws.
    pub(crate) async fn read(&self) -> Stored<SqlTx> {
        Ok(match self {
            SqlStore::Sqlite(pool, _) => SqlTx::Sqlite(pool.begin().await?),
            SqlStore::Postgres(pool, trips) => {
                SqlTx::Postgres(Box::new(PgTx::new(pool.begin().await?, trips.clone())))
            }
        })
    }

    /// Caps a SQLite file at `pages` pages (0: no cap) for the writes that
    /// begin from now on, as a full disk would; for tests. Nothing on PostgreSQL.
    pub fn limit_sqlite_pages(&self, pages: u32) {
        if let SqlStore::Sqlite(_, writers) = self {
            // SQLite's own ceiling when uncapped, since the setting outlives the transaction.
            let pages = if pages == 0 { u32::MAX >> 1 } else { pages };
            writers.limit_pages(pages);
        }
    }

    /// Makes the next commit of a batch of SQLite writes fail, as a disk error
    /// at commit would. Nothing on PostgreSQL.
    #[cfg(feature = "test-support")]
    pub fn fail_next_sqlite_commit(&self) {
        if let SqlStore::Sqlite(_, writers) = self {
            writers.fail_next_commit();
        }
    }

    /// How many round trips PostgreSQL transactions have made, from `BEGIN`
    /// to `COMMIT`; 0 on SQLite.
    #[cfg(feature = "test-support")]
    pub fn postgres_round_trips(&self) -> u64 {
        match self {
            SqlStore::Postgres(_, trips) => trips.load(std::sync::atomic::Ordering::Relaxed),
            SqlStore::Sqlite(..) => 0,
        }
    }

    /// How many batches of SQLite writes have committed; 0 on PostgreSQL.
    #[cfg(feature = "test-support")]
    pub fn sqlite_commits(&self) -> u64 {
        match self {
            SqlStore::Sqlite(_, writers) => writers.commits(),
            SqlStore::Postgres(..) => 0,
        }
    }

    pub(crate) async fn probe_write(&self) -> Stored<()> {
        let mut tx = self.begin().await?;
        // 64 KiB of incompressible bytes: pages a full file cannot find room for.
        let blob = if tx.postgres() {
            "decode(md5(random()::text) || repeat('00', 65520), 'hex')"
        } else {
            "randomblob(65536)"
        };
        tx.execute(
            &format!(
                "INSERT INTO store_probe (id, data) VALUES (1, {blob}) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data"
            ),
            &[],
        )
        .await?;
        tx.commit().await?;
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM store_probe", &[]).await?;
        tx.commit().await
    }

    pub(crate) async fn current_versions(&self) -> Stored<Vec<StoredVersion>> {
        let mut tx = self.read().await?;
        let rows = tx
            .fetch_all(
                "SELECT v.campaign_id, v.version, v.source, v.sha256, v.origin, v.path, v.note, v.deployed_at \
                 FROM campaign_versions v \
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
use bind_all;

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
            SqlTx::Sqlite(tx) => {
                let sql = sql.replace('$', "?");
                bind_all!(sqlx::query(&sql), args)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected()
            }
            SqlTx::Lite(tx) => tx.execute(sql, args)?,
            SqlTx::Postgres(tx) => bind_all!(sqlx::query(sql), args)
                .execute(tx.conn().await?)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a write to `table` whose outcome nothing reads. PostgreSQL holds it
    /// back to send with the transaction's next statement, saving its round trip;
    /// a later statement sees what it wrote.
    async fn defer(
        &mut self,
        table: &'static str,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> Stored<()> {
        match self {
            SqlTx::Postgres(tx) => tx.defer(table, sql, args).await,
            _ => self.execute(sql, args).await.map(drop),
        }
    }

    /// Runs a statement, and on PostgreSQL every write held back with it in the
    /// same round trip; the rows the statement changed. It must not touch a
    /// table a held-back write changes.
    async fn execute_carrying(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<u64> {
        match self {
            SqlTx::Postgres(tx) => tx.execute_carrying(sql, args).await,
            _ => self.execute(sql, args).await,
        }
    }

    async fn fetch_optional<T: Read>(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<Option<T>> {
        Ok(match self {
            SqlTx::Sqlite(tx) => {
                let sql = sql.replace('$', "?");
                bind_all!(sqlx::query_as::<_, T>(&sql), args)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            SqlTx::Lite(tx) => tx.fetch_optional(sql, args)?,
            SqlTx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(tx.conn().await?)
                    .await?
            }
        })
    }

    async fn fetch_all<T: Read>(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<Vec<T>> {
        Ok(match self {
            SqlTx::Sqlite(tx) => {
                let sql = sql.replace('$', "?");
                bind_all!(sqlx::query_as::<_, T>(&sql), args)
                    .fetch_all(&mut **tx)
                    .await?
            }
            SqlTx::Lite(tx) => tx.fetch_all(sql, args)?,
            SqlTx::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(tx.conn().await?)
                    .await?
            }
        })
    }

    /// Rolls back, and on SQLite waits for the batch the write read from.
    pub(crate) async fn abandon(self) -> Stored<()> {
        match self {
            SqlTx::Lite(tx) => tx.abandon().await,
            SqlTx::Sqlite(_) | SqlTx::Postgres(_) => Ok(()),
        }
    }

    pub(crate) async fn commit(self) -> Stored<()> {
        match self {
            SqlTx::Sqlite(tx) => tx.commit().await?,
            SqlTx::Lite(tx) => tx.commit().await?,
            SqlTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}
