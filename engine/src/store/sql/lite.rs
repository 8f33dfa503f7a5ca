//! SQLite's one writer: a connection that owns this process's writes, with
//! cached prepared statements run in place (no worker thread to hop to), where
//! the writes waiting in line commit together — group commit — each inside a
//! savepoint of its own.
//!
//! A write takes its turn on the writer, opens the batch's transaction if none
//! is open, and runs in `SAVEPOINT member`. Its commit releases the savepoint
//! and joins the batch; the batch commits when no other write waits for the
//! writer (so a lone write never waits for company) or when it holds
//! [`MAX_BATCH`] writes. Every member learns the batch's outcome before it
//! answers, so nothing is acknowledged before its commit, and a write that
//! fails rolls back to its savepoint, leaving its neighbours to commit.
//!
//! Reads stay on sqlx's pool: in WAL mode they see the last commit and never
//! wait for the writer.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, ErrorCode, OpenFlags, Row};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use super::Arg;
use crate::counts::UserCounts;
use crate::store::rows::{
    ApiKeyRow, AuditRow, CampaignRow, CampaignState, DayCount, DeliveryRow, DeliveryState,
    HistoryRow, LedgerRow, Origin, StockRow, StoredVersion, VersionRow,
};
use crate::store::{StoreError, Stored, Trouble};

/// The most writes one commit holds. A steady stream of writes always has one
/// waiting, so without a cap the batch would never commit.
const MAX_BATCH: usize = 64;

/// This process's SQLite writer and the writes waiting for it.
#[derive(Debug)]
pub struct SqliteWriters {
    writer: Arc<Mutex<Writer>>,
    /// Writes waiting for their turn: while one waits, a finished write leaves
    /// the batch open for it.
    waiting: AtomicUsize,
    /// A cap on the file's pages for the writes from now on (0: none), as a
    /// full disk would; for tests.
    max_pages: AtomicU32,
    /// Fails the next batch's commit, for tests.
    fail_commit: AtomicBool,
    /// The WAL is long: the writer checkpoints what the checkpoint thread
    /// could not (the frames committed while it ran) between two batches, so
    /// the next batch starts the WAL over.
    catch_up: AtomicBool,
    /// Batches committed, for tests.
    #[cfg_attr(not(feature = "test-support"), allow(dead_code))]
    commits: Arc<AtomicU64>,
}

/// The connection and the batch it has open.
#[derive(Debug)]
struct Writer {
    conn: Connection,
    batch: Option<Batch>,
    /// The page cap set on the connection.
    pages: u32,
    commits: Arc<AtomicU64>,
}

/// An open transaction and the writes released into it.
#[derive(Debug)]
struct Batch {
    /// Writes that took a turn in it, kept or rolled back: the cap counts
    /// them all, so a stream of refused writes cannot hold a batch open.
    turns: usize,
    /// Writes released into it, waiting for its outcome.
    members: usize,
    done: watch::Sender<Option<Outcome>>,
}

/// How a batch ended, for each of its members.
type Outcome = Result<(), Lost>;

/// Why a batch did not commit: what each of its members answers.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the write was not committed: {detail}")]
pub struct Lost {
    pub trouble: Option<Trouble>,
    pub detail: String,
}

