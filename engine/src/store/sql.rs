//! The SQL stores, SQLite and PostgreSQL, over sqlx. Each statement is written
//! once with `$N` placeholders (SQLite reads them as `?N`); the only
//! differences — connection options, `BEGIN IMMEDIATE` — stay in this file.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, Postgres};
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Row, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{
    ApiKeyRow, Attempt, AuditRow, CampaignRow, CampaignState, Claim, CounterValues, Counters,
    Debited, DeliveryRow, DrawRecord, EventRecord, HistoryRow, LedgerRow, Limits, Period, Refusal,
    StockRow, StoreError, StoredVersion,
};

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
#[derive(Debug, Clone)]
enum Arg<'a> {
    Int(i64),
    Text(&'a str),
    NullInt,
    NullText,
}

/// A transaction on a SQL store.
#[derive(Debug)]
pub enum SqlTx {
    /// The transaction first, so it ends before the writer's place in line is released.
    Sqlite(Transaction<'static, Sqlite>, Option<OwnedMutexGuard<()>>),
    Postgres(Transaction<'static, Postgres>),
}

/// A cell read back.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Int(i64),
    Text(String),
    Null,
}

impl Cell {
    fn int(&self) -> Result<i64, StoreError> {
        match self {
            Cell::Int(v) => Ok(*v),
            other => Err(StoreError::Corrupt(format!(
                "expected an integer, found {other:?}"
            ))),
        }
    }
    fn text(self) -> Result<String, StoreError> {
        match self {
            Cell::Text(v) => Ok(v),
            other => Err(StoreError::Corrupt(format!(
                "expected text, found {other:?}"
            ))),
        }
    }
    fn opt_text(self) -> Option<String> {
        match self {
            Cell::Text(v) => Some(v),
            _ => None,
        }
    }
}

/// Column kinds to read, in order.
#[derive(Debug, Clone, Copy)]
enum Col {
    Int,
    Text,
}

impl SqlStore {
    /// Connects and applies the migrations.
    pub async fn connect(url: &str) -> Result<SqlStore, StoreError> {
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

    pub(crate) async fn begin(&self) -> Result<SqlTx, StoreError> {
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
    pub(crate) async fn read(&self) -> Result<SqlTx, StoreError> {
        Ok(match self {
            SqlStore::Sqlite(pool, _) => SqlTx::Sqlite(pool.begin().await?, None),
            SqlStore::Postgres(pool) => SqlTx::Postgres(pool.begin().await?),
        })
    }

    pub(crate) async fn current_versions(&self) -> Result<Vec<StoredVersion>, StoreError> {
        let mut tx = self.read().await?;
        let rows = tx
            .fetch_all(
                "SELECT v.campaign_id, v.version, v.source, v.sha256 FROM campaign_versions v \
                 JOIN campaigns c ON c.id = v.campaign_id AND c.current_version = v.version ORDER BY v.campaign_id",
                &[],
                &[Col::Text, Col::Int, Col::Text, Col::Text],
            )
            .await?;
        tx.commit().await?;
        rows.into_iter().map(stored_version).collect()
    }
}

fn stored_version(row: Vec<Cell>) -> Result<StoredVersion, StoreError> {
    let mut row = row.into_iter();
    let mut next = || row.next().unwrap_or(Cell::Null);
    Ok(StoredVersion {
        campaign: next().text()?,
        version: next().int()?,
        source: next().text()?,
        sha256: next().text()?,
    })
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Int(v) => query.bind(*v),
                Arg::Text(v) => query.bind(*v),
                Arg::NullInt => query.bind(None::<i64>),
                Arg::NullText => query.bind(None::<&str>),
            };
        }
        query
    }};
}

macro_rules! read_row {
    ($row:expr, $cols:expr) => {{
        let mut cells = Vec::with_capacity($cols.len());
        for (i, col) in $cols.iter().enumerate() {
            cells.push(match col {
                Col::Int => $row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Cell::Null, Cell::Int),
                Col::Text => $row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Cell::Null, Cell::Text),
            });
        }
        cells
    }};
}

impl SqlTx {
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
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