impl SqliteWriters {
    /// Opens the writer on the database file (migrated already, in WAL mode).
    pub(super) fn open(path: &Path) -> Stored<Arc<SqliteWriters>> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Another process may hold the write lock; SQLite's busy wait then
        // stands in line with it, as the pool's connections do.
        conn.busy_timeout(Duration::from_secs(30))?;
        // NORMAL in WAL mode: a commit is durable across a process crash; a
        // power loss may lose the last commits but never corrupts the file.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )?;
        conn.set_prepared_statement_cache_capacity(128);
        // Checkpoints move the WAL into the file and sync it: slow enough to
        // stall every write behind the one whose commit ran one. A thread of
        // its own runs them instead, beside the writer.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // After a burst, the WAL file shrinks back to this once it restarts.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        let checkpoints = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        checkpoints.busy_timeout(Duration::from_millis(100))?;
        let commits = Arc::new(AtomicU64::new(0));
        let writers = Arc::new(SqliteWriters {
            writer: Arc::new(Mutex::new(Writer {
                conn,
                batch: None,
                pages: 0,
                commits: commits.clone(),
            })),
            waiting: AtomicUsize::new(0),
            max_pages: AtomicU32::new(0),
            fail_commit: AtomicBool::new(false),
            catch_up: AtomicBool::new(false),
            commits,
        });
        let alive = Arc::downgrade(&writers);
        std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || {
                while let Some(writers) = alive.upgrade() {
                    writers.look_after(&checkpoints);
                    drop(writers);
                    std::thread::sleep(CHECKPOINT_EVERY);
                }
            })
            .map_err(|e| StoreError::Corrupt(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(writers)
    }

    /// The checkpoint thread's round: moves what the WAL holds into the file
    /// (PASSIVE: beside the writer, never blocking it), asks the writer to
    /// catch up once the WAL is long, and ends a batch left open with the
    /// writer free (its writes' requests went away before one settled it).
    fn look_after(&self, checkpoints: &Connection) {
        match checkpoints.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
            row.get::<_, i64>(1)
        }) {
            Ok(frames) if frames >= CATCH_UP_FRAMES => self.catch_up.store(true, Ordering::Relaxed),
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "the WAL checkpoint did not run"),
        }
        if let Ok(mut writer) = self.writer.try_lock()
            && writer.batch.is_some()
            && self.waiting.load(Ordering::SeqCst) == 0
        {
            self.settle(&mut writer);
        }
    }

    pub(super) fn limit_pages(&self, pages: u32) {
        self.max_pages.store(pages, Ordering::Relaxed);
    }

    /// Makes the next batch's commit fail, as a disk error at commit would.
    #[cfg(feature = "test-support")]
    pub(super) fn fail_next_commit(&self) {
        self.fail_commit.store(true, Ordering::Relaxed);
    }

    /// Batches committed so far.
    #[cfg(feature = "test-support")]
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Takes a turn on the writer and opens a write: a savepoint in the open
    /// batch, or in a new one.
    pub(super) async fn begin(self: &Arc<Self>) -> Stored<LiteTx> {
        let ticket = Waiting::take(&self.waiting);
        let mut writer = self.writer.clone().lock_owned().await;
        drop(ticket);
        let pages = self.max_pages.load(Ordering::Relaxed);
        if pages != writer.pages {
            writer
                .conn
                .execute_batch(&format!("PRAGMA max_page_count = {pages}"))?;
            writer.pages = pages;
        }
        if writer.batch.is_none() {
            writer.conn.execute_batch("BEGIN IMMEDIATE")?;
            writer.batch = Some(Batch {
                turns: 0,
                members: 0,
                done: watch::Sender::new(None),
            });
        }
        if let Some(batch) = writer.batch.as_mut() {
            batch.turns += 1;
        }
        let mut tx = LiteTx {
            writer: Some(writer),
            writers: self.clone(),
            open: false,
        };
        tx.run(|conn| conn.execute_batch("SAVEPOINT member"))?;
        tx.open = true;
        Ok(tx)
    }

    /// Ends the batch after a write's turn if no write waits to join it or it
    /// has had its [`MAX_BATCH`] turns; else leaves it to the next write.
    fn after_turn(&self, writer: &mut Writer) {
        let full = writer.batch.as_ref().is_some_and(|b| b.turns >= MAX_BATCH);
        if full || self.waiting.load(Ordering::SeqCst) == 0 {
            self.settle(writer);
        }
    }

    fn settle(&self, writer: &mut Writer) {
        let fail = self.fail_commit.swap(false, Ordering::Relaxed);
        writer.settle(fail);
        // One not caught up (a reader was still on an old snapshot) is tried
        // again after the next batch rather than the thread's next round: the
        // WAL grows all the while.
        if self.catch_up.swap(false, Ordering::Relaxed) && !writer.catch_up() {
            self.catch_up.store(true, Ordering::Relaxed);
        }
    }
}