    async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        cols: &[Col],
    ) -> Result<Option<Vec<Cell>>, StoreError> {
        Ok(match self {
            SqlTx::Sqlite(tx, _) => {
                let sql = sql.replace('$', "?");
                match bind_all!(sqlx::query(&sql), args)
                    .fetch_optional(&mut **tx)
                    .await?
                {
                    Some(row) => Some(read_row!(row, cols)),
                    None => None,
                }
            }
            SqlTx::Postgres(tx) => match bind_all!(sqlx::query(sql), args)
                .fetch_optional(&mut **tx)
                .await?
            {
                Some(row) => Some(read_row!(row, cols)),
                None => None,
            },
        })
    }

    async fn fetch_all(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        cols: &[Col],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let mut out = Vec::new();
        match self {
            SqlTx::Sqlite(tx, _) => {
                let sql = sql.replace('$', "?");
                for row in bind_all!(sqlx::query(&sql), args)
                    .fetch_all(&mut **tx)
                    .await?
                {
                    out.push(read_row!(row, cols));
                }
            }
            SqlTx::Postgres(tx) => {
                for row in bind_all!(sqlx::query(sql), args)
                    .fetch_all(&mut **tx)
                    .await?
                {
                    out.push(read_row!(row, cols));
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            SqlTx::Sqlite(tx, _) => tx.commit().await?,
            SqlTx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub(crate) async fn campaign(&mut self, id: &str) -> Result<Option<CampaignRow>, StoreError> {
        let row = self
            .fetch_optional(
                "SELECT state, current_version FROM campaigns WHERE id = $1",
                &[Arg::Text(id)],
                &[Col::Text, Col::Int],
            )
            .await?;
        row.map(|row| {
            let mut row = row.into_iter();
            let state = row.next().unwrap_or(Cell::Null).text()?.parse()?;
            let version = row.next().unwrap_or(Cell::Null).int()?;
            Ok(CampaignRow { state, version })
        })
        .transpose()
    }

    pub(crate) async fn latest_version(
        &mut self,
        id: &str,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let row = self
            .fetch_optional(
                "SELECT campaign_id, version, source, sha256 FROM campaign_versions WHERE campaign_id = $1 ORDER BY version DESC LIMIT 1",
                &[Arg::Text(id)],
                &[Col::Text, Col::Int, Col::Text, Col::Text],
            )
            .await?;
        row.map(stored_version).transpose()
    }

    pub(crate) async fn add_version(
        &mut self,
        version: &StoredVersion,
        state: CampaignState,
        at: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO campaigns (id, state, current_version, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET current_version = excluded.current_version",
            &[Arg::Text(&version.campaign), Arg::Text(state.as_str()), Arg::Int(version.version), Arg::Int(at)],
        )
        .await?;
        self.execute(
            "INSERT INTO campaign_versions (campaign_id, version, source, sha256, deployed_at) VALUES ($1, $2, $3, $4, $5)",
            &[Arg::Text(&version.campaign), Arg::Int(version.version), Arg::Text(&version.source), Arg::Text(&version.sha256), Arg::Int(at)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn set_state(
        &mut self,
        id: &str,
        state: CampaignState,
    ) -> Result<bool, StoreError> {
        Ok(self
            .execute(
                "UPDATE campaigns SET state = $2 WHERE id = $1",
                &[Arg::Text(id), Arg::Text(state.as_str())],
            )
            .await?
            == 1)
    }

    pub(crate) async fn declare_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
        declared: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO award_stock (campaign_id, award_id, declared, remaining) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (campaign_id, award_id) DO UPDATE SET \
             remaining = MAX(0, award_stock.remaining + excluded.declared - award_stock.declared), declared = excluded.declared"
                .replace("MAX(", if matches!(self, SqlTx::Postgres(_)) { "GREATEST(" } else { "MAX(" })
                .as_str(),
            &[Arg::Text(campaign), Arg::Text(award), Arg::Int(declared)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn declare_sku_stock(
        &mut self,
        campaign: &str,
        sku: &str,
        declared: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO sku_stock (campaign_id, sku_id, declared, remaining) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (campaign_id, sku_id) DO UPDATE SET \
             remaining = MAX(0, sku_stock.remaining + excluded.declared - sku_stock.declared), declared = excluded.declared"
                .replace("MAX(", if matches!(self, SqlTx::Postgres(_)) { "GREATEST(" } else { "MAX(" })
                .as_str(),
            &[Arg::Text(campaign), Arg::Text(sku), Arg::Int(declared)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn claim(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        first_hash: &str,
    ) -> Result<Claim, StoreError> {
        // The unique key does the work: a concurrent duplicate blocks here until
        // the first commits, then finds its row and replays it.
        let inserted = self
            .execute(
                "INSERT INTO requests (scope, request_id, body_hash, response, created_at) VALUES ($1, $2, $3, '', 0) \
                 ON CONFLICT (scope, request_id) DO NOTHING",
                &[Arg::Text(scope), Arg::Text(request_id), Arg::Text(body_hash)],
            )
            .await?;
        if inserted == 1 {
            return Ok(Claim::New);
        }
        let row = self
            .fetch_optional(
                "SELECT body_hash, response FROM requests WHERE scope = $1 AND request_id = $2",
                &[Arg::Text(scope), Arg::Text(request_id)],
                &[Col::Text, Col::Text],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("a claimed request vanished".into()))?;
        let mut row = row.into_iter();
        let hash = row.next().unwrap_or(Cell::Null).text()?;
        let response = row.next().unwrap_or(Cell::Null).text()?;
        Ok(if hash != body_hash && hash != first_hash {
            Claim::Conflict
        } else {
            Claim::Replay(response)
        })
    }

    pub(crate) async fn stored_answer(
        &mut self,
        scope: &str,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = self
            .fetch_optional(
                "SELECT response FROM requests WHERE scope = $1 AND request_id = $2 AND response <> ''",
                &[Arg::Text(scope), Arg::Text(request_id)],
                &[Col::Text],
            )
            .await?;
        row.map(|r| r.into_iter().next().unwrap_or(Cell::Null).text())
            .transpose()
    }

    pub(crate) async fn answer(
        &mut self,
        scope: &str,
        request_id: &str,
        body_hash: &str,
        response: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE requests SET response = $4, created_at = $5 WHERE scope = $1 AND request_id = $2 AND body_hash = $3",
            &[Arg::Text(scope), Arg::Text(request_id), Arg::Text(body_hash), Arg::Text(response), Arg::Int(at)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn debit_draw(
        &mut self,
        campaign: &str,
        user: &str,
        limits: &Limits,
        day: &str,
        month: &str,
    ) -> Result<Result<Debited, Refusal>, StoreError> {
        self.execute(
            "INSERT INTO user_counters (campaign_id, user_id) VALUES ($1, $2) ON CONFLICT (campaign_id, user_id) DO NOTHING",
            &[Arg::Text(campaign), Arg::Text(user)],
        )
        .await?;
        let cap = |c: Option<i64>| c.map_or(Arg::NullInt, Arg::Int);
        // One conditional update debits the entitlement and every cap, and returns
        // the counts this draw sees: concurrent draws of one user see different counts.
        let row = self
            .fetch_optional(
                "UPDATE user_counters SET made = made + 1, \
                 day_count = CASE WHEN day_key = $3 THEN day_count + 1 ELSE 1 END, day_key = $3, \
                 month_count = CASE WHEN month_key = $4 THEN month_count + 1 ELSE 1 END, month_key = $4 \
                 WHERE campaign_id = $1 AND user_id = $2 AND made < $5 + granted \
                 AND ($6 IS NULL OR made < $6) \
                 AND ($7 IS NULL OR day_key <> $3 OR day_count < $7) \
                 AND ($8 IS NULL OR month_key <> $4 OR month_count < $8) \
                 RETURNING made, day_count, month_count, granted",
                &[Arg::Text(campaign), Arg::Text(user), Arg::Text(day), Arg::Text(month), Arg::Int(limits.allowance), cap(limits.total), cap(limits.per_day), cap(limits.per_month)],
                &[Col::Int, Col::Int, Col::Int, Col::Int],
            )
            .await?;
        match row {
            Some(row) => Ok(Ok(Debited {
                made: row[0].int()?,
                day_count: row[1].int()?,
                month_count: row[2].int()?,
                granted: row[3].int()?,
            })),
            None => {
                let counters = self.counters(campaign, user, day, month).await?;
                Ok(Err(counters
                    .refusal(limits)
                    .unwrap_or(Refusal::NoDrawsLeft)))
            }
        }
    }

    pub(crate) async fn set_counters(
        &mut self,
        campaign: &str,
        user: &str,
        counts: &CounterValues<'_>,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO user_counters (campaign_id, user_id, made, granted, day_key, day_count, month_key, month_count) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (campaign_id, user_id) DO UPDATE SET made = excluded.made, granted = excluded.granted, \
             day_key = excluded.day_key, day_count = excluded.day_count, \
             month_key = excluded.month_key, month_count = excluded.month_count",
            &[Arg::Text(campaign), Arg::Text(user), Arg::Int(counts.made), Arg::Int(counts.granted), Arg::Text(counts.day), Arg::Int(counts.day_count), Arg::Text(counts.month), Arg::Int(counts.month_count)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn counters(
        &mut self,
        campaign: &str,
        user: &str,
        day: &str,
        month: &str,
    ) -> Result<Counters, StoreError> {
        let row = self
            .fetch_optional(
                "SELECT made, granted, day_key, day_count, month_key, month_count FROM user_counters WHERE campaign_id = $1 AND user_id = $2",
                &[Arg::Text(campaign), Arg::Text(user)],
                &[Col::Int, Col::Int, Col::Text, Col::Int, Col::Text, Col::Int],
            )
            .await?;
        let Some(row) = row else {
            return Ok(Counters::default());
        };
        Ok(Counters {
            made: row[0].int()?,
            granted: row[1].int()?,
            day_key_matches: row[2].clone().opt_text().as_deref() == Some(day),
            day_count: row[3].int()?,
            month_key_matches: row[4].clone().opt_text().as_deref() == Some(month),
            month_count: row[5].int()?,
        })
    }

    pub(crate) async fn take_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .execute(
                "UPDATE award_stock SET remaining = remaining - 1, issued = issued + 1 WHERE campaign_id = $1 AND award_id = $2 AND remaining > 0",
                &[Arg::Text(campaign), Arg::Text(award)],
            )
            .await?
            == 1)
    }

    pub(crate) async fn return_award_stock(
        &mut self,
        campaign: &str,
        award: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE award_stock SET remaining = remaining + 1, issued = issued - 1 WHERE campaign_id = $1 AND award_id = $2 AND issued > 0",
            &[Arg::Text(campaign), Arg::Text(award)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn award_stock(
        &mut self,
        campaign: &str,
        award: &str,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = self
            .fetch_optional(
                "SELECT remaining, issued FROM award_stock WHERE campaign_id = $1 AND award_id = $2",
                &[Arg::Text(campaign), Arg::Text(award)],
                &[Col::Int, Col::Int],
            )
            .await?;
        row.map(|r| Ok((r[0].int()?, r[1].int()?))).transpose()
    }

    pub(crate) async fn take_sku_stock(
        &mut self,
        campaign: &str,
        sku: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .execute(
                "UPDATE sku_stock SET remaining = remaining - 1, sold = sold + 1 WHERE campaign_id = $1 AND sku_id = $2 AND remaining > 0",
                &[Arg::Text(campaign), Arg::Text(sku)],
            )
            .await?
            == 1)
    }

    pub(crate) async fn grant_draws(
        &mut self,
        campaign: &str,
        user: &str,
        draws: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO user_counters (campaign_id, user_id, granted) VALUES ($1, $2, $3) \
             ON CONFLICT (campaign_id, user_id) DO UPDATE SET granted = user_counters.granted + excluded.granted",
            &[Arg::Text(campaign), Arg::Text(user), Arg::Int(draws)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn add_credits(
        &mut self,
        user: &str,
        delta: i64,
        reason: &str,
        reference: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        self.execute("INSERT INTO accounts (user_id, balance) VALUES ($1, 0) ON CONFLICT (user_id) DO NOTHING", &[Arg::Text(user)]).await?;
        // Conditional: a debit that would go below zero changes nothing (and the CHECK backs it).
        let changed = self
            .execute("UPDATE accounts SET balance = balance + $2 WHERE user_id = $1 AND balance + $2 >= 0", &[Arg::Text(user), Arg::Int(delta)])
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        self.execute(
            "INSERT INTO ledger_entries (user_id, delta, reason, reference, created_at) VALUES ($1, $2, $3, $4, $5)",
            &[Arg::Text(user), Arg::Int(delta), Arg::Text(reason), Arg::Text(reference), Arg::Int(at)],
        )
        .await?;
        Ok(true)
    }

    pub(crate) async fn balance(&mut self, user: &str) -> Result<i64, StoreError> {
        let row = self
            .fetch_optional(
                "SELECT balance FROM accounts WHERE user_id = $1",
                &[Arg::Text(user)],
                &[Col::Int],
            )
            .await?;
        row.map_or(Ok(0), |r| r[0].int())
    }

    pub(crate) async fn enqueue_delivery(
        &mut self,
        campaign: &str,
        request_id: &str,
        user: &str,
        award: &str,
        at: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO delivery_tasks (campaign_id, request_id, user_id, award_id, next_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)",
            &[Arg::Text(campaign), Arg::Text(request_id), Arg::Text(user), Arg::Text(award), Arg::Int(at)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn record_draw(&mut self, r: &DrawRecord<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO draws (campaign_id, request_id, user_id, version, award_id, amount, seed, explanation, created_at, day_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                Arg::Text(r.campaign),
                Arg::Text(r.request_id),
                Arg::Text(r.user),
                Arg::Int(r.version),
                Arg::Text(r.award),
                r.amount.as_deref().map_or(Arg::NullText, Arg::Text),
                Arg::Int(r.seed),
                Arg::Text(&r.explanation),
                Arg::Int(r.at),
                Arg::Text(r.day),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn record_order(
        &mut self,
        campaign: &str,
        request_id: &str,
        user: &str,
        sku: &str,
        draws: i64,
        at: i64,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO orders (campaign_id, request_id, user_id, sku_id, draws, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[Arg::Text(campaign), Arg::Text(request_id), Arg::Text(user), Arg::Text(sku), Arg::Int(draws), Arg::Int(at)],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn history(
        &mut self,
        campaign: &str,
        user: &str,
        before: Option<(i64, &str)>,
        limit: i64,
    ) -> Result<Vec<HistoryRow>, StoreError> {
        // Without a cursor, start after the newest possible row.
        let (at, request_id) = before.unwrap_or((i64::MAX, ""));
        let rows = self
            .fetch_all(
                "SELECT request_id, award_id, amount, version, created_at FROM draws \
                 WHERE campaign_id = $1 AND user_id = $2 \
                 AND (created_at < $3 OR (created_at = $3 AND request_id < $4) OR $5 = 0) \
                 ORDER BY created_at DESC, request_id DESC LIMIT $6",
                &[
                    Arg::Text(campaign),
                    Arg::Text(user),
                    Arg::Int(at),
                    Arg::Text(request_id),
                    Arg::Int(i64::from(before.is_some())),
                    Arg::Int(limit),
                ],
                &[Col::Text, Col::Text, Col::Text, Col::Int, Col::Int],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or(Cell::Null);
                Ok(HistoryRow {
                    request_id: next().text()?,
                    award: next().text()?,
                    amount: next().opt_text(),
                    version: next().int()?,
                    at: next().int()?,
                })
            })
            .collect()
    }

    pub(crate) async fn draw_counts(
        &mut self,
        campaign: &str,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = self
            .fetch_all(
                "SELECT day_key, award_id, COUNT(*) FROM draws WHERE campaign_id = $1 \
                 GROUP BY day_key, award_id ORDER BY day_key, award_id",
                &[Arg::Text(campaign)],
                &[Col::Text, Col::Text, Col::Int],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or(Cell::Null);
                Ok((next().text()?, next().text()?, next().int()?))
            })
            .collect()
    }

    pub(crate) async fn award_stocks(
        &mut self,
        campaign: &str,
    ) -> Result<Vec<StockRow>, StoreError> {
        let rows = self
            .fetch_all(
                "SELECT award_id, declared, remaining, issued FROM award_stock WHERE campaign_id = $1 ORDER BY award_id",
                &[Arg::Text(campaign)],
                &[Col::Text, Col::Int, Col::Int, Col::Int],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or(Cell::Null);
                Ok(StockRow {
                    award: next().text()?,
                    declared: next().int()?,
                    remaining: next().int()?,
                    issued: next().int()?,
                })
            })
            .collect()
    }

    pub(crate) async fn insert_api_key(&mut self, key: &ApiKeyRow) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO api_keys (id, name, sha256, created_at) VALUES ($1, $2, $3, $4)",
            &[
                Arg::Text(&key.id),
                Arg::Text(&key.name),
                Arg::Text(&key.sha256),
                Arg::Int(key.created_at),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn api_keys(&mut self) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = self
            .fetch_all(
                "SELECT id, name, sha256, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
                &[],
                &API_KEY_COLS,
            )
            .await?;
        rows.into_iter().map(api_key_row).collect()
    }

    pub(crate) async fn api_key_by_hash(
        &mut self,
        sha256: &str,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        self.fetch_optional(
            "SELECT id, name, sha256, created_at, revoked_at FROM api_keys WHERE sha256 = $1",
            &[Arg::Text(sha256)],
            &API_KEY_COLS,
        )
        .await?
        .map(api_key_row)
        .transpose()
    }

    pub(crate) async fn revoke_api_key(&mut self, id: &str, at: i64) -> Result<bool, StoreError> {
        // Revoking twice keeps the first time.
        let found = self
            .fetch_optional(
                "SELECT id FROM api_keys WHERE id = $1",
                &[Arg::Text(id)],
                &[Col::Text],
            )
            .await?
            .is_some();
        self.execute(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[Arg::Text(id), Arg::Int(at)],
        )
        .await?;
        Ok(found)
    }

    pub(crate) async fn record_event(&mut self, e: &EventRecord<'_>) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO events (campaign_id, request_id, user_id, event, day_key, week_key, month_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                Arg::Text(e.campaign),
                Arg::Text(e.request_id),
                Arg::Text(e.user),
                Arg::Text(e.event),
                Arg::Text(e.day),
                Arg::Text(e.week),
                Arg::Text(e.month),
                Arg::Int(e.at),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn event_done(
        &mut self,
        campaign: &str,
        user: &str,
        event: &str,
        period: Period,
        key: &str,
    ) -> Result<bool, StoreError> {
        // The column is chosen from a closed set, never from input.
        let column = match period {
            Period::Day => "day_key = $4",
            Period::Week => "week_key = $4",
            Period::Month => "month_key = $4",
            // Still binds $4, so the parameter list is the same for every period.
            Period::Ever => "(day_key = $4 OR 1 = 1)",
        };
        let sql = format!(
            "SELECT CAST(1 AS BIGINT) FROM events WHERE campaign_id = $1 AND user_id = $2 AND event = $3 AND {column} LIMIT 1"
        );
        Ok(self
            .fetch_optional(
                &sql,
                &[
                    Arg::Text(campaign),
                    Arg::Text(user),
                    Arg::Text(event),
                    Arg::Text(key),
                ],
                &[Col::Int],
            )
            .await?
            .is_some())
    }

    pub(crate) async fn claim_rebate(
        &mut self,
        campaign: &str,
        rebate: &str,
        user: &str,
        period_key: &str,
        request_id: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        let inserted = self
            .execute(
                "INSERT INTO rebate_claims (campaign_id, rebate_id, user_id, period_key, request_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    Arg::Text(campaign),
                    Arg::Text(rebate),
                    Arg::Text(user),
                    Arg::Text(period_key),
                    Arg::Text(request_id),
                    Arg::Int(at),
                ],
            )
            .await?;
        Ok(inserted == 1)
    }

    pub(crate) async fn ledger(
        &mut self,
        user: &str,
        limit: i64,
    ) -> Result<Vec<LedgerRow>, StoreError> {
        let rows = self
            .fetch_all(
                "SELECT delta, reason, reference, created_at FROM ledger_entries WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                &[Arg::Text(user), Arg::Int(limit)],
                &[Col::Int, Col::Text, Col::Text, Col::Int],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or(Cell::Null);
                Ok(LedgerRow {
                    delta: next().int()?,
                    reason: next().text()?,
                    reference: next().text()?,
                    at: next().int()?,
                })
            })
            .collect()
    }

    pub(crate) async fn lease_deliveries(
        &mut self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        // SQLite has one writer, so its transaction alone makes the lease exclusive.
        let skip_locked = if matches!(self, SqlTx::Postgres(_)) {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM delivery_tasks WHERE state IN ('pending', 'sending') AND next_at <= $1 \
             ORDER BY next_at, id LIMIT $2{skip_locked}"
        );
        let rows = self
            .fetch_all(&sql, &[Arg::Int(now), Arg::Int(limit)], &DELIVERY_COLS)
            .await?;
        let mut leased = Vec::with_capacity(rows.len());
        for row in rows {
            let mut task = delivery_row(row)?;
            self.execute(
                "UPDATE delivery_tasks SET state = 'sending', next_at = $2 WHERE id = $1",
                &[Arg::Int(task.id), Arg::Int(lease_until)],
            )
            .await?;
            task.state = "sending".into();
            task.next_at = lease_until;
            leased.push(task);
        }
        Ok(leased)
    }

    pub(crate) async fn finish_delivery(
        &mut self,
        id: i64,
        attempt: &Attempt,
    ) -> Result<bool, StoreError> {
        let changed = match attempt {
            Attempt::Delivered { at } => {
                self.execute(
                    "UPDATE delivery_tasks SET state = 'delivered', delivered_at = $2, attempts = attempts + 1, last_error = NULL \
                     WHERE id = $1 AND state = 'sending'",
                    &[Arg::Int(id), Arg::Int(*at)],
                )
                .await?
            }
            Attempt::Retry { next_at, error } => {
                self.execute(
                    "UPDATE delivery_tasks SET state = 'pending', next_at = $2, attempts = attempts + 1, last_error = $3 \
                     WHERE id = $1 AND state = 'sending'",
                    &[Arg::Int(id), Arg::Int(*next_at), Arg::Text(error)],
                )
                .await?
            }
            Attempt::Dead { error } => {
                self.execute(
                    "UPDATE delivery_tasks SET state = 'dead', attempts = attempts + 1, last_error = $2 \
                     WHERE id = $1 AND state = 'sending'",
                    &[Arg::Int(id), Arg::Text(error)],
                )
                .await?
            }
        };
        Ok(changed == 1)
    }

    pub(crate) async fn deliveries(
        &mut self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM delivery_tasks WHERE (state = $1 OR $2 = 0) ORDER BY id DESC LIMIT $3"
        );
        let rows = self
            .fetch_all(
                &sql,
                &[
                    Arg::Text(state.unwrap_or("")),
                    Arg::Int(i64::from(state.is_some())),
                    Arg::Int(limit),
                ],
                &DELIVERY_COLS,
            )
            .await?;
        rows.into_iter().map(delivery_row).collect()
    }

    pub(crate) async fn retry_delivery(&mut self, id: i64, now: i64) -> Result<bool, StoreError> {
        Ok(self
            .execute(
                "UPDATE delivery_tasks SET state = 'pending', next_at = $2, attempts = 0 WHERE id = $1 AND state = 'dead'",
                &[Arg::Int(id), Arg::Int(now)],
            )
            .await?
            == 1)
    }

    pub(crate) async fn delivery_summary(
        &mut self,
    ) -> Result<(Vec<(String, i64)>, Option<i64>), StoreError> {
        let rows = self
            .fetch_all(
                "SELECT state, COUNT(*) FROM delivery_tasks GROUP BY state ORDER BY state",
                &[],
                &[Col::Text, Col::Int],
            )
            .await?;
        let mut counts = Vec::new();
        for row in rows {
            let mut row = row.into_iter();
            let mut next = || row.next().unwrap_or(Cell::Null);
            counts.push((next().text()?, next().int()?));
        }
        let oldest = self
            .fetch_optional(
                "SELECT MIN(created_at) FROM delivery_tasks WHERE state IN ('pending', 'sending')",
                &[],
                &[Col::Int],
            )
            .await?
            .and_then(|row| match row.first() {
                Some(Cell::Int(at)) => Some(*at),
                _ => None,
            });
        Ok((counts, oldest))
    }

    pub(crate) async fn purge(&mut self, before: i64) -> Result<(u64, u64), StoreError> {
        let records = self
            .execute(
                "DELETE FROM requests WHERE created_at < $1",
                &[Arg::Int(before)],
            )
            .await?;
        let tasks = self
            .execute(
                "DELETE FROM delivery_tasks WHERE state = 'delivered' AND delivered_at < $1",
                &[Arg::Int(before)],
            )
            .await?;
        Ok((records, tasks))
    }

    pub(crate) async fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
            &[
                Arg::Int(at),
                Arg::Text(actor),
                Arg::Text(action),
                Arg::Text(target),
                Arg::Text(detail),
            ],
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn audit_log(
        &mut self,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let rows = self
            .fetch_all(
                "SELECT id, at, actor, action, target, detail FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
                &[Arg::Int(before.unwrap_or(i64::MAX)), Arg::Int(limit)],
                &[Col::Int, Col::Int, Col::Text, Col::Text, Col::Text, Col::Text],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or(Cell::Null);
                Ok(AuditRow {
                    id: next().int()?,
                    at: next().int()?,
                    actor: next().text()?,
                    action: next().text()?,
                    target: next().text()?,
                    detail: next().text()?,
                })
            })
            .collect()
    }

    pub(crate) async fn add_coupon_codes(
        &mut self,
        campaign: &str,
        award: &str,
        codes: &[String],
    ) -> Result<u64, StoreError> {
        let mut added = 0;
        for code in codes {
            added += self
                .execute(
                    "INSERT INTO coupon_codes (campaign_id, award_id, code) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[Arg::Text(campaign), Arg::Text(award), Arg::Text(code)],
                )
                .await?;
        }
        let added_i64 = i64::try_from(added).unwrap_or(i64::MAX);
        self.execute(
            "INSERT INTO award_stock (campaign_id, award_id, declared, remaining) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (campaign_id, award_id) DO UPDATE SET \
             declared = award_stock.declared + excluded.declared, remaining = award_stock.remaining + excluded.declared",
            &[Arg::Text(campaign), Arg::Text(award), Arg::Int(added_i64)],
        )
        .await?;
        Ok(added)
    }

    pub(crate) async fn take_coupon_code(
        &mut self,
        campaign: &str,
        award: &str,
        request_id: &str,
        at: i64,
    ) -> Result<Option<String>, StoreError> {
        // Concurrent draws on PostgreSQL each skip the codes the others are taking.
        let skip_locked = if matches!(self, SqlTx::Postgres(_)) {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE coupon_codes SET request_id = $3, issued_at = $4 WHERE campaign_id = $1 AND award_id = $2 AND code = \
             (SELECT code FROM coupon_codes WHERE campaign_id = $1 AND award_id = $2 AND request_id IS NULL \
             ORDER BY code LIMIT 1{skip_locked}) RETURNING code"
        );
        Ok(self
            .fetch_optional(
                &sql,
                &[
                    Arg::Text(campaign),
                    Arg::Text(award),
                    Arg::Text(request_id),
                    Arg::Int(at),
                ],
                &[Col::Text],
            )
            .await?
            .and_then(|row| row.into_iter().next().and_then(Cell::opt_text)))
    }

    pub(crate) async fn issued_code(
        &mut self,
        campaign: &str,
        request_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .fetch_optional(
                "SELECT code FROM coupon_codes WHERE campaign_id = $1 AND request_id = $2",
                &[Arg::Text(campaign), Arg::Text(request_id)],
                &[Col::Text],
            )
            .await?
            .and_then(|row| row.into_iter().next().and_then(Cell::opt_text)))
    }

    pub(crate) async fn tallies(
        &mut self,
        campaign: &str,
    ) -> Result<(i64, i64, i64, i64), StoreError> {
        let prefix = format!("{campaign}/%");
        let row = self
            .fetch_optional(
                "SELECT (SELECT COUNT(*) FROM draws WHERE campaign_id = $1), \
                 (SELECT COUNT(*) FROM ledger_entries WHERE reference LIKE $2), \
                 (SELECT COUNT(*) FROM delivery_tasks WHERE campaign_id = $1), \
                 (SELECT COUNT(*) FROM orders WHERE campaign_id = $1)",
                &[Arg::Text(campaign), Arg::Text(&prefix)],
                &[Col::Int, Col::Int, Col::Int, Col::Int],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("no tallies".into()))?;
        Ok((row[0].int()?, row[1].int()?, row[2].int()?, row[3].int()?))
    }
}

const API_KEY_COLS: [Col; 5] = [Col::Text, Col::Text, Col::Text, Col::Int, Col::Int];

fn api_key_row(row: Vec<Cell>) -> Result<ApiKeyRow, StoreError> {
    let mut row = row.into_iter();
    let mut next = || row.next().unwrap_or(Cell::Null);
    Ok(ApiKeyRow {
        id: next().text()?,
        name: next().text()?,
        sha256: next().text()?,
        created_at: next().int()?,
        revoked_at: match next() {
            Cell::Int(at) => Some(at),
            _ => None,
        },
    })
}

const DELIVERY_COLUMNS: &str = "id, campaign_id, request_id, user_id, award_id, state, attempts, next_at, created_at, last_error, delivered_at";
const DELIVERY_COLS: [Col; 11] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Int,
];

fn delivery_row(row: Vec<Cell>) -> Result<DeliveryRow, StoreError> {
    let mut row = row.into_iter();
    let mut next = || row.next().unwrap_or(Cell::Null);
    Ok(DeliveryRow {
        id: next().int()?,
        campaign: next().text()?,
        request_id: next().text()?,
        user: next().text()?,
        award: next().text()?,
        state: next().text()?,
        attempts: next().int()?,
        next_at: next().int()?,
        created_at: next().int()?,
        last_error: next().opt_text(),
        delivered_at: match next() {
            Cell::Int(at) => Some(at),
            _ => None,
        },
    })
}