/// How often the checkpoint thread runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// A WAL this long (in frames, a page each: 8 MiB) is caught up by the
/// writer. SQLite restarts the WAL only after a checkpoint that left nothing
/// behind, which one running beside a busy writer never does. The catch-up
/// holds writes while it syncs the file, so it is rare: every few seconds
/// under steady load, never without one.
const CATCH_UP_FRAMES: i64 = 2048;

/// What the WAL file is cut back to after it restarts, in bytes.
const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// A write's place in line, counted while it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn take(count: &'a AtomicUsize) -> Waiting<'a> {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    /// Ends the open batch: commits it if it holds a write (rolls it back if
    /// not) and tells its members how it went.
    fn settle(&mut self, fail: bool) {
        let Some(batch) = self.batch.take() else {
            return;
        };
        let outcome = if batch.members == 0 {
            self.rollback();
            Ok(())
        } else if fail {
            self.rollback();
            Err(Lost {
                trouble: Some(Trouble::Unavailable),
                detail: "the commit failed (injected)".into(),
            })
        } else {
            match self.conn.execute_batch("COMMIT") {
                Ok(()) => {
                    self.commits.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                Err(error) => {
                    self.rollback();
                    Err(Lost {
                        trouble: lite_trouble(&error),
                        detail: error.to_string(),
                    })
                }
            }
        };
        batch.done.send_replace(Some(outcome));
    }

    /// Checkpoints the frames the checkpoint thread left, between two batches
    /// (no transaction open), so the next write restarts the WAL. Says
    /// whether it left nothing behind.
    fn catch_up(&mut self) -> bool {
        // (busy, frames in the WAL, frames checkpointed): a reader still on an
        // old snapshot leaves frames behind, and the WAL cannot restart yet.
        match self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            }) {
            Ok((0, frames, done)) if frames == done => true,
            Ok((busy, frames, done)) => {
                tracing::debug!(busy, frames, done, "the WAL was not caught up; next batch");
                false
            }
            Err(error) => {
                tracing::debug!(%error, "the writer's WAL checkpoint did not run");
                false
            }
        }
    }

    fn rollback(&mut self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// After a failed statement: if SQLite rolled the whole transaction back
    /// (it does on a full disk, an I/O error or running out of memory), the
    /// batch is lost, and so is every write released into it.
    fn check_lost(&mut self, error: &rusqlite::Error) {
        if self.batch.is_some() && self.conn.is_autocommit() {
            let batch = self.batch.take().expect("checked above");
            batch.done.send_replace(Some(Err(Lost {
                trouble: lite_trouble(error),
                detail: error.to_string(),
            })));
        }
    }
}

/// A write on the SQLite writer: a savepoint in the open batch. Dropped without
/// [`LiteTx::commit`], it rolls back to its savepoint, leaving the batch to its
/// other members.
#[derive(Debug)]
pub struct LiteTx {
    writer: Option<OwnedMutexGuard<Writer>>,
    writers: Arc<SqliteWriters>,
    /// Whether the savepoint is open (SQLite may have rolled it back).
    open: bool,
}

impl LiteTx {
    /// Runs `work` on the connection; a failure that cost the batch ends it.
    fn run<T>(&mut self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Stored<T> {
        let writer = self.writer.as_mut().expect("a write in progress");
        match work(&writer.conn) {
            Ok(value) => Ok(value),
            Err(error) => {
                if writer.conn.is_autocommit() {
                    self.open = false;
                }
                writer.check_lost(&error);
                Err(error.into())
            }
        }
    }

    /// Runs a statement; the rows it changed.
    pub(super) fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<u64> {
        let sql = sql.replace('$', "?");
        self.run(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            bind(&mut statement, args)?;
            Ok(statement.raw_execute()? as u64)
        })
    }

    pub(super) fn fetch_all<T: FromLite>(&mut self, sql: &str, args: &[Arg<'_>]) -> Stored<Vec<T>> {
        let sql = sql.replace('$', "?");
        self.run(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            bind(&mut statement, args)?;
            let mut rows = statement.raw_query();
            let mut all = Vec::new();
            while let Some(row) = rows.next()? {
                all.push(T::from_lite(row)?);
            }
            Ok(all)
        })
    }

    pub(super) fn fetch_optional<T: FromLite>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Stored<Option<T>> {
        let sql = sql.replace('$', "?");
        self.run(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            bind(&mut statement, args)?;
            let mut rows = statement.raw_query();
            let first = rows.next()?.map(T::from_lite).transpose()?;
            // Step to the end, so a statement that writes (`RETURNING`) completes.
            while rows.next()?.is_some() {}
            Ok(first)
        })
    }

    /// Releases the savepoint into the batch and waits for the batch's commit.
    pub(super) async fn commit(mut self) -> Stored<()> {
        if self.open {
            self.run(|conn| conn.execute_batch("RELEASE member"))?;
            self.open = false;
        }
        self.join().await
    }

    /// Rolls back to the savepoint, then waits for the batch's commit all the
    /// same: what this write read (and refused on) was the batch's, and holds
    /// only once that is committed.
    pub(super) async fn abandon(mut self) -> Stored<()> {
        if self.open {
            self.run(|conn| conn.execute_batch("ROLLBACK TO member; RELEASE member"))?;
            self.open = false;
        }
        self.join().await
    }

    /// Joins the batch and waits for its outcome.
    async fn join(mut self) -> Stored<()> {
        let mut writer = self.writer.take().expect("a write in progress");
        let Some(batch) = writer.batch.as_mut() else {
            // SQLite rolled the batch back, this write's savepoint with it.
            return Err(StoreError::Lost(Lost {
                trouble: Some(Trouble::Unavailable),
                detail: "the transaction was rolled back".into(),
            }));
        };
        batch.members += 1;
        let mut done = batch.done.subscribe();
        self.writers.after_turn(&mut writer);
        drop(writer);
        // A batch left open by writes whose requests went away is ended by
        // the checkpoint thread's round.
        match done.wait_for(Option::is_some).await {
            Ok(outcome) => outcome
                .clone()
                .expect("waited for an outcome")
                .map_err(StoreError::Lost),
            Err(_) => Err(StoreError::Lost(Lost {
                trouble: Some(Trouble::Unavailable),
                detail: "the writer closed".into(),
            })),
        }
    }
}

impl Drop for LiteTx {
    fn drop(&mut self) {
        let Some(mut writer) = self.writer.take() else {
            return;
        };
        if self.open
            && let Err(error) = writer
                .conn
                .execute_batch("ROLLBACK TO member; RELEASE member")
        {
            writer.check_lost(&error);
        }
        self.writers.after_turn(&mut writer);
    }
}

fn bind(statement: &mut rusqlite::CachedStatement<'_>, args: &[Arg<'_>]) -> rusqlite::Result<()> {
    for (i, arg) in args.iter().enumerate() {
        let at = i + 1;
        match *arg {
            Arg::Int(v) => statement.raw_bind_parameter(at, v)?,
            Arg::Text(v) => statement.raw_bind_parameter(at, v)?,
            Arg::NullInt => statement.raw_bind_parameter(at, None::<i64>)?,
            Arg::NullText => statement.raw_bind_parameter(at, None::<&str>)?,
        }
    }
    Ok(())
}

/// What kind of trouble a SQLite error is, as [`StoreError::trouble`] says.
pub(crate) fn lite_trouble(error: &rusqlite::Error) -> Option<Trouble> {
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => Some(Trouble::Full),
        // Busy or locked past the timeout, and the file failing under it (an
        // I/O error, read-only, gone, out of memory): a retry may succeed.
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::SystemIoFailure
            | ErrorCode::ReadOnly
            | ErrorCode::CannotOpen
            | ErrorCode::OutOfMemory
            | ErrorCode::FileLockingProtocolFailed,
        ) => Some(Trouble::Unavailable),
        _ => None,
    }
}

/// A row read from the writer's connection by column name.
pub(crate) trait FromLite: Sized {
    fn from_lite(row: &Row<'_>) -> rusqlite::Result<Self>;
}

/// Reads a row type by its columns: the same names its `sqlx::FromRow` reads.
macro_rules! from_lite {
    ($($row:ident { $($field:ident: $column:literal),* $(,)? })*) => {
        $(
            impl FromLite for $row {
                fn from_lite(row: &Row<'_>) -> rusqlite::Result<Self> {
                    Ok($row { $($field: row.get($column)?),* })
                }
            }
        )*
    };
}

from_lite! {
    CampaignRow { state: "state", version: "current_version" }
    StoredVersion {
        campaign: "campaign_id", version: "version", source: "source", sha256: "sha256",
        origin: "origin", path: "path", note: "note", deployed_at: "deployed_at",
    }
    VersionRow {
        version: "version", sha256: "sha256", origin: "origin", path: "path", note: "note",
        deployed_at: "deployed_at",
    }
    HistoryRow {
        request_id: "request_id", award: "award_id", amount: "amount", version: "version",
        at: "created_at",
    }
    DayCount { day: "day_key", award: "award_id", draws: "draws" }
    StockRow { award: "award_id", declared: "declared", remaining: "remaining", issued: "issued" }
    LedgerRow { delta: "delta", reason: "reason", reference: "reference", at: "created_at" }
    DeliveryRow {
        id: "id", campaign: "campaign_id", request_id: "request_id", user: "user_id",
        award: "award_id", state: "state", attempts: "attempts", next_at: "next_at",
        created_at: "created_at", last_error: "last_error", delivered_at: "delivered_at",
    }
    AuditRow { id: "id", at: "at", actor: "actor", action: "action", target: "target", detail: "detail" }
    ApiKeyRow {
        id: "id", name: "name", sha256: "sha256", created_at: "created_at",
        revoked_at: "revoked_at",
    }
    UserCounts {
        total: "total", month: "month", today: "today", granted: "granted",
        granted_used: "granted_used",
    }
}

/// Tuples read by position, as sqlx reads them.
macro_rules! from_lite_tuple {
    ($(($($t:ident $i:tt),*))*) => {
        $(
            impl<$($t: FromSql),*> FromLite for ($($t,)*) {
                fn from_lite(row: &Row<'_>) -> rusqlite::Result<Self> {
                    Ok(($(row.get::<_, $t>($i)?,)*))
                }
            }
        )*
    };
}

from_lite_tuple! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
}

/// The enums kept as text, read by their names.
macro_rules! from_lite_text {
    ($($name:ident),*) => {
        $(
            impl FromSql for $name {
                fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                    value
                        .as_str()?
                        .parse()
                        .map_err(|e: StoreError| FromSqlError::Other(Box::new(e)))
                }
            }
        )*
    };
}

from_lite_text!(CampaignState, DeliveryState, Origin);

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_errors_a_retry_can_cure_are_trouble() {
        assert_eq!(
            lite_trouble(&failure(ffi::SQLITE_FULL)),
            Some(Trouble::Full)
        );
        for code in [
            ffi::SQLITE_BUSY,
            ffi::SQLITE_LOCKED,
            ffi::SQLITE_IOERR,
            ffi::SQLITE_IOERR_WRITE,
            ffi::SQLITE_READONLY,
            ffi::SQLITE_CANTOPEN,
            ffi::SQLITE_NOMEM,
        ] {
            assert_eq!(
                lite_trouble(&failure(code)),
                Some(Trouble::Unavailable),
                "{code}"
            );
        }
        // A broken constraint is a bug to log, not the store's trouble.
        assert_eq!(lite_trouble(&failure(ffi::SQLITE_CONSTRAINT_CHECK)), None);
    }
}
